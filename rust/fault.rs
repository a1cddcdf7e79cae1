// SPDX-License-Identifier: GPL-2.0

//! Page fault queues (`IOMMU_FAULT_QUEUE_ALLOC`): a HWPT allocated with a
//! fault queue sends the I/O page faults of its attachments there, and
//! userspace reads them from the queue's fd and writes the responses back.
//! The queue itself is C (see `glue/iommufd_rs_iommu.c`): it holds the IOMMU
//! core's fault groups and is a file.

#![deny(unsafe_code)]

use kernel::{
    alloc::flags::GFP_KERNEL_ACCOUNT,
    fs::File,
    prelude::*,
    sync::{
        aref::ARef,
        Arc, //
    },
};

use crate::{
    ictx::Ictx,
    iommu::FaultQueue,
    object::{
        ObjRef,
        ObjectKind,
        ObjectType, //
    },
    uapi::IommuFaultAlloc,
    ucmd::UserCmdBuf,
};

/// A fault queue object.
pub(crate) struct Fault {
    pub(crate) queue: FaultQueue,
}

impl ObjectType for Fault {
    fn cast(kind: &ObjectKind) -> Option<&Arc<Self>> {
        match kind {
            ObjectKind::Fault(f) => Some(f),
            _ => None,
        }
    }
}

/// What a fault queue's file holds while it is open, as upstream's eventq
/// file: a user of the object, so that `IOMMU_DESTROY` of it is `EBUSY`
/// until the fd is closed, and the iommufd file, so that the context (and
/// the object table the reference counts in) outlives the fd. The file's
/// release drops it, once no read, write or poll can run.
///
/// There is a cycle while the file is open (the object owns the queue, the
/// queue's file owns this); the file's release breaks it. Fields drop in
/// order: the object's user goes before the iommufd file, whose last
/// reference destroys every object.
pub(crate) struct FaultFileHold {
    _fault: ObjRef<Fault>,
    _ictx_file: ARef<File>,
}

/// `IOMMU_FAULT_QUEUE_ALLOC`.
pub(crate) fn alloc_ioctl<'a>(
    ictx: &'a Ictx,
    buf: &mut UserCmdBuf<'a>,
    mut cmd: IommuFaultAlloc,
) -> Result {
    if cmd.flags != 0 {
        return Err(EOPNOTSUPP);
    }
    let (queue, file) = FaultQueue::new()?;
    let fault = Arc::new(Fault { queue }, GFP_KERNEL_ACCOUNT)?;
    let obj = ictx.objects.reserve(ObjectKind::Fault(fault))?;
    // Taken now, given to the file only once nothing can fail: until then
    // dropping it undoes it.
    let hold = KBox::new(
        FaultFileHold {
            _fault: obj.get::<Fault>()?,
            _ictx_file: ARef::from(buf.file()),
        },
        GFP_KERNEL_ACCOUNT,
    )?;
    cmd.out_fault_id = buf.set_new_obj(obj);
    cmd.out_fault_fd = file.fd() as u32;
    buf.respond(&cmd)?;
    // The object is published once this returns: nothing can fail after
    // the file is installed.
    file.install(hold);
    Ok(())
}
