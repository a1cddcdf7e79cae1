// SPDX-License-Identifier: GPL-2.0
/*
 * The IOMMU core as iommufd_rs's Rust core sees it: devices, domains, attach
 * handles and the page fault queue. See rust/iommu.rs for the safe side.
 *
 * It is C because the core's attach API takes caller-embedded
 * struct iommu_attach_handle, IOPF groups are C lists handed between the
 * core and us, domain ops are reached through inline helpers, and a fault
 * queue is a file with its own file_operations; none of this is bound in
 * Rust for Linux. Every function here is a thin step; the decisions (which
 * domain may go where, what is attached, what errno userspace sees) are made
 * in Rust.
 */
#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/iommu.h>
#include <linux/iova_bitmap.h>
#include <linux/kref.h>
#include <linux/pci.h>
#include <linux/pci-ats.h>
#include <linux/poll.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/xarray.h>
#include <uapi/linux/iommufd.h>

#include "iommu-priv.h"
#include "iommufd_rs_glue.h"

MODULE_IMPORT_NS("IOMMUFD_INTERNAL");
/* iova_bitmap_*(), which the IOMMU drivers' dirty tracking writes through. */
MODULE_IMPORT_NS("IOMMUFD");

/* Devices */

/* C: dev_iommu_ops() is inline. */
void *iommufd_rs_dev_hw_info(struct device *dev, u32 *type, u32 *len)
{
	const struct iommu_ops *ops = dev_iommu_ops(dev);
	enum iommu_hw_info_type t = *type;
	void *data;

	if (!ops->hw_info) {
		*type = IOMMU_HW_INFO_TYPE_NONE;
		*len = 0;
		return NULL;
	}
	data = ops->hw_info(dev, len, &t);
	if (!IS_ERR(data))
		*type = t;
	return data;
}

/* C: dev_is_pci() and to_pci_dev() are inline. */
u64 iommufd_rs_dev_caps(struct device *dev)
{
	u64 caps = 0;

	if (device_iommu_capable(dev, IOMMU_CAP_DIRTY_TRACKING))
		caps |= IOMMU_HW_CAP_DIRTY_TRACKING;
	if (!device_iommu_capable(dev, IOMMU_CAP_PCI_ATS_SUPPORTED))
		caps |= IOMMU_HW_CAP_PCI_ATS_NOT_SUPPORTED;
	if (dev->iommu && dev->iommu->max_pasids && dev_is_pci(dev)) {
		int ctrl = pci_pasid_status(to_pci_dev(dev));

		if (ctrl >= 0 && (ctrl & PCI_PASID_CTRL_EXEC))
			caps |= IOMMU_HW_CAP_PCI_PASID_EXEC;
		if (ctrl >= 0 && (ctrl & PCI_PASID_CTRL_PRIV))
			caps |= IOMMU_HW_CAP_PCI_PASID_PRIV;
	}
	return caps;
}

/* Domains */

static struct iommu_domain *rs_domain_setup(struct device *dev,
					    struct iommu_domain *domain)
{
	if (IS_ERR(domain))
		return domain;
	domain->owner = dev_iommu_ops(dev);
	return domain;
}

/*
 * As upstream's iommufd_hwpt_paging_alloc(): a paging domain made for a
 * device whose IOMMU can enforce cache coherent DMA enforces it, set before
 * anything is mapped (some IOMMUs keep it per PTE). Failing is a driver bug.
 */
static struct iommu_domain *rs_enforce_cc(struct device *dev,
					  struct iommu_domain *domain)
{
	if (IS_ERR_OR_NULL(domain) ||
	    !device_iommu_capable(dev, IOMMU_CAP_ENFORCE_CACHE_COHERENCY))
		return domain;
	if (WARN_ON(!domain->ops->enforce_cache_coherency ||
		    !domain->ops->enforce_cache_coherency(domain))) {
		iommu_domain_free(domain);
		return ERR_PTR(-EINVAL);
	}
	return domain;
}

/* C: dev_iommu_ops() and u64_to_user_ptr() are inline. */
struct iommu_domain *iommufd_rs_domain_alloc_paging(struct device *dev,
						    u32 flags, u32 data_type,
						    u64 uptr, u32 len)
{
	const struct iommu_ops *ops = dev_iommu_ops(dev);
	const struct iommu_user_data data = {
		.type = data_type, .uptr = u64_to_user_ptr(uptr), .len = len,
	};

	if (!ops->domain_alloc_paging_flags) {
		if (flags || len)
			return ERR_PTR(-EOPNOTSUPP);
		return rs_enforce_cc(dev, iommu_paging_domain_alloc(dev));
	}
	return rs_enforce_cc(dev, rs_domain_setup(dev,
			ops->domain_alloc_paging_flags(dev, flags, len ? &data : NULL)));
}

/* C: a member of the device's struct iommu_ops. */
bool iommufd_rs_dev_can_nest(struct device *dev)
{
	return dev_iommu_ops(dev)->domain_alloc_nested;
}

/* C: as above. */
struct iommu_domain *iommufd_rs_domain_alloc_nested(struct device *dev,
						    struct iommu_domain *parent,
						    u32 flags, u32 data_type,
						    u64 uptr, u32 len)
{
	const struct iommu_ops *ops = dev_iommu_ops(dev);
	const struct iommu_user_data data = {
		.type = data_type, .uptr = u64_to_user_ptr(uptr), .len = len,
	};
	struct iommu_domain *domain;

	if (!ops->domain_alloc_nested)
		return ERR_PTR(-EOPNOTSUPP);
	domain = ops->domain_alloc_nested(dev, parent, flags, &data);
	if (!IS_ERR(domain) && domain->type != IOMMU_DOMAIN_NESTED) {
		iommu_domain_free(domain);
		return ERR_PTR(-EOPNOTSUPP);
	}
	return rs_domain_setup(dev, domain);
}

/* C: dev_iommu_ops() is inline. */
bool iommufd_rs_domain_owned_by(struct iommu_domain *domain,
				struct device *dev)
{
	return domain->owner == dev_iommu_ops(dev);
}

/*
 * Maps length bytes at iova from the pinned pages, starting first_offset
 * bytes into the first one: one iommu_map() per physically contiguous run,
 * or per page if small (huge pages are off for the IOAS). With contiguous,
 * the caller has checked that the pages are consecutive pfns, so that
 * they are one run without looking. On failure nothing of the call stays
 * mapped. C: page_to_pfn() is inline.
 */
int iommufd_rs_domain_map_pages(struct iommu_domain *domain, u64 iova,
				struct page **pages, unsigned long npages,
				u64 first_offset, u64 length, int prot,
				bool small, bool contiguous)
{
	u64 done = 0, off = first_offset;
	unsigned long i = 0;
	int rc;

	while (done < length) {
		unsigned long pfn, n = 1;
		u64 len;

		if (i >= npages || off >= PAGE_SIZE) {
			rc = -EINVAL;
			goto err;
		}
		pfn = page_to_pfn(pages[i]);
		if (!small && contiguous)
			n = npages - i;
		while (!small && i + n < npages &&
		       page_to_pfn(pages[i + n]) == pfn + n)
			n++;
		len = min_t(u64, n * PAGE_SIZE - off, length - done);
		rc = iommu_map(domain, iova + done, PFN_PHYS(pfn) + off, len,
			       prot, GFP_KERNEL_ACCOUNT);
		if (rc)
			goto err;
		done += len;
		i += n;
		off = 0;
	}
	return 0;

err:
	if (done)
		iommu_unmap(domain, iova, done);
	return rc;
}

/*
 * The page a domain maps at @iova, or NULL if nothing is mapped there (or
 * what is mapped has no struct page). C: pfn_valid() and pfn_to_page() are
 * inline or macros.
 */
struct page *iommufd_rs_domain_page_at(struct iommu_domain *domain, u64 iova)
{
	phys_addr_t phys = iommu_iova_to_phys(domain, iova);
	unsigned long pfn = PHYS_PFN(phys);

	if (!phys || !pfn_valid(pfn))
		return NULL;
	return pfn_to_page(pfn);
}

/*
 * pfn_valid() answers alike for every pfn of a subsection (of a section
 * without subsections, or of the whole memory map without sparsemem), and
 * costs an RCU read section each time: asking once per run is enough.
 */
#ifdef PAGES_PER_SUBSECTION
#define RS_PFN_VALID_SPAN PAGES_PER_SUBSECTION
#else
#define RS_PFN_VALID_SPAN 1UL
#endif

/*
 * Reads back the pages a domain maps for n consecutive pages: the first
 * through @iova, page k >= 1 through @next + (k - 1) * PAGE_SIZE. Stores
 * those found in order at @out and returns how many; a page with nothing
 * mapped, or no struct page behind it, is left out. One iova_to_phys() per
 * page, as for iommufd_rs_domain_page_at(), but pfn_valid() only where a
 * run of consecutive pfns starts or enters a new subsection. With
 * @contiguous, the caller knows the n pages to be consecutive pfns (it
 * checked them with iommufd_rs_pages_contiguous() when it mapped them, and
 * they have stayed pinned since): only the first is looked up.
 */
unsigned long iommufd_rs_domain_read_pages(struct iommu_domain *domain,
					   u64 iova, u64 next, unsigned long n,
					   bool contiguous, struct page **out)
{
	unsigned long k, got = 0, last_pfn = 0;
	bool valid = false;

	for (k = 0; k < n; k++) {
		u64 at = k ? next + (u64)(k - 1) * PAGE_SIZE : iova;
		phys_addr_t phys;
		unsigned long pfn;

		if (contiguous && k && valid) {
			pfn = last_pfn + 1;
		} else {
			phys = iommu_iova_to_phys(domain, at);
			pfn = PHYS_PFN(phys);
			if (!phys) {
				valid = false;
				continue;
			}
		}
		if (!valid || pfn != last_pfn + 1 ||
		    !(pfn & (RS_PFN_VALID_SPAN - 1)))
			valid = pfn_valid(pfn);
		last_pfn = pfn;
		if (valid)
			out[got++] = pfn_to_page(pfn);
	}
	return got;
}

/*
 * Passes the guest's cache invalidation requests to a nested domain's
 * driver; *entry_num comes back as the number handled. C: u64_to_user_ptr()
 * is inline.
 */
int iommufd_rs_domain_invalidate_user(struct iommu_domain *domain, u32 type,
				      u64 uptr, u32 entry_len, u32 *entry_num)
{
	struct iommu_user_data_array array = {
		.type = type,
		.uptr = u64_to_user_ptr(uptr),
		.entry_len = entry_len,
		.entry_num = *entry_num,
	};
	int rc;

	if (!domain->ops || !domain->ops->cache_invalidate_user) {
		*entry_num = 0;
		return -EOPNOTSUPP;
	}
	rc = domain->ops->cache_invalidate_user(domain, &array);
	*entry_num = array.entry_num;
	return rc;
}

/* Dirty tracking */

/*
 * Clears the dirty bits of [iova, iova + len), as enabling tracking does.
 * C: iommu_dirty_bitmap_init() and iommu_iotlb_sync() are inline.
 */
int iommufd_rs_domain_clear_dirty(struct iommu_domain *domain, u64 iova,
				  u64 len)
{
	struct iommu_iotlb_gather gather;
	struct iommu_dirty_bitmap dirty;
	int rc;

	if (!domain->dirty_ops)
		return -EOPNOTSUPP;
	iommu_dirty_bitmap_init(&dirty, NULL, &gather);
	rc = domain->dirty_ops->read_and_clear_dirty(domain, iova, len, 0,
						     &dirty);
	iommu_iotlb_sync(domain, &gather);
	return rc;
}

struct rs_dirty_arg {
	struct iommu_domain *domain;
	struct iommu_dirty_bitmap *dirty;
	unsigned long flags;
};

static int rs_dirty_chunk(struct iova_bitmap *bitmap, unsigned long iova,
			  size_t length, void *opaque)
{
	struct rs_dirty_arg *arg = opaque;

	return arg->domain->dirty_ops->read_and_clear_dirty(arg->domain, iova,
							     length, arg->flags,
							     arg->dirty);
}

/*
 * Reports the dirty pages of [iova, iova + length) into the user bitmap at
 * data, one bit per page_size, clearing them unless IOMMU_DIRTY_NO_CLEAR.
 * The caller checked the range; the bitmap's pages are pinned a chunk at a
 * time by iova_bitmap. C: the walk calls back a C function.
 */
int iommufd_rs_domain_read_dirty(struct iommu_domain *domain, u64 iova,
				 u64 length, u64 page_size, u64 data,
				 u32 flags)
{
	struct iommu_iotlb_gather gather;
	struct iommu_dirty_bitmap dirty;
	struct rs_dirty_arg arg = {
		.domain = domain, .dirty = &dirty, .flags = flags,
	};
	struct iova_bitmap *iter;

	if (!domain->dirty_ops || !domain->dirty_ops->read_and_clear_dirty)
		return -EOPNOTSUPP;
	iter = iova_bitmap_alloc(iova, length, page_size, u64_to_user_ptr(data));
	if (IS_ERR(iter))
		return -ENOMEM;
	iommu_dirty_bitmap_init(&dirty, iter, &gather);
	/*
	 * As upstream, a range the table cannot walk (a hole, or beyond its
	 * width) simply reports nothing dirty: the walk's result is not an
	 * error for userspace.
	 */
	iova_bitmap_for_each(iter, &arg, rs_dirty_chunk);
	if (!(flags & IOMMU_DIRTY_NO_CLEAR))
		iommu_iotlb_sync(domain, &gather);
	iova_bitmap_free(iter);
	return 0;
}

/* Page fault queues */

struct iommufd_rs_fault {
	struct kref ref;
	struct mutex mutex;	/* serialises read, write and auto-response */
	spinlock_t lock;	/* protects deliver */
	struct list_head deliver;
	struct xarray response;	/* cookie -> group read by userspace */
	wait_queue_head_t wait;
	/*
	 * What the file holds while it is open (a user of the fault object
	 * and the iommufd file, as upstream's eventq file), from Rust; set
	 * before the file is installed, dropped by its release.
	 */
	void *file_hold;
};

/* One attachment of a domain to a device or device PASID. */
struct iommufd_rs_handle {
	struct iommu_attach_handle handle;
	u32 dev_id;
	struct iommufd_rs_fault *fault;
};

static void rs_fault_release(struct kref *ref)
{
	struct iommufd_rs_fault *fault =
		container_of(ref, struct iommufd_rs_fault, ref);
	struct iopf_group *group, *next;
	unsigned long index;

	/* Attached handles hold no reference; all are gone by now. */
	list_for_each_entry_safe(group, next, &fault->deliver, node) {
		list_del(&group->node);
		iopf_group_response(group, IOMMU_PAGE_RESP_INVALID);
		iopf_free_group(group);
	}
	xa_for_each(&fault->response, index, group) {
		xa_erase(&fault->response, index);
		iopf_group_response(group, IOMMU_PAGE_RESP_INVALID);
		iopf_free_group(group);
	}
	xa_destroy(&fault->response);
	mutex_destroy(&fault->mutex);
	kfree(fault);
}

/* C: the queue is a C structure of IOPF group lists. */
void iommufd_rs_fault_put(struct iommufd_rs_fault *fault)
{
	kref_put(&fault->ref, rs_fault_release);
}

static struct iopf_group *rs_fault_fetch(struct iommufd_rs_fault *fault)
{
	struct iopf_group *group;

	spin_lock(&fault->lock);
	group = list_first_entry_or_null(&fault->deliver, struct iopf_group,
					 node);
	if (group)
		list_del(&group->node);
	spin_unlock(&fault->lock);
	return group;
}

static void rs_fault_restore(struct iommufd_rs_fault *fault,
			     struct iopf_group *group)
{
	spin_lock(&fault->lock);
	list_add(&group->node, &fault->deliver);
	spin_unlock(&fault->lock);
}

static ssize_t rs_fault_read(struct file *filep, char __user *buf,
			     size_t count, loff_t *ppos)
{
	const size_t size = sizeof(struct iommu_hwpt_pgfault);
	struct iommufd_rs_fault *fault = filep->private_data;
	struct iopf_group *group;
	size_t done = 0;
	int rc = 0;

	if (*ppos || count % size)
		return -ESPIPE;
	mutex_lock(&fault->mutex);
	while ((group = rs_fault_fetch(fault))) {
		struct iommufd_rs_handle *h;
		size_t group_done = done;
		struct iopf_fault *iopf;

		h = container_of(group->attach_handle, struct iommufd_rs_handle,
				 handle);
		if (group->fault_count * size > count - done) {
			rs_fault_restore(fault, group);
			if (!done)
				rc = -EINVAL;
			break;
		}
		rc = xa_alloc(&fault->response, &group->cookie, group,
			      xa_limit_32b, GFP_KERNEL_ACCOUNT);
		if (rc) {
			rs_fault_restore(fault, group);
			break;
		}
		list_for_each_entry(iopf, &group->faults, list) {
			struct iommu_hwpt_pgfault msg = {
				.flags = iopf->fault.prm.flags,
				.dev_id = h->dev_id,
				.pasid = iopf->fault.prm.pasid,
				.grpid = iopf->fault.prm.grpid,
				.perm = iopf->fault.prm.perm,
				.addr = iopf->fault.prm.addr,
				.cookie = group->cookie,
			};

			if (copy_to_user(buf + group_done, &msg, size)) {
				xa_erase(&fault->response, group->cookie);
				rs_fault_restore(fault, group);
				rc = -EFAULT;
				break;
			}
			group_done += size;
		}
		if (rc)
			break;
		done = group_done;
	}
	mutex_unlock(&fault->mutex);
	return done ? done : rc;
}

static ssize_t rs_fault_write(struct file *filep, const char __user *buf,
			      size_t count, loff_t *ppos)
{
	const size_t size = sizeof(struct iommu_hwpt_page_response);
	struct iommufd_rs_fault *fault = filep->private_data;
	struct iommu_hwpt_page_response resp;
	struct iopf_group *group;
	size_t done = 0;
	int rc = 0;

	if (*ppos || count % size)
		return -ESPIPE;
	mutex_lock(&fault->mutex);
	while (done < count) {
		if (copy_from_user(&resp, buf + done, size)) {
			rc = -EFAULT;
			break;
		}
		if (resp.code != IOMMUFD_PAGE_RESP_SUCCESS &&
		    resp.code != IOMMUFD_PAGE_RESP_INVALID) {
			rc = -EINVAL;
			break;
		}
		group = xa_erase(&fault->response, resp.cookie);
		if (!group) {
			rc = -EINVAL;
			break;
		}
		iopf_group_response(group, resp.code);
		iopf_free_group(group);
		done += size;
	}
	mutex_unlock(&fault->mutex);
	return done ? done : rc;
}

static __poll_t rs_fault_poll(struct file *filep, struct poll_table_struct *pt)
{
	struct iommufd_rs_fault *fault = filep->private_data;
	__poll_t mask = EPOLLOUT;

	poll_wait(filep, &fault->wait, pt);
	spin_lock(&fault->lock);
	if (!list_empty(&fault->deliver))
		mask |= EPOLLIN | EPOLLRDNORM;
	spin_unlock(&fault->lock);
	return mask;
}

static int rs_fault_file_release(struct inode *inode, struct file *filep)
{
	struct iommufd_rs_fault *fault = filep->private_data;

	/*
	 * No read, write or poll can run any more. The hold may be the last
	 * reference on the object, and the object's on the queue: the file's
	 * own reference keeps the queue until the put below.
	 */
	if (fault->file_hold)
		iommufd_rs_fault_file_hold_release(fault->file_hold);
	iommufd_rs_fault_put(fault);
	return 0;
}

static const struct file_operations rs_fault_fops = {
	.owner = THIS_MODULE,
	.read = rs_fault_read,
	.write = rs_fault_write,
	.poll = rs_fault_poll,
	.release = rs_fault_file_release,
};

/*
 * A new fault queue in *out, with one reference for the caller and one for
 * the file returned (or an ERR_PTR), which the caller installs in an fd or
 * puts. C: the file's operations are a static file_operations.
 */
struct file *iommufd_rs_fault_alloc(struct iommufd_rs_fault **out)
{
	struct iommufd_rs_fault *fault;
	struct file *filep;

	fault = kzalloc_obj(*fault, GFP_KERNEL_ACCOUNT);
	if (!fault)
		return ERR_PTR(-ENOMEM);
	kref_init(&fault->ref);
	mutex_init(&fault->mutex);
	spin_lock_init(&fault->lock);
	INIT_LIST_HEAD(&fault->deliver);
	xa_init_flags(&fault->response, XA_FLAGS_ALLOC1 | XA_FLAGS_ACCOUNT);
	init_waitqueue_head(&fault->wait);

	filep = anon_inode_getfile("[iommufd-pgfault]", &rs_fault_fops, fault,
				   O_RDWR);
	if (IS_ERR(filep)) {
		iommufd_rs_fault_put(fault);
		return filep;
	}
	kref_get(&fault->ref);
	*out = fault;
	return filep;
}

/*
 * Gives the file of a new queue what it holds while open, which its release
 * drops; before the file is installed, once. C: the release is the file's.
 */
void iommufd_rs_fault_set_file_hold(struct iommufd_rs_fault *fault, void *hold)
{
	fault->file_hold = hold;
}

static int rs_iopf_handler(struct iopf_group *group)
{
	struct iommufd_rs_handle *h = container_of(group->attach_handle,
						   struct iommufd_rs_handle,
						   handle);
	struct iommufd_rs_fault *fault = h->fault;

	if (!fault)
		return -EINVAL;
	iopf_group_dequeue(group);
	spin_lock(&fault->lock);
	list_add_tail(&group->node, &fault->deliver);
	spin_unlock(&fault->lock);
	wake_up_interruptible(&fault->wait);
	return 0;
}

/* C: the handler is the C function above. */
void iommufd_rs_domain_set_fault_handler(struct iommu_domain *domain)
{
	domain->iopf_handler = rs_iopf_handler;
}

/* Answers, as invalid, every fault still pending through handle h. */
static void rs_fault_auto_respond(struct iommufd_rs_handle *h)
{
	struct iommufd_rs_fault *fault = h->fault;
	struct iopf_group *group, *next;
	unsigned long index;
	LIST_HEAD(gone);

	if (!fault)
		return;
	mutex_lock(&fault->mutex);
	spin_lock(&fault->lock);
	list_for_each_entry_safe(group, next, &fault->deliver, node)
		if (group->attach_handle == &h->handle)
			list_move(&group->node, &gone);
	spin_unlock(&fault->lock);
	list_for_each_entry_safe(group, next, &gone, node) {
		list_del(&group->node);
		iopf_group_response(group, IOMMU_PAGE_RESP_INVALID);
		iopf_free_group(group);
	}
	xa_for_each(&fault->response, index, group) {
		if (group->attach_handle != &h->handle)
			continue;
		xa_erase(&fault->response, index);
		iopf_group_response(group, IOMMU_PAGE_RESP_INVALID);
		iopf_free_group(group);
	}
	mutex_unlock(&fault->mutex);
}

/* Attachments */

static struct iommufd_rs_handle *rs_handle_get(struct device *dev,
					       ioasid_t pasid)
{
	struct iommu_attach_handle *h;

	h = iommu_attach_handle_get(dev->iommu_group, pasid, 0);
	if (IS_ERR(h))
		return NULL;
	return container_of(h, struct iommufd_rs_handle, handle);
}

static void rs_handle_free(struct iommufd_rs_handle *h)
{
	if (!h)
		return;
	rs_fault_auto_respond(h);
	if (h->fault)
		iommufd_rs_fault_put(h->fault);
	kfree(h);
}

static struct iommufd_rs_handle *rs_handle_alloc(u32 dev_id,
						 struct iommufd_rs_fault *fault)
{
	struct iommufd_rs_handle *h;

	h = kzalloc_obj(*h, GFP_KERNEL_ACCOUNT);
	if (!h)
		return NULL;
	h->dev_id = dev_id;
	h->fault = fault;
	if (fault)
		kref_get(&fault->ref);
	return h;
}

/*
 * Attaches domain to the device's group (pasid IOMMU_NO_PASID) or to one
 * PASID of the device. fault, if any, receives the page faults that arrive
 * through this attachment. C: the core's attach API takes handles embedded
 * in a caller's C structure (container_of).
 */
int iommufd_rs_attach(struct device *dev, u32 pasid,
		      struct iommu_domain *domain, u32 dev_id,
		      struct iommufd_rs_fault *fault)
{
	struct iommufd_rs_handle *h = rs_handle_alloc(dev_id, fault);
	int rc;

	if (!h)
		return -ENOMEM;
	if (pasid == IOMMU_NO_PASID)
		rc = iommu_attach_group_handle(domain, dev->iommu_group,
					       &h->handle);
	else
		rc = iommu_attach_device_pasid(domain, dev, pasid, &h->handle);
	if (rc)
		rs_handle_free(h);
	return rc;
}

/*
 * Moves an attachment to domain; on failure the old one stays in place.
 * C: as for attach.
 */
int iommufd_rs_replace(struct device *dev, u32 pasid,
		       struct iommu_domain *domain, u32 dev_id,
		       struct iommufd_rs_fault *fault)
{
	struct iommufd_rs_handle *old = rs_handle_get(dev, pasid);
	struct iommufd_rs_handle *h = rs_handle_alloc(dev_id, fault);
	int rc;

	if (!h)
		return -ENOMEM;
	if (pasid == IOMMU_NO_PASID)
		rc = iommu_replace_group_handle(dev->iommu_group, domain,
						&h->handle);
	else
		rc = iommu_replace_device_pasid(domain, dev, pasid,
						&h->handle);
	if (rc) {
		rs_handle_free(h);
		return rc;
	}
	rs_handle_free(old);
	return 0;
}

/* C: as for attach. */
void iommufd_rs_detach(struct device *dev, u32 pasid,
		       struct iommu_domain *domain)
{
	struct iommufd_rs_handle *h = rs_handle_get(dev, pasid);

	if (pasid == IOMMU_NO_PASID)
		iommu_detach_group_handle(domain, dev->iommu_group);
	else
		iommu_detach_device_pasid(domain, dev, pasid);
	rs_handle_free(h);
}

/*
 * The domain the IOMMU core has on the device's PASID, or NULL.
 * C: as for attach.
 */
struct iommu_domain *iommufd_rs_attached_domain(struct device *dev, u32 pasid)
{
	struct iommufd_rs_handle *h = rs_handle_get(dev, pasid);

	return h ? h->handle.domain : NULL;
}

/*
 * C: the regions come as a list of kernel structs. The reserved regions of
 * dev's IOMMU group (upstream's iopt_table_enforce_dev_resv_regions, for
 * the whole group), which the IOAS of a paging domain on the group's RID
 * must leave unmapped: up to max of them as [start, last] pairs in out, and
 * how many there are, or -EINVAL for a driver's bad combination of MSI
 * regions. Directly mapped regions that may be relaxed are not reserved.
 * Without CONFIG_IRQ_MSI_IOMMU (x86), the software MSI region is only a hole,
 * as upstream: there is no MSI cookie to set up.
 */
int iommufd_rs_group_resv_regions(struct device *dev, u64 *out, unsigned int max)
{
	struct iommu_resv_region *resv, *next;
	unsigned int n = 0, sw_msi = 0, hw_msi = 0;
	LIST_HEAD(regions);
	int rc;

	rc = iommu_get_group_resv_regions(dev->iommu_group, &regions);
	list_for_each_entry(resv, &regions, list) {
		if (resv->type == IOMMU_RESV_DIRECT_RELAXABLE || !resv->length)
			continue;
		if (resv->type == IOMMU_RESV_MSI)
			hw_msi++;
		if (resv->type == IOMMU_RESV_SW_MSI)
			sw_msi++;
		if (n < max) {
			out[2 * n] = resv->start;
			out[2 * n + 1] = resv->start + (resv->length - 1);
		}
		n++;
	}
	list_for_each_entry_safe(resv, next, &regions, list)
		kfree(resv);
	if (rc)
		return rc;
	if (WARN_ON(sw_msi && hw_msi) || WARN_ON(sw_msi > 1))
		return -EINVAL;
	return min_t(unsigned int, n, INT_MAX);
}
