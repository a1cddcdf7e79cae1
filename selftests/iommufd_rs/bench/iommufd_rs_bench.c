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
 *   iommufd_rs_bench [-T tag] pasid [-d SECONDS] [-p PASID]
 *	IOMMU_TEST_OP_PASID_ATTACH, _REPLACE and _DETACH in a loop on a
 *	PASID-capable mock device, between two paging HWPTs allocated with
 *	IOMMU_HWPT_ALLOC_PASID, for a fixed time.
 *
 * Output: "BENCH <tag> metric=... key=value ...", times in nanoseconds. Any
 * failing call ends the program with a message and exit status 1 before it
 * prints anything on stdout, so that no figure comes from a broken run.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
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

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

#define KIB 1024UL
#define MIB (1024UL * KIB)
#define GIB (1024UL * MIB)
#define HUGE_SZ (2 * MIB)

/* Inside the mock domain's aperture [16 MiB, 2 GiB), 1 GiB aligned. */
#define IOVA_BASE GIB
#define MAX_SIZE GIB

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
		"usage: iommufd_rs_bench [-T tag] map -c CHUNK [-s SIZE] [-r PASSES]\n"
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
};

/* /dev/iommu, an IOAS, and a PASID-capable mock device attached to it. */
static void setup(struct setup *s)
{
	struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };
	struct iommu_test_cmd md = {
		.op = IOMMU_TEST_OP_MOCK_DOMAIN_FLAGS,
		.mock_domain_flags = { .dev_flags = MOCK_FLAGS_DEVICE_PASID },
	};

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
		map.iova = IOVA_BASE + off;
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
		unmap.iova = IOVA_BASE + off;
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

	if (!chunk || chunk % 4096 || !size || size % chunk || size > MAX_SIZE)
		usage("CHUNK must be a multiple of 4 KiB dividing SIZE, SIZE at most 1 GiB");
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
		check_map(&s, IOVA_BASE, chunk, buf);
		check_map(&s, IOVA_BASE + size - chunk, chunk, buf + size - chunk);

		t0 = now_ns();
		unmap_all(&s, chunk, size);
		t_unmap += now_ns() - t0;

		check_empty(&s);
	}

	teardown(&s);
	if (munmap(buf, size))
		fail("munmap");

	printf("BENCH %smetric=map chunk=%lu size=%lu passes=%u bytes=%llu ops=%llu",
	       tag, chunk, size, passes, (unsigned long long)size * passes,
	       (unsigned long long)size / chunk * passes);
	printf(" map_ns=%llu unmap_ns=%llu thp_kib=%ld thp_mode=%s\n",
	       (unsigned long long)t_map, (unsigned long long)t_unmap, thp, mode);
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
	unsigned long chunk = 0, size = GIB;
	unsigned int passes = 1;
	char tagbuf[256];
	double secs = 3;
	__u32 pasid = 100;
	const char *mode;
	int opt;

	while ((opt = getopt(argc, argv, "+T:")) != -1) {
		if (opt != 'T')
			usage("unknown option");
		snprintf(tagbuf, sizeof(tagbuf), "%s ", optarg);
		tag = tagbuf;
	}
	if (optind >= argc)
		usage("no benchmark named");
	mode = argv[optind];
	argc -= optind;
	argv += optind;
	optind = 0;
	while ((opt = getopt(argc, argv, "c:s:r:d:p:")) != -1) {
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
		default:
			usage("unknown option");
		}
	}
	if (optind != argc)
		usage("unexpected argument '%s'", argv[optind]);

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(mode, "map"))
		return bench_map(chunk, size, passes);
	if (!strcmp(mode, "pasid"))
		return bench_pasid(secs, pasid);
	usage("unknown benchmark '%s'", mode);
}
