// SPDX-License-Identifier: GPL-2.0-only
/*
 * PASID virtualization, the iommufd-rs extension of linux/iommufd_rs.h:
 * the per-file PASID mode, attach, replace, detach and query by vPASID with
 * the host PASID (pPASID) chosen by the kernel, one context per IOMMU group,
 * and the mediation path, driven through mock devices whose PASID register
 * a test-only hook writes through the vPASID lookup. Which PASID reached
 * the mock IOMMU is read back with upstream's PASID_CHECK_HWPT.
 *
 * The fixtures "vpasid" and "shared" run against iommufd_rs.ko (make check
 * runs them with -F upstream). The fixture "upstream" runs against the C
 * iommufd.ko (-f upstream -f any_module): it has none of this, and must
 * answer as for any command it does not know. "any_module" runs on both:
 * numbers near the extension's that are not its commands.
 */
#define _GNU_SOURCE
#include <stddef.h>

#include "kselftest_harness.h"
#include "iommufd_rs_util.h"

/* One PASID-capable device's worth of state. */
struct pdev {
	__u32 stdev, idev;
};

static int add_pasid_dev(int fd, __u32 pt, __u32 flags, struct pdev *d)
{
	return _test_cmd_mock_domain_flags(fd, pt, MOCK_FLAGS_DEVICE_PASID | flags,
					   &d->stdev, NULL, &d->idev);
}

FIXTURE(vpasid)
{
	int fd;
	__u32 ioas;
	/* two PASID-capable devices, each in its own group */
	struct pdev a, b;
	/* a device without PASIDs */
	__u32 np_stdev, np_idev;
	/* PASID-compatible HWPTs, the RIDs of a and b on s2 */
	__u32 s2, s2b;
	/* a HWPT without IOMMU_HWPT_ALLOC_PASID */
	__u32 plain;
};

FIXTURE_SETUP(vpasid)
{
	self->fd = open("/dev/iommu", O_RDWR);
	ASSERT_LE(0, self->fd);
	test_ioctl_ioas_alloc(&self->ioas);
	ASSERT_EQ(0, add_pasid_dev(self->fd, self->ioas, 0, &self->a));
	ASSERT_EQ(0, add_pasid_dev(self->fd, self->ioas, 0, &self->b));
	test_cmd_mock_domain_flags(self->ioas, 0, &self->np_stdev, NULL,
				   &self->np_idev);
	test_cmd_hwpt_alloc(self->a.idev, self->ioas, IOMMU_HWPT_ALLOC_PASID,
			    &self->s2);
	test_cmd_hwpt_alloc(self->a.idev, self->ioas, IOMMU_HWPT_ALLOC_PASID,
			    &self->s2b);
	test_cmd_hwpt_alloc(self->a.idev, self->ioas, 0, &self->plain);
	/* a PASID needs a PASID-compatible RID domain, as upstream */
	test_cmd_mock_domain_replace(self->a.stdev, self->s2);
	test_cmd_mock_domain_replace(self->b.stdev, self->s2);
}

FIXTURE_TEARDOWN(vpasid)
{
	/* closing releases every mapping: what release_on_close checks */
	close(self->fd);
}

#define vattach(idev, vpasid, pt, out) \
	ASSERT_EQ(0, _test_ioctl_vpasid_attach(self->fd, 0, idev, vpasid, pt, out))
#define vattach_err(_errno, idev, vpasid, pt)                                  \
	EXPECT_ERRNO(_errno, _test_ioctl_vpasid_attach(self->fd, 0, idev, vpasid, \
						       pt, NULL))
#define vreplace(idev, vpasid, pt, out)                                       \
	ASSERT_EQ(0, _test_ioctl_vpasid_attach(self->fd, IOMMU_RS_VPASID_REPLACE, \
					       idev, vpasid, pt, out))
#define vreplace_err(_errno, idev, vpasid, pt)                     \
	EXPECT_ERRNO(_errno,                                       \
		     _test_ioctl_vpasid_attach(self->fd,           \
					       IOMMU_RS_VPASID_REPLACE, \
					       idev, vpasid, pt, NULL))
#define vdetach(idev, vpasid) \
	ASSERT_EQ(0, _test_ioctl_vpasid_detach(self->fd, idev, vpasid))
#define vquery(idev, vpasid, ppasid, pt) \
	ASSERT_EQ(0, _test_ioctl_vpasid_query(self->fd, idev, vpasid, ppasid, pt))
#define vquery_err(_errno, idev, vpasid) \
	EXPECT_ERRNO(_errno, _test_ioctl_vpasid_query(self->fd, idev, vpasid, NULL, NULL))
#define mediate(stdev, vpasid, reg) \
	ASSERT_EQ(0, _test_cmd_mediate_pasid(self->fd, stdev, vpasid, reg))
#define mediate_err(_errno, stdev, vpasid) \
	EXPECT_ERRNO(_errno, _test_cmd_mediate_pasid(self->fd, stdev, vpasid, NULL))
#define set_mode(mode) ASSERT_EQ(0, _test_ioctl_set_pasid_mode(self->fd, mode))
#define set_mode_err(_errno, mode) \
	EXPECT_ERRNO(_errno, _test_ioctl_set_pasid_mode(self->fd, mode))

/*
 * The device's DMA at vpasid reaches the mock IOMMU tagged with ppasid,
 * where hwpt is: the mediated register holds ppasid, the IOMMU has hwpt at
 * ppasid, and the query agrees.
 */
static void dma_lands(struct __test_metadata *_metadata, int fd,
		      const struct pdev *d, __u32 vpasid, __u32 ppasid,
		      __u32 hwpt)
{
	__u32 reg, p, pt;

	ASSERT_EQ(0, _test_cmd_mediate_pasid(fd, d->stdev, vpasid, &reg));
	ASSERT_EQ(ppasid, reg);
	ASSERT_EQ(0, _test_cmd_pasid_check_hwpt(fd, d->stdev, ppasid, hwpt));
	ASSERT_EQ(0, _test_ioctl_vpasid_query(fd, d->idev, vpasid, &p, &pt));
	ASSERT_EQ(ppasid, p);
	ASSERT_EQ(hwpt, pt);
}

#define check_dma(d, vpasid, ppasid, hwpt) \
	dma_lands(_metadata, self->fd, &(d), vpasid, ppasid, hwpt)

TEST_F(vpasid, mode_get_set_and_errors)
{
	struct iommu_rs_pasid_mode cmd = { .size = sizeof(cmd) };
	__u32 mode = 0xff;

	ASSERT_EQ(0, _test_ioctl_pasid_mode(self->fd, IOMMU_OPTION_OP_GET, &mode));
	ASSERT_EQ(IOMMU_RS_PASID_MODE_PER_RID, mode);
	set_mode(IOMMU_RS_PASID_MODE_GLOBAL);
	ASSERT_EQ(0, _test_ioctl_pasid_mode(self->fd, IOMMU_OPTION_OP_GET, &mode));
	ASSERT_EQ(IOMMU_RS_PASID_MODE_GLOBAL, mode);
	/* back and forth while nothing is attached */
	set_mode(IOMMU_RS_PASID_MODE_PER_RID);
	ASSERT_EQ(0, _test_ioctl_pasid_mode(self->fd, IOMMU_OPTION_OP_GET, &mode));
	ASSERT_EQ(IOMMU_RS_PASID_MODE_PER_RID, mode);

	/* an unknown mode is EINVAL, an unknown op or reserved bits EOPNOTSUPP */
	set_mode_err(EINVAL, 2);
	mode = 0;
	EXPECT_ERRNO(EOPNOTSUPP, _test_ioctl_pasid_mode(self->fd, 2, &mode));
	cmd.op = IOMMU_OPTION_OP_SET;
	cmd.__reserved = 1;
	EXPECT_ERRNO(EOPNOTSUPP, ioctl(self->fd, IOMMU_RS_PASID_MODE, &cmd));
	/* nothing changed */
	ASSERT_EQ(0, _test_ioctl_pasid_mode(self->fd, IOMMU_OPTION_OP_GET, &mode));
	ASSERT_EQ(IOMMU_RS_PASID_MODE_PER_RID, mode);
}

TEST_F(vpasid, size_and_flag_rules)
{
	struct {
		struct iommu_rs_vpasid_attach cmd;
		__u64 extra;
	} big = {};
	struct iommu_rs_pasid_mode m = { .op = IOMMU_OPTION_OP_GET };
	struct iommu_rs_vpasid_detach d = { .size = sizeof(d) };
	struct iommu_rs_vpasid_query q = { .size = sizeof(q) };

	big.cmd.dev_id = self->a.idev;
	big.cmd.vpasid = 100;
	big.cmd.pt_id = self->s2;
	/* below the last mandatory field: EINVAL, nothing attached */
	big.cmd.size = offsetof(struct iommu_rs_vpasid_attach, out_ppasid);
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, IOMMU_RS_VPASID_ATTACH, &big));
	vquery_err(ENOENT, self->a.idev, 100);
	/* unknown trailing bytes must be zero */
	big.cmd.size = sizeof(big);
	big.extra = 1;
	EXPECT_ERRNO(E2BIG, ioctl(self->fd, IOMMU_RS_VPASID_ATTACH, &big));
	vquery_err(ENOENT, self->a.idev, 100);
	/* unknown flags */
	big.extra = 0;
	big.cmd.flags = 1U << 1;
	EXPECT_ERRNO(EOPNOTSUPP, ioctl(self->fd, IOMMU_RS_VPASID_ATTACH, &big));
	vquery_err(ENOENT, self->a.idev, 100);
	/* a longer struct with zeroes beyond ours is fine */
	big.cmd.flags = 0;
	ASSERT_EQ(0, ioctl(self->fd, IOMMU_RS_VPASID_ATTACH, &big));
	ASSERT_EQ(1, big.cmd.out_ppasid);
	ASSERT_EQ(0, big.extra);

	d.flags = 1;
	d.dev_id = self->a.idev;
	d.vpasid = 100;
	EXPECT_ERRNO(EOPNOTSUPP, ioctl(self->fd, IOMMU_RS_VPASID_DETACH, &d));
	d.flags = 0;
	d.size = offsetof(struct iommu_rs_vpasid_detach, vpasid);
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, IOMMU_RS_VPASID_DETACH, &d));
	vquery(self->a.idev, 100, NULL, NULL);

	q.flags = 1;
	q.dev_id = self->a.idev;
	q.vpasid = 100;
	EXPECT_ERRNO(EOPNOTSUPP, ioctl(self->fd, IOMMU_RS_VPASID_QUERY, &q));
	q.flags = 0;
	q.size = offsetof(struct iommu_rs_vpasid_query, out_pt_id);
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, IOMMU_RS_VPASID_QUERY, &q));

	m.size = offsetof(struct iommu_rs_pasid_mode, __reserved);
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, IOMMU_RS_PASID_MODE, &m));
	/* a bad pointer is EFAULT once the number is one of ours */
	EXPECT_ERRNO(EFAULT, ioctl(self->fd, IOMMU_RS_VPASID_QUERY, NULL));
}

TEST_F(vpasid, per_rid_translation)
{
	__u32 p;

	/* each group's space: lowest free, vPASIDs are not reused as is */
	vattach(self->a.idev, 100, self->s2, &p);
	ASSERT_EQ(1, p);
	vattach(self->a.idev, 200, self->s2b, &p);
	ASSERT_EQ(2, p);
	/* b is another group: its own space starts at 1 again */
	vattach(self->b.idev, 200, self->s2, &p);
	ASSERT_EQ(1, p);

	check_dma(self->a, 100, 1, self->s2);
	check_dma(self->a, 200, 2, self->s2b);
	check_dma(self->b, 200, 1, self->s2);
	/* the vPASIDs themselves are not on the wire */
	test_cmd_pasid_check_hwpt(self->a.stdev, 100, 0);
	test_cmd_pasid_check_hwpt(self->a.stdev, 200, 0);
	test_cmd_pasid_check_hwpt(self->b.stdev, 2, 0);
	/* b has no vPASID 100: the register is not written */
	mediate_err(ENOENT, self->b.stdev, 100);
	vquery_err(ENOENT, self->b.idev, 100);
}

TEST_F(vpasid, per_rid_skips_and_guards_untranslated_pasids)
{
	__u32 p;

	/* PASID 1 attached upstream's way: the allocator goes around it */
	test_cmd_pasid_attach(self->a.stdev, 1, self->s2);
	vattach(self->a.idev, 5, self->s2b, &p);
	ASSERT_EQ(2, p);
	check_dma(self->a, 5, 2, self->s2b);
	test_cmd_pasid_check_hwpt(self->a.stdev, 1, self->s2);

	/* the translation's PASID is not the untranslated path's */
	test_err_pasid_attach(EBUSY, self->a.stdev, 2, self->s2b);
	test_err_pasid_replace(EBUSY, self->a.stdev, 2, self->s2);
	test_cmd_pasid_detach(self->a.stdev, 2);
	check_dma(self->a, 5, 2, self->s2b);
	/* other groups are not concerned */
	test_cmd_pasid_attach(self->b.stdev, 2, self->s2);
	test_cmd_pasid_check_hwpt(self->b.stdev, 2, self->s2);
	test_cmd_pasid_detach(self->b.stdev, 2);

	test_cmd_pasid_detach(self->a.stdev, 1);
	test_cmd_pasid_check_hwpt(self->a.stdev, 1, 0);
	vdetach(self->a.idev, 5);
	test_cmd_pasid_check_hwpt(self->a.stdev, 2, 0);
	/* both free again */
	vattach(self->a.idev, 6, self->s2, &p);
	ASSERT_EQ(1, p);
}

TEST_F(vpasid, global_mode_same_vpasid_same_ppasid)
{
	__u32 p, p2, q, mode = 0;

	set_mode(IOMMU_RS_PASID_MODE_GLOBAL);
	vattach(self->a.idev, 7, self->s2, &p);
	ASSERT_NE(0, p);
	ASSERT_GT(1U << MOCK_PASID_WIDTH, p);
	/* another device, another group, another HWPT: the same host PASID */
	vattach(self->b.idev, 7, self->s2b, &p2);
	ASSERT_EQ(p, p2);
	check_dma(self->a, 7, p, self->s2);
	check_dma(self->b, 7, p, self->s2b);
	/* another vPASID: another host PASID */
	vattach(self->a.idev, 8, self->s2, &q);
	ASSERT_NE(p, q);
	ASSERT_NE(0, q);
	check_dma(self->a, 8, q, self->s2);
	test_cmd_pasid_check_hwpt(self->b.stdev, q, 0);

	/* in global mode every PASID on the wire is the pool's */
	test_err_pasid_attach(EBUSY, self->a.stdev, 300, self->s2);
	test_err_pasid_attach(EBUSY, self->b.stdev, 300, self->s2);
	test_cmd_pasid_check_hwpt(self->a.stdev, 300, 0);
	/* the RID is still the upstream path's */
	test_cmd_mock_domain_replace(self->a.stdev, self->s2b);
	test_cmd_pasid_check_hwpt(self->a.stdev, 0, self->s2b);

	/* the mode is fixed while anything is attached, even to itself */
	set_mode_err(EBUSY, IOMMU_RS_PASID_MODE_PER_RID);
	set_mode_err(EBUSY, IOMMU_RS_PASID_MODE_GLOBAL);
	ASSERT_EQ(0, _test_ioctl_pasid_mode(self->fd, IOMMU_OPTION_OP_GET, &mode));
	ASSERT_EQ(IOMMU_RS_PASID_MODE_GLOBAL, mode);

	/* the host PASID is stable while one device still holds the vPASID */
	vdetach(self->a.idev, 7);
	test_cmd_pasid_check_hwpt(self->a.stdev, p, 0);
	mediate_err(ENOENT, self->a.stdev, 7);
	check_dma(self->b, 7, p, self->s2b);
	vattach(self->a.idev, 7, self->s2, &p2);
	ASSERT_EQ(p, p2);
	check_dma(self->a, 7, p, self->s2);
}

TEST_F(vpasid, mode_busy_while_any_pasid_is_attached)
{
	__u32 p;

	/* a PASID attached upstream's way fixes the mode too */
	test_cmd_pasid_attach(self->a.stdev, 100, self->s2);
	set_mode_err(EBUSY, IOMMU_RS_PASID_MODE_GLOBAL);
	test_cmd_pasid_detach(self->a.stdev, 100);
	/* the RID does not */
	set_mode(IOMMU_RS_PASID_MODE_PER_RID);
	vattach(self->a.idev, 100, self->s2, &p);
	set_mode_err(EBUSY, IOMMU_RS_PASID_MODE_GLOBAL);
	vdetach(self->a.idev, 100);
	set_mode(IOMMU_RS_PASID_MODE_GLOBAL);
}

TEST_F(vpasid, detach_and_reattach)
{
	__u32 p;

	vattach(self->a.idev, 100, self->s2, &p);
	ASSERT_EQ(1, p);
	vattach(self->a.idev, 200, self->s2, &p);
	ASSERT_EQ(2, p);
	vdetach(self->a.idev, 100);
	/* the host PASID is blocked again and the mapping is gone */
	test_cmd_pasid_check_hwpt(self->a.stdev, 1, 0);
	vquery_err(ENOENT, self->a.idev, 100);
	mediate_err(ENOENT, self->a.stdev, 100);
	check_dma(self->a, 200, 2, self->s2);
	/* detaching what is not attached is no error, and changes nothing */
	vdetach(self->a.idev, 100);
	vdetach(self->b.idev, 200);
	check_dma(self->a, 200, 2, self->s2);

	/* the freed host PASID is the lowest free one again */
	vattach(self->a.idev, 300, self->s2b, &p);
	ASSERT_EQ(1, p);
	check_dma(self->a, 300, 1, self->s2b);
	vattach(self->a.idev, 100, self->s2, &p);
	ASSERT_EQ(3, p);
	check_dma(self->a, 100, 3, self->s2);
}

TEST_F(vpasid, replace_keeps_the_host_pasid)
{
	__u32 p, p2;

	vattach(self->a.idev, 100, self->s2, &p);
	vreplace(self->a.idev, 100, self->s2b, &p2);
	ASSERT_EQ(p, p2);
	check_dma(self->a, 100, p, self->s2b);
	/* the same HWPT again changes nothing */
	vreplace(self->a.idev, 100, self->s2b, &p2);
	ASSERT_EQ(p, p2);
	/* nothing to replace: EINVAL, as upstream's replace */
	vreplace_err(EINVAL, self->a.idev, 101, self->s2);
	vreplace_err(EINVAL, self->b.idev, 100, self->s2);
	vquery_err(ENOENT, self->a.idev, 101);
	/* a HWPT without ALLOC_PASID cannot replace either */
	vreplace_err(EINVAL, self->a.idev, 100, self->plain);
	check_dma(self->a, 100, p, self->s2b);
	/* attach never overwrites */
	vattach_err(EBUSY, self->a.idev, 100, self->s2);
	vattach_err(EBUSY, self->a.idev, 100, self->plain);
	check_dma(self->a, 100, p, self->s2b);
	/* the attached HWPT is in use */
	test_err_destroy(EBUSY, self->s2b);
	vdetach(self->a.idev, 100);
	test_ioctl_destroy(self->s2b);
}

TEST_F(vpasid, refusals)
{
	__u32 p;

	/* vPASID 0 is the RID; the PCIe width bounds the rest */
	vattach_err(EINVAL, self->a.idev, 0, self->s2);
	vattach_err(EINVAL, self->a.idev, IOMMU_RS_VPASID_LIMIT, self->s2);
	vattach_err(EINVAL, self->a.idev, 0xffffffff, self->s2);
	vquery_err(EINVAL, self->a.idev, 0);
	EXPECT_ERRNO(EINVAL, _test_ioctl_vpasid_detach(self->fd, self->a.idev, 0));
	/* the largest vPASID is fine */
	vattach(self->a.idev, IOMMU_RS_VPASID_LIMIT - 1, self->s2, &p);
	ASSERT_EQ(1, p);
	/* a device that cannot tag DMA with a PASID */
	vattach_err(EINVAL, self->np_idev, 100, self->s2);
	/* upstream's rules for what may sit on a PASID */
	vattach_err(EINVAL, self->a.idev, 100, self->plain);
	vattach_err(EINVAL, self->a.idev, 100, self->ioas);
	vattach_err(EINVAL, self->a.idev, 100, self->a.idev);
	vattach_err(ENOENT, self->a.idev, 100, NO_ID);
	vattach_err(ENOENT, NO_ID, 100, self->s2);
	/* a mock device's own id is not a device object */
	vattach_err(ENOENT, self->a.stdev, 100, self->s2);
	vquery_err(ENOENT, NO_ID, 100);
	EXPECT_ERRNO(ENOENT, _test_ioctl_vpasid_detach(self->fd, NO_ID, 100));
	/* none of them took a host PASID */
	vquery_err(ENOENT, self->a.idev, 100);
	vattach(self->a.idev, 100, self->s2, &p);
	ASSERT_EQ(2, p);
	/* the mediation hook needs a mock device */
	mediate_err(ENOENT, self->a.idev, 100);
	mediate_err(ENOENT, NO_ID, 100);
}

TEST_F(vpasid, rid_on_non_pasid_domain_refuses)
{
	/* as upstream: a PASID needs the RID on a PASID-compatible domain */
	test_cmd_mock_domain_replace(self->a.stdev, self->plain);
	vattach_err(EINVAL, self->a.idev, 100, self->s2);
	vquery_err(ENOENT, self->a.idev, 100);
	test_cmd_pasid_check_hwpt(self->a.stdev, 1, 0);
}

TEST_F(vpasid, unbind_releases)
{
	__u32 p, p2;

	set_mode(IOMMU_RS_PASID_MODE_GLOBAL);
	vattach(self->b.idev, 9, self->s2, &p);
	/* destroying the device unbinds it and gives its host PASID back */
	test_ioctl_destroy(self->b.stdev);
	vquery_err(ENOENT, self->b.idev, 9);
	/* the pool hands out its lowest free PASID: the one just freed */
	vattach(self->a.idev, 10, self->s2, &p2);
	ASSERT_EQ(p, p2);
	check_dma(self->a, 10, p, self->s2);
}

TEST_F(vpasid, release_on_close)
{
	__u32 p, q, p2, q2;
	int fd2;

	set_mode(IOMMU_RS_PASID_MODE_GLOBAL);
	vattach(self->a.idev, 7, self->s2, &p);
	vattach(self->b.idev, 8, self->s2, &q);
	close(self->fd);

	/* a new file in global mode gets the same two PASIDs from the pool */
	self->fd = open("/dev/iommu", O_RDWR);
	ASSERT_LE(0, self->fd);
	test_ioctl_ioas_alloc(&self->ioas);
	ASSERT_EQ(0, add_pasid_dev(self->fd, self->ioas, 0, &self->a));
	test_cmd_hwpt_alloc(self->a.idev, self->ioas, IOMMU_HWPT_ALLOC_PASID,
			    &self->s2);
	test_cmd_mock_domain_replace(self->a.stdev, self->s2);
	set_mode(IOMMU_RS_PASID_MODE_GLOBAL);
	vattach(self->a.idev, 1, self->s2, &p2);
	vattach(self->a.idev, 2, self->s2, &q2);
	ASSERT_EQ(p < q ? p : q, p2);
	ASSERT_EQ(p < q ? q : p, q2);

	/* a second file has its own mode and mappings */
	fd2 = open("/dev/iommu", O_RDWR);
	ASSERT_LE(0, fd2);
	p = IOMMU_RS_PASID_MODE_GLOBAL;
	ASSERT_EQ(0, _test_ioctl_pasid_mode(fd2, IOMMU_OPTION_OP_GET, &p));
	ASSERT_EQ(IOMMU_RS_PASID_MODE_PER_RID, p);
	EXPECT_ERRNO(ENOENT, _test_ioctl_vpasid_query(fd2, self->a.idev, 1, NULL,
						      NULL));
	close(fd2);
}

/* Two PASID-capable devices the IOMMU cannot tell apart: one group. */
FIXTURE(shared)
{
	int fd;
	__u32 ioas;
	struct pdev a, b, other;
	__u32 s2, s2b;
};

FIXTURE_SETUP(shared)
{
	self->fd = open("/dev/iommu", O_RDWR);
	ASSERT_LE(0, self->fd);
	test_ioctl_ioas_alloc(&self->ioas);
	ASSERT_EQ(0, add_pasid_dev(self->fd, self->ioas,
				   IOMMU_RS_MOCK_FLAGS_DEVICE_SHARED_GROUP,
				   &self->a));
	ASSERT_EQ(0, add_pasid_dev(self->fd, self->ioas,
				   IOMMU_RS_MOCK_FLAGS_DEVICE_SHARED_GROUP,
				   &self->b));
	ASSERT_EQ(0, add_pasid_dev(self->fd, self->ioas, 0, &self->other));
	test_cmd_hwpt_alloc(self->a.idev, self->ioas, IOMMU_HWPT_ALLOC_PASID,
			    &self->s2);
	test_cmd_hwpt_alloc(self->a.idev, self->ioas, IOMMU_HWPT_ALLOC_PASID,
			    &self->s2b);
	/* one group, one RID domain: replacing one moves both */
	test_cmd_mock_domain_replace(self->a.stdev, self->s2);
	test_cmd_pasid_check_hwpt(self->b.stdev, 0, self->s2);
	test_cmd_mock_domain_replace(self->other.stdev, self->s2);
}

FIXTURE_TEARDOWN(shared)
{
	close(self->fd);
}

/*
 * A device that leaves its group while the group stays attached to a domain
 * with a fault handler gets no detach: the mock must still take it off its
 * IOPF queue before the core frees its IOMMU data, or the queue keeps a
 * dangling device that unloading the module trips over (found by the
 * fuzzer; this boot's module unload checks it). The other device's faults
 * still arrive, reported, as upstream's attach handle has it, for the
 * device the group's domain was attached through.
 */
TEST_F(shared, fault_device_leaves)
{
	struct iommu_test_cmd trigger = {
		.op = IOMMU_TEST_OP_TRIGGER_IOPF,
		.trigger_iopf = {
			.perm = IOMMU_PGFAULT_PERM_READ,
			.addr = 0x10000,
		},
	};
	struct iommu_hwpt_pgfault msg;
	__u32 fault_id, iopf_hwpt;
	int ffd;

	test_ioctl_fault_alloc(&fault_id, &ffd);
	ASSERT_EQ(0, hwpt_alloc_fault(self->fd, self->a.idev, self->ioas,
				      fault_id, &iopf_hwpt,
				      IOMMU_HWPT_DATA_NONE, NULL, 0));
	test_cmd_mock_domain_replace(self->a.stdev, iopf_hwpt);
	test_cmd_pasid_check_hwpt(self->b.stdev, 0, iopf_hwpt);
	/* a leaves; the group, and b in it, stay on the fault domain */
	test_ioctl_destroy(self->a.stdev);
	trigger.trigger_iopf.dev_id = self->b.idev;
	ASSERT_EQ(0, _test_cmd(self->fd, &trigger));
	ASSERT_EQ(sizeof(msg), read(ffd, &msg, sizeof(msg)));
	/* reported for the device the group's domain was attached through */
	ASSERT_EQ(self->a.idev, msg.dev_id);
	test_cmd_mock_domain_replace(self->b.stdev, self->s2);
	test_ioctl_destroy(iopf_hwpt);
	ASSERT_EQ(0, close(ffd));
}

static void shared_context(struct __test_metadata *_metadata,
			   struct _test_data_shared *self)
{
	__u32 p, p2, q, o;

	vattach(self->a.idev, 100, self->s2, &p);
	/* the same HWPT at the same vPASID: the same context */
	vattach(self->b.idev, 100, self->s2, &p2);
	ASSERT_EQ(p, p2);
	check_dma(self->a, 100, p, self->s2);
	check_dma(self->b, 100, p, self->s2);
	/* attached already is found first: EBUSY, as upstream */
	vattach_err(EBUSY, self->b.idev, 100, self->s2b);
	/* another HWPT in the context is EINVAL, upstream's group rule */
	vdetach(self->b.idev, 100);
	vattach_err(EINVAL, self->b.idev, 100, self->s2b);
	check_dma(self->a, 100, p, self->s2);
	mediate_err(ENOENT, self->b.stdev, 100);
	vattach(self->b.idev, 100, self->s2, &p2);
	ASSERT_EQ(p, p2);
	/* the same device twice is EBUSY */
	vattach_err(EBUSY, self->b.idev, 100, self->s2);

	/* another vPASID of the group is another context */
	vattach(self->b.idev, 200, self->s2b, &q);
	ASSERT_NE(p, q);
	check_dma(self->b, 200, q, self->s2b);
	test_cmd_pasid_check_hwpt(self->a.stdev, q, self->s2b);
	mediate_err(ENOENT, self->a.stdev, 200);
	/* which a may not join with another HWPT either */
	vattach_err(EINVAL, self->a.idev, 200, self->s2);

	/* replacing through one device replaces the context */
	vreplace(self->a.idev, 100, self->s2b, &p2);
	ASSERT_EQ(p, p2);
	check_dma(self->a, 100, p, self->s2b);
	check_dma(self->b, 100, p, self->s2b);

	/* the context lives until its last device leaves */
	vdetach(self->a.idev, 100);
	check_dma(self->b, 100, p, self->s2b);
	vdetach(self->b.idev, 100);
	test_cmd_pasid_check_hwpt(self->a.stdev, p, 0);

	/* a device of another group has a context of its own */
	vattach(self->other.idev, 100, self->s2, &o);
	check_dma(self->other, 100, o, self->s2);
}

TEST_F(shared, per_rid_one_context_per_group)
{
	__u32 p, q;

	shared_context(_metadata, self);
	/* per-RID: the group's space is one, whichever device asks */
	vattach(self->a.idev, 300, self->s2, &p);
	vattach(self->b.idev, 400, self->s2, &q);
	ASSERT_NE(p, q);
}

TEST_F(shared, global_one_context_per_group)
{
	__u32 p, o;

	set_mode(IOMMU_RS_PASID_MODE_GLOBAL);
	shared_context(_metadata, self);
	/* global: the vPASID's host PASID is the file's, across groups */
	vattach(self->a.idev, 500, self->s2, &p);
	vattach(self->other.idev, 500, self->s2b, &o);
	ASSERT_EQ(p, o);
}

TEST_F(shared, untranslated_path_keeps_off_the_context)
{
	__u32 p;

	vattach(self->a.idev, 100, self->s2, &p);
	/* through the other device of the group, too */
	test_err_pasid_attach(EBUSY, self->b.stdev, p, self->s2);
	test_cmd_pasid_detach(self->b.stdev, p);
	check_dma(self->a, 100, p, self->s2);
	test_cmd_pasid_check_hwpt(self->b.stdev, p, self->s2);
}

/* The C iommufd.ko: none of this exists, every answer is upstream's. */
FIXTURE(upstream)
{
	int fd;
};

FIXTURE_SETUP(upstream)
{
	self->fd = open("/dev/iommu", O_RDWR);
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(upstream)
{
	close(self->fd);
}

TEST_F(upstream, extension_commands_are_enotty)
{
	struct iommu_rs_vpasid_attach a = { .size = sizeof(a), .vpasid = 1 };
	struct iommu_rs_vpasid_detach d = { .size = sizeof(d), .vpasid = 1 };
	struct iommu_rs_vpasid_query q = { .size = sizeof(q), .vpasid = 1 };
	__u32 mode = IOMMU_RS_PASID_MODE_GLOBAL;

	ASSERT_TRUE(c_iommufd_loaded());
	EXPECT_ERRNO(ENOTTY, _test_ioctl_pasid_mode(self->fd, IOMMU_OPTION_OP_SET,
						    &mode));
	EXPECT_ERRNO(ENOTTY, _test_ioctl_pasid_mode(self->fd, IOMMU_OPTION_OP_GET,
						    &mode));
	EXPECT_ERRNO(ENOTTY, ioctl(self->fd, IOMMU_RS_VPASID_ATTACH, &a));
	EXPECT_ERRNO(ENOTTY, ioctl(self->fd, IOMMU_RS_VPASID_DETACH, &d));
	EXPECT_ERRNO(ENOTTY, ioctl(self->fd, IOMMU_RS_VPASID_QUERY, &q));
	/* before the argument is read */
	EXPECT_ERRNO(ENOTTY, ioctl(self->fd, IOMMU_RS_VPASID_QUERY, NULL));
}

TEST_F(upstream, extension_selftest_abi_is_refused)
{
	struct pdev d;

	ASSERT_TRUE(c_iommufd_loaded());
	/* upstream's mock knows neither the op nor the device flag */
	EXPECT_ERRNO(EOPNOTSUPP, _test_cmd_mediate_pasid(self->fd, 1, 1, NULL));
	EXPECT_ERRNO(EINVAL, add_pasid_dev(self->fd, NO_ID,
					   IOMMU_RS_MOCK_FLAGS_DEVICE_SHARED_GROUP,
					   &d));
}

/* Both modules: numbers near the extension's that are not its commands. */
FIXTURE(any_module)
{
	int fd;
};

FIXTURE_SETUP(any_module)
{
	self->fd = open("/dev/iommu", O_RDWR);
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(any_module)
{
	close(self->fd);
}

TEST_F(any_module, near_numbers_are_enotty)
{
	struct iommu_rs_vpasid_query q = { .size = sizeof(q), .vpasid = 1 };
	__u32 nr;

	/* with other direction or size bits, before the pointer is read */
	EXPECT_ERRNO(ENOTTY, ioctl(self->fd, _IOWR(IOMMUFD_TYPE,
						   IOMMUFD_RS_CMD_VPASID_QUERY,
						   struct iommu_rs_vpasid_query),
				   NULL));
	/* another type with the same number */
	EXPECT_ERRNO(ENOTTY, ioctl(self->fd, _IO('x', IOMMUFD_RS_CMD_BASE), NULL));
	/* the numbers just past the extension's, and between upstream's */
	EXPECT_ERRNO(ENOTTY, ioctl(self->fd, _IO(IOMMUFD_TYPE,
						 IOMMUFD_RS_CMD_VPASID_QUERY + 1),
				   &q));
	for (nr = 0xa1; nr < IOMMUFD_RS_CMD_BASE; nr++)
		EXPECT_ERRNO(ENOTTY, ioctl(self->fd, _IO(IOMMUFD_TYPE, nr), &q));
}

TEST_HARNESS_MAIN
