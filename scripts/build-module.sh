#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Build iommufd_rs.ko and vfio_pci_pasid/vfio-pci-pasid.ko against the
# cached test kernel (out of tree, M=).
# CLIPPY=1 in the environment runs clippy as part of the build; with
# WERROR=1 any compiler or clippy warning fails it.
#
# IOMMUFD_RS_SELFTEST=n builds the production variant (no selftest ABI, no
# mock IOMMU) into build/prod/iommufd_rs.ko, from a copy of the module's
# sources, so that it never clobbers ./iommufd_rs.ko, the selftest variant
# the test kernel (CONFIG_IOMMUFD_TEST=y) gives by default.
#
# IOMMUFD_RS_KERNEL=debug builds against the debug kernel, both variants
# from copies: the selftest one in build/debug/selftest/, the production one
# in build/debug/prod/.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

KBUILD=$(kernel_build)
[ -e "$KBUILD/.complete" ] || die "no test kernel at $KBUILD (run make kernel)"
args=("${KMAKE_ARGS[@]}")
[ "${CLIPPY:-0}" != 1 ] || args+=(CLIPPY=1 CLIPPY_DRIVER=/usr/bin/clippy-driver)

# A copy of the module's sources in $1; rsync keeps the times of unchanged
# files, so that the copy builds incrementally.
copy_sources() {
	mkdir -p "$1"
	(cd "$REPO" && git ls-files -co --exclude-standard Kbuild rust glue include \
		vfio_pci_pasid | grep -Ev '^(rust|vfio_pci_pasid)/host/') |
		rsync -a --files-from=- "$REPO/" "$1/"
}

variant=${IOMMUFD_RS_SELFTEST:-}
unset IOMMUFD_RS_SELFTEST
case "$variant" in
n)
	DIR=$(prod_dir)
	copy_sources "$DIR"
	args+=(IOMMUFD_RS_SELFTEST=n)
	;;
'' | y)
	DIR=$(selftest_dir)
	[ "$DIR" = "$REPO" ] || copy_sources "$DIR"
	[ -z "$variant" ] || args+=(IOMMUFD_RS_SELFTEST=y)
	;;
*) die "IOMMUFD_RS_SELFTEST must be y or n" ;;
esac

log=$(mktemp)
trap 'rm -f "$log"' EXIT
make -s -C "$KBUILD" M="$DIR" "${args[@]}" -j"$(nproc)" modules 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
[ "$rc" -eq 0 ] || exit "$rc"
if [ "${WERROR:-0}" = 1 ] && grep -qE '^(warning|error)(\[|:)' "$log"; then
	die "the module build printed warnings"
fi
