// SPDX-License-Identifier: GPL-2.0

//! Per-vendor IOMMU shims: what differs between IOMMU families for PASID.
//!
//! One trait captures the differences: which paging domain an
//! `IOMMU_HWPT_ALLOC` flag combination gives, which nested data a vendor
//! takes, which domains can sit on a PASID, what the RID must be on, who owns
//! the PASID table, the `IOMMU_GET_HW_INFO` type and whether replacing a
//! PASID's domain is hitless. A device's shim is selected once, from its
//! IOMMU, with [`shim_for`]; one file per vendor implements it. The rules
//! are read from the Linux 7.3 drivers and are pure decisions, so that
//! `rust/host` unit tests them; the module builds them in with the device
//! layer that consults them.

#![deny(unsafe_code)]

mod amd_vi;
mod arm_smmu_v3;
mod intel_vtd;
mod mock;

/// `IOMMU_HWPT_ALLOC_NEST_PARENT`.
pub(crate) const ALLOC_NEST_PARENT: u32 = 1 << 0;
/// `IOMMU_HWPT_ALLOC_DIRTY_TRACKING`.
pub(crate) const ALLOC_DIRTY_TRACKING: u32 = 1 << 1;
/// `IOMMU_HWPT_ALLOC_FAULT_ID_VALID`.
pub(crate) const ALLOC_FAULT_ID_VALID: u32 = 1 << 2;
/// `IOMMU_HWPT_ALLOC_PASID`.
pub(crate) const ALLOC_PASID: u32 = 1 << 3;

/// Why a shim refuses; the caller maps it to an errno.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ShimError {
    /// `EOPNOTSUPP`.
    NotSupported,
    /// `EINVAL`.
    Invalid,
    /// `EBUSY`.
    Busy,
}

/// The kinds of domain the PASID rules tell apart. Vendor names map onto
/// them: VT-d first/second stage, AMD v2/v1, SMMUv3 S1/S2.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Domain {
    /// Translates with the CPU page-table format (VT-d FS, AMD v2, SMMU S1).
    FirstStage,
    /// Translates with the IOMMU's own format (VT-d SS, AMD v1, SMMU S2).
    SecondStage,
    /// A user-owned stage on top of a nest parent.
    Nested,
    /// No translation.
    Identity,
    /// No DMA.
    Blocked,
}

/// What a vendor's hardware offers, decoded from its registers.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Features {
    /// First-stage translation (VT-d FLTS, SMMU S1, AMD GT/v2).
    pub(crate) first_stage: bool,
    /// Second-stage translation (VT-d SLTS, SMMU S2, AMD v1).
    pub(crate) second_stage: bool,
    /// Nesting.
    pub(crate) nesting: bool,
    /// Dirty tracking.
    pub(crate) dirty: bool,
    /// PASID support (VT-d scalable mode with PASID, AMD GT, SMMU SSIDs).
    pub(crate) pasid: bool,
}

impl Features {
    /// Everything, as a mock or a fully capable IOMMU has.
    pub(crate) const ALL: Features = Features {
        first_stage: true,
        second_stage: true,
        nesting: true,
        dirty: true,
        pasid: true,
    };
}

/// Who writes the PASID table of a device.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PasidTableOwner {
    /// Always the host kernel (VT-d).
    Host,
    /// The host, or the guest through nested data (SMMUv3 CD table, the
    /// mock's `user_pasid_table`).
    GuestWhenNested,
}

/// The IOMMU families.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum IommuKind {
    /// Intel VT-d.
    IntelVtd,
    /// AMD-Vi.
    AmdVi,
    /// ARM SMMUv3.
    ArmSmmuV3,
    /// The iommufd selftest's mock IOMMU.
    Mock,
}

/// The fixed facts of an IOMMU family.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ShimInfo {
    /// A name for messages.
    pub(crate) name: &'static str,
    /// The `IOMMU_HW_INFO_TYPE_*` that `IOMMU_GET_HW_INFO` reports.
    pub(crate) hw_info_type: u32,
    /// The `IOMMU_HWPT_DATA_*` type of nested data.
    pub(crate) nested_data_type: u32,
    /// Who owns the PASID table.
    pub(crate) pasid_table_owner: PasidTableOwner,
    /// Whether replacing a PASID's domain never blocks DMA in between.
    pub(crate) replace_is_hitless: bool,
}

/// What differs between IOMMU families for PASID.
pub(crate) trait IommuShim: Sync {
    /// The family's fixed facts.
    fn info(&self) -> &'static ShimInfo;

    /// The number of PASIDs the IOMMU supports, from its register field
    /// (VT-d ECAP.PSS, AMD EFR.PASMAX, SMMUv3 IDR1.SSIDSIZE).
    fn pasid_limit(&self, field: u32) -> u32;

    /// The paging domain `flags` give on `hw`, after the core's checks.
    fn paging_domain(&self, hw: &Features, flags: u32) -> Result<Domain, ShimError>;

    /// Whether a nested domain may be allocated with `flags` and user data
    /// of `data_type` on a `parent` that is (or is not) a nest parent.
    fn check_nested(
        &self,
        hw: &Features,
        flags: u32,
        data_type: u32,
        parent: Domain,
        parent_is_nest_parent: bool,
    ) -> Result<(), ShimError>;

    /// Whether a domain of `kind` can be attached to a PASID.
    fn pasid_attachable(&self, hw: &Features, kind: Domain) -> Result<(), ShimError>;

    /// Whether PASIDs may be attached while the RID is on `rid` (`None`:
    /// nothing attached, the device's default). Most families do not care.
    fn rid_allows_pasids(&self, _rid: Option<Domain>) -> Result<(), ShimError> {
        Ok(())
    }

    /// Whether the RID may move to `kind` while PASIDs are attached.
    fn rid_change_with_pasids(&self, _kind: Domain) -> Result<(), ShimError> {
        Ok(())
    }
}

/// The shim of an IOMMU family.
pub(crate) fn shim_for(kind: IommuKind) -> &'static dyn IommuShim {
    match kind {
        IommuKind::IntelVtd => &intel_vtd::IntelVtd,
        IommuKind::AmdVi => &amd_vi::AmdVi,
        IommuKind::ArmSmmuV3 => &arm_smmu_v3::ArmSmmuV3,
        IommuKind::Mock => &mock::Mock,
    }
}

/// The checks the IOMMU core makes on paging allocation flags before any
/// driver sees them: unknown flags, dirty tracking without the capability,
/// and a fault id on a nest parent are all `NotSupported`.
/// The shim of the IOMMU family whose `IOMMU_GET_HW_INFO` type is `ty`, or
/// `None` for a driver this module has no rules for (the core's own checks
/// and the driver's then decide alone).
pub(crate) fn shim_for_hw_info(ty: u32) -> Option<&'static dyn IommuShim> {
    [
        IommuKind::IntelVtd,
        IommuKind::AmdVi,
        IommuKind::ArmSmmuV3,
        IommuKind::Mock,
    ]
    .into_iter()
    .map(shim_for)
    .find(|s| s.info().hw_info_type == ty)
}

pub(crate) fn check_core_paging_flags(flags: u32, dirty_capable: bool) -> Result<(), ShimError> {
    let known = ALLOC_NEST_PARENT | ALLOC_DIRTY_TRACKING | ALLOC_FAULT_ID_VALID | ALLOC_PASID;
    if flags & !known != 0
        || (flags & ALLOC_DIRTY_TRACKING != 0 && !dirty_capable)
        || (flags & ALLOC_FAULT_ID_VALID != 0 && flags & ALLOC_NEST_PARENT != 0)
    {
        return Err(ShimError::NotSupported);
    }
    Ok(())
}

/// A device's PASID count: the lower of its own width (`None` for a PCI
/// device without a PASID capability, 0 for a platform device with no
/// `pasid-num-bits`) and the IOMMU's limit.
pub(crate) fn device_max_pasids(device_bits: Option<u32>, iommu_limit: u32) -> u32 {
    match device_bits {
        None => 0,
        Some(bits) => 1u32.checked_shl(bits).unwrap_or(u32::MAX).min(iommu_limit),
    }
}

/// `out_max_pasid_log2` of `IOMMU_GET_HW_INFO`.
pub(crate) fn max_pasid_log2(max_pasids: u32) -> u8 {
    max_pasids.checked_ilog2().map_or(0, |l| l as u8)
}
