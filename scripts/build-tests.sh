#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the test programs the VM runs: our C selftests (kselftest harness),
# our Rust selftests, the samples and upstream's iommufd selftest, all
# against the uAPI headers of the test kernel. Outputs go to build/.
# IOMMUFD_RS_KERNEL=debug builds only what depends on the kernel build, the
# test driver kmod, into build/debug/kmod: the programs are the same (the
# same uAPI headers) and the debug kernel runs those in build/.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

KBUILD=$(kernel_build)
SRC=$(kernel_src)
[ -e "$KBUILD/.complete" ] || die "no test kernel at $KBUILD (run make kernel)"
OUT=$REPO/build

# The test drivers of the in-kernel access API and of the PASID
# virtualization API, out of tree into build/kmod (build/debug/kmod). The
# latter's symbols are iommufd_rs.ko's, which need not be built yet: modpost
# learns them from include/linux/iommufd_rs.h (the kernel has no
# MODVERSIONS, so no CRCs).
mkdir -p "$(kmod_dir)"
sed -n 's/^[a-z].* \**\(iommufd_rs_[a-z_]*\)(.*/\1/p' "$REPO/include/linux/iommufd_rs.h" |
	awk '{ printf "0x00000000\t%s\tiommufd_rs\tEXPORT_SYMBOL_GPL\tIOMMUFD\n", $1 }' \
	>"$(kmod_dir)/iommufd_rs.symvers"
make -s -C "$KBUILD" M="$REPO/selftests/iommufd_rs/kmod" MO="$(kmod_dir)" \
	KBUILD_EXTRA_SYMBOLS="$(kmod_dir)/iommufd_rs.symvers" "${KMAKE_ARGS[@]}" modules
[ -z "$KERNEL_VARIANT" ] || exit 0

# The kernel's uAPI headers, then ours (include/uapi/linux/iommufd_rs.h).
KHDR="-isystem $KBUILD/usr/include -isystem $REPO/include/uapi"
mkdir -p "$OUT/selftests/iommufd_rs" "$OUT/samples" "$OUT/upstream/iommu"

make -s -C "$REPO/selftests/iommufd_rs" LIBMK="$SRC/tools/testing/selftests/lib.mk" \
	OUTPUT="$OUT/selftests/iommufd_rs" KHDR_INCLUDES="$KHDR" CC=gcc

# make bench's program (scripts/bench.sh), smoked by make check.
mkdir -p "$OUT/bench"
gcc -Wall -Werror -O2 $KHDR -I"$SRC/drivers/iommu/iommufd" -I"$REPO/selftests/iommufd_rs" \
	-pthread -o "$OUT/bench/iommufd_rs_bench" "$REPO/selftests/iommufd_rs/bench/iommufd_rs_bench.c"

make -s -C "$REPO/samples" OUTPUT="$OUT/samples" KHDR_INCLUDES="$KHDR" \
	TEST_ABI_INCLUDES="-I$SRC/drivers/iommu/iommufd" CC=gcc

cargo build --quiet --release --offline \
	--manifest-path "$REPO/selftests/iommufd_rs/rust/Cargo.toml" \
	--target-dir "$CARGO_TARGET"
install -m 0755 "$CARGO_TARGET/release/iommufd_rs_uapi_rs" \
	"$OUT/selftests/iommufd_rs/iommufd_rs_uapi_rs"

# rust-vmm's vfio-ioctls and iommufd-ioctls on the edu device, from the
# crates scripts/setup.sh fetched.
CARGO_HOME=$CARGO_HOME_DEPS cargo build --quiet --release --offline --locked \
	--manifest-path "$RUST_VMM_CLIENT/Cargo.toml" \
	--target-dir "$CARGO_TARGET"
install -m 0755 "$CARGO_TARGET/release/iommufd_rs_rust_vmm" \
	"$OUT/selftests/iommufd_rs/iommufd_rs_rust_vmm"

# The vfio-user device model that scripts/vm.sh runs on the host (VM_VFU),
# from the crates scripts/setup.sh fetched.
mkdir -p "$OUT/tools"
CARGO_HOME=$CARGO_HOME_DEPS cargo build --quiet --release --offline --locked \
	--manifest-path "$VFIO_USER_DEVICE/Cargo.toml" \
	--target-dir "$CARGO_TARGET"
install -m 0755 "$CARGO_TARGET/release/vfio-user-device" \
	"$OUT/tools/vfio-user-device"

# Upstream's selftest, built from the kernel tree without writing into it.
make -s -C "$SRC/tools/testing/selftests/iommu" OUTPUT="$OUT/upstream/iommu" \
	KHDR_INCLUDES="$KHDR" CC=gcc "$OUT/upstream/iommu/iommufd" \
	"$OUT/upstream/iommu/iommufd_fail_nth" 2>&1 |
	grep -v 'warning: ' || true
for t in iommufd iommufd_fail_nth; do
	[ -x "$OUT/upstream/iommu/$t" ] || die "upstream $t selftest did not build"
done
