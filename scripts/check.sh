#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make check: lint, the runner's own tests, and every selftest in the test
# VM, against iommufd_rs.ko and against the C iommufd.ko of the same kernel:
# the mock IOMMU's against the selftest variant of iommufd_rs.ko, those that
# need no mock (the VFIO clients among them) against its production variant
# (build/prod, without the selftest ABI). Then the VFIO tests on AMD-Vi, and
# on two devices sharing an IOMMU group, against both modules.
# Ends with one line "N passed, N failed" over everything counted.
#
# SERIES_MODULES=1 (make check-series): the boots only, with the modules
# that the patch series' final tree builds in the tree (scripts/lib.sh).
#
# IOMMUFD_RS_KERNEL=debug (make check-debug): the same boots on the debug
# kernel (KASAN, UBSAN, lockdep, kmemleak), one after the other, without the
# lints, the host tests and the runner's own boots, which do not depend on
# the kernel; then the count of the kernel's reports (splats) in them.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
cd "$REPO"

RESULTS=$(mktemp)
trap 'rm -f "$RESULTS"' EXIT
pass=0
fail=0
record() { # record NAME OK? [detail]
	if [ "$2" = 0 ]; then
		pass=$((pass + 1))
		echo "check: PASS $1${3:+ ($3)}"
	else
		fail=$((fail + 1))
		echo "check: FAIL $1${3:+ ($3)}"
	fi
}

t0=$(date +%s)
KBUILD=$(kernel_build)

# Where the time goes: "check: time NAME N s" lines, collected for the end.
TIMES=$(mktemp)
trap 'rm -f "$RESULTS" "$TIMES"' EXIT
t_last=$t0
lap() { # lap NAME: the seconds since the last lap
	local now
	now=$(date +%s)
	echo "check: time $1 $((now - t_last)) s" >>"$TIMES"
	t_last=$now
}

# scripts/series-check.sh --ci, each of its steps a check.
series_steps() {
	local log
	log=$(mktemp)
	scripts/series-check.sh --ci >"$log" 2>&1
	series_results "$log" $?
}

# Records the steps of a series-check.sh --ci run from its log $1 (which it
# removes) and exit status $2; returns that status.
series_results() {
	local log=$1 rc=$2 status rest
	while read -r _ status rest; do
		[ "$status" = PASS ]
		record "series: $rest" $?
	done < <(grep -E '^series-check: (PASS|FAIL) ' "$log")
	grep -E '^series-check:   ' "$log"
	if [ "$rc" -ne 0 ] && ! grep -q '^series-check: FAIL ' "$log"; then
		cat "$log"
		record "series: series-check" 1 "exit $rc"
	fi
	rm -f "$log"
	return "$rc"
}
# What does not depend on the kernel variant: the lints, the host tests and
# the runner's own boots.
normal_only() {
	# The patch series (make series: checkpatch, git am onto the clean
	# tree, and the final tree's build, incremental in the cache) runs
	# beside the lints and host tests, and so do the runner's own boots
	# once the clippy step has rebuilt the module they load: none of them
	# keeps both host cores busy, and side by side they take about half
	# as long as one after the other.
	local series_log series_pid
	series_log=$(mktemp)
	scripts/series-check.sh --ci >"$series_log" 2>&1 &
	series_pid=$!

	for l in $(scripts/lint.sh --list); do
		scripts/lint.sh "$l"
		record "lint:$l" $?
		lap "lint:$l"
		[ "$l" != clippy ] || runner_boots_start
	done

	# The module's kernel-independent logic, and the vfio-user device model,
	# unit tested on the host.
	host_tests() { # label, then cargo's arguments
		local label=$1 log rc p f
		shift
		log=$(mktemp)
		cargo test --offline --target-dir "$CARGO_TARGET" "$@" >"$log" 2>&1
		rc=$?
		# Summed over the test binaries cargo ran.
		p=$(sed -n 's/^test result: .* \([0-9]*\) passed; \([0-9]*\) failed.*/\1/p' "$log" |
			awk '{ s += $1; n++ } END { if (n) print s }')
		f=$(sed -n 's/^test result: .* \([0-9]*\) passed; \([0-9]*\) failed.*/\2/p' "$log" |
			awk '{ s += $1; n++ } END { if (n) print s }')
		if [ -z "$p" ] || [ "$rc" -ne 0 ] && [ "${f:-0}" -eq 0 ]; then
			cat "$log"
			record "$label build and run" 1
		else
			pass=$((pass + p))
			fail=$((fail + f))
			echo "check: $label: $p passed, $f failed" >>"$RESULTS"
			[ "$f" -eq 0 ] || grep -E '^test .* FAILED|panicked' "$log"
		fi
		rm -f "$log"
	}
	host_tests "host unit tests" --manifest-path rust/host/Cargo.toml
	host_tests "vfio-pci-pasid placement unit tests" \
		--manifest-path vfio_pci_pasid/host/Cargo.toml
	CARGO_HOME=$CARGO_HOME_DEPS host_tests "vfio-user device model unit tests" --locked \
		--manifest-path tools/vfio-user-device/Cargo.toml
	lap "host tests"

	wait $series_pid
	series_results "$series_log" $?
	lap "the series (beside the above)"
	runner_boots_finish
	lap "the runner's own boots (beside the above)"
}

# The runner itself: a status goes through, and a kernel warning fails a run.
# These boots do nothing, so a short time limit: a hung VM must not eat the
# run's budget, and must not pass for a failing command either. The four
# boots run side by side, started by runner_boots_start.
runner_boots_start() {
	make -s -C "$KBUILD" M="$REPO/scripts/vm-warn" "${KMAKE_ARGS[@]}" modules >/dev/null
	VM_TIMEOUT=300 scripts/vm.sh true >/dev/null 2>&1 &
	true_pid=$!
	VM_TIMEOUT=300 scripts/vm.sh false >/dev/null 2>&1 &
	false_pid=$!
	IOMMUFD_IMPL=none VM_TIMEOUT=300 scripts/vm.sh "insmod $REPO/scripts/vm-warn/vm_warn.ko" \
		>"$RESULTS.warn" 2>&1 &
	warn_pid=$!
	# A known upstream warning (VM_KNOWN_WARN) lets that one pass, no other.
	IOMMUFD_IMPL=none VM_TIMEOUT=300 VM_KNOWN_WARN=drivers/iommu/iommufd/device.c:1732 \
		scripts/vm.sh "insmod $REPO/scripts/vm-warn/vm_warn.ko" >"$RESULTS.known" 2>&1 &
	known_pid=$!
}

runner_boots_finish() {
	local false_rc warn_rc known_rc
	wait $true_pid
	record "vm: true passes" $?
	wait $false_pid
	false_rc=$?
	[ "$false_rc" -eq 1 ]
	record "vm: false fails with its own status" $? "exit $false_rc"
	wait $warn_pid
	warn_rc=$?
	[ $warn_rc -ne 0 ] && grep -q 'WARNING: vm_warn.c' "$RESULTS.warn"
	record "vm: a kernel WARNING fails the run" $? "exit $warn_rc"
	wait $known_pid
	known_rc=$?
	[ $known_rc -ne 0 ] && grep -q 'WARNING: vm_warn.c' "$RESULTS.known"
	record "vm: a kernel WARNING not listed as known fails a run that lists one" $? "exit $known_rc"
	rm -f "$RESULTS.warn" "$RESULTS.known"
}
if series_modules; then
	# make check-series: the boots below with the modules of the
	# series' final tree, built in the tree; first make sure they are
	# those of the current sources.
	series_steps || { echo "$pass passed, $fail failed"; exit 1; }
elif [ -z "$KERNEL_VARIANT" ]; then
	normal_only
fi

# One boot per implementation; every TAP program reports a RESULT line.
guest_tests() {
	local impl=$1 counted= vpasid_args='-F upstream'
	# On the debug kernel, upstream's fail_nth cases outlast their
	# harness's fixed 30 s under KASAN, against either module (map_domain,
	# map_file_domain, map_two_domains): reported there, not counted.
	[ -z "$KERNEL_VARIANT" ] || counted=--info
	# The PASID virtualization extension is iommufd_rs.ko's alone: the C
	# module must answer its commands as unknown ones (fixture upstream),
	# and both must agree on the numbers around them (any_module).
	[ "$impl" != c ] || vpasid_args='-f upstream -f any_module'
	cat <<-EOS
		rc=0
		scripts/guest-tap.sh $impl:iommufd_rs_uapi build/selftests/iommufd_rs/iommufd_rs_uapi || rc=1
		scripts/guest-tap.sh $impl:iommufd_rs_uapi_rs build/selftests/iommufd_rs/iommufd_rs_uapi_rs || rc=1
		scripts/guest-tap.sh $impl:iommufd_rs_ioas build/selftests/iommufd_rs/iommufd_rs_ioas || rc=1
		scripts/guest-tap.sh $impl:iommufd_rs_pin build/selftests/iommufd_rs/iommufd_rs_pin || rc=1
		scripts/guest-tap.sh $impl:iommufd_rs_fail_nth build/selftests/iommufd_rs/iommufd_rs_fail_nth || rc=1
		scripts/guest-tap.sh $impl:iommufd_rs_pasid build/selftests/iommufd_rs/iommufd_rs_pasid || rc=1
		scripts/guest-tap.sh $impl:iommufd_rs_pasid_fail_nth build/selftests/iommufd_rs/iommufd_rs_pasid_fail_nth || rc=1
		scripts/guest-tap.sh $impl:iommufd_rs_harden build/selftests/iommufd_rs/iommufd_rs_harden || rc=1
		scripts/guest-tap.sh $impl:iommufd_rs_vpasid build/selftests/iommufd_rs/iommufd_rs_vpasid \
			$vpasid_args || rc=1
		# Upstream's fail_nth cases, all but "device", which needs the
		# dirty tracking, vdevice and event queue ioctls.
		scripts/guest-tap.sh $counted $impl:upstream_fail_nth build/upstream/iommu/iommufd_fail_nth \
			-t basic -t map_domain -t map_file_domain -t map_two_domains \
			-t access_rw -t access_pin -t access_pin_domain || rc=1
		scripts/guest-tap.sh --info $impl:upstream_iommufd build/upstream/iommu/iommufd
		# The in-kernel access API, through its test driver.
		scripts/guest-access.sh $impl || rc=1
	EOS
	[ "$impl" = c ] || cat <<-EOS
		scripts/guest-tap.sh $impl:iommufd_rs_vpasid_fail_nth \
			build/selftests/iommufd_rs/iommufd_rs_vpasid_fail_nth || rc=1
	EOS
	# make bench's measurements once each, at sizes of seconds, on the
	# mock and on edu's VT-d domain: that they produce figures. In one
	# boot: it is the program that could rot, the same against both.
	if [ "$impl" = rust ]; then
		echo "scripts/bench-smoke.sh --edu $impl || rc=1"
	fi
	# The VFIO clients run against C and against iommufd_rs in its
	# production variant, which is what a VMM would run on (the selftest
	# variant's VFIO paths are the same code), in the VT-d boot (vtd).
	echo "exit \$rc"
}
# The VT-d boot's command: the VFIO tests against C and the production
# variant in turn, then the production variant's tests that need no
# IOMMU_TEST_CMD (of the IOAS tests, the variant without mock domains; the
# Rust selftest's PASID cases skip there; upstream's selftest has no case
# without it, as its teardown checks refs through it).
prod_tests() {
	local t=build/selftests/iommufd_rs
	cat <<-EOS
		rc=0
		scripts/vfio-each.sh --also iommufd_rs_rust_vmm --also iommufd_rs_vfu \
			--also iommufd_rs_vfio_pasid --also iommufd_rs_vfio_vpasid \
			--also qemu_vpasid.py vtd c rust-prod || rc=1
		if insmod $(impl_module rust-prod); then
			export IOMMUFD_IMPL=rust-prod
			scripts/guest-tap.sh rust-prod:iommufd_rs_uapi $t/iommufd_rs_uapi || rc=1
			scripts/guest-tap.sh rust-prod:iommufd_rs_uapi_rs $t/iommufd_rs_uapi_rs || rc=1
			scripts/guest-tap.sh rust-prod:iommufd_rs_ioas $t/iommufd_rs_ioas -v no_domain || rc=1
			scripts/guest-tap.sh rust-prod:iommufd_rs_vpasid $t/iommufd_rs_vpasid \
				-f any_module || rc=1
			scripts/guest-access.sh rust-prod || rc=1
			# The vPASID in-kernel API through its test driver, on
			# the PASID function vfio-pci has left: iommufd_rs only
			# (the driver does not load against C, which has no such
			# API, so C has no count here rather than a pass).
			scripts/guest-vpasid-kapi.sh rust-prod || rc=1
			rmmod iommufd_rs || { echo "check: rmmod iommufd_rs failed"; rc=1; }
		else
			echo "RESULT rust-prod:insmod pass=0 fail=1 skip=0"
			rc=1
		fi
		exit \$rc
	EOS
}

# The fuzz boot's command.
fuzz_tests() {
	local t=build/selftests/iommufd_rs c rust
	c=$(impl_module c "$KBUILD")
	rust=$(impl_module rust)
	cat <<-EOS
		rc=0
		for impl in c rust; do
			if [ \$impl = c ]; then
				ko=$c mod=iommufd args='-t 1 -s 1'
			else
				ko=$rust mod=iommufd_rs args=
			fi
			insmod \$ko || { echo "RESULT \$impl:insmod pass=0 fail=1 skip=0"; rc=1; continue; }
			scripts/guest-tap.sh \$impl:iommufd_rs_fuzz $t/iommufd_rs_fuzz -n 10000 \$args || rc=1
			scripts/guest-tap.sh \$impl:iommufd_rs_stress $t/iommufd_rs_stress || rc=1
			rmmod \$mod || { echo "check: rmmod \$mod failed"; rc=1; }
		done
		exit \$rc
	EOS
}

# Counts the RESULT and INFO lines of a boot's log $1; the number of failed
# tests counted goes to counted_fail.
count_results() {
	local kind label rest p f s
	counted_fail=0
	while read -r kind label rest; do
		p=$(sed -n 's/.*pass=\([0-9]*\).*/\1/p' <<<"$rest")
		f=$(sed -n 's/.*fail=\([0-9]*\).*/\1/p' <<<"$rest")
		s=$(sed -n 's/.*skip=\([0-9]*\).*/\1/p' <<<"$rest")
		if [ "$kind" = RESULT ]; then
			pass=$((pass + p))
			fail=$((fail + f))
			counted_fail=$((counted_fail + f))
			echo "check: $label: $p passed, $f failed, $s skipped" >>"$RESULTS"
		else
			echo "check: $label (reported, not counted): $p passed, $f failed, $s skipped of $((p + f + s))" >>"$RESULTS"
		fi
	done < <(grep -E '^(RESULT|INFO) ' "$1")
}

# The vfio-user functions (tools/vfio-user-device) of the PASID boots: one
# with PASID, EXEC, PRIV, ATS and PRI alone in its IOMMU group; a
# multi-function device whose PASID function 0 and non-PASID function 1
# share a group; a PASID capability in the last dword of config space; two
# captured config spaces of real devices (a crowded CXL accelerator, a NIC).
VFU_VTD='pasid=16,exec,priv,ats,pri;pasid=20,acs=1,acs-ro=1;func=1,acs=1,acs-ro=1'
VFU_AMD=$VFU_VTD
VFU_VTD+=';pasid=5,priv,pasid-at=0xff8;dump=intel-cxl-accel.lspci;dump=intel-82576-nic.lspci'
# There, a PASID test that finds no such function fails rather than skips.
NEED_PASID='export IOMMUFD_RS_NEED_PASID_DEV=1;'

# The boots, in the order of their results. On the debug kernel,
# CHECK_BOOTS='rust c' (say) runs only those.
boots=(rust c vtd amd group fuzz)
[ -z "$KERNEL_VARIANT" ] || read -ra boots <<<"${CHECK_BOOTS:-${boots[*]}}"

# One boot, its output to $LOGS/<impl>.log and its status to <impl>.rc.
LOGS=$(mktemp -d)
trap 'rm -rf "$RESULTS" "$LOGS" "$TIMES"' EXIT
boot() {
	local impl=$1 start
	start=$(date +%s)
	case "$impl" in
	amd)
		# AMD-Vi: the VFIO selftests against both modules in one boot
		# (the clients above run on VT-d; what differs on AMD-Vi is
		# the IOMMU driver's answers, which the selftests compare). The
		# C module warns in GET_HW_INFO on a PASID function whose PASID
		# the AMD driver left disabled: upstream's warning, see
		# iommufd_rs_vfio_pasid's amd_pasid.
		IOMMUFD_IMPL=none VM_IOMMU=amd VM_KMEMLEAK=1 VM_EDU=1 VM_VFU=$VFU_AMD \
			VM_KNOWN_WARN=drivers/iommu/iommufd/device.c:1732 \
			scripts/vm.sh "$NEED_PASID scripts/vfio-each.sh --test iommufd_rs_vfio_edu \
				--test iommufd_rs_vfio_pasid amd c rust"
		;;
	fuzz)
		# A short ioctl fuzz (make fuzz runs a million calls), and 10 s
		# of threads on shared objects, against each module in turn.
		# Against C one thread: with more, 7.3.4 races a mock device's
		# destroy with a lookup of its id.
		IOMMUFD_IMPL=none VM_KMEMLEAK=1 scripts/vm.sh "$(fuzz_tests)"
		;;
	vtd)
		# VT-d with the edu device and the vfio-user functions, against
		# C and the production variant in turn: the kernel's vfio-pci
		# on edu with real DMA, QEMU as a client, rust-vmm's
		# vfio-ioctls and iommufd-ioctls, the device model itself
		# (config space, RID DMA through the domain), PASID attach
		# through vfio-pci. Then the production variant's tests that
		# need no mock. (QEMU refuses VT-d snoop control with the
		# vfio-user devices; the edu test asks the IOMMU what it has.)
		IOMMUFD_IMPL=none VM_KMEMLEAK=1 VM_EDU=1 VM_VFU=$VFU_VTD \
			scripts/vm.sh "$NEED_PASID $(prod_tests)"
		;;
	group)
		# Two devices in one IOMMU group, against both modules in one
		# boot. VT-d in legacy mode: in scalable mode 7.3's intel-iommu
		# leaves the context entry of the bridge's requester ID (which
		# the devices' DMA carries) not present, with either module.
		IOMMUFD_IMPL=none VM_IOMMU=intel-legacy VM_KMEMLEAK=1 VM_EDU=group \
			scripts/vm.sh 'scripts/vfio-each.sh --test iommufd_rs_vfio_group group c rust'
		;;
	c)
		# The C baseline: its leaks would be upstream's, so no kmemleak.
		IOMMUFD_IMPL=c VM_EDU=1 scripts/vm.sh "$(guest_tests c)"
		;;
	*)
		IOMMUFD_IMPL=$impl VM_KMEMLEAK=1 VM_EDU=1 scripts/vm.sh "$(guest_tests "$impl")"
		;;
	esac >"$LOGS/$impl.log" 2>&1
	echo $? >"$LOGS/$impl.rc"
	echo "check: time boot $impl $(($(date +%s) - start)) s" >"$LOGS/$impl.time"
}
# Two lanes. The two boots with the long suites (upstream's selftest,
# fail_nth under its harness's 30 s timeouts) run one after the other with
# a CPU per host core; beside them, the VFIO boots run one after the other
# on one CPU each, as their tests are sequential and much of their time is
# QEMU starting and device timers. All four of those side by side, or the
# long two side by side, took longer in all. On the debug kernel, one boot
# at a time, each with every host core.
if [ -n "$KERNEL_VARIANT" ]; then
	for impl in "${boots[@]}"; do
		boot $impl
	done
else
	(
		export VM_SMP=1
		for impl in vtd amd group fuzz; do
			boot $impl
		done
	) &
	lane=$!
	for impl in rust c; do
		boot $impl
	done
	wait $lane
fi
for impl in "${boots[@]}"; do
	cat "$LOGS/$impl.log"
done

for impl in "${boots[@]}"; do
	log=$LOGS/$impl.log
	vm_rc=$(cat "$LOGS/$impl.rc")
	count_results "$log"
	if [ "$impl" = c ]; then
		# The C baseline: upstream's selftest must complete, and fail
		# nothing beyond the known list.
		xfail=selftests/iommufd_rs/upstream-c.xfail
		ran=$(grep -c '^INFO c:upstream_iommufd ' "$log")
		unexpected=$(sed -n 's/^FAILED c:upstream_iommufd //p' "$log" |
			grep -vxF -f <(grep -v '^#' "$xfail") | tr '\n' ' ')
		[ "$ran" -eq 1 ] && [ -z "$unexpected" ]
		record "upstream iommufd selftest vs C iommufd.ko: only known failures" $? \
			"${unexpected:+unexpected: $unexpected}"
	fi
	if [ "$impl" = rust ]; then
		# Upstream's selftest against iommufd_rs.ko: what passed before
		# must still pass.
		expected=selftests/iommufd_rs/upstream-rust.pass
		ran=$(grep -c '^INFO rust:upstream_iommufd ' "$log")
		# A listed case counts only with its own "ok" line, so that a
		# crash part way through cannot hide a regression.
		lost=$(grep -v '^#' "$expected" |
			grep -vxF -f <(sed -n 's/^ok [0-9]* \([^ ]*\)$/\1/p' "$log") |
			tr '\n' ' ')
		[ "$ran" -eq 1 ] && [ -z "$lost" ]
		record "upstream iommufd selftest vs iommufd_rs.ko: $(grep -vc '^#' "$expected") listed cases pass" $? \
			"${lost:+regressed: $lost}"
	fi
	# A failing boot with no failing test is a kernel report or a crash.
	if [ "$vm_rc" -ne 0 ] && [ "$counted_fail" -eq 0 ]; then
		record "vm($impl): clean kernel log and exit" 1 "exit $vm_rc"
	else
		record "vm($impl): clean kernel log and exit" 0
	fi
done

echo
cat "$RESULTS"
# Upstream's own iommufd selftest, side by side.
up() { sed -n "s/^check: $1:upstream_iommufd (reported, not counted): \([0-9]*\) passed.* of \([0-9]*\)$/\1 of \2/p" "$RESULTS"; }
echo "check: upstream iommufd selftest passes: iommufd_rs.ko $(up rust), C iommufd.ko $(up c)"
lap "the boots"
cat "$TIMES" "$LOGS"/*.time 2>/dev/null
echo "check: took $(($(date +%s) - t0)) s"
if [ -n "$KERNEL_VARIANT" ]; then
	# The first line of each report of the kernel, as vm-init printed
	# them; the known upstream warnings (VM_KNOWN_WARN) apart. A boot
	# that crashed or hung never got there: then those of its console,
	# which under "quiet" has the errors (KASAN, Oops) but not the
	# warnings (lockdep, WARNING). The pattern is vm-init's $first.
	splats=0
	known=0
	for impl in "${boots[@]}"; do
		log=$LOGS/$impl.log
		if grep -q '^vm: the guest ended without reporting a status' "$log"; then
			reports=$(grep -E '^(BUG:|WARNING:|UBSAN:|INFO: possible|INFO: trying to register|kernel BUG at|Oops: general protection fault)' "$log")
			note=" (from the console: the boot did not finish)"
		else
			reports=$(sed -n 's/^vm-init: report: //p' "$log")
			note=
		fi
		n=$(grep -c . <<<"$reports")
		k=$(grep -c '^vm-init: known report: ' "$log")
		splats=$((splats + n))
		known=$((known + k))
		echo "check: $impl boot: $n kernel reports, $k known upstream warnings$note"
		{
			echo -n "$reports${reports:+$'\n'}"
			sed -n 's/^vm-init: known report: /(known) /p' "$log"
		} | sed 's/^/check:   /'
	done
	echo "check: $splats kernel reports (splats) on the $KERNEL_VARIANT kernel," \
		"and $known known upstream warnings"
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
