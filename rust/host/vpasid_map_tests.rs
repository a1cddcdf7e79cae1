// SPDX-License-Identifier: GPL-2.0

//! Unit tests of `vpasid_map.rs`: contexts, allocation and the untranslated
//! path's restrictions, in both modes.

use crate::vpasid_map::*;

const G1: usize = 0x1000;
const G2: usize = 0x2000;

fn map(dev: u32, scope: usize, vpasid: u32, ppasid: u32, global: bool) -> Mapping {
    Mapping {
        dev,
        scope,
        vpasid,
        ppasid,
        global,
    }
}

#[test]
fn first_attach_allocates_per_mode() {
    assert_eq!(
        plan_attach(&[], PasidMode::PerRid, 1, G1, 5),
        Ok(Source::Group)
    );
    assert_eq!(
        plan_attach(&[], PasidMode::Global, 1, G1, 5),
        Ok(Source::Global)
    );
}

#[test]
fn same_device_twice_is_busy() {
    let maps = [map(1, G1, 5, 1, false)];
    assert_eq!(
        plan_attach(&maps, PasidMode::PerRid, 1, G1, 5),
        Err(VpasidError::Busy)
    );
}

#[test]
fn per_rid_context_is_the_group() {
    let maps = [map(1, G1, 5, 3, false)];
    // Another device of the group joins the context...
    assert_eq!(
        plan_attach(&maps, PasidMode::PerRid, 2, G1, 5),
        Ok(Source::Existing(3))
    );
    // ...a device of another group does not...
    assert_eq!(
        plan_attach(&maps, PasidMode::PerRid, 3, G2, 5),
        Ok(Source::Group)
    );
    // ...nor another vPASID of the group.
    assert_eq!(
        plan_attach(&maps, PasidMode::PerRid, 2, G1, 6),
        Ok(Source::Group)
    );
}

#[test]
fn global_context_is_the_file() {
    let maps = [map(1, G1, 5, 77, true)];
    assert_eq!(
        plan_attach(&maps, PasidMode::Global, 3, G2, 5),
        Ok(Source::Existing(77))
    );
    assert_eq!(
        plan_attach(&maps, PasidMode::Global, 3, G2, 6),
        Ok(Source::Global)
    );
}

#[test]
fn lowest_free_skips_the_groups_pasids_only() {
    let maps = [
        map(1, G1, 5, 1, false),
        map(1, G1, 6, 2, false),
        map(2, G2, 5, 3, false),
    ];
    // PASID 3 is another group's: free here. PASID 4 is held upstream's way.
    assert_eq!(lowest_free(&maps, G1, 16, |p| p == 3), Ok(4));
    assert_eq!(lowest_free(&maps, G1, 16, |_| false), Ok(3));
    assert_eq!(lowest_free(&maps, G2, 16, |_| false), Ok(1));
    // PASID 0 is the RID: never handed out, so a width of one has none.
    assert_eq!(
        lowest_free(&[], G1, 1, |_| false),
        Err(VpasidError::NoSpace)
    );
    assert_eq!(
        lowest_free(&maps, G1, 3, |_| false),
        Err(VpasidError::NoSpace)
    );
}

#[test]
fn lowest_free_reuses_a_released_pasid() {
    let maps = [map(1, G1, 6, 2, false)];
    assert_eq!(lowest_free(&maps, G1, 16, |_| false), Ok(1));
}

#[test]
fn replace_needs_the_device_attached() {
    let maps = [map(1, G1, 5, 9, false)];
    assert_eq!(plan_replace(&maps, 1, 5), Ok(9));
    assert_eq!(plan_replace(&maps, 2, 5), Err(VpasidError::Invalid));
    assert_eq!(plan_replace(&maps, 1, 6), Err(VpasidError::Invalid));
}

#[test]
fn untranslated_path_keeps_off_translations() {
    let maps = [map(1, G1, 5, 9, false)];
    assert_eq!(
        check_raw(&maps, PasidMode::PerRid, G1, 9),
        Err(VpasidError::Busy)
    );
    assert_eq!(check_raw(&maps, PasidMode::PerRid, G2, 9), Ok(()));
    assert_eq!(check_raw(&maps, PasidMode::PerRid, G1, 10), Ok(()));
    // In global mode the pool owns every PASID.
    assert_eq!(
        check_raw(&[], PasidMode::Global, G1, 10),
        Err(VpasidError::Busy)
    );
}

#[test]
fn global_pasid_is_freed_with_its_last_user() {
    let a = map(1, G1, 5, 40, true);
    let b = map(2, G2, 5, 40, true);
    assert!(!frees_global(&[b], &a));
    assert!(frees_global(&[], &a));
    // A per-RID PASID never goes to the pool.
    assert!(!frees_global(&[], &map(1, G1, 5, 40, false)));
}

#[test]
fn find_is_per_device() {
    let maps = [map(1, G1, 5, 1, false), map(2, G1, 5, 1, false)];
    assert_eq!(find(&maps, 2, 5).map(|(i, _)| i), Some(1));
    assert!(find(&maps, 3, 5).is_none());
}
