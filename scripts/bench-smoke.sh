#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run in the test VM with an iommufd module loaded: every measurement of
# make bench's program once, at sizes that take seconds, so that the code
# behind make bench cannot rot unnoticed between benchmarks. It checks that
# each one ran and printed its figures, not what they are (timings of a
# make check boot mean nothing).
#
#   scripts/bench-smoke.sh [--edu] label
#
# --edu also runs the measurements on QEMU's edu device (VM_EDU=1), through
# scripts/vfio-edu.sh, which loads vfio-pci against the module under test;
# without the selftest ABI (rust-prod) only those run. Prints
#   RESULT <label>:bench_smoke pass=N fail=N skip=0
set -u
repo=$(cd "$(dirname "$0")/.." && pwd)
bench=$repo/build/bench/iommufd_rs_bench
edu=0
if [ "${1:-}" = --edu ]; then
	edu=1
	shift
fi
label=$1
pass=0
fail=0

# check WHAT KEY... -- ARGS: runs the program, which must exit 0 and print one
# BENCH line with metric=WHAT and each KEY= a number, positive for the keys
# named with a trailing +.
check() {
	local what=$1 out key ok=1 v
	shift
	local keys=()
	while [ "$1" != -- ]; do
		keys+=("$1")
		shift
	done
	shift
	if ! out=$("$@"); then
		ok=0
	else
		echo "$out"
		[ "$(grep -c "^BENCH .*metric=$what " <<<"$out")" -eq 1 ] || ok=0
		for key in "${keys[@]}"; do
			v=$(sed -n "s/.* ${key%+}=\(-\?[0-9][0-9]*\)\( .*\)\?$/\1/p" <<<"$out")
			if [ -z "$v" ] || { [ "${key%+}" != "$key" ] && [ "$v" -le 0 ]; }; then
				echo "bench-smoke: $what: no usable ${key%+}= figure"
				ok=0
			fi
		done
	fi
	if [ $ok = 1 ]; then
		pass=$((pass + 1))
	else
		echo "bench-smoke: FAIL $*"
		fail=$((fail + 1))
	fi
}

if [ ! -x "$bench" ]; then
	echo "bench-smoke: no $bench (make tests)"
	fail=1
elif [ "$edu" = 0 ] || [ "${IOMMUFD_IMPL:-}" != rust-prod ]; then
	check map map_ns+ unmap_ns+ ops+ -- "$bench" map -c 4K -s 1M
	check map map_ns+ unmap_ns+ ops+ -- "$bench" map -c 2M -s 16M -r 2
	check pasid ns+ ops+ -- "$bench" pasid -d 0.1
	check pin map_kib access_kib left_kib map_ns+ -- "$bench" pin -s 16M
	check pin map_kib access_kib left_kib map_ns+ -- "$bench" pin -s 16M -H
	check failmap ns+ peak_kib left_kib samples+ -- "$bench" failmap
fi
if [ "$edu" = 1 ] && [ -x "$bench" ]; then
	# The checks run in vfio-edu.sh's shell: it reports through a file.
	tally=$(mktemp)
	# shellcheck disable=SC2016 # expanded by the inner shell
	IOMMUFD_IMPL=${IOMMUFD_IMPL:-rust} "$repo/scripts/vfio-edu.sh" --run "
		$(declare -f check)
		pass=0 fail=0 bench=$bench
		check map map_ns+ unmap_ns+ ops+ -- \$bench -D edu map -c 4K -s 1M
		check map map_ns+ unmap_ns+ ops+ -- \$bench -D edu map -c 2M -s 16M
		check pin map_kib left_kib map_ns+ -- \$bench -D edu pin -s 16M
		check failmap ns+ peak_kib left_kib samples+ -- \$bench -D edu failmap
		echo \$pass \$fail >$tally" "$label" || fail=$((fail + 1))
	read -r p f <"$tally" || { p=0 f=1; }
	pass=$((pass + p))
	fail=$((fail + f))
	rm -f "$tally"
fi
echo "RESULT $label:bench_smoke pass=$pass fail=$fail skip=0"
[ "$fail" -eq 0 ]
