// SPDX-License-Identifier: GPL-2.0-only
/*
 * Micro-benchmark of an iommufd implementation, driven by scripts/bench.sh
 * once against the C iommufd.ko and once against iommufd_rs.ko in the same
 * boot. Each invocation measures one thing and prints one line:
 *
 *   iommufd_rs_bench [-T tag] map -c CHUNK [-s SIZE] [-r PASSES]
 *	IOMMU_IOAS_MAP of SIZE bytes (1 GiB by default) in CHUNK sized pieces
 *	at fixed IOVAs, then IOMMU_IOAS_UNMAP of the same pieces, PASSES times
 *	(once by default), with a PASID-capable mock device (and so a mock
 *	domain) attached to the IOAS. Times and counts are summed over passes.
 *	A 4 KiB chunk uses a buffer with MADV_NOHUGEPAGE, anything larger one
 *	with MADV_HUGEPAGE; the line says how much of it THP backed.
 *
 *   iommufd_rs_bench [-T tag] [-D edu] pin [-s SIZE] [-H]
 *	Kernel memory taken by pinning SIZE (1 GiB) of populated memory: one
 *	IOMMU_IOAS_MAP of all of it into the IOAS with the domain, then (mock
 *	only) an in-kernel access pinning all of it too
 *	(IOMMU_TEST_OP_ACCESS_PAGES, 16 MiB a call, which includes the test
 *	op's own page array of 2 MiB per GiB), each step's growth of kernel memory read
 *	from /proc/meminfo. -H backs the buffer with THP.
 *
 *   iommufd_rs_bench [-T tag] [-D edu] failmap [-s SIZE]
 *	IOMMU_IOAS_MAP of SIZE bytes of user address space that has no memory
 *	(PROT_NONE), into the IOAS with the domain: it must fail with EFAULT.
 *	Reports the time to fail, and the peak and the rest of kernel memory
 *	on the way, seen by a thread that samples /proc/meminfo meanwhile.
 *	SIZE defaults to the most the domain takes: 2032 MiB on the mock
 *	domain, 64 GiB on edu's.
 *
 *   iommufd_rs_bench [-T tag] pasid [-d SECONDS] [-p PASID]
 *	IOMMU_TEST_OP_PASID_ATTACH, _REPLACE and _DETACH in a loop on a
 *	PASID-capable mock device, between two paging HWPTs allocated with
 *	IOMMU_HWPT_ALLOC_PASID, for a fixed time.
 *
 * -D edu runs map, pin and failmap on a real IOMMU domain instead of the
 * mock: QEMU's edu device (VM_EDU=1), bound to vfio-pci here, its vfio cdev
 * bound to /dev/iommu (VFIO_DEVICE_BIND_IOMMUFD) and attached to the IOAS,
 * so that the IOAS has the domain of the guest's IOMMU (VT-d or AMD-Vi).
 * vfio-pci must be loaded against the module under test
 * (scripts/vfio-edu.sh).
 *
 * Output: "BENCH <tag> metric=... key=value ...", times in nanoseconds,
 * memory in KiB. Any failing call ends the program with a message and exit
 * status 1 before it prints anything on stdout, so that no figure comes
 * from a broken run.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <linux/iommufd.h>
#include "iommufd_test.h"
/* The selftests' helpers: ioctl wrappers, edu discovery and vfio binding. */
#include "iommufd_rs_util.h"
#include "iommufd_rs_edu.h"

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

#define KIB 1024UL
#define MIB (1024UL * KIB)
#define GIB (1024UL * MIB)
#define HUGE_SZ (2 * MIB)

/*
 * Where each target maps. The mock domain's aperture is [16 MiB, 2 GiB):
 * the timed maps go at 1 GiB, a failing map may take all of it. A real
 * domain has at least 39 bits and reserves only the MSI window below 4 GiB.
 */
struct target {
	const char *name;
	__u64 map_base;
	__u64 map_max;
	__u64 fail_base;
	__u64 fail_max;
	__u64 fail_default;
};

static const struct target mock_target = {
	.name = "mock",
	.map_base = GIB,
	.map_max = GIB,
	.fail_base = MOCK_APERTURE_START,
	.fail_max = (__u64)MOCK_APERTURE_LAST + 1 - MOCK_APERTURE_START,
	.fail_default = (__u64)MOCK_APERTURE_LAST + 1 - MOCK_APERTURE_START,
};

static const struct target edu_target = {
	.name = "edu",
	.map_base = 4 * GIB,
	.map_max = 64 * GIB,
	.fail_base = 128 * GIB,
	.fail_max = 256 * GIB,
	.fail_default = 64 * GIB,
};

static const struct target *target = &mock_target;

static const char *tag = "";

/* Messages on stderr; errno (@e) is kept from before any call that could change it. */
static void vreport(int e, const char *fmt, va_list ap)
{
	fflush(stdout);
	fprintf(stderr, "iommufd_rs_bench: ");
	vfprintf(stderr, fmt, ap);
	if (e)
		fprintf(stderr, ": %s (errno %d)", strerror(e), e);
	fprintf(stderr, "\n");
}

static void report(int e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(e, fmt, ap);
	va_end(ap);
}

static void report_usage(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(0, fmt, ap);
	va_end(ap);
	fprintf(stderr,
		"usage: iommufd_rs_bench [-T tag] [-D edu] map -c CHUNK [-s SIZE] [-r PASSES]\n"
		"       iommufd_rs_bench [-T tag] [-D edu] pin [-s SIZE] [-H]\n"
		"       iommufd_rs_bench [-T tag] [-D edu] failmap [-s SIZE]\n"
		"       iommufd_rs_bench [-T tag] pasid [-d SECONDS] [-p PASID]\n"
		"SIZE and CHUNK take a K, M or G suffix\n");
}

/* A failed call: say which, with errno, and exit 1. */
#define fail(...)                               \
	do {                                    \
		report(errno, __VA_ARGS__);     \
		exit(1);                        \
	} while (0)

/* A call that succeeded with a wrong result: exit 1. */
#define wrong(...)                              \
	do {                                    \
		report(0, __VA_ARGS__);         \
		exit(1);                        \
	} while (0)

/* A wrong command line: exit 2. */
#define usage(...)                              \
	do {                                    \
		report_usage(__VA_ARGS__);      \
		exit(2);                        \
	} while (0)

static __u64 now_ns(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts))
		fail("clock_gettime");
	return (__u64)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static unsigned long parse_size(const char *s)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || end == s)
		usage("bad size '%s'", s);
	switch (*end) {
	case 'K':
		v *= KIB;
		end++;
		break;
	case 'M':
		v *= MIB;
		end++;
		break;
	case 'G':
		v *= GIB;
		end++;
		break;
	}
	if (*end)
		usage("bad size '%s'", s);
	return v;
}

/* The test command ioctl; @what names the op in a failure message. */
static void test_cmd(int fd, struct iommu_test_cmd *cmd, const char *what)
{
	cmd->size = sizeof(*cmd);
	if (ioctl(fd, IOMMU_TEST_CMD, cmd))
		fail("IOMMU_TEST_CMD %s (id %u)", what, cmd->id);
}

struct setup {
	int fd;
	__u32 ioas_id;
	__u32 stdev_id;
	__u32 hwpt_id;
	__u32 idev_id;
	/* -D edu: the vfio cdev, -1 on the mock. */
	int vfio;
};

/*
 * /dev/iommu, an IOAS, and edu's vfio cdev bound to the one and attached to
 * the other.
 */
static void setup_edu(struct setup *s)
{
	struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };
	struct vfio_device_bind_iommufd bind = { .argsz = sizeof(bind) };
	struct vfio_device_attach_iommufd_pt attach = { .argsz = sizeof(attach) };
	char bdf[BDF_LEN];

	memset(s, 0, sizeof(*s));
	if (find_edu(bdf, sizeof(bdf)))
		wrong("no edu device (boot the VM with VM_EDU=1)");
	if (bind_vfio_pci(bdf))
		fail("binding %s to vfio-pci", bdf);
	s->vfio = open_vfio_cdev(bdf);
	if (s->vfio < 0)
		fail("opening the vfio cdev of %s", bdf);
	s->fd = open("/dev/iommu", O_RDWR);
	if (s->fd < 0)
		fail("open /dev/iommu");
	bind.iommufd = s->fd;
	if (ioctl(s->vfio, VFIO_DEVICE_BIND_IOMMUFD, &bind))
		fail("VFIO_DEVICE_BIND_IOMMUFD");
	s->idev_id = bind.out_devid;
	if (ioctl(s->fd, IOMMU_IOAS_ALLOC, &alloc))
		fail("IOMMU_IOAS_ALLOC");
	s->ioas_id = alloc.out_ioas_id;
	attach.pt_id = s->ioas_id;
	if (ioctl(s->vfio, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach))
		fail("VFIO_DEVICE_ATTACH_IOMMUFD_PT");
	s->hwpt_id = attach.pt_id;
	if (!s->idev_id || !s->hwpt_id || s->hwpt_id == s->ioas_id)
		wrong("edu bound as %u, attached to %u: no domain of its own",
		      s->idev_id, s->hwpt_id);
}

/* /dev/iommu, an IOAS, and a PASID-capable mock device attached to it. */
static void setup(struct setup *s)
{
	struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };
	struct iommu_test_cmd md = {
		.op = IOMMU_TEST_OP_MOCK_DOMAIN_FLAGS,
		.mock_domain_flags = { .dev_flags = MOCK_FLAGS_DEVICE_PASID },
	};

	if (target == &edu_target)
		return setup_edu(s);
	s->vfio = -1;
	s->fd = open("/dev/iommu", O_RDWR);
	if (s->fd < 0)
		fail("open /dev/iommu");
	if (ioctl(s->fd, IOMMU_IOAS_ALLOC, &alloc))
		fail("IOMMU_IOAS_ALLOC");
	s->ioas_id = alloc.out_ioas_id;

	md.id = s->ioas_id;
	test_cmd(s->fd, &md, "IOMMU_TEST_OP_MOCK_DOMAIN_FLAGS");
	s->stdev_id = md.mock_domain_flags.out_stdev_id;
	s->hwpt_id = md.mock_domain_flags.out_hwpt_id;
	s->idev_id = md.mock_domain_flags.out_idev_id;
	if (!s->stdev_id || !s->hwpt_id || !s->idev_id) {
		wrong("IOMMU_TEST_OP_MOCK_DOMAIN_FLAGS returned a zero id (%u %u %u)",
		      s->stdev_id, s->hwpt_id, s->idev_id);
	}
}

static void teardown(struct setup *s)
{
	if (s->vfio >= 0 && close(s->vfio))
		fail("close the vfio cdev");
	if (close(s->fd))
		fail("close /dev/iommu");
}

/* Kilobytes of THP backing the mapping at @addr, from /proc/self/smaps. */
static long thp_kib(void *addr)
{
	char line[256], start[32];
	bool in_vma = false;
	long kib = -1;
	FILE *f;

	snprintf(start, sizeof(start), "%lx-", (unsigned long)addr);
	f = fopen("/proc/self/smaps", "r");
	if (!f)
		fail("open /proc/self/smaps");
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, start, strlen(start))) {
			in_vma = true;
		} else if (in_vma && !strncmp(line, "AnonHugePages:", 14)) {
			kib = strtol(line + 14, NULL, 10);
			break;
		}
	}
	fclose(f);
	return kib;
}

static void thp_mode(char *buf, size_t len)
{
	FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
	char *l, *r;

	snprintf(buf, len, "unknown");
	if (!f)
		return;
	if (fgets(buf, len, f)) {
		l = strchr(buf, '[');
		r = l ? strchr(l, ']') : NULL;
		if (l && r) {
			*r = 0;
			memmove(buf, l + 1, r - l);
		} else {
			snprintf(buf, len, "unknown");
		}
	}
	fclose(f);
}

/*
 * A SIZE byte buffer aligned to 2 MiB, faulted in. MAP_POPULATE would fault
 * it in before madvise() could ask for (or refuse) huge pages, so the pages
 * come from MADV_POPULATE_WRITE after the advice, or from touching them.
 */
static void *alloc_buffer(unsigned long size, bool huge)
{
	unsigned long addr, head;
	char *p;

	p = mmap(NULL, size + HUGE_SZ, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		fail("mmap %lu bytes", size + HUGE_SZ);
	addr = (unsigned long)p;
	head = ((addr + HUGE_SZ - 1) & ~(HUGE_SZ - 1)) - addr;
	if (head && munmap(p, head))
		fail("munmap");
	if (munmap(p + head + size, HUGE_SZ - head))
		fail("munmap");
	p += head;

	if (madvise(p, size, huge ? MADV_HUGEPAGE : MADV_NOHUGEPAGE))
		fail("madvise %s", huge ? "MADV_HUGEPAGE" : "MADV_NOHUGEPAGE");
	if (madvise(p, size, MADV_POPULATE_WRITE)) {
		unsigned long off;

		if (errno != EINVAL)
			fail("madvise MADV_POPULATE_WRITE");
		for (off = 0; off < size; off += 4096)
			p[off] = 1;
	}
	return p;
}

static void check_map(struct setup *s, __u64 iova, __u64 len, void *uptr)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_MD_CHECK_MAP,
		.id = s->hwpt_id,
		.check_map = { .iova = iova, .length = len,
			       .uptr = (uintptr_t)uptr },
	};

	test_cmd(s->fd, &cmd, "IOMMU_TEST_OP_MD_CHECK_MAP");
}

static void map_all(struct setup *s, char *buf, unsigned long chunk,
		    unsigned long size)
{
	struct iommu_ioas_map map = {
		.size = sizeof(map),
		.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
			 IOMMU_IOAS_MAP_WRITEABLE,
		.ioas_id = s->ioas_id,
		.length = chunk,
	};
	unsigned long off;

	for (off = 0; off < size; off += chunk) {
		map.user_va = (uintptr_t)buf + off;
		map.iova = target->map_base + off;
		if (ioctl(s->fd, IOMMU_IOAS_MAP, &map))
			fail("IOMMU_IOAS_MAP of %lu bytes at iova 0x%llx",
			     chunk, (unsigned long long)map.iova);
	}
}

static void unmap_all(struct setup *s, unsigned long chunk, unsigned long size)
{
	struct iommu_ioas_unmap unmap = {
		.size = sizeof(unmap),
		.ioas_id = s->ioas_id,
	};
	unsigned long off;

	for (off = 0; off < size; off += chunk) {
		unmap.iova = target->map_base + off;
		unmap.length = chunk;
		if (ioctl(s->fd, IOMMU_IOAS_UNMAP, &unmap))
			fail("IOMMU_IOAS_UNMAP of %lu bytes at iova 0x%llx",
			     chunk, (unsigned long long)unmap.iova);
		if (unmap.length != chunk)
			wrong("IOMMU_IOAS_UNMAP at iova 0x%llx unmapped %llu bytes, not %lu",
			      (unsigned long long)unmap.iova,
			      (unsigned long long)unmap.length, chunk);
	}
}

/* Nothing is left: unmapping everything finds nothing. */
static void check_empty(struct setup *s)
{
	struct iommu_ioas_unmap unmap = {
		.size = sizeof(unmap),
		.ioas_id = s->ioas_id,
		.iova = 0,
		.length = UINT64_MAX,
	};

	if (ioctl(s->fd, IOMMU_IOAS_UNMAP, &unmap)) {
		if (errno != ENOENT)
			fail("IOMMU_IOAS_UNMAP of everything");
		unmap.length = 0;
	}
	if (unmap.length)
		wrong("%llu bytes were still mapped after the unmap loop",
		      (unsigned long long)unmap.length);
}

static int bench_map(unsigned long chunk, unsigned long size,
		     unsigned int passes)
{
	__u64 t0, t_map = 0, t_unmap = 0;
	unsigned int pass;
	char mode[64];
	struct setup s;
	long thp;
	char *buf;

	if (!chunk || chunk % 4096 || !size || size % chunk || size > target->map_max)
		usage("CHUNK: 4 KiB multiple dividing SIZE; SIZE: %llu MiB at most on %s",
		      (unsigned long long)(target->map_max / MIB), target->name);
	if (!passes)
		usage("at least one pass");

	buf = alloc_buffer(size, chunk >= HUGE_SZ);
	thp = thp_kib(buf);
	thp_mode(mode, sizeof(mode));
	setup(&s);

	for (pass = 0; pass < passes; pass++) {
		t0 = now_ns();
		map_all(&s, buf, chunk, size);
		t_map += now_ns() - t0;

		/* Not timed: the mock domain holds the first and last chunk. */
		if (s.vfio < 0) {
			check_map(&s, target->map_base, chunk, buf);
			check_map(&s, target->map_base + size - chunk, chunk,
				  buf + size - chunk);
		}

		t0 = now_ns();
		unmap_all(&s, chunk, size);
		t_unmap += now_ns() - t0;

		check_empty(&s);
	}

	teardown(&s);
	if (munmap(buf, size))
		fail("munmap");

	printf("BENCH %starget=%s metric=map chunk=%lu size=%lu passes=%u bytes=%llu ops=%llu",
	       tag, target->name, chunk, size, passes, (unsigned long long)size * passes,
	       (unsigned long long)size / chunk * passes);
	printf(" map_ns=%llu unmap_ns=%llu thp_kib=%ld thp_mode=%s\n",
	       (unsigned long long)t_map, (unsigned long long)t_unmap, thp, mode);
	return 0;
}

/*
 * Kernel memory from /proc/meminfo, in KiB: what is free, and the sum of
 * the counters kernel allocations land in (slab, large kmalloc included;
 * vmalloc; CPU and IOMMU page tables; stacks; per-CPU areas). Pinning user
 * memory that is already resident changes neither: what moves them is the
 * module's bookkeeping, and the domain's page table.
 */
struct kmem {
	long free;
	long kernel;
	/* kernel, but live slab objects instead of Slab's pages */
	long objects;
};

/*
 * The KiB of live slab objects, from /proc/slabinfo: Slab counts the pages
 * of slab caches, so an allocation that lands in a page a cache already had
 * costs it nothing, and which module gets the free room is chance. -1 if
 * the file cannot be read.
 */
static long slab_objects_kib(void)
{
	unsigned long active, size;
	long long bytes = 0;
	char line[512];
	FILE *f = fopen("/proc/slabinfo", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%*s %lu %*u %lu", &active, &size) == 2)
			bytes += (long long)active * size;
	fclose(f);
	return bytes / 1024;
}

static bool kmem_read(struct kmem *k)
{
	static const char *const counted[] = {
		"Slab:", "VmallocUsed:", "PageTables:", "SecPageTables:",
		"KernelStack:", "Percpu:", NULL,
	};
	char line[256];
	unsigned int i = 0, seen = 0;
	long slab = -1, objects = slab_objects_kib();
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return false;
	k->free = -1;
	k->kernel = 0;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "MemFree:", 8)) {
			k->free = strtol(line + 8, NULL, 10);
			continue;
		}
		if (!strncmp(line, "Slab:", 5))
			slab = strtol(line + 5, NULL, 10);
		for (i = 0; counted[i]; i++) {
			size_t n = strlen(counted[i]);

			if (!strncmp(line, counted[i], n)) {
				k->kernel += strtol(line + n, NULL, 10);
				seen++;
			}
		}
	}
	fclose(f);
	k->objects = objects < 0 || slab < 0 ? -1 : k->kernel - slab + objects;
	return k->free >= 0 && seen == i;
}

/* /proc/meminfo after a pause in which deferred frees (RCU) can run. */
static void kmem_settled(struct kmem *k)
{
	usleep(200 * 1000);
	if (!kmem_read(k))
		wrong("/proc/meminfo lacks one of the counters read");
}

/*
 * The extremes of kernel memory while it runs: the most the kernel
 * counters reached and the least memory was free.
 */
struct sampler {
	pthread_t thread;
	int stop;
	long samples;
	struct kmem worst;
};

static void *sampler_run(void *arg)
{
	struct sampler *s = arg;
	struct kmem k;

	while (!__atomic_load_n(&s->stop, __ATOMIC_ACQUIRE)) {
		if (!kmem_read(&k))
			continue;
		if (k.kernel > s->worst.kernel)
			s->worst.kernel = k.kernel;
		if (k.free < s->worst.free)
			s->worst.free = k.free;
		s->samples++;
	}
	return NULL;
}

static void sampler_start(struct sampler *s)
{
	memset(s, 0, sizeof(*s));
	s->worst.free = LONG_MAX;
	errno = pthread_create(&s->thread, NULL, sampler_run, s);
	if (errno)
		fail("pthread_create");
	/* Let it take its first samples before what it watches starts. */
	usleep(20 * 1000);
}

static void sampler_stop(struct sampler *s)
{
	usleep(20 * 1000);
	__atomic_store_n(&s->stop, 1, __ATOMIC_RELEASE);
	errno = pthread_join(s->thread, NULL);
	if (errno)
		fail("pthread_join");
	if (!s->samples)
		wrong("the /proc/meminfo sampler took no sample");
}

static __u64 map_one(struct setup *s, void *va, __u64 len, __u64 iova)
{
	__u64 t0 = now_ns();

	if (_test_ioctl_ioas_map(s->fd, s->ioas_id, va, len, &iova, MAP_FIXED_RW))
		fail("IOMMU_IOAS_MAP of %llu bytes at iova 0x%llx",
		     (unsigned long long)len, (unsigned long long)iova);
	return now_ns() - t0;
}

static __u64 unmap_one(struct setup *s, __u64 len, __u64 iova)
{
	__u64 t0 = now_ns(), out = 0;

	if (_test_ioctl_ioas_unmap(s->fd, s->ioas_id, iova, len, &out))
		fail("IOMMU_IOAS_UNMAP of %llu bytes at iova 0x%llx",
		     (unsigned long long)len, (unsigned long long)iova);
	if (out != len)
		wrong("IOMMU_IOAS_UNMAP at iova 0x%llx unmapped %llu bytes, not %llu",
		      (unsigned long long)iova, (unsigned long long)out,
		      (unsigned long long)len);
	return now_ns() - t0;
}

/* The most IOMMU_TEST_OP_ACCESS_PAGES pins in one call, in both modules. */
#define ACCESS_CHUNK (16 * MIB)

/*
 * Kernel memory for SIZE bytes pinned: by the IOAS (and its domain), then
 * (mock only) also by an in-kernel access. Growth is measured from the
 * state before the map; "left" is what is still taken after all of it is
 * undone, which should be about nothing.
 */
static int bench_pin(unsigned long size, bool huge)
{
	struct kmem k0, k_map, k_acc = { 0 }, k_end;
	__u64 t_map, t_unmap, t_acc = 0;
	__u32 *pages_ids = NULL;
	int access_fd = -1;
	struct setup s;
	long thp;
	char *buf;

	if (!size || size % HUGE_SZ || size > target->map_max)
		usage("SIZE must be a multiple of 2 MiB, at most %llu MiB on %s",
		      (unsigned long long)target->map_max / MIB, target->name);
	buf = alloc_buffer(size, huge);
	thp = thp_kib(buf);
	setup(&s);
	if (s.vfio < 0 &&
	    _test_cmd_create_access(s.fd, s.ioas_id, &access_fd,
				    MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES))
		fail("IOMMU_TEST_OP_CREATE_ACCESS");

	kmem_settled(&k0);
	t_map = map_one(&s, buf, size, target->map_base);
	kmem_settled(&k_map);
	if (s.vfio < 0)
		check_map(&s, target->map_base, size, buf);
	if (access_fd >= 0) {
		unsigned long n = size / ACCESS_CHUNK, i;

		pages_ids = calloc(n, sizeof(*pages_ids));
		if (!pages_ids)
			fail("calloc");
		t_acc = now_ns();
		for (i = 0; i < n; i++)
			if (_test_cmd_access_pages(s.fd, access_fd,
						   target->map_base + i * ACCESS_CHUNK,
						   ACCESS_CHUNK, buf + i * ACCESS_CHUNK,
						   &pages_ids[i]))
				fail("IOMMU_TEST_OP_ACCESS_PAGES at offset %lu", i * ACCESS_CHUNK);
		t_acc = now_ns() - t_acc;
		kmem_settled(&k_acc);
		for (i = 0; i < n; i++)
			if (_test_cmd_destroy_access_pages(s.fd, access_fd, pages_ids[i]))
				fail("IOMMU_TEST_OP_DESTROY_ACCESS_PAGES");
		free(pages_ids);
		if (close(access_fd))
			fail("close the access");
	}
	t_unmap = unmap_one(&s, size, target->map_base);
	check_empty(&s);
	teardown(&s);
	kmem_settled(&k_end);
	if (munmap(buf, size))
		fail("munmap");

	printf("BENCH %starget=%s metric=pin size=%lu huge=%d thp_kib=%ld", tag,
	       target->name, size, huge, thp);
	printf(" map_kib=%ld map_free_kib=%ld map_ns=%llu unmap_ns=%llu",
	       k_map.kernel - k0.kernel, k0.free - k_map.free,
	       (unsigned long long)t_map, (unsigned long long)t_unmap);
	if (k0.objects >= 0 && k_map.objects >= 0)
		printf(" map_obj_kib=%ld", k_map.objects - k0.objects);
	if (access_fd >= 0)
		printf(" access_kib=%ld access_free_kib=%ld access_ns=%llu",
		       k_acc.kernel - k_map.kernel, k_map.free - k_acc.free,
		       (unsigned long long)t_acc);
	if (access_fd >= 0 && k_map.objects >= 0 && k_acc.objects >= 0)
		printf(" access_obj_kib=%ld", k_acc.objects - k_map.objects);
	printf(" left_kib=%ld", k_end.kernel - k0.kernel);
	if (k0.objects >= 0 && k_end.objects >= 0)
		printf(" left_obj_kib=%ld", k_end.objects - k0.objects);
	printf("\n");
	return 0;
}

/*
 * IOMMU_IOAS_MAP of SIZE bytes of address space with nothing behind it, into
 * the IOAS with the domain: EFAULT. Once unwatched for its time, once
 * watched for the peak of kernel memory on the way.
 */
static int bench_failmap(unsigned long size)
{
	struct kmem k0, k_end;
	struct sampler smp;
	__u64 t_fail = 0;
	struct setup s;
	int i, err;
	char *va;

	if (!size || size % 4096 || size > target->fail_max)
		usage("SIZE must be a multiple of 4 KiB, at most %llu MiB on %s",
		      (unsigned long long)target->fail_max / MIB, target->name);
	va = mmap(NULL, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		  -1, 0);
	if (va == MAP_FAILED)
		fail("mmap %lu bytes PROT_NONE", size);
	setup(&s);

	for (i = 0; i < 2; i++) {
		__u64 iova = target->fail_base, t0;
		int rc;

		if (i == 0)
			kmem_settled(&k0);
		else
			sampler_start(&smp);
		t0 = now_ns();
		rc = _test_ioctl_ioas_map(s.fd, s.ioas_id, va, size, &iova,
					  MAP_FIXED_RW);
		err = errno;
		if (i == 0)
			t_fail = now_ns() - t0;
		else
			sampler_stop(&smp);
		if (rc == 0)
			wrong("IOMMU_IOAS_MAP of %lu bytes of PROT_NONE succeeded", size);
		if (err != EFAULT) {
			errno = err;
			fail("IOMMU_IOAS_MAP of %lu bytes of PROT_NONE: not EFAULT", size);
		}
	}
	check_empty(&s);
	kmem_settled(&k_end);
	teardown(&s);
	if (munmap(va, size))
		fail("munmap");

	printf("BENCH %starget=%s metric=failmap size=%lu ns=%llu peak_kib=%ld",
	       tag, target->name, size, (unsigned long long)t_fail,
	       smp.worst.kernel - k0.kernel);
	printf(" peak_free_kib=%ld left_kib=%ld samples=%ld\n",
	       k0.free - smp.worst.free, k_end.kernel - k0.kernel, smp.samples);
	return 0;
}

static void pasid_op(struct setup *s, __u32 op, __u32 pasid, __u32 pt_id,
		     const char *what)
{
	struct iommu_test_cmd cmd = { .op = op, .id = s->stdev_id };

	/* pasid_attach, pasid_replace and pasid_detach share one layout. */
	cmd.pasid_attach.pasid = pasid;
	cmd.pasid_attach.pt_id = pt_id;
	cmd.size = sizeof(cmd);
	if (ioctl(s->fd, IOMMU_TEST_CMD, &cmd))
		fail("IOMMU_TEST_CMD %s (pasid %u, pt_id %u)", what, pasid, pt_id);
}

static void pasid_check(struct setup *s, __u32 pasid, __u32 hwpt_id)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_PASID_CHECK_HWPT,
		.id = s->stdev_id,
		.pasid_check = { .pasid = pasid, .hwpt_id = hwpt_id },
	};

	test_cmd(s->fd, &cmd, "IOMMU_TEST_OP_PASID_CHECK_HWPT");
}

static __u32 hwpt_alloc_pasid(struct setup *s)
{
	struct iommu_hwpt_alloc cmd = {
		.size = sizeof(cmd),
		.flags = IOMMU_HWPT_ALLOC_PASID,
		.dev_id = s->idev_id,
		.pt_id = s->ioas_id,
		.data_type = IOMMU_HWPT_DATA_NONE,
	};

	if (ioctl(s->fd, IOMMU_HWPT_ALLOC, &cmd))
		fail("IOMMU_HWPT_ALLOC with IOMMU_HWPT_ALLOC_PASID");
	return cmd.out_hwpt_id;
}

#define ATTACH(p, h) pasid_op(&s, IOMMU_TEST_OP_PASID_ATTACH, p, h, "IOMMU_TEST_OP_PASID_ATTACH")
#define REPLACE(p, h) pasid_op(&s, IOMMU_TEST_OP_PASID_REPLACE, p, h, "IOMMU_TEST_OP_PASID_REPLACE")
#define DETACH(p) pasid_op(&s, IOMMU_TEST_OP_PASID_DETACH, p, 0, "IOMMU_TEST_OP_PASID_DETACH")

static int bench_pasid(double secs, __u32 pasid)
{
	struct iommu_test_cmd replace = {
		.op = IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE,
	};
	__u64 t0, t, deadline, iters = 0;
	struct setup s;
	__u32 h1, h2;
	int i;

	if (!pasid || pasid == IOMMU_TEST_PASID_RESERVED)
		usage("pasid %u is not usable here (0 is the RID, %u fails on purpose)",
		      pasid, IOMMU_TEST_PASID_RESERVED);
	if (!(secs > 0))
		usage("the duration must be positive");

	setup(&s);
	h1 = hwpt_alloc_pasid(&s);
	h2 = hwpt_alloc_pasid(&s);

	/*
	 * The automatic domain of the RID is not PASID compatible, and a PASID
	 * can only be attached while the RID is on one that is: move the RID.
	 */
	replace.id = s.stdev_id;
	replace.mock_domain_replace.pt_id = h1;
	test_cmd(s.fd, &replace, "IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE");

	/* Once, checked, then a short warm-up. */
	ATTACH(pasid, h1);
	pasid_check(&s, pasid, h1);
	REPLACE(pasid, h2);
	pasid_check(&s, pasid, h2);
	DETACH(pasid);
	pasid_check(&s, pasid, 0);
	for (i = 0; i < 64; i++) {
		ATTACH(pasid, h1);
		REPLACE(pasid, h2);
		DETACH(pasid);
	}

	t0 = now_ns();
	deadline = t0 + (__u64)(secs * 1e9);
	do {
		ATTACH(pasid, h1);
		REPLACE(pasid, h2);
		DETACH(pasid);
		iters++;
		t = now_ns();
	} while (t < deadline);
	pasid_check(&s, pasid, 0);
	teardown(&s);

	printf("BENCH %smetric=pasid pasid=%u ops=%llu ns=%llu\n", tag, pasid,
	       (unsigned long long)(3 * iters), (unsigned long long)(t - t0));
	return 0;
}

int main(int argc, char **argv)
{
	unsigned long chunk = 0, size = 0;
	unsigned int passes = 1;
	bool huge = false;
	char tagbuf[256];
	double secs = 3;
	__u32 pasid = 100;
	const char *mode;
	int opt;

	while ((opt = getopt(argc, argv, "+T:D:")) != -1) {
		if (opt == 'T') {
			snprintf(tagbuf, sizeof(tagbuf), "%s ", optarg);
			tag = tagbuf;
		} else if (opt == 'D' && !strcmp(optarg, "edu")) {
			target = &edu_target;
		} else if (opt != 'D' || strcmp(optarg, "mock")) {
			usage("unknown option");
		}
	}
	if (optind >= argc)
		usage("no benchmark named");
	mode = argv[optind];
	argc -= optind;
	argv += optind;
	optind = 0;
	while ((opt = getopt(argc, argv, "c:s:r:d:p:H")) != -1) {
		switch (opt) {
		case 'c':
			chunk = parse_size(optarg);
			break;
		case 's':
			size = parse_size(optarg);
			break;
		case 'r':
			passes = strtoul(optarg, NULL, 0);
			break;
		case 'd':
			secs = strtod(optarg, NULL);
			break;
		case 'p':
			pasid = strtoul(optarg, NULL, 0);
			break;
		case 'H':
			huge = true;
			break;
		default:
			usage("unknown option");
		}
	}
	if (optind != argc)
		usage("unexpected argument '%s'", argv[optind]);

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(mode, "map"))
		return bench_map(chunk, size ? size : GIB, passes);
	if (!strcmp(mode, "pin"))
		return bench_pin(size ? size : GIB, huge);
	if (!strcmp(mode, "failmap"))
		return bench_failmap(size ? size : target->fail_default);
	if (!strcmp(mode, "pasid") && target == &mock_target)
		return bench_pasid(secs, pasid);
	usage("unknown benchmark '%s'", mode);
}
