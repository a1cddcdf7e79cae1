#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run in the guest: the in-kernel access API selftest, with its test driver
# (build/kmod/iommufd_rs_access_client.ko, build/debug/kmod/ on the debug
# kernel) loaded for the run and removed after it, so that the iommufd
# module it imports from can go. Prints the RESULT line of
# scripts/guest-tap.sh, labelled "<impl>:iommufd_rs_access".
. "$(dirname "$0")/lib.sh"
label=$1:iommufd_rs_access
if ! insmod "$(kmod_dir)/iommufd_rs_access_client.ko"; then
	echo "RESULT $label pass=0 fail=1 skip=0"
	exit 1
fi
scripts/guest-tap.sh "$label" build/selftests/iommufd_rs/iommufd_rs_access
rc=$?
rmmod iommufd_rs_access_client || rc=1
exit $rc
