// SPDX-License-Identifier: GPL-2.0

//! VFIO type1 compatibility: the VFIO container ioctls
//! (`VFIO_GET_API_VERSION`, `VFIO_CHECK_EXTENSION`, `VFIO_SET_IOMMU`,
//! `VFIO_IOMMU_GET_INFO`, `VFIO_IOMMU_MAP_DMA`, `VFIO_IOMMU_UNMAP_DMA`) on
//! `/dev/iommu`, acting on the IOAS chosen with `IOMMU_VFIO_IOAS`, as
//! upstream's `vfio_compat.c` offers them to a VMM written for type1.
//!
//! The choice names an object by id and serial, so that it neither keeps a
//! destroyed IOAS alive nor follows its id to a new object: once the IOAS is
//! destroyed, the compat ioctls are `ENODEV`, as upstream.

#![deny(unsafe_code)]

use core::mem::{
    offset_of,
    size_of, //
};
use kernel::{
    prelude::*,
    transmute::{
        AsBytes,
        FromBytes, //
    },
    uaccess::{
        UserPtr,
        UserSlice, //
    },
};

use crate::{
    ictx::Ictx,
    io_pagetable::{
        IOMMU_READ,
        IOMMU_WRITE, //
    },
    ioas::{
        self,
        Ioas, //
    },
    iova::{
        IovaRange,
        PAGE_SIZE, //
    },
    object::{
        ObjRef,
        WeakObj, //
    },
    pages::Source,
    uapi::*,
    ucmd::UserCmdBuf, //
};

/// `VFIO_GET_API_VERSION`.
const VFIO_GET_API_VERSION: u32 = vfio_ioctl_nr(0);
/// `VFIO_CHECK_EXTENSION`.
const VFIO_CHECK_EXTENSION: u32 = vfio_ioctl_nr(1);
/// `VFIO_SET_IOMMU`.
const VFIO_SET_IOMMU: u32 = vfio_ioctl_nr(2);
/// `VFIO_IOMMU_GET_INFO`.
const VFIO_IOMMU_GET_INFO: u32 = vfio_ioctl_nr(12);
/// `VFIO_IOMMU_MAP_DMA`.
const VFIO_IOMMU_MAP_DMA: u32 = vfio_ioctl_nr(13);
/// `VFIO_IOMMU_UNMAP_DMA`.
const VFIO_IOMMU_UNMAP_DMA: u32 = vfio_ioctl_nr(14);

/// The IOAS the compat ioctls act on: `ENODEV` if none is set or it is gone.
pub(crate) fn compat_ioas(ictx: &Ictx) -> Result<ObjRef<Ioas>> {
    let chosen = (*ictx.vfio_ioas.lock()).ok_or(ENODEV)?;
    chosen.get(&ictx.objects).map_err(|_| ENODEV)
}

/// Reads the first `minsz` bytes of a VFIO struct `T` at `arg` (the rest
/// stays zero): `EINVAL` if its `argsz`, the first `u32`, is below `minsz`.
fn read_vfio<T: FromBytes + AsBytes + Default>(arg: usize, minsz: usize) -> Result<T> {
    let mut v = T::default();
    let bytes = v.as_bytes_mut();
    let n = minsz.min(bytes.len());
    UserSlice::new(UserPtr::from_addr(arg), n)
        .reader()
        .read_slice(&mut bytes[..n])?;
    let mut argsz = [0u8; size_of::<u32>()];
    argsz.copy_from_slice(bytes.get(..size_of::<u32>()).ok_or(EINVAL)?);
    if (u32::from_ne_bytes(argsz) as usize) < minsz {
        return Err(EINVAL);
    }
    Ok(v)
}

/// Writes `v` at user address `addr + off`.
fn write_user<T: AsBytes>(addr: usize, off: usize, v: &T) -> Result {
    write_bytes(addr, off, v.as_bytes())
}

/// Writes `bytes` at user address `addr + off`.
fn write_bytes(addr: usize, off: usize, bytes: &[u8]) -> Result {
    let at = addr.checked_add(off).ok_or(EFAULT)?;
    UserSlice::new(UserPtr::from_addr(at), bytes.len())
        .writer()
        .write_slice(bytes)
}

/// A VFIO container ioctl on `/dev/iommu`: `None` if `cmd` is not one.
pub(crate) fn vfio_ioctl(ictx: &Ictx, cmd: u32, arg: usize) -> Option<Result<isize>> {
    Some(match cmd {
        VFIO_GET_API_VERSION => Ok(VFIO_API_VERSION as isize),
        VFIO_CHECK_EXTENSION => check_extension(ictx, arg),
        VFIO_SET_IOMMU => set_iommu(ictx, arg).map(|()| 0),
        VFIO_IOMMU_GET_INFO => get_info(ictx, arg).map(|()| 0),
        VFIO_IOMMU_MAP_DMA => map_dma(ictx, arg).map(|()| 0),
        VFIO_IOMMU_UNMAP_DMA => unmap_dma(ictx, arg).map(|()| 0),
        _ => return None,
    })
}

/// `VFIO_CHECK_EXTENSION`: 1 for what type1 over iommufd offers.
fn check_extension(ictx: &Ictx, ty: usize) -> Result<isize> {
    let Ok(ty) = u32::try_from(ty) else {
        return Ok(0);
    };
    match ty {
        VFIO_TYPE1_IOMMU | VFIO_TYPE1V2_IOMMU | VFIO_UNMAP_ALL => Ok(1),
        // Cache coherent DMA is enforced only if every domain enforces it
        // (so an IOAS without domains says yes), as upstream.
        VFIO_DMA_CC_IOMMU => {
            let ioas = compat_ioas(ictx)?;
            let cc = ioas.iopt.lock().domains_enforce_cc();
            Ok(isize::from(cc))
        }
        _ => Ok(0),
    }
}

/// `VFIO_SET_IOMMU`: type1 (v1) turns huge pages off, so that any page can
/// later be unmapped alone.
fn set_iommu(ictx: &Ictx, ty: usize) -> Result {
    let ty = u32::try_from(ty).map_err(|_| EINVAL)?;
    if ty != VFIO_TYPE1_IOMMU && ty != VFIO_TYPE1V2_IOMMU {
        return Err(EINVAL);
    }
    let ioas = compat_ioas(ictx)?;
    if ty == VFIO_TYPE1_IOMMU {
        ioas.iopt.lock().set_large_pages(false)?;
    }
    Ok(())
}

/// `VFIO_IOMMU_MAP_DMA`.
fn map_dma(ictx: &Ictx, arg: usize) -> Result {
    let minsz = offset_of!(vfio_iommu_type1_dma_map, size) + size_of::<u64>();
    let map: vfio_iommu_type1_dma_map = read_vfio(arg, minsz)?;
    let flags = map.flags;
    if flags & !(VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE) != 0 {
        return Err(EINVAL);
    }
    let mut prot = 0;
    if flags & VFIO_DMA_MAP_FLAG_READ != 0 {
        prot |= IOMMU_READ;
    }
    if flags & VFIO_DMA_MAP_FLAG_WRITE != 0 {
        prot |= IOMMU_WRITE;
    }
    let ioas = compat_ioas(ictx)?;
    ioas::map_user_at(ictx, &ioas, prot, map.iova, map.vaddr, map.size, |uptr| {
        Source::User { uptr }
    })
    .map(|_| ())
}

/// `VFIO_IOMMU_UNMAP_DMA`: returns the bytes unmapped in `size`.
fn unmap_dma(ictx: &Ictx, arg: usize) -> Result {
    let minsz = offset_of!(vfio_iommu_type1_dma_unmap, size) + size_of::<u64>();
    let mut unmap: vfio_iommu_type1_dma_unmap = read_vfio(arg, minsz)?;
    let (flags, iova, size) = (unmap.flags, unmap.iova, unmap.size);
    if flags & !VFIO_DMA_UNMAP_FLAG_ALL != 0 {
        return Err(EINVAL);
    }
    let ioas = compat_ioas(ictx)?;
    let res = if flags & VFIO_DMA_UNMAP_FLAG_ALL != 0 {
        if iova != 0 || size != 0 {
            return Err(EINVAL);
        }
        ioas.unmap(IovaRange {
            start: 0,
            last: u64::MAX,
        })
    } else {
        unmap_range(&ioas, iova, size)
    };
    unmap.size = res?;
    write_user(arg, 0, &unmap).map_err(|_| EFAULT)
}

/// Unmaps `[iova, iova + size)`, cutting areas at both ends first when huge
/// pages are off (type1 v1 may unmap any part of a mapping).
fn unmap_range(ioas: &Ioas, iova: u64, size: u64) -> Result<u64> {
    if size == 0 {
        return Err(EINVAL);
    }
    {
        let mut iopt = ioas.iopt.lock();
        if !iopt.large_pages() {
            iopt.cut(iova.wrapping_add(size).wrapping_sub(1))?;
            if iova != 0 {
                iopt.cut(iova - 1)?;
            }
        }
    }
    // Unlike IOMMU_IOAS_UNMAP, type1 finds nothing to unmap no error.
    ioas.unmap(IovaRange::from_len(iova, size)?)
}

/// `VFIO_IOMMU_GET_INFO`: the page sizes, then two capabilities: DMA
/// mappings available, and the usable IOVA ranges. Each piece is written
/// only if the user's `argsz` has room for it; the `argsz` returned is what
/// the whole answer needs.
fn get_info(ictx: &Ictx, arg: usize) -> Result {
    let minsz = offset_of!(vfio_iommu_type1_info, iova_pgsizes) + size_of::<u64>();
    let mut info: vfio_iommu_type1_info = read_vfio(arg, minsz)?;
    let argsz = info.argsz as usize;
    let ioas = compat_ioas(ictx)?;
    let (pgsizes, holes) = {
        let iopt = ioas.iopt.lock();
        let mut pgsizes = iopt.domain_pgsizes();
        if pgsizes & (PAGE_SIZE - 1) != 0 {
            pgsizes = (pgsizes & !(PAGE_SIZE - 1)) | PAGE_SIZE;
        }
        (pgsizes.max(iopt.iova_alignment()), iopt.free_ranges()?)
    };
    let nr_iovas = u32::try_from(holes.len()).map_err(|_| EOVERFLOW)?;

    // The capabilities follow the struct, each at an 8-byte aligned offset
    // and linked from the one before once the buffer reaches it: DMA
    // mappings available, then the IOVA ranges.
    let dma_size = size_of::<vfio_iommu_type1_info_dma_avail>();
    let dma_at = size_of::<vfio_iommu_type1_info>();
    let iova_at = dma_at + dma_size.next_multiple_of(size_of::<u64>());
    let head_size = size_of::<vfio_iommu_type1_info_cap_iova_range>();
    let range_size = size_of::<vfio_iova_range>();
    let iova_size = holes
        .len()
        .checked_mul(range_size)
        .and_then(|n| n.checked_add(head_size))
        .ok_or(EOVERFLOW)?;
    let total = iova_at.checked_add(iova_size).ok_or(EOVERFLOW)?;

    if argsz >= dma_at + dma_size {
        let mut dma = vfio_iommu_type1_info_dma_avail::default();
        dma.header.id = VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL as u16;
        dma.header.version = 1;
        if argsz >= iova_at {
            dma.header.next = iova_at as u32;
        }
        dma.avail = u32::MAX;
        write_user(arg, dma_at, &dma)?;
    }
    let avail = argsz.saturating_sub(iova_at);
    for (n, r) in holes.iter().enumerate() {
        if avail >= head_size + range_size * (n + 1) {
            let range = vfio_iova_range {
                start: r.start,
                end: r.last,
            };
            write_user(arg, iova_at + head_size + range_size * n, &range)?;
        }
    }
    if avail >= iova_size {
        let mut head = vfio_iommu_type1_info_cap_iova_range::default();
        head.header.id = VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE as u16;
        head.header.version = 1;
        head.nr_iovas = nr_iovas;
        write_user(arg, iova_at, &head)?;
    }

    info.argsz = u32::try_from(total).map_err(|_| EOVERFLOW)?;
    info.flags = VFIO_IOMMU_INFO_PGSIZES | VFIO_IOMMU_INFO_CAPS;
    info.iova_pgsizes = pgsizes;
    info.cap_offset = if argsz >= total { dma_at as u32 } else { 0 };
    write_bytes(
        arg,
        0,
        &info.as_bytes()[..argsz.min(size_of::<vfio_iommu_type1_info>())],
    )
}

/// The compatibility IOAS of a file.
pub(crate) type CompatIoas = WeakObj<Ioas>;

/// `IOMMU_VFIO_IOAS`.
pub(crate) fn vfio_ioas_ioctl(
    ictx: &Ictx,
    buf: &mut UserCmdBuf<'_>,
    mut cmd: IommuVfioIoas,
) -> Result {
    if cmd.__reserved != 0 {
        return Err(EOPNOTSUPP);
    }
    match u32::from(cmd.op) {
        IOMMU_VFIO_IOAS_GET => {
            cmd.ioas_id = compat_ioas(ictx)?.id();
            buf.respond(&cmd)
        }
        IOMMU_VFIO_IOAS_SET => {
            let ioas = ictx.objects.get::<Ioas>(cmd.ioas_id)?;
            *ictx.vfio_ioas.lock() = Some(ioas.downgrade());
            Ok(())
        }
        IOMMU_VFIO_IOAS_CLEAR => {
            *ictx.vfio_ioas.lock() = None;
            Ok(())
        }
        _ => Err(EOPNOTSUPP),
    }
}
