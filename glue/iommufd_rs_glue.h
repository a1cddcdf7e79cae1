/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The C helpers that iommufd_rs.ko's Rust code calls; see rust/glue.rs.
 * They exist because what they wrap is inline, a macro, or needs a static
 * file_operations, none of which Rust for Linux binds yet.
 */
#ifndef IOMMUFD_RS_GLUE_H
#define IOMMUFD_RS_GLUE_H

#include <linux/types.h>

struct file;
struct mm_struct;
struct page;
struct task_struct;
struct user_struct;

long iommufd_rs_pin_user(struct mm_struct *mm, unsigned long addr,
			 unsigned long npages, bool write,
			 struct page **pages);
int iommufd_rs_pin_user_page(struct mm_struct *mm, unsigned long addr,
			     bool write, struct page **page);
long iommufd_rs_pin_file(struct file *file, loff_t offset,
			 unsigned long npages, struct page **pages);
bool iommufd_rs_file_is_memfd(struct file *file);
bool iommufd_rs_pages_contiguous(struct page *const *pages,
				 unsigned long npages);
unsigned long iommufd_rs_page_to_pfn(struct page *page);
struct page *iommufd_rs_pfn_to_page(unsigned long pfn);
int iommufd_rs_check_pages(unsigned long uaddr, struct page **pages,
			   unsigned long npages);

struct user_struct *iommufd_rs_get_current_user(void);
int iommufd_rs_charge_user(struct user_struct *user, struct task_struct *task,
			   unsigned long npages);
void iommufd_rs_uncharge_user(struct user_struct *user, unsigned long npages);
int iommufd_rs_charge_mm(struct mm_struct *mm, struct task_struct *task,
			 unsigned long npages, bool inc);
void iommufd_rs_add_pinned_vm(struct mm_struct *mm, long npages);

#ifdef IOMMUFD_RS_SELFTEST
/* The selftest's access fds. */
struct file *iommufd_rs_access_file(void *data);
void *iommufd_rs_access_data(struct file *file);

/* Implemented in Rust: the last reference of an access fd is gone. */
void iommufd_rs_access_release(void *data);
#endif

/* glue/iommufd_rs_mock.c: the mock IOMMU driver. */
struct device;
struct iommu_domain;
int iommufd_rs_mock_init(void);
int iommufd_rs_mock_page_pins(unsigned long uaddr, unsigned int *pins);
int iommufd_rs_mock_user_phys(unsigned long uaddr, u64 *phys);
void iommufd_rs_mock_exit(void);
struct device *iommufd_rs_mock_dev_create(u32 flags);
bool iommufd_rs_mock_dev_is(struct device *dev);
int iommufd_rs_mock_dev_cache(struct device *dev, u32 id, u32 *val);
bool iommufd_rs_mock_domain_is_paging(struct iommu_domain *domain);
bool iommufd_rs_mock_dirty_tracking(struct iommu_domain *domain);
int iommufd_rs_mock_set_dirty(struct iommu_domain *domain, u64 iova);
int iommufd_rs_mock_nested_iotlb(struct iommu_domain *domain, u32 id,
				 u32 *val);
void iommufd_rs_mock_trigger_iopf(struct device *dev, u32 pasid, u32 grpid,
				  u32 perm, u64 addr);

/* glue/iommufd_rs_iommu.c: the IOMMU core for the device layer. */
struct iommufd_rs_fault;
void *iommufd_rs_dev_hw_info(struct device *dev, u32 *type, u32 *len);
u64 iommufd_rs_dev_caps(struct device *dev);
int iommufd_rs_group_resv_regions(struct device *dev, u64 *out, unsigned int max);
struct iommu_domain *iommufd_rs_domain_alloc_paging(struct device *dev,
						    u32 flags, u32 data_type,
						    u64 uptr, u32 len);
bool iommufd_rs_dev_can_nest(struct device *dev);
struct iommu_domain *iommufd_rs_domain_alloc_nested(struct device *dev,
						    struct iommu_domain *parent,
						    u32 flags, u32 data_type,
						    u64 uptr, u32 len);
bool iommufd_rs_domain_owned_by(struct iommu_domain *domain,
				struct device *dev);
struct page *iommufd_rs_domain_page_at(struct iommu_domain *domain, u64 iova);
unsigned long iommufd_rs_domain_read_pages(struct iommu_domain *domain,
					   u64 iova, u64 next, unsigned long n,
					   bool contiguous, struct page **out);
int iommufd_rs_domain_map_pages(struct iommu_domain *domain, u64 iova,
				struct page **pages, unsigned long npages,
				u64 first_offset, u64 length, int prot,
				bool small, bool contiguous);
void iommufd_rs_domain_set_fault_handler(struct iommu_domain *domain);
int iommufd_rs_domain_clear_dirty(struct iommu_domain *domain, u64 iova,
				  u64 len);
int iommufd_rs_domain_read_dirty(struct iommu_domain *domain, u64 iova,
				 u64 length, u64 page_size, u64 data,
				 u32 flags);
int iommufd_rs_domain_invalidate_user(struct iommu_domain *domain, u32 type,
				      u64 uptr, u32 entry_len, u32 *entry_num);
struct file *iommufd_rs_fault_alloc(struct iommufd_rs_fault **out);
void iommufd_rs_fault_put(struct iommufd_rs_fault *fault);
void iommufd_rs_fault_set_file_hold(struct iommufd_rs_fault *fault, void *hold);
/* rust/iommu.rs: drops what a fault queue's file holds, at its release. */
void iommufd_rs_fault_file_hold_release(void *hold);
int iommufd_rs_attach(struct device *dev, u32 pasid,
		      struct iommu_domain *domain, u32 dev_id,
		      struct iommufd_rs_fault *fault);
int iommufd_rs_replace(struct device *dev, u32 pasid,
		       struct iommu_domain *domain, u32 dev_id,
		       struct iommufd_rs_fault *fault);
void iommufd_rs_detach(struct device *dev, u32 pasid,
		       struct iommu_domain *domain);
struct iommu_domain *iommufd_rs_attached_domain(struct device *dev,
						u32 pasid);

#endif
