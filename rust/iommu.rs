// SPDX-License-Identifier: GPL-2.0

//! The IOMMU core, as safe types: bound devices, domains, attachments and
//! page fault queues.
//!
//! Part of the FFI layer (with `glue.rs`, `miscdev.rs` and `mock.rs`): every
//! `unsafe` call of the device layer lives here; the C side is
//! `glue/iommufd_rs_iommu.c`. The types carry the ownership the C API
//! expects: a [`Domain`] frees its `iommu_domain` once, a [`BoundDev`] gives
//! DMA ownership back once, and attachments can only be made with a bound
//! device.

use core::{
    ffi::c_void,
    ptr::NonNull, //
};
use kernel::{
    bindings,
    device::Device,
    error::{
        from_err_ptr,
        to_result, //
    },
    prelude::*,
    sync::aref::ARef,
    types::ForeignOwnable,
};

use crate::{
    fault::FaultFileHold,
    glue::{
        self,
        NewFd,
        PageRun,
        PinnedPage, //
    },
    shim::{
        self,
        IommuShim, //
    },
};

/// The opaque fault queue of `glue/iommufd_rs_iommu.c`.
#[repr(C)]
pub(crate) struct RawFault {
    _opaque: [u8; 0],
}

// Only pointers to the kernel's structs cross this boundary; bindgen gives
// some of them zero-sized placeholder members, which this lint cannot see past.
#[expect(improper_ctypes, reason = "pointers to bindgen structs only")]
extern "C" {
    fn iommufd_rs_dev_hw_info(
        dev: *mut bindings::device,
        ty: *mut u32,
        len: *mut u32,
    ) -> *mut c_void;
    fn iommufd_rs_dev_caps(dev: *mut bindings::device) -> u64;

    fn iommufd_rs_domain_alloc_paging(
        dev: *mut bindings::device,
        flags: u32,
        data_type: u32,
        uptr: u64,
        len: u32,
    ) -> *mut bindings::iommu_domain;
    fn iommufd_rs_dev_can_nest(dev: *mut bindings::device) -> bool;
    fn iommufd_rs_domain_alloc_nested(
        dev: *mut bindings::device,
        parent: *mut bindings::iommu_domain,
        flags: u32,
        data_type: u32,
        uptr: u64,
        len: u32,
    ) -> *mut bindings::iommu_domain;
    fn iommufd_rs_domain_owned_by(
        domain: *mut bindings::iommu_domain,
        dev: *mut bindings::device,
    ) -> bool;
    fn iommufd_rs_domain_map_pages(
        domain: *mut bindings::iommu_domain,
        iova: u64,
        pages: *const c_void,
        npages: usize,
        first_offset: u64,
        length: u64,
        prot: i32,
        small: bool,
        contiguous: bool,
    ) -> i32;
    fn iommufd_rs_domain_page_at(
        domain: *mut bindings::iommu_domain,
        iova: u64,
    ) -> *mut bindings::page;
    fn iommufd_rs_domain_read_pages(
        domain: *mut bindings::iommu_domain,
        iova: u64,
        next: u64,
        n: usize,
        contiguous: bool,
        out: *mut *mut bindings::page,
    ) -> usize;
    fn iommufd_rs_domain_set_fault_handler(domain: *mut bindings::iommu_domain);
    fn iommufd_rs_domain_clear_dirty(
        domain: *mut bindings::iommu_domain,
        iova: u64,
        len: u64,
    ) -> i32;
    fn iommufd_rs_domain_read_dirty(
        domain: *mut bindings::iommu_domain,
        iova: u64,
        length: u64,
        page_size: u64,
        data: u64,
        flags: u32,
    ) -> i32;
    fn iommufd_rs_domain_invalidate_user(
        domain: *mut bindings::iommu_domain,
        ty: u32,
        uptr: u64,
        entry_len: u32,
        entry_num: *mut u32,
    ) -> i32;

    fn iommufd_rs_fault_alloc(out: *mut *mut RawFault) -> *mut bindings::file;
    fn iommufd_rs_fault_put(fault: *mut RawFault);
    fn iommufd_rs_fault_set_file_hold(fault: *mut RawFault, hold: *mut c_void);

    fn iommufd_rs_attach(
        dev: *mut bindings::device,
        pasid: u32,
        domain: *mut bindings::iommu_domain,
        dev_id: u32,
        fault: *mut RawFault,
    ) -> i32;
    fn iommufd_rs_replace(
        dev: *mut bindings::device,
        pasid: u32,
        domain: *mut bindings::iommu_domain,
        dev_id: u32,
        fault: *mut RawFault,
    ) -> i32;
    fn iommufd_rs_detach(
        dev: *mut bindings::device,
        pasid: u32,
        domain: *mut bindings::iommu_domain,
    );
    #[cfg(iommufd_rs_selftest)]
    fn iommufd_rs_attached_domain(
        dev: *mut bindings::device,
        pasid: u32,
    ) -> *mut bindings::iommu_domain;
}

/// A C pointer-or-`ERR_PTR` that must not be `NULL` either (`ENOMEM`).
fn non_null_or_err<T>(p: *mut T) -> Result<NonNull<T>> {
    NonNull::new(from_err_ptr(p)?).ok_or(ENOMEM)
}

/// The `struct device` of `dev`.
///
/// `Device::as_raw` is private to the kernel crate in 7.3; `Device` is a
/// transparent wrapper of the C struct, so a cast gives the same pointer.
pub(crate) fn dev_raw(dev: &Device) -> *mut bindings::device {
    core::ptr::from_ref(dev).cast_mut().cast()
}

/// Gives `pasid`, from [`BoundDev::alloc_global_pasid`], back to the
/// system-wide pool. The caller has detached every domain from it.
pub(crate) fn free_global_pasid(pasid: u32) {
    // SAFETY: Freeing an id of the pool has no other precondition; the
    // caller owns `pasid`.
    unsafe { bindings::iommu_free_global_pasid(pasid) };
}

/// A device whose DMA this iommufd file owns. Dropping it gives ownership
/// back, with every attachment gone.
///
/// # Invariants
///
/// This value owns the DMA ownership of `dev` that `bind` claimed, and gives
/// it back once, in `drop`.
pub(crate) struct BoundDev {
    dev: ARef<Device>,
    /// The rules of the device's IOMMU family, chosen once at bind.
    shim: Option<&'static dyn IommuShim>,
}

impl BoundDev {
    /// Claims DMA ownership of `dev` for `owner` (the file). `EINVAL` if the
    /// IOMMU cannot keep DMA coherent, `EBUSY` if a kernel driver or another
    /// owner uses the group.
    pub(crate) fn bind(dev: &Device, owner: *const c_void) -> Result<Self> {
        let raw = dev_raw(dev);
        let cap = bindings::iommu_cap_IOMMU_CAP_CACHE_COHERENCY;
        // SAFETY: `raw` is a live device.
        let coherent = unsafe { bindings::device_iommu_capable(raw, cap) };
        // iommufd always maps with `IOMMU_CACHE`; it needs coherent DMA.
        if !coherent {
            return Err(EINVAL);
        }
        // SAFETY: `raw` is a live device; its group is only compared here.
        if unsafe { (*raw).iommu_group }.is_null() {
            return Err(ENODEV);
        }
        // SAFETY: `raw` is a live device in a group; the owner cookie is only
        // compared by the IOMMU core.
        to_result(unsafe { bindings::iommu_device_claim_dma_owner(raw, owner.cast_mut()) })?;
        // INVARIANT: The ownership was claimed just above.
        let mut b = Self {
            dev: dev.into(),
            shim: None,
        };
        b.shim = shim::shim_for_hw_info(b.hw_info(0)?.0);
        Ok(b)
    }

    /// The rules of the device's IOMMU family, if this module knows it.
    pub(crate) fn shim(&self) -> Option<&'static dyn IommuShim> {
        self.shim
    }

    /// The device.
    #[cfg(iommufd_rs_selftest)]
    pub(crate) fn device(&self) -> &Device {
        &self.dev
    }

    fn raw(&self) -> *mut bindings::device {
        dev_raw(&self.dev)
    }

    /// The IOMMU group, as an identity only.
    pub(crate) fn group_key(&self) -> usize {
        // SAFETY: `raw()` is a live device; a bound device's group is set
        // (`bind` checked it) and does not change while it is bound.
        unsafe { (*self.raw()).iommu_group as usize }
    }

    /// How many PASIDs the device may use; zero if it has no PASID support.
    pub(crate) fn max_pasids(&self) -> u32 {
        // SAFETY: `raw()` is a live device; its IOMMU data is set at probe
        // and stays while the device is bound.
        let iommu = unsafe { (*self.raw()).iommu };
        if iommu.is_null() {
            return 0;
        }
        // SAFETY: `iommu` is the device's live IOMMU data (above).
        unsafe { (*iommu).max_pasids }
    }

    /// A PASID of the system-wide pool that this device can use (below its
    /// `max_pasids`), as ENQCMD needs: `ENOSPC` if none is free. Give it
    /// back with [`free_global_pasid`].
    pub(crate) fn alloc_global_pasid(&self) -> Result<u32> {
        // SAFETY: `raw()` is a live device with IOMMU data (it is bound);
        // the pool has its own lock.
        let pasid = unsafe { bindings::iommu_alloc_global_pasid(self.raw()) };
        // `IOMMU_PASID_INVALID` is `(ioasid_t)-1`.
        if pasid == u32::MAX {
            return Err(ENOSPC);
        }
        Ok(pasid)
    }

    /// `IOMMU_HW_CAP_*` of the device.
    pub(crate) fn caps(&self) -> u64 {
        // SAFETY: `raw()` is a bound, registered device.
        unsafe { iommufd_rs_dev_caps(self.raw()) }
    }

    /// The driver's hardware information of type `ty` (0 for its default):
    /// the type it reports and the bytes.
    pub(crate) fn hw_info(&self, ty: u32) -> Result<(u32, KVec<u8>)> {
        let mut ty = ty;
        let mut len = 0u32;
        // SAFETY: `raw()` is bound; `ty` and `len` are valid for writes.
        let data = unsafe { iommufd_rs_dev_hw_info(self.raw(), &mut ty, &mut len) };
        if data.is_null() {
            return Ok((ty, KVec::new()));
        }
        let data = non_null_or_err(data)?;
        let mut out = KVec::new();
        let n = len as usize;
        let res = out.extend_from_slice(
            // SAFETY: The driver returned `len` initialised bytes at `data`,
            // which stay valid until the `kfree` below.
            unsafe { core::slice::from_raw_parts(data.as_ptr().cast::<u8>(), n) },
            GFP_KERNEL_ACCOUNT,
        );
        // SAFETY: `data` came from the driver's `kmalloc` and is ours.
        unsafe { bindings::kfree(data.as_ptr()) };
        res?;
        Ok((ty, out))
    }

    /// Attaches `domain` at `pasid` (the RID's group for `NO_PASID`); the
    /// faults that come through it go to `fault`. `dev_id` names the device
    /// in fault messages.
    pub(crate) fn attach(
        &self,
        pasid: u32,
        domain: &Domain,
        dev_id: u32,
        fault: Option<&FaultQueue>,
    ) -> Result {
        // SAFETY: `raw()` is bound by this file, `domain` is live, and
        // `fault` (if any) is live; the handle takes its own reference on it.
        to_result(unsafe {
            iommufd_rs_attach(self.raw(), pasid, domain.raw(), dev_id, fault_raw(fault))
        })
    }

    /// Moves the attachment at `pasid` to `domain`; on failure the old one
    /// stays. The caller knows something is attached there.
    pub(crate) fn replace(
        &self,
        pasid: u32,
        domain: &Domain,
        dev_id: u32,
        fault: Option<&FaultQueue>,
    ) -> Result {
        // SAFETY: As for `attach`.
        to_result(unsafe {
            iommufd_rs_replace(self.raw(), pasid, domain.raw(), dev_id, fault_raw(fault))
        })
    }

    /// Detaches `domain`, which is attached at `pasid`. A PASID is left
    /// blocked; the RID returns to the group's blocking domain.
    pub(crate) fn detach(&self, pasid: u32, domain: &Domain) {
        // SAFETY: `domain` is attached at `pasid` of this bound device.
        unsafe { iommufd_rs_detach(self.raw(), pasid, domain.raw()) }
    }

    /// Whether the IOMMU core has `domain` (or with `None`, nothing) on
    /// `pasid` of the device's group. Only the selftest asks.
    #[cfg(iommufd_rs_selftest)]
    pub(crate) fn attached_is(&self, pasid: u32, domain: Option<&Domain>) -> bool {
        // SAFETY: `raw()` is bound; the pointer is only compared.
        let cur = unsafe { iommufd_rs_attached_domain(self.raw(), pasid) };
        match domain {
            Some(d) => cur == d.raw(),
            None => cur.is_null(),
        }
    }

    /// Allocates a paging domain for this device with `IOMMU_HWPT_ALLOC_*`
    /// `flags` and optional driver data.
    pub(crate) fn alloc_paging(&self, flags: u32, data: &UserData) -> Result<Domain> {
        // SAFETY: `raw()` is bound; the driver copies `data` from userspace
        // itself, checking the pointer.
        let d = unsafe {
            iommufd_rs_domain_alloc_paging(self.raw(), flags, data.ty, data.uptr, data.len)
        };
        // INVARIANT: A new domain, ours to free.
        Ok(Domain(non_null_or_err(d)?, self.enforces_cc()))
    }

    /// Allocates a nested domain on `parent` with the driver's data.
    pub(crate) fn alloc_nested(
        &self,
        parent: &Domain,
        flags: u32,
        data: &UserData,
    ) -> Result<Domain> {
        // SAFETY: As for `alloc_paging`; `parent` is live.
        let d = unsafe {
            iommufd_rs_domain_alloc_nested(
                self.raw(),
                parent.raw(),
                flags,
                data.ty,
                data.uptr,
                data.len,
            )
        };
        // INVARIANT: A new domain, ours to free.
        Ok(Domain(non_null_or_err(d)?, false))
    }

    /// Whether the device's IOMMU driver makes nested domains at all.
    pub(crate) fn can_nest(&self) -> bool {
        // SAFETY: The device is live and has an IOMMU while bound.
        unsafe { iommufd_rs_dev_can_nest(self.raw()) }
    }

    /// Whether `domain` belongs to this device's IOMMU driver.
    pub(crate) fn owns(&self, domain: &Domain) -> bool {
        // SAFETY: Both are live; only compared.
        unsafe { iommufd_rs_domain_owned_by(domain.raw(), self.raw()) }
    }
}

impl Drop for BoundDev {
    fn drop(&mut self) {
        // SAFETY: By the type invariant we own the DMA ownership; the device
        // layer detached everything before dropping us.
        unsafe { bindings::iommu_device_release_dma_owner(self.raw()) }
    }
}

/// Driver-specific data of a domain allocation, still in userspace.
pub(crate) struct UserData {
    pub(crate) ty: u32,
    pub(crate) uptr: u64,
    pub(crate) len: u32,
}

fn fault_raw(fault: Option<&FaultQueue>) -> *mut RawFault {
    fault.map_or(core::ptr::null_mut(), |f| f.0.as_ptr())
}

/// The geometry of a paging domain.
pub(crate) struct Geometry {
    /// The page sizes it can map.
    pub(crate) pgsizes: u64,
    /// The first and last IOVA it can translate.
    pub(crate) start: u64,
    pub(crate) end: u64,
}

/// An IOMMU domain, owned: dropping it frees it. It must be detached from
/// every device first, which the attach bookkeeping guarantees by holding a
/// reference to its HWPT while attached.
///
/// # Invariants
///
/// The pointer is an `iommu_domain` allocated by its driver, which this value
/// owns and frees once, in `drop`. The flag says whether the domain enforces
/// cache coherent DMA (`IOMMU_CAP_ENFORCE_CACHE_COHERENCY`), fixed when it is
/// made, before anything is mapped.
pub(crate) struct Domain(NonNull<bindings::iommu_domain>, bool);

// SAFETY: Domain ops may be called from any thread; the IOMMU core and the
// driver serialise what needs it.
unsafe impl Send for Domain {}
// SAFETY: As above.
unsafe impl Sync for Domain {}

impl Domain {
    /// The `iommu_domain`, valid while `self` lives.
    pub(crate) fn raw(&self) -> *mut bindings::iommu_domain {
        self.0.as_ptr()
    }

    /// The domain's page sizes and aperture.
    pub(crate) fn geometry(&self) -> Geometry {
        let d = self.raw();
        // SAFETY: The domain is live; its driver set these fields at
        // allocation and does not change them.
        let (pgsizes, start, mut end, force) = unsafe {
            (
                (*d).pgsize_bitmap,
                (*d).geometry.aperture_start,
                (*d).geometry.aperture_end,
                (*d).geometry.force_aperture,
            )
        };
        if !force && start == 0 && end == 0 {
            end = u64::MAX;
        }
        Geometry {
            pgsizes: pgsizes as u64,
            start,
            end,
        }
    }

    /// Maps `length` bytes at `iova` from `pages`, starting `first_offset`
    /// bytes into the first; with `small`, a page at a time, so that no
    /// huge page is used. On failure nothing of it stays mapped.
    pub(crate) fn map(
        &self,
        iova: u64,
        pages: PageRun<'_>,
        first_offset: u64,
        length: u64,
        prot: u32,
        small: bool,
    ) -> Result {
        let prot = i32::try_from(prot).map_err(|_| EINVAL)?;
        let contiguous = pages.contiguous();
        let pages = pages.pages();
        // SAFETY: The domain is live and `pages` are pinned pages the caller
        // keeps pinned for as long as they are mapped; if `contiguous`, they
        // are consecutive pfns (`PageRun`'s invariant).
        to_result(unsafe {
            iommufd_rs_domain_map_pages(
                self.raw(),
                iova,
                // `PinnedPage` is a transparent `struct page *`.
                pages.as_ptr().cast(),
                pages.len(),
                first_offset,
                length,
                prot,
                small,
                contiguous,
            )
        })
    }

    /// Unmaps `[iova, iova + len)`, which earlier `map` calls covered whole.
    pub(crate) fn unmap(&self, iova: u64, len: u64) -> u64 {
        // SAFETY: The domain is live.
        unsafe { bindings::iommu_unmap(self.raw(), iova as usize, len as usize) as u64 }
    }

    /// The page mapped at `iova`, if any. Only pinned pages are ever
    /// mapped, so this is how a fill reads back the pages it holds.
    pub(crate) fn page_at(&self, iova: u64) -> Option<PinnedPage> {
        // SAFETY: The domain is live.
        let page = unsafe { iommufd_rs_domain_page_at(self.raw(), iova) };
        NonNull::new(page).map(PinnedPage::from_mapped)
    }

    /// Reads back the pages mapped for `n` consecutive pages, the first at
    /// `iova` and the others from `next` on, a page apart, into the spare
    /// room of `out`, in order: as [`Self::page_at`] for each, but in one
    /// call. Pages with nothing mapped are left out. Returns how many were
    /// added; `n` is cut to the spare room.
    pub(crate) fn read_pages(
        &self,
        iova: u64,
        next: u64,
        n: usize,
        out: &mut KVVec<PinnedPage>,
    ) -> usize {
        // SAFETY: Every page is looked up in the domain.
        unsafe { self.read_back(iova, next, n, false, out) }
    }

    /// [`Self::read_pages`], but if `contiguous` only the first page is
    /// looked up: the others are the pfns that follow it.
    ///
    /// # Safety
    ///
    /// If `contiguous`, the `n` pages are consecutive pfns, each pinned for
    /// as long as the handles made of them are used.
    pub(crate) unsafe fn read_back(
        &self,
        iova: u64,
        next: u64,
        n: usize,
        contiguous: bool,
        out: &mut KVVec<PinnedPage>,
    ) -> usize {
        let spare = out.spare_capacity_mut();
        let n = n.min(spare.len());
        // `PinnedPage` is a transparent `struct page *`, so the spare room is
        // an array of page pointers for the helper to fill.
        let raw = spare.as_mut_ptr().cast::<*mut bindings::page>();
        // SAFETY: The domain is live and `raw` has room for `n` page
        // pointers.
        let got =
            unsafe { iommufd_rs_domain_read_pages(self.raw(), iova, next, n, contiguous, raw) };
        let got = got.min(n);
        // SAFETY: The helper wrote `got` non-null page pointers at the start
        // of the spare room: pages this module's domain maps, so pinned (as
        // for `PinnedPage::from_mapped`), or if `contiguous` the pfns after
        // such a page, pinned by the function's contract.
        unsafe { out.inc_len(got) };
        got
    }

    /// The physical address `iova` translates to, zero if none.
    #[cfg(iommufd_rs_selftest)]
    pub(crate) fn iova_to_phys(&self, iova: u64) -> u64 {
        // SAFETY: The domain is live.
        unsafe { bindings::iommu_iova_to_phys(self.raw(), iova) }
    }

    /// Routes the domain's page faults to the fault queue of the attachment
    /// they come through.
    pub(crate) fn enable_faults(&self) {
        // SAFETY: The domain is live and not attached yet.
        unsafe { iommufd_rs_domain_set_fault_handler(self.raw()) }
    }

    /// Hands `*entry_num` invalidation requests of `entry_len` bytes at
    /// `uptr` to the driver; `*entry_num` comes back as how many it handled.
    pub(crate) fn invalidate_user(
        &self,
        ty: u32,
        uptr: u64,
        entry_len: u32,
        entry_num: &mut u32,
    ) -> Result {
        // SAFETY: The domain is live; the driver copies the requests from
        // userspace itself, checking the pointer.
        to_result(unsafe {
            iommufd_rs_domain_invalidate_user(self.raw(), ty, uptr, entry_len, entry_num)
        })
    }

    /// Turns dirty tracking on or off: `EOPNOTSUPP` without dirty ops.
    pub(crate) fn set_dirty_tracking(&self, on: bool) -> Result {
        // SAFETY: The domain is live.
        let ops = unsafe { (*self.raw()).dirty_ops };
        // SAFETY: The dirty ops, if any, are the driver's static table.
        let ops = unsafe { ops.as_ref() };
        let set = ops
            .and_then(|ops| ops.set_dirty_tracking)
            .ok_or(EOPNOTSUPP)?;
        // SAFETY: The domain is live and the op is its driver's.
        to_result(unsafe { set(self.raw(), on) })
    }

    /// Clears the dirty bits of `[iova, iova + len)`.
    pub(crate) fn clear_dirty(&self, iova: u64, len: u64) -> Result {
        // SAFETY: The domain is live.
        to_result(unsafe { iommufd_rs_domain_clear_dirty(self.raw(), iova, len) })
    }

    /// Writes the dirty pages of `[iova, iova + length)` into the user
    /// bitmap at `data`, a bit per `page_size`; the caller checked the range.
    pub(crate) fn read_dirty(
        &self,
        iova: u64,
        length: u64,
        page_size: u64,
        data: u64,
        flags: u32,
    ) -> Result {
        // SAFETY: The domain is live; the bitmap is user memory, which the
        // helper pins and checks itself.
        to_result(unsafe {
            iommufd_rs_domain_read_dirty(self.raw(), iova, length, page_size, data, flags)
        })
    }
}

impl Drop for Domain {
    fn drop(&mut self) {
        // SAFETY: By the type invariant we own the domain, and it is attached
        // nowhere (see the type's contract).
        unsafe { bindings::iommu_domain_free(self.raw()) }
    }
}

/// A page fault queue: a reference on the C queue.
///
/// # Invariants
///
/// The pointer is a fault queue on which this value owns one reference.
pub(crate) struct FaultQueue(NonNull<RawFault>);

// SAFETY: The queue has its own locks.
unsafe impl Send for FaultQueue {}
// SAFETY: As above.
unsafe impl Sync for FaultQueue {}

impl Drop for FaultQueue {
    fn drop(&mut self) {
        // SAFETY: By the type invariant we own one reference.
        unsafe { iommufd_rs_fault_put(self.0.as_ptr()) }
    }
}

impl FaultQueue {
    /// Allocates a fault queue and the file userspace reads it through,
    /// under a reserved fd, not yet in the fd table.
    pub(crate) fn new() -> Result<(Self, FaultFile)> {
        let mut raw = core::ptr::null_mut();
        let fd = NewFd::new(|| {
            // SAFETY: `raw` is a valid out pointer.
            let file = unsafe { iommufd_rs_fault_alloc(&mut raw) };
            // SAFETY: The helper returned a new file, whose reference is
            // ours, or an `ERR_PTR`.
            unsafe { glue::new_file(file) }
        })?;
        let raw = NonNull::new(raw).ok_or(ENOMEM)?;
        // INVARIANT: With the file, the helper gave us one reference on the
        // queue, and the file holds another.
        Ok((Self(raw), FaultFile { fd, queue: raw }))
    }
}

/// The file of a new fault queue, under a reserved fd, not yet in the fd
/// table: [`FaultFile::install`] it, or drop it to give both back.
///
/// # Invariants
///
/// `queue` is the queue of `fd`'s file, which holds a reference on it and
/// has no hold yet.
pub(crate) struct FaultFile {
    fd: NewFd,
    queue: NonNull<RawFault>,
}

impl FaultFile {
    /// The fd number userspace will see.
    pub(crate) fn fd(&self) -> i32 {
        self.fd.fd()
    }

    /// Publishes the file under its fd, holding `hold` until the file's
    /// release drops it (with [`iommufd_rs_fault_file_hold_release`]), once
    /// no read, write or poll can run. Cannot fail.
    pub(crate) fn install(self, hold: KBox<FaultFileHold>) {
        // SAFETY: By the type invariant the queue is live (our file holds a
        // reference) and has no hold; the file is in no fd table, so its
        // release cannot run before this store, and it takes the hold back
        // once, with `from_foreign`.
        unsafe { iommufd_rs_fault_set_file_hold(self.queue.as_ptr(), hold.into_foreign()) };
        self.fd.install();
    }
}

/// Drops what a fault queue's file held, at the file's release.
///
/// # Safety
///
/// `hold` was given to the file by [`FaultFile::install`], and this is
/// called once, by the file's release.
#[no_mangle]
unsafe extern "C" fn iommufd_rs_fault_file_hold_release(hold: *mut c_void) {
    // SAFETY: By the function's contract `hold` came from `into_foreign` of
    // a `KBox<FaultFileHold>` and is given back once.
    drop(unsafe { KBox::<FaultFileHold>::from_foreign(hold) });
}

// Only pointers to the kernel's structs cross this boundary; bindgen gives
// some of them zero-sized placeholder members, which this lint cannot see past.
#[expect(improper_ctypes, reason = "pointers to bindgen structs only")]
extern "C" {
    fn iommufd_rs_group_resv_regions(dev: *mut bindings::device, out: *mut u64, max: u32) -> i32;
}

impl BoundDev {
    /// The reserved regions of the device's IOMMU group, which the IOAS of
    /// a paging domain on the group's RID must leave unmapped: `EINVAL` for
    /// a driver's bad combination of MSI regions.
    pub(crate) fn group_resv_regions(&self) -> Result<KVec<crate::iova::IovaRange>> {
        // SAFETY: `raw()` is a live device in a group (it is bound); with no
        // room nothing is written.
        let mut n = unsafe { iommufd_rs_group_resv_regions(self.raw(), core::ptr::null_mut(), 0) };
        // The group may gain a device between the calls: count again.
        for _ in 0..4 {
            let count = usize::try_from(n).map_err(|_| Error::from_errno(n))?;
            let room = count.checked_add(2).ok_or(ENOMEM)?;
            let mut buf = KVec::from_elem(0u64, room.checked_mul(2).ok_or(ENOMEM)?, GFP_KERNEL)?;
            let max = u32::try_from(room).map_err(|_| ENOMEM)?;
            // SAFETY: `raw()` is a live device in a group; `buf` has room for
            // `max` pairs.
            n = unsafe { iommufd_rs_group_resv_regions(self.raw(), buf.as_mut_ptr(), max) };
            let Ok(got) = usize::try_from(n) else {
                return Err(Error::from_errno(n));
            };
            if got > room {
                continue;
            }
            let mut ranges = KVec::with_capacity(got, GFP_KERNEL)?;
            for pair in buf.chunks_exact(2).take(got) {
                ranges.push(
                    crate::iova::IovaRange {
                        start: pair[0],
                        last: pair[1],
                    },
                    GFP_KERNEL,
                )?;
            }
            return Ok(ranges);
        }
        Err(EBUSY)
    }
}

impl BoundDev {
    /// Whether the device's IOMMU can enforce cache coherent DMA, which a
    /// paging domain made for it then does (`glue/iommufd_rs_iommu.c`), as
    /// upstream's `idev->enforce_cache_coherency`.
    pub(crate) fn enforces_cc(&self) -> bool {
        let cap = bindings::iommu_cap_IOMMU_CAP_ENFORCE_CACHE_COHERENCY;
        // SAFETY: `raw()` is a live device.
        unsafe { bindings::device_iommu_capable(self.raw(), cap) }
    }
}

impl Domain {
    /// Whether the domain enforces cache coherent DMA.
    pub(crate) fn enforces_cc(&self) -> bool {
        self.1
    }
}
