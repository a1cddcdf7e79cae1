// SPDX-License-Identifier: GPL-2.0

//! Safe wrappers of the C helpers in `glue/iommufd_rs_glue.c`.
//!
//! Those helpers wrap kernel facilities that are inline functions, macros or
//! static operation tables, which Rust for Linux does not bind yet.

use core::{
    ffi::c_void,
    ptr::NonNull, //
};
use kernel::{
    bindings,
    error::{
        from_err_ptr,
        to_result, //
    },
    fs::{
        file::{
            flags::O_CLOEXEC,
            FileDescriptorReservation,
            LocalFile, //
        },
        File,
    },
    mm::Mm,
    prelude::*,
    sync::{
        aref::ARef,
        Arc,
        ArcBorrow, //
    },
    task::Task,
    types::ForeignOwnable,
};

use crate::access::Access;

// Only pointers to the kernel's structs cross this boundary; bindgen gives
// some of them zero-sized placeholder members, which this lint cannot see past.
#[expect(improper_ctypes, reason = "pointers to bindgen structs only")]
extern "C" {
    fn iommufd_rs_pin_user(
        mm: *mut bindings::mm_struct,
        addr: usize,
        npages: usize,
        write: bool,
        pages: *mut *mut bindings::page,
    ) -> isize;
    fn iommufd_rs_pin_user_page(
        mm: *mut bindings::mm_struct,
        addr: usize,
        write: bool,
        page: *mut *mut bindings::page,
    ) -> i32;
    fn iommufd_rs_pin_file(
        file: *mut bindings::file,
        offset: i64,
        npages: usize,
        pages: *mut *mut bindings::page,
    ) -> isize;
    fn iommufd_rs_unpin(pages: *mut *mut bindings::page, npages: usize, dirty: bool);
    fn iommufd_rs_check_pages(uaddr: usize, pages: *mut *mut bindings::page, npages: usize) -> i32;
    fn iommufd_rs_page_copy(
        page: *mut bindings::page,
        offset: u32,
        buf: *mut c_void,
        len: usize,
        to_page: bool,
    );
    fn iommufd_rs_get_current_user() -> *mut bindings::user_struct;
    fn iommufd_rs_put_user(user: *mut bindings::user_struct);
    fn iommufd_rs_charge_user(
        user: *mut bindings::user_struct,
        task: *mut bindings::task_struct,
        npages: usize,
    ) -> i32;
    fn iommufd_rs_uncharge_user(user: *mut bindings::user_struct, npages: usize);
    fn iommufd_rs_charge_mm(
        mm: *mut bindings::mm_struct,
        task: *mut bindings::task_struct,
        npages: usize,
        inc: bool,
    ) -> i32;
    fn iommufd_rs_add_pinned_vm(mm: *mut bindings::mm_struct, npages: isize);
    fn iommufd_rs_capable_ipc_lock() -> bool;
    fn iommufd_rs_access_file(data: *mut c_void) -> *mut bindings::file;
    fn iommufd_rs_access_data(file: *mut bindings::file) -> *mut c_void;
}

/// Whether the caller has `CAP_SYS_RESOURCE`.
pub(crate) fn capable_sys_resource() -> bool {
    // SAFETY: `capable` may be called from any process context.
    unsafe { bindings::capable(bindings::CAP_SYS_RESOURCE as i32) }
}

/// Whether the caller has `CAP_IPC_LOCK`, and so is not charged for pins.
pub(crate) fn capable_ipc_lock() -> bool {
    // SAFETY: Callable from any process context.
    unsafe { iommufd_rs_capable_ipc_lock() }
}

/// A long-term pinned page, as a handle: copies do not own the pin. The pin
/// is released only through [`unpin`], by whoever owns it.
#[derive(Clone, Copy, PartialEq, Eq)]
#[repr(transparent)]
pub(crate) struct PinnedPage(NonNull<bindings::page>);

// SAFETY: A pinned `struct page` may be used and unpinned from any thread.
unsafe impl Send for PinnedPage {}

// SAFETY: `PinnedPage` gives no access to the page's contents.
unsafe impl Sync for PinnedPage {}

/// The largest batch handed to GUP at once. Batches live on the kernel
/// stack, twice over while pinning: keep them a few hundred bytes.
pub(crate) const PIN_BATCH: usize = 32;

/// The most pages one GUP call pins for a domain or an access, as
/// upstream's batches: large enough that a 2 MiB range is one call.
const GUP_MAX: usize = 512;

/// Pins up to `want` (at most [`GUP_MAX`]) pages of `mm` from the
/// page-aligned `addr` long-term, straight into `out`'s spare room, which
/// must hold them. Returns how many were pinned (at least one).
pub(crate) fn pin_user_into(
    mm: &Mm,
    addr: usize,
    write: bool,
    want: usize,
    out: &mut KVVec<PinnedPage>,
) -> Result<usize> {
    let n = want.min(GUP_MAX).min(out.capacity() - out.len());
    if n == 0 {
        return Err(ENOMEM);
    }
    let spare = out.spare_capacity_mut();
    // `PinnedPage` is a transparent `struct page *`, so the spare room is an
    // array of page pointers for GUP to fill.
    let raw = spare.as_mut_ptr().cast::<*mut bindings::page>();
    // SAFETY: `mm` is a live mm (the `&Mm` holds an mmgrab reference) and
    // `raw` has room for `n` page pointers.
    let got = unsafe { iommufd_rs_pin_user(mm.as_raw(), addr, n, write, raw) };
    let got = usize::try_from(got).map_err(|_| Error::from_errno(got as i32))?;
    let got = got.min(n);
    // SAFETY: GUP wrote `got` valid, non-null page pointers at the start of
    // the spare room; `PinnedPage` has the layout of such a pointer.
    unsafe { out.inc_len(got) };
    Ok(got)
}

/// Pins the one page of `mm` at the page-aligned `addr` for a short copy:
/// not long-term, not charged, for writing if `write`. Release it with
/// [`unpin`] once the copy is done.
pub(crate) fn pin_user_page(mm: &Mm, addr: usize, write: bool) -> Result<PinnedPage> {
    let mut page = core::ptr::null_mut();
    // SAFETY: `mm` is live (the `&Mm` holds an mmgrab reference) and `page`
    // is a valid out pointer.
    to_result(unsafe { iommufd_rs_pin_user_page(mm.as_raw(), addr, write, &mut page) })?;
    NonNull::new(page).map(PinnedPage).ok_or(EFAULT)
}

/// Pins up to `out.len()` pages of memfd `file` from the page-aligned byte
/// `offset` into `out`. Returns how many were pinned (at least one); `EINVAL`
/// for a file that is not a memfd or a range past its end.
pub(crate) fn pin_file(file: &File, offset: u64, out: &mut [Option<PinnedPage>]) -> Result<usize> {
    let mut raw = [core::ptr::null_mut::<bindings::page>(); PIN_BATCH];
    let n = out.len().min(PIN_BATCH);
    let offset = i64::try_from(offset).map_err(|_| EINVAL)?;
    // SAFETY: `file` is a live, referenced file and `raw` has room for `n`
    // page pointers.
    let got = unsafe { iommufd_rs_pin_file(file.as_ptr(), offset, n, raw.as_mut_ptr()) };
    let got = usize::try_from(got).map_err(|_| Error::from_errno(got as i32))?;
    for (slot, page) in out.iter_mut().zip(raw.iter().take(got)) {
        *slot = NonNull::new(*page).map(PinnedPage);
    }
    Ok(got)
}

/// Unpins `pages`, marking them dirty if a device may have written them.
///
/// # Safety
///
/// Each page must carry a pin taken by [`pin_user_into`] or [`pin_file`] that is
/// released by this call and by nothing else: [`PinnedPage`] is `Copy`, so
/// the owner of the pin (the pin store of a `Pages`) must give it up here
/// exactly once.
pub(crate) unsafe fn unpin(pages: &[PinnedPage], dirty: bool) {
    if pages.is_empty() {
        return;
    }
    // SAFETY: By the function's contract each page carries a pin that this
    // call releases once. `PinnedPage` is a transparent `struct page *`, so
    // the slice is the page array the helper takes; it only reads it.
    unsafe {
        iommufd_rs_unpin(
            pages.as_ptr().cast::<*mut bindings::page>().cast_mut(),
            pages.len(),
            dirty,
        )
    };
}

/// Checks that `pages` are the pages mapped at `uaddr` in current's mm:
/// `EBADE` at the first that is not.
pub(crate) fn check_pages(uaddr: usize, pages: &[PinnedPage]) -> Result {
    let mut addr = uaddr;
    for chunk in pages.chunks(PIN_BATCH) {
        let mut raw = [core::ptr::null_mut::<bindings::page>(); PIN_BATCH];
        for (r, p) in raw.iter_mut().zip(chunk) {
            *r = p.0.as_ptr();
        }
        // SAFETY: `raw` holds `chunk.len()` valid page pointers; the helper
        // only compares them.
        to_result(unsafe { iommufd_rs_check_pages(addr, raw.as_mut_ptr(), chunk.len()) })?;
        addr = addr.wrapping_add(chunk.len() * kernel::page::PAGE_SIZE);
    }
    Ok(())
}

/// Copies between `page` at `offset` and `buf`: into the page if `to_page`,
/// out of it otherwise. `EINVAL` if the range passes the end of the page.
///
/// # Safety
///
/// `page` must stay pinned for the whole call: [`PinnedPage`] is a handle
/// that does not own its pin.
pub(crate) unsafe fn page_copy(
    page: PinnedPage,
    offset: usize,
    buf: &mut [u8],
    to_page: bool,
) -> Result {
    if offset
        .checked_add(buf.len())
        .is_none_or(|end| end > kernel::page::PAGE_SIZE)
    {
        return Err(EINVAL);
    }
    let offset = u32::try_from(offset).map_err(|_| EINVAL)?;
    // SAFETY: By the function's contract `page` is pinned; the range lies
    // inside it (checked above) and `buf` is valid for `buf.len()` bytes.
    unsafe {
        iommufd_rs_page_copy(
            page.0.as_ptr(),
            offset,
            buf.as_mut_ptr().cast(),
            buf.len(),
            to_page,
        )
    };
    Ok(())
}

/// A counted reference to a `struct user_struct`, whose `locked_vm` pins
/// are charged to.
pub(crate) struct UserRef(NonNull<bindings::user_struct>);

// SAFETY: `user_struct` is reference counted and its counters are atomic.
unsafe impl Send for UserRef {}

// SAFETY: As above.
unsafe impl Sync for UserRef {}

impl UserRef {
    /// Whether both name the same user.
    pub(crate) fn same(&self, other: &Self) -> bool {
        self.0 == other.0
    }

    /// The user of the current task.
    pub(crate) fn current() -> Result<Self> {
        // SAFETY: Callable from any process context; returns a reference.
        NonNull::new(unsafe { iommufd_rs_get_current_user() })
            .map(Self)
            .ok_or(EINVAL)
    }

    /// Charges `npages` against `task`'s `RLIMIT_MEMLOCK`: `ENOMEM` past it.
    pub(crate) fn charge(&self, task: &Task, npages: usize) -> Result {
        // SAFETY: Both pointers are to live, referenced objects.
        to_result(unsafe { iommufd_rs_charge_user(self.0.as_ptr(), task.as_ptr(), npages) })
    }

    /// Returns a charge.
    pub(crate) fn uncharge(&self, npages: usize) {
        // SAFETY: `self.0` is a live, referenced user.
        unsafe { iommufd_rs_uncharge_user(self.0.as_ptr(), npages) }
    }
}

impl Drop for UserRef {
    fn drop(&mut self) {
        // SAFETY: The reference taken in `current` is dropped once.
        unsafe { iommufd_rs_put_user(self.0.as_ptr()) }
    }
}

/// Charges (`inc`) or returns `npages` on `mm`'s `locked_vm`, bounded by
/// `task`'s `RLIMIT_MEMLOCK`.
pub(crate) fn charge_mm(mm: &Mm, task: &Task, npages: usize, inc: bool) -> Result {
    // SAFETY: `mm` is live (mmgrab) and `task` is referenced.
    to_result(unsafe { iommufd_rs_charge_mm(mm.as_raw(), task.as_ptr(), npages, inc) })
}

/// Adds `npages` (may be negative) to `mm`'s `pinned_vm`.
pub(crate) fn add_pinned_vm(mm: &Mm, npages: isize) {
    // SAFETY: `mm` is live (mmgrab); the counter is atomic.
    unsafe { iommufd_rs_add_pinned_vm(mm.as_raw(), npages) }
}

/// A new file and the fd it will have, not yet in the fd table:
/// [`NewFd::install`] it, or drop it to give both back.
pub(crate) struct NewFd {
    reservation: FileDescriptorReservation,
    file: ARef<File>,
}

impl NewFd {
    /// Reserves an fd (close-on-exec) and makes the file for it with `make`.
    pub(crate) fn new(make: impl FnOnce() -> Result<ARef<File>>) -> Result<Self> {
        let reservation = FileDescriptorReservation::get_unused_fd_flags(O_CLOEXEC)?;
        Ok(Self {
            reservation,
            file: make()?,
        })
    }

    /// The fd number userspace will see (an fd number is an `int`).
    pub(crate) fn fd(&self) -> i32 {
        self.reservation.reserved_fd() as i32
    }

    /// Publishes the file under its fd; cannot fail.
    pub(crate) fn install(self) {
        self.reservation.fd_install(self.file);
    }
}

/// Takes over a new file returned by a C helper, or its `ERR_PTR`.
///
/// # Safety
///
/// `file` is an `ERR_PTR` or a file of which the caller owns a reference,
/// which is in no fd table yet.
pub(crate) unsafe fn new_file(file: *mut bindings::file) -> Result<ARef<File>> {
    let file = NonNull::new(from_err_ptr(file)?).ok_or(ENOMEM)?;
    // SAFETY: By the function's contract the file is valid and nobody calls
    // `fdget_pos` on it, as it is in no fd table.
    let file = unsafe { File::from_raw_file(file.as_ptr()) };
    // SAFETY: By the function's contract the reference is ours to take over.
    Ok(unsafe { ARef::from_raw(NonNull::from(file)) })
}

/// Makes the fd that owns `access`: its release drops `access`, once the
/// last reference to the file is gone. A full fd table is `ENOMEM`, as
/// upstream's test command reports it.
pub(crate) fn access_fd(access: Arc<Access>) -> Result<NewFd> {
    NewFd::new(move || {
        let data = access.into_foreign();
        // SAFETY: `data` is valid until the file's release, which is the only
        // user of it besides `with_access`.
        let file = unsafe { new_file(iommufd_rs_access_file(data)) };
        if file.is_err() {
            // SAFETY: `data` came from `into_foreign` above, and the helper
            // did not keep it.
            drop(unsafe { Arc::<Access>::from_foreign(data) });
        }
        file
    })
    .map_err(|e| if e == EMFILE { ENOMEM } else { e })
}

/// Runs `f` on the access behind fd `fd`: `EBADFD` if `fd` is not an open
/// access fd.
pub(crate) fn with_access<R>(
    fd: u32,
    f: impl FnOnce(ArcBorrow<'_, Access>) -> Result<R>,
) -> Result<R> {
    let file = LocalFile::fget(fd).map_err(|_| EBADFD)?;
    // SAFETY: `file` is a live, referenced file.
    let data = unsafe { iommufd_rs_access_data(file.as_ptr()) };
    if data.is_null() {
        return Err(EBADFD);
    }
    // SAFETY: `data` came from `into_foreign` in `access_fd`; the file
    // reference held in `file` keeps the fd's release, which takes it back,
    // from running until `f` returns, and `f` cannot keep the borrow.
    let access = unsafe { <Arc<Access> as ForeignOwnable>::borrow(data) };
    f(access)
}

/// Called by the access fd's release with the data given at creation.
///
/// # Safety
///
/// `data` must be the pointer `access_fd` handed to the fd, and this is
/// called once, when the fd's file is released.
#[no_mangle]
pub(crate) unsafe extern "C" fn iommufd_rs_access_release(data: *mut c_void) {
    // SAFETY: By the function's contract `data` came from `into_foreign`,
    // and is given back once.
    let access = unsafe { Arc::<Access>::from_foreign(data) };
    access.shutdown();
}
