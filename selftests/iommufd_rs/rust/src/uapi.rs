// SPDX-License-Identifier: GPL-2.0

//! The iommufd uAPI as userspace sees it: the types and constants bindgen
//! makes of the test kernel's headers (see build.rs), and the ioctl numbers,
//! which are macros bindgen cannot evaluate.

use std::mem::size_of;

/// rust/uapi_helper.h through bindgen, layout checks included.
#[allow(
    dead_code,
    non_camel_case_types,
    non_snake_case,
    non_upper_case_globals,
    clippy::all
)]
mod bindings {
    include!(concat!(env!("OUT_DIR"), "/uapi.rs"));
}

pub use bindings::*;

// The encoding of include/uapi/asm-generic/ioctl.h.
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

pub const IOMMU_DESTROY: u64 = io(IOMMUFD_TYPE, IOMMUFD_CMD_DESTROY);
pub const IOMMU_IOAS_ALLOC: u64 = io(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_ALLOC);
pub const IOMMU_IOAS_COPY: u64 = io(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_COPY);
pub const IOMMU_IOAS_IOVA_RANGES: u64 = io(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_IOVA_RANGES);
pub const IOMMU_IOAS_MAP: u64 = io(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_MAP);
pub const IOMMU_IOAS_UNMAP: u64 = io(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_UNMAP);
pub const IOMMU_IOAS_MAP_FILE: u64 = io(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_MAP_FILE);
pub const IOMMU_HWPT_ALLOC: u64 = io(IOMMUFD_TYPE, IOMMUFD_CMD_HWPT_ALLOC);
pub const IOMMU_GET_HW_INFO: u64 = io(IOMMUFD_TYPE, IOMMUFD_CMD_GET_HW_INFO);
pub const IOMMU_RS_PASID_MODE: u64 = io(IOMMUFD_TYPE, IOMMUFD_RS_CMD_PASID_MODE);
pub const IOMMU_RS_VPASID_ATTACH: u64 = io(IOMMUFD_TYPE, IOMMUFD_RS_CMD_VPASID_ATTACH);
pub const IOMMU_RS_VPASID_DETACH: u64 = io(IOMMUFD_TYPE, IOMMUFD_RS_CMD_VPASID_DETACH);
pub const IOMMU_RS_VPASID_QUERY: u64 = io(IOMMUFD_TYPE, IOMMUFD_RS_CMD_VPASID_QUERY);
/// `_IO(IOMMUFD_TYPE, IOMMUFD_CMD_BASE + 32)` in iommufd_test.h.
pub const IOMMU_TEST_CMD: u64 = io(IOMMUFD_TYPE, IOMMUFD_CMD_BASE + 32);

/// The size field of a command, as userspace fills it in.
pub const fn size32<T>() -> u32 {
    size_of::<T>() as u32
}

impl iommu_hw_info {
    /// The type of the data the driver wrote, which shares a union with the
    /// type asked for.
    pub fn out_data_type(&self) -> u32 {
        // SAFETY: Both members of the union are a `__u32`, and the whole
        // struct is initialised: any bit pattern is a valid `__u32`.
        unsafe { self.__bindgen_anon_1.out_data_type }
    }
}

/// A member of the `iommu_test_cmd` payload union, by the name
/// rust/uapi_helper.h gives it.
pub trait TestPayload: Copy {
    /// Writes `self` into the union of `cmd`.
    fn put(self, cmd: &mut iommu_test_cmd);
    /// The union of `cmd` read as this member.
    fn get(cmd: &iommu_test_cmd) -> Self;
}

macro_rules! test_payload {
    ($($ty:ident => $member:ident),* $(,)?) => {$(
        impl TestPayload for $ty {
            fn put(self, cmd: &mut iommu_test_cmd) {
                cmd.__bindgen_anon_1.$member = self;
            }

            fn get(cmd: &iommu_test_cmd) -> Self {
                // SAFETY: Each member of the union is integers only, its
                // padding explicit, so any bit pattern is a valid one; and
                // every byte is initialised: `iommu_test_cmd::new` zeroes the
                // union before it writes a member, the kernel writes bytes.
                unsafe { cmd.__bindgen_anon_1.$member }
            }
        }
    )*};
}

test_payload! {
    iommu_test_mock_domain_flags => mock_domain_flags,
    iommu_test_mock_domain_replace => mock_domain_replace,
    iommu_test_check_map => check_map,
    iommu_test_check_refs => check_refs,
    iommu_test_pasid_attach => pasid_attach,
    iommu_test_pasid_replace => pasid_replace,
    iommu_test_pasid_detach => pasid_detach,
    iommu_test_pasid_check => pasid_check,
}

// The payload of iommufd_rs.h's own test op is no member of upstream's union:
// it is written at the union's start, which the union's members all share.
const _: () =
    assert!(size_of::<iommu_rs_test_mediate_pasid>() <= size_of::<iommu_test_check_map>());

impl TestPayload for iommu_rs_test_mediate_pasid {
    fn put(self, cmd: &mut iommu_test_cmd) {
        // SAFETY: The union is at least as large as its `check_map` member,
        // which is larger than `Self` (asserted above); `Self` is plain
        // integers.
        unsafe {
            std::ptr::addr_of_mut!(cmd.__bindgen_anon_1)
                .cast::<Self>()
                .write_unaligned(self)
        }
    }

    fn get(cmd: &iommu_test_cmd) -> Self {
        // SAFETY: As for `put`; every byte of the union is initialised
        // (`iommu_test_cmd::new` zeroes it) and any bit pattern is valid.
        unsafe {
            std::ptr::addr_of!(cmd.__bindgen_anon_1)
                .cast::<Self>()
                .read_unaligned()
        }
    }
}

impl iommu_test_cmd {
    /// A command for `op` on object `id`, with `payload` as its union.
    pub fn new<P: TestPayload>(op: u32, id: u32, payload: P) -> Self {
        let mut cmd = Self {
            size: size32::<Self>(),
            op,
            id,
            ..Default::default()
        };
        payload.put(&mut cmd);
        cmd
    }

    /// The union read as `P`.
    pub fn payload<P: TestPayload>(&self) -> P {
        P::get(self)
    }
}
