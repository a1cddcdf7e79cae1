// SPDX-License-Identifier: GPL-2.0-only
/*
 * IOAS semantics: IOVA allocation, fixed mappings, exact unmap, COPY,
 * MAP_FILE, allowed ranges and options, each error with the errno the C
 * iommufd.ko gives, against which these tests are also run. Each test runs
 * on an IOAS without a domain, with the mock domain of one (PASID-capable)
 * device, and with those of two devices; the domains mirror every mapping.
 */
#define _GNU_SOURCE
#include <sys/mman.h>

#include "kselftest_harness.h"
#include "iommufd_rs_util.h"

#define BUF_PAGES 16
#define MAX_DOMAINS 2

FIXTURE(ioas)
{
	int fd;
	__u32 ioas;
	void *buf;
	/* where fixed mappings go: inside the mock aperture if there is one */
	__u64 base;
	__u32 stdev[MAX_DOMAINS], hwpt[MAX_DOMAINS];
};

FIXTURE_VARIANT(ioas)
{
	unsigned int mock_domains;
	__u32 dev_flags;
};

FIXTURE_VARIANT_ADD(ioas, no_domain)
{
};

FIXTURE_VARIANT_ADD(ioas, mock_domain)
{
	.mock_domains = 1,
	.dev_flags = MOCK_FLAGS_DEVICE_PASID,
};

FIXTURE_VARIANT_ADD(ioas, two_mock_domains)
{
	.mock_domains = 2,
};

FIXTURE_SETUP(ioas)
{
	unsigned int i;

	self->fd = open("/dev/iommu", O_RDWR);
	ASSERT_LE(0, self->fd);
	test_ioctl_ioas_alloc(&self->ioas);
	for (i = 0; i < variant->mock_domains; i++)
		test_cmd_mock_domain_flags(self->ioas, variant->dev_flags,
					   &self->stdev[i], &self->hwpt[i],
					   NULL);
	self->base = variant->mock_domains ? BASE : 0;
	/* 2 MiB aligned, so that hints carry no alignment of their own */
	self->buf = mmap((void *)(64UL << 30), BUF_PAGES * PSZ,
			 PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	ASSERT_NE(MAP_FAILED, self->buf);
}

FIXTURE_TEARDOWN(ioas)
{
	munmap(self->buf, BUF_PAGES * PSZ);
	close(self->fd);
}

/* Every mock domain maps [iova, iova + len) to the pages at va. */
#define check_mock_iova(va, iova, len)                                 \
	({                                                             \
		unsigned int __i;                                      \
		for (__i = 0; __i < variant->mock_domains; __i++)      \
			test_cmd_check_map(self->hwpt[__i], iova, len, \
					   va);                        \
	})
/* And maps nothing there. */
#define check_mock_unmapped(iova)                                             \
	({                                                                    \
		unsigned int __i;                                             \
		for (__i = 0; __i < variant->mock_domains; __i++)             \
			test_err_check_map(EINVAL, self->hwpt[__i], iova, PSZ, \
					   self->buf);                        \
	})

TEST_F(ioas, map_argument_errors)
{
	struct iommu_ioas_map r = {
		.size = sizeof(r),
		.flags = MAP_RW,
		.ioas_id = self->ioas,
		.__reserved = 1,
		.user_va = (uintptr_t)self->buf,
		.length = PSZ,
	};
	void *buf = self->buf;
	__u64 iova = 0;

	/* unknown flags, then reserved, then overflow, then no access */
	EXPECT_ERRNO(EOPNOTSUPP, ioas_map(buf, PSZ, &iova, 1 << 3));
	iova = UINT64_MAX;
	EXPECT_ERRNO(EOVERFLOW, ioas_map(buf, PSZ, &iova, MAP_RW));
	iova = 0;
	EXPECT_ERRNO(EOVERFLOW, ioas_map(buf, UINT64_MAX, &iova, MAP_RW));
	EXPECT_ERRNO(EINVAL,
		     ioas_map(buf, PSZ, &iova, IOMMU_IOAS_MAP_FIXED_IOVA));
	/* the IOAS is looked up after the flags */
	EXPECT_ERRNO(ENOENT, _test_ioctl_ioas_map(self->fd, NO_ID, buf, PSZ,
						  &iova, MAP_RW));
	EXPECT_ERRNO(EOPNOTSUPP, _test_ioctl_ioas_map(self->fd, 0, buf, PSZ,
						      &iova, 1 << 3));
	/* user_va + length wraps */
	EXPECT_ERRNO(EOVERFLOW, ioas_map((void *)(UINT64_MAX - PSZ + 1),
					 2 * PSZ, &iova, MAP_RW));
	EXPECT_ERRNO(EINVAL, ioas_map(buf, 0, &iova, MAP_RW));
	/* a fixed range that wraps the IOVA space */
	iova = UINT64_MAX - PSZ + 1;
	EXPECT_ERRNO(EOVERFLOW, ioas_map(buf, 2 * PSZ, &iova, MAP_FIXED_RW));
	EXPECT_ERRNO(EOPNOTSUPP, ioctl(self->fd, IOMMU_IOAS_MAP, &r));
	/* nothing was mapped */
	check_mock_unmapped(self->base);
}

TEST_F(ioas, auto_iova_placement)
{
	__u64 iova, prev = 0;
	int i;

	/* lowest fit first, never IOVA 0 or the first page */
	for (i = 0; i < 8; i++) {
		iova = 0;
		ASSERT_EQ(0, ioas_map(self->buf, PSZ, &iova, MAP_RW));
		ASSERT_LT(prev, iova);
		ASSERT_LE(PSZ, iova);
		ASSERT_LE(self->base, iova);
		ASSERT_EQ(0, iova % PSZ);
		check_mock_iova(self->buf, iova, PSZ);
		prev = iova;
	}
	iova = 0;
	if (variant->mock_domains) {
		/* a domain maps whole IO pages only */
		EXPECT_ERRNO(EINVAL, ioas_map((char *)self->buf + 0x123, 0x80,
					      &iova, MAP_RW));
	} else {
		/* a sub-page address keeps its offset in the IOVA */
		ASSERT_EQ(0, ioas_map((char *)self->buf + 0x123, 0x80, &iova,
				      MAP_RW));
		ASSERT_EQ(0x123, iova % PSZ);
	}
	/* a 4 page map from a 2 MiB aligned address is 16 KiB aligned */
	iova = 0;
	ASSERT_EQ(0, ioas_map(self->buf, 4 * PSZ, &iova, MAP_RW));
	ASSERT_EQ(0, iova % (4 * PSZ));
	check_mock_iova(self->buf, iova, 4 * PSZ);
	/* the written-back IOVA is where the area is: unmapping it works */
	ASSERT_EQ(0, ioas_unmap(iova, 4 * PSZ, NULL));
	check_mock_unmapped(iova);
}

TEST_F(ioas, fixed_overlap_and_exact_unmap)
{
	__u64 base = self->base, iova, len;

	iova = base + 16 * PSZ;
	ASSERT_EQ(0, ioas_map(self->buf, 4 * PSZ, &iova, MAP_FIXED_RW));
	ASSERT_EQ(base + 16 * PSZ, iova);
	check_mock_iova(self->buf, iova, 4 * PSZ);
	/* any overlap is EEXIST */
	iova = base + 19 * PSZ;
	EXPECT_ERRNO(EEXIST, ioas_map(self->buf, 2 * PSZ, &iova, MAP_FIXED_RW));
	iova = base + 15 * PSZ;
	EXPECT_ERRNO(EEXIST, ioas_map(self->buf, 2 * PSZ, &iova, MAP_FIXED_RW));
	check_mock_unmapped(base + 15 * PSZ);
	/* touching is fine */
	test_ioctl_ioas_map_fixed(self->buf, PSZ, base + 20 * PSZ);
	check_mock_iova(self->buf, base + 20 * PSZ, PSZ);

	/* part of an area cannot be unmapped */
	EXPECT_ERRNO(ENOENT, ioas_unmap(base + 16 * PSZ, PSZ, NULL));
	EXPECT_ERRNO(ENOENT, ioas_unmap(base + 17 * PSZ, 4 * PSZ, NULL));
	check_mock_iova(self->buf, base + 16 * PSZ, 4 * PSZ);
	/* nothing there */
	EXPECT_ERRNO(ENOENT, ioas_unmap(base + 100 * PSZ, PSZ, NULL));
	EXPECT_ERRNO(EINVAL, ioas_unmap(base + 100 * PSZ, 0, NULL));
	EXPECT_ERRNO(EOVERFLOW, ioas_unmap(UINT64_MAX, 1, NULL));
	/* [3, 3 + (2^64 - 1) - 1] wraps; [2, ...] would end at U64_MAX */
	EXPECT_ERRNO(EOVERFLOW, ioas_unmap(3, UINT64_MAX - 1, NULL));
	/* a range over both areas and a gap reports what it removed */
	ASSERT_EQ(0, ioas_unmap(base + 8 * PSZ, 32 * PSZ, &len));
	ASSERT_EQ(5 * PSZ, len);
	check_mock_unmapped(base + 16 * PSZ);
	check_mock_unmapped(base + 20 * PSZ);
	/* everything at once, even when empty */
	ASSERT_EQ(0, ioas_unmap(0, UINT64_MAX, &len));
	ASSERT_EQ(0, len);
}

TEST_F(ioas, unmap_stops_at_partial_area)
{
	__u64 base = self->base, len;

	test_ioctl_ioas_map_fixed(self->buf, PSZ, base + 16 * PSZ);
	test_ioctl_ioas_map_fixed(self->buf, 4 * PSZ, base + 18 * PSZ);
	/* the first area is inside, the second sticks out */
	EXPECT_ERRNO(ENOENT, ioas_unmap(base + 16 * PSZ, 4 * PSZ, NULL));
	/* areas before the failing one are already gone, as upstream */
	EXPECT_ERRNO(ENOENT, ioas_unmap(base + 16 * PSZ, PSZ, NULL));
	check_mock_unmapped(base + 16 * PSZ);
	check_mock_iova(self->buf, base + 18 * PSZ, 4 * PSZ);
	ASSERT_EQ(0, ioas_unmap(0, UINT64_MAX, &len));
	ASSERT_EQ(4 * PSZ, len);
	check_mock_unmapped(base + 18 * PSZ);
}

TEST_F(ioas, copy_shares_and_checks)
{
	__u64 base = self->base, iova, dst, len;
	__u32 ioas = self->ioas, ioas2, ro_ioas;

	test_ioctl_ioas_map_fixed(self->buf, 4 * PSZ, base + 16 * PSZ);
	test_ioctl_ioas_map_fixed(self->buf, 4 * PSZ, base + 20 * PSZ);

	/* a window over two touching areas gives two areas */
	test_ioctl_ioas_alloc(&ioas2);
	dst = 0;
	ASSERT_EQ(0, _test_ioctl_ioas_copy(self->fd, ioas2, ioas,
					   base + 18 * PSZ, 4 * PSZ, &dst,
					   MAP_RW));
	ASSERT_NE(0, dst);
	EXPECT_ERRNO(ENOENT, _test_ioctl_ioas_unmap(self->fd, ioas2, dst,
						    2 * PSZ + 1, NULL));
	/* the first piece was inside that range and is gone already */
	ASSERT_EQ(0, _test_ioctl_ioas_unmap(self->fd, ioas2, dst, 4 * PSZ,
					    &len));
	ASSERT_EQ(2 * PSZ, len);

	/* a window leaving the mapped range */
	EXPECT_ERRNO(ENOENT, _test_ioctl_ioas_copy(self->fd, ioas2, ioas,
						   base + 22 * PSZ, 4 * PSZ,
						   &dst, MAP_RW));
	/* into itself, onto a mapped range */
	dst = base + 20 * PSZ;
	EXPECT_ERRNO(EEXIST, _test_ioctl_ioas_copy(self->fd, ioas, ioas,
						   base + 16 * PSZ, PSZ, &dst,
						   MAP_FIXED_RW));
	EXPECT_ERRNO(EINVAL, _test_ioctl_ioas_copy(self->fd, ioas, ioas,
						   base + 16 * PSZ, 0, &dst,
						   MAP_RW));
	EXPECT_ERRNO(EINVAL, _test_ioctl_ioas_copy(self->fd, ioas, ioas,
						   base + 16 * PSZ, PSZ, &dst,
						   0));
	EXPECT_ERRNO(ENOENT, _test_ioctl_ioas_copy(self->fd, ioas, NO_ID,
						   base + 16 * PSZ, PSZ, &dst,
						   MAP_RW));
	/* a copy within the IOAS reaches its domains */
	dst = base + 32 * PSZ;
	ASSERT_EQ(0, _test_ioctl_ioas_copy(self->fd, ioas, ioas,
					   base + 18 * PSZ, 4 * PSZ, &dst,
					   MAP_FIXED_RW));
	check_mock_iova((char *)self->buf + 2 * PSZ, dst, 2 * PSZ);
	check_mock_iova(self->buf, dst + 2 * PSZ, 2 * PSZ);

	/* read-only memory cannot be copied writable */
	test_ioctl_ioas_alloc(&ro_ioas);
	iova = 16 * PSZ;
	ASSERT_EQ(0, _test_ioctl_ioas_map(self->fd, ro_ioas, self->buf, PSZ,
					  &iova, IOMMU_IOAS_MAP_READABLE |
					  IOMMU_IOAS_MAP_FIXED_IOVA));
	dst = 0;
	EXPECT_ERRNO(EPERM, _test_ioctl_ioas_copy(self->fd, ro_ioas, ro_ioas,
						  16 * PSZ, PSZ, &dst,
						  MAP_RW));
	ASSERT_EQ(0, _test_ioctl_ioas_copy(self->fd, ro_ioas, ro_ioas,
					   16 * PSZ, PSZ, &dst,
					   IOMMU_IOAS_MAP_READABLE));

	/* an IOAS with areas and copies can still be destroyed */
	test_ioctl_destroy(ro_ioas);
}

TEST_F(ioas, map_file_memfd)
{
	struct iommu_ioas_map_file cmd = {
		.size = sizeof(cmd),
		.flags = MAP_FIXED_RW,
		.ioas_id = self->ioas,
		.start = 0,
		.length = 4 * PSZ,
		.iova = self->base + 32 * PSZ,
	};
	int mfd = memfd_create("iommufd-rs", 0);
	__u64 len;
	char *p;

	ASSERT_LE(0, mfd);
	ASSERT_EQ(0, ftruncate(mfd, 8 * PSZ));
	p = mmap(NULL, 8 * PSZ, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	ASSERT_NE(MAP_FAILED, p);
	cmd.fd = mfd;
	ASSERT_EQ(0, ioctl(self->fd, IOMMU_IOAS_MAP_FILE, &cmd));
	ASSERT_EQ(self->base + 32 * PSZ, cmd.iova);
	/* the domains map the file's pages */
	check_mock_iova(p, cmd.iova, 4 * PSZ);

	cmd.flags = MAP_RW;
	cmd.start = PSZ + 0x10;
	cmd.length = PSZ;
	if (variant->mock_domains) {
		/* a domain maps whole IO pages only */
		EXPECT_ERRNO(EINVAL, ioctl(self->fd, IOMMU_IOAS_MAP_FILE, &cmd));
	} else {
		/* an allocated IOVA follows the file offset's alignment */
		ASSERT_EQ(0, ioctl(self->fd, IOMMU_IOAS_MAP_FILE, &cmd));
		ASSERT_EQ(0x10, cmd.iova % PSZ);
	}

	cmd.fd = -1;
	EXPECT_ERRNO(EBADF, ioctl(self->fd, IOMMU_IOAS_MAP_FILE, &cmd));
	cmd.fd = 1000;
	EXPECT_ERRNO(EBADF, ioctl(self->fd, IOMMU_IOAS_MAP_FILE, &cmd));
	cmd.fd = mfd;
	cmd.length = 0;
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, IOMMU_IOAS_MAP_FILE, &cmd));
	cmd.length = PSZ;
	cmd.start = UINT64_MAX - 10;
	EXPECT_ERRNO(EOVERFLOW, ioctl(self->fd, IOMMU_IOAS_MAP_FILE, &cmd));
	cmd.start = 0;
	cmd.flags = 1 << 5;
	EXPECT_ERRNO(EOPNOTSUPP, ioctl(self->fd, IOMMU_IOAS_MAP_FILE, &cmd));

	/* the file may be closed: the mapping keeps it */
	munmap(p, 8 * PSZ);
	close(mfd);
	ASSERT_EQ(0, ioas_unmap(0, UINT64_MAX, &len));
	ASSERT_EQ((variant->mock_domains ? 4 : 5) * PSZ, len);
}

TEST_F(ioas, iova_ranges_and_allow)
{
	const __u64 base = self->base;
	struct iommu_iova_range ranges[4] = {};
	struct iommu_ioas_iova_ranges q = {
		.size = sizeof(q),
		.ioas_id = self->ioas,
		.num_iovas = 4,
		.allowed_iovas = (uintptr_t)ranges,
	};
	struct iommu_iova_range allow[2] = {
		{ .start = base + 64 * PSZ, .last = base + 128 * PSZ - 1 },
		{ .start = base + 512 * PSZ, .last = base + 1024 * PSZ - 1 },
	};
	struct iommu_ioas_allow_iovas a = {
		.size = sizeof(a),
		.ioas_id = self->ioas,
		.num_iovas = 2,
		.allowed_iovas = (uintptr_t)allow,
	};
	struct iommu_iova_range *tail;
	void *edge;
	__u64 iova;
	int i;

	ASSERT_EQ(0, ioctl(self->fd, IOMMU_IOAS_IOVA_RANGES, &q));
	ASSERT_EQ(1, q.num_iovas);
	if (variant->mock_domains) {
		/* the domains' aperture, in their IO page size */
		ASSERT_EQ(MOCK_APERTURE_START, ranges[0].start);
		ASSERT_EQ(MOCK_APERTURE_LAST, ranges[0].last);
		ASSERT_EQ(MOCK_PAGE_SIZE, q.out_iova_alignment);
	} else {
		ASSERT_EQ(0, ranges[0].start);
		ASSERT_EQ(UINT64_MAX, ranges[0].last);
		ASSERT_EQ(1, q.out_iova_alignment);
	}
	q.num_iovas = 0;
	EXPECT_ERRNO(EMSGSIZE, ioctl(self->fd, IOMMU_IOAS_IOVA_RANGES, &q));
	EXPECT_EQ(1, q.num_iovas);
	q.__reserved = 1;
	EXPECT_ERRNO(EOPNOTSUPP, ioctl(self->fd, IOMMU_IOAS_IOVA_RANGES, &q));

	ASSERT_EQ(0, ioctl(self->fd, IOMMU_IOAS_ALLOW_IOVAS, &a));
	for (i = 0; i < 16; i++) {
		iova = 0;
		ASSERT_EQ(0, ioas_map(self->buf, 4 * PSZ, &iova, MAP_RW));
		ASSERT_TRUE((iova >= allow[0].start &&
			     iova + 4 * PSZ - 1 <= allow[0].last) ||
			    (iova >= allow[1].start &&
			     iova + 4 * PSZ - 1 <= allow[1].last));
	}
	/* the first range is full now */
	iova = 0;
	ASSERT_EQ(0, ioas_map(self->buf, 4 * PSZ, &iova, MAP_RW));
	ASSERT_LE(allow[1].start, iova);
	check_mock_iova(self->buf, iova, 4 * PSZ);
	/* fixed mappings ignore the allowed ranges */
	test_ioctl_ioas_map_fixed(self->buf, PSZ, base + 4 * PSZ);

	/* malformed lists */
	allow[0].last = allow[0].start;
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, IOMMU_IOAS_ALLOW_IOVAS, &a));
	allow[0].last = allow[1].start;
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, IOMMU_IOAS_ALLOW_IOVAS, &a));
	a.allowed_iovas = 8;
	EXPECT_ERRNO(EFAULT, ioctl(self->fd, IOMMU_IOAS_ALLOW_IOVAS, &a));
	/*
	 * A huge count is read one range at a time: a bad range or the end of
	 * readable memory ends it, with no allocation sized by the count.
	 */
	edge = mmap(NULL, 2 * PSZ, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, edge);
	ASSERT_EQ(0, munmap((char *)edge + PSZ, PSZ));
	tail = (struct iommu_iova_range *)((char *)edge + PSZ) - 2;
	tail[0].start = base + 64 * PSZ;
	tail[0].last = base + 128 * PSZ - 1;
	tail[1].start = base + 512 * PSZ;
	tail[1].last = base + 1024 * PSZ - 1;
	a.allowed_iovas = (uintptr_t)tail;
	a.num_iovas = 1U << 28;
	EXPECT_ERRNO(EFAULT, ioctl(self->fd, IOMMU_IOAS_ALLOW_IOVAS, &a));
	tail[1].last = 0;
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, IOMMU_IOAS_ALLOW_IOVAS, &a));
	munmap(edge, PSZ);
	/* clearing the list is always fine */
	a.num_iovas = 0;
	ASSERT_EQ(0, ioctl(self->fd, IOMMU_IOAS_ALLOW_IOVAS, &a));
}

TEST_F(ioas, options)
{
	struct iommu_option o = {
		.size = sizeof(o),
		.option_id = IOMMU_OPTION_HUGE_PAGES,
		.op = IOMMU_OPTION_OP_GET,
		.object_id = self->ioas,
	};
	__u64 iova;

	ASSERT_EQ(0, ioctl(self->fd, IOMMU_OPTION, &o));
	ASSERT_EQ(1, o.val64);

	o.op = IOMMU_OPTION_OP_SET;
	o.val64 = 0;
	if (variant->mock_domains) {
		/* domains with pages in them keep their page sizes */
		test_ioctl_ioas_map_fixed(self->buf, PSZ, self->base);
		EXPECT_ERRNO(EINVAL, ioctl(self->fd, IOMMU_OPTION, &o));
	} else {
		/* a sub-page area forbids page granularity */
		iova = 16 * PSZ + 0x40;
		ASSERT_EQ(0, ioas_map((char *)self->buf + 0x40, 0x40, &iova,
				      MAP_FIXED_RW));
		EXPECT_ERRNO(EADDRINUSE, ioctl(self->fd, IOMMU_OPTION, &o));
	}
	ASSERT_EQ(0, ioas_unmap(0, UINT64_MAX, NULL));
	ASSERT_EQ(0, ioctl(self->fd, IOMMU_OPTION, &o));
	o.op = IOMMU_OPTION_OP_GET;
	o.val64 = 1;
	ASSERT_EQ(0, ioctl(self->fd, IOMMU_OPTION, &o));
	ASSERT_EQ(0, o.val64);
	/* now lengths and addresses must be whole pages */
	iova = 0;
	EXPECT_ERRNO(EINVAL, ioas_map(self->buf, 0x40, &iova, MAP_RW));
	iova = 0;
	ASSERT_EQ(0, ioas_map(self->buf, PSZ, &iova, MAP_RW));
	check_mock_iova(self->buf, iova, PSZ);

	o.op = IOMMU_OPTION_OP_SET;
	o.val64 = 2;
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, IOMMU_OPTION, &o));
	o.op = 7;
	EXPECT_ERRNO(EOPNOTSUPP, ioctl(self->fd, IOMMU_OPTION, &o));
	o.op = IOMMU_OPTION_OP_GET;
	o.option_id = 99;
	EXPECT_ERRNO(EOPNOTSUPP, ioctl(self->fd, IOMMU_OPTION, &o));
	o.option_id = IOMMU_OPTION_HUGE_PAGES;
	o.object_id = 0;
	EXPECT_ERRNO(ENOENT, ioctl(self->fd, IOMMU_OPTION, &o));

	/* rlimit mode is per file and needs an empty file to change */
	o.option_id = IOMMU_OPTION_RLIMIT_MODE;
	o.object_id = 0;
	ASSERT_EQ(0, ioctl(self->fd, IOMMU_OPTION, &o));
	ASSERT_EQ(0, o.val64);
	o.object_id = self->ioas;
	EXPECT_ERRNO(EOPNOTSUPP, ioctl(self->fd, IOMMU_OPTION, &o));
	o.object_id = 0;
	o.op = IOMMU_OPTION_OP_SET;
	o.val64 = 1;
	EXPECT_ERRNO(EBUSY, ioctl(self->fd, IOMMU_OPTION, &o));
}

TEST_F(ioas, vfio_compat_ioas)
{
	struct iommu_vfio_ioas v = {
		.size = sizeof(v),
		.op = IOMMU_VFIO_IOAS_GET,
	};
	unsigned int i;
	__u32 id;

	EXPECT_ERRNO(ENODEV, ioctl(self->fd, IOMMU_VFIO_IOAS, &v));
	v.op = IOMMU_VFIO_IOAS_SET;
	v.ioas_id = NO_ID;
	EXPECT_ERRNO(ENOENT, ioctl(self->fd, IOMMU_VFIO_IOAS, &v));
	v.ioas_id = self->ioas;
	ASSERT_EQ(0, ioctl(self->fd, IOMMU_VFIO_IOAS, &v));
	v.op = IOMMU_VFIO_IOAS_GET;
	v.ioas_id = 0;
	ASSERT_EQ(0, ioctl(self->fd, IOMMU_VFIO_IOAS, &v));
	ASSERT_EQ(self->ioas, v.ioas_id);

	/* the devices on it hold the IOAS; compatibility does not */
	if (variant->mock_domains)
		test_err_destroy(EBUSY, self->ioas);
	for (i = 0; i < variant->mock_domains; i++)
		test_ioctl_destroy(self->stdev[i]);
	/* destroying the IOAS ends compatibility, even when its id returns */
	test_ioctl_destroy(self->ioas);
	EXPECT_ERRNO(ENODEV, ioctl(self->fd, IOMMU_VFIO_IOAS, &v));
	test_ioctl_ioas_alloc(&id);
	ASSERT_EQ(self->ioas, id);
	EXPECT_ERRNO(ENODEV, ioctl(self->fd, IOMMU_VFIO_IOAS, &v));

	v.op = IOMMU_VFIO_IOAS_CLEAR;
	ASSERT_EQ(0, ioctl(self->fd, IOMMU_VFIO_IOAS, &v));
	v.op = 3;
	EXPECT_ERRNO(EOPNOTSUPP, ioctl(self->fd, IOMMU_VFIO_IOAS, &v));
	v.op = IOMMU_VFIO_IOAS_GET;
	v.__reserved = 1;
	EXPECT_ERRNO(EOPNOTSUPP, ioctl(self->fd, IOMMU_VFIO_IOAS, &v));
}

TEST(rlimit_mode_on_empty_file)
{
	struct iommu_option o = {
		.size = sizeof(o),
		.option_id = IOMMU_OPTION_RLIMIT_MODE,
		.op = IOMMU_OPTION_OP_SET,
		.val64 = 1,
	};
	int fd = open("/dev/iommu", O_RDWR);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ioctl(fd, IOMMU_OPTION, &o));
	o.op = IOMMU_OPTION_OP_GET;
	o.val64 = 77;
	ASSERT_EQ(0, ioctl(fd, IOMMU_OPTION, &o));
	ASSERT_EQ(1, o.val64);
	o.op = IOMMU_OPTION_OP_SET;
	o.val64 = 2;
	EXPECT_ERRNO(EINVAL, ioctl(fd, IOMMU_OPTION, &o));
	close(fd);
}

/* Whether the 2 MiB at va are backed by a transparent huge page. */
static bool thp_backed(const void *va)
{
	unsigned long start, end, kb;
	bool in = false, found = false;
	char line[256];
	FILE *f = fopen("/proc/self/smaps", "r");

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx ", &start, &end) == 2)
			in = start <= (uintptr_t)va && (uintptr_t)va < end;
		else if (in && sscanf(line, "AnonHugePages: %lu kB", &kb) == 1)
			found = kb >= 2048;
	}
	fclose(f);
	return found;
}

/*
 * A huge page mapped into the domains is read back from them with one
 * lookup when it is unmapped: the fill recorded its block as one run of
 * pfns (the test kernel's debug assertions also look up each page, and
 * warn if one differs). Pinned by an access meanwhile, whole and in part,
 * the pages are those mapped (the test command compares them), and every
 * pin goes back.
 */
TEST_F(ioas, huge_page_runs)
{
	const size_t huge = 2UL << 20;
	__u64 iova = self->base + (64UL << 20);
	char *raw, *buf;
	long pin0;
	__u32 a[2];
	int afd;

	/* the access is the selftest ABI's, which a production module lacks */
	if (_test_cmd_create_access(self->fd, self->ioas, &afd,
				    MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES)) {
		ASSERT_EQ(ENOTTY, errno);
		SKIP(return, "no IOMMU_TEST_CMD");
	}
	raw = mmap(NULL, 2 * huge, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, raw);
	buf = (char *)(((uintptr_t)raw + huge - 1) & ~(huge - 1));
	madvise(buf, huge, MADV_HUGEPAGE);
	memset(buf, 0x5a, huge);
	if (!thp_backed(buf)) {
		close(afd);
		munmap(raw, 2 * huge);
		SKIP(return, "no transparent huge page");
	}
	pin0 = vm_pin_pages();

	test_ioctl_ioas_map_fixed(buf, huge, iova);
	check_mock_iova(buf, iova, huge);
	test_cmd_access_pages(afd, iova, huge, buf, &a[0]);
	test_cmd_access_pages(afd, iova + 100 * PSZ, 50 * PSZ, buf + 100 * PSZ,
			      &a[1]);
	ASSERT_EQ(pin0 + 512, vm_pin_pages());
	test_cmd_destroy_access_pages(afd, a[0]);
	test_cmd_destroy_access_pages(afd, a[1]);
	close(afd);
	/* the domains hold it still, if there are any */
	ASSERT_EQ(pin0 + (variant->mock_domains ? 512 : 0), vm_pin_pages());
	check_mock_iova(buf, iova, huge);

	test_ioctl_ioas_unmap_all(self->ioas);
	ASSERT_EQ(pin0, vm_pin_pages());
	check_mock_unmapped(iova);
	munmap(raw, 2 * huge);
}

TEST_HARNESS_MAIN
