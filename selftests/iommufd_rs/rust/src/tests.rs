// SPDX-License-Identifier: GPL-2.0

//! The tests. Each opens its own file, so ids start at 1 in each.

use std::ffi::c_void;
use std::fs;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::sync::Arc;
use std::thread;

use crate::dev::Iommufd;
use crate::uapi::*;
use crate::{check_eq, Failure, TestResult};

const EINVAL: i32 = 22;
const EFAULT: i32 = 14;
const ENOENT: i32 = 2;
const ENOTTY: i32 = 25;
const E2BIG: i32 = 7;
const EOPNOTSUPP: i32 = 95;

type Test = (&'static str, fn() -> TestResult);

pub fn all() -> Vec<Test> {
    vec![
        ("devnode", devnode),
        ("ioas_alloc_ids", ioas_alloc_ids),
        ("ioas_alloc_flags", ioas_alloc_flags),
        ("size_below_minimum", size_below_minimum),
        ("size_above_struct", size_above_struct),
        ("unknown_commands", unknown_commands),
        ("bad_pointer", bad_pointer),
        ("destroy_twice_and_unknown", destroy_twice_and_unknown),
        ("ids_are_per_file", ids_are_per_file),
        ("close_with_live_objects", close_with_live_objects),
        ("concurrent_alloc_destroy", concurrent_alloc_destroy),
    ]
}

fn open() -> Result<Iommufd, Failure> {
    Iommufd::open().map_err(|e| Failure(format!("open /dev/iommu: {e}")))
}

fn devnode() -> TestResult {
    let md = fs::metadata("/dev/iommu").map_err(|e| Failure(format!("stat: {e}")))?;
    check_eq!(true, md.file_type().is_char_device());
    check_eq!(0o660, md.permissions().mode() & 0o777);
    Ok(())
}

fn ioas_alloc_ids() -> TestResult {
    let fd = open()?;
    check_eq!(Ok(1), fd.ioas_alloc());
    check_eq!(Ok(2), fd.ioas_alloc());
    check_eq!(Ok(3), fd.ioas_alloc());
    Ok(())
}

fn ioas_alloc_flags() -> TestResult {
    let fd = open()?;
    for bit in 0..32 {
        let mut cmd = iommu_ioas_alloc {
            size: size32::<iommu_ioas_alloc>(),
            flags: 1 << bit,
            out_ioas_id: 0xdead,
        };
        check_eq!(EOPNOTSUPP, fd.ioctl(IOMMU_IOAS_ALLOC, &mut cmd));
        check_eq!(0xdead, cmd.out_ioas_id);
    }
    check_eq!(Ok(1), fd.ioas_alloc());
    Ok(())
}

fn size_below_minimum() -> TestResult {
    let fd = open()?;
    for size in 0..size32::<iommu_ioas_alloc>() {
        let mut cmd = iommu_ioas_alloc {
            size,
            flags: 0,
            out_ioas_id: 0xdead,
        };
        check_eq!(EINVAL, fd.ioctl(IOMMU_IOAS_ALLOC, &mut cmd));
        check_eq!(0xdead, cmd.out_ioas_id);
    }
    let id = fd
        .ioas_alloc()
        .map_err(|e| Failure(format!("alloc: {e}")))?;
    for size in 0..size32::<iommu_destroy>() {
        let mut cmd = iommu_destroy { size, id };
        check_eq!(EINVAL, fd.ioctl(IOMMU_DESTROY, &mut cmd));
    }
    check_eq!(0, fd.destroy(id));
    Ok(())
}

#[repr(C)]
struct Padded<T> {
    cmd: T,
    tail: [u8; 40],
}

fn size_above_struct() -> TestResult {
    let fd = open()?;
    let size = size32::<iommu_ioas_alloc>() + 40;
    let mut big = Padded {
        cmd: iommu_ioas_alloc {
            size,
            ..Default::default()
        },
        tail: [0; 40],
    };
    check_eq!(0, fd.ioctl(IOMMU_IOAS_ALLOC, &mut big));
    check_eq!(1, big.cmd.out_ioas_id);
    check_eq!([0u8; 40], big.tail);
    for i in 0..40 {
        let mut big = Padded {
            cmd: iommu_ioas_alloc {
                size,
                flags: 0,
                out_ioas_id: 0xdead,
            },
            tail: [0; 40],
        };
        big.tail[i] = 0x80;
        check_eq!(E2BIG, fd.ioctl(IOMMU_IOAS_ALLOC, &mut big));
        check_eq!(0xdead, big.cmd.out_ioas_id);
    }
    Ok(())
}

fn unknown_commands() -> TestResult {
    let fd = open()?;
    let sz = std::mem::size_of::<iommu_ioas_alloc>();
    let cmds = [
        io(IOMMUFD_TYPE, 0x7f),
        io(IOMMUFD_TYPE, 0xff),
        io(IOMMUFD_TYPE, 0xc0),
        ioc(
            IOC_READ | IOC_WRITE,
            IOMMUFD_TYPE,
            IOMMUFD_CMD_IOAS_ALLOC,
            sz,
        ),
        ioc(IOC_WRITE, IOMMUFD_TYPE, IOMMUFD_CMD_DESTROY, 8),
        io(b'x', IOMMUFD_CMD_IOAS_ALLOC),
    ];
    for cmd in cmds {
        let mut arg = iommu_ioas_alloc {
            size: size32::<iommu_ioas_alloc>(),
            ..Default::default()
        };
        check_eq!(ENOTTY, fd.ioctl(cmd, &mut arg));
    }
    check_eq!(Ok(1), fd.ioas_alloc());
    Ok(())
}

fn bad_pointer() -> TestResult {
    let fd = open()?;
    check_eq!(EFAULT, fd.ioctl_raw(IOMMU_IOAS_ALLOC, std::ptr::null_mut()));
    check_eq!(EFAULT, fd.ioctl_raw(IOMMU_DESTROY, 16usize as *mut c_void));
    // An unknown command fails before the pointer is looked at.
    check_eq!(
        ENOTTY,
        fd.ioctl_raw(io(IOMMUFD_TYPE, 0xff), std::ptr::null_mut())
    );
    Ok(())
}

fn destroy_twice_and_unknown() -> TestResult {
    let fd = open()?;
    let a = fd
        .ioas_alloc()
        .map_err(|e| Failure(format!("alloc: {e}")))?;
    let b = fd
        .ioas_alloc()
        .map_err(|e| Failure(format!("alloc: {e}")))?;
    check_eq!(0, fd.destroy(a));
    check_eq!(ENOENT, fd.destroy(a));
    for id in [0, b + 1, 0x7fff_ffff, 0x8000_0000, u32::MAX] {
        check_eq!(ENOENT, fd.destroy(id));
    }
    // The freed id comes back first.
    check_eq!(Ok(a), fd.ioas_alloc());
    check_eq!(0, fd.destroy(b));
    check_eq!(0, fd.destroy(a));
    check_eq!(ENOENT, fd.destroy(b));
    Ok(())
}

fn ids_are_per_file() -> TestResult {
    let one = open()?;
    let two = open()?;
    check_eq!(Ok(1), one.ioas_alloc());
    check_eq!(Ok(2), one.ioas_alloc());
    check_eq!(ENOENT, two.destroy(2));
    check_eq!(Ok(1), two.ioas_alloc());
    check_eq!(0, two.destroy(1));
    check_eq!(0, one.destroy(2));
    check_eq!(0, one.destroy(1));
    Ok(())
}

fn close_with_live_objects() -> TestResult {
    for _ in 0..3 {
        let fd = open()?;
        for i in 1..=1500u32 {
            check_eq!(Ok(i), fd.ioas_alloc());
        }
        for i in (2..=1500u32).step_by(5) {
            check_eq!(0, fd.destroy(i));
        }
        drop(fd);
    }
    // A fresh file starts from an empty table.
    check_eq!(Ok(1), open()?.ioas_alloc());
    Ok(())
}

fn concurrent_alloc_destroy() -> TestResult {
    let fd = Arc::new(open()?);
    let workers: Vec<_> = (0..4)
        .map(|_| {
            let fd = Arc::clone(&fd);
            thread::spawn(move || -> Result<(), String> {
                let mut ids = Vec::new();
                for _ in 0..400 {
                    ids.push(fd.ioas_alloc().map_err(|e| format!("alloc: {e}"))?);
                }
                for id in ids {
                    match fd.destroy(id) {
                        0 => {}
                        e => return Err(format!("destroy {id}: {e}")),
                    }
                }
                Ok(())
            })
        })
        .collect();
    for w in workers {
        w.join()
            .map_err(|_| Failure("worker panicked".into()))?
            .map_err(Failure)?;
    }
    check_eq!(Ok(1), fd.ioas_alloc());
    Ok(())
}
