// SPDX-License-Identifier: GPL-2.0

//! `IOMMU_OPTION`: options of the file and of objects.

#![deny(unsafe_code)]

use kernel::prelude::*;

use crate::{
    glue,
    ictx::Ictx,
    ioas::Ioas,
    uapi::{
        IommuOption,
        IOMMU_OPTION_HUGE_PAGES,
        IOMMU_OPTION_OP_GET,
        IOMMU_OPTION_OP_SET,
        IOMMU_OPTION_RLIMIT_MODE, //
    },
    ucmd::UserCmdBuf,
};

/// `IOMMU_OPTION`. Only `val64` is written back, for get and set alike.
pub(crate) fn option_ioctl(ictx: &Ictx, buf: &mut UserCmdBuf<'_>, mut cmd: IommuOption) -> Result {
    if cmd.__reserved != 0 {
        return Err(EOPNOTSUPP);
    }
    match cmd.option_id {
        IOMMU_OPTION_RLIMIT_MODE => rlimit_mode(ictx, &mut cmd)?,
        IOMMU_OPTION_HUGE_PAGES => huge_pages(ictx, &mut cmd)?,
        _ => return Err(EOPNOTSUPP),
    }
    buf.write_at(core::mem::offset_of!(IommuOption, val64), &cmd.val64)
}

/// The file-wide choice of whom pins are charged to: the user (0, the
/// default) or the process (1, as VFIO type1 does).
fn rlimit_mode(ictx: &Ictx, cmd: &mut IommuOption) -> Result {
    if cmd.object_id != 0 {
        return Err(EOPNOTSUPP);
    }
    match u32::from(cmd.op) {
        IOMMU_OPTION_OP_GET => {
            cmd.val64 = u64::from(ictx.account_per_process());
            Ok(())
        }
        IOMMU_OPTION_OP_SET => {
            if !glue::capable_sys_resource() {
                return Err(EPERM);
            }
            let per_process = cmd.val64;
            let mut valid = true;
            ictx.objects.if_empty(|| match per_process {
                0 => ictx.set_account_per_process(false),
                1 => ictx.set_account_per_process(true),
                _ => valid = false,
            })?;
            // After EBUSY, as upstream: the value is checked last.
            if valid {
                Ok(())
            } else {
                Err(EINVAL)
            }
        }
        _ => Err(EOPNOTSUPP),
    }
}

/// Whether an IOAS may map with huge pages. The IOAS is looked up first, so
/// a bad id is `ENOENT` whatever the op.
fn huge_pages(ictx: &Ictx, cmd: &mut IommuOption) -> Result {
    let ioas = ictx.objects.get::<Ioas>(cmd.object_id)?;
    match u32::from(cmd.op) {
        IOMMU_OPTION_OP_GET => {
            cmd.val64 = u64::from(ioas.iopt.lock().large_pages());
            Ok(())
        }
        IOMMU_OPTION_OP_SET => {
            let enable = match cmd.val64 {
                0 => false,
                1 => true,
                _ => return Err(EINVAL),
            };
            let mut iopt = ioas.iopt.lock();
            iopt.set_large_pages(enable)
        }
        _ => Err(EOPNOTSUPP),
    }
}
