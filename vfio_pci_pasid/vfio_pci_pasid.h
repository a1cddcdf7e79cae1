/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Between the C glue of vfio-pci-pasid.ko and its Rust side (ffi.rs, which
 * defines the vpasid_rs_* functions and calls the vpasid_glue_* ones).
 * Every vpasid_rs_* call but new, free and tables_valid is made under the
 * device's lock.
 */
#ifndef VFIO_PCI_PASID_H
#define VFIO_PCI_PASID_H

#include <linux/types.h>

struct pci_dev;

/* The sysfs attributes, as ffi.rs numbers them. */
#define VPASID_ATTR_OFFSET 0
#define VPASID_ATTR_FINGERPRINT 1

void *vpasid_rs_new(void);
void vpasid_rs_free(void *rs);
bool vpasid_rs_tables_valid(const char *quirks, const char *offsets);
int vpasid_rs_open(void *rs, struct pci_dev *pdev, const u8 *vconfig,
		   u32 vconfig_len, const char *name, const char *quirks,
		   const char *offsets, u32 max_pasids, u32 dev_width,
		   u16 features);
void vpasid_rs_close(void *rs);
void vpasid_rs_reset(void *rs);
bool vpasid_rs_window(void *rs, u32 idx, u32 *start, u32 *len);
void vpasid_rs_read(void *rs, u32 pos, u8 *buf, u32 len);
void vpasid_rs_write(void *rs, u32 pos, const u8 *buf, u32 len);
ssize_t vpasid_rs_show(void *rs, u32 attr, char *page, size_t size);
ssize_t vpasid_rs_store(void *rs, u32 attr, const char *buf, size_t count);

int vpasid_glue_register(void);
void vpasid_glue_unregister(void);

#endif /* VFIO_PCI_PASID_H */
