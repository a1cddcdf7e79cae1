/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The C helpers that iommufd_rs.ko's Rust code calls; see rust/glue.rs.
 */
#ifndef IOMMUFD_RS_GLUE_H
#define IOMMUFD_RS_GLUE_H

int iommufd_rs_page_pins(unsigned long uaddr, unsigned int *pins);

#endif
