// SPDX-License-Identifier: GPL-2.0

//! The iommufd ioctl contract, checked from Rust in the test VM.
//!
//! Prints kselftest-style TAP and exits non-zero if any test failed.

mod dev;
mod ioas_tests;
mod pasid_tests;
mod tests;
mod uapi;
mod vpasid_tests;

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

/// Unwraps an `Ok`, or fails the test naming the call and its errno.
#[macro_export]
macro_rules! ok {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(errno) => {
                return Err($crate::Failure(format!(
                    "{}:{}: {} failed with errno {}",
                    file!(),
                    line!(),
                    stringify!($e),
                    errno
                ))
                .into())
            }
        }
    };
}

fn main() -> ExitCode {
    let mut tests = tests::all();
    tests.extend(ioas_tests::all());
    tests.extend(vpasid_tests::without_mock());
    let first_mock = tests.len();
    // The PASID tests drive the mock IOMMU through IOMMU_TEST_CMD, which the
    // production variant of iommufd_rs.ko does not have: they skip there.
    tests.extend(pasid_tests::all());
    tests.extend(vpasid_tests::with_mock());
    let test_cmd = dev::Iommufd::open().is_ok_and(|fd| fd.has_test_cmd());
    println!("TAP version 13");
    println!("1..{}", tests.len());
    let (mut pass, mut fail, mut skip) = (0, 0, 0);
    for (i, (name, test)) in tests.iter().enumerate() {
        let res = if i >= first_mock && !test_cmd {
            Err(NotPassed::Skipped(
                "needs IOMMU_TEST_CMD (the mock IOMMU)".into(),
            ))
        } else {
            test()
        };
        match res {
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
