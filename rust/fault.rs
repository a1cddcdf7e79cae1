// SPDX-License-Identifier: GPL-2.0

//! Page fault queues (`IOMMU_FAULT_QUEUE_ALLOC`): a HWPT allocated with a
//! fault queue sends the I/O page faults of its attachments there, and
//! userspace reads them from the queue's fd and writes the responses back.
//! The queue itself is C (see `glue/iommufd_rs_iommu.c`): it holds the IOMMU
//! core's fault groups and is a file.

#![deny(unsafe_code)]

use kernel::{
    alloc::flags::GFP_KERNEL_ACCOUNT,
    prelude::*,
    sync::Arc, //
};

use crate::{
    ictx::Ictx,
    iommu::FaultQueue,
    object::{
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

/// `IOMMU_FAULT_QUEUE_ALLOC`.
pub(crate) fn alloc_ioctl<'a>(
    ictx: &'a Ictx,
    buf: &mut UserCmdBuf<'a>,
    mut cmd: IommuFaultAlloc,
) -> Result {
    if cmd.flags != 0 {
        return Err(EOPNOTSUPP);
    }
    let (queue, fd) = FaultQueue::new()?;
    let fault = Arc::new(Fault { queue }, GFP_KERNEL_ACCOUNT)?;
    cmd.out_fault_id = buf.set_new_obj(ictx.objects.reserve(ObjectKind::Fault(fault))?);
    cmd.out_fault_fd = fd.fd() as u32;
    buf.respond(&cmd)?;
    // The object is published once this returns: nothing can fail after
    // the file is installed.
    fd.install();
    Ok(())
}
