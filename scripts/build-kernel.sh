#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the test kernel into the cache, unless a complete build for the
# current key is already there. Prints the build directory on stdout.
# IOMMUFD_RS_KERNEL=debug or release builds that variant (config.debug or
# config.release on top).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

SRC=$(kernel_src)
OUT=$(kernel_build)

if [ -e "$OUT/.complete" ]; then
	echo "$OUT"
	exit 0
fi

log() { echo "build-kernel: $*" >&2; }

if [ ! -e "$SRC/Makefile" ]; then
	log "unpacking $KERNEL_TARBALL"
	rm -rf "$(dirname "$SRC")"
	mkdir -p "$(dirname "$SRC")"
	tar -C "$(dirname "$SRC")" -xf "$KERNEL_TARBALL"
fi

mkdir -p "$OUT"
log "configuring $OUT"
mapfile -t frags < <(kernel_frags)
make -s -C "$SRC" O="$OUT" "${KMAKE_ARGS[@]}" allnoconfig >&2
(cd "$OUT" && "$SRC/scripts/kconfig/merge_config.sh" -m .config \
	"$SRC/tools/testing/selftests/iommu/config" "${frags[@]}") >/dev/null
make -s -C "$SRC" O="$OUT" "${KMAKE_ARGS[@]}" olddefconfig >&2

# Every setting of our fragments must have survived, the last fragment's
# where two set one option: a silently dropped option would make the tests
# measure the wrong kernel. An option that is not set may also be absent,
# when what it depends on is off.
bad=0
while IFS= read -r line; do
	case "$line" in
	CONFIG_*=*) grep -qxF "$line" "$OUT/.config" || { log "lost: $line"; bad=1; } ;;
	"# CONFIG_"*" is not set")
		opt=${line#\# }
		opt=${opt%% *}
		! grep -q "^$opt=" "$OUT/.config" || { log "lost: $line"; bad=1; }
		;;
	esac
done < <(cat "${frags[@]}" | sed -n 's/^\(CONFIG_[A-Za-z0-9_]*\)=.*/\1 &/p;
	s/^# \(CONFIG_[A-Za-z0-9_]*\) is not set$/\1 &/p' |
	awk '{ k = $1; sub(/^[^ ]* /, ""); last[k] = $0; if (!(k in seen)) { seen[k] = 1; order[n++] = k } }
		END { for (i = 0; i < n; i++) print last[order[i]] }')
[ "$bad" -eq 0 ] || die "the configuration fragment did not apply"

make -s -C "$SRC" O="$OUT" "${KMAKE_ARGS[@]}" rustavailable >&2

log "building (this takes about 15 minutes on 2 cores)"
start=$(date +%s)
make -s -C "$SRC" O="$OUT" "${KMAKE_ARGS[@]}" -j"$(($(nproc) + 1))" bzImage modules >&2
rm -rf "$OUT/modroot"
make -s -C "$SRC" O="$OUT" "${KMAKE_ARGS[@]}" INSTALL_MOD_PATH="$OUT/modroot" \
	INSTALL_MOD_STRIP=1 DEPMOD=/bin/true modules_install >&2
make -s -C "$SRC" O="$OUT" "${KMAKE_ARGS[@]}" headers >&2
log "built in $(($(date +%s) - start)) s"
touch "$OUT/.complete"
echo "$OUT"
