// SPDX-License-Identifier: GPL-2.0

//! vfio-pci-pasid: a vfio-pci variant driver that presents the PASID
//! extended capability vfio-pci hides, synthesized in its virtual config
//! space (see "Virtual PASID capability" in Documentation/iommufd-rs.rst).
//!
//! It binds only through `driver_override`. The vfio side (ops table, PCI
//! driver, sysfs) is C glue (`vfio_pci_pasid_glue.c`), `ffi.rs` its
//! counterpart here, and the policy and emulation `vpasid.rs`.

use kernel::prelude::*;

mod ffi;
mod vpasid;

module! {
    type: VfioPciPasid,
    name: "vfio_pci_pasid",
    authors: ["The iommufd-rs developers"],
    description: "vfio-pci variant with a virtual PASID capability",
    license: "GPL",
}

/// The module: the registered PCI driver.
struct VfioPciPasid;

impl kernel::Module for VfioPciPasid {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        ffi::register()?;
        Ok(VfioPciPasid)
    }
}

impl Drop for VfioPciPasid {
    fn drop(&mut self) {
        ffi::unregister();
    }
}
