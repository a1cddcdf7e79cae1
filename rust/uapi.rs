// SPDX-License-Identifier: GPL-2.0

//! The iommufd uAPI: ioctl numbers and argument structs.
//!
//! These mirror `include/uapi/linux/iommufd.h` byte for byte. The kernel's
//! `uapi` crate does not carry that header, so the layouts are written out
//! here and pinned by compile-time size and offset checks.

use core::mem::{
    offset_of,
    size_of, //
};
use kernel::{
    ioctl::_IO,
    transmute::{
        AsBytes,
        FromBytes, //
    },
};

/// The ioctl type shared by every iommufd command.
const IOMMUFD_TYPE: u32 = b';' as u32;

/// The number of the first iommufd command.
pub(crate) const IOMMUFD_CMD_BASE: u32 = 0x80;

/// `IOMMU_DESTROY`: destroy an object by id.
pub(crate) const IOMMU_DESTROY: u32 = _IO(IOMMUFD_TYPE, IOMMUFD_CMD_BASE);
/// `IOMMU_IOAS_ALLOC`: create an I/O address space.
pub(crate) const IOMMU_IOAS_ALLOC: u32 = _IO(IOMMUFD_TYPE, 0x81);

/// Argument of `IOMMU_DESTROY`.
#[repr(C)]
#[derive(Default)]
pub(crate) struct IommuDestroy {
    pub(crate) size: u32,
    pub(crate) id: u32,
}

/// Argument of `IOMMU_IOAS_ALLOC`.
#[repr(C)]
#[derive(Default)]
pub(crate) struct IommuIoasAlloc {
    pub(crate) size: u32,
    pub(crate) flags: u32,
    pub(crate) out_ioas_id: u32,
}

macro_rules! uapi_structs {
    ($($t:ty = $size:literal),* $(,)?) => {
        $(
            // SAFETY: The struct is `repr(C)` and made only of integers laid
            // out without padding (checked by the size assertion below), so
            // every bit pattern is valid.
            unsafe impl FromBytes for $t {}
            // SAFETY: As above: no padding, no interior mutability, so every
            // byte is initialised.
            unsafe impl AsBytes for $t {}
            const _: () = assert!(size_of::<$t>() == $size);
        )*
    };
}

uapi_structs! {
    IommuDestroy = 8,
    IommuIoasAlloc = 12,
}

const _: () = assert!(offset_of!(IommuIoasAlloc, out_ioas_id) == 8);

crate::ucmd::user_cmd! {
    IommuDestroy => id: u32,
    IommuIoasAlloc => out_ioas_id: u32,
}
