// SPDX-License-Identifier: GPL-2.0
/*
 * PASID attach and replace on a mock device, the way a VMM would drive a
 * PASID-capable device: bind (here, the selftest's mock device), read the
 * PASID width, allocate PASID-compatible HWPTs on an IOAS, attach one to a
 * PASID, replace it with another, and detach. Each step is checked against
 * what the IOMMU core really has on the PASID (IOMMU_TEST_OP_PASID_CHECK_HWPT)
 * and against the mock domain's page table (IOMMU_TEST_OP_MD_CHECK_MAP).
 * Needs a kernel with CONFIG_IOMMUFD_TEST.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/iommufd.h>
#include "iommufd_test.h"

#define PSZ 4096UL
#define PASID 42

static int step(const char *what, int rc)
{
	if (rc)
		printf("  %-46s FAILED: %s\n", what, strerror(errno));
	else
		printf("  %-46s ok\n", what);
	return rc;
}

static int test_cmd(int fd, struct iommu_test_cmd *cmd, __u32 op)
{
	cmd->size = sizeof(*cmd);
	cmd->op = op;
	return ioctl(fd, _IO(IOMMUFD_TYPE, IOMMUFD_CMD_BASE + 32), cmd);
}

static int pasid_op(int fd, __u32 op, __u32 stdev, __u32 pasid, __u32 pt)
{
	struct iommu_test_cmd cmd = { .id = stdev };

	cmd.pasid_attach.pasid = pasid;
	cmd.pasid_attach.pt_id = pt;
	return test_cmd(fd, &cmd, op);
}

/* 0 if the IOMMU core has hwpt (0: nothing) on the PASID. */
static int check_hwpt(int fd, __u32 stdev, __u32 pasid, __u32 hwpt)
{
	struct iommu_test_cmd cmd = { .id = stdev };

	cmd.pasid_check.pasid = pasid;
	cmd.pasid_check.hwpt_id = hwpt;
	return test_cmd(fd, &cmd, IOMMU_TEST_OP_PASID_CHECK_HWPT);
}

static int hwpt_alloc(int fd, __u32 dev, __u32 pt, __u32 flags, __u32 *out)
{
	struct iommu_hwpt_alloc cmd = {
		.size = sizeof(cmd), .flags = flags, .dev_id = dev, .pt_id = pt,
	};
	int rc = ioctl(fd, IOMMU_HWPT_ALLOC, &cmd);

	*out = cmd.out_hwpt_id;
	return rc;
}

int main(void)
{
	struct iommu_ioas_alloc ioas = { .size = sizeof(ioas) };
	struct iommu_test_hw_info info;
	struct iommu_hw_info hw = {
		.size = sizeof(hw),
		.data_len = sizeof(info),
		.data_uptr = (uintptr_t)&info,
	};
	struct iommu_test_cmd cmd = {};
	struct iommu_ioas_map map = {
		.size = sizeof(map),
		.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
			 IOMMU_IOAS_MAP_WRITEABLE,
		.iova = MOCK_APERTURE_START,
		.length = 8 * PSZ,
	};
	__u32 stdev, idev, rid_hwpt, s2a, s2b, plain;
	void *buf;
	int fd;

	printf("iommufd PASID demo (mock IOMMU)\n");
	fd = open("/dev/iommu", O_RDWR);
	if (step("open /dev/iommu", fd < 0 ? -1 : 0))
		return 1;
	if (step("IOMMU_IOAS_ALLOC", ioctl(fd, IOMMU_IOAS_ALLOC, &ioas)))
		return 1;
	buf = mmap(NULL, map.length, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (buf == MAP_FAILED)
		return 1;
	map.ioas_id = ioas.out_ioas_id;
	map.user_va = (uintptr_t)buf;
	if (step("IOMMU_IOAS_MAP 8 pages", ioctl(fd, IOMMU_IOAS_MAP, &map)))
		return 1;

	cmd.id = ioas.out_ioas_id;
	cmd.mock_domain_flags.dev_flags = MOCK_FLAGS_DEVICE_PASID;
	if (step("bind a PASID-capable mock device, RID on the IOAS",
		 test_cmd(fd, &cmd, IOMMU_TEST_OP_MOCK_DOMAIN_FLAGS)))
		return 1;
	stdev = cmd.mock_domain_flags.out_stdev_id;
	idev = cmd.mock_domain_flags.out_idev_id;
	rid_hwpt = cmd.mock_domain_flags.out_hwpt_id;
	printf("    -> device %u, RID on automatic HWPT %u\n", idev, rid_hwpt);

	hw.dev_id = idev;
	if (step("IOMMU_GET_HW_INFO", ioctl(fd, IOMMU_GET_HW_INFO, &hw)))
		return 1;
	printf("    -> type 0x%x, %u PASID bits\n", hw.out_data_type,
	       hw.out_max_pasid_log2);

	if (step("IOMMU_HWPT_ALLOC paging, ALLOC_PASID (A)",
		 hwpt_alloc(fd, idev, ioas.out_ioas_id, IOMMU_HWPT_ALLOC_PASID,
			    &s2a)) ||
	    step("IOMMU_HWPT_ALLOC paging, ALLOC_PASID (B)",
		 hwpt_alloc(fd, idev, ioas.out_ioas_id, IOMMU_HWPT_ALLOC_PASID,
			    &s2b)) ||
	    step("IOMMU_HWPT_ALLOC paging, no ALLOC_PASID",
		 hwpt_alloc(fd, idev, ioas.out_ioas_id, 0, &plain)))
		return 1;
	printf("    -> HWPTs %u and %u (PASID-compatible), %u (not)\n", s2a,
	       s2b, plain);

	cmd = (struct iommu_test_cmd){ .id = s2a };
	cmd.check_map.iova = MOCK_APERTURE_START;
	cmd.check_map.length = map.length;
	cmd.check_map.uptr = (uintptr_t)buf;
	if (step("HWPT A's page table maps the IOAS",
		 test_cmd(fd, &cmd, IOMMU_TEST_OP_MD_CHECK_MAP)))
		return 1;

	if (pasid_op(fd, IOMMU_TEST_OP_PASID_ATTACH, stdev, PASID, s2a) != -1 ||
	    errno != EINVAL) {
		printf("  %-46s FAILED: expected EINVAL\n", "attach with the RID on auto");
		return 1;
	}
	printf("  %-46s EINVAL: RID not PASID-compatible\n", "PASID 42 attach to A");
	cmd = (struct iommu_test_cmd){ .id = stdev };
	cmd.mock_domain_replace.pt_id = s2a;
	if (step("RID replace -> A",
		 test_cmd(fd, &cmd, IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE)))
		return 1;

	if (pasid_op(fd, IOMMU_TEST_OP_PASID_ATTACH, stdev, PASID, plain) != -1 ||
	    errno != EINVAL) {
		printf("  %-46s FAILED: expected EINVAL\n", "attach a non-PASID HWPT");
		return 1;
	}
	printf("  %-46s EINVAL, as upstream\n", "PASID attach of the non-PASID HWPT");
	if (step("PASID 42 attach to A",
		 pasid_op(fd, IOMMU_TEST_OP_PASID_ATTACH, stdev, PASID, s2a)) ||
	    step("  the IOMMU core has A on PASID 42",
		 check_hwpt(fd, stdev, PASID, s2a)))
		return 1;
	if (pasid_op(fd, IOMMU_TEST_OP_PASID_ATTACH, stdev, PASID, s2b) != -1 ||
	    errno != EBUSY) {
		printf("  %-46s FAILED: expected EBUSY\n", "attach again");
		return 1;
	}
	printf("  %-46s EBUSY: use replace\n", "PASID 42 attach to B");
	if (step("PASID 42 replace A -> B",
		 pasid_op(fd, IOMMU_TEST_OP_PASID_REPLACE, stdev, PASID, s2b)) ||
	    step("  the IOMMU core has B on PASID 42",
		 check_hwpt(fd, stdev, PASID, s2b)) ||
	    step("PASID 42 detach",
		 pasid_op(fd, IOMMU_TEST_OP_PASID_DETACH, stdev, PASID, 0)) ||
	    step("  PASID 42 is blocked", check_hwpt(fd, stdev, PASID, 0)))
		return 1;

	close(fd);
	printf("closed: device, HWPTs and IOAS went with the file\ndone\n");
	return 0;
}
