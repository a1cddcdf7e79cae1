// SPDX-License-Identifier: GPL-2.0

//! Bound devices and their attachments: the in-kernel API a VFIO driver (or
//! the selftest's mock devices) uses, `bind`, `attach(pasid, pt_id)`,
//! `replace`, `detach` and `unbind`, with upstream's rules.
//!
//! The attach state is kept per IOMMU group and per PASID, as the IOMMU core
//! attaches groups, not devices: every device of a group at one PASID shares
//! one HWPT. [`crate::pasid_attach`] decides what a change may do; this file
//! keeps the state, takes the references and calls the IOMMU core.
//!
//! Lock order: an IOAS's auto-domain list, then a device's binding, then its
//! group's state, then an IOAS's page table.

#![deny(unsafe_code)]

use kernel::{
    alloc::flags::GFP_KERNEL_ACCOUNT,
    new_mutex,
    prelude::*,
    sync::{
        Arc,
        Mutex, //
    },
};

use crate::{
    hw_pagetable::{
        self,
        Hwpt,
        HwptKind, //
    },
    ictx::Ictx,
    io_pagetable::ReservedBy,
    ioas::Ioas,
    iommu::BoundDev,
    object::{
        ObjRef,
        ObjectKind,
        ObjectType,
        WeakObj, //
    },
    pasid_attach::{
        plan_attach,
        plan_detach,
        plan_replace,
        AttachError,
        AttachPlan,
        DetachPlan,
        GroupView,
        HwptInfo,
        ReplacePlan,
        NO_PASID, //
    },
    uapi::{
        IommuHwInfo,
        IOMMU_HW_INFO_FLAG_INPUT_TYPE, //
    },
    ucmd::UserCmdBuf,
    viommu::{
        Vdevice,
        Viommu, //
    },
    vpasid::Vpasids,
};

impl From<AttachError> for Error {
    fn from(e: AttachError) -> Self {
        match e {
            AttachError::Busy => EBUSY,
            AttachError::Invalid => EINVAL,
        }
    }
}

/// What an attach change gave up: references are dropped as they come (which
/// never frees a HWPT, as the table holds it), and the automatic domain
/// among them, if any, is remembered to destroy once no lock is held. Only
/// the RID can be on an automatic domain, so there is at most one.
pub(crate) struct Released(Option<WeakObj<Hwpt>>);

impl Released {
    fn note(&mut self, r: ObjRef<Hwpt>) {
        if r.is_auto() {
            self.0 = Some(r.downgrade());
        }
    }
}

/// What one PASID of a group is attached to.
struct PasidAttach {
    pasid: u32,
    hwpt: ObjRef<Hwpt>,
    /// The devices attached here, by object id; each holds its own
    /// reference on the HWPT, as upstream counts one user per device.
    devices: KVec<(u32, ObjRef<Hwpt>)>,
}

/// The attach state of one IOMMU group in one iommufd file.
pub(crate) struct GroupState {
    attached: KVec<PasidAttach>,
}

/// An IOMMU group as this file sees it.
#[pin_data]
pub(crate) struct Group {
    key: usize,
    #[pin]
    state: Mutex<GroupState>,
}

impl HwptInfo for ObjRef<Hwpt> {
    fn pasid_compat(&self) -> bool {
        self.pasid_compat
    }

    fn same(&self, other: &Self) -> bool {
        self.serial() == other.serial()
    }
}

impl GroupView for GroupState {
    type Hwpt = ObjRef<Hwpt>;
    type Device = u32;

    fn hwpt_at(&self, pasid: u32) -> Option<&ObjRef<Hwpt>> {
        self.at(pasid).map(|a| &a.hwpt)
    }

    fn has_device(&self, pasid: u32, dev: &u32) -> bool {
        self.at(pasid)
            .is_some_and(|a| a.devices.iter().any(|(d, _)| d == dev))
    }

    fn devices_at(&self, pasid: u32) -> usize {
        self.at(pasid).map_or(0, |a| a.devices.len())
    }

    fn any_pasid_attached(&self) -> bool {
        self.attached.iter().any(|a| a.pasid != NO_PASID)
    }
}

impl GroupState {
    fn at(&self, pasid: u32) -> Option<&PasidAttach> {
        self.attached.iter().find(|a| a.pasid == pasid)
    }

    fn at_mut(&mut self, pasid: u32) -> Option<&mut PasidAttach> {
        self.attached.iter_mut().find(|a| a.pasid == pasid)
    }
}

/// A device bound to an iommufd file.
#[pin_data]
pub(crate) struct Device {
    /// The binding; `None` once unbound, when every lookup sees `ENOENT`.
    #[pin]
    bound: Mutex<Option<BoundDev>>,
    group: Arc<Group>,
    groups: Arc<Mutex<Groups>>,
    /// The device's object id, fixed before it is published.
    id: u32,
    /// The PASIDs the device may use.
    max_pasids: u32,
    /// The file's vPASID translation, which restricts the untranslated
    /// PASID path and which the device leaves when it unbinds.
    vpasids: Vpasids,
    /// Its vDEVICE, if it has one: the object id and its vIOMMU.
    #[pin]
    vdev: Mutex<Option<(WeakObj<Vdevice>, WeakObj<Viommu>)>>,
}

impl ObjectType for Device {
    fn cast(kind: &ObjectKind) -> Option<&Arc<Self>> {
        match kind {
            ObjectKind::Device(d) => Some(d),
            _ => None,
        }
    }
}

/// The groups of one file, shared by their devices.
pub(crate) struct Groups {
    list: KVec<(Arc<Group>, u32)>,
}

impl Groups {
    /// No groups.
    pub(crate) fn new() -> Self {
        Self { list: KVec::new() }
    }

    /// Whether any group has a PASID (not the RID) attached.
    pub(crate) fn any_pasid_attached(&self) -> bool {
        self.list
            .iter()
            .any(|(g, _)| g.state.lock().any_pasid_attached())
    }

    /// Whether a bound device is in IOMMU group `key`.
    pub(crate) fn has(&self, key: usize) -> bool {
        self.list.iter().any(|(g, _)| g.key == key)
    }
}

impl Device {
    /// Binds `dev` to `ictx`, claiming its DMA, and publishes its object.
    /// Returns the driver's reference to it.
    pub(crate) fn bind(ictx: &Ictx, dev: &kernel::device::Device) -> Result<ObjRef<Device>> {
        let owner: *const Ictx = ictx;
        let bound = BoundDev::bind(dev, owner.cast())?;
        let groups = ictx.groups.clone();
        let group = group_get(&groups, bound.group_key())?;
        let max_pasids = bound.max_pasids();
        let (g2, gs2) = (group.clone(), groups.clone());
        let vpasids = ictx.vpasids.clone();
        let res = ictx.objects.reserve_with(move |id, _| {
            let d = Arc::pin_init(
                pin_init!(Device {
                    bound <- new_mutex!(None),
                    group: g2,
                    groups: gs2,
                    id,
                    max_pasids,
                    vpasids,
                    vdev <- new_mutex!(None),
                }),
                GFP_KERNEL_ACCOUNT,
            )?;
            Ok((ObjectKind::Device(d.clone()), d))
        });
        let res = res.and_then(|(pending, d)| Ok((pending.get::<Device>()?, pending, d)));
        match res {
            Ok((driver_ref, pending, d)) => {
                *d.bound.lock() = Some(bound);
                // The caller (the driver) holds `driver_ref` from before the
                // device is visible: `IOMMU_DESTROY` of it is EBUSY until
                // unbound, as upstream.
                pending.publish();
                Ok(driver_ref)
            }
            Err(e) => {
                drop(bound);
                group_put(&groups, &group);
                Err(e)
            }
        }
    }

    /// The object id.
    pub(crate) fn id(&self) -> u32 {
        self.id
    }

    /// Records the device's vDEVICE: `EEXIST` if it has one, `ENOENT` once
    /// unbound.
    pub(crate) fn set_vdevice(&self, me: WeakObj<Vdevice>, viommu: &ObjRef<Viommu>) -> Result {
        if self.bound.lock().is_none() {
            return Err(ENOENT);
        }
        let mut vdev = self.vdev.lock();
        if vdev.is_some() {
            return Err(EEXIST);
        }
        *vdev = Some((me, viommu.downgrade()));
        Ok(())
    }

    /// Forgets vDEVICE `me`, if it is the device's (not merely one with
    /// its id).
    pub(crate) fn clear_vdevice(&self, me: &WeakObj<Vdevice>) {
        let mut vdev = self.vdev.lock();
        if vdev.is_some_and(|(v, _)| v.same(me)) {
            *vdev = None;
        }
    }

    /// A nested HWPT on a vIOMMU translates the guest's view of the
    /// device, which the device needs a vDEVICE on that vIOMMU for: `ENOENT`
    /// otherwise, as the mock and SMMUv3 drivers answer.
    fn check_vdevice(&self, hwpt: &Hwpt) -> Result {
        match hwpt.viommu() {
            Some(v) if !self.vdev.lock().is_some_and(|(_, w)| w.is(v)) => Err(ENOENT),
            _ => Ok(()),
        }
    }

    /// Detaches every attachment and gives the device's DMA back. Later
    /// calls find the device unbound (`ENOENT`). Without `ictx` (the file is
    /// closing) automatic domains are left to the table's teardown.
    pub(crate) fn unbind(&self, ictx: Option<&Ictx>) {
        let mut bound = self.bound.lock();
        let Some(b) = bound.as_ref() else {
            return;
        };
        let mut released = Released(None);
        {
            let mut g = self.group.state.lock();
            // One attachment at a time, without allocating: unbinding
            // cannot fail.
            while let Some(pasid) = g
                .attached
                .iter()
                .find(|a| a.devices.iter().any(|(d, _)| *d == self.id))
                .map(|a| a.pasid)
            {
                Self::detach_locked(&mut g, b, self.id, pasid, &mut released);
            }
        }
        *bound = None;
        drop(bound);
        // Detached from every host PASID above: they can go back.
        self.vpasids.lock().forget_device(self.id);
        group_put(&self.groups, &self.group);
        Self::release(ictx, released);
        // The vDEVICE goes with the device; its id destroys as ENOENT after.
        // It is destroyed as itself: if it is gone already and its id is
        // another object's now, that one stays.
        let vdev = self.vdev.lock().map(|(me, _)| me);
        if let (Some(ictx), Some(me)) = (ictx, vdev) {
            let _ = ictx.objects.destroy_weak::<Vdevice>(&me, &|_| true);
        }
    }

    /// Attaches the device at `pasid` to `pt_id`: a HWPT, or an IOAS whose
    /// automatic domain is found or made (only for the RID in practice, as
    /// automatic domains are not PASID compatible). Returns the HWPT id.
    ///
    /// A PASID that the file's vPASID translation owns (every PASID in
    /// global mode) is `EBUSY` here.
    pub(crate) fn attach(&self, ictx: &Ictx, pasid: u32, pt_id: u32) -> Result<u32> {
        let v = self.vpasids.lock();
        v.check_raw(self.group.key, pasid)?;
        self.change(ictx, pasid, pt_id, false)
    }

    /// Replaces what `pasid` is attached to; on failure nothing changes.
    /// `EBUSY` for a PASID the vPASID translation owns.
    pub(crate) fn replace(&self, ictx: &Ictx, pasid: u32, pt_id: u32) -> Result<u32> {
        let v = self.vpasids.lock();
        v.check_raw(self.group.key, pasid)?;
        self.change(ictx, pasid, pt_id, true)
    }

    /// Attaches (or with `replace` replaces) host PASID `ppasid` for the
    /// vPASID translation, which holds the file's [`Vpasids`] lock.
    pub(crate) fn change_translated(
        &self,
        ictx: &Ictx,
        ppasid: u32,
        pt_id: u32,
        replace: bool,
    ) -> Result<u32> {
        self.change(ictx, ppasid, pt_id, replace)
    }

    /// Detaches host PASID `ppasid` for the vPASID translation, which holds
    /// the file's [`Vpasids`] lock.
    pub(crate) fn detach_translated(&self, ictx: &Ictx, ppasid: u32) {
        self.detach_unchecked(ictx, ppasid);
    }

    /// The file's vPASID translation.
    pub(crate) fn vpasids(&self) -> &Vpasids {
        &self.vpasids
    }

    /// The device's IOMMU group, as an identity.
    pub(crate) fn group_key(&self) -> usize {
        self.group.key
    }

    /// How many PASIDs the device may use; zero without PASID support.
    pub(crate) fn max_pasids(&self) -> u32 {
        self.max_pasids
    }

    /// Whether anything is attached at `pasid` of the device's group.
    pub(crate) fn pasid_in_use(&self, pasid: u32) -> bool {
        self.group.state.lock().at(pasid).is_some()
    }

    /// The id of the HWPT the device's group has at `pasid`.
    pub(crate) fn hwpt_id_at(&self, pasid: u32) -> Option<u32> {
        self.group.state.lock().hwpt_at(pasid).map(|h| h.id())
    }

    /// A PASID of the system-wide pool for this device: `ENOENT` once
    /// unbound, `ENOSPC` if the pool has none below its width.
    pub(crate) fn alloc_global_pasid(&self) -> Result<u32> {
        self.with_bound(|b| b.alloc_global_pasid())
    }

    /// A PASID beyond the device's width is `EINVAL`. A device with no
    /// PASIDs at all (a PCI function without the capability) is not
    /// checked, as the IOMMU core does not: it cannot issue PASID-tagged
    /// DMA, so its PASID attachments are recorded and program nothing. That
    /// is what lets a group mix PASID-capable devices with others.
    fn check_pasid(&self, pasid: u32) -> Result {
        if pasid != NO_PASID && self.max_pasids != 0 && pasid >= self.max_pasids {
            return Err(EINVAL);
        }
        Ok(())
    }

    fn change(&self, ictx: &Ictx, pasid: u32, pt_id: u32, replace: bool) -> Result<u32> {
        let mut released = Released(None);
        let res = self.change_collect(ictx, pasid, pt_id, replace, &mut released);
        // Dropped with no lock held: an automatic domain may go with them.
        Self::release(Some(ictx), released);
        res
    }

    fn change_collect(
        &self,
        ictx: &Ictx,
        pasid: u32,
        pt_id: u32,
        replace: bool,
        released: &mut Released,
    ) -> Result<u32> {
        if let Ok(hwpt) = ictx.objects.get::<Hwpt>(pt_id) {
            self.check_pasid(pasid)?;
            self.do_change(pasid, hwpt, replace, released)?;
            return Ok(pt_id);
        }
        // Any other kind of object is not something to attach to.
        let ioas = ictx.objects.get_typed::<Ioas>(pt_id)?;
        self.check_pasid(pasid)?;
        self.auto_domain(ictx, pasid, ioas, replace, released)
    }

    /// Finds an automatic domain of `ioas` that the device can use, or makes
    /// one, as upstream: an incompatible one (`EINVAL`) is skipped.
    fn auto_domain(
        &self,
        ictx: &Ictx,
        pasid: u32,
        ioas: ObjRef<Ioas>,
        replace: bool,
        released: &mut Released,
    ) -> Result<u32> {
        let mut autos = ioas.auto_hwpts.lock();
        let mut i = 0;
        while i < autos.len() {
            let Ok(hwpt) = autos[i].get(&ictx.objects) else {
                // Destroyed since: forget it.
                let _ = autos.remove(i);
                continue;
            };
            i += 1;
            let id = hwpt.id();
            match self.do_change(pasid, hwpt, replace, released) {
                Ok(()) => return Ok(id),
                Err(e) if e == EINVAL => continue,
                Err(e) => return Err(e),
            }
        }
        // As upstream: a new domain for an attach is attached first and
        // filled after (so that an incompatible device costs no pinning), one
        // for a replace is filled first (so that the switch is hitless).
        let (hwpt, pending) = {
            let bound = self.bound.lock();
            let b = bound.as_ref().ok_or(ENOENT)?;
            hw_pagetable::alloc_auto(ictx, b, ioas.clone_ref()?, replace)?
        };
        autos.reserve(1, GFP_KERNEL_ACCOUNT)?;
        let id = pending.id();
        let weak = hwpt.downgrade();
        let domain = hwpt.domain.clone();
        let this = move |h: &Hwpt| Arc::ptr_eq(&h.domain, &domain);
        // Published before it is attached, while `hwpt` keeps it: a detach
        // racing with us then finds it and can destroy it once it is unused.
        pending.publish();
        let filler = hwpt.clone_ref()?;
        if let Err(e) = self.do_change(pasid, hwpt, replace, released) {
            drop(filler);
            let _ = ictx.objects.destroy_if::<Hwpt>(id, &this);
            return Err(e);
        }
        if !replace {
            if let Err(e) = filler.fill() {
                drop(filler);
                // Detaching leaves the domain unused: it goes with the detach.
                let mut gone = Released(None);
                {
                    let bound = self.bound.lock();
                    if let Some(b) = bound.as_ref() {
                        let mut g = self.group.state.lock();
                        Self::detach_locked(&mut g, b, self.id, pasid, &mut gone);
                    }
                }
                let _ = ictx.objects.destroy_if::<Hwpt>(id, &this);
                return Err(e);
            }
        }
        // Room was reserved above.
        let _ = autos.push_within_capacity(weak);
        Ok(id)
    }

    fn do_change(
        &self,
        pasid: u32,
        hwpt: ObjRef<Hwpt>,
        replace: bool,
        released: &mut Released,
    ) -> Result {
        let bound = self.bound.lock();
        let b = bound.as_ref().ok_or(ENOENT)?;
        if !hwpt.compatible_with(b) {
            return Err(EINVAL);
        }
        let mut g = self.group.state.lock();
        if replace {
            self.replace_locked(&mut g, b, pasid, hwpt, released)
        } else {
            self.attach_locked(&mut g, b, pasid, hwpt)
        }
    }

    fn attach_locked(
        &self,
        g: &mut GroupState,
        b: &BoundDev,
        pasid: u32,
        hwpt: ObjRef<Hwpt>,
    ) -> Result {
        match plan_attach(g, &self.id, pasid, &hwpt)? {
            AttachPlan::Join => {
                let at = g.at_mut(pasid).ok_or(EINVAL)?;
                at.devices.push((self.id, hwpt), GFP_KERNEL_ACCOUNT)?;
            }
            AttachPlan::Driver => {
                g.attached.reserve(1, GFP_KERNEL_ACCOUNT)?;
                let mut devices = KVec::with_capacity(1, GFP_KERNEL_ACCOUNT)?;
                let group_ref = hwpt.clone_ref()?;
                self.check_vdevice(&hwpt)?;
                let resv = rid_ioas(pasid, &hwpt);
                if let Some(ioas) = &resv {
                    reserve_group(b, ioas)?;
                }
                if let Err(e) = b.attach(pasid, &hwpt.domain, self.id, hwpt.fault_queue()) {
                    if let Some(ioas) = &resv {
                        unreserve_group(b, ioas);
                    }
                    return Err(e);
                }
                // Room was reserved for both pushes above.
                let _ = devices.push_within_capacity((self.id, hwpt));
                let _ = g.attached.push_within_capacity(PasidAttach {
                    pasid,
                    hwpt: group_ref,
                    devices,
                });
            }
        }
        Ok(())
    }

    fn replace_locked(
        &self,
        g: &mut GroupState,
        b: &BoundDev,
        pasid: u32,
        hwpt: ObjRef<Hwpt>,
        released: &mut Released,
    ) -> Result {
        if plan_replace(g, &self.id, pasid, &hwpt)? == ReplacePlan::NoOp {
            return Ok(());
        }
        let n = g.devices_at(pasid);
        // Take every reference the new HWPT needs before touching anything.
        let mut refs = KVec::with_capacity(n + 1, GFP_KERNEL_ACCOUNT)?;
        for _ in 0..n {
            refs.push(hwpt.clone_ref()?, GFP_KERNEL_ACCOUNT)?;
        }
        self.check_vdevice(&hwpt)?;
        // The group's holes move with its RID to another IOAS, before the
        // switch, so that a failure changes nothing.
        let old = g
            .attached
            .iter()
            .find(|a| a.pasid == pasid)
            .and_then(|a| rid_ioas(pasid, &a.hwpt));
        let new = rid_ioas(pasid, &hwpt);
        let same = |a: &Option<Arc<Ioas>>, b: &Option<Arc<Ioas>>| match (a, b) {
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            _ => false,
        };
        let moved = !same(&old, &new);
        if let (true, Some(ioas)) = (moved, &new) {
            reserve_group(b, ioas)?;
        }
        if let Err(e) = b.replace(pasid, &hwpt.domain, self.id, hwpt.fault_queue()) {
            if let (true, Some(ioas)) = (moved, &new) {
                unreserve_group(b, ioas);
            }
            return Err(e);
        }
        if let (true, Some(ioas)) = (moved, &old) {
            unreserve_group(b, ioas);
        }
        let at = g.at_mut(pasid).ok_or(EINVAL)?;
        released.note(core::mem::replace(&mut at.hwpt, hwpt));
        for (_, r) in at.devices.iter_mut() {
            if let Some(new) = refs.pop() {
                released.note(core::mem::replace(r, new));
            }
        }
        Ok(())
    }

    /// Detaches the device at `pasid`; nothing attached is not an error.
    /// A PASID that the vPASID translation owns is left alone (it is
    /// detached by vPASID).
    pub(crate) fn detach(&self, ictx: &Ictx, pasid: u32) {
        let v = self.vpasids.lock();
        if v.check_raw(self.group.key, pasid).is_err() {
            return;
        }
        self.detach_unchecked(ictx, pasid);
    }

    fn detach_unchecked(&self, ictx: &Ictx, pasid: u32) {
        let mut released = Released(None);
        {
            let bound = self.bound.lock();
            let Some(b) = bound.as_ref() else {
                return;
            };
            let mut g = self.group.state.lock();
            Self::detach_locked(&mut g, b, self.id, pasid, &mut released);
        }
        Self::release(Some(ictx), released);
    }

    fn detach_locked(
        g: &mut GroupState,
        b: &BoundDev,
        id: u32,
        pasid: u32,
        released: &mut Released,
    ) {
        let plan = plan_detach(g, &id, pasid);
        let Some(pos) = g.attached.iter().position(|a| a.pasid == pasid) else {
            return;
        };
        match plan {
            DetachPlan::NotAttached => {}
            DetachPlan::Leave => {
                let at = &mut g.attached[pos];
                if let Some(i) = at.devices.iter().position(|(d, _)| *d == id) {
                    if let Ok((_, r)) = at.devices.remove(i) {
                        released.note(r);
                    }
                }
            }
            DetachPlan::Driver => {
                let Ok(at) = g.attached.remove(pos) else {
                    return;
                };
                b.detach(pasid, &at.hwpt.domain);
                if let Some(ioas) = rid_ioas(pasid, &at.hwpt) {
                    unreserve_group(b, &ioas);
                }
                for (_, r) in at.devices {
                    released.note(r);
                }
                released.note(at.hwpt);
            }
        }
    }

    /// Drops references given up under the locks, then destroys automatic
    /// domains nothing uses any more, as upstream does on detach.
    fn release(ictx: Option<&Ictx>, released: Released) {
        let (Some(ictx), Some(weak)) = (ictx, released.0) else {
            return;
        };
        // Still in use by another device (EBUSY): it stays. Destroyed as
        // itself: if it went meanwhile, a later object with its id stays.
        let _ = ictx.objects.destroy_weak::<Hwpt>(&weak, &|h| h.is_auto());
    }

    /// Whether the IOMMU core has `hwpt`'s domain (or nothing, for `None`)
    /// at `pasid` of this device. Only the selftest asks.
    #[cfg(iommufd_rs_selftest)]
    pub(crate) fn attached_is(&self, pasid: u32, hwpt: Option<&Hwpt>) -> Result<bool> {
        let bound = self.bound.lock();
        let b = bound.as_ref().ok_or(ENOENT)?;
        Ok(b.attached_is(pasid, hwpt.map(|h| &*h.domain)))
    }

    /// Runs `f` with the binding: `ENOENT` once unbound.
    pub(crate) fn with_bound<R>(&self, f: impl FnOnce(&BoundDev) -> Result<R>) -> Result<R> {
        let bound = self.bound.lock();
        f(bound.as_ref().ok_or(ENOENT)?)
    }
}

/// The IOAS whose holes the group's reserved regions become when its RID is
/// on `hwpt`: a paging HWPT's, for the RID only, as upstream.
fn rid_ioas(pasid: u32, hwpt: &Hwpt) -> Option<Arc<Ioas>> {
    match &hwpt.kind {
        HwptKind::Paging { ioas, .. } if pasid == NO_PASID => Some(ioas.arc()),
        _ => None,
    }
}

/// Makes the reserved regions of `b`'s group holes in `ioas`: `EADDRINUSE`
/// if something is mapped there.
fn reserve_group(b: &BoundDev, ioas: &Ioas) -> Result {
    let ranges = b.group_resv_regions()?;
    ioas.iopt
        .lock()
        .reserve_all(&ranges, ReservedBy::Group(b.group_key()))
}

/// Gives the holes of `b`'s group in `ioas` back.
fn unreserve_group(b: &BoundDev, ioas: &Ioas) {
    ioas.iopt.lock().unreserve(ReservedBy::Group(b.group_key()));
}

/// The file's state of IOMMU group `key`, shared by its devices.
fn group_get(groups: &Mutex<Groups>, key: usize) -> Result<Arc<Group>> {
    let mut groups = groups.lock();
    if let Some((g, n)) = groups.list.iter_mut().find(|(g, _)| g.key == key) {
        *n += 1;
        return Ok(g.clone());
    }
    let g = Arc::pin_init(
        pin_init!(Group {
            key,
            state <- new_mutex!(GroupState {
                attached: KVec::new()
            }),
        }),
        GFP_KERNEL_ACCOUNT,
    )?;
    groups.list.push((g.clone(), 1), GFP_KERNEL_ACCOUNT)?;
    Ok(g)
}

/// One device of `group` less; the last one forgets it.
fn group_put(groups: &Mutex<Groups>, group: &Arc<Group>) {
    let mut groups = groups.lock();
    if let Some(i) = groups.list.iter().position(|(g, _)| g.key == group.key) {
        groups.list[i].1 -= 1;
        if groups.list[i].1 == 0 {
            drop(groups.list.remove(i));
        }
    }
}

/// `IOMMU_GET_HW_INFO`.
pub(crate) fn get_hw_info_ioctl(
    ictx: &Ictx,
    buf: &mut UserCmdBuf<'_>,
    mut cmd: IommuHwInfo,
) -> Result {
    use kernel::uaccess::{
        UserPtr,
        UserSlice, //
    };

    if cmd.flags & !IOMMU_HW_INFO_FLAG_INPUT_TYPE != 0 || cmd.__reserved != [0; 3] {
        return Err(EOPNOTSUPP);
    }
    let in_type = if cmd.flags & IOMMU_HW_INFO_FLAG_INPUT_TYPE != 0 {
        cmd.in_data_type()
    } else {
        0
    };
    let dev = ictx.objects.get::<Device>(cmd.dev_id)?;
    let (ty, data, caps, max_pasids) = dev.with_bound(|b| {
        let (ty, data) = b.hw_info(in_type)?;
        Ok((ty, data, b.caps(), b.max_pasids()))
    })?;
    let want = cmd.data_len as usize;
    let copy = want.min(data.len());
    let addr = usize::try_from(cmd.data_uptr).map_err(|_| EFAULT)?;
    if want != 0 {
        let mut w = UserSlice::new(UserPtr::from_addr(addr), want).writer();
        w.write_slice(data.get(..copy).ok_or(EINVAL)?)?;
        // Zero what the user buffer has beyond the driver's data.
        let zeros = [0u8; 64];
        let mut left = want - copy;
        while left != 0 {
            let n = left.min(zeros.len());
            w.write_slice(&zeros[..n])?;
            left -= n;
        }
    }
    cmd.data_len = u32::try_from(data.len()).map_err(|_| EOVERFLOW)?;
    cmd.set_out_data_type(ty);
    cmd.out_capabilities = caps;
    cmd.out_max_pasid_log2 = if max_pasids != 0 {
        (31 - max_pasids.leading_zeros()) as u8
    } else {
        0
    };
    buf.respond(&cmd)
}
