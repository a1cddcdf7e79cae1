// SPDX-License-Identifier: GPL-2.0

//! The iommufd selftest's mock IOMMU (drivers/iommu/iommufd/selftest.c):
//! every flag combination, nested with PASID, every domain on any PASID,
//! a 20-bit PASID space and no hardware state, so a replace is hitless.

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

/// `IOMMU_HW_INFO_TYPE_SELFTEST`.
const HW_INFO_TYPE: u32 = 0xfeed_beef;
/// `IOMMU_HWPT_DATA_SELFTEST`.
const DATA_SELFTEST: u32 = 0xdead;
/// `MOCK_PASID_WIDTH`.
pub(crate) const MOCK_PASID_WIDTH: u32 = 20;

pub(super) struct Mock;

const INFO: ShimInfo = ShimInfo {
    name: "mock",
    hw_info_type: HW_INFO_TYPE,
    nested_data_type: DATA_SELFTEST,
    pasid_table_owner: PasidTableOwner::GuestWhenNested,
    // No hardware state.
    replace_is_hitless: true,
};

impl IommuShim for Mock {
    fn info(&self) -> &'static ShimInfo {
        &INFO
    }

    fn pasid_limit(&self, _field: u32) -> u32 {
        1 << MOCK_PASID_WIDTH
    }

    fn paging_domain(&self, hw: &Features, flags: u32) -> Result<Domain, ShimError> {
        if flags & !(ALLOC_DIRTY_TRACKING | ALLOC_NEST_PARENT | ALLOC_PASID) != 0
            || (flags & ALLOC_DIRTY_TRACKING != 0 && !hw.dirty)
        {
            return Err(ShimError::NotSupported);
        }
        Ok(Domain::SecondStage)
    }

    fn check_nested(
        &self,
        _hw: &Features,
        flags: u32,
        data_type: u32,
        parent: Domain,
        _parent_is_nest_parent: bool,
    ) -> Result<(), ShimError> {
        if flags & !ALLOC_PASID != 0 || data_type != DATA_SELFTEST {
            return Err(ShimError::NotSupported);
        }
        match parent {
            Domain::FirstStage | Domain::SecondStage => Ok(()),
            _ => Err(ShimError::Invalid),
        }
    }

    fn pasid_attachable(&self, _hw: &Features, _kind: Domain) -> Result<(), ShimError> {
        Ok(())
    }
}
