// SPDX-License-Identifier: GPL-2.0

//! The iommufd uAPI as userspace sees it (include/uapi/linux/iommufd.h).

use std::mem::size_of;

const IOC_NRSHIFT: u32 = 0;
const IOC_TYPESHIFT: u32 = 8;
const IOC_SIZESHIFT: u32 = 16;
const IOC_DIRSHIFT: u32 = 30;
pub const IOC_WRITE: u32 = 1;
pub const IOC_READ: u32 = 2;

pub const fn ioc(dir: u32, ty: u8, nr: u32, size: usize) -> u64 {
    ((dir << IOC_DIRSHIFT)
        | ((ty as u32) << IOC_TYPESHIFT)
        | (nr << IOC_NRSHIFT)
        | ((size as u32) << IOC_SIZESHIFT)) as u64
}

pub const fn io(ty: u8, nr: u32) -> u64 {
    ioc(0, ty, nr, 0)
}

pub const IOMMUFD_TYPE: u8 = b';';
pub const IOMMUFD_CMD_DESTROY: u32 = 0x80;
pub const IOMMUFD_CMD_IOAS_ALLOC: u32 = 0x81;
pub const IOMMU_DESTROY: u64 = io(IOMMUFD_TYPE, IOMMUFD_CMD_DESTROY);
pub const IOMMU_IOAS_ALLOC: u64 = io(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_ALLOC);

#[repr(C)]
#[derive(Default, Clone, Copy)]
pub struct IommuDestroy {
    pub size: u32,
    pub id: u32,
}

#[repr(C)]
#[derive(Default, Clone, Copy)]
pub struct IommuIoasAlloc {
    pub size: u32,
    pub flags: u32,
    pub out_ioas_id: u32,
}

const _: () = assert!(size_of::<IommuDestroy>() == 8);
const _: () = assert!(size_of::<IommuIoasAlloc>() == 12);

/// The size field of a command, as userspace fills it in.
pub const fn size32<T>() -> u32 {
    size_of::<T>() as u32
}
