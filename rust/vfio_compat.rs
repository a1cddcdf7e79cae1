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

use kernel::{
    ioctl::_IO,
    prelude::*,
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
    uapi::IommuVfioIoas,
    ucmd::UserCmdBuf, //
};

/// The VFIO ioctl type, which is iommufd's too.
const VFIO_TYPE: u32 = b';' as u32;
/// `VFIO_GET_API_VERSION`.
pub(crate) const VFIO_GET_API_VERSION: u32 = _IO(VFIO_TYPE, 100);
/// `VFIO_CHECK_EXTENSION`.
pub(crate) const VFIO_CHECK_EXTENSION: u32 = _IO(VFIO_TYPE, 101);
/// `VFIO_SET_IOMMU`.
pub(crate) const VFIO_SET_IOMMU: u32 = _IO(VFIO_TYPE, 102);
/// `VFIO_IOMMU_GET_INFO`.
pub(crate) const VFIO_IOMMU_GET_INFO: u32 = _IO(VFIO_TYPE, 112);
/// `VFIO_IOMMU_MAP_DMA`.
pub(crate) const VFIO_IOMMU_MAP_DMA: u32 = _IO(VFIO_TYPE, 113);
/// `VFIO_IOMMU_UNMAP_DMA`.
pub(crate) const VFIO_IOMMU_UNMAP_DMA: u32 = _IO(VFIO_TYPE, 114);

const VFIO_API_VERSION: isize = 0;
const VFIO_TYPE1_IOMMU: usize = 1;
const VFIO_TYPE1V2_IOMMU: usize = 3;
const VFIO_DMA_CC_IOMMU: usize = 4;
const VFIO_UNMAP_ALL: usize = 9;
const VFIO_DMA_MAP_FLAG_READ: u32 = 1 << 0;
const VFIO_DMA_MAP_FLAG_WRITE: u32 = 1 << 1;
const VFIO_DMA_UNMAP_FLAG_ALL: u32 = 1 << 1;
const VFIO_IOMMU_INFO_PGSIZES: u32 = 1 << 0;
const VFIO_IOMMU_INFO_CAPS: u32 = 1 << 1;
const VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE: u16 = 1;
const VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL: u16 = 3;

/// The IOAS the compat ioctls act on: `ENODEV` if none is set or it is gone.
fn compat_ioas(ictx: &Ictx) -> Result<ObjRef<Ioas>> {
    let chosen = (*ictx.vfio_ioas.lock()).ok_or(ENODEV)?;
    chosen.get(&ictx.objects).map_err(|_| ENODEV)
}

/// Reads `N` bytes at `arg`.
fn read_user<const N: usize>(arg: usize) -> Result<[u8; N]> {
    let mut b = [0u8; N];
    UserSlice::new(UserPtr::from_addr(arg), N)
        .reader()
        .read_slice(&mut b)?;
    Ok(b)
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    let mut w = [0u8; 4];
    w.copy_from_slice(&b[at..at + 4]);
    u32::from_ne_bytes(w)
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&b[at..at + 8]);
    u64::from_ne_bytes(w)
}

/// Writes `bytes` at user address `addr + off`.
fn write_user(addr: usize, off: usize, bytes: &[u8]) -> Result {
    let at = addr.checked_add(off).ok_or(EFAULT)?;
    UserSlice::new(UserPtr::from_addr(at), bytes.len())
        .writer()
        .write_slice(bytes)
}

/// A VFIO container ioctl on `/dev/iommu`: `None` if `cmd` is not one.
pub(crate) fn vfio_ioctl(ictx: &Ictx, cmd: u32, arg: usize) -> Option<Result<isize>> {
    Some(match cmd {
        VFIO_GET_API_VERSION => Ok(VFIO_API_VERSION),
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
    match ty {
        VFIO_TYPE1_IOMMU | VFIO_TYPE1V2_IOMMU | VFIO_UNMAP_ALL => Ok(1),
        // Cache coherent DMA is enforced only if every domain enforces it;
        // no domain here enforces it (none reports
        // IOMMU_CAP_ENFORCE_CACHE_COHERENCY), so only an IOAS without
        // domains says yes.
        VFIO_DMA_CC_IOMMU => {
            let ioas = compat_ioas(ictx)?;
            let none = ioas.iopt.lock().domain_pgsizes() == u64::MAX;
            Ok(isize::from(none))
        }
        _ => Ok(0),
    }
}

/// `VFIO_SET_IOMMU`: type1 (v1) turns huge pages off, so that any page can
/// later be unmapped alone.
fn set_iommu(ictx: &Ictx, ty: usize) -> Result {
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
    // argsz, flags, vaddr, iova, size
    let b = read_user::<32>(arg)?;
    let (argsz, flags) = (u32_at(&b, 0), u32_at(&b, 4));
    let (vaddr, iova, size) = (u64_at(&b, 8), u64_at(&b, 16), u64_at(&b, 24));
    if argsz < 32 || flags & !(VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE) != 0 {
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
    ioas::map_user_at(ictx, &ioas, prot, iova, vaddr, size, |uptr| Source::User {
        uptr,
    })
    .map(|_| ())
}

/// `VFIO_IOMMU_UNMAP_DMA`: returns the bytes unmapped in `size`.
fn unmap_dma(ictx: &Ictx, arg: usize) -> Result {
    // argsz, flags, iova, size
    let b = read_user::<24>(arg)?;
    let (argsz, flags) = (u32_at(&b, 0), u32_at(&b, 4));
    let (iova, size) = (u64_at(&b, 8), u64_at(&b, 16));
    if argsz < 24 || flags & !VFIO_DMA_UNMAP_FLAG_ALL != 0 {
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
    let unmapped = res?;
    let mut out = b;
    out[16..24].copy_from_slice(&unmapped.to_ne_bytes());
    write_user(arg, 0, &out).map_err(|_| EFAULT)
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
/// mappings available, and the usable IOVA ranges.
fn get_info(ictx: &Ictx, arg: usize) -> Result {
    // argsz, flags, iova_pgsizes; then cap_offset and padding.
    let b = read_user::<16>(arg)?;
    let argsz = u32_at(&b, 0) as usize;
    if argsz < 16 {
        return Err(EINVAL);
    }
    let ioas = compat_ioas(ictx)?;
    let (pgsizes, holes) = {
        let iopt = ioas.iopt.lock();
        let mut pgsizes = iopt.domain_pgsizes();
        if pgsizes & (PAGE_SIZE - 1) != 0 {
            pgsizes = (pgsizes & !(PAGE_SIZE - 1)) | PAGE_SIZE;
        }
        (pgsizes.max(iopt.iova_alignment()), iopt.free_ranges()?)
    };
    const INFO: usize = 24;
    // The DMA-available capability: header (id, version, next), avail.
    const DMA_AVAIL: usize = 16;
    let mut total = INFO;
    let mut dma = [0u8; 12];
    dma[0..2].copy_from_slice(&VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL.to_ne_bytes());
    dma[2..4].copy_from_slice(&1u16.to_ne_bytes());
    dma[8..12].copy_from_slice(&u32::MAX.to_ne_bytes());
    if argsz >= total + dma.len() {
        write_user(arg, total, &dma)?;
    }
    let dma_at = total;
    total += DMA_AVAIL;
    // The IOVA-range capability: header, nr_iovas, reserved, ranges.
    let iova_at = total;
    let avail = argsz.saturating_sub(iova_at);
    for (n, r) in holes.iter().enumerate() {
        if avail >= 16 + 16 * (n + 1) {
            let mut range = [0u8; 16];
            range[0..8].copy_from_slice(&r.start.to_ne_bytes());
            range[8..16].copy_from_slice(&r.last.to_ne_bytes());
            write_user(arg, iova_at + 16 + 16 * n, &range)?;
        }
    }
    let cap_size = 16 + 16 * holes.len();
    if avail >= cap_size {
        let mut head = [0u8; 16];
        head[0..2].copy_from_slice(&VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE.to_ne_bytes());
        head[2..4].copy_from_slice(&1u16.to_ne_bytes());
        head[8..12].copy_from_slice(&(holes.len() as u32).to_ne_bytes());
        write_user(arg, iova_at, &head)?;
    }
    // Link the first capability to the second, if the buffer reaches it.
    if argsz >= total {
        write_user(arg, dma_at + 4, &(total as u32).to_ne_bytes())?;
    }
    total += cap_size;
    let mut info = [0u8; INFO];
    info[0..4].copy_from_slice(&(total as u32).to_ne_bytes());
    info[4..8].copy_from_slice(&(VFIO_IOMMU_INFO_PGSIZES | VFIO_IOMMU_INFO_CAPS).to_ne_bytes());
    info[8..16].copy_from_slice(&pgsizes.to_ne_bytes());
    if argsz >= total {
        info[16..20].copy_from_slice(&(INFO as u32).to_ne_bytes());
    }
    write_user(arg, 0, &info[..argsz.min(INFO)])
}

const IOMMU_VFIO_IOAS_GET: u16 = 0;
const IOMMU_VFIO_IOAS_SET: u16 = 1;
const IOMMU_VFIO_IOAS_CLEAR: u16 = 2;

/// The compatibility IOAS of a file.
pub(crate) type CompatIoas = WeakObj<Ioas>;

/// `IOMMU_VFIO_IOAS`.
pub(crate) fn vfio_ioas_ioctl(ictx: &Ictx, buf: &UserCmdBuf<'_>, mut cmd: IommuVfioIoas) -> Result {
    if cmd.reserved != 0 {
        return Err(EOPNOTSUPP);
    }
    match cmd.op {
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
