// SPDX-License-Identifier: GPL-2.0

//! PASID virtualization (`include/uapi/linux/iommufd_rs.h`): a file's PASID
//! mode, attach by vPASID with the kernel choosing the host PASID, and the
//! vPASID to pPASID lookup a mediation path uses.
//!
//! [`crate::vpasid_map`] decides; this file keeps the file's mappings,
//! allocates and frees host PASIDs, and drives the device layer, which
//! enforces upstream's group rules on the pPASID as on any PASID.
//!
//! Lock order: the file's [`VpasidState`] comes before everything of the
//! device layer (a device's binding, its group's state, the file's group
//! list), so that a translated change and the untranslated path that it
//! restricts are one step each.

#![deny(unsafe_code)]

use kernel::{
    alloc::flags::GFP_KERNEL_ACCOUNT,
    prelude::*,
    sync::{
        Arc,
        Mutex, //
    },
};

use crate::{
    device::Device,
    ictx::Ictx,
    iommu::free_global_pasid,
    pasid_attach::NO_PASID,
    uapi::*,
    ucmd::UserCmdBuf,
    vpasid_map::{
        self,
        Mapping,
        PasidMode,
        Source,
        VpasidError, //
    },
};

impl From<VpasidError> for Error {
    fn from(e: VpasidError) -> Self {
        match e {
            VpasidError::Busy => EBUSY,
            VpasidError::Invalid => EINVAL,
            VpasidError::NoSpace => ENOSPC,
        }
    }
}

/// The PASID translation state of one file, shared with its devices (which
/// drop their mappings when they unbind).
pub(crate) struct VpasidState {
    mode: PasidMode,
    maps: KVec<Mapping>,
}

/// A file's [`VpasidState`], as the file and its devices hold it.
pub(crate) type Vpasids = Arc<Mutex<VpasidState>>;

impl VpasidState {
    /// Per-RID mode, nothing mapped.
    pub(crate) fn new() -> Self {
        Self {
            mode: PasidMode::PerRid,
            maps: KVec::new(),
        }
    }

    /// Whether the untranslated path may use `pasid` of group `scope`:
    /// `EBUSY` in global mode or where a translation holds it. The RID is
    /// never the translation's.
    pub(crate) fn check_raw(&self, scope: usize, pasid: u32) -> Result {
        if pasid == NO_PASID {
            return Ok(());
        }
        Ok(vpasid_map::check_raw(&self.maps, self.mode, scope, pasid)?)
    }

    /// Removes mapping `i`, giving its host PASID back to the pool if it
    /// was the last use of one. The device is detached from it already.
    fn remove(&mut self, i: usize) -> Option<Mapping> {
        let m = self.maps.remove(i).ok()?;
        if vpasid_map::frees_global(&self.maps, &m) {
            free_global_pasid(m.ppasid);
        }
        Some(m)
    }

    /// Forgets device `dev`'s mappings; it has just detached them all by
    /// unbinding.
    pub(crate) fn forget_device(&mut self, dev: u32) {
        while let Some(i) = self.maps.iter().position(|m| m.dev == dev) {
            self.remove(i);
        }
    }
}

impl Drop for VpasidState {
    fn drop(&mut self) {
        // Every device forgets its mappings as it unbinds, before the last
        // reference goes; a global PASID still here would leak from the
        // pool, so give it back anyway.
        while let Some(last) = self.maps.len().checked_sub(1) {
            self.remove(last);
        }
    }
}

/// The host PASID of `dev` at `vpasid`, for a mediation path: `ENOENT` if
/// the device is not attached there.
pub(crate) fn lookup(dev: &Device, vpasid: u32) -> Result<u32> {
    let v = dev.vpasids().lock();
    vpasid_map::find(&v.maps, dev.id(), vpasid)
        .map(|(_, m)| m.ppasid)
        .ok_or(ENOENT)
}

/// A vPASID is 1 to `IOMMU_RS_VPASID_LIMIT - 1`: 0 is the RID.
fn check_vpasid(vpasid: u32) -> Result {
    if vpasid == NO_PASID || vpasid >= IOMMU_RS_VPASID_LIMIT {
        return Err(EINVAL);
    }
    Ok(())
}

/// Attaches `dev` at `vpasid` to HWPT `pt_id`, or replaces the HWPT there
/// with `replace`. Returns the host PASID.
pub(crate) fn change(
    ictx: &Ictx,
    dev: &Device,
    vpasid: u32,
    pt_id: u32,
    replace: bool,
) -> Result<u32> {
    check_vpasid(vpasid)?;
    let mut v = dev.vpasids().lock();
    if replace {
        let ppasid = vpasid_map::plan_replace(&v.maps, dev.id(), vpasid)?;
        dev.change_translated(ictx, ppasid, pt_id, true)?;
        return Ok(ppasid);
    }
    // A device that cannot tag its DMA with a PASID has no use for one:
    // the IOMMU core gives it no PASIDs, or PASID 0 (the RID) alone.
    let limit = dev.max_pasids();
    if limit <= 1 {
        return Err(EINVAL);
    }
    let scope = dev.group_key();
    let source = vpasid_map::plan_attach(&v.maps, v.mode, dev.id(), scope, vpasid)?;
    v.maps.reserve(1, GFP_KERNEL_ACCOUNT)?;
    let (ppasid, global) = match source {
        Source::Existing(p) => (p, v.mode == PasidMode::Global),
        Source::Group => (
            vpasid_map::lowest_free(&v.maps, scope, limit, |p| dev.pasid_in_use(p))?,
            false,
        ),
        Source::Global => (dev.alloc_global_pasid()?, true),
    };
    if let Err(e) = dev.change_translated(ictx, ppasid, pt_id, false) {
        if source == Source::Global {
            free_global_pasid(ppasid);
        }
        return Err(e);
    }
    // Room was reserved above.
    let _ = v.maps.push_within_capacity(Mapping {
        dev: dev.id(),
        scope,
        vpasid,
        ppasid,
        global,
    });
    Ok(ppasid)
}

/// Detaches `dev` at `vpasid`; nothing attached there is not an error.
pub(crate) fn detach(ictx: &Ictx, dev: &Device, vpasid: u32) -> Result {
    check_vpasid(vpasid)?;
    let mut v = dev.vpasids().lock();
    if let Some((i, m)) = vpasid_map::find(&v.maps, dev.id(), vpasid) {
        let ppasid = m.ppasid;
        dev.detach_translated(ictx, ppasid);
        v.remove(i);
    }
    Ok(())
}

/// `IOMMU_RS_PASID_MODE`.
pub(crate) fn mode_ioctl(
    ictx: &Ictx,
    buf: &mut UserCmdBuf<'_>,
    mut cmd: IommuRsPasidMode,
) -> Result {
    if cmd.__reserved != 0 {
        return Err(EOPNOTSUPP);
    }
    match cmd.op {
        IOMMU_OPTION_OP_SET => {
            let mode = match cmd.mode {
                IOMMU_RS_PASID_MODE_PER_RID => PasidMode::PerRid,
                IOMMU_RS_PASID_MODE_GLOBAL => PasidMode::Global,
                _ => return Err(EINVAL),
            };
            let mut v = ictx.vpasids.lock();
            // As upstream's RLIMIT_MODE, even the mode the file has: the
            // rule does not depend on the value.
            if !v.maps.is_empty() || ictx.groups.lock().any_pasid_attached() {
                return Err(EBUSY);
            }
            v.mode = mode;
            Ok(())
        }
        IOMMU_OPTION_OP_GET => {
            cmd.mode = match ictx.vpasids.lock().mode {
                PasidMode::PerRid => IOMMU_RS_PASID_MODE_PER_RID,
                PasidMode::Global => IOMMU_RS_PASID_MODE_GLOBAL,
            };
            buf.respond(&cmd)
        }
        _ => Err(EOPNOTSUPP),
    }
}

/// `IOMMU_RS_VPASID_ATTACH`.
pub(crate) fn attach_ioctl(
    ictx: &Ictx,
    buf: &mut UserCmdBuf<'_>,
    mut cmd: IommuRsVpasidAttach,
) -> Result {
    if cmd.flags & !IOMMU_RS_VPASID_REPLACE != 0 {
        return Err(EOPNOTSUPP);
    }
    let replace = cmd.flags & IOMMU_RS_VPASID_REPLACE != 0;
    let dev = ictx.objects.get::<Device>(cmd.dev_id)?;
    cmd.out_ppasid = change(ictx, &dev, cmd.vpasid, cmd.pt_id, replace)?;
    if let Err(e) = buf.respond(&cmd) {
        // Userspace cannot learn the mapping: an attach is undone, as the
        // selftest's PASID attach does; a replace keeps its new HWPT.
        if !replace {
            let _ = detach(ictx, &dev, cmd.vpasid);
        }
        return Err(e);
    }
    Ok(())
}

/// `IOMMU_RS_VPASID_DETACH`.
pub(crate) fn detach_ioctl(
    ictx: &Ictx,
    _buf: &mut UserCmdBuf<'_>,
    cmd: IommuRsVpasidDetach,
) -> Result {
    if cmd.flags != 0 {
        return Err(EOPNOTSUPP);
    }
    let dev = ictx.objects.get::<Device>(cmd.dev_id)?;
    detach(ictx, &dev, cmd.vpasid)
}

/// `IOMMU_RS_VPASID_QUERY`.
pub(crate) fn query_ioctl(
    ictx: &Ictx,
    buf: &mut UserCmdBuf<'_>,
    mut cmd: IommuRsVpasidQuery,
) -> Result {
    if cmd.flags != 0 {
        return Err(EOPNOTSUPP);
    }
    check_vpasid(cmd.vpasid)?;
    let dev = ictx.objects.get::<Device>(cmd.dev_id)?;
    {
        let v = dev.vpasids().lock();
        let (_, m) = vpasid_map::find(&v.maps, dev.id(), cmd.vpasid).ok_or(ENOENT)?;
        cmd.out_ppasid = m.ppasid;
        cmd.out_pt_id = dev.hwpt_id_at(m.ppasid).ok_or(ENOENT)?;
    }
    buf.respond(&cmd)
}
