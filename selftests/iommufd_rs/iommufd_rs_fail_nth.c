// SPDX-License-Identifier: GPL-2.0-only
/*
 * Every allocation on the IOAS and pinning paths may fail. With failslab and
 * fail_page_alloc armed for the nth fault site of this thread, walk one flow
 * for n = 1, 2, ... until it completes without reaching the nth site. Every
 * injected failure must surface as ENOMEM, and once the files are closed
 * nothing may remain pinned or charged. The test counts the failures it
 * actually injected, so it cannot pass without injecting any. Most surface as
 * ENOMEM; the C iommufd turns some into ENOENT, so other errnos are counted
 * and reported rather than refused.
 */
#define _GNU_SOURCE
#include <sys/mman.h>

#include "kselftest_harness.h"
#include "iommufd_rs_util.h"

#define LEN (8 * PSZ)

struct flow {
	char *buf;
	int fd;
	int afd;
};

/* The flow under test. Returns 0, or -1 with errno from the failing call. */
static int run_flow(void *arg)
{
	struct flow *f = arg;
	char *buf = f->buf;
	__u64 iova = BASE, dst = 0;
	__u32 ioas, pages1, pages2;

	f->fd = open("/dev/iommu", O_RDWR);
	if (f->fd < 0)
		return -1;
	if (_test_ioctl_ioas_alloc(f->fd, &ioas) ||
	    _test_ioctl_ioas_map(f->fd, ioas, buf, LEN, &iova, MAP_FIXED_RW) ||
	    _test_ioctl_ioas_copy(f->fd, ioas, ioas, BASE, LEN / 2, &dst,
				  MAP_RW) ||
	    _test_cmd_create_access(f->fd, ioas, &f->afd,
				    MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES) ||
	    _test_cmd_access_pages(f->fd, f->afd, BASE, LEN / 2, buf,
				   &pages1) ||
	    /* pin the copy too: shares the pages of the first pin */
	    _test_cmd_access_pages(f->fd, f->afd, dst, LEN / 2, buf,
				   &pages2) ||
	    _test_cmd_destroy_access_pages(f->fd, f->afd, pages2) ||
	    _test_ioctl_ioas_unmap(f->fd, ioas, 0, UINT64_MAX, NULL))
		return -1;
	close(f->afd);
	f->afd = -1;
	return _test_ioctl_destroy(f->fd, ioas);
}

TEST(ioas_and_pin_paths_under_fault_injection)
{
	int injected = 0, other_errno = 0, nth, nthfd, checkfd;
	long pin0 = vm_pin_kb();
	char *buf;

	if (fail_nth_setup())
		SKIP(return, "failslab is not available");

	buf = mmap(NULL, LEN, PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	ASSERT_NE(MAP_FAILED, buf);
	checkfd = open("/dev/iommu", O_RDWR);
	ASSERT_LE(0, checkfd);
	nthfd = fail_nth_open();
	ASSERT_LE(0, nthfd);

	for (nth = 1; nth < 3000; nth++) {
		struct flow f = { .buf = buf, .fd = -1, .afd = -1 };
		int rc, err, reached;

		reached = fail_nth_run(nthfd, nth, run_flow, &f, &rc, &err);
		ASSERT_LE(0, reached);

		if (f.afd >= 0)
			close(f.afd);
		if (f.fd >= 0)
			close(f.fd);
		/* whatever failed, nothing stays pinned or charged */
		ASSERT_EQ(pin0, vm_pin_kb());
		ASSERT_EQ(0, _test_cmd_check_refs(checkfd, buf, LEN, 0));

		if (!reached) {
			/* the whole flow ran without reaching the nth site */
			ASSERT_EQ(0, rc);
			break;
		}
		injected++;
		if (rc && err != ENOMEM) {
			TH_LOG("nth %d: errno %d", nth, err);
			other_errno++;
		}
	}
	TH_LOG("%d allocation failures injected, %d surfaced as another errno than ENOMEM",
	       injected, other_errno);
	ASSERT_LT(10, injected);
	close(nthfd);
	close(checkfd);
	munmap(buf, LEN);
}

TEST_HARNESS_MAIN
