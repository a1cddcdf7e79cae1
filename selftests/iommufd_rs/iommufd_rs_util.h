/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers the iommufd_rs C selftests share, in the manner of upstream's
 * tools/testing/selftests/iommu/iommufd_utils.h:
 *
 * - _test_*(fd, ...) issue one ioctl and return what ioctl() returned, 0 or
 *   -1 with errno set; outputs are written on success (an id reads 0 after
 *   a failure).
 * - test_cmd_*(...) assert that the command succeeds on self->fd, and
 *   test_err_*(errno, ...) that it fails with that errno, both in a TEST_F.
 *
 * Include kselftest_harness.h before this file for the test_* macros; the
 * _test_* functions need no harness.
 */
#ifndef IOMMUFD_RS_UTIL_H
#define IOMMUFD_RS_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/iommufd.h>
/* the iommufd-rs extension, include/uapi/linux/iommufd_rs.h */
#include <linux/iommufd_rs.h>
#include "iommufd_test.h"

/*
 * Drops CAP_IPC_LOCK from the effective set, so that pins are charged to
 * the locked-memory limit as for an unprivileged process: 0, or -1.
 */
static inline int drop_ipc_lock(void)
{
	cap_value_t v = CAP_IPC_LOCK;
	cap_t caps = cap_get_proc();
	int rc;

	if (!caps)
		return -1;
	rc = cap_set_flag(caps, CAP_EFFECTIVE, 1, &v, CAP_CLEAR);
	if (!rc)
		rc = cap_set_proc(caps);
	cap_free(caps);
	return rc;
}

#define PSZ 4096UL
/* The mock domain's aperture starts here; without a domain, all is allowed. */
#define BASE ((__u64)MOCK_APERTURE_START)
/* An object id no test reaches. */
#define NO_ID 0xfffff
#define PASID_MAX ((1U << MOCK_PASID_WIDTH) - 1)

#define MAP_RW (IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE)
#define MAP_FIXED_RW (MAP_RW | IOMMU_IOAS_MAP_FIXED_IOVA)

/* The command failed, with this errno. */
#define EXPECT_ERRNO(expected_errno, cmd)         \
	({                                        \
		ASSERT_EQ(-1, cmd);               \
		EXPECT_EQ(expected_errno, errno); \
	})

/* Writes val to path (debugfs, /proc): 0, or -1 if it could not all go. */
static inline int write_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, val, strlen(val));
	close(fd);
	return n == (ssize_t)strlen(val) ? 0 : -1;
}

/* A "Key:" line of /proc/self/status in KiB, or -1. */
static inline long status_kb(const char *key)
{
	char line[256];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, strlen(key)))
			kb = strtol(line + strlen(key), NULL, 10);
	fclose(f);
	return kb;
}

/* What the process has pinned (pinned_vm) and locked (locked_vm). */
#define vm_pin_kb() status_kb("VmPin:")
#define vm_pin_pages() (vm_pin_kb() * 1024 / (long)PSZ)
#define vm_lck_pages() (status_kb("VmLck:") * 1024 / (long)PSZ)

/* The C iommufd.ko is loaded, rather than iommufd_rs.ko. */
static inline int c_iommufd_loaded(void)
{
	return access("/sys/module/iommufd", F_OK) == 0;
}

/* Core ioctls */

static inline int _test_ioctl_destroy(int fd, __u32 id)
{
	struct iommu_destroy cmd = { .size = sizeof(cmd), .id = id };

	return ioctl(fd, IOMMU_DESTROY, &cmd);
}

#define test_ioctl_destroy(id) ASSERT_EQ(0, _test_ioctl_destroy(self->fd, id))
#define test_err_destroy(_errno, id) \
	EXPECT_ERRNO(_errno, _test_ioctl_destroy(self->fd, id))

static inline int _test_ioctl_ioas_alloc(int fd, __u32 *id)
{
	struct iommu_ioas_alloc cmd = { .size = sizeof(cmd) };
	int ret = ioctl(fd, IOMMU_IOAS_ALLOC, &cmd);

	*id = ret ? 0 : cmd.out_ioas_id;
	return ret;
}

#define test_ioctl_ioas_alloc(id)                                     \
	({                                                            \
		__u32 *__id = (id);                                   \
		ASSERT_EQ(0, _test_ioctl_ioas_alloc(self->fd, __id)); \
		ASSERT_NE(0, *__id);                                  \
	})

/* Maps at *iova (FIXED_IOVA) or where the kernel says, written to *iova. */
static inline int _test_ioctl_ioas_map(int fd, __u32 ioas, void *va, __u64 len,
				       __u64 *iova, __u32 flags)
{
	struct iommu_ioas_map cmd = {
		.size = sizeof(cmd),
		.flags = flags,
		.ioas_id = ioas,
		.user_va = (uintptr_t)va,
		.length = len,
		.iova = *iova,
	};
	int ret = ioctl(fd, IOMMU_IOAS_MAP, &cmd);

	if (!ret)
		*iova = cmd.iova;
	return ret;
}

/* On the fixture's IOAS */
#define ioas_map(va, len, iova_p, flags) \
	_test_ioctl_ioas_map(self->fd, self->ioas, va, len, iova_p, flags)
#define test_ioctl_ioas_map_fixed_id(ioas, va, len, iova)                  \
	({                                                                 \
		__u64 __want = (iova), __iova = __want;                    \
		ASSERT_EQ(0, _test_ioctl_ioas_map(self->fd, ioas, va, len, \
						  &__iova, MAP_FIXED_RW)); \
		ASSERT_EQ(__want, __iova);                                 \
	})
#define test_ioctl_ioas_map_fixed(va, len, iova) \
	test_ioctl_ioas_map_fixed_id(self->ioas, va, len, iova)

static inline int _test_ioctl_ioas_unmap(int fd, __u32 ioas, __u64 iova,
					 __u64 len, __u64 *out_len)
{
	struct iommu_ioas_unmap cmd = {
		.size = sizeof(cmd),
		.ioas_id = ioas,
		.iova = iova,
		.length = len,
	};
	int ret = ioctl(fd, IOMMU_IOAS_UNMAP, &cmd);

	if (!ret && out_len)
		*out_len = cmd.length;
	return ret;
}

#define ioas_unmap(iova, len, out_len_p) \
	_test_ioctl_ioas_unmap(self->fd, self->ioas, iova, len, out_len_p)
#define test_ioctl_ioas_unmap_all(ioas)                                    \
	ASSERT_EQ(0, _test_ioctl_ioas_unmap(self->fd, ioas, 0, UINT64_MAX, \
					    NULL))

/* Copies to *dst_iova (FIXED_IOVA) or where the kernel says. */
static inline int _test_ioctl_ioas_copy(int fd, __u32 dst, __u32 src,
					__u64 src_iova, __u64 len,
					__u64 *dst_iova, __u32 flags)
{
	struct iommu_ioas_copy cmd = {
		.size = sizeof(cmd),
		.flags = flags,
		.dst_ioas_id = dst,
		.src_ioas_id = src,
		.length = len,
		.dst_iova = *dst_iova,
		.src_iova = src_iova,
	};
	int ret = ioctl(fd, IOMMU_IOAS_COPY, &cmd);

	if (!ret)
		*dst_iova = cmd.dst_iova;
	return ret;
}

static inline int _test_ioctl_hwpt_alloc(int fd, __u32 dev, __u32 pt,
					 __u32 flags, __u32 *hwpt, __u32 type,
					 const void *data, __u32 data_len)
{
	struct iommu_hwpt_alloc cmd = {
		.size = sizeof(cmd),
		.flags = flags,
		.dev_id = dev,
		.pt_id = pt,
		.data_type = type,
		.data_len = data_len,
		.data_uptr = (uintptr_t)data,
	};
	int ret = ioctl(fd, IOMMU_HWPT_ALLOC, &cmd);

	if (hwpt)
		*hwpt = ret ? 0 : cmd.out_hwpt_id;
	return ret;
}

#define test_cmd_hwpt_alloc(dev, pt, flags, hwpt)                            \
	ASSERT_EQ(0, _test_ioctl_hwpt_alloc(self->fd, dev, pt, flags, hwpt, \
					    IOMMU_HWPT_DATA_NONE, NULL, 0))
#define test_err_hwpt_alloc(_errno, dev, pt, flags, hwpt)                    \
	EXPECT_ERRNO(_errno,                                                 \
		     _test_ioctl_hwpt_alloc(self->fd, dev, pt, flags, hwpt, \
					    IOMMU_HWPT_DATA_NONE, NULL, 0))
#define test_cmd_hwpt_alloc_data(dev, pt, flags, hwpt, type, data, len)      \
	ASSERT_EQ(0, _test_ioctl_hwpt_alloc(self->fd, dev, pt, flags, hwpt, \
					    type, data, len))
#define test_err_hwpt_alloc_data(_errno, dev, pt, flags, hwpt, type, data,   \
				 len)                                        \
	EXPECT_ERRNO(_errno,                                                 \
		     _test_ioctl_hwpt_alloc(self->fd, dev, pt, flags, hwpt, \
					    type, data, len))

/* A page fault queue: its object id and the fd it is read through. */
static inline int _test_ioctl_fault_alloc(int fd, __u32 *id, int *fault_fd)
{
	struct iommu_fault_alloc cmd = { .size = sizeof(cmd) };
	int ret = ioctl(fd, IOMMU_FAULT_QUEUE_ALLOC, &cmd);

	*id = ret ? 0 : cmd.out_fault_id;
	*fault_fd = ret ? -1 : (int)cmd.out_fault_fd;
	return ret;
}

#define test_ioctl_fault_alloc(id, fault_fd) \
	ASSERT_EQ(0, _test_ioctl_fault_alloc(self->fd, id, fault_fd))

/* A HWPT on @pt whose page faults go to fault queue @fault_id. */
static inline int hwpt_alloc_fault(int fd, __u32 dev, __u32 pt,
				   __u32 fault_id, __u32 *hwpt, __u32 type,
				   const void *data, __u32 data_len)
{
	struct iommu_hwpt_alloc cmd = {
		.size = sizeof(cmd),
		.flags = IOMMU_HWPT_FAULT_ID_VALID,
		.dev_id = dev,
		.pt_id = pt,
		.data_type = type,
		.data_len = data_len,
		.data_uptr = (uintptr_t)data,
		.fault_id = fault_id,
	};
	int ret = ioctl(fd, IOMMU_HWPT_ALLOC, &cmd);

	*hwpt = ret ? 0 : cmd.out_hwpt_id;
	return ret;
}

/* Fills dev_id and the data buffer of cmd; the caller sets the rest. */
static inline int _test_ioctl_hw_info(int fd, struct iommu_hw_info *cmd,
				      __u32 dev, void *data, __u32 len)
{
	cmd->dev_id = dev;
	cmd->data_uptr = (uintptr_t)data;
	cmd->data_len = len;
	return ioctl(fd, IOMMU_GET_HW_INFO, cmd);
}

#define test_cmd_hw_info(cmd, dev, data, len) \
	ASSERT_EQ(0, _test_ioctl_hw_info(self->fd, cmd, dev, data, len))
#define test_err_hw_info(_errno, cmd, dev, data, len) \
	EXPECT_ERRNO(_errno, _test_ioctl_hw_info(self->fd, cmd, dev, data, len))

/* IOMMU_TEST_CMD: the mock driver */

static inline int _test_cmd(int fd, struct iommu_test_cmd *cmd)
{
	cmd->size = sizeof(*cmd);
	return ioctl(fd, IOMMU_TEST_CMD, cmd);
}

/* A mock device bound to fd, its RID attached to pt (an IOAS or HWPT). */
static inline int _test_cmd_mock_domain_flags(int fd, __u32 pt, __u32 dev_flags,
					      __u32 *stdev, __u32 *hwpt,
					      __u32 *idev)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_MOCK_DOMAIN_FLAGS,
		.id = pt,
		.mock_domain_flags = { .dev_flags = dev_flags },
	};
	int ret = _test_cmd(fd, &cmd);

	if (stdev)
		*stdev = ret ? 0 : cmd.mock_domain_flags.out_stdev_id;
	if (hwpt)
		*hwpt = ret ? 0 : cmd.mock_domain_flags.out_hwpt_id;
	if (idev)
		*idev = ret ? 0 : cmd.mock_domain_flags.out_idev_id;
	return ret;
}

#define test_cmd_mock_domain_flags(pt, flags, stdev, hwpt, idev)              \
	ASSERT_EQ(0, _test_cmd_mock_domain_flags(self->fd, pt, flags, stdev, \
						 hwpt, idev))

static inline int _test_cmd_mock_domain_replace(int fd, __u32 stdev, __u32 pt)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE,
		.id = stdev,
		.mock_domain_replace = { .pt_id = pt },
	};

	return _test_cmd(fd, &cmd);
}

#define test_cmd_mock_domain_replace(stdev, pt) \
	ASSERT_EQ(0, _test_cmd_mock_domain_replace(self->fd, stdev, pt))
#define test_err_mock_domain_replace(_errno, stdev, pt) \
	EXPECT_ERRNO(_errno, _test_cmd_mock_domain_replace(self->fd, stdev, pt))

/* PASID_ATTACH, _REPLACE and _DETACH share a layout; detach ignores pt. */
static inline int _test_cmd_pasid_op(int fd, __u32 op, __u32 stdev,
				     __u32 pasid, __u32 pt)
{
	struct iommu_test_cmd cmd = {
		.op = op,
		.id = stdev,
		.pasid_attach = { .pasid = pasid, .pt_id = pt },
	};

	return _test_cmd(fd, &cmd);
}

#define _test_cmd_pasid_attach(fd, stdev, pasid, pt) \
	_test_cmd_pasid_op(fd, IOMMU_TEST_OP_PASID_ATTACH, stdev, pasid, pt)
#define _test_cmd_pasid_replace(fd, stdev, pasid, pt) \
	_test_cmd_pasid_op(fd, IOMMU_TEST_OP_PASID_REPLACE, stdev, pasid, pt)
#define _test_cmd_pasid_detach(fd, stdev, pasid) \
	_test_cmd_pasid_op(fd, IOMMU_TEST_OP_PASID_DETACH, stdev, pasid, 0)
#define test_cmd_pasid_attach(stdev, pasid, pt) \
	ASSERT_EQ(0, _test_cmd_pasid_attach(self->fd, stdev, pasid, pt))
#define test_err_pasid_attach(_errno, stdev, pasid, pt) \
	EXPECT_ERRNO(_errno, _test_cmd_pasid_attach(self->fd, stdev, pasid, pt))
#define test_cmd_pasid_replace(stdev, pasid, pt) \
	ASSERT_EQ(0, _test_cmd_pasid_replace(self->fd, stdev, pasid, pt))
#define test_err_pasid_replace(_errno, stdev, pasid, pt)                \
	EXPECT_ERRNO(_errno,                                            \
		     _test_cmd_pasid_replace(self->fd, stdev, pasid, pt))
#define test_cmd_pasid_detach(stdev, pasid) \
	ASSERT_EQ(0, _test_cmd_pasid_detach(self->fd, stdev, pasid))
#define test_err_pasid_detach(_errno, stdev, pasid) \
	EXPECT_ERRNO(_errno, _test_cmd_pasid_detach(self->fd, stdev, pasid))

/* The IOMMU core has hwpt on the PASID (0: it is blocked). */
static inline int _test_cmd_pasid_check_hwpt(int fd, __u32 stdev, __u32 pasid,
					     __u32 hwpt)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_PASID_CHECK_HWPT,
		.id = stdev,
		.pasid_check = { .pasid = pasid, .hwpt_id = hwpt },
	};

	return _test_cmd(fd, &cmd);
}

#define test_cmd_pasid_check_hwpt(stdev, pasid, hwpt) \
	ASSERT_EQ(0, _test_cmd_pasid_check_hwpt(self->fd, stdev, pasid, hwpt))
#define test_err_pasid_check_hwpt(_errno, stdev, pasid, hwpt)                \
	EXPECT_ERRNO(_errno,                                                 \
		     _test_cmd_pasid_check_hwpt(self->fd, stdev, pasid, hwpt))

/* The mock domain hwpt maps [iova, iova + len) to the pages at va. */
static inline int _test_cmd_check_map(int fd, __u32 hwpt, __u64 iova,
				      __u64 len, void *va)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_MD_CHECK_MAP,
		.id = hwpt,
		.check_map = {
			.iova = iova,
			.length = len,
			.uptr = (uintptr_t)va,
		},
	};

	return _test_cmd(fd, &cmd);
}

#define test_cmd_check_map(hwpt, iova, len, va) \
	ASSERT_EQ(0, _test_cmd_check_map(self->fd, hwpt, iova, len, va))
#define test_err_check_map(_errno, hwpt, iova, len, va) \
	EXPECT_ERRNO(_errno, _test_cmd_check_map(self->fd, hwpt, iova, len, va))

/* Each page at va has refs pins more than a page no one pinned. */
static inline int _test_cmd_check_refs(int fd, void *va, __u64 len,
				       __u32 refs)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_MD_CHECK_REFS,
		.check_refs = {
			.length = len,
			.uptr = (uintptr_t)va,
			.refs = refs,
		},
	};

	return _test_cmd(fd, &cmd);
}

#define check_refs(va, len, refs) \
	ASSERT_EQ(0, _test_cmd_check_refs(self->fd, va, len, refs))

/* An in-kernel access to ioas; its id is an fd, closed to destroy it. */
static inline int _test_cmd_create_access(int fd, __u32 ioas, int *access_fd,
					  __u32 flags)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_CREATE_ACCESS,
		.id = ioas,
		.create_access = { .flags = flags },
	};
	int ret = _test_cmd(fd, &cmd);

	*access_fd = ret ? -1 : (int)cmd.create_access.out_access_fd;
	return ret;
}

#define test_cmd_create_access(ioas, access_fd, flags) \
	ASSERT_EQ(0, _test_cmd_create_access(self->fd, ioas, access_fd, flags))

/* The access pins [iova, iova + len), which must map the memory at va. */
static inline int _test_cmd_access_pages(int fd, int access_fd, __u64 iova,
					 __u64 len, void *va, __u32 *pages_id)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_ACCESS_PAGES,
		.id = access_fd,
		.access_pages = {
			.iova = iova,
			.length = len,
			.uptr = (uintptr_t)va,
		},
	};
	int ret = _test_cmd(fd, &cmd);

	*pages_id = ret ? 0 : cmd.access_pages.out_access_pages_id;
	return ret;
}

#define test_cmd_access_pages(access_fd, iova, len, va, pages_id)           \
	ASSERT_EQ(0, _test_cmd_access_pages(self->fd, access_fd, iova, len, \
					    va, pages_id))
#define test_err_access_pages(_errno, access_fd, iova, len, va, pages_id)    \
	EXPECT_ERRNO(_errno, _test_cmd_access_pages(self->fd, access_fd,    \
						    iova, len, va, pages_id))

static inline int _test_cmd_destroy_access_pages(int fd, int access_fd,
						 __u32 pages_id)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_DESTROY_ACCESS_PAGES,
		.id = access_fd,
		.destroy_access_pages = { .access_pages_id = pages_id },
	};

	return _test_cmd(fd, &cmd);
}

#define test_cmd_destroy_access_pages(access_fd, pages_id)               \
	ASSERT_EQ(0, _test_cmd_destroy_access_pages(self->fd, access_fd, \
						    pages_id))
#define test_err_destroy_access_pages(_errno, access_fd, pages_id)      \
	EXPECT_ERRNO(_errno, _test_cmd_destroy_access_pages(            \
				     self->fd, access_fd, pages_id))

static inline int _test_cmd_access_rw(int fd, int access_fd, __u64 iova,
				      void *data, __u64 len, __u32 flags)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_ACCESS_RW,
		.id = access_fd,
		.access_rw = {
			.iova = iova,
			.length = len,
			.uptr = (uintptr_t)data,
			.flags = flags,
		},
	};

	return _test_cmd(fd, &cmd);
}

#define test_cmd_access_rw(access_fd, iova, data, len, flags)                \
	ASSERT_EQ(0, _test_cmd_access_rw(self->fd, access_fd, iova, data, len, \
					 flags))
#define test_err_access_rw(_errno, access_fd, iova, data, len, flags)        \
	EXPECT_ERRNO(_errno, _test_cmd_access_rw(self->fd, access_fd, iova,  \
						 data, len, flags))

/* fail-nth: fail the nth allocation of the calling thread */

/*
 * Sets failslab and fail_page_alloc to fail sleeping allocations too, and
 * quietly: 0, or -1 if fault injection is not available.
 */
static inline int fail_nth_setup(void)
{
	if (write_file("/sys/kernel/debug/failslab/ignore-gfp-wait", "N"))
		return -1;
	write_file("/sys/kernel/debug/fail_page_alloc/ignore-gfp-wait", "N");
	write_file("/sys/kernel/debug/failslab/verbose", "0");
	write_file("/sys/kernel/debug/fail_page_alloc/verbose", "0");
	return 0;
}

/* The fail-nth file of the calling thread, or -1. */
static inline int fail_nth_open(void)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/self/task/%d/fail-nth", gettid());
	return open(path, O_RDWR);
}

/*
 * Runs flow(arg) with the nth fault site of the calling thread armed, and
 * disarms it: 1 if the site was reached (and failed), 0 if flow() ran
 * without reaching it, -1 if fail-nth could not be used. *rc and *err get
 * what flow() returned and the errno it left.
 */
static inline int fail_nth_run(int nthfd, int nth, int (*flow)(void *),
			       void *arg, int *rc, int *err)
{
	char buf[32];
	ssize_t n;

	snprintf(buf, sizeof(buf), "%d", nth);
	if (pwrite(nthfd, buf, strlen(buf), 0) != (ssize_t)strlen(buf))
		return -1;
	*rc = flow(arg);
	*err = errno;
	/* what is left of the count: above 0, the site was not reached */
	n = pread(nthfd, buf, sizeof(buf) - 1, 0);
	if (pwrite(nthfd, "0", 1, 0) != 1 || n <= 0)
		return -1;
	buf[n] = 0;
	return atoi(buf) == 0;
}

/* PASID virtualization, the iommufd-rs extension (linux/iommufd_rs.h) */

static inline int _test_ioctl_pasid_mode(int fd, __u32 op, __u32 *mode)
{
	struct iommu_rs_pasid_mode cmd = {
		.size = sizeof(cmd),
		.op = op,
		.mode = *mode,
	};
	int ret = ioctl(fd, IOMMU_RS_PASID_MODE, &cmd);

	if (!ret && op == IOMMU_OPTION_OP_GET)
		*mode = cmd.mode;
	return ret;
}

static inline int _test_ioctl_set_pasid_mode(int fd, __u32 mode)
{
	return _test_ioctl_pasid_mode(fd, IOMMU_OPTION_OP_SET, &mode);
}

/* Attach (or with IOMMU_RS_VPASID_REPLACE, replace) idev at vpasid. */
static inline int _test_ioctl_vpasid_attach(int fd, __u32 flags, __u32 idev,
					    __u32 vpasid, __u32 pt,
					    __u32 *ppasid)
{
	struct iommu_rs_vpasid_attach cmd = {
		.size = sizeof(cmd),
		.flags = flags,
		.dev_id = idev,
		.vpasid = vpasid,
		.pt_id = pt,
		.out_ppasid = 0xdeadbeef,
	};
	int ret = ioctl(fd, IOMMU_RS_VPASID_ATTACH, &cmd);

	if (ppasid)
		*ppasid = ret ? 0 : cmd.out_ppasid;
	return ret;
}

static inline int _test_ioctl_vpasid_detach(int fd, __u32 idev, __u32 vpasid)
{
	struct iommu_rs_vpasid_detach cmd = {
		.size = sizeof(cmd),
		.dev_id = idev,
		.vpasid = vpasid,
	};

	return ioctl(fd, IOMMU_RS_VPASID_DETACH, &cmd);
}

static inline int _test_ioctl_vpasid_query(int fd, __u32 idev, __u32 vpasid,
					   __u32 *ppasid, __u32 *pt)
{
	struct iommu_rs_vpasid_query cmd = {
		.size = sizeof(cmd),
		.dev_id = idev,
		.vpasid = vpasid,
	};
	int ret = ioctl(fd, IOMMU_RS_VPASID_QUERY, &cmd);

	if (ppasid)
		*ppasid = ret ? 0 : cmd.out_ppasid;
	if (pt)
		*pt = ret ? 0 : cmd.out_pt_id;
	return ret;
}

/*
 * The guest writes vpasid into the PASID register of mock device stdev; the
 * mediation path translates it. *reg gets the register: the host PASID
 * the device's DMA carries to the mock IOMMU.
 */
static inline int _test_cmd_mediate_pasid(int fd, __u32 stdev, __u32 vpasid,
					  __u32 *reg)
{
	struct iommu_rs_test_mediate_pasid m = { .vpasid = vpasid };
	struct iommu_test_cmd cmd = {
		.op = IOMMU_RS_TEST_OP_MEDIATE_PASID,
		.id = stdev,
	};
	int ret;

	/* The payload is the union's first bytes; every member starts there. */
	if (sizeof(m) > sizeof(cmd.check_map))
		return -1;
	memcpy(&cmd.check_map, &m, sizeof(m));
	ret = _test_cmd(fd, &cmd);
	memcpy(&m, &cmd.check_map, sizeof(m));
	if (reg)
		*reg = ret ? 0 : m.out_dev_pasid;
	return ret;
}

#endif
