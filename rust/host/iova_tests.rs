// SPDX-License-Identifier: GPL-2.0

//! Unit tests of `iova.rs`, with the placements upstream's selftests expect.

use crate::iova::*;

const P: u64 = PAGE_SIZE;

fn r(start: u64, last: u64) -> IovaRange {
    IovaRange { start, last }
}

fn alloc(
    allowed: &[IovaRange],
    reserved: &[IovaRange],
    mapped: &[IovaRange],
    addr: u64,
    len: u64,
    align: u64,
) -> Result<u64, IovaError> {
    alloc_iova(
        Allowed {
            ranges: &SortedRanges(allowed),
            any: !allowed.is_empty(),
        },
        &OverlappingRanges(reserved),
        &SortedRanges(mapped),
        addr,
        len,
        align,
    )
}

#[test]
fn from_len_rules() {
    assert_eq!(Err(IovaError::Invalid), IovaRange::from_len(5, 0));
    assert_eq!(Ok(r(5, 5)), IovaRange::from_len(5, 1));
    assert_eq!(Ok(r(0, u64::MAX - 1)), IovaRange::from_len(0, u64::MAX));
    assert_eq!(Err(IovaError::Overflow), IovaRange::from_len(2, u64::MAX));
    assert_eq!(Some(1), r(7, 7).len());
    assert_eq!(None, r(0, u64::MAX).len());
}

#[test]
fn first_fit_from_second_page() {
    // Nothing mapped: the first page is never used.
    assert_eq!(Ok(P), alloc(&[], &[], &[], 1 << 30, P, 1));
    // A mapped page pushes the next allocation past it.
    assert_eq!(
        Ok(2 * P),
        alloc(&[], &[], &[r(P, 2 * P - 1)], 1 << 30, P, 1)
    );
    // A hole too small is skipped.
    let mapped = [r(P, 2 * P - 1), r(3 * P, 4 * P - 1)];
    assert_eq!(Ok(4 * P), alloc(&[], &[], &mapped, 1 << 30, 2 * P, 1));
}

#[test]
fn alignment_follows_length_and_address() {
    // As area_auto_iova: VA 1 << 31, (i + 1) pages, aligned to the lowest
    // set bit of the length rounded up.
    for i in 0..64u64 {
        let len = (i + 1) * P;
        let iova = alloc(&[], &[], &[], 1 << 31, len, 1).unwrap();
        assert_eq!(0, iova % len.next_power_of_two().min(HUGE_PAGE_SIZE));
    }
    // The address's own alignment caps it.
    let iova = alloc(&[], &[], &[r(P, 0x10_0000)], 0x3000, 16 * P, 1).unwrap();
    assert_eq!(0, iova % 0x1000);
    assert_ne!(0, (iova - 0x10_1000) % (16 * P) + 1);
    // Never more than a huge page.
    let iova = alloc(&[], &[], &[], 0, 1 << 40, 1).unwrap();
    assert_eq!(HUGE_PAGE_SIZE, iova);
}

#[test]
fn sub_page_offset_is_kept() {
    for off in [1u64, 0x10, 0x800, 0xfff] {
        let addr = 0x7f00_0000_0000 + off;
        for len in [1u64, 7, P - off, P, 3 * P + 1] {
            let iova = alloc(&[], &[], &[], addr, len, 1).unwrap();
            assert_eq!(off, iova % P, "off {off} len {len}");
            assert_ne!(0, iova);
        }
    }
}

#[test]
fn every_length_up_to_two_pages() {
    // As ioas_iova_alloc: with alignment 1 every length maps.
    for len in 1..2 * P {
        assert!(alloc(&[], &[], &[], 0x10_0000, len, 1).is_ok(), "len {len}");
    }
}

#[test]
fn length_limits() {
    assert_eq!(Err(IovaError::Overflow), alloc(&[], &[], &[], 0, 0, 1));
    assert_eq!(
        Err(IovaError::Overflow),
        alloc(&[], &[], &[], 0, u64::MAX / 2, 1)
    );
    // Just below the limit it still fits, huge-page aligned.
    assert_eq!(
        Ok(HUGE_PAGE_SIZE),
        alloc(&[], &[], &[], 0, u64::MAX / 2 - 1, 1)
    );
}

#[test]
fn alignment_below_table_alignment_is_invalid() {
    // A byte-aligned address cannot map once the IOAS needs whole pages.
    assert_eq!(Err(IovaError::Invalid), alloc(&[], &[], &[], 0x1001, P, P));
    assert_eq!(Err(IovaError::Invalid), alloc(&[], &[], &[], 0, 16, P));
    assert_eq!(Ok(P), alloc(&[], &[], &[], 0x2000, P, P));
}

#[test]
fn reserved_overflow_is_enospc() {
    // As reserved_overflow: a reservation that leaves nothing usable.
    let reserved = [r(6, 6 + 0xffff_ffff_ffff_8001 - 1)];
    assert_eq!(
        Err(IovaError::NoSpace),
        alloc(&[], &reserved, &[], 0x10_0000, 0x5000, 1)
    );
}

#[test]
fn reserved_ranges_are_avoided() {
    let reserved = [r(4 * P, 104 * P - 1)];
    for len in [P, 2 * P, 5 * P] {
        let iova = alloc(&[], &reserved, &[], 1 << 31, len, 1).unwrap();
        let got = IovaRange::from_len(iova, len).unwrap();
        assert!(!SortedRanges(&reserved).meets(got));
    }
    // Overlapping reservations from several owners are fine.
    let reserved = [r(P, 10 * P), r(2 * P, 3 * P), r(5 * P, 20 * P - 1)];
    assert_eq!(Ok(20 * P), alloc(&[], &reserved, &[], 1 << 31, P, 1));
}

#[test]
fn allowed_ranges_bound_the_choice() {
    let allowed = [r(200 * P, 600 * P - 1)];
    for i in 0..20u64 {
        let len = (i + 1) * P;
        let iova = alloc(&allowed, &[], &[], 1 << 31, len, 1).unwrap();
        assert!(allowed[0].contains(&IovaRange::from_len(iova, len).unwrap()));
    }
    // Too big for the only allowed range.
    assert_eq!(
        Err(IovaError::NoSpace),
        alloc(&allowed, &[], &[], 1 << 31, 401 * P, 1)
    );
    // The second allowed range is used when the first is full.
    let allowed = [r(P, 2 * P - 1), r(64 * P, 128 * P - 1)];
    let mapped = [r(P, 2 * P - 1)];
    assert_eq!(Ok(64 * P), alloc(&allowed, &[], &mapped, 1 << 31, P, 1));
}

#[test]
fn free_ranges_are_the_complement() {
    let mut got = Vec::new();
    for_each_free(&OverlappingRanges::<IovaRange>(&[]), |h| got.push(h));
    assert_eq!(vec![r(0, u64::MAX)], got);

    let mut got = Vec::new();
    for_each_free(&OverlappingRanges(&[r(P, 2 * P - 1)]), |h| got.push(h));
    assert_eq!(vec![r(0, P - 1), r(2 * P, u64::MAX)], got);

    let mut got = Vec::new();
    let used = [r(0, 9), r(5, 20), r(21, 30), r(100, u64::MAX)];
    for_each_free(&OverlappingRanges(&used), |h| got.push(h));
    assert_eq!(vec![r(31, 99)], got);
}
