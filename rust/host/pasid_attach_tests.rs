// SPDX-License-Identifier: GPL-2.0

//! Unit tests of `pasid_attach.rs`, through a model group and a fake IOMMU
//! driver that can be told to fail, as upstream's mock does at PASID 1024.

use std::collections::{BTreeMap, BTreeSet};

use crate::pasid_attach::*;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Hw {
    id: u32,
    compat: bool,
}

impl HwptInfo for Hw {
    fn pasid_compat(&self) -> bool {
        self.compat
    }
    fn same(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

const PAGING: Hw = Hw {
    id: 1,
    compat: false,
};
const PAGING2: Hw = Hw {
    id: 2,
    compat: false,
};
const PASID_HW: Hw = Hw {
    id: 3,
    compat: true,
};
const PASID_HW2: Hw = Hw {
    id: 4,
    compat: true,
};

#[derive(Debug, PartialEq)]
enum Err {
    Rule(AttachError),
    Driver,
}

/// A group as the module will keep it, and what the "hardware" holds.
#[derive(Default)]
struct Group {
    attached: BTreeMap<u32, (Hw, BTreeSet<u32>)>,
    hw: BTreeMap<u32, u32>,
    blocked: BTreeSet<u32>,
    fail_driver_at: Option<u32>,
}

impl GroupView for Group {
    type Hwpt = Hw;
    type Device = u32;

    fn hwpt_at(&self, pasid: u32) -> Option<&Hw> {
        self.attached.get(&pasid).map(|(h, _)| h)
    }
    fn has_device(&self, pasid: u32, dev: &u32) -> bool {
        self.attached
            .get(&pasid)
            .is_some_and(|(_, d)| d.contains(dev))
    }
    fn devices_at(&self, pasid: u32) -> usize {
        self.attached.get(&pasid).map_or(0, |(_, d)| d.len())
    }
    fn any_pasid_attached(&self) -> bool {
        self.attached.keys().any(|&p| p != NO_PASID)
    }
}

impl Group {
    fn driver(&mut self, pasid: u32, hw: Hw) -> Result<(), Err> {
        if self.fail_driver_at.take() == Some(pasid) {
            return Err(Err::Driver);
        }
        self.hw.insert(pasid, hw.id);
        self.blocked.remove(&pasid);
        Ok(())
    }

    fn attach(&mut self, dev: u32, pasid: u32, hw: Hw) -> Result<(), Err> {
        match plan_attach(self, &dev, pasid, &hw).map_err(Err::Rule)? {
            AttachPlan::Driver => {
                self.driver(pasid, hw)?;
                self.attached.insert(pasid, (hw, BTreeSet::from([dev])));
            }
            AttachPlan::Join => {
                if let Some((_, d)) = self.attached.get_mut(&pasid) {
                    d.insert(dev);
                }
            }
        }
        Ok(())
    }

    fn replace(&mut self, dev: u32, pasid: u32, hw: Hw) -> Result<(), Err> {
        if plan_replace(self, &dev, pasid, &hw).map_err(Err::Rule)? == ReplacePlan::Driver {
            self.driver(pasid, hw)?;
            if let Some((h, _)) = self.attached.get_mut(&pasid) {
                *h = hw;
            }
        }
        Ok(())
    }

    fn detach(&mut self, dev: u32, pasid: u32) {
        match plan_detach(self, &dev, pasid) {
            DetachPlan::NotAttached => {}
            DetachPlan::Leave => {
                if let Some((_, d)) = self.attached.get_mut(&pasid) {
                    d.remove(&dev);
                }
            }
            DetachPlan::Driver => {
                self.attached.remove(&pasid);
                self.hw.remove(&pasid);
                self.blocked.insert(pasid);
            }
        }
    }
}

#[test]
fn pasid_needs_pasid_compat_hwpt() {
    let mut g = Group::default();
    assert_eq!(Err(Err::Rule(AttachError::Invalid)), g.attach(1, 5, PAGING));
    assert!(g.hw.is_empty());
    // A PASID may be attached while the RID is not.
    assert_eq!(Ok(()), g.attach(1, 5, PASID_HW));
    assert_eq!(Some(&PASID_HW.id), g.hw.get(&5));
}

#[test]
fn compat_is_checked_both_ways() {
    // RID on a plain paging HWPT: no PASID may join.
    let mut g = Group::default();
    g.attach(1, NO_PASID, PAGING).unwrap();
    assert_eq!(
        Err(Err::Rule(AttachError::Invalid)),
        g.attach(1, 7, PASID_HW)
    );
    // RID on a PASID-compatible HWPT: PASIDs may join.
    let mut g = Group::default();
    g.attach(1, NO_PASID, PASID_HW).unwrap();
    assert_eq!(Ok(()), g.attach(1, 7, PASID_HW2));
    // With a PASID attached, the RID may not move to a plain HWPT, by
    // attach or by replace.
    let mut g = Group::default();
    g.attach(1, 7, PASID_HW).unwrap();
    assert_eq!(
        Err(Err::Rule(AttachError::Invalid)),
        g.attach(1, NO_PASID, PAGING)
    );
    g.attach(1, NO_PASID, PASID_HW2).unwrap();
    assert_eq!(
        Err(Err::Rule(AttachError::Invalid)),
        g.replace(1, NO_PASID, PAGING)
    );
    assert_eq!(Some(&PASID_HW2.id), g.hw.get(&NO_PASID));
    // Once the PASID is gone it may.
    g.detach(1, 7);
    assert_eq!(Ok(()), g.replace(1, NO_PASID, PAGING));
}

#[test]
fn double_attach_is_busy_and_groups_share_one_hwpt() {
    let mut g = Group::default();
    g.attach(1, 3, PASID_HW).unwrap();
    assert_eq!(Err(Err::Rule(AttachError::Busy)), g.attach(1, 3, PASID_HW));
    assert_eq!(Err(Err::Rule(AttachError::Busy)), g.attach(1, 3, PASID_HW2));
    // A second device of the group joins the same HWPT without the driver.
    g.fail_driver_at = Some(3);
    assert_eq!(Ok(()), g.attach(2, 3, PASID_HW));
    assert_eq!(2, g.devices_at(3));
    // but cannot bring another one.
    assert_eq!(
        Err(Err::Rule(AttachError::Invalid)),
        g.attach(3, 3, PASID_HW2)
    );
    // RID and PASIDs are independent slots.
    g.fail_driver_at = None;
    assert_eq!(Ok(()), g.attach(1, 4, PASID_HW2));
}

#[test]
fn driver_failure_changes_nothing() {
    // As upstream's mock at PASID 1024: the driver fails the attach.
    let mut g = Group {
        fail_driver_at: Some(1024),
        ..Default::default()
    };
    assert_eq!(Err(Err::Driver), g.attach(1, 1024, PASID_HW));
    assert_eq!(None, g.hwpt_at(1024));
    assert_eq!(Ok(()), g.attach(1, 1024, PASID_HW));
    // A failed replace leaves the old HWPT in place.
    g.fail_driver_at = Some(1024);
    assert_eq!(Err(Err::Driver), g.replace(1, 1024, PASID_HW2));
    assert_eq!(Some(&PASID_HW), g.hwpt_at(1024));
    assert_eq!(Some(&PASID_HW.id), g.hw.get(&1024));
    assert_eq!(Ok(()), g.replace(1, 1024, PASID_HW2));
    assert_eq!(Some(&PASID_HW2.id), g.hw.get(&1024));
}

#[test]
fn replace_rules() {
    let mut g = Group::default();
    // Nothing attached: nothing to replace.
    assert_eq!(
        Err(Err::Rule(AttachError::Invalid)),
        g.replace(1, 9, PASID_HW)
    );
    g.attach(1, 9, PASID_HW).unwrap();
    // Another device of the group, not attached there itself.
    assert_eq!(
        Err(Err::Rule(AttachError::Invalid)),
        g.replace(2, 9, PASID_HW2)
    );
    // The same HWPT is a no-op, even with a failing driver.
    g.fail_driver_at = Some(9);
    assert_eq!(Ok(()), g.replace(1, 9, PASID_HW));
    g.fail_driver_at = None;
    // A PASID cannot be replaced onto a plain HWPT.
    assert_eq!(
        Err(Err::Rule(AttachError::Invalid)),
        g.replace(1, 9, PAGING)
    );
    // The RID can change between plain HWPTs while no PASID is attached.
    let mut g = Group::default();
    g.attach(1, NO_PASID, PAGING).unwrap();
    assert_eq!(Ok(()), g.replace(1, NO_PASID, PAGING2));
}

#[test]
fn detach_leaves_pasid_blocked() {
    let mut g = Group::default();
    g.attach(1, 6, PASID_HW).unwrap();
    g.attach(2, 6, PASID_HW).unwrap();
    // Not attached: a no-op.
    g.detach(3, 6);
    g.detach(1, 7);
    assert_eq!(2, g.devices_at(6));
    // The first leaves, the domain stays for the other.
    g.detach(1, 6);
    assert_eq!(Some(&PASID_HW.id), g.hw.get(&6));
    assert!(!g.blocked.contains(&6));
    // The last leaves: the PASID is blocked, and a new HWPT may come.
    g.detach(2, 6);
    assert_eq!(None, g.hw.get(&6));
    assert!(g.blocked.contains(&6));
    assert_eq!(Ok(()), g.attach(1, 6, PASID_HW2));
    assert!(!g.blocked.contains(&6));
}
