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
#include <stddef.h>
#include <sys/mman.h>

#include "kselftest_harness.h"
#include "iommufd_rs_util.h"

#define BUF_PAGES 16
#define BUF_LEN (BUF_PAGES * PSZ)
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
	rc = _test_cmd_mock_domain_flags(fd, ioas, dev_flags, stdev, NULL,
					 idev);
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
/* A paging or nested HWPT for the PASID-capable device */
#define test_cmd_paging(flags, out) \
	test_cmd_hwpt_alloc(self->idev, self->ioas, flags, out)
#define test_err_paging(_errno, flags, out) \
	test_err_hwpt_alloc(_errno, self->idev, self->ioas, flags, out)
#define test_cmd_nested(parent, flags, out)                           \
	test_cmd_hwpt_alloc_data(self->idev, parent, flags, out,      \
				 IOMMU_HWPT_DATA_SELFTEST, &self->nest_data, \
				 sizeof(self->nest_data))
#define test_err_nested(_errno, parent, flags, out)                          \
	test_err_hwpt_alloc_data(_errno, self->idev, parent, flags, out,     \
				 IOMMU_HWPT_DATA_SELFTEST, &self->nest_data, \
				 sizeof(self->nest_data))

FIXTURE_SETUP(pasid)
{
	self->nest_data.iotlb = IOMMU_TEST_IOTLB_DEFAULT;
	self->fd = open("/dev/iommu", O_RDWR);
	ASSERT_LE(0, self->fd);
	test_ioctl_ioas_alloc(&self->ioas);
	test_cmd_mock_domain_flags(self->ioas, MOCK_FLAGS_DEVICE_PASID,
				   &self->stdev, &self->auto_hwpt, &self->idev);
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
			_test_cmd_pasid_detach(self->fd, self->devs.stdev[d],
					       used[i]);
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
	test_cmd_hw_info(&cmd, self->idev, &info, sizeof(info));
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
	test_cmd_hw_info(&cmd, self->np_idev, &info, sizeof(info));
	ASSERT_EQ(0, cmd.out_max_pasid_log2);
	ASSERT_EQ(IOMMU_HW_INFO_TYPE_SELFTEST, cmd.out_data_type);
	ASSERT_EQ(IOMMU_HW_INFO_SELFTEST_REGVAL, info.test_reg);
	ASSERT_EQ(mock_caps, cmd.out_capabilities);

	/* without dirty tracking, only the ATS bit is left */
	ASSERT_EQ(0,
		  ADD_DEVICE(MOCK_FLAGS_DEVICE_PASID | MOCK_FLAGS_DEVICE_NO_DIRTY,
			     &nd_stdev, &nd_idev));
	memset(&cmd, 0, sizeof(cmd));
	cmd.size = sizeof(cmd);
	test_cmd_hw_info(&cmd, nd_idev, NULL, 0);
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
	test_cmd_hw_info(&cmd, self->idev, &info, sizeof(info));
	ASSERT_EQ(IOMMU_HW_INFO_TYPE_SELFTEST, cmd.out_data_type);
	cmd.in_data_type = 0xffffffff;
	test_cmd_hw_info(&cmd, self->idev, &info, sizeof(info));
	ASSERT_EQ(IOMMU_HW_INFO_TYPE_SELFTEST, cmd.out_data_type);

	/* with it, the default and the mock's own type are accepted */
	cmd.flags = IOMMU_HW_INFO_FLAG_INPUT_TYPE;
	cmd.in_data_type = IOMMU_HW_INFO_TYPE_SELFTEST;
	test_cmd_hw_info(&cmd, self->idev, &info, sizeof(info));
	ASSERT_EQ(IOMMU_HW_INFO_TYPE_SELFTEST, cmd.out_data_type);
	ASSERT_EQ(MOCK_PASID_WIDTH, cmd.out_max_pasid_log2);
	cmd.in_data_type = IOMMU_HW_INFO_TYPE_DEFAULT;
	test_cmd_hw_info(&cmd, self->idev, &info, sizeof(info));
	ASSERT_EQ(IOMMU_HW_INFO_TYPE_SELFTEST, cmd.out_data_type);

	/* and a vendor type the mock is not is refused */
	cmd.in_data_type = IOMMU_HW_INFO_TYPE_INTEL_VTD;
	test_err_hw_info(EOPNOTSUPP, &cmd, self->idev, &info, sizeof(info));
	cmd.in_data_type = IOMMU_HW_INFO_TYPE_ARM_SMMUV3;
	test_err_hw_info(EOPNOTSUPP, &cmd, self->np_idev, &info, sizeof(info));

	/* unknown flags and reserved bytes */
	memset(&cmd, 0, sizeof(cmd));
	cmd.size = sizeof(cmd);
	cmd.flags = 1U << 1;
	test_err_hw_info(EOPNOTSUPP, &cmd, self->idev, &info, sizeof(info));
	cmd.flags = 0;
	cmd.__reserved[2] = 1;
	test_err_hw_info(EOPNOTSUPP, &cmd, self->idev, &info, sizeof(info));
	/* checked before the device is looked up */
	test_err_hw_info(EOPNOTSUPP, &cmd, NO_ID, &info, sizeof(info));
	cmd.__reserved[2] = 0;

	/* ids that are no bound device */
	for (i = 0; i < ARRAY_SIZE(never_bound); i++)
		test_err_hw_info(ENOENT, &cmd, never_bound[i], &info,
				 sizeof(info));
	test_err_hw_info(ENOENT, &cmd, self->ioas, &info, sizeof(info));
	test_err_hw_info(ENOENT, &cmd, self->stdev, &info, sizeof(info));
	test_err_hw_info(ENOENT, &cmd, self->auto_hwpt, &info, sizeof(info));

	/* the data pointer is only written through, and must be valid */
	test_err_hw_info(EFAULT, &cmd, self->idev, NULL, sizeof(info));
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
	test_cmd_hw_info(&cmd, self->idev, data, 4);
	ASSERT_EQ(sizeof(struct iommu_test_hw_info), cmd.data_len);
	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, data[i]);
	for (i = 4; i < sizeof(data); i++)
		ASSERT_EQ(0xa5, data[i]);

	/* a long one gets a zeroed tail */
	memset(data, 0xa5, sizeof(data));
	test_cmd_hw_info(&cmd, self->idev, data, sizeof(data));
	ASSERT_EQ(sizeof(struct iommu_test_hw_info), cmd.data_len);
	memcpy(&reg, data + 4, sizeof(reg));
	ASSERT_EQ(IOMMU_HW_INFO_SELFTEST_REGVAL, reg);
	for (i = 8; i < sizeof(data); i++)
		ASSERT_EQ(0, data[i]);

	/* none at all only asks for the length */
	test_cmd_hw_info(&cmd, self->idev, NULL, 0);
	ASSERT_EQ(sizeof(struct iommu_test_hw_info), cmd.data_len);
	ASSERT_EQ(MOCK_PASID_WIDTH, cmd.out_max_pasid_log2);

	/* a struct that ends with __reserved: all but out_capabilities */
	memset(&cmd, 0, sizeof(cmd));
	cmd.size = offsetof(struct iommu_hw_info, out_capabilities);
	cmd.out_capabilities = 0x5a5a;
	test_cmd_hw_info(&cmd, self->idev, NULL, 0);
	ASSERT_EQ(MOCK_PASID_WIDTH, cmd.out_max_pasid_log2);
	ASSERT_EQ(IOMMU_HW_INFO_TYPE_SELFTEST, cmd.out_data_type);
	ASSERT_EQ(0x5a5a, cmd.out_capabilities);
	cmd.size--;
	test_err_hw_info(EINVAL, &cmd, self->idev, NULL, 0);

	/* a longer struct with a zero tail works, a non-zero one does not */
	memset(&big, 0, sizeof(big));
	big.cmd.size = sizeof(big);
	test_cmd_hw_info(&big.cmd, self->idev, NULL, 0);
	ASSERT_EQ(MOCK_PASID_WIDTH, big.cmd.out_max_pasid_log2);
	ASSERT_EQ(0, big.tail);
	big.tail = 1;
	test_err_hw_info(E2BIG, &big.cmd, self->idev, NULL, 0);
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
		test_cmd_paging(flags, &id);
		test_ioctl_destroy(id);
		test_cmd_hwpt_alloc(self->np_idev, self->ioas, flags, &id);
		test_ioctl_destroy(id);
	}

	/* unknown bits */
	test_err_paging(EOPNOTSUPP, 1U << 4, &id);
	test_err_paging(EOPNOTSUPP, IOMMU_HWPT_ALLOC_PASID | 1U << 5, &id);
	test_err_paging(EOPNOTSUPP, 1U << 31, &id);
	/* a nesting parent takes no fault queue */
	test_err_paging(EOPNOTSUPP,
			IOMMU_HWPT_FAULT_ID_VALID | IOMMU_HWPT_ALLOC_NEST_PARENT,
			&id);
	/* a fault queue that does not exist */
	test_err_paging(ENOENT, IOMMU_HWPT_FAULT_ID_VALID, &id);

	/* dirty tracking needs a device that can do it */
	ASSERT_EQ(0,
		  ADD_DEVICE(MOCK_FLAGS_DEVICE_PASID | MOCK_FLAGS_DEVICE_NO_DIRTY,
			     &nd_stdev, &nd_idev));
	test_err_hwpt_alloc(EOPNOTSUPP, nd_idev, self->ioas,
			    IOMMU_HWPT_ALLOC_DIRTY_TRACKING, &id);
	test_cmd_hwpt_alloc(nd_idev, self->ioas,
			    IOMMU_HWPT_ALLOC_PASID | IOMMU_HWPT_ALLOC_NEST_PARENT,
			    &id);
	test_ioctl_destroy(id);

	/* reserved, then data type and length must agree */
	memset(&cmd, 0, sizeof(cmd));
	cmd.size = sizeof(cmd);
	cmd.dev_id = self->idev;
	cmd.pt_id = self->ioas;
	cmd.__reserved = 1;
	ASSERT_EQ(-1, ioctl(self->fd, IOMMU_HWPT_ALLOC, &cmd));
	ASSERT_EQ(EOPNOTSUPP, errno);
	test_err_hwpt_alloc_data(EINVAL, self->idev, self->ioas, 0, &id,
				 IOMMU_HWPT_DATA_NONE, &cfg, sizeof(cfg));
	test_err_hwpt_alloc_data(EINVAL, self->idev, self->ioas, 0, &id,
				 IOMMU_HWPT_DATA_SELFTEST, &cfg, 0);

	/* the mock takes its own data for a paging domain, no vendor's */
	test_cmd_hwpt_alloc_data(self->idev, self->ioas, IOMMU_HWPT_ALLOC_PASID,
				 &id, IOMMU_HWPT_DATA_SELFTEST, &cfg,
				 sizeof(cfg));
	test_ioctl_destroy(id);
	test_err_hwpt_alloc_data(EOPNOTSUPP, self->idev, self->ioas,
				 IOMMU_HWPT_ALLOC_PASID, &id,
				 IOMMU_HWPT_DATA_VTD_S1, vtd, sizeof(vtd));

	/* the device is looked up before the flags are looked at */
	test_err_hwpt_alloc(ENOENT, NO_ID, self->ioas, 1U << 4, &id);
	test_err_hwpt_alloc(ENOENT, self->ioas, self->ioas, 0, &id);
	test_err_hwpt_alloc(ENOENT, self->stdev, self->ioas, 0, &id);
	/* a pt_id that is no IOAS, HWPT or vIOMMU is EINVAL, even unknown */
	test_err_hwpt_alloc(EINVAL, self->idev, NO_ID, 0, &id);
	test_err_hwpt_alloc(EINVAL, self->idev, self->idev, 0, &id);
	test_err_hwpt_alloc(EINVAL, self->idev, self->stdev, 0, &id);
}

TEST_F(pasid, hwpt_alloc_nested)
{
	__u32 parent, pparent, plain, pplain, n0, n1, n2, id;
	__u8 vtd[24] = {};
	__u8 longer[16] = {};

	test_cmd_paging(IOMMU_HWPT_ALLOC_NEST_PARENT, &parent);
	test_cmd_paging(IOMMU_HWPT_ALLOC_NEST_PARENT | IOMMU_HWPT_ALLOC_PASID,
			&pparent);
	test_cmd_paging(0, &plain);
	test_cmd_paging(IOMMU_HWPT_ALLOC_PASID, &pplain);

	/* a nesting parent takes nested HWPTs with or without ALLOC_PASID */
	test_cmd_nested(parent, 0, &n0);
	test_cmd_nested(parent, IOMMU_HWPT_ALLOC_PASID, &n1);
	test_cmd_nested(pparent, IOMMU_HWPT_ALLOC_PASID, &n2);

	/* no other paging HWPT is a parent, whatever its flags */
	test_err_nested(EINVAL, plain, 0, &id);
	test_err_nested(EINVAL, pplain, IOMMU_HWPT_ALLOC_PASID, &id);
	test_err_nested(EINVAL, self->auto_hwpt, 0, &id);

	/* ALLOC_PASID is the only flag of a nested HWPT */
	test_err_nested(EOPNOTSUPP, parent, IOMMU_HWPT_ALLOC_NEST_PARENT, &id);
	test_err_nested(EOPNOTSUPP, parent, IOMMU_HWPT_ALLOC_DIRTY_TRACKING,
			&id);
	test_err_nested(EOPNOTSUPP, parent, IOMMU_HWPT_ALLOC_PASID | 1U << 4,
			&id);
	/* and flags are judged before the parent */
	test_err_nested(EOPNOTSUPP, plain, IOMMU_HWPT_ALLOC_NEST_PARENT, &id);

	/* nested data: present, of the mock's type, of a known length */
	test_err_hwpt_alloc(EOPNOTSUPP, self->idev, parent,
			    IOMMU_HWPT_ALLOC_PASID, &id);
	test_err_hwpt_alloc_data(EOPNOTSUPP, self->idev, parent,
				 IOMMU_HWPT_ALLOC_PASID, &id,
				 IOMMU_HWPT_DATA_VTD_S1, vtd, sizeof(vtd));
	test_err_hwpt_alloc_data(EINVAL, self->idev, parent, 0, &id,
				 IOMMU_HWPT_DATA_SELFTEST, &self->nest_data, 2);
	test_err_hwpt_alloc_data(EINVAL, self->idev, parent, 0, &id,
				 IOMMU_HWPT_DATA_SELFTEST, longer,
				 sizeof(longer));

	/* a nested HWPT is no parent */
	test_err_nested(EINVAL, n1, IOMMU_HWPT_ALLOC_PASID, &id);

	/* a parent lives as long as its nested HWPTs */
	test_err_destroy(EBUSY, parent);
	test_ioctl_destroy(n0);
	test_err_destroy(EBUSY, parent);
	test_ioctl_destroy(n1);
	test_ioctl_destroy(parent);
	test_ioctl_destroy(n2);
	test_ioctl_destroy(pparent);
	test_ioctl_destroy(plain);
	test_ioctl_destroy(pplain);
}

TEST_F(pasid, detach_of_unattached_pasid)
{
	__u32 s2;

	test_cmd_pasid_detach(self->stdev, 100);
	test_cmd_pasid_check_hwpt(self->stdev, 100, 0);
	test_err_pasid_check_hwpt(EINVAL, self->stdev, 100, self->auto_hwpt);
	test_cmd_pasid_detach(self->np_stdev, 100);
	test_cmd_pasid_detach(self->stdev, PASID_MAX + 1);

	/* detaching twice after an attach is as quiet */
	test_cmd_paging(IOMMU_HWPT_ALLOC_PASID, &s2);
	test_cmd_mock_domain_replace(self->stdev, s2);
	test_cmd_pasid_attach(self->stdev, 100, s2);
	test_cmd_pasid_detach(self->stdev, 100);
	test_cmd_pasid_detach(self->stdev, 100);
	test_cmd_pasid_check_hwpt(self->stdev, 100, 0);

	/* only a mock device object takes PASID commands */
	test_err_pasid_detach(ENOENT, NO_ID, 100);
	test_err_pasid_detach(ENOENT, self->idev, 100);
	test_err_pasid_check_hwpt(ENOENT, NO_ID, 100, 0);
	test_err_pasid_check_hwpt(ENOENT, self->stdev, 100, NO_ID);
	/* a known object that is no HWPT is another matter */
	test_err_pasid_check_hwpt(EINVAL, self->stdev, 100, self->ioas);
}

TEST_F(pasid, attach_needs_pasid_compat_hwpt)
{
	__u32 s2, plain, parent, n_compat, n_plain;

	test_cmd_paging(IOMMU_HWPT_ALLOC_PASID, &s2);
	test_cmd_paging(0, &plain);
	test_cmd_paging(IOMMU_HWPT_ALLOC_NEST_PARENT, &parent);
	test_cmd_nested(parent, IOMMU_HWPT_ALLOC_PASID, &n_compat);
	test_cmd_nested(parent, 0, &n_plain);
	test_cmd_mock_domain_replace(self->stdev, s2);

	/* without ALLOC_PASID a HWPT stays off PASIDs, which stay blocked */
	test_err_pasid_attach(EINVAL, self->stdev, 100, plain);
	test_err_pasid_attach(EINVAL, self->stdev, 100, parent);
	test_err_pasid_attach(EINVAL, self->stdev, 100, n_plain);
	test_cmd_pasid_check_hwpt(self->stdev, 100, 0);
	/* an IOAS would get an automatic domain, made without the flag */
	test_err_pasid_attach(EINVAL, self->stdev, 100, self->ioas);
	test_cmd_pasid_check_hwpt(self->stdev, 100, 0);
	/* a device is no page table; an unknown id is no object */
	test_err_pasid_attach(EINVAL, self->stdev, 100, self->idev);
	test_err_pasid_attach(ENOENT, self->stdev, 100, NO_ID);
	test_err_pasid_attach(ENOENT, NO_ID, 100, s2);
	test_cmd_pasid_check_hwpt(self->stdev, 100, 0);

	/* with the flag it attaches, paging or nested */
	test_cmd_pasid_attach(self->stdev, 100, s2);
	test_cmd_pasid_check_hwpt(self->stdev, 100, s2);
	test_err_pasid_check_hwpt(EINVAL, self->stdev, 100, 0);
	test_err_pasid_check_hwpt(EINVAL, self->stdev, 100, plain);
	test_cmd_pasid_check_hwpt(self->stdev, 101, 0);
	test_cmd_pasid_detach(self->stdev, 100);
	test_cmd_pasid_check_hwpt(self->stdev, 100, 0);

	test_cmd_pasid_attach(self->stdev, 100, n_compat);
	test_cmd_pasid_check_hwpt(self->stdev, 100, n_compat);
	test_cmd_pasid_detach(self->stdev, 100);
	test_cmd_pasid_check_hwpt(self->stdev, 100, 0);
}

TEST_F(pasid, attach_twice_is_busy)
{
	__u32 s2, s2b, plain, parent, n_compat;

	test_cmd_paging(IOMMU_HWPT_ALLOC_PASID, &s2);
	test_cmd_paging(IOMMU_HWPT_ALLOC_PASID, &s2b);
	test_cmd_paging(0, &plain);
	test_cmd_paging(IOMMU_HWPT_ALLOC_NEST_PARENT, &parent);
	test_cmd_nested(parent, IOMMU_HWPT_ALLOC_PASID, &n_compat);
	test_cmd_mock_domain_replace(self->stdev, s2);

	test_cmd_pasid_attach(self->stdev, 100, s2);
	/* attach never overwrites: same HWPT, another one, nested */
	test_err_pasid_attach(EBUSY, self->stdev, 100, s2);
	test_err_pasid_attach(EBUSY, self->stdev, 100, s2b);
	test_err_pasid_attach(EBUSY, self->stdev, 100, n_compat);
	/* being attached is found before compatibility is judged */
	test_err_pasid_attach(EBUSY, self->stdev, 100, plain);
	test_err_pasid_attach(EBUSY, self->stdev, 100, self->ioas);
	test_cmd_pasid_check_hwpt(self->stdev, 100, s2);

	/* the busy attempts took no reference on what they named */
	test_ioctl_destroy(s2b);
	test_ioctl_destroy(n_compat);
	test_ioctl_destroy(parent);
	test_ioctl_destroy(plain);

	/* the RID is PASID 0 of the same table: it is attached too */
	test_err_pasid_attach(EBUSY, self->stdev, 0, s2);
	test_cmd_pasid_check_hwpt(self->stdev, 0, s2);

	test_cmd_pasid_detach(self->stdev, 100);
	test_cmd_pasid_attach(self->stdev, 100, s2);
	test_cmd_pasid_check_hwpt(self->stdev, 100, s2);
	test_cmd_pasid_detach(self->stdev, 100);
}

TEST_F(pasid, rid_and_pasid_compat_interlock)
{
	__u32 s2, s2b, parent;

	test_cmd_paging(IOMMU_HWPT_ALLOC_PASID, &s2);
	test_cmd_paging(IOMMU_HWPT_ALLOC_PASID, &s2b);
	test_cmd_paging(IOMMU_HWPT_ALLOC_NEST_PARENT, &parent);

	/* the RID's automatic domain is not PASID compatible */
	test_cmd_pasid_check_hwpt(self->stdev, 0, self->auto_hwpt);
	test_err_pasid_attach(EINVAL, self->stdev, 100, s2);
	test_cmd_pasid_check_hwpt(self->stdev, 100, 0);
	/* neither is a parent allocated without the flag */
	test_cmd_mock_domain_replace(self->stdev, parent);
	test_err_pasid_attach(EINVAL, self->stdev, 100, s2);
	test_cmd_pasid_check_hwpt(self->stdev, 100, 0);

	/* the RID on a compatible domain; the PASID may use another one */
	test_cmd_mock_domain_replace(self->stdev, s2);
	test_cmd_pasid_attach(self->stdev, 100, s2b);
	test_cmd_pasid_check_hwpt(self->stdev, 100, s2b);

	/* with a PASID attached the RID cannot leave compatible domains */
	test_err_mock_domain_replace(EINVAL, self->stdev, parent);
	test_cmd_pasid_check_hwpt(self->stdev, 0, s2);
	test_err_mock_domain_replace(EINVAL, self->stdev, self->ioas);
	test_cmd_pasid_check_hwpt(self->stdev, 0, s2);
	test_cmd_mock_domain_replace(self->stdev, s2b);
	test_cmd_pasid_check_hwpt(self->stdev, 0, s2b);
	test_cmd_pasid_check_hwpt(self->stdev, 100, s2b);

	/* once it is detached the RID is free again */
	test_cmd_pasid_detach(self->stdev, 100);
	test_cmd_mock_domain_replace(self->stdev, parent);
	test_cmd_pasid_check_hwpt(self->stdev, 0, parent);
	/* the other device still holds the automatic domain: it is reused */
	test_cmd_mock_domain_replace(self->stdev, self->ioas);
	test_cmd_pasid_check_hwpt(self->stdev, 0, self->auto_hwpt);
	test_ioctl_destroy(s2);
	test_ioctl_destroy(s2b);
	test_ioctl_destroy(parent);
}

TEST_F(pasid, device_without_pasid_support)
{
	__u32 s2, parent;

	test_cmd_paging(IOMMU_HWPT_ALLOC_PASID, &s2);
	test_cmd_paging(IOMMU_HWPT_ALLOC_NEST_PARENT, &parent);

	test_err_pasid_attach(EINVAL, self->np_stdev, 100, s2);
	test_err_pasid_attach(EINVAL, self->np_stdev, 100, parent);

	/* a PASID-compatible domain still serves its RID */
	test_cmd_mock_domain_replace(self->np_stdev, s2);
	test_cmd_pasid_check_hwpt(self->np_stdev, 0, s2);
	/* but no PASID of it takes any domain */
	test_err_pasid_attach(EINVAL, self->np_stdev, 1, s2);
	test_err_pasid_attach(EINVAL, self->np_stdev, 100, s2);
	test_err_pasid_attach(EINVAL, self->np_stdev, PASID_MAX, s2);
	test_err_pasid_attach(EINVAL, self->np_stdev, 100, parent);
	test_cmd_pasid_check_hwpt(self->np_stdev, 1, 0);
	test_cmd_pasid_check_hwpt(self->np_stdev, 100, 0);
	test_err_pasid_replace(EINVAL, self->np_stdev, 100, s2);

	test_cmd_mock_domain_replace(self->np_stdev, self->ioas);
	test_ioctl_destroy(s2);
	test_ioctl_destroy(parent);
}

TEST_F(pasid, pasid_number_range)
{
	__u32 s2;

	test_cmd_paging(IOMMU_HWPT_ALLOC_PASID, &s2);
	test_cmd_mock_domain_replace(self->stdev, s2);

	test_cmd_pasid_attach(self->stdev, 1, s2);
	test_cmd_pasid_attach(self->stdev, PASID_MAX, s2);
	test_cmd_pasid_check_hwpt(self->stdev, 1, s2);
	test_cmd_pasid_check_hwpt(self->stdev, PASID_MAX, s2);

	/* the mock device has 20 PASID bits */
	test_err_pasid_attach(EINVAL, self->stdev, PASID_MAX + 1, s2);
	test_err_pasid_attach(EINVAL, self->stdev, 0xffffffff, s2);
	test_cmd_pasid_check_hwpt(self->stdev, PASID_MAX + 1, 0);
	test_err_pasid_replace(EINVAL, self->stdev, PASID_MAX + 1, s2);

	test_cmd_pasid_detach(self->stdev, 1);
	test_cmd_pasid_detach(self->stdev, PASID_MAX);
	test_cmd_pasid_check_hwpt(self->stdev, 1, 0);
	test_cmd_pasid_check_hwpt(self->stdev, PASID_MAX, 0);
	test_cmd_pasid_check_hwpt(self->stdev, 0, s2);
}

TEST_F(pasid, replace_rules)
{
	__u32 s2, plain, parent, n0, n1, n_plain;

	test_cmd_paging(IOMMU_HWPT_ALLOC_PASID, &s2);
	test_cmd_paging(0, &plain);
	test_cmd_paging(IOMMU_HWPT_ALLOC_NEST_PARENT, &parent);
	test_cmd_nested(parent, IOMMU_HWPT_ALLOC_PASID, &n0);
	test_cmd_nested(parent, IOMMU_HWPT_ALLOC_PASID, &n1);
	test_cmd_nested(parent, 0, &n_plain);
	test_cmd_mock_domain_replace(self->stdev, s2);

	/* replace needs an attached PASID */
	test_err_pasid_replace(EINVAL, self->stdev, 200, s2);
	test_cmd_pasid_check_hwpt(self->stdev, 200, 0);

	test_cmd_pasid_attach(self->stdev, 200, s2);
	/* what attach refuses, replace refuses, and the old domain stays */
	test_err_pasid_replace(EINVAL, self->stdev, 200, self->ioas);
	test_cmd_pasid_check_hwpt(self->stdev, 200, s2);
	test_err_pasid_replace(EINVAL, self->stdev, 200, plain);
	test_err_pasid_replace(EINVAL, self->stdev, 200, n_plain);
	test_err_pasid_replace(EINVAL, self->stdev, 200, self->idev);
	test_err_pasid_replace(ENOENT, self->stdev, 200, NO_ID);
	test_err_pasid_replace(ENOENT, NO_ID, 200, n0);
	test_cmd_pasid_check_hwpt(self->stdev, 200, s2);

	/* paging to nested, nested to nested, to itself, back to paging */
	test_cmd_pasid_replace(self->stdev, 200, n0);
	test_cmd_pasid_check_hwpt(self->stdev, 200, n0);
	test_cmd_pasid_replace(self->stdev, 200, n1);
	test_cmd_pasid_check_hwpt(self->stdev, 200, n1);
	test_cmd_pasid_replace(self->stdev, 200, n1);
	test_cmd_pasid_check_hwpt(self->stdev, 200, n1);
	/* the reference moved along: n0 is free, n1 is not */
	test_ioctl_destroy(n0);
	test_err_destroy(EBUSY, n1);
	test_cmd_pasid_replace(self->stdev, 200, s2);
	test_cmd_pasid_check_hwpt(self->stdev, 200, s2);
	test_ioctl_destroy(n1);

	test_cmd_pasid_detach(self->stdev, 200);
	test_cmd_pasid_check_hwpt(self->stdev, 200, 0);
	test_err_pasid_replace(EINVAL, self->stdev, 200, s2);
}

TEST_F(pasid, replace_failure_keeps_old_domain)
{
	__u32 s2, parent, n0, n1;

	test_cmd_paging(IOMMU_HWPT_ALLOC_PASID, &s2);
	test_cmd_paging(IOMMU_HWPT_ALLOC_NEST_PARENT, &parent);
	test_cmd_nested(parent, IOMMU_HWPT_ALLOC_PASID, &n0);
	test_cmd_nested(parent, IOMMU_HWPT_ALLOC_PASID, &n1);
	test_cmd_mock_domain_replace(self->stdev, s2);

	/*
	 * On PASID 1024 the mock driver fails the call after a successful
	 * attach with ENOMEM, once.
	 */
	test_cmd_pasid_attach(self->stdev, IOMMU_TEST_PASID_RESERVED, s2);
	test_cmd_pasid_check_hwpt(self->stdev, IOMMU_TEST_PASID_RESERVED, s2);
	/* a replace by the same HWPT does not reach the driver */
	test_cmd_pasid_replace(self->stdev, IOMMU_TEST_PASID_RESERVED, s2);
	test_err_pasid_replace(ENOMEM, self->stdev, IOMMU_TEST_PASID_RESERVED,
			       n0);
	test_cmd_pasid_check_hwpt(self->stdev, IOMMU_TEST_PASID_RESERVED, s2);
	/* the failed replace kept no reference on n0 */
	test_ioctl_destroy(n0);
	test_err_destroy(EBUSY, s2);

	/* the failure was spent: the next replace goes through */
	test_cmd_pasid_replace(self->stdev, IOMMU_TEST_PASID_RESERVED, n1);
	test_cmd_pasid_check_hwpt(self->stdev, IOMMU_TEST_PASID_RESERVED, n1);
	test_cmd_pasid_detach(self->stdev, IOMMU_TEST_PASID_RESERVED);
	test_cmd_pasid_check_hwpt(self->stdev, IOMMU_TEST_PASID_RESERVED, 0);

	/* a new attach arms it again */
	test_cmd_pasid_attach(self->stdev, IOMMU_TEST_PASID_RESERVED, s2);
	test_err_pasid_replace(ENOMEM, self->stdev, IOMMU_TEST_PASID_RESERVED,
			       n1);
	test_cmd_pasid_check_hwpt(self->stdev, IOMMU_TEST_PASID_RESERVED, s2);
	test_cmd_pasid_detach(self->stdev, IOMMU_TEST_PASID_RESERVED);
	test_cmd_pasid_check_hwpt(self->stdev, IOMMU_TEST_PASID_RESERVED, 0);
	test_ioctl_destroy(n1);
	test_ioctl_destroy(parent);
}

TEST_F(pasid, attached_hwpt_cannot_be_destroyed)
{
	__u32 s2, s2b, parent, n0;

	test_cmd_paging(IOMMU_HWPT_ALLOC_PASID, &s2);
	test_cmd_paging(IOMMU_HWPT_ALLOC_PASID, &s2b);
	test_cmd_paging(IOMMU_HWPT_ALLOC_NEST_PARENT, &parent);
	test_cmd_nested(parent, IOMMU_HWPT_ALLOC_PASID, &n0);
	test_cmd_mock_domain_replace(self->stdev, s2);
	test_cmd_pasid_attach(self->stdev, 100, s2b);
	test_cmd_pasid_attach(self->stdev, 200, n0);

	test_err_destroy(EBUSY, s2b);
	test_err_destroy(EBUSY, n0);
	test_err_destroy(EBUSY, parent);
	test_err_destroy(EBUSY, self->ioas);
	/* the bound device is held by its attachments and its mock owner */
	test_err_destroy(EBUSY, self->idev);
	/* nothing changed */
	test_cmd_pasid_check_hwpt(self->stdev, 100, s2b);
	test_cmd_pasid_check_hwpt(self->stdev, 200, n0);

	test_cmd_pasid_detach(self->stdev, 100);
	test_ioctl_destroy(s2b);
	test_cmd_pasid_detach(self->stdev, 200);
	test_ioctl_destroy(n0);
	test_ioctl_destroy(parent);
	/* the RID still holds s2 */
	test_err_destroy(EBUSY, s2);
	test_cmd_mock_domain_replace(self->stdev, self->ioas);
	test_ioctl_destroy(s2);
}

TEST_F(pasid, several_pasids_on_one_device)
{
	__u32 s2, s2b, parent, n0, n1;

	test_cmd_paging(IOMMU_HWPT_ALLOC_PASID, &s2);
	test_cmd_paging(IOMMU_HWPT_ALLOC_PASID, &s2b);
	test_cmd_paging(IOMMU_HWPT_ALLOC_NEST_PARENT, &parent);
	test_cmd_nested(parent, IOMMU_HWPT_ALLOC_PASID, &n0);
	test_cmd_nested(parent, IOMMU_HWPT_ALLOC_PASID, &n1);
	test_cmd_mock_domain_replace(self->stdev, s2);

	test_cmd_pasid_attach(self->stdev, 1, s2);
	test_cmd_pasid_attach(self->stdev, 100, s2b);
	test_cmd_pasid_attach(self->stdev, 200, n0);
	test_cmd_pasid_attach(self->stdev, 300, n1);
	test_cmd_pasid_attach(self->stdev, PASID_MAX, s2);
	test_cmd_pasid_check_hwpt(self->stdev, 0, s2);
	test_cmd_pasid_check_hwpt(self->stdev, 1, s2);
	test_cmd_pasid_check_hwpt(self->stdev, 100, s2b);
	test_cmd_pasid_check_hwpt(self->stdev, 200, n0);
	test_cmd_pasid_check_hwpt(self->stdev, 300, n1);
	test_cmd_pasid_check_hwpt(self->stdev, PASID_MAX, s2);
	test_cmd_pasid_check_hwpt(self->stdev, 2, 0);

	/* one detach leaves the others alone */
	test_cmd_pasid_detach(self->stdev, 100);
	test_cmd_pasid_check_hwpt(self->stdev, 100, 0);
	test_cmd_pasid_check_hwpt(self->stdev, 1, s2);
	test_cmd_pasid_check_hwpt(self->stdev, 200, n0);
	test_cmd_pasid_check_hwpt(self->stdev, 300, n1);
	test_ioctl_destroy(s2b);

	/* two PASIDs on n1: it is held until both let go */
	test_cmd_pasid_replace(self->stdev, 200, n1);
	test_cmd_pasid_check_hwpt(self->stdev, 200, n1);
	test_ioctl_destroy(n0);
	test_err_destroy(EBUSY, n1);
	test_cmd_pasid_detach(self->stdev, 200);
	test_err_destroy(EBUSY, n1);
	test_cmd_pasid_check_hwpt(self->stdev, 300, n1);
	test_cmd_pasid_detach(self->stdev, 300);
	test_ioctl_destroy(n1);

	test_cmd_pasid_detach(self->stdev, 1);
	test_cmd_pasid_check_hwpt(self->stdev, PASID_MAX, s2);
	test_cmd_pasid_detach(self->stdev, PASID_MAX);
	test_cmd_mock_domain_replace(self->stdev, self->ioas);
	test_ioctl_destroy(s2);
	test_ioctl_destroy(parent);
}

TEST_F(pasid, one_hwpt_on_many_pasids_and_devices)
{
	__u32 stdev2, idev2, s2, s2b, parent, n0;

	ASSERT_EQ(0, ADD_DEVICE(MOCK_FLAGS_DEVICE_PASID, &stdev2, &idev2));
	test_cmd_paging(IOMMU_HWPT_ALLOC_PASID, &s2);
	test_cmd_paging(IOMMU_HWPT_ALLOC_PASID, &s2b);
	test_cmd_paging(IOMMU_HWPT_ALLOC_NEST_PARENT, &parent);
	test_cmd_nested(parent, IOMMU_HWPT_ALLOC_PASID, &n0);
	/* one RID domain for all three devices */
	test_cmd_mock_domain_replace(self->stdev, s2);
	test_cmd_mock_domain_replace(stdev2, s2);
	test_cmd_mock_domain_replace(self->np_stdev, s2);

	test_cmd_pasid_attach(self->stdev, 100, s2b);
	test_cmd_pasid_attach(stdev2, 100, s2b);
	test_cmd_pasid_attach(self->stdev, 200, s2b);
	test_cmd_pasid_attach(stdev2, 300, n0);
	test_cmd_pasid_check_hwpt(self->stdev, 100, s2b);
	test_cmd_pasid_check_hwpt(stdev2, 100, s2b);
	test_cmd_pasid_check_hwpt(self->stdev, 200, s2b);
	test_cmd_pasid_check_hwpt(stdev2, 200, 0);
	test_cmd_pasid_check_hwpt(stdev2, 300, n0);
	test_cmd_pasid_check_hwpt(self->stdev, 300, 0);

	/* the devices are separate groups: one detach leaves the other */
	test_err_destroy(EBUSY, s2b);
	test_cmd_pasid_detach(self->stdev, 100);
	test_cmd_pasid_check_hwpt(self->stdev, 100, 0);
	test_cmd_pasid_check_hwpt(stdev2, 100, s2b);
	test_cmd_pasid_check_hwpt(self->stdev, 200, s2b);
	test_cmd_pasid_detach(self->stdev, 200);
	test_err_destroy(EBUSY, s2b);
	test_cmd_pasid_detach(stdev2, 100);
	test_ioctl_destroy(s2b);

	/* one PASID number, different domains on different devices */
	test_cmd_pasid_attach(self->stdev, 300, s2);
	test_cmd_pasid_check_hwpt(self->stdev, 300, s2);
	test_cmd_pasid_check_hwpt(stdev2, 300, n0);
	test_cmd_pasid_detach(stdev2, 300);
	test_cmd_pasid_detach(self->stdev, 300);
	test_ioctl_destroy(n0);
	test_ioctl_destroy(parent);

	test_err_destroy(EBUSY, s2);
	test_cmd_mock_domain_replace(self->np_stdev, self->ioas);
	test_cmd_mock_domain_replace(stdev2, self->ioas);
	test_cmd_mock_domain_replace(self->stdev, self->ioas);
	test_ioctl_destroy(s2);
}

TEST_F(pasid, domains_mirror_ioas_mappings)
{
	long pin0 = vm_pin_kb();
	__u32 before, after, parent, n0;
	char *half = self->buf + BUF_LEN / 2;
	const __u64 base2 = BASE + 2 * BUF_LEN;

	ASSERT_LE(0, pin0);
	test_cmd_paging(IOMMU_HWPT_ALLOC_PASID, &before);
	test_ioctl_ioas_map_fixed(self->buf, BUF_LEN, BASE);
	test_cmd_paging(IOMMU_HWPT_ALLOC_PASID, &after);
	test_cmd_paging(IOMMU_HWPT_ALLOC_NEST_PARENT, &parent);
	test_cmd_nested(parent, IOMMU_HWPT_ALLOC_PASID, &n0);

	/* every paging domain of the IOAS maps the user pages, once pinned */
	test_cmd_check_map(self->auto_hwpt, BASE, BUF_LEN, self->buf);
	test_cmd_check_map(before, BASE, BUF_LEN, self->buf);
	test_cmd_check_map(after, BASE, BUF_LEN, self->buf);
	test_cmd_check_map(parent, BASE, BUF_LEN, self->buf);
	check_refs(self->buf, BUF_LEN, 1);
	EXPECT_ERRNO(EIO,
		     _test_cmd_check_refs(self->fd, self->buf, BUF_LEN, 0));
	ASSERT_EQ(pin0 + (long)(BUF_LEN / 1024), vm_pin_kb());

	/* other pages, unmapped IOVA: a mismatch */
	test_err_check_map(EINVAL, before, BASE, PSZ, half);
	test_err_check_map(EINVAL, before, BASE + BUF_LEN, PSZ, self->buf);
	test_cmd_check_map(before, BASE + BUF_LEN / 2, BUF_LEN / 2, half);
	/* only paging HWPTs of the mock have a page table to look at */
	test_err_check_map(ENOENT, n0, BASE, PSZ, self->buf);
	test_err_check_map(ENOENT, self->ioas, BASE, PSZ, self->buf);

	/* attaching changes no content; new mappings reach attached domains */
	test_cmd_mock_domain_replace(self->stdev, before);
	test_cmd_pasid_attach(self->stdev, 100, after);
	test_cmd_pasid_attach(self->stdev, 200, n0);
	test_cmd_check_map(after, BASE, BUF_LEN, self->buf);
	test_ioctl_ioas_map_fixed(half, BUF_LEN / 2, base2);
	test_cmd_check_map(after, base2, BUF_LEN / 2, half);
	test_cmd_check_map(before, base2, BUF_LEN / 2, half);
	test_cmd_check_map(parent, base2, BUF_LEN / 2, half);
	test_cmd_check_map(self->auto_hwpt, base2, BUF_LEN / 2, half);
	/* a second mapping of the same pages pins and charges them again */
	check_refs(self->buf, BUF_LEN / 2, 1);
	check_refs(half, BUF_LEN / 2, 2);
	ASSERT_EQ(pin0 + (long)(3 * BUF_LEN / 2 / 1024), vm_pin_kb());

	/* unmapping empties every domain and unpins */
	test_ioctl_ioas_unmap_all(self->ioas);
	test_err_check_map(EINVAL, self->auto_hwpt, BASE, PSZ, self->buf);
	test_err_check_map(EINVAL, before, BASE, PSZ, self->buf);
	test_err_check_map(EINVAL, after, BASE, PSZ, self->buf);
	test_err_check_map(EINVAL, parent, BASE, PSZ, self->buf);
	test_err_check_map(EINVAL, after, base2, PSZ, half);
	check_refs(self->buf, BUF_LEN, 0);
	ASSERT_EQ(pin0, vm_pin_kb());
	/* the attachments did not notice */
	test_cmd_pasid_check_hwpt(self->stdev, 100, after);
	test_cmd_pasid_check_hwpt(self->stdev, 200, n0);

	test_cmd_pasid_detach(self->stdev, 100);
	test_cmd_pasid_detach(self->stdev, 200);
	test_cmd_mock_domain_replace(self->stdev, self->ioas);
}

/*
 * Unbinding a device: destroying its mock device object or closing its file.
 * Its PASIDs are detached first, or still attached, which the unbind must
 * then undo. The C mock device unbinds without detaching them: the
 * attachments leak and the kernel warns, so that case is for ours only.
 */
FIXTURE(pasid_unbind)
{
	int fd;
	__u32 ioas;
	/* a device that outlives the one unbound */
	__u32 stdev, idev;
	/* the one unbound, until it is */
	__u32 stdev2;
	char *buf;
};

FIXTURE_VARIANT(pasid_unbind)
{
	bool attached;
};

FIXTURE_VARIANT_ADD(pasid_unbind, pasids_detached)
{
	.attached = false,
};

FIXTURE_VARIANT_ADD(pasid_unbind, pasids_attached)
{
	.attached = true,
};

FIXTURE_SETUP(pasid_unbind)
{
	if (variant->attached && c_iommufd_loaded())
		SKIP(return, "the C mock leaks PASID attachments on unbind");
	self->fd = open("/dev/iommu", O_RDWR);
	ASSERT_LE(0, self->fd);
	test_ioctl_ioas_alloc(&self->ioas);
	test_cmd_mock_domain_flags(self->ioas, MOCK_FLAGS_DEVICE_PASID,
				   &self->stdev, NULL, &self->idev);
	self->buf = mmap(NULL, BUF_LEN, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	ASSERT_NE(MAP_FAILED, self->buf);
}

FIXTURE_TEARDOWN(pasid_unbind)
{
	static const __u32 used[] = { 100, 200, PASID_MAX };
	size_t i;

	/* as in the pasid fixture: a failed test leaves no PASID behind */
	for (i = 0; i < ARRAY_SIZE(used); i++) {
		_test_cmd_pasid_detach(self->fd, self->stdev, used[i]);
		if (self->stdev2)
			_test_cmd_pasid_detach(self->fd, self->stdev2, used[i]);
	}
	close(self->fd);
	munmap(self->buf, BUF_LEN);
}

TEST_F(pasid_unbind, device_destroy)
{
	struct iommu_hwpt_selftest nest_data = {
		.iotlb = IOMMU_TEST_IOTLB_DEFAULT,
	};
	struct iommu_hw_info info = { .size = sizeof(info) };
	__u32 stdev2, idev2, s2, parent, n0;

	test_cmd_mock_domain_flags(self->ioas, MOCK_FLAGS_DEVICE_PASID,
				   &self->stdev2, NULL, &idev2);
	stdev2 = self->stdev2;
	test_cmd_hwpt_alloc(idev2, self->ioas,
			    IOMMU_HWPT_ALLOC_PASID | IOMMU_HWPT_ALLOC_NEST_PARENT,
			    &s2);
	test_cmd_hwpt_alloc(idev2, self->ioas, IOMMU_HWPT_ALLOC_NEST_PARENT,
			    &parent);
	test_cmd_hwpt_alloc_data(idev2, s2, IOMMU_HWPT_ALLOC_PASID, &n0,
				 IOMMU_HWPT_DATA_SELFTEST, &nest_data,
				 sizeof(nest_data));
	test_cmd_mock_domain_replace(stdev2, s2);
	test_cmd_pasid_attach(stdev2, 100, s2);
	test_cmd_pasid_attach(stdev2, 200, n0);
	/* the bound device is held by its mock owner, n0 by the PASID */
	test_err_destroy(EBUSY, idev2);
	test_err_destroy(EBUSY, n0);

	if (!variant->attached) {
		test_cmd_pasid_detach(stdev2, 100);
		test_cmd_pasid_detach(stdev2, 200);
	}
	test_ioctl_destroy(stdev2);
	self->stdev2 = 0;
	/* the device and its ids are gone, the HWPTs made for it are not */
	test_err_hw_info(ENOENT, &info, idev2, NULL, 0);
	test_err_pasid_attach(ENOENT, stdev2, 100, s2);
	test_err_pasid_check_hwpt(ENOENT, stdev2, 100, 0);
	test_err_destroy(ENOENT, idev2);
	/* another device can use them */
	test_cmd_mock_domain_replace(self->stdev, s2);
	test_cmd_pasid_attach(self->stdev, 100, n0);
	test_cmd_pasid_check_hwpt(self->stdev, 100, n0);
	test_cmd_pasid_detach(self->stdev, 100);
	test_cmd_mock_domain_replace(self->stdev, self->ioas);
	test_ioctl_destroy(n0);
	test_ioctl_destroy(s2);
	test_ioctl_destroy(parent);
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
	__u64 iova = BASE;

	ASSERT_EQ(0, _test_ioctl_ioas_alloc(fd, &ioas));
	ASSERT_EQ(0,
		  _test_cmd_mock_domain_flags(fd, ioas, MOCK_FLAGS_DEVICE_PASID,
					      &stdev, NULL, &idev));
	ASSERT_EQ(0,
		  _test_ioctl_ioas_map(fd, ioas, buf, BUF_LEN, &iova,
				       MAP_FIXED_RW));
	ASSERT_EQ(0,
		  _test_ioctl_hwpt_alloc(fd, idev, ioas,
					 IOMMU_HWPT_ALLOC_PASID | IOMMU_HWPT_ALLOC_NEST_PARENT,
					 &s2, IOMMU_HWPT_DATA_NONE, NULL, 0));
	ASSERT_EQ(0,
		  _test_ioctl_hwpt_alloc(fd, idev, s2, IOMMU_HWPT_ALLOC_PASID,
					 &n0, IOMMU_HWPT_DATA_SELFTEST,
					 &nest_data, sizeof(nest_data)));
	ASSERT_EQ(0,
		  _test_ioctl_hwpt_alloc(fd, idev, s2, IOMMU_HWPT_ALLOC_PASID,
					 &n1, IOMMU_HWPT_DATA_SELFTEST,
					 &nest_data, sizeof(nest_data)));
	ASSERT_EQ(0, _test_cmd_mock_domain_replace(fd, stdev, s2));
	ASSERT_EQ(0, _test_cmd_check_map(fd, s2, BASE, BUF_LEN, buf));
	if (with_pasids) {
		ASSERT_EQ(0, _test_cmd_pasid_attach(fd, stdev, 100, n0));
		ASSERT_EQ(0, _test_cmd_pasid_attach(fd, stdev, 200, n1));
		ASSERT_EQ(0, _test_cmd_pasid_attach(fd, stdev, PASID_MAX, s2));
	}
}

TEST_F(pasid_unbind, close_releases_pins)
{
	long pin0 = vm_pin_kb();
	int fd2;

	ASSERT_LE(0, pin0);
	check_refs(self->buf, BUF_LEN, 0);
	fd2 = open("/dev/iommu", O_RDWR);
	ASSERT_LE(0, fd2);
	populate_fd(_metadata, fd2, self->buf, variant->attached);
	ASSERT_EQ(pin0 + (long)(BUF_LEN / 1024), vm_pin_kb());
	check_refs(self->buf, BUF_LEN, 1);

	close(fd2);
	ASSERT_EQ(pin0, vm_pin_kb());
	check_refs(self->buf, BUF_LEN, 0);
}

/*
 * A fault queue has a user in its open fd and one in each HWPT made with
 * it, as upstream: IOMMU_DESTROY of it is EBUSY until all are gone, in
 * whichever order they go.
 */
TEST_F(pasid, fault_users)
{
	__u32 fault_id, parent, hwpt;
	int ffd;

	test_cmd_paging(IOMMU_HWPT_ALLOC_NEST_PARENT, &parent);

	/* a nested HWPT: the fd goes first, then the HWPT */
	test_ioctl_fault_alloc(&fault_id, &ffd);
	ASSERT_EQ(0, hwpt_alloc_fault(self->fd, self->idev, parent, fault_id,
				      &hwpt, IOMMU_HWPT_DATA_SELFTEST,
				      &self->nest_data,
				      sizeof(self->nest_data)));
	test_err_destroy(EBUSY, fault_id);
	ASSERT_EQ(0, close(ffd));
	test_err_destroy(EBUSY, fault_id);
	test_ioctl_destroy(hwpt);
	test_ioctl_destroy(fault_id);

	/* a paging HWPT: the HWPT goes first, then the fd */
	test_ioctl_fault_alloc(&fault_id, &ffd);
	ASSERT_EQ(0, hwpt_alloc_fault(self->fd, self->idev, self->ioas,
				      fault_id, &hwpt, IOMMU_HWPT_DATA_NONE,
				      NULL, 0));
	test_err_destroy(EBUSY, fault_id);
	test_ioctl_destroy(hwpt);
	test_err_destroy(EBUSY, fault_id);
	ASSERT_EQ(0, close(ffd));
	test_ioctl_destroy(fault_id);

	/* a HWPT that fails to be made keeps no user of it */
	test_ioctl_fault_alloc(&fault_id, &ffd);
	ASSERT_EQ(0, close(ffd));
	EXPECT_ERRNO(EOPNOTSUPP,
		     hwpt_alloc_fault(self->fd, self->idev, parent, fault_id,
				      &hwpt, IOMMU_HWPT_DATA_NONE, NULL, 0));
	test_ioctl_destroy(fault_id);
	test_ioctl_destroy(parent);
}

/*
 * Closing /dev/iommu with a fault fd open releases nothing: the context,
 * its pins and its attached HWPT live until the fault fd is closed too, and
 * a fault raised before can still be read. Left unanswered, it is answered
 * as the context goes.
 */
TEST_F(pasid, fault_fd_keeps_context)
{
	__u32 ioas, stdev, idev, parent, hwpt, fault_id;
	struct iommu_test_cmd trigger = {
		.op = IOMMU_TEST_OP_TRIGGER_IOPF,
		.trigger_iopf = {
			.pasid = 0,
			.grpid = 0x2,
			.perm = IOMMU_PGFAULT_PERM_READ |
				IOMMU_PGFAULT_PERM_WRITE,
			.addr = 0xdeadbeef,
		},
	};
	struct iommu_hwpt_pgfault msg;
	long pin0 = vm_pin_kb();
	__u64 iova = BASE;
	int fd, ffd;

	ASSERT_LE(0, pin0);
	fd = open("/dev/iommu", O_RDWR);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, _test_ioctl_ioas_alloc(fd, &ioas));
	ASSERT_EQ(0, _test_cmd_mock_domain_flags(fd, ioas, 0, &stdev, NULL,
						 &idev));
	ASSERT_EQ(0, _test_ioctl_ioas_map(fd, ioas, self->buf, BUF_LEN, &iova,
					  MAP_FIXED_RW));
	ASSERT_EQ(pin0 + (long)(BUF_LEN / 1024), vm_pin_kb());
	ASSERT_EQ(0, _test_ioctl_fault_alloc(fd, &fault_id, &ffd));
	ASSERT_EQ(0, _test_ioctl_hwpt_alloc(fd, idev, ioas,
					    IOMMU_HWPT_ALLOC_NEST_PARENT,
					    &parent, IOMMU_HWPT_DATA_NONE,
					    NULL, 0));
	ASSERT_EQ(0, hwpt_alloc_fault(fd, idev, parent, fault_id, &hwpt,
				      IOMMU_HWPT_DATA_SELFTEST,
				      &self->nest_data,
				      sizeof(self->nest_data)));
	ASSERT_EQ(0, _test_cmd_mock_domain_replace(fd, stdev, hwpt));
	trigger.trigger_iopf.dev_id = idev;
	ASSERT_EQ(0, _test_cmd(fd, &trigger));

	ASSERT_EQ(0, close(fd));
	ASSERT_EQ(pin0 + (long)(BUF_LEN / 1024), vm_pin_kb());
	check_refs(self->buf, BUF_LEN, 1);
	ASSERT_EQ(sizeof(msg), read(ffd, &msg, sizeof(msg)));
	ASSERT_EQ(idev, msg.dev_id);
	ASSERT_EQ(0xdeadbeef & ~(PSZ - 1), msg.addr & ~(PSZ - 1));

	ASSERT_EQ(0, close(ffd));
	ASSERT_EQ(pin0, vm_pin_kb());
	check_refs(self->buf, BUF_LEN, 0);
}

TEST_HARNESS_MAIN
