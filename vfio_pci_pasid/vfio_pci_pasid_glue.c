// SPDX-License-Identifier: GPL-2.0
/*
 * The C side of vfio-pci-pasid.ko: a vfio-pci variant driver that presents
 * a virtual PASID extended capability in the VFIO config region. The
 * placement, the layout and every emulated byte come from the Rust side
 * (vpasid.rs, through ffi.rs); this file is what Rust for Linux has no
 * binding for:
 *
 * - struct vfio_pci_core_device must be embedded in the driver's device
 *   (vfio_alloc_device() is a macro over container_of), and vfio-pci-core
 *   calls back through a static struct vfio_device_ops;
 * - the pci_driver with a driver_override-only id table and its
 *   pci_error_handlers (reset_done), and the sysfs attributes of the
 *   bound device (dev_groups);
 * - string module parameters (the Rust module! macro has integers only);
 * - copy_{to,from}_user on the __user buffers vfio-pci-core hands over.
 */
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/pci-ats.h>
#include <linux/iommu.h>
#include <linux/uaccess.h>
#include <linux/vfio.h>
#include <linux/vfio_pci_core.h>

#include "vfio_pci_pasid.h"

/* "VVVV:DDDD:START-END;..." and "KEY=OFFSET;...", see iommufd-rs.rst. */
static char quirks[512];
module_param_string(quirks, quirks, sizeof(quirks), 0444);
MODULE_PARM_DESC(quirks,
		 "Hidden register ranges: VVVV:DDDD:START-END[;...] (hex, END inclusive)");
static char offsets[512];
module_param_string(offsets, offsets, sizeof(offsets), 0444);
MODULE_PARM_DESC(offsets,
		 "PASID capability offsets: VVVV:DDDD=OFF or DDDD:BB:SS.F=OFF[;...]");

struct vpasid_device {
	struct vfio_pci_core_device core;
	/* Serializes every call into the Rust state below. */
	struct mutex lock;
	void *rs;
};

static struct vpasid_device *to_vp(struct vfio_device *core_vdev)
{
	return container_of(core_vdev, struct vpasid_device, core.vdev);
}

static struct vpasid_device *dev_to_vp(struct device *dev)
{
	struct vfio_pci_core_device *core = dev_get_drvdata(dev);

	return container_of(core, struct vpasid_device, core);
}

static int vpasid_init_dev(struct vfio_device *core_vdev)
{
	struct vpasid_device *vp = to_vp(core_vdev);
	int ret;

	vp->rs = vpasid_rs_new();
	if (!vp->rs)
		return -ENOMEM;
	mutex_init(&vp->lock);
	ret = vfio_pci_core_init_dev(core_vdev);
	if (ret) {
		mutex_destroy(&vp->lock);
		vpasid_rs_free(vp->rs);
	}
	return ret;
}

static void vpasid_release_dev(struct vfio_device *core_vdev)
{
	struct vpasid_device *vp = to_vp(core_vdev);

	vpasid_rs_free(vp->rs);
	mutex_destroy(&vp->lock);
	vfio_pci_core_release_dev(core_vdev);
}

/* The Max PASID Width of the function, or of its PF for a VF. */
static u32 vpasid_dev_width(struct pci_dev *pdev)
{
	int max = pci_max_pasids(pdev);

	return max > 0 ? ilog2(max) : 0;
}

static int vpasid_open_device(struct vfio_device *core_vdev)
{
	struct vpasid_device *vp = to_vp(core_vdev);
	struct vfio_pci_core_device *core = &vp->core;
	struct pci_dev *pdev = core->pdev;
	struct pci_dev *pf = pci_physfn(pdev);
	struct dev_iommu *di = pdev->dev.iommu;
	int ret;

	ret = vfio_pci_core_enable(core);
	if (ret)
		return ret;

	/*
	 * vfio_pci_core_enable() built vconfig, the headers vfio-pci
	 * presents. A VF shares its PF's PASID setting (pci_enable_pasid()).
	 */
	mutex_lock(&vp->lock);
	ret = vpasid_rs_open(vp->rs, pdev, core->vconfig, pdev->cfg_size,
			     pci_name(pdev), quirks, offsets,
			     pf->pasid_enabled && di ? di->max_pasids : 0,
			     vpasid_dev_width(pdev), pf->pasid_features);
	mutex_unlock(&vp->lock);
	if (ret) {
		vfio_pci_core_disable(core);
		return ret;
	}
	vfio_pci_core_finish_enable(core);
	return 0;
}

static void vpasid_close_device(struct vfio_device *core_vdev)
{
	struct vpasid_device *vp = to_vp(core_vdev);

	mutex_lock(&vp->lock);
	vpasid_rs_close(vp->rs);
	mutex_unlock(&vp->lock);
	vfio_pci_core_close_device(core_vdev);
}

static bool vpasid_is_config(loff_t pos)
{
	return VFIO_PCI_OFFSET_TO_INDEX(pos) == VFIO_PCI_CONFIG_REGION_INDEX;
}

static ssize_t vpasid_read(struct vfio_device *core_vdev, char __user *buf,
			   size_t count, loff_t *ppos)
{
	struct vpasid_device *vp = to_vp(core_vdev);
	u64 pos = *ppos & VFIO_PCI_OFFSET_MASK;
	bool config = vpasid_is_config(*ppos);
	u32 i, start, len;
	u64 lo, hi;
	ssize_t ret;
	u8 tmp[8];

	ret = vfio_pci_core_read(core_vdev, buf, count, ppos);
	if (ret <= 0 || !config)
		return ret;

	mutex_lock(&vp->lock);
	for (i = 0; vpasid_rs_window(vp->rs, i, &start, &len); i++) {
		lo = max_t(u64, pos, start);
		hi = min_t(u64, pos + ret, (u64)start + len);
		if (lo >= hi || hi - lo > sizeof(tmp))
			continue;
		vpasid_rs_read(vp->rs, lo, tmp, hi - lo);
		if (copy_to_user(buf + (lo - pos), tmp, hi - lo)) {
			ret = -EFAULT;
			break;
		}
	}
	mutex_unlock(&vp->lock);
	return ret;
}

/*
 * A config write: the bytes inside the virtual capability go to the Rust
 * state and never to vfio-pci-core (whose map has raw, pass-through
 * access in the gap it sits in); the rest goes to vfio-pci-core, in up to
 * two pieces around it.
 */
static ssize_t vpasid_config_write(struct vpasid_device *vp,
				   const char __user *buf, size_t count,
				   loff_t *ppos)
{
	struct vfio_device *core_vdev = &vp->core.vdev;
	u64 pos = *ppos & VFIO_PCI_OFFSET_MASK;
	u32 start, len;
	size_t done = 0, n;
	ssize_t ret;
	bool have;
	u8 tmp[8];

	mutex_lock(&vp->lock);
	have = vpasid_rs_window(vp->rs, 0, &start, &len);
	mutex_unlock(&vp->lock);
	if (!have || pos >= (u64)start + len || pos + count <= start)
		return vfio_pci_core_write(core_vdev, buf, count, ppos);

	if (pos < start) {
		n = start - pos;
		ret = vfio_pci_core_write(core_vdev, buf, n, ppos);
		if (ret < 0)
			return ret;
		if (ret < n)
			return ret;
		done = n;
	}
	n = min_t(u64, pos + count, (u64)start + len) - (pos + done);
	if (n > sizeof(tmp))
		return done ? done : -EINVAL;
	if (copy_from_user(tmp, buf + done, n))
		return done ? done : -EFAULT;
	mutex_lock(&vp->lock);
	vpasid_rs_write(vp->rs, pos + done, tmp, n);
	mutex_unlock(&vp->lock);
	*ppos += n;
	done += n;
	if (done < count) {
		ret = vfio_pci_core_write(core_vdev, buf + done, count - done,
					  ppos);
		if (ret < 0)
			return done;
		done += ret;
	}
	return done;
}

static ssize_t vpasid_write(struct vfio_device *core_vdev,
			    const char __user *buf, size_t count, loff_t *ppos)
{
	if (!vpasid_is_config(*ppos))
		return vfio_pci_core_write(core_vdev, buf, count, ppos);
	return vpasid_config_write(to_vp(core_vdev), buf, count, ppos);
}

static const struct vfio_device_ops vpasid_ops = {
	.name = "vfio-pci-pasid",
	.init = vpasid_init_dev,
	.release = vpasid_release_dev,
	.open_device = vpasid_open_device,
	.close_device = vpasid_close_device,
	.ioctl = vfio_pci_core_ioctl,
	.get_region_info_caps = vfio_pci_ioctl_get_region_info,
	.device_feature = vfio_pci_core_ioctl_feature,
	.read = vpasid_read,
	.write = vpasid_write,
	.mmap = vfio_pci_core_mmap,
	.request = vfio_pci_core_request,
	.match = vfio_pci_core_match,
	.match_token_uuid = vfio_pci_core_match_token_uuid,
	.bind_iommufd = vfio_iommufd_physical_bind,
	.unbind_iommufd = vfio_iommufd_physical_unbind,
	.attach_ioas = vfio_iommufd_physical_attach_ioas,
	.detach_ioas = vfio_iommufd_physical_detach_ioas,
	.pasid_attach_ioas = vfio_iommufd_physical_pasid_attach_ioas,
	.pasid_detach_ioas = vfio_iommufd_physical_pasid_detach_ioas,
};

static ssize_t vpasid_show(struct device *dev, u32 attr, char *page)
{
	struct vpasid_device *vp = dev_to_vp(dev);
	ssize_t ret;

	mutex_lock(&vp->lock);
	ret = vpasid_rs_show(vp->rs, attr, page, PAGE_SIZE);
	mutex_unlock(&vp->lock);
	return ret;
}

static ssize_t vpasid_store(struct device *dev, u32 attr, const char *buf,
			    size_t count)
{
	struct vpasid_device *vp = dev_to_vp(dev);
	ssize_t ret;

	mutex_lock(&vp->lock);
	ret = vpasid_rs_store(vp->rs, attr, buf, count);
	mutex_unlock(&vp->lock);
	return ret;
}

static ssize_t vpasid_offset_show(struct device *dev,
				  struct device_attribute *attr, char *page)
{
	return vpasid_show(dev, VPASID_ATTR_OFFSET, page);
}

static ssize_t vpasid_offset_store(struct device *dev,
				   struct device_attribute *attr,
				   const char *buf, size_t count)
{
	return vpasid_store(dev, VPASID_ATTR_OFFSET, buf, count);
}
static DEVICE_ATTR_RW(vpasid_offset);

static ssize_t vpasid_fingerprint_show(struct device *dev,
				       struct device_attribute *attr,
				       char *page)
{
	return vpasid_show(dev, VPASID_ATTR_FINGERPRINT, page);
}

static ssize_t vpasid_fingerprint_store(struct device *dev,
					struct device_attribute *attr,
					const char *buf, size_t count)
{
	return vpasid_store(dev, VPASID_ATTR_FINGERPRINT, buf, count);
}
static DEVICE_ATTR_RW(vpasid_fingerprint);

static struct attribute *vpasid_attrs[] = {
	&dev_attr_vpasid_offset.attr,
	&dev_attr_vpasid_fingerprint.attr,
	NULL,
};
ATTRIBUTE_GROUPS(vpasid);

static int vpasid_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct vpasid_device *vp;
	int ret;

	vp = vfio_alloc_device(vpasid_device, core.vdev, &pdev->dev,
			       &vpasid_ops);
	if (IS_ERR(vp))
		return PTR_ERR(vp);

	dev_set_drvdata(&pdev->dev, &vp->core);
	ret = vfio_pci_core_register_device(&vp->core);
	if (ret)
		vfio_put_device(&vp->core.vdev);
	return ret;
}

static void vpasid_remove(struct pci_dev *pdev)
{
	struct vfio_pci_core_device *core = dev_get_drvdata(&pdev->dev);

	vfio_pci_core_unregister_device(core);
	vfio_put_device(&core->vdev);
}

/*
 * Every reset of the function (FLR from the config region or
 * VFIO_DEVICE_RESET, a hot reset of its bus, the resets vfio-pci-core does
 * at open and close) ends here: the virtual Control register goes back to
 * 0 as the real one would.
 */
static void vpasid_reset_done(struct pci_dev *pdev)
{
	struct vpasid_device *vp = dev_to_vp(&pdev->dev);

	mutex_lock(&vp->lock);
	vpasid_rs_reset(vp->rs);
	mutex_unlock(&vp->lock);
}

static int vpasid_sriov_configure(struct pci_dev *pdev, int nr_virtfn)
{
	return vfio_pci_core_sriov_configure(dev_get_drvdata(&pdev->dev),
					     nr_virtfn);
}

static const struct pci_error_handlers vpasid_err_handlers = {
	.reset_done = vpasid_reset_done,
	.error_detected = vfio_pci_core_aer_err_detected,
};

/* No device matches unless driver_override names this driver. */
static const struct pci_device_id vpasid_table[] = {
	{ PCI_DRIVER_OVERRIDE_DEVICE_VFIO(PCI_ANY_ID, PCI_ANY_ID) },
	{}
};
MODULE_DEVICE_TABLE(pci, vpasid_table);

static struct pci_driver vpasid_driver = {
	.name = "vfio-pci-pasid",
	.id_table = vpasid_table,
	.probe = vpasid_probe,
	.remove = vpasid_remove,
	.sriov_configure = vpasid_sriov_configure,
	.err_handler = &vpasid_err_handlers,
	.driver_managed_dma = true,
	.dev_groups = vpasid_groups,
};

int vpasid_glue_register(void)
{
	if (!vpasid_rs_tables_valid(quirks, offsets)) {
		pr_err("vfio-pci-pasid: a quirks or offsets entry does not parse\n");
		return -EINVAL;
	}
	return pci_register_driver(&vpasid_driver);
}

void vpasid_glue_unregister(void)
{
	pci_unregister_driver(&vpasid_driver);
}
