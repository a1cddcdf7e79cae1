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
# VM_KMEMLEAK=1 also scans for leaks after the command and fails the run on
# any unreferenced object allocated on an iommufd path. VM_EDU=1 adds QEMU's
# edu PCI device (a DMA engine) and turns on the IOMMU's interrupt remapping
# and snoop control, for the VFIO tests; VM_EDU=group adds two edus that
# share an IOMMU group instead. VM_IOMMU=intel (default) gives the
# guest a scalable-mode VT-d with 20-bit PASIDs, VM_IOMMU=amd an AMD-Vi with
# DMA remapping (and, as QEMU's AMD-Vi has no southbridge IOAPIC for the
# kernel, no interrupt remapping). QEMU is the 11.1 of scripts/qemu-root.sh.
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

RUNDIR=$(mktemp -d "$VMDIR/run.XXXXXX")
trap 'rm -rf "$RUNDIR"' EXIT
{
	echo "cd $(printf '%q' "$PWD") || exit 1"
	echo "export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	echo "export HOME=/tmp TERM=dumb LANG=C.UTF-8"
	echo "export IOMMUFD_IMPL=${IOMMUFD_IMPL:-rust} IOMMUFD_RS_KBUILD=$(printf '%q' "$KBUILD")"
	echo "export IOMMUFD_RS_CACHE=$(printf '%q' "$CACHE")"
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
case "$REPO$CACHE" in
*[[:space:]]*) die "the repository and cache paths must not contain spaces" ;;
esac

machine=q35,accel=$accel
case "${VM_IOMMU:-intel}" in
intel)
	iommu=intel-iommu,scalable-mode=on,pasid-bits=20,caching-mode=on
	if [ "${VM_EDU:-0}" != 0 ]; then
		iommu+=,intremap=on,snoop-control=on
	fi
	;;
intel-legacy)
	iommu=intel-iommu,caching-mode=on,intremap=on
	;;
amd) iommu=amd-iommu,dma-remap=on ;;
*) die "VM_IOMMU must be intel, intel-legacy or amd" ;;
esac
extra=()
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
qemu_argv

LOG=$RUNDIR/console.log
set +e
timeout --foreground "${VM_TIMEOUT:-3000}" \
	"${QEMU[@]}" \
	-machine "$machine" -cpu max -smp "$(nproc)" -m "${VM_MEM:-2G}" \
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
