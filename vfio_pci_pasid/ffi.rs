// SPDX-License-Identifier: GPL-2.0

//! The FFI layer of `vfio-pci-pasid.ko`, the only Rust in it with
//! `unsafe`: the `vpasid_rs_*` functions `vfio_pci_pasid_glue.c` calls
//! (declared in `vfio_pci_pasid.h`), which turn its pointers into
//! references and slices and hand them to [`crate::vpasid`], and the
//! physical config reads.

use core::{
    ffi::{
        c_int,
        c_void, //
    },
    fmt,
};
use kernel::{
    bindings,
    error::to_result,
    ffi::c_char,
    prelude::*, //
};

use crate::vpasid::{
    self,
    Attr,
    Bytes,
    ConfigSpace,
    Device,
    OpenInfo,
    PasidInfo,
    State, //
};

extern "C" {
    fn vpasid_glue_register() -> c_int;
    fn vpasid_glue_unregister();
}

/// Registers the PCI driver (after checking the module parameters).
pub(crate) fn register() -> Result {
    // SAFETY: Called once, from module init.
    to_result(unsafe { vpasid_glue_register() })
}

/// Unregisters the PCI driver.
pub(crate) fn unregister() {
    // SAFETY: Called once, from module exit, after a successful register.
    unsafe { vpasid_glue_unregister() }
}

/// The config space of a PCI function, read through the PCI core.
struct Phys(*mut bindings::pci_dev);

impl ConfigSpace for Phys {
    fn read32(&self, off: u16) -> Option<u32> {
        let mut v = 0u32;
        // SAFETY: `self.0` is the function the caller's driver is bound to,
        // live for the whole open call that built this reader; `v` is valid
        // for writes.
        let rc = unsafe { bindings::pci_read_config_dword(self.0, c_int::from(off), &mut v) };
        (rc == 0).then_some(v)
    }
}

/// The state behind `rs`.
///
/// # Safety
///
/// `rs` came from [`vpasid_rs_new`], is not freed, and the caller holds the
/// device's lock (no other reference exists while this one lives).
unsafe fn state<'a>(rs: *mut c_void) -> &'a mut State {
    // SAFETY: By the function's contract.
    unsafe { &mut *rs.cast::<State>() }
}

/// A C string as `&str`; one that is not UTF-8 reads as empty.
///
/// # Safety
///
/// `s` is a NUL-terminated string that outlives the result.
unsafe fn text<'a>(s: *const c_char) -> &'a str {
    // SAFETY: By the function's contract.
    unsafe { CStr::from_char_ptr(s) }.to_str().unwrap_or("")
}

/// A new device state, or NULL without memory.
#[no_mangle]
extern "C" fn vpasid_rs_new() -> *mut c_void {
    match KBox::new(State::default(), GFP_KERNEL) {
        Ok(b) => KBox::into_raw(b).cast(),
        Err(_) => core::ptr::null_mut(),
    }
}

/// Frees a state from [`vpasid_rs_new`].
///
/// # Safety
///
/// `rs` came from [`vpasid_rs_new`] and is given back once.
#[no_mangle]
unsafe extern "C" fn vpasid_rs_free(rs: *mut c_void) {
    // SAFETY: By the function's contract.
    drop(unsafe { KBox::from_raw(rs.cast::<State>()) });
}

/// Whether the `quirks` and `offsets` module parameters parse.
///
/// # Safety
///
/// Both are NUL-terminated strings.
#[no_mangle]
unsafe extern "C" fn vpasid_rs_tables_valid(quirks: *const c_char, offsets: *const c_char) -> bool {
    // SAFETY: By the function's contract.
    let (q, o) = unsafe { (text(quirks), text(offsets)) };
    vpasid::quirks_valid(q) && vpasid::offsets_valid(o)
}

/// The open of the device: builds the virtual capability over vfio-pci's
/// `vconfig`, or refuses with a negative errno and one line in the log.
///
/// # Safety
///
/// As [`state`]; `pdev` is the bound function; `vconfig` points to
/// `vconfig_len` readable bytes; the strings are NUL-terminated; all live
/// for the call.
#[no_mangle]
unsafe extern "C" fn vpasid_rs_open(
    rs: *mut c_void,
    pdev: *mut bindings::pci_dev,
    vconfig: *const u8,
    vconfig_len: u32,
    name: *const c_char,
    quirks: *const c_char,
    offsets: *const c_char,
    max_pasids: u32,
    dev_width: u32,
    features: u16,
) -> c_int {
    // SAFETY: By the function's contract.
    let st = unsafe { state(rs) };
    let Ok(len) = usize::try_from(vconfig_len) else {
        return EINVAL.to_errno();
    };
    // SAFETY: By the function's contract, `vconfig` has `len` bytes.
    let vcfg = Bytes(unsafe { core::slice::from_raw_parts(vconfig, len) });
    // SAFETY: By the function's contract.
    let (name, quirks, offsets) = unsafe { (text(name), text(quirks), text(offsets)) };
    let phys = Phys(pdev);
    let Some(id) = phys.read32(0) else {
        return EIO.to_errno();
    };
    let info = OpenInfo {
        dev: Device {
            vendor: id as u16,
            device: (id >> 16) as u16,
            quirks,
        },
        bdf: name,
        offsets,
        pasid: PasidInfo::new(max_pasids, u8::try_from(dev_width).unwrap_or(0), features),
    };
    match st.open(&phys, &vcfg, &info) {
        Ok(()) => 0,
        Err(r) => {
            pr_err!(
                "vfio-pci-pasid {name}: cannot present PASID: {}\n",
                format_args!("{r}")
            );
            -r.errno()
        }
    }
}

/// The close of the device.
///
/// # Safety
///
/// As [`state`].
#[no_mangle]
unsafe extern "C" fn vpasid_rs_close(rs: *mut c_void) {
    // SAFETY: By the function's contract.
    unsafe { state(rs) }.close();
}

/// A reset of the function.
///
/// # Safety
///
/// As [`state`].
#[no_mangle]
unsafe extern "C" fn vpasid_rs_reset(rs: *mut c_void) {
    // SAFETY: By the function's contract.
    unsafe { state(rs) }.reset();
}

/// The `idx`-th config range the capability overlays, if any.
///
/// # Safety
///
/// As [`state`]; `start` and `len` are valid for writes.
#[no_mangle]
unsafe extern "C" fn vpasid_rs_window(
    rs: *mut c_void,
    idx: u32,
    start: *mut u32,
    len: *mut u32,
) -> bool {
    // SAFETY: By the function's contract.
    let st = unsafe { state(rs) };
    let Some((s, l)) = usize::try_from(idx).ok().and_then(|i| st.window(i)) else {
        return false;
    };
    // SAFETY: By the function's contract.
    unsafe { start.write(u32::from(s)) };
    // SAFETY: By the function's contract.
    unsafe { len.write(u32::from(l)) };
    true
}

/// Overlays the capability's bytes on `len` bytes read at `pos`.
///
/// # Safety
///
/// As [`state`]; `buf` has `len` writable bytes.
#[no_mangle]
unsafe extern "C" fn vpasid_rs_read(rs: *mut c_void, pos: u32, buf: *mut u8, len: u32) {
    // SAFETY: By the function's contract.
    let st = unsafe { state(rs) };
    let Ok(len) = usize::try_from(len) else {
        return;
    };
    // SAFETY: By the function's contract.
    st.read(pos, unsafe { core::slice::from_raw_parts_mut(buf, len) });
}

/// A user write of `len` bytes at `pos` inside the capability.
///
/// # Safety
///
/// As [`state`]; `buf` has `len` readable bytes.
#[no_mangle]
unsafe extern "C" fn vpasid_rs_write(rs: *mut c_void, pos: u32, buf: *const u8, len: u32) {
    // SAFETY: By the function's contract.
    let st = unsafe { state(rs) };
    let Ok(len) = usize::try_from(len) else {
        return;
    };
    // SAFETY: By the function's contract.
    st.write(pos, unsafe { core::slice::from_raw_parts(buf, len) });
}

fn attr(a: u32) -> Option<Attr> {
    match a {
        0 => Some(Attr::Offset),
        1 => Some(Attr::Fingerprint),
        _ => None,
    }
}

/// A writer into a sysfs page.
struct Page<'a> {
    buf: &'a mut [u8],
    len: usize,
}

impl fmt::Write for Page<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len.checked_add(s.len()).ok_or(fmt::Error)?;
        self.buf
            .get_mut(self.len..end)
            .ok_or(fmt::Error)?
            .copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// A sysfs read: the attribute's text in `page`, its length.
///
/// # Safety
///
/// As [`state`]; `page` has `size` writable bytes.
#[no_mangle]
unsafe extern "C" fn vpasid_rs_show(rs: *mut c_void, a: u32, page: *mut u8, size: usize) -> isize {
    // SAFETY: By the function's contract.
    let st = unsafe { state(rs) };
    let Some(a) = attr(a) else {
        return EINVAL.to_errno() as isize;
    };
    let mut p = Page {
        // SAFETY: By the function's contract.
        buf: unsafe { core::slice::from_raw_parts_mut(page, size) },
        len: 0,
    };
    if st.show(a, &mut p).is_err() {
        return EINVAL.to_errno() as isize;
    }
    isize::try_from(p.len).unwrap_or(0)
}

/// A sysfs write of `count` bytes: `count`, or a negative errno.
///
/// # Safety
///
/// As [`state`]; `buf` has `count` readable bytes.
#[no_mangle]
unsafe extern "C" fn vpasid_rs_store(
    rs: *mut c_void,
    a: u32,
    buf: *const u8,
    count: usize,
) -> isize {
    // SAFETY: By the function's contract.
    let st = unsafe { state(rs) };
    // SAFETY: By the function's contract.
    let bytes = unsafe { core::slice::from_raw_parts(buf, count) };
    let (Some(a), Ok(s)) = (attr(a), core::str::from_utf8(bytes)) else {
        return EINVAL.to_errno() as isize;
    };
    match st.store(a, s) {
        Ok(()) => isize::try_from(count).unwrap_or(isize::MAX),
        Err(e) => -(e as isize),
    }
}
