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
}
