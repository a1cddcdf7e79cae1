// SPDX-License-Identifier: GPL-2.0

//! The virtual PASID capability of `vfio-pci-pasid.ko`: where it goes in
//! the config space vfio-pci presents, what it says, how its Control
//! register behaves, and the fingerprint of the layout a migration target
//! must reproduce.
//!
//! Nothing here depends on the kernel crate: the driver hands in readers of
//! the physical config space and of vfio-pci's virtual one, and keeps the
//! returned state under its lock. `vfio_pci_pasid/host` builds this file for
//! the host, where `cargo test` runs it on captured config spaces.
//!
//! Placement avoids every physical extended capability, hidden by vfio-pci
//! or not, since a hidden capability's bytes are still registers of the
//! device, and every range of the quirk table (registers that no
//! capability header announces). See "Virtual PASID capability" in
//! Documentation/iommufd-rs.rst.

#![deny(unsafe_code)]

use core::fmt;

/// Where the extended configuration space starts.
pub(crate) const EXT_START: u16 = 0x100;
/// Where it ends (exclusive).
pub(crate) const EXT_END: u16 = 0x1000;
/// The length of a PASID capability: header, Capability and Control.
pub(crate) const PASID_LEN: u16 = 8;
/// The default offset, where QEMU (`x-vpasid-cap-offset`) and
/// cloud-hypervisor put the capability they synthesize.
pub(crate) const DEFAULT_OFFSET: u16 = 0xff8;
/// The PASID extended capability id.
pub(crate) const PASID_ID: u16 = 0x1b;
/// More extended capabilities than this in one chain are refused.
pub(crate) const MAX_CAPS: usize = 64;

/// Offsets inside the PASID capability.
const PASID_CTRL: u16 = 6;
/// Capability register: Execute Permission and Privileged Mode Supported.
pub(crate) const CAP_EXEC: u16 = 0x0002;
pub(crate) const CAP_PRIV: u16 = 0x0004;
/// Control register: PASID Enable, Execute and Privileged Mode Enable.
const CTRL_ENABLE: u16 = 0x0001;
const CTRL_EXEC: u16 = 0x0002;
const CTRL_PRIV: u16 = 0x0004;

/// A reader of config-space dwords. A failed read gives `None`.
pub(crate) trait ConfigSpace {
    /// The dword at `off` (dword aligned, below 4096).
    fn read32(&self, off: u16) -> Option<u32>;

    /// The word at `off` (word aligned).
    fn read16(&self, off: u16) -> Option<u16> {
        let d = self.read32(off & !3)?;
        Some((d >> (8 * u32::from(off & 2))) as u16)
    }
}

/// A config space in memory (vfio-pci's `vconfig`).
pub(crate) struct Bytes<'a>(pub(crate) &'a [u8]);

impl ConfigSpace for Bytes<'_> {
    fn read32(&self, off: u16) -> Option<u32> {
        let o = usize::from(off);
        let b = self.0.get(o..o.checked_add(4)?)?;
        Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
}

/// An extended capability header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Header {
    /// Capability id.
    pub(crate) id: u16,
    /// Capability version.
    pub(crate) version: u8,
    /// Offset of the next capability, 0 at the end.
    pub(crate) next: u16,
}

impl Header {
    /// Splits a header dword.
    pub(crate) fn from_u32(v: u32) -> Self {
        Header {
            id: (v & 0xffff) as u16,
            version: ((v >> 16) & 0xf) as u8,
            next: ((v >> 20) & 0xffc) as u16,
        }
    }
}

/// Why a capability cannot be placed or exposed. [`Refusal::errno`] gives
/// the errno `open_device` returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// A requested offset is not dword aligned or not inside
    /// 0x100..=0xff8 (`EINVAL`).
    BadOffset(u16),
    /// A requested offset overlaps a physical capability or a quirk range
    /// (`EBUSY`); the offset of what it overlaps.
    Taken(u16, u16),
    /// No 8-byte dword-aligned gap is left (`ENOSPC`).
    NoRoom,
    /// The physical chain loops, ends out of range or is too long
    /// (`EIO`).
    BadChain(u16),
    /// The layout differs from the fingerprint required (`EXDEV`).
    Mismatch(u64, u64),
    /// A layout is required but the function has no PASID to expose
    /// (`EOPNOTSUPP`).
    NoPasid,
}

impl Refusal {
    /// The (positive) errno for this refusal.
    pub(crate) fn errno(self) -> i32 {
        match self {
            Refusal::BadOffset(_) => 22, // EINVAL
            Refusal::Taken(..) => 16,    // EBUSY
            Refusal::NoRoom => 28,       // ENOSPC
            Refusal::BadChain(_) => 5,   // EIO
            Refusal::Mismatch(..) => 18, // EXDEV
            Refusal::NoPasid => 95,      // EOPNOTSUPP
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Refusal::BadOffset(o) => write!(
                f,
                "offset {o:#x} is not dword aligned in {EXT_START:#x}..={DEFAULT_OFFSET:#x}"
            ),
            Refusal::Taken(o, by) => {
                write!(f, "offset {o:#x} overlaps registers at {by:#x}")
            }
            Refusal::NoRoom => write!(f, "no free 8-byte gap in extended config space"),
            Refusal::BadChain(o) => write!(f, "malformed extended capability chain at {o:#x}"),
            Refusal::Mismatch(want, have) => write!(
                f,
                "layout fingerprint {have:016x} differs from the required {want:016x}"
            ),
            Refusal::NoPasid => write!(
                f,
                "a PASID layout is required but PASID is not enabled for this function"
            ),
        }
    }
}

/// A set of dwords of the config space, one bit each: the dwords that hold
/// registers, or where capabilities start.
#[derive(Clone, Copy)]
pub(crate) struct Dwords {
    bits: [u32; (EXT_END / 4 / 32) as usize],
}

/// The dwords that hold registers.
pub(crate) type Occupancy = Dwords;

impl Dwords {
    fn new() -> Self {
        Dwords {
            bits: [0; (EXT_END / 4 / 32) as usize],
        }
    }

    /// Marks the bytes `start..end` (clamped to the config space) as taken.
    pub(crate) fn mark(&mut self, start: u16, end: u16) {
        let end = end.min(EXT_END);
        let mut dw = start / 4;
        while dw * 4 < end {
            self.bits[usize::from(dw / 32)] |= 1 << (dw % 32);
            dw += 1;
        }
    }

    /// Whether the dword at `off` is taken.
    pub(crate) fn taken(&self, off: u16) -> bool {
        let dw = off / 4;
        dw < EXT_END / 4 && self.bits[usize::from(dw / 32)] & (1 << (dw % 32)) != 0
    }

    /// The first taken dword in `off..off + len`, if any.
    fn first_taken(&self, off: u16, len: u16) -> Option<u16> {
        (off..off + len).step_by(4).find(|&o| self.taken(o))
    }

    /// The first taken dword above `off`, or the end of the space.
    fn next_above(&self, off: u16) -> u16 {
        (off / 4 * 4 + 4..EXT_END)
            .step_by(4)
            .find(|&o| self.taken(o))
            .unwrap_or(EXT_END)
    }
}

/// A range of registers no capability header announces, on one
/// vendor:device. `end` is exclusive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Quirk {
    pub(crate) vendor: u16,
    pub(crate) device: u16,
    pub(crate) start: u16,
    pub(crate) end: u16,
}

/// Built-in quirks. AMD Fiji (1002:7300) has a vendor-specific capability
/// at 0x400, 0x70 bytes long, which no other capability links to
/// (pciutils's cap-rebar test dump).
pub(crate) const BUILTIN_QUIRKS: &[Quirk] = &[Quirk {
    vendor: 0x1002,
    device: 0x7300,
    start: 0x400,
    end: 0x470,
}];

fn hex(s: &str) -> Option<u32> {
    let s = s.trim();
    let s = s
        .strip_prefix("0x")
        .or_else(|| s.strip_prefix("0X"))
        .unwrap_or(s);
    if s.is_empty() || s.len() > 8 {
        return None;
    }
    u32::from_str_radix(s, 16).ok()
}

fn hex16(s: &str) -> Option<u16> {
    hex(s).and_then(|v| u16::try_from(v).ok())
}

/// Parses one quirk, `VVVV:DDDD:START-END` (hexadecimal, END inclusive).
fn parse_quirk(item: &str) -> Option<Quirk> {
    let mut parts = item.trim().splitn(3, ':');
    let vendor = hex16(parts.next()?)?;
    let device = hex16(parts.next()?)?;
    let (start, end) = parts.next()?.split_once('-')?;
    let start = hex16(start)?;
    let end = hex16(end)?;
    if start < EXT_START || end < start || end >= EXT_END {
        return None;
    }
    Some(Quirk {
        vendor,
        device,
        start,
        end: end + 1,
    })
}

/// The quirks of a table string: entries separated by `;` or `,`, blanks
/// ignored. `Err` with the entry that does not parse.
pub(crate) fn quirks(table: &str) -> impl Iterator<Item = Result<Quirk, &str>> {
    table
        .split([';', ','])
        .filter(|s| !s.trim().is_empty())
        .map(|s| parse_quirk(s).ok_or(s))
}

/// Whether a quirk table string parses.
pub(crate) fn quirks_valid(table: &str) -> bool {
    quirks(table).all(|q| q.is_ok())
}

/// Parses an offset as an operator writes it (`0xff8`, `ff8`, or `auto`,
/// `0`: no request). `Err` if it is neither.
pub(crate) fn parse_offset(s: &str) -> Result<Option<u16>, Refusal> {
    let s = s.trim();
    if s == "auto" {
        return Ok(None);
    }
    match hex(s) {
        Some(0) => Ok(None),
        Some(v) => {
            let o = u16::try_from(v).map_err(|_| Refusal::BadOffset(u16::MAX))?;
            check_offset(o)?;
            Ok(Some(o))
        }
        None => Err(Refusal::BadOffset(0)),
    }
}

fn check_offset(o: u16) -> Result<(), Refusal> {
    if !o.is_multiple_of(4) || !(EXT_START..=DEFAULT_OFFSET).contains(&o) {
        return Err(Refusal::BadOffset(o));
    }
    Ok(())
}

/// The offset asked for this device by a module parameter string:
/// `KEY=OFFSET` entries separated by `;` or `,`, where KEY is a
/// `VVVV:DDDD` vendor:device or a `DDDD:BB:SS.F` address. An address
/// entry wins over a vendor:device one. Entries that do not parse were
/// refused when the parameter was set.
pub(crate) fn param_offset(table: &str, vendor: u16, device: u16, bdf: &str) -> Option<u16> {
    let mut by_id = None;
    for item in table.split([';', ',']) {
        let Some((key, val)) = item.split_once('=') else {
            continue;
        };
        let Ok(Some(off)) = parse_offset(val) else {
            continue;
        };
        let key = key.trim();
        if key.eq_ignore_ascii_case(bdf) {
            return Some(off);
        }
        if let Some((v, d)) = key.split_once(':') {
            if !d.contains(':') && hex16(v) == Some(vendor) && hex16(d) == Some(device) {
                by_id = Some(off);
            }
        }
    }
    by_id
}

/// Whether an offset parameter string parses.
pub(crate) fn offsets_valid(table: &str) -> bool {
    table
        .split([';', ','])
        .filter(|s| !s.trim().is_empty())
        .all(|item| match item.split_once('=') {
            Some((key, val)) => {
                let key = key.trim();
                let parts = key.split(':').count();
                (parts == 2 || parts == 3) && matches!(parse_offset(val), Ok(Some(_)))
            }
            None => false,
        })
}

/// An extended capability chain, checked once: it ends, without a loop,
/// inside extended space, within [`MAX_CAPS`] capabilities. Its headers are
/// read again from the config space on each walk.
pub(crate) struct Chain {
    /// Where its capabilities start.
    starts: Dwords,
    len: usize,
}

/// A walk of a [`Chain`].
pub(crate) struct ChainIter<'a, C> {
    cfg: &'a C,
    off: u16,
    left: usize,
}

impl<C: ConfigSpace> Iterator for ChainIter<'_, C> {
    type Item = (u16, Header);

    fn next(&mut self) -> Option<(u16, Header)> {
        if self.left == 0 || self.off < EXT_START {
            return None;
        }
        self.left -= 1;
        let off = self.off;
        let h = Header::from_u32(self.cfg.read32(off)?);
        self.off = h.next;
        Some((off, h))
    }
}

impl Chain {
    /// Walks the chain from 0x100. A header of all zeroes or all ones at
    /// 0x100 is an empty chain.
    pub(crate) fn read(cfg: &impl ConfigSpace) -> Result<Self, Refusal> {
        let mut chain = Chain {
            starts: Dwords::new(),
            len: 0,
        };
        let mut off = EXT_START;
        loop {
            let v = cfg.read32(off).ok_or(Refusal::BadChain(off))?;
            if off == EXT_START && (v == 0 || v == u32::MAX) {
                return Ok(chain);
            }
            if chain.len == MAX_CAPS || chain.starts.taken(off) {
                return Err(Refusal::BadChain(off));
            }
            chain.starts.mark(off, off + 4);
            chain.len += 1;
            let h = Header::from_u32(v);
            if h.next == 0 {
                return Ok(chain);
            }
            if h.next < EXT_START {
                return Err(Refusal::BadChain(off));
            }
            off = h.next;
        }
    }

    /// The capabilities, in chain order, read from `cfg`.
    pub(crate) fn iter<'a, C: ConfigSpace>(&self, cfg: &'a C) -> ChainIter<'a, C> {
        ChainIter {
            cfg,
            off: EXT_START,
            left: self.len,
        }
    }

    /// The offset of capability `id`, if the chain has it.
    pub(crate) fn find(&self, cfg: &impl ConfigSpace, id: u16) -> Option<u16> {
        self.iter(cfg).find(|(_, h)| h.id == id).map(|(o, _)| o)
    }

    /// The lowest capability offset above `off`, or the end of the space.
    fn next_above(&self, off: u16) -> u16 {
        self.starts.next_above(off)
    }
}

/// The offset of the PCI Express capability in the standard list, if any.
fn pcie_cap(cfg: &impl ConfigSpace) -> Option<u16> {
    let status = cfg.read16(0x06)?;
    if status & 0x10 == 0 {
        return None;
    }
    let mut pos = u16::from(cfg.read16(0x34)? as u8) & !3;
    for _ in 0..48 {
        if pos < 0x40 {
            return None;
        }
        let h = cfg.read16(pos)?;
        if h & 0xff == 0x10 {
            return Some(pos);
        }
        pos = (h >> 8) & 0xfc;
    }
    None
}

fn round4(n: u32) -> u32 {
    (n + 3) & !3
}

/// How many bytes the capability at `off` spans, by the PCIe base
/// specification, reading its size fields where it has any. `None` when
/// this is not known for its id: the caller then takes everything up to
/// the next capability above it.
fn cap_len(cfg: &impl ConfigSpace, off: u16, id: u16) -> Option<u32> {
    let dw = |o: u16| cfg.read32(off.checked_add(o)?);
    Some(match id {
        // A null capability (id 0) is a header alone: QEMU and the device
        // model put one at 0x100 when the chain starts higher.
        0x00 => 4,
        0x01 => 0x48, // AER, with the TLP prefix log.
        0x03 => 0x0c, // Device Serial Number.
        0x04 => 0x10, // Power Budgeting.
        0x02 | 0x09 => {
            // Virtual Channel: Port VC Capability 1 counts the extended
            // VCs, each with a 12-byte resource; the arbitration tables
            // are placed by offsets, which are left to "up to the next".
            let evcc = dw(4)? & 7;
            0x18 + 0x0c * evcc
        }
        0x0b | 0x23 => (dw(4)? >> 20) & 0xfff, // Vendor-specific, DVSEC.
        0x0d => {
            // ACS: an egress control vector when bit 5 says so.
            let cap = dw(4)? & 0xffff;
            if cap & 0x20 != 0 {
                let bits = match (cap >> 8) & 0xff {
                    0 => 256,
                    n => n,
                };
                8 + round4(bits.div_ceil(8))
            } else {
                8
            }
        }
        0x0e | 0x0f | 0x18 | 0x1b | 0x1c => 8, // ARI, ATS, LTR, PASID, LNR.
        0x10 => 0x40,                          // SR-IOV.
        0x12 => 0x30,                          // Multicast.
        0x13 => 0x10,                          // PRI.
        0x15 | 0x24 => {
            // Resizable BAR, VF Resizable BAR: 8 bytes per BAR, the count in
            // the first control register.
            let n = (dw(8)? >> 5) & 7;
            4 + 8 * n.max(1)
        }
        0x16 => {
            // Dynamic Power Allocation: a byte per substate.
            let n = (dw(4)? & 0x1f) + 1;
            0x10 + round4(n)
        }
        0x17 => {
            // TPH: an ST table in the capability when located there.
            let cap = dw(4)?;
            if (cap >> 9) & 3 == 1 {
                let entries = ((cap >> 16) & 0x7ff) + 1;
                0x0c + round4(entries * 2)
            } else {
                0x0c
            }
        }
        0x19 => {
            // Secondary PCIe: a lane equalization control word per lane.
            let exp = pcie_cap(cfg)?;
            let lnkcap = cfg.read32(exp + 0x0c)?;
            let lanes = (lnkcap >> 4) & 0x3f;
            0x0c + round4(lanes * 2)
        }
        0x1e => 0x10, // L1 PM Substates.
        0x1f => 0x0c, // PTM.
        0x25 => 0x0c, // Data Link Feature.
        _ => return None,
    })
}

/// What the placement needs of the device.
pub(crate) struct Device<'a> {
    pub(crate) vendor: u16,
    pub(crate) device: u16,
    /// The quirk table of the module parameter (the built-in one is always
    /// used as well).
    pub(crate) quirks: &'a str,
}

/// The ranges of registers of the physical extended config space, `start`
/// to `end` exclusive: every capability of the chain for its length, and
/// the device's quirk ranges.
fn ranges<'a, C: ConfigSpace>(
    cfg: &'a C,
    chain: &'a Chain,
    dev: &'a Device<'a>,
) -> impl Iterator<Item = (u16, u16)> + 'a {
    let caps = chain.iter(cfg).map(move |(off, h)| {
        let next = chain.next_above(off);
        let len = cap_len(cfg, off, h.id)
            .map(|l| l.max(4))
            .unwrap_or(u32::from(next - off));
        let end = u16::try_from(u32::from(off) + len)
            .unwrap_or(EXT_END)
            .min(EXT_END);
        (off, end)
    });
    let table = BUILTIN_QUIRKS
        .iter()
        .copied()
        .chain(quirks(dev.quirks).filter_map(|q| q.ok()))
        .filter(|q| q.vendor == dev.vendor && q.device == dev.device)
        .map(|q| (q.start, q.end));
    caps.chain(table)
}

/// The dwords of the physical extended config space that hold registers.
pub(crate) fn occupancy(cfg: &impl ConfigSpace, chain: &Chain, dev: &Device<'_>) -> Occupancy {
    let mut occ = Occupancy::new();
    for (start, end) in ranges(cfg, chain, dev) {
        occ.mark(start, end);
    }
    occ
}

/// Where the range that holds the taken dword `t` starts (for messages).
fn owner(cfg: &impl ConfigSpace, chain: &Chain, dev: &Device<'_>, t: u16) -> u16 {
    ranges(cfg, chain, dev)
        .find(|&(s, e)| s <= t && t < e)
        .map_or(t, |(s, _)| s)
}

/// Chooses the capability's offset: the one requested, which must be free;
/// else 0xff8 if free; else the first free 8-byte dword-aligned gap. A
/// taken request is refused with what `owner` says holds it.
pub(crate) fn place(
    occ: &Occupancy,
    request: Option<u16>,
    owner: impl Fn(u16) -> u16,
) -> Result<u16, Refusal> {
    if let Some(o) = request {
        check_offset(o)?;
        if let Some(t) = occ.first_taken(o, PASID_LEN) {
            return Err(Refusal::Taken(o, owner(t)));
        }
        return Ok(o);
    }
    if occ.first_taken(DEFAULT_OFFSET, PASID_LEN).is_none() {
        return Ok(DEFAULT_OFFSET);
    }
    (EXT_START..=DEFAULT_OFFSET)
        .step_by(4)
        .find(|&o| occ.first_taken(o, PASID_LEN).is_none())
        .ok_or(Refusal::NoRoom)
}

/// What the IOMMU and the physical function allow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct PasidInfo {
    /// Max PASID Width to advertise: what iommufd accepts for the device.
    pub(crate) width: u8,
    /// Execute permission enabled on the physical function.
    pub(crate) exec: bool,
    /// Privileged mode enabled on the physical function.
    pub(crate) privileged: bool,
}

impl PasidInfo {
    /// The info from the IOMMU's `max_pasids` for the device, the device's
    /// own Max PASID Width and the features enabled physically (Capability
    /// register bits); `None` when no PASID can be exposed.
    pub(crate) fn new(max_pasids: u32, dev_width: u8, enabled: u16) -> Option<Self> {
        if max_pasids == 0 {
            return None;
        }
        // The largest width whose PASIDs all fit in max_pasids.
        let iommu_width = 31 - max_pasids.leading_zeros();
        let width = u8::try_from(iommu_width).ok()?.min(dev_width).min(20);
        if width == 0 {
            return None;
        }
        Some(PasidInfo {
            width,
            exec: enabled & CAP_EXEC != 0,
            privileged: enabled & CAP_PRIV != 0,
        })
    }

    /// The Capability register.
    pub(crate) fn cap(&self) -> u16 {
        (u16::from(self.width) << 8)
            | if self.exec { CAP_EXEC } else { 0 }
            | if self.privileged { CAP_PRIV } else { 0 }
    }

    /// The Control bits a write may set.
    fn ctrl_mask(&self) -> u16 {
        CTRL_ENABLE
            | if self.exec { CTRL_EXEC } else { 0 }
            | if self.privileged { CTRL_PRIV } else { 0 }
    }
}

/// The virtual capability of an open device.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Virtual {
    /// Where the capability is.
    pub(crate) off: u16,
    /// The capability vfio-pci presents last in its chain, whose next
    /// pointer now leads to ours.
    pub(crate) prev: u16,
    /// That capability's header as presented, relinked.
    pub(crate) prev_header: u32,
    /// vfio-pci's header at 0x100, when vfio-pci itself would let the
    /// device's show through (see [`build`]).
    pub(crate) head: Option<u32>,
    pub(crate) info: PasidInfo,
    /// The Control register, as the user last wrote it.
    pub(crate) ctrl: u16,
    /// The fingerprint of the virtual extended layout.
    pub(crate) fingerprint: u64,
}

/// FNV-1a, 64 bits.
struct Fnv(u64);

impl Fnv {
    fn new() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }

    fn bytes(&mut self, b: &[u8]) {
        for &x in b {
            self.0 ^= u64::from(x);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
}

/// The fingerprint of an extended layout: each capability of the chain, in
/// chain order, as offset, id and version, and the PASID Capability
/// register, all little endian.
pub(crate) fn fingerprint(chain: impl Iterator<Item = (u16, Header)>, pasid_cap: u16) -> u64 {
    let mut h = Fnv::new();
    for (off, hd) in chain {
        h.bytes(&off.to_le_bytes());
        h.bytes(&hd.id.to_le_bytes());
        h.bytes(&[hd.version]);
    }
    h.bytes(&pasid_cap.to_le_bytes());
    h.0
}

/// Builds the virtual capability over vfio-pci's virtual config space
/// `vcfg`: places it, relinks the last capability vfio-pci presents and
/// checks the required fingerprint. `None` (no capability) when vfio-pci
/// already presents a PASID capability.
pub(crate) fn build(
    phys: &impl ConfigSpace,
    vcfg: &impl ConfigSpace,
    dev: &Device<'_>,
    info: PasidInfo,
    request: Option<u16>,
    required: Option<u64>,
) -> Result<Option<Virtual>, Refusal> {
    let chain = Chain::read(phys)?;
    let occ = occupancy(phys, &chain, dev);
    let off = place(&occ, request, |t| owner(phys, &chain, dev, t))?;
    // vfio-pci's chain always starts at 0x100, with a placeholder (id 0)
    // when the first physical capability is hidden or there is none; the
    // placeholder's next pointer is ours to set then.
    let vchain = Chain::read(vcfg)?;
    if vchain.find(vcfg, PASID_ID).is_some() {
        return Ok(None);
    }
    let (prev, prev_header) = match vchain.iter(vcfg).last() {
        Some((o, _)) => (o, vcfg.read32(o).ok_or(Refusal::BadChain(o))?),
        None => (EXT_START, 0),
    };
    if prev == off {
        return Err(Refusal::Taken(off, prev));
    }
    let prev_header = (prev_header & 0x000f_ffff) | (u32::from(off) << 20);
    // When the device's own first header has id 0 (a null capability, as
    // QEMU and the device model put at 0x100), vfio-pci's map marks 0x100
    // as the standard header's (id 0 is PCI_CAP_ID_BASIC there), so its
    // reads go to the device and the chain users walk is the device's,
    // hidden capabilities included, not vfio-pci's relinked one. The
    // virtual capability is linked from vfio-pci's chain, so 0x100 is
    // presented as vfio-pci built it.
    let head = match phys.read32(EXT_START) {
        Some(h) if h != 0 && h != u32::MAX && h & 0xffff == 0 && prev != EXT_START => {
            Some(vcfg.read32(EXT_START).ok_or(Refusal::BadChain(EXT_START))?)
        }
        _ => None,
    };
    let ours = Header {
        id: PASID_ID,
        version: 1,
        next: 0,
    };
    let layout = vchain.iter(vcfg).map(|(o, h)| {
        if o == prev {
            (o, Header { next: off, ..h })
        } else {
            (o, h)
        }
    });
    let fp = fingerprint(layout.chain(core::iter::once((off, ours))), info.cap());
    if let Some(want) = required {
        if want != fp {
            return Err(Refusal::Mismatch(want, fp));
        }
    }
    Ok(Some(Virtual {
        off,
        prev,
        prev_header,
        head,
        info,
        ctrl: 0,
        fingerprint: fp,
    }))
}

impl Virtual {
    /// The header dword of the capability.
    fn header(&self) -> u32 {
        u32::from(PASID_ID) | (1 << 16)
    }

    /// The value of config byte `pos` if this capability owns it.
    fn byte(&self, pos: u32) -> Option<u8> {
        let off = u32::from(self.off);
        let prev = u32::from(self.prev);
        let (v, rel) = if (off..off + u32::from(PASID_LEN)).contains(&pos) {
            let rel = pos - off;
            let v = match rel {
                0..4 => self.header(),
                _ => u32::from(self.info.cap()) | (u32::from(self.ctrl) << 16),
            };
            (v, rel % 4)
        } else if (prev..prev + 4).contains(&pos) {
            (self.prev_header, pos - prev)
        } else if let Some(h) = self.head.filter(|_| (0x100..0x104).contains(&pos)) {
            (h, pos - 0x100)
        } else {
            return None;
        };
        Some((v >> (8 * rel)) as u8)
    }

    /// The byte ranges it overlays: the capability, the relinked header,
    /// and the header at 0x100 if vfio-pci's own is shown there (an empty
    /// range otherwise).
    pub(crate) fn windows(&self) -> [(u16, u16); 3] {
        [
            (self.off, PASID_LEN),
            (self.prev, 4),
            (EXT_START, if self.head.is_some() { 4 } else { 0 }),
        ]
    }

    /// Patches `buf`, read from config offset `pos`, with the bytes this
    /// capability owns.
    pub(crate) fn read(&self, pos: u32, buf: &mut [u8]) {
        for (i, b) in buf.iter_mut().enumerate() {
            let Ok(i) = u32::try_from(i) else {
                return;
            };
            let Some(p) = pos.checked_add(i) else {
                return;
            };
            if let Some(v) = self.byte(p) {
                *b = v;
            }
        }
    }

    /// Applies a user write of `data` at config offset `pos`, of which only
    /// the bytes inside the capability are taken (the caller hands the rest
    /// to vfio-pci): header and Capability are read-only, Control keeps the
    /// bits the physical function has enabled.
    pub(crate) fn write(&mut self, pos: u32, data: &[u8]) {
        let ctrl_at = u32::from(self.off + PASID_CTRL);
        let mut bytes = self.ctrl.to_le_bytes();
        for (i, &b) in data.iter().enumerate() {
            let Some(p) = u32::try_from(i).ok().and_then(|i| pos.checked_add(i)) else {
                return;
            };
            if p == ctrl_at || p == ctrl_at + 1 {
                bytes[(p - ctrl_at) as usize] = b;
            }
        }
        self.ctrl = u16::from_le_bytes(bytes) & self.info.ctrl_mask();
    }

    /// A device reset (FLR, `VFIO_DEVICE_RESET`, hot reset): Control to 0.
    pub(crate) fn reset(&mut self) {
        self.ctrl = 0;
    }
}

/// The sysfs attributes of a bound device.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Attr {
    /// `vpasid_offset`: the capability's offset at the last open (`none`
    /// without one); written, the offset the next opens must use.
    Offset,
    /// `vpasid_fingerprint`: the layout's fingerprint at the last open;
    /// written, the fingerprint the next opens must reproduce.
    Fingerprint,
}

/// What the driver keeps per bound device, under its lock.
#[derive(Default)]
pub(crate) struct State {
    /// The offset written to `vpasid_offset`.
    request: Option<u16>,
    /// The fingerprint written to `vpasid_fingerprint`.
    required: Option<u64>,
    open: bool,
    /// The capability while the device is open.
    virt: Option<Virtual>,
    /// Offset and fingerprint of the last open that exposed one.
    last: Option<(u16, u64)>,
}

/// What the driver knows of the function at open.
pub(crate) struct OpenInfo<'a> {
    pub(crate) dev: Device<'a>,
    /// The PCI address, for the offsets parameter.
    pub(crate) bdf: &'a str,
    /// The offsets module parameter.
    pub(crate) offsets: &'a str,
    /// `None` when PASID is not enabled on the function (or its PF) or the
    /// IOMMU allows none.
    pub(crate) pasid: Option<PasidInfo>,
}

impl State {
    /// An open of the device: builds the capability, or refuses the open.
    pub(crate) fn open(
        &mut self,
        phys: &impl ConfigSpace,
        vcfg: &impl ConfigSpace,
        info: &OpenInfo<'_>,
    ) -> Result<(), Refusal> {
        let request = self
            .request
            .or_else(|| param_offset(info.offsets, info.dev.vendor, info.dev.device, info.bdf));
        self.virt = None;
        self.last = None;
        let Some(pasid) = info.pasid else {
            if self.request.is_some() || self.required.is_some() {
                return Err(Refusal::NoPasid);
            }
            self.open = true;
            return Ok(());
        };
        let virt = build(phys, vcfg, &info.dev, pasid, request, self.required)?;
        self.last = virt.map(|v| (v.off, v.fingerprint));
        self.virt = virt;
        self.open = true;
        Ok(())
    }

    /// The close of the device.
    pub(crate) fn close(&mut self) {
        self.virt = None;
        self.open = false;
    }

    /// A reset of the function.
    pub(crate) fn reset(&mut self) {
        if let Some(v) = self.virt.as_mut() {
            v.reset();
        }
    }

    /// The `idx`-th range of config space the capability overlays.
    pub(crate) fn window(&self, idx: usize) -> Option<(u16, u16)> {
        self.virt?.windows().get(idx).copied()
    }

    /// See [`Virtual::read`].
    pub(crate) fn read(&self, pos: u32, buf: &mut [u8]) {
        if let Some(v) = self.virt.as_ref() {
            v.read(pos, buf);
        }
    }

    /// See [`Virtual::write`].
    pub(crate) fn write(&mut self, pos: u32, data: &[u8]) {
        if let Some(v) = self.virt.as_mut() {
            v.write(pos, data);
        }
    }

    /// Formats an attribute, with a newline.
    pub(crate) fn show(&self, attr: Attr, out: &mut impl fmt::Write) -> fmt::Result {
        match (attr, self.last) {
            (Attr::Offset, Some((off, _))) => writeln!(out, "{off:#x}"),
            (Attr::Fingerprint, Some((_, fp))) => writeln!(out, "{fp:016x}"),
            (_, None) => writeln!(out, "none"),
        }
    }

    /// Takes a write of an attribute: the requirement for the next opens
    /// (`auto` or `none` drops it). `EBUSY` while open, `EINVAL` if it
    /// does not parse.
    pub(crate) fn store(&mut self, attr: Attr, s: &str) -> Result<(), i32> {
        if self.open {
            return Err(16);
        }
        let s = s.trim();
        match attr {
            Attr::Offset => {
                self.request = match s {
                    "none" => None,
                    _ => parse_offset(s).map_err(|r| r.errno())?,
                };
            }
            Attr::Fingerprint => {
                self.required = match s {
                    "none" | "auto" => None,
                    _ => {
                        let h = s.strip_prefix("0x").unwrap_or(s);
                        if h.is_empty() || h.len() > 16 {
                            return Err(22);
                        }
                        Some(u64::from_str_radix(h, 16).map_err(|_| 22)?)
                    }
                };
            }
        }
        Ok(())
    }
}
