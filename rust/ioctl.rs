// SPDX-License-Identifier: GPL-2.0

//! The iommufd ioctl table.
//!
//! One row per command, as upstream's `iommufd_ioctl_ops`: the command
//! number, its handler, its struct and the struct's last mandatory field.
//! The table is indexed by command number, built at compile time. The
//! dispatcher reads the user's size once, checks it against the row, copies
//! the struct in with `copy_struct_from_user` rules, runs the handler, and
//! publishes or aborts the object the handler created.
//!
//! Numbers below the table are the VFIO container ioctls. Inside the
//! table's span the size is read before the row is checked, so a bad pointer
//! is `EFAULT` even for a number with no row; a number with no row, or with
//! our number but other direction or size bits, is `ENOTTY`.

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
    uapi::*,
    ucmd::UserCmdBuf,
    vfio_compat,
    viommu,
    vpasid, //
};

/// A row of the table.
#[derive(Clone, Copy)]
struct IoctlOp {
    /// The whole command number, direction and size bits included.
    cmd: u32,
    /// Reads the struct in and runs the handler.
    execute: for<'a> fn(&'a Ictx, &mut UserCmdBuf<'a>) -> Result,
}

/// The end of field `field` of struct `T`: the least size userspace may pass
/// when `field` is the last mandatory one.
macro_rules! offset_of_end {
    ($t:ty, $field:ident) => {{
        const fn size_of_field<T, F>(_: fn(&T) -> &F) -> usize {
            ::core::mem::size_of::<F>()
        }
        ::core::mem::offset_of!($t, $field) + size_of_field(|c: &$t| &c.$field)
    }};
}

/// The struct whose layout a row's last field is found in: the command's
/// own, or the one a `#[repr(transparent)]` wrapper wraps.
macro_rules! layout_of {
    ($t:ty) => {
        $t
    };
    ($t:ty, $layout:ty) => {
        $layout
    };
}

/// Builds the table from rows `nr => handler, struct, last field`, where a
/// wrapper struct names the struct it wraps in brackets. A row may carry
/// `#[cfg]`.
macro_rules! ioctl_table {
    ($base:expr, $len:expr; $(
        $(#[$m:meta])* $nr:ident => $handler:path, $t:ty $([$layout:ty])?, $last:ident;
    )*) => {{
        let mut table: [Option<IoctlOp>; $len] = [None; $len];
        $(
            $(#[$m])*
            {
                table[($nr - $base) as usize] = Some(IoctlOp {
                    cmd: iommufd_ioctl_nr($nr),
                    execute: |ictx, buf| {
                        let min = offset_of_end!(layout_of!($t $(, $layout)?), $last);
                        let cmd = buf.read::<$t>(min)?;
                        $handler(ictx, buf, cmd)
                    },
                });
            }
        )*
        table
    }};
}

/// The last command of upstream's table: `IOMMU_TEST_CMD` with the selftest,
/// `IOMMU_IOAS_NOIOMMU_GET_PA` without.
#[cfg(iommufd_rs_selftest)]
const LAST_CMD: u32 = IOMMUFD_CMD_TEST;
#[cfg(not(iommufd_rs_selftest))]
const LAST_CMD: u32 = IOMMUFD_CMD_IOAS_NOIOMMU_GET_PA;

const TABLE_LEN: usize = (LAST_CMD - IOMMUFD_CMD_BASE + 1) as usize;

/// The commands. Upstream's `IOMMU_VEVENTQ_ALLOC`, `IOMMU_HW_QUEUE_ALLOC` and
/// `IOMMU_IOAS_NOIOMMU_GET_PA` have no row yet.
static IOCTL_OPS: [Option<IoctlOp>; TABLE_LEN] = ioctl_table! {
    IOMMUFD_CMD_BASE, TABLE_LEN;
    IOMMUFD_CMD_DESTROY => destroy, IommuDestroy, id;
    IOMMUFD_CMD_FAULT_QUEUE_ALLOC => fault::alloc_ioctl, IommuFaultAlloc, out_fault_fd;
    IOMMUFD_CMD_GET_HW_INFO => device::get_hw_info_ioctl, IommuHwInfo, __reserved;
    IOMMUFD_CMD_HWPT_ALLOC => hw_pagetable::alloc_ioctl, IommuHwptAlloc, __reserved;
    IOMMUFD_CMD_HWPT_GET_DIRTY_BITMAP =>
        hw_pagetable::get_dirty_bitmap_ioctl, IommuHwptGetDirtyBitmap, data;
    IOMMUFD_CMD_HWPT_INVALIDATE =>
        hw_pagetable::invalidate_ioctl, IommuHwptInvalidate, __reserved;
    IOMMUFD_CMD_HWPT_SET_DIRTY_TRACKING =>
        hw_pagetable::set_dirty_tracking_ioctl, IommuHwptSetDirtyTracking, __reserved;
    IOMMUFD_CMD_IOAS_ALLOC => ioas::alloc_ioctl, IommuIoasAlloc, out_ioas_id;
    IOMMUFD_CMD_IOAS_ALLOW_IOVAS => ioas::allow_iovas_ioctl, IommuIoasAllowIovas, allowed_iovas;
    IOMMUFD_CMD_IOAS_CHANGE_PROCESS =>
        ioas::change_process_ioctl, IommuIoasChangeProcess, __reserved;
    IOMMUFD_CMD_IOAS_COPY => ioas::copy_ioctl, IommuIoasCopy, src_iova;
    IOMMUFD_CMD_IOAS_IOVA_RANGES =>
        ioas::iova_ranges_ioctl, IommuIoasIovaRanges, out_iova_alignment;
    IOMMUFD_CMD_IOAS_MAP => ioas::map_ioctl, IommuIoasMap, iova;
    IOMMUFD_CMD_IOAS_MAP_FILE => ioas::map_file_ioctl, IommuIoasMapFile, iova;
    IOMMUFD_CMD_IOAS_UNMAP => ioas::unmap_ioctl, IommuIoasUnmap, length;
    IOMMUFD_CMD_OPTION => option::option_ioctl, IommuOption, val64;
    IOMMUFD_CMD_VDEVICE_ALLOC => viommu::vdevice_alloc_ioctl, IommuVdeviceAlloc, virt_id;
    IOMMUFD_CMD_VFIO_IOAS => vfio_compat::vfio_ioas_ioctl, IommuVfioIoas, __reserved;
    IOMMUFD_CMD_VIOMMU_ALLOC => viommu::alloc_ioctl, IommuViommuAlloc, out_viommu_id;
    #[cfg(iommufd_rs_selftest)]
    IOMMUFD_CMD_TEST => crate::selftest::test_cmd_ioctl, TestCmd[iommu_test_cmd], last;
};

const RS_TABLE_LEN: usize = (IOMMUFD_RS_CMD_VPASID_QUERY - IOMMUFD_RS_CMD_BASE + 1) as usize;

// The extension's numbers lie above upstream's table (and its selftest
// command), so that no upstream command can reach them.
const _: () = assert!(IOMMUFD_RS_CMD_BASE > IOMMUFD_CMD_BASE + 32);
const _: () = assert!(IOMMUFD_RS_CMD_BASE > LAST_CMD);

/// The commands of `iommufd_rs.h`, which upstream does not have.
static RS_IOCTL_OPS: [Option<IoctlOp>; RS_TABLE_LEN] = ioctl_table! {
    IOMMUFD_RS_CMD_BASE, RS_TABLE_LEN;
    IOMMUFD_RS_CMD_PASID_MODE => vpasid::mode_ioctl, IommuRsPasidMode, __reserved;
    IOMMUFD_RS_CMD_VPASID_ATTACH => vpasid::attach_ioctl, IommuRsVpasidAttach, out_ppasid;
    IOMMUFD_RS_CMD_VPASID_DETACH => vpasid::detach_ioctl, IommuRsVpasidDetach, vpasid;
    IOMMUFD_RS_CMD_VPASID_QUERY => vpasid::query_ioctl, IommuRsVpasidQuery, out_pt_id;
};

/// Runs ioctl `cmd` with argument `arg` on `ictx`.
pub(crate) fn dispatch(ictx: &Ictx, file: &File, cmd: u32, arg: usize) -> Result<isize> {
    let slot = _IOC_NR(cmd)
        .checked_sub(IOMMUFD_CMD_BASE)
        .and_then(|i| IOCTL_OPS.get(i as usize));
    let Some(slot) = slot else {
        // An extension command only if the whole number is one, so that
        // any other number gets upstream's answer (from the VFIO compat
        // layer, ENOTTY in the end) before its argument is read.
        let rs = _IOC_NR(cmd)
            .checked_sub(IOMMUFD_RS_CMD_BASE)
            .and_then(|i| RS_IOCTL_OPS.get(i as usize))
            .and_then(Option::as_ref)
            .filter(|op| op.cmd == cmd);
        let Some(op) = rs else {
            return vfio_compat::vfio_ioctl(ictx, cmd, arg).unwrap_or(Err(ENOTTY));
        };
        return run(ictx, file, op, arg);
    };
    let mut buf = UserCmdBuf::new(file, arg)?;
    let op = slot.as_ref().filter(|op| op.cmd == cmd).ok_or(ENOTTY)?;
    let res = (op.execute)(ictx, &mut buf);
    buf.finish(res).map(|()| 0)
}

/// Reads the size of `op`'s struct at `arg` and runs it.
fn run(ictx: &Ictx, file: &File, op: &IoctlOp, arg: usize) -> Result<isize> {
    let mut buf = UserCmdBuf::new(file, arg)?;
    let res = (op.execute)(ictx, &mut buf);
    buf.finish(res).map(|()| 0)
}

/// `IOMMU_DESTROY`.
fn destroy(ictx: &Ictx, _buf: &mut UserCmdBuf<'_>, cmd: IommuDestroy) -> Result {
    let obj = ictx.objects.remove(cmd.id, |_| true)?;
    // A mock device unbinds with the file at hand, so that the automatic
    // domain it leaves goes too, and its device object with it.
    #[cfg(iommufd_rs_selftest)]
    if let crate::object::ObjectKind::MockDevice(m) = &obj.kind {
        m.destroy(ictx);
    }
    drop(obj);
    Ok(())
}
