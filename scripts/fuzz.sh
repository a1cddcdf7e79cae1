#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make fuzz: selftests/iommufd_rs/iommufd_rs_fuzz against iommufd_rs.ko,
# then against the kernel's C iommufd.ko, one boot each with kmemleak on
# (VM_KMEMLEAK=1), and the same seed. A boot fails on a bad errno, a dead
# fuzzer, pins left behind, a kernel report (WARN, BUG, lockdep), a leak on
# an iommufd path, or a module that cannot be removed (scripts/vm.sh).
#
# Knobs (environment):
#   FUZZ_SEED     the seed, random by default; printed first and last
#   FUZZ_CALLS    calls per module, 1000000 by default
#   FUZZ_THREADS  threads on the one /dev/iommu fd, 4 by default
#   FUZZ_IMPLS    the modules, "rust" by default; "rust c" fuzzes the C
#                 iommufd.ko after it, which 7.3.4 does not survive with
#                 several threads (a race of a mock device's destroy with a
#                 lookup of its id warns, leaks and can oops: upstream's)
#   FUZZ_VM_TIMEOUT  seconds before a boot is given up, 14400 by default
#
# Replay one module's run: FUZZ_SEED=N FUZZ_IMPLS=rust make fuzz. With
# FUZZ_THREADS=1 the run repeats call for call.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$REPO"

SEED=${FUZZ_SEED:-$(od -An -N6 -tu8 /dev/urandom | tr -d ' ')}
CALLS=${FUZZ_CALLS:-1000000}
THREADS=${FUZZ_THREADS:-4}
IMPLS=${FUZZ_IMPLS:-rust}
[[ $SEED =~ ^[0-9]+$ ]] || die "FUZZ_SEED must be a number"
[[ $CALLS =~ ^[1-9][0-9]*$ ]] || die "FUZZ_CALLS must be a positive number"
[[ $THREADS =~ ^[1-9][0-9]*$ ]] || die "FUZZ_THREADS must be a positive number"
for impl in $IMPLS; do
	case "$impl" in
	rust | rust-prod | c) ;;
	*) die "FUZZ_IMPLS: rust, rust-prod or c, not $impl" ;;
	esac
done

echo "fuzz: seed $SEED, $CALLS calls, $THREADS threads, against: $IMPLS"
rc=0
for impl in $IMPLS; do
	start=$(date +%s)
	r=0
	IOMMUFD_IMPL=$impl VM_KMEMLEAK=1 VM_TIMEOUT=${FUZZ_VM_TIMEOUT:-14400} \
		scripts/vm.sh "scripts/guest-tap.sh $impl:iommufd_rs_fuzz \
			build/selftests/iommufd_rs/iommufd_rs_fuzz \
			-s $SEED -n $CALLS -t $THREADS" || r=$?
	echo "fuzz: $impl: exit $r, $(($(date +%s) - start)) s with the boot"
	[ "$r" -eq 0 ] || rc=1
done
echo "fuzz: seed $SEED (replay with FUZZ_SEED=$SEED)"
exit $rc
