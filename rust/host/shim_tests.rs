// SPDX-License-Identifier: GPL-2.0

//! Unit tests of `shim/`: the vendor matrix of Linux 7.3.

use crate::shim::*;

const NP: u32 = ALLOC_NEST_PARENT;
const DT: u32 = ALLOC_DIRTY_TRACKING;
const PA: u32 = ALLOC_PASID;
const ALL: Features = Features::ALL;
const NS: Result<Domain, ShimError> = Err(ShimError::NotSupported);

fn paging(kind: IommuKind, flags: u32) -> Result<Domain, ShimError> {
    shim_for(kind).paging_domain(&ALL, flags)
}

#[test]
fn paging_flags_matrix() {
    use Domain::*;
    use IommuKind::*;
    // PASID alone
    assert_eq!(Ok(FirstStage), paging(IntelVtd, PA));
    assert_eq!(Ok(FirstStage), paging(AmdVi, PA));
    assert_eq!(Ok(FirstStage), paging(ArmSmmuV3, PA));
    assert!(paging(Mock, PA).is_ok());
    // NEST_PARENT | PASID
    assert_eq!(Ok(SecondStage), paging(IntelVtd, NP | PA));
    assert_eq!(NS, paging(AmdVi, NP | PA));
    assert_eq!(NS, paging(ArmSmmuV3, NP | PA));
    assert!(paging(Mock, NP | PA).is_ok());
    // DIRTY | PASID
    assert_eq!(Ok(SecondStage), paging(IntelVtd, DT | PA));
    assert_eq!(NS, paging(AmdVi, DT | PA));
    assert_eq!(Ok(FirstStage), paging(ArmSmmuV3, DT | PA));
    // all three
    assert_eq!(Ok(SecondStage), paging(IntelVtd, NP | DT | PA));
    assert_eq!(NS, paging(AmdVi, NP | DT | PA));
    assert_eq!(NS, paging(ArmSmmuV3, NP | DT | PA));
    assert!(paging(Mock, NP | DT | PA).is_ok());
    // nest parent alone is a second stage everywhere
    for k in [IntelVtd, AmdVi, ArmSmmuV3] {
        assert_eq!(Ok(SecondStage), paging(k, NP), "{k:?}");
    }
}

#[test]
fn missing_hardware_is_not_supported() {
    let no_fs = Features {
        first_stage: false,
        ..ALL
    };
    let vtd = shim_for(IommuKind::IntelVtd);
    // VT-d falls back to the second stage without a first.
    assert_eq!(Ok(Domain::SecondStage), vtd.paging_domain(&no_fs, PA));
    let no_nest = Features {
        nesting: false,
        ..ALL
    };
    assert_eq!(NS, vtd.paging_domain(&no_nest, NP));
    let no_dirty = Features {
        dirty: false,
        ..ALL
    };
    assert_eq!(NS, shim_for(IommuKind::Mock).paging_domain(&no_dirty, DT));
    assert_eq!(
        Err(ShimError::NotSupported),
        check_core_paging_flags(DT, false)
    );
    assert_eq!(
        Err(ShimError::NotSupported),
        check_core_paging_flags(1 << 9, true)
    );
    assert_eq!(
        Err(ShimError::NotSupported),
        check_core_paging_flags(ALLOC_FAULT_ID_VALID | NP, true)
    );
    assert_eq!(Ok(()), check_core_paging_flags(NP | DT | PA, true));
}

#[test]
fn nested_rules() {
    let vtd = shim_for(IommuKind::IntelVtd);
    assert_eq!(
        Ok(()),
        vtd.check_nested(&ALL, PA, 1, Domain::SecondStage, true)
    );
    assert_eq!(
        Err(ShimError::NotSupported),
        vtd.check_nested(&ALL, PA, 2, Domain::SecondStage, true)
    );
    assert_eq!(
        Err(ShimError::Invalid),
        vtd.check_nested(&ALL, 0, 1, Domain::FirstStage, true)
    );
    assert_eq!(
        Err(ShimError::Invalid),
        vtd.check_nested(&ALL, 0, 1, Domain::SecondStage, false)
    );
    let smmu = shim_for(IommuKind::ArmSmmuV3);
    assert_eq!(
        Err(ShimError::NotSupported),
        smmu.check_nested(&ALL, PA, 2, Domain::SecondStage, true)
    );
    assert_eq!(
        Err(ShimError::Invalid),
        smmu.check_nested(&ALL, 0, 0xdead, Domain::SecondStage, true)
    );
    assert_eq!(
        Ok(()),
        smmu.check_nested(&ALL, 0, 2, Domain::SecondStage, true)
    );
    let amd = shim_for(IommuKind::AmdVi);
    assert_eq!(
        Err(ShimError::NotSupported),
        amd.check_nested(&ALL, 0, 3, Domain::SecondStage, true)
    );
    let mock = shim_for(IommuKind::Mock);
    assert_eq!(
        Ok(()),
        mock.check_nested(&ALL, PA, 0xdead, Domain::SecondStage, true)
    );
    assert_eq!(
        Err(ShimError::NotSupported),
        mock.check_nested(&ALL, NP, 0xdead, Domain::SecondStage, true)
    );
    assert_eq!(
        Err(ShimError::Invalid),
        mock.check_nested(&ALL, 0, 0xdead, Domain::Nested, true)
    );
}

#[test]
fn what_sits_on_a_pasid() {
    use Domain::*;
    let smmu = shim_for(IommuKind::ArmSmmuV3);
    assert_eq!(Ok(()), smmu.pasid_attachable(&ALL, FirstStage));
    assert_eq!(
        Err(ShimError::Invalid),
        smmu.pasid_attachable(&ALL, SecondStage)
    );
    assert_eq!(
        Err(ShimError::NotSupported),
        smmu.pasid_attachable(&ALL, Nested)
    );
    assert_eq!(
        Err(ShimError::Invalid),
        smmu.rid_allows_pasids(Some(SecondStage))
    );
    assert_eq!(Ok(()), smmu.rid_allows_pasids(Some(Identity)));
    assert_eq!(Ok(()), smmu.rid_allows_pasids(None));
    assert_eq!(Err(ShimError::Busy), smmu.rid_change_with_pasids(Nested));
    let amd = shim_for(IommuKind::AmdVi);
    for k in [FirstStage, SecondStage, Nested] {
        assert_eq!(Err(ShimError::NotSupported), amd.pasid_attachable(&ALL, k));
    }
    let vtd = shim_for(IommuKind::IntelVtd);
    for k in [FirstStage, SecondStage, Nested, Identity, Blocked] {
        assert_eq!(Ok(()), vtd.pasid_attachable(&ALL, k));
    }
    let legacy = Features {
        pasid: false,
        ..ALL
    };
    assert_eq!(
        Err(ShimError::NotSupported),
        vtd.pasid_attachable(&legacy, FirstStage)
    );
}

#[test]
fn pasid_limits_and_widths() {
    assert_eq!(1 << 20, shim_for(IommuKind::IntelVtd).pasid_limit(19));
    assert_eq!((1 << 16) - 1, shim_for(IommuKind::AmdVi).pasid_limit(15));
    assert_eq!(1 << 20, shim_for(IommuKind::ArmSmmuV3).pasid_limit(20));
    assert_eq!(1 << 20, shim_for(IommuKind::Mock).pasid_limit(0));
    // A device's count is the lower of its width and the IOMMU's limit.
    assert_eq!(1 << 20, device_max_pasids(Some(20), 1 << 20));
    assert_eq!(1 << 8, device_max_pasids(Some(8), 1 << 20));
    // AMD's limit is not a power of two: log2 reports a bit less.
    let amd = device_max_pasids(Some(16), shim_for(IommuKind::AmdVi).pasid_limit(15));
    assert_eq!(15, max_pasid_log2(amd));
    // No PASID capability: 0; a mock device without the flag: 1 (RID only).
    assert_eq!(0, device_max_pasids(None, 1 << 20));
    assert_eq!(0, max_pasid_log2(0));
    assert_eq!(1, device_max_pasids(Some(0), 1 << 20));
    assert_eq!(0, max_pasid_log2(1));
    assert_eq!(20, max_pasid_log2(device_max_pasids(Some(20), 1 << 20)));
}

#[test]
fn ownership_and_replace() {
    assert_eq!(
        PasidTableOwner::Host,
        shim_for(IommuKind::IntelVtd).info().pasid_table_owner
    );
    assert_eq!(
        PasidTableOwner::GuestWhenNested,
        shim_for(IommuKind::ArmSmmuV3).info().pasid_table_owner
    );
    assert!(!shim_for(IommuKind::IntelVtd).info().replace_is_hitless);
    assert!(shim_for(IommuKind::ArmSmmuV3).info().replace_is_hitless);
    assert_eq!(0xfeed_beef, shim_for(IommuKind::Mock).info().hw_info_type);
    assert_eq!(4, shim_for(IommuKind::AmdVi).info().hw_info_type);
}
