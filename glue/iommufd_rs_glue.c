// SPDX-License-Identifier: GPL-2.0
/*
 * C helpers for iommufd_rs.ko, for kernel facilities that are inline
 * functions, macros or static operation tables without a Rust binding. Each
 * helper does one thing; the Rust side owns the logic around it.
 */
#include <linux/anon_inodes.h>
#include <linux/cred.h>
#include <linux/fs.h>
#include <linux/hugetlb.h>
#include <linux/memfd.h>
#include <linux/mm.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sched/user.h>
#include <linux/shmem_fs.h>

#include "iommufd_rs_glue.h"

/**
 * iommufd_rs_pin_user() - pin user pages of a possibly foreign mm long-term
 * @mm: the mm the pages belong to; the caller holds an mmgrab() reference
 * @addr: page-aligned user address of the first page
 * @npages: how many pages to pin at most
 * @write: pin for device writes (FOLL_WRITE)
 * @pages: receives the pinned pages
 *
 * C because mmget_not_zero() and the mmap lock helpers are inline.
 *
 * Return: the number of pages pinned, which may be fewer than asked, or a
 * negative errno. -EFAULT if the mm is gone.
 */
long iommufd_rs_pin_user(struct mm_struct *mm, unsigned long addr,
			 unsigned long npages, bool write,
			 struct page **pages)
{
	unsigned int flags = FOLL_LONGTERM | (write ? FOLL_WRITE : 0);
	int locked = 1;
	long n;

	/* The mapping process itself takes the lockless path, as upstream. */
	if (mm == current->mm) {
		n = pin_user_pages_fast(addr, npages, flags, pages);
		return n ? n : -EFAULT;
	}
	if (!mmget_not_zero(mm))
		return -EFAULT;
	mmap_read_lock(mm);
	n = pin_user_pages_remote(mm, addr, npages, flags, pages, &locked);
	if (locked)
		mmap_read_unlock(mm);
	mmput(mm);
	return n ? n : -EFAULT;
}

/**
 * iommufd_rs_pin_user_page() - pin one user page for a short copy
 * @mm: the mm the page belongs to; the caller holds an mmgrab() reference
 * @addr: page-aligned user address
 * @write: the copy writes the page (FOLL_WRITE)
 * @page: receives the page, to release with unpin_user_pages_dirty_lock()
 *
 * Not FOLL_LONGTERM and not charged: the pin lasts one copy, as upstream's
 * single-page access path. C because mmget_not_zero() and the mmap lock
 * helpers are inline.
 *
 * Return: 0, or a negative errno (-EFAULT if the mm is gone or the page is
 * not mapped).
 */
int iommufd_rs_pin_user_page(struct mm_struct *mm, unsigned long addr,
			     bool write, struct page **page)
{
	int locked = 1;
	long n;

	if (!mmget_not_zero(mm))
		return -EFAULT;
	mmap_read_lock(mm);
	n = pin_user_pages_remote(mm, addr, 1, write ? FOLL_WRITE : 0, page,
				  &locked);
	if (locked)
		mmap_read_unlock(mm);
	mmput(mm);
	if (n < 0)
		return n;
	return n == 1 ? 0 : -EFAULT;
}

/**
 * iommufd_rs_pin_file() - pin pages of a memfd (shmem or hugetlbfs)
 * @file: the memfd
 * @offset: page-aligned byte offset of the first page
 * @npages: how many pages to pin at most
 * @pages: receives the pinned pages
 *
 * Each page is pinned through the FOLL_PIN pin of its folio, which
 * unpin_user_page() on that page releases, so file and user pages unpin
 * alike. A file that is not a memfd, or a range past its end, is -EINVAL.
 * C because folio_page() is a macro.
 *
 * Return: the number of pages pinned, or a negative errno if none was.
 */
long iommufd_rs_pin_file(struct file *file, loff_t offset,
			 unsigned long npages, struct page **pages)
{
	unsigned long i;

	for (i = 0; i < npages; i++) {
		loff_t start = offset + (loff_t)i * PAGE_SIZE;
		struct folio *folio;
		pgoff_t in_folio;
		long n;

		n = memfd_pin_folios(file, start, start + PAGE_SIZE - 1, &folio,
				     1, &in_folio);
		if (n <= 0)
			return i ? i : (n ? n : -EFAULT);
		pages[i] = folio_page(folio, in_folio / PAGE_SIZE);
	}
	return npages;
}

/**
 * iommufd_rs_file_is_memfd() - whether iommufd_rs_pin_file() can pin @file
 * @file: the file
 *
 * C because shmem_file() and is_file_hugepages() are inline.
 *
 * Return: true for a shmem or hugetlbfs file.
 */
bool iommufd_rs_file_is_memfd(struct file *file)
{
	return shmem_file(file) || is_file_hugepages(file);
}

/**
 * iommufd_rs_pages_contiguous() - whether pages are consecutive pfns
 * @pages: the pages
 * @npages: how many
 *
 * C because page_to_pfn() is a macro.
 *
 * Return: true if @npages is not 0 and page k of @pages is the pfn of page 0
 * plus k, for every k.
 */
bool iommufd_rs_pages_contiguous(struct page *const *pages,
				 unsigned long npages)
{
	unsigned long k, pfn;

	if (!npages)
		return false;
	pfn = page_to_pfn(pages[0]);
	for (k = 1; k < npages; k++)
		if (page_to_pfn(pages[k]) != pfn + k)
			return false;
	return true;
}

/*
 * iommufd_rs_page_to_pfn() and iommufd_rs_pfn_to_page() - a page's pfn and
 * back, for pin slots that keep a run of pages by its first pfn. C because
 * page_to_pfn() and pfn_to_page() are macros.
 */
unsigned long iommufd_rs_page_to_pfn(struct page *page)
{
	return page_to_pfn(page);
}

struct page *iommufd_rs_pfn_to_page(unsigned long pfn)
{
	return pfn_to_page(pfn);
}

/**
 * iommufd_rs_check_pages() - check pages against current's user mapping
 * @uaddr: user address of the first page, page aligned
 * @pages: the pages expected there
 * @npages: how many
 *
 * C because put_page() is inline.
 *
 * Return: 0 if every page of the user range is the expected one, -EBADE if
 * one differs (as upstream's selftest), or the errno of get_user_pages_fast().
 */
int iommufd_rs_check_pages(unsigned long uaddr, struct page **pages,
			   unsigned long npages)
{
	unsigned long i;

	for (i = 0; i < npages; i++, uaddr += PAGE_SIZE) {
		struct page *page;
		long n = get_user_pages_fast(uaddr, 1, 0, &page);

		if (n < 0)
			return n;
		if (n != 1)
			return -EFAULT;
		put_page(page);
		if (page != pages[i])
			return -EBADE;
	}
	return 0;
}

/*
 * iommufd_rs_get_current_user() - take a reference to current's user.
 * C because get_current_user() is a macro.
 */
struct user_struct *iommufd_rs_get_current_user(void)
{
	return get_current_user();
}

/**
 * iommufd_rs_charge_user() - charge pinned pages to a user's locked_vm
 * @user: the user charged
 * @task: whose RLIMIT_MEMLOCK bounds the charge
 * @npages: how many pages
 *
 * C because task_rlimit() and the atomic_long_*() helpers are inline.
 *
 * Return: 0, or -ENOMEM if the charge would pass the limit (nothing charged).
 */
int iommufd_rs_charge_user(struct user_struct *user, struct task_struct *task,
			   unsigned long npages)
{
	unsigned long limit = task_rlimit(task, RLIMIT_MEMLOCK) >> PAGE_SHIFT;
	unsigned long cur = atomic_long_read(&user->locked_vm);
	unsigned long next;

	do {
		if (check_add_overflow(cur, npages, &next) || next > limit)
			return -ENOMEM;
	} while (!atomic_long_try_cmpxchg(&user->locked_vm, &cur, next));
	return 0;
}

/*
 * iommufd_rs_uncharge_user() - return a charge taken above.
 * C because atomic_long_sub() is inline.
 */
void iommufd_rs_uncharge_user(struct user_struct *user, unsigned long npages)
{
	atomic_long_sub(npages, &user->locked_vm);
}

/**
 * iommufd_rs_charge_mm() - charge or return pinned pages on an mm's locked_vm
 * @mm: the mm charged; the caller holds an mmgrab() reference
 * @task: whose RLIMIT_MEMLOCK and capabilities bound the charge
 * @npages: how many pages
 * @inc: charge (true) or return (false)
 *
 * C because mmget_not_zero() and the mmap lock helpers are inline.
 *
 * Return: 0, -ENOMEM past the limit, or -EFAULT if the mm is gone.
 */
int iommufd_rs_charge_mm(struct mm_struct *mm, struct task_struct *task,
			 unsigned long npages, bool inc)
{
	int rc;

	if (!mmget_not_zero(mm))
		return inc ? -EFAULT : 0;
	mmap_write_lock(mm);
	rc = __account_locked_vm(mm, npages, inc, task, false);
	mmap_write_unlock(mm);
	mmput(mm);
	return rc;
}

/*
 * iommufd_rs_add_pinned_vm() - adjust an mm's pinned_vm, shown as VmPin.
 * C because atomic64_add() is inline.
 */
void iommufd_rs_add_pinned_vm(struct mm_struct *mm, long npages)
{
	atomic64_add(npages, &mm->pinned_vm);
}

#ifdef IOMMUFD_RS_SELFTEST
/* The selftest's access fds, which IOMMU_TEST_CMD hands out. */
static int iommufd_rs_access_release_fop(struct inode *inode,
					 struct file *file)
{
	iommufd_rs_access_release(file->private_data);
	return 0;
}

static const struct file_operations iommufd_rs_access_fops = {
	.owner = THIS_MODULE,
	.release = iommufd_rs_access_release_fop,
};

/**
 * iommufd_rs_access_file() - make the file of a selftest access
 * @data: the access; iommufd_rs_access_release() gets it back at release
 *
 * C because the file's operations are a static file_operations.
 *
 * Return: the file, whose reference the caller owns, or an ERR_PTR. On error
 * @data is not released.
 */
struct file *iommufd_rs_access_file(void *data)
{
	return anon_inode_getfile("[iommufd_rs_access]", &iommufd_rs_access_fops,
				  data, 0);
}

/**
 * iommufd_rs_access_data() - the access behind a file, if it is an access's
 * @file: a referenced file
 *
 * C because the check compares with the static file_operations above.
 *
 * Return: the access data, or NULL if @file is not an access file.
 */
void *iommufd_rs_access_data(struct file *file)
{
	if (file->f_op != &iommufd_rs_access_fops)
		return NULL;
	return file->private_data;
}
#endif /* IOMMUFD_RS_SELFTEST */
