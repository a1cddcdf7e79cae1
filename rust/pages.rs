// SPDX-License-Identifier: GPL-2.0

//! The memory behind IOAS areas, and its pins.
//!
//! A [`Pages`] is one contiguous range of user memory, named when it is
//! mapped: a user virtual range in the mapping process's mm, or a byte range
//! of a file. Nothing is read, faulted or pinned at map time. Pages are pinned
//! long-term when something needs their physical addresses (a domain filled
//! from the IOAS, or an in-kernel access), counted per page, and unpinned when
//! the last user lets go. Several areas, in one IOAS or several after
//! `IOMMU_IOAS_COPY`, share one `Pages` and so one pin and one charge.
//!
//! Pins are charged when taken, as upstream does: to nobody if the mapper
//! had `CAP_IPC_LOCK`, else to the mapper's user (`RLIMIT_MEMLOCK`, the
//! default) or to the mapper's mm (`IOMMU_OPTION_RLIMIT_MODE` 1, as VFIO
//! type1 does); and always to the mm's `pinned_vm`. Every charge is returned
//! exactly once, when its page is unpinned.

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
        PagePin,
        PinBatch,
        PinnedPage,
        UserRef, //
    },
    iova::PAGE_SIZE,
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

    /// Whether `self` already charges the current process.
    fn is_current(&self) -> bool {
        let task = kernel::current!();
        let same_mm = task
            .mm()
            .is_some_and(|mm| core::ptr::eq(mm.as_raw(), self.mm.as_raw()));
        let same_user = match &self.charge {
            Charge::User(u) => UserRef::current().is_ok_and(|cur| cur.same(u)),
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

/// The pin of one page: the pin, while pinned, and how many users hold it.
#[derive(Default)]
struct Slot {
    pin: Option<PagePin>,
    refs: u32,
}

/// Pages per leaf of the pin store: a 2 MiB range is one leaf.
const LEAF: usize = 512;

/// The slots of up to [`LEAF`] consecutive pages, and how many are pinned.
struct Leaf {
    slots: KVVec<Slot>,
    used: usize,
}

/// The pinned pages of a [`Pages`]: a slot per page, in leaves of [`LEAF`]
/// pages made as pinning reaches them and freed with their last pin, kept
/// in a tree by leaf index. What a `Pages` costs is proportional to what
/// it pins, whatever its length: nothing for a range nobody pins (or that
/// cannot be pinned), a leaf and a tree node per 2 MiB that holds a pin.
struct PinStore {
    /// Whom the pins are charged to; `IOMMU_IOAS_CHANGE_PROCESS` moves it.
    mapper: Mapper,
    /// The leaves that exist, by index.
    leaves: RBTree<usize, Leaf>,
    /// Pages pinned now.
    used: usize,
}

/// The leaf index of page `index`.
fn leaf_of(index: u64) -> usize {
    usize::try_from(index / LEAF as u64).unwrap_or(usize::MAX)
}

impl PinStore {
    /// The slot of page `index`, if its leaf exists.
    fn slot(&self, index: u64) -> Option<&Slot> {
        let leaf = self.leaves.get(&leaf_of(index))?;
        leaf.slots.get((index % LEAF as u64) as usize)
    }

    fn refs(&self, index: u64) -> u32 {
        self.slot(index).map_or(0, |s| s.refs)
    }

    /// Makes the leaves of pages `first..=last` of `npages`. The caller
    /// bounds the range: this allocates for every page of it.
    fn ensure(&mut self, first: u64, last: u64, npages: u64) -> Result {
        let n = usize::try_from(npages).map_err(|_| ENOMEM)?;
        for l in leaf_of(first)..=leaf_of(last) {
            if self.leaves.get(&l).is_some() {
                continue;
            }
            let len = n.saturating_sub(l.saturating_mul(LEAF)).min(LEAF);
            let mut slots = KVVec::with_capacity(len, GFP_KERNEL_ACCOUNT)?;
            for _ in 0..len {
                // Room was reserved above.
                let _ = slots.push_within_capacity(Slot::default());
            }
            self.leaves
                .try_create_and_insert(l, Leaf { slots, used: 0 }, GFP_KERNEL_ACCOUNT)?;
        }
        Ok(())
    }

    /// Calls `f` with the index of each existing leaf of pages
    /// `first..=last`, the leaf, and the range of its slots inside, in
    /// order; absent leaves cost nothing.
    fn for_each_leaf(
        &mut self,
        first: u64,
        last: u64,
        mut f: impl FnMut(u64, &mut Leaf, usize, usize),
    ) {
        let (lf, ll) = (leaf_of(first), leaf_of(last));
        let mut cur = self.leaves.cursor_lower_bound_mut(&lf);
        while let Some(mut c) = cur {
            let (&l, leaf) = c.current_mut();
            if l > ll {
                break;
            }
            let base = (l as u64).saturating_mul(LEAF as u64);
            let lo = (first.max(base) - base) as usize;
            let hi = (last.min(base + LEAF as u64 - 1) - base) as usize;
            f(base, leaf, lo, hi);
            cur = c.move_next();
        }
    }

    /// Calls `f` with the index and slot of each page of `first..=last`
    /// whose leaf exists.
    fn for_each(&mut self, first: u64, last: u64, mut f: impl FnMut(u64, &Slot)) {
        self.for_each_leaf(first, last, |base, leaf, lo, hi| {
            if let Some(slots) = leaf.slots.get(lo..=hi) {
                for (i, slot) in slots.iter().enumerate() {
                    f(base + (lo + i) as u64, slot);
                }
            }
        });
    }

    /// As [`Self::for_each`], mutably; `f` also gets its leaf's pin count.
    fn for_each_mut(&mut self, first: u64, last: u64, mut f: impl FnMut(&mut Slot, &mut usize)) {
        self.for_each_leaf(first, last, |_, leaf, lo, hi| {
            let used = &mut leaf.used;
            if let Some(slots) = leaf.slots.get_mut(lo..=hi) {
                for slot in slots {
                    f(slot, used);
                }
            }
        });
    }

    /// Frees the leaves of `first..=last` that pin nothing, and every leaf
    /// once nothing is pinned.
    fn trim(&mut self, first: u64, last: u64) {
        if self.used == 0 {
            self.leaves = RBTree::new();
            return;
        }
        let (lf, ll) = (leaf_of(first), leaf_of(last));
        let mut cur = self.leaves.cursor_lower_bound_mut(&lf);
        while let Some(c) = cur {
            let (&l, leaf) = c.current();
            if l > ll {
                break;
            }
            if leaf.used != 0 {
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

impl Drop for PinStore {
    fn drop(&mut self) {
        // Every user unpins before letting go; if one did not, return the
        // charges here, and the pins go with their slots, rather than leak.
        let n = self
            .leaves
            .values()
            .flat_map(|leaf| leaf.slots.iter())
            .filter(|s| s.pin.is_some())
            .count();
        if n != 0 {
            self.mapper.uncharge(n);
            pr_err!("pages dropped with {} pins left\n", n);
        }
    }
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
                    leaves: RBTree::new(),
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

    /// Pins pages `first..=last` once more and returns them in order.
    /// Pages pinned for the first time are charged; on failure nothing is
    /// left pinned or charged by this call. The bookkeeping of the whole
    /// range is allocated first: callers pin a bounded range at a time.
    pub(crate) fn pin(&self, first: u64, last: u64) -> Result<KVVec<PinnedPage>> {
        if first > last || last >= self.npages {
            return Err(EINVAL);
        }
        let mut store = self.pins.lock();
        let res = self.pin_locked(&mut store, first, last);
        if res.is_err() {
            store.trim(first, last);
        }
        res
    }

    fn pin_locked(&self, store: &mut PinStore, first: u64, last: u64) -> Result<KVVec<PinnedPage>> {
        store.ensure(first, last, self.npages)?;
        let count = usize::try_from(last - first + 1).map_err(|_| ENOMEM)?;
        // Nothing pinned yet (the common case of a domain filling a new
        // area): every page is new and the range is one run, no scan needed.
        let untouched = store.used == 0;
        let mut new = 0usize;
        if untouched {
            new = count;
        } else {
            store.for_each(first, last, |_, s| new += usize::from(s.refs == 0));
        }
        // Unless every page is new (then the new pins are the answer), the
        // pages of the range are gathered in a vector of their own.
        let mut out = if new == count {
            KVVec::new()
        } else {
            KVVec::with_capacity(count, GFP_KERNEL_ACCOUNT)?
        };

        // Pin what is not pinned yet, a run at a time, then charge it, as
        // upstream does: a range that cannot be pinned fails as such,
        // whatever the limit. Until committed, the new pins are let go
        // clean (nothing wrote them) if anything fails.
        let mut fresh = PinBatch::with_capacity(new, false)?;
        let mut res = Ok(());
        if untouched {
            res = self.pin_run(first, count as u64, &mut fresh);
        } else {
            let mut run: Option<u64> = None;
            store.for_each(first, last, |index, s| {
                if res.is_err() {
                    return;
                }
                if s.refs == 0 {
                    run.get_or_insert(index);
                } else if let Some(start) = run.take() {
                    res = self.pin_run(start, index - start, &mut fresh);
                }
            });
            if let (Ok(()), Some(start)) = (&res, run) {
                res = self.pin_run(start, last + 1 - start, &mut fresh);
            }
        }
        res.and_then(|()| store.mapper.charge(new))?;

        // Commit: store the new pins and count one more user of every page.
        let writable = self.writable;
        store.for_each_mut(first, last, |slot, used| {
            if slot.refs == 0 {
                slot.pin = fresh.take(writable);
                *used += 1;
            }
            slot.refs += 1;
            if new != count {
                if let Some(pin) = &slot.pin {
                    // `out` has room for every page of the range.
                    let _ = out.push_within_capacity(pin.page());
                }
            }
        });
        store.used += new;
        Ok(if new == count {
            fresh.into_pages()
        } else {
            out
        })
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

    /// Copies through pages that are pinned already (by a domain or an
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
        if (first..=last).any(|i| store.refs(i) == 0) {
            return Ok(false);
        }
        let mut done = 0usize;
        let mut offset = (start_byte % PAGE_SIZE) as usize;
        for index in first..=last {
            let pin = store
                .slot(index)
                .and_then(|s| s.pin.as_ref())
                .ok_or(EINVAL)?;
            let n = (PAGE_SIZE as usize - offset).min(data.len() - done);
            pin.copy(offset, &mut data[done..done + n], write)?;
            done += n;
            offset = 0;
        }
        Ok(true)
    }

    /// Drops one pin of pages `first..=last`, unpinning and uncharging the
    /// pages nobody else holds.
    pub(crate) fn unpin(&self, first: u64, last: u64) {
        let mut store = self.pins.lock();
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
        store.for_each_mut(first, last, |slot, used| {
            if slot.refs == 0 {
                return;
            }
            slot.refs -= 1;
            if slot.refs != 0 {
                return;
            }
            let Some(pin) = slot.pin.take() else {
                return;
            };
            *used -= 1;
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
        store.trim(first, last);
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

    /// Charges what is pinned to the current process instead, the way it
    /// was charged. Returns the old charge, for [`Self::restore_mapper`], or
    /// `None` if it was the current process already.
    pub(crate) fn change_mapper(&self) -> Result<Option<Mapper>> {
        let mut store = self.pins.lock();
        if store.mapper.is_current() {
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
