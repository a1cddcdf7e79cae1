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
/// `IOMMU_IOAS_ALLOW_IOVAS`: restrict automatic IOVA allocation.
pub(crate) const IOMMU_IOAS_ALLOW_IOVAS: u32 = _IO(IOMMUFD_TYPE, 0x82);
/// `IOMMU_IOAS_COPY`: map pages already mapped in an IOAS again.
pub(crate) const IOMMU_IOAS_COPY: u32 = _IO(IOMMUFD_TYPE, 0x83);
/// `IOMMU_IOAS_IOVA_RANGES`: report the usable IOVA ranges.
pub(crate) const IOMMU_IOAS_IOVA_RANGES: u32 = _IO(IOMMUFD_TYPE, 0x84);
/// `IOMMU_IOAS_MAP`: map user memory.
pub(crate) const IOMMU_IOAS_MAP: u32 = _IO(IOMMUFD_TYPE, 0x85);
/// `IOMMU_IOAS_UNMAP`: unmap whole areas.
pub(crate) const IOMMU_IOAS_UNMAP: u32 = _IO(IOMMUFD_TYPE, 0x86);
/// `IOMMU_OPTION`: get or set an option of the file or of an object.
pub(crate) const IOMMU_OPTION: u32 = _IO(IOMMUFD_TYPE, 0x87);
/// `IOMMU_VFIO_IOAS`: get, set or clear the IOAS of VFIO compatibility.
pub(crate) const IOMMU_VFIO_IOAS: u32 = _IO(IOMMUFD_TYPE, 0x88);
/// `IOMMU_HWPT_ALLOC`: allocate a hardware page table.
pub(crate) const IOMMU_HWPT_ALLOC: u32 = _IO(IOMMUFD_TYPE, 0x89);
/// `IOMMU_GET_HW_INFO`: what the IOMMU behind a device can do.
pub(crate) const IOMMU_GET_HW_INFO: u32 = _IO(IOMMUFD_TYPE, 0x8a);
/// `IOMMU_HWPT_SET_DIRTY_TRACKING`: start or stop tracking dirty pages.
pub(crate) const IOMMU_HWPT_SET_DIRTY_TRACKING: u32 = _IO(IOMMUFD_TYPE, 0x8b);
/// `IOMMU_HWPT_GET_DIRTY_BITMAP`: read (and clear) the dirty pages.
pub(crate) const IOMMU_HWPT_GET_DIRTY_BITMAP: u32 = _IO(IOMMUFD_TYPE, 0x8c);
/// `IOMMU_HWPT_INVALIDATE`: invalidate a nested HWPT's caches.
pub(crate) const IOMMU_HWPT_INVALIDATE: u32 = _IO(IOMMUFD_TYPE, 0x8d);
/// `IOMMU_FAULT_QUEUE_ALLOC`: a queue of I/O page faults, read through an fd.
pub(crate) const IOMMU_FAULT_QUEUE_ALLOC: u32 = _IO(IOMMUFD_TYPE, 0x8e);
/// `IOMMU_VDEVICE_ALLOC`: a device's identity behind a vIOMMU.
pub(crate) const IOMMU_VDEVICE_ALLOC: u32 = _IO(IOMMUFD_TYPE, 0x91);
/// `IOMMU_IOAS_CHANGE_PROCESS`: charge the file's pins to the caller.
pub(crate) const IOMMU_IOAS_CHANGE_PROCESS: u32 = _IO(IOMMUFD_TYPE, 0x92);
/// `IOMMU_VIOMMU_ALLOC`: a virtual IOMMU on a nesting parent.
pub(crate) const IOMMU_VIOMMU_ALLOC: u32 = _IO(IOMMUFD_TYPE, 0x90);
/// `IOMMU_IOAS_MAP_FILE`: map a range of a file (memfd).
pub(crate) const IOMMU_IOAS_MAP_FILE: u32 = _IO(IOMMUFD_TYPE, 0x8f);
/// `IOMMU_TEST_CMD`: the selftest command of `iommufd_test.h`.
pub(crate) const IOMMU_TEST_CMD: u32 = _IO(IOMMUFD_TYPE, IOMMUFD_CMD_BASE + 32);

/// `IOMMU_IOAS_MAP_FIXED_IOVA`: map at the given IOVA.
pub(crate) const IOMMU_IOAS_MAP_FIXED_IOVA: u32 = 1 << 0;
/// `IOMMU_IOAS_MAP_WRITEABLE`: the device may write.
pub(crate) const IOMMU_IOAS_MAP_WRITEABLE: u32 = 1 << 1;
/// `IOMMU_IOAS_MAP_READABLE`: the device may read.
pub(crate) const IOMMU_IOAS_MAP_READABLE: u32 = 1 << 2;

/// `IOMMU_OPTION_RLIMIT_MODE`: account pins per user (0) or per process (1).
pub(crate) const IOMMU_OPTION_RLIMIT_MODE: u32 = 0;
/// `IOMMU_OPTION_HUGE_PAGES`: whether an IOAS may use huge pages.
pub(crate) const IOMMU_OPTION_HUGE_PAGES: u32 = 1;
/// `IOMMU_OPTION_OP_SET`.
pub(crate) const IOMMU_OPTION_OP_SET: u16 = 0;
/// `IOMMU_OPTION_OP_GET`.
pub(crate) const IOMMU_OPTION_OP_GET: u16 = 1;

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

/// `struct iommu_iova_range`: an inclusive IOVA range.
#[repr(C)]
#[derive(Default, Clone, Copy)]
pub(crate) struct IommuIovaRange {
    pub(crate) start: u64,
    pub(crate) last: u64,
}

/// Argument of `IOMMU_IOAS_IOVA_RANGES`.
#[repr(C)]
#[derive(Default)]
pub(crate) struct IommuIoasIovaRanges {
    pub(crate) size: u32,
    pub(crate) ioas_id: u32,
    pub(crate) num_iovas: u32,
    pub(crate) reserved: u32,
    pub(crate) allowed_iovas: u64,
    pub(crate) out_iova_alignment: u64,
}

/// Argument of `IOMMU_IOAS_ALLOW_IOVAS`.
#[repr(C)]
#[derive(Default)]
pub(crate) struct IommuIoasAllowIovas {
    pub(crate) size: u32,
    pub(crate) ioas_id: u32,
    pub(crate) num_iovas: u32,
    pub(crate) reserved: u32,
    pub(crate) allowed_iovas: u64,
}

/// Argument of `IOMMU_IOAS_MAP`.
#[repr(C)]
#[derive(Default)]
pub(crate) struct IommuIoasMap {
    pub(crate) size: u32,
    pub(crate) flags: u32,
    pub(crate) ioas_id: u32,
    pub(crate) reserved: u32,
    pub(crate) user_va: u64,
    pub(crate) length: u64,
    pub(crate) iova: u64,
}

/// Argument of `IOMMU_IOAS_MAP_FILE`.
#[repr(C)]
#[derive(Default)]
pub(crate) struct IommuIoasMapFile {
    pub(crate) size: u32,
    pub(crate) flags: u32,
    pub(crate) ioas_id: u32,
    pub(crate) fd: i32,
    pub(crate) start: u64,
    pub(crate) length: u64,
    pub(crate) iova: u64,
}

/// Argument of `IOMMU_IOAS_COPY`.
#[repr(C)]
#[derive(Default)]
pub(crate) struct IommuIoasCopy {
    pub(crate) size: u32,
    pub(crate) flags: u32,
    pub(crate) dst_ioas_id: u32,
    pub(crate) src_ioas_id: u32,
    pub(crate) length: u64,
    pub(crate) dst_iova: u64,
    pub(crate) src_iova: u64,
}

/// Argument of `IOMMU_IOAS_UNMAP`.
#[repr(C)]
#[derive(Default)]
pub(crate) struct IommuIoasUnmap {
    pub(crate) size: u32,
    pub(crate) ioas_id: u32,
    pub(crate) iova: u64,
    pub(crate) length: u64,
}

/// Argument of `IOMMU_OPTION`.
#[repr(C)]
#[derive(Default)]
pub(crate) struct IommuOption {
    pub(crate) size: u32,
    pub(crate) option_id: u32,
    pub(crate) op: u16,
    pub(crate) reserved: u16,
    pub(crate) object_id: u32,
    pub(crate) val64: u64,
}

/// Argument of `IOMMU_VFIO_IOAS`.
#[repr(C)]
#[derive(Default)]
pub(crate) struct IommuVfioIoas {
    pub(crate) size: u32,
    pub(crate) ioas_id: u32,
    pub(crate) op: u16,
    pub(crate) reserved: u16,
}

/// `IOMMU_HWPT_ALLOC_NEST_PARENT`: the domain may be a nesting parent.
pub(crate) const IOMMU_HWPT_ALLOC_NEST_PARENT: u32 = 1 << 0;
/// `IOMMU_HWPT_FAULT_ID_VALID`: `fault_id` names a fault queue.
pub(crate) const IOMMU_HWPT_FAULT_ID_VALID: u32 = 1 << 2;
/// `IOMMU_HWPT_ALLOC_PASID`: the domain may be attached to PASIDs.
pub(crate) const IOMMU_HWPT_ALLOC_PASID: u32 = 1 << 3;
/// `IOMMU_HWPT_DATA_NONE`.
pub(crate) const IOMMU_HWPT_DATA_NONE: u32 = 0;
/// `IOMMU_HW_CAP_DIRTY_TRACKING`: the IOMMU can track dirty pages.
pub(crate) const IOMMU_HW_CAP_DIRTY_TRACKING: u64 = 1 << 0;
/// `IOMMU_HW_INFO_FLAG_INPUT_TYPE`: `in_data_type` is an input.
pub(crate) const IOMMU_HW_INFO_FLAG_INPUT_TYPE: u32 = 1 << 0;

/// Argument of `IOMMU_HWPT_ALLOC`.
#[repr(C)]
#[derive(Default)]
pub(crate) struct IommuHwptAlloc {
    pub(crate) size: u32,
    pub(crate) flags: u32,
    pub(crate) dev_id: u32,
    pub(crate) pt_id: u32,
    pub(crate) out_hwpt_id: u32,
    pub(crate) reserved: u32,
    pub(crate) data_type: u32,
    pub(crate) data_len: u32,
    pub(crate) data_uptr: u64,
    pub(crate) fault_id: u32,
    pub(crate) reserved2: u32,
}

/// Argument of `IOMMU_HWPT_SET_DIRTY_TRACKING`.
#[repr(C)]
#[derive(Default)]
pub(crate) struct IommuHwptSetDirtyTracking {
    pub(crate) size: u32,
    pub(crate) flags: u32,
    pub(crate) hwpt_id: u32,
    pub(crate) reserved: u32,
}

/// Argument of `IOMMU_HWPT_GET_DIRTY_BITMAP`.
#[repr(C)]
#[derive(Default)]
pub(crate) struct IommuHwptGetDirtyBitmap {
    pub(crate) size: u32,
    pub(crate) hwpt_id: u32,
    pub(crate) flags: u32,
    pub(crate) reserved: u32,
    pub(crate) iova: u64,
    pub(crate) length: u64,
    pub(crate) page_size: u64,
    pub(crate) data: u64,
}

/// Argument of `IOMMU_HWPT_INVALIDATE`.
#[repr(C)]
#[derive(Default)]
pub(crate) struct IommuHwptInvalidate {
    pub(crate) size: u32,
    pub(crate) hwpt_id: u32,
    pub(crate) data_uptr: u64,
    pub(crate) data_type: u32,
    pub(crate) entry_len: u32,
    pub(crate) entry_num: u32,
    pub(crate) reserved: u32,
}

/// Argument of `IOMMU_GET_HW_INFO`. `data_type` is `in_data_type` on the way
/// in and `out_data_type` on the way out.
#[repr(C)]
#[derive(Default)]
pub(crate) struct IommuHwInfo {
    pub(crate) size: u32,
    pub(crate) flags: u32,
    pub(crate) dev_id: u32,
    pub(crate) data_len: u32,
    pub(crate) data_uptr: u64,
    pub(crate) data_type: u32,
    pub(crate) out_max_pasid_log2: u8,
    pub(crate) reserved: [u8; 3],
    pub(crate) out_capabilities: u64,
}

/// Argument of `IOMMU_VDEVICE_ALLOC`.
#[repr(C)]
#[derive(Default)]
pub(crate) struct IommuVdeviceAlloc {
    pub(crate) size: u32,
    pub(crate) viommu_id: u32,
    pub(crate) dev_id: u32,
    pub(crate) out_vdevice_id: u32,
    pub(crate) virt_id: u64,
}

/// Argument of `IOMMU_IOAS_CHANGE_PROCESS`.
#[repr(C)]
#[derive(Default)]
pub(crate) struct IommuIoasChangeProcess {
    pub(crate) size: u32,
    pub(crate) reserved: u32,
}

/// Argument of `IOMMU_FAULT_QUEUE_ALLOC`.
#[repr(C)]
#[derive(Default)]
pub(crate) struct IommuFaultAlloc {
    pub(crate) size: u32,
    pub(crate) flags: u32,
    pub(crate) out_fault_id: u32,
    pub(crate) out_fault_fd: u32,
}

/// Argument of `IOMMU_VIOMMU_ALLOC`.
#[repr(C)]
#[derive(Default)]
pub(crate) struct IommuViommuAlloc {
    pub(crate) size: u32,
    pub(crate) flags: u32,
    pub(crate) ty: u32,
    pub(crate) dev_id: u32,
    pub(crate) hwpt_id: u32,
    pub(crate) out_viommu_id: u32,
    pub(crate) data_len: u32,
    pub(crate) reserved: u32,
    pub(crate) data_uptr: u64,
}

/// Argument of `IOMMU_TEST_CMD`: a header, a 48-byte union of per-op
/// payloads, and `last`. The tail padding of the C struct is explicit.
#[repr(C)]
#[derive(Default)]
pub(crate) struct IommuTestCmd {
    pub(crate) size: u32,
    pub(crate) op: u32,
    pub(crate) id: u32,
    pub(crate) reserved: u32,
    pub(crate) payload: [u64; 6],
    pub(crate) last: u32,
    pub(crate) pad: u32,
}

/// The `add_reserved` payload of [`IommuTestCmd`].
pub(crate) struct TestAddReserved {
    pub(crate) start: u64,
    pub(crate) length: u64,
}

/// The `check_refs` payload of [`IommuTestCmd`].
pub(crate) struct TestCheckRefs {
    pub(crate) length: u64,
    pub(crate) uptr: u64,
    pub(crate) refs: u32,
}

/// The `access_pages` payload of [`IommuTestCmd`].
pub(crate) struct TestAccessPages {
    pub(crate) flags: u32,
    pub(crate) iova: u64,
    pub(crate) length: u64,
    pub(crate) uptr: u64,
}

/// The `access_rw` payload of [`IommuTestCmd`].
pub(crate) struct TestAccessRw {
    pub(crate) iova: u64,
    pub(crate) length: u64,
    pub(crate) uptr: u64,
    pub(crate) flags: u32,
}

/// Decoding of the payload union, in the field order of `iommufd_test.h`.
/// The payload is little-endian `u64` words on the architectures iommufd
/// supports; a `u32` member is the low half of its word.
impl IommuTestCmd {
    /// The low 32 bits of payload word `i`.
    fn word32(&self, i: usize) -> u32 {
        (self.payload[i] & 0xffff_ffff) as u32
    }

    /// `add_reserved {start, length}`.
    pub(crate) fn add_reserved(&self) -> TestAddReserved {
        TestAddReserved {
            start: self.payload[0],
            length: self.payload[1],
        }
    }

    /// `check_refs {length, uptr, refs}`.
    pub(crate) fn check_refs(&self) -> TestCheckRefs {
        TestCheckRefs {
            length: self.payload[0],
            uptr: self.payload[1],
            refs: self.word32(2),
        }
    }

    /// `create_access {out_access_fd, flags}`: the flags.
    pub(crate) fn create_access_flags(&self) -> u32 {
        (self.payload[0] >> 32) as u32
    }

    /// Sets `create_access.out_access_fd`.
    pub(crate) fn set_out_access_fd(&mut self, fd: u32) {
        self.payload[0] = (self.payload[0] & !0xffff_ffff) | u64::from(fd);
    }

    /// `access_pages {flags, out_access_pages_id, iova, length, uptr}`.
    pub(crate) fn access_pages(&self) -> TestAccessPages {
        TestAccessPages {
            flags: self.word32(0),
            iova: self.payload[1],
            length: self.payload[2],
            uptr: self.payload[3],
        }
    }

    /// Sets `access_pages.out_access_pages_id`.
    pub(crate) fn set_out_access_pages_id(&mut self, id: u32) {
        self.payload[0] = (self.payload[0] & 0xffff_ffff) | (u64::from(id) << 32);
    }

    /// `access_rw {iova, length, uptr, flags}`.
    pub(crate) fn access_rw(&self) -> TestAccessRw {
        TestAccessRw {
            iova: self.payload[0],
            length: self.payload[1],
            uptr: self.payload[2],
            flags: self.word32(3),
        }
    }

    /// `destroy_access_pages {access_pages_id}`.
    pub(crate) fn access_pages_id(&self) -> u32 {
        self.word32(0)
    }

    /// `mock_domain {out_stdev_id, out_hwpt_id, out_idev_id}` (and the
    /// `mock_domain_flags` variant, whose `dev_flags` is word 1's high half
    /// as well): the device flags.
    pub(crate) fn mock_domain_flags(&self) -> u32 {
        (self.payload[1] >> 32) as u32
    }

    /// Sets the outputs of `mock_domain`.
    pub(crate) fn set_mock_domain_out(&mut self, stdev: u32, hwpt: u32, idev: u32) {
        self.payload[0] = u64::from(stdev) | (u64::from(hwpt) << 32);
        self.payload[1] = (self.payload[1] & !0xffff_ffff) | u64::from(idev);
    }

    /// `mock_domain_replace {pt_id}` and `pasid_attach {pasid, pt_id}`:
    /// word 0's low half.
    pub(crate) fn word0_low(&self) -> u32 {
        self.word32(0)
    }

    /// Word 0's high half: `pasid_attach.pt_id`, `pasid_check.hwpt_id`.
    pub(crate) fn word0_high(&self) -> u32 {
        (self.payload[0] >> 32) as u32
    }

    /// Sets word 0's low half (`mock_domain_replace.pt_id`).
    pub(crate) fn set_word0_low(&mut self, v: u32) {
        self.payload[0] = (self.payload[0] & !0xffff_ffff) | u64::from(v);
    }

    /// Sets word 0's high half (`pasid_attach.pt_id`).
    pub(crate) fn set_word0_high(&mut self, v: u32) {
        self.payload[0] = (self.payload[0] & 0xffff_ffff) | (u64::from(v) << 32);
    }

    /// Payload word `i`.
    pub(crate) fn word(&self, i: usize) -> u64 {
        self.payload.get(i).copied().unwrap_or(0)
    }

    /// The low half of payload word `i`.
    pub(crate) fn low(&self, i: usize) -> u32 {
        (self.word(i) & 0xffff_ffff) as u32
    }

    /// The high half of payload word `i`.
    pub(crate) fn high(&self, i: usize) -> u32 {
        (self.word(i) >> 32) as u32
    }

    /// `memory_limit {limit}`.
    pub(crate) fn memory_limit(&self) -> u32 {
        self.word32(0)
    }
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
    IommuIovaRange = 16,
    IommuIoasIovaRanges = 32,
    IommuIoasAllowIovas = 24,
    IommuIoasMap = 40,
    IommuIoasMapFile = 40,
    IommuIoasCopy = 40,
    IommuIoasUnmap = 24,
    IommuOption = 24,
    IommuTestCmd = 72,
    IommuVfioIoas = 12,
    IommuHwptAlloc = 48,
    IommuHwInfo = 40,
    IommuHwptInvalidate = 32,
    IommuHwptSetDirtyTracking = 16,
    IommuHwptGetDirtyBitmap = 48,
    IommuFaultAlloc = 16,
    IommuIoasChangeProcess = 8,
    IommuVdeviceAlloc = 24,
    IommuViommuAlloc = 40,
}

const _: () = assert!(offset_of!(IommuIoasAlloc, out_ioas_id) == 8);

crate::ucmd::user_cmd! {
    IommuDestroy => id: u32,
    IommuIoasAlloc => out_ioas_id: u32,
    IommuIoasIovaRanges => out_iova_alignment: u64,
    IommuIoasAllowIovas => allowed_iovas: u64,
    IommuIoasMap => iova: u64,
    IommuIoasMapFile => iova: u64,
    IommuIoasCopy => src_iova: u64,
    IommuIoasUnmap => length: u64,
    IommuOption => val64: u64,
    IommuTestCmd => last: u32,
    IommuVfioIoas => reserved: u16,
    IommuHwptAlloc => reserved: u32,
    IommuHwInfo => reserved: [u8; 3],
    IommuHwptInvalidate => reserved: u32,
    IommuHwptSetDirtyTracking => reserved: u32,
    IommuHwptGetDirtyBitmap => data: u64,
    IommuFaultAlloc => out_fault_fd: u32,
    IommuIoasChangeProcess => reserved: u32,
    IommuVdeviceAlloc => virt_id: u64,
    IommuViommuAlloc => out_viommu_id: u32,
}

const _: () = assert!(offset_of!(IommuTestCmd, last) == 64);
const _: () = assert!(offset_of!(IommuOption, val64) == 16);
