/* SPDX-License-Identifier: GPL-2.0 */
/*
 * In-kernel API of iommufd_rs.ko beyond upstream's <linux/iommufd.h>: PASID
 * virtualization for a driver that binds a device with
 * iommufd_device_bind() (see include/uapi/linux/iommufd_rs.h for the rules).
 * Exported in the "IOMMUFD" namespace, as the rest of the API.
 */
#ifndef _LINUX_IOMMUFD_RS_H
#define _LINUX_IOMMUFD_RS_H

#include <linux/types.h>

struct iommufd_device;

/*
 * Attaches @idev at @vpasid to the HWPT *@pt_id, the kernel choosing the
 * host PASID, which comes back in *@ppasid. _replace changes the HWPT of an
 * attached vPASID, keeping the host PASID.
 */
int iommufd_rs_device_attach_vpasid(struct iommufd_device *idev, u32 vpasid,
				    u32 *pt_id, u32 *ppasid);
int iommufd_rs_device_replace_vpasid(struct iommufd_device *idev, u32 vpasid,
				     u32 *pt_id, u32 *ppasid);
/* Detaches @idev at @vpasid; nothing attached there is not an error. */
void iommufd_rs_device_detach_vpasid(struct iommufd_device *idev, u32 vpasid);
/*
 * For a mediation path (a vfio variant driver, an mdev): the host PASID
 * that @vpasid of @idev translates to, for the driver to write into a
 * device register. -ENOENT if @idev is not attached at @vpasid.
 */
int iommufd_rs_device_vpasid_to_ppasid(struct iommufd_device *idev, u32 vpasid,
				       u32 *ppasid);

#endif
