#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make bench: the kernel's C iommufd.ko against iommufd_rs.ko, both driven by
# selftests/iommufd_rs/bench/iommufd_rs_bench.c in one boot of the test VM:
#
#   (a) IOAS_MAP then IOAS_UNMAP of 1 GiB in 4 KiB chunks, mock domain attached
#   (b) the same in 2 MiB chunks, repeated for a measurement long enough
#   (c) PASID attach / replace / detach on a PASID-capable mock device
#   (d) kernel memory per pinned GiB: one IOAS_MAP of 1 GiB of resident
#       memory (4 KiB pages, then THP), then an access pinning it too
#   (e) a failing IOAS_MAP of address space with no memory behind it (EFAULT):
#       its time, and the peak of kernel memory on the way
#   (f) on a real domain: QEMU's edu device behind the guest's VT-d, bound to
#       vfio-pci and through its cdev to the IOAS: map+unmap in 4 KiB and
#       2 MiB chunks, memory per pinned GiB, a failing map of 64 GiB
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
#   BENCH_EDU       1 (default) runs (f), 0 leaves it out
#   BENCH_EDU_4K_SIZE  bytes mapped in 4 KiB chunks in (f), 64M by default
#                   (each map flushes VT-d's IOTLB through QEMU: slow)
#   BENCH_ICOUNT=1  TCG in icount mode, one CPU (vm.sh's VM_ICOUNT): guest
#                   time counts instructions, so the figures do not follow
#                   the host's load; without it, wall-clock time, 2 CPUs
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
EDU=${BENCH_EDU:-1}
EDU_4K_SIZE=${BENCH_EDU_4K_SIZE:-64M}
ICOUNT=${BENCH_ICOUNT:-0}

read -r -a impls <<<"$IMPLS"
case "${impls[*]}" in
c | rust | "c rust" | "rust c") ;;
*) die "BENCH_IMPLS must be c, rust or both, not '$IMPLS'" ;;
esac
[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || die "BENCH_ROUNDS must be a positive integer"
[[ $SIZE =~ ^[1-9][0-9]*[KMG]?$ ]] || die "BENCH_SIZE must be a size such as 1G or 256M"
[[ $EDU =~ ^[01]$ ]] || die "BENCH_EDU must be 0 or 1"
[[ $ICOUNT =~ ^[01]$ ]] || die "BENCH_ICOUNT must be 0 or 1"
[[ $EDU_4K_SIZE =~ ^[1-9][0-9]*[KMG]?$ ]] || die "BENCH_EDU_4K_SIZE must be a size such as 64M"
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
[ -e "$KBUILD/.complete" ] || die "no test kernel at $KBUILD (run make kernel)"

# Built by scripts/build-tests.sh (make tests), as the C selftests are.
BENCH=$REPO/build/bench/iommufd_rs_bench
[ -x "$BENCH" ] || die "no $BENCH (run make tests)"

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
		edu=$EDU edu_4k_size=$EDU_4K_SIZE
	EOS
	cat <<-'EOS'
		# Guest time is what the figures count: say where it comes from.
		echo "bench: guest clocksource $(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)," \
			"$(nproc) CPU(s), $(dmesg | sed -n 's/.*tsc: Refined TSC clocksource calibration: //p')"
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
				"$bench" -T "$tag" pasid -d "$pasid_secs" &&
				"$bench" -T "$tag" pin -s "$size" &&
				"$bench" -T "$tag" pin -s "$size" -H &&
				"$bench" -T "$tag" failmap ||
				{ echo "bench: $name.ko: a measurement failed (above)"; rc=1; }
			# (f): vfio-pci loaded against the module, edu bound to it.
			if [ $rc -eq 0 ] && [ "$edu" = 1 ] &&
				! IOMMUFD_IMPL=$impl scripts/vfio-edu.sh --run "
					$bench -T '$tag' -D edu map -c 4K -s $edu_4k_size &&
					$bench -T '$tag' -D edu map -c 2M -s $size &&
					$bench -T '$tag' -D edu pin -s $size &&
					$bench -T '$tag' -D edu failmap" "$impl"; then
				echo "bench: $name.ko: a measurement on edu failed (above)"
				rc=1
			fi
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
clock="wall-clock time"
vm_env=(VM_EDU="$EDU")
if [ "$ICOUNT" = 1 ]; then
	clock="icount (guest time counts instructions), 1 CPU"
	vm_env+=(VM_ICOUNT=1)
fi
echo "bench: ${impls[*]}, $ROUNDS round(s): $size_label in 4 KiB chunks, $PASSES_2M x $size_label" \
	"in 2 MiB chunks, $PASID_SECS s of PASID ops; VM_ACCEL=${VM_ACCEL:-tcg}, $clock; host $(nproc) CPUs"
set +e
# A whole run under icount on a busy host took more than vm.sh's default
# 3000 s: allow three hours.
env "${vm_env[@]}" VM_TIMEOUT="${VM_TIMEOUT:-10800}" IOMMUFD_IMPL=none VM_MEM=${BENCH_VM_MEM:-3G} scripts/vm.sh "$(guest_script)" 2>&1 |
	tee "$LOG"
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
	p = kv["target"] == "edu" ? "vtd_" : ""
	gib = kv["size"] / 1073741824
	if (kv["metric"] == "pin" && gib > 0 && kv["map_ns"] + 0 > 0) {
		m = p (kv["huge"] + 0 ? "pin2m" : "pin4k")
		print impl, m "_kib", kv["map_kib"] / gib
		print impl, m "_gibps", gib / ((kv["map_ns"] + kv["unmap_ns"]) / 1e9)
		if ("map_obj_kib" in kv)
			print impl, m "_obj_kib", kv["map_obj_kib"] / gib
		if ("access_kib" in kv)
			print impl, m "_access_kib", kv["access_kib"] / gib
		if ("access_obj_kib" in kv)
			print impl, m "_access_obj_kib", kv["access_obj_kib"] / gib
		print impl, m "_left_kib", kv["left_kib"]
		if ("left_obj_kib" in kv)
			print impl, m "_left_obj_kib", kv["left_obj_kib"]
		next
	}
	if (kv["metric"] == "failmap" && kv["ns"] + 0 > 0 && kv["samples"] + 0 > 0) {
		print impl, p "failmap_ms", kv["ns"] / 1e6
		print impl, p "failmap_peak_kib", kv["peak_kib"]
		print impl, p "failmap_left_kib", kv["left_kib"]
		print impl, p "failmap_gib", kv["size"] / 1073741824
		next
	}
	if (kv["metric"] == "map") {
		map_s = kv["map_ns"] / 1e9
		unmap_s = kv["unmap_ns"] / 1e9
		bytes = kv["bytes"] + 0
		if (map_s <= 0 || unmap_s <= 0 || bytes <= 0 || ops <= 0)
			next
		m = p (kv["chunk"] + 0 == 4096 ? "map4k" : "map2m")
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
want=(map4k_gibps map2m_gibps pasid_opsps pin4k_kib pin2m_kib failmap_ms)
[ "$EDU" = 0 ] || want+=(vtd_map4k_gibps vtd_map2m_gibps vtd_pin4k_kib vtd_failmap_ms)
for impl in "${impls[@]}"; do
	for f in "${want[@]}"; do
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

# row LABEL UNIT FIGURE FORMAT ratio|diff|none [1: higher is better, 0: lower]
# (diff: Rust minus C, for memory, where C can take nothing)
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
	if [ "${#impls[@]}" -eq 2 ] && [ "$5" != none ]; then
		c=$(median c "$3")
		r=$(median rust "$3")
		line+=$(awk -v c="$c" -v r="$r" -v up="${6:-0}" -v how="$5" 'BEGIN {
			if (how == "diff")
				printf " %+8.0f", r - c
			else if (up ? c > 0 : r > 0)
				printf " %8.3f", up ? r / c : c / r
			else
				printf " %8s", "-" }')
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
row "(d) kernel memory per pinned GiB, 4 KiB" KiB pin4k_kib %.0f diff
row "    the same, pinned by an access too" KiB pin4k_access_kib %.0f diff
row "    kernel memory per pinned GiB, THP" KiB pin2m_kib %.0f diff
row "    the same, pinned by an access too" KiB pin2m_access_kib %.0f diff
row "    live slab objects per pinned GiB, 4 KiB" KiB pin4k_obj_kib %.0f diff
row "    the same, pinned by an access too" KiB pin4k_access_obj_kib %.0f diff
row "    live slab objects per pinned GiB, THP" KiB pin2m_obj_kib %.0f diff
row "    the same, pinned by an access too" KiB pin2m_access_obj_kib %.0f diff
row "    left after unmapping it, 4 KiB" KiB pin4k_left_kib %.0f diff
row "    the same, in live slab objects" KiB pin4k_left_obj_kib %.0f diff
row "    one IOAS_MAP+UNMAP of it, 4 KiB" GiB/s pin4k_gibps %.3f ratio 1
row "    one IOAS_MAP+UNMAP of it, THP" GiB/s pin2m_gibps %.3f ratio 1
gib_of() { awk -v f="$1" '$2 == f { printf "%.2f", $3; exit }' <<<"$figures"; }
row "(e) failing map of $(gib_of failmap_gib) GiB: time" ms failmap_ms %.3f ratio 0
row "    kernel memory at its peak" KiB failmap_peak_kib %.0f diff
if [ "$EDU" = 1 ]; then
	row "(f) edu on VT-d: map+unmap $EDU_4K_SIZE, 4 KiB" GiB/s vtd_map4k_gibps %.4f ratio 1
	row "    IOMMU_IOAS_MAP" ops/s vtd_map4k_mapops %.0f ratio 1
	row "    IOMMU_IOAS_UNMAP" ops/s vtd_map4k_unmapops %.0f ratio 1
	row "    map+unmap $size_label, 2 MiB chunks" GiB/s vtd_map2m_gibps %.3f ratio 1
	row "    IOMMU_IOAS_MAP" ops/s vtd_map2m_mapops %.0f ratio 1
	row "    IOMMU_IOAS_UNMAP" ops/s vtd_map2m_unmapops %.0f ratio 1
	row "    kernel memory per pinned GiB, 4 KiB" KiB vtd_pin4k_kib %.0f diff
	row "    one IOAS_MAP+UNMAP of it" GiB/s vtd_pin4k_gibps %.3f ratio 1
	row "    failing map of $(gib_of vtd_failmap_gib) GiB: time" ms vtd_failmap_ms %.3f ratio 0
	row "    kernel memory at its peak" KiB vtd_failmap_peak_kib %.0f diff
fi
echo
if [ "${#impls[@]}" -eq 2 ]; then
	echo "Rust/C: above 1 means iommufd_rs.ko is faster; for times it is C time / Rust time;"
	echo "for memory the column is Rust minus C, in KiB (memory: growth of /proc/meminfo's"
	echo "Slab+VmallocUsed+PageTables+SecPageTables+KernelStack+Percpu; \"live slab objects\""
	echo "counts /proc/slabinfo's active objects by their size instead of Slab's pages)."
else
	echo "No Rust/C ratio: only ${impls[*]} ran (BENCH_IMPLS)."
fi
echo "THP mode in the guest: $(modes map2m_mode); the 4 KiB case uses MADV_NOHUGEPAGE."
for impl in "${impls[@]}"; do
	line="Spread over the rounds (largest/smallest), $impl: (a) $(spread "$impl" map4k_gibps),"
	line+=" (b) $(spread "$impl" map2m_gibps), (c) $(spread "$impl" pasid_opsps),"
	line+=" (d) $(spread "$impl" pin4k_kib) $(spread "$impl" pin4k_gibps)"
	[ "$EDU" = 0 ] ||
		line+=", (f) $(spread "$impl" vtd_map4k_gibps) $(spread "$impl" vtd_map2m_gibps)"
	echo "$line"
done
grep '^bench: guest clocksource' "$LOG" || true
