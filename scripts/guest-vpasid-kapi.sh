#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run in the guest, with iommufd_rs.ko loaded and the PASID function of
# VM_VFU without a driver: the PASID virtualization in-kernel API selftest,
# with its test driver (build/kmod/iommufd_rs_vpasid_client.ko,
# build/debug/kmod/ on the debug kernel) loaded for the run and removed
# after it, so that iommufd_rs can go. Prints the RESULT line of
# scripts/guest-tap.sh, labelled "<impl>:iommufd_rs_vpasid_kapi".
#
# The API is iommufd_rs.ko's alone: against the C iommufd.ko the driver
# cannot load, so this is not run there (make check runs it for rust-prod);
# asked to, it says so and counts one failure rather than a pass.
. "$(dirname "$0")/lib.sh"
label=$1:iommufd_rs_vpasid_kapi
if [ "$1" = c ]; then
	echo "guest-vpasid-kapi: not applicable to the C iommufd.ko (no vPASID API)"
	echo "RESULT $label pass=0 fail=1 skip=0"
	exit 1
fi
if ! insmod "$(kmod_dir)/iommufd_rs_vpasid_client.ko"; then
	echo "RESULT $label pass=0 fail=1 skip=0"
	exit 1
fi
scripts/guest-tap.sh "$label" build/selftests/iommufd_rs/iommufd_rs_vpasid_kapi
rc=$?
rmmod iommufd_rs_vpasid_client || rc=1
exit $rc
