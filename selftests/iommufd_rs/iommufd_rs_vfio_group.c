// SPDX-License-Identifier: GPL-2.0-only
/*
 * Group-wide attach on a real multi-device IOMMU group: two edu devices
 * behind a PCIe-to-PCI bridge, which the IOMMU cannot tell apart (their DMA
 * carries the bridge's requester ID), so they share one IOMMU group and one
 * domain. Both are bound to vfio-pci and, through their cdevs, to one
 * iommufd; edu's DMA engine shows which IOAS each device really reaches.
 *
 * Two IOASes map two buffers at the same IOVA, each with its own pattern,
 * so a round trip through the device (from IOVA into edu, back out to
 * IOVA + 4 KiB) says which buffer, if any, the device's DMA reached.
 *
 * Needs the VM booted with VM_EDU=group and vfio-pci loaded
 * (scripts/vfio-edu.sh --test iommufd_rs_vfio_group). Skips without two edu
 * devices in one group. Each expectation is what the C iommufd.ko does.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/iommufd.h>

#include "iommufd_rs_util.h"
#include "kselftest_harness.h"

#include "iommufd_rs_edu.h"

#define NDEV 2
/* What a round trip found: which buffer the device's DMA reached. */
enum reached { REACHED_NONE, REACHED_BUF1, REACHED_BUF2, REACHED_ERROR };

FIXTURE(group)
{
	char bdf[NDEV][BDF_LEN];
	int iommufd;
	int vfio[NDEV];
	__u32 devid[NDEV];
	__u64 bar0[NDEV];
	__u32 ioas[2];
	__u8 *buf[2];
};

FIXTURE_SETUP(group)
{
	struct vfio_device_bind_iommufd bind = { .argsz = sizeof(bind) };
	struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };
	char found[8][BDF_LEN];
	int i, n;

	self->iommufd = -1;
	for (i = 0; i < NDEV; i++)
		self->vfio[i] = -1;
	self->buf[0] = NULL;
	self->buf[1] = NULL;

	n = find_edus(found, 8);
	if (n < NDEV || iommu_group_of(found[0]) < 0 ||
	    iommu_group_of(found[0]) != iommu_group_of(found[1]))
		SKIP(return, "no two edu devices in one IOMMU group (VM_EDU=group)");
	if (access("/sys/bus/pci/drivers/vfio-pci", F_OK))
		SKIP(return, "vfio-pci is not loaded");
	/* vfio opens a device only once every device of its group is vfio's. */
	for (i = 0; i < NDEV; i++) {
		memcpy(self->bdf[i], found[i], BDF_LEN);
		ASSERT_EQ(0, bind_vfio_pci(self->bdf[i]));
	}

	self->iommufd = open("/dev/iommu", O_RDWR);
	ASSERT_LE(0, self->iommufd);
	for (i = 0; i < NDEV; i++) {
		self->vfio[i] = open_vfio_cdev(self->bdf[i]);
		ASSERT_LE(0, self->vfio[i]);
		bind.iommufd = self->iommufd;
		ASSERT_EQ(0, ioctl(self->vfio[i], VFIO_DEVICE_BIND_IOMMUFD, &bind));
		self->devid[i] = bind.out_devid;
		ASSERT_EQ(0, edu_open(self->vfio[i], &self->bar0[i]));
	}
	ASSERT_NE(self->devid[0], self->devid[1]);

	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, ioctl(self->iommufd, IOMMU_IOAS_ALLOC, &alloc));
		self->ioas[i] = alloc.out_ioas_id;
		self->buf[i] = mmap(NULL, 2 * PSZ, PROT_READ | PROT_WRITE,
				    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		ASSERT_NE(MAP_FAILED, self->buf[i]);
		memset(self->buf[i], 0x11 * (i + 1), PSZ);
		ASSERT_EQ(0, edu_map(self->iommufd, self->ioas[i], self->buf[i],
				     2 * PSZ, IOVA));
	}
}

FIXTURE_TEARDOWN(group)
{
	int i;

	for (i = 0; i < NDEV; i++)
		if (self->vfio[i] >= 0)
			close(self->vfio[i]);
	if (self->iommufd >= 0)
		close(self->iommufd);
	for (i = 0; i < 2; i++)
		if (self->buf[i] && self->buf[i] != MAP_FAILED)
			munmap(self->buf[i], 2 * PSZ);
}

/*
 * Device i's DMA from IOVA into edu and back out to IOVA + 4 KiB: which
 * buffer's second page received its first page.
 */
static enum reached round_trip(struct _test_data_group *self, int i)
{
	int b;

	for (b = 0; b < 2; b++)
		memset(self->buf[b] + PSZ, 0, PSZ);
	/* The device's buffer, filled with a pattern in neither buffer. */
	if (edu_dma(self->vfio[i], self->bar0[i], IOVA + PSZ, PSZ, 0))
		return REACHED_ERROR;
	if (edu_dma(self->vfio[i], self->bar0[i], IOVA, PSZ, 0) ||
	    edu_dma(self->vfio[i], self->bar0[i], IOVA + PSZ, PSZ, 1))
		return REACHED_ERROR;
	for (b = 0; b < 2; b++)
		if (!memcmp(self->buf[b], self->buf[b] + PSZ, PSZ))
			return b ? REACHED_BUF2 : REACHED_BUF1;
	return REACHED_NONE;
}

static int attach(int vfio, __u32 *pt_id)
{
	struct vfio_device_attach_iommufd_pt cmd = {
		.argsz = sizeof(cmd),
		.pt_id = *pt_id,
	};
	int rc = ioctl(vfio, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &cmd);

	if (!rc)
		*pt_id = cmd.pt_id;
	return rc ? errno : 0;
}

static int detach(int vfio)
{
	struct vfio_device_detach_iommufd_pt cmd = { .argsz = sizeof(cmd) };

	return ioctl(vfio, VFIO_DEVICE_DETACH_IOMMUFD_PT, &cmd) ? errno : 0;
}

/* Before anything is attached, neither device's DMA reaches memory. */
TEST_F(group, blocked_before_attach)
{
	EXPECT_EQ(REACHED_NONE, round_trip(self, 0));
	EXPECT_EQ(REACHED_NONE, round_trip(self, 1));
}

/*
 * The second device attached to the same IOAS joins the group's automatic
 * HWPT; a different HWPT or IOAS for it while the group is attached is
 * EINVAL: one group, one domain.
 */
TEST_F(group, one_domain_per_group)
{
	__u32 pt0 = self->ioas[0], pt1 = self->ioas[0], other = self->ioas[1];
	__u32 hwpt;

	ASSERT_EQ(0, attach(self->vfio[0], &pt0));
	ASSERT_NE(self->ioas[0], pt0);
	/* One attached device: the domain serves the whole group. */
	EXPECT_EQ(REACHED_BUF1, round_trip(self, 0));

	EXPECT_EQ(EINVAL, attach(self->vfio[1], &other));
	ASSERT_EQ(0, hwpt_alloc(self->iommufd, 0, self->devid[1], self->ioas[0],
				0, IOMMU_HWPT_DATA_NONE, NULL, 0, &hwpt));
	other = hwpt;
	EXPECT_EQ(EINVAL, attach(self->vfio[1], &other));

	ASSERT_EQ(0, attach(self->vfio[1], &pt1));
	EXPECT_EQ(pt0, pt1);
	EXPECT_EQ(REACHED_BUF1, round_trip(self, 0));
	EXPECT_EQ(REACHED_BUF1, round_trip(self, 1));
	/* Both hold the automatic HWPT; the other one is free. */
	EXPECT_ERRNO(EBUSY, destroy_id(self->iommufd, pt0));
	EXPECT_EQ(0, destroy_id(self->iommufd, hwpt));
}

/* A replace by either device moves the whole group. */
TEST_F(group, replace_moves_group)
{
	__u32 pt0 = self->ioas[0], pt1 = self->ioas[0], to2 = self->ioas[1];

	ASSERT_EQ(0, attach(self->vfio[0], &pt0));
	ASSERT_EQ(0, attach(self->vfio[1], &pt1));
	/* Attached again, vfio makes it a replace. */
	ASSERT_EQ(0, attach(self->vfio[1], &to2));
	EXPECT_NE(pt0, to2);
	EXPECT_EQ(REACHED_BUF2, round_trip(self, 0));
	EXPECT_EQ(REACHED_BUF2, round_trip(self, 1));
	/* The first automatic HWPT went with its last user. */
	EXPECT_ERRNO(ENOENT, destroy_id(self->iommufd, pt0));

	pt0 = self->ioas[0];
	ASSERT_EQ(0, attach(self->vfio[0], &pt0));
	EXPECT_EQ(REACHED_BUF1, round_trip(self, 0));
	EXPECT_EQ(REACHED_BUF1, round_trip(self, 1));
}

/*
 * Detaching one device leaves the group on its domain for the other (and,
 * the two being indistinguishable, for both); the last detach blocks DMA.
 */
TEST_F(group, detach_last_blocks)
{
	__u32 pt0 = self->ioas[0], pt1 = self->ioas[0];

	ASSERT_EQ(0, attach(self->vfio[0], &pt0));
	ASSERT_EQ(0, attach(self->vfio[1], &pt1));
	ASSERT_EQ(0, detach(self->vfio[0]));
	EXPECT_EQ(REACHED_BUF1, round_trip(self, 1));
	EXPECT_EQ(REACHED_BUF1, round_trip(self, 0));
	/* The detached device may join again, or detach is a no-op again. */
	ASSERT_EQ(0, detach(self->vfio[1]));
	EXPECT_EQ(REACHED_NONE, round_trip(self, 0));
	EXPECT_EQ(REACHED_NONE, round_trip(self, 1));
	/* The automatic HWPT went with the last device. */
	EXPECT_ERRNO(ENOENT, destroy_id(self->iommufd, pt0));
}

/* Closing one device's file detaches and unbinds it alone. */
TEST_F(group, close_one)
{
	__u32 pt0 = self->ioas[0], pt1 = self->ioas[0];

	ASSERT_EQ(0, attach(self->vfio[0], &pt0));
	ASSERT_EQ(0, attach(self->vfio[1], &pt1));
	close(self->vfio[0]);
	self->vfio[0] = -1;
	EXPECT_ERRNO(ENOENT, destroy_id(self->iommufd, self->devid[0]));
	EXPECT_EQ(REACHED_BUF1, round_trip(self, 1));
	EXPECT_ERRNO(EBUSY, destroy_id(self->iommufd, self->devid[1]));
}

/*
 * A PASID on one device of the group (edu has no PASID capability, so the
 * IOMMU core programs nothing for it) needs the group's RID domain to be
 * PASID compatible, as on a group of one.
 */
TEST_F(group, pasid_in_group)
{
	struct vfio_device_attach_iommufd_pt pasid = {
		.argsz = sizeof(pasid),
		.flags = VFIO_DEVICE_ATTACH_PASID,
		.pasid = 5,
	};
	__u32 pt0 = self->ioas[0], pt1, phwpt;

	ASSERT_EQ(0, hwpt_alloc(self->iommufd, IOMMU_HWPT_ALLOC_PASID,
				self->devid[0], self->ioas[0], 0,
				IOMMU_HWPT_DATA_NONE, NULL, 0, &phwpt));
	ASSERT_EQ(0, attach(self->vfio[0], &pt0));
	pasid.pt_id = phwpt;
	EXPECT_ERRNO(EINVAL, ioctl(self->vfio[1], VFIO_DEVICE_ATTACH_IOMMUFD_PT, &pasid));

	/*
	 * The group moves to the PASID-compatible HWPT (a replace through the
	 * attached device), the other device joins it, then the PASID goes.
	 */
	pt0 = phwpt;
	ASSERT_EQ(0, attach(self->vfio[0], &pt0));
	pt1 = phwpt;
	ASSERT_EQ(0, attach(self->vfio[1], &pt1));
	ASSERT_EQ(0, ioctl(self->vfio[1], VFIO_DEVICE_ATTACH_IOMMUFD_PT, &pasid));
	EXPECT_EQ(REACHED_BUF1, round_trip(self, 0));
	EXPECT_EQ(REACHED_BUF1, round_trip(self, 1));
	/* While it is attached the group's RID cannot leave for the IOAS. */
	pt0 = self->ioas[0];
	EXPECT_EQ(EINVAL, attach(self->vfio[0], &pt0));
	EXPECT_ERRNO(EBUSY, destroy_id(self->iommufd, phwpt));
}

TEST_HARNESS_MAIN
