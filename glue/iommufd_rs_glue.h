/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The C helpers that iommufd_rs.ko's Rust code calls; see rust/glue.rs.
 * They exist because what they wrap is inline, a macro, or needs a static
 * file_operations, none of which Rust for Linux binds yet.
 */
#ifndef IOMMUFD_RS_GLUE_H
#define IOMMUFD_RS_GLUE_H

#include <linux/types.h>

struct mm_struct;
struct page;
struct task_struct;
struct user_struct;

int iommufd_rs_page_pins(unsigned long uaddr, unsigned int *pins);

long iommufd_rs_pin_user(struct mm_struct *mm, unsigned long addr,
			 unsigned long npages, bool write,
			 struct page **pages);
int iommufd_rs_pin_user_page(struct mm_struct *mm, unsigned long addr,
			     bool write, struct page **page);
long iommufd_rs_pin_file(struct file *file, loff_t offset,
			 unsigned long npages, struct page **pages);
void iommufd_rs_unpin(struct page **pages, unsigned long npages, bool dirty);
int iommufd_rs_check_pages(unsigned long uaddr, struct page **pages,
			   unsigned long npages);

void iommufd_rs_page_copy(struct page *page, unsigned int offset, void *buf,
			  size_t len, bool to_page);

struct user_struct *iommufd_rs_get_current_user(void);
void iommufd_rs_put_user(struct user_struct *user);
int iommufd_rs_charge_user(struct user_struct *user, struct task_struct *task,
			   unsigned long npages);
void iommufd_rs_uncharge_user(struct user_struct *user, unsigned long npages);
int iommufd_rs_charge_mm(struct mm_struct *mm, struct task_struct *task,
			 unsigned long npages, bool inc);
void iommufd_rs_add_pinned_vm(struct mm_struct *mm, long npages);
bool iommufd_rs_capable_ipc_lock(void);

int iommufd_rs_access_fd(void *data, struct file **filep);
void *iommufd_rs_access_fget(int fd, struct file **filep);

/* Implemented in Rust: the last reference of an access fd is gone. */
void iommufd_rs_access_release(void *data);

#endif
