// SPDX-License-Identifier: GPL-2.0

//! IOAS mappings without a domain.

use std::ffi::{c_char, c_int, c_uint};

use crate::dev::Iommufd;
use crate::uapi::*;
use crate::{check_eq, Failure, TestResult};

const ENOENT: i32 = 2;
const EINVAL: i32 = 22;
const EEXIST: i32 = 17;
const EOVERFLOW: i32 = 75;
const EMSGSIZE: i32 = 90;

const P: u64 = 4096;
const RW: u32 = IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE;
const FIXED: u32 = RW | IOMMU_IOAS_MAP_FIXED_IOVA;

extern "C" {
    fn memfd_create(name: *const c_char, flags: c_uint) -> c_int;
    fn ftruncate(fd: c_int, len: i64) -> c_int;
    fn close(fd: c_int) -> c_int;
}

type Test = (&'static str, fn() -> TestResult);

pub fn all() -> Vec<Test> {
    vec![
        ("ioas_map_unmap_roundtrip", map_unmap_roundtrip),
        ("ioas_copy_between_ioas", copy_between_ioas),
        ("ioas_map_file_memfd", map_file_memfd),
        ("ioas_iova_ranges_emsgsize", iova_ranges_emsgsize),
        ("ioas_many_areas", many_areas),
    ]
}

fn setup() -> Result<(Iommufd, u32, Vec<u8>), Failure> {
    let fd = Iommufd::open().map_err(|e| Failure(format!("open: {e}")))?;
    let ioas = fd
        .ioas_alloc()
        .map_err(|e| Failure(format!("alloc: {e}")))?;
    Ok((fd, ioas, vec![0u8; 16 * P as usize]))
}

fn map_unmap_roundtrip() -> TestResult {
    let (fd, ioas, buf) = setup()?;
    let va = buf.as_ptr() as u64;
    let iova = fd.map(ioas, va, 2 * P, 0, RW);
    let iova = iova.map_err(|e| Failure(format!("map: {e}")))?;
    check_eq!(true, iova >= P);
    check_eq!(Err(EEXIST), fd.map(ioas, va, P, iova + P, FIXED));
    check_eq!(Err(ENOENT), fd.unmap(ioas, iova, P));
    check_eq!(Err(EINVAL), fd.unmap(ioas, iova, 0));
    check_eq!(Err(EOVERFLOW), fd.unmap(ioas, u64::MAX, 1));
    check_eq!(Ok(2 * P), fd.unmap(ioas, iova, 2 * P));
    check_eq!(Err(ENOENT), fd.unmap(ioas, iova, 2 * P));
    check_eq!(Ok(0), fd.unmap(ioas, 0, u64::MAX));
    Ok(())
}

fn copy_between_ioas() -> TestResult {
    let (fd, src, buf) = setup()?;
    let dst = fd
        .ioas_alloc()
        .map_err(|e| Failure(format!("alloc: {e}")))?;
    let va = buf.as_ptr() as u64;
    check_eq!(Ok(16 * P), fd.map(src, va, 8 * P, 16 * P, FIXED));
    // Any window of the area, to a fixed or allocated IOVA.
    check_eq!(Ok(64 * P), fd.copy(dst, src, 18 * P, 2 * P, 64 * P, FIXED));
    let at = fd.copy(dst, src, 17 * P, P, 0, RW);
    let at = at.map_err(|e| Failure(format!("copy: {e}")))?;
    check_eq!(Err(ENOENT), fd.copy(dst, src, 23 * P, 2 * P, 0, RW));
    check_eq!(Err(ENOENT), fd.copy(dst, dst + 100, 16 * P, P, 0, RW));
    // The source can go; the copies keep their own areas.
    check_eq!(Ok(8 * P), fd.unmap(src, 0, u64::MAX));
    check_eq!(Ok(P), fd.unmap(dst, at, P));
    check_eq!(Ok(2 * P), fd.unmap(dst, 0, u64::MAX));
    Ok(())
}

fn map_file_memfd() -> TestResult {
    let (fd, ioas, _buf) = setup()?;
    // SAFETY: A valid NUL-terminated name.
    let mfd = unsafe { memfd_create(c"iommufd-rs-test".as_ptr(), 0) };
    check_eq!(true, mfd >= 0);
    // SAFETY: `mfd` is our open memfd.
    check_eq!(0, unsafe { ftruncate(mfd, (4 * P) as i64) });
    let mut cmd = iommu_ioas_map_file {
        size: size32::<iommu_ioas_map_file>(),
        flags: FIXED,
        ioas_id: ioas,
        fd: mfd,
        start: P,
        length: 2 * P,
        iova: 32 * P,
    };
    check_eq!(0, fd.ioctl(IOMMU_IOAS_MAP_FILE, &mut cmd));
    check_eq!(32 * P, cmd.iova);
    // SAFETY: `mfd` is ours to close.
    unsafe { close(mfd) };
    // The area outlives the fd.
    check_eq!(Ok(2 * P), fd.unmap(ioas, 32 * P, 2 * P));
    Ok(())
}

/// The first and last IOVA of a range.
fn span(range: &iommu_iova_range) -> (u64, u64) {
    (range.start, range.last)
}

fn iova_ranges_emsgsize() -> TestResult {
    let (fd, ioas, _buf) = setup()?;
    let mut ranges = [iommu_iova_range::default(); 2];
    let mut cmd = iommu_ioas_iova_ranges {
        size: size32::<iommu_ioas_iova_ranges>(),
        ioas_id: ioas,
        num_iovas: 0,
        allowed_iovas: ranges.as_mut_ptr() as u64,
        ..Default::default()
    };
    check_eq!(EMSGSIZE, fd.ioctl(IOMMU_IOAS_IOVA_RANGES, &mut cmd));
    check_eq!(1, cmd.num_iovas);
    check_eq!((0, 0), span(&ranges[0]));
    cmd.num_iovas = 2;
    check_eq!(0, fd.ioctl(IOMMU_IOAS_IOVA_RANGES, &mut cmd));
    check_eq!(1, cmd.num_iovas);
    check_eq!((0, u64::MAX), span(&ranges[0]));
    check_eq!(1, cmd.out_iova_alignment);
    Ok(())
}

fn many_areas() -> TestResult {
    let (fd, ioas, buf) = setup()?;
    let va = buf.as_ptr() as u64;
    let mut iovas = Vec::new();
    for _ in 0..2000 {
        iovas.push(
            fd.map(ioas, va, P, 0, RW)
                .map_err(|e| Failure(format!("map: {e}")))?,
        );
    }
    let mut sorted = iovas.clone();
    sorted.sort_unstable();
    sorted.dedup();
    check_eq!(2000, sorted.len());
    for iova in iovas.iter().step_by(2) {
        check_eq!(Ok(P), fd.unmap(ioas, *iova, P));
    }
    check_eq!(Ok(1000 * P), fd.unmap(ioas, 0, u64::MAX));
    Ok(())
}
