// SPDX-License-Identifier: GPL-2.0

//! The placement and emulation of the virtual PASID capability on the
//! config spaces captured from real devices (tools/vfio-user-device/dumps,
//! see SOURCES there), on the device model's own layouts, and on layouts
//! built here where 0xff8 is taken. vfio-pci's view of a config space is
//! rebuilt by `vfio_view`, after drivers/vfio/pci/vfio_pci_config.c.

use crate::vpasid::*;
use std::path::PathBuf;

/// A 4 KiB config space.
#[derive(Clone)]
struct Cfg(Vec<u8>);

impl ConfigSpace for Cfg {
    fn read32(&self, off: u16) -> Option<u32> {
        let o = usize::from(off);
        let b = self.0.get(o..o + 4)?;
        Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
}

impl Cfg {
    fn empty() -> Self {
        Cfg(vec![0; 4096])
    }

    fn put32(&mut self, off: u16, v: u32) {
        let o = usize::from(off);
        self.0[o..o + 4].copy_from_slice(&v.to_le_bytes());
    }

    fn get32(&self, off: u16) -> u32 {
        self.read32(off).unwrap()
    }

    /// Appends an extended capability `id` at `off` to the chain, with
    /// `dw1` as its second dword.
    fn append(&mut self, off: u16, id: u16, dw1: u32) {
        let last = Chain::read(self).unwrap().iter(self).last().map(|(o, _)| o);
        self.put32(off, u32::from(id) | 1 << 16);
        self.put32(off + 4, dw1);
        if let Some(l) = last {
            let h = self.get32(l);
            self.put32(l, (h & 0xf_ffff) | u32::from(off) << 20);
        }
    }
}

fn hexbyte(s: &str) -> u8 {
    u8::from_str_radix(s, 16).unwrap()
}

/// The first device of an `lspci -xxxx` dump: its config space, vendor and
/// device id.
fn dump(name: &str) -> (Cfg, u16, u16) {
    let path: PathBuf = [
        env!("CARGO_MANIFEST_DIR"),
        "../../tools/vfio-user-device/dumps",
        name,
    ]
    .iter()
    .collect();
    let text = std::fs::read_to_string(&path).unwrap();
    let mut cfg = Cfg::empty();
    let mut last: Option<usize> = None;
    for line in text.lines() {
        let line = line.trim();
        let Some((addr, bytes)) = line.split_once(": ") else {
            continue;
        };
        let Ok(addr) = usize::from_str_radix(addr, 16) else {
            continue;
        };
        let bytes: Vec<&str> = bytes.split_whitespace().collect();
        if bytes.len() != 16 || addr % 16 != 0 || addr >= 4096 {
            continue;
        }
        // A second device starts again at 00.
        if last.is_some_and(|l| addr <= l) {
            break;
        }
        for (i, b) in bytes.iter().enumerate() {
            cfg.0[addr + i] = hexbyte(b);
        }
        last = Some(addr);
    }
    assert_eq!(last, Some(0xff0), "{name}: not a 4 KiB dump");
    let vendor = cfg.get32(0) as u16;
    let device = (cfg.get32(0) >> 16) as u16;
    (cfg, vendor, device)
}

/// Whether vfio-pci presents an extended capability: its length table
/// (pci_ext_cap_length) is non-zero for these, and ids above the table
/// (past PCI_EXT_CAP_ID_MAX, 0x31) are hidden too.
fn vfio_shows(id: u16) -> bool {
    matches!(
        id,
        0x01 | 0x02
            | 0x03
            | 0x04
            | 0x08
            | 0x09
            | 0x0b
            | 0x0d
            | 0x0e
            | 0x0f
            | 0x10
            | 0x12
            | 0x13
            | 0x15
            | 0x16
            | 0x17
            | 0x18
            | 0x23
    )
}

/// The extended capability headers vfio-pci presents for a physical
/// config space (vfio_ecap_init): a hidden capability is skipped by
/// relinking the previous header, or, first in the chain, kept as a
/// placeholder with id and version 0.
fn vfio_view(phys: &Cfg) -> Cfg {
    let mut v = Cfg::empty();
    let mut prev: Option<u16> = None;
    let mut shown = 0;
    for (off, h) in Chain::read(phys).unwrap().iter(phys) {
        let raw = phys.get32(off);
        if !vfio_shows(h.id) {
            match prev {
                Some(p) => {
                    let ph = v.get32(p);
                    v.put32(p, (ph & 0xf_ffff) | u32::from(h.next) << 20);
                }
                None => {
                    v.put32(off, raw & 0xfff0_0000);
                    prev = Some(off);
                }
            }
            continue;
        }
        v.put32(off, raw);
        prev = Some(off);
        shown += 1;
    }
    if shown == 0 {
        v.put32(EXT_START, 0);
    }
    v
}

/// What a user of vfio-pci reads: the device's bytes, with vfio-pci's
/// headers over those of the capabilities it keeps in its chain (a hidden
/// capability's bytes are in no capability of its map and read raw), except
/// that a device header of id 0 at 0x100 is read from the device too
/// (vfio-pci's map takes it for the standard header, id 0 as well).
fn presented(phys: &Cfg) -> Cfg {
    let v = vfio_view(phys);
    let mut shown = phys.clone();
    for (off, _) in Chain::read(&v).unwrap().iter(&v) {
        shown.put32(off, v.get32(off));
    }
    let h = phys.get32(0x100);
    if h != 0 && h & 0xffff == 0 {
        shown.put32(0x100, h);
    } else {
        shown.put32(0x100, v.get32(0x100));
    }
    shown
}

/// The config space a user of the variant driver reads: vfio-pci's with
/// the virtual capability overlaid.
fn user_view(vcfg: &Cfg, virt: &Virtual) -> Cfg {
    let mut u = vcfg.clone();
    virt.read(0, &mut u.0);
    u
}

/// A device without quirks of its own.
fn no_quirks(vendor: u16, device: u16) -> Device<'static> {
    Device {
        vendor,
        device,
        quirks: "",
    }
}

const FULL: PasidInfo = PasidInfo {
    width: 20,
    exec: true,
    privileged: true,
};

fn build_on(
    phys: &Cfg,
    vendor: u16,
    device: u16,
    quirks: &str,
    request: Option<u16>,
) -> Result<Option<Virtual>, Refusal> {
    let dev = Device {
        vendor,
        device,
        quirks,
    };
    build(phys, &vfio_view(phys), &dev, FULL, request, None)
}

/// Checks what a user walking the chain finds: every capability vfio-pci
/// shows, then the PASID capability at `off`, last, exactly once.
fn check_user_chain(phys: &Cfg, virt: &Virtual, off: u16) {
    let vcfg = vfio_view(phys);
    let user = user_view(&presented(phys), virt);
    let mut before: Vec<_> = Chain::read(&vcfg)
        .unwrap()
        .iter(&vcfg)
        .map(|(o, _)| o)
        .collect();
    // An empty chain gains a null header at 0x100 that leads to ours.
    if before.is_empty() {
        before.push(EXT_START);
    }
    let after: Vec<_> = Chain::read(&user).unwrap().iter(&user).collect();
    assert_eq!(after.len(), before.len() + 1);
    for (i, &o) in before.iter().enumerate() {
        assert_eq!(after[i].0, o);
    }
    let (last_off, last) = after[after.len() - 1];
    assert_eq!(last_off, off);
    assert_eq!(last.id, PASID_ID);
    assert_eq!(last.next, 0);
    assert_eq!(after.iter().filter(|(_, h)| h.id == PASID_ID).count(), 1);
    assert_eq!(user.get32(off + 4) & 0xffff, u32::from(FULL.cap()));
    // Every other byte is what vfio-pci presents.
    let shown = presented(phys);
    for p in 0..4096u16 {
        let in_cap = (off..off + 8).contains(&p);
        let in_prev = (virt.prev..virt.prev + 4).contains(&p);
        let in_head = virt.head.is_some() && (0x100..0x104).contains(&p);
        if !in_cap && !in_prev && !in_head {
            assert_eq!(
                user.0[usize::from(p)],
                shown.0[usize::from(p)],
                "byte {p:#x}"
            );
        }
    }
}

/// The dumps and where the policy puts the capability: 0xff8 on each, as
/// none of them has registers in the last 8 bytes.
const DUMPS: &[(&str, u16, u16)] = &[
    // name, the capability vfio-pci presents last, and the default offset
    ("intel-dsa-accel.lspci", 0x240, 0xff8),
    ("amd-fiji-gpu.lspci", 0x328, 0xff8),
    ("intel-82576-nic.lspci", 0x160, 0xff8),
    ("intel-cxl-accel.lspci", 0xe38, 0xff8),
    ("intel-skl-gpu.lspci", 0x300, 0xff8),
];

#[test]
fn default_placement_on_every_dump() {
    for &(name, prev, want) in DUMPS {
        let (phys, v, d) = dump(name);
        let virt = build_on(&phys, v, d, "", None).unwrap().unwrap();
        assert_eq!(virt.off, want, "{name}");
        assert_eq!(virt.prev, prev, "{name}");
        check_user_chain(&phys, &virt, want);
    }
}

/// Each dump with an 8-byte vendor-specific capability appended at 0xff8,
/// as firmware that fills the end of config space would: the first free
/// dword-aligned gap after the capabilities and registers the dump has.
const FF8_TAKEN: &[(&str, u16)] = &[
    // DSA: AER at 0x100 spans 0x48 bytes, LTR starts at 0x150.
    ("intel-dsa-accel.lspci", 0x148),
    // Fiji: vendor-specific at 0x100 with Length 0x010, AER at 0x150.
    ("amd-fiji-gpu.lspci", 0x110),
    // 82576: AER at 0x100 overlapped by DSN at 0x140 (12 bytes), ARI at
    // 0x150 (8 bytes), SR-IOV at 0x160.
    ("intel-82576-nic.lspci", 0x158),
    // CXL: AER at 0x100, then MFVC at 0x200.
    ("intel-cxl-accel.lspci", 0x148),
    // Skylake GPU: PASID at 0x100, 8 bytes, hidden by vfio-pci but
    // registers all the same; ATS at 0x200.
    ("intel-skl-gpu.lspci", 0x108),
];

#[test]
fn ff8_taken_on_every_dump() {
    for &(name, want) in FF8_TAKEN {
        let (mut phys, v, d) = dump(name);
        phys.append(0xff8, 0x0b, 8 << 20);
        let virt = build_on(&phys, v, d, "", None).unwrap().unwrap();
        assert_eq!(virt.off, want, "{name}");
        check_user_chain(&phys, &virt, want);
        // The operator cannot have 0xff8 either.
        assert_eq!(
            build_on(&phys, v, d, "", Some(0xff8)),
            Err(Refusal::Taken(0xff8, 0xff8)),
            "{name}"
        );
    }
}

/// The device model's endpoint with `pasid-at=0xff8` (as
/// `vfio-user-device --print-config --spec pasid=5,priv,pasid-at=0xff8`
/// prints it): a null header at 0x100 leading to the PASID capability at
/// 0xff8. vfio-pci shows the null header as a placeholder and hides the
/// PASID capability; the virtual one may not go over it.
#[test]
fn model_pasid_at_ff8() {
    let mut phys = Cfg::empty();
    phys.put32(0x100, 0xff8 << 20);
    phys.put32(0xff8, 0x0001_001b);
    phys.put32(0xffc, 0x0000_0504);
    let virt = build_on(&phys, 0x1b36, 0x1f00, "", None).unwrap().unwrap();
    assert_eq!((virt.off, virt.prev), (0x104, 0x100));
    check_user_chain(&phys, &virt, 0x104);
    // vfio-pci's placeholder keeps id and version 0, linked to ours; the
    // device's, which vfio-pci would show, leads to its hidden PASID.
    assert_eq!(
        Chain::read(&presented(&phys))
            .unwrap()
            .find(&presented(&phys), PASID_ID),
        Some(0xff8)
    );
    let user = user_view(&presented(&phys), &virt);
    assert_eq!(user.get32(0x100), 0x104 << 20);
}

/// The device model's `pasid=20,acs=1` function: a null header at 0x100,
/// its PASID capability at 0x120, ACS at 0x130. Through vfio-pci the
/// device's null header shows, and with it the hidden PASID capability;
/// through the variant the chain is vfio-pci's own, with one PASID
/// capability, the virtual one.
#[test]
fn model_null_header_first() {
    let mut phys = Cfg::empty();
    phys.put32(0x100, 0x120 << 20);
    phys.put32(0x120, 0x130 << 20 | 0x0001_001b);
    phys.put32(0x124, 0x0000_1400);
    phys.put32(0x130, 0x0001_000d);
    phys.put32(0x134, 0x0000_0001);
    let shown = presented(&phys);
    let ids: Vec<_> = Chain::read(&shown)
        .unwrap()
        .iter(&shown)
        .map(|(o, h)| (o, h.id))
        .collect();
    assert_eq!(ids, [(0x100, 0), (0x120, PASID_ID), (0x130, 0x0d)]);
    let virt = build_on(&phys, 0x1b36, 0x1f00, "", None).unwrap().unwrap();
    assert_eq!((virt.off, virt.prev), (0xff8, 0x130));
    assert_eq!(virt.head, Some(0x130 << 20));
    check_user_chain(&phys, &virt, 0xff8);
    let user = user_view(&shown, &virt);
    let ids: Vec<_> = Chain::read(&user)
        .unwrap()
        .iter(&user)
        .map(|(o, h)| (o, h.id))
        .collect();
    assert_eq!(ids, [(0x100, 0), (0x130, 0x0d), (0xff8, PASID_ID)]);
}

/// A device without extended capabilities: vfio-pci presents a zero
/// header at 0x100, which the capability is linked from.
#[test]
fn empty_chain() {
    let phys = Cfg::empty();
    let virt = build_on(&phys, 1, 2, "", None).unwrap().unwrap();
    assert_eq!((virt.off, virt.prev), (0xff8, 0x100));
    check_user_chain(&phys, &virt, 0xff8);
}

#[test]
fn operator_offsets() {
    let (phys, v, d) = dump("intel-cxl-accel.lspci");
    let at = |o| build_on(&phys, v, d, "", Some(o)).map(|x| x.map(|y| y.off));
    // The hidden PASID capability, and its second dword.
    assert_eq!(at(0xb40), Err(Refusal::Taken(0xb40, 0xb40)));
    assert_eq!(at(0xb44), Err(Refusal::Taken(0xb44, 0xb40)));
    // Secondary PCIe, hidden too: 0x0c bytes and a word per lane.
    assert_eq!(at(0x714), Err(Refusal::Taken(0x714, 0x714)));
    // The last 4 bytes of AER (0x144) and the free dword after it.
    assert_eq!(at(0x144), Err(Refusal::Taken(0x144, 0x100)));
    assert_eq!(at(0x148), Ok(Some(0x148)));
    assert_eq!(at(0xf00), Ok(Some(0xf00)));
    assert_eq!(at(0xf02), Err(Refusal::BadOffset(0xf02)));
    assert_eq!(at(0xfc), Err(Refusal::BadOffset(0xfc)));
    assert_eq!(at(0xffc), Err(Refusal::BadOffset(0xffc)));
    for r in [Refusal::BadOffset(0), Refusal::Taken(0, 0), Refusal::NoRoom] {
        assert!(r.errno() > 0);
    }
    assert_eq!(Refusal::Taken(0, 0).errno(), 16);
    assert_eq!(Refusal::NoRoom.errno(), 28);
}

#[test]
fn quirk_table() {
    let (phys, v, d) = dump("amd-fiji-gpu.lspci");
    // The built-in quirk: Fiji's unlinked vendor capability at 0x400.
    assert_eq!(
        build_on(&phys, v, d, "", Some(0x400)),
        Err(Refusal::Taken(0x400, 0x400))
    );
    assert_eq!(
        build_on(&phys, v, d, "", Some(0x468)),
        Err(Refusal::Taken(0x468, 0x400))
    );
    assert!(build_on(&phys, v, d, "", Some(0x470)).is_ok());
    // A parameter's quirk over the end of config space on the CXL device:
    // the default goes to the first gap instead.
    let (phys, v, d) = dump("intel-cxl-accel.lspci");
    let q = "8086:0d93:0xf00-0xfff";
    let virt = build_on(&phys, v, d, q, None).unwrap().unwrap();
    assert_eq!(virt.off, 0x148);
    // Another device's quirk does not apply.
    let virt = build_on(&phys, v, d, "8086:0d94:0xf00-0xfff", None)
        .unwrap()
        .unwrap();
    assert_eq!(virt.off, 0xff8);
    assert!(quirks_valid(" 8086:0d93:0xf00-0xfff ; 1002:7300:400-46f,"));
    assert!(quirks_valid(""));
    for bad in [
        "8086:0d93:0x50-0x60",
        "8086:0d93:0x200-0x100",
        "8086:0d93:0x200-0x1000",
        "8086:0d93:0x200",
        "zz:0d93:0x100-0x200",
        "8086:10000:0x100-0x200",
        "8086",
    ] {
        assert!(!quirks_valid(bad), "{bad}");
    }
}

#[test]
fn offset_parameter() {
    let t = "8086:0d93=0xf00; 0000:03:00.0=0x148,1b36:1f00=auto";
    assert_eq!(param_offset(t, 0x8086, 0x0d93, "0000:04:00.0"), Some(0xf00));
    assert_eq!(param_offset(t, 0x8086, 0x0d93, "0000:03:00.0"), Some(0x148));
    assert_eq!(param_offset(t, 0x1b36, 0x1f00, "0000:05:00.0"), None);
    assert_eq!(param_offset(t, 0x8086, 0x0d94, "0000:05:00.0"), None);
    assert!(offsets_valid(t.replace("=auto", "=0x104").as_str()));
    assert!(!offsets_valid(t));
    for bad in [
        "8086:0d93",
        "8086:0d93=0xf02",
        "x=0x100",
        "8086:0d93=0x1000",
    ] {
        assert!(!offsets_valid(bad), "{bad}");
    }
    assert_eq!(parse_offset("0xff8"), Ok(Some(0xff8)));
    assert_eq!(parse_offset("ff8\n"), Ok(Some(0xff8)));
    assert_eq!(parse_offset("auto"), Ok(None));
    assert_eq!(parse_offset("0"), Ok(None));
    assert_eq!(parse_offset("0x102"), Err(Refusal::BadOffset(0x102)));
    assert!(parse_offset("0x100000").is_err());
    assert!(parse_offset("").is_err());
    assert!(parse_offset("-1").is_err());
}

#[test]
fn no_room() {
    // One vendor-specific capability over the whole extended space.
    let mut phys = Cfg::empty();
    phys.put32(0x100, 0x0001_000b);
    phys.put32(0x104, 0xf00 << 20);
    assert_eq!(build_on(&phys, 1, 2, "", None), Err(Refusal::NoRoom));
    // Leave one dword: still no room for 8 bytes.
    phys.put32(0x104, 0xefc << 20);
    assert_eq!(build_on(&phys, 1, 2, "", None), Err(Refusal::NoRoom));
    phys.put32(0x104, 0xef8 << 20);
    assert_eq!(build_on(&phys, 1, 2, "", None).unwrap().unwrap().off, 0xff8);
}

#[test]
fn bad_chains() {
    let mut phys = Cfg::empty();
    // A loop.
    phys.put32(0x100, 0x200 << 20 | 0x0001_0001);
    phys.put32(0x200, 0x100 << 20 | 0x0001_0003);
    let dev = no_quirks(1, 2);
    let on = |p: &Cfg| build(p, &Cfg::empty(), &dev, FULL, None, None);
    assert_eq!(on(&phys), Err(Refusal::BadChain(0x100)));
    // A next pointer into standard config space.
    phys.put32(0x200, 0x40 << 20 | 0x0001_0003);
    assert_eq!(on(&phys), Err(Refusal::BadChain(0x200)));
    // All ones at 0x100 (no extended space): an empty chain.
    phys.put32(0x100, u32::MAX);
    assert!(Chain::read(&phys).unwrap().iter(&phys).next().is_none());
}

#[test]
fn vfio_already_shows_pasid() {
    let (phys, v, d) = dump("intel-skl-gpu.lspci");
    let dev = no_quirks(v, d);
    // A vfio-pci that presented PASID itself: nothing to synthesize.
    assert_eq!(build(&phys, &phys, &dev, FULL, None, None), Ok(None));
}

#[test]
fn control_register() {
    let (phys, v, d) = dump("intel-dsa-accel.lspci");
    let dev = no_quirks(v, d);
    let vcfg = vfio_view(&phys);
    // DSA enables Priv, not Exec.
    let info = PasidInfo::new(1 << 20, 20, CAP_PRIV).unwrap();
    let mut virt = build(&phys, &vcfg, &dev, info, None, None)
        .unwrap()
        .unwrap();
    let ctrl = |v: &Virtual| user_view(&vcfg, v).get32(0xffc) >> 16;
    let cap = |v: &Virtual| user_view(&vcfg, v).get32(0xffc) & 0xffff;
    assert_eq!(cap(&virt), 20 << 8 | u32::from(CAP_PRIV));
    assert_eq!(ctrl(&virt), 0);
    // A dword write over Capability and Control: only Enable and Priv
    // Enable stick.
    virt.write(0xffc, &u32::MAX.to_le_bytes());
    assert_eq!(ctrl(&virt), 0x5);
    assert_eq!(cap(&virt), 20 << 8 | u32::from(CAP_PRIV));
    // Header writes change nothing.
    let before = user_view(&vcfg, &virt);
    virt.write(0xff8, &[0; 4]);
    assert_eq!(user_view(&vcfg, &virt).0, before.0);
    // A byte write to the low byte of Control.
    virt.write(0xffe, &[0x00]);
    assert_eq!(ctrl(&virt), 0);
    virt.write(0xffe, &[0x01]);
    assert_eq!(ctrl(&virt), 1);
    // A write that starts before the capability and spans into Control.
    virt.write(0xff0, &[0xff; 16]);
    assert_eq!(ctrl(&virt), 0x5);
    virt.reset();
    assert_eq!(ctrl(&virt), 0);
    // Reads of a few bytes anywhere, at the end of the space too.
    let mut b = [0u8; 2];
    virt.read(0xffe, &mut b);
    assert_eq!(b, [0, 0]);
    virt.read(u32::MAX - 1, &mut b);
}

#[test]
fn width_and_features() {
    let w = |m, d| PasidInfo::new(m, d, 0).map(|i| i.width);
    assert_eq!(w(1 << 20, 20), Some(20));
    assert_eq!(w(1 << 16, 20), Some(16));
    assert_eq!(w(1 << 20, 5), Some(5));
    assert_eq!(w(3, 20), Some(1));
    assert_eq!(w(1, 20), None);
    assert_eq!(w(0, 20), None);
    assert_eq!(w(u32::MAX, 31), Some(20));
    let i = PasidInfo::new(1 << 20, 20, CAP_EXEC | CAP_PRIV).unwrap();
    assert!(i.exec && i.privileged);
    assert_eq!(i.cap(), 0x1406);
}

/// A VF has no PASID capability; the driver takes width and features from
/// its PF (pci_physfn) and places on the VF's own config space.
#[test]
fn virtual_function() {
    // The 82576's VFs have AER, ARI... here the PF's space without SR-IOV
    // stands in for a VF's.
    let (mut vf, v, _) = dump("intel-82576-nic.lspci");
    let h = vf.get32(0x150);
    vf.put32(0x150, h & 0xf_ffff);
    vf.put32(0x160, 0);
    let pf = PasidInfo::new(1 << 20, 16, CAP_EXEC).unwrap();
    let dev = no_quirks(v, 0x10ca);
    let virt = build(&vf, &vfio_view(&vf), &dev, pf, None, None)
        .unwrap()
        .unwrap();
    assert_eq!((virt.off, virt.prev), (0xff8, 0x150));
    assert_eq!(virt.info.cap(), 16 << 8 | u32::from(CAP_EXEC) as u16);
}

#[test]
fn fingerprints() {
    let (phys, v, d) = dump("intel-cxl-accel.lspci");
    let dev = no_quirks(v, d);
    let vcfg = vfio_view(&phys);
    let fp = |info, req| {
        build(&phys, &vcfg, &dev, info, req, None)
            .unwrap()
            .unwrap()
            .fingerprint
    };
    let base = fp(FULL, None);
    // Same layout, same fingerprint; another offset, width or feature, not.
    assert_eq!(base, fp(FULL, None));
    assert_eq!(base, fp(FULL, Some(0xff8)));
    assert_ne!(base, fp(FULL, Some(0xf00)));
    let narrow = PasidInfo { width: 16, ..FULL };
    assert_ne!(base, fp(narrow, None));
    let no_exec = PasidInfo {
        exec: false,
        ..FULL
    };
    assert_ne!(base, fp(no_exec, None));
    // A target that requires it gets it or a refusal.
    assert!(build(&phys, &vcfg, &dev, FULL, None, Some(base)).is_ok());
    assert_eq!(
        build(&phys, &vcfg, &dev, FULL, Some(0xf00), Some(base)),
        Err(Refusal::Mismatch(base, fp(FULL, Some(0xf00))))
    );
    // Another device's layout (the DSA) with the capability at 0xff8 too.
    let (dsa, dv, dd) = dump("intel-dsa-accel.lspci");
    let other = build_on(&dsa, dv, dd, "", None).unwrap().unwrap();
    assert_eq!(other.off, 0xff8);
    assert_ne!(other.fingerprint, base);
}
