#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Build iommufd_rs.ko against the cached test kernel (out of tree, M=).
# CLIPPY=1 in the environment runs clippy as part of the build; with
# WERROR=1 any compiler or clippy warning fails it.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

KBUILD=$(kernel_build)
[ -e "$KBUILD/.complete" ] || die "no test kernel at $KBUILD (run make kernel)"
args=("${KMAKE_ARGS[@]}")
[ "${CLIPPY:-0}" != 1 ] || args+=(CLIPPY=1 CLIPPY_DRIVER=/usr/bin/clippy-driver)

log=$(mktemp)
trap 'rm -f "$log"' EXIT
make -s -C "$KBUILD" M="$REPO" "${args[@]}" -j"$(nproc)" modules 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
[ "$rc" -eq 0 ] || exit "$rc"
if [ "${WERROR:-0}" = 1 ] && grep -qE '^(warning|error)(\[|:)' "$log"; then
	die "the module build printed warnings"
fi
