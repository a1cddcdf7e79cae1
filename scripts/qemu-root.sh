#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The QEMU the test VM runs: qemu-system-x86 11.1 from Debian's
# trixie-backports. It does not install on this Debian 12 host, so it lives in
# a minimal trixie root made with debootstrap in the cache, and runs through
# that root's own dynamic loader and libraries (scripts/lib.sh: qemu_cmd), with
# no chroot. Idempotent: a finished root is reused until its key changes.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

log() { [ -n "${QUIET_SETUP:-}" ] || echo "qemu-root: $*"; }

ROOT=$(qemu_root)
[ -e "$ROOT/.complete" ] && exit 0

[ "$(id -u)" -eq 0 ] || die "must run as root to build $ROOT"
if ! command -v debootstrap >/dev/null; then
	log "installing debootstrap"
	DEBIAN_FRONTEND=noninteractive apt-get -y -qq --no-install-recommends \
		install debootstrap >/dev/null
fi

# The archive the host itself uses (the first URIs line of its sources).
src=/etc/apt/sources.list.d/debian.sources
mirror=$(sed -n 's/^URIs:[[:space:]]*\([^[:space:]]*\).*/\1/p' "$src" 2>/dev/null | head -n 1)
[ -n "$mirror" ] || die "no archive address found in $src"

rm -rf "$ROOT"
mkdir -p "$ROOT"
log "debootstrap trixie into $ROOT (about a minute)"
logf=$(mktemp)
trap 'rm -f "$logf"' EXIT
debootstrap --variant=minbase trixie "$ROOT" "$mirror" >"$logf" 2>&1 ||
	{ cat "$logf" >&2; die "debootstrap failed"; }

cat >"$ROOT/etc/apt/sources.list.d/backports.sources" <<EOF
Types: deb
URIs: $mirror
Suites: trixie-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
log "installing qemu-system-x86 from trixie-backports"
{
	chroot "$ROOT" apt-get -qq update &&
		DEBIAN_FRONTEND=noninteractive chroot "$ROOT" apt-get -y -qq \
			--no-install-recommends install -t trixie-backports \
			qemu-system-x86 qemu-system-data seabios ipxe-qemu &&
		chroot "$ROOT" apt-get -qq clean
} >"$logf" 2>&1 || { cat "$logf" >&2; die "installing QEMU failed"; }

qemu_argv_in "$ROOT"
version=$("${QEMU[@]}" -version | head -n 1)
case "$version" in
*"version $QEMU_SERIES."*) ;;
*) die "unexpected QEMU in $ROOT: $version" ;;
esac
log "$version"
touch "$ROOT/.complete"
