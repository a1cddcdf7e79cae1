// SPDX-License-Identifier: GPL-2.0

//! I/O address spaces and their ioctls.
//!
//! An IOAS is the set of IOVA -> memory mappings that the domains attached to
//! it follow. The handlers check their arguments in upstream's order, so that
//! every input gets the errno the C iommufd gives it.

#![deny(unsafe_code)]

use kernel::{
    alloc::flags::GFP_KERNEL_ACCOUNT,
    new_mutex,
    prelude::*,
    rbtree::RBTree,
    sync::{
        Arc,
        Mutex, //
    },
    uaccess::{
        UserPtr,
        UserSlice, //
    },
};

use crate::{
    access::Access,
    glue,
    hw_pagetable::Hwpt,
    ictx::Ictx,
    io_pagetable::{
        IoPagetable,
        PagesSlice,
        UnmapBlocked,
        IOMMU_READ,
        IOMMU_WRITE, //
    },
    iova::IovaRange,
    object::{
        ObjectKind,
        ObjectType,
        WeakObj, //
    },
    pages::{
        CurrentProcess,
        Mapper,
        Pages,
        Source, //
    },
    uapi::{
        IommuIoasAlloc,
        IommuIoasAllowIovas,
        IommuIoasChangeProcess,
        IommuIoasCopy,
        IommuIoasIovaRanges,
        IommuIoasMap,
        IommuIoasMapFile,
        IommuIoasUnmap,
        IommuIovaRange,
        IOMMU_IOAS_MAP_FIXED_IOVA,
        IOMMU_IOAS_MAP_READABLE,
        IOMMU_IOAS_MAP_WRITEABLE, //
    },
    ucmd::UserCmdBuf,
};

/// An I/O address space.
#[pin_data]
pub(crate) struct Ioas {
    #[pin]
    pub(crate) iopt: Mutex<IoPagetable>,
    /// The in-kernel accesses attached, told before their pages are unmapped.
    #[pin]
    accesses: Mutex<KVec<Arc<Access>>>,
    /// The automatic domains made for devices attached to this IOAS (a
    /// destroyed one is forgotten when next seen).
    #[pin]
    pub(crate) auto_hwpts: Mutex<KVec<WeakObj<Hwpt>>>,
}

/// How often an unmap asks accesses to let go before giving up, as upstream.
const UNMAP_RETRIES: u32 = 100;

impl Ioas {
    /// Attaches `access`, so that it hears of unmaps. An access that pins
    /// needs whole pages: `EADDRINUSE` if an area is not page aligned.
    pub(crate) fn attach_access(&self, access: Arc<Access>, pins: bool) -> Result {
        let mut list = self.accesses.lock();
        list.reserve(1, GFP_KERNEL_ACCOUNT)?;
        if pins {
            self.iopt.lock().add_pinning_access()?;
        }
        // Room was reserved above.
        if list.push_within_capacity(access).is_err() {
            if pins {
                self.iopt.lock().remove_pinning_access();
            }
            return Err(ENOMEM);
        }
        Ok(())
    }

    /// Detaches `access`, which was attached with `pins`.
    pub(crate) fn detach_access(&self, access: &Access, pins: bool) {
        let mut list = self.accesses.lock();
        if let Some(at) = list
            .iter()
            .position(|a| core::ptr::eq::<Access>(&**a, access))
        {
            let removed = list.remove(at);
            if pins {
                self.iopt.lock().remove_pinning_access();
            }
            drop(list);
            drop(removed);
        }
    }

    /// Unmaps the areas inside `range`, first asking in-kernel accesses to
    /// let go of any pages they hold there. Returns the bytes unmapped.
    /// Each area gets its own budget of retries, as upstream.
    pub(crate) fn unmap(&self, range: IovaRange) -> Result<u64> {
        let mut unmapped = 0;
        let mut tries = 0;
        let mut last_blocked = None;
        // Areas below a blocked one are gone already: resume from it, so
        // that nothing mapped behind the unmap is taken as well.
        let mut rest = range;
        loop {
            let blocked = match self.iopt.lock().unmap(rest, &mut unmapped) {
                Ok(()) => return Ok(unmapped),
                Err(UnmapBlocked::Err(e)) => return Err(e),
                Err(UnmapBlocked::Accesses(area)) => area,
            };
            rest.start = blocked.start;
            if last_blocked != Some(blocked.start) {
                last_blocked = Some(blocked.start);
                tries = 0;
            }
            self.notify_accesses(blocked);
            // An access that does not let go is a driver's bug: upstream
            // warns, and gives up.
            tries += 1;
            if kernel::warn_on!(tries > UNMAP_RETRIES) {
                return Err(EDEADLK);
            }
        }
    }

    /// Tells each attached access that `range` is to be unmapped. Each is
    /// taken from the list under its lock, counted as notified (which a
    /// detach or destroy waits for) and told with no lock held, so that a
    /// driver's callback may unpin. One being destroyed is not told, but
    /// waited for: its destruction lets its pins go, however long the
    /// destroying thread takes to get there, and a retry meanwhile would
    /// only spend the unmap's budget.
    fn notify_accesses(&self, range: IovaRange) {
        let mut at = 0;
        loop {
            let (access, call) = {
                let list = self.accesses.lock();
                let Some(access) = list.get(at) else {
                    return;
                };
                at += 1;
                (access.clone(), access.begin_call())
            };
            match call {
                Some(call) => call.notify_unmap(self, range),
                None => access.wait_shut(),
            }
        }
    }
}

impl ObjectType for Ioas {
    fn cast(kind: &ObjectKind) -> Option<&Arc<Self>> {
        match kind {
            ObjectKind::Ioas(ioas) => Some(ioas),
            _ => None,
        }
    }
}

impl Ioas {
    /// A new, empty IOAS, not yet in any table.
    pub(crate) fn new() -> Result<Arc<Self>> {
        Arc::pin_init(
            pin_init!(Ioas {
                iopt <- new_mutex!(IoPagetable::new()),
                accesses <- new_mutex!(KVec::new()),
                auto_hwpts <- new_mutex!(KVec::new()),
            }),
            GFP_KERNEL_ACCOUNT,
        )
    }
}

/// `IOMMU_IOAS_ALLOC`.
pub(crate) fn alloc_ioctl<'a>(
    ictx: &'a Ictx,
    buf: &mut UserCmdBuf<'a>,
    mut cmd: IommuIoasAlloc,
) -> Result {
    if cmd.flags != 0 {
        return Err(EOPNOTSUPP);
    }
    let ioas = Ioas::new()?;
    // Userspace learns the id before anyone can look it up; if it cannot be
    // told, the object is never published.
    cmd.out_ioas_id = buf.set_new_obj(ictx.objects.reserve(ObjectKind::Ioas(ioas))?);
    buf.respond(&cmd)
}

/// The address of element `index` of a user array at `base`.
fn user_elem<T>(base: u64, index: usize) -> Result<UserPtr> {
    let offset = index.checked_mul(core::mem::size_of::<T>()).ok_or(EFAULT)?;
    let addr = usize::try_from(base)
        .ok()
        .and_then(|b| b.checked_add(offset))
        .ok_or(EFAULT)?;
    Ok(UserPtr::from_addr(addr))
}

/// `IOMMU_IOAS_IOVA_RANGES`.
pub(crate) fn iova_ranges_ioctl(
    ictx: &Ictx,
    buf: &mut UserCmdBuf<'_>,
    mut cmd: IommuIoasIovaRanges,
) -> Result {
    if cmd.__reserved != 0 {
        return Err(EOPNOTSUPP);
    }
    let ioas = ictx.objects.get::<Ioas>(cmd.ioas_id)?;
    let (ranges, alignment) = {
        let iopt = ioas.iopt.lock();
        (iopt.free_ranges()?, iopt.iova_alignment())
    };
    let max = cmd.num_iovas as usize;
    for (i, r) in ranges.iter().take(max).enumerate() {
        let elem = IommuIovaRange {
            start: r.start,
            last: r.last,
        };
        UserSlice::new(user_elem::<IommuIovaRange>(cmd.allowed_iovas, i)?, 16)
            .writer()
            .write(&elem)?;
    }
    cmd.num_iovas = u32::try_from(ranges.len()).map_err(|_| EOVERFLOW)?;
    cmd.out_iova_alignment = alignment;
    buf.respond(&cmd)?;
    if ranges.len() > max {
        return Err(EMSGSIZE);
    }
    Ok(())
}

/// `IOMMU_IOAS_ALLOW_IOVAS`.
pub(crate) fn allow_iovas_ioctl(
    ictx: &Ictx,
    _buf: &mut UserCmdBuf<'_>,
    cmd: IommuIoasAllowIovas,
) -> Result {
    if cmd.__reserved != 0 {
        return Err(EOPNOTSUPP);
    }
    let ioas = ictx.objects.get::<Ioas>(cmd.ioas_id)?;
    // Check each range as it is read, as upstream: a bad range is EINVAL even
    // if a later one cannot be read. The list is kept sorted in a tree, so
    // nothing is sized by the count userspace claims.
    let mut tree: RBTree<u64, u64> = RBTree::new();
    for i in 0..cmd.num_iovas as usize {
        let r: IommuIovaRange =
            UserSlice::new(user_elem::<IommuIovaRange>(cmd.allowed_iovas, i)?, 16)
                .reader()
                .read()?;
        if r.start >= r.last {
            return Err(EINVAL);
        }
        // Only the neighbours by start can overlap: the first range
        // starting at or after this one, and the one before it.
        let next = tree.cursor_lower_bound(&r.start);
        let prev_last = match &next {
            Some(c) => c.peek_prev().map(|(_, last)| *last),
            None => tree.cursor_back().map(|c| *c.current().1),
        };
        if next.as_ref().is_some_and(|c| *c.current().0 <= r.last)
            || prev_last.is_some_and(|last| last >= r.start)
        {
            return Err(EINVAL);
        }
        tree.try_create_and_insert(r.start, r.last, GFP_KERNEL_ACCOUNT)?;
    }
    let mut ranges = KVVec::new();
    for (start, last) in tree.iter() {
        ranges.push(
            IovaRange {
                start: *start,
                last: *last,
            },
            GFP_KERNEL_ACCOUNT,
        )?;
    }
    let mut iopt = ioas.iopt.lock();
    iopt.set_allowed(ranges)
}

/// Converts map flags to `IOMMU_READ` / `IOMMU_WRITE`.
fn map_prot(flags: u32) -> Result<u32> {
    let mut prot = 0;
    if flags & IOMMU_IOAS_MAP_WRITEABLE != 0 {
        prot |= IOMMU_WRITE;
    }
    if flags & IOMMU_IOAS_MAP_READABLE != 0 {
        prot |= IOMMU_READ;
    }
    if prot == 0 {
        return Err(EINVAL);
    }
    Ok(prot)
}

/// Every map flag.
const MAP_FLAGS: u32 =
    IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_WRITEABLE | IOMMU_IOAS_MAP_READABLE;

/// The IOVA to map at, if the caller fixed it.
fn fixed_iova(flags: u32, iova: u64) -> Option<u64> {
    (flags & IOMMU_IOAS_MAP_FIXED_IOVA != 0).then_some(iova)
}

/// Maps the whole of a new `Pages` into `ioas`.
fn map_new_pages(
    ioas: &Ioas,
    pages: Arc<Pages>,
    start_byte: u64,
    length: u64,
    fixed: Option<u64>,
    prot: u32,
) -> Result<u64> {
    let slice = PagesSlice {
        pages,
        start_byte,
        length,
    };
    ioas.iopt
        .lock()
        .map(core::iter::once(slice), length, fixed, prot)
}

/// The checks MAP, MAP_FILE and COPY share, in upstream's order: unknown
/// flags, then IOVAs or lengths of `u64::MAX`, then the protection asked.
fn check_map_args(flags: u32, values: &[u64]) -> Result<u32> {
    if flags & !MAP_FLAGS != 0 {
        return Err(EOPNOTSUPP);
    }
    if values.contains(&u64::MAX) {
        return Err(EOVERFLOW);
    }
    map_prot(flags)
}

/// Maps `length` bytes at `addr` (a user address or a file offset) of the
/// memory `source` names into `ioas`, for the current process.
fn map_for_current(
    ictx: &Ictx,
    ioas: &Ioas,
    flags: u32,
    iova: u64,
    addr: u64,
    length: u64,
    source: impl FnOnce(u64) -> Source,
) -> Result<u64> {
    let prot = map_prot(flags)?;
    let mapper = Mapper::current(ictx.account_per_process())?;
    let (pages, start_byte) = Pages::new(addr, length, prot & IOMMU_WRITE != 0, mapper, source)?;
    map_new_pages(
        ioas,
        pages,
        start_byte,
        length,
        fixed_iova(flags, iova),
        prot,
    )
}

/// A user range must not wrap: `EOVERFLOW`, as upstream checks first when
/// it describes user memory, for every way of mapping it.
fn check_user_range(addr: u64, length: u64) -> Result {
    addr.checked_add(length).ok_or(EOVERFLOW).map(drop)
}

/// Maps `length` bytes of the current process's memory at `addr` into
/// `ioas` at the fixed `iova` with `prot`, for the VFIO type1 compat layer.
pub(crate) fn map_user_at(
    ictx: &Ictx,
    ioas: &Ioas,
    prot: u32,
    iova: u64,
    addr: u64,
    length: u64,
    source: impl FnOnce(u64) -> Source,
) -> Result<u64> {
    check_user_range(addr, length)?;
    let mapper = Mapper::current(ictx.account_per_process())?;
    let (pages, start_byte) = Pages::new(addr, length, prot & IOMMU_WRITE != 0, mapper, source)?;
    map_new_pages(ioas, pages, start_byte, length, Some(iova), prot)
}

/// `IOMMU_IOAS_MAP`.
pub(crate) fn map_ioctl(ictx: &Ictx, buf: &mut UserCmdBuf<'_>, mut cmd: IommuIoasMap) -> Result {
    if cmd.__reserved != 0 {
        return Err(EOPNOTSUPP);
    }
    check_map_args(cmd.flags, &[cmd.iova, cmd.length])?;
    let ioas = ictx.objects.get::<Ioas>(cmd.ioas_id)?;
    check_user_range(cmd.user_va, cmd.length)?;
    cmd.iova = map_for_current(
        ictx,
        &ioas,
        cmd.flags,
        cmd.iova,
        cmd.user_va,
        cmd.length,
        |uptr| Source::User { uptr },
    )?;
    buf.respond(&cmd)
}

/// `IOMMU_IOAS_MAP_FILE`.
pub(crate) fn map_file_ioctl(
    ictx: &Ictx,
    buf: &mut UserCmdBuf<'_>,
    mut cmd: IommuIoasMapFile,
) -> Result {
    check_map_args(cmd.flags, &[cmd.iova, cmd.length])?;
    let ioas = ictx.objects.get::<Ioas>(cmd.ioas_id)?;
    IovaRange::from_len(cmd.start, cmd.length)?;
    // A negative fd is no fd: it fails like a closed one.
    let fd = u32::try_from(cmd.fd).map_err(|_| EBADF)?;
    let file = glue::fget_in_ioctl(fd)?;
    // Only memory that can be pinned. Upstream takes any file and fails
    // only when a domain or an access pins it; until then the area holds
    // the file, and a file that holds this context (the iommufd itself,
    // an access or event fd) keeps it alive for ever once userspace closes
    // it: a leak any user of /dev/iommu could make. Refused here with the
    // errno the pin would give.
    if !glue::file_is_memfd(&file) {
        return Err(EINVAL);
    }
    cmd.iova = map_for_current(
        ictx,
        &ioas,
        cmd.flags,
        cmd.iova,
        cmd.start,
        cmd.length,
        |start| Source::File { start, file },
    )?;
    buf.respond(&cmd)
}

/// `IOMMU_IOAS_COPY`.
pub(crate) fn copy_ioctl(ictx: &Ictx, buf: &mut UserCmdBuf<'_>, mut cmd: IommuIoasCopy) -> Result {
    let prot = check_map_args(cmd.flags, &[cmd.length, cmd.src_iova, cmd.dst_iova])?;
    let slices = {
        let src = ictx.objects.get::<Ioas>(cmd.src_ioas_id)?;
        let range = IovaRange::from_len(cmd.src_iova, cmd.length)?;
        let slices = src.iopt.lock().slices(range)?;
        slices
    };
    let dst = ictx.objects.get::<Ioas>(cmd.dst_ioas_id)?;
    cmd.dst_iova = dst.iopt.lock().map(
        slices,
        cmd.length,
        fixed_iova(cmd.flags, cmd.dst_iova),
        prot,
    )?;
    buf.respond(&cmd)
}

/// `IOMMU_IOAS_UNMAP`.
pub(crate) fn unmap_ioctl(
    ictx: &Ictx,
    buf: &mut UserCmdBuf<'_>,
    mut cmd: IommuIoasUnmap,
) -> Result {
    let ioas = ictx.objects.get::<Ioas>(cmd.ioas_id)?;
    let unmapped = if cmd.iova == 0 && cmd.length == u64::MAX {
        ioas.unmap(IovaRange {
            start: 0,
            last: u64::MAX,
        })?
    } else {
        if cmd.iova == u64::MAX || cmd.length == u64::MAX {
            return Err(EOVERFLOW);
        }
        let range = IovaRange::from_len(cmd.iova, cmd.length)?;
        let unmapped = ioas.unmap(range)?;
        if unmapped == 0 {
            return Err(ENOENT);
        }
        unmapped
    };
    cmd.length = unmapped;
    buf.respond(&cmd)
}

/// `IOMMU_IOAS_CHANGE_PROCESS`: charges every pin of the file's mappings to
/// the calling process instead of the one that mapped them, as a VMM does
/// after handing its iommufd to a new process. Only file mappings can move
/// (`EINVAL` if any IOAS maps user memory, whose addresses belong to the old
/// process). Each mapping's charge moves at once under its own lock; if one
/// cannot be taken (`ENOMEM`), those already moved go back.
pub(crate) fn change_process_ioctl(
    ictx: &Ictx,
    _buf: &mut UserCmdBuf<'_>,
    cmd: IommuIoasChangeProcess,
) -> Result {
    if cmd.__reserved != 0 {
        return Err(EOPNOTSUPP);
    }
    // The pages of every mapping that another process is charged for, each
    // `Pages` once: a tree by address, so that the work is O(n log n) in
    // the mappings, and no IOAS lock is held for more than a walk of its
    // own areas. The current process is looked up once.
    let cur = CurrentProcess::get();
    let mut all: RBTree<usize, Arc<Pages>> = RBTree::new();
    for ioas in ictx.objects.all::<Ioas>()?.iter() {
        ioas.iopt.lock().for_each_pages(|p| {
            if !p.is_file() {
                return Err(EINVAL);
            }
            let key = Arc::as_ptr(p) as usize;
            if p.mapped_by_other(&cur) && all.get(&key).is_none() {
                all.try_create_and_insert(key, p.clone(), GFP_KERNEL_ACCOUNT)?;
            }
            Ok(())
        })?;
    }
    let mut moved = KVec::with_capacity(all.iter().count(), GFP_KERNEL_ACCOUNT)?;
    for p in all.values() {
        match p.change_mapper(&cur) {
            Ok(old) => {
                // Room was reserved above.
                let _ = moved.push_within_capacity((p.clone(), old));
            }
            Err(e) => {
                for (q, old) in moved {
                    if let Some(old) = old {
                        q.restore_mapper(old);
                    }
                }
                return Err(e);
            }
        }
    }
    Ok(())
}
