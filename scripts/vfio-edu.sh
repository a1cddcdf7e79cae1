#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run in the test VM booted with VM_EDU=1, after the iommufd under test is
# loaded: load the kernel's own vfio-pci and what it needs with modprobe,
# from a copy of the test kernel's modules in which, for iommufd_rs, our
# module sits in iommufd-rs/ (the configuration Documentation/iommufd-rs.rst
# describes: depmod then makes it vfio's provider of the iommufd symbols).
# Runs the edu DMA selftest, then QEMU as a client of the same device
# (selftests/iommufd_rs/qemu_client.py), and unloads vfio again, so that the iommufd
# module can be removed.
#
#   scripts/vfio-edu.sh [--test NAME]... [--also NAME]... [--run CMD] [label]
#
# --test NAME is a test program in build/selftests/iommufd_rs/ to run
# instead of those two, --also NAME one to run after them, in the same load
# of vfio (each may be given more than once): iommufd_rs_rust_vmm drives
# the same device through rust-vmm's vfio-ioctls and iommufd-ioctls. A
# NAME ending in .py is a script in selftests/iommufd_rs/ (qemu_vpasid.py).
# --run CMD runs the shell command CMD instead of any test (make bench's
# measurements on edu's domain); its status is the script's.
set -u
tests=()
also=()
run=
while [ $# -ge 2 ]; do
	case "$1" in
	--test) tests+=("$2") ;;
	--also) also+=("$2") ;;
	--run) run=$2 ;;
	*) break ;;
	esac
	shift 2
done
repo=$(cd "$(dirname "$0")/.." && pwd)
. "$repo/scripts/lib.sh"
kver=$(uname -r)
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/lib/modules"
cp -r "$IOMMUFD_RS_KBUILD/modroot/lib/modules/$kver" "$root/lib/modules/"
case "$IOMMUFD_IMPL" in
rust | rust-prod) ko=$(impl_module "$IOMMUFD_IMPL") ;;
*) ko= ;;
esac
if [ -n "$ko" ]; then
	mkdir -p "$root/lib/modules/$kver/iommufd-rs"
	cp "$ko" "$root/lib/modules/$kver/iommufd-rs/"
fi
depmod -b "$root" "$kver" || exit 1
echo "vfio-edu: $(grep '^kernel/drivers/vfio/vfio.ko:' "$root/lib/modules/$kver/modules.dep")"

rc=0
modprobe -d "$root" vfio-pci || { echo "vfio-edu: modprobe vfio-pci failed"; rc=1; }
# The variant driver with a virtual PASID capability (vfio_pci_pasid/): it
# binds only where driver_override names it, so it changes nothing for the
# other tests. It needs only vfio-pci-core, so either build will do.
vpasid=$(vpasid_module "$IOMMUFD_IMPL")
if [ $rc -eq 0 ] && [ -e "$vpasid" ]; then
	insmod "$vpasid" || { echo "vfio-edu: insmod $vpasid failed"; rc=1; }
	# iommufd_rs_vfio_vpasid reloads it with module parameters.
	export IOMMUFD_RS_VPASID_KO=$vpasid
fi
label=${1:-$IOMMUFD_IMPL}
if [ $rc -eq 0 ] && [ -n "$run" ]; then
	bash -c "$run" || rc=1
elif [ $rc -eq 0 ]; then
	if [ ${#tests[@]} -eq 0 ]; then
		"$repo/scripts/guest-tap.sh" "$label:iommufd_rs_vfio_edu" \
			"$repo/build/selftests/iommufd_rs/iommufd_rs_vfio_edu" || rc=1
		# QEMU itself as the client, on the same device.
		"$repo/scripts/guest-tap.sh" "$label:qemu_client" \
			python3 "$repo/selftests/iommufd_rs/qemu_client.py" || rc=1
	fi
	for t in "${tests[@]}" "${also[@]}"; do
		case "$t" in
		*.py) cmd=(python3 "$repo/selftests/iommufd_rs/$t") ;;
		*) cmd=("$repo/build/selftests/iommufd_rs/$t") ;;
		esac
		"$repo/scripts/guest-tap.sh" "$label:${t%.py}" "${cmd[@]}" || rc=1
	done
fi
for m in vfio_pci_pasid vfio_pci vfio_pci_core vfio_iommu_type1 vfio irqbypass; do
	if grep -q "^$m " /proc/modules; then
		rmmod "$m" || { echo "vfio-edu: rmmod $m failed"; rc=1; }
	fi
done
exit $rc
