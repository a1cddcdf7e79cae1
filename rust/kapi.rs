// SPDX-License-Identifier: GPL-2.0

//! The Rust side of the iommufd in-kernel API that `vfio.ko` imports
//! (`glue/iommufd_rs_kapi.c` exports it): device bind, attach, replace,
//! detach and unbind, the group query of hot reset, the VFIO
//! compatibility IOAS, and the in-kernel accesses of emulated devices.
//!
//! Part of the FFI layer: each `extern "C"` function turns the pointers vfio
//! hands back into references, resting on vfio's contract (they came from
//! this API and vfio keeps them until it gives them back), calls the same
//! code the ioctls use, and returns an errno for C to make an `ERR_PTR` of.
//!
//! A `struct iommufd_ctx *` is the `struct file *` of a `/dev/iommu` file;
//! C passes its private data, the [`Ictx`], along. A
//! `struct iommufd_device *` is a [`KapiDevice`] from [`KBox::into_raw`], a
//! `struct iommufd_access *` a [`KapiAccess`].

use core::ffi::{
    c_int,
    c_ulong,
    c_void, //
};
use kernel::{
    bindings,
    fs::File,
    prelude::*,
    sync::aref::ARef, //
};

use crate::{
    access::{
        Access,
        AccessOps,
        Expect, //
    },
    device::Device,
    ictx::Ictx,
    ioas::Ioas,
    iova::IovaRange,
    object::{
        ObjRef,
        ObjectKind, //
    },
    vfio_compat,
    vpasid, //
};

// Only pointers to the kernel's structs cross this boundary; bindgen gives
// some of them zero-sized placeholder members, which this lint cannot see past.
#[expect(improper_ctypes, reason = "pointers to bindgen structs only")]
extern "C" {
    fn iommufd_rs_kapi_check_msi(dev: *mut bindings::device) -> c_int;
    fn iommufd_rs_kapi_set_fops(fops: *const bindings::file_operations);
    fn iommufd_rs_kapi_access_unmap(
        ops: *const c_void,
        data: *mut c_void,
        iova: c_ulong,
        length: c_ulong,
    );
}

/// Records the file operations of `/dev/iommu` files, by which
/// `iommufd_ctx_from_file` and `_from_fd` recognise them; `None` forgets
/// them before the device goes.
pub(crate) fn set_fops(fops: Option<&'static bindings::file_operations>) {
    let p = fops.map_or(core::ptr::null(), core::ptr::from_ref);
    // SAFETY: The C side only stores the pointer, which is null or static.
    unsafe { iommufd_rs_kapi_set_fops(p) };
}

/// A device bound through the in-kernel API.
pub(crate) struct KapiDevice {
    /// The driver's reference to the device object: `IOMMU_DESTROY` of it
    /// is `EBUSY` while bound, as upstream.
    dev: ObjRef<Device>,
    /// The context, kept alive by `_file`.
    ictx: *const Ictx,
    /// A reference to the iommufd file, upstream's `iommufd_ctx_get` at
    /// bind; its `struct file *` is the context pointer vfio compares.
    file: ARef<File>,
}

impl KapiDevice {
    fn ictx(&self) -> &Ictx {
        // SAFETY: `ictx` is the private data of `file`, which is one of our
        // files (C checked its f_op); it lives until the file's release,
        // which cannot come while `file` holds a reference.
        unsafe { &*self.ictx }
    }
}

/// The context behind `ictx`, the private data of an iommufd file whose
/// reference the caller holds.
///
/// # Safety
///
/// `ictx` is the private data of one of our files, on which the caller
/// holds a reference for `'a`.
unsafe fn ictx_ref<'a>(ictx: *const c_void) -> &'a Ictx {
    // SAFETY: By the function's contract the `Ictx` lives for `'a`.
    unsafe { &*ictx.cast::<Ictx>() }
}

/// The device behind `idev`.
///
/// # Safety
///
/// `idev` came from [`iommufd_rs_kapi_device_bind`] and is not unbound.
unsafe fn kdev_ref<'a>(idev: *mut c_void) -> &'a KapiDevice {
    // SAFETY: By the function's contract `idev` is a live `KapiDevice`.
    unsafe { &*idev.cast::<KapiDevice>() }
}

/// `iommufd_device_bind`: binds `dev`, as upstream checks it: `EINVAL`
/// without coherent DMA, `ENODEV` without a group, `EPERM` if its MSIs
/// cannot be isolated (unless allowed), `EPERM` or `EBUSY` if another owner
/// or a kernel driver has its group's DMA.
///
/// # Safety
///
/// `file` is one of our files with `ictx` its private data, on which the
/// caller holds a reference; `dev` is a live device whose driver keeps it
/// until unbind; `id` and `out` are valid for writes.
#[no_mangle]
unsafe extern "C" fn iommufd_rs_kapi_device_bind(
    file: *mut bindings::file,
    ictx: *const c_void,
    dev: *mut bindings::device,
    id: *mut u32,
    out: *mut *mut c_void,
) -> c_int {
    // SAFETY: `dev` is a live device.
    let rc = unsafe { iommufd_rs_kapi_check_msi(dev) };
    if rc != 0 {
        return rc;
    }
    // SAFETY: The driver holds `dev` for the whole call.
    let kdev = unsafe { kernel::device::Device::from_raw(dev) };
    // SAFETY: The caller holds a reference to `file` for the whole call.
    let file: ARef<File> = unsafe { File::from_raw_file(file) }.into();
    // SAFETY: The caller's reference to `file` keeps its `Ictx`.
    let ictx_r = unsafe { ictx_ref(ictx) };
    // The handle first: once bound, nothing may fail.
    let slot = match KBox::<KapiDevice>::new_uninit(GFP_KERNEL_ACCOUNT) {
        Ok(slot) => slot,
        Err(e) => return Error::from(e).to_errno(),
    };
    let dev = match Device::bind(ictx_r, kdev) {
        Ok(dev) => dev,
        Err(e) => return e.to_errno(),
    };
    let dev_id = dev.id();
    let k = slot.write(KapiDevice {
        dev,
        ictx: ictx_r,
        file,
    });
    // SAFETY: `id` is valid for writes.
    unsafe { id.write(dev_id) };
    // SAFETY: `out` is valid for writes.
    unsafe { out.write(KBox::into_raw(k).cast()) };
    0
}

/// `iommufd_device_unbind`: detaches everything, gives the DMA back,
/// destroys the device object (waiting a while for short-term users) and
/// drops the file reference.
///
/// # Safety
///
/// `idev` came from [`iommufd_rs_kapi_device_bind`] and is given back once.
#[no_mangle]
unsafe extern "C" fn iommufd_rs_kapi_device_unbind(idev: *mut c_void) {
    // SAFETY: By the function's contract `idev` is ours, given back once.
    let k = unsafe { KBox::from_raw(idev.cast::<KapiDevice>()) };
    let KapiDevice { dev, ictx, file } = KBox::into_inner(k);
    // SAFETY: `file` keeps the `Ictx` alive until it is dropped below.
    let ictx = unsafe { &*ictx };
    unbind(ictx, dev);
    drop(file);
}

/// Unbinds `dev` and destroys its object.
fn unbind(ictx: &Ictx, dev: ObjRef<Device>) {
    let id = dev.id();
    dev.unbind(Some(ictx));
    let weak = dev.downgrade();
    drop(dev);
    // Still in use after the wait: the file's teardown takes it; it is
    // unbound already.
    let _ = ictx.objects.destroy_wait(&weak, |d: &Device| d.id() == id);
}

/// `iommufd_device_attach` and `_replace`: `*pt_id` is a HWPT or an IOAS,
/// whose automatic HWPT's id comes back in it.
///
/// # Safety
///
/// `idev` came from [`iommufd_rs_kapi_device_bind`] and is not unbound;
/// `pt_id` is valid for reads and writes.
#[no_mangle]
unsafe extern "C" fn iommufd_rs_kapi_device_change(
    idev: *mut c_void,
    pasid: u32,
    pt_id: *mut u32,
    replace: bool,
) -> c_int {
    // SAFETY: `idev` is bound.
    let k = unsafe { kdev_ref(idev) };
    // SAFETY: `pt_id` is valid for reads.
    let id = unsafe { pt_id.read() };
    let res = if replace {
        k.dev.replace(k.ictx(), pasid, id)
    } else {
        k.dev.attach(k.ictx(), pasid, id)
    };
    match res {
        Ok(hwpt) => {
            // SAFETY: `pt_id` is valid for writes.
            unsafe { pt_id.write(hwpt) };
            0
        }
        Err(e) => e.to_errno(),
    }
}

/// `iommufd_device_detach`: nothing attached at `pasid` is no error.
///
/// # Safety
///
/// `idev` came from [`iommufd_rs_kapi_device_bind`] and is not unbound.
#[no_mangle]
unsafe extern "C" fn iommufd_rs_kapi_device_detach(idev: *mut c_void, pasid: u32) {
    // SAFETY: `idev` is bound.
    let k = unsafe { kdev_ref(idev) };
    k.dev.detach(k.ictx(), pasid);
}

/// `iommufd_rs_device_attach_vpasid` and `_replace_vpasid`: `*pt_id` is a
/// HWPT; the host PASID comes back in `*ppasid`.
///
/// # Safety
///
/// `idev` came from [`iommufd_rs_kapi_device_bind`] and is not unbound;
/// `pt_id` is valid for reads, `ppasid` for writes.
#[no_mangle]
unsafe extern "C" fn iommufd_rs_kapi_device_vpasid_change(
    idev: *mut c_void,
    vpasid: u32,
    pt_id: *mut u32,
    ppasid: *mut u32,
    replace: bool,
) -> c_int {
    // SAFETY: `idev` is bound.
    let k = unsafe { kdev_ref(idev) };
    // SAFETY: `pt_id` is valid for reads.
    let id = unsafe { pt_id.read() };
    match vpasid::change(k.ictx(), &k.dev, vpasid, id, replace) {
        Ok(p) => {
            // SAFETY: `ppasid` is valid for writes.
            unsafe { ppasid.write(p) };
            0
        }
        Err(e) => e.to_errno(),
    }
}

/// `iommufd_rs_device_detach_vpasid`: nothing attached there is no error.
///
/// # Safety
///
/// `idev` came from [`iommufd_rs_kapi_device_bind`] and is not unbound.
#[no_mangle]
unsafe extern "C" fn iommufd_rs_kapi_device_vpasid_detach(idev: *mut c_void, vpasid: u32) {
    // SAFETY: `idev` is bound.
    let k = unsafe { kdev_ref(idev) };
    // A vPASID out of range is attached nowhere: nothing to do.
    let _ = vpasid::detach(k.ictx(), &k.dev, vpasid);
}

/// `iommufd_rs_device_vpasid_to_ppasid`: `ENOENT` if the device is not
/// attached at `vpasid`.
///
/// # Safety
///
/// `idev` came from [`iommufd_rs_kapi_device_bind`] and is not unbound;
/// `ppasid` is valid for writes.
#[no_mangle]
unsafe extern "C" fn iommufd_rs_kapi_device_vpasid_lookup(
    idev: *mut c_void,
    vpasid: u32,
    ppasid: *mut u32,
) -> c_int {
    // SAFETY: `idev` is bound.
    let k = unsafe { kdev_ref(idev) };
    match vpasid::lookup(&k.dev, vpasid) {
        Ok(p) => {
            // SAFETY: `ppasid` is valid for writes.
            unsafe { ppasid.write(p) };
            0
        }
        Err(e) => e.to_errno(),
    }
}

/// `iommufd_device_to_ictx`: the file the device is bound to.
///
/// # Safety
///
/// `idev` came from [`iommufd_rs_kapi_device_bind`] and is not unbound.
#[no_mangle]
unsafe extern "C" fn iommufd_rs_kapi_device_ctx(idev: *mut c_void) -> *mut bindings::file {
    // SAFETY: `idev` is bound.
    unsafe { kdev_ref(idev) }.file.as_ptr()
}

/// `iommufd_device_to_id`: the device's object id.
///
/// # Safety
///
/// `idev` came from [`iommufd_rs_kapi_device_bind`] and is not unbound.
#[no_mangle]
unsafe extern "C" fn iommufd_rs_kapi_device_id(idev: *mut c_void) -> u32 {
    // SAFETY: `idev` is bound.
    unsafe { kdev_ref(idev) }.dev.id()
}

/// `iommufd_ctx_has_group`: whether a device of `group` is bound here.
///
/// # Safety
///
/// `ictx` is the private data of one of our files, referenced by the caller.
#[no_mangle]
unsafe extern "C" fn iommufd_rs_kapi_has_group(
    ictx: *const c_void,
    group: *mut bindings::iommu_group,
) -> bool {
    // SAFETY: The caller's file reference keeps the `Ictx`.
    let ictx = unsafe { ictx_ref(ictx) };
    ictx.groups.lock().has(group as usize)
}

/// `iommufd_vfio_compat_ioas_get_id`: `ENODEV` without a compat IOAS.
///
/// # Safety
///
/// `ictx` is the private data of one of our files, referenced by the
/// caller; `out` is valid for writes.
#[no_mangle]
unsafe extern "C" fn iommufd_rs_kapi_compat_ioas_get_id(
    ictx: *const c_void,
    out: *mut u32,
) -> c_int {
    // SAFETY: The caller's file reference keeps the `Ictx`.
    let ictx = unsafe { ictx_ref(ictx) };
    match vfio_compat::compat_ioas(ictx) {
        Ok(ioas) => {
            // SAFETY: `out` is valid for writes.
            unsafe { out.write(ioas.id()) };
            0
        }
        Err(e) => e.to_errno(),
    }
}

/// `iommufd_vfio_compat_ioas_create`: makes the compat IOAS a published
/// object unless a live one exists (then 0).
///
/// # Safety
///
/// `ictx` is the private data of one of our files, referenced by the caller.
#[no_mangle]
unsafe extern "C" fn iommufd_rs_kapi_compat_ioas_create(ictx: *const c_void) -> c_int {
    // SAFETY: The caller's file reference keeps the `Ictx`.
    let ictx = unsafe { ictx_ref(ictx) };
    match compat_ioas_create(ictx) {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

fn compat_ioas_create(ictx: &Ictx) -> Result {
    // Allocated first, as upstream, so that nothing sleeps under the lock
    // but the id's reservation.
    let ioas = Ioas::new()?;
    let mut chosen = ictx.vfio_ioas.lock();
    if (*chosen).is_some_and(|w| w.get(&ictx.objects).is_ok()) {
        return Ok(());
    }
    let pending = ictx.objects.reserve(ObjectKind::Ioas(ioas))?;
    *chosen = Some(pending.get::<Ioas>()?.downgrade());
    pending.publish();
    Ok(())
}

/// `iommufd_vfio_compat_set_no_iommu`: `EINVAL` once a compat IOAS
/// exists, as upstream. The no-IOMMU mode itself is not offered
/// (`EOPNOTSUPP`); vfio asks for it only with `CONFIG_VFIO_NOIOMMU`.
///
/// # Safety
///
/// `ictx` is the private data of one of our files, referenced by the caller.
#[no_mangle]
unsafe extern "C" fn iommufd_rs_kapi_compat_set_no_iommu(ictx: *const c_void) -> c_int {
    // SAFETY: The caller's file reference keeps the `Ictx`.
    let ictx = unsafe { ictx_ref(ictx) };
    if vfio_compat::compat_ioas(ictx).is_ok() {
        return EINVAL.to_errno();
    }
    EOPNOTSUPP.to_errno()
}

/// The driver's side of an access: its `struct iommufd_access_ops` and the
/// data it gave for them, which C calls `unmap` with.
struct DriverOps {
    ops: *const c_void,
    data: *mut c_void,
}

// SAFETY: The driver's contract, as upstream's: its ops and data stay valid
// until `iommufd_access_destroy()` returns, and its callback may be called
// from any thread meanwhile.
unsafe impl Send for DriverOps {}

// SAFETY: As for `Send`: the pointers are only passed back to the driver.
unsafe impl Sync for DriverOps {}

impl AccessOps for DriverOps {
    fn unmap(&self, iova: u64, length: u64) {
        let iova = c_ulong::try_from(iova).unwrap_or(c_ulong::MAX);
        let length = c_ulong::try_from(length).unwrap_or(c_ulong::MAX);
        // SAFETY: `ops` and `data` are the driver's, valid until the access
        // is destroyed, which waits for every callback; C calls the driver's
        // `unmap`, if it has one.
        unsafe { iommufd_rs_kapi_access_unmap(self.ops, self.data, iova, length) };
    }
}

/// An access made through the in-kernel API.
pub(crate) struct KapiAccess {
    /// The driver's reference to the access object: `IOMMU_DESTROY` of it
    /// is `EBUSY`, as upstream.
    access: ObjRef<Access>,
    /// The context, kept alive by `_file`.
    ictx: *const Ictx,
    /// A reference to the iommufd file, upstream's `iommufd_ctx_get`.
    _file: ARef<File>,
    /// Whether the ops allow pinning: `needs_pin_pages` and an `unmap`.
    can_pin: bool,
}

impl KapiAccess {
    fn ictx(&self) -> &Ictx {
        // SAFETY: `ictx` is the private data of `_file`, one of our files;
        // it lives until the file's release, which cannot come while
        // `_file` holds a reference.
        unsafe { &*self.ictx }
    }
}

/// The access behind `access`.
///
/// # Safety
///
/// `access` came from [`iommufd_rs_kapi_access_create`] and is not
/// destroyed.
unsafe fn kaccess_ref<'a>(access: *mut c_void) -> &'a KapiAccess {
    // SAFETY: By the function's contract `access` is a live `KapiAccess`.
    unsafe { &*access.cast::<KapiAccess>() }
}

/// `iommufd_access_create`: an access object in the file's table, detached;
/// `needs_pin` if the driver pins pages (then the IOAS it attaches to must
/// be page aligned), `has_unmap` if its ops have an `unmap`.
///
/// # Safety
///
/// `file` is one of our files with `ictx` its private data, on which the
/// caller holds a reference; `ops` and `data` are the driver's, valid until
/// the access is destroyed; `id` and `out` are valid for writes.
#[no_mangle]
unsafe extern "C" fn iommufd_rs_kapi_access_create(
    file: *mut bindings::file,
    ictx: *const c_void,
    ops: *const c_void,
    data: *mut c_void,
    needs_pin: bool,
    has_unmap: bool,
    id: *mut u32,
    out: *mut *mut c_void,
) -> c_int {
    // SAFETY: The caller holds a reference to `file` for the whole call.
    let file: ARef<File> = unsafe { File::from_raw_file(file) }.into();
    // SAFETY: The caller's reference to `file` keeps its `Ictx`.
    let ictx_r = unsafe { ictx_ref(ictx) };
    // The handle first: once the object is published, nothing may fail.
    let slot = match KBox::<KapiAccess>::new_uninit(GFP_KERNEL_ACCOUNT) {
        Ok(slot) => slot,
        Err(e) => return Error::from(e).to_errno(),
    };
    let access = match access_create(&file, ictx_r, ops, data, needs_pin) {
        Ok(access) => access,
        Err(e) => return e.to_errno(),
    };
    let access_id = access.id();
    let k = slot.write(KapiAccess {
        access,
        ictx: ictx_r,
        _file: file,
        can_pin: needs_pin && has_unmap,
    });
    // SAFETY: `id` is valid for writes.
    unsafe { id.write(access_id) };
    // SAFETY: `out` is valid for writes.
    unsafe { out.write(KBox::into_raw(k).cast()) };
    0
}

fn access_create(
    file: &File,
    ictx: &Ictx,
    ops: *const c_void,
    data: *mut c_void,
    needs_pin: bool,
) -> Result<ObjRef<Access>> {
    let ops: KBox<dyn AccessOps> = KBox::new(DriverOps { ops, data }, GFP_KERNEL_ACCOUNT)?;
    let access = Access::new(file, needs_pin, Some(ops))?;
    let pending = ictx.objects.reserve(ObjectKind::Access(access))?;
    let r = pending.get::<Access>()?;
    pending.publish();
    Ok(r)
}

/// Destroys the object of `access`, which is shut down.
fn access_destroy(ictx: &Ictx, access: ObjRef<Access>) {
    let weak = access.downgrade();
    drop(access);
    // Still in use after the wait: the file's teardown takes it; it is
    // shut down already.
    let _ = ictx.objects.destroy_wait(&weak, |_: &Access| true);
}

/// `iommufd_access_destroy`: detaches (the driver's `unmap` asked for
/// everything first), waits for running callbacks, and destroys the object.
///
/// # Safety
///
/// `access` came from [`iommufd_rs_kapi_access_create`] and is given back
/// once.
#[no_mangle]
unsafe extern "C" fn iommufd_rs_kapi_access_destroy(access: *mut c_void) {
    // The shutdown asks the driver's `unmap` to unpin everything, and the
    // driver does so through this same handle: it must stay valid until no
    // callback runs any more, which is when the shutdown returns.
    {
        // SAFETY: `access` is live until it is freed below.
        let k = unsafe { kaccess_ref(access) };
        k.access.arc().shutdown();
    }
    // SAFETY: By the function's contract `access` is ours, given back once;
    // the reference above is gone, and no callback can reach it any more.
    let k = unsafe { KBox::from_raw(access.cast::<KapiAccess>()) };
    let KapiAccess {
        access,
        ictx,
        _file: file,
        ..
    } = KBox::into_inner(k);
    // SAFETY: `file` keeps the `Ictx` alive until it is dropped below.
    let ictx = unsafe { &*ictx };
    access_destroy(ictx, access);
    drop(file);
}

/// How [`iommufd_rs_kapi_access_change`] changes the IOAS.
const CHANGE_ATTACH: c_int = 0;
const CHANGE_REPLACE: c_int = 1;
const CHANGE_DETACH: c_int = 2;

/// `iommufd_access_attach` (`EINVAL`, with a warning, if attached),
/// `_replace` (`ENOENT` if detached) and `_detach` (a warning if
/// detached), as `how` says; `ioas_id` names the new IOAS (`ENOENT` if it
/// is none).
///
/// # Safety
///
/// `access` came from [`iommufd_rs_kapi_access_create`] and is not
/// destroyed.
#[no_mangle]
unsafe extern "C" fn iommufd_rs_kapi_access_change(
    access: *mut c_void,
    ioas_id: u32,
    how: c_int,
) -> c_int {
    // SAFETY: `access` is live.
    let k = unsafe { kaccess_ref(access) };
    let a = k.access.arc();
    let lookup = || Ok(Some(k.ictx().objects.get::<Ioas>(ioas_id)?));
    let res = match how {
        CHANGE_ATTACH => {
            let res = a.change_ioas(Expect::Detached, lookup);
            kernel::warn_on!(res == Err(EINVAL));
            res
        }
        CHANGE_REPLACE => a.change_ioas(Expect::Attached, lookup),
        CHANGE_DETACH => {
            let res = a.change_ioas(Expect::Attached, || Ok(None));
            kernel::warn_on!(res.is_err());
            res
        }
        _ => Err(EINVAL),
    };
    match res {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

/// `IOMMUFD_ACCESS_RW_WRITE`.
const RW_WRITE: u32 = 1 << 0;
/// `__IOMMUFD_ACCESS_RW_SLOW_PATH`, which upstream honours only with its
/// selftest configured.
const RW_SLOW_PATH: u32 = 1 << 2;

/// `iommufd_access_pin_pages`: pins the pages mapped at `length` bytes from
/// `iova` (for writing with `IOMMUFD_ACCESS_RW_WRITE`) into `out_pages`.
/// `EINVAL`, with a warning, if the ops cannot pin, as upstream with its
/// selftest configured (the production variant, as upstream without it,
/// does not check); then `EINVAL` for no bytes, `EOVERFLOW` past the
/// end of the IOVA space, `ENOENT` while detached or where nothing is
/// mapped, `EINVAL` off page boundaries, `EPERM` against the mapping's
/// protection.
///
/// # Safety
///
/// `access` came from [`iommufd_rs_kapi_access_create`] and is not
/// destroyed; `out_pages` is valid for writes of one pointer per page the
/// range touches.
#[no_mangle]
unsafe extern "C" fn iommufd_rs_kapi_access_pin(
    access: *mut c_void,
    iova: u64,
    length: u64,
    out_pages: *mut *mut bindings::page,
    flags: u32,
) -> c_int {
    // SAFETY: `access` is live.
    let k = unsafe { kaccess_ref(access) };
    if cfg!(iommufd_rs_selftest) && kernel::warn_on!(!k.can_pin) {
        return EINVAL.to_errno();
    }
    let res = IovaRange::from_len(iova, length)
        .map_err(Error::from)
        .and_then(|range| k.access.pin(range, flags & RW_WRITE != 0));
    match res {
        Ok((_, pages)) => {
            for (i, page) in pages.iter().enumerate() {
                // SAFETY: `out_pages` has room for a pointer per page of the
                // range, which is what `pages` holds.
                unsafe { out_pages.add(i).write(page.as_raw()) };
            }
            0
        }
        Err(e) => e.to_errno(),
    }
}

/// `iommufd_access_unpin_pages`: gives back what a pin of exactly this
/// range took. A range that was not pinned is the driver's bug, warned of.
///
/// # Safety
///
/// `access` came from [`iommufd_rs_kapi_access_create`] and is not
/// destroyed.
#[no_mangle]
unsafe extern "C" fn iommufd_rs_kapi_access_unpin(access: *mut c_void, iova: u64, length: u64) {
    // SAFETY: `access` is live.
    let k = unsafe { kaccess_ref(access) };
    let res = IovaRange::from_len(iova, length)
        .map_err(Error::from)
        .and_then(|range| k.access.unpin(range));
    kernel::warn_on!(res.is_err());
}

/// `iommufd_access_rw`: copies `len` bytes between `data` and the memory
/// mapped at `iova`, into it with `IOMMUFD_ACCESS_RW_WRITE`. `EINVAL` for
/// no bytes, `EOVERFLOW` past the end of the IOVA space, `ENOENT` while
/// detached or where nothing is mapped, `EPERM` against the mapping's
/// protection.
///
/// # Safety
///
/// `access` came from [`iommufd_rs_kapi_access_create`] and is not
/// destroyed; `data` is valid for reads and writes of `len` bytes, which
/// nothing else uses during the call.
#[no_mangle]
unsafe extern "C" fn iommufd_rs_kapi_access_rw(
    access: *mut c_void,
    iova: u64,
    data: *mut c_void,
    len: usize,
    flags: u32,
) -> c_int {
    // SAFETY: `access` is live.
    let k = unsafe { kaccess_ref(access) };
    if len == 0 || data.is_null() {
        return EINVAL.to_errno();
    }
    // SAFETY: By the function's contract `data` is valid for `len` bytes
    // and not otherwise used during the call; it is not null.
    let buf = unsafe { core::slice::from_raw_parts_mut(data.cast::<u8>(), len) };
    let write = flags & RW_WRITE != 0;
    let slow = cfg!(iommufd_rs_selftest) && flags & RW_SLOW_PATH != 0;
    match k.access.rw(iova, buf, write, slow) {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}
