// SPDX-License-Identifier: GPL-2.0

//! The iommufd ioctl contract, checked from Rust in the test VM.
//!
//! Prints kselftest-style TAP and exits non-zero if any test failed.

mod dev;
mod ioas_tests;
mod tests;
mod uapi;

use std::process::ExitCode;

/// A failed check, with where and why.
pub struct Failure(String);

pub type TestResult = Result<(), Failure>;

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
            )));
        }
    }};
}

fn main() -> ExitCode {
    let mut tests = tests::all();
    tests.extend(ioas_tests::all());
    println!("TAP version 13");
    println!("1..{}", tests.len());
    let (mut pass, mut fail) = (0, 0);
    for (i, (name, test)) in tests.iter().enumerate() {
        match test() {
            Ok(()) => {
                pass += 1;
                println!("ok {} {}", i + 1, name);
            }
            Err(Failure(why)) => {
                fail += 1;
                println!("# {why}");
                println!("not ok {} {}", i + 1, name);
            }
        }
    }
    println!("# Totals: pass:{pass} fail:{fail} xfail:0 xpass:0 skip:0 error:0");
    if fail == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
