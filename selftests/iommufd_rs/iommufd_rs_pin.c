// SPDX-License-Identifier: GPL-2.0-only
/*
 * Pinning and its accounting. Pages are pinned only when something needs
 * them (here an in-kernel access made with upstream's test command), charged
 * once however many areas share them, bounded by RLIMIT_MEMLOCK, and released
 * exactly once. The charge is read back from /proc/self/status: VmPin
 * (pinned_vm) always, VmLck (locked_vm) in per-process mode.
 */
#define _GNU_SOURCE
#define _GNU_SOURCE
#include <sys/capability.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "iommufd_rs_util.h"

#define NPAGES 32
#define LIMIT_PAGES 16
#define NEEDS_PIN MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES

FIXTURE(pin)
{
	int fd;
	__u32 ioas;
	char *buf;
	long pin0, lck0;
};

/*
 * Where the pins are charged (IOMMU_OPTION_RLIMIT_MODE): to the user's
 * locked_vm, or to the process's. pinned_vm counts them either way.
 */
FIXTURE_VARIANT(pin)
{
	bool per_process;
};

FIXTURE_VARIANT_ADD(pin, per_user)
{
	.per_process = false,
};

FIXTURE_VARIANT_ADD(pin, per_process)
{
	.per_process = true,
};

FIXTURE_SETUP(pin)
{
	struct rlimit lim = {
		.rlim_cur = LIMIT_PAGES * PSZ,
		.rlim_max = LIMIT_PAGES * PSZ,
	};
	struct iommu_option o = {
		.size = sizeof(o),
		.option_id = IOMMU_OPTION_RLIMIT_MODE,
		.op = IOMMU_OPTION_OP_SET,
		.val64 = variant->per_process,
	};

	ASSERT_EQ(0, drop_ipc_lock());
	ASSERT_EQ(0, setrlimit(RLIMIT_MEMLOCK, &lim));
	self->fd = open("/dev/iommu", O_RDWR);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, ioctl(self->fd, IOMMU_OPTION, &o));
	test_ioctl_ioas_alloc(&self->ioas);
	self->buf = mmap(NULL, NPAGES * PSZ, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	ASSERT_NE(MAP_FAILED, self->buf);
	self->pin0 = vm_pin_pages();
	ASSERT_LE(0, self->pin0);
	self->lck0 = vm_lck_pages();
	ASSERT_LE(0, self->lck0);
}

FIXTURE_TEARDOWN(pin)
{
	close(self->fd);
	munmap(self->buf, NPAGES * PSZ);
}

/* n pages more than at the start are pinned, and charged per the mode. */
#define check_charged(n)                                                 \
	({                                                               \
		long __n = (n);                                          \
		ASSERT_EQ(self->pin0 + __n, vm_pin_pages());             \
		ASSERT_EQ(self->lck0 + (variant->per_process ? __n : 0), \
			  vm_lck_pages());                               \
	})

TEST_F(pin, charge_share_limit_release)
{
	struct iommu_ioas_copy cp = {
		.size = sizeof(cp),
		.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
			 IOMMU_IOAS_MAP_WRITEABLE,
		.src_ioas_id = self->ioas,
		.length = NPAGES * PSZ,
		.dst_iova = BASE,
		.src_iova = BASE,
	};
	__u32 a, b, c, d, ioas2;
	int afd, afd2;

	/* mapping pins nothing */
	test_ioctl_ioas_map_fixed(self->buf, NPAGES * PSZ, BASE);
	check_charged(0);
	check_refs(self->buf, NPAGES * PSZ, 0);

	/* an access pins, and the pages are charged once each */
	test_cmd_create_access(self->ioas, &afd, NEEDS_PIN);
	test_cmd_access_pages(afd, BASE, 8 * PSZ, self->buf, &a);
	check_charged(8);
	check_refs(self->buf, 8 * PSZ, 1);
	check_refs(self->buf + 8 * PSZ, 8 * PSZ, 0);
	test_cmd_access_pages(afd, BASE + 4 * PSZ, 8 * PSZ, self->buf + 4 * PSZ,
			      &b);
	check_charged(12);

	/* a copy in another IOAS shares the pages: no second charge */
	test_ioctl_ioas_alloc(&ioas2);
	cp.dst_ioas_id = ioas2;
	ASSERT_EQ(0, ioctl(self->fd, IOMMU_IOAS_COPY, &cp));
	test_cmd_create_access(ioas2, &afd2, NEEDS_PIN);
	test_cmd_access_pages(afd2, BASE, 12 * PSZ, self->buf, &c);
	check_charged(12);

	/* the limit counts distinct pages: 12 + 8 > 16 */
	test_err_access_pages(ENOMEM, afd, BASE + 16 * PSZ, 8 * PSZ,
			      self->buf + 16 * PSZ, &d);
	check_charged(12);
	check_refs(self->buf + 16 * PSZ, 8 * PSZ, 0);
	/* 12 + 4 fits exactly */
	test_cmd_access_pages(afd, BASE + 16 * PSZ, 4 * PSZ,
			      self->buf + 16 * PSZ, &d);
	check_charged(16);

	/* pages go only when their last holder lets go */
	test_cmd_destroy_access_pages(afd, a);
	check_charged(16);
	test_cmd_destroy_access_pages(afd2, c);
	check_charged(12);
	test_err_destroy_access_pages(ENOENT, afd2, c);
	test_cmd_destroy_access_pages(afd, b);
	test_cmd_destroy_access_pages(afd, d);
	check_charged(0);
	check_refs(self->buf, NPAGES * PSZ, 0);

	/* the released charge can be taken again, up to the limit */
	test_cmd_access_pages(afd, BASE, 16 * PSZ, self->buf, &a);
	check_charged(16);

	/* closing everything with pins outstanding releases them */
	close(afd);
	close(afd2);
	close(self->fd);
	self->fd = open("/dev/iommu", O_RDWR);
	ASSERT_LE(0, self->fd);
	check_charged(0);
	check_refs(self->buf, NPAGES * PSZ, 0);
}

TEST_F(pin, unmap_takes_pins_back)
{
	struct iommu_ioas_unmap un = {
		.size = sizeof(un),
		.ioas_id = self->ioas,
		.iova = BASE,
		.length = NPAGES * PSZ,
	};
	__u32 a;
	int afd;

	test_ioctl_ioas_map_fixed(self->buf, NPAGES * PSZ, BASE);
	test_cmd_create_access(self->ioas, &afd, NEEDS_PIN);
	test_cmd_access_pages(afd, BASE, 8 * PSZ, self->buf, &a);
	check_charged(8);
	/* the IOAS cannot go while an access uses it */
	test_err_destroy(EBUSY, self->ioas);
	/* unmapping asks the access to let go, then succeeds */
	ASSERT_EQ(0, ioctl(self->fd, IOMMU_IOAS_UNMAP, &un));
	ASSERT_EQ(NPAGES * PSZ, un.length);
	check_charged(0);
	test_err_destroy_access_pages(ENOENT, afd, a);
	/* pinning what is no longer mapped */
	test_err_access_pages(ENOENT, afd, BASE, PSZ, self->buf, &a);
	close(afd);
}

TEST_F(pin, wrong_pages_and_bad_args)
{
	__u32 a;
	int afd;

	test_ioctl_ioas_map_fixed(self->buf, 8 * PSZ, BASE);
	test_cmd_create_access(self->ioas, &afd, NEEDS_PIN);
	/* uptr must be the memory mapped there */
	test_err_access_pages(EBADE, afd, BASE, PSZ, self->buf + PSZ, &a);
	check_charged(0);
	test_err_access_pages(EINVAL, afd, BASE, 0, self->buf, &a);
	test_err_access_pages(ENOENT, afd, BASE + 4 * PSZ, 8 * PSZ, self->buf,
			      &a);
	/* not an access fd, or no fd at all */
	test_err_access_pages(EBADFD, self->fd, BASE, PSZ, self->buf, &a);
	test_err_access_pages(EBADFD, 999, BASE, PSZ, self->buf, &a);
	check_charged(0);
	close(afd);
}

TEST_F(pin, access_needs_whole_pages)
{
	struct iommu_iova_range r;
	struct iommu_ioas_iova_ranges q = {
		.size = sizeof(q),
		.ioas_id = self->ioas,
		.num_iovas = 1,
		.allowed_iovas = (uintptr_t)&r,
	};
	struct iommu_ioas_map m = {
		.size = sizeof(m),
		.flags = IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE,
		.ioas_id = self->ioas,
		.user_va = (uintptr_t)self->buf + 0x10,
		.length = 0x10,
	};
	struct iommu_ioas_unmap un = {
		.size = sizeof(un),
		.ioas_id = self->ioas,
		.length = UINT64_MAX,
	};
	__u32 a;
	int afd;

	/* a sub-page area keeps a pinning access away */
	ASSERT_EQ(0, ioctl(self->fd, IOMMU_IOAS_MAP, &m));
	EXPECT_ERRNO(EADDRINUSE,
		     _test_cmd_create_access(self->fd, self->ioas, &afd,
					     NEEDS_PIN));
	ASSERT_EQ(0, ioctl(self->fd, IOMMU_IOAS_IOVA_RANGES, &q));
	ASSERT_EQ(1, q.out_iova_alignment);
	ASSERT_EQ(0, ioctl(self->fd, IOMMU_IOAS_UNMAP, &un));

	/* with one attached, the IOAS is page granular */
	test_cmd_create_access(self->ioas, &afd, NEEDS_PIN);
	ASSERT_EQ(0, ioctl(self->fd, IOMMU_IOAS_IOVA_RANGES, &q));
	ASSERT_EQ(PSZ, q.out_iova_alignment);
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, IOMMU_IOAS_MAP, &m));

	/* pins start on a page */
	test_ioctl_ioas_map_fixed(self->buf, 4 * PSZ, BASE);
	test_err_access_pages(EINVAL, afd, BASE + 0x10, 0x10, NULL, &a);
	check_charged(0);

	/* and the alignment relaxes when it goes */
	close(afd);
	ASSERT_EQ(0, ioctl(self->fd, IOMMU_IOAS_IOVA_RANGES, &q));
	ASSERT_EQ(1, q.out_iova_alignment);
}

TEST_F(pin, access_rw_both_paths)
{
	static char out[6000], in[6000];
	struct iommu_ioas_map ro = {
		.size = sizeof(ro),
		.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE,
		.ioas_id = self->ioas,
		.user_va = (uintptr_t)self->buf,
		.length = PSZ,
		.iova = BASE + 16 * PSZ,
	};
	unsigned int i, slow;
	int afd;

	test_ioctl_ioas_map_fixed(self->buf, 8 * PSZ, BASE);
	ASSERT_EQ(0, ioctl(self->fd, IOMMU_IOAS_MAP, &ro));
	test_cmd_create_access(self->ioas, &afd, NEEDS_PIN);

	for (slow = 0; slow < 2; slow++) {
		__u32 sf = slow ? MOCK_ACCESS_RW_SLOW_PATH : 0;

		for (i = 0; i < sizeof(out); i++)
			out[i] = (char)(i * 7 + slow);
		/* a device write lands in the user's memory, across pages */
		test_cmd_access_rw(afd, BASE + 100, out, sizeof(out),
				   MOCK_ACCESS_RW_WRITE | sf);
		ASSERT_EQ(0, memcmp(self->buf + 100, out, sizeof(out)));
		/* and reads back */
		memset(in, 0, sizeof(in));
		test_cmd_access_rw(afd, BASE + 100, in, sizeof(in), sf);
		ASSERT_EQ(0, memcmp(in, out, sizeof(in)));
		/* the slow path pins only for the copy */
		check_charged(0);
	}

	/* read-only memory cannot be written */
	test_err_access_rw(EPERM, afd, BASE + 16 * PSZ, out, 8,
			   MOCK_ACCESS_RW_WRITE);
	test_cmd_access_rw(afd, BASE + 16 * PSZ, in, 8, 0);
	/* not all mapped, nothing, bad flags, too much */
	test_err_access_rw(ENOENT, afd, BASE + 7 * PSZ, in, 2 * PSZ, 0);
	test_err_access_rw(EINVAL, afd, BASE, in, 0, 0);
	test_err_access_rw(EOPNOTSUPP, afd, BASE, in, 8, 1 << 5);
	test_err_access_rw(ENOMEM, afd, BASE, in, (16 << 20) + 1, 0);
	check_charged(0);
	close(afd);
}

TEST_F(pin, slow_copy_is_not_charged)
{
	char data[2 * PSZ] = {};
	__u32 a;
	int afd;

	test_ioctl_ioas_map_fixed(self->buf, NPAGES * PSZ, BASE);
	test_cmd_create_access(self->ioas, &afd, NEEDS_PIN);
	/* use up the whole limit */
	test_cmd_access_pages(afd, BASE, LIMIT_PAGES * PSZ, self->buf, &a);
	check_charged(LIMIT_PAGES);
	/* a slow copy pins only while it runs: past the limit is fine */
	test_cmd_access_rw(afd, BASE + 20 * PSZ + 8, data, 100,
			   MOCK_ACCESS_RW_SLOW_PATH);
	test_cmd_access_rw(afd, BASE + 20 * PSZ, data, 2 * PSZ,
			   MOCK_ACCESS_RW_SLOW_PATH);
	check_charged(LIMIT_PAGES);
	/* and over pinned pages too */
	test_cmd_access_rw(afd, BASE, data, 2 * PSZ, MOCK_ACCESS_RW_SLOW_PATH);
	check_charged(LIMIT_PAGES);
	test_cmd_destroy_access_pages(afd, a);
	check_charged(0);
	close(afd);
}

TEST_F(pin, memfd_pages)
{
	struct iommu_ioas_map_file mf = {
		.size = sizeof(mf),
		.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
			 IOMMU_IOAS_MAP_WRITEABLE,
		.ioas_id = self->ioas,
		.start = 0,
		.length = 8 * PSZ,
		.iova = BASE,
	};
	int mfd = memfd_create("iommufd-rs-pin", 0);
	__u32 a;
	char *p;
	int afd;

	ASSERT_LE(0, mfd);
	ASSERT_EQ(0, ftruncate(mfd, 6 * PSZ));
	p = mmap(NULL, 6 * PSZ, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	ASSERT_NE(MAP_FAILED, p);
	memset(p, 0x5a, 6 * PSZ);
	/* the map may cover more than the file holds: nothing is pinned yet */
	mf.fd = mfd;
	ASSERT_EQ(0, ioctl(self->fd, IOMMU_IOAS_MAP_FILE, &mf));
	test_cmd_create_access(self->ioas, &afd, NEEDS_PIN);

	/* the pinned pages are the memfd's own, charged like user memory */
	test_cmd_access_pages(afd, BASE + PSZ, 4 * PSZ, p + PSZ, &a);
	check_charged(4);
	check_refs(p + PSZ, 4 * PSZ, 1);
	check_refs(p, PSZ, 0);
	test_cmd_destroy_access_pages(afd, a);
	check_charged(0);
	check_refs(p, 6 * PSZ, 0);

	/* past the end of the file */
	test_err_access_pages(EINVAL, afd, BASE + 5 * PSZ, 2 * PSZ, NULL, &a);
	check_charged(0);
	close(afd);
	munmap(p, 6 * PSZ);
	close(mfd);
}

/*
 * Pages a domain holds are pinned once, and whatever else needs them reads
 * them back from the domain rather than pinning them again. After the
 * mapping process is gone, from whose mm nothing could be pinned any more:
 * a copy into another IOAS with a domain, the removal of the first domain,
 * an access's pin and its reads all get the very pages, still pinned once
 * each, and the last holder's release unpins them.
 */
TEST_F(pin, fills_share_pages_after_exit)
{
	const size_t len = 8 * PSZ;
	struct iommu_ioas_copy cp = {
		.size = sizeof(cp),
		.flags = MAP_FIXED_RW,
		.src_ioas_id = self->ioas,
		.length = len,
		.dst_iova = BASE,
		.src_iova = BASE,
	};
	__u32 stdev, hwpt, idev, stdev2, hwpt2, idev2, ioas2, a;
	static char data[8 * PSZ];
	int afd, status;
	pid_t child;

	memset(self->buf, 0x5a, len);
	test_cmd_mock_domain_flags(self->ioas, 0, &stdev, &hwpt, &idev);
	child = fork();
	ASSERT_NE(-1, child);
	if (!child) {
		__u64 iova = BASE;

		_exit(_test_ioctl_ioas_map(self->fd, self->ioas, self->buf, len,
					   &iova, MAP_FIXED_RW) ? 1 : 0);
	}
	ASSERT_EQ(child, waitpid(child, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
	/* The child's pins, charged to it, not to us. */
	check_refs(self->buf, len, 1);
	check_charged(0);

	test_ioctl_ioas_alloc(&ioas2);
	test_cmd_mock_domain_flags(ioas2, 0, &stdev2, &hwpt2, &idev2);
	cp.dst_ioas_id = ioas2;
	ASSERT_EQ(0, ioctl(self->fd, IOMMU_IOAS_COPY, &cp));
	check_refs(self->buf, len, 1);

	/* The first domain goes; the copy's fill still holds the pages. */
	test_ioctl_destroy(stdev);
	check_refs(self->buf, len, 1);

	test_cmd_create_access(ioas2, &afd, NEEDS_PIN);
	test_cmd_access_pages(afd, BASE, len, self->buf, &a);
	check_refs(self->buf, len, 1);
	test_cmd_access_rw(afd, BASE, data, len, 0);
	ASSERT_EQ(0, memcmp(data, self->buf, len));
	test_cmd_destroy_access_pages(afd, a);
	check_refs(self->buf, len, 1);
	close(afd);

	/* The last holder lets go. */
	test_ioctl_destroy(stdev2);
	check_refs(self->buf, len, 0);
	check_charged(0);
}

/*
 * An access's pins of one huge page are kept as a run of pfns; a page
 * mapped over the middle of it afterwards breaks the run, and its slots
 * then keep a page each. Without a huge page (THP is best effort here) the
 * run may break at once instead. Either way the access is given the pages
 * mapped at the address (the test command compares them: EBADE), reads
 * through the pins see their contents, and every pin goes back. The fill
 * side of runs is ioas.huge_page_runs.
 */
TEST_F(pin, slot_runs_and_breaks)
{
	const size_t huge = 2UL << 20;
	char *raw, *buf, *other, in[16];
	__u32 a[3];
	int afd, i;

	raw = mmap(NULL, 2 * huge, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, raw);
	buf = (char *)(((uintptr_t)raw + huge - 1) & ~(huge - 1));
	/* a huge page if THP allows one; consecutive pfns are likely anyway */
	madvise(buf, huge, MADV_HUGEPAGE);
	for (i = 0; i < 8; i++)
		memset(buf + i * PSZ, 'a' + i, PSZ);
	other = mmap(NULL, PSZ, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	ASSERT_NE(MAP_FAILED, other);
	memset(other, 'z', PSZ);

	test_ioctl_ioas_map_fixed(buf, 8 * PSZ, BASE);
	test_cmd_create_access(self->ioas, &afd, NEEDS_PIN);
	test_cmd_access_pages(afd, BASE, 4 * PSZ, buf, &a[0]);
	check_charged(4);
	/* page 5 becomes another page: the pins of 4..7 are no run */
	ASSERT_NE(MAP_FAILED, mremap(other, PSZ, PSZ,
				     MREMAP_MAYMOVE | MREMAP_FIXED,
				     buf + 5 * PSZ));
	test_cmd_access_pages(afd, BASE + 4 * PSZ, 4 * PSZ, buf + 4 * PSZ,
			      &a[1]);
	check_charged(8);
	/* all eight again, from the slots */
	test_cmd_access_pages(afd, BASE, 8 * PSZ, buf, &a[2]);
	check_charged(8);
	for (i = 0; i < 8; i++) {
		test_cmd_access_rw(afd, BASE + i * PSZ + 8, in, sizeof(in),
				   MOCK_ACCESS_RW_SLOW_PATH);
		ASSERT_EQ(i == 5 ? 'z' : 'a' + i, in[0]);
	}
	test_cmd_destroy_access_pages(afd, a[0]);
	test_cmd_destroy_access_pages(afd, a[2]);
	check_charged(4);
	test_cmd_access_rw(afd, BASE + 5 * PSZ, in, sizeof(in),
			   MOCK_ACCESS_RW_SLOW_PATH);
	ASSERT_EQ('z', in[0]);
	test_cmd_destroy_access_pages(afd, a[1]);
	check_charged(0);
	close(afd);
	munmap(raw, 2 * huge);
}

TEST_HARNESS_MAIN
