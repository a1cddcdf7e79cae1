// SPDX-License-Identifier: GPL-2.0

//! AMD-Vi (drivers/iommu/amd/): PASID alone gives a v2 (first stage) domain,
//! dirty tracking or nest parent a v1; no paging or nested domain implements
//! a PASID attach in Linux 7.3, and nested allocation is not wired to
//! iommufd, so both are `NotSupported`.

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

/// `IOMMU_HW_INFO_TYPE_AMD`.
const HW_INFO_TYPE: u32 = 4;
/// `IOMMU_HWPT_DATA_AMD_GUEST`.
const DATA_AMD_GUEST: u32 = 3;

pub(super) struct AmdVi;

const INFO: ShimInfo = ShimInfo {
    name: "amd-vi",
    hw_info_type: HW_INFO_TYPE,
    // Defined, but not wired to iommufd in 7.3: see `check_nested`.
    nested_data_type: DATA_AMD_GUEST,
    pasid_table_owner: PasidTableOwner::Host,
    // A PASID replace is refused altogether.
    replace_is_hitless: false,
};

impl IommuShim for AmdVi {
    fn info(&self) -> &'static ShimInfo {
        &INFO
    }

    fn pasid_limit(&self, pasmax: u32) -> u32 {
        // EFR.PASMAX + 1 bits, minus one: not a power of two.
        1u32.checked_shl(pasmax.saturating_add(1))
            .map_or(u32::MAX, |n| n - 1)
    }

    fn paging_domain(&self, hw: &Features, flags: u32) -> Result<Domain, ShimError> {
        let v1_flags = ALLOC_DIRTY_TRACKING | ALLOC_NEST_PARENT;
        if flags & !(v1_flags | ALLOC_PASID) != 0 {
            return Err(ShimError::NotSupported);
        }
        match flags {
            0 if hw.second_stage => Ok(Domain::SecondStage),
            0 if hw.first_stage => Ok(Domain::FirstStage),
            ALLOC_PASID if hw.pasid && hw.first_stage => Ok(Domain::FirstStage),
            f if f & ALLOC_PASID == 0 && f & v1_flags != 0 => {
                if (f & ALLOC_DIRTY_TRACKING != 0 && !hw.dirty)
                    || (f & ALLOC_NEST_PARENT != 0 && !hw.nesting)
                    || !hw.second_stage
                {
                    return Err(ShimError::NotSupported);
                }
                Ok(Domain::SecondStage)
            }
            _ => Err(ShimError::NotSupported),
        }
    }

    fn check_nested(
        &self,
        _hw: &Features,
        _flags: u32,
        _data_type: u32,
        _parent: Domain,
        _parent_is_nest_parent: bool,
    ) -> Result<(), ShimError> {
        // The vIOMMU never hooks the nested allocation up in 7.3.
        Err(ShimError::NotSupported)
    }

    fn pasid_attachable(&self, _hw: &Features, kind: Domain) -> Result<(), ShimError> {
        // Only blocking (and SVA, not an iommufd HWPT) sets a PASID.
        match kind {
            Domain::Blocked => Ok(()),
            _ => Err(ShimError::NotSupported),
        }
    }
}
