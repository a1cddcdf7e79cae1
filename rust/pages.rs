// SPDX-License-Identifier: GPL-2.0

//! The memory behind IOAS areas, and its pins.
//!
//! A [`Pages`] is one contiguous range of user memory, named when it is
//! mapped: a user virtual range in the mapping process's mm, or a byte range
//! of a file. Nothing is read, faulted or pinned at map time. Pages are pinned
//! long-term when something needs their physical addresses (a domain filled
//! from the IOAS, or an in-kernel access), once per page whoever needs them,
//! and unpinned when the last user lets go. Several areas, in one IOAS or
//! several after `IOMMU_IOAS_COPY`, share one `Pages` and so one pin and one
//! charge.
//!
//! What holds a page is recorded by range, not per page, for domains: each
//! area's fill of its IOAS's domains is one entry of an interval tree over
//! page indices, and the pages it holds are read back from one of those
//! domains when needed (by an access, another fill, a copy, or to unpin
//! them once unmapped), as upstream does. Only pages that accesses hold
//! have a slot of their own, holding the pin; accesses' pins are counted
//! by range, as upstream counts them.
//!
//! Pins are charged when taken, as upstream does: to nobody if the mapper
//! had `CAP_IPC_LOCK`, else to the mapper's user (`RLIMIT_MEMLOCK`, the
//! default) or to the mapper's mm (`IOMMU_OPTION_RLIMIT_MODE` 1, as VFIO
//! type1 does); and always to the mm's `pinned_vm`. Every charge is returned
//! exactly once, when its page is unpinned.
//!
//! This module is the one Rust file outside the FFI layer that is allowed
//! `unsafe`, in four private functions: a pin that a fill holds is owned
//! by the ledger's record, not by a value, and only this module, whose
//! state is private, can tell which pins those are (see "Pins held by
//! range" in Documentation/iommufd-rs.rst).

#![deny(unsafe_code)]

use kernel::{
    alloc::flags::GFP_KERNEL_ACCOUNT,
    fs::File,
    mm::Mm,
    new_mutex,
    prelude::*,
    rbtree::RBTree,
    sync::{
        aref::ARef,
        atomic::{
            Atomic,
            Relaxed, //
        },
        Arc,
        Mutex, //
    },
    task::Task,
    uaccess::{
        UserPtr,
        UserSlice, //
    },
};

use crate::{
    glue::{
        self,
        IntervalTree,
        PagePin,
        PageRun,
        PinBatch,
        PinSlots,
        PinnedPage,
        ScratchPins,
        UserRef, //
    },
    iommu::Domain,
    iova::{
        HUGE_PAGE_SIZE,
        PAGE_SIZE, //
    },
};

/// Where the bytes of a [`Pages`] come from.
pub(crate) enum Source {
    /// User memory of a process, from the page-aligned address `uptr`.
    User {
        /// The first byte of the first page.
        uptr: u64,
    },
    /// A file, from the page-aligned offset `start`.
    File {
        /// The first byte of the first page.
        start: u64,
        /// The file, kept open.
        file: ARef<File>,
    },
}

/// Whom pins are charged to.
pub(crate) enum Charge {
    /// Nobody: the mapper had `CAP_IPC_LOCK`.
    Free,
    /// The mapper's user's `locked_vm`.
    User(UserRef),
    /// The mapper's mm's `locked_vm`.
    Mm,
}

/// The current process's mm and user, looked up once for a walk over many
/// [`Pages`] (`IOMMU_IOAS_CHANGE_PROCESS`).
pub(crate) struct CurrentProcess {
    mm: Option<ARef<Mm>>,
    user: Option<UserRef>,
}

impl CurrentProcess {
    pub(crate) fn get() -> Self {
        let task = kernel::current!();
        Self {
            mm: task.mm().map(|mm| ARef::from(&**mm)),
            user: UserRef::current().ok(),
        }
    }
}

/// The process that mapped a [`Pages`]: its mm is where user pages live and
/// whose `pinned_vm` counts them; its limits bound the charge.
pub(crate) struct Mapper {
    mm: ARef<Mm>,
    task: ARef<Task>,
    charge: Charge,
}

impl Mapper {
    /// The current process, charging its mm (`per_process`) or its user.
    pub(crate) fn current(per_process: bool) -> Result<Self> {
        let task = kernel::current!();
        let mm = ARef::from(&**task.mm().ok_or(EINVAL)?);
        let charge = if glue::capable_ipc_lock() {
            Charge::Free
        } else if per_process {
            Charge::Mm
        } else {
            Charge::User(UserRef::current()?)
        };
        Ok(Self {
            mm,
            task: ARef::from(task.group_leader()),
            charge,
        })
    }

    /// The current process, charged the way `self` is (nobody, the user or
    /// the mm), for `IOMMU_IOAS_CHANGE_PROCESS`.
    pub(crate) fn current_like(&self) -> Result<Self> {
        let task = kernel::current!();
        let mm = ARef::from(&**task.mm().ok_or(EINVAL)?);
        let charge = match &self.charge {
            Charge::Free => Charge::Free,
            Charge::User(_) => Charge::User(UserRef::current()?),
            Charge::Mm => Charge::Mm,
        };
        Ok(Self {
            mm,
            task: ARef::from(task.group_leader()),
            charge,
        })
    }

    /// Whether `self` already charges `cur`, the current process.
    fn is(&self, cur: &CurrentProcess) -> bool {
        let same_mm = cur
            .mm
            .as_ref()
            .is_some_and(|mm| core::ptr::eq(mm.as_raw(), self.mm.as_raw()));
        let same_user = match &self.charge {
            Charge::User(u) => cur.user.as_ref().is_some_and(|cur| cur.same(u)),
            _ => true,
        };
        same_mm && same_user
    }

    /// Charges `n` newly pinned pages: `ENOMEM` past the limit.
    fn charge(&self, n: usize) -> Result {
        if n == 0 {
            return Ok(());
        }
        match &self.charge {
            Charge::Free => {}
            Charge::User(user) => user.charge(&self.task, n)?,
            Charge::Mm => glue::charge_mm(&self.mm, &self.task, n, true)?,
        }
        glue::add_pinned_vm(&self.mm, n as isize);
        Ok(())
    }

    /// Returns the charge of `n` unpinned pages.
    fn uncharge(&self, n: usize) {
        if n == 0 {
            return;
        }
        match &self.charge {
            Charge::Free => {}
            Charge::User(user) => user.uncharge(n),
            Charge::Mm => {
                // Returning a charge cannot fail; a gone mm has no counter.
                let _ = glue::charge_mm(&self.mm, &self.task, n, false);
            }
        }
        glue::add_pinned_vm(&self.mm, -(n as isize));
    }
}

/// Pages per leaf of the slots: a 2 MiB range is one leaf.
const LEAF: usize = 512;

/// A range of pages that accesses (or short copies) pinned, and how many
/// times: counted by exact range, as upstream counts them.
struct AccessRange {
    first: u64,
    last: u64,
    users: u32,
}

/// What accesses hold: the ranges they pinned, and the pins of the pages
/// those ranges meet, one slot a page in leaves of [`LEAF`] pages, made as
/// accesses reach them and freed with their last pin, in a tree by leaf
/// index. A page's slot holds its pin iff a range meets the page. A leaf
/// costs 72 bytes while its pins are of consecutive pfns (a huge page) and
/// 4 KiB once they are not ([`PinSlots`]); counts cost a node a range.
struct Slots {
    ranges: IntervalTree<AccessRange>,
    leaves: RBTree<usize, PinSlots>,
}

/// Calls `f` with the index, leaf and place in it of each page of
/// `first..=last` whose leaf exists, in order; absent leaves cost nothing.
fn each_slot(
    leaves: &mut RBTree<usize, PinSlots>,
    first: u64,
    last: u64,
    mut f: impl FnMut(u64, &mut PinSlots, usize),
) {
    let (lf, ll) = (leaf_of(first), leaf_of(last));
    let mut cur = leaves.cursor_lower_bound_mut(&lf);
    while let Some(mut c) = cur {
        let (&l, leaf) = c.current_mut();
        if l > ll {
            break;
        }
        let base = (l as u64).saturating_mul(LEAF as u64);
        let lo = first.max(base) - base;
        let hi = last.min(base + LEAF as u64 - 1) - base;
        for i in lo..=hi {
            f(base + i, &mut *leaf, i as usize);
        }
        cur = c.move_next();
    }
}

/// The leaf index of page `index`.
fn leaf_of(index: u64) -> usize {
    usize::try_from(index / LEAF as u64).unwrap_or(usize::MAX)
}

/// The interval tree's key of page `index`.
fn key_of(index: u64) -> usize {
    usize::try_from(index).unwrap_or(usize::MAX)
}

impl Slots {
    /// Whether an access holds page `index`.
    fn held(&self, index: u64) -> bool {
        let i = key_of(index);
        self.ranges.meets(i, i)
    }

    /// The page of `index`, if an access holds it.
    fn page(&self, index: u64) -> Option<PinnedPage> {
        let leaf = self.leaves.get(&leaf_of(index))?;
        leaf.page((index % LEAF as u64) as usize)
    }

    /// Makes the leaves of pages `first..=last` of `npages`, whose pins are
    /// released dirty if `dirty`.
    fn ensure(&mut self, first: u64, last: u64, npages: u64, dirty: bool) -> Result {
        let n = usize::try_from(npages).map_err(|_| ENOMEM)?;
        for l in leaf_of(first)..=leaf_of(last) {
            if self.leaves.get(&l).is_some() {
                continue;
            }
            let len = n.saturating_sub(l.saturating_mul(LEAF)).min(LEAF);
            self.leaves
                .try_create_and_insert(l, PinSlots::new(len, dirty)?, GFP_KERNEL_ACCOUNT)?;
        }
        Ok(())
    }

    /// [`each_slot`] of the leaves.
    fn for_each_slot(&mut self, first: u64, last: u64, f: impl FnMut(u64, &mut PinSlots, usize)) {
        each_slot(&mut self.leaves, first, last, f);
    }

    /// Counts one more pin of exactly `first..=last`. Fails only if that
    /// takes a new range and it cannot be allocated.
    fn add_range(&mut self, first: u64, last: u64) -> Result {
        // A range counted `u32::MAX` times takes a second entry.
        let found = self.ranges.update(
            key_of(first),
            key_of(last),
            |r| r.first == first && r.last == last && r.users != u32::MAX,
            |_, _, r| {
                r.users += 1;
                true
            },
        );
        if found {
            return Ok(());
        }
        let range = AccessRange {
            first,
            last,
            users: 1,
        };
        self.ranges.insert(key_of(first), key_of(last), range)
    }

    /// Counts one pin of exactly `first..=last` less. Returns whether that
    /// was the range's last, and so its pages may have lost their last
    /// access; nothing happens if there is no such range.
    fn drop_range(&mut self, first: u64, last: u64) -> bool {
        let mut gone = false;
        self.ranges.update(
            key_of(first),
            key_of(last),
            |r| r.first == first && r.last == last,
            |_, _, r| {
                r.users = r.users.saturating_sub(1);
                gone = r.users == 0;
                !gone
            },
        );
        gone
    }

    /// Frees the leaves of `first..=last` that hold nothing.
    fn trim(&mut self, first: u64, last: u64) {
        let (lf, ll) = (leaf_of(first), leaf_of(last));
        let mut cur = self.leaves.cursor_lower_bound_mut(&lf);
        while let Some(c) = cur {
            let (&l, leaf) = c.current();
            if l > ll {
                break;
            }
            if !leaf.is_empty() {
                cur = c.move_next();
                continue;
            }
            let (next, node) = c.remove_current();
            drop(node);
            // Past the last node, the cursor comes back to an earlier one.
            cur = next.filter(|n| *n.current().0 > l);
        }
    }
}

/// Where the pages of a fill can be read back from: a domain that maps
/// them, and the IOVA relation of the area. Any domain of the area's IOAS
/// will do, as they all map every area alike.
#[derive(Clone)]
pub(crate) struct FillSource {
    /// A domain the area is mapped in.
    pub(crate) domain: Arc<Domain>,
    /// The IOVA that byte 0 of the pages would have in the area (wrapping):
    /// byte `b` of the area is mapped at `iova_base + b`.
    pub(crate) iova_base: u64,
}

/// The pages of a block: 2 MiB of the memory's own address space (the user
/// address, or the file offset), aligned, as a huge page or a large folio
/// lies in it.
const BLOCK_PAGES: u64 = HUGE_PAGE_SIZE / PAGE_SIZE;

/// The blocks of a fill whose pages were consecutive pfns when one call of
/// [`Pages::fill`] took them all, one bit each: reading them back takes
/// one lookup in the domain, not one per page. A fill holds its pages from
/// that call on, so what the bit says stays true while the fill covers
/// them, and every call that covers part of a block sets or clears its bit
/// anew. The first 64 blocks (128 MiB) cost nothing more than the fill.
struct Runs {
    /// The block of bit 0 of `head`.
    base: u64,
    head: u64,
    /// The bits of the blocks from `base + 64` on, grown as the fill grows.
    tail: KVec<u64>,
}

impl Runs {
    fn new(base: u64) -> Self {
        Self {
            base,
            head: 0,
            tail: KVec::new(),
        }
    }

    /// The index of the word of `block` (0 for `head`, `w` for
    /// `tail[w - 1]`) and its bit there; none below `base`.
    fn place(&self, block: u64) -> Option<(usize, u32)> {
        let k = block.checked_sub(self.base)?;
        Some((usize::try_from(k / 64).ok()?, (k % 64) as u32))
    }

    /// The word of `block` and its bit, if the map has room for it.
    fn word(&mut self, block: u64) -> Option<(&mut u64, u32)> {
        let (w, bit) = self.place(block)?;
        match w {
            0 => Some((&mut self.head, bit)),
            w => self.tail.get_mut(w - 1).map(|word| (word, bit)),
        }
    }

    /// Whether `block` is contiguous.
    fn get(&self, block: u64) -> bool {
        let Some((w, bit)) = self.place(block) else {
            return false;
        };
        let word = match w {
            0 => self.head,
            w => self.tail.get(w - 1).copied().unwrap_or(0),
        };
        word >> bit & 1 != 0
    }

    /// Records whether `block` is contiguous. Making room can fail, and a
    /// block below `base` has none: such a block stays not contiguous,
    /// which costs only its lookups.
    fn set(&mut self, block: u64, contiguous: bool) {
        if contiguous && self.word(block).is_none() {
            if let Some((words, _)) = self.place(block) {
                let _ = self.tail.resize(words, 0, GFP_KERNEL_ACCOUNT);
            }
        }
        if let Some((word, bit)) = self.word(block) {
            if contiguous {
                *word |= 1 << bit;
            } else {
                *word &= !(1 << bit);
            }
        }
    }

    /// The bits of the blocks up to `last`, for a fill split off below.
    fn below(&self, last: u64) -> Self {
        let mut runs = Self::new(self.base);
        let Some(k) = last.checked_sub(self.base) else {
            return runs;
        };
        // The bits up to `last` of a word whose first block is `first`.
        let keep_to_last = |first: u64, word: u64| match last.checked_sub(first) {
            Some(n) if n < 63 => word & ((2 << n) - 1),
            Some(_) => word,
            None => 0,
        };
        runs.head = keep_to_last(self.base, self.head);
        let words = usize::try_from(k / 64)
            .unwrap_or(usize::MAX)
            .min(self.tail.len());
        if let Some(tail) = self.tail.get(..words) {
            let mut copy = KVec::new();
            if copy.extend_from_slice(tail, GFP_KERNEL_ACCOUNT).is_ok() {
                if let Some(w) = copy.last_mut() {
                    *w = keep_to_last(self.base.saturating_add(64 * words as u64), *w);
                }
                runs.tail = copy;
            }
        }
        runs
    }
}

/// One area's fill of domains: the bytes `lo..=hi` of the pages are mapped,
/// and its pages held, for as long as the entry exists. The pages of a
/// fill cost nothing per page: the fill holds one pin of each, and reads
/// them back from its domain.
struct Fill {
    /// Which area's fill this is (see [`new_fill_id`]).
    id: u64,
    src: FillSource,
    lo: u64,
    hi: u64,
    /// The fill's contiguous blocks.
    runs: Runs,
}

impl Fill {
    /// The page of `index`, read back from the domain: `index` is a page of
    /// the fill, so some byte of it is mapped.
    fn page(&self, index: u64) -> Option<PinnedPage> {
        // Not `clamp`, which panics if `lo > hi` (the entry's invariant).
        let byte = index.saturating_mul(PAGE_SIZE).max(self.lo).min(self.hi);
        self.src
            .domain
            .page_at(self.src.iova_base.wrapping_add(byte))
    }

    /// The pages of `n` indices from `first`, pages of the fill, read back
    /// from the domain in one call into the spare room of `out`, as
    /// [`Self::page`] reads each; those it cannot read are left out.
    /// Returns how many were added.
    fn read_pages(&self, first: u64, n: usize, out: &mut KVVec<PinnedPage>) -> usize {
        let byte = first.saturating_mul(PAGE_SIZE).max(self.lo).min(self.hi);
        let next = first.saturating_add(1).saturating_mul(PAGE_SIZE);
        self.src.domain.read_pages(
            self.src.iova_base.wrapping_add(byte),
            self.src.iova_base.wrapping_add(next),
            n,
            out,
        )
    }
}

/// The fills' entries span the pages of their bytes.
fn span(lo: u64, hi: u64) -> (usize, usize) {
    let page = |b: u64| usize::try_from(b / PAGE_SIZE).unwrap_or(usize::MAX);
    (page(lo), page(hi))
}

/// Whether one of `fills` covers page `index`.
fn covers(fills: &IntervalTree<Fill>, index: u64) -> bool {
    let i = usize::try_from(index).unwrap_or(usize::MAX);
    fills.meets(i, i)
}

/// A new fill id, never seen before: fills of areas of different IOASes
/// meet in a shared [`Pages`].
pub(crate) fn new_fill_id() -> u64 {
    static NEXT: Atomic<u64> = Atomic::new(0);
    NEXT.fetch_add(1, Relaxed)
}

/// The pins of a [`Pages`].
///
/// Each pinned page carries exactly one pin: held by the fills that cover
/// it, which keep nothing per page, while no access holds it; owned by its
/// slot while an access range meets it. A page is pinned iff a fill covers
/// it or an access range meets it, so what a `Pages` costs is proportional
/// to its fills and to what accesses hold, whatever it pins.
struct PinStore {
    /// Whom the pins are charged to; `IOMMU_IOAS_CHANGE_PROCESS` moves it.
    mapper: Mapper,
    /// The slots of the pages accesses hold.
    slots: Slots,
    /// The fills, by the pages they cover.
    fills: IntervalTree<Fill>,
    /// Pages pinned now.
    used: usize,
}

impl PinStore {
    /// Whether a fill covers page `index`.
    fn covered(&self, index: u64) -> bool {
        covers(&self.fills, index)
    }

    /// Whether a fill meets pages `first..=last`.
    fn any_fill(&self, first: u64, last: u64) -> bool {
        let page = |i: u64| usize::try_from(i).unwrap_or(usize::MAX);
        self.fills.meets(page(first), page(last))
    }

    /// The page of `index` as a fill holds it.
    fn fill_page(&self, index: u64) -> Option<PinnedPage> {
        let i = usize::try_from(index).unwrap_or(usize::MAX);
        let mut page = None;
        self.fills.for_each_meeting(i, i, |_, _, fill| {
            page = fill.page(index);
            page.is_none()
        });
        page
    }

    /// The page of `index` if it is pinned.
    fn page(&self, index: u64) -> Option<PinnedPage> {
        self.slots.page(index).or_else(|| self.fill_page(index))
    }

    /// Whether page `index` is pinned.
    fn held(&self, index: u64) -> bool {
        self.slots.held(index) || self.covered(index)
    }
}

impl Drop for PinStore {
    fn drop(&mut self) {
        // Every user lets go before the pages go; if one did not, return
        // the charges here rather than leak them. Slots release their pins
        // as they go; a fill's are lost with it.
        if self.used != 0 || !self.fills.is_empty() {
            self.mapper.uncharge(self.used);
            pr_err!("pages dropped with {} pins left\n", self.used);
        }
    }
}

/// Gives back the held pins of `pages`, released dirty if `dirty`.
#[expect(unsafe_code, reason = "the pins are the fills' bookkeeping's")]
fn release(pages: &[PinnedPage], dirty: bool) {
    // SAFETY: The callers pass pages that a fill held and no longer does,
    // that no slot owns (no access range meets them), read back from the
    // fill's domain before the unmap, and forget them from the store under
    // its lock: each pin is given up once.
    unsafe { glue::release_held(pages, dirty) };
}

/// Takes the pin of `page`, which fills hold, for a slot.
#[expect(unsafe_code, reason = "the pins are the fills' bookkeeping's")]
fn adopt(page: PinnedPage, dirty: bool) -> PagePin {
    // SAFETY: The callers pass a page that a fill covers and whose slot
    // is empty (no access range met it), read back from the fill's domain
    // under the store's lock: its one pin is held by the fills and owned
    // by no value, and the slot owns it from now on, as the store's
    // invariant says.
    unsafe { PagePin::from_held(page, dirty) }
}

/// Copies between `buf` and `page` at `offset`, into the page if `write`.
#[expect(unsafe_code, reason = "the pins are the fills' bookkeeping's")]
fn copy_held(page: PinnedPage, offset: usize, buf: &mut [u8], write: bool) -> Result {
    // SAFETY: The callers pass a page that is pinned (a fill covers it or
    // an access range meets it) and hold the store's lock for the copy, so
    // that the pin stays.
    unsafe { page.copy(offset, buf, write) }
}

/// Reads back `n` pages of `fill` from page `first` into the spare room of
/// `out` with one lookup in its domain, as [`Fill::read_pages`] does with
/// one a page. Returns how many were added.
#[expect(unsafe_code, reason = "the pins are the fills' bookkeeping's")]
fn read_run(fill: &Fill, first: u64, n: usize, out: &mut KVVec<PinnedPage>) -> usize {
    let byte = first.saturating_mul(PAGE_SIZE).max(fill.lo).min(fill.hi);
    let next = first.saturating_add(1).saturating_mul(PAGE_SIZE);
    let base = fill.src.iova_base;
    // SAFETY: The callers pass pages of one block whose bit the fill's
    // runs had set, taken under the store's lock before the fill stops
    // covering them: one call of `Pages::fill` found the block's pages to
    // be consecutive pfns, and the fill has held them since, so they are
    // consecutive pinned pfns until the callers release them.
    let got = unsafe {
        fill.src.domain.read_back(
            base.wrapping_add(byte),
            base.wrapping_add(next),
            n,
            true,
            out,
        )
    };
    // With debug assertions (the test kernel), each page is looked up too,
    // as C would: a run that was not one warns.
    if cfg!(debug_assertions) {
        let added = out.get(out.len().saturating_sub(got)..).unwrap_or(&[]);
        let wrong = (0..got as u64)
            .zip(added)
            .filter(|&(k, page)| fill.page(first + k) != Some(*page))
            .count();
        kernel::warn_on!(wrong != 0);
    }
    got
}

/// A contiguous, page-granular range of memory that areas map.
#[pin_data]
pub(crate) struct Pages {
    source: Source,
    /// The mm user memory is pinned from; fixed, as the user range is an
    /// address in it.
    mm: ARef<Mm>,
    /// The number of pages in the range.
    npages: u64,
    /// Whether the device may write: pinned with `FOLL_WRITE`.
    writable: bool,
    #[pin]
    pins: Mutex<PinStore>,
}

impl Pages {
    /// Describes `length` bytes at `addr` of `source`'s space, where `addr` is
    /// a user address or a file offset. `EINVAL` for an empty or huge length.
    /// Returns the pages and the offset of `addr` in the first page.
    pub(crate) fn new(
        addr: u64,
        length: u64,
        writable: bool,
        mapper: Mapper,
        source: impl FnOnce(u64) -> Source,
    ) -> Result<(Arc<Self>, u64)> {
        if length == 0 || length > u64::MAX - PAGE_SIZE {
            return Err(EINVAL);
        }
        let start_byte = addr % PAGE_SIZE;
        let npages = length
            .checked_add(start_byte)
            .and_then(|n| n.checked_add(PAGE_SIZE - 1))
            .ok_or(EOVERFLOW)?
            / PAGE_SIZE;
        let mm = mapper.mm.clone();
        let pages = Arc::pin_init(
            pin_init!(Self {
                source: source(addr - start_byte),
                mm,
                npages,
                writable,
                pins <- new_mutex!(PinStore {
                    mapper,
                    slots: Slots {
                        ranges: IntervalTree::new(),
                        leaves: RBTree::new(),
                    },
                    fills: IntervalTree::new(),
                    used: 0,
                }),
            }),
            GFP_KERNEL_ACCOUNT,
        )?;
        Ok((pages, start_byte))
    }

    /// Whether the pages may be mapped writable.
    pub(crate) fn writable(&self) -> bool {
        self.writable
    }

    /// The backing address (user VA or file offset) of byte `start_byte`,
    /// which automatic IOVA allocation aligns to.
    pub(crate) fn addr_of(&self, start_byte: u64) -> u64 {
        let base = match &self.source {
            Source::User { uptr } => *uptr,
            Source::File { start, .. } => *start,
        };
        base.wrapping_add(start_byte)
    }

    /// The first and last page of bytes `lo..=hi`, checked against the
    /// range, and how many pages that is.
    fn pages_of(&self, lo: u64, hi: u64) -> Result<(u64, u64, usize)> {
        let (first, last) = (lo / PAGE_SIZE, hi / PAGE_SIZE);
        if lo > hi || last >= self.npages {
            return Err(EINVAL);
        }
        let count = usize::try_from(last - first + 1).map_err(|_| ENOMEM)?;
        Ok((first, last, count))
    }

    /// The block of page `index`: blocks are aligned in the memory's own
    /// address space, not in the range.
    fn block_of(&self, index: u64) -> u64 {
        let phase = self.addr_of(0) / PAGE_SIZE % BLOCK_PAGES;
        index.saturating_add(phase) / BLOCK_PAGES
    }

    /// The first and last page of the range in `block`.
    fn block_pages(&self, block: u64) -> (u64, u64) {
        let phase = self.addr_of(0) / PAGE_SIZE % BLOCK_PAGES;
        let first = block.saturating_mul(BLOCK_PAGES).saturating_sub(phase);
        let last = block
            .saturating_add(1)
            .saturating_mul(BLOCK_PAGES)
            .saturating_sub(phase + 1)
            .min(self.npages.saturating_sub(1));
        (first, last)
    }

    /// Which of the blocks from that of page `first` on the pages of
    /// `first..` in `pages` cover whole, as consecutive pfns: bit `k` for
    /// the `k`-th block, up to 64.
    fn runs_of(&self, first: u64, pages: PageRun<'_>) -> u64 {
        let contiguous = pages.contiguous();
        let pages = pages.pages();
        let last = first.saturating_add(pages.len() as u64).saturating_sub(1);
        let (b0, b1) = (self.block_of(first), self.block_of(last));
        let mut found = 0;
        for block in b0..=b1.min(b0 + 63) {
            let (bf, bl) = self.block_pages(block);
            if bf < first || bl > last {
                continue;
            }
            let whole = usize::try_from(bf - first)
                .ok()
                .zip(usize::try_from(bl - first).ok())
                .and_then(|(f, l)| pages.get(f..=l));
            // A block that is the whole piece was looked at already.
            let looked = bf == first && bl == last;
            if whole.is_some_and(|run| contiguous || (!looked && glue::pages_contiguous(run))) {
                found |= 1 << (block - b0);
            }
        }
        found
    }

    /// Records in `runs` which blocks of pages `first..=last` are
    /// contiguous: those of `found` (from [`Self::runs_of`]), not the
    /// others.
    fn set_runs(&self, runs: &mut Runs, first: u64, last: u64, found: u64) {
        let b0 = self.block_of(first);
        for block in b0..=self.block_of(last) {
            let k = block - b0;
            runs.set(block, k < 64 && found >> k & 1 != 0);
        }
    }

    /// The pages of `n` indices from `first`, pages of `fill`, read back
    /// from its domain into the spare room of `out`: a block that `fill`'s
    /// runs say is contiguous with one lookup. Returns how many were added.
    fn read_back(&self, fill: &Fill, first: u64, n: usize, out: &mut KVVec<PinnedPage>) -> usize {
        let end = first.saturating_add(n as u64);
        let mut got = 0;
        let mut at = first;
        while at < end {
            let block = self.block_of(at);
            let stop = self
                .block_pages(block)
                .1
                .saturating_add(1)
                .max(at + 1)
                .min(end);
            let count = usize::try_from(stop - at).unwrap_or(usize::MAX);
            got += if fill.runs.get(block) {
                read_run(fill, at, count, out)
            } else {
                fill.read_pages(at, count, out)
            };
            at = stop;
        }
        got
    }

    /// Fills bytes `lo..=hi` for fill `id`, whose domains map them with
    /// `map`: the pages nothing holds yet are pinned and charged, those
    /// held already (by a fill or an access) are taken as they are, and
    /// `map` gets them all in order. The fill's entry grows to the bytes
    /// (or is made, reading back through `src`), so that it covers them
    /// for as long as they stay mapped. On failure nothing changes.
    /// `scratch` lends its room to the new pins for the call, if large
    /// enough, and comes back empty.
    pub(crate) fn fill(
        &self,
        id: u64,
        src: &FillSource,
        lo: u64,
        hi: u64,
        scratch: &mut KVVec<PinnedPage>,
        map: impl FnOnce(PageRun<'_>) -> Result,
    ) -> Result {
        let (first, last, count) = self.pages_of(lo, hi)?;
        let mut store = self.pins.lock();
        // Nothing held in the range (the common case of a new area): every
        // page is new and the range is one run, no scan needed.
        let untouched = store.slots.leaves.is_empty() && !store.any_fill(first, last);
        let mut new = count;
        if !untouched {
            new = (first..=last).filter(|&i| !store.held(i)).count();
        }
        // The new pins go in `scratch`'s room, lent while the batch lives.
        let mut fresh = ScratchPins::new(scratch, new, self.writable)?;
        let mut out = KVVec::new();
        if untouched {
            self.pin_run(first, count as u64, &mut fresh)?;
        } else {
            out = KVVec::with_capacity(count, GFP_KERNEL_ACCOUNT)?;
            let mut index = first;
            while index <= last {
                if let Some(page) = store.page(index) {
                    out.push_within_capacity(page).map_err(|_| ENOMEM)?;
                    index += 1;
                    continue;
                }
                if store.held(index) {
                    // Held, but its domain gave nothing back.
                    return Err(EINVAL);
                }
                let mut end = index + 1;
                while end <= last && !store.held(end) {
                    end += 1;
                }
                let before = fresh.pages().len();
                self.pin_run(index, end - index, &mut fresh)?;
                for page in fresh.pages().get(before..).unwrap_or(&[]) {
                    out.push_within_capacity(*page).map_err(|_| ENOMEM)?;
                }
                index = end;
            }
        }
        store.mapper.charge(new)?;
        let pages = PageRun::new(if untouched { fresh.pages() } else { &out });
        let found = self.runs_of(first, pages);

        // Cover the bytes, then map them: on failure, back to the old cover.
        let (f, l) = span(lo, hi);
        let mut old = None;
        let grown = store.fills.update(
            f.saturating_sub(1),
            l,
            |e| e.id == id,
            |s, e, fill| {
                old = Some((fill.lo, fill.hi));
                fill.lo = fill.lo.min(lo);
                fill.hi = fill.hi.max(hi);
                (*s, *e) = span(fill.lo, fill.hi);
                self.set_runs(&mut fill.runs, first, last, found);
                true
            },
        );
        if !grown {
            let mut fill = Fill {
                id,
                src: src.clone(),
                lo,
                hi,
                runs: Runs::new(self.block_of(first)),
            };
            self.set_runs(&mut fill.runs, first, last, found);
            if let Err(e) = store.fills.insert(f, l, fill) {
                store.mapper.uncharge(new);
                return Err(e);
            }
        }
        if let Err(e) = map(pages) {
            store.fills.update(
                f,
                l,
                |e| e.id == id,
                |s, e, fill| match old {
                    Some((lo, hi)) => {
                        (fill.lo, fill.hi) = (lo, hi);
                        (*s, *e) = span(lo, hi);
                        self.set_runs(&mut fill.runs, first, last, 0);
                        true
                    }
                    None => false,
                },
            );
            store.mapper.uncharge(new);
            return Err(e);
        }
        // The fills hold the new pins from now on.
        fresh.hold_all();
        store.used += new;
        Ok(())
    }

    /// Gives `map` the pages of bytes `lo..=hi`, which the fill of their
    /// area holds already, for another domain of its IOAS.
    pub(crate) fn fill_again(
        &self,
        lo: u64,
        hi: u64,
        map: impl FnOnce(&[PinnedPage]) -> Result,
    ) -> Result {
        let (first, last, count) = self.pages_of(lo, hi)?;
        let store = self.pins.lock();
        let mut out = KVVec::with_capacity(count, GFP_KERNEL_ACCOUNT)?;
        for index in first..=last {
            let page = store.page(index).ok_or(EINVAL)?;
            out.push_within_capacity(page).map_err(|_| ENOMEM)?;
        }
        map(&out)
    }

    /// Ends fill `id` over bytes `lo..=hi`, the lowest it still covers (or
    /// all of them): the fill's entry shrinks past them (or goes) first, so
    /// that nobody reads pages back through them any more; the pages that
    /// so lose their last user are read back from the fill's domain into
    /// `scratch`, then `unmap` unmaps the bytes from every domain, and only
    /// then are those pages unpinned and uncharged. Cannot fail: `scratch`
    /// has room for the pages of a piece of a page-aligned area, which is
    /// at most [`FILL_CHUNK`](crate::io_pagetable::FILL_CHUNK) bytes, and
    /// one page more is kept on the stack for other areas.
    pub(crate) fn unfill(
        &self,
        id: u64,
        lo: u64,
        hi: u64,
        scratch: &mut KVVec<PinnedPage>,
        unmap: impl FnOnce(),
    ) {
        let mut store = self.pins.lock();
        let (f, l) = span(lo, hi);
        let mut was = None;
        store.fills.update(
            f,
            l,
            |e| e.id == id,
            |s, e, fill| {
                // The pages the fill no longer covers: up to the one
                // holding its new first byte, or all.
                let first = fill.lo / PAGE_SIZE;
                let end = if hi >= fill.hi {
                    fill.hi / PAGE_SIZE + 1
                } else {
                    (hi + 1) / PAGE_SIZE
                };
                // Their blocks' runs, which the fill forgets.
                let b0 = self.block_of(first);
                let b1 = self.block_of(end.saturating_sub(1).max(first));
                let mut runs = Runs::new(b0);
                for block in b0..=b1.min(b0 + 63) {
                    runs.set(block, fill.runs.get(block));
                }
                was = Some((fill.src.clone(), fill.lo, fill.hi, runs, first, end));
                if hi >= fill.hi {
                    return false;
                }
                for block in b0..=b1 {
                    fill.runs.set(block, false);
                }
                fill.lo = fill.lo.max(hi + 1);
                (*s, *e) = span(fill.lo, fill.hi);
                true
            },
        );
        let Some((src, old_lo, old_hi, runs, first, end)) = was else {
            // Not filled (or no longer): nothing of it is held.
            unmap();
            return;
        };
        let old = Fill {
            id,
            src,
            lo: old_lo,
            hi: old_hi,
            runs,
        };
        // Other fills that cover any of them (the pages `first..end`; the
        // fill's own entry now starts at page `end` or later).
        let others =
            !store.slots.leaves.is_empty() || (end > first && store.any_fill(first, end - 1));
        let mut lost = 0usize;
        let mut missing = 0usize;
        // A piece of a fill whose IOVA and memory are not page aligned
        // alike meets one page more than the scratch holds.
        let mut extra = None;
        scratch.clear();
        // Nothing else holds any of them (the common case): read them back
        // in one call, as many as the scratch holds.
        let mut from = first;
        if !others {
            let count = usize::try_from(end.saturating_sub(first)).unwrap_or(usize::MAX);
            let n = count.min(scratch.capacity());
            let got = self.read_back(&old, first, n, scratch);
            lost = n;
            missing = n - got;
            from = first + n as u64;
        }
        for index in from..end {
            if others && store.held(index) {
                continue;
            }
            lost += 1;
            let Some(page) = old.page(index) else {
                missing += 1;
                continue;
            };
            if let Err(full) = scratch.push_within_capacity(page) {
                if extra.replace(full.0).is_some() {
                    missing += 1;
                }
            }
        }
        store.used = store.used.saturating_sub(lost);
        // Under the store's lock, so that a change of process sees pins and
        // charges agree.
        store.mapper.uncharge(lost);
        unmap();
        // The store no longer counts these pins: they are released once it
        // is unlocked.
        drop(store);
        release(scratch, self.writable);
        if let Some(page) = extra {
            release(&[page], self.writable);
        }
        scratch.clear();
        if missing != 0 {
            // Cannot happen: a fill's pages are mapped, and its pieces fit.
            pr_err!("{} pins of a fill could not be read back\n", missing);
        }
    }

    /// Makes fill `id`, over bytes `lo..=hi` at least, read back through
    /// `to` instead of `from`, which is going away.
    pub(crate) fn switch_fill(
        &self,
        id: u64,
        lo: u64,
        hi: u64,
        from: &Arc<Domain>,
        to: &Arc<Domain>,
    ) {
        let (f, l) = span(lo, hi);
        let mut store = self.pins.lock();
        store.fills.update(
            f,
            l,
            |e| e.id == id && Arc::ptr_eq(&e.src.domain, from),
            |_, _, fill| {
                fill.src.domain = to.clone();
                true
            },
        );
    }

    /// Splits fill `id` at byte `at`: the bytes below it become fill
    /// `lower`. Nothing to do if it is not filled.
    pub(crate) fn split_fill(&self, id: u64, lower: u64, at: u64) -> Result {
        let (f, _) = span(at, at);
        let mut store = self.pins.lock();
        let mut below = None;
        store
            .fills
            .for_each_meeting(f.saturating_sub(1), f, |_, _, fill| {
                if fill.id == id && fill.lo < at && at <= fill.hi {
                    below = Some(Fill {
                        id: lower,
                        src: fill.src.clone(),
                        lo: fill.lo,
                        hi: at - 1,
                        runs: fill.runs.below(self.block_of((at - 1) / PAGE_SIZE)),
                    });
                    return false;
                }
                true
            });
        let Some(fill) = below else {
            return Ok(());
        };
        let (bf, bl) = span(fill.lo, fill.hi);
        store.fills.insert(bf, bl, fill)?;
        store.fills.update(
            f,
            f,
            |e| e.id == id,
            |s, e, fill| {
                fill.lo = at;
                (*s, *e) = span(fill.lo, fill.hi);
                true
            },
        );
        Ok(())
    }

    /// Pins pages `first..=last` once more for an access (or a short copy)
    /// and returns them in order. Pages a fill holds are taken from it, the
    /// others pinned and charged; on failure nothing is left pinned or
    /// charged by this call. The slots of the whole range are allocated
    /// first: callers pin a bounded range at a time.
    pub(crate) fn pin(&self, first: u64, last: u64) -> Result<KVVec<PinnedPage>> {
        if first > last || last >= self.npages {
            return Err(EINVAL);
        }
        let mut store = self.pins.lock();
        let res = self.pin_locked(&mut store, first, last);
        if res.is_err() {
            store.slots.trim(first, last);
        }
        res
    }

    fn pin_locked(&self, store: &mut PinStore, first: u64, last: u64) -> Result<KVVec<PinnedPage>> {
        store
            .slots
            .ensure(first, last, self.npages, self.writable)?;
        let count = usize::try_from(last - first + 1).map_err(|_| ENOMEM)?;
        // Nothing pinned yet: every page is new and the range is one run.
        let untouched = store.used == 0;
        let mut new = count;
        if !untouched {
            new = (first..=last).filter(|&i| !store.held(i)).count();
        }
        let mut out = KVVec::with_capacity(count, GFP_KERNEL_ACCOUNT)?;
        // The pages fills hold that get a slot now, read back first.
        let mut adopted = KVVec::new();

        // Pin what is not pinned yet, a run at a time, then charge it, as
        // upstream does: a range that cannot be pinned fails as such,
        // whatever the limit. Until committed, the new pins are let go
        // clean (nothing wrote them) if anything fails.
        let mut fresh = PinBatch::with_capacity(new, false)?;
        if untouched {
            self.pin_run(first, count as u64, &mut fresh)?;
        } else {
            let mut index = first;
            while index <= last {
                if store.slots.held(index) {
                    index += 1;
                    continue;
                }
                if store.covered(index) {
                    let page = store.fill_page(index).ok_or(EINVAL)?;
                    adopted.push(page, GFP_KERNEL_ACCOUNT)?;
                    index += 1;
                    continue;
                }
                let mut end = index + 1;
                while end <= last && !store.held(end) {
                    end += 1;
                }
                self.pin_run(index, end - index, &mut fresh)?;
                index = end;
            }
        }

        // Each page no access held yet gets its pin in its slot, which is
        // empty: a new pin, or the one a fill held. Make sure each slot
        // takes it as it is, for the commit below cannot fail.
        let PinStore { slots, fills, .. } = &mut *store;
        let (mut fresh_pages, mut adopted_pages) = (fresh.pages().iter(), adopted.iter());
        let mut reserved = Ok(());
        slots.for_each_slot(first, last, |index, leaf, i| {
            if leaf.page(i).is_some() || reserved.is_err() {
                return;
            }
            let page = if covers(fills, index) && !untouched {
                adopted_pages.next()
            } else {
                fresh_pages.next()
            };
            if let Some(page) = page {
                reserved = leaf.reserve(i, *page);
            }
        });
        reserved?;
        store.slots.add_range(first, last)?;
        if let Err(e) = store.mapper.charge(new) {
            store.slots.drop_range(first, last);
            return Err(e);
        }

        // Commit: store the new pins, and hand out every page.
        let writable = self.writable;
        let mut adopted = adopted.iter();
        let PinStore { slots, fills, .. } = &mut *store;
        slots.for_each_slot(first, last, |index, leaf, i| {
            if leaf.page(i).is_none() {
                let pin = if covers(fills, index) && !untouched {
                    adopted.next().map(|page| adopt(*page, writable))
                } else {
                    fresh.take(writable)
                };
                // An empty slot reserved for it takes it; were it refused,
                // keeping it pinned is the safe way to be wrong.
                if let Some(Err(pin)) = pin.map(|pin| leaf.put(i, pin)) {
                    pin.into_held();
                }
            }
            if let Some(page) = leaf.page(i) {
                // `out` has room for every page of the range.
                let _ = out.push_within_capacity(page);
            }
        });
        store.used += new;
        Ok(out)
    }

    /// Pins the `len` pages from page `start`, which are not pinned yet,
    /// appending them to `fresh` (which has room for them) in order.
    fn pin_run(&self, start: u64, len: u64, fresh: &mut PinBatch) -> Result {
        let mut index = start;
        let end = start + len;
        while index < end {
            let want = usize::try_from(end - index).unwrap_or(usize::MAX);
            let offset = index * PAGE_SIZE;
            let got = match &self.source {
                Source::User { uptr } => {
                    let addr = uptr
                        .checked_add(offset)
                        .and_then(|a| usize::try_from(a).ok())
                        .ok_or(EFAULT)?;
                    fresh.pin_user(&self.mm, addr, self.writable, want)?
                }
                Source::File { start, file } => {
                    let at = start.checked_add(offset).ok_or(EINVAL)?;
                    fresh.pin_file(file, at, want)?
                }
            };
            index += got as u64;
        }
        Ok(())
    }

    /// Copies between `data` and the bytes from `start_byte`: into the
    /// memory if `write`, out of it otherwise. The mapping process itself
    /// goes through its own mapping, faulting as needed, unless `slow`;
    /// otherwise user memory is pinned a page at a time for the copy, short
    /// term and uncharged, and file memory is pinned (and charged) for it.
    pub(crate) fn rw(&self, start_byte: u64, data: &mut [u8], write: bool, slow: bool) -> Result {
        let len = data.len() as u64;
        let end = start_byte.checked_add(len).ok_or(EOVERFLOW)?;
        if len == 0 || end > self.npages.saturating_mul(PAGE_SIZE) {
            return Err(EINVAL);
        }
        if let Source::User { uptr } = &self.source {
            let task = kernel::current!();
            let own = task
                .mm()
                .is_some_and(|mm| core::ptr::eq(mm.as_raw(), self.mm.as_raw()));
            if own && !slow {
                let addr = uptr
                    .checked_add(start_byte)
                    .and_then(|a| usize::try_from(a).ok())
                    .ok_or(EFAULT)?;
                let user = UserSlice::new(UserPtr::from_addr(addr), data.len());
                return if write {
                    user.writer().write_slice(data)
                } else {
                    user.reader().read_slice(data)
                };
            }
        }
        let first = start_byte / PAGE_SIZE;
        let last = (end - 1) / PAGE_SIZE;
        if self.rw_pinned(start_byte, first, last, data, write)? {
            return Ok(());
        }
        if let Source::User { uptr } = &self.source {
            // Short, uncharged pins, a page at a time, as upstream's slow
            // path: the copy needs the page only while it runs.
            let mut done = 0usize;
            let mut offset = (start_byte % PAGE_SIZE) as usize;
            for index in first..=last {
                let addr = uptr
                    .checked_add(index * PAGE_SIZE)
                    .and_then(|a| usize::try_from(a).ok())
                    .ok_or(EFAULT)?;
                let n = (PAGE_SIZE as usize - offset).min(data.len() - done);
                // Dropping the pin, once copied, lets it go.
                glue::pin_user_page(&self.mm, addr, write)?.copy(
                    offset,
                    &mut data[done..done + n],
                    write,
                )?;
                done += n;
                offset = 0;
            }
            return Ok(());
        }
        // File memory: pinned for the copy, through the pins it then has.
        drop(self.pin(first, last)?);
        let res = self
            .rw_pinned(start_byte, first, last, data, write)
            .and_then(|copied| if copied { Ok(()) } else { Err(EINVAL) });
        self.unpin(first, last);
        res
    }

    /// Copies through pages that are pinned already (by a domain fill or an
    /// access), as upstream reads a domain's pages: this works even when
    /// the mapping process is gone. Returns whether it could.
    fn rw_pinned(
        &self,
        start_byte: u64,
        first: u64,
        last: u64,
        data: &mut [u8],
        write: bool,
    ) -> Result<bool> {
        // Holding the store keeps every pin in it.
        let store = self.pins.lock();
        if store.used == 0 || (first..=last).any(|i| !store.held(i)) {
            return Ok(false);
        }
        let mut done = 0usize;
        let mut offset = (start_byte % PAGE_SIZE) as usize;
        for index in first..=last {
            let page = store.page(index).ok_or(EINVAL)?;
            let n = (PAGE_SIZE as usize - offset).min(data.len() - done);
            copy_held(page, offset, &mut data[done..done + n], write)?;
            done += n;
            offset = 0;
        }
        Ok(true)
    }

    /// Drops one pin of pages `first..=last` taken by [`Self::pin`] (of
    /// exactly that range): the pages no access holds any more go back to
    /// the fill that covers them, the others are unpinned and uncharged.
    pub(crate) fn unpin(&self, first: u64, last: u64) {
        let mut store = self.pins.lock();
        if !store.slots.drop_range(first, last) {
            return;
        }
        let writable = self.writable;
        let count = usize::try_from(last.saturating_sub(first) + 1).unwrap_or(usize::MAX);
        // The pins let go are released once the store is unlocked: few one
        // by one, more in one batch.
        let mut small: [Option<PagePin>; 16] = [const { None }; 16];
        let mut nsmall = 0usize;
        let mut freed = if count > small.len() {
            PinBatch::with_capacity(count, writable).unwrap_or_else(|_| PinBatch::new(writable))
        } else {
            PinBatch::new(writable)
        };
        let mut nfreed = 0usize;
        let PinStore { slots, fills, .. } = &mut *store;
        let Slots { ranges, leaves } = slots;
        // Other ranges may hold some of the pages still.
        let others = !ranges.is_empty();
        each_slot(leaves, first, last, |index, leaf, i| {
            if others && ranges.meets(key_of(index), key_of(index)) {
                return;
            }
            let Some(pin) = leaf.take(i) else {
                return;
            };
            if covers(fills, index) {
                // The fills hold it again.
                pin.into_held();
                return;
            }
            nfreed += 1;
            // Unpinning must not fail: batch what we can, and unpin now
            // (dropping the pin) if the batch had no room.
            if let Some(s) = small.get_mut(nsmall) {
                *s = Some(pin);
                nsmall += 1;
            } else if let Err(pin) = freed.push(pin) {
                drop(pin);
            }
        });
        store.used = store.used.saturating_sub(nfreed);
        store.slots.trim(first, last);
        // Under the store's lock, so that a change of process sees pins and
        // charges agree.
        store.mapper.uncharge(nfreed);
        drop(store);
        drop(small);
        drop(freed);
    }

    /// Whether the memory is a file's (so that it does not depend on the
    /// mapping process).
    pub(crate) fn is_file(&self) -> bool {
        matches!(self.source, Source::File { .. })
    }

    /// Whether the pins are charged to another process than `cur`.
    pub(crate) fn mapped_by_other(&self, cur: &CurrentProcess) -> bool {
        !self.pins.lock().mapper.is(cur)
    }

    /// Charges what is pinned to the current process, `cur`, instead, the
    /// way it was charged. Returns the old charge, for
    /// [`Self::restore_mapper`], or `None` if it was `cur` already.
    pub(crate) fn change_mapper(&self, cur: &CurrentProcess) -> Result<Option<Mapper>> {
        let mut store = self.pins.lock();
        if store.mapper.is(cur) {
            return Ok(None);
        }
        let new = store.mapper.current_like()?;
        new.charge(store.used)?;
        store.mapper.uncharge(store.used);
        Ok(Some(core::mem::replace(&mut store.mapper, new)))
    }

    /// Undoes [`Self::change_mapper`], as far as the old charge can be taken
    /// again (it was just given back, so normally entirely).
    pub(crate) fn restore_mapper(&self, old: Mapper) {
        let mut store = self.pins.lock();
        if old.charge(store.used).is_ok() {
            store.mapper.uncharge(store.used);
            store.mapper = old;
        }
    }
}
