// SPDX-License-Identifier: GPL-2.0

//! The steps, on QEMU's edu device (docs/specs/edu.rst): BAR0 registers,
//! a DMA engine between an IOVA and the device's own 4 KiB buffer.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread::sleep;
use std::time::Duration;

use iommufd_bindings::iommufd::{
    iommu_hw_info, iommu_hw_info__bindgen_ty_1, iommu_hw_info_arm_smmuv3,
    iommu_hw_info_type_IOMMU_HW_INFO_TYPE_ARM_SMMUV3,
    iommu_hw_info_type_IOMMU_HW_INFO_TYPE_INTEL_VTD, iommu_hw_info_vtd, iommu_hwpt_alloc,
    iommufd_hw_capabilities_IOMMU_HW_CAP_PCI_ATS_NOT_SUPPORTED,
    iommufd_hw_info_flags_IOMMU_HW_INFO_FLAG_INPUT_TYPE,
    iommufd_hwpt_alloc_flags_IOMMU_HWPT_ALLOC_PASID,
};
use iommufd_ioctls::{IommuFd, IommufdError, IommufdHwInfoData, IommufdIoas};
use vfio_bindings::bindings::vfio::{
    VFIO_PCI_BAR0_REGION_INDEX, VFIO_PCI_BAR5_REGION_INDEX, VFIO_PCI_CONFIG_REGION_INDEX,
    VFIO_PCI_INTX_IRQ_INDEX, VFIO_PCI_MSI_IRQ_INDEX, VFIO_REGION_INFO_FLAG_READ,
    VFIO_REGION_INFO_FLAG_WRITE,
};
use vfio_ioctls::{VfioDevice, VfioError, VfioIommufd, VfioOps};

use crate::{check, check_eq, check_ok, Failure, NotPassed, TestResult};

const PSZ: usize = 4096;
const EDU_VENDOR: &str = "0x1234";
const EDU_DEVICE: &str = "0x11e8";

/// BAR0 registers and the DMA engine's buffer (edu.rst).
const EDU_ID: u64 = 0x00;
const EDU_LIVENESS: u64 = 0x04;
const EDU_DMA_SRC: u64 = 0x80;
const EDU_DMA_DST: u64 = 0x88;
const EDU_DMA_CNT: u64 = 0x90;
const EDU_DMA_CMD: u64 = 0x98;
const EDU_DMA_RUN: u32 = 0x1;
const EDU_DMA_TO_RAM: u32 = 0x2;
const EDU_BUF: u32 = 0x40000;
/// edu masks DMA addresses to 28 bits: the IOVAs stay below 256 MiB.
const IOVA: u64 = 0x100_0000;

/// Two pages of anonymous memory that the device reaches by DMA. Touched
/// only through raw pointers and volatile accesses, as the crates' safety
/// contract for `vfio_dma_map` asks.
struct Buffer {
    ptr: *mut u8,
    len: usize,
}

impl Buffer {
    fn new(len: usize) -> Option<Self> {
        // SAFETY: a fresh private anonymous mapping, owned by the Buffer.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        (ptr != libc::MAP_FAILED).then_some(Self {
            ptr: ptr.cast(),
            len,
        })
    }

    fn write(&self, off: usize, bytes: &[u8]) {
        assert!(off + bytes.len() <= self.len);
        for (i, b) in bytes.iter().enumerate() {
            // SAFETY: within the mapping; volatile, the device may DMA to it.
            unsafe { self.ptr.add(off + i).write_volatile(*b) };
        }
    }

    fn read(&self, off: usize, len: usize) -> Vec<u8> {
        assert!(off + len <= self.len);
        // SAFETY: within the mapping; volatile, the device may DMA to it.
        (0..len)
            .map(|i| unsafe { self.ptr.add(off + i).read_volatile() })
            .collect()
    }
}

impl Drop for Buffer {
    fn drop(&mut self) {
        // SAFETY: the mapping made in new(), unmapped once.
        unsafe { libc::munmap(self.ptr.cast(), self.len) };
    }
}

/// What the steps hand on to each other.
#[derive(Default)]
pub struct Ctx {
    /// The edu device's sysfs directory, once found and bound to vfio-pci.
    sysfs: Option<PathBuf>,
    /// Why there is none, if the run has no edu device or no vfio-pci.
    skip: Option<String>,
    iommufd: Option<Arc<IommuFd>>,
    ioas_id: u32,
    vfio: Option<Arc<VfioIommufd>>,
    dev: Option<VfioDevice>,
    dev_id: u32,
    buf: Option<Buffer>,
}

/// The earlier step's result a step needs, or why the step cannot run: a
/// skip when there is no edu device, a failure when an earlier step failed.
fn need<'a, T>(
    ctx_skip: &Option<String>,
    o: &'a Option<T>,
    what: &str,
) -> Result<&'a T, NotPassed> {
    match (o, ctx_skip) {
        (Some(v), _) => Ok(v),
        (None, Some(why)) => Err(NotPassed::Skipped(why.clone())),
        (None, None) => Err(Failure(format!("no {what}: an earlier step failed")).into()),
    }
}

/// The errno of a failed ioctl, from either crate's error.
fn iommufd_errno(e: &IommufdError) -> Option<i32> {
    match e {
        IommufdError::OpenIommufd(e) => e.raw_os_error(),
        IommufdError::IommuDestroy(s)
        | IommufdError::IommuIoasAlloc(s)
        | IommufdError::IommuIoasMap(s)
        | IommufdError::IommuIoasUnmap(s)
        | IommufdError::IommuHwptAlloc(s)
        | IommufdError::IommuGetHwInfo(s) => Some(s.errno()),
        _ => None,
    }
}

fn vfio_errno(e: &VfioError) -> Option<i32> {
    match e {
        VfioError::VfioDeviceBindIommufd(s)
        | VfioError::VfioDeviceAttachIommufdPt(s)
        | VfioError::VfioDeviceDetachIommufdPt(s)
        | VfioError::VfioDeviceGetInfo(s)
        | VfioError::VfioDeviceGetRegionInfo(s) => Some(s.errno()),
        VfioError::IommufdIoctlError(e) | VfioError::NewVfioIommufd(e) => iommufd_errno(e),
        VfioError::OpenDeviceCdev(e) => e.raw_os_error(),
        _ => None,
    }
}

/// Fails unless `res` is an error with the errno `want`.
macro_rules! check_errno {
    ($want:expr, $errno:ident, $res:expr) => {{
        match $res {
            Ok(_) => {
                return Err(Failure(format!(
                    "{}:{}: {} succeeded, expected errno {}",
                    file!(),
                    line!(),
                    stringify!($res),
                    $want
                ))
                .into())
            }
            Err(e) => check_eq!(Some($want), $errno(&e)),
        }
    }};
}

fn read_sysfs(path: &Path) -> Option<String> {
    fs::read_to_string(path).ok().map(|s| s.trim().to_owned())
}

/// The edu device's sysfs directory, if the VM has one.
fn find_edu() -> Option<PathBuf> {
    fs::read_dir("/sys/bus/pci/devices")
        .ok()?
        .filter_map(|e| Some(e.ok()?.path()))
        .find(|p| {
            read_sysfs(&p.join("vendor")).as_deref() == Some(EDU_VENDOR)
                && read_sysfs(&p.join("device")).as_deref() == Some(EDU_DEVICE)
        })
}

/// Binds the device to vfio-pci through driver_override. Neither crate does
/// this (a VMM expects the device bound already): plain sysfs writes.
fn bind_vfio_pci(sysfs: &Path) -> std::io::Result<()> {
    let bdf = sysfs
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    if let Ok(drv) = fs::read_link(sysfs.join("driver")) {
        if drv.ends_with("vfio-pci") {
            return Ok(());
        }
        fs::write(sysfs.join("driver/unbind"), bdf)?;
    }
    fs::write(sysfs.join("driver_override"), "vfio-pci")?;
    fs::write("/sys/bus/pci/drivers_probe", bdf)
}

fn bar0_rd32(dev: &VfioDevice, off: u64) -> u32 {
    // region_read() only logs a failure: a failed read leaves all ones.
    let mut b = [0xff; 4];
    dev.region_read(VFIO_PCI_BAR0_REGION_INDEX, &mut b, off);
    u32::from_le_bytes(b)
}

fn bar0_wr32(dev: &VfioDevice, off: u64, val: u32) {
    // region_write() only logs a failure: the reads back catch one.
    dev.region_write(VFIO_PCI_BAR0_REGION_INDEX, &val.to_le_bytes(), off);
}

fn cfg_read<const N: usize>(dev: &VfioDevice, off: u64) -> [u8; N] {
    let mut b = [0xff; N];
    dev.region_read(VFIO_PCI_CONFIG_REGION_INDEX, &mut b, off);
    b
}

/// One edu DMA of len bytes between IOVA iova and the device's buffer, to
/// RAM if to_ram, the way the C test does it (32-bit register writes), and
/// the wait for the engine (it runs 100 ms after the command): whether it
/// finished within 10 s.
fn edu_dma(dev: &VfioDevice, iova: u64, len: u32, to_ram: bool) -> bool {
    let iova = iova as u32;
    let (src, dst) = if to_ram {
        (EDU_BUF, iova)
    } else {
        (iova, EDU_BUF)
    };
    bar0_wr32(dev, EDU_DMA_SRC, src);
    bar0_wr32(dev, EDU_DMA_DST, dst);
    bar0_wr32(dev, EDU_DMA_CNT, len);
    let dir = if to_ram { EDU_DMA_TO_RAM } else { 0 };
    bar0_wr32(dev, EDU_DMA_CMD, EDU_DMA_RUN | dir);
    for _ in 0..1000 {
        if bar0_rd32(dev, EDU_DMA_CMD) & EDU_DMA_RUN == 0 {
            return true;
        }
        sleep(Duration::from_millis(10));
    }
    false
}

fn pattern(seed: u8) -> Vec<u8> {
    (0..PSZ)
        .map(|i| (i as u8).wrapping_mul(7).wrapping_add(seed))
        .collect()
}

/// The first page of buf into the device and out again to the second: the
/// bytes arrive.
fn round_trip(dev: &VfioDevice, buf: &Buffer, seed: u8) -> TestResult {
    let want = pattern(seed);
    buf.write(0, &want);
    buf.write(PSZ, &[0; PSZ]);
    check!(edu_dma(dev, IOVA, PSZ as u32, false));
    check!(edu_dma(dev, IOVA + PSZ as u64, PSZ as u32, true));
    check!(buf.read(PSZ, PSZ) == want);
    Ok(())
}

/// A DMA out of the device to the second page: nothing arrives.
fn dma_blocked(dev: &VfioDevice, buf: &Buffer) -> TestResult {
    buf.write(PSZ, &[0x5a; PSZ]);
    check!(edu_dma(dev, IOVA + PSZ as u64, PSZ as u32, true));
    check!(buf.read(PSZ, PSZ).iter().all(|&b| b == 0x5a));
    Ok(())
}

type Test = (&'static str, fn(&mut Ctx) -> TestResult);

pub fn all() -> Vec<Test> {
    vec![
        ("edu_bound_to_vfio_pci", edu_bound_to_vfio_pci),
        ("iommufd_ioas_alloc", iommufd_ioas_alloc),
        ("ioas_map_unmap", ioas_map_unmap),
        ("cdev_bind_attach", cdev_bind_attach),
        ("config_space", config_space),
        ("bar_regions", bar_regions),
        ("hw_info", hw_info),
        ("dma_through_ioas", dma_through_ioas),
        ("dma_after_unmap", dma_after_unmap),
        ("pasid_without_capability", pasid_without_capability),
        (
            "pasid_hwpt_without_capability",
            pasid_hwpt_without_capability,
        ),
        ("detach_blocks_dma", detach_blocks_dma),
        ("unbind_on_close", unbind_on_close),
        ("ioas_destroy_and_close", ioas_destroy_and_close),
    ]
}

/// The edu device, bound to the kernel's vfio-pci.
fn edu_bound_to_vfio_pci(ctx: &mut Ctx) -> TestResult {
    let Some(sysfs) = find_edu() else {
        let why = "no edu device (boot the VM with VM_EDU=1)".to_owned();
        ctx.skip = Some(why.clone());
        return Err(NotPassed::Skipped(why));
    };
    if !Path::new("/sys/bus/pci/drivers/vfio-pci").exists() {
        let why = "vfio-pci is not loaded".to_owned();
        ctx.skip = Some(why.clone());
        return Err(NotPassed::Skipped(why));
    }
    check_ok!(bind_vfio_pci(&sysfs));
    let drv = check_ok!(fs::read_link(sysfs.join("driver")));
    check!(drv.ends_with("vfio-pci"));
    // The cdev of the device, as the crate finds it.
    drop(check_ok!(VfioDevice::open_cdev(&sysfs)));
    ctx.sysfs = Some(sysfs);
    Ok(())
}

/// /dev/iommu through IommuFd::new(), an IOAS, and the VfioIommufd over
/// both, as cloud-hypervisor makes its vfio_ops (without a KVM device).
fn iommufd_ioas_alloc(ctx: &mut Ctx) -> TestResult {
    need(&ctx.skip, &ctx.sysfs, "edu device")?;
    let iommufd = Arc::new(check_ok!(IommuFd::new()));
    let ioas = check_ok!(IommufdIoas::new(Arc::clone(&iommufd)));
    check!(ioas.id() != 0);
    ctx.ioas_id = ioas.id();
    // An object id that does not exist.
    check_errno!(
        libc::ENOENT,
        iommufd_errno,
        iommufd.destroy_iommu_object(0x7fff_0000)
    );
    let vfio = check_ok!(VfioIommufd::new(
        Arc::clone(&iommufd),
        Some(Arc::new(ioas)),
        None
    ));
    check_eq!(ctx.ioas_id, vfio.ioas().id());
    ctx.iommufd = Some(iommufd);
    ctx.vfio = Some(Arc::new(vfio));
    Ok(())
}

/// vfio_dma_map/vfio_dma_unmap on the IOAS before any device: a fixed IOVA
/// taken is EEXIST, nothing to unmap ENOENT; the buffer ends up mapped.
fn ioas_map_unmap(ctx: &mut Ctx) -> TestResult {
    let vfio = need(&ctx.skip, &ctx.vfio, "VfioIommufd")?;
    let buf = check_ok!(Buffer::new(2 * PSZ).ok_or("mmap failed"));
    // SAFETY: buf is only touched through volatile accesses by raw pointer
    // while mapped, and stays mapped in this process until it is dropped,
    // after the IOAS is destroyed.
    check_ok!(unsafe { vfio.vfio_dma_map(IOVA, 2 * PSZ, buf.ptr) });
    // SAFETY: as above.
    check_errno!(libc::EEXIST, vfio_errno, unsafe {
        vfio.vfio_dma_map(IOVA + PSZ as u64, PSZ, buf.ptr)
    });
    check_ok!(vfio.vfio_dma_unmap(IOVA, 2 * PSZ));
    check_errno!(libc::ENOENT, vfio_errno, vfio.vfio_dma_unmap(IOVA, 2 * PSZ));
    // SAFETY: as above.
    check_ok!(unsafe { vfio.vfio_dma_map(IOVA, 2 * PSZ, buf.ptr) });
    ctx.buf = Some(buf);
    Ok(())
}

/// VfioDevice::new() on the sysfs path, with the IOAS to attach: it opens
/// /dev/vfio/devices/vfioN, binds it to the iommufd and attaches it. A
/// second file of the open device cannot bind.
fn cdev_bind_attach(ctx: &mut Ctx) -> TestResult {
    let sysfs = need(&ctx.skip, &ctx.sysfs, "edu device")?;
    let vfio = need(&ctx.skip, &ctx.vfio, "VfioIommufd")?;
    let ops = Arc::clone(vfio) as Arc<dyn VfioOps>;
    let dev = check_ok!(VfioDevice::new(sysfs, Arc::clone(&ops), true));
    let dev_id = check_ok!(dev.iommufd_dev_id().ok_or("no iommufd device id"));
    check!(dev_id != 0);
    check!(dev_id != ctx.ioas_id);
    ctx.dev = Some(dev);
    ctx.dev_id = dev_id;
    check_errno!(libc::EINVAL, vfio_errno, VfioDevice::new(sysfs, ops, false));
    Ok(())
}

/// Config space through the crate's region reads and writes: the IDs and
/// class sysfs shows, and bus mastering turned on (or the DMA goes nowhere).
fn config_space(ctx: &mut Ctx) -> TestResult {
    let sysfs = need(&ctx.skip, &ctx.sysfs, "edu device")?;
    let dev = need(&ctx.skip, &ctx.dev, "VfioDevice")?;
    let cfg = VFIO_PCI_CONFIG_REGION_INDEX;
    check!(dev.get_region_size(cfg) >= 256);
    let rw = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE;
    check_eq!(rw, dev.get_region_flags(cfg) & rw);

    check_eq!(0x1234, u16::from_le_bytes(cfg_read(dev, 0)));
    check_eq!(0x11e8, u16::from_le_bytes(cfg_read(dev, 2)));
    let class = read_sysfs(&sysfs.join("class")).unwrap_or_default();
    let [_, lo, mid, hi] = cfg_read::<4>(dev, 8);
    check_eq!(class, format!("0x{hi:02x}{mid:02x}{lo:02x}"));

    let cmd = u16::from_le_bytes(cfg_read(dev, 4)) | 0x4;
    dev.region_write(cfg, &cmd.to_le_bytes(), 4);
    check_eq!(0x4, u16::from_le_bytes(cfg_read(dev, 4)) & 0x4);
    Ok(())
}

/// The BARs and interrupts the crate read at VfioDevice::new(): edu's 1 MiB
/// BAR0 and nothing else, INTx and one MSI vector; BAR0's ID and liveness
/// registers through region reads and writes.
fn bar_regions(ctx: &mut Ctx) -> TestResult {
    let dev = need(&ctx.skip, &ctx.dev, "VfioDevice")?;
    let bar0 = VFIO_PCI_BAR0_REGION_INDEX;
    check_eq!(1 << 20, dev.get_region_size(bar0));
    let rw = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE;
    check_eq!(rw, dev.get_region_flags(bar0) & rw);
    for bar in bar0 + 1..=VFIO_PCI_BAR5_REGION_INDEX {
        check_eq!(0, dev.get_region_size(bar));
    }
    check_eq!(
        Some(1),
        dev.get_irq_info(VFIO_PCI_INTX_IRQ_INDEX).map(|i| i.count)
    );
    check_eq!(
        Some(1),
        dev.get_irq_info(VFIO_PCI_MSI_IRQ_INDEX).map(|i| i.count)
    );

    check_eq!(0x010000ed, bar0_rd32(dev, EDU_ID));
    bar0_wr32(dev, EDU_LIVENESS, 0x1234_5678);
    check_eq!(!0x1234_5678u32, bar0_rd32(dev, EDU_LIVENESS));
    Ok(())
}

/// IOMMU_GET_HW_INFO through IommuFd::get_hw_info() (the crate's verb takes
/// the raw structure) and device_hw_info() (its SMMUv3 wrapper): VT-d's
/// registers, no PASID and no ATS on edu; a larger buffer's tail zeroed;
/// another type than the IOMMU's asked for is EOPNOTSUPP.
fn hw_info(ctx: &mut Ctx) -> TestResult {
    let iommufd = need(&ctx.skip, &ctx.iommufd, "iommufd")?;
    need(&ctx.skip, &ctx.dev, "VfioDevice")?;
    let mut vtd = iommu_hw_info_vtd::default();
    let mut info = iommu_hw_info {
        size: size_of::<iommu_hw_info>() as u32,
        flags: 0,
        dev_id: ctx.dev_id,
        data_len: size_of::<iommu_hw_info_vtd>() as u32,
        data_uptr: &mut vtd as *mut _ as u64,
        __bindgen_anon_1: iommu_hw_info__bindgen_ty_1 { in_data_type: 0 },
        out_max_pasid_log2: 0,
        __reserved: [0; 3],
        out_capabilities: 0,
    };
    check_ok!(iommufd.get_hw_info(&mut info));
    // SAFETY: the union holds one u32 under either name.
    let data_type = unsafe { info.__bindgen_anon_1.out_data_type };
    check_eq!(iommu_hw_info_type_IOMMU_HW_INFO_TYPE_INTEL_VTD, data_type);
    check_eq!(size_of::<iommu_hw_info_vtd>() as u32, info.data_len);
    check!(vtd.cap_reg != 0);
    check!(vtd.ecap_reg != 0);
    check_eq!(0, info.out_max_pasid_log2);
    check_eq!(
        iommufd_hw_capabilities_IOMMU_HW_CAP_PCI_ATS_NOT_SUPPORTED as u64,
        info.out_capabilities
    );

    // The SMMUv3 wrapper on VT-d: 24 bytes of VT-d data in a 40-byte
    // buffer, the rest zeroed.
    let mut smmu = iommu_hw_info_arm_smmuv3 {
        idr: [0xa5a5_a5a5; 6],
        iidr: 0xa5a5_a5a5,
        aidr: 0xa5a5_a5a5,
        ..Default::default()
    };
    let mut data = IommufdHwInfoData::Smmuv3(smmu);
    let got = check_ok!(iommufd.device_hw_info(ctx.dev_id, &mut data));
    let IommufdHwInfoData::Smmuv3(filled) = data;
    smmu = filled;
    // SAFETY: as above.
    check_eq!(iommu_hw_info_type_IOMMU_HW_INFO_TYPE_INTEL_VTD, unsafe {
        got.__bindgen_anon_1.out_data_type
    });
    check_eq!(size_of::<iommu_hw_info_vtd>() as u32, got.data_len);
    check_eq!(
        vtd.cap_reg,
        u64::from(smmu.idr[0]) | (u64::from(smmu.idr[1]) << 32)
    );
    check_eq!(
        [0, 0, 0, 0],
        [smmu.idr[4], smmu.idr[5], smmu.iidr, smmu.aidr]
    );

    info.flags = iommufd_hw_info_flags_IOMMU_HW_INFO_FLAG_INPUT_TYPE;
    info.__bindgen_anon_1.in_data_type = iommu_hw_info_type_IOMMU_HW_INFO_TYPE_ARM_SMMUV3;
    check_errno!(
        libc::EOPNOTSUPP,
        iommufd_errno,
        iommufd.get_hw_info(&mut info)
    );
    Ok(())
}

/// The edu DMA engine from the IOVA into the device and back out to the
/// next page: the bytes arrive through the IOAS.
fn dma_through_ioas(ctx: &mut Ctx) -> TestResult {
    let dev = need(&ctx.skip, &ctx.dev, "VfioDevice")?;
    let buf = need(&ctx.skip, &ctx.buf, "mapped buffer")?;
    round_trip(dev, buf, 3)
}

/// Unmapped, the IOVA no longer reaches the buffer; mapped again, it does.
fn dma_after_unmap(ctx: &mut Ctx) -> TestResult {
    let dev = need(&ctx.skip, &ctx.dev, "VfioDevice")?;
    let buf = need(&ctx.skip, &ctx.buf, "mapped buffer")?;
    let vfio = need(&ctx.skip, &ctx.vfio, "VfioIommufd")?;
    check_ok!(vfio.vfio_dma_unmap(IOVA, 2 * PSZ));
    dma_blocked(dev, buf)?;
    // SAFETY: see ioas_map_unmap().
    check_ok!(unsafe { vfio.vfio_dma_map(IOVA, 2 * PSZ, buf.ptr) });
    round_trip(dev, buf, 11)
}

/// The crate's PASID verbs on edu, which has no PASID capability: attaching
/// a PASID fails with the errno of the C iommufd; detaching a PASID never
/// attached is no error (vfio ignores it); the device's own attach stays.
fn pasid_without_capability(ctx: &mut Ctx) -> TestResult {
    let dev = need(&ctx.skip, &ctx.dev, "VfioDevice")?;
    let buf = need(&ctx.skip, &ctx.buf, "mapped buffer")?;
    check_errno!(
        libc::EINVAL,
        vfio_errno,
        dev.attach_iommufd_pt_pasid(ctx.ioas_id, 1)
    );
    check_ok!(dev.detach_iommufd_pt_pasid(1));
    round_trip(dev, buf, 17)
}

/// A PASID-compatible HWPT (IOMMU_HWPT_ALLOC_PASID) through the crate's
/// alloc_iommu_hwpt() verb, which takes the raw structure: VT-d makes one
/// for edu, the device's RID moves to it with attach_hwpt() and its DMA
/// goes on. A PASID attached to it succeeds with the C iommufd although
/// edu has no PASID capability (the IOMMU core checks the PASID's range
/// only on devices with PASIDs, and VT-d in scalable mode has a PASID table
/// for every device); while it is attached, the RID cannot go back to the
/// IOAS, whose automatic HWPT is not PASID-compatible (EINVAL). PASID
/// detached, the RID goes back and the HWPT can be destroyed.
fn pasid_hwpt_without_capability(ctx: &mut Ctx) -> TestResult {
    let iommufd = need(&ctx.skip, &ctx.iommufd, "iommufd")?;
    let dev = need(&ctx.skip, &ctx.dev, "VfioDevice")?;
    let buf = need(&ctx.skip, &ctx.buf, "mapped buffer")?;
    let mut alloc = iommu_hwpt_alloc {
        size: size_of::<iommu_hwpt_alloc>() as u32,
        flags: iommufd_hwpt_alloc_flags_IOMMU_HWPT_ALLOC_PASID,
        dev_id: ctx.dev_id,
        pt_id: ctx.ioas_id,
        ..Default::default()
    };
    check_ok!(iommufd.alloc_iommu_hwpt(&mut alloc));
    let hwpt = alloc.out_hwpt_id;
    check!(hwpt != 0);
    let res = pasid_hwpt_steps(iommufd, dev, buf, ctx.ioas_id, hwpt);
    // Whatever failed, the steps after find no PASID, the RID on the IOAS
    // and no HWPT holding the IOAS.
    let _ = dev.detach_iommufd_pt_pasid(1);
    let back = dev.attach_hwpt(ctx.ioas_id);
    let destroyed = iommufd.destroy_iommu_object(hwpt);
    res?;
    check_ok!(back);
    check_ok!(destroyed);
    round_trip(dev, buf, 27)
}

fn pasid_hwpt_steps(
    iommufd: &IommuFd,
    dev: &VfioDevice,
    buf: &Buffer,
    ioas_id: u32,
    hwpt: u32,
) -> TestResult {
    check_ok!(dev.attach_hwpt(hwpt));
    round_trip(dev, buf, 23)?;
    check_ok!(dev.attach_iommufd_pt_pasid(hwpt, 1));
    let rid_back = dev.attach_hwpt(ioas_id);
    let pasid_detach = dev.detach_iommufd_pt_pasid(1);
    check_errno!(libc::EINVAL, vfio_errno, rid_back);
    check_ok!(pasid_detach);
    // Attached, the HWPT cannot go.
    check_errno!(
        libc::EBUSY,
        iommufd_errno,
        iommufd.destroy_iommu_object(hwpt)
    );
    Ok(())
}

/// detach_hwpt(): the device is blocked, its DMA reaches nothing; attached
/// again by the IOAS id through attach_hwpt(), it does; detached for the
/// close.
fn detach_blocks_dma(ctx: &mut Ctx) -> TestResult {
    let dev = need(&ctx.skip, &ctx.dev, "VfioDevice")?;
    let buf = need(&ctx.skip, &ctx.buf, "mapped buffer")?;
    check_ok!(dev.detach_hwpt());
    dma_blocked(dev, buf)?;
    check_ok!(dev.attach_hwpt(ctx.ioas_id));
    round_trip(dev, buf, 29)?;
    check_ok!(dev.detach_hwpt());
    Ok(())
}

/// Dropping the VfioDevice closes the cdev, which unbinds it: its object is
/// gone from the iommufd, and the device binds afresh.
fn unbind_on_close(ctx: &mut Ctx) -> TestResult {
    let sysfs = need(&ctx.skip, &ctx.sysfs, "edu device")?;
    let iommufd = need(&ctx.skip, &ctx.iommufd, "iommufd")?;
    let vfio = need(&ctx.skip, &ctx.vfio, "VfioIommufd")?;
    need(&ctx.skip, &ctx.dev, "VfioDevice")?;
    // A bound device cannot be destroyed by its id.
    check_errno!(
        libc::EBUSY,
        iommufd_errno,
        iommufd.destroy_iommu_object(ctx.dev_id)
    );
    drop(ctx.dev.take());
    check_errno!(
        libc::ENOENT,
        iommufd_errno,
        iommufd.destroy_iommu_object(ctx.dev_id)
    );
    let ops = Arc::clone(vfio) as Arc<dyn VfioOps>;
    let again = check_ok!(VfioDevice::new(sysfs, ops, false));
    let id = check_ok!(again.iommufd_dev_id().ok_or("no iommufd device id"));
    check!(id != 0);
    drop(again);
    check_errno!(
        libc::ENOENT,
        iommufd_errno,
        iommufd.destroy_iommu_object(id)
    );
    Ok(())
}

/// The VMM's exit: the VfioIommufd dropped destroys its IOAS with the
/// buffer still mapped, the iommufd closes, then the memory goes.
fn ioas_destroy_and_close(ctx: &mut Ctx) -> TestResult {
    need(&ctx.skip, &ctx.vfio, "VfioIommufd")?;
    let iommufd = need(&ctx.skip, &ctx.iommufd, "iommufd")?;
    check!(ctx.dev.is_none());
    let vfio = ctx.vfio.take().unwrap();
    check_eq!(1, Arc::strong_count(&vfio));
    drop(vfio);
    check_errno!(
        libc::ENOENT,
        iommufd_errno,
        iommufd.destroy_iommu_object(ctx.ioas_id)
    );
    let iommufd = ctx.iommufd.take().unwrap();
    check_ok!(Arc::try_unwrap(iommufd).map_err(|_| "iommufd still shared"));
    drop(ctx.buf.take());
    Ok(())
}
