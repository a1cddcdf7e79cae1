// SPDX-License-Identifier: GPL-2.0
/*
 * iommufd_rs_access_client: a test driver of the iommufd in-kernel access
 * API (iommufd_access_*), the one emulated devices and mdev drivers use.
 * It has no device: each open file of /dev/iommufd_rs_access_client holds
 * at most one access, which the ioctls of iommufd_rs_access_client.h
 * create, attach, pin through, copy through and destroy, so that the
 * selftest iommufd_rs_access can drive the API from userspace against
 * iommufd_rs.ko and the C iommufd.ko alike (both export it).
 *
 * The driver keeps a list of the ranges it pinned. Its unmap callback
 * counts the calls and unpins every pinned range the unmapped one touches,
 * unless told to refuse a number of calls first, as a slow driver would.
 */
#include <linux/fs.h>
#include <linux/highmem.h>
#include <linux/iommufd.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/overflow.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "iommufd_rs_access_client.h"

struct client_pin {
	struct list_head node;
	unsigned long iova;
	unsigned long length;
};

struct client {
	/* Serializes the ioctls; the unmap callback never takes it. */
	struct mutex op_lock;
	/* Protects pins and status; held by the callback while it unpins. */
	struct mutex lock;
	struct iommufd_access *access;
	struct list_head pins;
	struct access_client_status status;
};

static bool range_touches(struct client_pin *p, unsigned long iova, unsigned long last)
{
	return p->iova <= last && iova <= p->iova + p->length - 1;
}

static void client_unmap(void *data, unsigned long iova, unsigned long length)
{
	struct client *c = data;
	struct client_pin *p, *tmp;
	unsigned long last;

	if (!length || check_add_overflow(iova, length - 1, &last))
		last = ULONG_MAX;
	mutex_lock(&c->lock);
	c->status.unmaps++;
	c->status.last_iova = iova;
	c->status.last_length = length;
	if (c->status.refuse) {
		c->status.refuse--;
		mutex_unlock(&c->lock);
		return;
	}
	list_for_each_entry_safe(p, tmp, &c->pins, node) {
		if (!range_touches(p, iova, last))
			continue;
		iommufd_access_unpin_pages(c->access, p->iova, p->length);
		list_del(&p->node);
		kfree(p);
		c->status.pinned--;
	}
	mutex_unlock(&c->lock);
}

static const struct iommufd_access_ops client_pin_ops = {
	.needs_pin_pages = 1,
	.unmap = client_unmap,
};

static const struct iommufd_access_ops client_rw_ops = {
	.unmap = client_unmap,
};

/* Forgets pins left after a detach or destroy: the access has let them go. */
static void client_forget_pins(struct client *c)
{
	struct client_pin *p, *tmp;

	mutex_lock(&c->lock);
	list_for_each_entry_safe(p, tmp, &c->pins, node) {
		list_del(&p->node);
		kfree(p);
	}
	c->status.pinned = 0;
	mutex_unlock(&c->lock);
}

static int client_create(struct client *c, struct access_client_cmd *cmd)
{
	const struct iommufd_access_ops *ops;
	struct iommufd_access *access;
	struct iommufd_ctx *ictx;
	u32 id;

	if (c->access)
		return -EBUSY;
	if (cmd->flags & ~ACCESS_CLIENT_NEEDS_PIN)
		return -EOPNOTSUPP;
	ops = cmd->flags & ACCESS_CLIENT_NEEDS_PIN ? &client_pin_ops : &client_rw_ops;
	ictx = iommufd_ctx_from_fd(cmd->iommufd);
	if (IS_ERR(ictx))
		return PTR_ERR(ictx);
	access = iommufd_access_create(ictx, ops, c, &id);
	/* The access holds a reference of its own. */
	iommufd_ctx_put(ictx);
	if (IS_ERR(access))
		return PTR_ERR(access);
	c->access = access;
	cmd->out_id = id;
	return 0;
}

static void client_destroy(struct client *c)
{
	iommufd_access_destroy(c->access);
	c->access = NULL;
	client_forget_pins(c);
}

/* Copies between the pinned pages and userspace's uptr. */
static int client_copy_pages(struct page **pages, struct access_client_cmd *cmd)
{
	void __user *uptr = u64_to_user_ptr(cmd->uptr);
	size_t off = offset_in_page(cmd->iova);
	unsigned long done = 0, i;
	int rc = 0;

	for (i = 0; done < cmd->length; i++) {
		size_t n = min_t(u64, PAGE_SIZE - off, cmd->length - done);
		void *va = kmap_local_page(pages[i]);

		if (cmd->flags & ACCESS_CLIENT_PIN_FILL)
			rc = copy_from_user(va + off, uptr + done, n) ? -EFAULT : 0;
		else
			rc = copy_to_user(uptr + done, va + off, n) ? -EFAULT : 0;
		kunmap_local(va);
		if (rc)
			return rc;
		done += n;
		off = 0;
	}
	return 0;
}

static int client_pin(struct client *c, struct access_client_cmd *cmd)
{
	unsigned long npages;
	struct client_pin *p;
	struct page **pages;
	int rc;

	if (cmd->length > ACCESS_CLIENT_MAX_LEN)
		return -E2BIG;
	npages = DIV_ROUND_UP(offset_in_page(cmd->iova) + cmd->length, PAGE_SIZE);
	pages = kvcalloc(max(npages, 1UL), sizeof(*pages), GFP_KERNEL);
	p = kzalloc_obj(*p);
	if (!pages || !p) {
		rc = -ENOMEM;
		goto out;
	}
	/*
	 * The pin is listed under the lock the unmap callback takes, in one
	 * step with taking it: a callback that ran in between would not see
	 * the pin, and the unmap would ask again and again, and give up.
	 */
	mutex_lock(&c->lock);
	rc = iommufd_access_pin_pages(c->access, cmd->iova, cmd->length, pages,
				      cmd->flags & IOMMUFD_ACCESS_RW_WRITE);
	if (rc)
		goto out_unlock;
	if (cmd->uptr) {
		rc = client_copy_pages(pages, cmd);
		if (rc) {
			iommufd_access_unpin_pages(c->access, cmd->iova, cmd->length);
			goto out_unlock;
		}
	}
	p->iova = cmd->iova;
	p->length = cmd->length;
	list_add_tail(&p->node, &c->pins);
	c->status.pinned++;
	p = NULL;
out_unlock:
	mutex_unlock(&c->lock);
out:
	kfree(p);
	kvfree(pages);
	return rc;
}

static int client_unpin(struct client *c, struct access_client_cmd *cmd)
{
	struct client_pin *p;
	int rc = -ENOENT;

	mutex_lock(&c->lock);
	list_for_each_entry(p, &c->pins, node) {
		if (p->iova != cmd->iova || p->length != cmd->length)
			continue;
		iommufd_access_unpin_pages(c->access, p->iova, p->length);
		list_del(&p->node);
		kfree(p);
		c->status.pinned--;
		rc = 0;
		break;
	}
	mutex_unlock(&c->lock);
	return rc;
}

static int client_rw(struct client *c, struct access_client_cmd *cmd)
{
	void __user *uptr = u64_to_user_ptr(cmd->uptr);
	bool write = cmd->flags & IOMMUFD_ACCESS_RW_WRITE;
	void *buf;
	int rc;

	if (cmd->length > ACCESS_CLIENT_MAX_LEN)
		return -E2BIG;
	buf = kvzalloc(max_t(u64, cmd->length, 1), GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	rc = 0;
	if (write && copy_from_user(buf, uptr, cmd->length))
		rc = -EFAULT;
	if (!rc)
		rc = iommufd_access_rw(c->access, cmd->iova, buf, cmd->length, cmd->flags);
	if (!rc && !write && copy_to_user(uptr, buf, cmd->length))
		rc = -EFAULT;
	kvfree(buf);
	return rc;
}

static long client_ioctl_locked(struct client *c, unsigned int op, void __user *arg)
{
	struct access_client_status status;
	struct access_client_cmd cmd;
	u32 refuse;
	int rc;

	switch (op) {
	case ACCESS_CLIENT_STATUS:
		mutex_lock(&c->lock);
		status = c->status;
		mutex_unlock(&c->lock);
		return copy_to_user(arg, &status, sizeof(status)) ? -EFAULT : 0;
	case ACCESS_CLIENT_SET_REFUSE:
		if (copy_from_user(&refuse, arg, sizeof(refuse)))
			return -EFAULT;
		mutex_lock(&c->lock);
		c->status.refuse = refuse;
		mutex_unlock(&c->lock);
		return 0;
	case ACCESS_CLIENT_DESTROY:
		if (!c->access)
			return -ENOENT;
		client_destroy(c);
		return 0;
	case ACCESS_CLIENT_DETACH:
		/* Detaching a detached access is a driver bug, which warns. */
		if (!c->access)
			return -ENOENT;
		iommufd_access_detach(c->access);
		client_forget_pins(c);
		return 0;
	}

	if (_IOC_SIZE(op) != sizeof(cmd) || copy_from_user(&cmd, arg, sizeof(cmd)))
		return -EFAULT;
	if (op == ACCESS_CLIENT_CREATE) {
		rc = client_create(c, &cmd);
		if (!rc && copy_to_user(arg, &cmd, sizeof(cmd)))
			rc = -EFAULT;
		return rc;
	}
	if (!c->access)
		return -ENOENT;
	switch (op) {
	case ACCESS_CLIENT_ATTACH:
		return iommufd_access_attach(c->access, cmd.ioas_id);
	case ACCESS_CLIENT_REPLACE:
		return iommufd_access_replace(c->access, cmd.ioas_id);
	case ACCESS_CLIENT_PIN:
		return client_pin(c, &cmd);
	case ACCESS_CLIENT_UNPIN:
		return client_unpin(c, &cmd);
	case ACCESS_CLIENT_RW:
		return client_rw(c, &cmd);
	}
	return -ENOTTY;
}

static long client_ioctl(struct file *file, unsigned int op, unsigned long arg)
{
	struct client *c = file->private_data;
	long rc;

	mutex_lock(&c->op_lock);
	rc = client_ioctl_locked(c, op, (void __user *)arg);
	mutex_unlock(&c->op_lock);
	return rc;
}

static int client_open(struct inode *inode, struct file *file)
{
	struct client *c = kzalloc_obj(*c);

	if (!c)
		return -ENOMEM;
	mutex_init(&c->op_lock);
	mutex_init(&c->lock);
	INIT_LIST_HEAD(&c->pins);
	file->private_data = c;
	return 0;
}

static int client_release(struct inode *inode, struct file *file)
{
	struct client *c = file->private_data;

	if (c->access)
		client_destroy(c);
	mutex_destroy(&c->lock);
	mutex_destroy(&c->op_lock);
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
	.name = "iommufd_rs_access_client",
	.fops = &client_fops,
};

module_misc_device(client_misc);

MODULE_DESCRIPTION("Test driver of the iommufd in-kernel access API");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS("IOMMUFD");
