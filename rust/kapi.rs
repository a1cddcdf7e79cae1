// SPDX-License-Identifier: GPL-2.0

//! The Rust side of the iommufd in-kernel API that `vfio.ko` imports
//! (`glue/iommufd_rs_kapi.c` exports it): device bind, attach, replace,
//! detach and unbind, the group query of hot reset, and the VFIO
//! compatibility IOAS.
//!
//! Part of the FFI layer: each `extern "C"` function turns the pointers vfio
//! hands back into references, resting on vfio's contract (they came from
//! this API and vfio keeps them until it gives them back), calls the same
//! code the ioctls use, and returns an errno for C to make an `ERR_PTR` of.
//!
//! A `struct iommufd_ctx *` is the `struct file *` of a `/dev/iommu` file;
//! C passes its private data, the [`Ictx`], along. A
//! `struct iommufd_device *` is a [`KapiDevice`] from [`KBox::into_raw`].

use core::ffi::{
    c_int,
    c_void, //
};
use kernel::{
    bindings,
    fs::File,
    prelude::*,
    sync::aref::ARef, //
};

use crate::{
    device::Device,
    ictx::Ictx,
    ioas::Ioas,
    object::{
        ObjRef,
        ObjectKind, //
    },
    vfio_compat, //
};

// Only pointers to the kernel's structs cross this boundary; bindgen gives
// some of them zero-sized placeholder members, which this lint cannot see past.
#[expect(improper_ctypes, reason = "pointers to bindgen structs only")]
extern "C" {
    fn iommufd_rs_kapi_check_msi(dev: *mut bindings::device) -> c_int;
    fn iommufd_rs_kapi_set_fops(fops: *const bindings::file_operations);
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
