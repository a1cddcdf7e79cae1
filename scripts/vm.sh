#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Boot the cached test kernel in QEMU and run one command in it as root.
#
#   scripts/vm.sh 'command'
#
# IOMMUFD_IMPL=rust (default) loads iommufd_rs.ko, IOMMUFD_IMPL=c the kernel's
# own iommufd.ko, IOMMUFD_IMPL=none nothing. The command runs in the host's
# root filesystem (read-only, with tmpfs on /tmp), from the current directory,
# and the script exits with its status. The run fails if the kernel log shows
# a warning, BUG, oops, sanitizer or lockdep report, or if the module cannot
# be removed afterwards. VM_ACCEL=kvm opts into KVM (TCG by default).
# IOMMUFD_RS_KERNEL=debug boots the debug kernel (KASAN, UBSAN) with the
# modules built against it in build/debug/.
# VM_SMP=N gives the guest N CPUs (as many as the host has by default).
# VM_ICOUNT=1 runs TCG with -icount shift=0,sleep=off and one CPU: guest
# time then counts instructions (1 ns each) instead of following the host's
# clock, so that timings inside the guest do not depend on how busy the host
# is (make bench's BENCH_ICOUNT=1).
# VM_KMEMLEAK=1 also scans for leaks after the command and fails the run on
# any unreferenced object allocated on an iommufd path. VM_EDU=1 adds QEMU's
# edu PCI device (a DMA engine) and turns on the IOMMU's interrupt remapping
# and snoop control, for the VFIO tests; VM_EDU=group adds two edus that
# share an IOMMU group instead. VM_IOMMU=intel (default) gives the
# guest a scalable-mode VT-d with 20-bit PASIDs, VM_IOMMU=amd an AMD-Vi with
# DMA remapping (and, as QEMU's AMD-Vi has no southbridge IOAPIC for the
# kernel, no interrupt remapping). QEMU is the 11.1 of scripts/qemu-root.sh.
#
# VM_VFU='spec;spec;...' adds one device of the vfio-user device model
# (tools/vfio-user-device, built by make tests) per spec: a server process
# per device and boot, its socket in the run directory, a
# `-device vfio-user-pci` for it (in JSON: its socket is a QAPI struct), guest RAM as a shared memfd (so that DMA
# maps carry fds) and interrupt remapping as with VM_EDU (but no snoop
# control, which QEMU refuses with VFIO devices). A spec is the
# server's options without dashes, comma-separated, e.g.
#   VM_VFU='pasid=20,exec,priv,ats,pri;func=1,pasid=8;dump=intel-dsa-accel.lspci'
# (a bare dump name is looked up in tools/vfio-user-device/dumps). A spec
# without func= (or func=0) gets a pcie-root-port of its own, the k-th such
# at slot 0x10+k of pcie.0; one with func=N goes on the previous spec's root
# port as function N, and function 0 is then made multi-function. The
# servers stop when QEMU closes their connection and are killed if they
# have not; a server that fails has its log printed (VM_VFU_LOG=1 prints
# every server's log). The guest sees the specs as IOMMUFD_RS_VFU and the
# dump directory as IOMMUFD_RS_VFU_DUMPS (selftests/iommufd_rs/iommufd_rs_vfu.h).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ $# -eq 1 ] || die "usage: $0 'command'"
CMD=$1
KBUILD=$(kernel_build)
[ -e "$KBUILD/.complete" ] || die "no test kernel at $KBUILD (run make kernel)"

MODULE=$(impl_module "${IOMMUFD_IMPL:-rust}" "$KBUILD")
[ -z "$MODULE" ] || [ -e "$MODULE" ] || die "$MODULE not built"

# The initramfs: busybox and our init, rebuilt when either changes.
VMDIR=$CACHE/vm
mkdir -p "$VMDIR"
initrd_key=$({ cat "$REPO/scripts/vm-init"; sha256sum /bin/busybox; } | sha256sum | cut -c1-16)
INITRD=$VMDIR/initramfs-$initrd_key.cpio.gz
if [ ! -e "$INITRD" ]; then
	staging=$(mktemp -d)
	mkdir -p "$staging"/{bin,proc,sys,dev,host}
	cp /bin/busybox "$staging/bin/busybox"
	install -m 0755 "$REPO/scripts/vm-init" "$staging/init"
	# Boots may start side by side: each writes its own copy, the last
	# rename wins, and every one is whole.
	tmp=$(mktemp "$INITRD.XXXXXX")
	(cd "$staging" && find . | cpio -o -H newc --quiet | gzip -1) >"$tmp"
	mv "$tmp" "$INITRD"
	rm -rf "$staging"
fi

VFU_BIN=$REPO/build/tools/vfio-user-device
VFU_DUMPS=$REPO/tools/vfio-user-device/dumps
if [ -n "${VM_VFU:-}" ] && [ ! -x "$VFU_BIN" ]; then
	die "no $VFU_BIN (run make tests)"
fi

RUNDIR=$(mktemp -d "$VMDIR/run.XXXXXX")
VFU_PIDS=()
VFU_SPECS=()
# The vfio-user servers: killed if still running, their logs shown when
# they failed (or always with VM_VFU_LOG=1).
vfu_stop() {
	local i pid st
	for i in "${!VFU_PIDS[@]}"; do
		pid=${VFU_PIDS[$i]}
		[ -n "$pid" ] || continue
		# A server ends when QEMU closes its connection; give it a moment.
		for _ in 1 2 3 4 5 6 7 8 9 10; do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.2
		done
		if kill -0 "$pid" 2>/dev/null; then
			kill "$pid" 2>/dev/null
		fi
		st=0
		wait "$pid" 2>/dev/null || st=$?
		VFU_PIDS[$i]=
		if [ "$st" -ne 0 ] && [ "$st" -ne 143 ] || [ "${VM_VFU_LOG:-0}" = 1 ]; then
			echo "vm: vfio-user server $i (${VFU_SPECS[$i]}) exit $st, its log:" >&2
			sed 's/^/  /' "$RUNDIR/vfu$i.log" >&2
		fi
	done
}
trap 'vfu_stop; rm -rf "$RUNDIR"' EXIT
{
	echo "cd $(printf '%q' "$PWD") || exit 1"
	echo "export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	echo "export HOME=/tmp TERM=dumb LANG=C.UTF-8"
	echo "export IOMMUFD_IMPL=${IOMMUFD_IMPL:-rust} IOMMUFD_RS_KBUILD=$(printf '%q' "$KBUILD")"
	echo "export IOMMUFD_RS_CACHE=$(printf '%q' "$CACHE")"
	echo "export IOMMUFD_RS_KERNEL=$(printf '%q' "$KERNEL_VARIANT")"
	echo "export SERIES_MODULES=$(printf '%q' "$SERIES_MODULES")"
	echo "export IOMMUFD_RS_VFU=$(printf '%q' "${VM_VFU:-}")"
	echo "export IOMMUFD_RS_VFU_DUMPS=$(printf '%q' "$VFU_DUMPS")"
	printf '%s\n' "$CMD"
} >"$RUNDIR/run.sh"

accel=tcg
if [ "${VM_ACCEL:-tcg}" = kvm ] && [ -w /dev/kvm ]; then
	accel=kvm
fi

# no_timer_check: under TCG on a loaded host the IO-APIC timer check can
# miss its ticks, and with interrupt remapping on the kernel then panics.
append="console=ttyS0 panic=-1 quiet intel_iommu=on hugepages=64 no_timer_check"
append+=" vm.run=$RUNDIR/run.sh vm.module=$MODULE vm.repo=$REPO vm.cache=$CACHE"
append+=" vm.kmemleak=${VM_KMEMLEAK:-0}"
# The debug kernel reports every KASAN finding, not only the first, and an
# Oops ends the boot at once (panic=-1 reboots, which QEMU takes as its
# exit): a task that dies holding a lock would otherwise hang the boot until
# VM_TIMEOUT, with the tests after it lost either way.
[ "$KERNEL_VARIANT" != debug ] || append+=" kasan_multi_shot oops=panic"
# And it runs with 4-level paging: with -cpu max the guest has LA57, and an
# interrupt that comes while identify_boot_cpu() has cleared the boot CPU's
# feature bits (before alternatives are patched) finds pgtable_l5_enabled()
# false, so KASAN takes every direct-map address (0xff11...) for a wild
# access. Under load the timer then lands in that window on every tick:
# one early boot printed 158,698 reports, none of them near the modules.
[ "$KERNEL_VARIANT" != debug ] || append+=" no5lvl"
# VM_KNOWN_WARN=file:line[,file:line]: warnings of upstream's code (its
# WARNING: line names the place) that a test provokes on purpose in the C
# baseline; they are printed but do not fail the run. Only for C's own
# files: nothing of ours may warn.
case "${VM_KNOWN_WARN:-}" in
*[[:space:]]*) die "VM_KNOWN_WARN must not contain spaces" ;;
esac
[ -z "${VM_KNOWN_WARN:-}" ] || append+=" vm.known_warn=$VM_KNOWN_WARN"
case "$REPO$CACHE" in
*[[:space:]]*) die "the repository and cache paths must not contain spaces" ;;
esac

machine=q35,accel=$accel
case "${VM_IOMMU:-intel}" in
intel)
	iommu=intel-iommu,scalable-mode=on,pasid-bits=20,caching-mode=on
	if [ "${VM_EDU:-0}" != 0 ] || [ -n "${VM_VFU:-}" ]; then
		iommu+=,intremap=on
	fi
	# QEMU refuses snoop control with VFIO devices (vfio-user's too).
	if [ "${VM_EDU:-0}" != 0 ] && [ -z "${VM_VFU:-}" ]; then
		iommu+=,snoop-control=on
	fi
	;;
intel-legacy)
	iommu=intel-iommu,caching-mode=on,intremap=on
	;;
amd) iommu=amd-iommu,dma-remap=on ;;
*) die "VM_IOMMU must be intel, intel-legacy or amd" ;;
esac
extra=()
smp=${VM_SMP:-$(nproc)}
case "${VM_ICOUNT:-0}" in
0) ;;
1)
	[ "$accel" = tcg ] || die "VM_ICOUNT=1 needs TCG, not VM_ACCEL=kvm"
	# One CPU: with more, TCG's round-robin interleaving, and with it
	# what each CPU's time counts, depends on the host again.
	[ "${VM_SMP:-1}" = 1 ] || die "VM_ICOUNT=1 runs one CPU; leave VM_SMP unset"
	smp=1
	extra+=(-icount shift=0,sleep=off)
	;;
*) die "VM_ICOUNT must be 0 or 1" ;;
esac
case "${VM_EDU:-0}" in
0) ;;
1) extra+=(-device edu) ;;
group)
	# Two edus behind a PCIe-to-PCI bridge: their DMA carries the
	# bridge's requester ID, so they form one IOMMU group.
	extra+=(-device pcie-root-port,id=rp1,bus=pcie.0,chassis=1
		-device pcie-pci-bridge,id=pbr,bus=rp1
		-device edu,bus=pbr,addr=1 -device edu,bus=pbr,addr=2)
	;;
*) die "VM_EDU must be 0, 1 or group" ;;
esac

# The func= of a VM_VFU spec, 0 without one.
vfu_func() {
	local item f=0
	local IFS=,
	for item in $1; do
		case "$item" in
		func=[0-7]) f=${item#func=} ;;
		func=*) die "VM_VFU: bad $item in '$1'" ;;
		esac
	done
	echo "$f"
}

if [ -n "${VM_VFU:-}" ]; then
	machine+=,memory-backend=vmmem
	extra+=(-object "memory-backend-memfd,id=vmmem,size=${VM_MEM:-2G},share=on")
	IFS=';' read -ra VFU_SPECS <<<"$VM_VFU"
	port=-1
	for i in "${!VFU_SPECS[@]}"; do
		spec=${VFU_SPECS[$i]}
		[ -n "$spec" ] || die "VM_VFU: an empty spec in '$VM_VFU'"
		func=$(vfu_func "$spec")
		args=(--socket "$RUNDIR/vfu$i.sock" --dump-dir "$VFU_DUMPS" --spec "$spec")
		# The socket is a QAPI struct: -device takes it in JSON only.
		dev="{\"driver\":\"vfio-user-pci\",\"socket\":{\"type\":\"unix\",\"path\":\"$RUNDIR/vfu$i.sock\"}"
		if [ "$func" = 0 ]; then
			port=$((port + 1))
			[ $port -lt 8 ] || die "VM_VFU: at most 8 root ports (slots 0x10-0x17)"
			rp=pcie-root-port,id=vfurp$port,bus=pcie.0,chassis=$((20 + port))
			extra+=(-device "$rp,addr=$(printf 0x%x $((0x10 + port)))")
			next=${VFU_SPECS[$((i + 1))]:-}
			if [ -n "$next" ] && [ "$(vfu_func "$next")" != 0 ]; then
				args+=(--multifunction)
				dev+=",\"multifunction\":true"
			fi
		elif [ $port -lt 0 ]; then
			die "VM_VFU: function $func of '$spec' has no function 0 before it"
		fi
		dev+=",\"bus\":\"vfurp$port\",\"addr\":\"0.$func\"}"
		[ ${#RUNDIR} -lt 90 ] || die "VM_VFU: the socket path under $RUNDIR is too long"
		"$VFU_BIN" "${args[@]}" </dev/null >"$RUNDIR/vfu$i.log" 2>&1 &
		VFU_PIDS[$i]=$!
		extra+=(-device "$dev")
	done
	# QEMU connects while it realizes the devices: wait for the sockets.
	for i in "${!VFU_SPECS[@]}"; do
		for _ in $(seq 100); do
			[ ! -S "$RUNDIR/vfu$i.sock" ] || break
			kill -0 "${VFU_PIDS[$i]}" 2>/dev/null || break
			sleep 0.1
		done
		if [ ! -S "$RUNDIR/vfu$i.sock" ]; then
			echo "vm: vfio-user server $i (${VFU_SPECS[$i]}) did not start" >&2
			VM_VFU_LOG=1
			exit 125
		fi
	done
fi
qemu_argv

LOG=$RUNDIR/console.log
set +e
timeout --foreground "${VM_TIMEOUT:-3000}" \
	"${QEMU[@]}" \
	-machine "$machine" -cpu max -smp "$smp" -m "${VM_MEM:-2G}" \
	-display none -monitor none -serial stdio -no-reboot \
	-device "$iommu" "${extra[@]}" \
	-kernel "$KBUILD/arch/x86/boot/bzImage" -initrd "$INITRD" -append "$append" \
	-fsdev local,id=hostroot,path=/,security_model=none,readonly=on,multidevs=remap \
	-device virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot \
	-fsdev local,id=repo,path="$REPO",security_model=none,readonly=on,multidevs=remap \
	-device virtio-9p-pci,fsdev=repo,mount_tag=repo \
	-fsdev local,id=cache,path="$CACHE",security_model=none,readonly=on,multidevs=remap \
	-device virtio-9p-pci,fsdev=cache,mount_tag=cache \
	</dev/null 2>&1 | tr -d '\r' | tee "$LOG" | grep -v '^IOMMUFD_RS_VM_RC='
qemu_rc=${PIPESTATUS[0]}
set -e

rc=$(sed -n 's/^IOMMUFD_RS_VM_RC=\([0-9]*\)$/\1/p' "$LOG" | tail -n 1)
if [ -z "$rc" ]; then
	echo "vm: the guest ended without reporting a status (qemu exit $qemu_rc)" >&2
	exit 125
fi
exit "$rc"
