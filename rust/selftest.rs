// SPDX-License-Identifier: GPL-2.0

//! `IOMMU_TEST_CMD`, the selftest command ABI of upstream's
//! `drivers/iommu/iommufd/iommufd_test.h`, so that upstream's selftests can
//! drive this module. Ops are added as the features they test arrive; an op
//! not implemented yet is `EOPNOTSUPP`, as upstream answers an unknown op.

use kernel::prelude::*;

use crate::{
    glue,
    ictx::Ictx,
    io_pagetable::ReservedBy,
    ioas::Ioas,
    iova::{
        IovaRange,
        PAGE_SIZE, //
    },
    uapi::IommuTestCmd,
    ucmd::UserCmdBuf,
};

const IOMMU_TEST_OP_ADD_RESERVED: u32 = 1;
const IOMMU_TEST_OP_MD_CHECK_REFS: u32 = 4;
const IOMMU_TEST_OP_SET_TEMP_MEMORY_LIMIT: u32 = 9;

/// The smallest batch memory limit upstream accepts: one `unsigned long`
/// and one `u32`.
const MIN_MEMORY_LIMIT: u32 = 12;

/// `IOMMU_TEST_CMD`.
pub(crate) fn test_cmd_ioctl(ictx: &Ictx, _buf: &UserCmdBuf, cmd: IommuTestCmd) -> Result {
    match cmd.op {
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
