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

/// The size of `struct iommu_viommu_selftest`, and the end of its first two
/// members (`in_data`, `out_data`), the least userspace may pass.
const SELFTEST_DATA_SIZE: usize = 24;
const SELFTEST_DATA_MIN: usize = 8;

/// The selftest type's driver data, with `copy_struct_from_user` rules:
/// `in_data` comes back in `out_data`.
fn selftest_data(uptr: u64, len: u32) -> Result {
    let len = len as usize;
    if len < SELFTEST_DATA_MIN {
        return Err(EINVAL);
    }
    let addr = usize::try_from(uptr).map_err(|_| EFAULT)?;
    let mut data = [0u8; SELFTEST_DATA_SIZE];
    let n = len.min(SELFTEST_DATA_SIZE);
    let mut reader = UserSlice::new(UserPtr::from_addr(addr), len).reader();
    reader.read_slice(&mut data[..n])?;
    // Bytes beyond what this kernel knows must be zero.
    let mut rest = len - n;
    let mut chunk = [0u8; 64];
    while rest != 0 {
        let k = rest.min(chunk.len());
        reader.read_slice(&mut chunk[..k])?;
        if chunk[..k].iter().any(|&b| b != 0) {
            return Err(E2BIG);
        }
        rest -= k;
    }
    let (head, tail) = data.split_at_mut(4);
    tail[..4].copy_from_slice(&head[..4]);
    UserSlice::new(UserPtr::from_addr(addr), n)
        .writer()
        .write_slice(&data[..n])
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
        selftest_data(cmd.data_uptr, cmd.data_len)?;
    }
    let viommu = Arc::new(Viommu { parent }, GFP_KERNEL_ACCOUNT)?;
    let pending = ictx.objects.reserve(ObjectKind::Viommu(viommu))?;
    cmd.out_viommu_id = pending.id();
    buf.respond(&cmd)?;
    pending.publish();
    Ok(())
}
