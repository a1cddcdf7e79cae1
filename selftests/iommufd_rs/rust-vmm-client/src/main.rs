// SPDX-License-Identifier: GPL-2.0

//! rust-vmm's `vfio-ioctls` (feature `vfio_cdev`) and `iommufd-ioctls`, the
//! crates cloud-hypervisor drives VFIO with, on QEMU's edu device in the test
//! VM: the iommufd under test (iommufd_rs.ko or the kernel's iommufd.ko)
//! seen by a real VMM's client code.
//!
//! The flow is cloud-hypervisor's (`vmm/src/device_manager.rs`):
//! `IommuFd::new()`, a `VfioIommufd` over it, `VfioDevice::new()` on the
//! device's sysfs path, which opens the cdev, binds it to the iommufd and
//! attaches it to the IOAS, then `vfio_dma_map()` of the memory. Only the
//! crates' public API touches the device and the iommufd; where a crate has
//! no verb for a step, the comment there says so.
//!
//! The steps run in order as TAP tests, each on what the ones before set
//! up; the expectations are what the C iommufd.ko does. Needs the VM booted
//! with VM_EDU=1 and vfio-pci loaded (scripts/vfio-edu.sh); skips when there
//! is no edu device.

mod edu;

use std::process::ExitCode;

/// A failed check, with where and why.
pub struct Failure(String);

/// Why a test did not pass.
pub enum NotPassed {
    Failed(Failure),
    /// The test does not apply to this run, for the reason given.
    Skipped(String),
}

impl From<Failure> for NotPassed {
    fn from(f: Failure) -> Self {
        Self::Failed(f)
    }
}

pub type TestResult = Result<(), NotPassed>;

/// Fails the test unless the two sides are equal.
#[macro_export]
macro_rules! check_eq {
    ($want:expr, $got:expr) => {{
        let (want, got) = ($want, $got);
        if want != got {
            return Err($crate::Failure(format!(
                "{}:{}: expected {} == {} ({:?} vs {:?})",
                file!(),
                line!(),
                stringify!($want),
                stringify!($got),
                want,
                got
            ))
            .into());
        }
    }};
}

/// Fails the test unless the condition holds.
#[macro_export]
macro_rules! check {
    ($cond:expr) => {{
        if !$cond {
            return Err($crate::Failure(format!(
                "{}:{}: expected {}",
                file!(),
                line!(),
                stringify!($cond)
            ))
            .into());
        }
    }};
}

/// Unwraps a `Result`, failing the test with the error if it is one.
#[macro_export]
macro_rules! check_ok {
    ($res:expr) => {{
        match $res {
            Ok(v) => v,
            Err(e) => {
                return Err($crate::Failure(format!(
                    "{}:{}: {} failed: {} ({:?})",
                    file!(),
                    line!(),
                    stringify!($res),
                    e,
                    e
                ))
                .into())
            }
        }
    }};
}

fn main() -> ExitCode {
    let tests = edu::all();
    let mut ctx = edu::Ctx::default();
    println!("TAP version 13");
    println!("1..{}", tests.len());
    let (mut pass, mut fail, mut skip) = (0, 0, 0);
    for (i, (name, test)) in tests.iter().enumerate() {
        match test(&mut ctx) {
            Ok(()) => {
                pass += 1;
                println!("ok {} {}", i + 1, name);
            }
            Err(NotPassed::Failed(Failure(why))) => {
                fail += 1;
                println!("# {why}");
                println!("not ok {} {}", i + 1, name);
            }
            Err(NotPassed::Skipped(why)) => {
                skip += 1;
                println!("ok {} {} # SKIP {why}", i + 1, name);
            }
        }
    }
    println!("# Totals: pass:{pass} fail:{fail} xfail:0 xpass:0 skip:{skip} error:0");
    if fail == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
