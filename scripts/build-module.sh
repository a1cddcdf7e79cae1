#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Build iommufd_rs.ko against the cached test kernel (out of tree, M=).
# CLIPPY=1 in the environment runs clippy as part of the build; with
# WERROR=1 any compiler or clippy warning fails it.
#
# IOMMUFD_RS_SELFTEST=n builds the production variant (no selftest ABI, no
# mock IOMMU) into build/prod/iommufd_rs.ko, from a copy of the module's
# sources, so that it never clobbers ./iommufd_rs.ko, the selftest variant
# the test kernel (CONFIG_IOMMUFD_TEST=y) gives by default.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

KBUILD=$(kernel_build)
[ -e "$KBUILD/.complete" ] || die "no test kernel at $KBUILD (run make kernel)"
args=("${KMAKE_ARGS[@]}")
[ "${CLIPPY:-0}" != 1 ] || args+=(CLIPPY=1 CLIPPY_DRIVER=/usr/bin/clippy-driver)

variant=${IOMMUFD_RS_SELFTEST:-}
unset IOMMUFD_RS_SELFTEST
case "$variant" in
n)
	DIR=$(prod_dir)
	mkdir -p "$DIR"
	# Only the module's sources; rsync keeps the times of unchanged
	# files, so that the copy builds incrementally.
	(cd "$REPO" && git ls-files -co --exclude-standard Kbuild rust glue include |
		grep -v '^rust/host/') |
		rsync -a --files-from=- "$REPO/" "$DIR/"
	args+=(IOMMUFD_RS_SELFTEST=n)
	;;
'' | y)
	DIR=$REPO
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
