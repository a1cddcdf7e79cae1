// SPDX-License-Identifier: GPL-2.0

//! Virtual IOMMUs (`IOMMU_VIOMMU_ALLOC`): the VMM's view of one physical
//! IOMMU instance, on a nesting-parent HWPT. Nested HWPTs can be allocated
//! on it. Only the mock IOMMU's vIOMMU type is offered; its loopback data
//! (`in_data` -> `out_data`) is supported, its mmap page and hardware queues
//! are not.

use kernel::{
    alloc::flags::GFP_KERNEL_ACCOUNT,
    prelude::*,
    sync::Arc,
    uaccess::{
        UserPtr,
        UserSlice, //
    },
};

use crate::{
    device::Device,
    hw_pagetable::{
        Hwpt,
        HwptKind, //
    },
    ictx::Ictx,
    object::{
        ObjRef,
        ObjectKind,
        ObjectType, //
    },
    uapi::IommuViommuAlloc,
    ucmd::UserCmdBuf,
};

/// `IOMMU_VIOMMU_TYPE_SELFTEST` of `iommufd_test.h`.
const IOMMU_VIOMMU_TYPE_SELFTEST: u32 = 0xdead_beef;

/// A vIOMMU object.
pub(crate) struct Viommu {
    /// The nesting parent its nested HWPTs translate through.
    pub(crate) parent: ObjRef<Hwpt>,
}

impl ObjectType for Viommu {
    fn cast(kind: &ObjectKind) -> Option<&Arc<Self>> {
        match kind {
            ObjectKind::Viommu(v) => Some(v),
            _ => None,
        }
    }
}

/// `IOMMU_VIOMMU_ALLOC`.
pub(crate) fn alloc_ioctl(ictx: &Ictx, buf: &UserCmdBuf<'_>, mut cmd: IommuViommuAlloc) -> Result {
    if cmd.flags != 0 || cmd.ty == 0 {
        return Err(EOPNOTSUPP);
    }
    let dev = ictx.objects.get::<Device>(cmd.dev_id)?;
    if !dev.with_bound(|b| Ok(b.is_mock()))? || cmd.ty != IOMMU_VIOMMU_TYPE_SELFTEST {
        return Err(EOPNOTSUPP);
    }
    let parent = ictx.objects.get::<Hwpt>(cmd.hwpt_id)?;
    match &parent.kind {
        HwptKind::Paging {
            nest_parent: true, ..
        } => {}
        HwptKind::Paging { .. } => return Err(EINVAL),
        HwptKind::Nested { .. } => return Err(ENOENT),
    }
    if cmd.data_len != 0 {
        // The selftest type's data: `in_data` is echoed in `out_data`.
        let addr = usize::try_from(cmd.data_uptr).map_err(|_| EFAULT)?;
        let mut word = [0u8; 4];
        UserSlice::new(UserPtr::from_addr(addr), 4)
            .reader()
            .read_slice(&mut word)?;
        let out = addr.checked_add(4).ok_or(EFAULT)?;
        UserSlice::new(UserPtr::from_addr(out), 4)
            .writer()
            .write_slice(&word)?;
    }
    let viommu = Arc::new(Viommu { parent }, GFP_KERNEL_ACCOUNT)?;
    let pending = ictx.objects.reserve(ObjectKind::Viommu(viommu))?;
    cmd.out_viommu_id = pending.id();
    buf.respond(&cmd)?;
    pending.publish();
    Ok(())
}
