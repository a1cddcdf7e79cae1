// SPDX-License-Identifier: GPL-2.0-only
/*
 * The PASID virtualization in-kernel API of iommufd_rs.ko
 * (include/linux/iommufd_rs.h), as a vfio variant driver or an mdev parent
 * would call it, on a real PASID function of QEMU's scalable-mode VT-d:
 * the test driver kmod/iommufd_rs_vpasid_client.ko, which must be loaded,
 * binds the function (with no driver) to an iommufd and calls
 * iommufd_rs_device_attach_vpasid(), _replace_vpasid(), _detach_vpasid()
 * and _vpasid_to_ppasid() for this program. Checked: the host PASID the
 * API returns is the one IOMMU_RS_VPASID_QUERY reports and the one where
 * intel-iommu's debugfs has the HWPT, not the vPASID; the API and the
 * ioctls share one state and one set of rules in both PASID modes; the
 * errnos of include/uapi/linux/iommufd_rs.h; and the unbind, or the close
 * of the driver's file, drops every vPASID the driver left attached.
 *
 * iommufd_rs.ko only: its test driver does not load against the C
 * iommufd.ko, which has no such API, and this program is not run there.
 * Fails, rather than skips, when IOMMUFD_RS_NEED_PASID_DEV=1 and there is
 * no PASID function alone in its IOMMU group.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/iommufd.h>

#include "iommufd_rs_util.h"
#include "kselftest_harness.h"

#include "iommufd_rs_edu.h"
#include "iommufd_rs_vfu.h"
#include "iommufd_rs_pasid_dev.h"
#include "kmod/iommufd_rs_vpasid_client.h"

#define PA IOMMU_HWPT_ALLOC_PASID
/* Two IOVAs, each mapped in one of the fixture's two IOASes only. */
#define GLOBAL IOMMU_RS_PASID_MODE_GLOBAL
#define PER_RID IOMMU_RS_PASID_MODE_PER_RID

static int need_device(void)
{
	const char *v = getenv("IOMMUFD_RS_NEED_PASID_DEV");

	return v && !strcmp(v, "1");
}

/* Unbinds bdf from its driver, if it has one; 0 or -1. */
static int unbind_driver(const char *bdf)
{
	char path[512];

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%.63s/driver", bdf);
	if (access(path, F_OK))
		return 0;
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%.63s/driver/unbind", bdf);
	return write_file(path, bdf);
}

/* One call of the client; errno or 0, the host PASID into *ppasid. */
static int kapi(int cfd, unsigned long op, __u32 vpasid, __u32 pt_id, __u32 *ppasid)
{
	struct vpasid_client_cmd cmd = {
		.vpasid = vpasid,
		.pt_id = pt_id,
		.out_ppasid = 0xdeadbeef,
	};
	int rc = ioctl(cfd, op, &cmd) ? errno : 0;

	if (ppasid)
		*ppasid = rc ? 0 : cmd.out_ppasid;
	return rc;
}

#define k_attach(v, pt, p) kapi(self->cfd, VPASID_CLIENT_ATTACH, v, pt, p)
#define k_replace(v, pt, p) kapi(self->cfd, VPASID_CLIENT_REPLACE, v, pt, p)
#define k_detach(v) kapi(self->cfd, VPASID_CLIENT_DETACH, v, 0, NULL)
#define k_to_ppasid(v, p) kapi(self->cfd, VPASID_CLIENT_TO_PPASID, v, 0, p)
#define k_attach_rid(pt) kapi(self->cfd, VPASID_CLIENT_ATTACH_RID, 0, pt, NULL)

/* Binds bdf to iommufd through the client cfd; the device id, or 0. */
static __u32 client_bind(int cfd, int iommufd, const char *bdf)
{
	struct vpasid_client_cmd cmd = { .iommufd = iommufd };

	snprintf(cmd.bdf, sizeof(cmd.bdf), "%.31s", bdf);
	if (ioctl(cfd, VPASID_CLIENT_BIND, &cmd))
		return 0;
	return cmd.out_dev_id;
}

/* The ioctls' view of dev_id at vpasid: errno, or 0 and its pPASID and HWPT. */
static int query(int fd, __u32 dev_id, __u32 vpasid, __u32 *ppasid, __u32 *pt)
{
	return _test_ioctl_vpasid_query(fd, dev_id, vpasid, ppasid, pt) ? errno : 0;
}

FIXTURE(kapi)
{
	char bdf[BDF_LEN];
	struct pasid_cap cap;
	int iommufd;
	int cfd;
	__u32 devid;
	__u32 ioas_a, ioas_b;
	/* PASID-compatible HWPTs on each IOAS, and one that is not, on A. */
	__u32 hwpt_a, hwpt_b, plain;
	void *buf;
	int unsafe_irqs;
	int debugfs;
};

/* PASID-compatible HWPTs on A and B, a plain one on A, for the device. */
static int alloc_hwpts(int fd, __u32 devid, __u32 ioas_a, __u32 ioas_b, __u32 *a,
		       __u32 *b, __u32 *plain)
{
	return hwpt_alloc(fd, PA, devid, ioas_a, 0, IOMMU_HWPT_DATA_NONE, NULL, 0, a) ||
	       hwpt_alloc(fd, PA, devid, ioas_b, 0, IOMMU_HWPT_DATA_NONE, NULL, 0, b) ||
	       hwpt_alloc(fd, 0, devid, ioas_a, 0, IOMMU_HWPT_DATA_NONE, NULL, 0, plain);
}

FIXTURE_SETUP(kapi)
{
	char bdfs[32][BDF_LEN];
	int i, n;

	self->iommufd = -1;
	self->cfd = -1;
	self->buf = MAP_FAILED;
	self->unsafe_irqs = 0;
	if (c_iommufd_loaded())
		SKIP(return, "not applicable: the C iommufd.ko has no vPASID in-kernel API");
	self->bdf[0] = 0;
	n = find_by_ext_cap(bdfs, 32, PCI_EXT_CAP_ID_PASID, 1);
	for (i = 0; i < n && !self->bdf[0]; i++)
		if (iommu_group_size(bdfs[i]) == 1)
			snprintf(self->bdf, sizeof(self->bdf), "%.63s", bdfs[i]);
	if (!self->bdf[0]) {
		if (need_device())
			ASSERT_TRUE(0 && "no PASID function alone in its IOMMU group");
		SKIP(return, "no PCI function with a PASID capability (boot with VM_VFU)");
	}
	if (iommu_vendor() != IOMMU_VTD)
		SKIP(return, "VT-d only: AMD-Vi has no PASID-capable domain here");
	ASSERT_EQ(0, pasid_cap_of(self->bdf, &self->cap));
	self->debugfs = !vtd_debugfs();
	if (need_device())
		ASSERT_TRUE(self->debugfs);
	/* The bind claims the function's DMA: no driver may have it. */
	ASSERT_EQ(0, unbind_driver(self->bdf));

	self->cfd = open(VPASID_CLIENT_DEV, O_RDWR);
	ASSERT_LE(0, self->cfd)
		TH_LOG("%s: load kmod/iommufd_rs_vpasid_client.ko", VPASID_CLIENT_DEV);
	self->iommufd = open("/dev/iommu", O_RDWR);
	ASSERT_LE(0, self->iommufd);
	self->unsafe_irqs = msi_isolated() == 0;
	if (self->unsafe_irqs)
		ASSERT_EQ(0, set_unsafe_irqs(1));
	self->devid = client_bind(self->cfd, self->iommufd, self->bdf);
	ASSERT_NE(0, self->devid)
		TH_LOG("bind %s: %s", self->bdf, strerror(errno));

	ASSERT_EQ(0, _test_ioctl_ioas_alloc(self->iommufd, &self->ioas_a));
	ASSERT_EQ(0, _test_ioctl_ioas_alloc(self->iommufd, &self->ioas_b));
	self->buf = mmap(NULL, 2 * PSZ, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	ASSERT_NE(MAP_FAILED, self->buf);
	ASSERT_EQ(0, edu_map(self->iommufd, self->ioas_a, self->buf, PSZ, IOVA_A));
	ASSERT_EQ(0, edu_map(self->iommufd, self->ioas_b, self->buf + PSZ, PSZ, IOVA_B));
	ASSERT_EQ(0, alloc_hwpts(self->iommufd, self->devid, self->ioas_a, self->ioas_b,
				 &self->hwpt_a, &self->hwpt_b, &self->plain));
}

FIXTURE_TEARDOWN(kapi)
{
	if (self->cfd >= 0)
		close(self->cfd);
	if (self->iommufd >= 0)
		close(self->iommufd);
	if (self->buf != MAP_FAILED)
		munmap(self->buf, 2 * PSZ);
	if (self->unsafe_irqs)
		set_unsafe_irqs(0);
}

/* How many PASIDs but the RID's intel-iommu has for bdf, or -1. */
static int vtd_pasids_left(const char *bdf)
{
	__u64 present[1];
	int n = vtd_present_pasids(bdf, present, ARRAY_SIZE(present));

	if (n < 0)
		return -1;
	return n - (int)(present[0] & 1);
}

/*
 * The host PASID of the API is the ioctls' and intel-iommu's: where the
 * HWPT is in the PASID table, and not at the vPASID.
 */
static void check_mapped(struct __test_metadata *_metadata, struct _test_data_kapi *self,
			 __u32 vpasid, __u32 ppasid, __u32 hwpt)
{
	__u32 q, pt;
	struct vtd_view v;

	EXPECT_EQ(0, k_to_ppasid(vpasid, &q));
	EXPECT_EQ(ppasid, q);
	EXPECT_EQ(0, query(self->iommufd, self->devid, vpasid, &q, &pt));
	EXPECT_EQ(ppasid, q);
	EXPECT_EQ(hwpt, pt);
	if (!self->debugfs)
		return;
	v = vtd_view(self->bdf, ppasid);
	ASSERT_TRUE(v.present);
	EXPECT_EQ(hwpt == self->hwpt_a, v.maps_a);
	EXPECT_EQ(hwpt == self->hwpt_b, v.maps_b);
	if (vpasid != ppasid)
		EXPECT_FALSE(vtd_view(self->bdf, vpasid).present);
}

/* Nothing at vpasid for the API, the ioctls or intel-iommu (ppasid). */
static void check_unmapped(struct __test_metadata *_metadata, struct _test_data_kapi *self,
			   __u32 vpasid, __u32 ppasid)
{
	__u32 q;

	EXPECT_EQ(ENOENT, k_to_ppasid(vpasid, &q));
	EXPECT_EQ(ENOENT, query(self->iommufd, self->devid, vpasid, NULL, NULL));
	if (self->debugfs && ppasid)
		EXPECT_FALSE(vtd_view(self->bdf, ppasid).present);
}

/*
 * Per-RID mode: the lowest free PASID of the function's group, kept by a
 * replace, freed by the detach; the API and the ioctls share the device's
 * vPASIDs.
 */
TEST_F(kapi, per_rid)
{
	__u32 p, p2, p3, q;

	ASSERT_EQ(0, k_attach_rid(self->hwpt_a));
	ASSERT_EQ(0, k_attach(100, self->hwpt_b, &p));
	EXPECT_EQ(1, p);
	check_mapped(_metadata, self, 100, p, self->hwpt_b);
	ASSERT_EQ(0, k_attach(200, self->hwpt_a, &p2));
	EXPECT_EQ(2, p2);
	check_mapped(_metadata, self, 200, p2, self->hwpt_a);
	if (self->debugfs)
		EXPECT_EQ(vtd_view(self->bdf, 0).pgd, vtd_view(self->bdf, p2).pgd);

	/* One device at one vPASID once, through either path. */
	EXPECT_EQ(EBUSY, k_attach(100, self->hwpt_b, NULL));
	EXPECT_ERRNO(EBUSY, _test_ioctl_vpasid_attach(self->iommufd, 0, self->devid, 100,
						      self->hwpt_b, NULL));
	/* An ioctl's mapping is the API's, and the API's detach ends it. */
	ASSERT_EQ(0, _test_ioctl_vpasid_attach(self->iommufd, 0, self->devid, 300,
					       self->hwpt_b, &p3));
	EXPECT_EQ(3, p3);
	check_mapped(_metadata, self, 300, p3, self->hwpt_b);
	EXPECT_EQ(0, k_detach(300));
	check_unmapped(_metadata, self, 300, p3);
	/* Held by vPASID 100 alone (the RID is on hwpt_a), hwpt_b is busy. */
	EXPECT_ERRNO(EBUSY, destroy_id(self->iommufd, self->hwpt_b));

	/* Replace keeps the host PASID; a refused one keeps the HWPT. */
	ASSERT_EQ(0, k_replace(100, self->hwpt_a, &q));
	EXPECT_EQ(p, q);
	check_mapped(_metadata, self, 100, p, self->hwpt_a);
	EXPECT_EQ(EINVAL, k_replace(100, self->plain, NULL));
	check_mapped(_metadata, self, 100, p, self->hwpt_a);
	/* The same HWPT again is no change. */
	ASSERT_EQ(0, k_replace(100, self->hwpt_a, &q));
	EXPECT_EQ(p, q);

	/* While a vPASID is attached the mode is fixed, either way. */
	EXPECT_ERRNO(EBUSY, _test_ioctl_set_pasid_mode(self->iommufd, GLOBAL));
	EXPECT_ERRNO(EBUSY, _test_ioctl_set_pasid_mode(self->iommufd, PER_RID));
	EXPECT_EQ(0, k_detach(100));
	check_unmapped(_metadata, self, 100, p);
	/* Twice is nothing. */
	EXPECT_EQ(0, k_detach(100));
	EXPECT_EQ(0, k_detach(200));
	check_unmapped(_metadata, self, 200, p2);
	if (self->debugfs)
		EXPECT_EQ(0, vtd_pasids_left(self->bdf));

	/* The lowest free PASID is the first again. */
	ASSERT_EQ(0, k_attach(7, self->hwpt_a, &p));
	EXPECT_EQ(1, p);
	check_mapped(_metadata, self, 7, p, self->hwpt_a);
	EXPECT_EQ(0, k_detach(7));
	EXPECT_EQ(0, _test_ioctl_set_pasid_mode(self->iommufd, GLOBAL));
}

/*
 * Global mode: a PASID of the system-wide pool, within the function's
 * width, one per vPASID of the file; replace keeps it.
 */
TEST_F(kapi, global)
{
	__u32 p, p2, q;

	ASSERT_EQ(0, _test_ioctl_set_pasid_mode(self->iommufd, GLOBAL));
	ASSERT_EQ(0, k_attach_rid(self->hwpt_a));
	ASSERT_EQ(0, k_attach(100, self->hwpt_b, &p));
	EXPECT_NE(0, p);
	EXPECT_GT(1U << self->cap.width, p);
	check_mapped(_metadata, self, 100, p, self->hwpt_b);
	ASSERT_EQ(0, _test_ioctl_vpasid_attach(self->iommufd, 0, self->devid, 101,
					       self->hwpt_a, &p2));
	EXPECT_NE(p, p2);
	check_mapped(_metadata, self, 101, p2, self->hwpt_a);

	ASSERT_EQ(0, k_replace(100, self->hwpt_a, &q));
	EXPECT_EQ(p, q);
	check_mapped(_metadata, self, 100, p, self->hwpt_a);
	ASSERT_EQ(0, k_replace(101, self->hwpt_b, &q));
	EXPECT_EQ(p2, q);
	check_mapped(_metadata, self, 101, p2, self->hwpt_b);
	EXPECT_ERRNO(EBUSY, _test_ioctl_set_pasid_mode(self->iommufd, PER_RID));

	EXPECT_EQ(0, k_detach(100));
	check_unmapped(_metadata, self, 100, p);
	check_mapped(_metadata, self, 101, p2, self->hwpt_b);
	EXPECT_EQ(0, k_detach(101));
	check_unmapped(_metadata, self, 101, p2);
	if (self->debugfs)
		EXPECT_EQ(0, vtd_pasids_left(self->bdf));
	/* Nothing attached: the mode may change again. */
	EXPECT_EQ(0, _test_ioctl_set_pasid_mode(self->iommufd, PER_RID));
}

/* The refusals, each leaving nothing behind. */
TEST_F(kapi, errnos)
{
	__u32 p;

	/* 0 is the RID; the PCIe width bounds a vPASID. */
	EXPECT_EQ(EINVAL, k_attach(0, self->hwpt_a, NULL));
	EXPECT_EQ(EINVAL, k_attach(IOMMU_RS_VPASID_LIMIT, self->hwpt_a, NULL));
	EXPECT_EQ(EINVAL, k_attach(~0U, self->hwpt_a, NULL));
	EXPECT_EQ(EINVAL, k_replace(0, self->hwpt_a, NULL));
	/* No such object; no PASID-compatible HWPT. */
	EXPECT_EQ(ENOENT, k_attach(1, 0xfffffff, NULL));
	EXPECT_EQ(EINVAL, k_attach(1, self->plain, NULL));
	EXPECT_EQ(EINVAL, k_attach(1, self->ioas_a, NULL));
	EXPECT_EQ(EINVAL, k_attach(1, self->devid, NULL));
	/* Replace of a vPASID the device does not have. */
	EXPECT_EQ(EINVAL, k_replace(1, self->hwpt_a, NULL));
	/* The lookup of what is not attached; of the RID. */
	EXPECT_EQ(ENOENT, k_to_ppasid(1, &p));
	EXPECT_EQ(ENOENT, k_to_ppasid(0, &p));
	EXPECT_EQ(ENOENT, k_to_ppasid(IOMMU_RS_VPASID_LIMIT, &p));
	/* Detaching what is not attached, or cannot be, is no error. */
	EXPECT_EQ(0, k_detach(1));
	EXPECT_EQ(0, k_detach(0));
	EXPECT_EQ(0, k_detach(~0U));

	/* No PASID while the RID is on a HWPT that is not PASID compatible. */
	ASSERT_EQ(0, k_attach_rid(self->plain));
	EXPECT_EQ(EINVAL, k_attach(1, self->hwpt_a, NULL));
	check_unmapped(_metadata, self, 1, 1);
	ASSERT_EQ(0, k_attach_rid(self->hwpt_a));
	ASSERT_EQ(0, k_attach(1, self->hwpt_a, &p));
	/* Nor may the RID go there while a vPASID is attached. */
	EXPECT_EQ(EINVAL, k_attach_rid(self->plain));
	EXPECT_EQ(0, k_detach(1));
	check_unmapped(_metadata, self, 1, p);
	if (self->debugfs)
		EXPECT_EQ(0, vtd_pasids_left(self->bdf));

	/* The client: one device per file; nothing without a device. */
	EXPECT_EQ(0, client_bind(self->cfd, self->iommufd, self->bdf));
	EXPECT_EQ(EBUSY, errno);
}

/*
 * The unbind drops the vPASIDs the driver left attached, through the API
 * or the ioctls, in either mode: intel-iommu has none left, the HWPTs are
 * free, the device is gone from the file, and the mode may change.
 */
TEST_F(kapi, unbind_releases)
{
	__u32 p[3], devid;
	int cfd;

	ASSERT_EQ(0, k_attach_rid(self->hwpt_a));
	ASSERT_EQ(0, k_attach(100, self->hwpt_b, &p[0]));
	ASSERT_EQ(0, k_attach(200, self->hwpt_a, &p[1]));
	ASSERT_EQ(0, _test_ioctl_vpasid_attach(self->iommufd, 0, self->devid, 300,
					       self->hwpt_b, &p[2]));
	if (self->debugfs)
		EXPECT_EQ(3, vtd_pasids_left(self->bdf));
	EXPECT_ERRNO(EBUSY, destroy_id(self->iommufd, self->hwpt_b));

	ASSERT_EQ(0, kapi(self->cfd, VPASID_CLIENT_UNBIND, 0, 0, NULL));
	EXPECT_EQ(ENOENT, k_to_ppasid(100, NULL));
	EXPECT_EQ(ENOENT, query(self->iommufd, self->devid, 300, NULL, NULL));
	if (self->debugfs) {
		EXPECT_EQ(0, vtd_pasids_left(self->bdf));
		EXPECT_FALSE(vtd_view(self->bdf, p[0]).present);
		EXPECT_FALSE(vtd_view(self->bdf, p[1]).present);
		EXPECT_FALSE(vtd_view(self->bdf, p[2]).present);
	}
	EXPECT_EQ(0, destroy_id(self->iommufd, self->hwpt_a));
	EXPECT_EQ(0, destroy_id(self->iommufd, self->hwpt_b));
	EXPECT_EQ(0, destroy_id(self->iommufd, self->plain));

	/* Bound again, in global mode: the close of the file unbinds. */
	ASSERT_EQ(0, _test_ioctl_set_pasid_mode(self->iommufd, GLOBAL));
	devid = client_bind(self->cfd, self->iommufd, self->bdf);
	ASSERT_NE(0, devid);
	self->devid = devid;
	ASSERT_EQ(0, alloc_hwpts(self->iommufd, devid, self->ioas_a, self->ioas_b,
				 &self->hwpt_a, &self->hwpt_b, &self->plain));
	ASSERT_EQ(0, k_attach(100, self->hwpt_b, &p[0]));
	check_mapped(_metadata, self, 100, p[0], self->hwpt_b);
	close(self->cfd);
	self->cfd = -1;
	EXPECT_EQ(ENOENT, query(self->iommufd, devid, 100, NULL, NULL));
	if (self->debugfs) {
		EXPECT_EQ(0, vtd_pasids_left(self->bdf));
		EXPECT_FALSE(vtd_view(self->bdf, p[0]).present);
	}
	EXPECT_EQ(0, destroy_id(self->iommufd, self->hwpt_b));
	EXPECT_EQ(0, _test_ioctl_set_pasid_mode(self->iommufd, PER_RID));

	/* A new file of the client binds the function again. */
	cfd = open(VPASID_CLIENT_DEV, O_RDWR);
	ASSERT_LE(0, cfd);
	self->cfd = cfd;
	ASSERT_NE(0, client_bind(self->cfd, self->iommufd, self->bdf));
}

/*
 * The iommufd file closed first: the bound device holds it, so the
 * mappings stay and translate until the driver unbinds, and then go.
 */
TEST_F(kapi, iommufd_closed_first)
{
	__u32 p, q;

	ASSERT_EQ(0, _test_ioctl_set_pasid_mode(self->iommufd, GLOBAL));
	ASSERT_EQ(0, k_attach(100, self->hwpt_b, &p));
	close(self->iommufd);
	self->iommufd = -1;
	EXPECT_EQ(0, k_to_ppasid(100, &q));
	EXPECT_EQ(p, q);
	if (self->debugfs)
		EXPECT_TRUE(vtd_view(self->bdf, p).present);
	close(self->cfd);
	self->cfd = -1;
	if (self->debugfs) {
		EXPECT_EQ(0, vtd_pasids_left(self->bdf));
		EXPECT_FALSE(vtd_view(self->bdf, p).present);
	}
}

/*
 * Two PASID functions, each alone in its IOMMU group, bound by two files
 * of the driver to one iommufd: in per-RID mode each group has its own
 * PASID space, so one vPASID may get the same host PASID on both; in
 * global mode one vPASID is one pool PASID on both, with a HWPT of each,
 * and stays while either is attached.
 */
TEST(two_groups)
{
	char bdfs[32][BDF_LEN], bdf[2][BDF_LEN];
	__u32 dev[2], hwpt[2], p[2], q, ioas;
	int i, n, k = 0, fd, cfd[2], unsafe;
	void *buf;

	if (c_iommufd_loaded())
		SKIP(return, "not applicable: the C iommufd.ko has no vPASID in-kernel API");
	n = find_by_ext_cap(bdfs, 32, PCI_EXT_CAP_ID_PASID, 1);
	for (i = 0; i < n && k < 2; i++)
		if (iommu_group_size(bdfs[i]) == 1)
			snprintf(bdf[k++], BDF_LEN, "%.63s", bdfs[i]);
	if (k < 2) {
		if (need_device())
			ASSERT_TRUE(0 && "no two PASID functions alone in their IOMMU groups");
		SKIP(return, "fewer than two PASID functions alone in their groups");
	}
	if (iommu_vendor() != IOMMU_VTD)
		SKIP(return, "VT-d only: AMD-Vi has no PASID-capable domain here");
	ASSERT_EQ(0, vtd_debugfs());
	TH_LOG("%s and %s", bdf[0], bdf[1]);
	fd = open("/dev/iommu", O_RDWR);
	ASSERT_LE(0, fd);
	unsafe = msi_isolated() == 0;
	if (unsafe)
		ASSERT_EQ(0, set_unsafe_irqs(1));
	ASSERT_EQ(0, _test_ioctl_ioas_alloc(fd, &ioas));
	buf = mmap(NULL, PSZ, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, buf);
	ASSERT_EQ(0, edu_map(fd, ioas, buf, PSZ, IOVA_A));
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, unbind_driver(bdf[i]));
		cfd[i] = open(VPASID_CLIENT_DEV, O_RDWR);
		ASSERT_LE(0, cfd[i]);
		dev[i] = client_bind(cfd[i], fd, bdf[i]);
		ASSERT_NE(0, dev[i]);
		ASSERT_EQ(0, hwpt_alloc(fd, PA, dev[i], ioas, 0, IOMMU_HWPT_DATA_NONE, NULL, 0,
					&hwpt[i]));
	}

	/* Per-RID: the lowest free PASID of each group, 1 on both. */
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, kapi(cfd[i], VPASID_CLIENT_ATTACH, 100, hwpt[i], &p[i]));
		EXPECT_EQ(1, p[i]);
		EXPECT_EQ(0, query(fd, dev[i], 100, &q, NULL));
		EXPECT_EQ(p[i], q);
		EXPECT_TRUE(vtd_view(bdf[i], p[i]).present);
	}
	for (i = 0; i < 2; i++)
		EXPECT_EQ(0, kapi(cfd[i], VPASID_CLIENT_DETACH, 100, 0, NULL));

	/* Global: one pool PASID for vPASID 100 on both devices. */
	ASSERT_EQ(0, _test_ioctl_set_pasid_mode(fd, GLOBAL));
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, kapi(cfd[i], VPASID_CLIENT_ATTACH, 100, hwpt[i], &p[i]));
		EXPECT_TRUE(vtd_view(bdf[i], p[i]).present);
	}
	EXPECT_EQ(p[0], p[1]);
	ASSERT_EQ(0, kapi(cfd[1], VPASID_CLIENT_ATTACH, 200, hwpt[1], &q));
	EXPECT_NE(p[0], q);
	/* The first to leave leaves the PASID to the other. */
	EXPECT_EQ(0, kapi(cfd[0], VPASID_CLIENT_DETACH, 100, 0, NULL));
	EXPECT_EQ(ENOENT, kapi(cfd[0], VPASID_CLIENT_TO_PPASID, 100, 0, NULL));
	EXPECT_FALSE(vtd_view(bdf[0], p[0]).present);
	EXPECT_EQ(0, kapi(cfd[1], VPASID_CLIENT_TO_PPASID, 100, 0, &q));
	EXPECT_EQ(p[1], q);
	EXPECT_TRUE(vtd_view(bdf[1], p[1]).present);
	/* Attached again, the first gets the PASID the other kept. */
	ASSERT_EQ(0, kapi(cfd[0], VPASID_CLIENT_ATTACH, 100, hwpt[0], &q));
	EXPECT_EQ(p[1], q);

	/* The unbinds drop all of it. */
	for (i = 0; i < 2; i++) {
		close(cfd[i]);
		EXPECT_EQ(0, vtd_pasids_left(bdf[i]));
	}
	EXPECT_EQ(0, destroy_id(fd, hwpt[0]));
	EXPECT_EQ(0, destroy_id(fd, hwpt[1]));
	EXPECT_EQ(0, _test_ioctl_set_pasid_mode(fd, PER_RID));
	close(fd);
	munmap(buf, PSZ);
	if (unsafe)
		set_unsafe_irqs(0);
}

TEST_HARNESS_MAIN
