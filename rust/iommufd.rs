// SPDX-License-Identifier: GPL-2.0

//! iommufd-rs: the iommufd user API, written in Rust.
//!
//! The module registers `/dev/iommu` and implements the iommufd ioctls with
//! the numbers, layouts and error rules of `include/uapi/linux/iommufd.h`, so
//! that it can stand in for the C `iommufd.ko`. Only one of the two can be
//! loaded at a time: both register the same misc device.

use kernel::prelude::*;

mod access;
mod device;
mod fault;
mod glue;
mod hw_pagetable;
mod ictx;
mod io_pagetable;
mod ioas;
mod ioctl;
mod iommu;
mod iova;
mod kapi;
mod miscdev;
#[cfg(iommufd_rs_selftest)]
mod mock;
mod object;
mod option;
mod pages;
mod pasid_attach;
// The vendor rules are consulted as devices of each vendor bind; on this
// test kernel only the mock's are reached, the others are host tested.
#[cfg(iommufd_rs_selftest)]
mod selftest;
#[allow(dead_code)]
mod shim;
mod uapi;
mod ucmd;
mod vfio_compat;
mod viommu;
mod vpasid;
mod vpasid_map;

use ictx::Ictx;
use miscdev::MiscRegistration;

module! {
    type: IommufdRs,
    name: "iommufd_rs",
    authors: ["The iommufd-rs developers"],
    description: "iommufd user API in Rust",
    license: "GPL",
}

/// The module: the mock IOMMU (with the selftest) and the `/dev/iommu`
/// registration. The mock goes first, so that no file can see a device
/// layer without it.
#[pin_data]
struct IommufdRs {
    #[cfg(iommufd_rs_selftest)]
    _mock: mock::MockIommu,
    #[pin]
    _misc: MiscRegistration<Ictx>,
}

impl kernel::InPlaceModule for IommufdRs {
    fn init(_module: &'static ThisModule) -> impl PinInit<Self, Error> {
        try_pin_init!(Self {
            #[cfg(iommufd_rs_selftest)]
            _mock: mock::MockIommu::register()?,
            _misc <- MiscRegistration::register(c"iommu", 0o660),
        })
    }
}
