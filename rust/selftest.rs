// SPDX-License-Identifier: GPL-2.0

//! `IOMMU_TEST_CMD`, the selftest command ABI of upstream's
//! `drivers/iommu/iommufd/iommufd_test.h`, so that upstream's selftests can
//! drive this module. Ops are added as the features they test arrive; an op
//! not implemented yet is `EOPNOTSUPP`, as upstream answers an unknown op.

#![deny(unsafe_code)]

use kernel::{
    alloc::flags::GFP_KERNEL_ACCOUNT,
    prelude::*,
    uaccess::{
        UserPtr,
        UserSlice, //
    },
};

use kernel::{
    new_mutex,
    sync::{
        atomic::{
            Atomic,
            Relaxed, //
        },
        Arc,
        Mutex, //
    },
};

use crate::{
    access::{
        Access,
        Expect,
        MAX_PIN_LENGTH, //
    },
    device::Device,
    glue,
    hw_pagetable::{
        Hwpt,
        HwptKind, //
    },
    ictx::Ictx,
    io_pagetable::ReservedBy,
    ioas::Ioas,
    iova::{
        IovaRange,
        PAGE_SIZE, //
    },
    mock::{
        self,
        MockBoundDev,
        MockDev,
        MockDomain, //
    },
    object::{
        ObjRef,
        ObjectKind,
        ObjectType, //
    },
    pasid_attach::NO_PASID,
    uapi::*,
    ucmd::{
        copy_struct_from_user,
        UserCmdBuf, //
    },
};
use core::mem::size_of;
use kernel::transmute::AsBytes;

/// The smallest batch memory limit upstream accepts: one `unsigned long`
/// and one `u32`.
const MIN_MEMORY_LIMIT: u32 = 12;

/// `IOMMU_TEST_CMD`.
pub(crate) fn test_cmd_ioctl<'a>(
    ictx: &'a Ictx,
    buf: &mut UserCmdBuf<'a>,
    mut cmd: TestCmd,
) -> Result {
    match cmd.op {
        IOMMU_TEST_OP_CREATE_ACCESS => {
            let mut create = cmd.create_access();
            let flags = create.flags;
            if flags & !MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES != 0 {
                return Err(EOPNOTSUPP);
            }
            let ioas = ictx.objects.get::<Ioas>(cmd.id)?;
            let fd = Access::create(
                ioas,
                buf.file(),
                flags & MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES != 0,
            )?;
            create.out_access_fd = fd.fd() as u32;
            cmd.set_create_access(create);
            buf.respond(&cmd)?;
            fd.install();
            Ok(())
        }
        IOMMU_TEST_OP_ACCESS_PAGES => {
            let mut a = cmd.access_pages();
            // Checked first, as upstream, to keep huge requests cheap.
            if a.length > MAX_PIN_LENGTH {
                return Err(ENOMEM);
            }
            if a.flags & !(MOCK_FLAGS_ACCESS_WRITE | MOCK_FLAGS_ACCESS_SYZ) != 0 {
                return Err(EOPNOTSUPP);
            }
            let write = a.flags & MOCK_FLAGS_ACCESS_WRITE != 0;
            Access::with_fd(cmd.id, |access| {
                let id = access.pin_pages(a.iova, a.length, a.uptr, write)?;
                a.out_access_pages_id = id;
                cmd.set_access_pages(a);
                if let Err(e) = buf.respond(&cmd) {
                    // Ignoring a second failure: the item is gone either way.
                    let _ = access.destroy_item(id);
                    return Err(e);
                }
                Ok(())
            })
        }
        IOMMU_TEST_OP_ACCESS_RW => {
            let a = cmd.access_rw();
            if a.length > MAX_PIN_LENGTH {
                return Err(ENOMEM);
            }
            let known = MOCK_ACCESS_RW_WRITE | MOCK_ACCESS_RW_SLOW_PATH | MOCK_FLAGS_ACCESS_SYZ;
            if a.flags & !known != 0 {
                return Err(EOPNOTSUPP);
            }
            let write = a.flags & MOCK_ACCESS_RW_WRITE != 0;
            let slow = a.flags & MOCK_ACCESS_RW_SLOW_PATH != 0;
            Access::with_fd(cmd.id, |access| access_rw(access, &a, write, slow))
        }
        // The IOAS id is the access's file's, whichever file the command
        // came through, as upstream's access_replace resolves it.
        IOMMU_TEST_OP_ACCESS_REPLACE_IOAS => Access::with_fd_arc(cmd.id, |access| {
            let id = cmd.access_replace_ioas().ioas_id;
            access.change_ioas(Expect::Any, || {
                let own = access.ictx_file();
                Ok(Some(glue::with_ictx(own, |o| o.objects.get::<Ioas>(id))?))
            })
        }),
        IOMMU_TEST_OP_DESTROY_ACCESS_PAGES => {
            let id = cmd.destroy_access_pages().access_pages_id;
            Access::with_fd(cmd.id, |access| access.destroy_item(id))
        }
        IOMMU_TEST_OP_ADD_RESERVED => {
            let r = cmd.add_reserved();
            add_reserved(ictx, cmd.id, r.start, r.length)
        }
        IOMMU_TEST_OP_MD_CHECK_REFS => {
            let c = cmd.check_refs();
            check_refs(c.uptr, c.length, c.refs)
        }
        IOMMU_TEST_OP_MOCK_DOMAIN | IOMMU_TEST_OP_MOCK_DOMAIN_FLAGS => {
            let flags = if cmd.op == IOMMU_TEST_OP_MOCK_DOMAIN_FLAGS {
                cmd.mock_domain_flags().dev_flags
            } else {
                0
            };
            MockDevice::create(ictx, buf, cmd, flags)
        }
        IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE => {
            let m = ictx.objects.get::<MockDevice>(cmd.id)?;
            let dev = m.device()?;
            let mut r = cmd.mock_domain_replace();
            r.pt_id = dev.replace(ictx, NO_PASID, r.pt_id)?;
            cmd.set_mock_domain_replace(r);
            buf.respond(&cmd)
        }
        IOMMU_TEST_OP_MD_CHECK_MAP => {
            let c = cmd.check_map();
            check_map(ictx, cmd.id, c.iova, c.length, c.uptr)
        }
        IOMMU_TEST_OP_DIRTY => {
            let mut d = cmd.dirty();
            d.out_nr_dirty = mark_dirty(ictx, cmd.id, d.iova, d.length, d.page_size, d.uptr)?;
            cmd.set_dirty(d);
            buf.respond(&cmd)
        }
        IOMMU_TEST_OP_MD_CHECK_IOTLB => {
            let hwpt = ictx.objects.get::<Hwpt>(cmd.id)?;
            if hwpt.is_paging() {
                return Err(ENOENT);
            }
            let c = cmd.check_iotlb();
            if hwpt.domain.mock_iotlb(c.id)? != c.iotlb {
                return Err(EINVAL);
            }
            Ok(())
        }
        IOMMU_TEST_OP_DEV_CHECK_CACHE => {
            let dev = ictx.objects.get::<Device>(cmd.id)?;
            let c = cmd.check_dev_cache();
            if dev.with_bound(|b| b.mock_cache(c.id))? != c.cache {
                return Err(EINVAL);
            }
            Ok(())
        }
        IOMMU_TEST_OP_TRIGGER_IOPF => {
            let t = cmd.trigger_iopf();
            let dev = ictx.objects.get::<Device>(t.dev_id)?;
            dev.with_bound(|b| b.mock_trigger_iopf(t.pasid, t.grpid, t.perm, t.addr))
        }
        IOMMU_TEST_OP_PASID_ATTACH => {
            let m = ictx.objects.get::<MockDevice>(cmd.id)?;
            let dev = m.device()?;
            let mut a = cmd.pasid_attach();
            let pasid = a.pasid;
            a.pt_id = dev.attach(ictx, pasid, a.pt_id)?;
            cmd.set_pasid_attach(a);
            if let Err(e) = buf.respond(&cmd) {
                dev.detach(ictx, pasid);
                return Err(e);
            }
            Ok(())
        }
        IOMMU_TEST_OP_PASID_REPLACE => {
            let m = ictx.objects.get::<MockDevice>(cmd.id)?;
            let dev = m.device()?;
            let mut r = cmd.pasid_replace();
            r.pt_id = dev.replace(ictx, r.pasid, r.pt_id)?;
            cmd.set_pasid_replace(r);
            buf.respond(&cmd)
        }
        IOMMU_TEST_OP_PASID_DETACH => {
            let m = ictx.objects.get::<MockDevice>(cmd.id)?;
            m.device()?.detach(ictx, cmd.pasid_detach().pasid);
            Ok(())
        }
        IOMMU_TEST_OP_PASID_CHECK_HWPT => {
            let m = ictx.objects.get::<MockDevice>(cmd.id)?;
            let dev = m.device()?;
            let iommu_test_pasid_check { pasid, hwpt_id } = cmd.pasid_check();
            let ok = if hwpt_id == 0 {
                dev.attached_is(pasid, None)?
            } else {
                let hwpt = ictx.objects.get_typed::<Hwpt>(hwpt_id)?;
                dev.attached_is(pasid, Some(&hwpt))?
            };
            if ok {
                Ok(())
            } else {
                Err(EINVAL)
            }
        }
        IOMMU_RS_TEST_OP_MEDIATE_PASID => {
            let m = ictx.objects.get::<MockDevice>(cmd.id)?;
            let mut p: IommuRsTestMediatePasid = cmd.rs_payload().ok_or(EINVAL)?;
            p.out_dev_pasid = m.mediate_pasid_write(p.vpasid)?;
            cmd.set_rs_payload(&p)?;
            buf.respond(&cmd)
        }
        IOMMU_TEST_OP_SET_TEMP_MEMORY_LIMIT => {
            // Sizes upstream's batch buffers; this module has none.
            if cmd.memory_limit().limit < MIN_MEMORY_LIMIT {
                return Err(EINVAL);
            }
            Ok(())
        }
        _ => Err(EOPNOTSUPP),
    }
}

/// A selftest device: a mock IOMMU device bound to the file, as
/// `IOMMU_TEST_OP_MOCK_DOMAIN` makes it. Destroying it detaches and unbinds
/// the device, which then disappears.
#[pin_data]
pub(crate) struct MockDevice {
    /// The bound device, as the driver holds it: userspace cannot destroy
    /// the device object while this reference lives.
    #[pin]
    dev: Mutex<Option<Binding>>,
    /// The device-side PASID register: the PASID the device tags its DMA
    /// with, as its (mediating) driver last wrote it.
    pasid_reg: Atomic<u32>,
    /// Dropped last: the device is unbound before it is unregistered.
    mock: MockDev,
}

impl ObjectType for MockDevice {
    fn cast(kind: &ObjectKind) -> Option<&Arc<Self>> {
        match kind {
            ObjectKind::MockDevice(m) => Some(m),
            _ => None,
        }
    }
}

impl MockDevice {
    /// The bound device: `ENOENT` once the selftest device is destroyed.
    fn device(&self) -> Result<ObjRef<Device>> {
        self.dev.lock().as_ref().ok_or(ENOENT)?.0.clone_ref()
    }

    /// The guest writes `vpasid` to the device's PASID register; the
    /// mediation path writes what the vPASID translates to on this device,
    /// as a variant driver would through the in-kernel lookup. Returns the
    /// register. `ENOENT`, the register unchanged, without a translation.
    fn mediate_pasid_write(&self, vpasid: u32) -> Result<u32> {
        let dev = self.device()?;
        let ppasid = crate::vpasid::lookup(&dev, vpasid)?;
        self.pasid_reg.store(ppasid, Relaxed);
        Ok(self.pasid_reg.load(Relaxed))
    }

    /// `IOMMU_TEST_OP_MOCK_DOMAIN(_FLAGS)`: a mock device with `flags`,
    /// bound and attached to `cmd.id` (an IOAS or a HWPT).
    fn create<'a>(
        ictx: &'a Ictx,
        buf: &mut UserCmdBuf<'a>,
        mut cmd: TestCmd,
        flags: u32,
    ) -> Result {
        let mock = MockDev::new(flags)?;
        // Made before the device is bound, so that no failure can drop the
        // mock device while it is bound.
        let m = Arc::pin_init(
            pin_init!(MockDevice {
                dev <- new_mutex!(None),
                pasid_reg: Atomic::new(0),
                mock,
            }),
            GFP_KERNEL_ACCOUNT,
        )?;
        let dev = Device::bind(ictx, m.mock.dev())?;
        let id = dev.id();
        let attached = dev.attach(ictx, NO_PASID, cmd.id);
        *m.dev.lock() = Some(Binding(dev));
        let res = attached.and_then(|hwpt_id| {
            let mut md = cmd.mock_domain_flags();
            md.out_stdev_id =
                buf.set_new_obj(ictx.objects.reserve(ObjectKind::MockDevice(m.clone()))?);
            md.out_hwpt_id = hwpt_id;
            md.out_idev_id = id;
            cmd.set_mock_domain_flags(md);
            buf.respond(&cmd)
        });
        if res.is_err() {
            m.destroy(ictx);
        }
        res
    }

    /// Detaches and unbinds the device and destroys its object, with the
    /// file at hand. Later calls do nothing.
    pub(crate) fn destroy(&self, ictx: &Ictx) {
        let Some(binding) = self.dev.lock().take() else {
            return;
        };
        let dev = &binding.0;
        let id = dev.id();
        dev.unbind(Some(ictx));
        // Removed by identity, not by id alone: once our reference is gone
        // the id could be another object's. Short-term users (an ioctl
        // looking the device up) are waited for, a while, as upstream waits.
        let weak = dev.downgrade();
        // Unbound already: dropping the binding only drops the reference.
        drop(binding);
        // Still in use after the wait: the file's teardown takes it.
        let _ = ictx.objects.destroy_wait(&weak, |d: &Device| d.id() == id);
    }
}

/// The driver's reference to a mock device's object: dropping it unbinds
/// the device. Without the file at hand (it is closing), the table's
/// teardown takes what is left.
struct Binding(ObjRef<Device>);

impl Drop for Binding {
    fn drop(&mut self) {
        self.0.unbind(None);
    }
}

/// `IOMMU_TEST_OP_MD_CHECK_MAP`: checks that the mock paging HWPT `id`
/// translates each page of `[iova, iova + length)` to the memory at `uptr`.
fn check_map(ictx: &Ictx, id: u32, iova: u64, length: u64, uptr: u64) -> Result {
    let hwpt = ictx.objects.get::<Hwpt>(id)?;
    if !hwpt.is_paging() {
        return Err(ENOENT);
    }
    if !hwpt.domain.is_mock_paging() {
        return Err(EINVAL);
    }
    let step = 1u64 << hwpt.domain.geometry().pgsizes.trailing_zeros();
    if iova % step != 0
        || length % step != 0
        || uptr % step != 0
        || uptr.checked_add(length).is_none()
    {
        return Err(EINVAL);
    }
    let HwptKind::Paging { ioas, .. } = &hwpt.kind else {
        return Err(ENOENT);
    };
    let (mut iova, mut uptr) = (iova, uptr);
    for _ in 0..length / step {
        let want = mock::user_phys(usize::try_from(uptr).map_err(|_| EFAULT)?)?;
        // The walk holds the page table's lock, under which unmaps free the
        // domain's tables; the user page is looked up before, without it.
        let got = {
            let _iopt = ioas.iopt.lock();
            hwpt.domain.iova_to_phys(iova)
        };
        if got != want {
            return Err(EINVAL);
        }
        iova = iova.wrapping_add(step);
        uptr = uptr.wrapping_add(step);
    }
    Ok(())
}

/// `IOMMU_TEST_OP_DIRTY`: marks written, in mock paging HWPT `id`, each
/// `page_size` page of `[iova, iova + length)` whose bit is set in the user
/// bitmap at `uptr`, as a device would. Returns how many.
fn mark_dirty(
    ictx: &Ictx,
    id: u32,
    iova: u64,
    length: u64,
    page_size: u64,
    uptr: u64,
) -> Result<u64> {
    if page_size == 0
        || length == 0
        || iova % page_size != 0
        || length % page_size != 0
        || uptr == 0
    {
        return Err(EINVAL);
    }
    let max = length / page_size;
    if max > (16 << 20) * 8 {
        return Err(EOVERFLOW);
    }
    let hwpt = ictx.objects.get::<Hwpt>(id)?;
    if !hwpt.is_paging() {
        return Err(ENOENT);
    }
    if !hwpt.domain.is_mock_paging() || !hwpt.domain.mock_dirty_tracking() {
        return Err(EINVAL);
    }
    let nbytes = usize::try_from(max.div_ceil(8)).map_err(|_| ENOMEM)?;
    let mut bits = KVVec::from_elem(0u8, nbytes, GFP_KERNEL_ACCOUNT)?;
    let addr = usize::try_from(uptr).map_err(|_| EFAULT)?;
    UserSlice::new(UserPtr::from_addr(addr), nbytes)
        .reader()
        .read_slice(&mut bits)?;
    let HwptKind::Paging { ioas, .. } = &hwpt.kind else {
        return Err(ENOENT);
    };
    // As a dirty read does, under the page table's lock: an unmap frees the
    // domain's tables under it.
    let _iopt = ioas.iopt.lock();
    let mut count = 0;
    for i in 0..max {
        let byte = bits.get((i / 8) as usize).copied().unwrap_or(0);
        if byte & (1 << (i % 8)) == 0 {
            continue;
        }
        // As upstream, a page the domain does not map is counted all the
        // same: the mark is the device's, whatever the table says.
        let _ = hwpt.domain.mock_set_dirty(iova.wrapping_add(i * page_size));
        count += 1;
    }
    Ok(count)
}

/// Reserves `length` bytes at `start` in IOAS `id`.
fn add_reserved(ictx: &Ictx, id: u32, start: u64, length: u64) -> Result {
    let range = IovaRange::from_len(start, length)?;
    let ioas = ictx.objects.get::<Ioas>(id)?;
    let mut iopt = ioas.iopt.lock();
    iopt.reserve(range, ReservedBy::Test)
}

/// Checks that every page of `[uptr, uptr + length)` carries `refs`
/// long-term pins: `EIO` at the first that does not.
fn check_refs(uptr: u64, length: u64, refs: u32) -> Result {
    if length % PAGE_SIZE != 0 || uptr % PAGE_SIZE != 0 || uptr.checked_add(length).is_none() {
        return Err(EINVAL);
    }
    let mut addr = usize::try_from(uptr).map_err(|_| EINVAL)?;
    for _ in 0..length / PAGE_SIZE {
        if mock::page_pins(addr)? != refs {
            return Err(EIO);
        }
        addr = addr.wrapping_add(PAGE_SIZE as usize);
    }
    Ok(())
}

/// `IOMMU_TEST_OP_ACCESS_RW`: moves `length` bytes between userspace's
/// `uptr` and the IOAS at `iova` through a kernel buffer, as a device would.
fn access_rw(access: &Access, a: &iommu_test_access_rw, write: bool, slow: bool) -> Result {
    let len = usize::try_from(a.length).map_err(|_| ENOMEM)?;
    let mut buf = KVVec::from_elem(0u8, len, GFP_KERNEL_ACCOUNT)?;
    let addr = usize::try_from(a.uptr).map_err(|_| EFAULT)?;
    let user = UserSlice::new(UserPtr::from_addr(addr), len);
    if write {
        user.reader().read_slice(&mut buf)?;
        access.rw(a.iova, &mut buf, true, slow)
    } else {
        access.rw(a.iova, &mut buf, false, slow)?;
        user.writer().write_slice(&buf)
    }
}

/// The mock vIOMMU's driver data, `struct iommu_viommu_selftest`, with
/// `copy_struct_from_user` rules from `in_data` to `out_data`: `in_data`
/// comes back in `out_data`.
pub(crate) fn viommu_data(uptr: u64, len: u32) -> Result {
    let min = core::mem::offset_of!(iommu_viommu_selftest, out_data) + size_of::<u32>();
    let len = len as usize;
    if len < min {
        return Err(EINVAL);
    }
    let addr = usize::try_from(uptr).map_err(|_| EFAULT)?;
    let mut data = iommu_viommu_selftest::default();
    copy_struct_from_user(data.as_bytes_mut(), addr, len)?;
    data.out_data = data.in_data;
    let n = len.min(size_of::<iommu_viommu_selftest>());
    UserSlice::new(UserPtr::from_addr(addr), n)
        .writer()
        .write_slice(&data.as_bytes()[..n])
}
