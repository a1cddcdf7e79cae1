# SPDX-License-Identifier: GPL-2.0
#
# Shared by scripts/series.sh and scripts/series-check.sh. Sourced, not run.
#
# The series is made against a git repository of the clean Linux 7.3 source
# (the linux-source-7.3 tarball the test kernel is built from), kept at a
# fixed path in the cache so that a checkout only rewrites the files that
# differ and kbuild rebuilds incrementally:
#
#   $SERIES_CACHE/linux         the repository; branch "base" is the clean
#                               tree, branch "series" the generated patches
#   $SERIES_CACHE/am            a sparse worktree where "git am" is tried
#   $SERIES_CACHE/build-<key>   the in-tree build (O=): a copy of the test
#                               kernel's build of that key, plus our symbols

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SERIES_CACHE=$CACHE/series
LINUX=$SERIES_CACHE/linux
AM_TREE=$SERIES_CACHE/am
SERIES_OUT=$REPO/build/series
# The build directory is keyed by the test kernel it copies its
# configuration from.
series_build() {
	echo "$SERIES_CACHE/build-$(basename "$(kernel_build)")"
}
# The kernel release must stay the test kernel's, so that the modules built
# here load into it: LOCALVERSION set (empty) keeps setlocalversion from
# adding "+" for a git tree.
SERIES_KMAKE=("${KMAKE_ARGS[@]}" LOCALVERSION=)

# The git identity of the commits: the repository's user (the submitter),
# the date that of the repository's HEAD, so that the same repository
# contents give the same series.
series_git() {
	git -C "$LINUX" -c core.autocrlf=false -c gc.auto=0 "$@"
}

# The clean tree, once: the tarball unpacked into a new repository. Its
# first commit is branch "base".
series_base() {
	local version
	version=$(kernel_pkg_version)
	[ "$(cat "$LINUX/.git/base-complete" 2>/dev/null)" != "$version" ] || return 0
	echo "series: making the clean-tree repository $LINUX of $KERNEL_PKG $version" >&2
	rm -rf "$LINUX"
	mkdir -p "$LINUX"
	tar -C "$LINUX" --strip-components=1 -xf "$KERNEL_TARBALL"
	git -C "$LINUX" init -q -b base
	# -f: Debian's .gitignore ignores the top level of its own tree.
	series_git add -A -f
	GIT_AUTHOR_NAME=linux-source GIT_AUTHOR_EMAIL=linux-source@localhost \
		GIT_COMMITTER_NAME=linux-source GIT_COMMITTER_EMAIL=linux-source@localhost \
		GIT_AUTHOR_DATE='2000-01-01T00:00:00Z' GIT_COMMITTER_DATE='2000-01-01T00:00:00Z' \
		series_git commit -q -m "Linux $(kernel_pkg_version) (Debian $KERNEL_PKG)"
	echo "$version" >"$LINUX/.git/base-complete"
}

# One user of the cached repository and build at a time: make series and
# make series-check, from any clone, wait for each other.
series_lock() {
	[ -z "${SERIES_LOCKED:-}" ] || return 0
	mkdir -p "$SERIES_CACHE"
	exec 9>"$SERIES_CACHE/lock"
	flock 9
	export SERIES_LOCKED=1
}

# The in-tree build directory starts as a copy of the test kernel's build
# (cp -a keeps the times), which is the build of this very source: the clean
# tree comes from the same tarball, with the same file times. kbuild records
# absolute paths in its .cmd files, so the series tree and its build are
# built where the test kernel's were: series_ns runs a command in a private
# mount namespace in which $LINUX is bind-mounted on the test kernel's
# source and the series build on the test kernel's build. Nothing outside
# that namespace sees the mounts (it needs root, as set-up does). The first
# build is then incremental: what the series adds or changes.
KSRC_PATH=$(kernel_src)
KBUILD_PATH=$(kernel_build)
series_seed() {
	local out
	out=$(series_build)
	[ -e "$out/.seeded" ] && return 0
	[ -e "$KBUILD_PATH/.complete" ] || die "no test kernel at $KBUILD_PATH (run make kernel)"
	echo "series: seeding $out from the test kernel's build (once)" >&2
	rm -rf "$out"
	cp -a "$KBUILD_PATH" "$out"
	rm -rf "$out/modroot" "$out/.complete"
	touch "$out/.seeded"
}
series_ns() {
	unshare -m --propagation private bash -c \
		'mount --bind "$1" "$2" && mount --bind "$3" "$4" && shift 4 && exec "$@"' \
		series-ns "$LINUX" "$KSRC_PATH" "$(series_build)" "$KBUILD_PATH" "$@"
}

# make in the series build, in the namespace, at low priority. Paths given
# to it must be those of the namespace ($KSRC_PATH/..., not $LINUX/...).
series_make() {
	series_ns nice -n 10 make -s -C "$KSRC_PATH" O="$KBUILD_PATH" "${SERIES_KMAKE[@]}" \
		-j"$(nproc)" "$@"
}

# The configuration: the test kernel's, and $@ (scripts/config arguments)
# on top, then olddefconfig.
series_config() {
	series_seed
	if [ $# -gt 0 ]; then
		"$LINUX/scripts/config" --file "$(series_build)/.config" "$@"
	fi
	series_make olddefconfig >&2
}
