// SPDX-License-Identifier: GPL-2.0

//! The iommufd ioctl table.
//!
//! A command number that is not in the table, including one with our type and
//! number but other direction or size bits, is `ENOTTY`; as upstream, for
//! numbers inside its table's span the size is read first (`EFAULT`). Known
//! commands go through [`UserCmdBuf`], which applies the size rules shared by
//! every iommufd command.

#![deny(unsafe_code)]

use kernel::{
    fs::File,
    ioctl::_IOC_NR,
    prelude::*, //
};

use crate::{
    device,
    fault,
    hw_pagetable,
    ictx::Ictx,
    ioas,
    option,
    selftest,
    uapi::{
        IommuDestroy,
        IOMMUFD_CMD_BASE,
        IOMMU_DESTROY,
        IOMMU_FAULT_QUEUE_ALLOC,
        IOMMU_GET_HW_INFO,
        IOMMU_HWPT_ALLOC,
        IOMMU_HWPT_GET_DIRTY_BITMAP,
        IOMMU_HWPT_INVALIDATE,
        IOMMU_HWPT_SET_DIRTY_TRACKING,
        IOMMU_IOAS_ALLOC,
        IOMMU_IOAS_ALLOW_IOVAS,
        IOMMU_IOAS_CHANGE_PROCESS,
        IOMMU_IOAS_COPY,
        IOMMU_IOAS_IOVA_RANGES,
        IOMMU_IOAS_MAP,
        IOMMU_IOAS_MAP_FILE,
        IOMMU_IOAS_UNMAP,
        IOMMU_OPTION,
        IOMMU_TEST_CMD,
        IOMMU_VDEVICE_ALLOC,
        IOMMU_VFIO_IOAS,
        IOMMU_VIOMMU_ALLOC, //
    },
    ucmd::{
        UserCmd,
        UserCmdBuf, //
    },
    vfio_compat,
    viommu, //
};

/// The handler of one command: the context, the user buffer (to respond
/// through) and the command as read in.
type Handler<T> = fn(&Ictx, &UserCmdBuf<'_>, T) -> Result;

fn run<T: UserCmd>(ictx: &Ictx, file: &File, arg: usize, handler: Handler<T>) -> Result {
    let buf = UserCmdBuf::new(file, arg)?;
    let cmd = buf.read::<T>()?;
    handler(ictx, &buf, cmd)
}

/// The command numbers upstream's table spans: `IOMMU_DESTROY` to
/// `IOMMU_TEST_CMD` with the selftest, to `IOMMU_IOAS_NOIOMMU_GET_PA`
/// without. For these the size is read before the command is matched, so a
/// bad pointer is `EFAULT` even for a command we lack.
#[cfg(CONFIG_IOMMUFD_TEST)]
const TABLE_NRS: core::ops::RangeInclusive<u32> = IOMMUFD_CMD_BASE..=IOMMUFD_CMD_BASE + 0x20;
#[cfg(not(CONFIG_IOMMUFD_TEST))]
const TABLE_NRS: core::ops::RangeInclusive<u32> = IOMMUFD_CMD_BASE..=IOMMUFD_CMD_BASE + 0x15;

/// Runs ioctl `cmd` with argument `arg` on `ictx`.
pub(crate) fn dispatch(ictx: &Ictx, file: &File, cmd: u32, arg: usize) -> Result<isize> {
    if let Some(res) = vfio_compat::vfio_ioctl(ictx, cmd, arg) {
        return res;
    }
    if TABLE_NRS.contains(&_IOC_NR(cmd)) {
        UserCmdBuf::new(file, arg)?;
    }
    dispatch_iommufd(ictx, file, cmd, arg).map(|()| 0)
}

fn dispatch_iommufd(ictx: &Ictx, file: &File, cmd: u32, arg: usize) -> Result {
    match cmd {
        IOMMU_DESTROY => run(ictx, file, arg, destroy),
        IOMMU_IOAS_ALLOC => run(ictx, file, arg, ioas::alloc_ioctl),
        IOMMU_HWPT_ALLOC => run(ictx, file, arg, hw_pagetable::alloc_ioctl),
        IOMMU_HWPT_INVALIDATE => run(ictx, file, arg, hw_pagetable::invalidate_ioctl),
        IOMMU_HWPT_SET_DIRTY_TRACKING => {
            run(ictx, file, arg, hw_pagetable::set_dirty_tracking_ioctl)
        }
        IOMMU_HWPT_GET_DIRTY_BITMAP => run(ictx, file, arg, hw_pagetable::get_dirty_bitmap_ioctl),
        IOMMU_GET_HW_INFO => run(ictx, file, arg, device::get_hw_info_ioctl),
        IOMMU_FAULT_QUEUE_ALLOC => run(ictx, file, arg, fault::alloc_ioctl),
        IOMMU_VIOMMU_ALLOC => run(ictx, file, arg, viommu::alloc_ioctl),
        IOMMU_VDEVICE_ALLOC => run(ictx, file, arg, viommu::vdevice_alloc_ioctl),
        IOMMU_IOAS_ALLOW_IOVAS => run(ictx, file, arg, ioas::allow_iovas_ioctl),
        IOMMU_IOAS_CHANGE_PROCESS => run(ictx, file, arg, ioas::change_process_ioctl),
        IOMMU_IOAS_COPY => run(ictx, file, arg, ioas::copy_ioctl),
        IOMMU_IOAS_IOVA_RANGES => run(ictx, file, arg, ioas::iova_ranges_ioctl),
        IOMMU_IOAS_MAP => run(ictx, file, arg, ioas::map_ioctl),
        IOMMU_IOAS_MAP_FILE => run(ictx, file, arg, ioas::map_file_ioctl),
        IOMMU_IOAS_UNMAP => run(ictx, file, arg, ioas::unmap_ioctl),
        IOMMU_OPTION => run(ictx, file, arg, option::option_ioctl),
        #[cfg(CONFIG_IOMMUFD_TEST)]
        IOMMU_TEST_CMD => run(ictx, file, arg, selftest::test_cmd_ioctl),
        IOMMU_VFIO_IOAS => run(ictx, file, arg, vfio_compat::vfio_ioas_ioctl),
        _ => Err(ENOTTY),
    }
}

/// `IOMMU_DESTROY`.
fn destroy(ictx: &Ictx, _buf: &UserCmdBuf<'_>, cmd: IommuDestroy) -> Result {
    let obj = ictx.objects.remove(cmd.id, |_| true)?;
    // A mock device unbinds with the file at hand, so that the automatic
    // domain it leaves goes too, and its device object with it.
    #[cfg(CONFIG_IOMMUFD_TEST)]
    if let crate::object::ObjectKind::MockDevice(m) = &obj.kind {
        m.destroy(ictx);
    }
    drop(obj);
    Ok(())
}
