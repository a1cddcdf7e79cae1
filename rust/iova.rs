// SPDX-License-Identifier: GPL-2.0

//! IOVA range arithmetic and automatic IOVA allocation.
//!
//! Nothing here depends on the kernel crate: the same file is built into the
//! module and into a host crate (`rust/host`) whose `cargo test` exercises it.
//! Callers map [`IovaError`] to the errno upstream returns.

#![deny(unsafe_code)]

/// The size of a CPU page, which is also the unit of pinning.
pub(crate) const PAGE_SIZE: u64 = 4096;

/// The largest alignment automatic allocation asks for: the PMD-sized huge
/// page of x86-64 with transparent huge pages.
pub(crate) const HUGE_PAGE_SIZE: u64 = 2 << 20;

/// An inclusive range of IOVAs, `start..=last`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct IovaRange {
    /// The first IOVA of the range.
    pub(crate) start: u64,
    /// The last IOVA of the range, inclusive.
    pub(crate) last: u64,
}

/// Why an IOVA computation failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum IovaError {
    /// Arithmetic on user values would wrap (`EOVERFLOW`).
    Overflow,
    /// A length, alignment or ordering rule is broken (`EINVAL`).
    Invalid,
    /// No free IOVA range fits (`ENOSPC`).
    NoSpace,
}

impl IovaRange {
    /// The range of `length` bytes from `start`: `Invalid` for an empty
    /// range, `Overflow` if it would wrap.
    pub(crate) fn from_len(start: u64, length: u64) -> Result<Self, IovaError> {
        let extra = length.checked_sub(1).ok_or(IovaError::Invalid)?;
        let last = start.checked_add(extra).ok_or(IovaError::Overflow)?;
        Ok(Self { start, last })
    }

    /// The number of bytes in the range, or `None` for the full 2^64.
    pub(crate) fn len(&self) -> Option<u64> {
        (self.last - self.start).checked_add(1)
    }

    /// Whether `other` lies entirely inside this range.
    pub(crate) fn contains(&self, other: &IovaRange) -> bool {
        self.start <= other.start && other.last <= self.last
    }
}

/// A set of IOVA ranges that can be asked for the first range reaching `pos`.
pub(crate) trait RangeSet {
    /// Returns the range with the lowest start among those whose `last` is at
    /// or above `pos`, if any.
    fn first_reaching(&self, pos: u64) -> Option<IovaRange>;

    /// Whether any range of the set shares an IOVA with `r`.
    fn meets(&self, r: IovaRange) -> bool {
        self.first_reaching(r.start)
            .is_some_and(|x| x.start <= r.last)
    }
}

/// Returns the earlier-starting of two optional ranges.
fn earliest(a: Option<IovaRange>, b: Option<IovaRange>) -> Option<IovaRange> {
    match (a, b) {
        (Some(a), Some(b)) => Some(if b.start < a.start { b } else { a }),
        (a, None) => a,
        (None, b) => b,
    }
}

/// Calls `f` on each maximal hole of `within` that no range of `a` or `b`
/// covers, lowest first, until `f` returns `Some`.
pub(crate) fn find_hole<T>(
    within: IovaRange,
    a: &dyn RangeSet,
    b: &dyn RangeSet,
    mut f: impl FnMut(IovaRange) -> Option<T>,
) -> Option<T> {
    let mut pos = within.start;
    loop {
        let next = earliest(a.first_reaching(pos), b.first_reaching(pos));
        match next {
            Some(used) if used.start <= within.last => {
                if used.start > pos {
                    let hole = IovaRange {
                        start: pos,
                        last: used.start - 1,
                    };
                    if let Some(found) = f(hole) {
                        return Some(found);
                    }
                }
                // Past this used range; it may extend beyond `within`.
                if used.last >= within.last {
                    return None;
                }
                pos = pos.max(used.last + 1);
            }
            _ => {
                return f(IovaRange {
                    start: pos,
                    last: within.last,
                });
            }
        }
    }
}

/// Rounds `v` up to a power of two; `v` must be below 2^63.
fn roundup_pow_of_two(v: u64) -> u64 {
    v.next_power_of_two()
}

/// The placement rule of automatic allocation: aligns `start` up to `align`,
/// keeps the sub-page offset of the backing address, and checks that `length`
/// bytes from there still end at or before `last`.
fn fit(start: u64, last: u64, length: u64, align: u64, page_offset: u64) -> Option<u64> {
    let aligned = start.checked_add(align - 1)? & !(align - 1);
    let aligned = aligned | page_offset;
    if aligned >= last || last - aligned < length - 1 {
        return None;
    }
    Some(aligned)
}

/// The ranges userspace allowed with `IOMMU_IOAS_ALLOW_IOVAS`; when none are
/// set every IOVA is allowed.
pub(crate) struct Allowed<'a> {
    /// The allowed ranges, sorted and not overlapping.
    pub(crate) ranges: &'a dyn RangeSet,
    /// Whether any range was set.
    pub(crate) any: bool,
}

/// Picks an IOVA for `length` bytes backed at `addr` (a user VA or a file
/// offset), avoiding `reserved` and `mapped`.
///
/// The IOVA is aligned to the lower of the length's power of two and the
/// alignment `addr` already has, at most a huge page, and keeps `addr`'s
/// offset in its page. The lowest fitting hole inside the allowed ranges wins;
/// the first and last page of the space and IOVA 0 are never returned.
/// `Invalid` if the computed alignment is below `iova_alignment`.
pub(crate) fn alloc_iova(
    allowed: Allowed<'_>,
    reserved: &dyn RangeSet,
    mapped: &dyn RangeSet,
    addr: u64,
    length: u64,
    iova_alignment: u64,
) -> Result<u64, IovaError> {
    let page_offset = addr % PAGE_SIZE;
    if length == 0 || length >= u64::MAX / 2 {
        return Err(IovaError::Overflow);
    }
    let mut align = roundup_pow_of_two(length);
    if addr != 0 {
        align = align.min(1u64 << addr.trailing_zeros());
    }
    align = align.min(HUGE_PAGE_SIZE);
    if align < iova_alignment {
        return Err(IovaError::Invalid);
    }

    let window = IovaRange {
        start: PAGE_SIZE,
        last: u64::MAX - PAGE_SIZE,
    };
    let mut pos = window.start;
    while pos <= window.last {
        // The next allowed span, or the whole window when nothing is set.
        let span = if allowed.any {
            match allowed.ranges.first_reaching(pos) {
                Some(r) if r.start <= window.last => IovaRange {
                    start: r.start.max(pos),
                    last: r.last.min(window.last),
                },
                _ => break,
            }
        } else {
            window
        };
        if let Some(start) = fit(span.start, span.last, length, align, page_offset) {
            let within = IovaRange {
                start,
                last: span.last,
            };
            let found = find_hole(within, reserved, mapped, |hole| {
                fit(hole.start, hole.last, length, align, page_offset)
            });
            if let Some(iova) = found {
                return Ok(iova);
            }
        }
        if !allowed.any || span.last >= window.last {
            break;
        }
        pos = span.last + 1;
    }
    Err(IovaError::NoSpace)
}

/// Calls `f` on each hole between the ranges of `used` over the whole 64-bit
/// space, lowest first, as `IOMMU_IOAS_IOVA_RANGES` reports them.
pub(crate) fn for_each_free(used: &dyn RangeSet, mut f: impl FnMut(IovaRange)) {
    let all = IovaRange {
        start: 0,
        last: u64::MAX,
    };
    let none = NoRanges;
    find_hole(all, used, &none, |hole| {
        f(hole);
        None::<()>
    });
}

/// The empty set.
pub(crate) struct NoRanges;

impl RangeSet for NoRanges {
    fn first_reaching(&self, _pos: u64) -> Option<IovaRange> {
        None
    }
}

/// Something that covers an IOVA range.
pub(crate) trait Ranged {
    /// The range covered.
    fn range(&self) -> IovaRange;
}

impl Ranged for IovaRange {
    fn range(&self) -> IovaRange {
        *self
    }
}

/// A set kept as a slice whose ranges may overlap. Lookups are linear: for
/// short lists such as reserved regions.
pub(crate) struct OverlappingRanges<'a, T>(pub(crate) &'a [T]);

impl<T: Ranged> RangeSet for OverlappingRanges<'_, T> {
    fn first_reaching(&self, pos: u64) -> Option<IovaRange> {
        self.0
            .iter()
            .map(Ranged::range)
            .filter(|r| r.last >= pos)
            .min_by_key(|r| r.start)
    }
}

/// A set kept as a slice sorted by start whose ranges do not overlap, so
/// that their ends are sorted too. Lookups are binary searches.
pub(crate) struct SortedRanges<'a>(pub(crate) &'a [IovaRange]);

impl RangeSet for SortedRanges<'_> {
    fn first_reaching(&self, pos: u64) -> Option<IovaRange> {
        let i = self.0.partition_point(|r| r.last < pos);
        self.0.get(i).copied()
    }
}
