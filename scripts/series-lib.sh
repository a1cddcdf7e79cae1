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
#   $SERIES_CACHE/build-<key>   the in-tree build (O=), configured like the
#                               test kernel of that key, plus our symbols

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
	[ -e "$LINUX/.git/base-complete" ] && return 0
	echo "series: making the clean-tree repository $LINUX (once)" >&2
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
	touch "$LINUX/.git/base-complete"
}

# The in-tree build directory, configured from the test kernel's .config;
# $@ are scripts/config arguments applied on top (then olddefconfig).
series_config() {
	local out kb
	out=$(series_build)
	kb=$(kernel_build)
	[ -e "$kb/.complete" ] || die "no test kernel at $kb (run make kernel)"
	mkdir -p "$out"
	if [ ! -e "$out/.config" ]; then
		cp "$kb/.config" "$out/.config"
	fi
	if [ $# -gt 0 ]; then
		"$LINUX/scripts/config" --file "$out/.config" "$@"
	fi
	make -s -C "$LINUX" O="$out" "${SERIES_KMAKE[@]}" olddefconfig >&2
}

# make in the in-tree build directory, at low priority.
series_make() {
	nice -n 10 make -s -C "$LINUX" O="$(series_build)" "${SERIES_KMAKE[@]}" \
		-j"$(nproc)" "$@"
}
