#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make bench: the kernel's C iommufd.ko against iommufd_rs.ko, both driven by
# selftests/iommufd_rs/bench/iommufd_rs_bench.c in one boot of the test VM:
#
#   (a) IOAS_MAP then IOAS_UNMAP of 1 GiB in 4 KiB chunks, mock domain attached
#   (b) the same in 2 MiB chunks, repeated for a measurement long enough
#   (c) PASID attach / replace / detach on a PASID-capable mock device
#
# The guest loads one module at a time (both register /dev/iommu), runs the
# three measurements, and removes it; rounds alternate the order (c rust,
# rust c, ...). The figures are the medians over the rounds, and Rust/C is a
# ratio of throughputs: above 1 means iommufd_rs.ko is the faster.
#
# Knobs (environment):
#   BENCH_IMPLS     implementations to run, "c rust" by default; "c" alone
#                   measures the C module and prints no ratio
#   BENCH_ROUNDS    runs of each implementation, 3 by default
#   BENCH_SIZE      bytes mapped in (a) and (b), 1G by default (K, M, G
#                   suffixes; at most 1G): a 4 KiB pass over 1 GiB takes about
#                   a minute under TCG
#   BENCH_2M_PASSES map+unmap passes per (b) run, 5 by default
#   BENCH_PASID_SECS  length of each (c) run in seconds, 3 by default
#   BENCH_VM_MEM    guest RAM, 3G by default (vm.sh's VM_MEM, for this run only)
#   VM_ACCEL=kvm    as for vm.sh
#
# Any failing call, a missing result, or a kernel report fails the run with a
# non-zero status; no ratio is printed then.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$REPO"

IMPLS=${BENCH_IMPLS:-c rust}
ROUNDS=${BENCH_ROUNDS:-3}
SIZE=${BENCH_SIZE:-1G}
PASSES_2M=${BENCH_2M_PASSES:-5}
PASID_SECS=${BENCH_PASID_SECS:-3}

read -r -a impls <<<"$IMPLS"
case "${impls[*]}" in
c | rust | "c rust" | "rust c") ;;
*) die "BENCH_IMPLS must be c, rust or both, not '$IMPLS'" ;;
esac
[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || die "BENCH_ROUNDS must be a positive integer"
[[ $SIZE =~ ^[1-9][0-9]*[KMG]?$ ]] || die "BENCH_SIZE must be a size such as 1G or 256M"
[[ $PASSES_2M =~ ^[1-9][0-9]*$ ]] || die "BENCH_2M_PASSES must be a positive integer"
[[ $PASID_SECS =~ ^[0-9]*[1-9][0-9]*(\.[0-9]+)?$|^[0-9]*\.[0-9]*[1-9][0-9]*$ ]] ||
	die "BENCH_PASID_SECS must be a positive number of seconds"
case $SIZE in
*G) size_label="${SIZE%G} GiB" size_bytes=$((${SIZE%G} << 30)) ;;
*M) size_label="${SIZE%M} MiB" size_bytes=$((${SIZE%M} << 20)) ;;
*K) size_label="${SIZE%K} KiB" size_bytes=$((${SIZE%K} << 10)) ;;
*) size_label="$SIZE bytes" size_bytes=$SIZE ;;
esac
# Inside the mock aperture, and whole 2 MiB chunks for (b).
((size_bytes <= 1 << 30 && size_bytes % (2 << 20) == 0)) ||
	die "BENCH_SIZE must be a multiple of 2 MiB, at most 1 GiB"

KBUILD=$(kernel_build)
SRC=$(kernel_src)
[ -e "$KBUILD/.complete" ] || die "no test kernel at $KBUILD (run make kernel)"

# Built as the C selftests are: the test kernel's uAPI headers and the
# selftest command ABI from its source tree.
OUT=$REPO/build/bench
BENCH=$OUT/iommufd_rs_bench
mkdir -p "$OUT"
gcc -Wall -Werror -O2 -isystem "$KBUILD/usr/include" \
	-I"$SRC/drivers/iommu/iommufd" -I"$REPO/selftests/iommufd_rs" -pthread -o "$BENCH" \
	"$REPO/selftests/iommufd_rs/bench/iommufd_rs_bench.c"

declare -A module
for impl in "${impls[@]}"; do
	module[$impl]=$(impl_module "$impl" "$KBUILD")
	[ -e "${module[$impl]}" ] || die "${module[$impl]} not built (make module)"
done

# The guest's part. The modules are loaded and removed here rather than by
# vm-init, which runs with IOMMUFD_IMPL=none.
guest_script() {
	local impl
	echo "bench=$(printf '%q' "$BENCH")"
	echo "declare -A module"
	for impl in "${impls[@]}"; do
		echo "module[$impl]=$(printf '%q' "${module[$impl]}")"
	done
	cat <<-EOS
		impls=(${impls[*]})
		rounds=$ROUNDS size=$SIZE passes_2m=$PASSES_2M pasid_secs=$PASID_SECS
	EOS
	cat <<-'EOS'
		run() { # run IMPL ROUND
			local impl=$1 round=$2 ko name rc=0 tag
			ko=${module[$impl]}
			name=$(basename "$ko" .ko)
			tag="impl=$impl round=$round"
			echo "bench: round $round of $rounds: $name.ko"
			if [ -e /dev/iommu ]; then
				echo "bench: /dev/iommu exists before $name.ko is loaded"
				return 1
			fi
			insmod "$ko" || { echo "bench: insmod $ko failed"; return 1; }
			"$bench" -T "$tag" map -c 4K -s "$size" &&
				"$bench" -T "$tag" map -c 2M -s "$size" -r "$passes_2m" &&
				"$bench" -T "$tag" pasid -d "$pasid_secs" ||
				{ echo "bench: $name.ko: a measurement failed (above)"; rc=1; }
			if ! rmmod "$name"; then
				echo "bench: rmmod $name failed: a reference was leaked"
				rc=1
			fi
			return $rc
		}
		for ((r = 1; r <= rounds; r++)); do
			order=("${impls[@]}")
			if ((r % 2 == 0)); then
				order=()
				for ((i = ${#impls[@]} - 1; i >= 0; i--)); do
					order+=("${impls[i]}")
				done
			fi
			for impl in "${order[@]}"; do
				run "$impl" "$r" || exit 1
			done
		done
	EOS
}

LOG=$(mktemp)
trap 'rm -f "$LOG"' EXIT
read -r load _ </proc/loadavg
if awk -v l="$load" 'BEGIN { exit !(l >= 0.5) }'; then
	echo "bench: the host is busy (load $load): expect noisy figures"
fi
t0=$(date +%s)
echo "bench: ${impls[*]}, $ROUNDS round(s): $size_label in 4 KiB chunks, $PASSES_2M x $size_label" \
	"in 2 MiB chunks, $PASID_SECS s of PASID ops; VM_ACCEL=${VM_ACCEL:-tcg}, $(nproc) CPUs"
set +e
IOMMUFD_IMPL=none VM_MEM=${BENCH_VM_MEM:-3G} scripts/vm.sh "$(guest_script)" 2>&1 | tee "$LOG"
vm_rc=${PIPESTATUS[0]}
set -e
elapsed=$(($(date +%s) - t0))
[ "$vm_rc" -eq 0 ] || die "the benchmark failed in the VM (exit $vm_rc) after $elapsed s; no figures"

# One row per run and figure: "impl figure value".
figures=$(grep '^BENCH ' "$LOG" | awk '{
	delete kv
	for (i = 2; i <= NF; i++) {
		eq = index($i, "=")
		if (eq)
			kv[substr($i, 1, eq - 1)] = substr($i, eq + 1)
	}
	impl = kv["impl"]
	ops = kv["ops"] + 0
	if (kv["metric"] == "map") {
		map_s = kv["map_ns"] / 1e9
		unmap_s = kv["unmap_ns"] / 1e9
		bytes = kv["bytes"] + 0
		if (map_s <= 0 || unmap_s <= 0 || bytes <= 0 || ops <= 0)
			next
		m = kv["chunk"] + 0 == 4096 ? "map4k" : "map2m"
		print impl, m "_gibps", bytes / 1073741824 / (map_s + unmap_s)
		print impl, m "_secs", (map_s + unmap_s) / kv["passes"]
		print impl, m "_mapops", ops / map_s
		print impl, m "_unmapops", ops / unmap_s
		print impl, m "_thp", 100 * kv["thp_kib"] * 1024 / kv["size"]
		print impl, m "_mode", kv["thp_mode"]
	} else if (kv["metric"] == "pasid" && kv["ns"] + 0 > 0 && ops > 0) {
		print impl, "pasid_opsps", ops / (kv["ns"] / 1e9)
	}
}')

# Every implementation must have a result for every round and measurement.
for impl in "${impls[@]}"; do
	for f in map4k_gibps map2m_gibps pasid_opsps; do
		n=$(awk -v i="$impl" -v f="$f" '$1 == i && $2 == f' <<<"$figures" | wc -l)
		[ "$n" -eq "$ROUNDS" ] ||
			die "$impl: $n result(s) for $f, expected $ROUNDS; no figures"
	done
done

median() { # median IMPL FIGURE
	awk -v i="$1" -v f="$2" '$1 == i && $2 == f { print $3 }' <<<"$figures" |
		sort -g | awk '{ v[NR] = $1 } END {
			if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
modes() { # the THP modes seen
	awk -v f="$1" '$2 == f { print $3 }' <<<"$figures" | sort -u | paste -sd, -
}
spread() { # spread IMPL FIGURE: largest over smallest value of the rounds
	awk -v i="$1" -v f="$2" '$1 == i && $2 == f {
		if (n++ == 0 || $3 < lo) lo = $3
		if ($3 > hi) hi = $3
	} END { printf "%.2f", (lo > 0 ? hi / lo : 0) }' <<<"$figures"
}

# row LABEL UNIT FIGURE FORMAT ratio|none [1: higher is better, 0: lower]
row() {
	local c r line
	line=$(printf '%-40s %-6s' "$1" "$2")
	for impl in c rust; do
		if [[ " ${impls[*]} " == *" $impl "* ]]; then
			line+=$(awk -v v="$(median "$impl" "$3")" -v f="$4" \
				'BEGIN { printf " %14s", sprintf(f, v) }')
		else
			line+=$(printf " %14s" -)
		fi
	done
	if [ "${#impls[@]}" -eq 2 ] && [ "$5" = ratio ]; then
		c=$(median c "$3")
		r=$(median rust "$3")
		line+=$(awk -v c="$c" -v r="$r" -v up="$6" 'BEGIN {
			printf " %8.3f", up ? r / c : c / r }')
	fi
	echo "$line"
}

echo
echo "bench: medians of $ROUNDS run(s) per implementation, one boot, $elapsed s in all"
printf '%-40s %-6s %14s %14s %8s\n' "" "" "C iommufd" "iommufd_rs" "Rust/C"
row "(a) map+unmap $size_label, 4 KiB chunks" GiB/s map4k_gibps %.4f ratio 1
row "    time of one pass (map + unmap)" s map4k_secs %.2f ratio 0
row "    IOMMU_IOAS_MAP" ops/s map4k_mapops %.0f ratio 1
row "    IOMMU_IOAS_UNMAP" ops/s map4k_unmapops %.0f ratio 1
row "    buffer backed by THP" % map4k_thp %.0f none
row "(b) map+unmap $size_label, 2 MiB chunks" GiB/s map2m_gibps %.3f ratio 1
row "    time of one pass (map + unmap)" s map2m_secs %.3f ratio 0
row "    IOMMU_IOAS_MAP" ops/s map2m_mapops %.0f ratio 1
row "    IOMMU_IOAS_UNMAP" ops/s map2m_unmapops %.0f ratio 1
row "    buffer backed by THP (MADV_HUGEPAGE)" % map2m_thp %.0f none
row "(c) PASID attach/replace/detach" ops/s pasid_opsps %.0f ratio 1
echo
if [ "${#impls[@]}" -eq 2 ]; then
	echo "Rust/C: above 1 means iommufd_rs.ko is faster; for times it is C time / Rust time."
else
	echo "No Rust/C ratio: only ${impls[*]} ran (BENCH_IMPLS)."
fi
echo "THP mode in the guest: $(modes map2m_mode); the 4 KiB case uses MADV_NOHUGEPAGE."
for impl in "${impls[@]}"; do
	echo "Spread over the rounds (largest/smallest), $impl: (a) $(spread "$impl" map4k_gibps)," \
		"(b) $(spread "$impl" map2m_gibps), (c) $(spread "$impl" pasid_opsps)"
done
