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
#include <sys/mman.h>

#include "kselftest_harness.h"
#include "iommufd_rs_util.h"

#define BUF_LEN (8 * PSZ)
#define PASID 100

/* What a step does, for the errnos its failure may give */
enum {
	MAKES_DEVICE = 1 << 0,
	PINS = 1 << 1,
	LOOKS_UP_PT = 1 << 2,
};

struct flow {
	char *buf;
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
static int run_flow(void *arg)
{
	struct flow *f = arg;
	char *buf = f->buf;
	struct iommu_hwpt_selftest nest_data = {
		.iotlb = IOMMU_TEST_IOTLB_DEFAULT,
	};
	__u32 ioas, idev, s2, n;
	__u64 iova = BASE;
	int fd;

	f->step = "open";
	f->kind = 0;
	fd = open("/dev/iommu", O_RDWR);
	f->fd = fd;
	if (fd < 0)
		return -1;
	if (at(f, "IOAS_ALLOC", 0) || _test_ioctl_ioas_alloc(fd, &ioas))
		return -1;
	if (at(f, "IOAS_MAP", PINS) ||
	    _test_ioctl_ioas_map(fd, ioas, buf, BUF_LEN, &iova, MAP_FIXED_RW))
		return -1;
	if (at(f, "MOCK_DOMAIN_FLAGS", MAKES_DEVICE | PINS) ||
	    _test_cmd_mock_domain_flags(fd, ioas, MOCK_FLAGS_DEVICE_PASID,
					&f->stdev, NULL, &idev))
		return -1;

	if (at(f, "HWPT_ALLOC paging", LOOKS_UP_PT | PINS) ||
	    _test_ioctl_hwpt_alloc(fd, idev, ioas, IOMMU_HWPT_ALLOC_PASID |
				   IOMMU_HWPT_ALLOC_NEST_PARENT, &s2,
				   IOMMU_HWPT_DATA_NONE, NULL, 0))
		return -1;
	if (at(f, "HWPT_ALLOC nested", LOOKS_UP_PT) ||
	    _test_ioctl_hwpt_alloc(fd, idev, s2, IOMMU_HWPT_ALLOC_PASID, &n,
				   IOMMU_HWPT_DATA_SELFTEST, &nest_data,
				   sizeof(nest_data)))
		return -1;

	/* a PASID needs the RID on a PASID-compatible domain first */
	if (at(f, "MOCK_DOMAIN_REPLACE s2", 0) ||
	    _test_cmd_mock_domain_replace(fd, f->stdev, s2))
		return -1;
	if (at(f, "PASID_ATTACH", 0) ||
	    _test_cmd_pasid_attach(fd, f->stdev, PASID, s2))
		return -1;
	if (at(f, "PASID_REPLACE", 0) ||
	    _test_cmd_pasid_replace(fd, f->stdev, PASID, n))
		return -1;
	if (at(f, "PASID_DETACH", 0) ||
	    _test_cmd_pasid_detach(fd, f->stdev, PASID))
		return -1;
	/* back to an automatic domain, made afresh */
	if (at(f, "MOCK_DOMAIN_REPLACE ioas", PINS) ||
	    _test_cmd_mock_domain_replace(fd, f->stdev, ioas))
		return -1;

	if (at(f, "DESTROY nested", 0) || _test_ioctl_destroy(fd, n))
		return -1;
	if (at(f, "DESTROY paging", 0) || _test_ioctl_destroy(fd, s2))
		return -1;
	if (at(f, "DESTROY device", 0) || _test_ioctl_destroy(fd, f->stdev))
		return -1;
	f->stdev = 0;
	if (at(f, "DESTROY ioas", 0) || _test_ioctl_destroy(fd, ioas))
		return -1;
	return 0;
}

TEST(pasid_paths_under_fault_injection)
{
	int injected = 0, failed = 0, not_enomem = 0, nth, nthfd, checkfd;
	/* C's iommufd.ko, not ours, is the module under test */
	int c_module = c_iommufd_loaded();
	long pin0 = vm_pin_kb();
	char *buf;

	if (fail_nth_setup())
		SKIP(return, "failslab is not available");

	ASSERT_LE(0, pin0);
	buf = mmap(NULL, BUF_LEN, PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	ASSERT_NE(MAP_FAILED, buf);
	nthfd = fail_nth_open();
	ASSERT_LE(0, nthfd);

	for (nth = 1; nth < 5000; nth++) {
		struct flow f = { .buf = buf, .fd = -1 };
		int rc, err, reached;

		reached = fail_nth_run(nthfd, nth, run_flow, &f, &rc, &err);
		ASSERT_LE(0, reached);

		/*
		 * Nothing is armed now. The PASID goes first, as a device
		 * must not be unbound with one attached; it then reads back
		 * as blocked.
		 */
		if (f.stdev) {
			ASSERT_EQ(0, _test_cmd_pasid_detach(f.fd, f.stdev,
							    PASID));
			ASSERT_EQ(0, _test_cmd_pasid_check_hwpt(f.fd, f.stdev,
								PASID, 0));
		}
		if (f.fd >= 0)
			close(f.fd);

		/* whatever failed, nothing stays pinned or charged */
		ASSERT_EQ(pin0, vm_pin_kb());
		checkfd = open("/dev/iommu", O_RDWR);
		ASSERT_LE(0, checkfd);
		ASSERT_EQ(0, _test_cmd_check_refs(checkfd, buf, BUF_LEN, 0));
		close(checkfd);

		if (!reached) {
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
