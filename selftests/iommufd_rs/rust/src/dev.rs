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
        let mut cmd = iommu_ioas_alloc {
            size: size32::<iommu_ioas_alloc>(),
            ..Default::default()
        };
        match self.ioctl(IOMMU_IOAS_ALLOC, &mut cmd) {
            0 => Ok(cmd.out_ioas_id),
            e => Err(e),
        }
    }

    pub fn destroy(&self, id: u32) -> Errno {
        let mut cmd = iommu_destroy {
            size: size32::<iommu_destroy>(),
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
        let mut cmd = iommu_ioas_map {
            size: size32::<iommu_ioas_map>(),
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
        let mut cmd = iommu_ioas_unmap {
            size: size32::<iommu_ioas_unmap>(),
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
        let mut cmd = iommu_ioas_copy {
            size: size32::<iommu_ioas_copy>(),
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

/// A mock device made by `IOMMU_TEST_OP_MOCK_DOMAIN_FLAGS`.
#[derive(Clone, Copy, Debug)]
pub struct MockDev {
    /// The selftest object; PASID commands and RID replace name it.
    pub stdev: u32,
    /// The HWPT its RID was attached to.
    pub hwpt: u32,
    /// The bound iommufd device; HWPT_ALLOC and GET_HW_INFO name it.
    pub idev: u32,
}

impl Iommufd {
    /// Whether the module has the selftest ABI: the production variant of
    /// iommufd_rs.ko answers `IOMMU_TEST_CMD` with `ENOTTY`, as it answers
    /// any command it does not have.
    pub fn has_test_cmd(&self) -> bool {
        const ENOTTY: Errno = 25;
        // Op 0 is no operation: a module with the ABI refuses it otherwise.
        let mut cmd = iommu_test_cmd {
            size: size32::<iommu_test_cmd>(),
            ..Default::default()
        };
        self.test_cmd(&mut cmd) != ENOTTY
    }

    /// Issues a selftest command. Returns 0 or the errno.
    pub fn test_cmd(&self, cmd: &mut iommu_test_cmd) -> Errno {
        cmd.size = size32::<iommu_test_cmd>();
        self.ioctl(IOMMU_TEST_CMD, cmd)
    }

    /// Issues selftest command `op` on object `id` with `payload`.
    fn test_op<P: TestPayload>(&self, op: u32, id: u32, payload: P) -> Errno {
        self.test_cmd(&mut iommu_test_cmd::new(op, id, payload))
    }

    /// A mock device with `dev_flags`, bound and its RID attached to `pt`.
    pub fn mock_domain_flags(&self, pt: u32, dev_flags: u32) -> Result<MockDev, Errno> {
        let mut cmd = iommu_test_cmd::new(
            IOMMU_TEST_OP_MOCK_DOMAIN_FLAGS,
            pt,
            iommu_test_mock_domain_flags {
                dev_flags,
                ..Default::default()
            },
        );
        match self.test_cmd(&mut cmd) {
            0 => {
                let out: iommu_test_mock_domain_flags = cmd.payload();
                Ok(MockDev {
                    stdev: out.out_stdev_id,
                    hwpt: out.out_hwpt_id,
                    idev: out.out_idev_id,
                })
            }
            e => Err(e),
        }
    }

    /// Moves the RID of mock device `stdev` to `pt`.
    pub fn mock_domain_replace(&self, stdev: u32, pt: u32) -> Errno {
        self.test_op(
            IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE,
            stdev,
            iommu_test_mock_domain_replace { pt_id: pt },
        )
    }

    /// HWPT_ALLOC with driver data given as a raw pointer and length.
    pub fn hwpt_alloc_raw(
        &self,
        dev: u32,
        pt: u32,
        flags: u32,
        data_type: u32,
        data: *const c_void,
        data_len: u32,
    ) -> Result<u32, Errno> {
        let mut cmd = iommu_hwpt_alloc {
            size: size32::<iommu_hwpt_alloc>(),
            flags,
            dev_id: dev,
            pt_id: pt,
            data_type,
            data_len,
            data_uptr: data as u64,
            ..Default::default()
        };
        match self.ioctl(IOMMU_HWPT_ALLOC, &mut cmd) {
            0 => Ok(cmd.out_hwpt_id),
            e => Err(e),
        }
    }

    /// A paging HWPT for device `dev` on IOAS `pt`, without driver data.
    pub fn hwpt_alloc(&self, dev: u32, pt: u32, flags: u32) -> Result<u32, Errno> {
        self.hwpt_alloc_raw(dev, pt, flags, IOMMU_HWPT_DATA_NONE, std::ptr::null(), 0)
    }

    /// A nested HWPT of the mock on `parent`.
    pub fn hwpt_alloc_nested(
        &self,
        dev: u32,
        parent: u32,
        flags: u32,
        data: &iommu_hwpt_selftest,
    ) -> Result<u32, Errno> {
        self.hwpt_alloc_raw(
            dev,
            parent,
            flags,
            IOMMU_HWPT_DATA_SELFTEST,
            (data as *const iommu_hwpt_selftest).cast(),
            size32::<iommu_hwpt_selftest>(),
        )
    }

    pub fn pasid_attach(&self, stdev: u32, pasid: u32, pt: u32) -> Errno {
        let payload = iommu_test_pasid_attach { pasid, pt_id: pt };
        self.test_op(IOMMU_TEST_OP_PASID_ATTACH, stdev, payload)
    }

    pub fn pasid_replace(&self, stdev: u32, pasid: u32, pt: u32) -> Errno {
        let payload = iommu_test_pasid_replace { pasid, pt_id: pt };
        self.test_op(IOMMU_TEST_OP_PASID_REPLACE, stdev, payload)
    }

    pub fn pasid_detach(&self, stdev: u32, pasid: u32) -> Errno {
        let payload = iommu_test_pasid_detach { pasid };
        self.test_op(IOMMU_TEST_OP_PASID_DETACH, stdev, payload)
    }

    /// 0 if `pasid` of `stdev` holds `hwpt`'s domain (`hwpt` 0: nothing).
    pub fn pasid_check_hwpt(&self, stdev: u32, pasid: u32, hwpt: u32) -> Errno {
        self.test_op(
            IOMMU_TEST_OP_PASID_CHECK_HWPT,
            stdev,
            iommu_test_pasid_check {
                pasid,
                hwpt_id: hwpt,
            },
        )
    }

    /// 0 if mock paging HWPT `hwpt` maps `[iova, iova + length)` to `va`.
    pub fn md_check_map(&self, hwpt: u32, iova: u64, length: u64, va: u64) -> Errno {
        self.test_op(
            IOMMU_TEST_OP_MD_CHECK_MAP,
            hwpt,
            iommu_test_check_map {
                iova,
                length,
                uptr: va,
            },
        )
    }

    /// 0 if each page of `[va, va + length)` is pinned `refs` times.
    pub fn md_check_refs(&self, va: u64, length: u64, refs: u32) -> Errno {
        self.test_op(
            IOMMU_TEST_OP_MD_CHECK_REFS,
            0,
            iommu_test_check_refs {
                length,
                uptr: va,
                refs,
                ..Default::default()
            },
        )
    }

    /// GET_HW_INFO of device `dev`, with the driver data written to `data`.
    pub fn get_hw_info<T>(&self, dev: u32, data: &mut T) -> Result<iommu_hw_info, Errno> {
        let mut cmd = iommu_hw_info {
            size: size32::<iommu_hw_info>(),
            dev_id: dev,
            data_len: size32::<T>(),
            data_uptr: (data as *mut T) as u64,
            ..Default::default()
        };
        match self.ioctl(IOMMU_GET_HW_INFO, &mut cmd) {
            0 => Ok(cmd),
            e => Err(e),
        }
    }

    /// `IOMMU_RS_PASID_MODE` with `op`: the mode after the call.
    pub fn pasid_mode(&self, op: u32, mode: u32) -> Result<u32, Errno> {
        let mut cmd = iommu_rs_pasid_mode {
            size: size32::<iommu_rs_pasid_mode>(),
            op,
            mode,
            __reserved: 0,
        };
        match self.ioctl(IOMMU_RS_PASID_MODE, &mut cmd) {
            0 => Ok(cmd.mode),
            e => Err(e),
        }
    }

    /// `IOMMU_RS_VPASID_ATTACH`: the host PASID.
    pub fn vpasid_attach(&self, flags: u32, idev: u32, vpasid: u32, pt: u32) -> Result<u32, Errno> {
        let mut cmd = iommu_rs_vpasid_attach {
            size: size32::<iommu_rs_vpasid_attach>(),
            flags,
            dev_id: idev,
            vpasid,
            pt_id: pt,
            out_ppasid: 0,
        };
        match self.ioctl(IOMMU_RS_VPASID_ATTACH, &mut cmd) {
            0 => Ok(cmd.out_ppasid),
            e => Err(e),
        }
    }

    pub fn vpasid_detach(&self, idev: u32, vpasid: u32) -> Errno {
        let mut cmd = iommu_rs_vpasid_detach {
            size: size32::<iommu_rs_vpasid_detach>(),
            flags: 0,
            dev_id: idev,
            vpasid,
        };
        self.ioctl(IOMMU_RS_VPASID_DETACH, &mut cmd)
    }

    /// `IOMMU_RS_VPASID_QUERY`: the host PASID and the HWPT.
    pub fn vpasid_query(&self, idev: u32, vpasid: u32) -> Result<(u32, u32), Errno> {
        let mut cmd = iommu_rs_vpasid_query {
            size: size32::<iommu_rs_vpasid_query>(),
            dev_id: idev,
            vpasid,
            ..Default::default()
        };
        match self.ioctl(IOMMU_RS_VPASID_QUERY, &mut cmd) {
            0 => Ok((cmd.out_ppasid, cmd.out_pt_id)),
            e => Err(e),
        }
    }

    /// The guest writes `vpasid` to the PASID register of mock device
    /// `stdev`, which the mediation path translates: the register after.
    pub fn mediate_pasid(&self, stdev: u32, vpasid: u32) -> Result<u32, Errno> {
        let mut cmd = iommu_test_cmd::new(
            IOMMU_RS_TEST_OP_MEDIATE_PASID,
            stdev,
            iommu_rs_test_mediate_pasid {
                vpasid,
                out_dev_pasid: 0,
            },
        );
        match self.test_cmd(&mut cmd) {
            0 => Ok(cmd.payload::<iommu_rs_test_mediate_pasid>().out_dev_pasid),
            e => Err(e),
        }
    }
}
