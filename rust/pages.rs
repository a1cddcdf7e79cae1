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

/// Pages per chunk of the pin store. A chunk is built on the stack before it
/// is boxed (12 bytes a page), so it stays well under a kilobyte.
const CHUNK: usize = 64;

/// Pins of [`CHUNK`] consecutive pages.
struct Chunk {
    pages: [Option<PinnedPage>; CHUNK],
    refs: [u32; CHUNK],
    used: usize,
}

/// The pinned pages of a [`Pages`], sparse: a chunk exists only while one of
/// its pages is pinned.
struct PinStore {
    chunks: RBTree<u64, KBox<Chunk>>,
}

impl PinStore {
    fn refs(&self, index: u64) -> u32 {
        let (c, i) = split(index);
        self.chunks.get(&c).map_or(0, |chunk| chunk.refs[i])
    }
}

/// The chunk number and the index in it of page `index`.
fn split(index: u64) -> (u64, usize) {
    (index / CHUNK as u64, (index % CHUNK as u64) as usize)
}

/// Calls `f` with each page index of `first..=last`, its chunk and its
/// index in the chunk, looking each chunk up once. Absent chunks are skipped.
fn for_each_in_chunks(
    store: &PinStore,
    first: u64,
    last: u64,
    mut f: impl FnMut(u64, &Chunk, usize) -> Result,
) -> Result {
    let (c_first, _) = split(first);
    let (c_last, _) = split(last);
    for c in c_first..=c_last {
        let Some(chunk) = store.chunks.get(&c) else {
            continue;
        };
        let lo = first.max(c * CHUNK as u64);
        let hi = last.min(c * CHUNK as u64 + CHUNK as u64 - 1);
        for index in lo..=hi {
            f(index, chunk, (index % CHUNK as u64) as usize)?;
        }
    }
    Ok(())
}

/// As [`for_each_in_chunks`], mutably, for what cannot fail.
fn for_each_in_chunks_mut(
    store: &mut PinStore,
    first: u64,
    last: u64,
    mut f: impl FnMut(&mut Chunk, usize),
) {
    let (c_first, _) = split(first);
    let (c_last, _) = split(last);
    for c in c_first..=c_last {
        let Some(chunk) = store.chunks.get_mut(&c) else {
            continue;
        };
        let lo = first.max(c * CHUNK as u64);
        let hi = last.min(c * CHUNK as u64 + CHUNK as u64 - 1);
        for index in lo..=hi {
            f(chunk, (index % CHUNK as u64) as usize);
        }
    }
}

/// A contiguous, page-granular range of memory that areas map.
pub(crate) struct Pages {
    source: Source,
    mapper: Mapper,
    /// The number of pages in the range.
    npages: u64,
    /// Whether the device may write: pinned with `FOLL_WRITE`.
    writable: bool,
    pins: Pin<KBox<Mutex<PinStore>>>,
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
        let pins = KBox::pin_init(
            new_mutex!(PinStore {
                chunks: RBTree::new(),
            }),
            GFP_KERNEL_ACCOUNT,
        )?;
        let pages = Arc::new(
            Self {
                source: source(addr - start_byte),
                mapper,
                npages,
                writable,
                pins,
            },
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
    /// left pinned or charged by this call.
    pub(crate) fn pin(&self, first: u64, last: u64) -> Result<KVVec<PinnedPage>> {
        if first > last || last >= self.npages {
            return Err(EINVAL);
        }
        let count = usize::try_from(last - first + 1).map_err(|_| ENOMEM)?;
        // Everything that can fail for want of memory is allocated first.
        let mut out = KVVec::with_capacity(count, GFP_KERNEL_ACCOUNT)?;
        let mut store = self.pins.lock();
        let res = self.pin_locked(&mut store, first, last, &mut out);
        if res.is_err() {
            self.drop_empty_chunks(&mut store, first, last);
        }
        res.map(|()| out)
    }

    fn pin_locked(
        &self,
        store: &mut PinStore,
        first: u64,
        last: u64,
        out: &mut KVVec<PinnedPage>,
    ) -> Result {
        // Every chunk must exist, so that committing cannot fail.
        let (c_first, _) = split(first);
        let (c_last, _) = split(last);
        for c in c_first..=c_last {
            if store.chunks.get(&c).is_none() {
                let chunk = KBox::new(
                    Chunk {
                        pages: [None; CHUNK],
                        refs: [0; CHUNK],
                        used: 0,
                    },
                    GFP_KERNEL_ACCOUNT,
                )?;
                store
                    .chunks
                    .try_create_and_insert(c, chunk, GFP_KERNEL_ACCOUNT)?;
            }
        }

        // The runs of pages not pinned yet, found a chunk at a time.
        let mut runs: KVec<(u64, u64)> = KVec::new();
        let mut new = 0usize;
        for_each_in_chunks(store, first, last, |index, chunk, i| {
            if chunk.refs[i] != 0 {
                return Ok(());
            }
            new += 1;
            match runs.last_mut() {
                Some((start, len)) if *start + *len == index => *len += 1,
                _ => runs.push((index, 1), GFP_KERNEL_ACCOUNT)?,
            }
            Ok(())
        })?;

        // Pin what is not pinned yet, then charge it, as upstream does: a
        // range that cannot be pinned fails as such, whatever the limit.
        let mut fresh: KVVec<PinnedPage> = KVVec::with_capacity(new, GFP_KERNEL_ACCOUNT)?;
        let pinned = runs
            .iter()
            .try_for_each(|&(start, len)| self.pin_run(start, len, &mut fresh))
            .and_then(|()| self.mapper.charge(new));
        if let Err(e) = pinned {
            // SAFETY: `fresh` holds the pins just taken, which nothing else
            // has seen; they are released once, here.
            unsafe { glue::unpin(&fresh, false) };
            return Err(e);
        }

        // Commit: store the new pins and count one more user of every page.
        let mut fresh = fresh.into_iter();
        for_each_in_chunks_mut(store, first, last, |chunk, i| {
            if chunk.refs[i] == 0 {
                chunk.pages[i] = fresh.next();
                chunk.used += 1;
            }
            chunk.refs[i] += 1;
            if let Some(page) = chunk.pages[i] {
                // `out` has room for every page of the range.
                let _ = out.push_within_capacity(page);
            }
        });
        Ok(())
    }

    /// Pins the `len` pages from page `start`, which are not pinned yet,
    /// appending them to `fresh` (which has room for them) in order.
    fn pin_run(&self, start: u64, len: u64, fresh: &mut KVVec<PinnedPage>) -> Result {
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
                    glue::pin_user_into(&self.mapper.mm, addr, self.writable, want, fresh)?
                }
                Source::File { start, file } => {
                    let at = start.checked_add(offset).ok_or(EINVAL)?;
                    let mut batch = [None; glue::PIN_BATCH];
                    let n = want.min(glue::PIN_BATCH);
                    let got = glue::pin_file(file, at, &mut batch[..n])?;
                    for page in batch.iter().take(got).flatten() {
                        fresh.push(*page, GFP_KERNEL_ACCOUNT)?;
                    }
                    got
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
                .is_some_and(|mm| core::ptr::eq(mm.as_raw(), self.mapper.mm.as_raw()));
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
                let page = glue::pin_user_page(&self.mapper.mm, addr, write)?;
                // SAFETY: `page` was pinned just above and is released below.
                let res =
                    unsafe { glue::page_copy(page, offset, &mut data[done..done + n], write) };
                // SAFETY: The pin taken above is released once, here.
                unsafe { glue::unpin(&[page], write) };
                res?;
                done += n;
                offset = 0;
            }
            return Ok(());
        }
        let pages = self.pin(first, last)?;
        let mut res = Ok(());
        let mut done = 0usize;
        let mut offset = (start_byte % PAGE_SIZE) as usize;
        for page in pages.iter() {
            let n = (PAGE_SIZE as usize - offset).min(data.len() - done);
            // SAFETY: `pages` are pinned until `unpin` below.
            let copied =
                unsafe { glue::page_copy(*page, offset, &mut data[done..done + n], write) };
            if let Err(e) = copied {
                res = Err(e);
                break;
            }
            done += n;
            offset = 0;
        }
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
            let (c, i) = split(index);
            let page = store
                .chunks
                .get(&c)
                .and_then(|chunk| chunk.pages[i])
                .ok_or(EINVAL)?;
            let n = (PAGE_SIZE as usize - offset).min(data.len() - done);
            // SAFETY: The page is pinned by the store, which is locked for
            // the whole copy, so the pin cannot go away meanwhile.
            unsafe { glue::page_copy(page, offset, &mut data[done..done + n], write) }?;
            done += n;
            offset = 0;
        }
        Ok(true)
    }

    /// Drops one pin of pages `first..=last`, unpinning and uncharging the
    /// pages nobody else holds.
    pub(crate) fn unpin(&self, first: u64, last: u64) {
        let mut store = self.pins.lock();
        let count = usize::try_from(last.saturating_sub(first) + 1).unwrap_or(0);
        let mut freed = KVVec::with_capacity(count, GFP_KERNEL_ACCOUNT).unwrap_or_default();
        let mut nfreed = 0usize;
        let writable = self.writable;
        for_each_in_chunks_mut(&mut store, first, last, |chunk, i| {
            if chunk.refs[i] == 0 {
                return;
            }
            chunk.refs[i] -= 1;
            if chunk.refs[i] == 0 {
                if let Some(page) = chunk.pages[i].take() {
                    chunk.used -= 1;
                    nfreed += 1;
                    // Unpinning must not fail: batch what we can, and unpin
                    // one by one if the batch had no room.
                    if freed.push_within_capacity(page).is_err() {
                        // SAFETY: The store held this pin, and gave it up
                        // with `take` above.
                        unsafe { glue::unpin(&[page], writable) };
                    }
                }
            }
        });
        // SAFETY: The store held these pins and gave them up with `take`.
        unsafe { glue::unpin(&freed, self.writable) };
        self.mapper.uncharge(nfreed);
        self.drop_empty_chunks(&mut store, first, last);
    }

    /// Frees the chunks of pages `first..=last` that hold no pin; chunks
    /// elsewhere were not touched.
    fn drop_empty_chunks(&self, store: &mut PinStore, first: u64, last: u64) {
        let (c_first, _) = split(first);
        let (c_last, _) = split(last);
        for c in c_first..=c_last {
            if store.chunks.get(&c).is_some_and(|chunk| chunk.used == 0) {
                drop(store.chunks.remove(&c));
            }
        }
    }
}

impl Drop for Pages {
    fn drop(&mut self) {
        // Every user unpins before letting go; if one did not, release the
        // pins and charges here rather than leak them.
        let store = self.pins.lock();
        let mut left = KVVec::new();
        let mut n = 0usize;
        for (_, chunk) in store.chunks.iter() {
            for page in chunk.pages.iter().flatten() {
                n += 1;
                if left.push(*page, GFP_KERNEL_ACCOUNT).is_err() {
                    // SAFETY: The store holds this pin and is being dropped.
                    unsafe { glue::unpin(&[*page], self.writable) };
                }
            }
        }
        drop(store);
        if n != 0 {
            pr_err!("pages dropped with {} pins left\n", n);
            // SAFETY: The store held these pins and is being dropped.
            unsafe { glue::unpin(&left, self.writable) };
            self.mapper.uncharge(n);
        }
    }
}
