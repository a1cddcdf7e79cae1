// SPDX-License-Identifier: GPL-2.0

//! `IOMMU_TEST_CMD`, the selftest command ABI of upstream's
//! `drivers/iommu/iommufd/iommufd_test.h`, so that upstream's selftests can
//! drive this module. Ops are added as the features they test arrive; an op
//! not implemented yet is `EOPNOTSUPP`, as upstream answers an unknown op.

use kernel::{
    alloc::flags::GFP_KERNEL_ACCOUNT,
    prelude::*,
    uaccess::{
        UserPtr,
        UserSlice, //
    },
};

use crate::{
    access::{
        Access,
        MAX_PIN_LENGTH, //
    },
    glue,
    ictx::Ictx,
    io_pagetable::ReservedBy,
    ioas::Ioas,
    iova::{
        IovaRange,
        PAGE_SIZE, //
    },
    uapi::{
        IommuTestCmd,
        TestAccessRw, //
    },
    ucmd::UserCmdBuf,
};

const IOMMU_TEST_OP_ADD_RESERVED: u32 = 1;
const IOMMU_TEST_OP_MD_CHECK_REFS: u32 = 4;
const IOMMU_TEST_OP_CREATE_ACCESS: u32 = 5;
const IOMMU_TEST_OP_DESTROY_ACCESS_PAGES: u32 = 6;
const IOMMU_TEST_OP_ACCESS_PAGES: u32 = 7;
const IOMMU_TEST_OP_ACCESS_RW: u32 = 8;
const IOMMU_TEST_OP_SET_TEMP_MEMORY_LIMIT: u32 = 9;

/// The smallest batch memory limit upstream accepts: one `unsigned long`
/// and one `u32`.
const MIN_MEMORY_LIMIT: u32 = 12;

/// `MOCK_FLAGS_ACCESS_WRITE`: pin for writing.
const MOCK_FLAGS_ACCESS_WRITE: u32 = 1 << 0;
/// `MOCK_FLAGS_ACCESS_SYZ`: syzkaller's IOVA encoding, accepted and ignored.
const MOCK_FLAGS_ACCESS_SYZ: u32 = 1 << 16;
/// `MOCK_ACCESS_RW_WRITE`: write rather than read.
const MOCK_ACCESS_RW_WRITE: u32 = 1 << 0;
/// `MOCK_ACCESS_RW_SLOW_PATH`: pin the pages for the copy.
const MOCK_ACCESS_RW_SLOW_PATH: u32 = 1 << 2;
/// `MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES`.
const MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES: u32 = 1 << 0;

/// `IOMMU_TEST_CMD`.
pub(crate) fn test_cmd_ioctl(ictx: &Ictx, buf: &UserCmdBuf<'_>, mut cmd: IommuTestCmd) -> Result {
    match cmd.op {
        IOMMU_TEST_OP_CREATE_ACCESS => {
            let flags = cmd.create_access_flags();
            if flags & !MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES != 0 {
                return Err(EOPNOTSUPP);
            }
            let ioas = ictx.objects.get::<Ioas>(cmd.id)?;
            let fd = Access::create(
                ioas,
                buf.file(),
                flags & MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES != 0,
            )?;
            cmd.set_out_access_fd(fd.fd() as u32);
            buf.respond(&cmd)?;
            fd.install();
            Ok(())
        }
        IOMMU_TEST_OP_ACCESS_PAGES => {
            let a = cmd.access_pages();
            // Checked first, as upstream, to keep huge requests cheap.
            if a.length > MAX_PIN_LENGTH {
                return Err(ENOMEM);
            }
            if a.flags & !(MOCK_FLAGS_ACCESS_WRITE | MOCK_FLAGS_ACCESS_SYZ) != 0 {
                return Err(EOPNOTSUPP);
            }
            let write = a.flags & MOCK_FLAGS_ACCESS_WRITE != 0;
            Access::with_fd(cmd.id, |access| {
                let id = access.pin_pages(a.iova, a.length, a.uptr, write)?;
                cmd.set_out_access_pages_id(id);
                if let Err(e) = buf.respond(&cmd) {
                    // Ignoring a second failure: the item is gone either way.
                    let _ = access.destroy_item(id);
                    return Err(e);
                }
                Ok(())
            })
        }
        IOMMU_TEST_OP_ACCESS_RW => {
            let a = cmd.access_rw();
            if a.length > MAX_PIN_LENGTH {
                return Err(ENOMEM);
            }
            let known = MOCK_ACCESS_RW_WRITE | MOCK_ACCESS_RW_SLOW_PATH | MOCK_FLAGS_ACCESS_SYZ;
            if a.flags & !known != 0 {
                return Err(EOPNOTSUPP);
            }
            let write = a.flags & MOCK_ACCESS_RW_WRITE != 0;
            let slow = a.flags & MOCK_ACCESS_RW_SLOW_PATH != 0;
            Access::with_fd(cmd.id, |access| access_rw(access, &a, write, slow))
        }
        IOMMU_TEST_OP_DESTROY_ACCESS_PAGES => {
            let id = cmd.access_pages_id();
            Access::with_fd(cmd.id, |access| access.destroy_item(id))
        }
        IOMMU_TEST_OP_ADD_RESERVED => {
            let r = cmd.add_reserved();
            add_reserved(ictx, cmd.id, r.start, r.length)
        }
        IOMMU_TEST_OP_MD_CHECK_REFS => {
            let c = cmd.check_refs();
            check_refs(c.uptr, c.length, c.refs)
        }
        IOMMU_TEST_OP_SET_TEMP_MEMORY_LIMIT => {
            // Sizes upstream's batch buffers; this module has none.
            if cmd.memory_limit() < MIN_MEMORY_LIMIT {
                return Err(EINVAL);
            }
            Ok(())
        }
        _ => Err(EOPNOTSUPP),
    }
}

/// Reserves `length` bytes at `start` in IOAS `id`.
fn add_reserved(ictx: &Ictx, id: u32, start: u64, length: u64) -> Result {
    let range = IovaRange::from_len(start, length)?;
    let ioas = ictx.objects.get::<Ioas>(id)?;
    let mut iopt = ioas.iopt.lock();
    iopt.reserve(range, ReservedBy::Test)
}

/// Checks that every page of `[uptr, uptr + length)` carries `refs`
/// long-term pins: `EIO` at the first that does not.
fn check_refs(uptr: u64, length: u64, refs: u32) -> Result {
    if length % PAGE_SIZE != 0 || uptr % PAGE_SIZE != 0 || uptr.checked_add(length).is_none() {
        return Err(EINVAL);
    }
    let mut addr = usize::try_from(uptr).map_err(|_| EINVAL)?;
    for _ in 0..length / PAGE_SIZE {
        if glue::page_pins(addr)? != refs {
            return Err(EIO);
        }
        addr = addr.wrapping_add(PAGE_SIZE as usize);
    }
    Ok(())
}

/// `IOMMU_TEST_OP_ACCESS_RW`: moves `length` bytes between userspace's
/// `uptr` and the IOAS at `iova` through a kernel buffer, as a device would.
fn access_rw(access: &Access, a: &TestAccessRw, write: bool, slow: bool) -> Result {
    let len = usize::try_from(a.length).map_err(|_| ENOMEM)?;
    let mut buf = KVVec::from_elem(0u8, len, GFP_KERNEL_ACCOUNT)?;
    let addr = usize::try_from(a.uptr).map_err(|_| EFAULT)?;
    let user = UserSlice::new(UserPtr::from_addr(addr), len);
    if write {
        user.reader().read_slice(&mut buf)?;
        access.rw(a.iova, &mut buf, true, slow)
    } else {
        access.rw(a.iova, &mut buf, false, slow)?;
        user.writer().write_slice(&buf)
    }
}
