#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run in the guest: run one kselftest-style TAP program and print a line
#   RESULT <label> pass=N fail=N skip=N   (counted by make check), or
#   INFO <label> pass=N fail=N skip=N     (with --info: reported only).
# A program that ends without its totals line counts as one failure.
kind=RESULT
if [ "$1" = --info ]; then
	kind=INFO
	shift
fi
label=$1
shift
out=$(mktemp)
start=$(date +%s)
"$@" 2>&1 | tee "$out"
rc=${PIPESTATUS[0]}
took=$(($(date +%s) - start))
totals=$(grep -E '^# Totals: ' "$out" | tail -n 1)
if [ -z "$totals" ]; then
	echo "$kind $label pass=0 fail=1 skip=0 exit=$rc secs=$took"
else
	p=$(sed -n 's/.* pass:\([0-9]*\).*/\1/p' <<<"$totals")
	f=$(sed -n 's/.* fail:\([0-9]*\).*/\1/p' <<<"$totals")
	s=$(sed -n 's/.* skip:\([0-9]*\).*/\1/p' <<<"$totals")
	e=$(sed -n 's/.* error:\([0-9]*\).*/\1/p' <<<"$totals")
	echo "$kind $label pass=$p fail=$((f + ${e:-0})) skip=$s exit=$rc secs=$took"
fi
# Name every failed test, for the caller's list of known failures.
sed -n 's/^not ok [0-9]* \([^ ]*\).*/FAILED '"$label"' \1/p' "$out"
rm -f "$out"
[ "$kind" = INFO ] || [ "$rc" -eq 0 ]
