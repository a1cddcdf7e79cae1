/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Between glue/iommufd_rs_kapi.c, which exports the iommufd in-kernel API,
 * and rust/kapi.rs, which implements it. A context pointer here is the
 * struct file * of a /dev/iommu file, ictx its private data.
 */
#ifndef IOMMUFD_RS_KAPI_H
#define IOMMUFD_RS_KAPI_H

#include <linux/types.h>

struct device;
struct file;
struct file_operations;
struct iommu_group;
struct iommufd_device;

/* Called from Rust. */
void iommufd_rs_kapi_set_fops(const struct file_operations *fops);
int iommufd_rs_kapi_check_msi(struct device *dev);
void *iommufd_rs_kapi_ictx_of(struct file *file);

/* Implemented in Rust. */
int iommufd_rs_kapi_device_bind(struct file *ctx, void *ictx, struct device *dev,
				u32 *id, struct iommufd_device **out);
void iommufd_rs_kapi_device_unbind(struct iommufd_device *idev);
int iommufd_rs_kapi_device_change(struct iommufd_device *idev, u32 pasid,
				  u32 *pt_id, bool replace);
void iommufd_rs_kapi_device_detach(struct iommufd_device *idev, u32 pasid);
struct file *iommufd_rs_kapi_device_ctx(struct iommufd_device *idev);
u32 iommufd_rs_kapi_device_id(struct iommufd_device *idev);
bool iommufd_rs_kapi_has_group(void *ictx, struct iommu_group *group);
int iommufd_rs_kapi_compat_ioas_get_id(void *ictx, u32 *out_ioas_id);
int iommufd_rs_kapi_compat_ioas_create(void *ictx);
int iommufd_rs_kapi_compat_set_no_iommu(void *ictx);

#endif
