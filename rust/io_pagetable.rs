// SPDX-License-Identifier: GPL-2.0

//! The IOVA space of an IOAS: its areas, reserved and allowed ranges.
//!
//! An area maps a contiguous IOVA range onto a byte range of one [`Pages`].
//! Areas never overlap and are only ever removed whole. Reserved ranges can
//! never be mapped; allowed ranges, when set, bound automatic allocation.

#![deny(unsafe_code)]

use kernel::{
    alloc::flags::GFP_KERNEL_ACCOUNT,
    prelude::*,
    rbtree::{
        RBTree,
        RBTreeNode,
        RBTreeNodeReservation, //
    },
    sync::Arc, //
};

use crate::{
    glue::{
        PageRun,
        PinnedPage, //
    },
    iommu::Domain,
    iova::{
        self,
        Allowed,
        IovaError,
        IovaRange,
        OverlappingRanges,
        RangeSet,
        Ranged,
        SortedRanges,
        PAGE_SIZE, //
    },
    pages::{
        new_fill_id,
        FillSource,
        Pages, //
    },
};

impl From<IovaError> for Error {
    fn from(e: IovaError) -> Self {
        match e {
            IovaError::Overflow => EOVERFLOW,
            IovaError::Invalid => EINVAL,
            IovaError::NoSpace => ENOSPC,
        }
    }
}

/// A mapping of an IOVA range onto part of a [`Pages`].
pub(crate) struct Area {
    range: IovaRange,
    pages: Arc<Pages>,
    /// The offset in `pages` of the byte at `range.start`.
    start_byte: u64,
    /// `IOMMU_READ` / `IOMMU_WRITE` as the map asked.
    prot: u32,
    /// The id of the area's fill of the domains in `pages`.
    fill: u64,
    /// How many in-kernel access pins hold pages of this area. Unmapping
    /// it first asks the accesses to let go.
    access_pins: u32,
    /// An unmap is waiting for the accesses to let go: no new access may
    /// pin or copy here meanwhile (`EINVAL`), as upstream.
    prevent_access: bool,
}

impl Area {
    /// The offset in `pages` of the byte mapped at `iova`, inside the area.
    fn byte_at(&self, iova: u64) -> u64 {
        self.start_byte + (iova - self.range.start)
    }

    /// The page indices in `pages` of the bytes mapped at `first..=last`.
    fn page_span(&self, first: u64, last: u64) -> (u64, u64) {
        (
            self.byte_at(first) / PAGE_SIZE,
            self.byte_at(last) / PAGE_SIZE,
        )
    }

    /// The protection a domain maps the area with.
    fn iommu_prot(&self) -> u32 {
        self.prot | IOMMU_CACHE
    }

    /// Whether an in-kernel access may read (or `write`) here: not while an
    /// unmap waits for accesses to let go (`EINVAL`), and only as mapped
    /// (`EPERM`).
    fn check_access(&self, write: bool) -> Result {
        if self.prevent_access {
            return Err(EINVAL);
        }
        let needed = if write { IOMMU_WRITE } else { IOMMU_READ };
        if self.prot & needed == 0 {
            return Err(EPERM);
        }
        Ok(())
    }
}

/// Pages an access pinned through one area.
pub(crate) struct AccessPin {
    /// The key (last IOVA) of the area.
    area: u64,
    pages: Arc<Pages>,
    first: u64,
    last: u64,
}

/// What stopped an unmap.
pub(crate) enum UnmapBlocked {
    /// An error for userspace.
    Err(Error),
    /// In-kernel accesses hold pages of the area at this range; they must be
    /// told to let go before the unmap can go on.
    Accesses(IovaRange),
}

impl From<Error> for UnmapBlocked {
    fn from(e: Error) -> Self {
        Self::Err(e)
    }
}

/// A part of a [`Pages`] to map: `length` bytes from `start_byte`.
pub(crate) struct PagesSlice {
    pub(crate) pages: Arc<Pages>,
    pub(crate) start_byte: u64,
    pub(crate) length: u64,
}

/// Who reserved a range: the test command, or a domain's aperture.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReservedBy {
    /// `IOMMU_TEST_OP_ADD_RESERVED`; dropped with the IOAS.
    #[cfg(iommufd_rs_selftest)]
    Test,
    /// Outside the aperture of the domain at this address; dropped with it.
    Domain(usize),
    /// The reserved regions of the IOMMU group at this address, while its
    /// RID is on a paging domain of the IOAS.
    Group(usize),
}

/// A reserved range and who reserved it.
pub(crate) struct Reserved {
    range: IovaRange,
    by: ReservedBy,
}

impl Ranged for Reserved {
    fn range(&self) -> IovaRange {
        self.range
    }
}

/// Protection bits of an area, as the IOMMU core names them.
pub(crate) const IOMMU_READ: u32 = 1 << 0;
/// See [`IOMMU_READ`].
pub(crate) const IOMMU_WRITE: u32 = 1 << 1;
/// `IOMMU_CACHE`: DMA is cache coherent. Every domain mapping carries it, as
/// upstream: binding requires `IOMMU_CAP_CACHE_COHERENCY` for this.
const IOMMU_CACHE: u32 = 1 << 2;

/// The IOVA a domain fill pins and maps at a time (see
/// [`IoPagetable::fill_area`]), a power of two: what a fill allocates
/// ahead of pinning is a piece's, 4 KiB of page pointers, whatever the
/// area's length. Pieces are aligned to it in IOVA, so that no IOMMU page
/// spans two.
const MAP_CHUNK: u64 = 2 << 20;

/// The IOVA an unfill unmaps at a time, a multiple of [`MAP_CHUNK`]
/// aligned alike, so that a piece unmaps whole mappings.
pub(crate) const FILL_CHUNK: u64 = 16 << 20;

/// The pages of one piece of [`FILL_CHUNK`] bytes (one more when IOVA and
/// memory are not page aligned alike, which [`Pages::unfill`] keeps on its
/// stack): 32 KiB of pointers.
const SCRATCH: usize = (FILL_CHUNK / PAGE_SIZE) as usize;

/// The last IOVA of the piece of `chunk` bytes from `at`, at most `end`.
fn piece_end(at: u64, end: u64, chunk: u64) -> u64 {
    (at | (chunk - 1)).min(end)
}

/// The IOVA space of one IOAS.
pub(crate) struct IoPagetable {
    /// Areas keyed by their last IOVA, so that the first key at or above an
    /// IOVA is the first area reaching it.
    areas: RBTree<u64, Area>,
    /// Reserved ranges; may overlap.
    reserved: KVec<Reserved>,
    /// Allowed ranges, sorted and disjoint; empty means everything.
    allowed: KVVec<IovaRange>,
    /// Every area's IOVA, length and page offset are multiples of this.
    iova_alignment: u64,
    large_pages: bool,
    /// Attached in-kernel accesses that pin, which need whole pages.
    pinning_accesses: u32,
    /// The domains that follow this IOVA space. While there is one, every
    /// area holds one pin on its pages for all of them.
    domains: KVec<Arc<Domain>>,
    /// The smallest page size every domain can map.
    domain_align: u64,
    /// Room for the pages of one piece, while there are domains: unfilling
    /// reads back the pages it will unpin before it unmaps them, and must
    /// not fail. Allocated (and charged) with the first domain.
    scratch: KVVec<PinnedPage>,
}

/// The areas as a [`RangeSet`].
struct AreaRanges<'a>(&'a RBTree<u64, Area>);

impl RangeSet for AreaRanges<'_> {
    fn first_reaching(&self, pos: u64) -> Option<IovaRange> {
        let cursor = self.0.cursor_lower_bound(&pos)?;
        Some(cursor.current().1.range)
    }
}

impl IoPagetable {
    /// An empty IOVA space: nothing reserved, everything allowed.
    pub(crate) fn new() -> Self {
        Self {
            areas: RBTree::new(),
            reserved: KVec::new(),
            allowed: KVVec::new(),
            iova_alignment: 1,
            large_pages: true,
            pinning_accesses: 0,
            domains: KVec::new(),
            domain_align: 1,
            scratch: KVVec::new(),
        }
    }

    /// Where a fill of `area` into `domains` reads its pages back from.
    fn source(domains: &[Arc<Domain>], area: &Area) -> Option<FillSource> {
        Some(FillSource {
            domain: domains.first()?.clone(),
            iova_base: area.range.start.wrapping_sub(area.start_byte),
        })
    }

    /// Maps `area` into every domain a [`MAP_CHUNK`] of IOVA at a time,
    /// each piece pinned (once for all domains, and only the pages nothing
    /// holds yet) and mapped before the next is looked at, so that what a
    /// fill allocates is bounded by the piece, not by the area's length: a
    /// huge range that cannot be pinned fails at its first piece. On
    /// failure nothing of it is mapped, or pinned by this call.
    fn fill_area(
        domains: &[Arc<Domain>],
        area: &Area,
        small: bool,
        scratch: &mut KVVec<PinnedPage>,
    ) -> Result {
        let Some(src) = Self::source(domains, area) else {
            return Ok(());
        };
        let start = area.range.start;
        let mut at = start;
        loop {
            let last = piece_end(at, area.range.last, MAP_CHUNK);
            let res = area.pages.fill(
                area.fill,
                &src,
                area.byte_at(at),
                area.byte_at(last),
                scratch,
                |pages| Self::map_pages(domains, area, at, last, pages, small),
            );
            if let Err(e) = res {
                if at != start {
                    Self::unfill_range(domains, area, start, at - 1, scratch);
                }
                return Err(e);
            }
            if last == area.range.last {
                return Ok(());
            }
            at = last + 1;
        }
    }

    /// Maps `[start, last]` of `area`, backed by `pages`, into `domains`:
    /// on failure into none.
    fn map_pages(
        domains: &[Arc<Domain>],
        area: &Area,
        start: u64,
        last: u64,
        pages: PageRun<'_>,
        small: bool,
    ) -> Result {
        let offset = area.byte_at(start) % PAGE_SIZE;
        let len = last - start + 1;
        for (done, d) in domains.iter().enumerate() {
            if let Err(e) = d.map(start, pages, offset, len, area.iommu_prot(), small) {
                for d in domains.iter().take(done) {
                    d.unmap(start, len);
                }
                return Err(e);
            }
        }
        Ok(())
    }

    /// Maps `area`, whose pages the other domains' fill holds, into one
    /// more domain, a piece at a time. On failure nothing of it is mapped
    /// there.
    fn map_again(domain: &Domain, area: &Area, small: bool) -> Result {
        let start = area.range.start;
        let mut at = start;
        loop {
            let last = piece_end(at, area.range.last, MAP_CHUNK);
            let res = area
                .pages
                .fill_again(area.byte_at(at), area.byte_at(last), |pages| {
                    let offset = area.byte_at(at) % PAGE_SIZE;
                    let pages = PageRun::unknown(pages);
                    domain.map(at, pages, offset, last - at + 1, area.iommu_prot(), small)
                });
            if let Err(e) = res {
                if at != start {
                    Self::unmap_range(domain, start, at - 1);
                }
                return Err(e);
            }
            if last == area.range.last {
                return Ok(());
            }
            at = last + 1;
        }
    }

    /// Unmaps `[start, end]` from `domain` a [`FILL_CHUNK`] at a time,
    /// pieces of whole mappings.
    fn unmap_range(domain: &Domain, start: u64, end: u64) {
        let mut at = start;
        loop {
            let last = piece_end(at, end, FILL_CHUNK);
            domain.unmap(at, last - at + 1);
            if last == end {
                return;
            }
            at = last + 1;
        }
    }

    /// Unmaps `area` from `domain`, which is not its fill's source.
    fn unmap_area_from(domain: &Domain, area: &Area) {
        Self::unmap_range(domain, area.range.start, area.range.last);
    }

    /// Ends the fill of `[start, end]`, the lowest part of `area` still
    /// filled, a piece at a time: see [`Pages::unfill`].
    fn unfill_range(
        domains: &[Arc<Domain>],
        area: &Area,
        start: u64,
        end: u64,
        scratch: &mut KVVec<PinnedPage>,
    ) {
        let mut at = start;
        loop {
            let last = piece_end(at, end, FILL_CHUNK);
            area.pages.unfill(
                area.fill,
                area.byte_at(at),
                area.byte_at(last),
                scratch,
                || {
                    for d in domains {
                        d.unmap(at, last - at + 1);
                    }
                },
            );
            if last == end {
                return;
            }
            at = last + 1;
        }
    }

    /// Undoes [`Self::fill_area`].
    fn unfill_area(domains: &[Arc<Domain>], area: &Area, scratch: &mut KVVec<PinnedPage>) {
        if domains.is_empty() {
            return;
        }
        Self::unfill_range(domains, area, area.range.start, area.range.last, scratch);
    }

    /// Adds a domain: reserves what lies outside its aperture (`EADDRINUSE`
    /// if something is mapped there), raises the alignment to its smallest
    /// page, and maps every area into it. On failure nothing changes.
    pub(crate) fn add_domain(&mut self, domain: Arc<Domain>) -> Result {
        let geo = domain.geometry();
        if geo.pgsizes == 0 {
            return Err(EINVAL);
        }
        let align = 1u64 << geo.pgsizes.trailing_zeros();
        let new_align = self.iova_alignment.max(align);
        if self.misaligned(new_align) {
            return Err(EADDRINUSE);
        }
        let key = Arc::as_ptr(&domain) as usize;
        let by = ReservedBy::Domain(key);
        let mut res = Ok(());
        if geo.start != 0 {
            res = self.reserve(
                IovaRange {
                    start: 0,
                    last: geo.start - 1,
                },
                by,
            );
        }
        if res.is_ok() && geo.end != u64::MAX {
            res = self.reserve(
                IovaRange {
                    start: geo.end + 1,
                    last: u64::MAX,
                },
                by,
            );
        }
        res = res.and_then(|()| Ok(self.domains.reserve(1, GFP_KERNEL_ACCOUNT)?));
        if res.is_ok() && self.scratch.capacity() < SCRATCH {
            res = KVVec::with_capacity(SCRATCH, GFP_KERNEL_ACCOUNT)
                .map(|v| self.scratch = v)
                .map_err(Error::from);
        }
        if res.is_ok() {
            res = self.fill_domain(&domain);
        }
        if let Err(e) = res {
            self.reserved.retain(|r| r.by != by);
            if self.domains.is_empty() {
                self.scratch = KVVec::new();
            }
            return Err(e);
        }
        // Room was reserved above.
        let _ = self.domains.push_within_capacity(domain);
        self.domain_align = self.domain_align.max(align);
        // Only raises the alignment to what was checked above.
        let _ = self.update_alignment();
        Ok(())
    }

    /// Maps every area into `domain`; the first domain's fill pins the
    /// pages, the others' reads them back from it.
    fn fill_domain(&mut self, domain: &Arc<Domain>) -> Result {
        let first_domain = self.domains.is_empty();
        let small = !self.large_pages;
        let one = [domain.clone()];
        let mut done = 0usize;
        let mut res = Ok(());
        for area in self.areas.values() {
            res = if first_domain {
                Self::fill_area(&one, area, small, &mut self.scratch)
            } else {
                Self::map_again(domain, area, small)
            };
            if res.is_err() {
                break;
            }
            done += 1;
        }
        if res.is_err() {
            for area in self.areas.values().take(done) {
                if first_domain {
                    Self::unfill_area(&one, area, &mut self.scratch);
                } else {
                    Self::unmap_area_from(domain, area);
                }
            }
        }
        res
    }

    /// Removes `domain`, unmapping every area from it; the last domain lets
    /// the pages go, before it the fills read back through another domain.
    /// Nothing happens if it is not there.
    pub(crate) fn remove_domain(&mut self, domain: &Arc<Domain>) {
        let Some(pos) = self.domains.iter().position(|d| Arc::ptr_eq(d, domain)) else {
            return;
        };
        let Ok(d) = self.domains.remove(pos) else {
            return;
        };
        let next = self.domains.first();
        for area in self.areas.values() {
            match next {
                None => Self::unfill_area(core::slice::from_ref(&d), area, &mut self.scratch),
                Some(to) => {
                    let (lo, hi) = (
                        area.byte_at(area.range.start),
                        area.byte_at(area.range.last),
                    );
                    area.pages.switch_fill(area.fill, lo, hi, &d, to);
                    Self::unmap_area_from(&d, area);
                }
            }
        }
        if self.domains.is_empty() {
            self.scratch = KVVec::new();
        }
        let by = ReservedBy::Domain(Arc::as_ptr(&d) as usize);
        self.reserved.retain(|r| r.by != by);
        self.domain_align = self
            .domains
            .iter()
            .map(|d| 1u64 << d.geometry().pgsizes.trailing_zeros())
            .max()
            .unwrap_or(1);
        // Only lowers the alignment, which cannot fail.
        let _ = self.update_alignment();
    }

    /// The alignment every area must keep.
    pub(crate) fn iova_alignment(&self) -> u64 {
        self.iova_alignment
    }

    /// The free ranges userspace may map at: everything not reserved.
    pub(crate) fn free_ranges(&self) -> Result<KVec<IovaRange>> {
        let mut out = KVec::new();
        let mut res = Ok(());
        iova::for_each_free(&OverlappingRanges(&self.reserved), |r| {
            if res.is_ok() {
                res = out.push(r, GFP_KERNEL_ACCOUNT).map_err(Error::from);
            }
        });
        res.map(|()| out)
    }

    /// Replaces the allowed ranges; `ranges` is sorted and disjoint.
    /// `EADDRINUSE` if any is reserved.
    pub(crate) fn set_allowed(&mut self, ranges: KVVec<IovaRange>) -> Result {
        let reserved = OverlappingRanges(&self.reserved);
        if ranges.iter().any(|r| reserved.meets(*r)) {
            return Err(EADDRINUSE);
        }
        self.allowed = ranges;
        Ok(())
    }

    /// Reserves `range`: `EADDRINUSE` if it meets an area or an allowed range.
    pub(crate) fn reserve(&mut self, range: IovaRange, by: ReservedBy) -> Result {
        if SortedRanges(&self.allowed).meets(range) || AreaRanges(&self.areas).meets(range) {
            return Err(EADDRINUSE);
        }
        self.reserved
            .push(Reserved { range, by }, GFP_KERNEL_ACCOUNT)?;
        Ok(())
    }

    /// Reserves every range of `ranges` for `by`, which has none yet: on
    /// failure none is.
    pub(crate) fn reserve_all(&mut self, ranges: &[IovaRange], by: ReservedBy) -> Result {
        for r in ranges {
            if let Err(e) = self.reserve(*r, by) {
                self.unreserve(by);
                return Err(e);
            }
        }
        Ok(())
    }

    /// Drops every range reserved for `by`.
    pub(crate) fn unreserve(&mut self, by: ReservedBy) {
        self.reserved.retain(|r| r.by != by);
    }

    /// Finds an IOVA for `length` bytes backed at `addr`.
    fn alloc_iova(&self, addr: u64, length: u64) -> Result<u64> {
        Ok(iova::alloc_iova(
            Allowed {
                ranges: &SortedRanges(&self.allowed),
                any: !self.allowed.is_empty(),
            },
            &OverlappingRanges(&self.reserved),
            &AreaRanges(&self.areas),
            addr,
            length,
            self.iova_alignment,
        )?)
    }

    /// Checks a caller-chosen IOVA range as upstream's `iopt_check_iova`.
    fn check_fixed(&self, start: u64, length: u64) -> Result<IovaRange> {
        if start & (self.iova_alignment - 1) != 0 {
            return Err(EINVAL);
        }
        let range = IovaRange::from_len(start, length)?;
        if OverlappingRanges(&self.reserved).meets(range) {
            return Err(EINVAL);
        }
        if AreaRanges(&self.areas).meets(range) {
            return Err(EEXIST);
        }
        Ok(range)
    }

    /// Maps `slices` back to back, at `fixed` or at an allocated IOVA, and
    /// into every domain. Returns the first IOVA. On failure nothing is left
    /// mapped.
    pub(crate) fn map<I>(
        &mut self,
        slices: I,
        length: u64,
        fixed: Option<u64>,
        prot: u32,
    ) -> Result<u64>
    where
        I: IntoIterator<Item = PagesSlice>,
    {
        let mut slices = slices.into_iter().peekable();
        let align = self.iova_alignment;
        if length & (align - 1) != 0 || length == 0 {
            return Err(EINVAL);
        }
        let start = match fixed {
            Some(iova) => self.check_fixed(iova, length)?.start,
            None => {
                let first = slices.peek().ok_or(EINVAL)?;
                self.alloc_iova(first.pages.addr_of(first.start_byte), length)?
            }
        };

        // Check every piece and reserve its node, then fill the domains, and
        // only then insert: nothing inserted ever needs undoing. The first
        // piece (most maps have one) is kept apart, the others in a vector.
        let mut head = None;
        let mut areas = KVec::new();
        let more = slices.size_hint().0.saturating_sub(1);
        let mut iova = start;
        for slice in slices {
            if prot & IOMMU_WRITE != 0 && !slice.pages.writable() {
                return Err(EPERM);
            }
            if (slice.start_byte % PAGE_SIZE) & (align - 1) != 0 {
                return Err(EINVAL);
            }
            let range = IovaRange::from_len(iova, slice.length)?;
            let area = Area {
                range,
                pages: slice.pages,
                start_byte: slice.start_byte,
                prot,
                fill: new_fill_id(),
                access_pins: 0,
                prevent_access: false,
            };
            let node = RBTreeNodeReservation::new(GFP_KERNEL_ACCOUNT)?;
            if head.is_none() {
                head = Some((area, node));
            } else {
                if areas.is_empty() {
                    areas.reserve(more, GFP_KERNEL_ACCOUNT)?;
                }
                areas.push((area, node), GFP_KERNEL_ACCOUNT)?;
            }
            iova = range.last.wrapping_add(1);
        }
        let small = !self.large_pages;
        for (filled, (area, _)) in Iterator::chain(head.iter(), areas.iter()).enumerate() {
            if let Err(e) = Self::fill_area(&self.domains, area, small, &mut self.scratch) {
                for (done, _) in Iterator::chain(head.iter(), areas.iter()).take(filled) {
                    Self::unfill_area(&self.domains, done, &mut self.scratch);
                }
                return Err(e);
            }
        }
        for (area, node) in Iterator::chain(head.into_iter(), areas) {
            self.areas.insert(node.into_node(area.range.last, area));
        }
        Ok(start)
    }

    /// Unmaps the areas inside `range`, lowest first, adding the bytes
    /// removed to `unmapped`. `ENOENT` at the first area that sticks out of
    /// it; those before it stay unmapped, as upstream.
    pub(crate) fn unmap(
        &mut self,
        range: IovaRange,
        unmapped: &mut u64,
    ) -> core::result::Result<(), UnmapBlocked> {
        let mut pos = range.start;
        while let Some(area) = AreaRanges(&self.areas).first_reaching(pos) {
            if area.start > range.last {
                break;
            }
            if !range.contains(&area) {
                return Err(ENOENT.into());
            }
            if let Some(a) = self.areas.get_mut(&area.last) {
                if a.access_pins != 0 {
                    a.prevent_access = true;
                    return Err(UnmapBlocked::Accesses(area));
                }
            }
            if let Some(a) = self.areas.get(&area.last) {
                Self::unfill_area(&self.domains, a, &mut self.scratch);
            }
            // Dropping the area drops its reference on the pages.
            drop(self.areas.remove(&area.last));
            *unmapped = unmapped.saturating_add(area.len().unwrap_or(u64::MAX));
            if area.last >= range.last {
                break;
            }
            pos = area.last + 1;
        }
        Ok(())
    }

    /// Pins the pages mapped at `range` for an in-kernel access, which
    /// contiguous areas must cover (`ENOENT`), writable ones if `write`
    /// (`EPERM`). Returns the pins, to give back with [`Self::access_unpin`],
    /// and the pinned pages in order.
    pub(crate) fn access_pin(
        &mut self,
        range: IovaRange,
        write: bool,
    ) -> Result<(KVec<AccessPin>, KVVec<PinnedPage>)> {
        let mut pins = KVec::new();
        let mut pages = KVVec::new();
        let res = self.access_pin_into(range, write, &mut pins, &mut pages);
        if let Err(e) = res {
            self.access_unpin(&pins);
            return Err(e);
        }
        Ok((pins, pages))
    }

    fn access_pin_into(
        &mut self,
        range: IovaRange,
        write: bool,
        pins: &mut KVec<AccessPin>,
        out: &mut KVVec<PinnedPage>,
    ) -> Result {
        self.for_each_contig(range, |key, area, first, last| {
            area.check_access(write)?;
            // Each piece must start on a page, and all but the last end on
            // one, as upstream.
            if area.byte_at(first) % PAGE_SIZE != 0
                || (last != range.last
                    && area.byte_at(area.range.last) % PAGE_SIZE != PAGE_SIZE - 1)
            {
                return Err(EINVAL);
            }
            let (first_page, last_page) = area.page_span(first, last);
            pins.reserve(1, GFP_KERNEL_ACCOUNT)?;
            let got = area.pages.pin(first_page, last_page)?;
            area.access_pins += 1;
            let pin = AccessPin {
                area: key,
                pages: area.pages.clone(),
                first: first_page,
                last: last_page,
            };
            // Room was reserved above.
            pins.push_within_capacity(pin).map_err(|_| ENOMEM)?;
            out.reserve(got.len(), GFP_KERNEL_ACCOUNT)?;
            for page in got.iter() {
                out.push_within_capacity(*page).map_err(|_| ENOMEM)?;
            }
            Ok(())
        })
    }

    /// Reads or writes the memory mapped at `range`, which contiguous areas
    /// must cover (`ENOENT`) with the right permission (`EPERM`), through
    /// `data`; see [`Pages::rw`].
    pub(crate) fn access_rw(
        &mut self,
        range: IovaRange,
        data: &mut [u8],
        write: bool,
        slow: bool,
    ) -> Result {
        let mut done = 0usize;
        self.for_each_contig(range, |_, area, first, last| {
            area.check_access(write)?;
            let n = usize::try_from(last - first + 1).map_err(|_| EINVAL)?;
            let chunk = data.get_mut(done..done + n).ok_or(EINVAL)?;
            area.pages.rw(area.byte_at(first), chunk, write, slow)?;
            done += n;
            Ok(())
        })
    }

    /// Gives back pins taken by [`Self::access_pin`].
    pub(crate) fn access_unpin(&mut self, pins: &[AccessPin]) {
        for pin in pins {
            if let Some(area) = self.areas.get_mut(&pin.area) {
                area.access_pins = area.access_pins.saturating_sub(1);
            }
            pin.pages.unpin(pin.first, pin.last);
        }
    }

    /// The pieces of memory mapped at `range`, which contiguous areas must
    /// cover completely (`ENOENT` otherwise), for `IOMMU_IOAS_COPY`.
    pub(crate) fn slices(&mut self, range: IovaRange) -> Result<KVec<PagesSlice>> {
        let mut out = KVec::new();
        self.for_each_contig(range, |_, area, first, last| {
            out.push(
                PagesSlice {
                    pages: area.pages.clone(),
                    start_byte: area.byte_at(first),
                    length: last - first + 1,
                },
                GFP_KERNEL_ACCOUNT,
            )?;
            Ok(())
        })?;
        Ok(out)
    }

    /// Calls `f` with each area covering `range`, lowest first, its key and
    /// the part `first..=last` of `range` it covers. The areas must follow
    /// each other without a gap and cover all of `range`, else `ENOENT`, as
    /// upstream's contiguous-area walk.
    fn for_each_contig(
        &mut self,
        range: IovaRange,
        mut f: impl FnMut(u64, &mut Area, u64, u64) -> Result,
    ) -> Result {
        let mut pos = range.start;
        loop {
            let mut cursor = self.areas.cursor_lower_bound_mut(&pos).ok_or(ENOENT)?;
            let (key, area) = cursor.current_mut();
            if area.range.start > pos {
                return Err(ENOENT);
            }
            let last = area.range.last.min(range.last);
            f(*key, area, pos, last)?;
            if last == range.last {
                return Ok(());
            }
            pos = last + 1;
        }
    }

    /// Splits the area holding `iova` so that one ends at `iova`, for a VFIO
    /// type1 unmap of part of a mapping; nothing to do at an area's edge or
    /// outside areas. The cut must keep the IOAS alignment and fall between
    /// pages (`EINVAL`), and no access may pin the area (`EINVAL`) or be
    /// waited for (`EBUSY`). Only with huge pages off, so that the domains
    /// hold page-sized mappings that split with it.
    pub(crate) fn cut(&mut self, iova: u64) -> Result {
        let Some(cursor) = self.areas.cursor_lower_bound(&iova) else {
            return Ok(());
        };
        let (&key, area) = cursor.current();
        if area.range.start > iova || iova == area.range.last || self.large_pages {
            return Ok(());
        }
        if area.prevent_access {
            return Err(EBUSY);
        }
        let new_start = iova + 1;
        let align = self.iova_alignment;
        if new_start & (align - 1) != 0
            || area.byte_at(new_start) & (align - 1) != 0
            || area.byte_at(new_start) % PAGE_SIZE != 0
        {
            return Err(EINVAL);
        }
        if area.access_pins != 0 {
            return Err(EINVAL);
        }
        let lower = new_fill_id();
        let lhs = Area {
            range: IovaRange {
                start: area.range.start,
                last: iova,
            },
            pages: area.pages.clone(),
            start_byte: area.start_byte,
            prot: area.prot,
            fill: lower,
            access_pins: 0,
            prevent_access: false,
        };
        let node = RBTreeNode::new(iova, lhs, GFP_KERNEL_ACCOUNT)?;
        // The fill of the lower part becomes the new area's.
        if !self.domains.is_empty() {
            area.pages
                .split_fill(area.fill, lower, area.byte_at(new_start))?;
        }
        if let Some(rhs) = self.areas.get_mut(&key) {
            rhs.start_byte = rhs.byte_at(new_start);
            rhs.range.start = new_start;
        }
        self.areas.insert(node);
        Ok(())
    }

    /// Whether every domain enforces cache coherent DMA (so, with none).
    pub(crate) fn domains_enforce_cc(&self) -> bool {
        self.domains.iter().all(|d| d.enforces_cc())
    }

    /// The page sizes every domain can map (all bits when there is none).
    pub(crate) fn domain_pgsizes(&self) -> u64 {
        self.domains
            .iter()
            .fold(u64::MAX, |acc, d| acc & d.geometry().pgsizes)
    }

    /// Calls `f` with the `Pages` of each area, lowest first.
    pub(crate) fn for_each_pages(&self, mut f: impl FnMut(&Arc<Pages>) -> Result) -> Result {
        self.areas.values().try_for_each(|a| f(&a.pages))
    }

    /// The IOVA ranges of the areas, lowest first.
    pub(crate) fn area_ranges(&self) -> impl Iterator<Item = IovaRange> + '_ {
        self.areas.values().map(|a| a.range)
    }

    /// Whether huge pages may be used (`IOMMU_OPTION_HUGE_PAGES`).
    pub(crate) fn large_pages(&self) -> bool {
        self.large_pages
    }

    /// Allows or forbids huge pages. Forbidding them makes the IOAS page
    /// granular, which every area must already be (`EADDRINUSE`), and is
    /// refused (`EINVAL`) once domains have pages mapped, which may already
    /// sit in huge pages there.
    pub(crate) fn set_large_pages(&mut self, enable: bool) -> Result {
        if !enable && self.large_pages && !self.domains.is_empty() && !self.areas.is_empty() {
            return Err(EINVAL);
        }
        let old = self.large_pages;
        self.large_pages = enable;
        let res = self.update_alignment();
        if res.is_err() {
            self.large_pages = old;
        }
        res
    }

    /// Counts one more attached access that pins.
    pub(crate) fn add_pinning_access(&mut self) -> Result {
        self.pinning_accesses += 1;
        let res = self.update_alignment();
        if res.is_err() {
            self.pinning_accesses -= 1;
        }
        res
    }

    /// Counts one attached access that pins less.
    pub(crate) fn remove_pinning_access(&mut self) {
        self.pinning_accesses = self.pinning_accesses.saturating_sub(1);
        // Only ever lowers the alignment, which cannot fail.
        let _ = self.update_alignment();
    }

    /// Whether some area breaks alignment `align`.
    fn misaligned(&self, align: u64) -> bool {
        self.areas.values().any(|a| {
            a.range.start & (align - 1) != 0
                || a.range.len().unwrap_or(0) & (align - 1) != 0
                || (a.start_byte % PAGE_SIZE) & (align - 1) != 0
        })
    }

    /// Recomputes the alignment areas need: a page once huge pages are off
    /// or an access pins, else a byte. Raising it is `EADDRINUSE` unless
    /// every area already satisfies it; on error nothing changes.
    fn update_alignment(&mut self) -> Result {
        let align = if !self.large_pages || self.pinning_accesses != 0 {
            PAGE_SIZE
        } else {
            1
        };
        let align = align.max(self.domain_align);
        if align > self.iova_alignment && self.misaligned(align) {
            return Err(EADDRINUSE);
        }
        self.iova_alignment = align;
        Ok(())
    }
}
