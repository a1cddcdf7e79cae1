/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The ioctl interface of iommufd_rs_vpasid_client.ko, a test driver of the
 * PASID virtualization in-kernel API of iommufd_rs.ko
 * (include/linux/iommufd_rs.h), shared with the selftest that drives it.
 * Each open file of /dev/iommufd_rs_vpasid_client binds at most one PCI
 * function, which must have no driver, to an iommufd.
 */
#ifndef IOMMUFD_RS_VPASID_CLIENT_H
#define IOMMUFD_RS_VPASID_CLIENT_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define VPASID_CLIENT_DEV "/dev/iommufd_rs_vpasid_client"

struct vpasid_client_cmd {
	__s32 iommufd;		/* BIND: an iommufd file descriptor */
	__u32 vpasid;		/* ATTACH, REPLACE, DETACH, TO_PPASID */
	__u32 pt_id;		/* ATTACH, REPLACE, ATTACH_RID */
	__u32 out_ppasid;	/* ATTACH, REPLACE, TO_PPASID: the host PASID */
	__u32 out_dev_id;	/* BIND: the device's id in the iommufd */
	__u32 __reserved;	/* must be 0 */
	char bdf[32];		/* BIND: the PCI function, "dddd:bb:dd.f" */
};

/* iommufd_ctx_from_fd() and iommufd_device_bind(); EBUSY if bound. */
#define VPASID_CLIENT_BIND _IOWR('V', 1, struct vpasid_client_cmd)
/* iommufd_device_unbind(); ENOENT if not bound. */
#define VPASID_CLIENT_UNBIND _IO('V', 2)
/* iommufd_rs_device_attach_vpasid() and _replace_vpasid(). */
#define VPASID_CLIENT_ATTACH _IOWR('V', 3, struct vpasid_client_cmd)
#define VPASID_CLIENT_REPLACE _IOWR('V', 4, struct vpasid_client_cmd)
/* iommufd_rs_device_detach_vpasid(). */
#define VPASID_CLIENT_DETACH _IOW('V', 5, struct vpasid_client_cmd)
/* iommufd_rs_device_vpasid_to_ppasid(). */
#define VPASID_CLIENT_TO_PPASID _IOWR('V', 6, struct vpasid_client_cmd)
/* iommufd_device_attach() and _detach() of the RID (IOMMU_NO_PASID). */
#define VPASID_CLIENT_ATTACH_RID _IOW('V', 7, struct vpasid_client_cmd)
#define VPASID_CLIENT_DETACH_RID _IO('V', 8)

#endif
