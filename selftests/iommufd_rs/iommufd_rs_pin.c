// SPDX-License-Identifier: GPL-2.0-only
/*
 * Pinning and its accounting. Pages are pinned only when something needs
 * them (here an in-kernel access made with upstream's test command), charged
 * once however many areas share them, bounded by RLIMIT_MEMLOCK, and released
 * exactly once. The charge is read back from /proc/self/status: VmPin
 * (pinned_vm) always, VmLck (locked_vm) in per-process mode.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include <linux/iommufd.h>
#include "iommufd_test.h"

#include "kselftest_harness.h"

#define PSZ 4096UL
#define NPAGES 32
#define LIMIT_PAGES 16

static long status_kb(const char *key)
{
	char line[256];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, strlen(key)))
			kb = strtol(line + strlen(key), NULL, 10);
	fclose(f);
	return kb;
}

#define vm_pin_pages() (status_kb("VmPin:") * 1024 / (long)PSZ)
#define vm_lck_pages() (status_kb("VmLck:") * 1024 / (long)PSZ)

static int drop_ipc_lock(void)
{
	cap_value_t v = CAP_IPC_LOCK;
	cap_t caps = cap_get_proc();
	int rc;

	if (!caps)
		return -1;
	rc = cap_set_flag(caps, CAP_EFFECTIVE, 1, &v, CAP_CLEAR);
	if (!rc)
		rc = cap_set_proc(caps);
	cap_free(caps);
	return rc;
}

static __u32 ioas_alloc(int fd)
{
	struct iommu_ioas_alloc cmd = { .size = sizeof(cmd) };

	if (ioctl(fd, IOMMU_IOAS_ALLOC, &cmd))
		return 0;
	return cmd.out_ioas_id;
}

static int create_access(int fd, __u32 ioas)
{
	struct iommu_test_cmd cmd = {
		.size = sizeof(cmd),
		.op = IOMMU_TEST_OP_CREATE_ACCESS,
		.id = ioas,
		.create_access = {
			.flags = MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES,
		},
	};

	if (ioctl(fd, IOMMU_TEST_CMD, &cmd))
		return -1;
	return cmd.create_access.out_access_fd;
}

static int access_pages(int fd, int afd, __u64 iova, __u64 len, void *uptr,
			__u32 *id)
{
	struct iommu_test_cmd cmd = {
		.size = sizeof(cmd),
		.op = IOMMU_TEST_OP_ACCESS_PAGES,
		.id = afd,
		.access_pages = {
			.iova = iova,
			.length = len,
			.uptr = (uintptr_t)uptr,
		},
	};
	int rc = ioctl(fd, IOMMU_TEST_CMD, &cmd);

	if (!rc)
		*id = cmd.access_pages.out_access_pages_id;
	return rc;
}

static int access_rw(int fd, int afd, __u64 iova, void *data, __u64 len,
		     __u32 flags)
{
	struct iommu_test_cmd cmd = {
		.size = sizeof(cmd),
		.op = IOMMU_TEST_OP_ACCESS_RW,
		.id = afd,
		.access_rw = {
			.iova = iova,
			.length = len,
			.uptr = (uintptr_t)data,
			.flags = flags,
		},
	};

	return ioctl(fd, IOMMU_TEST_CMD, &cmd);
}

static int unpin(int fd, int afd, __u32 id)
{
	struct iommu_test_cmd cmd = {
		.size = sizeof(cmd),
		.op = IOMMU_TEST_OP_DESTROY_ACCESS_PAGES,
		.id = afd,
		.destroy_access_pages = { .access_pages_id = id },
	};

	return ioctl(fd, IOMMU_TEST_CMD, &cmd);
}

static int check_refs(int fd, void *p, size_t len, unsigned int refs)
{
	struct iommu_test_cmd cmd = {
		.size = sizeof(cmd),
		.op = IOMMU_TEST_OP_MD_CHECK_REFS,
		.check_refs = { .length = len, .uptr = (uintptr_t)p, .refs = refs },
	};

	return ioctl(fd, IOMMU_TEST_CMD, &cmd);
}

static int map_fixed(int fd, __u32 ioas, void *va, __u64 len, __u64 iova)
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

	return ioctl(fd, IOMMU_IOAS_MAP, &cmd);
}

#define BASE 0x1000000UL /* 16 MiB */

FIXTURE(pin)
{
	int fd;
	__u32 ioas;
	char *buf;
	long pin0;
};

FIXTURE_SETUP(pin)
{
	struct rlimit lim = {
		.rlim_cur = LIMIT_PAGES * PSZ,
		.rlim_max = LIMIT_PAGES * PSZ,
	};

	ASSERT_EQ(0, drop_ipc_lock());
	ASSERT_EQ(0, setrlimit(RLIMIT_MEMLOCK, &lim));
	self->fd = open("/dev/iommu", O_RDWR);
	ASSERT_LE(0, self->fd);
	self->ioas = ioas_alloc(self->fd);
	ASSERT_NE(0, self->ioas);
	self->buf = mmap(NULL, NPAGES * PSZ, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	ASSERT_NE(MAP_FAILED, self->buf);
	self->pin0 = vm_pin_pages();
	ASSERT_LE(0, self->pin0);
}

FIXTURE_TEARDOWN(pin)
{
	close(self->fd);
	munmap(self->buf, NPAGES * PSZ);
}

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
	ASSERT_EQ(0, map_fixed(self->fd, self->ioas, self->buf, NPAGES * PSZ, BASE));
	ASSERT_EQ(self->pin0, vm_pin_pages());
	ASSERT_EQ(0, check_refs(self->fd, self->buf, NPAGES * PSZ, 0));

	/* an access pins, and the pages are charged once each */
	afd = create_access(self->fd, self->ioas);
	ASSERT_LE(0, afd);
	ASSERT_EQ(0, access_pages(self->fd, afd, BASE, 8 * PSZ, self->buf, &a));
	ASSERT_EQ(self->pin0 + 8, vm_pin_pages());
	ASSERT_EQ(0, check_refs(self->fd, self->buf, 8 * PSZ, 1));
	ASSERT_EQ(0, check_refs(self->fd, self->buf + 8 * PSZ, 8 * PSZ, 0));
	ASSERT_EQ(0, access_pages(self->fd, afd, BASE + 4 * PSZ, 8 * PSZ,
				  self->buf + 4 * PSZ, &b));
	ASSERT_EQ(self->pin0 + 12, vm_pin_pages());

	/* a copy in another IOAS shares the pages: no second charge */
	ioas2 = ioas_alloc(self->fd);
	ASSERT_NE(0, ioas2);
	cp.dst_ioas_id = ioas2;
	ASSERT_EQ(0, ioctl(self->fd, IOMMU_IOAS_COPY, &cp));
	afd2 = create_access(self->fd, ioas2);
	ASSERT_LE(0, afd2);
	ASSERT_EQ(0, access_pages(self->fd, afd2, BASE, 12 * PSZ, self->buf, &c));
	ASSERT_EQ(self->pin0 + 12, vm_pin_pages());

	/* the limit counts distinct pages: 12 + 8 > 16 */
	EXPECT_EQ(-1, access_pages(self->fd, afd, BASE + 16 * PSZ, 8 * PSZ,
				   self->buf + 16 * PSZ, &d));
	EXPECT_EQ(ENOMEM, errno);
	ASSERT_EQ(self->pin0 + 12, vm_pin_pages());
	ASSERT_EQ(0, check_refs(self->fd, self->buf + 16 * PSZ, 8 * PSZ, 0));
	/* 12 + 4 fits exactly */
	ASSERT_EQ(0, access_pages(self->fd, afd, BASE + 16 * PSZ, 4 * PSZ,
				  self->buf + 16 * PSZ, &d));
	ASSERT_EQ(self->pin0 + 16, vm_pin_pages());

	/* pages go only when their last holder lets go */
	ASSERT_EQ(0, unpin(self->fd, afd, a));
	ASSERT_EQ(self->pin0 + 16, vm_pin_pages());
	ASSERT_EQ(0, unpin(self->fd, afd2, c));
	ASSERT_EQ(self->pin0 + 12, vm_pin_pages());
	EXPECT_EQ(-1, unpin(self->fd, afd2, c));
	EXPECT_EQ(ENOENT, errno);
	ASSERT_EQ(0, unpin(self->fd, afd, b));
	ASSERT_EQ(0, unpin(self->fd, afd, d));
	ASSERT_EQ(self->pin0, vm_pin_pages());
	ASSERT_EQ(0, check_refs(self->fd, self->buf, NPAGES * PSZ, 0));

	/* the released charge can be taken again, up to the limit */
	ASSERT_EQ(0, access_pages(self->fd, afd, BASE, 16 * PSZ, self->buf, &a));
	ASSERT_EQ(self->pin0 + 16, vm_pin_pages());

	/* closing everything with pins outstanding releases them */
	close(afd);
	close(afd2);
	close(self->fd);
	self->fd = open("/dev/iommu", O_RDWR);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(self->pin0, vm_pin_pages());
	ASSERT_EQ(0, check_refs(self->fd, self->buf, NPAGES * PSZ, 0));
}

TEST_F(pin, unmap_takes_pins_back)
{
	struct iommu_destroy d = { .size = sizeof(d) };
	__u32 a;
	int afd;
	struct iommu_ioas_unmap un = {
		.size = sizeof(un),
		.ioas_id = self->ioas,
		.iova = BASE,
		.length = NPAGES * PSZ,
	};

	ASSERT_EQ(0, map_fixed(self->fd, self->ioas, self->buf, NPAGES * PSZ, BASE));
	afd = create_access(self->fd, self->ioas);
	ASSERT_LE(0, afd);
	ASSERT_EQ(0, access_pages(self->fd, afd, BASE, 8 * PSZ, self->buf, &a));
	ASSERT_EQ(self->pin0 + 8, vm_pin_pages());
	/* the IOAS cannot go while an access uses it */
	d.id = self->ioas;
	EXPECT_EQ(-1, ioctl(self->fd, IOMMU_DESTROY, &d));
	EXPECT_EQ(EBUSY, errno);
	/* unmapping asks the access to let go, then succeeds */
	ASSERT_EQ(0, ioctl(self->fd, IOMMU_IOAS_UNMAP, &un));
	ASSERT_EQ(NPAGES * PSZ, un.length);
	ASSERT_EQ(self->pin0, vm_pin_pages());
	EXPECT_EQ(-1, unpin(self->fd, afd, a));
	EXPECT_EQ(ENOENT, errno);
	/* pinning what is no longer mapped */
	EXPECT_EQ(-1, access_pages(self->fd, afd, BASE, PSZ, self->buf, &a));
	EXPECT_EQ(ENOENT, errno);
	close(afd);
}

TEST_F(pin, wrong_pages_and_bad_args)
{
	__u32 a;
	int afd;

	ASSERT_EQ(0, map_fixed(self->fd, self->ioas, self->buf, 8 * PSZ, BASE));
	afd = create_access(self->fd, self->ioas);
	ASSERT_LE(0, afd);
	/* uptr must be the memory mapped there */
	EXPECT_EQ(-1, access_pages(self->fd, afd, BASE, PSZ,
				   self->buf + PSZ, &a));
	EXPECT_EQ(EBADE, errno);
	ASSERT_EQ(self->pin0, vm_pin_pages());
	EXPECT_EQ(-1, access_pages(self->fd, afd, BASE, 0, self->buf, &a));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, access_pages(self->fd, afd, BASE + 4 * PSZ, 8 * PSZ,
				   self->buf, &a));
	EXPECT_EQ(ENOENT, errno);
	/* not an access fd, or no fd at all */
	EXPECT_EQ(-1, access_pages(self->fd, self->fd, BASE, PSZ, self->buf, &a));
	EXPECT_EQ(EBADFD, errno);
	EXPECT_EQ(-1, access_pages(self->fd, 999, BASE, PSZ, self->buf, &a));
	EXPECT_EQ(EBADFD, errno);
	ASSERT_EQ(self->pin0, vm_pin_pages());
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
	EXPECT_EQ(-1, create_access(self->fd, self->ioas));
	EXPECT_EQ(EADDRINUSE, errno);
	ASSERT_EQ(0, ioctl(self->fd, IOMMU_IOAS_IOVA_RANGES, &q));
	ASSERT_EQ(1, q.out_iova_alignment);
	ASSERT_EQ(0, ioctl(self->fd, IOMMU_IOAS_UNMAP, &un));

	/* with one attached, the IOAS is page granular */
	afd = create_access(self->fd, self->ioas);
	ASSERT_LE(0, afd);
	ASSERT_EQ(0, ioctl(self->fd, IOMMU_IOAS_IOVA_RANGES, &q));
	ASSERT_EQ(PSZ, q.out_iova_alignment);
	EXPECT_EQ(-1, ioctl(self->fd, IOMMU_IOAS_MAP, &m));
	EXPECT_EQ(EINVAL, errno);

	/* pins start on a page */
	ASSERT_EQ(0, map_fixed(self->fd, self->ioas, self->buf, 4 * PSZ, BASE));
	EXPECT_EQ(-1, access_pages(self->fd, afd, BASE + 0x10, 0x10, NULL, &a));
	EXPECT_EQ(EINVAL, errno);
	ASSERT_EQ(self->pin0, vm_pin_pages());

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

	ASSERT_EQ(0, map_fixed(self->fd, self->ioas, self->buf, 8 * PSZ, BASE));
	ASSERT_EQ(0, ioctl(self->fd, IOMMU_IOAS_MAP, &ro));
	afd = create_access(self->fd, self->ioas);
	ASSERT_LE(0, afd);

	for (slow = 0; slow < 2; slow++) {
		__u32 sf = slow ? MOCK_ACCESS_RW_SLOW_PATH : 0;

		for (i = 0; i < sizeof(out); i++)
			out[i] = (char)(i * 7 + slow);
		/* a device write lands in the user's memory, across pages */
		ASSERT_EQ(0, access_rw(self->fd, afd, BASE + 100, out, sizeof(out),
				       MOCK_ACCESS_RW_WRITE | sf));
		ASSERT_EQ(0, memcmp(self->buf + 100, out, sizeof(out)));
		/* and reads back */
		memset(in, 0, sizeof(in));
		ASSERT_EQ(0, access_rw(self->fd, afd, BASE + 100, in, sizeof(in), sf));
		ASSERT_EQ(0, memcmp(in, out, sizeof(in)));
		/* the slow path pins only for the copy */
		ASSERT_EQ(self->pin0, vm_pin_pages());
	}

	/* read-only memory cannot be written */
	EXPECT_EQ(-1, access_rw(self->fd, afd, BASE + 16 * PSZ, out, 8,
				MOCK_ACCESS_RW_WRITE));
	EXPECT_EQ(EPERM, errno);
	ASSERT_EQ(0, access_rw(self->fd, afd, BASE + 16 * PSZ, in, 8, 0));
	/* not all mapped, nothing, bad flags, too much */
	EXPECT_EQ(-1, access_rw(self->fd, afd, BASE + 7 * PSZ, in, 2 * PSZ, 0));
	EXPECT_EQ(ENOENT, errno);
	EXPECT_EQ(-1, access_rw(self->fd, afd, BASE, in, 0, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, access_rw(self->fd, afd, BASE, in, 8, 1 << 5));
	EXPECT_EQ(EOPNOTSUPP, errno);
	EXPECT_EQ(-1, access_rw(self->fd, afd, BASE, in, (16 << 20) + 1, 0));
	EXPECT_EQ(ENOMEM, errno);
	ASSERT_EQ(self->pin0, vm_pin_pages());
	close(afd);
}

TEST_F(pin, slow_copy_is_not_charged)
{
	char data[2 * PSZ] = {};
	__u32 a;
	int afd;

	ASSERT_EQ(0, map_fixed(self->fd, self->ioas, self->buf, NPAGES * PSZ, BASE));
	afd = create_access(self->fd, self->ioas);
	ASSERT_LE(0, afd);
	/* use up the whole limit */
	ASSERT_EQ(0, access_pages(self->fd, afd, BASE, LIMIT_PAGES * PSZ,
				  self->buf, &a));
	ASSERT_EQ(self->pin0 + LIMIT_PAGES, vm_pin_pages());
	/* a slow copy pins only while it runs: past the limit is fine */
	ASSERT_EQ(0, access_rw(self->fd, afd, BASE + 20 * PSZ + 8, data, 100,
			       MOCK_ACCESS_RW_SLOW_PATH));
	ASSERT_EQ(0, access_rw(self->fd, afd, BASE + 20 * PSZ, data, 2 * PSZ,
			       MOCK_ACCESS_RW_SLOW_PATH));
	ASSERT_EQ(self->pin0 + LIMIT_PAGES, vm_pin_pages());
	/* and over pinned pages too */
	ASSERT_EQ(0, access_rw(self->fd, afd, BASE, data, 2 * PSZ,
			       MOCK_ACCESS_RW_SLOW_PATH));
	ASSERT_EQ(self->pin0 + LIMIT_PAGES, vm_pin_pages());
	ASSERT_EQ(0, unpin(self->fd, afd, a));
	ASSERT_EQ(self->pin0, vm_pin_pages());
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
	afd = create_access(self->fd, self->ioas);
	ASSERT_LE(0, afd);

	/* the pinned pages are the memfd's own, charged like user memory */
	ASSERT_EQ(0, access_pages(self->fd, afd, BASE + PSZ, 4 * PSZ, p + PSZ, &a));
	ASSERT_EQ(self->pin0 + 4, vm_pin_pages());
	ASSERT_EQ(0, check_refs(self->fd, p + PSZ, 4 * PSZ, 1));
	ASSERT_EQ(0, check_refs(self->fd, p, PSZ, 0));
	ASSERT_EQ(0, unpin(self->fd, afd, a));
	ASSERT_EQ(self->pin0, vm_pin_pages());
	ASSERT_EQ(0, check_refs(self->fd, p, 6 * PSZ, 0));

	/* past the end of the file */
	EXPECT_EQ(-1, access_pages(self->fd, afd, BASE + 5 * PSZ, 2 * PSZ, NULL, &a));
	EXPECT_EQ(EINVAL, errno);
	ASSERT_EQ(self->pin0, vm_pin_pages());
	close(afd);
	munmap(p, 6 * PSZ);
	close(mfd);
}

TEST(per_process_mode_charges_locked_vm)
{
	struct rlimit lim = {
		.rlim_cur = LIMIT_PAGES * PSZ,
		.rlim_max = LIMIT_PAGES * PSZ,
	};
	struct iommu_option o = {
		.size = sizeof(o),
		.option_id = IOMMU_OPTION_RLIMIT_MODE,
		.op = IOMMU_OPTION_OP_SET,
		.val64 = 1,
	};
	char *buf = mmap(NULL, NPAGES * PSZ, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	long lck0, pin0;
	int fd, afd;
	__u32 ioas, a, b;

	ASSERT_NE(MAP_FAILED, buf);
	ASSERT_EQ(0, drop_ipc_lock());
	ASSERT_EQ(0, setrlimit(RLIMIT_MEMLOCK, &lim));
	fd = open("/dev/iommu", O_RDWR);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ioctl(fd, IOMMU_OPTION, &o));
	ioas = ioas_alloc(fd);
	ASSERT_EQ(0, map_fixed(fd, ioas, buf, NPAGES * PSZ, BASE));
	lck0 = vm_lck_pages();
	pin0 = vm_pin_pages();

	afd = create_access(fd, ioas);
	ASSERT_LE(0, afd);
	ASSERT_EQ(0, access_pages(fd, afd, BASE, 10 * PSZ, buf, &a));
	ASSERT_EQ(lck0 + 10, vm_lck_pages());
	ASSERT_EQ(pin0 + 10, vm_pin_pages());
	EXPECT_EQ(-1, access_pages(fd, afd, BASE + 10 * PSZ, 7 * PSZ,
				   buf + 10 * PSZ, &b));
	EXPECT_EQ(ENOMEM, errno);
	ASSERT_EQ(lck0 + 10, vm_lck_pages());
	ASSERT_EQ(0, unpin(fd, afd, a));
	ASSERT_EQ(lck0, vm_lck_pages());
	ASSERT_EQ(pin0, vm_pin_pages());
	close(afd);
	close(fd);
	munmap(buf, NPAGES * PSZ);
}

TEST_HARNESS_MAIN
