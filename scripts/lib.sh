# SPDX-License-Identifier: GPL-2.0
#
# Shared settings for the build and VM scripts. Sourced, not run.
#
# Everything expensive lives in a cache outside the repository, keyed so that a
# change of kernel, configuration or toolchain builds afresh and nothing stale
# is ever reused.

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${IOMMUFD_RS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/iommufd-rs}
# Cargo's target directory for the userspace crates. Checkouts of different
# revisions must not share one at the same time: cargo can take one's build
# script for the other's when only mtimes differ.
CARGO_TARGET=${IOMMUFD_RS_CARGO_TARGET:-$CACHE/cargo-target}

KERNEL_PKG=linux-source-7.3
KERNEL_TARBALL=/usr/src/$KERNEL_PKG.tar.xz

# Bump when the way the kernel is built changes in a way the key cannot see.
KERNEL_RECIPE=1

# The kernel variant: the normal test kernel (IOMMUFD_RS_KERNEL unset or
# empty); debug: the same plus selftests/iommufd_rs/config.debug (KASAN,
# UBSAN, more lock debugging); or release: the same without lockdep,
# kmemleak and Rust's debug assertions (config.release), for make bench.
# Everything built against a variant is kept apart (variant_build) so that
# it never clobbers the normal artifacts.
KERNEL_VARIANT=${IOMMUFD_RS_KERNEL:-}
case "$KERNEL_VARIANT" in
"" | debug | release) ;;
*) echo "IOMMUFD_RS_KERNEL must be empty, debug or release" >&2; exit 1 ;;
esac

export LIBCLANG_PATH=/usr/lib/llvm-19/lib
RUSTC=/usr/bin/rustc
BINDGEN=${BINDGEN:-$HOME/.cargo/bin/bindgen}
KMAKE_ARGS=(LLVM=-19 "RUSTC=$RUSTC" "BINDGEN=$BINDGEN")

# The crates.io dependencies of the rust-vmm client test
# (selftests/iommufd_rs/rust-vmm-client): fetched once by scripts/setup.sh
# into this CARGO_HOME, then built offline.
RUST_VMM_CLIENT=$REPO/selftests/iommufd_rs/rust-vmm-client
CARGO_HOME_DEPS=$CACHE/cargo-home
# The vfio-user device model scripts/vm.sh runs on the host (VM_VFU): its
# crates come from the same CARGO_HOME, fetched the same way.
VFIO_USER_DEVICE=$REPO/tools/vfio-user-device

die() {
	echo "$(basename "$0"): $*" >&2
	exit 1
}

kernel_pkg_version() {
	dpkg-query -W -f='${Version}' "$KERNEL_PKG" 2>/dev/null ||
		die "$KERNEL_PKG is not installed (run scripts/setup.sh)"
}

# The source tree, unpacked once per package version.
kernel_src() {
	echo "$CACHE/src/$KERNEL_PKG-$(kernel_pkg_version)/$KERNEL_PKG"
}

# The configuration fragments of the variant, merged in this order after
# tools/testing/selftests/iommu/config.
kernel_frags() {
	echo "$REPO/selftests/iommufd_rs/config"
	[ -z "$KERNEL_VARIANT" ] || echo "$REPO/selftests/iommufd_rs/config.$KERNEL_VARIANT"
}

# The key of a kernel build: the source package, our configuration and the
# upstream selftest configuration merged with it, and the toolchain versions.
# (The normal kernel's key hashes exactly what it always did.)
kernel_key() {
	{
		echo "recipe $KERNEL_RECIPE"
		echo "source $(kernel_pkg_version)"
		cat "$REPO/selftests/iommufd_rs/config"
		[ -z "$KERNEL_VARIANT" ] ||
			cat "$REPO/selftests/iommufd_rs/config.$KERNEL_VARIANT"
		"$RUSTC" --version
		clang-19 --version | head -n 1
		"$BINDGEN" --version
	} | sha256sum | cut -c1-16
}

# The build directory of the kernel for the current key.
kernel_build() {
	echo "$CACHE/kernel/$(kernel_pkg_version)-${KERNEL_VARIANT:+$KERNEL_VARIANT-}$(kernel_key)"
}

# Where what is built against the kernel goes: build/ for the normal kernel
# (the selftest variant of the module in the repository itself), build/debug/
# or build/release/ for the others (the selftest variant from a copy of the
# sources there).
variant_build() {
	echo "$REPO/build${KERNEL_VARIANT:+/$KERNEL_VARIANT}"
}
selftest_dir() {
	if [ -z "$KERNEL_VARIANT" ]; then
		echo "$REPO"
	else
		echo "$(variant_build)/selftest"
	fi
}
# SERIES_MODULES=1 (make check-series): the modules that the patch series'
# final tree builds in the tree (scripts/series-check.sh, in the cache's
# series/) stand in for those built out of tree: iommufd_rs.ko in both
# variants, vfio-pci-pasid.ko and the test drivers. Normal kernel only.
SERIES_MODULES=${SERIES_MODULES:-}
series_modules() {
	[ "$SERIES_MODULES" = 1 ] || return 1
	[ -z "$KERNEL_VARIANT" ] || die "SERIES_MODULES=1 is for the normal kernel only"
}
series_build_dir() {
	echo "$CACHE/series/build-$(basename "${IOMMUFD_RS_KBUILD:-$(kernel_build)}")"
}

# The test driver of the in-kernel access API (selftests/iommufd_rs/kmod).
kmod_dir() {
	if series_modules; then
		echo "$CACHE/series/out/kmod"
	else
		echo "$(variant_build)/kmod"
	fi
}

# vfio-pci-pasid.ko for the iommufd implementation $1 (the production
# build's copy with rust-prod; the module is the same in both).
vpasid_module() {
	if series_modules; then
		echo "$(series_build_dir)/drivers/vfio/pci/pasid/vfio-pci-pasid.ko"
	elif [ "$1" = rust-prod ]; then
		echo "$(prod_dir)/vfio_pci_pasid/vfio-pci-pasid.ko"
	else
		echo "$(selftest_dir)/vfio_pci_pasid/vfio-pci-pasid.ko"
	fi
}

# Where scripts/build-module.sh builds the production variant of the module
# (IOMMUFD_RS_SELFTEST=n: no selftest ABI, no mock IOMMU): build/prod/, or
# build/debug/prod/.
prod_dir() {
	echo "$(variant_build)/prod"
}

# The module file of an iommufd implementation for the kernel build $2:
# rust is ours (the selftest variant), rust-prod ours without the selftest
# ABI and the mock, c the kernel's own iommufd.ko, none no module (prints
# nothing).
impl_module() {
	case "$1" in
	rust) if series_modules; then
		echo "$(series_build_dir)/drivers/iommu/iommufd_rs/iommufd_rs.ko"
	else
		echo "$(selftest_dir)/iommufd_rs.ko"
	fi ;;
	rust-prod) if series_modules; then
		echo "$CACHE/series/out/prod/iommufd_rs.ko"
	else
		echo "$(prod_dir)/iommufd_rs.ko"
	fi ;;
	c) echo "$2/modroot/lib/modules/$(cat "$2/include/config/kernel.release")/kernel/drivers/iommu/iommufd/iommufd.ko" ;;
	none) ;;
	*) die "IOMMUFD_IMPL must be rust, rust-prod, c or none" ;;
	esac
}

# QEMU for the test VM: the trixie-backports build in its own root (made by
# scripts/qemu-root.sh). Bump QEMU_RECIPE when that recipe changes.
QEMU_SERIES=11.1
QEMU_RECIPE=1
qemu_root() {
	echo "$CACHE/qemu/trixie-backports-$QEMU_SERIES-r$QEMU_RECIPE"
}

# The command line that runs the QEMU of root $1 through that root's loader
# and libraries, without a chroot, into the array QEMU.
qemu_argv_in() {
	QEMU=("$1/lib64/ld-linux-x86-64.so.2"
		--library-path "$1/lib/x86_64-linux-gnu:$1/usr/lib/x86_64-linux-gnu"
		"$1/usr/bin/qemu-system-x86_64"
		-L "$1/usr/share/qemu" -L "$1/usr/share/seabios")
}

# The same for the finished root of the current key.
qemu_argv() {
	local root
	root=$(qemu_root)
	[ -e "$root/.complete" ] || die "no QEMU at $root (run make setup)"
	qemu_argv_in "$root"
}
