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

// HWPT allocation and device information.

pub const IOMMU_HWPT_ALLOC: u64 = io(IOMMUFD_TYPE, 0x89);
pub const IOMMU_GET_HW_INFO: u64 = io(IOMMUFD_TYPE, 0x8a);

pub const HWPT_ALLOC_NEST_PARENT: u32 = 1 << 0;
pub const HWPT_ALLOC_DIRTY_TRACKING: u32 = 1 << 1;
pub const HWPT_ALLOC_PASID: u32 = 1 << 3;

pub const HWPT_DATA_NONE: u32 = 0;

#[repr(C)]
#[derive(Default, Clone, Copy)]
pub struct IommuHwptAlloc {
    pub size: u32,
    pub flags: u32,
    pub dev_id: u32,
    pub pt_id: u32,
    pub out_hwpt_id: u32,
    pub reserved: u32,
    pub data_type: u32,
    pub data_len: u32,
    pub data_uptr: u64,
    pub fault_id: u32,
    pub reserved2: u32,
}

/// `in_data_type` and `out_data_type` share `data_type`, as in the C union.
#[repr(C)]
#[derive(Default, Clone, Copy, Debug)]
pub struct IommuHwInfo {
    pub size: u32,
    pub flags: u32,
    pub dev_id: u32,
    pub data_len: u32,
    pub data_uptr: u64,
    pub data_type: u32,
    pub out_max_pasid_log2: u8,
    pub reserved: [u8; 3],
    pub out_capabilities: u64,
}

const _: () = assert!(size_of::<IommuHwptAlloc>() == 48);
const _: () = assert!(std::mem::offset_of!(IommuHwptAlloc, data_uptr) == 32);
const _: () = assert!(size_of::<IommuHwInfo>() == 40);
const _: () = assert!(std::mem::offset_of!(IommuHwInfo, out_max_pasid_log2) == 28);
const _: () = assert!(std::mem::offset_of!(IommuHwInfo, out_capabilities) == 32);

// The selftest command of the mock IOMMU (drivers/iommu/iommufd/iommufd_test.h).

/// `_IO(IOMMUFD_TYPE, IOMMUFD_CMD_BASE + 32)`.
pub const IOMMU_TEST_CMD: u64 = io(IOMMUFD_TYPE, 0x80 + 32);

pub const TEST_OP_MD_CHECK_MAP: u32 = 3;
pub const TEST_OP_MD_CHECK_REFS: u32 = 4;
pub const TEST_OP_MOCK_DOMAIN_REPLACE: u32 = 10;
pub const TEST_OP_MOCK_DOMAIN_FLAGS: u32 = 12;
pub const TEST_OP_PASID_ATTACH: u32 = 18;
pub const TEST_OP_PASID_REPLACE: u32 = 19;
pub const TEST_OP_PASID_DETACH: u32 = 20;
pub const TEST_OP_PASID_CHECK_HWPT: u32 = 21;

pub const MOCK_APERTURE_START: u64 = 1 << 24;
pub const MOCK_FLAGS_DEVICE_NO_DIRTY: u32 = 1 << 0;
pub const MOCK_FLAGS_DEVICE_PASID: u32 = 1 << 2;
pub const MOCK_PASID_WIDTH: u8 = 20;
/// The PASID whose second set_dev_pasid the mock fails with ENOMEM.
pub const TEST_PASID_RESERVED: u32 = 1024;

pub const HW_INFO_TYPE_SELFTEST: u32 = 0xfeed_beef;
pub const HW_INFO_SELFTEST_REGVAL: u32 = 0xdead_beef;
pub const HWPT_DATA_SELFTEST: u32 = 0xdead;
pub const TEST_IOTLB_DEFAULT: u32 = 0xbad_beef;

/// The fixed part of `struct iommu_test_cmd`; `payload` is the union, whose
/// widest members are 48 bytes and 8-byte aligned.
#[repr(C)]
#[derive(Default, Clone, Copy)]
pub struct IommuTestCmd {
    pub size: u32,
    pub op: u32,
    pub id: u32,
    pub reserved: u32,
    pub payload: [u64; 6],
    pub last: u32,
}

const _: () = assert!(std::mem::offset_of!(IommuTestCmd, payload) == 16);
const _: () = assert!(std::mem::offset_of!(IommuTestCmd, last) == 64);
const _: () = assert!(size_of::<IommuTestCmd>() == 72);

/// A member of the test command's union.
///
/// # Safety
///
/// The type must be `repr(C)`, at most 48 bytes, at most 8-byte aligned and
/// valid for any bit pattern.
pub unsafe trait TestPayload: Copy + Default {}

impl IommuTestCmd {
    /// A command for `op` on object `id`, with `payload` as its union.
    pub fn new<P: TestPayload>(op: u32, id: u32, payload: P) -> Self {
        const { assert!(size_of::<P>() <= 48) };
        let mut cmd = Self {
            size: size32::<Self>(),
            op,
            id,
            ..Default::default()
        };
        // SAFETY: `P` fits the union (checked above) and is plain data.
        unsafe { cmd.payload.as_mut_ptr().cast::<P>().write(payload) };
        cmd
    }

    /// The union read as `P`.
    pub fn payload<P: TestPayload>(&self) -> P {
        const { assert!(size_of::<P>() <= 48) };
        // SAFETY: As in `new`; any bit pattern is a valid `P`.
        unsafe { self.payload.as_ptr().cast::<P>().read() }
    }
}

#[repr(C)]
#[derive(Default, Clone, Copy)]
pub struct MockDomainFlags {
    pub out_stdev_id: u32,
    pub out_hwpt_id: u32,
    pub out_idev_id: u32,
    pub dev_flags: u32,
}

#[repr(C)]
#[derive(Default, Clone, Copy)]
pub struct MockDomainReplace {
    pub pt_id: u32,
}

#[repr(C)]
#[derive(Default, Clone, Copy)]
pub struct CheckMap {
    pub iova: u64,
    pub length: u64,
    pub uptr: u64,
}

#[repr(C)]
#[derive(Default, Clone, Copy)]
pub struct CheckRefs {
    pub length: u64,
    pub uptr: u64,
    pub refs: u32,
}

/// `pasid_attach` and `pasid_replace`: `id` is the mock device.
#[repr(C)]
#[derive(Default, Clone, Copy)]
pub struct PasidAttach {
    pub pasid: u32,
    pub pt_id: u32,
}

/// `pasid_check`: `hwpt_id` 0 asks whether the PASID is unattached.
#[repr(C)]
#[derive(Default, Clone, Copy)]
pub struct PasidCheck {
    pub pasid: u32,
    pub hwpt_id: u32,
}

// SAFETY: Each is repr(C) plain data, well under 48 bytes.
unsafe impl TestPayload for MockDomainFlags {}
// SAFETY: As above.
unsafe impl TestPayload for MockDomainReplace {}
// SAFETY: As above.
unsafe impl TestPayload for CheckMap {}
// SAFETY: As above.
unsafe impl TestPayload for CheckRefs {}
// SAFETY: As above.
unsafe impl TestPayload for PasidAttach {}
// SAFETY: As above.
unsafe impl TestPayload for PasidCheck {}

const _: () = assert!(size_of::<MockDomainFlags>() == 16);
const _: () = assert!(size_of::<CheckMap>() == 24);
const _: () = assert!(size_of::<CheckRefs>() == 24);
const _: () = assert!(size_of::<PasidAttach>() == 8);

/// `struct iommu_test_hw_info`, the mock's GET_HW_INFO data.
#[repr(C)]
#[derive(Default, Clone, Copy, Debug)]
pub struct IommuTestHwInfo {
    pub flags: u32,
    pub test_reg: u32,
}

/// `struct iommu_hwpt_selftest`, the mock's nested HWPT data.
#[repr(C)]
#[derive(Default, Clone, Copy)]
pub struct IommuHwptSelftest {
    pub iotlb: u32,
    pub pagetable_type: u32,
}

const _: () = assert!(size_of::<IommuTestHwInfo>() == 8);
const _: () = assert!(size_of::<IommuHwptSelftest>() == 8);
