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
#define _GNU_SOURCE
#include <sys/mman.h>

/* The selftests' helpers: _test_*() return what ioctl() returned. */
#include "../selftests/iommufd_rs/iommufd_rs_util.h"

#define PASID 42

static int step(const char *what, int rc)
{
	if (rc)
		printf("  %-46s FAILED: %s\n", what, strerror(errno));
	else
		printf("  %-46s ok\n", what);
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

	if (step("bind a PASID-capable mock device, RID on the IOAS",
		 _test_cmd_mock_domain_flags(fd, ioas.out_ioas_id,
					     MOCK_FLAGS_DEVICE_PASID, &stdev,
					     &rid_hwpt, &idev)))
		return 1;
	printf("    -> device %u, RID on automatic HWPT %u\n", idev, rid_hwpt);

	hw.dev_id = idev;
	if (step("IOMMU_GET_HW_INFO", ioctl(fd, IOMMU_GET_HW_INFO, &hw)))
		return 1;
	printf("    -> type 0x%x, %u PASID bits\n", hw.out_data_type,
	       hw.out_max_pasid_log2);

	if (step("IOMMU_HWPT_ALLOC paging, ALLOC_PASID (A)",
		 _test_ioctl_hwpt_alloc(fd, idev, ioas.out_ioas_id,
					IOMMU_HWPT_ALLOC_PASID, &s2a,
					IOMMU_HWPT_DATA_NONE, NULL, 0)) ||
	    step("IOMMU_HWPT_ALLOC paging, ALLOC_PASID (B)",
		 _test_ioctl_hwpt_alloc(fd, idev, ioas.out_ioas_id,
					IOMMU_HWPT_ALLOC_PASID, &s2b,
					IOMMU_HWPT_DATA_NONE, NULL, 0)) ||
	    step("IOMMU_HWPT_ALLOC paging, no ALLOC_PASID",
		 _test_ioctl_hwpt_alloc(fd, idev, ioas.out_ioas_id, 0, &plain,
					IOMMU_HWPT_DATA_NONE, NULL, 0)))
		return 1;
	printf("    -> HWPTs %u and %u (PASID-compatible), %u (not)\n", s2a,
	       s2b, plain);

	if (step("HWPT A's page table maps the IOAS",
		 _test_cmd_check_map(fd, s2a, MOCK_APERTURE_START, map.length,
				     buf)))
		return 1;

	if (_test_cmd_pasid_attach(fd, stdev, PASID, s2a) != -1 ||
	    errno != EINVAL) {
		printf("  %-46s FAILED: expected EINVAL\n", "attach with the RID on auto");
		return 1;
	}
	printf("  %-46s EINVAL: RID not PASID-compatible\n", "PASID 42 attach to A");
	if (step("RID replace -> A",
		 _test_cmd_mock_domain_replace(fd, stdev, s2a)))
		return 1;

	if (_test_cmd_pasid_attach(fd, stdev, PASID, plain) != -1 ||
	    errno != EINVAL) {
		printf("  %-46s FAILED: expected EINVAL\n", "attach a non-PASID HWPT");
		return 1;
	}
	printf("  %-46s EINVAL, as upstream\n", "PASID attach of the non-PASID HWPT");
	if (step("PASID 42 attach to A",
		 _test_cmd_pasid_attach(fd, stdev, PASID, s2a)) ||
	    step("  the IOMMU core has A on PASID 42",
		 _test_cmd_pasid_check_hwpt(fd, stdev, PASID, s2a)))
		return 1;
	if (_test_cmd_pasid_attach(fd, stdev, PASID, s2b) != -1 ||
	    errno != EBUSY) {
		printf("  %-46s FAILED: expected EBUSY\n", "attach again");
		return 1;
	}
	printf("  %-46s EBUSY: use replace\n", "PASID 42 attach to B");
	if (step("PASID 42 replace A -> B",
		 _test_cmd_pasid_replace(fd, stdev, PASID, s2b)) ||
	    step("  the IOMMU core has B on PASID 42",
		 _test_cmd_pasid_check_hwpt(fd, stdev, PASID, s2b)) ||
	    step("PASID 42 detach",
		 _test_cmd_pasid_detach(fd, stdev, PASID)) ||
	    step("  PASID 42 is blocked", _test_cmd_pasid_check_hwpt(fd, stdev, PASID, 0)))
		return 1;

	close(fd);
	printf("closed: device, HWPTs and IOAS went with the file\ndone\n");
	return 0;
}
