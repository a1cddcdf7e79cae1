// SPDX-License-Identifier: GPL-2.0

//! The PCI config space: 4 KiB of bytes with, per byte, the bits a write
//! may change (read-write) and the bits a written 1 clears (RW1C). Every
//! other bit is read-only. BAR sizing falls out of the masks: a BAR's
//! read-write bits are the address bits above its size.
//!
//! Two builders: the model's own endpoint (PCI Express v2 with PASID, ATS
//! and PRI as configured), and a captured config space from a dump, with
//! its BARs sized and the usual control registers made writable.

use crate::dump::Dump;
use crate::spec::Options;

pub(crate) const CFG_SIZE: usize = 4096;

const PCI_COMMAND: usize = 0x04;
const PCI_STATUS: usize = 0x06;
const PCI_STATUS_CAP_LIST: u16 = 1 << 4;
const PCI_CACHE_LINE_SIZE: usize = 0x0c;
const PCI_HEADER_TYPE: usize = 0x0e;
const PCI_BAR0: usize = 0x10;
const PCI_SUBSYSTEM_VENDOR: usize = 0x2c;
const PCI_ROM: usize = 0x30;
const PCI_CAP_PTR: usize = 0x34;
const PCI_INTERRUPT_LINE: usize = 0x3c;

const CAP_PM: u8 = 0x01;
const CAP_MSI: u8 = 0x05;
const CAP_EXP: u8 = 0x10;
const CAP_MSIX: u8 = 0x11;

const EXT_AER: u16 = 0x01;
const EXT_ACS: u16 = 0x0d;
const EXT_ATS: u16 = 0x0f;
const EXT_PRI: u16 = 0x13;
const EXT_LTR: u16 = 0x18;
const EXT_PASID: u16 = 0x1b;

/// PCI Express capability registers (offsets in the capability).
const EXP_DEVCAP: usize = 0x04;
const EXP_DEVCTL: usize = 0x08;
const EXP_DEVCTL_BCR_FLR: u16 = 1 << 15;
const EXP_DEVSTA: usize = 0x0a;
const EXP_LNKCAP: usize = 0x0c;
const EXP_LNKCTL: usize = 0x10;
const EXP_LNKSTA: usize = 0x12;
const EXP_DEVCAP2: usize = 0x24;
/// End-End TLP Prefix Supported: without it Linux does not enable PASID.
pub(crate) const EXP_DEVCAP2_EE_PREFIX: u32 = 1 << 21;
const EXP_DEVCTL2: usize = 0x28;
const EXP_LNKCAP2: usize = 0x2c;
const EXP_LNKCTL2: usize = 0x30;

const PRI_CTRL: usize = 0x04;
const PRI_CTRL_ENABLE: u16 = 1 << 0;
const PRI_CTRL_RESET: u16 = 1 << 1;
const PRI_STATUS: usize = 0x06;
const PRI_STATUS_STOPPED: u16 = 1 << 8;
const PRI_STATUS_PASID: u16 = 1 << 15;

/// The model's BAR0: registers, then the DMA buffer.
pub(crate) const BAR0_SIZE: u64 = 0x2000;

/// The sizes of the model's extended capabilities.
const ATS_SIZE: u16 = 0x08;
const PRI_SIZE: u16 = 0x10;
const PASID_SIZE: u16 = 0x08;
const ACS_SIZE: u16 = 0x08;

/// One BAR: its type bits (the low bits of the register) and its size; a
/// size of 0 is no BAR.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Bar {
    pub(crate) flags: u32,
    pub(crate) size: u64,
}

impl Bar {
    pub(crate) fn is_io(&self) -> bool {
        self.flags & 1 != 0
    }

    pub(crate) fn is_64(&self) -> bool {
        !self.is_io() && self.flags & 0x6 == 0x4
    }
}

/// What a config write asks of the device beyond the bytes.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct WriteEffect {
    /// Function Level Reset (Initiate FLR written as 1).
    pub(crate) flr: bool,
}

/// The capabilities the device has, as the guest sees them.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Caps {
    pub(crate) exp: Option<usize>,
    pub(crate) pri: Option<usize>,
    pub(crate) pasid: Option<usize>,
    pub(crate) msi_vectors: u32,
    pub(crate) msix_vectors: u32,
}

pub(crate) struct ConfigSpace {
    bytes: Vec<u8>,
    rw: Vec<u8>,
    w1c: Vec<u8>,
    /// The bytes at reset.
    initial: Vec<u8>,
    pub(crate) bars: [Bar; 6],
    pub(crate) caps: Caps,
}

impl ConfigSpace {
    fn empty() -> Self {
        ConfigSpace {
            bytes: vec![0; CFG_SIZE],
            rw: vec![0; CFG_SIZE],
            w1c: vec![0; CFG_SIZE],
            initial: Vec::new(),
            bars: [Bar::default(); 6],
            caps: Caps::default(),
        }
    }

    pub(crate) fn get(&self, off: usize, len: usize) -> u32 {
        let mut v = 0u32;
        for i in (0..len.min(4)).rev() {
            v = v << 8 | u32::from(self.bytes.get(off + i).copied().unwrap_or(0));
        }
        v
    }

    fn set(&mut self, off: usize, len: usize, val: u32) {
        for (i, b) in val.to_le_bytes().iter().take(len).enumerate() {
            if let Some(p) = self.bytes.get_mut(off + i) {
                *p = *b;
            }
        }
    }

    /// Sets the read-write and RW1C bits of a register of len bytes.
    fn mask(&mut self, off: usize, len: usize, rw: u32, w1c: u32) {
        for i in 0..len.min(4) {
            if off + i < CFG_SIZE {
                self.rw[off + i] = (rw >> (8 * i)) as u8;
                self.w1c[off + i] = (w1c >> (8 * i)) as u8;
            }
        }
    }

    pub(crate) fn read(&self, off: u64, data: &mut [u8]) -> Result<(), String> {
        let range = range(off, data.len()).ok_or("config read out of range")?;
        data.copy_from_slice(&self.bytes[range]);
        Ok(())
    }

    pub(crate) fn write(&mut self, off: u64, data: &[u8]) -> Result<WriteEffect, String> {
        let range = range(off, data.len()).ok_or("config write out of range")?;
        let mut effect = WriteEffect::default();
        let start = range.start;
        // Self-clearing command bits, seen before the masks drop them.
        if let Some(exp) = self.caps.exp {
            let hi = exp + EXP_DEVCTL + 1;
            if range.contains(&hi) && data[hi - start] & (EXP_DEVCTL_BCR_FLR >> 8) as u8 != 0 {
                effect.flr = true;
            }
        }
        // A write to PRI control updates PRI status.
        let pri = self.caps.pri.filter(|p| range.contains(&(p + PRI_CTRL)));
        let pri_reset = pri.is_some_and(|p| data[p + PRI_CTRL - start] & PRI_CTRL_RESET as u8 != 0);
        for (i, v) in data.iter().enumerate() {
            let o = start + i;
            let b = (self.bytes[o] & !self.rw[o]) | (v & self.rw[o]);
            self.bytes[o] = b & !(v & self.w1c[o]);
        }
        if let Some(pri) = pri {
            self.pri_update(pri, pri_reset);
        }
        Ok(effect)
    }

    /// PRI status follows the control: Stopped while disabled, the
    /// response failure bits cleared by a PRI reset.
    fn pri_update(&mut self, pri: usize, reset: bool) {
        let ctrl = self.get(pri + PRI_CTRL, 2) as u16;
        let mut sta = self.get(pri + PRI_STATUS, 2) as u16;
        if ctrl & PRI_CTRL_ENABLE == 0 {
            sta |= PRI_STATUS_STOPPED;
        } else {
            sta &= !PRI_STATUS_STOPPED;
        }
        if reset {
            sta &= !0x3;
        }
        self.set(pri + PRI_STATUS, 2, u32::from(sta));
    }

    /// Back to the bytes of power-on.
    pub(crate) fn reset(&mut self) {
        self.bytes.copy_from_slice(&self.initial);
    }

    fn set_bar(&mut self, idx: usize, bar: Bar) {
        let off = PCI_BAR0 + 4 * idx;
        self.bars[idx] = bar;
        if bar.size == 0 {
            self.set(off, 4, 0);
            self.mask(off, 4, 0, 0);
            return;
        }
        let addr = !(bar.size - 1);
        let low = if bar.is_io() { 0x3 } else { 0xf };
        self.set(off, 4, bar.flags & low);
        self.mask(off, 4, addr as u32 & !low, 0);
        if bar.is_64() && idx < 5 {
            self.set(off + 4, 4, 0);
            self.mask(off + 4, 4, (addr >> 32) as u32, 0);
            self.bars[idx + 1] = Bar::default();
        }
    }

    fn finish(mut self) -> Self {
        self.initial = self.bytes.clone();
        self
    }

    /// The standard capabilities: (offset, id) in list order.
    pub(crate) fn std_caps(&self) -> Vec<(usize, u8)> {
        let mut caps = Vec::new();
        if self.get(PCI_STATUS, 2) as u16 & PCI_STATUS_CAP_LIST == 0 {
            return caps;
        }
        let mut pos = self.bytes[PCI_CAP_PTR] as usize & !3;
        while (0x40..0x100).contains(&pos) && caps.len() < 48 {
            caps.push((pos, self.bytes[pos]));
            pos = self.bytes[pos + 1] as usize & !3;
        }
        caps
    }

    /// The extended capabilities: (offset, id) in list order.
    pub(crate) fn ext_caps(&self) -> Vec<(usize, u16)> {
        let mut caps = Vec::new();
        let mut pos = 0x100;
        while (0x100..=CFG_SIZE - 4).contains(&pos) && caps.len() < 1024 {
            let hdr = self.get(pos, 4);
            if hdr == 0 || caps.iter().any(|&(p, _)| p == pos) {
                break;
            }
            caps.push((pos, hdr as u16));
            pos = (hdr >> 20) as usize & !3;
        }
        caps
    }

    /// The MSI and MSI-X vector counts, for the IRQ info QEMU asks for.
    fn count_vectors(&mut self) {
        for (pos, id) in self.std_caps() {
            let ctl = self.get(pos + 2, 2);
            match id {
                CAP_MSI => self.caps.msi_vectors = 1 << ((ctl >> 1) & 0x7).min(5),
                CAP_MSIX => self.caps.msix_vectors = (ctl & 0x7ff) + 1,
                _ => {}
            }
        }
    }

    /// As `lspci -xxxx` prints it.
    pub(crate) fn hex(&self) -> String {
        let mut s = String::new();
        for (i, row) in self.bytes.chunks(16).enumerate() {
            s.push_str(&format!("{:02x}:", i * 16));
            for b in row {
                s.push_str(&format!(" {b:02x}"));
            }
            s.push('\n');
        }
        s
    }
}

fn range(off: u64, len: usize) -> Option<std::ops::Range<usize>> {
    let start = usize::try_from(off).ok()?;
    let end = start.checked_add(len)?;
    (end <= CFG_SIZE).then_some(start..end)
}

/// The header registers every endpoint here has writable.
fn header_masks(c: &mut ConfigSpace) {
    // I/O, memory, bus master, parity, SERR#, INTx disable.
    c.mask(PCI_COMMAND, 2, 0x0547, 0);
    // Parity, target/master aborts, SERR#, parity error.
    c.mask(PCI_STATUS, 2, 0, 0xf900);
    c.mask(PCI_CACHE_LINE_SIZE, 1, 0xff, 0);
    c.mask(PCI_INTERRUPT_LINE, 1, 0xff, 0);
}

/// The writable registers of a PCI Express capability at pos.
fn exp_masks(c: &mut ConfigSpace, pos: usize) {
    // Error reporting, relaxed ordering, payload, tags, no snoop, read
    // request size; Initiate FLR is self-clearing and seen in write().
    c.mask(pos + EXP_DEVCTL, 2, 0x7fff, 0);
    c.mask(pos + EXP_DEVSTA, 2, 0, 0x000f);
    c.mask(pos + EXP_LNKCTL, 2, 0x0fc3, 0);
    // Completion timeout, atomics, IDO, LTR, 10-bit tags, TLP prefix block.
    c.mask(pos + EXP_DEVCTL2, 2, 0x9f5f, 0);
    c.mask(pos + EXP_LNKCTL2, 2, 0x1fff, 0);
    c.caps.exp = Some(pos);
}

fn pasid_masks(c: &mut ConfigSpace, pos: usize) {
    let cap = c.get(pos + 4, 2);
    // Enable, and Execute / Privileged Mode enable where supported.
    c.mask(pos + 6, 2, 0x1 | (cap & 0x6), 0);
    c.caps.pasid = Some(pos);
}

fn ats_masks(c: &mut ConfigSpace, pos: usize) {
    // Enable and the Smallest Translation Unit.
    c.mask(pos + 6, 2, 0x801f, 0);
}

fn pri_masks(c: &mut ConfigSpace, pos: usize) {
    c.mask(pos + PRI_CTRL, 2, u32::from(PRI_CTRL_ENABLE), 0);
    // Response Failure and Unexpected PRG Index.
    c.mask(pos + PRI_STATUS, 2, 0, 0x3);
    // Outstanding Page Request Allocation.
    c.mask(pos + 0x0c, 4, 0xffff_ffff, 0);
    c.caps.pri = Some(pos);
}

/// The model's own endpoint.
pub(crate) fn model(o: &Options) -> Result<ConfigSpace, String> {
    let mut c = ConfigSpace::empty();
    c.set(0x00, 2, o.vendor.into());
    c.set(0x02, 2, o.device.into());
    c.set(PCI_STATUS, 2, PCI_STATUS_CAP_LIST.into());
    c.set(0x08, 1, o.revision.into());
    c.set(0x09, 3, o.class);
    c.set(PCI_HEADER_TYPE, 1, if o.multifunction { 0x80 } else { 0 });
    c.set(PCI_SUBSYSTEM_VENDOR, 2, o.vendor.into());
    c.set(PCI_SUBSYSTEM_VENDOR + 2, 2, o.device.into());
    c.set(PCI_CAP_PTR, 1, 0x40);
    header_masks(&mut c);
    // A 32-bit, non-prefetchable memory BAR0; no ROM, no INTx pin.
    c.set_bar(
        0,
        Bar {
            flags: 0,
            size: BAR0_SIZE,
        },
    );

    // PCI Express v2, Endpoint, the last standard capability.
    let exp = 0x40;
    c.set(exp, 2, CAP_EXP.into());
    c.set(exp + 2, 2, 0x0002);
    // 128-byte payload, role-based error reporting, FLR.
    c.set(exp + EXP_DEVCAP, 4, 1 << 15 | 1 << 28);
    // Relaxed ordering, no snoop, 512-byte read requests.
    c.set(exp + EXP_DEVCTL, 2, 0x2810);
    // Port 0, x1 at 2.5 GT/s, trained.
    c.set(exp + EXP_LNKCAP, 4, 0x11);
    c.set(exp + EXP_LNKSTA, 2, 0x11);
    // Completion timeout disable; End-End TLP Prefixes, at most one.
    c.set(
        exp + EXP_DEVCAP2,
        4,
        1 << 4 | EXP_DEVCAP2_EE_PREFIX | 1 << 22,
    );
    c.set(exp + EXP_LNKCAP2, 4, 1 << 1);
    c.set(exp + EXP_LNKCTL2, 2, 1);
    exp_masks(&mut c, exp);

    // The extended capabilities, in offset order, each linked to the next.
    let mut ext: Vec<(u16, u16, u16)> = Vec::new();
    if o.ats {
        ext.push((EXT_ATS, o.ats_at.unwrap_or(0x100), ATS_SIZE));
    }
    if o.pri {
        ext.push((EXT_PRI, o.pri_at.unwrap_or(0x110), PRI_SIZE));
    }
    if o.acs.is_some() {
        ext.push((EXT_ACS, o.acs_at.unwrap_or(0x130), ACS_SIZE));
    }
    if o.pasid_width > 0 {
        ext.push((EXT_PASID, o.pasid_at.unwrap_or(0x120), PASID_SIZE));
    } else if o.pasid_at.is_some() {
        return Err("pasid-at without a PASID capability".into());
    }
    ext.sort_by_key(|&(_, at, _)| at);
    for w in ext.windows(2) {
        if w[0].1 + w[0].2 > w[1].1 {
            return Err(format!(
                "extended capabilities at {:#x} and {:#x} overlap",
                w[0].1, w[1].1
            ));
        }
    }
    if let Some(&(_, at, size)) = ext.last() {
        if usize::from(at + size) > CFG_SIZE {
            return Err(format!("the capability at {at:#x} ends past 4 KiB"));
        }
    }
    // A null capability heads the list when nothing sits at 0x100.
    if let Some(&(_, first, _)) = ext.first() {
        if first != 0x100 {
            c.set(0x100, 4, u32::from(first) << 20);
        }
    }
    for (i, &(id, at, _)) in ext.iter().enumerate() {
        let next = ext.get(i + 1).map_or(0, |&(_, n, _)| u32::from(n));
        let at = usize::from(at);
        c.set(at, 4, u32::from(id) | 1 << 16 | next << 20);
        match id {
            EXT_ATS => {
                // Page-aligned requests; queue depth 0 (32).
                c.set(at + 4, 2, 1 << 5);
                ats_masks(&mut c, at);
            }
            EXT_PRI => {
                c.set(at + PRI_STATUS, 2, u32::from(PRI_STATUS_STOPPED));
                if o.pasid_width > 0 {
                    c.set(
                        at + PRI_STATUS,
                        2,
                        u32::from(PRI_STATUS_STOPPED | PRI_STATUS_PASID),
                    );
                }
                // Outstanding page request capacity.
                c.set(at + 0x08, 4, 0x200);
                pri_masks(&mut c, at);
            }
            EXT_ACS => {
                let cap = u32::from(o.acs.unwrap_or(0));
                c.set(at + 4, 2, cap);
                c.mask(at + 6, 2, cap & !u32::from(o.acs_ro), 0);
            }
            _ => {
                let cap = u32::from(o.pasid_exec) << 1
                    | u32::from(o.pasid_priv) << 2
                    | u32::from(o.pasid_width) << 8;
                c.set(at + 4, 2, cap);
                pasid_masks(&mut c, at);
            }
        }
    }
    Ok(c.finish())
}

/// The BAR size a dump implies when it does not say: the alignment of the
/// address it was given, within sensible bounds.
fn guess_size(addr: u64, io: bool) -> u64 {
    let (min, max, unassigned) = if io {
        (0x4, 0x100, 0x100)
    } else {
        (0x1000, 0x1000_0000, 0x10_0000)
    };
    if addr == 0 {
        return unassigned;
    }
    (1u64 << addr.trailing_zeros()).clamp(min, max)
}

/// A captured config space. BARs are sized (from the dump's `Region` lines
/// or the alignment of their addresses) and left unassigned; BAR0 holds the
/// model's registers (at least BAR0_SIZE; an I/O or missing BAR0 becomes a
/// 32-bit memory BAR); the ROM BAR is dropped; I/O, memory and bus master
/// are off; DevCap2's End-End TLP Prefix bit is forced on when the device
/// has a PASID capability. Everything else is the dump's.
pub(crate) fn from_dump(d: &Dump) -> Result<ConfigSpace, String> {
    let mut c = ConfigSpace::empty();
    c.bytes.copy_from_slice(&d.bytes);
    if c.bytes[PCI_HEADER_TYPE] & 0x7f != 0 {
        return Err(format!(
            "header type {:#x}: only endpoints (type 0) can be presented",
            c.bytes[PCI_HEADER_TYPE]
        ));
    }
    header_masks(&mut c);
    let cmd = c.get(PCI_COMMAND, 2) & !0x7;
    c.set(PCI_COMMAND, 2, cmd);
    c.set(PCI_ROM, 4, 0);

    let mut idx = 0;
    while idx < 6 {
        let reg = c.get(PCI_BAR0 + 4 * idx, 4);
        let io = reg & 1 != 0;
        let mut bar = Bar {
            flags: if io { reg & 0x3 } else { reg & 0xf },
            size: 0,
        };
        let mut addr = u64::from(if io { reg & !0x3 } else { reg & !0xf });
        if bar.is_64() && idx < 5 {
            addr |= u64::from(c.get(PCI_BAR0 + 4 * idx + 4, 4)) << 32;
        }
        if reg != 0 || bar.is_64() {
            bar.size = d.bar_sizes[idx].unwrap_or_else(|| guess_size(addr, io));
        }
        if idx == 0 && (io || bar.size == 0) {
            bar = Bar {
                flags: 0,
                size: BAR0_SIZE,
            };
        } else if idx == 0 {
            bar.size = bar.size.max(BAR0_SIZE);
        }
        c.set_bar(idx, bar);
        idx += if bar.is_64() { 2 } else { 1 };
    }

    let has_pasid = c.ext_caps().iter().any(|&(_, id)| id == EXT_PASID);
    for (pos, id) in c.std_caps() {
        match id {
            CAP_PM => {
                // Power state and PME enable; PME status is RW1C.
                c.mask(pos + 4, 2, 0x0103, 0x8000);
            }
            CAP_MSI => {
                let ctl = c.get(pos + 2, 2);
                let is64 = ctl & (1 << 7) != 0;
                c.mask(pos + 2, 2, 0x0071, 0);
                c.mask(pos + 4, 4, 0xffff_fffc, 0);
                let data = if is64 {
                    c.mask(pos + 8, 4, 0xffff_ffff, 0);
                    pos + 0xc
                } else {
                    pos + 8
                };
                c.mask(data, 2, 0xffff, 0);
                if ctl & (1 << 8) != 0 {
                    c.mask(data + 4, 4, 0xffff_ffff, 0);
                }
            }
            CAP_MSIX => c.mask(pos + 2, 2, 0xc000, 0),
            CAP_EXP => {
                exp_masks(&mut c, pos);
                if has_pasid {
                    let cap2 = c.get(pos + EXP_DEVCAP2, 4);
                    c.set(pos + EXP_DEVCAP2, 4, cap2 | EXP_DEVCAP2_EE_PREFIX);
                }
            }
            _ => {}
        }
    }
    for (pos, id) in c.ext_caps() {
        match id {
            EXT_AER => {
                c.mask(pos + 0x04, 4, 0, 0xffff_ffff);
                c.mask(pos + 0x08, 4, 0xffff_ffff, 0);
                c.mask(pos + 0x0c, 4, 0xffff_ffff, 0);
                c.mask(pos + 0x10, 4, 0, 0xffff_ffff);
                c.mask(pos + 0x14, 4, 0xffff_ffff, 0);
                // ECRC generation and check enables.
                c.mask(pos + 0x18, 4, 0x0000_0140, 0);
            }
            EXT_ATS => ats_masks(&mut c, pos),
            EXT_PRI => pri_masks(&mut c, pos),
            EXT_LTR => c.mask(pos + 4, 4, 0x9fff_9fff, 0),
            EXT_ACS => {
                let cap = c.get(pos + 4, 2);
                c.mask(pos + 6, 2, cap & 0x7f, 0);
            }
            EXT_PASID => pasid_masks(&mut c, pos),
            _ => {}
        }
    }
    c.count_vectors();
    Ok(c.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(spec: &str) -> Options {
        let args = ["--spec".to_string(), spec.to_string()];
        crate::spec::parse(args.into_iter()).unwrap_or_default()
    }

    #[test]
    fn model_pasid_and_masks() {
        let Ok(mut c) = model(&opts("pasid=20,exec,priv,ats,pri")) else {
            panic!("model")
        };
        assert_eq!(
            c.ext_caps(),
            vec![(0x100, EXT_ATS), (0x110, EXT_PRI), (0x120, EXT_PASID)]
        );
        assert_eq!(c.get(0x124, 2), 0x1406);
        assert_eq!(
            c.get(0x40 + EXP_DEVCAP2, 4) & EXP_DEVCAP2_EE_PREFIX,
            EXP_DEVCAP2_EE_PREFIX
        );
        // The capability register is read-only, the control bits writable.
        assert!(c.write(0x124, &[0, 0]).is_ok());
        assert_eq!(c.get(0x124, 2), 0x1406);
        assert!(c.write(0x126, &[0xff, 0xff]).is_ok());
        assert_eq!(c.get(0x126, 2), 0x7);
        // BAR sizing.
        assert!(c.write(0x10, &[0xff; 4]).is_ok());
        assert_eq!(c.get(0x10, 4), !(BAR0_SIZE as u32 - 1));
        // RW1C status.
        c.set(PCI_STATUS, 2, 0x8010);
        assert!(c.write(PCI_STATUS as u64, &[0x00, 0x80]).is_ok());
        assert_eq!(c.get(PCI_STATUS, 2), 0x0010);
        // FLR.
        let flr = c.write(0x40 + EXP_DEVCTL as u64 + 1, &[0x80]);
        assert_eq!(flr, Ok(WriteEffect { flr: true }));
        c.reset();
        assert_eq!(c.get(0x126, 2), 0);
        assert!(c.write(0xffe, &[0; 4]).is_err());
    }

    #[test]
    fn model_pasid_at_the_end() {
        let Ok(c) = model(&opts("pasid=8,pasid-at=0xff8")) else {
            panic!("model")
        };
        assert_eq!(c.ext_caps(), vec![(0x100, 0), (0xff8, EXT_PASID)]);
        assert!(model(&opts("pasid=8,pasid-at=0xffc")).is_err());
        assert!(model(&opts("pasid=8,ats,pasid-at=0x104")).is_err());
    }

    #[test]
    fn model_acs() {
        let Ok(mut c) = model(&opts("acs=0x5,acs-ro=0x1")) else {
            panic!("model")
        };
        assert_eq!(c.ext_caps(), vec![(0x100, 0), (0x130, EXT_ACS)]);
        assert_eq!(c.get(0x134, 2), 0x5);
        assert!(c.write(0x136, &[0xff, 0xff]).is_ok());
        assert_eq!(c.get(0x136, 2), 0x4);
        let Ok(c) = model(&opts("acs")) else {
            panic!("model")
        };
        assert_eq!(c.get(0x134, 2), 0x1d);
    }
}
