#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
#
# QEMU as an iommufd client, inside the test VM: QEMU 11.1 realizes the edu
# device through the kernel's vfio-pci with "-object iommufd" over the
# iommufd module under test, and is driven over QMP without running any
# guest code (-S: Debian's QEMU has no qtest accelerator). Checks:
#   realize      the device is on QEMU's PCI bus with edu's ids;
#   config_read  its config space, read back through the emulated host
#                bridge (HMP port I/O on 0xcf8/0xcfc), has the ids and
#                class of the real device, which vfio passes through;
#   ram_mapped   QEMU's RAM is DMA-mapped: the process has at least the
#                guest's RAM pinned (VmPin), which only iommufd's pins count,
#                and exactly what it had over the C module earlier in the
#                same boot, if that ran;
#   quit         QEMU quits cleanly and unpins everything.
# Prints kselftest-style TAP with a "# Totals:" line for guest-tap.sh.
#
# Run by scripts/vfio-edu.sh after vfio-pci is loaded.

import json
import os
import signal
import subprocess
import sys
import time

EDU = ("0x1234", "0x11e8")
RAM_MIB = 128
SLOT = 4  # the device's slot on QEMU's bus 0, for config cycles
TIMEOUT = 300
# Where a run against the C module leaves its figure for later runs.
C_VMPIN = "/tmp/iommufd-rs-qemu-client-c.vmpin"


def sysfs(path):
    with open(path) as f:
        return f.read().strip()


def find_edu():
    base = "/sys/bus/pci/devices"
    for bdf in sorted(os.listdir(base)):
        ids = (sysfs(f"{base}/{bdf}/vendor"), sysfs(f"{base}/{bdf}/device"))
        if ids == EDU:
            return bdf
    return None


def bind_driver(bdf, drv):
    """Binds bdf to driver drv (vfio-pci, vfio-pci-pasid) by its name."""
    dev = f"/sys/bus/pci/devices/{bdf}"
    link = os.path.join(dev, "driver")
    if os.path.islink(link):
        if os.path.basename(os.readlink(link)) == drv:
            return
        with open(os.path.join(link, "unbind"), "w") as f:
            f.write(bdf)
    with open(os.path.join(dev, "driver_override"), "w") as f:
        f.write(drv)
    with open("/sys/bus/pci/drivers_probe", "w") as f:
        f.write(bdf)
    if not os.path.islink(link) or os.path.basename(os.readlink(link)) != drv:
        raise RuntimeError(f"{bdf} did not bind to {drv}")


def bind_vfio_pci(bdf):
    bind_driver(bdf, "vfio-pci")


def msi_isolated():
    with open("/proc/interrupts") as f:
        return any(" IR-" in line for line in f)


def unsafe_param():
    for mod in ("iommufd_rs", "iommufd"):
        p = f"/sys/module/{mod}/parameters/allow_unsafe_interrupts"
        if os.path.exists(p):
            return p
    return None


def allow_unsafe_irqs():
    """Without interrupt remapping (AMD-Vi in QEMU) vfio binds only with
    the module's override: sets it, and returns what restore_irqs needs."""
    if msi_isolated():
        return None
    param = unsafe_param()
    with open(param, "w") as f:
        f.write("Y")
    return param


def restore_irqs(param):
    if param:
        with open(param, "w") as f:
            f.write("N")


def qemu_argv(repo):
    out = subprocess.run(
        ["bash", "-c", f'. "{repo}/scripts/lib.sh" && qemu_argv && '
         'printf "%s\\0" "${QEMU[@]}"'],
        check=True, capture_output=True).stdout
    return [a.decode() for a in out.split(b"\0") if a]


def vm_pin_kb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmPin:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return -1


class Qmp:
    def __init__(self, proc):
        self.proc = proc
        self.events = []

    def recv(self):
        while True:
            line = self.proc.stdout.readline()
            if not line:
                raise EOFError("QEMU closed QMP")
            msg = json.loads(line)
            if "event" in msg:
                self.events.append(msg)
                continue
            return msg

    def cmd(self, name, **args):
        req = {"execute": name}
        if args:
            req["arguments"] = args
        self.proc.stdin.write(json.dumps(req) + "\n")
        self.proc.stdin.flush()
        reply = self.recv()
        if "error" in reply:
            raise RuntimeError(f"{name}: {reply['error']}")
        return reply["return"]

    def hmp(self, line):
        return self.cmd("human-monitor-command", **{"command-line": line})


class Tap:
    def __init__(self, total):
        self.n = 0
        self.passed = 0
        self.failed = 0
        print("TAP version 13")
        print(f"1..{total}")

    def check(self, name, ok, why=""):
        self.n += 1
        if ok:
            self.passed += 1
            print(f"ok {self.n} {name}")
        else:
            self.failed += 1
            print(f"# {name}: {why}")
            print(f"not ok {self.n} {name}")

    def done(self, total):
        # Whatever did not run counts as failed.
        while self.n < total:
            self.check("not_reached", False, "an earlier step failed")
        print(f"# Totals: pass:{self.passed} fail:{self.failed} xfail:0 "
              "xpass:0 skip:0 error:0")
        return 0 if self.failed == 0 else 1


def config_dword(qmp, reg):
    """A config dword of bus 0, slot SLOT, through QEMU's host bridge."""
    addr = 0x80000000 | (SLOT << 11) | reg
    out = qmp.hmp(f"o /w 0xcf8 {addr:#x}").strip()
    if out:
        raise ValueError(f"HMP o: {out!r}")
    out = qmp.hmp("i /w 0xcfc").strip()
    # "portl[0x0cfc] = 0x11e81234"
    if "=" not in out:
        raise ValueError(f"HMP i: {out!r}")
    return int(out.rsplit("=", 1)[1].strip(), 16)


def main():
    total = 4
    repo = os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__))))
    bdf = find_edu()
    if bdf is None or not os.path.isdir("/sys/bus/pci/drivers/vfio-pci"):
        print("TAP version 13\n1..0 # SKIP no edu device or no vfio-pci")
        print("# Totals: pass:0 fail:0 xfail:0 xpass:0 skip:1 error:0")
        return 0
    bind_vfio_pci(bdf)
    with open(f"/sys/bus/pci/devices/{bdf}/config", "rb") as f:
        host_cfg = f.read(12)
    host_id = int.from_bytes(host_cfg[0:4], "little")
    host_class = int.from_bytes(host_cfg[8:12], "little")

    # iommufd_rs_vfio_edu checks the refusal without the override itself.
    param = allow_unsafe_irqs()

    argv = qemu_argv(repo) + [
        "-machine", "q35", "-accel", "tcg", "-S", "-nodefaults",
        "-display", "none", "-m", f"{RAM_MIB}M", "-qmp", "stdio",
        "-object", "iommufd,id=i0",
        "-device", f"vfio-pci,host={bdf},iommufd=i0,id=edu0,"
                   f"bus=pcie.0,addr={SLOT:#x}",
    ]
    tap = Tap(total)
    # A QEMU that hangs must not hang the run: the alarm ends the script.
    signal.alarm(TIMEOUT)
    errlog = open("/tmp/qemu-client.err", "w+")
    start = time.monotonic()
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=errlog, text=True)
    try:
        qmp = Qmp(proc)
        qmp.recv()  # greeting
        qmp.cmd("qmp_capabilities")
        print(f"# QEMU up over QMP in {time.monotonic() - start:.0f} s")
        found = None
        for bus in qmp.cmd("query-pci"):
            for d in bus["devices"]:
                if d.get("qdev_id") == "edu0":
                    found = d
        tap.check("realize",
                  found is not None and found["slot"] == SLOT
                  and found["id"]["vendor"] == int(EDU[0], 16)
                  and found["id"]["device"] == int(EDU[1], 16),
                  f"query-pci gave {found}")

        got_id = config_dword(qmp, 0)
        got_class = config_dword(qmp, 8)
        tap.check("config_read",
                  got_id == host_id and got_class == host_class,
                  f"ids {got_id:#x} class {got_class:#x}, the device has "
                  f"{host_id:#x} {host_class:#x}")

        pinned = vm_pin_kb(proc.pid)
        print(f"# QEMU's VmPin: {pinned} kB")
        # When the C module ran before in this boot (scripts/vfio-each.sh
        # runs it first), the same QEMU must have pinned exactly as much.
        impl = os.environ.get("IOMMUFD_IMPL", "")
        ref = C_VMPIN if impl != "c" and os.path.exists(C_VMPIN) else None
        want = None
        if ref:
            with open(ref) as f:
                want = int(f.read())
            print(f"# with the C iommufd.ko in this boot: {want} kB")
        elif impl == "c":
            with open(C_VMPIN, "w") as f:
                f.write(str(pinned))
        tap.check("ram_mapped",
                  pinned >= RAM_MIB * 1024 and want in (None, pinned),
                  f"VmPin {pinned} kB, the guest has {RAM_MIB} MiB, "
                  f"C pinned {want} kB")

        qmp.proc.stdin.write(json.dumps({"execute": "quit"}) + "\n")
        qmp.proc.stdin.flush()
        rc = proc.wait(timeout=TIMEOUT)
        tap.check("quit", rc == 0, f"QEMU exited {rc}")
    except Exception as e:  # noqa: BLE001 - any failure is reported in TAP

        print(f"# {type(e).__name__}: {e}")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        errlog.seek(0)
        for line in errlog.read().splitlines():
            print(f"# qemu: {line}")
        errlog.close()
        restore_irqs(param)
    print(f"# took {time.monotonic() - start:.0f} s")
    return tap.done(total)


if __name__ == "__main__":
    sys.exit(main())
