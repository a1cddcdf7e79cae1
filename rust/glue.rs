// SPDX-License-Identifier: GPL-2.0

//! Safe wrappers of the C helpers in `glue/iommufd_rs_glue.c`.

use kernel::{
    error::to_result,
    prelude::*, //
};

extern "C" {
    fn iommufd_rs_page_pins(uaddr: usize, pins: *mut u32) -> i32;
}

/// The number of long-term pins of the page at `uaddr` in current's mm, 0
/// for a compound page. `uaddr` must be page aligned.
pub(crate) fn page_pins(uaddr: usize) -> Result<u32> {
    let mut pins = 0u32;
    // SAFETY: `pins` is a valid, writable `u32`; the helper only faults the
    // user address in through GUP, which validates it.
    to_result(unsafe { iommufd_rs_page_pins(uaddr, &mut pins) })?;
    Ok(pins)
}

/// Whether the caller has `CAP_SYS_RESOURCE`.
pub(crate) fn capable_sys_resource() -> bool {
    // SAFETY: `capable` may be called from any process context.
    unsafe { kernel::bindings::capable(kernel::bindings::CAP_SYS_RESOURCE as i32) }
}
