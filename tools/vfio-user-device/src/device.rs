// SPDX-License-Identifier: GPL-2.0

//! The device: its config space, BAR0's registers and DMA engine, and the
//! vfio-user backend that serves them to QEMU.
//!
//! BAR0 (little endian; selftests/iommufd_rs/iommufd_rs_vfu.h has the same
//! table for the guest):
//!
//! | offset | register | |
//! |---|---|---|
//! | 0x00 | ID | RO, `VFU_ID` |
//! | 0x04 | INFO | RO: see below |
//! | 0x08 | SCRATCH | RW |
//! | 0x0c | MAPS | RO: the DMA ranges the client has mapped now |
//! | 0x10 | DMA_SRC | RW, 64 bits |
//! | 0x18 | DMA_DST | RW, 64 bits |
//! | 0x20 | DMA_LEN | RW |
//! | 0x24 | DMA_CMD | RW: a write with RUN set runs the command at once |
//! | 0x28 | DMA_STATUS | RW1C: DONE, FAULT, INVALID, NO_MASTER of the last command |
//! | 0x2c | DMA_PATTERN | RW: the 32-bit word FILL writes |
//! | 0x30 | FAULT_IOVA | RO, 64 bits: the first IOVA the last DMA could not reach |
//! | 0x38 | DONE_COUNT | RO |
//! | 0x3c | FAULT_COUNT | RO |
//! | 0x1000 | buffer | 4 KiB, RW |
//!
//! INFO: PASID width (bits 4:0), Exec (8), Priv (9), ATS (10), PRI (11),
//! function (18:16), a captured config space (24).
//!
//! Commands: RUN (bit 0) with TO_MEM (bit 1) copies DMA_LEN bytes from
//! buffer offset DMA_SRC to IOVA DMA_DST; without TO_MEM, from IOVA DMA_SRC
//! to buffer offset DMA_DST; FILL (bit 2, with TO_MEM) writes DMA_PATTERN
//! over DMA_LEN bytes (up to 1 MiB) at IOVA DMA_DST. The DMA runs when the
//! command is written, so the status is final when the write returns. It
//! needs Bus Master Enable.

use std::fs::File;
use std::io;

use vfio_bindings::bindings::vfio::{
    vfio_region_info, VFIO_IRQ_INFO_AUTOMASKED, VFIO_IRQ_INFO_EVENTFD, VFIO_IRQ_INFO_MASKABLE,
    VFIO_IRQ_INFO_NORESIZE, VFIO_PCI_CONFIG_REGION_INDEX, VFIO_PCI_INTX_IRQ_INDEX,
    VFIO_PCI_MSIX_IRQ_INDEX, VFIO_PCI_MSI_IRQ_INDEX, VFIO_PCI_NUM_IRQS, VFIO_PCI_NUM_REGIONS,
    VFIO_REGION_INFO_FLAG_READ, VFIO_REGION_INFO_FLAG_WRITE,
};
use vfio_user::{DmaMapFlags, DmaUnmapFlags, IrqInfo, ServerBackend, ServerRegion};

use crate::config::{self, ConfigSpace, CFG_SIZE};
use crate::dma::{DmaSpace, Fault};
use crate::dump;
use crate::spec::Options;

pub(crate) const VFU_ID: u32 = 0x5646_5531;

const REG_ID: usize = 0x00;
const REG_INFO: usize = 0x04;
const REG_SCRATCH: usize = 0x08;
const REG_MAPS: usize = 0x0c;
const REG_DMA_SRC: usize = 0x10;
const REG_DMA_DST: usize = 0x18;
const REG_DMA_LEN: usize = 0x20;
const REG_DMA_CMD: usize = 0x24;
const REG_DMA_STATUS: usize = 0x28;
const REG_DMA_PATTERN: usize = 0x2c;
const REG_FAULT_IOVA: usize = 0x30;
const REG_DONE_COUNT: usize = 0x38;
const REG_FAULT_COUNT: usize = 0x3c;
const REGS_SIZE: usize = 0x1000;

const BUF_OFFSET: u64 = 0x1000;
const BUF_SIZE: usize = 0x1000;
const FILL_MAX: u32 = 1 << 20;

const CMD_RUN: u32 = 1 << 0;
const CMD_TO_MEM: u32 = 1 << 1;
const CMD_FILL: u32 = 1 << 2;

const STATUS_DONE: u32 = 1 << 1;
const STATUS_FAULT: u32 = 1 << 2;
const STATUS_INVALID: u32 = 1 << 3;
const STATUS_NO_MASTER: u32 = 1 << 4;

const PCI_COMMAND_MASTER: u32 = 1 << 2;

fn invalid(msg: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, msg.to_string())
}

pub(crate) struct Device {
    cfg: ConfigSpace,
    regs: Vec<u8>,
    buf: Vec<u8>,
    dma: DmaSpace,
    info: u32,
}

impl Device {
    pub(crate) fn new(o: &Options) -> Result<Device, String> {
        let cfg = match o.dump_path() {
            Some(path) => {
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| format!("{}: {e}", path.display()))?;
                let d = dump::parse(&text).map_err(|e| format!("{}: {e}", path.display()))?;
                if d.covered < CFG_SIZE {
                    eprintln!(
                        "vfio-user-device: {}: only {} bytes of config space; the rest reads 0",
                        path.display(),
                        d.covered
                    );
                }
                config::from_dump(&d).map_err(|e| format!("{}: {e}", path.display()))?
            }
            None => config::model(o)?,
        };
        let mut info = u32::from(o.func) << 16;
        if let Some(pasid) = cfg.caps.pasid {
            let cap = cfg.get(pasid + 4, 2);
            info |= (cap >> 8) & 0x1f | ((cap >> 1) & 0x3) << 8;
        }
        if cfg.ext_caps().iter().any(|&(_, id)| id == 0x0f) {
            info |= 1 << 10;
        }
        if cfg.caps.pri.is_some() {
            info |= 1 << 11;
        }
        if o.dump.is_some() {
            info |= 1 << 24;
        }
        let mut dev = Device {
            cfg,
            regs: vec![0; REGS_SIZE],
            buf: vec![0; BUF_SIZE],
            dma: DmaSpace::default(),
            info,
        };
        dev.dma.verbose = o.verbose;
        dev.reset_regs();
        Ok(dev)
    }

    pub(crate) fn config_hex(&self) -> String {
        self.cfg.hex()
    }

    fn reg(&self, off: usize, len: usize) -> u64 {
        let mut v = [0u8; 8];
        v[..len].copy_from_slice(&self.regs[off..off + len]);
        u64::from_le_bytes(v)
    }

    fn set_reg(&mut self, off: usize, len: usize, val: u64) {
        self.regs[off..off + len].copy_from_slice(&val.to_le_bytes()[..len]);
    }

    fn reset_regs(&mut self) {
        self.regs.fill(0);
        self.set_reg(REG_ID, 4, VFU_ID.into());
        self.set_reg(REG_INFO, 4, self.info.into());
    }

    /// FLR or a client's reset: registers and config space as at power-on;
    /// the buffer and the client's DMA maps stay.
    fn reset_device(&mut self) {
        self.cfg.reset();
        self.reset_regs();
    }

    /// The regions QEMU asks about: BARs as the config space has them, no
    /// ROM, 4 KiB of config space, no VGA.
    pub(crate) fn regions(&self) -> Vec<ServerRegion> {
        (0..VFIO_PCI_NUM_REGIONS)
            .map(|index| {
                let mut info = vfio_region_info {
                    argsz: std::mem::size_of::<vfio_region_info>() as u32,
                    index,
                    ..Default::default()
                };
                let size = match index {
                    0..=5 => self.cfg.bars[index as usize].size,
                    VFIO_PCI_CONFIG_REGION_INDEX => CFG_SIZE as u64,
                    _ => 0,
                };
                if size > 0 {
                    info.size = size;
                    info.flags = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE;
                }
                ServerRegion {
                    region_info: info,
                    sparse_areas: Vec::new(),
                    mmap_fd: None,
                }
            })
            .collect()
    }

    /// INTx when the config space has an interrupt pin, and the MSI and
    /// MSI-X vectors its capabilities have; never fired (the DMA engine is
    /// synchronous), but QEMU sets them up.
    pub(crate) fn irqs(&self) -> Vec<IrqInfo> {
        (0..VFIO_PCI_NUM_IRQS)
            .map(|index| {
                let (count, flags) = match index {
                    VFIO_PCI_INTX_IRQ_INDEX if self.cfg.get(0x3d, 1) != 0 => (
                        1,
                        VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_MASKABLE | VFIO_IRQ_INFO_AUTOMASKED,
                    ),
                    VFIO_PCI_MSI_IRQ_INDEX if self.cfg.caps.msi_vectors > 0 => (
                        self.cfg.caps.msi_vectors,
                        VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_NORESIZE,
                    ),
                    VFIO_PCI_MSIX_IRQ_INDEX if self.cfg.caps.msix_vectors > 0 => (
                        self.cfg.caps.msix_vectors,
                        VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_NORESIZE,
                    ),
                    _ => (0, 0),
                };
                IrqInfo {
                    index,
                    count,
                    flags,
                }
            })
            .collect()
    }

    fn bar0_read(&mut self, off: u64, data: &mut [u8]) {
        let maps = u64::try_from(self.dma.len())
            .unwrap_or(u64::MAX)
            .min(u32::MAX.into());
        self.set_reg(REG_MAPS, 4, maps);
        for (i, b) in data.iter_mut().enumerate() {
            let o = off + i as u64;
            *b = if o < REGS_SIZE as u64 {
                self.regs[o as usize]
            } else if (BUF_OFFSET..BUF_OFFSET + BUF_SIZE as u64).contains(&o) {
                self.buf[(o - BUF_OFFSET) as usize]
            } else {
                0
            };
        }
    }

    fn bar0_write(&mut self, off: u64, data: &[u8]) {
        let mut run = false;
        for (i, &v) in data.iter().enumerate() {
            let o = off + i as u64;
            if (BUF_OFFSET..BUF_OFFSET + BUF_SIZE as u64).contains(&o) {
                self.buf[(o - BUF_OFFSET) as usize] = v;
                continue;
            }
            let Ok(o) = usize::try_from(o) else {
                continue;
            };
            match o {
                REG_SCRATCH..REG_MAPS | REG_DMA_SRC..REG_DMA_STATUS => self.regs[o] = v,
                REG_DMA_PATTERN..REG_FAULT_IOVA => self.regs[o] = v,
                REG_DMA_STATUS..REG_DMA_PATTERN => self.regs[o] &= !v,
                _ => {}
            }
            if (REG_DMA_CMD..REG_DMA_STATUS).contains(&o) {
                run = true;
            }
        }
        if run {
            self.run_command();
        }
    }

    fn run_command(&mut self) {
        let cmd = self.reg(REG_DMA_CMD, 4) as u32;
        if cmd & CMD_RUN == 0 {
            return;
        }
        let src = self.reg(REG_DMA_SRC, 8);
        let dst = self.reg(REG_DMA_DST, 8);
        let len = self.reg(REG_DMA_LEN, 4) as u32;
        let status = if self.cfg.get(0x04, 2) & PCI_COMMAND_MASTER == 0 {
            STATUS_NO_MASTER
        } else {
            match self.dma_command(cmd, src, dst, len) {
                Some(Ok(())) => STATUS_DONE,
                Some(Err(Fault(iova))) => {
                    eprintln!(
                        "vfio-user-device: DMA fault at IOVA {iova:#x} (command {cmd:#x}, src {src:#x}, dst {dst:#x}, len {len:#x})"
                    );
                    self.set_reg(REG_FAULT_IOVA, 8, iova);
                    let n = self.reg(REG_FAULT_COUNT, 4).wrapping_add(1);
                    self.set_reg(REG_FAULT_COUNT, 4, n & 0xffff_ffff);
                    STATUS_FAULT
                }
                None => STATUS_INVALID,
            }
        };
        if status == STATUS_DONE {
            let n = self.reg(REG_DONE_COUNT, 4).wrapping_add(1);
            self.set_reg(REG_DONE_COUNT, 4, n & 0xffff_ffff);
        }
        self.set_reg(REG_DMA_STATUS, 4, status.into());
        self.set_reg(REG_DMA_CMD, 4, (cmd & !CMD_RUN).into());
    }

    /// One DMA; None if its arguments are invalid.
    fn dma_command(&mut self, cmd: u32, src: u64, dst: u64, len: u32) -> Option<Result<(), Fault>> {
        if cmd & CMD_FILL != 0 {
            if cmd & CMD_TO_MEM == 0 || len > FILL_MAX || !len.is_multiple_of(4) {
                return None;
            }
            let pattern = self.reg(REG_DMA_PATTERN, 4) as u32;
            let data: Vec<u8> = (0..len / 4).flat_map(|_| pattern.to_le_bytes()).collect();
            return Some(self.dma.write(dst, &data));
        }
        let len = len as usize;
        let buf_range = |off: u64| {
            let start = usize::try_from(off).ok()?;
            let end = start.checked_add(len)?;
            (end <= BUF_SIZE).then_some(start..end)
        };
        if cmd & CMD_TO_MEM != 0 {
            let r = buf_range(src)?;
            Some(self.dma.write(dst, &self.buf[r]))
        } else {
            let r = buf_range(dst)?;
            let mut data = vec![0u8; len];
            let res = self.dma.read(src, &mut data);
            if res.is_ok() {
                self.buf[r].copy_from_slice(&data);
            }
            Some(res)
        }
    }

    fn bar_range(&self, region: u32, off: u64, len: usize) -> io::Result<()> {
        let size = self.cfg.bars.get(region as usize).map_or(0, |b| b.size);
        let end = off
            .checked_add(len as u64)
            .ok_or_else(|| invalid("access wraps"))?;
        if size == 0 || end > size {
            return Err(invalid("access outside the region"));
        }
        Ok(())
    }
}

impl ServerBackend for Device {
    fn region_read(&mut self, region: u32, offset: u64, data: &mut [u8]) -> io::Result<()> {
        if region == VFIO_PCI_CONFIG_REGION_INDEX {
            return self.cfg.read(offset, data).map_err(|e| invalid(&e));
        }
        self.bar_range(region, offset, data.len())?;
        if region == 0 {
            self.bar0_read(offset, data);
        } else {
            data.fill(0);
        }
        Ok(())
    }

    fn region_write(&mut self, region: u32, offset: u64, data: &[u8]) -> io::Result<()> {
        if region == VFIO_PCI_CONFIG_REGION_INDEX {
            let effect = self.cfg.write(offset, data).map_err(|e| invalid(&e))?;
            if effect.flr {
                self.reset_device();
            }
            return Ok(());
        }
        self.bar_range(region, offset, data.len())?;
        if region == 0 {
            self.bar0_write(offset, data);
        }
        Ok(())
    }

    fn dma_map(
        &mut self,
        flags: DmaMapFlags,
        offset: u64,
        address: u64,
        size: u64,
        fd: Option<File>,
    ) -> io::Result<()> {
        self.dma.map(flags, offset, address, size, fd)
    }

    fn dma_unmap(&mut self, flags: DmaUnmapFlags, address: u64, size: u64) -> io::Result<()> {
        if flags.contains(DmaUnmapFlags::UNMAP_ALL) {
            self.dma.unmap_all();
        } else {
            self.dma.unmap(address, size);
        }
        Ok(())
    }

    fn reset(&mut self) -> io::Result<()> {
        self.reset_device();
        Ok(())
    }

    fn set_irqs(
        &mut self,
        _index: u32,
        _flags: u32,
        _start: u32,
        _count: u32,
        _fds: Vec<File>,
    ) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registers_and_dma_without_maps() {
        let args = ["--spec".to_string(), "pasid=20,exec,func=1".to_string()];
        let Ok(o) = crate::spec::parse(args.into_iter()) else {
            panic!("options")
        };
        let Ok(mut d) = Device::new(&o) else {
            panic!("device")
        };
        let mut v = [0u8; 4];
        assert!(d.region_read(0, REG_ID as u64, &mut v).is_ok());
        assert_eq!(u32::from_le_bytes(v), VFU_ID);
        assert!(d.region_read(0, REG_INFO as u64, &mut v).is_ok());
        assert_eq!(u32::from_le_bytes(v), 20 | 1 << 8 | 1 << 16);
        assert!(d.region_read(0, 0x2000, &mut v).is_err());
        assert!(d.region_read(1, 0, &mut v).is_err());
        // Without bus mastering the engine does nothing.
        assert!(d
            .region_write(0, REG_DMA_CMD as u64, &3u32.to_le_bytes())
            .is_ok());
        assert!(d.region_read(0, REG_DMA_STATUS as u64, &mut v).is_ok());
        assert_eq!(u32::from_le_bytes(v), STATUS_NO_MASTER);
        assert!(d.region_write(7, 4, &[0x06, 0]).is_ok());
        // Nothing mapped: the DMA faults at its first byte.
        assert!(d
            .region_write(0, REG_DMA_DST as u64, &0x5000u64.to_le_bytes())
            .is_ok());
        assert!(d
            .region_write(0, REG_DMA_LEN as u64, &16u32.to_le_bytes())
            .is_ok());
        assert!(d
            .region_write(0, REG_DMA_CMD as u64, &3u32.to_le_bytes())
            .is_ok());
        assert!(d.region_read(0, REG_DMA_STATUS as u64, &mut v).is_ok());
        assert_eq!(u32::from_le_bytes(v), STATUS_FAULT);
        let mut q = [0u8; 8];
        assert!(d.region_read(0, REG_FAULT_IOVA as u64, &mut q).is_ok());
        assert_eq!(u64::from_le_bytes(q), 0x5000);
        // A length past the buffer is invalid.
        assert!(d
            .region_write(0, REG_DMA_LEN as u64, &0x1001u32.to_le_bytes())
            .is_ok());
        assert!(d
            .region_write(0, REG_DMA_CMD as u64, &3u32.to_le_bytes())
            .is_ok());
        assert!(d.region_read(0, REG_DMA_STATUS as u64, &mut v).is_ok());
        assert_eq!(u32::from_le_bytes(v), STATUS_INVALID);
        // RW1C.
        assert!(d.region_write(0, REG_DMA_STATUS as u64, &[0xff; 4]).is_ok());
        assert!(d.region_read(0, REG_DMA_STATUS as u64, &mut v).is_ok());
        assert_eq!(u32::from_le_bytes(v), 0);
    }
}
