// SPDX-License-Identifier: GPL-2.0-only
/*
 * PASID attach as upstream's iommufd defines it, driven through the test
 * command of the mock IOMMU: what GET_HW_INFO reports, which HWPT_ALLOC flag
 * combinations a mock device accepts, when a HWPT may sit on a PASID, how the
 * RID and the PASIDs of one device constrain each other, replace and its
 * rollback, and when attached objects may be destroyed. Every errno is the
 * one the C iommufd.ko returns; the tests run against it too.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
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
#define BUF_PAGES 16
#define BUF_LEN (BUF_PAGES * PSZ)
/* the mock aperture starts at 16 MiB */
#define BASE 0x1000000UL
#define PASID_MAX ((1U << MOCK_PASID_WIDTH) - 1)
/* an id no test ever reaches */
#define NO_ID 0xfffff

/* Each helper returns 0 or the errno of the failed ioctl. */
static int test_cmd(int fd, struct iommu_test_cmd *cmd)
{
	cmd->size = sizeof(*cmd);
	return ioctl(fd, IOMMU_TEST_CMD, cmd) ? errno : 0;
}

static int destroy(int fd, __u32 id)
{
	struct iommu_destroy cmd = { .size = sizeof(cmd), .id = id };

	return ioctl(fd, IOMMU_DESTROY, &cmd) ? errno : 0;
}

static int ioas_alloc(int fd, __u32 *id)
{
	struct iommu_ioas_alloc cmd = { .size = sizeof(cmd) };

	/* outputs are written on failure too, which the compiler can see */
	*id = 0;
	if (ioctl(fd, IOMMU_IOAS_ALLOC, &cmd))
		return errno;
	*id = cmd.out_ioas_id;
	return 0;
}

static int ioas_map(int fd, __u32 ioas, void *va, __u64 len, __u64 iova)
{
	struct iommu_ioas_map cmd = {
		.size = sizeof(cmd),
		.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
			 IOMMU_IOAS_MAP_WRITEABLE,
		.ioas_id = ioas,
		.user_va = (uintptr_t)va,
		.length = len,
		.iova = iova,
	};

	return ioctl(fd, IOMMU_IOAS_MAP, &cmd) ? errno : 0;
}

static int ioas_unmap_all(int fd, __u32 ioas)
{
	struct iommu_ioas_unmap cmd = {
		.size = sizeof(cmd),
		.ioas_id = ioas,
		.length = UINT64_MAX,
	};

	return ioctl(fd, IOMMU_IOAS_UNMAP, &cmd) ? errno : 0;
}

/* A mock device bound to the fd, its RID attached to @pt. */
static int mock_device(int fd, __u32 pt, __u32 dev_flags, __u32 *stdev,
		       __u32 *hwpt, __u32 *idev)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_MOCK_DOMAIN_FLAGS,
		.id = pt,
		.mock_domain_flags = { .dev_flags = dev_flags },
	};
	int rc = test_cmd(fd, &cmd);

	*stdev = 0;
	*idev = 0;
	if (rc)
		return rc;
	*stdev = cmd.mock_domain_flags.out_stdev_id;
	if (hwpt)
		*hwpt = cmd.mock_domain_flags.out_hwpt_id;
	*idev = cmd.mock_domain_flags.out_idev_id;
	return 0;
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

static int hwpt_alloc(int fd, __u32 dev, __u32 pt, __u32 flags, __u32 type,
		      const void *data, __u32 len, __u32 *out)
{
	struct iommu_hwpt_alloc cmd = {
		.size = sizeof(cmd),
		.flags = flags,
		.dev_id = dev,
		.pt_id = pt,
		.data_type = type,
		.data_len = len,
		.data_uptr = (uintptr_t)data,
	};

	if (out)
		*out = 0;
	if (ioctl(fd, IOMMU_HWPT_ALLOC, &cmd))
		return errno;
	if (out)
		*out = cmd.out_hwpt_id;
	return 0;
}

static int pasid_op(int fd, __u32 op, __u32 stdev, __u32 pasid, __u32 pt)
{
	struct iommu_test_cmd cmd = { .op = op, .id = stdev };

	/* attach and replace share a layout; detach only reads the pasid */
	cmd.pasid_attach.pasid = pasid;
	cmd.pasid_attach.pt_id = pt;
	return test_cmd(fd, &cmd);
}

static int pasid_check(int fd, __u32 stdev, __u32 pasid, __u32 hwpt)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_PASID_CHECK_HWPT,
		.id = stdev,
		.pasid_check = { .pasid = pasid, .hwpt_id = hwpt },
	};

	return test_cmd(fd, &cmd);
}

static int check_map(int fd, __u32 hwpt, __u64 iova, __u64 len, void *va)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_MD_CHECK_MAP,
		.id = hwpt,
		.check_map = { .iova = iova, .length = len, .uptr = (uintptr_t)va },
	};

	return test_cmd(fd, &cmd);
}

static int check_refs(int fd, void *va, __u64 len, __u32 refs)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_MD_CHECK_REFS,
		.check_refs = { .length = len, .uptr = (uintptr_t)va, .refs = refs },
	};

	return test_cmd(fd, &cmd);
}

static int hw_info(int fd, struct iommu_hw_info *cmd, __u32 dev, void *data,
		   __u32 len)
{
	cmd->dev_id = dev;
	cmd->data_uptr = (uintptr_t)data;
	cmd->data_len = len;
	return ioctl(fd, IOMMU_GET_HW_INFO, cmd) ? errno : 0;
}

/* The C iommufd.ko is loaded, rather than iommufd_rs.ko. */
static int c_iommufd_loaded(void)
{
	return access("/sys/module/iommufd", F_OK) == 0;
}

#define MAX_DEVS 8

/* every mock device made, so that teardown can detach its PASIDs */
struct devlist {
	__u32 stdev[MAX_DEVS];
	int n;
};

/* Another PASID-less or PASID-capable mock device on @ioas. */
static int add_device(int fd, __u32 ioas, struct devlist *devs,
		      __u32 dev_flags, __u32 *stdev, __u32 *idev)
{
	int rc;

	*stdev = 0;
	if (devs->n == MAX_DEVS)
		return -1;
	rc = mock_device(fd, ioas, dev_flags, stdev, NULL, idev);
	if (!rc)
		devs->stdev[devs->n++] = *stdev;
	return rc;
}

FIXTURE(pasid)
{
	int fd;
	__u32 ioas;
	/* a PASID-capable device and the automatic domain of its RID */
	__u32 stdev, idev, auto_hwpt;
	/* a device without PASID support, on the same automatic domain */
	__u32 np_stdev, np_idev;
	struct devlist devs;
	char *buf;
	struct iommu_hwpt_selftest nest_data;
};

#define ADD_DEVICE(dev_flags, stdev, idev) \
	add_device(self->fd, self->ioas, &self->devs, dev_flags, stdev, idev)
/* HWPTs allocated for the PASID-capable device */
#define PAGING(flags, out) \
	hwpt_alloc(self->fd, self->idev, self->ioas, flags, \
		   IOMMU_HWPT_DATA_NONE, NULL, 0, out)
#define NESTED(parent, flags, out) \
	hwpt_alloc(self->fd, self->idev, parent, flags, \
		   IOMMU_HWPT_DATA_SELFTEST, &self->nest_data, \
		   sizeof(self->nest_data), out)
#define ATTACH(dev, pasid, pt) \
	pasid_op(self->fd, IOMMU_TEST_OP_PASID_ATTACH, dev, pasid, pt)
#define REPLACE(dev, pasid, pt) \
	pasid_op(self->fd, IOMMU_TEST_OP_PASID_REPLACE, dev, pasid, pt)
#define DETACH(dev, pasid) \
	pasid_op(self->fd, IOMMU_TEST_OP_PASID_DETACH, dev, pasid, 0)
#define CHECK(dev, pasid, hwpt) pasid_check(self->fd, dev, pasid, hwpt)

FIXTURE_SETUP(pasid)
{
	self->nest_data.iotlb = IOMMU_TEST_IOTLB_DEFAULT;
	self->fd = open("/dev/iommu", O_RDWR);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, ioas_alloc(self->fd, &self->ioas));
	ASSERT_EQ(0, mock_device(self->fd, self->ioas, MOCK_FLAGS_DEVICE_PASID,
				 &self->stdev, &self->auto_hwpt, &self->idev));
	self->devs.stdev[self->devs.n++] = self->stdev;
	ASSERT_EQ(0, ADD_DEVICE(0, &self->np_stdev, &self->np_idev));
	self->buf = mmap(NULL, BUF_LEN, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	ASSERT_NE(MAP_FAILED, self->buf);
}

FIXTURE_TEARDOWN(pasid)
{
	/* the PASIDs the tests use; detaching an unattached one is a no-op */
	static const __u32 used[] = { 1, 100, 200, 300, 1024, PASID_MAX };
	size_t i;
	int d;

	/*
	 * The C driver must not see a device go with a PASID still attached
	 * (it warns), so a failed test leaves none behind.
	 */
	for (d = 0; d < self->devs.n; d++)
		for (i = 0; i < ARRAY_SIZE(used); i++)
			DETACH(self->devs.stdev[d], used[i]);
	close(self->fd);
	munmap(self->buf, BUF_LEN);
}

TEST_F(pasid, hw_info_reports_pasid_width)
{
	const __u64 mock_caps = IOMMU_HW_CAP_DIRTY_TRACKING |
				IOMMU_HW_CAP_PCI_ATS_NOT_SUPPORTED;
	struct iommu_test_hw_info info;
	struct iommu_hw_info cmd;
	__u32 nd_stdev, nd_idev;

	memset(&cmd, 0, sizeof(cmd));
	memset(&info, 0xa5, sizeof(info));
	cmd.size = sizeof(cmd);
	ASSERT_EQ(0, hw_info(self->fd, &cmd, self->idev, &info, sizeof(info)));
	ASSERT_EQ(MOCK_PASID_WIDTH, cmd.out_max_pasid_log2);
	ASSERT_EQ(IOMMU_HW_INFO_TYPE_SELFTEST, cmd.out_data_type);
	ASSERT_EQ(sizeof(info), cmd.data_len);
	ASSERT_EQ(0, info.flags);
	ASSERT_EQ(IOMMU_HW_INFO_SELFTEST_REGVAL, info.test_reg);
	/* the mock device is not PCI: no PASID execute or privileged bits */
	ASSERT_EQ(0, cmd.out_capabilities & (IOMMU_HW_CAP_PCI_PASID_EXEC |
					     IOMMU_HW_CAP_PCI_PASID_PRIV));
	ASSERT_EQ(mock_caps, cmd.out_capabilities);

	/* a device without PASIDs reports a width of 0, the rest the same */
	memset(&cmd, 0, sizeof(cmd));
	memset(&info, 0xa5, sizeof(info));
	cmd.size = sizeof(cmd);
	ASSERT_EQ(0, hw_info(self->fd, &cmd, self->np_idev, &info,
			     sizeof(info)));
	ASSERT_EQ(0, cmd.out_max_pasid_log2);
	ASSERT_EQ(IOMMU_HW_INFO_TYPE_SELFTEST, cmd.out_data_type);
	ASSERT_EQ(IOMMU_HW_INFO_SELFTEST_REGVAL, info.test_reg);
	ASSERT_EQ(mock_caps, cmd.out_capabilities);

	/* without dirty tracking, only the ATS bit is left */
	ASSERT_EQ(0, ADD_DEVICE(MOCK_FLAGS_DEVICE_PASID |
			       MOCK_FLAGS_DEVICE_NO_DIRTY, &nd_stdev, &nd_idev));
	memset(&cmd, 0, sizeof(cmd));
	cmd.size = sizeof(cmd);
	ASSERT_EQ(0, hw_info(self->fd, &cmd, nd_idev, NULL, 0));
	ASSERT_EQ(MOCK_PASID_WIDTH, cmd.out_max_pasid_log2);
	ASSERT_EQ(IOMMU_HW_CAP_PCI_ATS_NOT_SUPPORTED, cmd.out_capabilities);
}

TEST_F(pasid, hw_info_type_and_errors)
{
	static const __u32 never_bound[] = { 0, NO_ID };
	struct iommu_test_hw_info info;
	struct iommu_hw_info cmd;
	size_t i;

	/* without the input-type flag any in_data_type is ignored */
	memset(&cmd, 0, sizeof(cmd));
	cmd.size = sizeof(cmd);
	cmd.in_data_type = IOMMU_HW_INFO_TYPE_INTEL_VTD;
	ASSERT_EQ(0, hw_info(self->fd, &cmd, self->idev, &info, sizeof(info)));
	ASSERT_EQ(IOMMU_HW_INFO_TYPE_SELFTEST, cmd.out_data_type);
	cmd.in_data_type = 0xffffffff;
	ASSERT_EQ(0, hw_info(self->fd, &cmd, self->idev, &info, sizeof(info)));
	ASSERT_EQ(IOMMU_HW_INFO_TYPE_SELFTEST, cmd.out_data_type);

	/* with it, the default and the mock's own type are accepted */
	cmd.flags = IOMMU_HW_INFO_FLAG_INPUT_TYPE;
	cmd.in_data_type = IOMMU_HW_INFO_TYPE_SELFTEST;
	ASSERT_EQ(0, hw_info(self->fd, &cmd, self->idev, &info, sizeof(info)));
	ASSERT_EQ(IOMMU_HW_INFO_TYPE_SELFTEST, cmd.out_data_type);
	ASSERT_EQ(MOCK_PASID_WIDTH, cmd.out_max_pasid_log2);
	cmd.in_data_type = IOMMU_HW_INFO_TYPE_DEFAULT;
	ASSERT_EQ(0, hw_info(self->fd, &cmd, self->idev, &info, sizeof(info)));
	ASSERT_EQ(IOMMU_HW_INFO_TYPE_SELFTEST, cmd.out_data_type);

	/* and a vendor type the mock is not is refused */
	cmd.in_data_type = IOMMU_HW_INFO_TYPE_INTEL_VTD;
	ASSERT_EQ(EOPNOTSUPP, hw_info(self->fd, &cmd, self->idev, &info,
				      sizeof(info)));
	cmd.in_data_type = IOMMU_HW_INFO_TYPE_ARM_SMMUV3;
	ASSERT_EQ(EOPNOTSUPP, hw_info(self->fd, &cmd, self->np_idev, &info,
				      sizeof(info)));

	/* unknown flags and reserved bytes */
	memset(&cmd, 0, sizeof(cmd));
	cmd.size = sizeof(cmd);
	cmd.flags = 1U << 1;
	ASSERT_EQ(EOPNOTSUPP, hw_info(self->fd, &cmd, self->idev, &info,
				      sizeof(info)));
	cmd.flags = 0;
	cmd.__reserved[2] = 1;
	ASSERT_EQ(EOPNOTSUPP, hw_info(self->fd, &cmd, self->idev, &info,
				      sizeof(info)));
	/* checked before the device is looked up */
	ASSERT_EQ(EOPNOTSUPP, hw_info(self->fd, &cmd, NO_ID, &info,
				      sizeof(info)));
	cmd.__reserved[2] = 0;

	/* ids that are no bound device */
	for (i = 0; i < ARRAY_SIZE(never_bound); i++)
		ASSERT_EQ(ENOENT, hw_info(self->fd, &cmd, never_bound[i],
					  &info, sizeof(info)));
	ASSERT_EQ(ENOENT, hw_info(self->fd, &cmd, self->ioas, &info,
				  sizeof(info)));
	ASSERT_EQ(ENOENT, hw_info(self->fd, &cmd, self->stdev, &info,
				  sizeof(info)));
	ASSERT_EQ(ENOENT, hw_info(self->fd, &cmd, self->auto_hwpt, &info,
				  sizeof(info)));

	/* the data pointer is only written through, and must be valid */
	ASSERT_EQ(EFAULT, hw_info(self->fd, &cmd, self->idev, NULL,
				  sizeof(info)));
}

TEST_F(pasid, hw_info_lengths)
{
	struct {
		struct iommu_hw_info cmd;
		__u64 tail;
	} big;
	struct iommu_hw_info cmd;
	__u8 data[16];
	__u32 reg;
	size_t i;

	/* a short buffer gets what fits; data_len tells the full size */
	memset(&cmd, 0, sizeof(cmd));
	cmd.size = sizeof(cmd);
	memset(data, 0xa5, sizeof(data));
	ASSERT_EQ(0, hw_info(self->fd, &cmd, self->idev, data, 4));
	ASSERT_EQ(sizeof(struct iommu_test_hw_info), cmd.data_len);
	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, data[i]);
	for (i = 4; i < sizeof(data); i++)
		ASSERT_EQ(0xa5, data[i]);

	/* a long one gets a zeroed tail */
	memset(data, 0xa5, sizeof(data));
	ASSERT_EQ(0, hw_info(self->fd, &cmd, self->idev, data, sizeof(data)));
	ASSERT_EQ(sizeof(struct iommu_test_hw_info), cmd.data_len);
	memcpy(&reg, data + 4, sizeof(reg));
	ASSERT_EQ(IOMMU_HW_INFO_SELFTEST_REGVAL, reg);
	for (i = 8; i < sizeof(data); i++)
		ASSERT_EQ(0, data[i]);

	/* none at all only asks for the length */
	ASSERT_EQ(0, hw_info(self->fd, &cmd, self->idev, NULL, 0));
	ASSERT_EQ(sizeof(struct iommu_test_hw_info), cmd.data_len);
	ASSERT_EQ(MOCK_PASID_WIDTH, cmd.out_max_pasid_log2);

	/* a struct that ends with __reserved: all but out_capabilities */
	memset(&cmd, 0, sizeof(cmd));
	cmd.size = offsetof(struct iommu_hw_info, out_capabilities);
	cmd.out_capabilities = 0x5a5a;
	ASSERT_EQ(0, hw_info(self->fd, &cmd, self->idev, NULL, 0));
	ASSERT_EQ(MOCK_PASID_WIDTH, cmd.out_max_pasid_log2);
	ASSERT_EQ(IOMMU_HW_INFO_TYPE_SELFTEST, cmd.out_data_type);
	ASSERT_EQ(0x5a5a, cmd.out_capabilities);
	cmd.size--;
	ASSERT_EQ(EINVAL, hw_info(self->fd, &cmd, self->idev, NULL, 0));

	/* a longer struct with a zero tail works, a non-zero one does not */
	memset(&big, 0, sizeof(big));
	big.cmd.size = sizeof(big);
	ASSERT_EQ(0, hw_info(self->fd, &big.cmd, self->idev, NULL, 0));
	ASSERT_EQ(MOCK_PASID_WIDTH, big.cmd.out_max_pasid_log2);
	ASSERT_EQ(0, big.tail);
	big.tail = 1;
	ASSERT_EQ(E2BIG, hw_info(self->fd, &big.cmd, self->idev, NULL, 0));
}

TEST_F(pasid, hwpt_alloc_paging_flags)
{
	const __u32 all = IOMMU_HWPT_ALLOC_NEST_PARENT |
			  IOMMU_HWPT_ALLOC_DIRTY_TRACKING |
			  IOMMU_HWPT_ALLOC_PASID;
	struct iommu_hwpt_selftest cfg = {};
	__u8 vtd[24] = {};
	__u32 flags, id, nd_stdev, nd_idev;
	struct iommu_hwpt_alloc cmd;

	/* every combination of the three paging flags, on both devices */
	for (flags = 0; flags <= all; flags++) {
		if (flags & ~all)
			continue;
		ASSERT_EQ(0, PAGING(flags, &id));
		ASSERT_EQ(0, destroy(self->fd, id));
		ASSERT_EQ(0, hwpt_alloc(self->fd, self->np_idev, self->ioas,
					flags, IOMMU_HWPT_DATA_NONE, NULL, 0,
					&id));
		ASSERT_EQ(0, destroy(self->fd, id));
	}

	/* unknown bits */
	ASSERT_EQ(EOPNOTSUPP, PAGING(1U << 4, &id));
	ASSERT_EQ(EOPNOTSUPP, PAGING(IOMMU_HWPT_ALLOC_PASID | 1U << 5,
				     &id));
	ASSERT_EQ(EOPNOTSUPP, PAGING(1U << 31, &id));
	/* a nesting parent takes no fault queue */
	ASSERT_EQ(EOPNOTSUPP, PAGING(IOMMU_HWPT_FAULT_ID_VALID |
				     IOMMU_HWPT_ALLOC_NEST_PARENT, &id));
	/* a fault queue that does not exist */
	ASSERT_EQ(ENOENT, PAGING(IOMMU_HWPT_FAULT_ID_VALID, &id));

	/* dirty tracking needs a device that can do it */
	ASSERT_EQ(0, ADD_DEVICE(MOCK_FLAGS_DEVICE_PASID |
			       MOCK_FLAGS_DEVICE_NO_DIRTY, &nd_stdev, &nd_idev));
	ASSERT_EQ(EOPNOTSUPP, hwpt_alloc(self->fd, nd_idev, self->ioas,
					 IOMMU_HWPT_ALLOC_DIRTY_TRACKING,
					 IOMMU_HWPT_DATA_NONE, NULL, 0, &id));
	ASSERT_EQ(0, hwpt_alloc(self->fd, nd_idev, self->ioas,
				IOMMU_HWPT_ALLOC_PASID |
				IOMMU_HWPT_ALLOC_NEST_PARENT,
				IOMMU_HWPT_DATA_NONE, NULL, 0, &id));
	ASSERT_EQ(0, destroy(self->fd, id));

	/* reserved, then data type and length must agree */
	memset(&cmd, 0, sizeof(cmd));
	cmd.size = sizeof(cmd);
	cmd.dev_id = self->idev;
	cmd.pt_id = self->ioas;
	cmd.__reserved = 1;
	ASSERT_EQ(-1, ioctl(self->fd, IOMMU_HWPT_ALLOC, &cmd));
	ASSERT_EQ(EOPNOTSUPP, errno);
	ASSERT_EQ(EINVAL, hwpt_alloc(self->fd, self->idev, self->ioas, 0,
				     IOMMU_HWPT_DATA_NONE, &cfg, sizeof(cfg),
				     &id));
	ASSERT_EQ(EINVAL, hwpt_alloc(self->fd, self->idev, self->ioas, 0,
				     IOMMU_HWPT_DATA_SELFTEST, &cfg, 0, &id));

	/* the mock takes its own data for a paging domain, no vendor's */
	ASSERT_EQ(0, hwpt_alloc(self->fd, self->idev, self->ioas,
				IOMMU_HWPT_ALLOC_PASID,
				IOMMU_HWPT_DATA_SELFTEST, &cfg, sizeof(cfg),
				&id));
	ASSERT_EQ(0, destroy(self->fd, id));
	ASSERT_EQ(EOPNOTSUPP, hwpt_alloc(self->fd, self->idev, self->ioas,
					 IOMMU_HWPT_ALLOC_PASID,
					 IOMMU_HWPT_DATA_VTD_S1, vtd,
					 sizeof(vtd), &id));

	/* the device is looked up before the flags are looked at */
	ASSERT_EQ(ENOENT, hwpt_alloc(self->fd, NO_ID, self->ioas, 1U << 4,
				     IOMMU_HWPT_DATA_NONE, NULL, 0, &id));
	ASSERT_EQ(ENOENT, hwpt_alloc(self->fd, self->ioas, self->ioas, 0,
				     IOMMU_HWPT_DATA_NONE, NULL, 0, &id));
	ASSERT_EQ(ENOENT, hwpt_alloc(self->fd, self->stdev, self->ioas, 0,
				     IOMMU_HWPT_DATA_NONE, NULL, 0, &id));
	/* a pt_id that is no IOAS, HWPT or vIOMMU is EINVAL, even unknown */
	ASSERT_EQ(EINVAL, hwpt_alloc(self->fd, self->idev, NO_ID, 0,
				     IOMMU_HWPT_DATA_NONE, NULL, 0, &id));
	ASSERT_EQ(EINVAL, hwpt_alloc(self->fd, self->idev, self->idev, 0,
				     IOMMU_HWPT_DATA_NONE, NULL, 0, &id));
	ASSERT_EQ(EINVAL, hwpt_alloc(self->fd, self->idev, self->stdev, 0,
				     IOMMU_HWPT_DATA_NONE, NULL, 0, &id));
}

TEST_F(pasid, hwpt_alloc_nested)
{
	__u32 parent, pparent, plain, pplain, n0, n1, n2, id;
	__u8 vtd[24] = {};
	__u8 longer[16] = {};

	ASSERT_EQ(0, PAGING(IOMMU_HWPT_ALLOC_NEST_PARENT, &parent));
	ASSERT_EQ(0, PAGING(IOMMU_HWPT_ALLOC_NEST_PARENT |
			    IOMMU_HWPT_ALLOC_PASID, &pparent));
	ASSERT_EQ(0, PAGING(0, &plain));
	ASSERT_EQ(0, PAGING(IOMMU_HWPT_ALLOC_PASID, &pplain));

	/* a nesting parent takes nested HWPTs with or without ALLOC_PASID */
	ASSERT_EQ(0, NESTED(parent, 0, &n0));
	ASSERT_EQ(0, NESTED(parent, IOMMU_HWPT_ALLOC_PASID, &n1));
	ASSERT_EQ(0, NESTED(pparent, IOMMU_HWPT_ALLOC_PASID, &n2));

	/* no other paging HWPT is a parent, whatever its flags */
	ASSERT_EQ(EINVAL, NESTED(plain, 0, &id));
	ASSERT_EQ(EINVAL, NESTED(pplain, IOMMU_HWPT_ALLOC_PASID, &id));
	ASSERT_EQ(EINVAL, NESTED(self->auto_hwpt, 0, &id));

	/* ALLOC_PASID is the only flag of a nested HWPT */
	ASSERT_EQ(EOPNOTSUPP, NESTED(parent,
				     IOMMU_HWPT_ALLOC_NEST_PARENT, &id));
	ASSERT_EQ(EOPNOTSUPP, NESTED(parent,
				     IOMMU_HWPT_ALLOC_DIRTY_TRACKING, &id));
	ASSERT_EQ(EOPNOTSUPP, NESTED(parent,
				     IOMMU_HWPT_ALLOC_PASID | 1U << 4, &id));
	/* and flags are judged before the parent */
	ASSERT_EQ(EOPNOTSUPP, NESTED(plain,
				     IOMMU_HWPT_ALLOC_NEST_PARENT, &id));

	/* nested data: present, of the mock's type, of a known length */
	ASSERT_EQ(EOPNOTSUPP, hwpt_alloc(self->fd, self->idev, parent,
					 IOMMU_HWPT_ALLOC_PASID,
					 IOMMU_HWPT_DATA_NONE, NULL, 0, &id));
	ASSERT_EQ(EOPNOTSUPP, hwpt_alloc(self->fd, self->idev, parent,
					 IOMMU_HWPT_ALLOC_PASID,
					 IOMMU_HWPT_DATA_VTD_S1, vtd,
					 sizeof(vtd), &id));
	ASSERT_EQ(EINVAL, hwpt_alloc(self->fd, self->idev, parent, 0,
				     IOMMU_HWPT_DATA_SELFTEST,
				     &self->nest_data, 2, &id));
	ASSERT_EQ(EINVAL, hwpt_alloc(self->fd, self->idev, parent, 0,
				     IOMMU_HWPT_DATA_SELFTEST, longer,
				     sizeof(longer), &id));

	/* a nested HWPT is no parent */
	ASSERT_EQ(EINVAL, NESTED(n1, IOMMU_HWPT_ALLOC_PASID, &id));

	/* a parent lives as long as its nested HWPTs */
	ASSERT_EQ(EBUSY, destroy(self->fd, parent));
	ASSERT_EQ(0, destroy(self->fd, n0));
	ASSERT_EQ(EBUSY, destroy(self->fd, parent));
	ASSERT_EQ(0, destroy(self->fd, n1));
	ASSERT_EQ(0, destroy(self->fd, parent));
	ASSERT_EQ(0, destroy(self->fd, n2));
	ASSERT_EQ(0, destroy(self->fd, pparent));
	ASSERT_EQ(0, destroy(self->fd, plain));
	ASSERT_EQ(0, destroy(self->fd, pplain));
}

TEST_F(pasid, detach_of_unattached_pasid)
{
	__u32 s2;

	ASSERT_EQ(0, DETACH(self->stdev, 100));
	ASSERT_EQ(0, CHECK(self->stdev, 100, 0));
	ASSERT_EQ(EINVAL, CHECK(self->stdev, 100, self->auto_hwpt));
	ASSERT_EQ(0, DETACH(self->np_stdev, 100));
	ASSERT_EQ(0, DETACH(self->stdev, PASID_MAX + 1));

	/* detaching twice after an attach is as quiet */
	ASSERT_EQ(0, PAGING(IOMMU_HWPT_ALLOC_PASID, &s2));
	ASSERT_EQ(0, rid_replace(self->fd, self->stdev, s2));
	ASSERT_EQ(0, ATTACH(self->stdev, 100, s2));
	ASSERT_EQ(0, DETACH(self->stdev, 100));
	ASSERT_EQ(0, DETACH(self->stdev, 100));
	ASSERT_EQ(0, CHECK(self->stdev, 100, 0));

	/* only a mock device object takes PASID commands */
	ASSERT_EQ(ENOENT, DETACH(NO_ID, 100));
	ASSERT_EQ(ENOENT, DETACH(self->idev, 100));
	ASSERT_EQ(ENOENT, CHECK(NO_ID, 100, 0));
	ASSERT_EQ(ENOENT, CHECK(self->stdev, 100, NO_ID));
	/* a known object that is no HWPT is another matter */
	ASSERT_EQ(EINVAL, CHECK(self->stdev, 100, self->ioas));
}

TEST_F(pasid, attach_needs_pasid_compat_hwpt)
{
	__u32 s2, plain, parent, n_compat, n_plain;

	ASSERT_EQ(0, PAGING(IOMMU_HWPT_ALLOC_PASID, &s2));
	ASSERT_EQ(0, PAGING(0, &plain));
	ASSERT_EQ(0, PAGING(IOMMU_HWPT_ALLOC_NEST_PARENT, &parent));
	ASSERT_EQ(0, NESTED(parent, IOMMU_HWPT_ALLOC_PASID, &n_compat));
	ASSERT_EQ(0, NESTED(parent, 0, &n_plain));
	ASSERT_EQ(0, rid_replace(self->fd, self->stdev, s2));

	/* without ALLOC_PASID a HWPT stays off PASIDs, which stay blocked */
	ASSERT_EQ(EINVAL, ATTACH(self->stdev, 100, plain));
	ASSERT_EQ(EINVAL, ATTACH(self->stdev, 100, parent));
	ASSERT_EQ(EINVAL, ATTACH(self->stdev, 100, n_plain));
	ASSERT_EQ(0, CHECK(self->stdev, 100, 0));
	/* an IOAS would get an automatic domain, made without the flag */
	ASSERT_EQ(EINVAL, ATTACH(self->stdev, 100, self->ioas));
	ASSERT_EQ(0, CHECK(self->stdev, 100, 0));
	/* a device is no page table; an unknown id is no object */
	ASSERT_EQ(EINVAL, ATTACH(self->stdev, 100, self->idev));
	ASSERT_EQ(ENOENT, ATTACH(self->stdev, 100, NO_ID));
	ASSERT_EQ(ENOENT, ATTACH(NO_ID, 100, s2));
	ASSERT_EQ(0, CHECK(self->stdev, 100, 0));

	/* with the flag it attaches, paging or nested */
	ASSERT_EQ(0, ATTACH(self->stdev, 100, s2));
	ASSERT_EQ(0, CHECK(self->stdev, 100, s2));
	ASSERT_EQ(EINVAL, CHECK(self->stdev, 100, 0));
	ASSERT_EQ(EINVAL, CHECK(self->stdev, 100, plain));
	ASSERT_EQ(0, CHECK(self->stdev, 101, 0));
	ASSERT_EQ(0, DETACH(self->stdev, 100));
	ASSERT_EQ(0, CHECK(self->stdev, 100, 0));

	ASSERT_EQ(0, ATTACH(self->stdev, 100, n_compat));
	ASSERT_EQ(0, CHECK(self->stdev, 100, n_compat));
	ASSERT_EQ(0, DETACH(self->stdev, 100));
	ASSERT_EQ(0, CHECK(self->stdev, 100, 0));
}

TEST_F(pasid, attach_twice_is_busy)
{
	__u32 s2, s2b, plain, parent, n_compat;

	ASSERT_EQ(0, PAGING(IOMMU_HWPT_ALLOC_PASID, &s2));
	ASSERT_EQ(0, PAGING(IOMMU_HWPT_ALLOC_PASID, &s2b));
	ASSERT_EQ(0, PAGING(0, &plain));
	ASSERT_EQ(0, PAGING(IOMMU_HWPT_ALLOC_NEST_PARENT, &parent));
	ASSERT_EQ(0, NESTED(parent, IOMMU_HWPT_ALLOC_PASID, &n_compat));
	ASSERT_EQ(0, rid_replace(self->fd, self->stdev, s2));

	ASSERT_EQ(0, ATTACH(self->stdev, 100, s2));
	/* attach never overwrites: same HWPT, another one, nested */
	ASSERT_EQ(EBUSY, ATTACH(self->stdev, 100, s2));
	ASSERT_EQ(EBUSY, ATTACH(self->stdev, 100, s2b));
	ASSERT_EQ(EBUSY, ATTACH(self->stdev, 100, n_compat));
	/* being attached is found before compatibility is judged */
	ASSERT_EQ(EBUSY, ATTACH(self->stdev, 100, plain));
	ASSERT_EQ(EBUSY, ATTACH(self->stdev, 100, self->ioas));
	ASSERT_EQ(0, CHECK(self->stdev, 100, s2));

	/* the busy attempts took no reference on what they named */
	ASSERT_EQ(0, destroy(self->fd, s2b));
	ASSERT_EQ(0, destroy(self->fd, n_compat));
	ASSERT_EQ(0, destroy(self->fd, parent));
	ASSERT_EQ(0, destroy(self->fd, plain));

	/* the RID is PASID 0 of the same table: it is attached too */
	ASSERT_EQ(EBUSY, ATTACH(self->stdev, 0, s2));
	ASSERT_EQ(0, CHECK(self->stdev, 0, s2));

	ASSERT_EQ(0, DETACH(self->stdev, 100));
	ASSERT_EQ(0, ATTACH(self->stdev, 100, s2));
	ASSERT_EQ(0, CHECK(self->stdev, 100, s2));
	ASSERT_EQ(0, DETACH(self->stdev, 100));
}

TEST_F(pasid, rid_and_pasid_compat_interlock)
{
	__u32 s2, s2b, parent;

	ASSERT_EQ(0, PAGING(IOMMU_HWPT_ALLOC_PASID, &s2));
	ASSERT_EQ(0, PAGING(IOMMU_HWPT_ALLOC_PASID, &s2b));
	ASSERT_EQ(0, PAGING(IOMMU_HWPT_ALLOC_NEST_PARENT, &parent));

	/* the RID's automatic domain is not PASID compatible */
	ASSERT_EQ(0, CHECK(self->stdev, 0, self->auto_hwpt));
	ASSERT_EQ(EINVAL, ATTACH(self->stdev, 100, s2));
	ASSERT_EQ(0, CHECK(self->stdev, 100, 0));
	/* neither is a parent allocated without the flag */
	ASSERT_EQ(0, rid_replace(self->fd, self->stdev, parent));
	ASSERT_EQ(EINVAL, ATTACH(self->stdev, 100, s2));
	ASSERT_EQ(0, CHECK(self->stdev, 100, 0));

	/* the RID on a compatible domain; the PASID may use another one */
	ASSERT_EQ(0, rid_replace(self->fd, self->stdev, s2));
	ASSERT_EQ(0, ATTACH(self->stdev, 100, s2b));
	ASSERT_EQ(0, CHECK(self->stdev, 100, s2b));

	/* with a PASID attached the RID cannot leave compatible domains */
	ASSERT_EQ(EINVAL, rid_replace(self->fd, self->stdev, parent));
	ASSERT_EQ(0, CHECK(self->stdev, 0, s2));
	ASSERT_EQ(EINVAL, rid_replace(self->fd, self->stdev, self->ioas));
	ASSERT_EQ(0, CHECK(self->stdev, 0, s2));
	ASSERT_EQ(0, rid_replace(self->fd, self->stdev, s2b));
	ASSERT_EQ(0, CHECK(self->stdev, 0, s2b));
	ASSERT_EQ(0, CHECK(self->stdev, 100, s2b));

	/* once it is detached the RID is free again */
	ASSERT_EQ(0, DETACH(self->stdev, 100));
	ASSERT_EQ(0, rid_replace(self->fd, self->stdev, parent));
	ASSERT_EQ(0, CHECK(self->stdev, 0, parent));
	/* the other device still holds the automatic domain: it is reused */
	ASSERT_EQ(0, rid_replace(self->fd, self->stdev, self->ioas));
	ASSERT_EQ(0, CHECK(self->stdev, 0, self->auto_hwpt));
	ASSERT_EQ(0, destroy(self->fd, s2));
	ASSERT_EQ(0, destroy(self->fd, s2b));
	ASSERT_EQ(0, destroy(self->fd, parent));
}

TEST_F(pasid, device_without_pasid_support)
{
	__u32 s2, parent;

	ASSERT_EQ(0, PAGING(IOMMU_HWPT_ALLOC_PASID, &s2));
	ASSERT_EQ(0, PAGING(IOMMU_HWPT_ALLOC_NEST_PARENT, &parent));

	ASSERT_EQ(EINVAL, ATTACH(self->np_stdev, 100, s2));
	ASSERT_EQ(EINVAL, ATTACH(self->np_stdev, 100, parent));

	/* a PASID-compatible domain still serves its RID */
	ASSERT_EQ(0, rid_replace(self->fd, self->np_stdev, s2));
	ASSERT_EQ(0, CHECK(self->np_stdev, 0, s2));
	/* but no PASID of it takes any domain */
	ASSERT_EQ(EINVAL, ATTACH(self->np_stdev, 1, s2));
	ASSERT_EQ(EINVAL, ATTACH(self->np_stdev, 100, s2));
	ASSERT_EQ(EINVAL, ATTACH(self->np_stdev, PASID_MAX, s2));
	ASSERT_EQ(EINVAL, ATTACH(self->np_stdev, 100, parent));
	ASSERT_EQ(0, CHECK(self->np_stdev, 1, 0));
	ASSERT_EQ(0, CHECK(self->np_stdev, 100, 0));
	ASSERT_EQ(EINVAL, REPLACE(self->np_stdev, 100, s2));

	ASSERT_EQ(0, rid_replace(self->fd, self->np_stdev, self->ioas));
	ASSERT_EQ(0, destroy(self->fd, s2));
	ASSERT_EQ(0, destroy(self->fd, parent));
}

TEST_F(pasid, pasid_number_range)
{
	__u32 s2;

	ASSERT_EQ(0, PAGING(IOMMU_HWPT_ALLOC_PASID, &s2));
	ASSERT_EQ(0, rid_replace(self->fd, self->stdev, s2));

	ASSERT_EQ(0, ATTACH(self->stdev, 1, s2));
	ASSERT_EQ(0, ATTACH(self->stdev, PASID_MAX, s2));
	ASSERT_EQ(0, CHECK(self->stdev, 1, s2));
	ASSERT_EQ(0, CHECK(self->stdev, PASID_MAX, s2));

	/* the mock device has 20 PASID bits */
	ASSERT_EQ(EINVAL, ATTACH(self->stdev, PASID_MAX + 1, s2));
	ASSERT_EQ(EINVAL, ATTACH(self->stdev, 0xffffffff, s2));
	ASSERT_EQ(0, CHECK(self->stdev, PASID_MAX + 1, 0));
	ASSERT_EQ(EINVAL, REPLACE(self->stdev, PASID_MAX + 1, s2));

	ASSERT_EQ(0, DETACH(self->stdev, 1));
	ASSERT_EQ(0, DETACH(self->stdev, PASID_MAX));
	ASSERT_EQ(0, CHECK(self->stdev, 1, 0));
	ASSERT_EQ(0, CHECK(self->stdev, PASID_MAX, 0));
	ASSERT_EQ(0, CHECK(self->stdev, 0, s2));
}

TEST_F(pasid, replace_rules)
{
	__u32 s2, plain, parent, n0, n1, n_plain;

	ASSERT_EQ(0, PAGING(IOMMU_HWPT_ALLOC_PASID, &s2));
	ASSERT_EQ(0, PAGING(0, &plain));
	ASSERT_EQ(0, PAGING(IOMMU_HWPT_ALLOC_NEST_PARENT, &parent));
	ASSERT_EQ(0, NESTED(parent, IOMMU_HWPT_ALLOC_PASID, &n0));
	ASSERT_EQ(0, NESTED(parent, IOMMU_HWPT_ALLOC_PASID, &n1));
	ASSERT_EQ(0, NESTED(parent, 0, &n_plain));
	ASSERT_EQ(0, rid_replace(self->fd, self->stdev, s2));

	/* replace needs an attached PASID */
	ASSERT_EQ(EINVAL, REPLACE(self->stdev, 200, s2));
	ASSERT_EQ(0, CHECK(self->stdev, 200, 0));

	ASSERT_EQ(0, ATTACH(self->stdev, 200, s2));
	/* what attach refuses, replace refuses, and the old domain stays */
	ASSERT_EQ(EINVAL, REPLACE(self->stdev, 200, self->ioas));
	ASSERT_EQ(0, CHECK(self->stdev, 200, s2));
	ASSERT_EQ(EINVAL, REPLACE(self->stdev, 200, plain));
	ASSERT_EQ(EINVAL, REPLACE(self->stdev, 200, n_plain));
	ASSERT_EQ(EINVAL, REPLACE(self->stdev, 200, self->idev));
	ASSERT_EQ(ENOENT, REPLACE(self->stdev, 200, NO_ID));
	ASSERT_EQ(ENOENT, REPLACE(NO_ID, 200, n0));
	ASSERT_EQ(0, CHECK(self->stdev, 200, s2));

	/* paging to nested, nested to nested, to itself, back to paging */
	ASSERT_EQ(0, REPLACE(self->stdev, 200, n0));
	ASSERT_EQ(0, CHECK(self->stdev, 200, n0));
	ASSERT_EQ(0, REPLACE(self->stdev, 200, n1));
	ASSERT_EQ(0, CHECK(self->stdev, 200, n1));
	ASSERT_EQ(0, REPLACE(self->stdev, 200, n1));
	ASSERT_EQ(0, CHECK(self->stdev, 200, n1));
	/* the reference moved along: n0 is free, n1 is not */
	ASSERT_EQ(0, destroy(self->fd, n0));
	ASSERT_EQ(EBUSY, destroy(self->fd, n1));
	ASSERT_EQ(0, REPLACE(self->stdev, 200, s2));
	ASSERT_EQ(0, CHECK(self->stdev, 200, s2));
	ASSERT_EQ(0, destroy(self->fd, n1));

	ASSERT_EQ(0, DETACH(self->stdev, 200));
	ASSERT_EQ(0, CHECK(self->stdev, 200, 0));
	ASSERT_EQ(EINVAL, REPLACE(self->stdev, 200, s2));
}

TEST_F(pasid, replace_failure_keeps_old_domain)
{
	__u32 s2, parent, n0, n1;

	ASSERT_EQ(0, PAGING(IOMMU_HWPT_ALLOC_PASID, &s2));
	ASSERT_EQ(0, PAGING(IOMMU_HWPT_ALLOC_NEST_PARENT, &parent));
	ASSERT_EQ(0, NESTED(parent, IOMMU_HWPT_ALLOC_PASID, &n0));
	ASSERT_EQ(0, NESTED(parent, IOMMU_HWPT_ALLOC_PASID, &n1));
	ASSERT_EQ(0, rid_replace(self->fd, self->stdev, s2));

	/*
	 * On PASID 1024 the mock driver fails the call after a successful
	 * attach with ENOMEM, once.
	 */
	ASSERT_EQ(0, ATTACH(self->stdev, IOMMU_TEST_PASID_RESERVED, s2));
	ASSERT_EQ(0, CHECK(self->stdev, IOMMU_TEST_PASID_RESERVED, s2));
	/* a replace by the same HWPT does not reach the driver */
	ASSERT_EQ(0, REPLACE(self->stdev, IOMMU_TEST_PASID_RESERVED, s2));
	ASSERT_EQ(ENOMEM, REPLACE(self->stdev, IOMMU_TEST_PASID_RESERVED, n0));
	ASSERT_EQ(0, CHECK(self->stdev, IOMMU_TEST_PASID_RESERVED, s2));
	/* the failed replace kept no reference on n0 */
	ASSERT_EQ(0, destroy(self->fd, n0));
	ASSERT_EQ(EBUSY, destroy(self->fd, s2));

	/* the failure was spent: the next replace goes through */
	ASSERT_EQ(0, REPLACE(self->stdev, IOMMU_TEST_PASID_RESERVED, n1));
	ASSERT_EQ(0, CHECK(self->stdev, IOMMU_TEST_PASID_RESERVED, n1));
	ASSERT_EQ(0, DETACH(self->stdev, IOMMU_TEST_PASID_RESERVED));
	ASSERT_EQ(0, CHECK(self->stdev, IOMMU_TEST_PASID_RESERVED, 0));

	/* a new attach arms it again */
	ASSERT_EQ(0, ATTACH(self->stdev, IOMMU_TEST_PASID_RESERVED, s2));
	ASSERT_EQ(ENOMEM, REPLACE(self->stdev, IOMMU_TEST_PASID_RESERVED, n1));
	ASSERT_EQ(0, CHECK(self->stdev, IOMMU_TEST_PASID_RESERVED, s2));
	ASSERT_EQ(0, DETACH(self->stdev, IOMMU_TEST_PASID_RESERVED));
	ASSERT_EQ(0, CHECK(self->stdev, IOMMU_TEST_PASID_RESERVED, 0));
	ASSERT_EQ(0, destroy(self->fd, n1));
	ASSERT_EQ(0, destroy(self->fd, parent));
}

TEST_F(pasid, attached_hwpt_cannot_be_destroyed)
{
	__u32 s2, s2b, parent, n0;

	ASSERT_EQ(0, PAGING(IOMMU_HWPT_ALLOC_PASID, &s2));
	ASSERT_EQ(0, PAGING(IOMMU_HWPT_ALLOC_PASID, &s2b));
	ASSERT_EQ(0, PAGING(IOMMU_HWPT_ALLOC_NEST_PARENT, &parent));
	ASSERT_EQ(0, NESTED(parent, IOMMU_HWPT_ALLOC_PASID, &n0));
	ASSERT_EQ(0, rid_replace(self->fd, self->stdev, s2));
	ASSERT_EQ(0, ATTACH(self->stdev, 100, s2b));
	ASSERT_EQ(0, ATTACH(self->stdev, 200, n0));

	ASSERT_EQ(EBUSY, destroy(self->fd, s2b));
	ASSERT_EQ(EBUSY, destroy(self->fd, n0));
	ASSERT_EQ(EBUSY, destroy(self->fd, parent));
	ASSERT_EQ(EBUSY, destroy(self->fd, self->ioas));
	/* the bound device is held by its attachments and its mock owner */
	ASSERT_EQ(EBUSY, destroy(self->fd, self->idev));
	/* nothing changed */
	ASSERT_EQ(0, CHECK(self->stdev, 100, s2b));
	ASSERT_EQ(0, CHECK(self->stdev, 200, n0));

	ASSERT_EQ(0, DETACH(self->stdev, 100));
	ASSERT_EQ(0, destroy(self->fd, s2b));
	ASSERT_EQ(0, DETACH(self->stdev, 200));
	ASSERT_EQ(0, destroy(self->fd, n0));
	ASSERT_EQ(0, destroy(self->fd, parent));
	/* the RID still holds s2 */
	ASSERT_EQ(EBUSY, destroy(self->fd, s2));
	ASSERT_EQ(0, rid_replace(self->fd, self->stdev, self->ioas));
	ASSERT_EQ(0, destroy(self->fd, s2));
}

TEST_F(pasid, device_destroy_after_detach)
{
	struct iommu_hw_info info = { .size = sizeof(info) };
	__u32 stdev2, idev2, s2, parent, n0;

	ASSERT_EQ(0, ADD_DEVICE(MOCK_FLAGS_DEVICE_PASID, &stdev2,
				&idev2));
	ASSERT_EQ(0, hwpt_alloc(self->fd, idev2, self->ioas,
				IOMMU_HWPT_ALLOC_PASID |
				IOMMU_HWPT_ALLOC_NEST_PARENT,
				IOMMU_HWPT_DATA_NONE, NULL, 0, &s2));
	ASSERT_EQ(0, hwpt_alloc(self->fd, idev2, self->ioas,
				IOMMU_HWPT_ALLOC_NEST_PARENT,
				IOMMU_HWPT_DATA_NONE, NULL, 0, &parent));
	ASSERT_EQ(0, hwpt_alloc(self->fd, idev2, s2, IOMMU_HWPT_ALLOC_PASID,
				IOMMU_HWPT_DATA_SELFTEST, &self->nest_data,
				sizeof(self->nest_data), &n0));
	ASSERT_EQ(0, rid_replace(self->fd, stdev2, s2));
	ASSERT_EQ(0, ATTACH(stdev2, 100, s2));
	ASSERT_EQ(0, ATTACH(stdev2, 200, n0));
	ASSERT_EQ(EBUSY, destroy(self->fd, idev2));

	ASSERT_EQ(0, DETACH(stdev2, 100));
	ASSERT_EQ(0, DETACH(stdev2, 200));
	ASSERT_EQ(0, destroy(self->fd, stdev2));
	/* the device and its ids are gone, the HWPTs made for it are not */
	ASSERT_EQ(ENOENT, hw_info(self->fd, &info, idev2, NULL, 0));
	ASSERT_EQ(ENOENT, ATTACH(stdev2, 100, s2));
	ASSERT_EQ(ENOENT, CHECK(stdev2, 100, 0));
	ASSERT_EQ(ENOENT, destroy(self->fd, idev2));
	/* another device can use them */
	ASSERT_EQ(0, rid_replace(self->fd, self->stdev, s2));
	ASSERT_EQ(0, ATTACH(self->stdev, 100, n0));
	ASSERT_EQ(0, CHECK(self->stdev, 100, n0));
	ASSERT_EQ(0, DETACH(self->stdev, 100));
	ASSERT_EQ(0, rid_replace(self->fd, self->stdev, self->ioas));
	ASSERT_EQ(0, destroy(self->fd, n0));
	ASSERT_EQ(0, destroy(self->fd, s2));
	ASSERT_EQ(0, destroy(self->fd, parent));
}

TEST_F(pasid, device_destroy_with_pasids_attached)
{
	__u32 stdev2, idev2, s2, n0;

	/*
	 * The C mock device unbinds without detaching its PASIDs: the
	 * attachments leak and the kernel warns, so this is for ours only.
	 */
	if (c_iommufd_loaded())
		SKIP(return, "the C mock leaks PASID attachments on destroy");

	ASSERT_EQ(0, ADD_DEVICE(MOCK_FLAGS_DEVICE_PASID, &stdev2,
				&idev2));
	ASSERT_EQ(0, hwpt_alloc(self->fd, idev2, self->ioas,
				IOMMU_HWPT_ALLOC_PASID |
				IOMMU_HWPT_ALLOC_NEST_PARENT,
				IOMMU_HWPT_DATA_NONE, NULL, 0, &s2));
	ASSERT_EQ(0, hwpt_alloc(self->fd, idev2, s2, IOMMU_HWPT_ALLOC_PASID,
				IOMMU_HWPT_DATA_SELFTEST, &self->nest_data,
				sizeof(self->nest_data), &n0));
	ASSERT_EQ(0, rid_replace(self->fd, stdev2, s2));
	ASSERT_EQ(0, ATTACH(stdev2, 100, s2));
	ASSERT_EQ(0, ATTACH(stdev2, 200, n0));
	ASSERT_EQ(EBUSY, destroy(self->fd, n0));

	ASSERT_EQ(0, destroy(self->fd, stdev2));
	ASSERT_EQ(ENOENT, CHECK(stdev2, 100, 0));
	ASSERT_EQ(0, destroy(self->fd, n0));
	ASSERT_EQ(0, destroy(self->fd, s2));
}

/*
 * Give a second fd a mapping of the fixture's buffer, a device, a nesting
 * parent with two nested HWPTs and, if asked, three attached PASIDs. The
 * caller closes it.
 */
static void populate_fd(struct __test_metadata *_metadata, int fd, char *buf,
			int with_pasids)
{
	struct iommu_hwpt_selftest nest_data = {
		.iotlb = IOMMU_TEST_IOTLB_DEFAULT,
	};
	__u32 ioas, stdev, idev, s2, n0, n1;

	ASSERT_EQ(0, ioas_alloc(fd, &ioas));
	ASSERT_EQ(0, mock_device(fd, ioas, MOCK_FLAGS_DEVICE_PASID, &stdev,
				 NULL, &idev));
	ASSERT_EQ(0, ioas_map(fd, ioas, buf, BUF_LEN, BASE));
	ASSERT_EQ(0, hwpt_alloc(fd, idev, ioas, IOMMU_HWPT_ALLOC_PASID |
				IOMMU_HWPT_ALLOC_NEST_PARENT,
				IOMMU_HWPT_DATA_NONE, NULL, 0, &s2));
	ASSERT_EQ(0, hwpt_alloc(fd, idev, s2, IOMMU_HWPT_ALLOC_PASID,
				IOMMU_HWPT_DATA_SELFTEST, &nest_data,
				sizeof(nest_data), &n0));
	ASSERT_EQ(0, hwpt_alloc(fd, idev, s2, IOMMU_HWPT_ALLOC_PASID,
				IOMMU_HWPT_DATA_SELFTEST, &nest_data,
				sizeof(nest_data), &n1));
	ASSERT_EQ(0, rid_replace(fd, stdev, s2));
	ASSERT_EQ(0, check_map(fd, s2, BASE, BUF_LEN, buf));
	if (with_pasids) {
		ASSERT_EQ(0, pasid_op(fd, IOMMU_TEST_OP_PASID_ATTACH, stdev,
				      100, n0));
		ASSERT_EQ(0, pasid_op(fd, IOMMU_TEST_OP_PASID_ATTACH, stdev,
				      200, n1));
		ASSERT_EQ(0, pasid_op(fd, IOMMU_TEST_OP_PASID_ATTACH, stdev,
				      PASID_MAX, s2));
	}
}

TEST_F(pasid, close_releases_pins)
{
	long pin0 = vm_pin_kb();
	int fd2;

	ASSERT_LE(0, pin0);
	ASSERT_EQ(0, check_refs(self->fd, self->buf, BUF_LEN, 0));
	fd2 = open("/dev/iommu", O_RDWR);
	ASSERT_LE(0, fd2);
	populate_fd(_metadata, fd2, self->buf, 0);
	ASSERT_EQ(pin0 + (long)(BUF_LEN / 1024), vm_pin_kb());
	ASSERT_EQ(0, check_refs(self->fd, self->buf, BUF_LEN, 1));

	close(fd2);
	ASSERT_EQ(pin0, vm_pin_kb());
	ASSERT_EQ(0, check_refs(self->fd, self->buf, BUF_LEN, 0));
}

TEST_F(pasid, close_with_pasids_attached)
{
	long pin0 = vm_pin_kb();
	int fd2;

	/* as in device_destroy_with_pasids_attached */
	if (c_iommufd_loaded())
		SKIP(return, "the C mock leaks PASID attachments on close");

	ASSERT_LE(0, pin0);
	fd2 = open("/dev/iommu", O_RDWR);
	ASSERT_LE(0, fd2);
	populate_fd(_metadata, fd2, self->buf, 1);
	ASSERT_EQ(pin0 + (long)(BUF_LEN / 1024), vm_pin_kb());
	ASSERT_EQ(0, check_refs(self->fd, self->buf, BUF_LEN, 1));

	close(fd2);
	ASSERT_EQ(pin0, vm_pin_kb());
	ASSERT_EQ(0, check_refs(self->fd, self->buf, BUF_LEN, 0));
}

TEST_F(pasid, several_pasids_on_one_device)
{
	__u32 s2, s2b, parent, n0, n1;

	ASSERT_EQ(0, PAGING(IOMMU_HWPT_ALLOC_PASID, &s2));
	ASSERT_EQ(0, PAGING(IOMMU_HWPT_ALLOC_PASID, &s2b));
	ASSERT_EQ(0, PAGING(IOMMU_HWPT_ALLOC_NEST_PARENT, &parent));
	ASSERT_EQ(0, NESTED(parent, IOMMU_HWPT_ALLOC_PASID, &n0));
	ASSERT_EQ(0, NESTED(parent, IOMMU_HWPT_ALLOC_PASID, &n1));
	ASSERT_EQ(0, rid_replace(self->fd, self->stdev, s2));

	ASSERT_EQ(0, ATTACH(self->stdev, 1, s2));
	ASSERT_EQ(0, ATTACH(self->stdev, 100, s2b));
	ASSERT_EQ(0, ATTACH(self->stdev, 200, n0));
	ASSERT_EQ(0, ATTACH(self->stdev, 300, n1));
	ASSERT_EQ(0, ATTACH(self->stdev, PASID_MAX, s2));
	ASSERT_EQ(0, CHECK(self->stdev, 0, s2));
	ASSERT_EQ(0, CHECK(self->stdev, 1, s2));
	ASSERT_EQ(0, CHECK(self->stdev, 100, s2b));
	ASSERT_EQ(0, CHECK(self->stdev, 200, n0));
	ASSERT_EQ(0, CHECK(self->stdev, 300, n1));
	ASSERT_EQ(0, CHECK(self->stdev, PASID_MAX, s2));
	ASSERT_EQ(0, CHECK(self->stdev, 2, 0));

	/* one detach leaves the others alone */
	ASSERT_EQ(0, DETACH(self->stdev, 100));
	ASSERT_EQ(0, CHECK(self->stdev, 100, 0));
	ASSERT_EQ(0, CHECK(self->stdev, 1, s2));
	ASSERT_EQ(0, CHECK(self->stdev, 200, n0));
	ASSERT_EQ(0, CHECK(self->stdev, 300, n1));
	ASSERT_EQ(0, destroy(self->fd, s2b));

	/* two PASIDs on n1: it is held until both let go */
	ASSERT_EQ(0, REPLACE(self->stdev, 200, n1));
	ASSERT_EQ(0, CHECK(self->stdev, 200, n1));
	ASSERT_EQ(0, destroy(self->fd, n0));
	ASSERT_EQ(EBUSY, destroy(self->fd, n1));
	ASSERT_EQ(0, DETACH(self->stdev, 200));
	ASSERT_EQ(EBUSY, destroy(self->fd, n1));
	ASSERT_EQ(0, CHECK(self->stdev, 300, n1));
	ASSERT_EQ(0, DETACH(self->stdev, 300));
	ASSERT_EQ(0, destroy(self->fd, n1));

	ASSERT_EQ(0, DETACH(self->stdev, 1));
	ASSERT_EQ(0, CHECK(self->stdev, PASID_MAX, s2));
	ASSERT_EQ(0, DETACH(self->stdev, PASID_MAX));
	ASSERT_EQ(0, rid_replace(self->fd, self->stdev, self->ioas));
	ASSERT_EQ(0, destroy(self->fd, s2));
	ASSERT_EQ(0, destroy(self->fd, parent));
}

TEST_F(pasid, one_hwpt_on_many_pasids_and_devices)
{
	__u32 stdev2, idev2, s2, s2b, parent, n0;

	ASSERT_EQ(0, ADD_DEVICE(MOCK_FLAGS_DEVICE_PASID, &stdev2,
				&idev2));
	ASSERT_EQ(0, PAGING(IOMMU_HWPT_ALLOC_PASID, &s2));
	ASSERT_EQ(0, PAGING(IOMMU_HWPT_ALLOC_PASID, &s2b));
	ASSERT_EQ(0, PAGING(IOMMU_HWPT_ALLOC_NEST_PARENT, &parent));
	ASSERT_EQ(0, NESTED(parent, IOMMU_HWPT_ALLOC_PASID, &n0));
	/* one RID domain for all three devices */
	ASSERT_EQ(0, rid_replace(self->fd, self->stdev, s2));
	ASSERT_EQ(0, rid_replace(self->fd, stdev2, s2));
	ASSERT_EQ(0, rid_replace(self->fd, self->np_stdev, s2));

	ASSERT_EQ(0, ATTACH(self->stdev, 100, s2b));
	ASSERT_EQ(0, ATTACH(stdev2, 100, s2b));
	ASSERT_EQ(0, ATTACH(self->stdev, 200, s2b));
	ASSERT_EQ(0, ATTACH(stdev2, 300, n0));
	ASSERT_EQ(0, CHECK(self->stdev, 100, s2b));
	ASSERT_EQ(0, CHECK(stdev2, 100, s2b));
	ASSERT_EQ(0, CHECK(self->stdev, 200, s2b));
	ASSERT_EQ(0, CHECK(stdev2, 200, 0));
	ASSERT_EQ(0, CHECK(stdev2, 300, n0));
	ASSERT_EQ(0, CHECK(self->stdev, 300, 0));

	/* the devices are separate groups: one detach leaves the other */
	ASSERT_EQ(EBUSY, destroy(self->fd, s2b));
	ASSERT_EQ(0, DETACH(self->stdev, 100));
	ASSERT_EQ(0, CHECK(self->stdev, 100, 0));
	ASSERT_EQ(0, CHECK(stdev2, 100, s2b));
	ASSERT_EQ(0, CHECK(self->stdev, 200, s2b));
	ASSERT_EQ(0, DETACH(self->stdev, 200));
	ASSERT_EQ(EBUSY, destroy(self->fd, s2b));
	ASSERT_EQ(0, DETACH(stdev2, 100));
	ASSERT_EQ(0, destroy(self->fd, s2b));

	/* one PASID number, different domains on different devices */
	ASSERT_EQ(0, ATTACH(self->stdev, 300, s2));
	ASSERT_EQ(0, CHECK(self->stdev, 300, s2));
	ASSERT_EQ(0, CHECK(stdev2, 300, n0));
	ASSERT_EQ(0, DETACH(stdev2, 300));
	ASSERT_EQ(0, DETACH(self->stdev, 300));
	ASSERT_EQ(0, destroy(self->fd, n0));
	ASSERT_EQ(0, destroy(self->fd, parent));

	ASSERT_EQ(EBUSY, destroy(self->fd, s2));
	ASSERT_EQ(0, rid_replace(self->fd, self->np_stdev, self->ioas));
	ASSERT_EQ(0, rid_replace(self->fd, stdev2, self->ioas));
	ASSERT_EQ(0, rid_replace(self->fd, self->stdev, self->ioas));
	ASSERT_EQ(0, destroy(self->fd, s2));
}

TEST_F(pasid, domains_mirror_ioas_mappings)
{
	long pin0 = vm_pin_kb();
	__u32 before, after, parent, n0;
	char *half = self->buf + BUF_LEN / 2;
	const __u64 base2 = BASE + 2 * BUF_LEN;

	ASSERT_LE(0, pin0);
	ASSERT_EQ(0, PAGING(IOMMU_HWPT_ALLOC_PASID, &before));
	ASSERT_EQ(0, ioas_map(self->fd, self->ioas, self->buf, BUF_LEN, BASE));
	ASSERT_EQ(0, PAGING(IOMMU_HWPT_ALLOC_PASID, &after));
	ASSERT_EQ(0, PAGING(IOMMU_HWPT_ALLOC_NEST_PARENT, &parent));
	ASSERT_EQ(0, NESTED(parent, IOMMU_HWPT_ALLOC_PASID, &n0));

	/* every paging domain of the IOAS maps the user pages, once pinned */
	ASSERT_EQ(0, check_map(self->fd, self->auto_hwpt, BASE, BUF_LEN,
			       self->buf));
	ASSERT_EQ(0, check_map(self->fd, before, BASE, BUF_LEN, self->buf));
	ASSERT_EQ(0, check_map(self->fd, after, BASE, BUF_LEN, self->buf));
	ASSERT_EQ(0, check_map(self->fd, parent, BASE, BUF_LEN, self->buf));
	ASSERT_EQ(0, check_refs(self->fd, self->buf, BUF_LEN, 1));
	ASSERT_EQ(EIO, check_refs(self->fd, self->buf, BUF_LEN, 0));
	ASSERT_EQ(pin0 + (long)(BUF_LEN / 1024), vm_pin_kb());

	/* other pages, unmapped IOVA: a mismatch */
	ASSERT_EQ(EINVAL, check_map(self->fd, before, BASE, PSZ, half));
	ASSERT_EQ(EINVAL, check_map(self->fd, before, BASE + BUF_LEN, PSZ,
				    self->buf));
	ASSERT_EQ(0, check_map(self->fd, before, BASE + BUF_LEN / 2,
			       BUF_LEN / 2, half));
	/* only paging HWPTs of the mock have a page table to look at */
	ASSERT_EQ(ENOENT, check_map(self->fd, n0, BASE, PSZ, self->buf));
	ASSERT_EQ(ENOENT, check_map(self->fd, self->ioas, BASE, PSZ,
				    self->buf));

	/* attaching changes no content; new mappings reach attached domains */
	ASSERT_EQ(0, rid_replace(self->fd, self->stdev, before));
	ASSERT_EQ(0, ATTACH(self->stdev, 100, after));
	ASSERT_EQ(0, ATTACH(self->stdev, 200, n0));
	ASSERT_EQ(0, check_map(self->fd, after, BASE, BUF_LEN, self->buf));
	ASSERT_EQ(0, ioas_map(self->fd, self->ioas, half, BUF_LEN / 2, base2));
	ASSERT_EQ(0, check_map(self->fd, after, base2, BUF_LEN / 2, half));
	ASSERT_EQ(0, check_map(self->fd, before, base2, BUF_LEN / 2, half));
	ASSERT_EQ(0, check_map(self->fd, parent, base2, BUF_LEN / 2, half));
	ASSERT_EQ(0, check_map(self->fd, self->auto_hwpt, base2, BUF_LEN / 2,
			       half));
	/* a second mapping of the same pages pins and charges them again */
	ASSERT_EQ(0, check_refs(self->fd, self->buf, BUF_LEN / 2, 1));
	ASSERT_EQ(0, check_refs(self->fd, half, BUF_LEN / 2, 2));
	ASSERT_EQ(pin0 + (long)(3 * BUF_LEN / 2 / 1024), vm_pin_kb());

	/* unmapping empties every domain and unpins */
	ASSERT_EQ(0, ioas_unmap_all(self->fd, self->ioas));
	ASSERT_EQ(EINVAL, check_map(self->fd, self->auto_hwpt, BASE, PSZ,
				    self->buf));
	ASSERT_EQ(EINVAL, check_map(self->fd, before, BASE, PSZ, self->buf));
	ASSERT_EQ(EINVAL, check_map(self->fd, after, BASE, PSZ, self->buf));
	ASSERT_EQ(EINVAL, check_map(self->fd, parent, BASE, PSZ, self->buf));
	ASSERT_EQ(EINVAL, check_map(self->fd, after, base2, PSZ, half));
	ASSERT_EQ(0, check_refs(self->fd, self->buf, BUF_LEN, 0));
	ASSERT_EQ(pin0, vm_pin_kb());
	/* the attachments did not notice */
	ASSERT_EQ(0, CHECK(self->stdev, 100, after));
	ASSERT_EQ(0, CHECK(self->stdev, 200, n0));

	ASSERT_EQ(0, DETACH(self->stdev, 100));
	ASSERT_EQ(0, DETACH(self->stdev, 200));
	ASSERT_EQ(0, rid_replace(self->fd, self->stdev, self->ioas));
}

TEST_HARNESS_MAIN
