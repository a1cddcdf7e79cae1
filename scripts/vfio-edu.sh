#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run in the test VM booted with VM_EDU=1, after the iommufd under test is
# loaded: load the kernel's own vfio, vfio_iommu_type1, vfio-pci-core and
# vfio-pci from the test kernel's modules (they take the in-kernel API from
# whichever iommufd is loaded), run the edu DMA selftest, and unload them
# again so that the iommufd module can be removed.
#
#   scripts/vfio-edu.sh [label]
set -u
mods=$IOMMUFD_RS_KBUILD/modroot/lib/modules/$(uname -r)/kernel
chain="virt/lib/irqbypass drivers/vfio/vfio drivers/vfio/vfio_iommu_type1
	drivers/vfio/pci/vfio-pci-core drivers/vfio/pci/vfio-pci"
rc=0
for m in $chain; do
	insmod "$mods/$m.ko" || { echo "vfio-edu: insmod $m failed"; rc=1; break; }
done
if [ $rc -eq 0 ]; then
	scripts/guest-tap.sh "${1:-$IOMMUFD_IMPL}:iommufd_rs_vfio_edu" \
		build/selftests/iommufd_rs/iommufd_rs_vfio_edu || rc=1
fi
for m in vfio_pci vfio_pci_core vfio_iommu_type1 vfio irqbypass; do
	if grep -q "^$m " /proc/modules; then
		rmmod "$m" || { echo "vfio-edu: rmmod $m failed"; rc=1; }
	fi
done
exit $rc
