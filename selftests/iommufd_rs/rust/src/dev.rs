// SPDX-License-Identifier: GPL-2.0

//! A thin wrapper around an open `/dev/iommu`.

use std::ffi::{c_int, c_ulong, c_void};
use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::AsRawFd;

use crate::uapi::*;

extern "C" {
    fn ioctl(fd: c_int, request: c_ulong, ...) -> c_int;
}

pub struct Iommufd {
    file: File,
}

/// The errno of a failed call, or 0.
pub type Errno = i32;

impl Iommufd {
    pub fn open() -> io::Result<Self> {
        Ok(Self {
            file: OpenOptions::new()
                .read(true)
                .write(true)
                .open("/dev/iommu")?,
        })
    }

    /// Issues `cmd` with a raw argument. Returns 0 or the errno.
    pub fn ioctl_raw(&self, cmd: u64, arg: *mut c_void) -> Errno {
        // SAFETY: The kernel validates `arg`; a bad pointer is EFAULT.
        let rc = unsafe { ioctl(self.file.as_raw_fd(), cmd as c_ulong, arg) };
        if rc == 0 {
            0
        } else {
            io::Error::last_os_error().raw_os_error().unwrap_or(-1)
        }
    }

    pub fn ioctl<T>(&self, cmd: u64, arg: &mut T) -> Errno {
        self.ioctl_raw(cmd, (arg as *mut T).cast())
    }

    pub fn ioas_alloc(&self) -> Result<u32, Errno> {
        let mut cmd = IommuIoasAlloc {
            size: size32::<IommuIoasAlloc>(),
            ..Default::default()
        };
        match self.ioctl(IOMMU_IOAS_ALLOC, &mut cmd) {
            0 => Ok(cmd.out_ioas_id),
            e => Err(e),
        }
    }

    pub fn destroy(&self, id: u32) -> Errno {
        let mut cmd = IommuDestroy {
            size: size32::<IommuDestroy>(),
            id,
        };
        self.ioctl(IOMMU_DESTROY, &mut cmd)
    }

    pub fn map(
        &self,
        ioas: u32,
        va: u64,
        length: u64,
        iova: u64,
        flags: u32,
    ) -> Result<u64, Errno> {
        let mut cmd = IommuIoasMap {
            size: size32::<IommuIoasMap>(),
            flags,
            ioas_id: ioas,
            user_va: va,
            length,
            iova,
            ..Default::default()
        };
        match self.ioctl(IOMMU_IOAS_MAP, &mut cmd) {
            0 => Ok(cmd.iova),
            e => Err(e),
        }
    }

    pub fn unmap(&self, ioas: u32, iova: u64, length: u64) -> Result<u64, Errno> {
        let mut cmd = IommuIoasUnmap {
            size: size32::<IommuIoasUnmap>(),
            ioas_id: ioas,
            iova,
            length,
        };
        match self.ioctl(IOMMU_IOAS_UNMAP, &mut cmd) {
            0 => Ok(cmd.length),
            e => Err(e),
        }
    }

    pub fn copy(
        &self,
        dst: u32,
        src: u32,
        src_iova: u64,
        length: u64,
        dst_iova: u64,
        flags: u32,
    ) -> Result<u64, Errno> {
        let mut cmd = IommuIoasCopy {
            size: size32::<IommuIoasCopy>(),
            flags,
            dst_ioas_id: dst,
            src_ioas_id: src,
            length,
            dst_iova,
            src_iova,
        };
        match self.ioctl(IOMMU_IOAS_COPY, &mut cmd) {
            0 => Ok(cmd.dst_iova),
            e => Err(e),
        }
    }
}
