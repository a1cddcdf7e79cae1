// SPDX-License-Identifier: GPL-2.0-only
/*
 * IOAS semantics without a domain: IOVA allocation, fixed mappings, exact
 * unmap, COPY, MAP_FILE, allowed ranges and options, each error with the errno
 * the C iommufd.ko gives, against which these tests are also run.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/iommufd.h>

#include "kselftest_harness.h"

#define PSZ 4096UL
#define BUF_PAGES 16

static int map(int fd, __u32 ioas, void *va, __u64 len, __u64 *iova,
	       __u32 flags)
{
	struct iommu_ioas_map cmd = {
		.size = sizeof(cmd),
		.flags = flags,
		.ioas_id = ioas,
		.user_va = (uintptr_t)va,
		.length = len,
		.iova = *iova,
	};
	int rc = ioctl(fd, IOMMU_IOAS_MAP, &cmd);

	if (!rc)
		*iova = cmd.iova;
	return rc;
}

#define RW (IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE)
#define FIXED (RW | IOMMU_IOAS_MAP_FIXED_IOVA)

static int unmap(int fd, __u32 ioas, __u64 iova, __u64 len, __u64 *out)
{
	struct iommu_ioas_unmap cmd = {
		.size = sizeof(cmd),
		.ioas_id = ioas,
		.iova = iova,
		.length = len,
	};
	int rc = ioctl(fd, IOMMU_IOAS_UNMAP, &cmd);

	if (!rc && out)
		*out = cmd.length;
	return rc;
}

static int copy(int fd, __u32 dst, __u32 src, __u64 src_iova, __u64 len,
		__u64 *dst_iova, __u32 flags)
{
	struct iommu_ioas_copy cmd = {
		.size = sizeof(cmd),
		.flags = flags,
		.dst_ioas_id = dst,
		.src_ioas_id = src,
		.length = len,
		.dst_iova = *dst_iova,
		.src_iova = src_iova,
	};
	int rc = ioctl(fd, IOMMU_IOAS_COPY, &cmd);

	if (!rc)
		*dst_iova = cmd.dst_iova;
	return rc;
}

FIXTURE(ioas)
{
	int fd;
	__u32 ioas;
	void *buf;
};

FIXTURE_SETUP(ioas)
{
	struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };

	self->fd = open("/dev/iommu", O_RDWR);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, ioctl(self->fd, IOMMU_IOAS_ALLOC, &alloc));
	self->ioas = alloc.out_ioas_id;
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

TEST_F(ioas, map_argument_errors)
{
	struct iommu_ioas_map r = {
		.size = sizeof(r),
		.flags = RW,
		.ioas_id = self->ioas,
		.__reserved = 1,
		.user_va = (uintptr_t)self->buf,
		.length = PSZ,
	};
	__u64 iova = 0;

	/* unknown flags, then reserved, then overflow, then no access */
	EXPECT_EQ(-1, map(self->fd, self->ioas, self->buf, PSZ, &iova, 1 << 3));
	EXPECT_EQ(EOPNOTSUPP, errno);
	iova = UINT64_MAX;
	EXPECT_EQ(-1, map(self->fd, self->ioas, self->buf, PSZ, &iova, RW));
	EXPECT_EQ(EOVERFLOW, errno);
	iova = 0;
	EXPECT_EQ(-1, map(self->fd, self->ioas, self->buf, UINT64_MAX, &iova, RW));
	EXPECT_EQ(EOVERFLOW, errno);
	EXPECT_EQ(-1, map(self->fd, self->ioas, self->buf, PSZ, &iova,
			  IOMMU_IOAS_MAP_FIXED_IOVA));
	EXPECT_EQ(EINVAL, errno);
	/* the IOAS is looked up after the flags */
	EXPECT_EQ(-1, map(self->fd, self->ioas + 1, self->buf, PSZ, &iova, RW));
	EXPECT_EQ(ENOENT, errno);
	EXPECT_EQ(-1, map(self->fd, 0, self->buf, PSZ, &iova, 1 << 3));
	EXPECT_EQ(EOPNOTSUPP, errno);
	/* user_va + length wraps */
	EXPECT_EQ(-1, map(self->fd, self->ioas, (void *)(UINT64_MAX - PSZ + 1),
			  2 * PSZ, &iova, RW));
	EXPECT_EQ(EOVERFLOW, errno);
	EXPECT_EQ(-1, map(self->fd, self->ioas, self->buf, 0, &iova, RW));
	EXPECT_EQ(EINVAL, errno);
	/* a fixed range that wraps the IOVA space */
	iova = UINT64_MAX - PSZ + 1;
	EXPECT_EQ(-1, map(self->fd, self->ioas, self->buf, 2 * PSZ, &iova, FIXED));
	EXPECT_EQ(EOVERFLOW, errno);
	EXPECT_EQ(-1, ioctl(self->fd, IOMMU_IOAS_MAP, &r));
	EXPECT_EQ(EOPNOTSUPP, errno);
}

TEST_F(ioas, auto_iova_placement)
{
	__u64 iova, prev = 0;
	int i;

	/* lowest fit first, never IOVA 0 or the first page */
	for (i = 0; i < 8; i++) {
		iova = 0;
		ASSERT_EQ(0, map(self->fd, self->ioas, self->buf, PSZ, &iova, RW));
		ASSERT_LT(prev, iova);
		ASSERT_LE(PSZ, iova);
		ASSERT_EQ(0, iova % PSZ);
		prev = iova;
	}
	/* a sub-page address keeps its offset in the IOVA */
	iova = 0;
	ASSERT_EQ(0, map(self->fd, self->ioas, (char *)self->buf + 0x123, 0x80,
			 &iova, RW));
	ASSERT_EQ(0x123, iova % PSZ);
	/* a 4 page map from a 2 MiB aligned address is 16 KiB aligned */
	iova = 0;
	ASSERT_EQ(0, map(self->fd, self->ioas, self->buf, 4 * PSZ, &iova, RW));
	ASSERT_EQ(0, iova % (4 * PSZ));
	/* the written-back IOVA is where the area is: unmapping it works */
	ASSERT_EQ(0, unmap(self->fd, self->ioas, iova, 4 * PSZ, NULL));
}

TEST_F(ioas, fixed_overlap_and_exact_unmap)
{
	__u64 iova, len;

	iova = 16 * PSZ;
	ASSERT_EQ(0, map(self->fd, self->ioas, self->buf, 4 * PSZ, &iova, FIXED));
	ASSERT_EQ(16 * PSZ, iova);
	/* any overlap is EEXIST */
	iova = 19 * PSZ;
	EXPECT_EQ(-1, map(self->fd, self->ioas, self->buf, 2 * PSZ, &iova, FIXED));
	EXPECT_EQ(EEXIST, errno);
	iova = 15 * PSZ;
	EXPECT_EQ(-1, map(self->fd, self->ioas, self->buf, 2 * PSZ, &iova, FIXED));
	EXPECT_EQ(EEXIST, errno);
	/* touching is fine */
	iova = 20 * PSZ;
	ASSERT_EQ(0, map(self->fd, self->ioas, self->buf, PSZ, &iova, FIXED));

	/* part of an area cannot be unmapped */
	EXPECT_EQ(-1, unmap(self->fd, self->ioas, 16 * PSZ, PSZ, NULL));
	EXPECT_EQ(ENOENT, errno);
	EXPECT_EQ(-1, unmap(self->fd, self->ioas, 17 * PSZ, 4 * PSZ, NULL));
	EXPECT_EQ(ENOENT, errno);
	/* nothing there */
	EXPECT_EQ(-1, unmap(self->fd, self->ioas, 100 * PSZ, PSZ, NULL));
	EXPECT_EQ(ENOENT, errno);
	EXPECT_EQ(-1, unmap(self->fd, self->ioas, 100 * PSZ, 0, NULL));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, unmap(self->fd, self->ioas, UINT64_MAX, 1, NULL));
	EXPECT_EQ(EOVERFLOW, errno);
	/* [3, 3 + (2^64 - 1) - 1] wraps; [2, ...] would end at U64_MAX */
	EXPECT_EQ(-1, unmap(self->fd, self->ioas, 3, UINT64_MAX - 1, NULL));
	EXPECT_EQ(EOVERFLOW, errno);
	/* a range over both areas and a gap reports what it removed */
	ASSERT_EQ(0, unmap(self->fd, self->ioas, 8 * PSZ, 32 * PSZ, &len));
	ASSERT_EQ(5 * PSZ, len);
	/* everything at once, even when empty */
	ASSERT_EQ(0, unmap(self->fd, self->ioas, 0, UINT64_MAX, &len));
	ASSERT_EQ(0, len);
}

TEST_F(ioas, unmap_stops_at_partial_area)
{
	__u64 iova, len;

	iova = 16 * PSZ;
	ASSERT_EQ(0, map(self->fd, self->ioas, self->buf, PSZ, &iova, FIXED));
	iova = 18 * PSZ;
	ASSERT_EQ(0, map(self->fd, self->ioas, self->buf, 4 * PSZ, &iova, FIXED));
	/* the first area is inside, the second sticks out */
	EXPECT_EQ(-1, unmap(self->fd, self->ioas, 16 * PSZ, 4 * PSZ, NULL));
	EXPECT_EQ(ENOENT, errno);
	/* areas before the failing one are already gone, as upstream */
	EXPECT_EQ(-1, unmap(self->fd, self->ioas, 16 * PSZ, PSZ, NULL));
	EXPECT_EQ(ENOENT, errno);
	ASSERT_EQ(0, unmap(self->fd, self->ioas, 0, UINT64_MAX, &len));
	ASSERT_EQ(4 * PSZ, len);
}

TEST_F(ioas, copy_shares_and_checks)
{
	struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };
	struct iommu_destroy d = { .size = sizeof(d) };
	__u64 iova, dst, len;
	__u32 ro_ioas;

	iova = 16 * PSZ;
	ASSERT_EQ(0, map(self->fd, self->ioas, self->buf, 4 * PSZ, &iova, FIXED));
	iova = 20 * PSZ;
	ASSERT_EQ(0, map(self->fd, self->ioas, self->buf, 4 * PSZ, &iova, FIXED));

	/* a window over two touching areas gives two areas */
	ASSERT_EQ(0, ioctl(self->fd, IOMMU_IOAS_ALLOC, &alloc));
	dst = 0;
	ASSERT_EQ(0, copy(self->fd, alloc.out_ioas_id, self->ioas, 18 * PSZ,
			  4 * PSZ, &dst, RW));
	ASSERT_NE(0, dst);
	EXPECT_EQ(-1, unmap(self->fd, alloc.out_ioas_id, dst, 2 * PSZ + 1, NULL));
	EXPECT_EQ(ENOENT, errno);
	/* the first piece was inside that range and is gone already */
	ASSERT_EQ(0, unmap(self->fd, alloc.out_ioas_id, dst, 4 * PSZ, &len));
	ASSERT_EQ(2 * PSZ, len);

	/* a window leaving the mapped range */
	EXPECT_EQ(-1, copy(self->fd, alloc.out_ioas_id, self->ioas, 22 * PSZ,
			   4 * PSZ, &dst, RW));
	EXPECT_EQ(ENOENT, errno);
	/* into itself, onto a mapped range */
	dst = 20 * PSZ;
	EXPECT_EQ(-1, copy(self->fd, self->ioas, self->ioas, 16 * PSZ, PSZ,
			   &dst, FIXED));
	EXPECT_EQ(EEXIST, errno);
	EXPECT_EQ(-1, copy(self->fd, self->ioas, self->ioas, 16 * PSZ, 0, &dst,
			   RW));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, copy(self->fd, self->ioas, self->ioas, 16 * PSZ, PSZ,
			   &dst, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, copy(self->fd, self->ioas, self->ioas + 7, 16 * PSZ, PSZ,
			   &dst, RW));
	EXPECT_EQ(ENOENT, errno);

	/* read-only memory cannot be copied writable */
	ASSERT_EQ(0, ioctl(self->fd, IOMMU_IOAS_ALLOC, &alloc));
	ro_ioas = alloc.out_ioas_id;
	iova = 16 * PSZ;
	ASSERT_EQ(0, map(self->fd, ro_ioas, self->buf, PSZ, &iova,
			 IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_FIXED_IOVA));
	dst = 0;
	EXPECT_EQ(-1, copy(self->fd, ro_ioas, ro_ioas, 16 * PSZ, PSZ, &dst, RW));
	EXPECT_EQ(EPERM, errno);
	ASSERT_EQ(0, copy(self->fd, ro_ioas, ro_ioas, 16 * PSZ, PSZ, &dst,
			  IOMMU_IOAS_MAP_READABLE));

	/* an IOAS with areas and copies can still be destroyed */
	d.id = ro_ioas;
	ASSERT_EQ(0, ioctl(self->fd, IOMMU_DESTROY, &d));
}

TEST_F(ioas, map_file_memfd)
{
	struct iommu_ioas_map_file cmd = {
		.size = sizeof(cmd),
		.flags = FIXED,
		.ioas_id = self->ioas,
		.start = 0,
		.length = 4 * PSZ,
		.iova = 32 * PSZ,
	};
	int mfd = memfd_create("iommufd-rs", 0);
	__u64 len;

	ASSERT_LE(0, mfd);
	ASSERT_EQ(0, ftruncate(mfd, 8 * PSZ));
	cmd.fd = mfd;
	ASSERT_EQ(0, ioctl(self->fd, IOMMU_IOAS_MAP_FILE, &cmd));
	ASSERT_EQ(32 * PSZ, cmd.iova);

	/* an allocated IOVA follows the file offset's alignment */
	cmd.flags = RW;
	cmd.start = PSZ + 0x10;
	cmd.length = PSZ;
	ASSERT_EQ(0, ioctl(self->fd, IOMMU_IOAS_MAP_FILE, &cmd));
	ASSERT_EQ(0x10, cmd.iova % PSZ);

	cmd.fd = -1;
	EXPECT_EQ(-1, ioctl(self->fd, IOMMU_IOAS_MAP_FILE, &cmd));
	EXPECT_EQ(EBADF, errno);
	cmd.fd = 1000;
	EXPECT_EQ(-1, ioctl(self->fd, IOMMU_IOAS_MAP_FILE, &cmd));
	EXPECT_EQ(EBADF, errno);
	cmd.fd = mfd;
	cmd.length = 0;
	EXPECT_EQ(-1, ioctl(self->fd, IOMMU_IOAS_MAP_FILE, &cmd));
	EXPECT_EQ(EINVAL, errno);
	cmd.length = PSZ;
	cmd.start = UINT64_MAX - 10;
	EXPECT_EQ(-1, ioctl(self->fd, IOMMU_IOAS_MAP_FILE, &cmd));
	EXPECT_EQ(EOVERFLOW, errno);
	cmd.start = 0;
	cmd.flags = 1 << 5;
	EXPECT_EQ(-1, ioctl(self->fd, IOMMU_IOAS_MAP_FILE, &cmd));
	EXPECT_EQ(EOPNOTSUPP, errno);

	/* the file may be closed: the mapping keeps it */
	close(mfd);
	ASSERT_EQ(0, unmap(self->fd, self->ioas, 0, UINT64_MAX, &len));
	ASSERT_EQ(5 * PSZ, len);
}

TEST_F(ioas, iova_ranges_and_allow)
{
	struct iommu_iova_range ranges[4] = {};
	struct iommu_ioas_iova_ranges q = {
		.size = sizeof(q),
		.ioas_id = self->ioas,
		.num_iovas = 4,
		.allowed_iovas = (uintptr_t)ranges,
	};
	struct iommu_iova_range allow[2] = {
		{ .start = 64 * PSZ, .last = 128 * PSZ - 1 },
		{ .start = 512 * PSZ, .last = 1024 * PSZ - 1 },
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
	ASSERT_EQ(0, ranges[0].start);
	ASSERT_EQ(UINT64_MAX, ranges[0].last);
	ASSERT_EQ(1, q.out_iova_alignment);
	q.num_iovas = 0;
	EXPECT_EQ(-1, ioctl(self->fd, IOMMU_IOAS_IOVA_RANGES, &q));
	EXPECT_EQ(EMSGSIZE, errno);
	EXPECT_EQ(1, q.num_iovas);
	q.__reserved = 1;
	EXPECT_EQ(-1, ioctl(self->fd, IOMMU_IOAS_IOVA_RANGES, &q));
	EXPECT_EQ(EOPNOTSUPP, errno);

	ASSERT_EQ(0, ioctl(self->fd, IOMMU_IOAS_ALLOW_IOVAS, &a));
	for (i = 0; i < 16; i++) {
		iova = 0;
		ASSERT_EQ(0, map(self->fd, self->ioas, self->buf, 4 * PSZ, &iova,
				 RW));
		ASSERT_TRUE((iova >= allow[0].start && iova + 4 * PSZ - 1 <= allow[0].last) ||
			    (iova >= allow[1].start && iova + 4 * PSZ - 1 <= allow[1].last));
	}
	/* the first range is full now */
	iova = 0;
	ASSERT_EQ(0, map(self->fd, self->ioas, self->buf, 4 * PSZ, &iova, RW));
	ASSERT_LE(allow[1].start, iova);
	/* fixed mappings ignore the allowed ranges */
	iova = 4 * PSZ;
	ASSERT_EQ(0, map(self->fd, self->ioas, self->buf, PSZ, &iova, FIXED));

	/* malformed lists */
	allow[0].last = allow[0].start;
	EXPECT_EQ(-1, ioctl(self->fd, IOMMU_IOAS_ALLOW_IOVAS, &a));
	EXPECT_EQ(EINVAL, errno);
	allow[0].last = allow[1].start;
	EXPECT_EQ(-1, ioctl(self->fd, IOMMU_IOAS_ALLOW_IOVAS, &a));
	EXPECT_EQ(EINVAL, errno);
	a.allowed_iovas = 8;
	EXPECT_EQ(-1, ioctl(self->fd, IOMMU_IOAS_ALLOW_IOVAS, &a));
	EXPECT_EQ(EFAULT, errno);
	/*
	 * A huge count is read one range at a time: a bad range or the end of
	 * readable memory ends it, with no allocation sized by the count.
	 */
	edge = mmap(NULL, 2 * PSZ, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, edge);
	ASSERT_EQ(0, munmap((char *)edge + PSZ, PSZ));
	tail = (struct iommu_iova_range *)((char *)edge + PSZ) - 2;
	tail[0].start = 64 * PSZ;
	tail[0].last = 128 * PSZ - 1;
	tail[1].start = 512 * PSZ;
	tail[1].last = 1024 * PSZ - 1;
	a.allowed_iovas = (uintptr_t)tail;
	a.num_iovas = 1U << 28;
	EXPECT_EQ(-1, ioctl(self->fd, IOMMU_IOAS_ALLOW_IOVAS, &a));
	EXPECT_EQ(EFAULT, errno);
	tail[1].last = 0;
	EXPECT_EQ(-1, ioctl(self->fd, IOMMU_IOAS_ALLOW_IOVAS, &a));
	EXPECT_EQ(EINVAL, errno);
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

	/* a sub-page area forbids page granularity */
	iova = 16 * PSZ + 0x40;
	ASSERT_EQ(0, map(self->fd, self->ioas, (char *)self->buf + 0x40, 0x40,
			 &iova, FIXED));
	o.op = IOMMU_OPTION_OP_SET;
	o.val64 = 0;
	EXPECT_EQ(-1, ioctl(self->fd, IOMMU_OPTION, &o));
	EXPECT_EQ(EADDRINUSE, errno);
	ASSERT_EQ(0, unmap(self->fd, self->ioas, 0, UINT64_MAX, NULL));
	ASSERT_EQ(0, ioctl(self->fd, IOMMU_OPTION, &o));
	/* now lengths and addresses must be whole pages */
	iova = 0;
	EXPECT_EQ(-1, map(self->fd, self->ioas, self->buf, 0x40, &iova, RW));
	EXPECT_EQ(EINVAL, errno);
	iova = 0;
	ASSERT_EQ(0, map(self->fd, self->ioas, self->buf, PSZ, &iova, RW));

	o.val64 = 2;
	EXPECT_EQ(-1, ioctl(self->fd, IOMMU_OPTION, &o));
	EXPECT_EQ(EINVAL, errno);
	o.op = 7;
	EXPECT_EQ(-1, ioctl(self->fd, IOMMU_OPTION, &o));
	EXPECT_EQ(EOPNOTSUPP, errno);
	o.op = IOMMU_OPTION_OP_GET;
	o.option_id = 99;
	EXPECT_EQ(-1, ioctl(self->fd, IOMMU_OPTION, &o));
	EXPECT_EQ(EOPNOTSUPP, errno);
	o.option_id = IOMMU_OPTION_HUGE_PAGES;
	o.object_id = 0;
	EXPECT_EQ(-1, ioctl(self->fd, IOMMU_OPTION, &o));
	EXPECT_EQ(ENOENT, errno);

	/* rlimit mode is per file and needs an empty file to change */
	o.option_id = IOMMU_OPTION_RLIMIT_MODE;
	o.object_id = 0;
	ASSERT_EQ(0, ioctl(self->fd, IOMMU_OPTION, &o));
	ASSERT_EQ(0, o.val64);
	o.object_id = self->ioas;
	EXPECT_EQ(-1, ioctl(self->fd, IOMMU_OPTION, &o));
	EXPECT_EQ(EOPNOTSUPP, errno);
	o.object_id = 0;
	o.op = IOMMU_OPTION_OP_SET;
	o.val64 = 1;
	EXPECT_EQ(-1, ioctl(self->fd, IOMMU_OPTION, &o));
	EXPECT_EQ(EBUSY, errno);
}

TEST_F(ioas, vfio_compat_ioas)
{
	struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };
	struct iommu_destroy d = { .size = sizeof(d) };
	struct iommu_vfio_ioas v = {
		.size = sizeof(v),
		.op = IOMMU_VFIO_IOAS_GET,
	};

	EXPECT_EQ(-1, ioctl(self->fd, IOMMU_VFIO_IOAS, &v));
	EXPECT_EQ(ENODEV, errno);
	v.op = IOMMU_VFIO_IOAS_SET;
	v.ioas_id = self->ioas + 1;
	EXPECT_EQ(-1, ioctl(self->fd, IOMMU_VFIO_IOAS, &v));
	EXPECT_EQ(ENOENT, errno);
	v.ioas_id = self->ioas;
	ASSERT_EQ(0, ioctl(self->fd, IOMMU_VFIO_IOAS, &v));
	v.op = IOMMU_VFIO_IOAS_GET;
	v.ioas_id = 0;
	ASSERT_EQ(0, ioctl(self->fd, IOMMU_VFIO_IOAS, &v));
	ASSERT_EQ(self->ioas, v.ioas_id);

	/* destroying the IOAS ends compatibility, even when its id returns */
	d.id = self->ioas;
	ASSERT_EQ(0, ioctl(self->fd, IOMMU_DESTROY, &d));
	EXPECT_EQ(-1, ioctl(self->fd, IOMMU_VFIO_IOAS, &v));
	EXPECT_EQ(ENODEV, errno);
	ASSERT_EQ(0, ioctl(self->fd, IOMMU_IOAS_ALLOC, &alloc));
	ASSERT_EQ(self->ioas, alloc.out_ioas_id);
	EXPECT_EQ(-1, ioctl(self->fd, IOMMU_VFIO_IOAS, &v));
	EXPECT_EQ(ENODEV, errno);

	v.op = IOMMU_VFIO_IOAS_CLEAR;
	ASSERT_EQ(0, ioctl(self->fd, IOMMU_VFIO_IOAS, &v));
	v.op = 3;
	EXPECT_EQ(-1, ioctl(self->fd, IOMMU_VFIO_IOAS, &v));
	EXPECT_EQ(EOPNOTSUPP, errno);
	v.op = IOMMU_VFIO_IOAS_GET;
	v.__reserved = 1;
	EXPECT_EQ(-1, ioctl(self->fd, IOMMU_VFIO_IOAS, &v));
	EXPECT_EQ(EOPNOTSUPP, errno);
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
	EXPECT_EQ(-1, ioctl(fd, IOMMU_OPTION, &o));
	EXPECT_EQ(EINVAL, errno);
	close(fd);
}

TEST_HARNESS_MAIN
