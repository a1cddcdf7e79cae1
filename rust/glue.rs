// SPDX-License-Identifier: GPL-2.0

//! Safe wrappers of the C helpers in `glue/iommufd_rs_glue.c` and of the
//! kernel functions the kernel crate does not wrap yet: pins of user and
//! file pages, locked-memory accounting and the access fd.
//!
//! With `iommu.rs`, `miscdev.rs`, `kapi.rs` and (for the selftest) `mock.rs`, this is
//! the module's FFI layer, the only place where `unsafe` is allowed. The C
//! helpers wrap what `bindings::` cannot reach: inline functions, macros and
//! static `file_operations`; each says why it is C.

#[cfg(iommufd_rs_selftest)]
use core::ffi::c_void;
use core::{
    marker::PhantomData,
    ops::Deref,
    ptr::NonNull, //
};
#[cfg(iommufd_rs_selftest)]
use kernel::sync::{
    Arc,
    ArcBorrow, //
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
    maple_tree::MapleTreeAlloc,
    mm::Mm,
    page::BorrowedPage,
    prelude::*,
    sync::aref::ARef,
    task::Task,
    types::ForeignOwnable,
};

#[cfg(iommufd_rs_selftest)]
use crate::{
    access::Access,
    ictx::Ictx, //
};

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
    fn iommufd_rs_file_is_memfd(file: *mut bindings::file) -> bool;
    fn iommufd_rs_pages_contiguous(pages: *const *mut bindings::page, npages: usize) -> bool;
    fn iommufd_rs_page_to_pfn(page: *mut bindings::page) -> usize;
    fn iommufd_rs_pfn_to_page(pfn: usize) -> *mut bindings::page;
    #[cfg(iommufd_rs_selftest)]
    fn iommufd_rs_check_pages(uaddr: usize, pages: *mut *mut bindings::page, npages: usize) -> i32;
    fn iommufd_rs_get_current_user() -> *mut bindings::user_struct;
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
    #[cfg(iommufd_rs_selftest)]
    fn iommufd_rs_access_file(data: *mut c_void) -> *mut bindings::file;
    #[cfg(iommufd_rs_selftest)]
    fn iommufd_rs_access_data(file: *mut bindings::file) -> *mut c_void;
    #[cfg(iommufd_rs_selftest)]
    fn iommufd_rs_kapi_ictx_of(file: *mut bindings::file) -> *mut c_void;
}

/// A [`MapleTreeAlloc`] that may be shared between threads.
///
/// The tree takes its internal spinlock for every access, so it may be used
/// from any thread when what it stores may; the kernel crate's `MapleTree`
/// does not declare `Send` and `Sync` itself yet (7.3).
#[pin_data]
#[repr(transparent)]
pub(crate) struct SyncMapleTreeAlloc<T: ForeignOwnable> {
    #[pin]
    tree: MapleTreeAlloc<T>,
}

// SAFETY: Every access to the tree goes through its spinlock, and the values
// it stores may be sent to another thread.
unsafe impl<T: ForeignOwnable + Send> Send for SyncMapleTreeAlloc<T> {}

// SAFETY: As above; a shared tree hands out its values only under its lock,
// to one thread at a time, and they may be shared.
unsafe impl<T: ForeignOwnable + Send + Sync> Sync for SyncMapleTreeAlloc<T> {}

impl<T: ForeignOwnable> SyncMapleTreeAlloc<T> {
    /// An empty tree.
    pub(crate) fn new() -> impl PinInit<Self> {
        pin_init!(Self {
            tree <- MapleTreeAlloc::new(),
        })
    }
}

impl<T: ForeignOwnable> Deref for SyncMapleTreeAlloc<T> {
    type Target = MapleTreeAlloc<T>;

    fn deref(&self) -> &MapleTreeAlloc<T> {
        &self.tree
    }
}

/// An entry of an [`IntervalTree`]: the C node first, so that a node
/// pointer is the entry's.
#[repr(C)]
struct ItEntry<T> {
    node: bindings::interval_tree_node,
    value: T,
}

/// Values of type `T`, each over an inclusive range `[start, last]`, found
/// by the ranges they meet.
///
/// The kernel crate has no interval tree (7.3): this binds the kernel's own
/// (`lib/interval_tree.c`, built in as `IOMMUFD` selects it). Each entry is
/// an allocation of its own, which the C tree links, so that linked nodes
/// never move.
///
/// # Invariants
///
/// Every node linked from `root` is the `node` of an `ItEntry<T>` made by
/// `KBox::into_raw`, owned by the tree and reachable only through it.
pub(crate) struct IntervalTree<T> {
    root: bindings::rb_root_cached,
    _owns: PhantomData<KBox<ItEntry<T>>>,
}

// SAFETY: The tree owns its values; moving it moves them.
unsafe impl<T: Send> Send for IntervalTree<T> {}

// SAFETY: A shared tree only hands out shared references to its values.
unsafe impl<T: Sync> Sync for IntervalTree<T> {}

impl<T> IntervalTree<T> {
    /// An empty tree.
    pub(crate) fn new() -> Self {
        // INVARIANT: All zeroes is the empty tree (`RB_ROOT_CACHED`); no node
        // points back at the root, so it may move.
        Self {
            root: bindings::rb_root_cached::default(),
            _owns: PhantomData,
        }
    }

    /// Whether the tree is empty.
    pub(crate) fn is_empty(&self) -> bool {
        self.root.rb_root.rb_node.is_null()
    }

    /// The first entry meeting `[start, last]`, or null.
    fn first_in(&self, start: usize, last: usize) -> *mut ItEntry<T> {
        let root = core::ptr::from_ref(&self.root).cast_mut();
        // SAFETY: `root` is a valid tree, which the function only reads.
        let node = unsafe { bindings::interval_tree_iter_first(root, start, last) };
        node.cast()
    }

    /// The entry after `entry` meeting `[start, last]`, or null.
    fn next_in(entry: *mut ItEntry<T>, start: usize, last: usize) -> *mut ItEntry<T> {
        // SAFETY: `entry` is linked in a valid tree, which the function only
        // reads.
        let node = unsafe { bindings::interval_tree_iter_next(entry.cast(), start, last) };
        node.cast()
    }

    /// Links `entry`, which the tree owns from now on.
    fn link(&mut self, entry: *mut ItEntry<T>) {
        // SAFETY: `entry` is a live allocation from `KBox::into_raw` that
        // is not linked anywhere; its node is its first field.
        unsafe {
            bindings::interval_tree_insert(core::ptr::addr_of_mut!((*entry).node), &mut self.root)
        };
    }

    /// Adds `value` over `[start, last]` (`start <= last`).
    pub(crate) fn insert(&mut self, start: usize, last: usize, value: T) -> Result {
        if start > last {
            return Err(EINVAL);
        }
        let node = bindings::interval_tree_node {
            start,
            last,
            ..Default::default()
        };
        let entry = KBox::new(ItEntry { node, value }, GFP_KERNEL_ACCOUNT)?;
        // INVARIANT: The entry goes to the tree.
        self.link(KBox::into_raw(entry));
        Ok(())
    }

    /// Whether an entry meets `[start, last]`.
    pub(crate) fn meets(&self, start: usize, last: usize) -> bool {
        !self.first_in(start, last).is_null()
    }

    /// Calls `f` with the range and value of each entry meeting
    /// `[start, last]`, by increasing start, for as long as it returns
    /// `true`.
    pub(crate) fn for_each_meeting(
        &self,
        start: usize,
        last: usize,
        mut f: impl FnMut(usize, usize, &T) -> bool,
    ) {
        let mut e = self.first_in(start, last);
        while !e.is_null() {
            // SAFETY: `e` is an entry of the tree, which `&self` keeps from
            // changing while the reference lives.
            let entry = unsafe { &*e };
            if !f(entry.node.start, entry.node.last, &entry.value) {
                return;
            }
            e = Self::next_in(e, start, last);
        }
    }

    /// Finds the first entry meeting `[start, last]` whose value `pred`
    /// accepts, and lets `f` change its range and value: `f` returns
    /// whether to keep the entry (with a range it left non-empty), else it
    /// is dropped. Returns whether an entry was found. Never allocates.
    pub(crate) fn update(
        &mut self,
        start: usize,
        last: usize,
        mut pred: impl FnMut(&T) -> bool,
        f: impl FnOnce(&mut usize, &mut usize, &mut T) -> bool,
    ) -> bool {
        let mut e = self.first_in(start, last);
        while !e.is_null() {
            // SAFETY: `e` is an entry of the tree, which nothing changes
            // while the reference lives.
            if pred(unsafe { &(*e).value }) {
                break;
            }
            e = Self::next_in(e, start, last);
        }
        if e.is_null() {
            return false;
        }
        // SAFETY: `e` is linked in this tree.
        unsafe {
            bindings::interval_tree_remove(core::ptr::addr_of_mut!((*e).node), &mut self.root)
        };
        // SAFETY: `e` is unlinked, and the tree, which owns it, lends it out
        // only here.
        let entry = unsafe { &mut *e };
        let keep = f(
            &mut entry.node.start,
            &mut entry.node.last,
            &mut entry.value,
        );
        if keep && entry.node.start <= entry.node.last {
            self.link(e);
        } else {
            // SAFETY: `e` came from `KBox::into_raw`, is unlinked and is given
            // back once.
            drop(unsafe { KBox::from_raw(e) });
        }
        true
    }
}

impl<T> Drop for IntervalTree<T> {
    fn drop(&mut self) {
        loop {
            let e = self.first_in(0, usize::MAX);
            if e.is_null() {
                return;
            }
            // SAFETY: `e` is linked in this tree.
            unsafe {
                bindings::interval_tree_remove(core::ptr::addr_of_mut!((*e).node), &mut self.root)
            };
            // SAFETY: `e` came from `KBox::into_raw`, is unlinked and is given
            // back once.
            drop(unsafe { KBox::from_raw(e) });
        }
    }
}

/// Whether the caller has `CAP_SYS_RESOURCE`.
pub(crate) fn capable_sys_resource() -> bool {
    // SAFETY: `capable` may be called from any process context.
    unsafe { bindings::capable(bindings::CAP_SYS_RESOURCE as i32) }
}

/// Whether the caller has `CAP_IPC_LOCK`, and so is not charged for pins.
pub(crate) fn capable_ipc_lock() -> bool {
    // SAFETY: `capable` may be called from any process context.
    unsafe { bindings::capable(bindings::CAP_IPC_LOCK as i32) }
}

/// A pinned page, as a handle: it does not own the pin, a [`PagePin`] or a
/// [`PinBatch`] does, and it must not be used to reach the page once that
/// owner has let the pin go.
///
/// # Invariants
///
/// The pointer is a `struct page` that carried a `FOLL_PIN` pin when the
/// handle was made.
#[derive(Clone, Copy, PartialEq, Eq)]
#[repr(transparent)]
pub(crate) struct PinnedPage(NonNull<bindings::page>);

impl PinnedPage {
    /// The `struct page *`, for the in-kernel API to hand to a driver.
    pub(crate) fn as_raw(self) -> *mut bindings::page {
        self.0.as_ptr()
    }

    /// The handle of a page found mapped in one of this module's domains,
    /// which map nothing but pinned pages.
    pub(crate) fn from_mapped(page: NonNull<bindings::page>) -> Self {
        // INVARIANT: A domain of this module maps a page only while a pin
        // of it is held.
        Self(page)
    }

    /// Copies between the page at `offset` and `buf`: into the page if
    /// `to_page`, out of it otherwise. `EINVAL` if the range passes the end
    /// of the page.
    ///
    /// # Safety
    ///
    /// The page carries a pin that is not released before this returns.
    pub(crate) unsafe fn copy(self, offset: usize, buf: &mut [u8], to_page: bool) -> Result {
        // SAFETY: By the function's contract the page is pinned, so valid,
        // for as long as the borrow lives.
        let page = unsafe { BorrowedPage::from_raw(self.0) };
        if to_page {
            // SAFETY: `buf` is valid for reads of `buf.len()` bytes. Other
            // writers of the page are userspace and devices, as for the C
            // core's `memcpy_to_page()`; no Rust reference to the page's
            // memory exists. On x86 `flush_dcache_page()` is a no-op.
            unsafe { page.write_raw(buf.as_ptr(), offset, buf.len()) }
        } else {
            // SAFETY: `buf` is valid for writes of `buf.len()` bytes; see
            // above for concurrent writers.
            unsafe { page.read_raw(buf.as_mut_ptr(), offset, buf.len()) }
        }
    }
}

// SAFETY: The handle is an address; a pinned `struct page` may be used from
// any thread.
unsafe impl Send for PinnedPage {}

// SAFETY: `PinnedPage` gives no access to the page's contents.
unsafe impl Sync for PinnedPage {}

/// Releases `pages`, one pin each, marking them dirty first if `dirty`.
///
/// # Safety
///
/// Each page carries a pin that the caller owns and gives up here.
unsafe fn unpin_pages(pages: &[PinnedPage], dirty: bool) {
    if pages.is_empty() {
        return;
    }
    // SAFETY: By the function's contract each page carries a pin that this
    // call releases once. `PinnedPage` is a transparent `struct page *`, so
    // the slice is the page array the function takes; it only reads it.
    unsafe {
        bindings::unpin_user_pages_dirty_lock(
            pages.as_ptr().cast::<*mut bindings::page>().cast_mut(),
            pages.len(),
            dirty,
        )
    };
}

/// Releases pins that bookkeeping held, marking the pages dirty first if
/// `dirty`.
///
/// # Safety
///
/// Each page carries a pin that the caller holds, that no value owns, and
/// that the caller gives up here.
pub(crate) unsafe fn release_held(pages: &[PinnedPage], dirty: bool) {
    // SAFETY: By the function's contract each pin is the caller's to give up.
    unsafe { unpin_pages(pages, dirty) };
}

/// One pin of one page, owned: dropping it unpins the page, marking it
/// dirty first if a device may have written it.
///
/// # Invariants
///
/// `page` carries one `FOLL_PIN` pin that this value owns and releases once,
/// in `drop`.
pub(crate) struct PagePin {
    page: PinnedPage,
    dirty: bool,
}

impl PagePin {
    /// Copies between the page at `offset` and `buf`: into the page if
    /// `to_page`, out of it otherwise. `EINVAL` if the range passes the end
    /// of the page.
    pub(crate) fn copy(&self, offset: usize, buf: &mut [u8], to_page: bool) -> Result {
        // SAFETY: By the type invariant the page is pinned for as long as
        // `self` lives, which outlasts the call.
        unsafe { self.page.copy(offset, buf, to_page) }
    }

    /// Gives the pin up without releasing it: from now on the caller's
    /// bookkeeping holds it (see [`PagePin::from_held`]); forgotten, it
    /// leaks.
    pub(crate) fn into_held(self) -> PinnedPage {
        let pin = core::mem::ManuallyDrop::new(self);
        pin.page
    }

    /// Takes back, as an owned pin, a pin that bookkeeping held.
    ///
    /// # Safety
    ///
    /// `page` carries a pin that the caller holds and that no other value
    /// owns; it moves to the result.
    pub(crate) unsafe fn from_held(page: PinnedPage, dirty: bool) -> Self {
        // INVARIANT: By the function's contract the pin is now ours alone.
        Self { page, dirty }
    }
}

impl Drop for PagePin {
    fn drop(&mut self) {
        // SAFETY: By the type invariant `self` owns the pin, given up here.
        unsafe { unpin_pages(core::slice::from_ref(&self.page), self.dirty) };
    }
}

/// The most pages one GUP call pins for a domain or an access, as
/// upstream's batches: large enough that a 2 MiB range is one call.
const GUP_MAX: usize = 512;

/// Pins of several pages, owned together: dropping the batch unpins in one
/// call what it still owns. Pins are added by pinning, or given back as
/// [`PagePin`]s, and taken out, in order, as [`PagePin`]s.
///
/// # Invariants
///
/// Each of `pages[taken..]` carries one `FOLL_PIN` pin that this value owns;
/// `pages[..taken]` are handles whose pins were handed out.
pub(crate) struct PinBatch {
    pages: KVVec<PinnedPage>,
    taken: usize,
    dirty: bool,
}

impl PinBatch {
    /// An empty batch without room, whose pins are released dirty if
    /// `dirty`.
    pub(crate) fn new(dirty: bool) -> Self {
        Self {
            pages: KVVec::new(),
            taken: 0,
            dirty,
        }
    }

    /// An empty batch with room for `n` pins, released dirty if `dirty`.
    pub(crate) fn with_capacity(n: usize, dirty: bool) -> Result<Self> {
        Ok(Self {
            pages: KVVec::with_capacity(n, GFP_KERNEL_ACCOUNT)?,
            taken: 0,
            dirty,
        })
    }

    /// Pins up to `want` (at most [`GUP_MAX`]) pages of `mm` from the
    /// page-aligned `addr` long-term, for writing if `write`, into the
    /// batch's spare room, which must hold them. Returns how many were
    /// pinned (at least one).
    pub(crate) fn pin_user(
        &mut self,
        mm: &Mm,
        addr: usize,
        write: bool,
        want: usize,
    ) -> Result<usize> {
        let n = want
            .min(GUP_MAX)
            .min(self.pages.capacity() - self.pages.len());
        if n == 0 {
            return Err(ENOMEM);
        }
        // `PinnedPage` is a transparent `struct page *`, so the spare room is
        // an array of page pointers for GUP to fill.
        let raw = self
            .pages
            .spare_capacity_mut()
            .as_mut_ptr()
            .cast::<*mut bindings::page>();
        // SAFETY: `mm` is a live mm (the `&Mm` holds an mmgrab reference) and
        // `raw` has room for `n` page pointers.
        let got = unsafe { iommufd_rs_pin_user(mm.as_raw(), addr, n, write, raw) };
        let got = usize::try_from(got).map_err(|_| Error::from_errno(got as i32))?;
        let got = got.min(n);
        // SAFETY: GUP wrote `got` valid, non-null page pointers, each with a
        // pin now owned by the batch, at the start of the spare room.
        unsafe { self.pages.inc_len(got) };
        Ok(got)
    }

    /// Pins up to `want` (at most [`GUP_MAX`]) pages of memfd `file` from the page-aligned byte
    /// `offset` into the batch's spare room. Returns how many were pinned
    /// (at least one); `EINVAL` for a file that is not a memfd or a range
    /// past its end.
    pub(crate) fn pin_file(&mut self, file: &File, offset: u64, want: usize) -> Result<usize> {
        let n = want
            .min(GUP_MAX)
            .min(self.pages.capacity() - self.pages.len());
        let offset = i64::try_from(offset).map_err(|_| EINVAL)?;
        let raw = self
            .pages
            .spare_capacity_mut()
            .as_mut_ptr()
            .cast::<*mut bindings::page>();
        // SAFETY: `file` is a live, referenced file and `raw` has room for
        // `n` page pointers.
        let got = unsafe { iommufd_rs_pin_file(file.as_ptr(), offset, n, raw) };
        let got = usize::try_from(got).map_err(|_| Error::from_errno(got as i32))?;
        let got = got.min(n);
        // SAFETY: The helper wrote `got` valid, non-null page pointers, each
        // with a pin now owned by the batch.
        unsafe { self.pages.inc_len(got) };
        Ok(got)
    }

    /// Takes the next pin out of the batch, to be released dirty if `dirty`.
    pub(crate) fn take(&mut self, dirty: bool) -> Option<PagePin> {
        let page = *self.pages.get(self.taken)?;
        self.taken += 1;
        // INVARIANT: The pin of `page` moves from the batch to the `PagePin`.
        Some(PagePin { page, dirty })
    }

    /// Gives `pin` to the batch, if it has room and `pin` is released the
    /// same way; otherwise hands it back.
    pub(crate) fn push(&mut self, pin: PagePin) -> Result<(), PagePin> {
        if pin.dirty != self.dirty {
            return Err(pin);
        }
        let pin = core::mem::ManuallyDrop::new(pin);
        // INVARIANT: The pin moves from `pin`, which is not dropped, to the
        // batch, past `taken`.
        self.pages
            .push_within_capacity(pin.page)
            .map_err(|_| core::mem::ManuallyDrop::into_inner(pin))
    }

    /// The pages of the batch in order, as handles valid while the batch
    /// (or whoever takes its pins) holds them.
    pub(crate) fn pages(&self) -> &[PinnedPage] {
        &self.pages
    }

    /// Gives up every pin the batch still owns without releasing them:
    /// from now on the caller's bookkeeping holds them (see
    /// [`release_held`]). The batch keeps its room, and its pages as
    /// handles.
    pub(crate) fn hold_all(&mut self) {
        // INVARIANT: Every pin past `taken` leaves the batch unreleased.
        self.taken = self.pages.len();
    }

    /// Releases the pins the batch still owns.
    fn release(&mut self) {
        if let Some(owned) = self.pages.get(self.taken..) {
            // SAFETY: By the type invariant the batch owns these pins; they
            // are given up once, as `taken` moves past them.
            unsafe { unpin_pages(owned, self.dirty) };
        }
        self.taken = self.pages.len();
    }
}

impl Drop for PinBatch {
    fn drop(&mut self) {
        self.release();
    }
}

/// A [`PinBatch`] that works in a caller's room, lent for the batch's life
/// when it is large enough, so that a batch costs no allocation: when it
/// goes, it releases the pins it still owns and gives the room back empty.
pub(crate) struct ScratchPins<'a> {
    batch: PinBatch,
    /// The lender, while `batch` works in its room.
    home: Option<&'a mut KVVec<PinnedPage>>,
}

impl<'a> ScratchPins<'a> {
    /// An empty batch with room for `n` pins, released dirty if `dirty`:
    /// `room`'s, emptied first, if it has room for them, else a new
    /// allocation.
    pub(crate) fn new(room: &'a mut KVVec<PinnedPage>, n: usize, dirty: bool) -> Result<Self> {
        if room.capacity() < n {
            return Ok(Self {
                batch: PinBatch::with_capacity(n, dirty)?,
                home: None,
            });
        }
        let mut pages = core::mem::take(room);
        // Handles only: the room owns no pin.
        pages.clear();
        // INVARIANT: The batch is empty, so it owns no pin yet.
        Ok(Self {
            batch: PinBatch {
                pages,
                taken: 0,
                dirty,
            },
            home: Some(room),
        })
    }
}

impl core::ops::Deref for ScratchPins<'_> {
    type Target = PinBatch;

    fn deref(&self) -> &PinBatch {
        &self.batch
    }
}

impl core::ops::DerefMut for ScratchPins<'_> {
    fn deref_mut(&mut self) -> &mut PinBatch {
        &mut self.batch
    }
}

impl Drop for ScratchPins<'_> {
    fn drop(&mut self) {
        if let Some(home) = self.home.take() {
            self.batch.release();
            let mut pages = core::mem::take(&mut self.batch.pages);
            pages.clear();
            *home = pages;
        }
    }
}

/// The most slots [`PinSlots`] keeps as a run: one bitmap word a 64.
const RUN_SLOTS: usize = 512;

/// How [`PinSlots`] keep their pins.
enum SlotPins {
    /// Every pin held is of the pfn `base + i` for slot `i` (pages of a
    /// huge page, or otherwise consecutive): the base, once a pin is
    /// reserved or put, and a bit a slot. 72 bytes for up to
    /// [`RUN_SLOTS`] slots.
    Run {
        base: Option<usize>,
        held: [u64; RUN_SLOTS / 64],
    },
    /// One page pointer a slot, 8 bytes each.
    Each(KVVec<Option<PinnedPage>>),
}

/// Owned pins of a fixed run of pages, one optional pin a page, released
/// dirty or clean alike. Pins of consecutive pfns in slot order cost a bit
/// a slot; the first that is not makes the slots keep a page pointer each
/// ([`Self::reserve`]).
///
/// # Invariants
///
/// In [`SlotPins::Each`], each `Some` entry carries one `FOLL_PIN` pin that
/// this value owns; in [`SlotPins::Run`], the page of pfn `base + i` does,
/// for each set bit `i` (and `base` is set while a bit is).
pub(crate) struct PinSlots {
    len: usize,
    pins: SlotPins,
    /// How many slots hold a pin.
    held: usize,
    dirty: bool,
}

impl PinSlots {
    /// `len` empty slots, whose pins are released dirty if `dirty`.
    pub(crate) fn new(len: usize, dirty: bool) -> Result<Self> {
        let pins = if len <= RUN_SLOTS {
            SlotPins::Run {
                base: None,
                held: [0; RUN_SLOTS / 64],
            }
        } else {
            SlotPins::Each(Self::each(len)?)
        };
        Ok(Self {
            len,
            pins,
            held: 0,
            dirty,
        })
    }

    /// Whether no slot holds a pin.
    pub(crate) fn is_empty(&self) -> bool {
        self.held == 0
    }

    /// `len` empty slots of page pointers.
    fn each(len: usize) -> Result<KVVec<Option<PinnedPage>>> {
        let mut pages = KVVec::with_capacity(len, GFP_KERNEL_ACCOUNT)?;
        for _ in 0..len {
            // Room was reserved above.
            let _ = pages.push_within_capacity(None);
        }
        Ok(pages)
    }

    /// Whether no bit of `held` is set.
    fn none_held(held: &[u64; RUN_SLOTS / 64]) -> bool {
        held.iter().all(|w| *w == 0)
    }

    /// Whether bit `i` of `held` is set.
    fn is_held(held: &[u64; RUN_SLOTS / 64], i: usize) -> bool {
        held.get(i / 64).is_some_and(|w| w >> (i % 64) & 1 != 0)
    }

    /// The page slot `i` holds, as a handle valid while the slot does.
    pub(crate) fn page(&self, i: usize) -> Option<PinnedPage> {
        match &self.pins {
            SlotPins::Each(pages) => pages.get(i).copied().flatten(),
            SlotPins::Run { base, held } => {
                if !Self::is_held(held, i) {
                    return None;
                }
                let pfn = base.and_then(|b| b.checked_add(i))?;
                // SAFETY: By the type invariant slot `i` holds a pin of this
                // pfn, for as long as the slot does.
                unsafe { pfn_page(pfn) }
            }
        }
    }

    /// Makes sure that slot `i` will take a pin of `page` without
    /// allocating: `ENOMEM` if it cannot.
    pub(crate) fn reserve(&mut self, i: usize, page: PinnedPage) -> Result {
        let SlotPins::Run { base, held } = &mut self.pins else {
            return Ok(());
        };
        let want = page_pfn(page).checked_sub(i);
        if Self::none_held(held) && base.is_none() {
            *base = want;
        }
        if want.is_some() && *base == want {
            return Ok(());
        }
        let mut pages = Self::each(self.len)?;
        for (k, slot) in pages.iter_mut().enumerate() {
            if Self::is_held(held, k) {
                let pfn = base.and_then(|b| b.checked_add(k));
                // SAFETY: By the type invariant slot `k` holds a pin of this
                // pfn, which moves to its pointer.
                *slot = pfn.and_then(|pfn| unsafe { pfn_page(pfn) });
            }
        }
        self.pins = SlotPins::Each(pages);
        Ok(())
    }

    /// Stores `pin` in the empty slot `i`, released the slots' way from now
    /// on; hands it back if `i` is out of range or taken, or if the slots
    /// keep a run that the page does not continue and [`Self::reserve`]
    /// was not called for it.
    pub(crate) fn put(&mut self, i: usize, pin: PagePin) -> Result<(), PagePin> {
        match &mut self.pins {
            SlotPins::Each(pages) => match pages.get_mut(i) {
                Some(slot @ None) => {
                    // INVARIANT: The pin moves from `pin`, not dropped, to
                    // the slot.
                    *slot = Some(core::mem::ManuallyDrop::new(pin).page);
                    self.held += 1;
                    Ok(())
                }
                _ => Err(pin),
            },
            SlotPins::Run { base, held } => {
                let want = page_pfn(pin.page).checked_sub(i);
                let bit = 1u64 << (i % 64);
                let free = held.get(i / 64).is_some_and(|w| w & bit == 0);
                if i >= self.len || !free || want.is_none() {
                    return Err(pin);
                }
                if Self::none_held(held) && base.is_none() {
                    *base = want;
                }
                let Some(word) = held.get_mut(i / 64) else {
                    return Err(pin);
                };
                if *base != want {
                    return Err(pin);
                }
                // INVARIANT: The pin moves from `pin`, not dropped, to the
                // slot's bit: its pfn is `base + i`.
                let _ = core::mem::ManuallyDrop::new(pin);
                *word |= bit;
                self.held += 1;
                Ok(())
            }
        }
    }

    /// Takes the pin out of slot `i`.
    pub(crate) fn take(&mut self, i: usize) -> Option<PagePin> {
        let page = match &mut self.pins {
            SlotPins::Each(pages) => pages.get_mut(i)?.take()?,
            SlotPins::Run { base, held } => {
                let word = held.get_mut(i / 64)?;
                let bit = 1u64 << (i % 64);
                if *word & bit == 0 {
                    return None;
                }
                let pfn = base.and_then(|b| b.checked_add(i))?;
                // SAFETY: By the type invariant the slot holds a pin of this
                // pfn, which moves to the result.
                let page = unsafe { pfn_page(pfn) }?;
                *word &= !bit;
                if Self::none_held(held) {
                    // Empty: the next pin may start a run anywhere.
                    *base = None;
                }
                page
            }
        };
        self.held = self.held.saturating_sub(1);
        // INVARIANT: The pin moves from the slot, now empty, to the result.
        Some(PagePin {
            page,
            dirty: self.dirty,
        })
    }
}

impl Drop for PinSlots {
    fn drop(&mut self) {
        for i in 0..self.len {
            // Each pin is taken out of its slot once and released.
            drop(self.take(i));
        }
    }
}

/// The pfn of `page`.
fn page_pfn(page: PinnedPage) -> usize {
    // SAFETY: `page` is a `struct page` of the memory map (it was pinned);
    // the helper only computes its pfn.
    unsafe { iommufd_rs_page_to_pfn(page.0.as_ptr()) }
}

/// The page of `pfn`, as a handle.
///
/// # Safety
///
/// A pin of the page is held for as long as the handle is used.
unsafe fn pfn_page(pfn: usize) -> Option<PinnedPage> {
    // SAFETY: The helper only computes the address of the pfn's `struct
    // page` in the memory map.
    let page = unsafe { iommufd_rs_pfn_to_page(pfn) };
    // INVARIANT: By the function's contract the page is pinned.
    NonNull::new(page).map(PinnedPage)
}

/// Pins the one page of `mm` at the page-aligned `addr` for a short copy:
/// not long-term, not charged, for writing if `write` (and then released
/// dirty).
pub(crate) fn pin_user_page(mm: &Mm, addr: usize, write: bool) -> Result<PagePin> {
    let mut page = core::ptr::null_mut();
    // SAFETY: `mm` is live (the `&Mm` holds an mmgrab reference) and `page`
    // is a valid out pointer.
    to_result(unsafe { iommufd_rs_pin_user_page(mm.as_raw(), addr, write, &mut page) })?;
    let page = NonNull::new(page).ok_or(EFAULT)?;
    // INVARIANT: The helper returned the page with one pin, now ours.
    Ok(PagePin {
        page: PinnedPage(page),
        dirty: write,
    })
}

/// The largest batch of pages compared at once, on the stack.
#[cfg(iommufd_rs_selftest)]
const CHECK_BATCH: usize = 32;

/// Checks that `pages` are the pages mapped at `uaddr` in current's mm:
/// `EBADE` at the first that is not.
#[cfg(iommufd_rs_selftest)]
pub(crate) fn check_pages(uaddr: usize, pages: &[PinnedPage]) -> Result {
    let mut addr = uaddr;
    for chunk in pages.chunks(CHECK_BATCH) {
        let mut raw = [core::ptr::null_mut::<bindings::page>(); CHECK_BATCH];
        for (r, p) in raw.iter_mut().zip(chunk) {
            *r = p.0.as_ptr();
        }
        // SAFETY: `raw` holds `chunk.len()` page pointers; the helper only
        // compares them.
        to_result(unsafe { iommufd_rs_check_pages(addr, raw.as_mut_ptr(), chunk.len()) })?;
        addr = addr.wrapping_add(chunk.len() * kernel::page::PAGE_SIZE);
    }
    Ok(())
}

/// A counted reference to a `struct user_struct`, whose `locked_vm` pins
/// are charged to.
///
/// # Invariants
///
/// The pointer is a `user_struct` on which this value owns one reference.
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
        let user = unsafe { iommufd_rs_get_current_user() };
        // INVARIANT: The helper took a reference for us.
        NonNull::new(user).map(Self).ok_or(EINVAL)
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
        // SAFETY: By the type invariant we own one reference, dropped once.
        unsafe { bindings::free_uid(self.0.as_ptr()) }
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

/// Pages to map, and whether they are known to be consecutive pfns, so
/// that a domain maps them as one run without looking at each.
///
/// # Invariants
///
/// If `contiguous`, `pages` are consecutive pfns.
#[derive(Clone, Copy)]
pub(crate) struct PageRun<'a> {
    pages: &'a [PinnedPage],
    contiguous: bool,
}

impl<'a> PageRun<'a> {
    /// `pages`, checked once.
    pub(crate) fn new(pages: &'a [PinnedPage]) -> Self {
        // INVARIANT: Checked.
        Self {
            pages,
            contiguous: pages_contiguous(pages),
        }
    }

    /// `pages`, not checked: each domain looks for runs itself.
    pub(crate) fn unknown(pages: &'a [PinnedPage]) -> Self {
        // INVARIANT: Nothing is claimed.
        Self {
            pages,
            contiguous: false,
        }
    }

    pub(crate) fn pages(&self) -> &'a [PinnedPage] {
        self.pages
    }

    /// Whether the pages are known to be consecutive pfns.
    pub(crate) fn contiguous(&self) -> bool {
        self.contiguous
    }
}

/// Whether `pages` is not empty and its pages are consecutive pfns.
pub(crate) fn pages_contiguous(pages: &[PinnedPage]) -> bool {
    if pages.len() <= 1 {
        return !pages.is_empty();
    }
    // SAFETY: `PinnedPage` is a transparent `struct page *`, so the slice is
    // an array of `pages.len()` page pointers, which the helper only reads
    // (and only to compute their pfns).
    unsafe {
        iommufd_rs_pages_contiguous(pages.as_ptr().cast::<*mut bindings::page>(), pages.len())
    }
}

/// Whether `file` is a memfd (shmem or hugetlbfs), whose pages
/// [`PinBatch::pin_file`] can pin.
pub(crate) fn file_is_memfd(file: &File) -> bool {
    // SAFETY: `file` is a live, referenced file.
    unsafe { iommufd_rs_file_is_memfd(file.as_ptr()) }
}

/// Looks up fd `fd` of the current task from an ioctl.
pub(crate) fn fget_in_ioctl(fd: u32) -> Result<ARef<File>> {
    let file = LocalFile::fget(fd)?;
    // SAFETY: This runs in an ioctl, which holds no `fdget_pos` on this
    // thread; only read, write and lseek take one.
    Ok(unsafe { LocalFile::assume_no_fdget_pos(file) })
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
#[cfg(iommufd_rs_selftest)]
pub(crate) fn access_fd(access: Arc<Access>) -> Result<NewFd> {
    NewFd::new(move || {
        let data = access.into_foreign();
        // SAFETY: `data` is valid until the file's release, which is the only
        // user of it besides `with_access`.
        let raw = unsafe { iommufd_rs_access_file(data) };
        // SAFETY: The helper returned a new file, whose reference is ours,
        // or an `ERR_PTR`.
        let file = unsafe { new_file(raw) };
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
#[cfg(iommufd_rs_selftest)]
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

/// Runs `f` on the context of `file`, so that ids an object of that file
/// names are looked up there: `EBADFD` unless `file` is one of this module's
/// `/dev/iommu` files.
#[cfg(iommufd_rs_selftest)]
pub(crate) fn with_ictx<R>(file: &File, f: impl FnOnce(&Ictx) -> Result<R>) -> Result<R> {
    // SAFETY: `file` is a live file; the helper only reads its operations
    // and private data.
    let data = unsafe { iommufd_rs_kapi_ictx_of(file.as_ptr()) };
    if data.is_null() {
        return Err(EBADFD);
    }
    // SAFETY: The private data of one of our files is its `Ictx`, which lives
    // until the file's release; the caller's reference to `file` keeps the
    // release from coming while `f` runs, and `f` cannot keep the borrow.
    f(unsafe { &*data.cast::<Ictx>() })
}

/// Called by the access fd's release with the data given at creation.
///
/// # Safety
///
/// `data` must be the pointer `access_fd` handed to the fd, and this is
/// called once, when the fd's file is released.
#[cfg(iommufd_rs_selftest)]
#[no_mangle]
pub(crate) unsafe extern "C" fn iommufd_rs_access_release(data: *mut c_void) {
    // SAFETY: By the function's contract `data` came from `into_foreign`,
    // and is given back once.
    let access = unsafe { Arc::<Access>::from_foreign(data) };
    access.shutdown();
}
