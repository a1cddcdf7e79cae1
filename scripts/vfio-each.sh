#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run in a test VM booted with IOMMUFD_IMPL=none and VM_EDU=1: for each
# iommufd implementation given (rust, rust-prod, c), load it, run
# scripts/vfio-edu.sh against it with labels "<prefix>-<impl>", and remove
# it again, so that one boot compares them on the same emulated IOMMU.
#
#   scripts/vfio-each.sh [--test NAME]... [--also NAME]... prefix impl...
#
# Each --test NAME and --also NAME is handed to scripts/vfio-edu.sh: run
# those programs instead of, or after, its own.
set -u
repo=$(cd "$(dirname "$0")/.." && pwd)
. "$repo/scripts/lib.sh"
test=()
while [ "${1:-}" = --test ] || [ "${1:-}" = --also ]; do
	test+=("$1" "$2")
	shift 2
done
prefix=$1
shift
rc=0
for impl in "$@"; do
	case "$impl" in
	rust | rust-prod) ko=$(impl_module "$impl") mod=iommufd_rs ;;
	c) ko=$(find "$IOMMUFD_RS_KBUILD/modroot" -name iommufd.ko | head -n 1) mod=iommufd ;;
	*) echo "vfio-each: unknown implementation $impl"; exit 1 ;;
	esac
	if ! insmod "$ko"; then
		echo "vfio-each: insmod $ko failed"
		rc=1
		continue
	fi
	IOMMUFD_IMPL=$impl "$repo/scripts/vfio-edu.sh" "${test[@]}" "$prefix-$impl" || rc=1
	rmmod "$mod" || { echo "vfio-each: rmmod $mod failed"; rc=1; }
done
exit $rc
