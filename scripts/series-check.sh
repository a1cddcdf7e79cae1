#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make series-check: make the series (scripts/series.sh), then
#   - run the tree's scripts/checkpatch.pl --strict on every patch (with
#     --ignore MISSING_SIGN_OFF unless SIGNOFF=1 asked for sign-offs);
#   - apply the patch files with git am onto the clean tree, in a sparse
#     worktree, and compare the result with the generated commits;
#   - check out each commit in turn in the cached repository and build what
#     the patch's series/NN-*/check names, in one persistent O= build
#     directory, a copy of the test kernel's build plus CONFIG_IOMMUFD_RS=y
#     and CONFIG_VFIO_PCI_PASID=m (bisectability; see series-lib.sh);
#   - on the last commit, also build iommufd_rs.ko without the selftest ABI
#     and the mock (IOMMUFD_TEST=n), the production variant.
# One line per step, "series-check: PASS|FAIL name (detail)", then the
# totals; the status is that of the whole.
#
# --ci (make check): the series, checkpatch (of the patches that changed
# since they last passed), git am, and the final tree's build, no per-patch
# builds.
#
# The first run copies the test kernel's build; every build is incremental,
# as a checkout rewrites only the files that differ between commits.
set -euo pipefail
. "$(dirname "$0")/series-lib.sh"

mode=full
[ "${1:-}" != --ci ] || mode=ci

series_lock

pass=0
fail=0
mkdir -p "$SERIES_CACHE/log"
log_of() {
	echo "$SERIES_CACHE/log/$(printf '%s' "$1" | tr -c 'A-Za-z0-9_.-' _).log"
}
result() { # name, status, seconds
	local log
	log=$(log_of "$1")
	if [ "$2" -eq 0 ]; then
		pass=$((pass + 1))
		echo "series-check: PASS $1 ($3 s)"
	else
		fail=$((fail + 1))
		echo "series-check: FAIL $1 ($3 s, log $log)"
		tail -n 40 "$log" | sed 's/^/series-check:   /'
	fi
}
step() { # name, then the command; its output goes to a log shown on failure
	local name=$1 t0 rc
	shift
	t0=$(date +%s)
	"$@" >"$(log_of "$name")" 2>&1 && rc=0 || rc=$?
	result "$name" "$rc" $(($(date +%s) - t0))
}

t_start=$(date +%s)
series_base
scripts_dir=$(dirname "$0")
step "make series" "$scripts_dir/series.sh"
[ "$fail" -eq 0 ] || exit 1
TIP=$(cat "$SERIES_OUT/.commit")
mapfile -t PATCHES < <(ls "$SERIES_OUT"/[0-9][0-9][0-9][0-9]-*.patch | grep -v /0000-cover-letter.patch)
mapfile -t COMMITS < <(series_git rev-list --reverse "base..$TIP")
mapfile -t DIRS < <(cd "$REPO/series" && ls -d [0-9][0-9]-*/ | tr -d /)
[ ${#PATCHES[@]} -eq ${#COMMITS[@]} ] && [ ${#COMMITS[@]} -eq ${#DIRS[@]} ] ||
	die "${#PATCHES[@]} patch files, ${#COMMITS[@]} commits, ${#DIRS[@]} patch directories"

# checkpatch, from the tree itself.
checkpatch() {
	local ignore=()
	[ "${SIGNOFF:-0}" = 1 ] || ignore=(--ignore MISSING_SIGN_OFF)
	cd "$LINUX"
	# Debian's python3, which has spdxcheck.py's modules (python3-ply,
	# python3-git), whatever python3 comes first on the PATH.
	PATH=/usr/bin:$PATH perl scripts/checkpatch.pl --strict --no-summary --show-types "${ignore[@]}" "$1"
}
# One checkpatch per CPU at a time; each patch is a step of its own. With
# --ci, a patch that passed before as it is now (the same message and diff,
# the commit's hash and date aside, and the same sign-off choice) is not
# checked again.
checkpatch_one() { # patch file
	local name t0 rc key
	name="checkpatch --strict $(basename "$1")"
	key=$SERIES_CACHE/checkpatch-ok/$({
		echo "SIGNOFF=${SIGNOFF:-0}"
		sed -e '1{/^From [0-9a-f]* /d}' -e '/^Date: /d' "$1"
	} | sha256sum | cut -c1-32)
	t0=$(date +%s)
	if [ "$CHECK_MODE" = ci ] && [ -e "$key" ]; then
		echo "passed before as it is" >"$(log_of "$name")"
		rc=0
	else
		checkpatch "$1" >"$(log_of "$name")" 2>&1 && rc=0 || rc=$?
		[ "$rc" -ne 0 ] || { mkdir -p "${key%/*}" && touch "$key"; }
	fi
	echo "$rc $(($(date +%s) - t0))" >"$(log_of "$name").rc"
}
export -f checkpatch checkpatch_one log_of
export LINUX SERIES_CACHE SIGNOFF
export CHECK_MODE=$mode
printf '%s\0' "${PATCHES[@]}" | xargs -0 -n 1 -P "$(nproc)" bash -c 'checkpatch_one "$1"' _
for p in "${PATCHES[@]}"; do
	name="checkpatch --strict $(basename "$p")"
	read -r rc secs <"$(log_of "$name").rc"
	result "$name" "$rc" "$secs"
done

# git am onto the clean tree, in a worktree that checks out only the paths
# the series touches.
git_am() {
	if [ ! -e "$AM_TREE/.git" ]; then
		rm -rf "$AM_TREE"
		series_git worktree prune
		series_git worktree add -q --detach --no-checkout "$AM_TREE" base
	fi
	local g=(git -C "$AM_TREE" -c gc.auto=0)
	"${g[@]}" am --abort >/dev/null 2>&1 || true
	series_git diff --name-only "base..$TIP" | sed 's|^|/|' >"$SERIES_CACHE/am.paths"
	"${g[@]}" sparse-checkout set --no-cone --stdin <"$SERIES_CACHE/am.paths"
	"${g[@]}" checkout -q -f --detach base
	"${g[@]}" -c user.name=series-check -c user.email=series-check@localhost \
		am -q "${PATCHES[@]}"
	local got want
	got=$("${g[@]}" rev-parse 'HEAD^{tree}')
	want=$(series_git rev-parse "$TIP^{tree}")
	echo "applied tree $got, generated tree $want"
	[ "$got" = "$want" ]
}
step "git am of the series onto the clean tree" git_am

# The build of one commit. The configuration is the test kernel's plus our
# symbols, re-applied at each commit (olddefconfig drops them where Kconfig
# does not know them yet).
OUR_SYMBOLS=(--enable IOMMUFD_RS --module VFIO_PCI_PASID)
checkout() {
	series_git checkout -q -f --detach "$1"
	series_config "${OUR_SYMBOLS[@]}"
}
enabled() { # symbol: set in the configuration?
	grep -qE "^CONFIG_$1=[ym]$" "$(series_build)/.config"
}
build_tree() {
	series_make all
}
# What a patch builds, from its series/NN-*/check: headers, build, kmod,
# selftests, rst FILE...
run_checks() {
	local dir=$1 what arg
	[ -e "$REPO/series/$dir/check" ] || {
		echo "nothing to build: its files are built by a later patch"
		return 0
	}
	while read -r what arg; do
		case "$what" in
		'' | '#'*) ;;
		headers) series_make headers ;;
		build)
			enabled IOMMUFD_RS || die "CONFIG_IOMMUFD_RS is not set"
			build_tree
			;;
		kmod)
			series_make M="$KSRC_PATH/tools/testing/selftests/iommu/kmod" \
				MO="$SERIES_CACHE/out/kmod" modules
			;;
		selftests)
			series_make headers
			mkdir -p "$SERIES_CACHE/out/selftests"
			# KDIR: the test drivers are the kmod check's.
			make -s -C "$LINUX/tools/testing/selftests/iommu" \
				OUTPUT="$SERIES_CACHE/out/selftests" CC=gcc KDIR=/nonexistent \
				KHDR_INCLUDES="-isystem $(series_build)/usr/include" all 2>&1 |
				grep -v 'warning: ' || true
			local p
			for p in $(sed -n 's/^IOMMUFD_RS_\(TESTS\|EXTENDED\) := //p; s/^\t\t*\(iommufd_rs_.*\)/\1/p' \
				"$LINUX/tools/testing/selftests/iommu/Makefile" | tr -d '\\'); do
				[ -x "$SERIES_CACHE/out/selftests/$p" ] || die "$p did not build"
			done
			;;
		rst)
			python3 -m docutils --halt=warning --report=info "$LINUX/$arg" /dev/null
			;;
		*) die "series/$dir/check: unknown check $what" ;;
		esac
	done <"$REPO/series/$dir/check"
}
build_commit() { # index
	checkout "${COMMITS[$1]}"
	run_checks "${DIRS[$1]}"
}

# The production variant of the final tree: IOMMUFD_TEST=n for this one
# module (the build directory keeps the test kernel's IOMMUFD_TEST=y).
build_prod() {
	series_make M="$KSRC_PATH/drivers/iommu/iommufd_rs" MO="$SERIES_CACHE/out/prod" \
		CONFIG_IOMMUFD_TEST=n modules
	local ko=$SERIES_CACHE/out/prod/iommufd_rs.ko
	[ -e "$ko" ] || die "no $ko"
	# Neither the mock IOMMU nor the selftest ABI in it.
	! nm "$ko" | grep -E 'iommufd_rs_mock_|selftest'

}

if [ "$mode" = full ]; then
	for i in "${!COMMITS[@]}"; do
		step "build $((i + 1))/${#COMMITS[@]} ${DIRS[$i]}" build_commit "$i"
	done
else
	final() {
		checkout "$TIP"
		build_tree
	}
	step "build of the final tree" final
fi
step "iommufd_rs.ko of the final tree without the selftest ABI (IOMMUFD_TEST=n)" build_prod

echo "series-check: took $(($(date +%s) - t_start)) s; $pass passed, $fail failed"
[ "$fail" -eq 0 ]
