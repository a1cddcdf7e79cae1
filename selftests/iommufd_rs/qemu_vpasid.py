#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
#
# QEMU 11.1, inside the test VM, over a PCIe function with PASID enabled
# (the vfio-user device model's), once through plain vfio-pci and once
# through vfio-pci-pasid, behind intel-iommu with scalable-mode and
# pasid-bits=20. QEMU is driven over QMP without running guest code (-S),
# as in qemu_client.py; its view of the device's extended config space is
# read through the MMCONFIG window, which the script opens itself by
# programming the q35 host bridge's PCIEXBAR with HMP port I/O.
#   plain_none        over vfio-pci, QEMU presents no PASID capability: it
#                     synthesizes one (x-vpasid-cap-offset) only when the
#                     vIOMMU sets VIOMMU_FLAG_PASID_SUPPORTED, which 11.1's
#                     intel-iommu does only with fsts=on, and fsts=on needs
#                     a nesting parent HWPT that the VT-d emulated for the
#                     test VM does not offer ("Failed to allocate hwpt:
#                     Operation not supported"), so it cannot be compared
#                     here with a QEMU-synthesized one;
#   variant_kept      over vfio-pci-pasid, QEMU keeps the kernel's, at the
#                     offset the driver reports in sysfs;
#   same_layout       that chain is vfio-pci's with a PASID capability
#                     appended at 0xff8, QEMU's default offset, whose
#                     Capability register is what QEMU builds from
#                     IOMMU_GET_HW_INFO: the width the IOMMU accepts for the
#                     device and the Exec/Priv bits enabled on it.
# Prints kselftest-style TAP with a "# Totals:" line for guest-tap.sh.
#
# Run by scripts/vfio-edu.sh after vfio-pci and vfio-pci-pasid are loaded,
# in a boot with VM_VFU.

import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import qemu_client as qc  # noqa: E402

SLOT = 4
PCIEXBAR = 0xb0000000
PASID = 0x1B
TIMEOUT = 300
VARIANT = "vfio-pci-pasid"


def cfg_bytes(bdf):
    with open(f"/sys/bus/pci/devices/{bdf}/config", "rb") as f:
        return f.read(4096)


def dword(b, off):
    return int.from_bytes(b[off:off + 4], "little")


def chain(read32):
    """(offset, id, version) of each extended capability, in chain order."""
    out, pos = [], 0x100
    while 0x100 <= pos <= 0xFFC and len(out) < 64:
        h = read32(pos)
        if h in (0, 0xFFFFFFFF):
            break
        out.append((pos, h & 0xFFFF, (h >> 16) & 0xF))
        pos = (h >> 20) & 0xFFC
    return out


def pasid_function():
    """A function with PASID enabled, alone in its IOMMU group, or None."""
    base = "/sys/bus/pci/devices"
    for bdf in sorted(os.listdir(base)):
        b = cfg_bytes(bdf)
        if len(b) < 4096 or b[0x0E] & 0x7F:
            continue
        caps = {c[1]: c[0] for c in chain(lambda o: dword(b, o))}
        if PASID not in caps:
            continue
        ctrl = dword(b, caps[PASID] + 4) >> 16
        group = f"{base}/{bdf}/iommu_group/devices"
        if ctrl & 1 and len(os.listdir(group)) == 1:
            return bdf
    return None


def vtd_pasid_width():
    """The guest VT-d's PASID width (ECAP.PSS + 1), 0 without PASID."""
    try:
        with open("/sys/class/iommu/dmar0/intel-iommu/ecap") as f:
            ecap = int(f.read(), 16)
    except OSError:
        return 0
    return ((ecap >> 35) & 0x1F) + 1 if ecap >> 40 & 1 else 0


def qemu_view(repo, bdf, tag):
    """QEMU's extended chain of the device and the dword at each offset."""
    argv = qc.qemu_argv(repo) + [
        "-machine", "q35", "-accel", "tcg", "-S", "-nodefaults",
        "-display", "none", "-m", "128M", "-qmp", "stdio",
        "-device", "intel-iommu,scalable-mode=on,pasid-bits=20,"
                   "caching-mode=on",
        "-object", "iommufd,id=i0",
        "-device", f"vfio-pci,host={bdf},iommufd=i0,id=d0,"
                   f"bus=pcie.0,addr={SLOT:#x}",
    ]
    err = open(f"/tmp/qemu-vpasid-{tag}.err", "w+")
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=err, text=True)
    try:
        qmp = qc.Qmp(proc)
        qmp.recv()
        qmp.cmd("qmp_capabilities")
        # PCIEXBAR (host bridge 0:0.0, 0x60): base, 256 buses, enabled.
        for reg, val in ((0x64, 0), (0x60, PCIEXBAR | 1)):
            qmp.hmp(f"o /w 0xcf8 {0x80000000 | reg:#x}")
            qmp.hmp(f"o /w 0xcfc {val:#x}")
        base = PCIEXBAR | SLOT << 15

        def read32(off):
            out = qmp.hmp(f"xp /1wx {base + off:#x}").strip()
            # "00000000b0020100: 0x00010003"
            return int(out.rsplit(":", 1)[1].strip(), 16)

        c = chain(read32)
        regs = {off: read32(off + 4) for off, cid, _ in c if cid == PASID}
        qmp.proc.stdin.write(json.dumps({"execute": "quit"}) + "\n")
        qmp.proc.stdin.flush()
        rc = proc.wait(timeout=TIMEOUT)
        return c, regs, rc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        err.seek(0)
        for line in err.read().splitlines():
            print(f"# qemu ({tag}): {line}")
        err.close()


def main():
    total = 3
    repo = os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__))))
    bdf = pasid_function()
    need = os.environ.get("IOMMUFD_RS_NEED_PASID_DEV") == "1"
    if bdf is None or not os.path.isdir(f"/sys/bus/pci/drivers/{VARIANT}"):
        if need:
            print("TAP version 13\n1..1")
            print("not ok 1 no PASID function or no " + VARIANT)
            print("# Totals: pass:0 fail:1 xfail:0 xpass:0 skip:0 error:0")
            return 1
        print("TAP version 13\n1..0 # SKIP no PASID function or no " + VARIANT)
        print("# Totals: pass:0 fail:0 xfail:0 xpass:0 skip:1 error:0")
        return 0
    param = qc.allow_unsafe_irqs()
    tap = qc.Tap(total)
    signal.alarm(3 * TIMEOUT)
    start = time.monotonic()
    try:
        print(f"# {bdf}")
        qc.bind_driver(bdf, "vfio-pci")
        plain, plain_regs, rc = qemu_view(repo, bdf, "plain")
        print(f"# over vfio-pci: {[(hex(o), hex(i)) for o, i, _ in plain]}")
        tap.check("plain_none", rc == 0 and not plain_regs,
                  f"QEMU exited {rc}, PASID at {list(map(hex, plain_regs))}")

        qc.bind_driver(bdf, VARIANT)
        var, var_regs, rc = qemu_view(repo, bdf, "variant")
        with open(f"/sys/bus/pci/devices/{bdf}/vpasid_offset") as f:
            kernel_off = int(f.read().strip(), 16)
        print(f"# over {VARIANT}: {[(hex(o), hex(i)) for o, i, _ in var]}, "
              f"the kernel's at {kernel_off:#x}")
        tap.check("variant_kept",
                  rc == 0 and list(var_regs) == [kernel_off],
                  f"QEMU exited {rc}, PASID at {list(map(hex, var_regs))}")

        # What QEMU would synthesize: its default offset, appended, with
        # the width and features GET_HW_INFO reports.
        phys = cfg_bytes(bdf)
        pcap = {c[1]: c[0] for c in chain(lambda o: dword(phys, o))}[PASID]
        reg = dword(phys, pcap + 4)
        width = min((reg >> 8) & 0x1F, vtd_pasid_width() or 0x1F)
        want_cap = width << 8 | (reg >> 16) & 6
        got_cap = [v & 0xFFFF for v in var_regs.values()]
        tap.check("same_layout",
                  var == plain + [(0xFF8, PASID, 1)] and got_cap == [want_cap],
                  f"{var} {got_cap} vs {plain} + 0xff8 {want_cap:#x}")
    except Exception as e:  # noqa: BLE001 - any failure is reported in TAP
        print(f"# {type(e).__name__}: {e}")
    finally:
        try:
            qc.bind_driver(bdf, "vfio-pci")
        except (OSError, RuntimeError) as e:
            print(f"# rebinding vfio-pci: {e}")
        qc.restore_irqs(param)
    print(f"# took {time.monotonic() - start:.0f} s")
    return tap.done(total)


if __name__ == "__main__":
    sys.exit(main())
