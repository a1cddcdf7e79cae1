// SPDX-License-Identifier: GPL-2.0

//! The attach rules of a device group, per PASID, as upstream iommufd applies
//! them (drivers/iommu/iommufd/device.c).
//!
//! A group has at most one HWPT per PASID, PASID 0 being the RID; every device
//! of the group attached at a PASID uses that HWPT. These functions only
//! decide: given a view of what the group has, they say whether an attach,
//! replace or detach is allowed and whether the IOMMU driver must be called.
//! The caller keeps the state and calls the driver. Nothing here depends on
//! the kernel crate, so `rust/host` unit tests it. The module builds it in
//! with the device layer that calls it (bind, attach, replace, detach).

#![deny(unsafe_code)]

/// The PASID that stands for the requester ID itself.
pub(crate) const NO_PASID: u32 = 0;

/// Why a change is refused; the caller maps it to an errno.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AttachError {
    /// The device is already attached at this PASID (`EBUSY`).
    Busy,
    /// The HWPT cannot be used here, or nothing is attached to replace
    /// (`EINVAL`).
    Invalid,
}

/// What the attach rules need to know of a HWPT.
pub(crate) trait HwptInfo {
    /// Whether the HWPT was allocated with `IOMMU_HWPT_ALLOC_PASID`.
    fn pasid_compat(&self) -> bool;
    /// Whether `other` is the same HWPT.
    fn same(&self, other: &Self) -> bool;
}

/// A view of one group's attachments.
pub(crate) trait GroupView {
    /// The HWPT type.
    type Hwpt: HwptInfo;
    /// A device of the group.
    type Device: ?Sized;

    /// The HWPT attached at `pasid`, if any.
    fn hwpt_at(&self, pasid: u32) -> Option<&Self::Hwpt>;
    /// Whether `dev` is among the devices attached at `pasid`.
    fn has_device(&self, pasid: u32, dev: &Self::Device) -> bool;
    /// How many devices are attached at `pasid`.
    fn devices_at(&self, pasid: u32) -> usize;
    /// Whether anything is attached at a PASID other than the RID.
    fn any_pasid_attached(&self) -> bool;
}

/// What an allowed attach must do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AttachPlan {
    /// The first device of the group at this PASID: the driver attaches the
    /// domain.
    Driver,
    /// The group is already on this HWPT at this PASID: only bookkeeping.
    Join,
}

/// What an allowed replace must do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ReplacePlan {
    /// The HWPT is the one attached already.
    NoOp,
    /// The driver switches the group's domain at this PASID.
    Driver,
}

/// What a detach must do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DetachPlan {
    /// The device is not attached there: nothing to do.
    NotAttached,
    /// Other devices of the group stay attached: only bookkeeping.
    Leave,
    /// The last device leaves: the driver detaches, and a PASID is left
    /// blocked.
    Driver,
}

/// Whether `hwpt` may serve `pasid` next to what the group has: a PASID needs
/// a PASID-compatible HWPT and, if the RID is attached, a PASID-compatible RID
/// HWPT; the RID needs a PASID-compatible HWPT while any PASID is attached.
fn pasid_compat<G: GroupView>(group: &G, pasid: u32, hwpt: &G::Hwpt) -> Result<(), AttachError> {
    if pasid == NO_PASID {
        if !hwpt.pasid_compat() && group.any_pasid_attached() {
            return Err(AttachError::Invalid);
        }
    } else {
        if !hwpt.pasid_compat() {
            return Err(AttachError::Invalid);
        }
        if group
            .hwpt_at(NO_PASID)
            .is_some_and(|rid| !rid.pasid_compat())
        {
            return Err(AttachError::Invalid);
        }
    }
    Ok(())
}

/// Decides attaching `dev` at `pasid` to `hwpt`, in upstream's order: the
/// same device twice is `Busy`, another HWPT than the group's is `Invalid`,
/// and only a first attach checks PASID compatibility and calls the driver.
pub(crate) fn plan_attach<G: GroupView>(
    group: &G,
    dev: &G::Device,
    pasid: u32,
    hwpt: &G::Hwpt,
) -> Result<AttachPlan, AttachError> {
    match group.hwpt_at(pasid) {
        Some(_) if group.has_device(pasid, dev) => Err(AttachError::Busy),
        Some(current) if !current.same(hwpt) => Err(AttachError::Invalid),
        Some(_) => Ok(AttachPlan::Join),
        None => {
            pasid_compat(group, pasid, hwpt)?;
            Ok(AttachPlan::Driver)
        }
    }
}

/// Decides replacing the HWPT of `dev`'s group at `pasid` with `hwpt`:
/// `Invalid` unless `dev` is attached there; the same HWPT is a no-op.
/// If the driver then fails, the old HWPT stays.
pub(crate) fn plan_replace<G: GroupView>(
    group: &G,
    dev: &G::Device,
    pasid: u32,
    hwpt: &G::Hwpt,
) -> Result<ReplacePlan, AttachError> {
    let Some(current) = group.hwpt_at(pasid) else {
        return Err(AttachError::Invalid);
    };
    if !group.has_device(pasid, dev) {
        return Err(AttachError::Invalid);
    }
    if current.same(hwpt) {
        return Ok(ReplacePlan::NoOp);
    }
    pasid_compat(group, pasid, hwpt)?;
    Ok(ReplacePlan::Driver)
}

/// Decides detaching `dev` at `pasid`. Detaching what is not attached is not
/// an error.
pub(crate) fn plan_detach<G: GroupView>(group: &G, dev: &G::Device, pasid: u32) -> DetachPlan {
    if group.hwpt_at(pasid).is_none() || !group.has_device(pasid, dev) {
        DetachPlan::NotAttached
    } else if group.devices_at(pasid) > 1 {
        DetachPlan::Leave
    } else {
        DetachPlan::Driver
    }
}
