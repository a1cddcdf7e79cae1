// SPDX-License-Identifier: GPL-2.0-only
/*
 * A stress test: threads (4 by default) work for a fixed time (10 s by
 * default) on objects they share in one /dev/iommu file: they map, unmap
 * and copy slots of a buffer in two IOASes, create and close in-kernel
 * accesses (IOMMU_TEST_CMD) and pin, unpin, read, write and move them,
 * create, replace and destroy mock devices, allocate and destroy HWPTs, and
 * try to destroy the IOASes in use, or private ones.
 *
 *   iommufd_rs_stress [-d SECONDS] [-t THREADS] [-s SEED]
 *
 * Each call may fail only with the errnos its race allows (calibrated on
 * the C iommufd.ko). Afterwards, with all unmapped, nothing may be pinned
 * (VmPin 0, MD_CHECK_REFS 0 over the buffer), and every object must go with
 * IOMMU_DESTROY and be gone after (ENOENT). The operations done are counted
 * per kind and printed.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sys/capability.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>

#include "kselftest_harness.h"
#include "iommufd_rs_util.h"

/* The buffer: NSLOT slots of SLOT_LEN, mapped at BASE + slot * SLOT_LEN. */
#define NSLOT 16
#define SLOT_LEN (16 * PSZ)
#define BUF_LEN (NSLOT * SLOT_LEN)
#define NACC 4
#define NHWPT 4
/* Mock devices: the first two stay, the others come and go. */
#define NDEV 4
#define NDEV_FIXED 2
#define MAX_ITEMS 32
#define MAX_THREADS 32
#define NR_ERRNO 160

static struct {
	int seconds;
	int threads;
	unsigned long long seed;
} opt = {
	.seconds = 10,
	.threads = 4,
};

/* An access: an fd, closed to destroy it, and the pages it pinned. */
struct acc {
	/* Read-held to use the fd, write-held to create or close it. */
	pthread_rwlock_t rw;
	int fd;
	pthread_mutex_t lock;
	__u32 items[MAX_ITEMS];
	int nitems;
};

/* An HWPT or a mock device that threads allocate and destroy. */
struct slot {
	pthread_mutex_t lock;
	__u32 id;
	__u32 idev;
};

struct stress {
	int fd;
	__u32 ioas[2];
	int anchor[2];
	char *buf;
	struct acc acc[NACC];
	struct slot hwpt[NHWPT];
	struct slot dev[NDEV];
	int stop;
	unsigned long bad;
	unsigned long (*stat)[NR_ERRNO + 1];
};

struct sthread {
	struct stress *s;
	int idx;
	__u64 rng;
	char bounce[SLOT_LEN];
	/* A private IOAS that could not be destroyed yet. */
	__u32 keep;
	pthread_t th;
};

static __u64 rnd(struct sthread *t)
{
	t->rng ^= t->rng >> 12;
	t->rng ^= t->rng << 25;
	t->rng ^= t->rng >> 27;
	return t->rng * 0x2545f4914f6cdd1dULL;
}

static unsigned int below(struct sthread *t, unsigned int n)
{
	return rnd(t) % n;
}

static __u64 slot_iova(int slot)
{
	return BASE + (__u64)slot * SLOT_LEN;
}

static void *slot_va(struct stress *s, int slot)
{
	return s->buf + (size_t)slot * SLOT_LEN;
}

static __u32 load_id(__u32 *id)
{
	return __atomic_load_n(id, __ATOMIC_RELAXED);
}

/* The operations, with the errnos each may meet in a race. */
enum {
	S_MAP,
	S_UNMAP,
	S_UNMAP_ALL,
	S_COPY,
	S_ACC_CREATE,
	S_ACC_CLOSE,
	S_ACC_PIN,
	S_ACC_UNPIN,
	S_ACC_RW,
	S_ACC_REPLACE,
	S_DEV_CREATE,
	S_DEV_REPLACE,
	S_DEV_DESTROY,
	S_HWPT_ALLOC,
	S_HWPT_DESTROY,
	S_IOAS_DESTROY,
	S_IOAS_PRIVATE,
	NR_S,
};

static const struct {
	const char *name;
	int weight;
	/* The errnos allowed, 0-terminated. */
	int ok[6];
} sops[NR_S] = {
	/* A slot mapped already. */
	[S_MAP] = { "map", 10, { EEXIST } },
	/*
	 * A slot not mapped; an area another unmap is taking down (EBUSY:
	 * upstream's "userspace should not race map/unmap's of the same
	 * area").
	 */
	[S_UNMAP] = { "unmap", 8, { ENOENT, EBUSY } },
	[S_UNMAP_ALL] = { "unmap all", 1, { EBUSY } },
	/* The source not mapped, or the destination mapped. */
	[S_COPY] = { "copy", 5, { ENOENT, EEXIST } },
	[S_ACC_CREATE] = { "access create", 2, {} },
	[S_ACC_CLOSE] = { "access close", 2, {} },
	/*
	 * Not mapped; or the pages are being unmapped (EINVAL for upstream
	 * while the area's accesses are told to unpin).
	 */
	[S_ACC_PIN] = { "access pin", 6, { ENOENT, EINVAL } },
	/* Unpinned by an unmap meanwhile. */
	[S_ACC_UNPIN] = { "access unpin", 5, { ENOENT } },
	[S_ACC_RW] = { "access rw", 5, { ENOENT, EINVAL } },
	/* Another replace of the access is under way. */
	[S_ACC_REPLACE] = { "access replace", 3, { ENOENT, EBUSY } },
	/*
	 * An HWPT destroyed meanwhile, whose id may even be another object's
	 * now.
	 */
	[S_DEV_CREATE] = { "device create", 2, { ENOENT, EINVAL } },
	[S_DEV_REPLACE] = { "device replace", 6, { ENOENT, EINVAL, EBUSY } },
	/* In use by a replace at that moment. */
	[S_DEV_DESTROY] = { "device destroy", 2, { EBUSY } },
	[S_HWPT_ALLOC] = { "hwpt alloc", 3, {} },
	/* A device on it, or in use at that moment. */
	[S_HWPT_DESTROY] = { "hwpt destroy", 3, { EBUSY } },
	/* Shared IOASes always have their anchor access. */
	[S_IOAS_DESTROY] = { "ioas destroy (shared)", 1, { EBUSY } },
	/* A device may reach a private IOAS through a reused id. */
	[S_IOAS_PRIVATE] = { "ioas alloc, map, destroy", 2, { EBUSY } },
};

/* Counts the result of one call of op; false if its errno is not allowed. */
static bool result(struct sthread *t, int op, int ret, int err)
{
	struct stress *s = t->s;
	int i, b = !ret ? 0 : err > 0 && err < NR_ERRNO ? err : NR_ERRNO;

	__atomic_add_fetch(&s->stat[op][b], 1, __ATOMIC_RELAXED);
	if (!ret)
		return true;
	for (i = 0; sops[op].ok[i]; i++)
		if (sops[op].ok[i] == err)
			return true;
	if (__atomic_fetch_add(&s->bad, 1, __ATOMIC_RELAXED) < 20)
		ksft_print_msg("stress: %s: unexpected errno %d (%s), thread %d\n",
			       sops[op].name, err, strerrorname_np(err) ?: "?",
			       t->idx);
	return false;
}

/* Evaluates ret, then takes errno. */
#define RESULT(t, op, ret)                      \
	({                                      \
		int __ret = (ret);              \
		result(t, op, __ret, errno);    \
	})

static __u32 pick_ioas(struct sthread *t)
{
	return t->s->ioas[below(t, 2)];
}

/* An IOAS or one of the HWPTs, which may be gone. */
static __u32 pick_pt(struct sthread *t)
{
	if (below(t, 3))
		return load_id(&t->s->hwpt[below(t, NHWPT)].id) ?:
		       pick_ioas(t);
	return pick_ioas(t);
}

static void do_map(struct sthread *t)
{
	int slot = below(t, NSLOT);
	__u64 iova = slot_iova(slot);

	RESULT(t, S_MAP, _test_ioctl_ioas_map(t->s->fd, pick_ioas(t),
					      slot_va(t->s, slot), SLOT_LEN,
					      &iova, MAP_FIXED_RW));
}

static void do_unmap(struct sthread *t, bool all)
{
	__u64 len;
	int ret;

	if (all) {
		RESULT(t, S_UNMAP_ALL,
		       _test_ioctl_ioas_unmap(t->s->fd, pick_ioas(t), 0,
					      UINT64_MAX, NULL));
		return;
	}
	ret = _test_ioctl_ioas_unmap(t->s->fd, pick_ioas(t),
				     slot_iova(below(t, NSLOT)), SLOT_LEN, &len);
	if (RESULT(t, S_UNMAP, ret) && !ret && len != SLOT_LEN) {
		ksft_print_msg("stress: unmap of a slot unmapped %llu bytes\n",
			       (unsigned long long)len);
		__atomic_add_fetch(&t->s->bad, 1, __ATOMIC_RELAXED);
	}
}

/* Copies a slot of one IOAS to the same slot of the other. */
static void do_copy(struct sthread *t)
{
	int slot = below(t, NSLOT), src = below(t, 2);
	__u64 iova = slot_iova(slot);

	RESULT(t, S_COPY,
	       _test_ioctl_ioas_copy(t->s->fd, t->s->ioas[!src],
				     t->s->ioas[src], iova, SLOT_LEN, &iova,
				     MAP_FIXED_RW));
}

static void do_acc_create_close(struct sthread *t, bool create)
{
	struct acc *a = &t->s->acc[below(t, NACC)];
	int fd;

	pthread_rwlock_wrlock(&a->rw);
	if (create && a->fd < 0) {
		if (RESULT(t, S_ACC_CREATE,
			   _test_cmd_create_access(t->s->fd, pick_ioas(t), &fd,
						   MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES)))
			a->fd = fd;
	} else if (!create && a->fd >= 0) {
		RESULT(t, S_ACC_CLOSE, close(a->fd));
		a->fd = -1;
		a->nitems = 0;
	}
	pthread_rwlock_unlock(&a->rw);
}

static void do_acc_pin(struct sthread *t, struct acc *a)
{
	int slot = below(t, NSLOT), npages = 1 + below(t, SLOT_LEN / PSZ);
	__u32 id;
	int ret;

	ret = _test_cmd_access_pages(t->s->fd, a->fd, slot_iova(slot),
				     npages * PSZ, slot_va(t->s, slot), &id);
	if (!RESULT(t, S_ACC_PIN, ret) || ret)
		return;
	pthread_mutex_lock(&a->lock);
	if (a->nitems < MAX_ITEMS) {
		a->items[a->nitems++] = id;
		id = 0;
	}
	pthread_mutex_unlock(&a->lock);
	/* No room to remember it: unpin it now. */
	if (id)
		RESULT(t, S_ACC_UNPIN,
		       _test_cmd_destroy_access_pages(t->s->fd, a->fd, id));
}

static void do_acc_unpin(struct sthread *t, struct acc *a)
{
	__u32 id = 0;
	int i;

	pthread_mutex_lock(&a->lock);
	if (a->nitems) {
		i = below(t, a->nitems);
		id = a->items[i];
		a->items[i] = a->items[--a->nitems];
	}
	pthread_mutex_unlock(&a->lock);
	if (id)
		RESULT(t, S_ACC_UNPIN,
		       _test_cmd_destroy_access_pages(t->s->fd, a->fd, id));
}

static void do_acc_rw(struct sthread *t, struct acc *a)
{
	unsigned int off = below(t, SLOT_LEN), len = 1 + below(t, SLOT_LEN);
	__u32 flags = (below(t, 2) ? MOCK_ACCESS_RW_WRITE : 0) |
		      (below(t, 2) ? MOCK_ACCESS_RW_SLOW_PATH : 0);

	RESULT(t, S_ACC_RW,
	       _test_cmd_access_rw(t->s->fd, a->fd,
				   slot_iova(below(t, NSLOT)) + off,
				   t->bounce, len, flags));
}

static void do_acc_replace(struct sthread *t, struct acc *a)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_ACCESS_REPLACE_IOAS,
		.id = a->fd,
		.access_replace_ioas = { .ioas_id = pick_ioas(t) },
	};

	RESULT(t, S_ACC_REPLACE, _test_cmd(t->s->fd, &cmd));
}

/* An operation on an access that exists (if any does): read-held. */
static void do_acc_use(struct sthread *t, int what)
{
	struct acc *a = &t->s->acc[below(t, NACC)];

	pthread_rwlock_rdlock(&a->rw);
	if (a->fd >= 0) {
		switch (what) {
		case S_ACC_PIN:
			do_acc_pin(t, a);
			break;
		case S_ACC_UNPIN:
			do_acc_unpin(t, a);
			break;
		case S_ACC_RW:
			do_acc_rw(t, a);
			break;
		default:
			do_acc_replace(t, a);
		}
	}
	pthread_rwlock_unlock(&a->rw);
}

/* A mock device attached to an IOAS or HWPT, in a slot that comes and goes. */
static void do_dev_create_destroy(struct sthread *t, bool create)
{
	struct slot *d = &t->s->dev[NDEV_FIXED + below(t, NDEV - NDEV_FIXED)];
	__u32 stdev, idev, pt = pick_pt(t);
	int ret;

	pthread_mutex_lock(&d->lock);
	if (create && !d->id) {
		ret = _test_cmd_mock_domain_flags(t->s->fd, pt,
						  below(t, 2) ?
						  MOCK_FLAGS_DEVICE_PASID : 0,
						  &stdev, NULL, &idev);
		if (RESULT(t, S_DEV_CREATE, ret) && !ret) {
			d->idev = idev;
			__atomic_store_n(&d->id, stdev, __ATOMIC_RELAXED);
		}
	} else if (!create && d->id) {
		ret = _test_ioctl_destroy(t->s->fd, d->id);
		if (RESULT(t, S_DEV_DESTROY, ret) && !ret)
			__atomic_store_n(&d->id, 0, __ATOMIC_RELAXED);
	}
	pthread_mutex_unlock(&d->lock);
}

static void do_dev_replace(struct sthread *t)
{
	int i = below(t, NDEV);
	__u32 stdev = load_id(&t->s->dev[i].id);

	if (!stdev)
		return;
	RESULT(t, S_DEV_REPLACE,
	       _test_cmd_mock_domain_replace(t->s->fd, stdev, pick_pt(t)));
}

static void do_hwpt(struct sthread *t, bool alloc)
{
	struct slot *h = &t->s->hwpt[below(t, NHWPT)];
	__u32 id;
	int ret;

	pthread_mutex_lock(&h->lock);
	if (alloc && !h->id) {
		/* On the first fixed device, whose idev stays. */
		ret = _test_ioctl_hwpt_alloc(t->s->fd, t->s->dev[0].idev,
					     pick_ioas(t), 0, &id,
					     IOMMU_HWPT_DATA_NONE, NULL, 0);
		if (RESULT(t, S_HWPT_ALLOC, ret) && !ret)
			__atomic_store_n(&h->id, id, __ATOMIC_RELAXED);
	} else if (!alloc && h->id) {
		ret = _test_ioctl_destroy(t->s->fd, h->id);
		if (RESULT(t, S_HWPT_DESTROY, ret) && !ret)
			__atomic_store_n(&h->id, 0, __ATOMIC_RELAXED);
	}
	pthread_mutex_unlock(&h->lock);
}

/*
 * A private IOAS: allocated, given a mapping, destroyed. If a device came
 * to it through an id it held before, the destroy waits for the next turn.
 */
static void do_ioas_private(struct sthread *t, __u32 *keep)
{
	__u64 iova = slot_iova(0);
	__u32 id;

	if (*keep) {
		if (RESULT(t, S_IOAS_PRIVATE, _test_ioctl_destroy(t->s->fd, *keep)))
			*keep = 0;
		return;
	}
	if (!RESULT(t, S_IOAS_PRIVATE, _test_ioctl_ioas_alloc(t->s->fd, &id)))
		return;
	if (!RESULT(t, S_IOAS_PRIVATE,
		    _test_ioctl_ioas_map(t->s->fd, id, t->s->buf, SLOT_LEN,
					 &iova, MAP_FIXED_RW)))
		return;
	if (!_test_ioctl_destroy(t->s->fd, id))
		RESULT(t, S_IOAS_PRIVATE, 0);
	else if (RESULT(t, S_IOAS_PRIVATE, -1))
		*keep = id;
}

static int total_weight;

static void *stress_thread(void *arg)
{
	struct sthread *t = arg;
	int op, w;

	while (!__atomic_load_n(&t->s->stop, __ATOMIC_RELAXED)) {
		w = below(t, total_weight);
		for (op = 0; op < NR_S - 1; op++) {
			w -= sops[op].weight;
			if (w < 0)
				break;
		}
		switch (op) {
		case S_MAP:
			do_map(t);
			break;
		case S_UNMAP:
		case S_UNMAP_ALL:
			do_unmap(t, op == S_UNMAP_ALL);
			break;
		case S_COPY:
			do_copy(t);
			break;
		case S_ACC_CREATE:
		case S_ACC_CLOSE:
			do_acc_create_close(t, op == S_ACC_CREATE);
			break;
		case S_ACC_PIN:
		case S_ACC_UNPIN:
		case S_ACC_RW:
		case S_ACC_REPLACE:
			do_acc_use(t, op);
			break;
		case S_DEV_CREATE:
		case S_DEV_DESTROY:
			do_dev_create_destroy(t, op == S_DEV_CREATE);
			break;
		case S_DEV_REPLACE:
			do_dev_replace(t);
			break;
		case S_HWPT_ALLOC:
		case S_HWPT_DESTROY:
			do_hwpt(t, op == S_HWPT_ALLOC);
			break;
		case S_IOAS_DESTROY:
			RESULT(t, S_IOAS_DESTROY,
			       _test_ioctl_destroy(t->s->fd, pick_ioas(t)));
			break;
		default:
			do_ioas_private(t, &t->keep);
		}
	}
	return NULL;
}

/* Pins charged for real (not waived for CAP_IPC_LOCK), within a limit. */
static int charge_pins(void)
{
	struct rlimit lim = { 256 << 20, 256 << 20 };

	return drop_ipc_lock() ?: setrlimit(RLIMIT_MEMLOCK, &lim);
}

FIXTURE(stress)
{
	int fd;
	struct stress s;
	struct sthread *th;
};

FIXTURE_SETUP(stress)
{
	struct stress *s = &self->s;
	int i;

	ASSERT_EQ(0, charge_pins());
	s->fd = open("/dev/iommu", O_RDWR);
	ASSERT_LE(0, s->fd);
	self->fd = s->fd;
	s->stat = calloc(NR_S, sizeof(*s->stat));
	ASSERT_NE(NULL, s->stat);
	s->buf = mmap(NULL, BUF_LEN, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	ASSERT_NE(MAP_FAILED, s->buf);
	for (i = 0; i < 2; i++) {
		test_ioctl_ioas_alloc(&s->ioas[i]);
		/* An IOAS with an access cannot be destroyed. */
		ASSERT_EQ(0, _test_cmd_create_access(s->fd, s->ioas[i],
						     &s->anchor[i], 0));
	}
	for (i = 0; i < NACC; i++) {
		pthread_rwlock_init(&s->acc[i].rw, NULL);
		pthread_mutex_init(&s->acc[i].lock, NULL);
		s->acc[i].fd = -1;
	}
	for (i = 0; i < NHWPT; i++)
		pthread_mutex_init(&s->hwpt[i].lock, NULL);
	for (i = 0; i < NDEV; i++) {
		pthread_mutex_init(&s->dev[i].lock, NULL);
		if (i < NDEV_FIXED)
			ASSERT_EQ(0, _test_cmd_mock_domain_flags(s->fd, s->ioas[i],
								 i ? MOCK_FLAGS_DEVICE_PASID : 0,
								 &s->dev[i].id,
								 NULL,
								 &s->dev[i].idev));
	}
	self->th = calloc(opt.threads, sizeof(*self->th));
	ASSERT_NE(NULL, self->th);
}

FIXTURE_TEARDOWN(stress)
{
}

static void print_stats(struct stress *s, double took)
{
	unsigned long total = 0;
	char line[1024];
	int op, e, n;

	for (op = 0; op < NR_S; op++) {
		unsigned long calls = 0;

		for (e = 0; e <= NR_ERRNO; e++)
			calls += s->stat[op][e];
		total += calls;
		n = snprintf(line, sizeof(line), "%s: %lu, %lu ok",
			     sops[op].name, calls, s->stat[op][0]);
		for (e = 1; e <= NR_ERRNO; e++)
			if (s->stat[op][e])
				n += snprintf(line + n, sizeof(line) - n,
					      ", %s %lu",
					      e < NR_ERRNO ?
					      strerrorname_np(e) ?: "?" :
					      "other",
					      s->stat[op][e]);
		ksft_print_msg("stress: %s\n", line);
	}
	ksft_print_msg("stress: %lu operations in %.1f s (%.0f/s), %d threads, seed %llu\n",
		       total, took, total / took, opt.threads, opt.seed);
}

/* The id is gone: its destroy now fails with ENOENT. */
#define destroy_gone(id)                                          \
	({                                                        \
		__u32 __id = (id);                                \
		ASSERT_EQ(0, _test_ioctl_destroy(self->fd, __id)); \
		test_err_destroy(ENOENT, __id);                   \
	})

/*
 * The stress, then: all unmapped, nothing pinned; every object destroyed
 * in turn, and gone.
 */
TEST_F_TIMEOUT(stress, run, 900)
{
	struct stress *s = &self->s;
	struct timespec t0, t1;
	double took;
	int i;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < opt.threads; i++) {
		self->th[i].s = s;
		self->th[i].idx = i;
		self->th[i].rng = (opt.seed + i) * 0x9e3779b97f4a7c15ULL | 1;
		ASSERT_EQ(0, pthread_create(&self->th[i].th, NULL,
					    stress_thread, &self->th[i]));
	}
	sleep(opt.seconds);
	__atomic_store_n(&s->stop, 1, __ATOMIC_RELAXED);
	for (i = 0; i < opt.threads; i++)
		ASSERT_EQ(0, pthread_join(self->th[i].th, NULL));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	took = t1.tv_sec - t0.tv_sec + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	print_stats(s, took);
	EXPECT_EQ(0, s->bad);

	/* All unmapped: whatever the accesses pinned is unpinned with it. */
	test_ioctl_ioas_unmap_all(s->ioas[0]);
	test_ioctl_ioas_unmap_all(s->ioas[1]);
	EXPECT_EQ(0, vm_pin_kb());
	check_refs(s->buf, BUF_LEN, 0);

	/* Every object goes, and is gone after. */
	for (i = 0; i < NDEV; i++) {
		if (!s->dev[i].id)
			continue;
		destroy_gone(s->dev[i].id);
		/* The device object went with its selftest device. */
		test_err_destroy(ENOENT, s->dev[i].idev);
	}
	for (i = 0; i < NHWPT; i++)
		if (s->hwpt[i].id)
			destroy_gone(s->hwpt[i].id);
	/* Private IOASes a device had reached through a reused id. */
	for (i = 0; i < opt.threads; i++)
		if (self->th[i].keep)
			destroy_gone(self->th[i].keep);
	for (i = 0; i < NACC; i++)
		if (s->acc[i].fd >= 0)
			ASSERT_EQ(0, close(s->acc[i].fd));
	for (i = 0; i < 2; i++) {
		/* Still held by its anchor access. */
		test_err_destroy(EBUSY, s->ioas[i]);
		ASSERT_EQ(0, close(s->anchor[i]));
		destroy_gone(s->ioas[i]);
	}
	/* Nothing else is left: a new IOAS takes the lowest id, 1. */
	{
		__u32 id;

		test_ioctl_ioas_alloc(&id);
		EXPECT_EQ(1, id);
		destroy_gone(id);
	}
	close(s->fd);
	EXPECT_EQ(0, vm_pin_kb());
}

int main(int argc, char **argv)
{
	int c, i;

	opt.seed = (unsigned long long)time(NULL) * 1000003 ^ getpid();
	while ((c = getopt(argc, argv, "d:t:s:")) != -1) {
		switch (c) {
		case 'd':
			opt.seconds = atoi(optarg);
			break;
		case 't':
			opt.threads = atoi(optarg);
			break;
		case 's':
			opt.seed = strtoull(optarg, NULL, 0);
			break;
		default:
			fprintf(stderr, "usage: %s [-d SECONDS] [-t THREADS] [-s SEED]\n",
				argv[0]);
			return KSFT_FAIL;
		}
	}
	if (opt.threads < 1 || opt.threads > MAX_THREADS || opt.seconds < 1) {
		fprintf(stderr, "threads: 1 to %d; seconds: 1 or more\n",
			MAX_THREADS);
		return KSFT_FAIL;
	}
	/* Under TCG the end (joining, unmapping, destroying) takes a while. */
	_stress_run_object->timeout = opt.seconds + 600;
	for (i = 0; i < NR_S; i++)
		total_weight += sops[i].weight;
	setvbuf(stdout, NULL, _IOLBF, 0);
	/* The harness parses no option of ours: getopt() starts afresh. */
	optind = 0;
	return test_harness_run(1, argv);
}
