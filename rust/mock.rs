// SPDX-License-Identifier: GPL-2.0

//! The mock IOMMU driver of `glue/iommufd_rs_mock.c`, for the selftest:
//! its registration, its devices, and what the selftest asks of mock
//! devices and domains, as extension traits of [`BoundDev`] and [`Domain`]
//! so that the production types carry nothing of the mock.
//!
//! Part of the FFI layer: the safe face of the C mock driver.

use core::ptr::NonNull;
use kernel::{
    bindings,
    device::Device,
    error::{
        from_err_ptr,
        to_result, //
    },
    prelude::*,
    sync::aref::ARef,
};

use crate::iommu::{
    dev_raw,
    BoundDev,
    Domain, //
};

// Only pointers to the kernel's structs cross this boundary; bindgen gives
// some of them zero-sized placeholder members, which this lint cannot see past.
#[expect(improper_ctypes, reason = "pointers to bindgen structs only")]
extern "C" {
    fn iommufd_rs_mock_init() -> i32;
    fn iommufd_rs_mock_exit();
    fn iommufd_rs_mock_page_pins(uaddr: usize, pins: *mut u32) -> i32;
    fn iommufd_rs_mock_user_phys(uaddr: usize, phys: *mut u64) -> i32;
    fn iommufd_rs_mock_dev_create(flags: u32) -> *mut bindings::device;
    fn iommufd_rs_mock_dev_is(dev: *mut bindings::device) -> bool;
    fn iommufd_rs_mock_dev_cache(dev: *mut bindings::device, id: u32, val: *mut u32) -> i32;
    fn iommufd_rs_mock_domain_is_paging(domain: *mut bindings::iommu_domain) -> bool;
    fn iommufd_rs_mock_nested_iotlb(
        domain: *mut bindings::iommu_domain,
        id: u32,
        val: *mut u32,
    ) -> i32;
    fn iommufd_rs_mock_set_dirty(domain: *mut bindings::iommu_domain, iova: u64) -> i32;
    fn iommufd_rs_mock_dirty_tracking(domain: *mut bindings::iommu_domain) -> bool;
    fn iommufd_rs_mock_trigger_iopf(
        dev: *mut bindings::device,
        pasid: u32,
        grpid: u32,
        perm: u32,
        addr: u64,
    );
}

/// The mock IOMMU's registration with the IOMMU core; there is one, owned
/// by the module.
///
/// # Invariants
///
/// The mock IOMMU is registered while this value lives.
pub(crate) struct MockIommu(());

impl MockIommu {
    /// Registers the mock IOMMU.
    pub(crate) fn register() -> Result<Self> {
        // SAFETY: Called once, at module load, before any mock device exists.
        to_result(unsafe { iommufd_rs_mock_init() })?;
        // INVARIANT: Registered just above.
        Ok(Self(()))
    }
}

impl Drop for MockIommu {
    fn drop(&mut self) {
        // SAFETY: By the type invariant the mock IOMMU is registered; at
        // module unload no file is open, so no mock device or domain is left.
        unsafe { iommufd_rs_mock_exit() }
    }
}

/// A device of the mock IOMMU, owned: dropping it unregisters it.
///
/// # Invariants
///
/// `dev` is a registered mock device whose registration this value owns and
/// removes once, in `drop`.
pub(crate) struct MockDev {
    dev: ARef<Device>,
}

impl MockDev {
    /// Creates and registers a mock device with `MOCK_FLAGS_DEVICE_*` flags.
    pub(crate) fn new(flags: u32) -> Result<Self> {
        // SAFETY: No precondition; the result is a registered device or an
        // `ERR_PTR`.
        let raw = from_err_ptr(unsafe { iommufd_rs_mock_dev_create(flags) })?;
        let raw = NonNull::new(raw).ok_or(ENOMEM)?;
        // SAFETY: `raw` is a registered device, whose registration holds a
        // reference for the whole call; its release may run on any thread.
        let dev = unsafe { Device::get_device(raw.as_ptr()) };
        // INVARIANT: The registration is ours.
        Ok(Self { dev })
    }

    /// The device.
    pub(crate) fn dev(&self) -> &Device {
        &self.dev
    }
}

impl Drop for MockDev {
    fn drop(&mut self) {
        // SAFETY: By the type invariant we own the registration, and the
        // device is no longer bound (its owner unbinds before dropping us).
        unsafe { bindings::device_unregister(dev_raw(&self.dev)) }
    }
}

/// The number of long-term pins of the page at `uaddr` in current's mm, 0
/// for a compound page. `uaddr` must be page aligned.
pub(crate) fn page_pins(uaddr: usize) -> Result<u32> {
    let mut pins = 0u32;
    // SAFETY: `pins` is a valid, writable `u32`; the helper only faults the
    // user address in through GUP, which validates it.
    to_result(unsafe { iommufd_rs_mock_page_pins(uaddr, &mut pins) })?;
    Ok(pins)
}

/// The physical address behind `uaddr` in current's mm.
pub(crate) fn user_phys(uaddr: usize) -> Result<u64> {
    let mut phys = 0u64;
    // SAFETY: `phys` is a valid, writable `u64`; the helper faults the user
    // address in through GUP, which validates it.
    to_result(unsafe { iommufd_rs_mock_user_phys(uaddr, &mut phys) })?;
    Ok(phys)
}

/// What the selftest asks of a bound device.
pub(crate) trait MockBoundDev {
    /// Whether the device is a mock IOMMU device.
    fn is_mock(&self) -> bool;

    /// Entry `id` of a mock device's cache.
    fn mock_cache(&self, id: u32) -> Result<u32>;

    /// Reports a page request on `pasid` as a mock device would: `EINVAL`
    /// for other devices.
    fn mock_trigger_iopf(&self, pasid: u32, grpid: u32, perm: u32, addr: u64) -> Result;
}

impl MockBoundDev for BoundDev {
    fn is_mock(&self) -> bool {
        // SAFETY: The device is live (the binding holds a reference).
        unsafe { iommufd_rs_mock_dev_is(dev_raw(self.device())) }
    }

    fn mock_cache(&self, id: u32) -> Result<u32> {
        let mut v = 0;
        // SAFETY: The device is live; the helper checks it is a mock one.
        // `v` is valid for writes.
        to_result(unsafe { iommufd_rs_mock_dev_cache(dev_raw(self.device()), id, &mut v) })?;
        Ok(v)
    }

    fn mock_trigger_iopf(&self, pasid: u32, grpid: u32, perm: u32, addr: u64) -> Result {
        if !self.is_mock() {
            return Err(EINVAL);
        }
        // SAFETY: The device is a live mock device.
        unsafe { iommufd_rs_mock_trigger_iopf(dev_raw(self.device()), pasid, grpid, perm, addr) };
        Ok(())
    }
}

/// What the selftest asks of a domain.
pub(crate) trait MockDomain {
    /// Whether this is a mock paging domain that tracks dirty pages.
    fn mock_dirty_tracking(&self) -> bool;

    /// Marks `iova` written in a mock paging domain that tracks dirty pages
    /// (`EINVAL` otherwise).
    fn mock_set_dirty(&self, iova: u64) -> Result;

    /// Whether this is a paging domain of the mock IOMMU.
    fn is_mock_paging(&self) -> bool;

    /// Entry `id` of a mock nested domain's IOTLB.
    fn mock_iotlb(&self, id: u32) -> Result<u32>;
}

impl MockDomain for Domain {
    fn mock_dirty_tracking(&self) -> bool {
        // SAFETY: The domain is live.
        unsafe { iommufd_rs_mock_dirty_tracking(self.raw()) }
    }

    fn mock_set_dirty(&self, iova: u64) -> Result {
        // SAFETY: The domain is live; the helper checks it is a mock one.
        to_result(unsafe { iommufd_rs_mock_set_dirty(self.raw(), iova) })
    }

    fn is_mock_paging(&self) -> bool {
        // SAFETY: The domain is live.
        unsafe { iommufd_rs_mock_domain_is_paging(self.raw()) }
    }

    fn mock_iotlb(&self, id: u32) -> Result<u32> {
        let mut v = 0;
        // SAFETY: The domain is live; the helper checks it is a mock nested
        // one. `v` is valid for writes.
        to_result(unsafe { iommufd_rs_mock_nested_iotlb(self.raw(), id, &mut v) })?;
        Ok(v)
    }
}
