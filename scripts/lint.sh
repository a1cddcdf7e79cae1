#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Lint steps, each runnable alone:  scripts/lint.sh STEP   (--list names them)
#   clippy           the module built with CLIPPY=1, no warning allowed, in
#                    both variants (selftest and production)
#   rustfmt          rustfmt --check with the kernel's .rustfmt.toml
#   fmt              (not a check) format the Rust sources in place
#   checkpatch       scripts/checkpatch.pl --strict on our sources
#   stack-frames     no function of the modules (either variant) with a 2 KiB
#                    stack frame or more
#   c-werror         the C selftests and samples built with -Wall -Werror
#   selftests-clippy cargo clippy on the Rust selftests (with the rust-vmm
#                    client), the vfio-user device model and the host unit
#                    tests, warnings denied
set -uo pipefail
. "$(dirname "$0")/lib.sh"
cd "$REPO"

STEPS="clippy rustfmt checkpatch stack-frames c-werror selftests-clippy"
[ "${1:-}" != --list ] || { echo "$STEPS"; exit 0; }

rust_sources() {
	git ls-files -co --exclude-standard 'rust/*.rs' 'vfio_pci_pasid/*.rs' \
		'selftests/**/*.rs' 'tools/**/*.rs'
}
c_sources() { git ls-files -co --exclude-standard '*.c' '*.h'; }

case "${1:-all}" in
clippy)
	# An up-to-date object would skip the compile, and clippy with it.
	rm -f rust/iommufd.o "$(prod_dir)/rust/iommufd.o" \
		vfio_pci_pasid/vfio_pci_pasid.o "$(prod_dir)/vfio_pci_pasid/vfio_pci_pasid.o"
	CLIPPY=1 WERROR=1 scripts/build-module.sh &&
		IOMMUFD_RS_SELFTEST=n CLIPPY=1 WERROR=1 scripts/build-module.sh
	;;
rustfmt)
	rustfmt --check --edition 2021 --config-path "$(kernel_src)/.rustfmt.toml" \
		$(rust_sources)
	;;
fmt)
	# Not a check: rewrites the sources in the kernel's style.
	rustfmt --edition 2021 --config-path "$(kernel_src)/.rustfmt.toml" \
		$(rust_sources)
	;;
checkpatch)
	cp=(perl "$(kernel_src)/scripts/checkpatch.pl" --strict --no-tree --terse
		--show-types --ignore SPDX_LICENSE_TAG,FILE_PATH_CHANGES)
	"${cp[@]}" -f $(rust_sources) $(c_sources) Kbuild
	;;
stack-frames)
	# The kernel stack is 16 KiB and Rust has no -Wframe-larger-than: a
	# GUP batch on the stack once overflowed it here.
	scripts/stack-frames.py iommufd_rs.ko 2048 &&
		scripts/stack-frames.py "$(prod_dir)/iommufd_rs.ko" 2048 &&
		scripts/stack-frames.py vfio_pci_pasid/vfio-pci-pasid.ko 2048 &&
		scripts/stack-frames.py "$(prod_dir)/vfio_pci_pasid/vfio-pci-pasid.ko" 2048
	;;
c-werror)
	scripts/build-tests.sh
	;;
selftests-clippy)
	cargo clippy --quiet --offline --release \
		--manifest-path selftests/iommufd_rs/rust/Cargo.toml \
		--target-dir "$CARGO_TARGET" -- -D warnings &&
		CARGO_HOME=$CARGO_HOME_DEPS cargo clippy --quiet --offline --locked \
			--release --manifest-path "$RUST_VMM_CLIENT/Cargo.toml" \
			--target-dir "$CARGO_TARGET" -- -D warnings &&
		CARGO_HOME=$CARGO_HOME_DEPS cargo clippy --quiet --offline --locked \
			--release --tests --manifest-path "$VFIO_USER_DEVICE/Cargo.toml" \
			--target-dir "$CARGO_TARGET" -- -D warnings &&
		cargo clippy --quiet --offline --tests \
			--manifest-path rust/host/Cargo.toml \
			--target-dir "$CARGO_TARGET" -- -D warnings &&
		cargo clippy --quiet --offline --tests \
			--manifest-path vfio_pci_pasid/host/Cargo.toml \
			--target-dir "$CARGO_TARGET" -- -D warnings
	;;
all)
	rc=0
	for s in $STEPS; do
		"$0" "$s" || { echo "lint: $s failed"; rc=1; }
	done
	exit $rc
	;;
*)
	die "unknown step $1 (one of: $STEPS)"
	;;
esac
