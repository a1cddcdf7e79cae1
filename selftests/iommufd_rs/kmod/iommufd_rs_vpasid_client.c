// SPDX-License-Identifier: GPL-2.0
/*
 * iommufd_rs_vpasid_client: a test driver of iommufd_rs.ko's PASID
 * virtualization in-kernel API (include/linux/iommufd_rs.h), the one a vfio
 * variant driver or an mdev parent would use to attach by vPASID and to
 * translate the PASIDs it finds in device registers. Nothing in the tree
 * calls that API otherwise.
 *
 * Each open file of /dev/iommufd_rs_vpasid_client binds at most one PCI
 * function to an iommufd with iommufd_device_bind(), as vfio does for a
 * device file, and reports its device id so that userspace can allocate
 * HWPTs for it on that iommufd. The function must have no driver: the
 * bind claims its DMA ownership. The ioctls of iommufd_rs_vpasid_client.h
 * then call the API and return its answers; closing the file unbinds.
 *
 * The four functions are iommufd_rs.ko's alone: against the C iommufd.ko
 * this module does not load.
 */
#include <linux/fs.h>
#include <linux/iommu.h>
#include <linux/iommufd.h>
#include <linux/iommufd_rs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "iommufd_rs_vpasid_client.h"

struct client {
	/* Serializes the ioctls, and protects what follows. */
	struct mutex lock;
	struct pci_dev *pdev;
	struct iommufd_device *idev;
	/* As vfio, the RID is detached before unbind, and only if attached. */
	bool rid_attached;
};

static int client_bind(struct client *c, struct vpasid_client_cmd *cmd)
{
	unsigned int domain, bus, slot, fn;
	struct iommufd_device *idev;
	struct iommufd_ctx *ictx;
	struct pci_dev *pdev;
	u32 id;

	if (c->idev)
		return -EBUSY;
	cmd->bdf[sizeof(cmd->bdf) - 1] = 0;
	if (sscanf(cmd->bdf, "%x:%x:%x.%x", &domain, &bus, &slot, &fn) != 4 ||
	    bus > 0xff || slot > 0x1f || fn > 7)
		return -EINVAL;
	pdev = pci_get_domain_bus_and_slot(domain, bus, PCI_DEVFN(slot, fn));
	if (!pdev)
		return -ENODEV;
	ictx = iommufd_ctx_from_fd(cmd->iommufd);
	if (IS_ERR(ictx)) {
		pci_dev_put(pdev);
		return PTR_ERR(ictx);
	}
	idev = iommufd_device_bind(ictx, &pdev->dev, &id);
	/* The device holds a reference of its own. */
	iommufd_ctx_put(ictx);
	if (IS_ERR(idev)) {
		pci_dev_put(pdev);
		return PTR_ERR(idev);
	}
	c->pdev = pdev;
	c->idev = idev;
	cmd->out_dev_id = id;
	return 0;
}

static void client_unbind(struct client *c)
{
	/*
	 * The driver detaches the RID; the vPASIDs it leaves attached are
	 * iommufd_rs's to drop at unbind, which is what the selftest checks.
	 */
	if (c->rid_attached)
		iommufd_device_detach(c->idev, IOMMU_NO_PASID);
	c->rid_attached = false;
	iommufd_device_unbind(c->idev);
	c->idev = NULL;
	pci_dev_put(c->pdev);
	c->pdev = NULL;
}

static long client_ioctl_locked(struct client *c, unsigned int op, void __user *arg)
{
	struct vpasid_client_cmd cmd;
	int rc;

	switch (op) {
	case VPASID_CLIENT_UNBIND:
		if (!c->idev)
			return -ENOENT;
		client_unbind(c);
		return 0;
	case VPASID_CLIENT_DETACH_RID:
		if (!c->idev || !c->rid_attached)
			return -ENOENT;
		iommufd_device_detach(c->idev, IOMMU_NO_PASID);
		c->rid_attached = false;
		return 0;
	}

	if (_IOC_SIZE(op) != sizeof(cmd) || copy_from_user(&cmd, arg, sizeof(cmd)))
		return -EFAULT;
	if (cmd.__reserved)
		return -EOPNOTSUPP;
	if (op == VPASID_CLIENT_BIND) {
		rc = client_bind(c, &cmd);
		goto out;
	}
	if (!c->idev)
		return -ENOENT;
	switch (op) {
	case VPASID_CLIENT_ATTACH:
		rc = iommufd_rs_device_attach_vpasid(c->idev, cmd.vpasid, &cmd.pt_id,
						     &cmd.out_ppasid);
		break;
	case VPASID_CLIENT_REPLACE:
		rc = iommufd_rs_device_replace_vpasid(c->idev, cmd.vpasid, &cmd.pt_id,
						      &cmd.out_ppasid);
		break;
	case VPASID_CLIENT_DETACH:
		iommufd_rs_device_detach_vpasid(c->idev, cmd.vpasid);
		return 0;
	case VPASID_CLIENT_TO_PPASID:
		rc = iommufd_rs_device_vpasid_to_ppasid(c->idev, cmd.vpasid, &cmd.out_ppasid);
		break;
	case VPASID_CLIENT_ATTACH_RID:
		if (c->rid_attached)
			rc = iommufd_device_replace(c->idev, IOMMU_NO_PASID, &cmd.pt_id);
		else
			rc = iommufd_device_attach(c->idev, IOMMU_NO_PASID, &cmd.pt_id);
		if (!rc)
			c->rid_attached = true;
		return rc;
	default:
		return -ENOTTY;
	}
out:
	if (!rc && copy_to_user(arg, &cmd, sizeof(cmd)))
		rc = -EFAULT;
	return rc;
}

static long client_ioctl(struct file *file, unsigned int op, unsigned long arg)
{
	struct client *c = file->private_data;
	long rc;

	mutex_lock(&c->lock);
	rc = client_ioctl_locked(c, op, (void __user *)arg);
	mutex_unlock(&c->lock);
	return rc;
}

static int client_open(struct inode *inode, struct file *file)
{
	struct client *c = kzalloc_obj(*c);

	if (!c)
		return -ENOMEM;
	mutex_init(&c->lock);
	file->private_data = c;
	return 0;
}

static int client_release(struct inode *inode, struct file *file)
{
	struct client *c = file->private_data;

	if (c->idev)
		client_unbind(c);
	mutex_destroy(&c->lock);
	kfree(c);
	return 0;
}

static const struct file_operations client_fops = {
	.owner = THIS_MODULE,
	.open = client_open,
	.release = client_release,
	.unlocked_ioctl = client_ioctl,
};

static struct miscdevice client_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "iommufd_rs_vpasid_client",
	.fops = &client_fops,
};

module_misc_device(client_misc);

MODULE_DESCRIPTION("Test driver of iommufd_rs's PASID virtualization in-kernel API");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS("IOMMUFD");
