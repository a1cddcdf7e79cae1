// SPDX-License-Identifier: GPL-2.0-only
/*
 * Real DMA through the kernel's vfio-pci over the iommufd in-kernel API, on
 * QEMU's edu device (docs/specs/edu.rst): bind the device to vfio-pci,
 * VFIO_DEVICE_BIND_IOMMUFD on its cdev, map a buffer in an IOAS, attach,
 * run the edu DMA engine from the IOVA into the device and back out to
 * another IOVA and compare the bytes; then unmap and check that the same
 * DMA no longer reaches the buffer.
 *
 * The IOMMU is QEMU's VT-d or AMD-Vi (VM_IOMMU=intel|amd). What differs
 * between them is asked of the guest (the IOMMU's sysfs class, and whether
 * interrupts are remapped), and each test asserts what the C iommufd.ko does
 * on that IOMMU.
 *
 * Needs the VM booted with VM_EDU=1 and vfio, vfio-pci-core and vfio-pci
 * loaded (scripts/vfio-edu.sh does both). Skips when there is no edu device.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <linux/iommufd.h>
#include <linux/vfio.h>

#include "iommufd_rs_util.h"
#include "kselftest_harness.h"

#include "iommufd_rs_edu.h"

FIXTURE(edu)
{
	char bdf[64];
	int iommufd;
	int vfio;
	__u32 ioas_id;
	__u32 devid;
	__u64 bar0;
	__u8 *buf;
	int unsafe_irqs;
};

FIXTURE_SETUP(edu)
{
	struct vfio_device_bind_iommufd bind = { .argsz = sizeof(bind) };
	struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };
	struct vfio_region_info reg = {
		.argsz = sizeof(reg),
		.index = VFIO_PCI_BAR0_REGION_INDEX,
	};

	self->iommufd = -1;
	self->vfio = -1;
	self->buf = NULL;
	self->unsafe_irqs = 0;
	if (find_edu(self->bdf, sizeof(self->bdf)))
		SKIP(return, "no edu device (boot the VM with VM_EDU=1)");
	if (access("/sys/bus/pci/drivers/vfio-pci", F_OK))
		SKIP(return, "vfio-pci is not loaded");
	ASSERT_EQ(0, bind_vfio_pci(self->bdf));

	self->vfio = open_vfio_cdev(self->bdf);
	ASSERT_LE(0, self->vfio);
	self->iommufd = open("/dev/iommu", O_RDWR);
	ASSERT_LE(0, self->iommufd);

	/* Nothing of the device is usable before it is bound. */
	ASSERT_EQ(-1, ioctl(self->vfio, VFIO_DEVICE_GET_REGION_INFO, &reg));

	/* Without interrupt remapping, only the override lets vfio bind. */
	self->unsafe_irqs = msi_isolated() == 0;
	if (self->unsafe_irqs)
		ASSERT_EQ(0, set_unsafe_irqs(1));
	bind.iommufd = self->iommufd;
	ASSERT_EQ(0, ioctl(self->vfio, VFIO_DEVICE_BIND_IOMMUFD, &bind));
	self->devid = bind.out_devid;
	ASSERT_NE(0, self->devid);

	ASSERT_EQ(0, ioctl(self->iommufd, IOMMU_IOAS_ALLOC, &alloc));
	self->ioas_id = alloc.out_ioas_id;

	ASSERT_EQ(0, edu_open(self->vfio, &self->bar0));

	self->buf = mmap(NULL, 2 * PSZ, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->buf);
}

FIXTURE_TEARDOWN(edu)
{
	if (self->buf && self->buf != MAP_FAILED)
		munmap(self->buf, 2 * PSZ);
	if (self->vfio >= 0)
		close(self->vfio);
	if (self->iommufd >= 0)
		close(self->iommufd);
	if (self->unsafe_irqs)
		set_unsafe_irqs(0);
}

/*
 * What the IOMMU behind a real device reports. VT-d: its cap/ecap registers
 * as struct iommu_hw_info_vtd, a too-short buffer filled only as far as it
 * goes, a longer one zeroed past the data, and another type refused.
 * AMD-Vi reports its EFRs only with CONFIG_AMD_IOMMU_IOMMUFD (off in the
 * test kernel, as in most distribution kernels); without it the driver has
 * no hw_info, so the core answers type NONE with no data, zeroes the whole
 * buffer, and takes any input type. Either way: no PASID width and no ATS
 * for a device with neither capability.
 */
TEST_F(edu, hw_info)
{
	union {
		struct iommu_hw_info_vtd vtd;
		__u8 bytes[64];
	} data;
	struct iommu_hw_info info = {
		.size = sizeof(info),
		.dev_id = self->devid,
		.data_len = sizeof(data),
		.data_uptr = (uintptr_t)&data,
	};
	const size_t half = offsetof(struct iommu_hw_info_vtd, ecap_reg);
	enum iommu_vendor vendor = iommu_vendor();
	__u8 full[64];
	unsigned int i;

	if (vendor == IOMMU_OTHER)
		SKIP(return, "neither VT-d nor AMD-Vi");

	memset(&data, 0xa5, sizeof(data));
	ASSERT_EQ(0, ioctl(self->iommufd, IOMMU_GET_HW_INFO, &info));
	ASSERT_EQ(0, info.out_max_pasid_log2);
	/*
	 * edu has neither ATS nor PASID, and neither of QEMU's IOMMUs tracks
	 * dirty bits.
	 */
	ASSERT_EQ(IOMMU_HW_CAP_PCI_ATS_NOT_SUPPORTED, info.out_capabilities);

	if (vendor == IOMMU_AMD) {
		ASSERT_EQ(IOMMU_HW_INFO_TYPE_NONE, info.out_data_type);
		ASSERT_EQ(0, info.data_len);
		for (i = 0; i < sizeof(data); i++)
			ASSERT_EQ(0, data.bytes[i]);
		info.flags = IOMMU_HW_INFO_FLAG_INPUT_TYPE;
		info.in_data_type = IOMMU_HW_INFO_TYPE_INTEL_VTD;
		info.data_len = sizeof(data);
		ASSERT_EQ(0, ioctl(self->iommufd, IOMMU_GET_HW_INFO, &info));
		ASSERT_EQ(IOMMU_HW_INFO_TYPE_NONE, info.out_data_type);
		return;
	}

	ASSERT_EQ(IOMMU_HW_INFO_TYPE_INTEL_VTD, info.out_data_type);
	ASSERT_EQ(sizeof(data.vtd), info.data_len);
	ASSERT_NE(0, data.vtd.cap_reg);
	ASSERT_NE(0, data.vtd.ecap_reg);
	for (i = sizeof(data.vtd); i < sizeof(data); i++)
		ASSERT_EQ(0, data.bytes[i]);
	memcpy(full, &data, sizeof(data.vtd));

	/* Part of the data: the rest of the user's buffer is left alone. */
	memset(&data, 0xa5, sizeof(data));
	info.data_len = half;
	ASSERT_EQ(0, ioctl(self->iommufd, IOMMU_GET_HW_INFO, &info));
	ASSERT_EQ(sizeof(data.vtd), info.data_len);
	ASSERT_EQ(0, memcmp(full, &data, half));
	ASSERT_EQ(0xa5, data.bytes[half]);

	/* Asked for by its own type, the same; another type is refused. */
	info.flags = IOMMU_HW_INFO_FLAG_INPUT_TYPE;
	info.in_data_type = IOMMU_HW_INFO_TYPE_INTEL_VTD;
	info.data_len = sizeof(data.vtd);
	ASSERT_EQ(0, ioctl(self->iommufd, IOMMU_GET_HW_INFO, &info));
	ASSERT_EQ(0, memcmp(full, &data, sizeof(data.vtd)));
	info.in_data_type = IOMMU_HW_INFO_TYPE_AMD;
	EXPECT_ERRNO(EOPNOTSUPP, ioctl(self->iommufd, IOMMU_GET_HW_INFO, &info));
}

/*
 * Interrupt isolation: without interrupt remapping (QEMU's AMD-Vi, where
 * the kernel finds no southbridge IOAPIC) bind is refused with EPERM until
 * allow_unsafe_interrupts is set; with it (VT-d with intremap=on) bind
 * needs no override.
 */
TEST(msi_isolation)
{
	struct vfio_device_bind_iommufd bind = { .argsz = sizeof(bind) };
	char bdf[64];
	int isolated = msi_isolated();
	int iommufd, vfio;

	if (find_edu(bdf, sizeof(bdf)))
		SKIP(return, "no edu device (boot the VM with VM_EDU=1)");
	if (access("/sys/bus/pci/drivers/vfio-pci", F_OK))
		SKIP(return, "vfio-pci is not loaded");
	ASSERT_LE(0, isolated);
	ASSERT_EQ(0, bind_vfio_pci(bdf));
	ASSERT_EQ(0, set_unsafe_irqs(0));
	iommufd = open("/dev/iommu", O_RDWR);
	ASSERT_LE(0, iommufd);
	vfio = open_vfio_cdev(bdf);
	ASSERT_LE(0, vfio);
	bind.iommufd = iommufd;
	if (isolated) {
		ASSERT_EQ(0, ioctl(vfio, VFIO_DEVICE_BIND_IOMMUFD, &bind));
	} else {
		EXPECT_ERRNO(EPERM, ioctl(vfio, VFIO_DEVICE_BIND_IOMMUFD, &bind));
		/* The refusal left nothing behind: the override lets it bind. */
		ASSERT_EQ(0, set_unsafe_irqs(1));
		EXPECT_EQ(0, ioctl(vfio, VFIO_DEVICE_BIND_IOMMUFD, &bind));
		EXPECT_NE(0, bind.out_devid);
		ASSERT_EQ(0, set_unsafe_irqs(0));
	}
	close(vfio);
	close(iommufd);
}

/*
 * IOMMU_HWPT_ALLOC for the edu device with every combination of the
 * paging flags, and a nested HWPT with the vendor's data on a nest parent.
 * The expected errnos are what the C iommufd.ko answers on QEMU's VT-d
 * (scalable mode, first and second stage, no dirty tracking, no nesting)
 * and AMD-Vi (no dirty tracking; no nest parent and no PASID table without
 * CONFIG_AMD_IOMMU_IOMMUFD and v2 page tables).
 */
struct hwpt_case {
	__u32 flags;
	int vtd; /* 0 or the errno on VT-d */
	int amd; /* the same on AMD-Vi */
};

#define NP IOMMU_HWPT_ALLOC_NEST_PARENT
#define DT IOMMU_HWPT_ALLOC_DIRTY_TRACKING
#define FV IOMMU_HWPT_FAULT_ID_VALID
#define PA IOMMU_HWPT_ALLOC_PASID
static const struct hwpt_case hwpt_cases[] = {
	{ 0, 0, 0 },
	{ NP, EOPNOTSUPP, EOPNOTSUPP },
	{ DT, EOPNOTSUPP, EOPNOTSUPP },
	{ FV, 0, 0 },
	{ PA, 0, EOPNOTSUPP },
	{ NP | DT, EOPNOTSUPP, EOPNOTSUPP },
	{ NP | FV, EOPNOTSUPP, EOPNOTSUPP },
	{ NP | PA, EOPNOTSUPP, EOPNOTSUPP },
	{ DT | FV, EOPNOTSUPP, EOPNOTSUPP },
	{ DT | PA, EOPNOTSUPP, EOPNOTSUPP },
	{ FV | PA, 0, EOPNOTSUPP },
	{ NP | DT | FV, EOPNOTSUPP, EOPNOTSUPP },
	{ NP | DT | PA, EOPNOTSUPP, EOPNOTSUPP },
	{ NP | FV | PA, EOPNOTSUPP, EOPNOTSUPP },
	{ DT | FV | PA, EOPNOTSUPP, EOPNOTSUPP },
	{ NP | DT | FV | PA, EOPNOTSUPP, EOPNOTSUPP },
	{ 1 << 4, EOPNOTSUPP, EOPNOTSUPP },
};

TEST_F(edu, hwpt_alloc_flags)
{
	struct iommu_fault_alloc fault = { .size = sizeof(fault) };
	enum iommu_vendor vendor = iommu_vendor();
	unsigned int i;
	int want, got;
	__u32 id;

	if (vendor == IOMMU_OTHER)
		SKIP(return, "neither VT-d nor AMD-Vi");
	ASSERT_EQ(0, ioctl(self->iommufd, IOMMU_FAULT_QUEUE_ALLOC, &fault));
	for (i = 0; i < ARRAY_SIZE(hwpt_cases); i++) {
		want = vendor == IOMMU_VTD ? hwpt_cases[i].vtd : hwpt_cases[i].amd;
		got = hwpt_alloc(self->iommufd, hwpt_cases[i].flags, self->devid,
				 self->ioas_id, fault.out_fault_id,
				 IOMMU_HWPT_DATA_NONE, NULL, 0, &id);
		if (got != want)
			TH_LOG("flags %#x: errno %d, C gives %d",
			       hwpt_cases[i].flags, got, want);
		EXPECT_EQ(want, got);
		if (!got)
			EXPECT_EQ(0, destroy_id(self->iommufd, id));
	}
	/* A fault id that is no fault queue. */
	EXPECT_EQ(ENOENT, hwpt_alloc(self->iommufd, FV, self->devid,
				     self->ioas_id, self->ioas_id,
				     IOMMU_HWPT_DATA_NONE, NULL, 0, &id));
	/* The queue's fd holds the queue. */
	EXPECT_ERRNO(EBUSY, destroy_id(self->iommufd, fault.out_fault_id));
	close(fault.out_fault_fd);
	EXPECT_EQ(0, destroy_id(self->iommufd, fault.out_fault_id));
}

/*
 * Nested HWPTs. Neither IOMMU can make a nest parent here: QEMU's VT-d has
 * no ECAP.NEST, and AMD-Vi's nesting needs CONFIG_AMD_IOMMU_IOMMUFD, which
 * the test kernel (like most distribution kernels) leaves off as
 * experimental. What is compared with C: the parent's refusal, and the
 * answer to nested data on a parent that is no nest parent (the core's
 * EINVAL on VT-d; on AMD-Vi, whose driver then has no nested domains at
 * all, EOPNOTSUPP first). The cases on a nest parent run where one can be
 * made.
 */
struct nested_case {
	const char *what;
	int on_nest_parent; /* else on a plain paging HWPT */
	__u32 flags;
	int own_type; /* else the other vendor's data */
	int vtd;
	int amd;
};

static const struct nested_case nested_cases[] = {
	{ "on a plain parent", 0, 0, 1, EINVAL, EOPNOTSUPP },
	{ "own data", 1, 0, 1, EOPNOTSUPP, EOPNOTSUPP },
	{ "other vendor's data", 1, 0, 0, EOPNOTSUPP, EOPNOTSUPP },
	{ "NEST_PARENT flag", 1, NP, 1, EOPNOTSUPP, EOPNOTSUPP },
	{ "PASID flag", 1, PA, 1, EOPNOTSUPP, EOPNOTSUPP },
};

TEST_F(edu, hwpt_alloc_nested)
{
	struct iommu_hwpt_vtd_s1 vtd = { .addr_width = 48 };
	struct iommu_hwpt_amd_guest amd = {};
	enum iommu_vendor vendor = iommu_vendor();
	__u32 parent, plain, id, own, foreign, len;
	int want, got, parent_rc;
	unsigned int i;
	void *data;

	if (vendor == IOMMU_OTHER)
		SKIP(return, "neither VT-d nor AMD-Vi");
	own = vendor == IOMMU_VTD ? IOMMU_HWPT_DATA_VTD_S1 : IOMMU_HWPT_DATA_AMD_GUEST;
	foreign = vendor == IOMMU_VTD ? IOMMU_HWPT_DATA_AMD_GUEST : IOMMU_HWPT_DATA_VTD_S1;
	data = vendor == IOMMU_VTD ? (void *)&vtd : (void *)&amd;
	len = vendor == IOMMU_VTD ? sizeof(vtd) : sizeof(amd);

	parent_rc = hwpt_alloc(self->iommufd, NP, self->devid, self->ioas_id,
			       0, IOMMU_HWPT_DATA_NONE, NULL, 0, &parent);
	EXPECT_EQ(EOPNOTSUPP, parent_rc);
	ASSERT_EQ(0, hwpt_alloc(self->iommufd, 0, self->devid, self->ioas_id,
				0, IOMMU_HWPT_DATA_NONE, NULL, 0, &plain));

	for (i = 0; i < ARRAY_SIZE(nested_cases); i++) {
		const struct nested_case *c = &nested_cases[i];

		if (c->on_nest_parent && parent_rc)
			continue;
		want = vendor == IOMMU_VTD ? c->vtd : c->amd;
		got = hwpt_alloc(self->iommufd, c->flags, self->devid,
				 c->on_nest_parent ? parent : plain, 0,
				 c->own_type ? own : foreign, data, len, &id);
		if (got != want)
			TH_LOG("nested, %s: errno %d, C gives %d", c->what, got, want);
		EXPECT_EQ(want, got);
		if (!got)
			EXPECT_EQ(0, destroy_id(self->iommufd, id));
	}

	EXPECT_EQ(0, destroy_id(self->iommufd, plain));
	if (!parent_rc)
		EXPECT_EQ(0, destroy_id(self->iommufd, parent));
}

/*
 * PASID attach through VFIO on a PCI device without a PASID capability.
 * The IOMMU core does not check the PASID of a device with no PASIDs at
 * all (it cannot issue PASID-tagged DMA, and a group may mix it with
 * devices that can), so the attach succeeds and programs nothing, as in
 * C; the rules on the HWPT still apply, and the RID's DMA is unaffected.
 */
TEST_F(edu, pasid_attach_without_pasid_cap)
{
	struct vfio_device_attach_iommufd_pt attach = {
		.argsz = sizeof(attach),
		.flags = VFIO_DEVICE_ATTACH_PASID,
		.pasid = 1,
	};
	struct vfio_device_detach_iommufd_pt detach = {
		.argsz = sizeof(detach),
		.flags = VFIO_DEVICE_DETACH_PASID,
		.pasid = 1,
	};
	struct vfio_device_attach_iommufd_pt rid = { .argsz = sizeof(rid) };
	__u8 *in = self->buf, *out = self->buf + PSZ;
	__u32 pasid_hwpt, plain;
	int rc;

	ASSERT_EQ(0, hwpt_alloc(self->iommufd, 0, self->devid, self->ioas_id,
				0, IOMMU_HWPT_DATA_NONE, NULL, 0, &plain));
	ASSERT_EQ(0, edu_map(self->iommufd, self->ioas_id, self->buf, 2 * PSZ, IOVA));
	rc = hwpt_alloc(self->iommufd, PA, self->devid, self->ioas_id, 0,
			IOMMU_HWPT_DATA_NONE, NULL, 0, &pasid_hwpt);
	if (iommu_vendor() == IOMMU_AMD) {
		/* No PASID-capable domain here (see hwpt_alloc_flags). */
		EXPECT_EQ(EOPNOTSUPP, rc);
		attach.pt_id = plain;
		EXPECT_ERRNO(EINVAL, ioctl(self->vfio, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach));
		attach.pt_id = self->ioas_id;
		EXPECT_ERRNO(EINVAL, ioctl(self->vfio, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach));
		EXPECT_EQ(0, destroy_id(self->iommufd, plain));
		return;
	}
	ASSERT_EQ(0, rc);

	/* With the RID on a domain that is not PASID compatible, no PASID. */
	rid.pt_id = self->ioas_id;
	ASSERT_EQ(0, ioctl(self->vfio, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &rid));
	attach.pt_id = pasid_hwpt;
	EXPECT_ERRNO(EINVAL, ioctl(self->vfio, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach));

	/* The RID on the PASID-compatible HWPT (which maps the same IOAS). */
	rid.pt_id = pasid_hwpt;
	ASSERT_EQ(0, ioctl(self->vfio, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &rid));
	EXPECT_EQ(pasid_hwpt, rid.pt_id);

	/* A HWPT without IOMMU_HWPT_ALLOC_PASID, and an IOAS, are refused. */
	attach.pt_id = plain;
	EXPECT_ERRNO(EINVAL, ioctl(self->vfio, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach));
	attach.pt_id = self->ioas_id;
	EXPECT_ERRNO(EINVAL, ioctl(self->vfio, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach));

	attach.pt_id = pasid_hwpt;
	ASSERT_EQ(0, ioctl(self->vfio, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach));
	EXPECT_EQ(pasid_hwpt, attach.pt_id);
	/* Again at the same PASID: vfio makes it a replace, to an IOAS no. */
	attach.pt_id = self->ioas_id;
	EXPECT_ERRNO(EINVAL, ioctl(self->vfio, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach));
	attach.pt_id = pasid_hwpt;
	EXPECT_EQ(0, ioctl(self->vfio, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach));

	/* The RID's DMA goes on through the HWPT's domain. */
	memset(in, 0x3c, PSZ);
	memset(out, 0, PSZ);
	ASSERT_EQ(0, edu_dma(self->vfio, self->bar0, IOVA, PSZ, 0));
	ASSERT_EQ(0, edu_dma(self->vfio, self->bar0, IOVA + PSZ, PSZ, 1));
	ASSERT_EQ(0, memcmp(in, out, PSZ));

	/*
	 * While a PASID is attached the RID may not move to a domain that is
	 * not PASID compatible.
	 */
	rid.pt_id = plain;
	EXPECT_ERRNO(EINVAL, ioctl(self->vfio, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &rid));

	/* Detached (twice: vfio ignores a PASID it does not hold). */
	ASSERT_EQ(0, ioctl(self->vfio, VFIO_DEVICE_DETACH_IOMMUFD_PT, &detach));
	ASSERT_EQ(0, ioctl(self->vfio, VFIO_DEVICE_DETACH_IOMMUFD_PT, &detach));
	/* Then it may. */
	ASSERT_EQ(0, ioctl(self->vfio, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &rid));
	rid.pt_id = pasid_hwpt;
	ASSERT_EQ(0, ioctl(self->vfio, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &rid));

	/* Left attached, the PASIDs go when the device file closes. */
	attach.pasid = 1;
	ASSERT_EQ(0, ioctl(self->vfio, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach));
	/* Attached, the HWPT is in use. */
	EXPECT_ERRNO(EBUSY, destroy_id(self->iommufd, pasid_hwpt));
	attach.pasid = 2;
	ASSERT_EQ(0, ioctl(self->vfio, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach));
	close(self->vfio);
	self->vfio = -1;
	EXPECT_EQ(0, destroy_id(self->iommufd, pasid_hwpt));
	EXPECT_EQ(0, destroy_id(self->iommufd, plain));
}

/* DMA into the device from one IOVA and back out to another, then none. */
TEST_F(edu, dma_through_ioas)
{
	struct vfio_device_attach_iommufd_pt attach = {
		.argsz = sizeof(attach),
		.pt_id = self->ioas_id,
	};
	struct vfio_device_detach_iommufd_pt detach = { .argsz = sizeof(detach) };
	__u8 *in = self->buf, *out = self->buf + PSZ;
	unsigned long i;

	ASSERT_EQ(0x010000ed, rd32(self->vfio, self->bar0, EDU_ID));

	ASSERT_EQ(0, edu_map(self->iommufd, self->ioas_id, self->buf, 2 * PSZ, IOVA));
	ASSERT_EQ(0, ioctl(self->vfio, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach));
	/* An IOAS gets an automatic HWPT, whose id comes back. */
	ASSERT_NE(self->ioas_id, attach.pt_id);

	for (i = 0; i < PSZ; i++)
		in[i] = (__u8)(i * 7 + 3);
	memset(out, 0, PSZ);
	ASSERT_EQ(0, edu_dma(self->vfio, self->bar0, IOVA, PSZ, 0));
	ASSERT_EQ(0, edu_dma(self->vfio, self->bar0, IOVA + PSZ, PSZ, 1));
	ASSERT_EQ(0, memcmp(in, out, PSZ));

	/* Unmapped, the IOVA no longer reaches the buffer. */
	ASSERT_EQ(0, edu_unmap(self->iommufd, self->ioas_id, IOVA, 2 * PSZ));
	memset(out, 0x5a, PSZ);
	ASSERT_EQ(0, edu_dma(self->vfio, self->bar0, IOVA + PSZ, PSZ, 1));
	for (i = 0; i < PSZ; i++)
		ASSERT_EQ(0x5a, out[i]);

	/* Mapped again, it does. */
	ASSERT_EQ(0, edu_map(self->iommufd, self->ioas_id, self->buf, 2 * PSZ, IOVA));
	ASSERT_EQ(0, edu_dma(self->vfio, self->bar0, IOVA + PSZ, PSZ, 1));
	ASSERT_EQ(0, memcmp(in, out, PSZ));

	ASSERT_EQ(0, ioctl(self->vfio, VFIO_DEVICE_DETACH_IOMMUFD_PT, &detach));
}

/*
 * The reserved regions of the device (the Intel IOMMU's MSI window at
 * 0xfee00000) are holes in the IOAS while the device is attached to it.
 */
TEST_F(edu, reserved_regions)
{
	struct vfio_device_attach_iommufd_pt attach = {
		.argsz = sizeof(attach),
		.pt_id = self->ioas_id,
	};
	struct vfio_device_detach_iommufd_pt detach = { .argsz = sizeof(detach) };
	struct iommu_iova_range ranges[16];
	struct iommu_ioas_iova_ranges get = {
		.size = sizeof(get),
		.ioas_id = self->ioas_id,
		.num_iovas = 16,
		.allowed_iovas = (uintptr_t)ranges,
	};
	const __u64 msi = 0xfee00000UL;
	int hole = 0;
	unsigned int i;

	/* Something mapped there: the attach cannot make the hole. */
	ASSERT_EQ(0, edu_map(self->iommufd, self->ioas_id, self->buf, PSZ, msi));
	EXPECT_EQ(-1, ioctl(self->vfio, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach));
	EXPECT_EQ(EADDRINUSE, errno);
	ASSERT_EQ(0, edu_unmap(self->iommufd, self->ioas_id, msi, PSZ));

	ASSERT_EQ(0, ioctl(self->vfio, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach));
	EXPECT_EQ(-1, edu_map(self->iommufd, self->ioas_id, self->buf, PSZ, msi));
	EXPECT_EQ(EINVAL, errno);
	ASSERT_EQ(0, ioctl(self->iommufd, IOMMU_IOAS_IOVA_RANGES, &get));
	ASSERT_GE(16, get.num_iovas);
	for (i = 0; i + 1 < get.num_iovas; i++)
		if (ranges[i].last < msi && ranges[i + 1].start > msi + 0xfffff)
			hole = 1;
	EXPECT_TRUE(hole);

	/* Detached, the hole is gone. */
	ASSERT_EQ(0, ioctl(self->vfio, VFIO_DEVICE_DETACH_IOMMUFD_PT, &detach));
	EXPECT_EQ(0, edu_map(self->iommufd, self->ioas_id, self->buf, PSZ, msi));
}

/* The iommufd rules vfio relies on, seen from userspace. */
TEST_F(edu, bind_rules)
{
	struct vfio_device_bind_iommufd bind = { .argsz = sizeof(bind) };
	struct iommu_destroy destroy = { .size = sizeof(destroy) };
	struct vfio_device_attach_iommufd_pt attach = {
		.argsz = sizeof(attach),
		.pt_id = 0x7fff0000,
	};
	int other = open("/dev/iommu", O_RDWR);
	int null = open("/dev/null", O_RDWR);
	int vfio2 = open_vfio_cdev(self->bdf);

	ASSERT_LE(0, other);
	ASSERT_LE(0, null);
	ASSERT_LE(0, vfio2);

	/* A bound device is held by its driver: its id cannot be destroyed. */
	destroy.id = self->devid;
	EXPECT_EQ(-1, ioctl(self->iommufd, IOMMU_DESTROY, &destroy));
	EXPECT_EQ(EBUSY, errno);
	/* One bind per device file. */
	bind.iommufd = self->iommufd;
	EXPECT_EQ(-1, ioctl(self->vfio, VFIO_DEVICE_BIND_IOMMUFD, &bind));
	EXPECT_EQ(EINVAL, errno);
	/* iommufd_ctx_from_fd: no file is EBADF, another file EBADFD. */
	ASSERT_EQ(-1, fcntl(999, F_GETFD));
	bind.iommufd = 999;
	EXPECT_EQ(-1, ioctl(vfio2, VFIO_DEVICE_BIND_IOMMUFD, &bind));
	EXPECT_EQ(EBADF, errno);
	bind.iommufd = null;
	EXPECT_EQ(-1, ioctl(vfio2, VFIO_DEVICE_BIND_IOMMUFD, &bind));
	EXPECT_EQ(EBADFD, errno);
	/* The device is open through the first file: vfio says no. */
	bind.iommufd = other;
	EXPECT_EQ(-1, ioctl(vfio2, VFIO_DEVICE_BIND_IOMMUFD, &bind));
	EXPECT_EQ(EINVAL, errno);
	/* An unknown pt_id is ENOENT, a device id EINVAL. */
	EXPECT_EQ(-1, ioctl(self->vfio, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach));
	EXPECT_EQ(ENOENT, errno);
	attach.pt_id = self->devid;
	EXPECT_EQ(-1, ioctl(self->vfio, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach));
	EXPECT_EQ(EINVAL, errno);
	close(vfio2);
	close(null);
	close(other);
}

/*
 * The group path with an iommufd as the container, where vfio.ko keeps
 * /dev/vfio/vfio itself: VFIO_GROUP_SET_CONTAINER makes the compat IOAS
 * (iommufd_ctx_from_file, iommufd_vfio_compat_ioas_create), the device fd
 * binds and attaches to it (iommufd_vfio_compat_ioas_get_id), and the type1
 * ioctls on the iommufd map what the device's DMA reaches.
 */
TEST(group_container)
{
	struct vfio_group_status status = { .argsz = sizeof(status) };
	struct iommu_vfio_ioas vioas = {
		.size = sizeof(vioas),
		.op = IOMMU_VFIO_IOAS_GET,
	};
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.iova = IOVA,
		.size = 2 * PSZ,
	};
	struct vfio_iommu_type1_dma_unmap unmap = {
		.argsz = sizeof(unmap),
		.iova = IOVA,
		.size = 2 * PSZ,
	};
	char bdf[64], path[600], link[600], *name;
	int iommufd, group, dev, null, unsafe_irqs;
	__u8 *buf, *in, *out;
	unsigned long i;
	__u64 bar0;
	ssize_t n;

	if (find_edu(bdf, sizeof(bdf)))
		SKIP(return, "no edu device (boot the VM with VM_EDU=1)");
	if (access("/sys/bus/pci/drivers/vfio-pci", F_OK))
		SKIP(return, "vfio-pci is not loaded");
	ASSERT_EQ(0, bind_vfio_pci(bdf));
	unsafe_irqs = msi_isolated() == 0;
	if (unsafe_irqs)
		ASSERT_EQ(0, set_unsafe_irqs(1));
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu_group", bdf);
	n = readlink(path, link, sizeof(link) - 1);
	ASSERT_LT(0, n);
	link[n] = 0;
	name = strrchr(link, '/');
	ASSERT_NE(NULL, name);
	snprintf(path, sizeof(path), "/dev/vfio/%s", name + 1);
	group = open(path, O_RDWR);
	ASSERT_LE(0, group);
	ASSERT_EQ(0, ioctl(group, VFIO_GROUP_GET_STATUS, &status));
	ASSERT_TRUE(status.flags & VFIO_GROUP_FLAGS_VIABLE);

	iommufd = open("/dev/iommu", O_RDWR);
	ASSERT_LE(0, iommufd);
	/* No compat IOAS before the group is set on the iommufd. */
	EXPECT_EQ(-1, ioctl(iommufd, IOMMU_VFIO_IOAS, &vioas));
	EXPECT_EQ(ENODEV, errno);
	/* Another kind of file is not a container. */
	null = open("/dev/null", O_RDWR);
	ASSERT_LE(0, null);
	EXPECT_EQ(-1, ioctl(group, VFIO_GROUP_SET_CONTAINER, &null));
	EXPECT_EQ(EBADFD, errno);
	close(null);

	ASSERT_EQ(0, ioctl(group, VFIO_GROUP_SET_CONTAINER, &iommufd));
	ASSERT_EQ(0, ioctl(iommufd, IOMMU_VFIO_IOAS, &vioas));
	EXPECT_NE(0, vioas.ioas_id);
	ASSERT_EQ(0, ioctl(iommufd, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU));

	buf = mmap(NULL, 2 * PSZ, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, buf);
	in = buf;
	out = buf + PSZ;
	map.vaddr = (uintptr_t)buf;
	ASSERT_EQ(0, ioctl(iommufd, VFIO_IOMMU_MAP_DMA, &map));

	dev = ioctl(group, VFIO_GROUP_GET_DEVICE_FD, bdf);
	ASSERT_LE(0, dev);
	ASSERT_EQ(0, edu_open(dev, &bar0));
	ASSERT_EQ(0x010000ed, rd32(dev, bar0, EDU_ID));
	/* Cache coherent DMA is enforced where the IOMMU can enforce it. */
	if (vtd_snoop_control() >= 0)
		EXPECT_EQ(vtd_snoop_control(),
			  ioctl(iommufd, VFIO_CHECK_EXTENSION, VFIO_DMA_CC_IOMMU));

	for (i = 0; i < PSZ; i++)
		in[i] = (__u8)(i * 13 + 1);
	memset(out, 0, PSZ);
	ASSERT_EQ(0, edu_dma(dev, bar0, IOVA, PSZ, 0));
	ASSERT_EQ(0, edu_dma(dev, bar0, IOVA + PSZ, PSZ, 1));
	ASSERT_EQ(0, memcmp(in, out, PSZ));

	ASSERT_EQ(0, ioctl(iommufd, VFIO_IOMMU_UNMAP_DMA, &unmap));
	EXPECT_EQ(2 * PSZ, unmap.size);
	memset(out, 0x5a, PSZ);
	ASSERT_EQ(0, edu_dma(dev, bar0, IOVA + PSZ, PSZ, 1));
	for (i = 0; i < PSZ; i++)
		ASSERT_EQ(0x5a, out[i]);

	close(dev);
	EXPECT_EQ(0, ioctl(group, VFIO_GROUP_UNSET_CONTAINER));
	close(group);
	close(iommufd);
	munmap(buf, 2 * PSZ);
	if (unsafe_irqs)
		set_unsafe_irqs(0);
}

TEST_HARNESS_MAIN
