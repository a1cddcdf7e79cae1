// SPDX-License-Identifier: GPL-2.0-only
/*
 * PASID virtualization (linux/iommufd_rs.h) under allocation failure, for
 * iommufd_rs.ko (the C iommufd.ko has no such commands). One flow, in each
 * PASID mode, on two PASID-capable mock devices made beforehand: set the
 * mode, attach both at one vPASID, mediate the device registers, replace,
 * detach and reattach, and leave the rest to the file's close. With
 * failslab and fail_page_alloc armed for the nth fault site of this thread
 * it runs for n = 1, 2, ... until it completes without reaching the nth
 * site.
 *
 * A failed step must say ENOMEM, with one exception: a global-mode
 * attach that takes a new PASID from the pool, which
 * iommu_alloc_global_pasid() reports only as "none" (ENOSPC). After a
 * failure every mapping the flow made before must still translate to what
 * it reported, and the failed one must not exist. After each run, with the
 * file closed, nothing stays pinned; after the last, the global pool hands
 * out the same two lowest PASIDs as before the first: none leaked (each
 * run takes the lowest free ones, so a leak in any run shows there).
 */
#define _GNU_SOURCE
#include <sys/mman.h>

#include "kselftest_harness.h"
#include "iommufd_rs_util.h"

#define BUF_LEN (4 * PSZ)
#define VPASID 7
#define VPASID2 9

enum {
	/* a global-mode attach that may take a new PASID from the pool */
	TAKES_GLOBAL = 1 << 0,
};

/* What the flow has attached, as the kernel reported it. */
struct mapping {
	__u32 idev, stdev, vpasid, ppasid, hwpt;
	int live;
};

struct flow {
	char *buf;
	int fd;
	__u32 mode;
	const char *step;
	unsigned int kind;
	struct mapping map[3];
	__u32 stdev[2], idev[2], s2, s2b;
	/* the flow found the kernel's answer wrong, not failed */
	int wrong;
};

static int at(struct flow *f, const char *name, unsigned int kind)
{
	f->step = name;
	f->kind = kind;
	return 0;
}

static int vattach(struct flow *f, struct mapping *m, __u32 flags)
{
	__u32 p;

	if (_test_ioctl_vpasid_attach(f->fd, flags, m->idev, m->vpasid,
				      m->hwpt, &p))
		return -1;
	if (m->live && p != m->ppasid)
		f->wrong = 1;
	m->ppasid = p;
	m->live = 1;
	return 0;
}

/*
 * The file, its IOAS, two devices and two HWPTs, made unarmed: upstream's
 * paths, which iommufd_rs_pasid_fail_nth covers, at no cost here.
 */
static int setup_flow(struct flow *f)
{
	__u64 iova = BASE;
	__u32 ioas;
	int i;

	memset(f->map, 0, sizeof(f->map));
	f->fd = open("/dev/iommu", O_RDWR);
	if (f->fd < 0 || _test_ioctl_ioas_alloc(f->fd, &ioas) ||
	    _test_ioctl_ioas_map(f->fd, ioas, f->buf, BUF_LEN, &iova,
				 MAP_FIXED_RW))
		return -1;
	for (i = 0; i < 2; i++)
		if (_test_cmd_mock_domain_flags(f->fd, ioas,
						MOCK_FLAGS_DEVICE_PASID,
						&f->stdev[i], NULL, &f->idev[i]))
			return -1;
	if (_test_ioctl_hwpt_alloc(f->fd, f->idev[0], ioas,
				   IOMMU_HWPT_ALLOC_PASID, &f->s2,
				   IOMMU_HWPT_DATA_NONE, NULL, 0) ||
	    _test_ioctl_hwpt_alloc(f->fd, f->idev[0], ioas,
				   IOMMU_HWPT_ALLOC_PASID, &f->s2b,
				   IOMMU_HWPT_DATA_NONE, NULL, 0))
		return -1;
	for (i = 0; i < 2; i++)
		if (_test_cmd_mock_domain_replace(f->fd, f->stdev[i], f->s2))
			return -1;
	return 0;
}

/* The armed part: everything of linux/iommufd_rs.h. */
static int run_flow(void *arg)
{
	struct flow *f = arg;
	__u32 s2 = f->s2, s2b = f->s2b, *stdev = f->stdev, *idev = f->idev;
	__u32 reg;
	int i;

	if (at(f, "PASID_MODE", 0) || _test_ioctl_set_pasid_mode(f->fd, f->mode))
		return -1;
	f->map[0] = (struct mapping){ idev[0], stdev[0], VPASID, 0, s2 };
	f->map[1] = (struct mapping){ idev[1], stdev[1], VPASID, 0, s2b };
	f->map[2] = (struct mapping){ idev[0], stdev[0], VPASID2, 0, s2 };
	if (at(f, "VPASID_ATTACH a", TAKES_GLOBAL) || vattach(f, &f->map[0], 0))
		return -1;
	/* the second device joins the vPASID: a new PASID in per-RID mode */
	if (at(f, "VPASID_ATTACH b", 0) || vattach(f, &f->map[1], 0))
		return -1;
	if (f->mode == IOMMU_RS_PASID_MODE_GLOBAL &&
	    f->map[0].ppasid != f->map[1].ppasid)
		f->wrong = 1;
	for (i = 0; i < 2; i++) {
		if (at(f, "MEDIATE", 0) ||
		    _test_cmd_mediate_pasid(f->fd, f->map[i].stdev, VPASID, &reg))
			return -1;
		if (reg != f->map[i].ppasid)
			f->wrong = 1;
	}
	f->map[0].hwpt = s2b;
	if (at(f, "VPASID_ATTACH replace", 0) ||
	    vattach(f, &f->map[0], IOMMU_RS_VPASID_REPLACE))
		return -1;
	if (at(f, "VPASID_ATTACH a 2", TAKES_GLOBAL) || vattach(f, &f->map[2], 0))
		return -1;
	if (at(f, "VPASID_DETACH", 0) ||
	    _test_ioctl_vpasid_detach(f->fd, idev[1], VPASID))
		return -1;
	f->map[1].live = 0;
	f->map[1].hwpt = s2;
	if (at(f, "VPASID_ATTACH b again", 0) || vattach(f, &f->map[1], 0))
		return -1;
	/* everything else goes with the file */
	return 0;
}

/* The mappings the flow holds translate as reported; the others do not. */
static int flow_consistent(struct __test_metadata *_metadata, struct flow *f)
{
	int i;

	for (i = 0; i < 3; i++) {
		struct mapping *m = &f->map[i];
		__u32 p, pt, reg;

		if (!m->idev)
			continue;
		if (!m->live) {
			EXPECT_ERRNO(ENOENT, _test_ioctl_vpasid_query(f->fd, m->idev,
								      m->vpasid,
								      NULL, NULL));
			continue;
		}
		EXPECT_EQ(0, _test_ioctl_vpasid_query(f->fd, m->idev, m->vpasid,
						      &p, &pt));
		EXPECT_EQ(m->ppasid, p);
		EXPECT_EQ(0, _test_cmd_mediate_pasid(f->fd, m->stdev, m->vpasid,
						     &reg));
		EXPECT_EQ(m->ppasid, reg);
		EXPECT_EQ(0, _test_cmd_pasid_check_hwpt(f->fd, m->stdev,
							m->ppasid, pt));
	}
	return !_metadata->exit_code;
}

/*
 * The two lowest free PASIDs of the global pool, through a throwaway file:
 * a run that leaked either of the two PASIDs it takes changes them.
 */
static __u64 pool_lowest(struct __test_metadata *_metadata)
{
	__u32 ioas, stdev, idev, hwpt, p = 0, q = 0;
	int fd = open("/dev/iommu", O_RDWR);

	EXPECT_LE(0, fd);
	EXPECT_EQ(0, _test_ioctl_set_pasid_mode(fd, IOMMU_RS_PASID_MODE_GLOBAL));
	EXPECT_EQ(0, _test_ioctl_ioas_alloc(fd, &ioas));
	EXPECT_EQ(0, _test_cmd_mock_domain_flags(fd, ioas, MOCK_FLAGS_DEVICE_PASID,
						 &stdev, NULL, &idev));
	EXPECT_EQ(0, _test_ioctl_hwpt_alloc(fd, idev, ioas, IOMMU_HWPT_ALLOC_PASID,
					    &hwpt, IOMMU_HWPT_DATA_NONE, NULL, 0));
	EXPECT_EQ(0, _test_cmd_mock_domain_replace(fd, stdev, hwpt));
	EXPECT_EQ(0, _test_ioctl_vpasid_attach(fd, 0, idev, 1, hwpt, &p));
	EXPECT_EQ(0, _test_ioctl_vpasid_attach(fd, 0, idev, 2, hwpt, &q));
	close(fd);
	return (__u64)p << 32 | q;
}

FIXTURE(vpasid_fail_nth)
{
	char *buf;
	int nthfd;
	long pin0;
	__u64 pool0;
};

FIXTURE_VARIANT(vpasid_fail_nth)
{
	__u32 mode;
};

FIXTURE_VARIANT_ADD(vpasid_fail_nth, per_rid)
{
	.mode = IOMMU_RS_PASID_MODE_PER_RID,
};

FIXTURE_VARIANT_ADD(vpasid_fail_nth, global)
{
	.mode = IOMMU_RS_PASID_MODE_GLOBAL,
};

FIXTURE_SETUP(vpasid_fail_nth)
{
	if (fail_nth_setup())
		SKIP(return, "failslab is not available");
	self->pin0 = vm_pin_kb();
	ASSERT_LE(0, self->pin0);
	self->buf = mmap(NULL, BUF_LEN, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	ASSERT_NE(MAP_FAILED, self->buf);
	self->pool0 = pool_lowest(_metadata);
	ASSERT_NE(0, self->pool0);
	self->nthfd = fail_nth_open();
	ASSERT_LE(0, self->nthfd);
}

FIXTURE_TEARDOWN(vpasid_fail_nth)
{
	close(self->nthfd);
	munmap(self->buf, BUF_LEN);
}

/* two mock devices made per run, on a slow TCG guest */
TEST_F_TIMEOUT(vpasid_fail_nth, flow, 120)
{
	int injected = 0, failed = 0, nth;

	ASSERT_FALSE(c_iommufd_loaded());
	for (nth = 1; nth < 5000; nth++) {
		struct flow f = { .buf = self->buf, .fd = -1,
				  .mode = variant->mode };
		int rc, err, reached, sane;

		ASSERT_EQ(0, setup_flow(&f));
		reached = fail_nth_run(self->nthfd, nth, run_flow, &f, &rc, &err);
		ASSERT_LE(0, reached);
		ASSERT_FALSE(f.wrong);

		if (reached && rc) {
			failed++;
			sane = err == ENOMEM ||
			       (err == ENOSPC && (f.kind & TAKES_GLOBAL) &&
				f.mode == IOMMU_RS_PASID_MODE_GLOBAL);
			if (!sane)
				TH_LOG("nth %d: %s failed with errno %d", nth,
				       f.step, err);
			ASSERT_TRUE(sane);
		}
		/* what was attached before the failure still translates */
		ASSERT_TRUE(flow_consistent(_metadata, &f));
		close(f.fd);

		/* whatever failed, nothing stays pinned */
		ASSERT_EQ(self->pin0, vm_pin_kb());

		if (!reached) {
			ASSERT_EQ(0, rc);
			break;
		}
		injected++;
	}
	TH_LOG("%d fault sites injected, %d failed a step", injected, failed);
	/* the pool ends as it began */
	ASSERT_EQ(self->pool0, pool_lowest(_metadata));
	ASSERT_LT(5, injected);
	ASSERT_LT(0, failed);
}

TEST_HARNESS_MAIN
