// SPDX-License-Identifier: GPL-2.0

//! Hardware page tables (HWPTs): an IOMMU domain as an iommufd object.
//!
//! A paging HWPT follows an IOAS: its domain gets every area of the IOAS
//! mapped, and so pins the pages. A nested HWPT is a stage-1 table the
//! guest owns, on a nesting-parent paging HWPT or on a vIOMMU. Whether a
//! HWPT may go on a PASID was fixed at allocation (`IOMMU_HWPT_ALLOC_PASID`)
//! and is what [`crate::pasid_attach`] checks.

#![deny(unsafe_code)]

use kernel::{
    alloc::flags::GFP_KERNEL_ACCOUNT,
    prelude::*,
    sync::Arc, //
};

use crate::{
    device::Device,
    fault::Fault,
    ictx::Ictx,
    ioas::Ioas,
    iommu::{
        BoundDev,
        Domain,
        FaultQueue,
        UserData, //
    },
    object::{
        ObjRef,
        ObjectKind,
        ObjectType,
        Pending, //
    },
    shim,
    uapi::{
        IommuHwptAlloc,
        IommuHwptGetDirtyBitmap,
        IommuHwptInvalidate,
        IommuHwptSetDirtyTracking,
        IOMMU_HWPT_ALLOC_NEST_PARENT,
        IOMMU_HWPT_ALLOC_PASID,
        IOMMU_HWPT_DATA_NONE,
        IOMMU_HWPT_DIRTY_TRACKING_ENABLE,
        IOMMU_HWPT_FAULT_ID_VALID,
        IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR,
        IOMMU_HW_CAP_DIRTY_TRACKING, //
    },
    ucmd::UserCmdBuf,
    viommu::Viommu,
};

/// What a HWPT translates through.
pub(crate) enum HwptKind {
    /// A paging domain filled from `ioas`.
    Paging {
        ioas: ObjRef<Ioas>,
        nest_parent: bool,
        /// Made by attaching to an IOAS, and destroyed with its last user.
        auto: bool,
    },
    /// A nested domain on a parent paging HWPT, through a vIOMMU or not.
    Nested {
        #[expect(dead_code, reason = "held only to keep the parent alive")]
        parent: ObjRef<Hwpt>,
        viommu: Option<ObjRef<Viommu>>,
    },
}

/// A hardware page table.
pub(crate) struct Hwpt {
    pub(crate) domain: Arc<Domain>,
    /// Allocated with `IOMMU_HWPT_ALLOC_PASID`.
    pub(crate) pasid_compat: bool,
    fault: Option<ObjRef<Fault>>,
    pub(crate) kind: HwptKind,
}

impl ObjectType for Hwpt {
    fn cast(kind: &ObjectKind) -> Option<&Arc<Self>> {
        match kind {
            ObjectKind::Hwpt(h) => Some(h),
            _ => None,
        }
    }
}

impl Hwpt {
    /// Maps its IOAS into a paging HWPT made unfilled (see [`alloc_auto`]).
    pub(crate) fn fill(&self) -> Result {
        match &self.kind {
            HwptKind::Paging { ioas, .. } => ioas.iopt.lock().add_domain(self.domain.clone()),
            HwptKind::Nested { .. } => Err(EINVAL),
        }
    }

    /// Whether the domain belongs to the device's IOMMU driver.
    pub(crate) fn compatible_with(&self, b: &BoundDev) -> bool {
        b.owns(&self.domain)
    }

    /// The fault queue page faults through this HWPT go to.
    pub(crate) fn fault_queue(&self) -> Option<&FaultQueue> {
        self.fault.as_ref().map(|f| &f.queue)
    }

    /// Whether this is an automatic domain.
    pub(crate) fn is_auto(&self) -> bool {
        matches!(self.kind, HwptKind::Paging { auto: true, .. })
    }

    /// The vIOMMU a nested HWPT was made on, if any.
    pub(crate) fn viommu(&self) -> Option<&ObjRef<Viommu>> {
        match &self.kind {
            HwptKind::Nested {
                viommu: Some(v), ..
            } => Some(v),
            _ => None,
        }
    }

    /// Whether this is a paging HWPT.
    pub(crate) fn is_paging(&self) -> bool {
        matches!(self.kind, HwptKind::Paging { .. })
    }
}

impl Drop for Hwpt {
    fn drop(&mut self) {
        if let HwptKind::Paging { ioas, .. } = &self.kind {
            // Unmaps the IOAS from the domain and lets its pages go.
            ioas.iopt.lock().remove_domain(&self.domain);
        }
    }
}

/// Allocates an automatic paging HWPT for device `b` on `ioas`, filled
/// from it unless `fill` is false (then the caller fills it once attached,
/// as upstream's immediate attach). The object is reserved, not published.
pub(crate) fn alloc_auto<'a>(
    ictx: &'a Ictx,
    b: &BoundDev,
    ioas: ObjRef<Ioas>,
    fill: bool,
) -> Result<(ObjRef<Hwpt>, Pending<'a>)> {
    let args = PagingArgs {
        flags: 0,
        data: None,
        auto: true,
        fill,
        fault_id: None,
    };
    alloc_paging_with(ictx, b, ioas, &args)
}

/// What a paging HWPT is allocated with.
#[derive(Clone, Copy)]
struct PagingArgs<'d> {
    /// `IOMMU_HWPT_ALLOC_*`.
    flags: u32,
    /// The driver's data, if any.
    data: Option<&'d UserData>,
    /// An automatic domain.
    auto: bool,
    /// Filled from the IOAS now (else by the caller, once attached).
    fill: bool,
    /// The fault queue its page faults go to.
    fault_id: Option<u32>,
}

fn alloc_paging_with<'a>(
    ictx: &'a Ictx,
    b: &BoundDev,
    ioas: ObjRef<Ioas>,
    args: &PagingArgs<'_>,
) -> Result<(ObjRef<Hwpt>, Pending<'a>)> {
    let PagingArgs {
        flags,
        data,
        auto,
        fill,
        fault_id,
    } = *args;
    let dirty = b.caps() & u64::from(IOMMU_HW_CAP_DIRTY_TRACKING) != 0;
    shim::check_core_paging_flags(flags, dirty).map_err(shim_errno)?;
    if let Some(rules) = b.shim() {
        rules
            .paging_domain(&features(dirty), flags & !IOMMU_HWPT_FAULT_ID_VALID)
            .map_err(shim_errno)?;
    }
    let none = UserData {
        ty: IOMMU_HWPT_DATA_NONE,
        uptr: 0,
        len: 0,
    };
    let domain = b.alloc_paging(flags & !IOMMU_HWPT_FAULT_ID_VALID, data.unwrap_or(&none))?;
    let domain = Arc::new(domain, GFP_KERNEL_ACCOUNT)?;
    if fill {
        ioas.iopt.lock().add_domain(domain.clone())?;
    }
    // As upstream, the fault queue is looked up once the domain is filled.
    let fault = match fault_id.map(|id| ictx.objects.get::<Fault>(id)).transpose() {
        Ok(f) => f,
        Err(e) => {
            ioas.iopt.lock().remove_domain(&domain);
            return Err(e);
        }
    };
    if fault.is_some() {
        domain.enable_faults();
    }
    let hwpt = Arc::new(
        Hwpt {
            domain,
            pasid_compat: flags & IOMMU_HWPT_ALLOC_PASID != 0,
            fault,
            kind: HwptKind::Paging {
                ioas,
                nest_parent: flags & IOMMU_HWPT_ALLOC_NEST_PARENT != 0,
                auto,
            },
        },
        GFP_KERNEL_ACCOUNT,
    );
    // If the allocation fails, dropping the `Hwpt` takes the domain out of
    // the IOAS again.
    let hwpt = hwpt?;
    let pending = ictx.objects.reserve(ObjectKind::Hwpt(hwpt))?;
    let r = pending.get::<Hwpt>()?;
    Ok((r, pending))
}

/// What the device's IOMMU offers, as far as the core can tell: dirty
/// tracking from the device's capabilities; the rest is left to the driver.
fn features(dirty: bool) -> shim::Features {
    shim::Features {
        dirty,
        ..shim::Features::ALL
    }
}

fn shim_errno(e: shim::ShimError) -> Error {
    match e {
        shim::ShimError::NotSupported => EOPNOTSUPP,
        shim::ShimError::Invalid => EINVAL,
        shim::ShimError::Busy => EBUSY,
    }
}

/// Allocates a nested HWPT on `parent`'s domain.
fn alloc_nested<'a>(
    ictx: &'a Ictx,
    b: &BoundDev,
    parent: ObjRef<Hwpt>,
    viommu: Option<ObjRef<Viommu>>,
    flags: u32,
    data: &UserData,
    fault_id: Option<u32>,
) -> Result<Pending<'a>> {
    // A driver without nested domains refuses before the parent is looked
    // at, as upstream.
    if flags & !(IOMMU_HWPT_FAULT_ID_VALID | IOMMU_HWPT_ALLOC_PASID) != 0
        || data.len == 0
        || !b.can_nest()
    {
        return Err(EOPNOTSUPP);
    }
    match &parent.kind {
        HwptKind::Paging {
            nest_parent: true,
            auto: false,
            ..
        } if b.owns(&parent.domain) => {}
        _ => return Err(EINVAL),
    }
    if let Some(rules) = b.shim() {
        let dirty = b.caps() & u64::from(IOMMU_HW_CAP_DIRTY_TRACKING) != 0;
        rules
            .check_nested(
                &features(dirty),
                flags & !IOMMU_HWPT_FAULT_ID_VALID,
                data.ty,
                shim::Domain::SecondStage,
                true,
            )
            .map_err(shim_errno)?;
    }
    let domain = b.alloc_nested(&parent.domain, flags & !IOMMU_HWPT_FAULT_ID_VALID, data)?;
    let fault = fault_id
        .map(|id| ictx.objects.get::<Fault>(id))
        .transpose()?;
    if fault.is_some() {
        domain.enable_faults();
    }
    let hwpt = Arc::new(
        Hwpt {
            domain: Arc::new(domain, GFP_KERNEL_ACCOUNT)?,
            pasid_compat: flags & IOMMU_HWPT_ALLOC_PASID != 0,
            fault,
            kind: HwptKind::Nested { parent, viommu },
        },
        GFP_KERNEL_ACCOUNT,
    )?;
    ictx.objects.reserve(ObjectKind::Hwpt(hwpt))
}

/// `IOMMU_HWPT_ALLOC`.
pub(crate) fn alloc_ioctl<'a>(
    ictx: &'a Ictx,
    buf: &mut UserCmdBuf<'a>,
    mut cmd: IommuHwptAlloc,
) -> Result {
    if cmd.__reserved != 0 {
        return Err(EOPNOTSUPP);
    }
    if (cmd.data_type == IOMMU_HWPT_DATA_NONE) != (cmd.data_len == 0) {
        return Err(EINVAL);
    }
    let dev = ictx.objects.get::<Device>(cmd.dev_id)?;
    let data = UserData {
        ty: cmd.data_type,
        uptr: cmd.data_uptr,
        len: cmd.data_len,
    };
    let fault_id = (cmd.flags & IOMMU_HWPT_FAULT_ID_VALID != 0).then_some(cmd.fault_id);
    let pending = dev.with_bound(|b| {
        if let Ok(ioas) = ictx.objects.get::<Ioas>(cmd.pt_id) {
            let data = (cmd.data_len != 0).then_some(&data);
            let args = PagingArgs {
                flags: cmd.flags,
                data,
                auto: false,
                fill: true,
                fault_id,
            };
            let (_, p) = alloc_paging_with(ictx, b, ioas, &args)?;
            return Ok(p);
        }
        if let Ok(parent) = ictx.objects.get::<Hwpt>(cmd.pt_id) {
            if !parent.is_paging() {
                return Err(EINVAL);
            }
            return alloc_nested(ictx, b, parent, None, cmd.flags, &data, fault_id);
        }
        if let Ok(viommu) = ictx.objects.get::<Viommu>(cmd.pt_id) {
            let parent = viommu.parent.clone_ref()?;
            return alloc_nested(ictx, b, parent, Some(viommu), cmd.flags, &data, fault_id);
        }
        Err(EINVAL)
    })?;
    cmd.out_hwpt_id = buf.set_new_obj(pending);
    buf.respond(&cmd)
}

/// The most requests one `IOMMU_HWPT_INVALIDATE` may carry, as upstream, so
/// that one call cannot hold the CPU for long.
const INVALIDATE_ENTRY_NUM_MAX: u32 = 1 << 19;

/// `IOMMU_HWPT_INVALIDATE`: `entry_num` always comes back as the number of
/// requests handled, also on failure.
pub(crate) fn invalidate_ioctl(
    ictx: &Ictx,
    buf: &mut UserCmdBuf<'_>,
    mut cmd: IommuHwptInvalidate,
) -> Result {
    let mut done = 0u32;
    let res = (|| {
        if cmd.__reserved != 0 {
            return Err(EOPNOTSUPP);
        }
        if cmd.entry_num != 0
            && (cmd.data_uptr == 0
                || cmd.entry_len == 0
                || u64::from(cmd.entry_len) > crate::iova::PAGE_SIZE
                || cmd.entry_num > INVALIDATE_ENTRY_NUM_MAX)
        {
            return Err(EINVAL);
        }
        if let Ok(hwpt) = ictx.objects.get::<Hwpt>(cmd.hwpt_id) {
            if hwpt.is_paging() {
                return Err(EINVAL);
            }
            done = cmd.entry_num;
            return hwpt.domain.invalidate_user(
                cmd.data_type,
                cmd.data_uptr,
                cmd.entry_len,
                &mut done,
            );
        }
        // The mock vIOMMU here has no device caches to invalidate; any
        // other object is EINVAL.
        ictx.objects.get_typed::<Viommu>(cmd.hwpt_id)?;
        Err(EOPNOTSUPP)
    })();
    cmd.entry_num = done;
    buf.respond(&cmd).map_err(|_| EFAULT)?;
    res
}

/// The paging HWPT `id`: `ENOENT` for anything else, as upstream.
fn get_paging(ictx: &Ictx, id: u32) -> Result<ObjRef<Hwpt>> {
    let hwpt = ictx.objects.get::<Hwpt>(id)?;
    if !hwpt.is_paging() {
        return Err(ENOENT);
    }
    Ok(hwpt)
}

/// `IOMMU_HWPT_SET_DIRTY_TRACKING`. Turning it on first clears the dirty
/// bits of everything mapped, so that the first read is a clean snapshot.
pub(crate) fn set_dirty_tracking_ioctl(
    ictx: &Ictx,
    _buf: &mut UserCmdBuf<'_>,
    cmd: IommuHwptSetDirtyTracking,
) -> Result {
    if cmd.flags & !IOMMU_HWPT_DIRTY_TRACKING_ENABLE != 0 {
        return Err(EOPNOTSUPP);
    }
    let hwpt = get_paging(ictx, cmd.hwpt_id)?;
    let HwptKind::Paging { ioas, .. } = &hwpt.kind else {
        return Err(ENOENT);
    };
    let enable = cmd.flags & IOMMU_HWPT_DIRTY_TRACKING_ENABLE != 0;
    let iopt = ioas.iopt.lock();
    if enable {
        for r in iopt.area_ranges() {
            hwpt.domain
                .clear_dirty(r.start, r.len().ok_or(EOVERFLOW)?)?;
        }
    }
    hwpt.domain.set_dirty_tracking(enable)
}

/// `IOMMU_HWPT_GET_DIRTY_BITMAP`.
pub(crate) fn get_dirty_bitmap_ioctl(
    ictx: &Ictx,
    _buf: &mut UserCmdBuf<'_>,
    cmd: IommuHwptGetDirtyBitmap,
) -> Result {
    if cmd.flags & !IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR != 0 || cmd.__reserved != 0 {
        return Err(EOPNOTSUPP);
    }
    let hwpt = get_paging(ictx, cmd.hwpt_id)?;
    let HwptKind::Paging { ioas, .. } = &hwpt.kind else {
        return Err(ENOENT);
    };
    let iopt = ioas.iopt.lock();
    // The range checks of upstream's iommufd_check_iova_range(), in order.
    if cmd.length == 0 {
        return Err(EINVAL);
    }
    let last = cmd.iova.checked_add(cmd.length - 1).ok_or(EOVERFLOW)?;
    let end = last.wrapping_add(1);
    let align = iopt.iova_alignment();
    if cmd.iova & (align - 1) != 0 || end & (align - 1) != 0 {
        return Err(EINVAL);
    }
    let ps = cmd.page_size;
    if ps == 0 || cmd.iova & ps.wrapping_sub(1) != 0 || end & ps.wrapping_sub(1) != 0 {
        return Err(EINVAL);
    }
    hwpt.domain
        .read_dirty(cmd.iova, cmd.length, ps, cmd.data, cmd.flags)
}
