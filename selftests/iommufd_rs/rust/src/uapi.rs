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

pub const IOMMU_IOAS_COPY: u64 = io(IOMMUFD_TYPE, 0x83);
pub const IOMMU_IOAS_IOVA_RANGES: u64 = io(IOMMUFD_TYPE, 0x84);
pub const IOMMU_IOAS_MAP: u64 = io(IOMMUFD_TYPE, 0x85);
pub const IOMMU_IOAS_UNMAP: u64 = io(IOMMUFD_TYPE, 0x86);
pub const IOMMU_IOAS_MAP_FILE: u64 = io(IOMMUFD_TYPE, 0x8f);

pub const MAP_FIXED_IOVA: u32 = 1;
pub const MAP_WRITEABLE: u32 = 2;
pub const MAP_READABLE: u32 = 4;

#[repr(C)]
#[derive(Default, Clone, Copy)]
pub struct IommuIoasMap {
    pub size: u32,
    pub flags: u32,
    pub ioas_id: u32,
    pub reserved: u32,
    pub user_va: u64,
    pub length: u64,
    pub iova: u64,
}

#[repr(C)]
#[derive(Default, Clone, Copy)]
pub struct IommuIoasMapFile {
    pub size: u32,
    pub flags: u32,
    pub ioas_id: u32,
    pub fd: i32,
    pub start: u64,
    pub length: u64,
    pub iova: u64,
}

#[repr(C)]
#[derive(Default, Clone, Copy)]
pub struct IommuIoasCopy {
    pub size: u32,
    pub flags: u32,
    pub dst_ioas_id: u32,
    pub src_ioas_id: u32,
    pub length: u64,
    pub dst_iova: u64,
    pub src_iova: u64,
}

#[repr(C)]
#[derive(Default, Clone, Copy)]
pub struct IommuIoasUnmap {
    pub size: u32,
    pub ioas_id: u32,
    pub iova: u64,
    pub length: u64,
}

#[repr(C)]
#[derive(Default, Clone, Copy, Debug, PartialEq)]
pub struct IommuIovaRange {
    pub start: u64,
    pub last: u64,
}

#[repr(C)]
#[derive(Default, Clone, Copy)]
pub struct IommuIoasIovaRanges {
    pub size: u32,
    pub ioas_id: u32,
    pub num_iovas: u32,
    pub reserved: u32,
    pub allowed_iovas: u64,
    pub out_iova_alignment: u64,
}

const _: () = assert!(size_of::<IommuIoasMap>() == 40);
const _: () = assert!(size_of::<IommuIoasMapFile>() == 40);
const _: () = assert!(size_of::<IommuIoasCopy>() == 40);
const _: () = assert!(size_of::<IommuIoasUnmap>() == 24);
const _: () = assert!(size_of::<IommuIoasIovaRanges>() == 32);
