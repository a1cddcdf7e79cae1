// SPDX-License-Identifier: GPL-2.0
/*
 * C helpers for iommufd_rs.ko, for kernel facilities that are inline
 * functions or macros without a Rust binding. Each helper does one thing;
 * the Rust side owns the logic around it.
 */
#include <linux/mm.h>

#include "iommufd_rs_glue.h"

/**
 * iommufd_rs_page_pins() - count the long-term pins of one user page
 * @uaddr: a page-aligned address in current's mm
 * @pins: set to the pin count, or to 0 for a compound page (not counted)
 *
 * The page is faulted in and its reference dropped again; the count reads
 * page_ref_count() in units of GUP_PIN_COUNTING_BIAS, as pin_user_pages()
 * adds them. Only the selftest command IOMMU_TEST_OP_MD_CHECK_REFS uses it.
 *
 * Return: 0, or the errno of get_user_pages_fast().
 */
int iommufd_rs_page_pins(unsigned long uaddr, unsigned int *pins)
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
