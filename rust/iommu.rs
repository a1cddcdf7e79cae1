// SPDX-License-Identifier: GPL-2.0

//! The IOMMU core, as safe types: bound devices, domains, attachments, page
//! fault queues, and the mock IOMMU's devices.
//!
//! Every `unsafe` call of the device layer lives here; the C side is
//! `glue/iommufd_rs_iommu.c` and `glue/iommufd_rs_mock.c`. The types carry
//! the ownership the C API expects: a [`Domain`] frees its `iommu_domain`
//! once, a [`BoundDev`] gives DMA ownership back once, and attachments can
//! only be made with a bound device.

use core::{
    ffi::c_void,
    ptr::NonNull, //
};
use kernel::prelude::*;

use crate::{
    glue::PinnedPage,
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

/// A `struct device`, only ever behind a pointer.
#[repr(C)]
pub(crate) struct RawDevice {
    _opaque: [u8; 0],
}

/// A `struct iommu_domain`, only ever behind a pointer.
#[repr(C)]
pub(crate) struct RawDomain {
    _opaque: [u8; 0],
}

/// A `struct file`, only ever behind a pointer.
#[repr(C)]
pub(crate) struct RawFile {
    _opaque: [u8; 0],
}

extern "C" {
    fn iommufd_rs_mock_init() -> i32;
    fn iommufd_rs_mock_exit();
    fn iommufd_rs_mock_dev_create(flags: u32) -> *mut RawDevice;
    fn iommufd_rs_mock_dev_destroy(dev: *mut RawDevice);
    fn iommufd_rs_mock_dev_is(dev: *mut RawDevice) -> bool;
    fn iommufd_rs_mock_dev_cache(dev: *mut RawDevice, id: u32, val: *mut u32) -> i32;
    fn iommufd_rs_mock_domain_is_paging(domain: *mut RawDomain) -> bool;
    fn iommufd_rs_mock_nested_iotlb(domain: *mut RawDomain, id: u32, val: *mut u32) -> i32;
    fn iommufd_rs_mock_trigger_iopf(
        dev: *mut RawDevice,
        pasid: u32,
        grpid: u32,
        perm: u32,
        addr: u64,
    );

    fn iommufd_rs_dev_bind(dev: *mut RawDevice, owner: *mut c_void) -> i32;
    fn iommufd_rs_dev_unbind(dev: *mut RawDevice);
    fn iommufd_rs_dev_group(dev: *mut RawDevice) -> *mut c_void;
    fn iommufd_rs_dev_hw_info(dev: *mut RawDevice, ty: *mut u32, len: *mut u32) -> *mut c_void;
    fn iommufd_rs_kfree(p: *const c_void);
    fn iommufd_rs_dev_max_pasids(dev: *mut RawDevice) -> u32;
    fn iommufd_rs_dev_caps(dev: *mut RawDevice) -> u64;

    fn iommufd_rs_domain_alloc_paging(
        dev: *mut RawDevice,
        flags: u32,
        data_type: u32,
        uptr: u64,
        len: u32,
    ) -> *mut RawDomain;
    fn iommufd_rs_domain_alloc_nested(
        dev: *mut RawDevice,
        parent: *mut RawDomain,
        flags: u32,
        data_type: u32,
        uptr: u64,
        len: u32,
    ) -> *mut RawDomain;
    fn iommufd_rs_domain_free(domain: *mut RawDomain);
    fn iommufd_rs_domain_owned_by(domain: *mut RawDomain, dev: *mut RawDevice) -> bool;
    fn iommufd_rs_domain_geometry(
        domain: *mut RawDomain,
        pgsizes: *mut u64,
        start: *mut u64,
        end: *mut u64,
        force: *mut bool,
    );
    fn iommufd_rs_domain_map_pages(
        domain: *mut RawDomain,
        iova: u64,
        pages: *const c_void,
        npages: usize,
        first_offset: u64,
        length: u64,
        prot: i32,
        small: bool,
    ) -> i32;
    fn iommufd_rs_domain_unmap(domain: *mut RawDomain, iova: u64, len: u64) -> u64;
    fn iommufd_rs_domain_iova_to_phys(domain: *mut RawDomain, iova: u64) -> u64;
    fn iommufd_rs_domain_set_fault_handler(domain: *mut RawDomain);
    fn iommufd_rs_domain_set_dirty_tracking(domain: *mut RawDomain, on: bool) -> i32;
    fn iommufd_rs_domain_clear_dirty(domain: *mut RawDomain, iova: u64, len: u64) -> i32;
    fn iommufd_rs_domain_read_dirty(
        domain: *mut RawDomain,
        iova: u64,
        length: u64,
        page_size: u64,
        data: u64,
        flags: u32,
    ) -> i32;
    fn iommufd_rs_mock_set_dirty(domain: *mut RawDomain, iova: u64) -> i32;
    fn iommufd_rs_mock_dirty_tracking(domain: *mut RawDomain) -> bool;
    fn iommufd_rs_domain_invalidate_user(
        domain: *mut RawDomain,
        ty: u32,
        uptr: u64,
        entry_len: u32,
        entry_num: *mut u32,
    ) -> i32;

    fn iommufd_rs_fault_alloc(out: *mut *mut RawFault, filep: *mut *mut RawFile) -> i32;
    fn iommufd_rs_fault_put(fault: *mut RawFault);
    fn iommufd_rs_fd_install(fd: i32, filep: *mut RawFile);
    fn iommufd_rs_fd_abort(fd: i32, filep: *mut RawFile);

    fn iommufd_rs_attach(
        dev: *mut RawDevice,
        pasid: u32,
        domain: *mut RawDomain,
        dev_id: u32,
        fault: *mut RawFault,
    ) -> i32;
    fn iommufd_rs_replace(
        dev: *mut RawDevice,
        pasid: u32,
        domain: *mut RawDomain,
        dev_id: u32,
        fault: *mut RawFault,
    ) -> i32;
    fn iommufd_rs_detach(dev: *mut RawDevice, pasid: u32, domain: *mut RawDomain);
    fn iommufd_rs_attached_domain(dev: *mut RawDevice, pasid: u32) -> *mut RawDomain;
}

/// Turns a C `0 or -errno` into a `Result`.
fn to_result(rc: i32) -> Result {
    if rc < 0 {
        Err(Error::from_errno(rc))
    } else {
        Ok(())
    }
}

/// Turns a C pointer-or-`ERR_PTR` into a `Result`.
fn from_err_ptr<T>(p: *mut T) -> Result<NonNull<T>> {
    let v = p as isize;
    if (-4095..0).contains(&v) {
        return Err(Error::from_errno(v as i32));
    }
    NonNull::new(p).ok_or(ENOMEM)
}

/// The mock IOMMU's registration with the IOMMU core; there is one, owned
/// by the module.
pub(crate) struct MockIommu(());

impl MockIommu {
    /// Registers the mock IOMMU.
    pub(crate) fn register() -> Result<Self> {
        // SAFETY: Called once, at module load, before any mock device exists.
        to_result(unsafe { iommufd_rs_mock_init() })?;
        Ok(Self(()))
    }
}

impl Drop for MockIommu {
    fn drop(&mut self) {
        // SAFETY: Registered in `register`; at module unload no file is
        // open, so no mock device or domain is left.
        unsafe { iommufd_rs_mock_exit() }
    }
}

/// A device of the mock IOMMU, owned: dropping it unregisters it.
pub(crate) struct MockDev(NonNull<RawDevice>);

// SAFETY: A registered `struct device` may be used and unregistered from any
// thread.
unsafe impl Send for MockDev {}
// SAFETY: All uses go through the device model's and IOMMU core's locks.
unsafe impl Sync for MockDev {}

impl MockDev {
    /// Creates and registers a mock device with `MOCK_FLAGS_DEVICE_*` flags.
    pub(crate) fn new(flags: u32) -> Result<Self> {
        // SAFETY: No precondition; the result is a registered device or an
        // `ERR_PTR`.
        let dev = from_err_ptr(unsafe { iommufd_rs_mock_dev_create(flags) })?;
        Ok(Self(dev))
    }

    /// The device.
    pub(crate) fn dev(&self) -> DevPtr {
        DevPtr(self.0)
    }
}

impl Drop for MockDev {
    fn drop(&mut self) {
        // SAFETY: We own the registration, and the device is no longer bound
        // (a `BoundDev` borrows a `DevPtr` that its owner keeps alive only
        // while the `MockDev` lives).
        unsafe { iommufd_rs_mock_dev_destroy(self.0.as_ptr()) }
    }
}

/// A device that some owner keeps registered (a [`MockDev`], later a VFIO
/// device) for at least as long as this handle is used.
#[derive(Clone, Copy)]
pub(crate) struct DevPtr(NonNull<RawDevice>);

// SAFETY: See `MockDev`.
unsafe impl Send for DevPtr {}
// SAFETY: See `MockDev`.
unsafe impl Sync for DevPtr {}

/// A device whose DMA this iommufd file owns. Dropping it gives ownership
/// back, with every attachment gone.
pub(crate) struct BoundDev {
    dev: DevPtr,
    /// The rules of the device's IOMMU family, chosen once at bind.
    shim: Option<&'static dyn IommuShim>,
}

impl BoundDev {
    /// Claims DMA ownership of `dev` for `owner` (the file). `EINVAL` if the
    /// IOMMU cannot keep DMA coherent, `EBUSY` if a kernel driver or another
    /// owner uses the group.
    pub(crate) fn bind(dev: DevPtr, owner: *const c_void) -> Result<Self> {
        // SAFETY: `dev` is registered (the caller's `DevPtr` contract); the
        // owner cookie is only compared by the IOMMU core.
        to_result(unsafe { iommufd_rs_dev_bind(dev.0.as_ptr(), owner.cast_mut()) })?;
        let mut b = Self { dev, shim: None };
        b.shim = shim::shim_for_hw_info(b.hw_info(0)?.0);
        Ok(b)
    }

    /// The rules of the device's IOMMU family, if this module knows it.
    pub(crate) fn shim(&self) -> Option<&'static dyn IommuShim> {
        self.shim
    }

    fn raw(&self) -> *mut RawDevice {
        self.dev.0.as_ptr()
    }

    /// The IOMMU group, as an identity only.
    pub(crate) fn group_key(&self) -> usize {
        // SAFETY: `raw()` is a bound, registered device.
        unsafe { iommufd_rs_dev_group(self.raw()) as usize }
    }

    /// How many PASIDs the device may use; zero if it has no PASID support.
    pub(crate) fn max_pasids(&self) -> u32 {
        // SAFETY: `raw()` is a bound, registered device.
        unsafe { iommufd_rs_dev_max_pasids(self.raw()) }
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
        let data = from_err_ptr(data)?;
        let mut out = KVec::new();
        let n = len as usize;
        let res = out.extend_from_slice(
            // SAFETY: The driver returned `len` initialised bytes at `data`,
            // which stay valid until the `kfree` below.
            unsafe { core::slice::from_raw_parts(data.as_ptr().cast::<u8>(), n) },
            GFP_KERNEL_ACCOUNT,
        );
        // SAFETY: `data` came from the driver's `kmalloc` and is ours.
        unsafe { iommufd_rs_kfree(data.as_ptr()) };
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

    /// Whether the device is a mock IOMMU device.
    pub(crate) fn is_mock(&self) -> bool {
        // SAFETY: `raw()` is a bound, registered device.
        unsafe { iommufd_rs_mock_dev_is(self.raw()) }
    }

    /// Entry `id` of a mock device's cache.
    pub(crate) fn mock_cache(&self, id: u32) -> Result<u32> {
        let mut v = 0;
        // SAFETY: `raw()` is a bound, registered device; the helper checks
        // it is a mock one. `v` is valid for writes.
        to_result(unsafe { iommufd_rs_mock_dev_cache(self.raw(), id, &mut v) })?;
        Ok(v)
    }

    /// Reports a page request on `pasid` as a mock device would: `EINVAL`
    /// for other devices.
    pub(crate) fn mock_trigger_iopf(&self, pasid: u32, grpid: u32, perm: u32, addr: u64) -> Result {
        if !self.is_mock() {
            return Err(EINVAL);
        }
        // SAFETY: `raw()` is a registered mock device.
        unsafe { iommufd_rs_mock_trigger_iopf(self.raw(), pasid, grpid, perm, addr) };
        Ok(())
    }

    /// Whether the IOMMU core has `domain` (or with `None`, nothing) on
    /// `pasid` of the device's group.
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
        Ok(Domain(from_err_ptr(d)?))
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
        Ok(Domain(from_err_ptr(d)?))
    }

    /// Whether `domain` belongs to this device's IOMMU driver.
    pub(crate) fn owns(&self, domain: &Domain) -> bool {
        // SAFETY: Both are live; only compared.
        unsafe { iommufd_rs_domain_owned_by(domain.raw(), self.raw()) }
    }
}

impl Drop for BoundDev {
    fn drop(&mut self) {
        // SAFETY: We claimed ownership in `bind`; the device layer detached
        // everything before dropping us.
        unsafe { iommufd_rs_dev_unbind(self.raw()) }
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
pub(crate) struct Domain(NonNull<RawDomain>);

// SAFETY: Domain ops may be called from any thread; the IOMMU core and the
// driver serialise what needs it.
unsafe impl Send for Domain {}
// SAFETY: As above.
unsafe impl Sync for Domain {}

impl Domain {
    fn raw(&self) -> *mut RawDomain {
        self.0.as_ptr()
    }

    /// The domain's page sizes and aperture.
    pub(crate) fn geometry(&self) -> Geometry {
        let (mut pgsizes, mut start, mut end, mut force) = (0, 0, 0, false);
        // SAFETY: The domain is live; the out pointers are valid.
        unsafe {
            iommufd_rs_domain_geometry(self.raw(), &mut pgsizes, &mut start, &mut end, &mut force)
        };
        if !force && start == 0 && end == 0 {
            end = u64::MAX;
        }
        Geometry {
            pgsizes,
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
        pages: &[PinnedPage],
        first_offset: u64,
        length: u64,
        prot: u32,
        small: bool,
    ) -> Result {
        let prot = i32::try_from(prot).map_err(|_| EINVAL)?;
        // SAFETY: The domain is live and `pages` are pinned pages the caller
        // keeps pinned for as long as they are mapped.
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
            )
        })
    }

    /// Unmaps `[iova, iova + len)`, which earlier `map` calls covered whole.
    pub(crate) fn unmap(&self, iova: u64, len: u64) -> u64 {
        // SAFETY: The domain is live.
        unsafe { iommufd_rs_domain_unmap(self.raw(), iova, len) }
    }

    /// The physical address `iova` translates to, zero if none.
    pub(crate) fn iova_to_phys(&self, iova: u64) -> u64 {
        // SAFETY: The domain is live.
        unsafe { iommufd_rs_domain_iova_to_phys(self.raw(), iova) }
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
        to_result(unsafe { iommufd_rs_domain_set_dirty_tracking(self.raw(), on) })
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

    /// Whether this is a mock paging domain that tracks dirty pages.
    pub(crate) fn mock_dirty_tracking(&self) -> bool {
        // SAFETY: The domain is live.
        unsafe { iommufd_rs_mock_dirty_tracking(self.raw()) }
    }

    /// Marks `iova` written in a mock paging domain that tracks dirty pages
    /// (`EINVAL` otherwise).
    pub(crate) fn mock_set_dirty(&self, iova: u64) -> Result {
        // SAFETY: The domain is live; the helper checks it is a mock one.
        to_result(unsafe { iommufd_rs_mock_set_dirty(self.raw(), iova) })
    }

    /// Whether this is a paging domain of the mock IOMMU.
    pub(crate) fn is_mock_paging(&self) -> bool {
        // SAFETY: The domain is live.
        unsafe { iommufd_rs_mock_domain_is_paging(self.raw()) }
    }

    /// Entry `id` of a mock nested domain's IOTLB.
    pub(crate) fn mock_iotlb(&self, id: u32) -> Result<u32> {
        let mut v = 0;
        // SAFETY: The domain is live; `v` is valid for writes.
        to_result(unsafe { iommufd_rs_mock_nested_iotlb(self.raw(), id, &mut v) })?;
        Ok(v)
    }
}

impl Drop for Domain {
    fn drop(&mut self) {
        // SAFETY: We own the domain, and it is attached nowhere (see the
        // type's contract).
        unsafe { iommufd_rs_domain_free(self.raw()) }
    }
}

/// A page fault queue: a reference on the C queue.
pub(crate) struct FaultQueue(NonNull<RawFault>);

// SAFETY: The queue has its own locks.
unsafe impl Send for FaultQueue {}
// SAFETY: As above.
unsafe impl Sync for FaultQueue {}

impl Drop for FaultQueue {
    fn drop(&mut self) {
        // SAFETY: We own one reference.
        unsafe { iommufd_rs_fault_put(self.0.as_ptr()) }
    }
}

/// A new fault queue and the file userspace reads it through, not yet in
/// the file table: [`NewFaultFd::install`] or drop.
pub(crate) struct NewFaultFd {
    fd: i32,
    file: NonNull<RawFile>,
}

impl FaultQueue {
    /// Allocates a fault queue and its file.
    pub(crate) fn new() -> Result<(Self, NewFaultFd)> {
        let mut raw = core::ptr::null_mut();
        let mut file = core::ptr::null_mut();
        // SAFETY: The out pointers are valid.
        let fd = unsafe { iommufd_rs_fault_alloc(&mut raw, &mut file) };
        to_result(fd)?;
        let (Some(q), Some(file)) = (NonNull::new(raw), NonNull::new(file)) else {
            return Err(ENOMEM);
        };
        Ok((Self(q), NewFaultFd { fd, file }))
    }
}

impl NewFaultFd {
    /// The fd number it will have.
    pub(crate) fn fd(&self) -> i32 {
        self.fd
    }

    /// Puts the file in the table; cannot fail.
    pub(crate) fn install(self) {
        let me = core::mem::ManuallyDrop::new(self);
        // SAFETY: `fd` is reserved and `file` carries its own reference,
        // which the table takes over.
        unsafe { iommufd_rs_fd_install(me.fd, me.file.as_ptr()) }
    }
}

impl Drop for NewFaultFd {
    fn drop(&mut self) {
        // SAFETY: Not installed: give the number and the file back.
        unsafe { iommufd_rs_fd_abort(self.fd, self.file.as_ptr()) }
    }
}
