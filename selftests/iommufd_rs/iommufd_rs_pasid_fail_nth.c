// SPDX-License-Identifier: GPL-2.0-only
/*
 * The PASID paths under allocation failure. One flow binds a PASID-capable
 * mock device, gives it a PASID-compatible nesting parent and a nested HWPT,
 * moves its RID and one PASID across them and takes everything down again.
 * With failslab and fail_page_alloc armed for the nth fault site of this
 * thread it runs for n = 1, 2, ... until it completes without reaching the
 * nth site. After each run the PASID is detached, the fd closed, and nothing
 * may stay pinned or charged.
 *
 * A step that fails must say ENOMEM, with two kinds of exception. The IOMMU
 * core only logs a failed probe of a new device, which then cannot be bound:
 * EINVAL from making a mock device. And the C iommufd.ko has a fault site of
 * its own (fail_iommufd, which fail-nth arms as well) in its object lookup,
 * giving ENOENT, or EINVAL where HWPT_ALLOC looks up its pt_id, and in page
 * pinning, giving EFAULT; those are accepted only while it is the module
 * under test.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/iommufd.h>
#include "iommufd_test.h"

#include "kselftest_harness.h"
#include "iommufd_rs_util.h"

#define PSZ 4096UL
#define BUF_LEN (8 * PSZ)
/* the mock aperture starts at 16 MiB */
#define BASE 0x1000000UL
#define PASID 100

static int test_cmd(int fd, struct iommu_test_cmd *cmd)
{
	cmd->size = sizeof(*cmd);
	return ioctl(fd, IOMMU_TEST_CMD, cmd);
}

static int pasid_op(int fd, __u32 op, __u32 stdev, __u32 pasid, __u32 pt)
{
	struct iommu_test_cmd cmd = { .op = op, .id = stdev };

	cmd.pasid_attach.pasid = pasid;
	cmd.pasid_attach.pt_id = pt;
	return test_cmd(fd, &cmd);
}

static int rid_replace(int fd, __u32 stdev, __u32 pt)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE,
		.id = stdev,
		.mock_domain_replace = { .pt_id = pt },
	};

	return test_cmd(fd, &cmd);
}

static int destroy(int fd, __u32 id)
{
	struct iommu_destroy cmd = { .size = sizeof(cmd), .id = id };

	return ioctl(fd, IOMMU_DESTROY, &cmd);
}

/* What a step does, for the errnos its failure may give */
enum {
	MAKES_DEVICE = 1 << 0,
	PINS = 1 << 1,
	LOOKS_UP_PT = 1 << 2,
};

struct flow {
	int fd;
	/* the mock device, once made: its PASID is detached after a failure */
	__u32 stdev;
	/* the last step run, and what it does */
	const char *step;
	unsigned int kind;
};

/* Note the step about to run; returns 0 to chain with its call. */
static int at(struct flow *f, const char *name, unsigned int kind)
{
	f->step = name;
	f->kind = kind;
	return 0;
}

static int sane_errno(const struct flow *f, int err, int c_module)
{
	if (err == ENOMEM)
		return 1;
	if (err == EINVAL && (f->kind & MAKES_DEVICE))
		return 1;
	if (!c_module)
		return 0;
	switch (err) {
	case ENOENT:
		return 1;
	case EINVAL:
		return !!(f->kind & LOOKS_UP_PT);
	case EFAULT:
		return !!(f->kind & PINS);
	}
	return 0;
}

/* The flow under test. Returns 0, or -1 with errno from the failing step. */
static int run_flow(struct flow *f, char *buf)
{
	struct iommu_hwpt_selftest nest_data = {
		.iotlb = IOMMU_TEST_IOTLB_DEFAULT,
	};
	struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };
	struct iommu_ioas_map map = {
		.size = sizeof(map),
		.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
			 IOMMU_IOAS_MAP_WRITEABLE,
		.user_va = (uintptr_t)buf,
		.length = BUF_LEN,
		.iova = BASE,
	};
	struct iommu_test_cmd dev = {
		.op = IOMMU_TEST_OP_MOCK_DOMAIN_FLAGS,
		.mock_domain_flags = { .dev_flags = MOCK_FLAGS_DEVICE_PASID },
	};
	struct iommu_hwpt_alloc parent = {
		.size = sizeof(parent),
		.flags = IOMMU_HWPT_ALLOC_PASID | IOMMU_HWPT_ALLOC_NEST_PARENT,
	};
	struct iommu_hwpt_alloc nested = {
		.size = sizeof(nested),
		.flags = IOMMU_HWPT_ALLOC_PASID,
		.data_type = IOMMU_HWPT_DATA_SELFTEST,
		.data_len = sizeof(nest_data),
		.data_uptr = (uintptr_t)&nest_data,
	};
	__u32 ioas, s2, n;

	f->step = "open";
	f->kind = 0;
	f->fd = open("/dev/iommu", O_RDWR);
	if (f->fd < 0)
		return -1;
	if (at(f, "IOAS_ALLOC", 0) || ioctl(f->fd, IOMMU_IOAS_ALLOC, &alloc))
		return -1;
	ioas = alloc.out_ioas_id;
	map.ioas_id = ioas;
	if (at(f, "IOAS_MAP", PINS) || ioctl(f->fd, IOMMU_IOAS_MAP, &map))
		return -1;
	dev.id = ioas;
	if (at(f, "MOCK_DOMAIN_FLAGS", MAKES_DEVICE | PINS) ||
	    test_cmd(f->fd, &dev))
		return -1;
	f->stdev = dev.mock_domain_flags.out_stdev_id;

	parent.dev_id = dev.mock_domain_flags.out_idev_id;
	parent.pt_id = ioas;
	if (at(f, "HWPT_ALLOC paging", LOOKS_UP_PT | PINS) ||
	    ioctl(f->fd, IOMMU_HWPT_ALLOC, &parent))
		return -1;
	s2 = parent.out_hwpt_id;
	nested.dev_id = dev.mock_domain_flags.out_idev_id;
	nested.pt_id = s2;
	if (at(f, "HWPT_ALLOC nested", LOOKS_UP_PT) ||
	    ioctl(f->fd, IOMMU_HWPT_ALLOC, &nested))
		return -1;
	n = nested.out_hwpt_id;

	/* a PASID needs the RID on a PASID-compatible domain first */
	if (at(f, "MOCK_DOMAIN_REPLACE s2", 0) ||
	    rid_replace(f->fd, f->stdev, s2))
		return -1;
	if (at(f, "PASID_ATTACH", 0) ||
	    pasid_op(f->fd, IOMMU_TEST_OP_PASID_ATTACH, f->stdev, PASID, s2))
		return -1;
	if (at(f, "PASID_REPLACE", 0) ||
	    pasid_op(f->fd, IOMMU_TEST_OP_PASID_REPLACE, f->stdev, PASID, n))
		return -1;
	if (at(f, "PASID_DETACH", 0) ||
	    pasid_op(f->fd, IOMMU_TEST_OP_PASID_DETACH, f->stdev, PASID, 0))
		return -1;
	/* back to an automatic domain, made afresh */
	if (at(f, "MOCK_DOMAIN_REPLACE ioas", PINS) ||
	    rid_replace(f->fd, f->stdev, ioas))
		return -1;

	if (at(f, "DESTROY nested", 0) || destroy(f->fd, n))
		return -1;
	if (at(f, "DESTROY paging", 0) || destroy(f->fd, s2))
		return -1;
	if (at(f, "DESTROY device", 0) || destroy(f->fd, f->stdev))
		return -1;
	f->stdev = 0;
	if (at(f, "DESTROY ioas", 0) || destroy(f->fd, ioas))
		return -1;
	return 0;
}

TEST(pasid_paths_under_fault_injection)
{
	struct iommu_test_cmd refs = {
		.op = IOMMU_TEST_OP_MD_CHECK_REFS,
		.check_refs = { .length = BUF_LEN, .refs = 0 },
	};
	int injected = 0, failed = 0, not_enomem = 0, nth, nthfd, checkfd;
	/* C's iommufd.ko, not ours, is the module under test */
	int c_module = access("/sys/module/iommufd", F_OK) == 0;
	long pin0 = vm_pin_kb();
	char path[64], left[32];
	char *buf;

	if (write_file("/sys/kernel/debug/failslab/ignore-gfp-wait", "N"))
		SKIP(return, "failslab is not available");
	write_file("/sys/kernel/debug/fail_page_alloc/ignore-gfp-wait", "N");
	write_file("/sys/kernel/debug/failslab/verbose", "0");
	write_file("/sys/kernel/debug/fail_page_alloc/verbose", "0");

	ASSERT_LE(0, pin0);
	buf = mmap(NULL, BUF_LEN, PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	ASSERT_NE(MAP_FAILED, buf);
	refs.check_refs.uptr = (uintptr_t)buf;
	snprintf(path, sizeof(path), "/proc/self/task/%d/fail-nth", gettid());
	nthfd = open(path, O_RDWR);
	ASSERT_LE(0, nthfd);

	for (nth = 1; nth < 5000; nth++) {
		struct flow f = { .fd = -1 };
		char arm[16];
		int rc, err;
		ssize_t len;

		snprintf(arm, sizeof(arm), "%d", nth);
		ASSERT_EQ((ssize_t)strlen(arm),
			  pwrite(nthfd, arm, strlen(arm), 0));
		rc = run_flow(&f, buf);
		err = errno;
		/* what is left of the count: above 0, the site was not reached */
		len = pread(nthfd, left, sizeof(left) - 1, 0);
		ASSERT_LT(0, len);
		left[len] = 0;
		ASSERT_EQ(1, pwrite(nthfd, "0", 1, 0));

		/*
		 * Nothing is armed now. The PASID goes first, as a device
		 * must not be unbound with one attached; it then reads back
		 * as blocked.
		 */
		if (f.stdev) {
			ASSERT_EQ(0, pasid_op(f.fd, IOMMU_TEST_OP_PASID_DETACH,
					      f.stdev, PASID, 0));
			ASSERT_EQ(0, pasid_op(f.fd,
					      IOMMU_TEST_OP_PASID_CHECK_HWPT,
					      f.stdev, PASID, 0));
		}
		if (f.fd >= 0)
			close(f.fd);

		/* whatever failed, nothing stays pinned or charged */
		ASSERT_EQ(pin0, vm_pin_kb());
		checkfd = open("/dev/iommu", O_RDWR);
		ASSERT_LE(0, checkfd);
		ASSERT_EQ(0, test_cmd(checkfd, &refs));
		close(checkfd);

		if (atoi(left) != 0) {
			/* the whole flow ran without reaching the nth site */
			ASSERT_EQ(0, rc);
			break;
		}
		injected++;
		if (rc) {
			failed++;
			if (err != ENOMEM)
				not_enomem++;
			if (!sane_errno(&f, err, c_module))
				TH_LOG("nth %d: %s failed with errno %d", nth,
				       f.step, err);
			ASSERT_TRUE(sane_errno(&f, err, c_module));
		}
	}
	TH_LOG("%d fault sites injected, %d failed a step, %d of those not with ENOMEM",
	       injected, failed, not_enomem);
	ASSERT_LT(10, injected);
	ASSERT_LT(0, failed);
	close(nthfd);
	munmap(buf, BUF_LEN);
}

TEST_HARNESS_MAIN
