#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Install what the build, the test kernel and the VM runner need.
# Idempotent and silent once done: every step first checks whether its result
# is already present, so a second run makes no network request.
set -euo pipefail

log() { [ -n "${QUIET_SETUP:-}" ] || echo "setup: $*"; }
need_root() {
	if [ "$(id -u)" -ne 0 ]; then
		echo "setup: must run as root to install packages (missing: $*)" >&2
		exit 1
	fi
}

# Debian packages of the recipe, keyed by the file each one provides.
declare -A PKG_FILE=(
	[linux-source-7.3]=/usr/src/linux-source-7.3.tar.xz
	[rustc-web]=/usr/bin/rustc
	[rust-web-src]=/usr/lib/rustlib/src/rust/library/core/src/lib.rs
	[libstd-rust-web-dev]=/usr/lib/rustlib/x86_64-unknown-linux-gnu/lib
	[rust-web-clippy]=/usr/bin/clippy-driver
	[rustfmt-web]=/usr/bin/rustfmt
	[clang-19]=/usr/bin/clang-19
	[lld-19]=/usr/bin/ld.lld-19
	[llvm-19]=/usr/bin/llvm-ar-19
	[libclang-19-dev]=/usr/lib/llvm-19/lib/libclang.so
	[bc]=/usr/bin/bc
	[flex]=/usr/bin/flex
	[bison]=/usr/bin/bison
	[libelf-dev]=/usr/include/libelf.h
	[libssl-dev]=/usr/include/openssl/ssl.h
	[cpio]=/usr/bin/cpio
	[busybox-static]=/bin/busybox
	[xz-utils]=/usr/bin/xz
	[libcap-dev]=/usr/include/sys/capability.h
	[libnuma-dev]=/usr/include/numa.h
	[rsync]=/usr/bin/rsync
	[kmod]=/usr/bin/kmod
	[debootstrap]=/usr/sbin/debootstrap
	# The kernel's checkpatch.pl runs scripts/spdxcheck.py (make series-check).
	[python3-ply]=/usr/lib/python3/dist-packages/ply/__init__.py
	[python3-git]=/usr/lib/python3/dist-packages/git/__init__.py
)

missing=()
for p in "${!PKG_FILE[@]}"; do
	[ -e "${PKG_FILE[$p]}" ] || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
	need_root "${missing[*]}"
	extra=/etc/apt/sources.list.d/iommufd-rs-backports.sources
	if [ ! -e "$extra" ]; then
		src=/etc/apt/sources.list.d/debian.sources
		[ -e "$src" ] || { echo "setup: $src not found" >&2; exit 1; }
		# Same archive as the system's first stanza, other suites.
		awk 'BEGIN{RS=""; ORS="\n\n"} NR==1' "$src" |
			sed 's/^Suites:.*/Suites: bookworm-backports trixie-backports/' >"$extra"
		log "added backports suites in $extra"
	fi
	log "installing: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	aptlog=$(mktemp)
	trap 'rm -f "$aptlog"' EXIT
	apt_get() {
		apt-get -y -qq --no-install-recommends "$@" >"$aptlog" 2>&1 ||
			{ cat "$aptlog" >&2; return 1; }
	}
	apt_get update
	bpo=()
	normal=()
	for p in "${missing[@]}"; do
		case "$p" in
		linux-source-7.3) bpo+=("$p/trixie-backports") ;;
		*) normal+=("$p") ;;
		esac
	done
	[ ${#normal[@]} -eq 0 ] || apt_get install "${normal[@]}"
	# Install each backport with its suite as the target release, so that
	# its dependencies may come from the same suite.
	for p in "${bpo[@]}"; do
		if ! apt_get install -t "${p#*/}" "${p%%/*}"; then
			if [ "${p%%/*}" = linux-source-7.3 ]; then
				echo "setup: linux-source-7.3 is not served; the target kernel is Linux 7.3 and no other is substituted" >&2
			fi
			exit 1
		fi
	done
fi

BINDGEN=${BINDGEN:-$HOME/.cargo/bin/bindgen}
if [ ! -x "$BINDGEN" ] || ! "$BINDGEN" --version 2>/dev/null | grep -q '0\.72\.1'; then
	log "installing bindgen-cli 0.72.1"
	cargo install --quiet --locked bindgen-cli --version 0.72.1
fi

# QEMU 11.1 for the test VM, in its own trixie root in the cache.
"$(dirname "$0")/qemu-root.sh"

# The crates of the rust-vmm client test and of the vfio-user device model,
# once per Cargo.lock: later builds are --offline, so no later run asks
# crates.io for anything.
. "$(dirname "$0")/lib.sh"
for crate in "$RUST_VMM_CLIENT" "$VFIO_USER_DEVICE"; do
	stamp=$CARGO_HOME_DEPS/fetched-$(sha256sum "$crate/Cargo.lock" | cut -c1-16)
	if [ ! -e "$stamp" ]; then
		log "fetching the crates of $(basename "$crate") into $CARGO_HOME_DEPS"
		CARGO_HOME=$CARGO_HOME_DEPS cargo fetch --quiet --locked \
			--manifest-path "$crate/Cargo.toml"
		touch "$stamp"
	fi
done
