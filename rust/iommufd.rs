// SPDX-License-Identifier: GPL-2.0

//! iommufd-rs: the iommufd user API, written in Rust.
//!
//! The module registers `/dev/iommu` and implements the iommufd ioctls with
//! the numbers, layouts and error rules of `include/uapi/linux/iommufd.h`, so
//! that it can stand in for the C `iommufd.ko`. Only one of the two can be
//! loaded at a time: both register the same misc device.

use kernel::prelude::*;

mod access;
mod glue;
mod ictx;
mod io_pagetable;
mod ioas;
mod ioctl;
mod iova;
mod miscdev;
mod object;
mod option;
mod pages;
#[cfg(CONFIG_IOMMUFD_TEST)]
mod selftest;
mod uapi;
mod ucmd;
mod vfio_compat;

use ictx::Ictx;
use miscdev::MiscRegistration;

module! {
    type: IommufdRs,
    name: "iommufd_rs",
    authors: ["The iommufd-rs developers"],
    description: "iommufd user API in Rust",
    license: "GPL",
}

/// The module: the `/dev/iommu` registration.
#[pin_data]
struct IommufdRs {
    #[pin]
    _misc: MiscRegistration<Ictx>,
}

impl kernel::InPlaceModule for IommufdRs {
    fn init(_module: &'static ThisModule) -> impl PinInit<Self, Error> {
        try_pin_init!(Self {
            _misc <- MiscRegistration::register(c"iommu", 0o660),
        })
    }
}
