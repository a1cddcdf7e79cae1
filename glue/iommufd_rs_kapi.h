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
struct iommufd_access;
struct iommufd_access_ops;
struct iommufd_device;
struct page;

/* How iommufd_rs_kapi_access_change() changes an access's IOAS. */
enum {
	IOMMUFD_RS_ACCESS_ATTACH = 0,
	IOMMUFD_RS_ACCESS_REPLACE = 1,
	IOMMUFD_RS_ACCESS_DETACH = 2,
};

/* Called from Rust. */
void iommufd_rs_kapi_set_fops(const struct file_operations *fops);
int iommufd_rs_kapi_check_msi(struct device *dev);
void iommufd_rs_kapi_access_unmap(const struct iommufd_access_ops *ops, void *data,
				  unsigned long iova, unsigned long length);
void *iommufd_rs_kapi_ictx_of(struct file *file);

/* Implemented in Rust. */
int iommufd_rs_kapi_device_bind(struct file *ctx, void *ictx, struct device *dev,
				u32 *id, struct iommufd_device **out);
void iommufd_rs_kapi_device_unbind(struct iommufd_device *idev);
int iommufd_rs_kapi_device_change(struct iommufd_device *idev, u32 pasid,
				  u32 *pt_id, bool replace);
void iommufd_rs_kapi_device_detach(struct iommufd_device *idev, u32 pasid);
int iommufd_rs_kapi_device_vpasid_change(struct iommufd_device *idev, u32 vpasid,
					 u32 *pt_id, u32 *ppasid, bool replace);
void iommufd_rs_kapi_device_vpasid_detach(struct iommufd_device *idev, u32 vpasid);
int iommufd_rs_kapi_device_vpasid_lookup(struct iommufd_device *idev, u32 vpasid,
					 u32 *ppasid);
struct file *iommufd_rs_kapi_device_ctx(struct iommufd_device *idev);
u32 iommufd_rs_kapi_device_id(struct iommufd_device *idev);
bool iommufd_rs_kapi_has_group(void *ictx, struct iommu_group *group);
int iommufd_rs_kapi_compat_ioas_get_id(void *ictx, u32 *out_ioas_id);
int iommufd_rs_kapi_compat_ioas_create(void *ictx);
int iommufd_rs_kapi_compat_set_no_iommu(void *ictx);
int iommufd_rs_kapi_access_create(struct file *ctx, void *ictx,
				  const struct iommufd_access_ops *ops, void *data,
				  bool needs_pin, bool has_unmap, u32 *id,
				  struct iommufd_access **out);
void iommufd_rs_kapi_access_destroy(struct iommufd_access *access);
int iommufd_rs_kapi_access_change(struct iommufd_access *access, u32 ioas_id, int how);
int iommufd_rs_kapi_access_pin(struct iommufd_access *access, u64 iova, u64 length,
			       struct page **out_pages, u32 flags);
void iommufd_rs_kapi_access_unpin(struct iommufd_access *access, u64 iova, u64 length);
int iommufd_rs_kapi_access_rw(struct iommufd_access *access, u64 iova, void *data,
			      size_t len, u32 flags);

#endif
