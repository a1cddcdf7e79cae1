// SPDX-License-Identifier: GPL-2.0

//! I/O address spaces.
//!
//! An IOAS is the set of IOVA -> user memory mappings that domains attached
//! to it follow. This first version only has an identity: the mappings come
//! with `IOMMU_IOAS_MAP` in a later patch.

use kernel::{
    alloc::flags::GFP_KERNEL_ACCOUNT,
    prelude::*,
    sync::Arc, //
};

use crate::{
    ictx::Ictx,
    object::{
        ObjectKind,
        ObjectType, //
    },
    uapi::IommuIoasAlloc,
    ucmd::UserCmdBuf,
};

/// An I/O address space.
pub(crate) struct Ioas {}

impl ObjectType for Ioas {
    fn cast(kind: &ObjectKind) -> Option<&Arc<Self>> {
        match kind {
            ObjectKind::Ioas(ioas) => Some(ioas),
        }
    }
}

/// `IOMMU_IOAS_ALLOC`.
pub(crate) fn alloc_ioctl(ictx: &Ictx, buf: &UserCmdBuf, mut cmd: IommuIoasAlloc) -> Result {
    if cmd.flags != 0 {
        return Err(EOPNOTSUPP);
    }
    let ioas = Arc::new(Ioas {}, GFP_KERNEL_ACCOUNT)?;
    let pending = ictx.objects.reserve(ObjectKind::Ioas(ioas))?;
    cmd.out_ioas_id = pending.id();
    // Userspace learns the id before anyone can look it up; if it cannot be
    // told, the object is never published.
    buf.respond(&cmd)?;
    pending.publish();
    Ok(())
}
