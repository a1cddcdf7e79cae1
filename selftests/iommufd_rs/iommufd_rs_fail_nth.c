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
#define BASE 0x1000000UL /* 16 MiB */

struct flow {
	int fd;
	int afd;
};

/* The flow under test. Returns 0, or -1 with errno from the failing call. */
static int run_flow(struct flow *f, char *buf)
{
	struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };
	struct iommu_ioas_map map = {
		.size = sizeof(map),
		.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
			 IOMMU_IOAS_MAP_WRITEABLE,
		.user_va = (uintptr_t)buf,
		.length = 8 * PSZ,
		.iova = BASE,
	};
	struct iommu_ioas_copy copy = {
		.size = sizeof(copy),
		.flags = IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE,
		.length = 4 * PSZ,
		.src_iova = BASE,
	};
	struct iommu_test_cmd access = {
		.size = sizeof(access),
		.op = IOMMU_TEST_OP_CREATE_ACCESS,
		.create_access = {
			.flags = MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES,
		},
	};
	struct iommu_test_cmd pin = {
		.size = sizeof(pin),
		.op = IOMMU_TEST_OP_ACCESS_PAGES,
		.access_pages = {
			.iova = BASE,
			.length = 4 * PSZ,
			.uptr = (uintptr_t)buf,
		},
	};
	struct iommu_test_cmd unpin = {
		.size = sizeof(unpin),
		.op = IOMMU_TEST_OP_DESTROY_ACCESS_PAGES,
	};
	struct iommu_ioas_unmap unmap = {
		.size = sizeof(unmap),
		.length = UINT64_MAX,
	};
	struct iommu_destroy destroy = { .size = sizeof(destroy) };

	f->fd = open("/dev/iommu", O_RDWR);
	if (f->fd < 0)
		return -1;
	if (ioctl(f->fd, IOMMU_IOAS_ALLOC, &alloc))
		return -1;
	map.ioas_id = alloc.out_ioas_id;
	if (ioctl(f->fd, IOMMU_IOAS_MAP, &map))
		return -1;
	copy.src_ioas_id = alloc.out_ioas_id;
	copy.dst_ioas_id = alloc.out_ioas_id;
	if (ioctl(f->fd, IOMMU_IOAS_COPY, &copy))
		return -1;
	access.id = alloc.out_ioas_id;
	if (ioctl(f->fd, IOMMU_TEST_CMD, &access))
		return -1;
	f->afd = access.create_access.out_access_fd;
	pin.id = f->afd;
	if (ioctl(f->fd, IOMMU_TEST_CMD, &pin))
		return -1;
	/* pin the copy too: shares the pages of the first pin */
	pin.access_pages.iova = copy.dst_iova;
	if (ioctl(f->fd, IOMMU_TEST_CMD, &pin))
		return -1;
	unpin.id = f->afd;
	unpin.destroy_access_pages.access_pages_id =
		pin.access_pages.out_access_pages_id;
	if (ioctl(f->fd, IOMMU_TEST_CMD, &unpin))
		return -1;
	unmap.ioas_id = alloc.out_ioas_id;
	if (ioctl(f->fd, IOMMU_IOAS_UNMAP, &unmap))
		return -1;
	close(f->afd);
	f->afd = -1;
	destroy.id = alloc.out_ioas_id;
	if (ioctl(f->fd, IOMMU_DESTROY, &destroy))
		return -1;
	return 0;
}

TEST(ioas_and_pin_paths_under_fault_injection)
{
	struct iommu_test_cmd refs = {
		.size = sizeof(refs),
		.op = IOMMU_TEST_OP_MD_CHECK_REFS,
		.check_refs = { .length = 8 * PSZ, .refs = 0 },
	};
	char path[64], left[32];
	int injected = 0, other_errno = 0, nth, nthfd, checkfd;
	long pin0 = vm_pin_kb();
	char *buf;

	if (write_file("/sys/kernel/debug/failslab/ignore-gfp-wait", "N"))
		SKIP(return, "failslab is not available");
	write_file("/sys/kernel/debug/fail_page_alloc/ignore-gfp-wait", "N");
	write_file("/sys/kernel/debug/failslab/verbose", "0");
	write_file("/sys/kernel/debug/fail_page_alloc/verbose", "0");

	buf = mmap(NULL, 8 * PSZ, PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	ASSERT_NE(MAP_FAILED, buf);
	refs.check_refs.uptr = (uintptr_t)buf;
	checkfd = open("/dev/iommu", O_RDWR);
	ASSERT_LE(0, checkfd);
	snprintf(path, sizeof(path), "/proc/self/task/%d/fail-nth", gettid());
	nthfd = open(path, O_RDWR);
	ASSERT_LE(0, nthfd);

	for (nth = 1; nth < 3000; nth++) {
		struct flow f = { .fd = -1, .afd = -1 };
		char arm[16];
		int rc, err;
		ssize_t n;

		snprintf(arm, sizeof(arm), "%d", nth);
		ASSERT_EQ((ssize_t)strlen(arm), pwrite(nthfd, arm, strlen(arm), 0));
		rc = run_flow(&f, buf);
		err = errno;
		/* a remaining count above 0 means the nth site was not reached */
		n = pread(nthfd, left, sizeof(left) - 1, 0);
		ASSERT_LT(0, n);
		left[n] = 0;
		ASSERT_EQ(1, pwrite(nthfd, "0", 1, 0));

		if (f.afd >= 0)
			close(f.afd);
		if (f.fd >= 0)
			close(f.fd);
		/* whatever failed, nothing stays pinned or charged */
		ASSERT_EQ(pin0, vm_pin_kb());
		ASSERT_EQ(0, ioctl(checkfd, IOMMU_TEST_CMD, &refs));

		if (atoi(left) != 0) {
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
	munmap(buf, 8 * PSZ);
}

TEST_HARNESS_MAIN
