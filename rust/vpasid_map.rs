// SPDX-License-Identifier: GPL-2.0

//! The rules of vPASID translation: which host PASID (pPASID) a device
//! attached at a vPASID gets, when two attachments share one, and which
//! PASIDs the untranslated (upstream) path may no longer use.
//!
//! A file keeps one list of [`Mapping`]s, one per device and vPASID. A
//! *context* is the set of mappings that share one pPASID:
//!
//! - per-RID mode: the mappings of one IOMMU group (the `scope`) at one
//!   vPASID. The IOMMU cannot tell the devices of a group apart (DMA
//!   aliases, multi-device groups), so they have one PASID table, and a
//!   vPASID of the group is one PASID of that table. pPASIDs are allocated
//!   lowest-free in the group's own space.
//! - global mode: the mappings of the whole file at one vPASID. The pPASID
//!   comes from the system-wide pool, so that one guest PASID is one host
//!   PASID on every device, as ENQCMD's CPU-side translation needs.
//!
//! Nothing here depends on the kernel crate: `rust/host` unit tests it.
//! The caller keeps the list, allocates from the global pool, calls the
//! device layer, and maps [`VpasidError`] to an errno.

#![deny(unsafe_code)]

/// Where the file's host PASIDs come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PasidMode {
    /// From each group's own PASID space (the default).
    PerRid,
    /// From the system-wide pool.
    Global,
}

/// One device attached at one vPASID.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Mapping {
    /// The device's object id.
    pub(crate) dev: u32,
    /// The device's IOMMU group, as an identity.
    pub(crate) scope: usize,
    /// The PASID userspace uses.
    pub(crate) vpasid: u32,
    /// The PASID on the wire.
    pub(crate) ppasid: u32,
    /// Whether `ppasid` came from the global pool (and goes back to it).
    pub(crate) global: bool,
}

/// Why a translated attach is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum VpasidError {
    /// The device is already attached at this vPASID (`EBUSY`), or the
    /// PASID is the translation's (`EBUSY` for the upstream path).
    Busy,
    /// Nothing to replace (`EINVAL`).
    Invalid,
    /// No free host PASID (`ENOSPC`).
    NoSpace,
}

/// Where the pPASID of a new attachment comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Source {
    /// The context exists: its pPASID.
    Existing(u32),
    /// A new context in per-RID mode: the lowest free PASID of the group.
    Group,
    /// A new context in global mode: a PASID of the global pool.
    Global,
}

/// Whether mapping `m` is in the context of `vpasid` in group `scope`.
fn in_context(m: &Mapping, mode: PasidMode, scope: usize, vpasid: u32) -> bool {
    m.vpasid == vpasid && (mode == PasidMode::Global || m.scope == scope)
}

/// The mapping of device `dev` at `vpasid`, if it is attached there.
pub(crate) fn find(maps: &[Mapping], dev: u32, vpasid: u32) -> Option<(usize, &Mapping)> {
    maps.iter()
        .enumerate()
        .find(|(_, m)| m.dev == dev && m.vpasid == vpasid)
}

/// Decides a translated attach of `dev` (in group `scope`) at `vpasid`:
/// `Busy` if the device is there already, else the context's pPASID or
/// where a new one comes from.
pub(crate) fn plan_attach(
    maps: &[Mapping],
    mode: PasidMode,
    dev: u32,
    scope: usize,
    vpasid: u32,
) -> Result<Source, VpasidError> {
    if find(maps, dev, vpasid).is_some() {
        return Err(VpasidError::Busy);
    }
    if let Some(m) = maps.iter().find(|m| in_context(m, mode, scope, vpasid)) {
        return Ok(Source::Existing(m.ppasid));
    }
    Ok(match mode {
        PasidMode::PerRid => Source::Group,
        PasidMode::Global => Source::Global,
    })
}

/// The pPASID to replace the HWPT of: `Invalid` unless `dev` is attached at
/// `vpasid`, as upstream's replace of an unattached PASID.
pub(crate) fn plan_replace(maps: &[Mapping], dev: u32, vpasid: u32) -> Result<u32, VpasidError> {
    find(maps, dev, vpasid)
        .map(|(_, m)| m.ppasid)
        .ok_or(VpasidError::Invalid)
}

/// The lowest PASID of group `scope`, from 1 below `limit`, that neither a
/// mapping of the group nor the untranslated path (`raw_used`) holds. The
/// search stops at the first free one, so it looks at no more PASIDs than
/// are in use plus one.
pub(crate) fn lowest_free(
    maps: &[Mapping],
    scope: usize,
    limit: u32,
    raw_used: impl Fn(u32) -> bool,
) -> Result<u32, VpasidError> {
    (1..limit)
        .find(|&p| !raw_used(p) && !maps.iter().any(|m| m.scope == scope && m.ppasid == p))
        .ok_or(VpasidError::NoSpace)
}

/// Whether the untranslated path may attach, replace or detach `pasid` of
/// group `scope`: not at all in global mode (every PASID on the wire then
/// comes from the pool), and not a PASID a translation holds.
pub(crate) fn check_raw(
    maps: &[Mapping],
    mode: PasidMode,
    scope: usize,
    pasid: u32,
) -> Result<(), VpasidError> {
    if mode == PasidMode::Global || maps.iter().any(|m| m.scope == scope && m.ppasid == pasid) {
        return Err(VpasidError::Busy);
    }
    Ok(())
}

/// Whether `removed`, just taken out of `maps`, took the last use of a
/// pPASID of the global pool with it: the caller then gives it back.
pub(crate) fn frees_global(maps: &[Mapping], removed: &Mapping) -> bool {
    removed.global && !maps.iter().any(|m| m.global && m.ppasid == removed.ppasid)
}
