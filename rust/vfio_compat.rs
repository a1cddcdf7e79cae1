// SPDX-License-Identifier: GPL-2.0

//! `IOMMU_VFIO_IOAS`: which IOAS the VFIO type1 compatibility layer uses.
//!
//! Only the choice is kept here; the type1 ioctls on top of it are not
//! implemented. The choice names an object by id and serial, so that it
//! neither keeps a destroyed IOAS alive nor follows its id to a new object:
//! once the IOAS is destroyed, `GET` is `ENODEV`, as upstream.

use kernel::prelude::*;

use crate::{
    ictx::Ictx,
    ioas::Ioas,
    uapi::IommuVfioIoas,
    ucmd::UserCmdBuf, //
};

const IOMMU_VFIO_IOAS_GET: u16 = 0;
const IOMMU_VFIO_IOAS_SET: u16 = 1;
const IOMMU_VFIO_IOAS_CLEAR: u16 = 2;

/// The compatibility IOAS of a file: its id and serial.
#[derive(Clone, Copy)]
pub(crate) struct CompatIoas {
    id: u32,
    serial: u64,
}

/// `IOMMU_VFIO_IOAS`.
pub(crate) fn vfio_ioas_ioctl(ictx: &Ictx, buf: &UserCmdBuf<'_>, mut cmd: IommuVfioIoas) -> Result {
    if cmd.reserved != 0 {
        return Err(EOPNOTSUPP);
    }
    match cmd.op {
        IOMMU_VFIO_IOAS_GET => {
            let chosen = (*ictx.vfio_ioas.lock()).ok_or(ENODEV)?;
            let ioas = ictx.objects.get::<Ioas>(chosen.id).map_err(|_| ENODEV)?;
            if ioas.serial() != chosen.serial {
                return Err(ENODEV);
            }
            cmd.ioas_id = ioas.id();
            buf.respond(&cmd)
        }
        IOMMU_VFIO_IOAS_SET => {
            let ioas = ictx.objects.get::<Ioas>(cmd.ioas_id)?;
            *ictx.vfio_ioas.lock() = Some(CompatIoas {
                id: ioas.id(),
                serial: ioas.serial(),
            });
            Ok(())
        }
        IOMMU_VFIO_IOAS_CLEAR => {
            *ictx.vfio_ioas.lock() = None;
            Ok(())
        }
        _ => Err(EOPNOTSUPP),
    }
}
