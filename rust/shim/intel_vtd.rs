// SPDX-License-Identifier: GPL-2.0

//! Intel VT-d (drivers/iommu/intel/): the host owns the PASID table, which
//! needs scalable mode; every translating domain, identity and blocking can
//! sit on a PASID; a PASID entry is torn down before the new one is written.

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

/// `IOMMU_HW_INFO_TYPE_INTEL_VTD`.
const HW_INFO_TYPE: u32 = 1;
/// `IOMMU_HWPT_DATA_VTD_S1`.
const DATA_VTD_S1: u32 = 1;

pub(super) struct IntelVtd;

const INFO: ShimInfo = ShimInfo {
    name: "intel-vtd",
    hw_info_type: HW_INFO_TYPE,
    nested_data_type: DATA_VTD_S1,
    pasid_table_owner: PasidTableOwner::Host,
    // The old PASID entry is torn down before the new one is written.
    replace_is_hitless: false,
};

impl IommuShim for IntelVtd {
    fn info(&self) -> &'static ShimInfo {
        &INFO
    }

    fn pasid_limit(&self, pss: u32) -> u32 {
        // ECAP.PSS = N means N + 1 PASID bits.
        2u32.checked_shl(pss).unwrap_or(u32::MAX)
    }

    fn paging_domain(&self, hw: &Features, flags: u32) -> Result<Domain, ShimError> {
        // First stage for no flag or PASID alone, when the hardware has one;
        // everything else, or no first stage, falls to the second stage.
        if flags & !ALLOC_PASID == 0 && hw.first_stage {
            return Ok(Domain::FirstStage);
        }
        if flags & ALLOC_NEST_PARENT != 0 && !hw.nesting {
            return Err(ShimError::NotSupported);
        }
        if flags & ALLOC_DIRTY_TRACKING != 0 && !hw.dirty {
            return Err(ShimError::NotSupported);
        }
        if !hw.second_stage {
            return Err(ShimError::NotSupported);
        }
        Ok(Domain::SecondStage)
    }

    fn check_nested(
        &self,
        hw: &Features,
        flags: u32,
        data_type: u32,
        parent: Domain,
        parent_is_nest_parent: bool,
    ) -> Result<(), ShimError> {
        if !hw.nesting || flags & !ALLOC_PASID != 0 || data_type != DATA_VTD_S1 {
            return Err(ShimError::NotSupported);
        }
        if parent != Domain::SecondStage || !parent_is_nest_parent {
            return Err(ShimError::Invalid);
        }
        Ok(())
    }

    fn pasid_attachable(&self, hw: &Features, _kind: Domain) -> Result<(), ShimError> {
        if hw.pasid {
            Ok(())
        } else {
            Err(ShimError::NotSupported)
        }
    }
}
