// SPDX-License-Identifier: GPL-2.0-only
/*
 * An ioctl fuzzer for /dev/iommu: random and mutated structs over every
 * iommufd ioctl of the test kernel's uAPI, the selftest command
 * (IOMMU_TEST_CMD) and the VFIO type1 compat ioctls, on one fd shared by
 * several threads, with object ids drawn from the objects alive (and stale
 * and random ones mixed in), and the fd closed and reopened now and then.
 * It also reads and writes the fds the kernel hands out (fault queues,
 * vEVENTQs) and mmaps /dev/iommu.
 *
 *   iommufd_rs_fuzz [-s SEED] [-n CALLS] [-t THREADS] [-r REOPEN] [-T SECS] [-v]
 *                   [-x TEXT]... [-o TEXT]... [-l]
 *
 * -s replays a seed (printed first as "# seed N"), -n is the number of
 * calls over all threads, -t the number of threads, -r the mean number of
 * calls of a thread between two reopens of /dev/iommu (0: never), -T the
 * harness timeout, -v prints every call with its struct. -x leaves out the
 * calls whose name contains TEXT, -o keeps only those, -l lists the names;
 * both narrow a finding down. Each thread has a
 * PRNG seeded from the seed and its index; with -t 1 a run replays exactly.
 *
 * The fuzzer checks that every call fails, if it does, with an errno of a
 * known set (calibrated on the C iommufd.ko; see sane_errno()), that the
 * process survives, and that once all is closed nothing stays pinned
 * (VmPin 0, MD_CHECK_REFS 0) and a new /dev/iommu still allocates an IOAS.
 * The kernel's own reports (WARN, BUG, lockdep, kmemleak) and the module's
 * unload are checked by the VM runner. It prints a histogram of results per
 * call and the calls per second.
 *
 * Pointers given to the kernel only ever point into buffers the fuzzer
 * keeps for that (or nowhere valid): the kernel may write anything there.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <pthread.h>
#include <sys/capability.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>

#include <linux/vfio.h>

#include "kselftest_harness.h"
#include "iommufd_rs_util.h"

/* The arg area of a thread: structs go here, a guard page follows. */
#define ARG_LEN (16 * PSZ)
/* Inputs the kernel reads through pointers (ranges, entries, data). */
#define DATA_LEN (16 * PSZ)
/* The memory mapped into IOASes: anonymous, and a memfd. */
#define BUF_LEN (256 * PSZ)
#define MEM_LEN (256 * PSZ)
#define HUGE_LEN (2 * 1024 * 1024UL)
#define HOLE_LEN (16 * PSZ)
/* Where all user memory the kernel may map is; see region_map(). */
#define REGION_LEN (16ULL << 30)
#define USER_TOP (128ULL << 40)
/* mmap_min_addr: nothing is ever mapped below. */
#define MIN_MAP 65536ULL
#define POOL_LEN 512
#define STALE_LEN 32
#define MAX_THREADS 64
#define NR_ERRNO 160
/* Not a user address: the kernel's direct map, and non-canonical. */
#define KERNEL_VA 0xffff888000000000ULL
#define NONCANON_VA 0x8000000000000000ULL

static struct {
	unsigned long long seed;
	unsigned long calls;
	int threads;
	unsigned long reopen;
	int timeout;
	int verbose;
} opt = {
	.calls = 200000,
	.threads = 4,
	.reopen = 5000,
};

/* Object kinds; the ones from K_ACCESS on are fds of this process. */
enum okind {
	K_IOAS,
	K_HWPT,
	K_NESTED,
	K_IDEV,
	K_STDEV,
	K_FAULT,
	K_VIOMMU,
	K_VDEV,
	K_VEVENTQ,
	K_HWQ,
	K_APAGES,
	K_ACCESS,
	K_FAULT_FD,
	K_VEVENTQ_FD,
	K_DMABUF,
	NR_KINDS,
};

#define is_fd_kind(k) ((k) >= K_ACCESS)

struct obj {
	enum okind kind;
	__u32 id;
	/* K_STDEV: its idev; K_APAGES: its access fd. */
	__u32 aux;
};

/* A mapping that succeeded, to aim later calls at. */
struct mapping {
	__u64 iova;
	__u64 va;
	__u64 len;
};

struct fthread;

struct op {
	const char *name;
	int weight;
	void (*fn)(struct fthread *t, int op);
	/* A file operation (read, write, mmap, close) rather than an ioctl. */
	bool file_op;
};

struct fuzz {
	/* /dev/iommu; a reopen replaces the file under this number (dup2). */
	int fd;
	pthread_mutex_t lock;
	struct obj pool[POOL_LEN];
	unsigned int npool;
	__u32 stale[STALE_LEN];
	unsigned int nstale;
	char *region;
	size_t region_used;
	char *buf, *mem, *huge, *hole, *ro;
	int memfd, hugefd;
	unsigned long done;
	unsigned long reopens;
	unsigned long bad;
	unsigned long progress_step;
	/* [op][0]: successes, [op][e]: errno e, [op][NR_ERRNO]: any other */
	unsigned long (*stat)[NR_ERRNO + 1];
};

struct fthread {
	struct fuzz *f;
	int idx;
	__u64 rng;
	unsigned long calls;
	unsigned long done;
	char *arg, *data, *rw;
	bool arg_dirty;
	struct mapping maps[8];
	unsigned int nmaps;
	__u64 mmap_off, mmap_len;
	pthread_t th;
};

static const char *op_name(int op);
static bool op_is_file(int op);

/* PRNG: splitmix64 to seed, xorshift64* to draw. */
static __u64 splitmix(__u64 x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static __u64 rnd64(struct fthread *t)
{
	t->rng ^= t->rng >> 12;
	t->rng ^= t->rng << 25;
	t->rng ^= t->rng >> 27;
	return t->rng * 0x2545f4914f6cdd1dULL;
}

static __u32 rnd32(struct fthread *t)
{
	return rnd64(t) >> 32;
}

/* A number in [0, n). */
static __u64 below(struct fthread *t, __u64 n)
{
	return n ? rnd64(t) % n : 0;
}

static bool chance(struct fthread *t, unsigned int pct)
{
	return below(t, 100) < pct;
}

/*
 * The errnos a call may fail with: what the C iommufd.ko gave over runs of
 * this fuzzer (and iommufd_rs.ko gives no other), and what its code
 * returns on paths the fuzzer reaches rarely:
 *
 *   ENOENT EINVAL EFAULT E2BIG EOPNOTSUPP EOVERFLOW ENOMEM   everywhere
 *   EBUSY     objects in use, PASIDs taken, RLIMIT mode with objects
 *   EEXIST    IOVAs taken, vDEVICE ids, one vEVENTQ per type
 *   EADDRINUSE  reserved IOVAs, apertures
 *   ENOSPC    no IOVA space left
 *   EPERM     copies and pins without the permission asked for
 *   EMSGSIZE  IOVA_RANGES with too small an array
 *   EBADF, EBADFD  fds that are none, or not of the right kind
 *   EBADE     ACCESS_PAGES: pinned pages not those at uptr
 *   EIO       MD_CHECK_REFS: a page with other refs
 *   ENODEV    VFIO compat without an IOAS or type set, mmap (rust)
 *   ENXIO     mmap (C), MAP_FILE without dma-buf support
 *   ENOTTY    unknown commands, and those iommufd_rs.ko lacks
 *             (VEVENTQ_ALLOC, HW_QUEUE_ALLOC, NOIOMMU_GET_PA)
 *   ERANGE    HW queue ranges; EDEADLK an unmap that gives up (with a WARN)
 *   ESPIPE    reads and writes of the event fds at an offset
 */
static bool sane_errno(int e, bool file_op)
{
	switch (e) {
	case ENOENT: case EINVAL: case EFAULT: case E2BIG: case EOPNOTSUPP:
	case EOVERFLOW: case ENOMEM: case EBUSY: case EEXIST:
	case EADDRINUSE: case ENOSPC: case EPERM: case EMSGSIZE: case EBADF:
	case EBADFD: case EBADE: case EIO: case ENODEV: case ENXIO:
	case ENOTTY: case ERANGE: case EDEADLK:
		return true;
	case ESPIPE:
		return file_op;
	}
	return false;
}

/* Memory */

/* len bytes read-write, then a guard page; NULL on failure. */
static char *map_guarded(size_t len, int fd, int flags)
{
	char *p = mmap(NULL, len + PSZ, PROT_NONE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	if (mmap(p, len, PROT_READ | PROT_WRITE, flags | MAP_FIXED |
		 (fd < 0 ? MAP_ANONYMOUS : 0), fd, 0) == MAP_FAILED) {
		munmap(p, len + PSZ);
		return NULL;
	}
	return p;
}

/*
 * The memory the kernel may map from user addresses lies in one region
 * reserved PROT_NONE: an IOAS mapping is pinned lazily, a page at any
 * offset (through an access), so a mapping that reached past a guard page
 * could have the kernel write into the fuzzer's own memory. fit_len() keeps
 * every mapping inside the region (or where no user memory can be).
 * Buffers are placed in it 2 MiB aligned, with PROT_NONE between them.
 */
static char *region_map(struct fuzz *f, size_t len, int prot, int flags,
			int fd)
{
	char *p = f->region + f->region_used;

	if (f->region_used + len + HUGE_LEN > REGION_LEN)
		return NULL;
	f->region_used += (len + 2 * HUGE_LEN - 1) & ~(HUGE_LEN - 1);
	if (mmap(p, len, prot, flags | MAP_FIXED | (fd < 0 ? MAP_ANONYMOUS : 0),
		 fd, 0) == MAP_FAILED)
		return NULL;
	return p;
}

/* A length for a mapping of user memory at va, kept within the region. */
static __u64 fit_len(struct fuzz *f, __u64 va, __u64 len)
{
	__u64 start = (uintptr_t)f->region, end = start + REGION_LEN;

	/* Wraps (EOVERFLOW), or above all user memory. */
	if (va + len < va || va >= USER_TOP)
		return len;
	if (va >= start && va < end)
		return len < end - va ? len : end - va;
	/* NULL and the like: below the lowest address a process can map. */
	return va < MIN_MAP && len > MIN_MAP - va ? MIN_MAP - va :
	       va < MIN_MAP ? len : 0;
}

/* The pool of objects */

static void pool_stale(struct fuzz *f, __u32 id)
{
	f->stale[f->nstale++ % STALE_LEN] = id;
}

/* Drops entry i, closing it if it is an fd. Called locked. */
static void pool_drop(struct fuzz *f, unsigned int i)
{
	struct obj o = f->pool[i];

	f->pool[i] = f->pool[--f->npool];
	if (is_fd_kind(o.kind))
		close(o.id);
	else
		pool_stale(f, o.id);
}

/* Whether fd is in the pool already; called locked. */
static bool pool_has_fd(struct fuzz *f, int fd)
{
	unsigned int i;

	for (i = 0; i < f->npool; i++)
		if (is_fd_kind(f->pool[i].kind) && (int)f->pool[i].id == fd)
			return true;
	return false;
}

static void pool_add(struct fthread *t, enum okind kind, __u32 id, __u32 aux)
{
	struct fuzz *f = t->f;

	if (!is_fd_kind(kind) && !id)
		return;
	/* Only an fd of the kernel's making is ever closed. */
	if (is_fd_kind(kind) && ((int)id < 3 || (int)id == f->fd ||
				 (int)id == f->memfd || (int)id == f->hugefd ||
				 fcntl(id, F_GETFD) < 0))
		return;
	pthread_mutex_lock(&f->lock);
	if (!is_fd_kind(kind) || !pool_has_fd(f, id)) {
		if (f->npool == POOL_LEN)
			pool_drop(f, below(t, POOL_LEN));
		f->pool[f->npool++] = (struct obj){ kind, id, aux };
	}
	pthread_mutex_unlock(&f->lock);
}

/*
 * The dma-buf fds the kernel installed without saying which: the C
 * iommufd.ko's IOMMU_TEST_OP_DMABUF_GET returns 0, not the fd (upstream's
 * selftest expects the fd). Each is found in /proc/self/fd and kept.
 */
static void adopt_dmabufs(struct fthread *t)
{
	char path[64], link[64];
	ssize_t len;
	int fd;

	for (fd = 3; fd < 1024; fd++) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		len = readlink(path, link, sizeof(link) - 1);
		if (len < 0)
			continue;
		link[len] = 0;
		if (!strncmp(link, "/dmabuf", 7))
			pool_add(t, K_DMABUF, fd, 0);
	}
}

/* An entry of the kind asked for, at random; false if there is none. */
static bool pool_pick(struct fthread *t, enum okind kind, struct obj *o)
{
	struct fuzz *f = t->f;
	unsigned int i, n = 0, pick;
	bool found = false;

	pthread_mutex_lock(&f->lock);
	for (i = 0; i < f->npool; i++)
		n += f->pool[i].kind == kind;
	if (n) {
		pick = below(t, n);
		for (i = 0; i < f->npool; i++) {
			if (f->pool[i].kind == kind && !pick--) {
				*o = f->pool[i];
				found = true;
				break;
			}
		}
	}
	pthread_mutex_unlock(&f->lock);
	return found;
}

/* An object id: mostly a live one of kind, else any, stale or random. */
static __u32 pick_id(struct fthread *t, enum okind kind)
{
	struct fuzz *f = t->f;
	unsigned int r = below(t, 100);
	struct obj o;
	__u32 id = 0;

	if (r < 75 && pool_pick(t, kind, &o))
		return o.id;
	if (r < 85 && pool_pick(t, below(t, NR_KINDS), &o))
		return o.id;
	if (r < 92) {
		pthread_mutex_lock(&f->lock);
		if (f->nstale)
			id = f->stale[below(t, f->nstale < STALE_LEN ?
						  f->nstale : STALE_LEN)];
		pthread_mutex_unlock(&f->lock);
		return id;
	}
	switch (below(t, 4)) {
	case 0:
		return below(t, 8);
	case 1:
		return NO_ID;
	case 2:
		return ~0U;
	}
	return rnd32(t);
}

/* Forgets the objects of id (a successful IOMMU_DESTROY). */
static void pool_forget(struct fuzz *f, __u32 id)
{
	unsigned int i;

	pthread_mutex_lock(&f->lock);
	for (i = 0; i < f->npool;) {
		if (!is_fd_kind(f->pool[i].kind) && f->pool[i].id == id)
			pool_drop(f, i);
		else
			i++;
	}
	pthread_mutex_unlock(&f->lock);
}

/* Closes an fd of the kind asked for, and what hangs on it. */
static bool pool_close(struct fthread *t, enum okind kind)
{
	struct fuzz *f = t->f;
	unsigned int i, n = 0, pick;
	int fd = -1;

	pthread_mutex_lock(&f->lock);
	for (i = 0; i < f->npool; i++)
		n += f->pool[i].kind == kind;
	if (n) {
		pick = below(t, n);
		for (i = 0; i < f->npool; i++) {
			if (f->pool[i].kind == kind && !pick--) {
				fd = f->pool[i].id;
				pool_drop(f, i);
				break;
			}
		}
		for (i = 0; kind == K_ACCESS && i < f->npool;) {
			if (f->pool[i].kind == K_APAGES &&
			    f->pool[i].aux == (__u32)fd)
				pool_drop(f, i);
			else
				i++;
		}
	}
	pthread_mutex_unlock(&f->lock);
	return fd >= 0;
}

/* Empties the pool, closing the fds; called locked. */
static void pool_clear(struct fuzz *f)
{
	while (f->npool)
		pool_drop(f, f->npool - 1);
}

/* Closes /dev/iommu and every fd that holds it, and opens it afresh. */
static void reopen(struct fthread *t)
{
	struct fuzz *f = t->f;
	int nfd;

	pthread_mutex_lock(&f->lock);
	pool_clear(f);
	nfd = open("/dev/iommu", O_RDWR);
	if (nfd >= 0) {
		dup2(nfd, f->fd);
		close(nfd);
	}
	f->reopens++;
	pthread_mutex_unlock(&f->lock);
}

/* Values */

static void note_map(struct fthread *t, __u64 iova, __u64 va, __u64 len)
{
	t->maps[t->nmaps++ % ARRAY_SIZE(t->maps)] =
		(struct mapping){ iova, va, len };
}

/* A mapping made earlier, or a made-up one. */
static struct mapping pick_map(struct fthread *t)
{
	unsigned int n = t->nmaps < ARRAY_SIZE(t->maps) ? t->nmaps :
		ARRAY_SIZE(t->maps);

	if (n && chance(t, 90))
		return t->maps[below(t, n)];
	return (struct mapping){ BASE, (uintptr_t)t->f->buf, PSZ };
}

static __u64 pick_iova(struct fthread *t)
{
	struct mapping m;

	switch (below(t, 14)) {
	case 0:
		return 0;
	case 1:
		return BASE;
	case 2:
		return BASE + below(t, 64) * PSZ;
	case 3:
		return BASE + below(t, (MOCK_APERTURE_LAST - BASE) / PSZ) * PSZ;
	case 4:
		return (__u64)MOCK_APERTURE_LAST + 1 - below(t, 4) * PSZ;
	case 5:
	case 6:
		return pick_map(t).iova;
	case 7:
		m = pick_map(t);
		return m.iova + below(t, m.len + 1);
	case 8:
		return -(below(t, 4) + 1) * PSZ;
	case 9:
		return rnd64(t) & ~(PSZ - 1);
	case 10:
		return rnd64(t);
	case 11:
		return 1ULL << below(t, 64);
	case 12:
		return BASE + below(t, 64) * MOCK_PAGE_SIZE;
	}
	return ~0ULL - below(t, 2);
}

static __u64 pick_len(struct fthread *t)
{
	switch (below(t, 14)) {
	case 0:
		return 0;
	case 1:
	case 2:
		return PSZ;
	case 3:
	case 4:
		return (1 + below(t, 16)) * PSZ;
	case 5:
		return (1 + below(t, BUF_LEN / PSZ)) * PSZ;
	case 6:
		return BUF_LEN;
	case 7:
		return 1 + below(t, PSZ);
	case 8:
		return ~0ULL;
	case 9:
		return -PSZ;
	case 10:
		return 1ULL << below(t, 64);
	case 11:
		return rnd64(t);
	case 12:
		return MOCK_PAGE_SIZE * (1 + below(t, 8));
	}
	return pick_map(t).len;
}

/*
 * A user address for memory the kernel maps, pins, reads or writes: in the
 * fuzzer's own buffers, or where nothing can be reached.
 */
static __u64 pick_va(struct fthread *t)
{
	struct fuzz *f = t->f;

	switch (below(t, 20)) {
	case 0 ... 8:
		return (uintptr_t)f->buf + below(t, BUF_LEN / PSZ) * PSZ;
	case 9:
		return (uintptr_t)f->buf + below(t, BUF_LEN);
	case 10:
	case 11:
		return (uintptr_t)f->mem + below(t, MEM_LEN / PSZ) * PSZ;
	case 12:
		if (f->huge)
			return (uintptr_t)f->huge +
			       below(t, HUGE_LEN / PSZ) * PSZ;
		return (uintptr_t)f->buf;
	case 13:
		return pick_map(t).va;
	case 14:
		return 0;
	case 15:
		return (uintptr_t)f->hole + below(t, HOLE_LEN);
	case 16:
		return (uintptr_t)f->ro;
	case 17:
		return (uintptr_t)t->data + below(t, DATA_LEN);
	case 18:
		return KERNEL_VA + below(t, 1 << 20) * PSZ;
	}
	return NONCANON_VA;
}

/* A pointer to inputs made in the thread's data area, now and then not. */
static __u64 in_ptr(struct fthread *t)
{
	return chance(t, 85) ? (uintptr_t)t->data : pick_va(t);
}

/* A pointer for the kernel to write to. */
static __u64 out_ptr(struct fthread *t)
{
	return chance(t, 80) ? (uintptr_t)t->data + below(t, 4) * 8 :
			       pick_va(t);
}

/* Random bits now and then, else the value. */
static __u32 flags_or_junk(struct fthread *t, __u32 flags)
{
	if (chance(t, 6))
		return rnd32(t);
	if (chance(t, 4))
		return flags | (1U << below(t, 32));
	return flags;
}

/* Issuing calls */

/* Records the result of one call of op: its errno if ret < 0. */
static void account(struct fthread *t, int op, long ret, int err)
{
	struct fuzz *f = t->f;
	int b = ret >= 0 ? 0 : err > 0 && err < NR_ERRNO ? err : NR_ERRNO;
	unsigned long done;

	__atomic_add_fetch(&f->stat[op][b], 1, __ATOMIC_RELAXED);
	if (opt.verbose)
		printf("# [t%d #%lu] %s -> %ld%s%s\n", t->idx, t->done,
		       op_name(op), ret, ret < 0 ? " " : "",
		       ret < 0 ? strerrorname_np(err) ?: "?" : "");
	if (ret < 0 && !sane_errno(err, op_is_file(op))) {
		__atomic_add_fetch(&f->bad, 1, __ATOMIC_RELAXED);
		printf("# BAD: %s failed with errno %d (%s): thread %d call %lu, seed %llu\n",
		       op_name(op), err, strerrorname_np(err) ?: "?", t->idx,
		       t->done, opt.seed);
	}
	done = __atomic_add_fetch(&f->done, 1, __ATOMIC_RELAXED);
	if (f->progress_step && done % f->progress_step == 0)
		printf("# progress: %lu calls, %lu reopens\n", done,
		       f->reopens);
}

static void dump(const char *what, const void *p, size_t len)
{
	const unsigned char *c = p;
	size_t i;

	printf("#   %s:", what);
	for (i = 0; i < len && i < 96; i++)
		printf("%s%02x", i % 8 ? "" : " ", c[i]);
	printf("\n");
}

/*
 * Issues cmd with the struct s of ksize bytes, whose first u32 is its size
 * (or argsz): the struct goes to the thread's arg area with a size around
 * ksize, or to where it cannot be read or written, and what the kernel
 * wrote comes back to s. Returns what ioctl() returned, errno set.
 */
static long issue(struct fthread *t, unsigned long cmd, void *s, size_t ksize)
{
	char *arg = t->arg;
	size_t copy = ksize, dirty = ksize;
	__u32 size = ksize;
	long ret;
	int err;

	if (t->arg_dirty)
		memset(t->arg, 0, ARG_LEN);
	t->arg_dirty = false;
	switch (below(t, 100)) {
	case 0 ... 69:
		break;
	case 70 ... 72:
		size = 0;
		break;
	case 73 ... 78:
		size = below(t, ksize);
		break;
	case 79 ... 83:
		size = ksize + 8;
		break;
	case 84 ... 86:
		/* A non-zero byte past the struct: E2BIG. */
		size = ksize + 8;
		arg[ksize + below(t, 8)] = 1 + below(t, 255);
		dirty = ksize + 8;
		break;
	case 87 ... 88:
		size = ARG_LEN;
		break;
	case 89:
		/* Into the guard page. */
		size = ARG_LEN + PSZ;
		break;
	case 90 ... 91:
		size = rnd32(t);
		break;
	case 92 ... 93:
		/* The struct runs into the guard page. */
		copy = below(t, ksize);
		arg = t->arg + ARG_LEN - copy;
		break;
	case 94:
		arg = NULL;
		break;
	case 95:
		arg = t->f->hole;
		break;
	case 96:
		arg = (char *)(uintptr_t)KERNEL_VA;
		break;
	default:
		/* Readable, not writable: outputs cannot be written. */
		mprotect(t->rw, PSZ, PROT_READ | PROT_WRITE);
		arg = t->rw;
		break;
	}
	memcpy(s, &size, sizeof(size));
	if (arg == t->arg || arg == t->rw || arg == t->arg + ARG_LEN - copy)
		memcpy(arg, s, copy);
	if (arg == t->rw)
		mprotect(t->rw, PSZ, PROT_READ);
	if (opt.verbose)
		dump("in", s, copy);
	ret = ioctl(t->f->fd, cmd, arg);
	err = errno;
	if (arg == t->arg)
		memcpy(s, arg, ksize);
	/* What the kernel may have written: the struct, or more. */
	if (arg == t->arg && (size > ksize || dirty > ksize))
		t->arg_dirty = true;
	else if (arg == t->arg)
		memset(t->arg, 0, ksize);
	else if (arg == t->arg + ARG_LEN - copy)
		memset(arg, 0, copy);
	if (opt.verbose && !ret)
		dump("out", s, ksize);
	errno = err;
	return ret;
}

/* An ioctl whose argument is a value, not a struct. */
static long issue_val(struct fthread *t, unsigned long cmd, unsigned long val)
{
	if (opt.verbose)
		printf("#   arg %#lx\n", val);
	return ioctl(t->f->fd, cmd, val);
}

/* Evaluates ret, then takes errno. */
#define ACCOUNT(t, op, ret)                      \
	do {                                     \
		long __ret = (ret);              \
		account(t, op, __ret, errno);    \
	} while (0)

/* iommufd ioctls */

static void op_destroy(struct fthread *t, int op)
{
	struct iommu_destroy s = { .id = pick_id(t, below(t, K_APAGES)) };
	long ret = issue(t, IOMMU_DESTROY, &s, sizeof(s));

	ACCOUNT(t, op, ret);
	if (!ret)
		pool_forget(t->f, s.id);
}

static void op_ioas_alloc(struct fthread *t, int op)
{
	struct iommu_ioas_alloc s = { .flags = flags_or_junk(t, 0) };
	long ret = issue(t, IOMMU_IOAS_ALLOC, &s, sizeof(s));

	ACCOUNT(t, op, ret);
	if (!ret)
		pool_add(t, K_IOAS, s.out_ioas_id, 0);
}

static __u32 pick_num(struct fthread *t)
{
	return chance(t, 90) ? below(t, 5) : rnd32(t);
}

static void op_allow_iovas(struct fthread *t, int op)
{
	struct iommu_ioas_allow_iovas s = {
		.ioas_id = pick_id(t, K_IOAS),
		.num_iovas = pick_num(t),
		.__reserved = flags_or_junk(t, 0),
		.allowed_iovas = in_ptr(t),
	};
	struct iommu_iova_range *r = (void *)t->data;
	unsigned int i;

	for (i = 0; i < 8; i++) {
		r[i].start = pick_iova(t);
		r[i].last = chance(t, 80) ? r[i].start + pick_len(t) - 1 :
					    pick_iova(t);
	}
	ACCOUNT(t, op, issue(t, IOMMU_IOAS_ALLOW_IOVAS, &s, sizeof(s)));
}

static __u32 map_flags(struct fthread *t)
{
	__u32 f = IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE;

	if (chance(t, 10))
		f &= ~(1U << (1 + below(t, 2)));
	if (chance(t, 50))
		f |= IOMMU_IOAS_MAP_FIXED_IOVA;
	return flags_or_junk(t, f);
}

static void op_copy(struct fthread *t, int op)
{
	struct mapping m = pick_map(t);
	struct iommu_ioas_copy s = {
		.flags = map_flags(t),
		.dst_ioas_id = pick_id(t, K_IOAS),
		.src_ioas_id = pick_id(t, K_IOAS),
		.length = chance(t, 50) ? m.len : pick_len(t),
		.dst_iova = pick_iova(t),
		.src_iova = chance(t, 60) ? m.iova : pick_iova(t),
	};
	long ret = issue(t, IOMMU_IOAS_COPY, &s, sizeof(s));

	ACCOUNT(t, op, ret);
	if (!ret)
		note_map(t, s.dst_iova, m.va, s.length);
}

static void op_iova_ranges(struct fthread *t, int op)
{
	struct iommu_ioas_iova_ranges s = {
		.ioas_id = pick_id(t, K_IOAS),
		.num_iovas = pick_num(t),
		.__reserved = flags_or_junk(t, 0),
		.allowed_iovas = out_ptr(t),
	};

	ACCOUNT(t, op, issue(t, IOMMU_IOAS_IOVA_RANGES, &s, sizeof(s)));
}

static void op_map(struct fthread *t, int op)
{
	struct iommu_ioas_map s = {
		.flags = map_flags(t),
		.ioas_id = pick_id(t, K_IOAS),
		.__reserved = flags_or_junk(t, 0),
		.user_va = pick_va(t),
		.length = chance(t, 60) ? (1 + below(t, 32)) * PSZ :
					  pick_len(t),
		.iova = pick_iova(t),
	};
	long ret;

	s.length = fit_len(t->f, s.user_va, s.length);
	ret = issue(t, IOMMU_IOAS_MAP, &s, sizeof(s));

	ACCOUNT(t, op, ret);
	if (!ret)
		note_map(t, s.iova, s.user_va, s.length);
}

/*
 * An fd for a command to look at: the memfds, a dma-buf, stdio, or none.
 * For a command that only looks (hold false) also /dev/iommu itself or an
 * access. A mapping must not hold a file that holds the iommufd context:
 * the C iommufd.ko takes any file in IOMMU_IOAS_MAP_FILE, and the context
 * and all it pins then leak in a reference cycle.
 */
static int pick_fd(struct fthread *t, bool hold)
{
	struct obj o;

	switch (below(t, 10)) {
	case 0 ... 4:
		return t->f->memfd;
	case 5:
		return t->f->hugefd >= 0 ? t->f->hugefd : t->f->memfd;
	case 6:
		if (pool_pick(t, hold || below(t, 2) ? K_DMABUF : K_ACCESS, &o))
			return o.id;
		return t->f->memfd;
	case 7:
		return hold ? (int)below(t, 3) : t->f->fd;
	case 8:
		return -1;
	}
	return hold ? 1000 + below(t, 1000) : (int)below(t, 64);
}

static void op_map_file(struct fthread *t, int op)
{
	struct iommu_ioas_map_file s = {
		.flags = map_flags(t),
		.ioas_id = pick_id(t, K_IOAS),
		.fd = pick_fd(t, true),
		.start = chance(t, 70) ? below(t, MEM_LEN / PSZ) * PSZ :
					 pick_len(t),
		.length = chance(t, 60) ? (1 + below(t, 32)) * PSZ :
					  pick_len(t),
		.iova = pick_iova(t),
	};
	long ret = issue(t, IOMMU_IOAS_MAP_FILE, &s, sizeof(s));

	ACCOUNT(t, op, ret);
	if (!ret && s.fd == t->f->memfd && s.start < MEM_LEN)
		note_map(t, s.iova, (uintptr_t)t->f->mem + s.start, s.length);
}

static void op_unmap(struct fthread *t, int op)
{
	struct mapping m = pick_map(t);
	struct iommu_ioas_unmap s = {
		.ioas_id = pick_id(t, K_IOAS),
		.iova = chance(t, 50) ? m.iova : pick_iova(t),
		.length = chance(t, 40) ? m.len : pick_len(t),
	};

	if (chance(t, 25)) {
		s.iova = 0;
		s.length = ~0ULL;
	}
	ACCOUNT(t, op, issue(t, IOMMU_IOAS_UNMAP, &s, sizeof(s)));
}

static void op_change_process(struct fthread *t, int op)
{
	struct iommu_ioas_change_process s = {
		.__reserved = flags_or_junk(t, 0),
	};

	ACCOUNT(t, op, issue(t, IOMMU_IOAS_CHANGE_PROCESS, &s, sizeof(s)));
}

static void op_option(struct fthread *t, int op)
{
	struct iommu_option s = {
		.option_id = chance(t, 90) ? below(t, 2) : rnd32(t),
		.op = chance(t, 90) ? below(t, 2) : rnd32(t),
		.__reserved = flags_or_junk(t, 0),
		.object_id = chance(t, 50) ? 0 : pick_id(t, K_IOAS),
		.val64 = chance(t, 90) ? below(t, 2) : rnd64(t),
	};

	ACCOUNT(t, op, issue(t, IOMMU_OPTION, &s, sizeof(s)));
}

static void op_vfio_ioas(struct fthread *t, int op)
{
	struct iommu_vfio_ioas s = {
		.ioas_id = pick_id(t, K_IOAS),
		.op = chance(t, 90) ? below(t, 3) : rnd32(t),
		.__reserved = flags_or_junk(t, 0),
	};

	ACCOUNT(t, op, issue(t, IOMMU_VFIO_IOAS, &s, sizeof(s)));
}

static void op_hwpt_alloc(struct fthread *t, int op)
{
	struct iommu_hwpt_selftest *data = (void *)t->data;
	struct iommu_hwpt_alloc s = {
		.dev_id = pick_id(t, K_IDEV),
		.flags = flags_or_junk(t, below(t, 16)),
		.__reserved = flags_or_junk(t, 0),
		.data_uptr = in_ptr(t),
		.fault_id = pick_id(t, K_FAULT),
		.__reserved2 = flags_or_junk(t, 0),
	};
	enum okind kind = K_HWPT;
	long ret;

	switch (below(t, 10)) {
	case 0 ... 5:
		s.pt_id = pick_id(t, K_IOAS);
		break;
	case 6 ... 8:
		s.pt_id = pick_id(t, below(t, 2) ? K_HWPT : K_VIOMMU);
		break;
	default:
		s.pt_id = pick_id(t, below(t, K_APAGES));
		break;
	}
	if (chance(t, 40)) {
		s.data_type = chance(t, 90) ? IOMMU_HWPT_DATA_SELFTEST :
					      below(t, 5);
		s.data_len = chance(t, 85) ? sizeof(*data) : below(t, 32);
		data->iotlb = chance(t, 80) ? IOMMU_TEST_IOTLB_DEFAULT :
					      rnd32(t);
		data->pagetable_type = chance(t, 80) ? below(t, 2) : rnd32(t);
		kind = K_NESTED;
	} else if (chance(t, 10)) {
		s.data_type = rnd32(t);
		s.data_len = below(t, 64);
	}
	ret = issue(t, IOMMU_HWPT_ALLOC, &s, sizeof(s));
	ACCOUNT(t, op, ret);
	if (!ret)
		pool_add(t, kind, s.out_hwpt_id, 0);
}

static void op_hw_info(struct fthread *t, int op)
{
	struct iommu_hw_info s = {
		.dev_id = pick_id(t, K_IDEV),
		.flags = flags_or_junk(t, below(t, 2)),
		.data_len = chance(t, 80) ? below(t, 40) : rnd32(t),
		.data_uptr = out_ptr(t),
		.in_data_type = chance(t, 30) ? IOMMU_HW_INFO_TYPE_SELFTEST :
						below(t, 6),
		.__reserved = { chance(t, 95) ? 0 : 1 },
	};

	ACCOUNT(t, op, issue(t, IOMMU_GET_HW_INFO, &s, sizeof(s)));
}

static void op_set_dirty(struct fthread *t, int op)
{
	struct iommu_hwpt_set_dirty_tracking s = {
		.flags = flags_or_junk(t, below(t, 2)),
		.hwpt_id = pick_id(t, K_HWPT),
		.__reserved = flags_or_junk(t, 0),
	};

	ACCOUNT(t, op, issue(t, IOMMU_HWPT_SET_DIRTY_TRACKING, &s, sizeof(s)));
}

static __u64 pick_page_size(struct fthread *t)
{
	switch (below(t, 6)) {
	case 0 ... 2:
		return PSZ;
	case 3:
		return MOCK_PAGE_SIZE;
	case 4:
		return 0;
	}
	return 1ULL << below(t, 64);
}

static void op_get_dirty(struct fthread *t, int op)
{
	struct mapping m = pick_map(t);
	struct iommu_hwpt_get_dirty_bitmap s = {
		.hwpt_id = pick_id(t, K_HWPT),
		.flags = flags_or_junk(t, below(t, 2)),
		.__reserved = flags_or_junk(t, 0),
		.iova = chance(t, 60) ? m.iova : pick_iova(t),
		.length = chance(t, 60) ? m.len : pick_len(t),
		.page_size = pick_page_size(t),
		.data = out_ptr(t),
	};

	ACCOUNT(t, op, issue(t, IOMMU_HWPT_GET_DIRTY_BITMAP, &s, sizeof(s)));
}

static void op_invalidate(struct fthread *t, int op)
{
	struct iommu_viommu_invalidate_selftest *e = (void *)t->data;
	struct iommu_hwpt_invalidate s = {
		.hwpt_id = pick_id(t, below(t, 2) ? K_NESTED : K_VIOMMU),
		.data_uptr = in_ptr(t),
		.entry_num = pick_num(t),
		.__reserved = flags_or_junk(t, 0),
	};
	unsigned int i;

	switch (below(t, 6)) {
	case 0 ... 2:
		s.data_type = IOMMU_HWPT_INVALIDATE_DATA_SELFTEST;
		break;
	case 3:
		s.data_type = IOMMU_HWPT_INVALIDATE_DATA_SELFTEST_INVALID;
		break;
	case 4:
		s.data_type = below(t, 3);
		break;
	default:
		s.data_type = rnd32(t);
	}
	switch (below(t, 5)) {
	case 0 ... 1:
		s.entry_len = sizeof(struct iommu_hwpt_invalidate_selftest);
		break;
	case 2 ... 3:
		s.entry_len = sizeof(*e);
		break;
	default:
		s.entry_len = chance(t, 50) ? below(t, 64) : rnd32(t);
	}
	/* Either layout: flags, then iotlb_id or vdev_id, cache_id. */
	for (i = 0; i < 8; i++) {
		e[i].flags = flags_or_junk(t, below(t, 2));
		e[i].vdev_id = chance(t, 80) ? below(t, 5) : rnd32(t);
		e[i].cache_id = chance(t, 80) ? below(t, 5) : rnd32(t);
	}
	ACCOUNT(t, op, issue(t, IOMMU_HWPT_INVALIDATE, &s, sizeof(s)));
}

static void op_fault_alloc(struct fthread *t, int op)
{
	struct iommu_fault_alloc s = { .flags = flags_or_junk(t, 0) };
	long ret = issue(t, IOMMU_FAULT_QUEUE_ALLOC, &s, sizeof(s));

	ACCOUNT(t, op, ret);
	if (!ret) {
		pool_add(t, K_FAULT, s.out_fault_id, s.out_fault_fd);
		pool_add(t, K_FAULT_FD, s.out_fault_fd, s.out_fault_id);
	}
}

static void op_viommu_alloc(struct fthread *t, int op)
{
	struct iommu_viommu_selftest *data = (void *)t->data;
	struct iommu_viommu_alloc s = {
		.flags = flags_or_junk(t, 0),
		.type = chance(t, 80) ? IOMMU_VIOMMU_TYPE_SELFTEST :
					chance(t, 50) ? below(t, 3) : rnd32(t),
		.dev_id = pick_id(t, K_IDEV),
		.hwpt_id = pick_id(t, K_HWPT),
		.data_len = chance(t, 50) ? sizeof(*data) :
					    chance(t, 50) ? 0 : below(t, 64),
		.__reserved = flags_or_junk(t, 0),
		.data_uptr = in_ptr(t),
	};
	long ret;

	data->in_data = rnd32(t);
	ret = issue(t, IOMMU_VIOMMU_ALLOC, &s, sizeof(s));
	ACCOUNT(t, op, ret);
	if (!ret) {
		pool_add(t, K_VIOMMU, s.out_viommu_id, 0);
		if (s.data_uptr == (uintptr_t)t->data &&
		    s.data_len >= sizeof(*data)) {
			t->mmap_off = data->out_mmap_offset;
			t->mmap_len = data->out_mmap_length;
		}
	}
}

static void op_vdevice_alloc(struct fthread *t, int op)
{
	struct iommu_vdevice_alloc s = {
		.viommu_id = pick_id(t, K_VIOMMU),
		.dev_id = pick_id(t, K_IDEV),
		.virt_id = chance(t, 85) ? below(t, 8) : rnd64(t),
	};
	long ret = issue(t, IOMMU_VDEVICE_ALLOC, &s, sizeof(s));

	ACCOUNT(t, op, ret);
	if (!ret)
		pool_add(t, K_VDEV, s.out_vdevice_id, 0);
}

static void op_veventq_alloc(struct fthread *t, int op)
{
	struct iommu_veventq_alloc s = {
		.flags = flags_or_junk(t, 0),
		.viommu_id = pick_id(t, K_VIOMMU),
		.type = chance(t, 80) ? IOMMU_VEVENTQ_TYPE_SELFTEST :
					chance(t, 50) ? below(t, 3) : rnd32(t),
		.veventq_depth = chance(t, 80) ? below(t, 8) : rnd32(t),
		.__reserved = flags_or_junk(t, 0),
	};
	long ret = issue(t, IOMMU_VEVENTQ_ALLOC, &s, sizeof(s));

	ACCOUNT(t, op, ret);
	if (!ret) {
		pool_add(t, K_VEVENTQ, s.out_veventq_id, s.out_veventq_fd);
		pool_add(t, K_VEVENTQ_FD, s.out_veventq_fd, s.out_veventq_id);
	}
}

static void op_hw_queue_alloc(struct fthread *t, int op)
{
	struct mapping m = pick_map(t);
	struct iommu_hw_queue_alloc s = {
		.flags = flags_or_junk(t, 0),
		.viommu_id = pick_id(t, K_VIOMMU),
		.type = chance(t, 80) ? IOMMU_HW_QUEUE_TYPE_SELFTEST :
					chance(t, 50) ? below(t, 2) : rnd32(t),
		.index = chance(t, 80) ? below(t, IOMMU_TEST_HW_QUEUE_MAX + 1) :
					 rnd32(t),
		.nesting_parent_iova = chance(t, 60) ? m.iova : pick_iova(t),
		.length = chance(t, 60) ? PSZ : pick_len(t),
	};
	long ret = issue(t, IOMMU_HW_QUEUE_ALLOC, &s, sizeof(s));

	ACCOUNT(t, op, ret);
	if (!ret)
		pool_add(t, K_HWQ, s.out_hw_queue_id, 0);
}

static void op_noiommu_get_pa(struct fthread *t, int op)
{
	struct mapping m = pick_map(t);
	struct iommu_ioas_noiommu_get_pa s = {
		.flags = flags_or_junk(t, 0),
		.ioas_id = pick_id(t, K_IOAS),
		.__reserved = flags_or_junk(t, 0),
		.iova = chance(t, 60) ? m.iova : pick_iova(t),
		.length = pick_len(t),
	};

	ACCOUNT(t, op, issue(t, IOMMU_IOAS_NOIOMMU_GET_PA, &s, sizeof(s)));
}

/* Whether cmd is one of the commands the fuzzer issues with care. */
static bool real_cmd(unsigned long cmd)
{
	unsigned int nr = _IOC_NR(cmd);

	if (_IOC_TYPE(cmd) != IOMMUFD_TYPE || _IOC_DIR(cmd) || _IOC_SIZE(cmd))
		return false;
	/*
	 * The iommufd-rs extension's commands are real too: iommufd_rs.ko
	 * reads their structs, the C module does not know them.
	 */
	return (nr >= IOMMUFD_CMD_BASE && nr <= IOMMUFD_CMD_BASE + 0x20) ||
	       (nr >= VFIO_BASE && nr <= VFIO_BASE + 20) ||
	       (nr >= IOMMUFD_RS_CMD_BASE && nr <= IOMMUFD_RS_CMD_VPASID_QUERY);
}

/*
 * Command numbers no one implements, and real numbers with direction or
 * size bits: the kernel must not look at the struct (its pointers are junk).
 */
static void op_bad_cmd(struct fthread *t, int op)
{
	unsigned long cmd;
	unsigned int i;

	do {
		cmd = _IOC(below(t, 4),
			   chance(t, 90) ? IOMMUFD_TYPE : IOMMUFD_TYPE + 1,
			   chance(t, 70) ? IOMMUFD_CMD_BASE + below(t, 0x30) :
					   below(t, 256),
			   chance(t, 50) ? 0 : below(t, 256));
	} while (real_cmd(cmd));
	for (i = 0; i < 8; i++)
		((__u64 *)t->arg)[i] = rnd64(t);
	*(__u32 *)t->arg = 16 + below(t, 64);
	if (opt.verbose)
		printf("#   cmd %#lx\n", cmd);
	ACCOUNT(t, op, ioctl(t->f->fd, cmd, t->arg));
	memset(t->arg, 0, ARG_LEN);
}

/* IOMMU_TEST_CMD */

static long test_cmd(struct fthread *t, struct iommu_test_cmd *s)
{
	s->__reserved = flags_or_junk(t, 0);
	return issue(t, IOMMU_TEST_CMD, s, sizeof(*s));
}

static void tc_add_reserved(struct fthread *t, int op)
{
	struct iommu_test_cmd s = {
		.op = IOMMU_TEST_OP_ADD_RESERVED,
		.id = pick_id(t, K_IOAS),
		.add_reserved = { .start = pick_iova(t), .length = pick_len(t) },
	};

	ACCOUNT(t, op, test_cmd(t, &s));
}

static void tc_mock_domain(struct fthread *t, int op)
{
	struct iommu_test_cmd s = {
		.op = chance(t, 25) ? IOMMU_TEST_OP_MOCK_DOMAIN :
				      IOMMU_TEST_OP_MOCK_DOMAIN_FLAGS,
		.id = chance(t, 70) ? pick_id(t, K_IOAS) :
				      pick_id(t, below(t, 2) ? K_HWPT : K_NESTED),
		.mock_domain_flags = {
			.dev_flags = flags_or_junk(t, below(t, 2) *
					MOCK_FLAGS_DEVICE_PASID |
					chance(t, 20) *
					MOCK_FLAGS_DEVICE_NO_DIRTY),
		},
	};
	long ret = test_cmd(t, &s);

	ACCOUNT(t, op, ret);
	if (!ret) {
		pool_add(t, K_STDEV, s.mock_domain.out_stdev_id,
			 s.mock_domain.out_idev_id);
		pool_add(t, K_IDEV, s.mock_domain.out_idev_id, 0);
		if (s.mock_domain.out_hwpt_id != s.id)
			pool_add(t, K_HWPT, s.mock_domain.out_hwpt_id, 0);
	}
}

static __u32 pick_pt(struct fthread *t)
{
	switch (below(t, 8)) {
	case 0 ... 2:
		return pick_id(t, K_IOAS);
	case 3 ... 5:
		return pick_id(t, K_HWPT);
	case 6:
		return pick_id(t, K_NESTED);
	}
	return pick_id(t, below(t, K_APAGES));
}

static void tc_replace(struct fthread *t, int op)
{
	struct iommu_test_cmd s = {
		.op = IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE,
		.id = pick_id(t, K_STDEV),
		.mock_domain_replace = { .pt_id = pick_pt(t) },
	};

	ACCOUNT(t, op, test_cmd(t, &s));
}

static void tc_check_map(struct fthread *t, int op)
{
	struct mapping m = pick_map(t);
	struct iommu_test_cmd s = {
		.op = IOMMU_TEST_OP_MD_CHECK_MAP,
		.id = pick_id(t, below(t, 2) ? K_HWPT : K_NESTED),
		.check_map = {
			.iova = chance(t, 70) ? m.iova : pick_iova(t),
			.length = chance(t, 70) ? m.len : pick_len(t),
			.uptr = chance(t, 70) ? m.va : pick_va(t),
		},
	};

	ACCOUNT(t, op, test_cmd(t, &s));
}

static void tc_check_refs(struct fthread *t, int op)
{
	struct mapping m = pick_map(t);
	struct iommu_test_cmd s = {
		.op = IOMMU_TEST_OP_MD_CHECK_REFS,
		.check_refs = {
			.length = chance(t, 70) ? m.len : pick_len(t),
			.uptr = chance(t, 70) ? m.va : pick_va(t),
			.refs = chance(t, 80) ? below(t, 3) : rnd32(t),
		},
	};

	ACCOUNT(t, op, test_cmd(t, &s));
}

static void tc_create_access(struct fthread *t, int op)
{
	struct iommu_test_cmd s = {
		.op = IOMMU_TEST_OP_CREATE_ACCESS,
		.id = pick_id(t, K_IOAS),
		.create_access = {
			.flags = flags_or_junk(t, below(t, 2) *
				MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES),
		},
	};
	long ret = test_cmd(t, &s);

	ACCOUNT(t, op, ret);
	if (!ret)
		pool_add(t, K_ACCESS, s.create_access.out_access_fd, 0);
}

/* An access fd, or another fd or number. */
static __u32 pick_access(struct fthread *t)
{
	struct obj o;

	if (chance(t, 90) && pool_pick(t, K_ACCESS, &o))
		return o.id;
	return pick_fd(t, false);
}

static void tc_access_pages(struct fthread *t, int op)
{
	struct mapping m = pick_map(t);
	struct iommu_test_cmd s = {
		.op = IOMMU_TEST_OP_ACCESS_PAGES,
		.id = pick_access(t),
		.access_pages = {
			.flags = flags_or_junk(t, below(t, 2) *
					MOCK_FLAGS_ACCESS_WRITE),
			.iova = chance(t, 70) ? m.iova : pick_iova(t),
			.length = chance(t, 50) ? m.len :
				  chance(t, 50) ? PSZ : pick_len(t),
			.uptr = chance(t, 80) ? m.va : pick_va(t),
		},
	};
	long ret = test_cmd(t, &s);

	ACCOUNT(t, op, ret);
	if (!ret)
		pool_add(t, K_APAGES, s.access_pages.out_access_pages_id, s.id);
}

static void tc_destroy_access_pages(struct fthread *t, int op)
{
	struct iommu_test_cmd s = {
		.op = IOMMU_TEST_OP_DESTROY_ACCESS_PAGES,
	};
	struct obj o;
	long ret;

	if (chance(t, 85) && pool_pick(t, K_APAGES, &o)) {
		s.id = o.aux;
		s.destroy_access_pages.access_pages_id = o.id;
	} else {
		s.id = pick_access(t);
		s.destroy_access_pages.access_pages_id = pick_id(t, K_APAGES);
	}
	ret = test_cmd(t, &s);
	ACCOUNT(t, op, ret);
	if (!ret) {
		struct fuzz *f = t->f;
		unsigned int i;

		pthread_mutex_lock(&f->lock);
		for (i = 0; i < f->npool; i++) {
			if (f->pool[i].kind == K_APAGES && f->pool[i].aux == s.id &&
			    f->pool[i].id == s.destroy_access_pages.access_pages_id) {
				pool_drop(f, i);
				break;
			}
		}
		pthread_mutex_unlock(&f->lock);
	}
}

static void tc_access_rw(struct fthread *t, int op)
{
	struct mapping m = pick_map(t);
	struct iommu_test_cmd s = {
		.op = IOMMU_TEST_OP_ACCESS_RW,
		.id = pick_access(t),
		.access_rw = {
			.iova = chance(t, 70) ? m.iova + below(t, m.len + 1) :
						pick_iova(t),
			.length = chance(t, 70) ? below(t, 3 * PSZ) : pick_len(t),
			.uptr = chance(t, 70) ? (uintptr_t)t->data : pick_va(t),
			.flags = flags_or_junk(t, below(t, 2) *
				MOCK_ACCESS_RW_WRITE | below(t, 2) *
				MOCK_ACCESS_RW_SLOW_PATH),
		},
	};

	ACCOUNT(t, op, test_cmd(t, &s));
}

static void tc_memory_limit(struct fthread *t, int op)
{
	static const __u32 limits[] = { 0, 11, 12, 16, 4096, 65536 };
	struct iommu_test_cmd s = {
		.op = IOMMU_TEST_OP_SET_TEMP_MEMORY_LIMIT,
		.memory_limit = {
			.limit = chance(t, 90) ? limits[below(t, 6)] :
						 rnd32(t) >> 12,
		},
	};

	ACCOUNT(t, op, test_cmd(t, &s));
}

static void tc_access_replace(struct fthread *t, int op)
{
	struct iommu_test_cmd s = {
		.op = IOMMU_TEST_OP_ACCESS_REPLACE_IOAS,
		.id = pick_access(t),
		.access_replace_ioas = { .ioas_id = pick_id(t, K_IOAS) },
	};

	ACCOUNT(t, op, test_cmd(t, &s));
}

static void tc_dirty(struct fthread *t, int op)
{
	struct mapping m = pick_map(t);
	struct iommu_test_cmd s = {
		.op = IOMMU_TEST_OP_DIRTY,
		.id = pick_id(t, K_HWPT),
		.dirty = {
			.flags = flags_or_junk(t, 0),
			.iova = chance(t, 70) ? m.iova : pick_iova(t),
			.length = chance(t, 70) ? m.len : pick_len(t),
			.page_size = pick_page_size(t),
			.uptr = in_ptr(t),
		},
	};

	memset(t->data, chance(t, 50) ? 0xff : 0x5a, 64);
	ACCOUNT(t, op, test_cmd(t, &s));
}

static void tc_check_cache(struct fthread *t, int op)
{
	struct iommu_test_cmd s = { .op = IOMMU_TEST_OP_MD_CHECK_IOTLB };
	__u32 val = chance(t, 50) ? IOMMU_TEST_IOTLB_DEFAULT : below(t, 4);

	if (chance(t, 50)) {
		s.id = pick_id(t, K_NESTED);
		s.check_iotlb.id = chance(t, 90) ? below(t, 5) : rnd32(t);
		s.check_iotlb.iotlb = val;
	} else {
		s.op = IOMMU_TEST_OP_DEV_CHECK_CACHE;
		s.id = pick_id(t, K_IDEV);
		s.check_dev_cache.id = chance(t, 90) ? below(t, 5) : rnd32(t);
		s.check_dev_cache.cache = val ^ IOMMU_TEST_IOTLB_DEFAULT ^
					  IOMMU_TEST_DEV_CACHE_DEFAULT;
	}
	ACCOUNT(t, op, test_cmd(t, &s));
}

static __u32 pick_pasid(struct fthread *t)
{
	switch (below(t, 8)) {
	case 0:
		return 0;
	case 1 ... 3:
		return 1 + below(t, 4);
	case 4:
		return IOMMU_TEST_PASID_RESERVED;
	case 5:
		return PASID_MAX + below(t, 2);
	case 6:
		return below(t, PASID_MAX);
	}
	return rnd32(t);
}

static void tc_trigger(struct fthread *t, int op)
{
	struct iommu_test_cmd s = { .op = IOMMU_TEST_OP_TRIGGER_IOPF };

	if (chance(t, 60)) {
		s.trigger_iopf.dev_id = pick_id(t, K_IDEV);
		s.trigger_iopf.pasid = pick_pasid(t);
		s.trigger_iopf.grpid = below(t, 4);
		s.trigger_iopf.perm = flags_or_junk(t, below(t, 16));
		s.trigger_iopf.addr = pick_iova(t);
	} else {
		s.op = IOMMU_TEST_OP_TRIGGER_VEVENT;
		s.id = pick_id(t, K_STDEV);
		s.trigger_vevent.dev_id = pick_id(t, K_IDEV);
	}
	ACCOUNT(t, op, test_cmd(t, &s));
}

static void tc_pasid(struct fthread *t, int op)
{
	static const __u32 pasid_ops[] = {
		IOMMU_TEST_OP_PASID_ATTACH, IOMMU_TEST_OP_PASID_ATTACH,
		IOMMU_TEST_OP_PASID_REPLACE, IOMMU_TEST_OP_PASID_REPLACE,
		IOMMU_TEST_OP_PASID_DETACH, IOMMU_TEST_OP_PASID_DETACH,
		IOMMU_TEST_OP_PASID_CHECK_HWPT,
	};
	struct iommu_test_cmd s = {
		.op = pasid_ops[below(t, ARRAY_SIZE(pasid_ops))],
		.id = pick_id(t, K_STDEV),
		.pasid_attach = { .pasid = pick_pasid(t), .pt_id = pick_pt(t) },
	};

	if (s.op == IOMMU_TEST_OP_PASID_CHECK_HWPT && chance(t, 30))
		s.pasid_check.hwpt_id = 0;
	ACCOUNT(t, op, test_cmd(t, &s));
}

static void tc_dmabuf(struct fthread *t, int op)
{
	struct iommu_test_cmd s = { .op = IOMMU_TEST_OP_DMABUF_GET };
	struct obj o;
	long ret;

	if (chance(t, 60)) {
		s.dmabuf_get.length = chance(t, 80) ? (1 + below(t, 4)) * PSZ :
				      chance(t, 50) ? 513 * PSZ : rnd32(t);
		s.dmabuf_get.open_flags = chance(t, 80) ? O_RDWR | O_CLOEXEC :
							  rnd32(t);
	} else {
		s.op = IOMMU_TEST_OP_DMABUF_REVOKE;
		s.dmabuf_revoke.dmabuf_fd = pool_pick(t, K_DMABUF, &o) ?
			(int)o.id : pick_fd(t, false);
		s.dmabuf_revoke.revoked = chance(t, 90) ? below(t, 2) : rnd32(t);
	}
	ret = test_cmd(t, &s);
	ACCOUNT(t, op, ret);
	if (s.op == IOMMU_TEST_OP_DMABUF_GET && ret > 0)
		pool_add(t, K_DMABUF, ret, 0);
	else if (s.op == IOMMU_TEST_OP_DMABUF_GET && !ret)
		adopt_dmabufs(t);
}

/* Test ops no one implements: nothing in the union may be looked at. */
static void tc_bad_op(struct fthread *t, int op)
{
	struct iommu_test_cmd s = {
		.op = chance(t, 30) ? 0 : IOMMU_TEST_OP_DMABUF_REVOKE + 1 +
			(chance(t, 80) ? below(t, 8) : rnd32(t) >> 1),
		.id = pick_id(t, below(t, K_APAGES)),
		.check_map = { .iova = rnd64(t), .length = rnd64(t) },
	};

	ACCOUNT(t, op, test_cmd(t, &s));
}

/* VFIO type1 compat on /dev/iommu */

static void vf_simple(struct fthread *t, int op)
{
	long ret;

	switch (below(t, 3)) {
	case 0:
		ret = issue_val(t, VFIO_GET_API_VERSION, 0);
		break;
	case 1:
		ret = issue_val(t, VFIO_CHECK_EXTENSION,
				chance(t, 90) ? below(t, 12) : rnd64(t));
		break;
	default:
		ret = issue_val(t, VFIO_SET_IOMMU,
				chance(t, 50) ? VFIO_TYPE1v2_IOMMU :
				chance(t, 60) ? below(t, 12) : rnd64(t));
	}
	ACCOUNT(t, op, ret);
}

static void vf_get_info(struct fthread *t, int op)
{
	struct vfio_iommu_type1_info s = { .flags = flags_or_junk(t, 0) };
	struct {
		struct vfio_iommu_type1_info info;
		char caps[256];
	} big = { .info.flags = s.flags };
	long ret;

	/* With room for the capabilities, or the bare struct. */
	if (chance(t, 50))
		ret = issue(t, VFIO_IOMMU_GET_INFO, &big, sizeof(big));
	else
		ret = issue(t, VFIO_IOMMU_GET_INFO, &s, sizeof(s));
	t->arg_dirty = true;
	ACCOUNT(t, op, ret);
}

static void vf_map(struct fthread *t, int op)
{
	struct vfio_iommu_type1_dma_map s = {
		.flags = flags_or_junk(t, VFIO_DMA_MAP_FLAG_READ |
				       below(t, 2) * VFIO_DMA_MAP_FLAG_WRITE),
		.vaddr = pick_va(t),
		.iova = pick_iova(t),
		.size = chance(t, 60) ? (1 + below(t, 32)) * PSZ : pick_len(t),
	};
	long ret;

	s.size = fit_len(t->f, s.vaddr, s.size);
	ret = issue(t, VFIO_IOMMU_MAP_DMA, &s, sizeof(s));

	ACCOUNT(t, op, ret);
	if (!ret)
		note_map(t, s.iova, s.vaddr, s.size);
}

static void vf_unmap(struct fthread *t, int op)
{
	struct mapping m = pick_map(t);
	struct {
		struct vfio_iommu_type1_dma_unmap u;
		struct vfio_bitmap b;
	} s = {
		.u = {
			.flags = flags_or_junk(t, below(t, 3) == 0 ?
					VFIO_DMA_UNMAP_FLAG_ALL : 0),
			.iova = chance(t, 60) ? m.iova : pick_iova(t),
			.size = chance(t, 60) ? m.len : pick_len(t),
		},
		.b = {
			.pgsize = pick_page_size(t),
			.size = chance(t, 80) ? 8 * below(t, 8) : rnd64(t),
			.data = (__u64 *)(uintptr_t)out_ptr(t),
		},
	};
	long ret;

	if (chance(t, 10))
		s.u.flags |= VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP;
	if (s.u.flags & VFIO_DMA_UNMAP_FLAG_ALL) {
		s.u.iova = 0;
		s.u.size = 0;
	}
	if (s.u.flags & VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP)
		ret = issue(t, VFIO_IOMMU_UNMAP_DMA, &s, sizeof(s));
	else
		ret = issue(t, VFIO_IOMMU_UNMAP_DMA, &s.u, sizeof(s.u));
	ACCOUNT(t, op, ret);
}

static void vf_other(struct fthread *t, int op)
{
	struct vfio_iommu_type1_dirty_bitmap s = {
		.flags = flags_or_junk(t, 1U << below(t, 3)),
	};
	unsigned long cmd;

	if (chance(t, 50)) {
		ACCOUNT(t, op, issue(t, VFIO_IOMMU_DIRTY_PAGES, &s, sizeof(s)));
		return;
	}
	/* Group, device and other container ioctls, with a zeroed arg. */
	do {
		cmd = _IO(VFIO_TYPE, VFIO_BASE + below(t, 30));
	} while (cmd == VFIO_GET_API_VERSION || cmd == VFIO_CHECK_EXTENSION ||
		 cmd == VFIO_SET_IOMMU || cmd == VFIO_IOMMU_GET_INFO ||
		 cmd == VFIO_IOMMU_MAP_DMA || cmd == VFIO_IOMMU_UNMAP_DMA);
	if (opt.verbose)
		printf("#   cmd %#lx\n", cmd);
	ACCOUNT(t, op, ioctl(t->f->fd, cmd, t->arg));
	t->arg_dirty = true;
}

/* The other fds, and /dev/iommu's mmap */

/*
 * An fd of kind to read or write, or one of the fuzzer's own: never a
 * number that may be stdin or stdout.
 */
static int pick_own_fd(struct fthread *t, enum okind kind)
{
	struct obj o;

	if (chance(t, 90) && pool_pick(t, kind, &o))
		return o.id;
	switch (below(t, 3)) {
	case 0:
		return t->f->memfd;
	case 1:
		return t->f->fd;
	}
	return -1;
}

static void fd_fault(struct fthread *t, int op)
{
	struct iommu_hwpt_page_response *r = (void *)t->data;
	struct iommu_hwpt_pgfault *pf = (void *)t->data;
	int fd = pick_own_fd(t, K_FAULT_FD);
	size_t len;
	ssize_t n;
	int i;

	if (chance(t, 50)) {
		len = chance(t, 80) ? sizeof(*pf) * below(t, 4) : below(t, 200);
		n = read(fd, chance(t, 90) ? t->data : (void *)pick_va(t), len);
		ACCOUNT(t, op, n);
		return;
	}
	/* Responses: to faults read before, or to cookies made up. */
	n = below(t, 4);
	for (i = 0; i < n; i++) {
		r[i].cookie = chance(t, 50) ? pf[i].cookie : below(t, 8);
		r[i].code = chance(t, 90) ? below(t, 2) : rnd32(t);
	}
	len = chance(t, 90) ? n * sizeof(*r) : below(t, 40);
	ACCOUNT(t, op, write(fd, t->data, len));
}

static void fd_veventq(struct fthread *t, int op)
{
	int fd = pick_own_fd(t, K_VEVENTQ_FD);
	size_t len = chance(t, 80) ? 8 * below(t, 8) : below(t, 200);

	ACCOUNT(t, op, read(fd, chance(t, 90) ? t->data : (void *)pick_va(t),
			    len));
}

static void fd_close(struct fthread *t, int op)
{
	static const enum okind kinds[] = {
		K_ACCESS, K_ACCESS, K_FAULT_FD, K_VEVENTQ_FD, K_DMABUF,
	};

	pool_close(t, kinds[below(t, ARRAY_SIZE(kinds))]);
	account(t, op, 0, 0);
}

static void fd_mmap(struct fthread *t, int op)
{
	size_t len = chance(t, 60) && t->mmap_len ? t->mmap_len :
		     (1 + below(t, 4)) * PSZ;
	off_t off = chance(t, 60) ? t->mmap_off : below(t, 16) * PSZ;
	void *p = mmap(NULL, len, chance(t, 80) ? PROT_READ | PROT_WRITE :
			PROT_READ, MAP_SHARED, t->f->fd, off);

	if (p == MAP_FAILED) {
		ACCOUNT(t, op, -1);
		return;
	}
	munmap(p, len);
	account(t, op, 0, 0);
}

static const struct op ops[] = {
	{ "IOMMU_DESTROY", 6, op_destroy },
	{ "IOMMU_IOAS_ALLOC", 4, op_ioas_alloc },
	{ "IOMMU_IOAS_ALLOW_IOVAS", 2, op_allow_iovas },
	{ "IOMMU_IOAS_COPY", 5, op_copy },
	{ "IOMMU_IOAS_IOVA_RANGES", 2, op_iova_ranges },
	{ "IOMMU_IOAS_MAP", 12, op_map },
	{ "IOMMU_IOAS_MAP_FILE", 5, op_map_file },
	{ "IOMMU_IOAS_UNMAP", 8, op_unmap },
	{ "IOMMU_IOAS_CHANGE_PROCESS", 1, op_change_process },
	{ "IOMMU_OPTION", 2, op_option },
	{ "IOMMU_VFIO_IOAS", 2, op_vfio_ioas },
	{ "IOMMU_HWPT_ALLOC", 6, op_hwpt_alloc },
	{ "IOMMU_GET_HW_INFO", 2, op_hw_info },
	{ "IOMMU_HWPT_SET_DIRTY_TRACKING", 2, op_set_dirty },
	{ "IOMMU_HWPT_GET_DIRTY_BITMAP", 2, op_get_dirty },
	{ "IOMMU_HWPT_INVALIDATE", 2, op_invalidate },
	{ "IOMMU_FAULT_QUEUE_ALLOC", 1, op_fault_alloc },
	{ "IOMMU_VIOMMU_ALLOC", 2, op_viommu_alloc },
	{ "IOMMU_VDEVICE_ALLOC", 2, op_vdevice_alloc },
	{ "IOMMU_VEVENTQ_ALLOC", 1, op_veventq_alloc },
	{ "IOMMU_HW_QUEUE_ALLOC", 1, op_hw_queue_alloc },
	{ "IOMMU_IOAS_NOIOMMU_GET_PA", 1, op_noiommu_get_pa },
	{ "bad command", 1, op_bad_cmd },
	{ "TEST_OP_ADD_RESERVED", 1, tc_add_reserved },
	{ "TEST_OP_MOCK_DOMAIN(_FLAGS)", 5, tc_mock_domain },
	{ "TEST_OP_MOCK_DOMAIN_REPLACE", 4, tc_replace },
	{ "TEST_OP_MD_CHECK_MAP", 1, tc_check_map },
	{ "TEST_OP_MD_CHECK_REFS", 1, tc_check_refs },
	{ "TEST_OP_CREATE_ACCESS", 3, tc_create_access },
	{ "TEST_OP_ACCESS_PAGES", 4, tc_access_pages },
	{ "TEST_OP_DESTROY_ACCESS_PAGES", 3, tc_destroy_access_pages },
	{ "TEST_OP_ACCESS_RW", 4, tc_access_rw },
	{ "TEST_OP_SET_TEMP_MEMORY_LIMIT", 1, tc_memory_limit },
	{ "TEST_OP_ACCESS_REPLACE_IOAS", 2, tc_access_replace },
	{ "TEST_OP_DIRTY", 1, tc_dirty },
	{ "TEST_OP_MD_CHECK_IOTLB/DEV_CHECK_CACHE", 1, tc_check_cache },
	{ "TEST_OP_TRIGGER_IOPF/VEVENT", 2, tc_trigger },
	{ "TEST_OP_PASID_*", 6, tc_pasid },
	{ "TEST_OP_DMABUF_GET/REVOKE", 1, tc_dmabuf },
	{ "bad test op", 1, tc_bad_op },
	{ "VFIO_GET_API_VERSION/CHECK_EXTENSION/SET_IOMMU", 2, vf_simple },
	{ "VFIO_IOMMU_GET_INFO", 1, vf_get_info },
	{ "VFIO_IOMMU_MAP_DMA", 3, vf_map },
	{ "VFIO_IOMMU_UNMAP_DMA", 3, vf_unmap },
	{ "VFIO other", 1, vf_other },
	{ "fault fd read/write", 2, fd_fault, true },
	{ "vEVENTQ fd read", 1, fd_veventq, true },
	{ "close fd", 2, fd_close, true },
	{ "mmap /dev/iommu", 1, fd_mmap, true },
};

static const int nr_ops = ARRAY_SIZE(ops);

static const char *op_name(int op)
{
	return ops[op].name;
}

static bool op_is_file(int op)
{
	return ops[op].file_op;
}

/* The weights of this run: 0 for the calls left out with -x or -o. */
static int weight[ARRAY_SIZE(ops)];
static int total_weight;

static int pick_op(struct fthread *t)
{
	int i, w = below(t, total_weight);

	for (i = 0; i < nr_ops; i++) {
		w -= weight[i];
		if (w < 0)
			return i;
	}
	return 0;
}

static void *fuzz_thread(void *arg)
{
	struct fthread *t = arg;
	int op;

	for (t->done = 0; t->done < t->calls; t->done++) {
		if (opt.reopen && !below(t, opt.reopen)) {
			if (opt.verbose)
				printf("# [t%d #%lu] reopen\n", t->idx, t->done);
			reopen(t);
		}
		op = pick_op(t);
		ops[op].fn(t, op);
	}
	return NULL;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Pins charged for real (not waived for CAP_IPC_LOCK), within a limit. */
static int charge_pins(void)
{
	struct rlimit lim = { 128 << 20, 128 << 20 };

	return drop_ipc_lock() ?: setrlimit(RLIMIT_MEMLOCK, &lim);
}

FIXTURE(fuzz)
{
	struct fuzz f;
	struct fthread th[MAX_THREADS];
};

FIXTURE_SETUP(fuzz)
{
	struct fuzz *f = &self->f;
	int i;

	ASSERT_EQ(0, charge_pins());
	ASSERT_EQ(0, pthread_mutex_init(&f->lock, NULL));
	f->fd = open("/dev/iommu", O_RDWR);
	ASSERT_LE(0, f->fd);
	f->stat = calloc(ARRAY_SIZE(ops), sizeof(*f->stat));
	ASSERT_NE(NULL, f->stat);
	f->region = mmap(NULL, REGION_LEN, PROT_NONE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	ASSERT_NE(MAP_FAILED, f->region);
	/* Aligned, for the huge page. */
	f->region_used = -(uintptr_t)f->region & (HUGE_LEN - 1);
	f->buf = region_map(f, BUF_LEN, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_POPULATE, -1);
	ASSERT_NE(NULL, f->buf);
	f->memfd = memfd_create("iommufd-rs-fuzz", 0);
	ASSERT_LE(0, f->memfd);
	ASSERT_EQ(0, ftruncate(f->memfd, MEM_LEN));
	f->mem = region_map(f, MEM_LEN, PROT_READ | PROT_WRITE,
			    MAP_SHARED | MAP_POPULATE, f->memfd);
	ASSERT_NE(NULL, f->mem);
	/* Huge pages if the VM has them (hugepages= on its command line). */
	f->hugefd = memfd_create("iommufd-rs-fuzz-huge", MFD_HUGETLB);
	if (f->hugefd >= 0 && ftruncate(f->hugefd, HUGE_LEN) == 0)
		f->huge = region_map(f, HUGE_LEN, PROT_READ | PROT_WRITE,
				     MAP_SHARED, f->hugefd);
	if (!f->huge && f->hugefd >= 0) {
		close(f->hugefd);
		f->hugefd = -1;
	}
	/* Left PROT_NONE. */
	f->hole = f->region + f->region_used;
	f->region_used += 2 * HUGE_LEN;
	f->ro = region_map(f, PSZ, PROT_READ, MAP_PRIVATE, -1);
	ASSERT_NE(NULL, f->ro);
	for (i = 0; i < opt.threads; i++) {
		struct fthread *t = &self->th[i];

		t->f = f;
		t->idx = i;
		t->rng = splitmix(opt.seed + i) | 1;
		t->calls = opt.calls / opt.threads +
			   ((unsigned long)i < opt.calls % opt.threads);
		t->arg = map_guarded(ARG_LEN, -1, MAP_PRIVATE);
		t->data = region_map(f, DATA_LEN, PROT_READ | PROT_WRITE,
				     MAP_PRIVATE, -1);
		t->rw = mmap(NULL, PSZ, PROT_READ,
			     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		ASSERT_NE(NULL, t->arg);
		ASSERT_NE(NULL, t->data);
		ASSERT_NE(MAP_FAILED, t->rw);
	}
	f->progress_step = opt.calls >= 100000 ? opt.calls / 10 : 0;
}

FIXTURE_TEARDOWN(fuzz)
{
}

/*
 * The fds still open that the kernel made (anon inodes, dma-bufs,
 * /dev/iommu): none once the fuzzer closed all it was given. Prints them.
 */
static int stray_fds(void)
{
	char path[64], link[256];
	int fd, n = 0;
	ssize_t len;

	for (fd = 3; fd < 4096; fd++) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		len = readlink(path, link, sizeof(link) - 1);
		if (len < 0)
			continue;
		link[len] = 0;
		if (strncmp(link, "anon_inode:", 11) && strncmp(link, "/dev/iommu", 10) &&
		    strncmp(link, "/dmabuf", 7))
			continue;
		if (n++ < 8)
			ksft_print_msg("fuzz: fd %d left open: %s\n", fd, link);
	}
	return n;
}

/* Prints what each call gave, and every errno seen. */
static void print_stats(struct fuzz *f)
{
	bool seen[NR_ERRNO + 1] = {};
	char line[2048];
	int op, e, n;

	for (op = 0; op < nr_ops; op++) {
		unsigned long calls = 0;

		for (e = 0; e <= NR_ERRNO; e++)
			calls += f->stat[op][e];
		n = snprintf(line, sizeof(line), "%s: %lu calls, %lu ok",
			     ops[op].name, calls, f->stat[op][0]);
		for (e = 1; e <= NR_ERRNO; e++) {
			if (!f->stat[op][e])
				continue;
			seen[e] = true;
			n += snprintf(line + n, sizeof(line) - n, ", %s %lu",
				      e < NR_ERRNO ? strerrorname_np(e) ?: "?" :
						     "other",
				      f->stat[op][e]);
		}
		ksft_print_msg("fuzz: %s\n", line);
	}
	n = 0;
	for (e = 1; e <= NR_ERRNO; e++)
		if (seen[e])
			n += snprintf(line + n, sizeof(line) - n, " %s",
				      e < NR_ERRNO ? strerrorname_np(e) ?: "?" :
						     "other");
	ksft_print_msg("fuzz: errnos seen:%s\n", line);
}

/*
 * The fuzzing run, then: every thread is back, no call failed with an
 * errno outside the known set, and once everything is closed nothing is
 * pinned and /dev/iommu works.
 */
TEST_F_TIMEOUT(fuzz, run, 600)
{
	struct fuzz *f = &self->f;
	struct iommu_test_cmd lim = {
		.op = IOMMU_TEST_OP_SET_TEMP_MEMORY_LIMIT,
		.memory_limit = { .limit = 65536 },
	};
	unsigned long done = 0;
	double t0, took;
	__u32 ioas;
	int i, fd;

	t0 = now_s();
	if (opt.threads == 1) {
		fuzz_thread(&self->th[0]);
	} else {
		for (i = 0; i < opt.threads; i++)
			ASSERT_EQ(0, pthread_create(&self->th[i].th, NULL,
						    fuzz_thread, &self->th[i]));
		for (i = 0; i < opt.threads; i++)
			ASSERT_EQ(0, pthread_join(self->th[i].th, NULL));
	}
	took = now_s() - t0;
	for (i = 0; i < opt.threads; i++)
		done += self->th[i].done;
	print_stats(f);
	ksft_print_msg("fuzz: %lu calls in %.1f s (%.0f calls/s), %d threads, %lu reopens\n",
		       done, took, done / took, opt.threads, f->reopens);
	ksft_print_msg("fuzz: seed %llu\n", opt.seed);
	EXPECT_EQ(opt.calls, done);
	EXPECT_EQ(0, f->bad);

	/* All closed: nothing pinned, nothing charged. */
	pool_clear(f);
	close(f->fd);
	/* The kernel gave no fd it did not say it gave. */
	EXPECT_EQ(0, stray_fds());
	EXPECT_EQ(0, vm_pin_kb());
	fd = open("/dev/iommu", O_RDWR);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, _test_ioctl_ioas_alloc(fd, &ioas));
	EXPECT_EQ(0, _test_cmd_check_refs(fd, f->buf, BUF_LEN, 0));
	EXPECT_EQ(0, _test_cmd_check_refs(fd, f->mem, MEM_LEN, 0));
	if (f->huge)
		EXPECT_EQ(0, _test_cmd_check_refs(fd, f->huge, HUGE_LEN, 0));
	/* The batch limit back to its default, for the tests after. */
	EXPECT_EQ(0, _test_cmd(fd, &lim));
	EXPECT_EQ(0, _test_ioctl_destroy(fd, ioas));
	close(fd);
	EXPECT_EQ(0, vm_pin_kb());
}

int main(int argc, char **argv)
{
	const char *only[16], *skip[16];
	int c, i, j, nonly = 0, nskip = 0;

	opt.seed = (unsigned long long)time(NULL) * 1000003 ^ getpid();
	while ((c = getopt(argc, argv, "s:n:t:r:T:vx:o:l")) != -1) {
		switch (c) {
		case 'x':
			if (nskip < 16)
				skip[nskip++] = optarg;
			break;
		case 'o':
			if (nonly < 16)
				only[nonly++] = optarg;
			break;
		case 'l':
			for (i = 0; i < nr_ops; i++)
				printf("%s\n", ops[i].name);
			return 0;
		case 's':
			opt.seed = strtoull(optarg, NULL, 0);
			break;
		case 'n':
			opt.calls = strtoul(optarg, NULL, 0);
			break;
		case 't':
			opt.threads = atoi(optarg);
			break;
		case 'r':
			opt.reopen = strtoul(optarg, NULL, 0);
			break;
		case 'T':
			opt.timeout = atoi(optarg);
			break;
		case 'v':
			opt.verbose = 1;
			break;
		default:
			fprintf(stderr,
				"usage: %s [-s SEED] [-n CALLS] [-t THREADS] [-r REOPEN] [-T SECS] [-v] [-x TEXT] [-o TEXT] [-l]\n",
				argv[0]);
			return KSFT_FAIL;
		}
	}
	if (opt.threads < 1 || opt.threads > MAX_THREADS) {
		fprintf(stderr, "threads: 1 to %d\n", MAX_THREADS);
		return KSFT_FAIL;
	}
	/* Generous: the VM runner's own timeout is the one that matters. */
	_fuzz_run_object->timeout = opt.timeout ?: 300 + opt.calls / 50;
	for (i = 0; i < nr_ops; i++) {
		weight[i] = nonly ? 0 : ops[i].weight;
		for (j = 0; j < nonly; j++)
			if (strstr(ops[i].name, only[j]))
				weight[i] = ops[i].weight;
		for (j = 0; j < nskip; j++)
			if (strstr(ops[i].name, skip[j]))
				weight[i] = 0;
		total_weight += weight[i];
	}
	if (!total_weight) {
		fprintf(stderr, "-x and -o left no call\n");
		return KSFT_FAIL;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("# seed %llu\n", opt.seed);
	fflush(stdout);
	/* The harness parses no option of ours: getopt() starts afresh. */
	optind = 0;
	return test_harness_run(1, argv);
}
