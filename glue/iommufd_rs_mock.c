// SPDX-License-Identifier: GPL-2.0
/*
 * The mock IOMMU of iommufd_rs: a real IOMMU driver, registered with the
 * IOMMU core for devices on a bus of its own, so that every iommufd path
 * (domains, group attach, PASID attach, page faults) runs without hardware.
 *
 * It is C because a driver is a struct iommu_ops, iommu_domain_ops and a
 * bus_type, which Rust for Linux does not bind. It holds no iommufd policy:
 * the Rust core decides what may be allocated and attached (rust/shim/ and
 * rust/device.rs), and this file only behaves as upstream's mock hardware.
 *
 * Paging domains are the IOMMU core's generic page table in its "mock" AMD v1
 * format (2 KiB pages), the same table the C iommufd's selftest uses, so a
 * map really records IOVA -> physical translations that iova_to_phys reads
 * back.
 */
#include <linux/device.h>
#include <linux/generic_pt/iommu.h>
#include <linux/idr.h>
#include <linux/iommu.h>
#include <linux/mm.h>
#include <linux/platform_device.h>
#include <linux/property.h>
#include <linux/slab.h>
#include <uapi/linux/iommufd.h>

#include "iommu-pages.h"
#include "iommu-priv.h"
#include "iommufd_test.h"
#include <uapi/linux/iommufd_rs.h>
#include "iommufd_rs_glue.h"

struct rs_mock_domain {
	union {
		struct iommu_domain domain;
		struct pt_iommu iommu;
		struct pt_iommu_amdv1 amdv1;
	};
	bool dirty_tracking;
};

PT_IOMMU_CHECK_DOMAIN(struct rs_mock_domain, iommu, domain);
PT_IOMMU_CHECK_DOMAIN(struct rs_mock_domain, amdv1.iommu, domain);

struct rs_mock_nested {
	struct iommu_domain domain;
	u32 iotlb[MOCK_NESTED_DOMAIN_IOTLB_NUM];
};

struct rs_mock_dev {
	struct device dev;
	u32 flags;
	int id;
	/* Set by the first non-blocking attach of PASID 1024; see below. */
	atomic_t pasid_1024_fail_next;
	/* A device cache that a vIOMMU would invalidate. */
	u32 cache[MOCK_DEV_CACHE_NUM];
	unsigned int iopf_users;
};

static const struct bus_type rs_mock_bus = {
	.name = "iommufd_rs_mock",
};

static struct notifier_block rs_mock_bus_nb;

static struct platform_device *rs_mock_pdev;
static struct iommu_device rs_mock_iommu;
static struct iopf_queue *rs_mock_iopfq;
static DEFINE_IDA(rs_mock_ida);
static const struct iommu_ops rs_mock_ops;
static const struct iommu_domain_ops rs_mock_nested_ops;

static struct rs_mock_dev *to_rs_mock_dev(struct device *dev)
{
	return container_of(dev, struct rs_mock_dev, dev);
}

/* A device's first domain with a fault handler adds it to the IOPF queue. */
static int rs_mock_iopf_get(struct device *dev, struct iommu_domain *domain)
{
	struct rs_mock_dev *mdev = to_rs_mock_dev(dev);
	int rc;

	if (!domain || !domain->iopf_handler)
		return 0;
	if (!rs_mock_iopfq)
		return -ENODEV;
	if (!mdev->iopf_users) {
		rc = iopf_queue_add_device(rs_mock_iopfq, dev);
		if (rc)
			return rc;
	}
	mdev->iopf_users++;
	return 0;
}

static void rs_mock_iopf_put(struct device *dev, struct iommu_domain *domain)
{
	struct rs_mock_dev *mdev = to_rs_mock_dev(dev);

	if (!domain || !domain->iopf_handler || WARN_ON(!mdev->iopf_users))
		return;
	if (!--mdev->iopf_users)
		iopf_queue_remove_device(rs_mock_iopfq, dev);
}

static int rs_mock_attach_dev(struct iommu_domain *domain, struct device *dev,
			      struct iommu_domain *old)
{
	int rc;

	if (domain->dirty_ops &&
	    (to_rs_mock_dev(dev)->flags & MOCK_FLAGS_DEVICE_NO_DIRTY))
		return -EINVAL;
	rc = rs_mock_iopf_get(dev, domain);
	if (rc)
		return rc;
	rs_mock_iopf_put(dev, old);
	return 0;
}

/*
 * PASID 1024 is upstream's fault injection point for the core's rollback:
 * the first non-blocking attach succeeds and arms a failure, the next one
 * fails with -ENOMEM and disarms it, and a blocking attach disarms it too.
 */
static int rs_mock_set_dev_pasid(struct iommu_domain *domain,
				 struct device *dev, ioasid_t pasid,
				 struct iommu_domain *old)
{
	struct rs_mock_dev *mdev = to_rs_mock_dev(dev);
	int rc;

	if (pasid == IOMMU_TEST_PASID_RESERVED) {
		bool armed = atomic_xchg(&mdev->pasid_1024_fail_next, 0);

		if (domain->type != IOMMU_DOMAIN_BLOCKED) {
			if (armed)
				return -ENOMEM;
			atomic_set(&mdev->pasid_1024_fail_next, 1);
		}
	}
	rc = rs_mock_iopf_get(dev, domain);
	if (rc)
		return rc;
	rs_mock_iopf_put(dev, old);
	return 0;
}

static const struct iommu_domain_ops rs_mock_blocked_ops = {
	.attach_dev = rs_mock_attach_dev,
	.set_dev_pasid = rs_mock_set_dev_pasid,
};

static struct iommu_domain rs_mock_blocked = {
	.type = IOMMU_DOMAIN_BLOCKED,
	.ops = &rs_mock_blocked_ops,
};

static void *rs_mock_hw_info(struct device *dev, u32 *length,
			     enum iommu_hw_info_type *type)
{
	struct iommu_test_hw_info *info;

	if (*type != IOMMU_HW_INFO_TYPE_DEFAULT &&
	    *type != IOMMU_HW_INFO_TYPE_SELFTEST)
		return ERR_PTR(-EOPNOTSUPP);
	info = kzalloc_obj(*info, GFP_KERNEL_ACCOUNT);
	if (!info)
		return ERR_PTR(-ENOMEM);
	info->test_reg = IOMMU_HW_INFO_SELFTEST_REGVAL;
	*length = sizeof(*info);
	*type = IOMMU_HW_INFO_TYPE_SELFTEST;
	return info;
}

static int rs_mock_set_dirty_tracking(struct iommu_domain *domain, bool on)
{
	if (on && !domain->dirty_ops)
		return -EINVAL;
	container_of(domain, struct rs_mock_domain, domain)->dirty_tracking = on;
	return 0;
}

static void rs_mock_domain_free(struct iommu_domain *domain)
{
	struct rs_mock_domain *mock =
		container_of(domain, struct rs_mock_domain, domain);

	pt_iommu_deinit(&mock->iommu);
	kfree(mock);
}

static void rs_mock_iotlb_sync(struct iommu_domain *domain,
			       struct iommu_iotlb_gather *gather)
{
	iommu_put_pages_list(&gather->freelist);
}

static const struct iommu_domain_ops rs_mock_paging_ops = {
	IOMMU_PT_DOMAIN_OPS(amdv1_mock),
	.free = rs_mock_domain_free,
	.attach_dev = rs_mock_attach_dev,
	.set_dev_pasid = rs_mock_set_dev_pasid,
	.iotlb_sync = rs_mock_iotlb_sync,
};

static const struct iommu_dirty_ops rs_mock_dirty_ops = {
	IOMMU_PT_DIRTY_OPS(amdv1_mock),
	.set_dirty_tracking = rs_mock_set_dirty_tracking,
};

static int rs_mock_user_cfg(const struct iommu_user_data *user_data,
			    struct iommu_hwpt_selftest *cfg)
{
	if (!user_data)
		return 0;
	if (user_data->type != IOMMU_HWPT_DATA_SELFTEST)
		return -EOPNOTSUPP;
	return iommu_copy_struct_from_user(cfg, user_data,
					   IOMMU_HWPT_DATA_SELFTEST, iotlb);
}

static struct iommu_domain *
rs_mock_alloc_paging(struct device *dev, u32 flags,
		     const struct iommu_user_data *user_data)
{
	const u32 known = IOMMU_HWPT_ALLOC_DIRTY_TRACKING |
			  IOMMU_HWPT_ALLOC_NEST_PARENT | IOMMU_HWPT_ALLOC_PASID;
	struct pt_iommu_amdv1_cfg cfg = {};
	struct iommu_hwpt_selftest user_cfg = {};
	struct rs_mock_domain *mock;
	int rc;

	if ((flags & ~known) ||
	    ((flags & IOMMU_HWPT_ALLOC_DIRTY_TRACKING) &&
	     (to_rs_mock_dev(dev)->flags & MOCK_FLAGS_DEVICE_NO_DIRTY)))
		return ERR_PTR(-EOPNOTSUPP);
	if (user_data && user_data->type == IOMMU_HWPT_DATA_NONE)
		user_data = NULL;
	rc = rs_mock_user_cfg(user_data, &user_cfg);
	if (rc)
		return ERR_PTR(rc);
	if (user_cfg.pagetable_type != MOCK_IOMMUPT_DEFAULT &&
	    user_cfg.pagetable_type != MOCK_IOMMUPT_HUGE)
		return ERR_PTR(-EOPNOTSUPP);

	mock = kzalloc_obj(*mock, GFP_KERNEL_ACCOUNT);
	if (!mock)
		return ERR_PTR(-ENOMEM);
	mock->domain.type = IOMMU_DOMAIN_UNMANAGED;
	mock->domain.ops = &rs_mock_paging_ops;
	mock->amdv1.iommu.nid = NUMA_NO_NODE;
	cfg.common.hw_max_vasz_lg2 = 56;
	cfg.common.hw_max_oasz_lg2 = 51;
	cfg.starting_level = 2;
	rc = pt_iommu_amdv1_mock_init(&mock->amdv1, &cfg, GFP_KERNEL_ACCOUNT);
	if (rc) {
		kfree(mock);
		return ERR_PTR(rc);
	}
	if (user_cfg.pagetable_type == MOCK_IOMMUPT_HUGE) {
		/* Huge only, plus PAGE_SIZE so that iommufd accepts it. */
		mock->domain.pgsize_bitmap = MOCK_HUGE_PAGE_SIZE | PAGE_SIZE;
	} else {
		mock->domain.geometry.aperture_start = MOCK_APERTURE_START;
		mock->domain.geometry.aperture_end = MOCK_APERTURE_LAST;
	}
	if (flags & IOMMU_HWPT_ALLOC_DIRTY_TRACKING)
		mock->domain.dirty_ops = &rs_mock_dirty_ops;
	return &mock->domain;
}

static struct iommu_domain *
rs_mock_alloc_nested(struct device *dev, struct iommu_domain *parent,
		     u32 flags, const struct iommu_user_data *user_data)
{
	struct iommu_hwpt_selftest cfg;
	struct rs_mock_nested *nested;
	int rc, i;

	if (flags & ~IOMMU_HWPT_ALLOC_PASID)
		return ERR_PTR(-EOPNOTSUPP);
	if (!parent || parent->ops != &rs_mock_paging_ops)
		return ERR_PTR(-EINVAL);
	if (!user_data || user_data->type != IOMMU_HWPT_DATA_SELFTEST)
		return ERR_PTR(-EOPNOTSUPP);
	rc = iommu_copy_struct_from_user(&cfg, user_data,
					 IOMMU_HWPT_DATA_SELFTEST, iotlb);
	if (rc)
		return ERR_PTR(rc);
	nested = kzalloc_obj(*nested, GFP_KERNEL_ACCOUNT);
	if (!nested)
		return ERR_PTR(-ENOMEM);
	nested->domain.type = IOMMU_DOMAIN_NESTED;
	nested->domain.ops = &rs_mock_nested_ops;
	for (i = 0; i < MOCK_NESTED_DOMAIN_IOTLB_NUM; i++)
		nested->iotlb[i] = cfg.iotlb;
	return &nested->domain;
}

static void rs_mock_nested_free(struct iommu_domain *domain)
{
	kfree(container_of(domain, struct rs_mock_nested, domain));
}

/*
 * The guest's invalidation of its stage-1 IOTLB, as upstream's mock has it:
 * one entry, or all with IOMMU_TEST_INVALIDATE_FLAG_ALL; entry_num comes
 * back as the number of requests handled.
 */
static int rs_mock_nested_invalidate(struct iommu_domain *domain,
				     struct iommu_user_data_array *array)
{
	struct rs_mock_nested *nested =
		container_of(domain, struct rs_mock_nested, domain);
	struct iommu_hwpt_invalidate_selftest inv;
	u32 done = 0;
	int rc = 0, i;

	if (array->type != IOMMU_HWPT_INVALIDATE_DATA_SELFTEST) {
		rc = -EINVAL;
		goto out;
	}
	for (; done < array->entry_num; done++) {
		rc = iommu_copy_struct_from_user_array(&inv, array,
						       IOMMU_HWPT_INVALIDATE_DATA_SELFTEST,
						       done, iotlb_id);
		if (rc)
			break;
		if (inv.flags & ~IOMMU_TEST_INVALIDATE_FLAG_ALL) {
			rc = -EOPNOTSUPP;
			break;
		}
		if (inv.iotlb_id > MOCK_NESTED_DOMAIN_IOTLB_ID_MAX) {
			rc = -EINVAL;
			break;
		}
		if (inv.flags & IOMMU_TEST_INVALIDATE_FLAG_ALL)
			for (i = 0; i < MOCK_NESTED_DOMAIN_IOTLB_NUM; i++)
				nested->iotlb[i] = 0;
		else
			nested->iotlb[inv.iotlb_id] = 0;
	}
out:
	array->entry_num = done;
	return rc;
}

static const struct iommu_domain_ops rs_mock_nested_ops = {
	.free = rs_mock_nested_free,
	.cache_invalidate_user = rs_mock_nested_invalidate,
	.attach_dev = rs_mock_attach_dev,
	.set_dev_pasid = rs_mock_set_dev_pasid,
};

static bool rs_mock_capable(struct device *dev, enum iommu_cap cap)
{
	switch (cap) {
	case IOMMU_CAP_CACHE_COHERENCY:
		return true;
	case IOMMU_CAP_DIRTY_TRACKING:
		return !(to_rs_mock_dev(dev)->flags &
			 MOCK_FLAGS_DEVICE_NO_DIRTY);
	default:
		return false;
	}
}

static struct iommu_device *rs_mock_probe_device(struct device *dev)
{
	if (dev->bus != &rs_mock_bus)
		return ERR_PTR(-ENODEV);
	return &rs_mock_iommu;
}

/*
 * A device can leave its group while the group stays attached to a domain
 * with a fault handler (a shared group whose other device stays): no detach
 * takes it off the IOPF queue then, so it leaves the queue here, before the
 * core frees its IOMMU data, which the queue would otherwise reach at exit.
 * The core calls this with the group's mutex held, as it does the attaches.
 */
static void rs_mock_release_device(struct device *dev)
{
	struct rs_mock_dev *mdev = to_rs_mock_dev(dev);

	if (mdev->iopf_users) {
		iopf_queue_remove_device(rs_mock_iopfq, dev);
		mdev->iopf_users = 0;
	}
}

static void rs_mock_page_response(struct device *dev, struct iopf_fault *evt,
				  struct iommu_page_response *msg)
{
}

/*
 * The one group of every device made with
 * IOMMU_RS_MOCK_FLAGS_DEVICE_SHARED_GROUP: devices the IOMMU cannot tell
 * apart, as DMA aliases are. Made on first use; the module's reference goes
 * at exit, after the last device.
 */
static struct iommu_group *rs_mock_shared_group;
static DEFINE_MUTEX(rs_mock_shared_group_lock);

static struct iommu_group *rs_mock_device_group(struct device *dev)
{
	struct iommu_group *group;

	if (!(to_rs_mock_dev(dev)->flags & IOMMU_RS_MOCK_FLAGS_DEVICE_SHARED_GROUP))
		return generic_device_group(dev);
	mutex_lock(&rs_mock_shared_group_lock);
	if (!rs_mock_shared_group) {
		group = iommu_group_alloc();
		if (!IS_ERR(group))
			rs_mock_shared_group = group;
	}
	group = rs_mock_shared_group ? iommu_group_ref_get(rs_mock_shared_group) :
				       ERR_PTR(-ENOMEM);
	mutex_unlock(&rs_mock_shared_group_lock);
	return group;
}

static const struct iommu_ops rs_mock_ops = {
	/* BLOCKED is zero, so def_domain_type() cannot name it. */
	.default_domain = &rs_mock_blocked,
	.blocked_domain = &rs_mock_blocked,
	.owner = THIS_MODULE,
	.hw_info = rs_mock_hw_info,
	.domain_alloc_paging_flags = rs_mock_alloc_paging,
	.domain_alloc_nested = rs_mock_alloc_nested,
	.capable = rs_mock_capable,
	.device_group = rs_mock_device_group,
	.probe_device = rs_mock_probe_device,
	.release_device = rs_mock_release_device,
	.page_response = rs_mock_page_response,
	.user_pasid_table = true,
};

static void rs_mock_dev_release(struct device *dev)
{
	struct rs_mock_dev *mdev = to_rs_mock_dev(dev);

	ida_free(&rs_mock_ida, mdev->id);
	kfree(mdev);
}

/*
 * iommu_mock_device_add() leaves dev->iommu allocated when it fails after
 * allocating it but before device_add() (an allocation failure inside
 * iommu_fwspec_init()); nothing else would free it, so free it here, as the
 * IOMMU core's dev_iommu_free() does.
 */
static void rs_mock_dev_iommu_free(struct device *dev)
{
	struct dev_iommu *param = dev->iommu;

	if (!param)
		return;
	dev->iommu = NULL;
	if (param->fwspec) {
		fwnode_handle_put(param->fwspec->iommu_fwnode);
		kfree(param->fwspec);
	}
	kfree(param);
}

struct device *iommufd_rs_mock_dev_create(u32 flags)
{
	struct property_entry prop[] = {
		PROPERTY_ENTRY_U32("pasid-num-bits", 0),
		{},
	};
	struct rs_mock_dev *mdev;
	int rc, i;

	if (flags & ~(MOCK_FLAGS_DEVICE_NO_DIRTY | MOCK_FLAGS_DEVICE_PASID |
		      IOMMU_RS_MOCK_FLAGS_DEVICE_SHARED_GROUP))
		return ERR_PTR(-EINVAL);
	mdev = kzalloc_obj(*mdev, GFP_KERNEL_ACCOUNT);
	if (!mdev)
		return ERR_PTR(-ENOMEM);
	rc = ida_alloc(&rs_mock_ida, GFP_KERNEL_ACCOUNT);
	if (rc < 0) {
		kfree(mdev);
		return ERR_PTR(rc);
	}
	mdev->id = rc;
	/* From here on the release callback frees mdev and its id. */
	device_initialize(&mdev->dev);
	mdev->flags = flags;
	for (i = 0; i < MOCK_DEV_CACHE_NUM; i++)
		mdev->cache[i] = IOMMU_TEST_DEV_CACHE_DEFAULT;
	mdev->dev.release = rs_mock_dev_release;
	mdev->dev.bus = &rs_mock_bus;
	rc = dev_set_name(&mdev->dev, "iommufd_rs_mock%u", mdev->id);
	if (rc)
		goto err_put;
	if (flags & MOCK_FLAGS_DEVICE_PASID)
		prop[0] = PROPERTY_ENTRY_U32("pasid-num-bits",
					     MOCK_PASID_WIDTH);
	rc = device_create_managed_software_node(&mdev->dev, prop, NULL);
	if (rc)
		goto err_put;
	rc = iommu_mock_device_add(&mdev->dev, &rs_mock_iommu);
	if (rc) {
		rs_mock_dev_iommu_free(&mdev->dev);
		goto err_put;
	}
	return &mdev->dev;

err_put:
	put_device(&mdev->dev);
	return ERR_PTR(rc);
}

bool iommufd_rs_mock_dev_is(struct device *dev)
{
	return dev->release == rs_mock_dev_release;
}

int iommufd_rs_mock_dev_cache(struct device *dev, u32 id, u32 *val)
{
	if (!iommufd_rs_mock_dev_is(dev) || id > MOCK_DEV_CACHE_ID_MAX)
		return -EINVAL;
	*val = to_rs_mock_dev(dev)->cache[id];
	return 0;
}

bool iommufd_rs_mock_domain_is_paging(struct iommu_domain *domain)
{
	return domain->ops == &rs_mock_paging_ops;
}

bool iommufd_rs_mock_dirty_tracking(struct iommu_domain *domain)
{
	return domain->ops == &rs_mock_paging_ops &&
	       container_of(domain, struct rs_mock_domain, domain)->dirty_tracking;
}

/* Marks iova written, as the device would: IOMMU_TEST_OP_DIRTY. */
int iommufd_rs_mock_set_dirty(struct iommu_domain *domain, u64 iova)
{
	struct rs_mock_domain *mock;

	if (domain->ops != &rs_mock_paging_ops)
		return -EINVAL;
	mock = container_of(domain, struct rs_mock_domain, domain);
	if (!mock->dirty_tracking || !mock->iommu.ops->set_dirty)
		return -EINVAL;
	return mock->iommu.ops->set_dirty(&mock->iommu, iova);
}

int iommufd_rs_mock_nested_iotlb(struct iommu_domain *domain, u32 id, u32 *val)
{
	if (domain->ops != &rs_mock_nested_ops)
		return -EINVAL;
	if (id > MOCK_NESTED_DOMAIN_IOTLB_ID_MAX)
		return -EINVAL;
	*val = container_of(domain, struct rs_mock_nested, domain)->iotlb[id];
	return 0;
}

void iommufd_rs_mock_trigger_iopf(struct device *dev, u32 pasid, u32 grpid,
				  u32 perm, u64 addr)
{
	struct iopf_fault event = {};

	event.fault.type = IOMMU_FAULT_PAGE_REQ;
	event.fault.prm.flags = IOMMU_FAULT_PAGE_REQUEST_LAST_PAGE;
	if (pasid != IOMMU_NO_PASID)
		event.fault.prm.flags |= IOMMU_FAULT_PAGE_REQUEST_PASID_VALID;
	event.fault.prm.addr = addr;
	event.fault.prm.pasid = pasid;
	event.fault.prm.grpid = grpid;
	event.fault.prm.perm = perm;
	iommu_report_device_fault(dev, &event);
}

/**
 * iommufd_rs_mock_page_pins() - count the long-term pins of one user page
 * @uaddr: a page-aligned address in current's mm
 * @pins: set to the pin count, or to 0 for a compound page (not counted)
 *
 * The page is faulted in and its reference dropped again; the count reads
 * page_ref_count() in units of GUP_PIN_COUNTING_BIAS, as pin_user_pages()
 * adds them. Only the selftest command IOMMU_TEST_OP_MD_CHECK_REFS uses it.
 * C because page_ref_count(), PageCompound() and put_page() are inline.
 *
 * Return: 0, or the errno of get_user_pages_fast().
 */
int iommufd_rs_mock_page_pins(unsigned long uaddr, unsigned int *pins)
{
	struct page *page;
	long n;

	n = get_user_pages_fast(uaddr, 1, 0, &page);
	if (n < 0)
		return n;
	if (n != 1)
		return -EFAULT;
	*pins = PageCompound(page) ? 0 :
		page_ref_count(page) / GUP_PIN_COUNTING_BIAS;
	put_page(page);
	return 0;
}

/**
 * iommufd_rs_mock_user_phys() - the physical address behind one user address
 * @uaddr: an address in current's mm
 * @phys: set to the physical address of the byte at @uaddr
 *
 * For IOMMU_TEST_OP_MD_CHECK_MAP, which compares it with a domain's
 * translation. C because page_to_pfn() and put_page() are inline.
 *
 * Return: 0, or the errno of get_user_pages_fast().
 */
int iommufd_rs_mock_user_phys(unsigned long uaddr, u64 *phys)
{
	struct page *page;
	long n;

	n = get_user_pages_fast(uaddr & PAGE_MASK, 1, 0, &page);
	if (n < 0)
		return n;
	if (n != 1)
		return -EFAULT;
	*phys = PFN_PHYS(page_to_pfn(page)) + offset_in_page(uaddr);
	put_page(page);
	return 0;
}

int iommufd_rs_mock_init(void)
{
	struct platform_device_info info = { .name = "iommufd_rs_mock_iommu" };
	int rc;

	rs_mock_pdev = platform_device_register_full(&info);
	if (IS_ERR(rs_mock_pdev))
		return PTR_ERR(rs_mock_pdev);
	rc = bus_register(&rs_mock_bus);
	if (rc)
		goto err_pdev;
	rc = iommu_device_sysfs_add(&rs_mock_iommu, &rs_mock_pdev->dev, NULL,
				    "%s", dev_name(&rs_mock_pdev->dev));
	if (rc)
		goto err_bus;
	rs_mock_iommu.max_pasids = 1 << MOCK_PASID_WIDTH;
	rc = iommu_device_register_bus(&rs_mock_iommu, &rs_mock_ops,
				       &rs_mock_bus, &rs_mock_bus_nb);
	if (rc)
		goto err_sysfs;
	rs_mock_iopfq = iopf_queue_alloc("iommufd-rs-mock-iopfq");
	if (!rs_mock_iopfq) {
		rc = -ENOMEM;
		goto err_register;
	}
	return 0;

err_register:
	iommu_device_unregister_bus(&rs_mock_iommu, &rs_mock_bus,
				    &rs_mock_bus_nb);
err_sysfs:
	iommu_device_sysfs_remove(&rs_mock_iommu);
err_bus:
	bus_unregister(&rs_mock_bus);
err_pdev:
	platform_device_unregister(rs_mock_pdev);
	return rc;
}

void iommufd_rs_mock_exit(void)
{
	iopf_queue_free(rs_mock_iopfq);
	rs_mock_iopfq = NULL;
	iommu_device_unregister_bus(&rs_mock_iommu, &rs_mock_bus,
				    &rs_mock_bus_nb);
	iommu_device_sysfs_remove(&rs_mock_iommu);
	bus_unregister(&rs_mock_bus);
	platform_device_unregister(rs_mock_pdev);
	if (rs_mock_shared_group)
		iommu_group_put(rs_mock_shared_group);
	rs_mock_shared_group = NULL;
}

MODULE_IMPORT_NS("GENERIC_PT_IOMMU");
