// SPDX-License-Identifier: GPL-2.0
/*
 * The iommufd in-kernel API that vfio.ko imports, with upstream's signatures
 * and namespaces (include/linux/iommufd.h), so that the kernel's own vfio,
 * vfio-pci-core and vfio-pci run over iommufd_rs.ko.
 *
 * This file only marshals: the compiler checks each prototype against
 * <linux/iommufd.h>, Rust (rust/kapi.rs) decides and returns an errno with
 * out-parameters, and the ERR_PTR()s are built here. It also keeps the two
 * things that are C by nature: the module parameter next to the interrupt
 * isolation check it controls, and the f_op comparison that recognises our
 * /dev/iommu files.
 *
 * A struct iommufd_ctx * handed out here is the struct file * of the
 * /dev/iommu file: one pointer per file, as vfio compares them, and its
 * reference is a file reference, as upstream's.
 */
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/iommu.h>
#include <linux/iommufd.h>
#include <linux/module.h>

#include <linux/iommufd_rs.h>
#include "iommufd_rs_kapi.h"

static bool allow_unsafe_interrupts;
module_param(allow_unsafe_interrupts, bool, 0644);
MODULE_PARM_DESC(allow_unsafe_interrupts,
		 "Allow IOMMUFD to bind to devices even if the platform cannot isolate the MSI interrupt window. Enabling this is a security weakness.");

/* The file operations of /dev/iommu files, set while the device is registered. */
static const struct file_operations *iommufd_rs_fops;

void iommufd_rs_kapi_set_fops(const struct file_operations *fops)
{
	WRITE_ONCE(iommufd_rs_fops, fops);
}

/*
 * Called by Rust at bind, once the device is known to have a group and
 * coherent DMA (else Rust answers EINVAL or ENODEV first, as upstream orders
 * its checks): EPERM if the group's MSIs cannot be isolated, unless the
 * module parameter allows it (device.c of upstream's iommufd).
 */
int iommufd_rs_kapi_check_msi(struct device *dev)
{
	if (!device_iommu_capable(dev, IOMMU_CAP_CACHE_COHERENCY) || !dev->iommu_group)
		return 0;
	if (iommu_group_has_isolated_msi(dev->iommu_group))
		return 0;
	if (!allow_unsafe_interrupts) {
		dev_warn(dev,
			 "MSI interrupts are not secure, they cannot be isolated by the platform. Check that platform features like interrupt remapping are enabled. Use the \"allow_unsafe_interrupts\" module parameter to override\n");
		return -EPERM;
	}
	dev_warn(dev,
		 "MSI interrupt window cannot be isolated by the platform, this is a security weakness\n");
	return 0;
}

static struct file *ctx_file(struct iommufd_ctx *ictx)
{
	return (struct file *)ictx;
}

/* The Rust context (the Ictx) behind one of our files, which the caller holds. */
static void *ctx_data(struct iommufd_ctx *ictx)
{
	return ctx_file(ictx)->private_data;
}

static bool is_ours(struct file *file)
{
	const struct file_operations *fops = READ_ONCE(iommufd_rs_fops);

	return fops && file->f_op == fops;
}

/* The Rust context behind file if it is one of our files, else NULL. */
void *iommufd_rs_kapi_ictx_of(struct file *file)
{
	return is_ours(file) ? file->private_data : NULL;
}

struct iommufd_ctx *iommufd_ctx_from_file(struct file *file)
{
	if (!is_ours(file))
		return ERR_PTR(-EBADFD);
	get_file(file);
	return (struct iommufd_ctx *)file;
}
EXPORT_SYMBOL_NS_GPL(iommufd_ctx_from_file, "IOMMUFD");

struct iommufd_ctx *iommufd_ctx_from_fd(int fd)
{
	struct file *file = fget(fd);

	if (!file)
		return ERR_PTR(-EBADF);
	if (!is_ours(file)) {
		fput(file);
		return ERR_PTR(-EBADFD);
	}
	/* The fget reference is the context's. */
	return (struct iommufd_ctx *)file;
}
EXPORT_SYMBOL_NS_GPL(iommufd_ctx_from_fd, "IOMMUFD");

void iommufd_ctx_get(struct iommufd_ctx *ictx)
{
	get_file(ctx_file(ictx));
}
EXPORT_SYMBOL_NS_GPL(iommufd_ctx_get, "IOMMUFD");

void iommufd_ctx_put(struct iommufd_ctx *ictx)
{
	fput(ctx_file(ictx));
}
EXPORT_SYMBOL_NS_GPL(iommufd_ctx_put, "IOMMUFD");

bool iommufd_ctx_has_group(struct iommufd_ctx *ictx, struct iommu_group *group)
{
	if (!ictx || !group)
		return false;
	return iommufd_rs_kapi_has_group(ctx_data(ictx), group);
}
EXPORT_SYMBOL_NS_GPL(iommufd_ctx_has_group, "IOMMUFD");

struct iommufd_device *iommufd_device_bind(struct iommufd_ctx *ictx,
					   struct device *dev, u32 *id)
{
	struct iommufd_device *idev;
	int rc;

	rc = iommufd_rs_kapi_device_bind(ctx_file(ictx), ctx_data(ictx), dev, id, &idev);
	return rc ? ERR_PTR(rc) : idev;
}
EXPORT_SYMBOL_NS_GPL(iommufd_device_bind, "IOMMUFD");

void iommufd_device_unbind(struct iommufd_device *idev)
{
	iommufd_rs_kapi_device_unbind(idev);
}
EXPORT_SYMBOL_NS_GPL(iommufd_device_unbind, "IOMMUFD");

int iommufd_device_attach(struct iommufd_device *idev, ioasid_t pasid, u32 *pt_id)
{
	return iommufd_rs_kapi_device_change(idev, pasid, pt_id, false);
}
EXPORT_SYMBOL_NS_GPL(iommufd_device_attach, "IOMMUFD");

int iommufd_device_replace(struct iommufd_device *idev, ioasid_t pasid, u32 *pt_id)
{
	return iommufd_rs_kapi_device_change(idev, pasid, pt_id, true);
}
EXPORT_SYMBOL_NS_GPL(iommufd_device_replace, "IOMMUFD");

void iommufd_device_detach(struct iommufd_device *idev, ioasid_t pasid)
{
	iommufd_rs_kapi_device_detach(idev, pasid);
}
EXPORT_SYMBOL_NS_GPL(iommufd_device_detach, "IOMMUFD");

/* The extension of include/linux/iommufd_rs.h: PASID virtualization. */
int iommufd_rs_device_attach_vpasid(struct iommufd_device *idev, u32 vpasid,
				    u32 *pt_id, u32 *ppasid)
{
	return iommufd_rs_kapi_device_vpasid_change(idev, vpasid, pt_id, ppasid, false);
}
EXPORT_SYMBOL_NS_GPL(iommufd_rs_device_attach_vpasid, "IOMMUFD");

int iommufd_rs_device_replace_vpasid(struct iommufd_device *idev, u32 vpasid,
				     u32 *pt_id, u32 *ppasid)
{
	return iommufd_rs_kapi_device_vpasid_change(idev, vpasid, pt_id, ppasid, true);
}
EXPORT_SYMBOL_NS_GPL(iommufd_rs_device_replace_vpasid, "IOMMUFD");

void iommufd_rs_device_detach_vpasid(struct iommufd_device *idev, u32 vpasid)
{
	iommufd_rs_kapi_device_vpasid_detach(idev, vpasid);
}
EXPORT_SYMBOL_NS_GPL(iommufd_rs_device_detach_vpasid, "IOMMUFD");

int iommufd_rs_device_vpasid_to_ppasid(struct iommufd_device *idev, u32 vpasid,
				       u32 *ppasid)
{
	return iommufd_rs_kapi_device_vpasid_lookup(idev, vpasid, ppasid);
}
EXPORT_SYMBOL_NS_GPL(iommufd_rs_device_vpasid_to_ppasid, "IOMMUFD");

struct iommufd_ctx *iommufd_device_to_ictx(struct iommufd_device *idev)
{
	return (struct iommufd_ctx *)iommufd_rs_kapi_device_ctx(idev);
}
EXPORT_SYMBOL_NS_GPL(iommufd_device_to_ictx, "IOMMUFD");

u32 iommufd_device_to_id(struct iommufd_device *idev)
{
	return iommufd_rs_kapi_device_id(idev);
}
EXPORT_SYMBOL_NS_GPL(iommufd_device_to_id, "IOMMUFD");

/*
 * In-kernel accesses (emulated devices, mdev). A struct iommufd_access * is
 * Rust's handle; the driver's ops are called back through the trampoline
 * below.
 */
void iommufd_rs_kapi_access_unmap(const struct iommufd_access_ops *ops, void *data,
				  unsigned long iova, unsigned long length)
{
	if (ops->unmap)
		ops->unmap(data, iova, length);
}

struct iommufd_access *iommufd_access_create(struct iommufd_ctx *ictx,
					     const struct iommufd_access_ops *ops,
					     void *data, u32 *id)
{
	struct iommufd_access *access;
	int rc;

	rc = iommufd_rs_kapi_access_create(ctx_file(ictx), ctx_data(ictx), ops, data,
					   ops->needs_pin_pages, ops->unmap, id, &access);
	return rc ? ERR_PTR(rc) : access;
}
EXPORT_SYMBOL_NS_GPL(iommufd_access_create, "IOMMUFD");

void iommufd_access_destroy(struct iommufd_access *access)
{
	iommufd_rs_kapi_access_destroy(access);
}
EXPORT_SYMBOL_NS_GPL(iommufd_access_destroy, "IOMMUFD");

int iommufd_access_attach(struct iommufd_access *access, u32 ioas_id)
{
	return iommufd_rs_kapi_access_change(access, ioas_id, IOMMUFD_RS_ACCESS_ATTACH);
}
EXPORT_SYMBOL_NS_GPL(iommufd_access_attach, "IOMMUFD");

int iommufd_access_replace(struct iommufd_access *access, u32 ioas_id)
{
	return iommufd_rs_kapi_access_change(access, ioas_id, IOMMUFD_RS_ACCESS_REPLACE);
}
EXPORT_SYMBOL_NS_GPL(iommufd_access_replace, "IOMMUFD");

void iommufd_access_detach(struct iommufd_access *access)
{
	iommufd_rs_kapi_access_change(access, 0, IOMMUFD_RS_ACCESS_DETACH);
}
EXPORT_SYMBOL_NS_GPL(iommufd_access_detach, "IOMMUFD");

int iommufd_access_pin_pages(struct iommufd_access *access, unsigned long iova,
			     unsigned long length, struct page **out_pages,
			     unsigned int flags)
{
	return iommufd_rs_kapi_access_pin(access, iova, length, out_pages, flags);
}
EXPORT_SYMBOL_NS_GPL(iommufd_access_pin_pages, "IOMMUFD");

void iommufd_access_unpin_pages(struct iommufd_access *access,
				unsigned long iova, unsigned long length)
{
	iommufd_rs_kapi_access_unpin(access, iova, length);
}
EXPORT_SYMBOL_NS_GPL(iommufd_access_unpin_pages, "IOMMUFD");

int iommufd_access_rw(struct iommufd_access *access, unsigned long iova,
		      void *data, size_t len, unsigned int flags)
{
	return iommufd_rs_kapi_access_rw(access, iova, data, len, flags);
}
EXPORT_SYMBOL_NS_GPL(iommufd_access_rw, "IOMMUFD");

int iommufd_vfio_compat_ioas_get_id(struct iommufd_ctx *ictx, u32 *out_ioas_id)
{
	return iommufd_rs_kapi_compat_ioas_get_id(ctx_data(ictx), out_ioas_id);
}
EXPORT_SYMBOL_NS_GPL(iommufd_vfio_compat_ioas_get_id, "IOMMUFD_VFIO");

int iommufd_vfio_compat_ioas_create(struct iommufd_ctx *ictx)
{
	return iommufd_rs_kapi_compat_ioas_create(ctx_data(ictx));
}
EXPORT_SYMBOL_NS_GPL(iommufd_vfio_compat_ioas_create, "IOMMUFD_VFIO");

int iommufd_vfio_compat_set_no_iommu(struct iommufd_ctx *ictx)
{
	return iommufd_rs_kapi_compat_set_no_iommu(ctx_data(ictx));
}
EXPORT_SYMBOL_NS_GPL(iommufd_vfio_compat_set_no_iommu, "IOMMUFD_VFIO");
