// SPDX-License-Identifier: GPL-2.0

//! Virtual IOMMUs (`IOMMU_VIOMMU_ALLOC`): the VMM's view of one physical
//! IOMMU instance, on a nesting-parent HWPT. Nested HWPTs can be allocated
//! on it. Only the mock IOMMU's vIOMMU type is offered; its loopback data
//! (`in_data` -> `out_data`) is supported, its mmap page and hardware queues
//! are not.

#![deny(unsafe_code)]

use kernel::{
    alloc::flags::GFP_KERNEL_ACCOUNT,
    new_mutex,
    prelude::*,
    sync::{
        Arc,
        Mutex, //
    },
};

use crate::{
    device::Device,
    hw_pagetable::{
        Hwpt,
        HwptKind, //
    },
    ictx::Ictx,
    iommu::BoundDev,
    object::{
        ObjRef,
        ObjectKind,
        ObjectType,
        WeakObj, //
    },
    uapi::*,
    ucmd::UserCmdBuf,
};

/// A vIOMMU object.
#[pin_data]
pub(crate) struct Viommu {
    /// The nesting parent its nested HWPTs translate through.
    pub(crate) parent: ObjRef<Hwpt>,
    /// The virtual ids its vDEVICEs took, each once, with the serial of
    /// the vDEVICE that holds it: only that one gives it back.
    #[pin]
    virt_ids: Mutex<KVec<(u64, u64)>>,
}

/// A vDEVICE: a device's id as the guest sees it behind a vIOMMU. It goes
/// when the device does (leaving a "tombstone" id that destroys as ENOENT).
pub(crate) struct Vdevice {
    /// The vDEVICE itself, by id and serial.
    me: WeakObj<Vdevice>,
    viommu: ObjRef<Viommu>,
    dev: Arc<Device>,
    virt_id: u64,
}

impl ObjectType for Vdevice {
    fn cast(kind: &ObjectKind) -> Option<&Arc<Self>> {
        match kind {
            ObjectKind::Vdevice(v) => Some(v),
            _ => None,
        }
    }
}

impl Drop for Vdevice {
    fn drop(&mut self) {
        // What this vDEVICE recorded, not what another with its virtual id
        // or object id did: a failed allocation recorded nothing.
        let serial = self.me.serial();
        self.viommu
            .virt_ids
            .lock()
            .retain(|&mut (v, s)| v != self.virt_id || s != serial);
        self.dev.clear_vdevice(&self.me);
    }
}

/// Whether `b` is a mock IOMMU device: the vIOMMUs here are the mock's.
#[cfg(iommufd_rs_selftest)]
fn is_mock(b: &BoundDev) -> bool {
    crate::mock::MockBoundDev::is_mock(b)
}

/// Without the selftest there is no mock IOMMU, and so no vIOMMU.
#[cfg(not(iommufd_rs_selftest))]
fn is_mock(_b: &BoundDev) -> bool {
    false
}

/// `IOMMU_VDEVICE_ALLOC`.
pub(crate) fn vdevice_alloc_ioctl<'a>(
    ictx: &'a Ictx,
    buf: &mut UserCmdBuf<'a>,
    mut cmd: IommuVdeviceAlloc,
) -> Result {
    let viommu = ictx.objects.get::<Viommu>(cmd.viommu_id)?;
    let dev = ictx.objects.get::<Device>(cmd.dev_id)?;
    if !dev.with_bound(|b| Ok(is_mock(b)))? {
        return Err(EINVAL);
    }
    let mut ids = viommu.virt_ids.lock();
    if ids.iter().any(|&(v, _)| v == cmd.virt_id) {
        return Err(EEXIST);
    }
    ids.reserve(1, GFP_KERNEL_ACCOUNT)?;
    let viommu_ref = viommu.clone_ref()?;
    let (pending, me) = ictx.objects.reserve_with(|id, serial| {
        let me = WeakObj::from_parts(id, serial);
        let vdev = Arc::new(
            Vdevice {
                me,
                viommu: viommu_ref,
                dev: dev.arc(),
                virt_id: cmd.virt_id,
            },
            GFP_KERNEL_ACCOUNT,
        )?;
        Ok((ObjectKind::Vdevice(vdev), me))
    })?;
    // A device has one vDEVICE.
    if let Err(e) = dev.set_vdevice(me, &viommu) {
        // The vDEVICE's teardown takes the vIOMMU's lock.
        drop(ids);
        drop(pending);
        return Err(e);
    }
    // Room was reserved above; the id is the vDEVICE's from here on.
    let _ = ids.push_within_capacity((cmd.virt_id, me.serial()));
    drop(ids);
    cmd.out_vdevice_id = buf.set_new_obj(pending);
    buf.respond(&cmd)
}

impl ObjectType for Viommu {
    fn cast(kind: &ObjectKind) -> Option<&Arc<Self>> {
        match kind {
            ObjectKind::Viommu(v) => Some(v),
            _ => None,
        }
    }
}

/// `IOMMU_VIOMMU_ALLOC`.
pub(crate) fn alloc_ioctl<'a>(
    ictx: &'a Ictx,
    buf: &mut UserCmdBuf<'a>,
    mut cmd: IommuViommuAlloc,
) -> Result {
    if cmd.flags != 0 || cmd.type_ == 0 {
        return Err(EOPNOTSUPP);
    }
    let dev = ictx.objects.get::<Device>(cmd.dev_id)?;
    // The only vIOMMU type here is the mock IOMMU's.
    #[cfg(iommufd_rs_selftest)]
    let supported =
        cmd.type_ == IOMMU_VIOMMU_TYPE_SELFTEST && dev.with_bound(|b| Ok(is_mock(b)))?;
    #[cfg(not(iommufd_rs_selftest))]
    let supported = {
        // The device is looked up all the same, for upstream's errno.
        let _ = dev;
        false
    };
    if !supported {
        return Err(EOPNOTSUPP);
    }
    let parent = ictx.objects.get::<Hwpt>(cmd.hwpt_id)?;
    match &parent.kind {
        HwptKind::Paging {
            nest_parent: true, ..
        } => {}
        HwptKind::Paging { .. } => return Err(EINVAL),
        HwptKind::Nested { .. } => return Err(ENOENT),
    }
    #[cfg(iommufd_rs_selftest)]
    if cmd.data_len != 0 {
        crate::selftest::viommu_data(cmd.data_uptr, cmd.data_len)?;
    }
    let viommu = Arc::pin_init(
        pin_init!(Viommu {
            parent,
            virt_ids <- new_mutex!(KVec::new()),
        }),
        GFP_KERNEL_ACCOUNT,
    )?;
    cmd.out_viommu_id = buf.set_new_obj(ictx.objects.reserve(ObjectKind::Viommu(viommu))?);
    buf.respond(&cmd)
}
