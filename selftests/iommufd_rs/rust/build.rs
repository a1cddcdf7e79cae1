// SPDX-License-Identifier: GPL-2.0

//! Generates the uAPI types with bindgen from the test kernel's headers.
//!
//! The input is rust/uapi_helper.h, the module's: `<linux/iommufd.h>`,
//! `<linux/vfio.h>` and the selftest ABI. bindgen, libclang and the kernel's
//! paths come from scripts/lib.sh, like every other build step, so that both
//! `make tests` and `make lint` find them without being told.

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The module's bindgen options, one per line: the two must read the
/// headers alike.
fn bindgen_parameters(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .expect("rust/uapi_bindgen_parameters is readable")
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect()
}

/// What scripts/lib.sh knows: the tools and the current test kernel.
struct Env {
    bindgen: String,
    libclang: String,
    kbuild: PathBuf,
    ksrc: PathBuf,
    /// The kernel source package: a new version makes a new kernel build.
    tarball: PathBuf,
}

fn lib_sh(repo: &Path) -> Env {
    let out = Command::new("bash")
        .arg("-c")
        .arg(
            r#"set -e; . "$1"; b=$(kernel_build); s=$(kernel_src)
            printf '%s\n' "$BINDGEN" "$LIBCLANG_PATH" "$b" "$s" "$KERNEL_TARBALL""#,
        )
        .arg("lib.sh")
        .arg(repo.join("scripts/lib.sh"))
        .output()
        .expect("bash runs");
    assert!(
        out.status.success(),
        "scripts/lib.sh: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("paths are UTF-8");
    let mut lines = text.lines().map(str::to_owned);
    let mut next = || lines.next().expect("scripts/lib.sh printed five lines");
    Env {
        bindgen: next(),
        libclang: next(),
        kbuild: next().into(),
        ksrc: next().into(),
        tarball: next().into(),
    }
}

fn main() {
    let krate = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("run by cargo"));
    let repo = krate.join("../../..");
    let helper = repo.join("rust/uapi_helper.h");
    let parameters = repo.join("rust/uapi_bindgen_parameters");
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("run by cargo"));
    let out = out_dir.join("uapi.rs");
    // The names of the selftest ABI's anonymous structs, as the module's
    // Kbuild generates them from rust/uapi_test_members.
    let members = repo.join("rust/uapi_test_members");
    let names: String = std::fs::read_to_string(&members)
        .expect("rust/uapi_test_members is readable")
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|m| format!("typedef __typeof__(((struct iommu_test_cmd *)0)->{m}) iommu_test_{m};\n"))
        .collect();
    std::fs::write(out_dir.join("uapi_test_names.h"), names).expect("OUT_DIR is writable");
    let env = lib_sh(&repo);
    assert!(
        env.kbuild.join(".complete").exists(),
        "no test kernel at {} (run make kernel)",
        env.kbuild.display()
    );
    let khdr = env.kbuild.join("usr/include");
    let test_abi = env.ksrc.join("drivers/iommu/iommufd");

    let status = Command::new(&env.bindgen)
        .env("LIBCLANG_PATH", &env.libclang)
        .arg(&helper)
        .arg("-o")
        .arg(&out)
        .args(bindgen_parameters(&parameters))
        .args(["--", "-D__BINDGEN__", "-DIOMMUFD_RS_TEST_ABI"])
        .arg(format!("-I{}", khdr.display()))
        .arg(format!("-I{}", repo.join("include/uapi").display()))
        .arg(format!("-I{}", test_abi.display()))
        .arg(format!("-I{}", out_dir.display()))
        .status()
        .expect("bindgen runs");
    assert!(status.success(), "bindgen failed on {}", helper.display());

    // The kernel's path changes with its key, which cargo cannot watch: so
    // the inputs of the key that can change the headers or their bindings,
    // then the headers themselves.
    for var in ["BINDGEN", "IOMMUFD_RS_CACHE", "XDG_CACHE_HOME"] {
        println!("cargo::rerun-if-env-changed={var}");
    }
    for input in [
        repo.join("scripts/lib.sh"),
        repo.join("selftests/iommufd_rs/config"),
        env.tarball,
        PathBuf::from(env.bindgen),
        helper,
        parameters,
        members,
        repo.join("include/uapi/linux/iommufd_rs.h"),
        khdr.join("linux/iommufd.h"),
        khdr.join("linux/vfio.h"),
        test_abi.join("iommufd_test.h"),
    ] {
        println!("cargo::rerun-if-changed={}", input.display());
    }
}
