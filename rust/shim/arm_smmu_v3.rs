// SPDX-License-Identifier: GPL-2.0

//! ARM SMMUv3 (drivers/iommu/arm/arm-smmu-v3/): a PASID is a substream ID;
//! only S1 paging and blocked domains sit on one, with the RID on S1, identity
//! or blocked; the guest owns the CD table when nested; a CD is rewritten in
//! place, hitless where the architecture allows.

#![deny(unsafe_code)]

use super::{
    Domain,
    Features,
    IommuShim,
    PasidTableOwner,
    ShimError,
    ShimInfo,
    ALLOC_DIRTY_TRACKING,
    ALLOC_NEST_PARENT,
    ALLOC_PASID, //
};

/// `IOMMU_HW_INFO_TYPE_ARM_SMMUV3`.
const HW_INFO_TYPE: u32 = 2;
/// `IOMMU_HWPT_DATA_ARM_SMMUV3`.
const DATA_ARM_SMMUV3: u32 = 2;

pub(super) struct ArmSmmuV3;

const INFO: ShimInfo = ShimInfo {
    name: "arm-smmu-v3",
    hw_info_type: HW_INFO_TYPE,
    nested_data_type: DATA_ARM_SMMUV3,
    pasid_table_owner: PasidTableOwner::GuestWhenNested,
    // A CD is rewritten in place, without V=0, where it can be.
    replace_is_hitless: true,
};

impl IommuShim for ArmSmmuV3 {
    fn info(&self) -> &'static ShimInfo {
        &INFO
    }

    fn pasid_limit(&self, ssidsize: u32) -> u32 {
        1u32.checked_shl(ssidsize).unwrap_or(u32::MAX)
    }

    fn paging_domain(&self, hw: &Features, flags: u32) -> Result<Domain, ShimError> {
        if flags & !(ALLOC_DIRTY_TRACKING | ALLOC_PASID | ALLOC_NEST_PARENT) != 0 {
            return Err(ShimError::NotSupported);
        }
        match flags {
            0 if hw.first_stage => Ok(Domain::FirstStage),
            0 if hw.second_stage => Ok(Domain::SecondStage),
            ALLOC_NEST_PARENT if hw.nesting && hw.second_stage => Ok(Domain::SecondStage),
            f if f & ALLOC_NEST_PARENT == 0 && f != 0 && hw.first_stage => Ok(Domain::FirstStage),
            _ => Err(ShimError::NotSupported),
        }
    }

    fn check_nested(
        &self,
        hw: &Features,
        flags: u32,
        data_type: u32,
        _parent: Domain,
        _parent_is_nest_parent: bool,
    ) -> Result<(), ShimError> {
        // Only through a vSMMU, which takes no flag at all, not even PASID.
        if !hw.nesting || flags != 0 {
            return Err(ShimError::NotSupported);
        }
        if data_type != DATA_ARM_SMMUV3 {
            return Err(ShimError::Invalid);
        }
        Ok(())
    }

    fn pasid_attachable(&self, hw: &Features, kind: Domain) -> Result<(), ShimError> {
        if !hw.pasid {
            return Err(ShimError::NotSupported);
        }
        match kind {
            Domain::FirstStage | Domain::Blocked => Ok(()),
            Domain::SecondStage => Err(ShimError::Invalid),
            Domain::Nested | Domain::Identity => Err(ShimError::NotSupported),
        }
    }

    fn rid_allows_pasids(&self, rid: Option<Domain>) -> Result<(), ShimError> {
        match rid {
            None | Some(Domain::FirstStage | Domain::Identity | Domain::Blocked) => Ok(()),
            Some(Domain::SecondStage | Domain::Nested) => Err(ShimError::Invalid),
        }
    }

    fn rid_change_with_pasids(&self, kind: Domain) -> Result<(), ShimError> {
        match kind {
            Domain::SecondStage | Domain::Nested => Err(ShimError::Busy),
            _ => Ok(()),
        }
    }
}
