#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Fail if any function of a module reserves a stack frame of LIMIT bytes or
more. Rust has no -Wframe-larger-than; this reads the machine code instead:
usage: stack-frames.py MODULE.ko [LIMIT]"""
import re
import subprocess
import sys

ko = sys.argv[1]
limit = int(sys.argv[2]) if len(sys.argv) > 2 else 2048
asm = subprocess.run(["objdump", "-d", "--no-show-raw-insn", ko],
                     check=True, capture_output=True, text=True).stdout
fn, big = None, {}
for line in asm.splitlines():
    m = re.match(r"^[0-9a-f]+ <(.*)>:$", line)
    if m:
        fn = m.group(1)
        continue
    m = re.search(r"sub\s+\$0x([0-9a-f]+),%rsp", line)
    if m and fn and int(m.group(1), 16) >= limit:
        big[fn] = max(big.get(fn, 0), int(m.group(1), 16))
for f, size in sorted(big.items(), key=lambda x: -x[1]):
    print(f"{size:6d} bytes: {f}")
sys.exit(1 if big else 0)
