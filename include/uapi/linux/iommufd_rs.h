/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * iommufd-rs extensions to the iommufd uAPI: PASID virtualization.
 *
 * A file that never issues these commands sees the iommufd of
 * <linux/iommufd.h> unchanged. The C iommufd.ko has none of them and answers
 * each with ENOTTY, as it answers any command number it does not know.
 *
 * Command numbers. Every iommufd command is _IO(IOMMUFD_TYPE, nr) with an
 * 8-bit nr. Upstream iommufd numbers its commands upwards from
 * IOMMUFD_CMD_BASE (0x80; 0x95 in Linux 7.3) and puts its selftest command
 * at IOMMUFD_CMD_BASE + 32 (0xa0); VFIO shares the ';' type and numbers its
 * commands upwards from VFIO_BASE (100, 0x64), below 0x80. These commands
 * take 0xe0 and up: upstream would need 75 more commands before it reached
 * them, and a module serving both sets would fail to build (the tables
 * overlap) rather than misroute a command. Keeping the ';' type keeps one
 * dispatcher and upstream's size rules: each struct starts with its size,
 * a shorter struct than the last mandatory field is EINVAL, unknown trailing
 * bytes must be zero (E2BIG), unknown flags and non-zero reserved fields are
 * EOPNOTSUPP.
 */
#ifndef _UAPI_IOMMUFD_RS_H
#define _UAPI_IOMMUFD_RS_H

#include <linux/ioctl.h>
#include <linux/types.h>
#include <linux/iommufd.h>

enum {
	IOMMUFD_RS_CMD_BASE = 0xe0,
	IOMMUFD_RS_CMD_PASID_MODE = IOMMUFD_RS_CMD_BASE,
	IOMMUFD_RS_CMD_VPASID_ATTACH = 0xe1,
	IOMMUFD_RS_CMD_VPASID_DETACH = 0xe2,
	IOMMUFD_RS_CMD_VPASID_QUERY = 0xe3,
};

/*
 * The largest vPASID plus one: the 20-bit PASID of PCI Express. vPASID 0
 * is the RID (IOMMU_NO_PASID) and is never a vPASID.
 */
#define IOMMU_RS_VPASID_LIMIT (1U << 20)

/**
 * enum iommu_rs_pasid_modes - Where the host PASIDs of a file come from
 * @IOMMU_RS_PASID_MODE_PER_RID: Each IOMMU group (the PASID table of the
 *                               devices the IOMMU cannot tell apart) has
 *                               its own PASID space; the kernel allocates
 *                               the lowest free host PASID of the group.
 *                               The default.
 * @IOMMU_RS_PASID_MODE_GLOBAL: Host PASIDs come from the system-wide pool
 *                              (iommu_alloc_global_pasid()); one vPASID
 *                              has one host PASID on every device of the
 *                              file, as a CPU's ENQCMD PASID translation
 *                              needs. PASIDs attached through the upstream
 *                              (untranslated) path are refused with EBUSY.
 */
enum iommu_rs_pasid_modes {
	IOMMU_RS_PASID_MODE_PER_RID = 0,
	IOMMU_RS_PASID_MODE_GLOBAL = 1,
};

/**
 * struct iommu_rs_pasid_mode - ioctl(IOMMU_RS_PASID_MODE)
 * @size: sizeof(struct iommu_rs_pasid_mode)
 * @op: IOMMU_OPTION_OP_SET or IOMMU_OPTION_OP_GET
 * @mode: One of enum iommu_rs_pasid_modes; set by the kernel for GET
 * @__reserved: Must be 0
 *
 * Sets or reads the PASID mode of the file. SET is EBUSY once any PASID,
 * translated or not, is attached to a device of the file, even to set the
 * mode the file already has; an unknown mode is EINVAL, an unknown op
 * EOPNOTSUPP.
 */
struct iommu_rs_pasid_mode {
	__u32 size;
	__u32 op;
	__u32 mode;
	__u32 __reserved;
};

#define IOMMU_RS_PASID_MODE _IO(IOMMUFD_TYPE, IOMMUFD_RS_CMD_PASID_MODE)

/**
 * enum iommu_rs_vpasid_attach_flags - Flags for IOMMU_RS_VPASID_ATTACH
 * @IOMMU_RS_VPASID_REPLACE: Replace the HWPT of an attached vPASID (EINVAL
 *                           if the device is not attached there); the
 *                           host PASID stays.
 */
enum iommu_rs_vpasid_attach_flags {
	IOMMU_RS_VPASID_REPLACE = 1 << 0,
};

/**
 * struct iommu_rs_vpasid_attach - ioctl(IOMMU_RS_VPASID_ATTACH)
 * @size: sizeof(struct iommu_rs_vpasid_attach)
 * @flags: Combination of enum iommu_rs_vpasid_attach_flags
 * @dev_id: The device, as bound to this file
 * @vpasid: The PASID userspace (the guest) uses, 1 to
 *          IOMMU_RS_VPASID_LIMIT - 1
 * @pt_id: A HWPT allocated with IOMMU_HWPT_ALLOC_PASID
 * @out_ppasid: The host PASID the device's DMA is tagged with
 *
 * Attaches @dev_id at @vpasid to @pt_id, the kernel choosing the host PASID
 * (see enum iommu_rs_pasid_modes). The devices of one IOMMU group at one
 * vPASID share one context: one host PASID and one HWPT, as upstream's
 * devices of a group share the HWPT of a PASID. A second device of the
 * group joins the context with the same HWPT and gets the same host PASID;
 * another HWPT there is EINVAL; the same device twice is EBUSY. The host
 * PASID stays while any device is attached at the vPASID and is freed with
 * the last detach, the device's unbind, or the file's close. A device
 * without PASID support is EINVAL; no free host PASID is ENOSPC.
 */
struct iommu_rs_vpasid_attach {
	__u32 size;
	__u32 flags;
	__u32 dev_id;
	__u32 vpasid;
	__u32 pt_id;
	__u32 out_ppasid;
};

#define IOMMU_RS_VPASID_ATTACH _IO(IOMMUFD_TYPE, IOMMUFD_RS_CMD_VPASID_ATTACH)

/**
 * struct iommu_rs_vpasid_detach - ioctl(IOMMU_RS_VPASID_DETACH)
 * @size: sizeof(struct iommu_rs_vpasid_detach)
 * @flags: Must be 0
 * @dev_id: The device, as bound to this file
 * @vpasid: The vPASID to detach
 *
 * Detaches @dev_id at @vpasid. Detaching what is not attached is not an
 * error, as for upstream's PASID detach.
 */
struct iommu_rs_vpasid_detach {
	__u32 size;
	__u32 flags;
	__u32 dev_id;
	__u32 vpasid;
};

#define IOMMU_RS_VPASID_DETACH _IO(IOMMUFD_TYPE, IOMMUFD_RS_CMD_VPASID_DETACH)

/**
 * struct iommu_rs_vpasid_query - ioctl(IOMMU_RS_VPASID_QUERY)
 * @size: sizeof(struct iommu_rs_vpasid_query)
 * @flags: Must be 0
 * @dev_id: The device, as bound to this file
 * @vpasid: The vPASID to look up
 * @out_ppasid: Its host PASID on @dev_id
 * @out_pt_id: The HWPT it is attached to
 *
 * ENOENT if @dev_id is not attached at @vpasid.
 */
struct iommu_rs_vpasid_query {
	__u32 size;
	__u32 flags;
	__u32 dev_id;
	__u32 vpasid;
	__u32 out_ppasid;
	__u32 out_pt_id;
};

#define IOMMU_RS_VPASID_QUERY _IO(IOMMUFD_TYPE, IOMMUFD_RS_CMD_VPASID_QUERY)

/*
 * Selftest ABI (the selftest variant of iommufd_rs.ko only): an
 * IOMMU_TEST_CMD op, numbered far above upstream's, whose payload, in the
 * command's union, is struct iommu_rs_test_mediate_pasid. The mock device
 * @id (the IOMMU_TEST_OP_MOCK_DOMAIN stdev id) plays a device whose driver
 * mediates its PASID register: the "guest" writes @vpasid, the mediation
 * path translates it through the in-kernel vPASID lookup and writes the
 * host PASID into the device's register, which the op reads back into
 * @out_dev_pasid. ENOENT (register unchanged) if the device has no such
 * vPASID.
 */
#define IOMMU_RS_TEST_OP_MEDIATE_PASID 0x1000

struct iommu_rs_test_mediate_pasid {
	__u32 vpasid;
	__u32 out_dev_pasid;
};

/*
 * Selftest ABI: a dev_flags bit of IOMMU_TEST_OP_MOCK_DOMAIN_FLAGS, above
 * upstream's MOCK_FLAGS_DEVICE_*. Every mock device made with it is in one
 * IOMMU group, as devices the IOMMU cannot tell apart (DMA aliases) are.
 */
#define IOMMU_RS_MOCK_FLAGS_DEVICE_SHARED_GROUP (1U << 16)

#endif /* _UAPI_IOMMUFD_RS_H */
