// SPDX-License-Identifier: GPL-2.0

//! Registration of a misc device with a node name and file mode.
//!
//! `kernel::miscdevice::MiscDeviceRegistration` always creates its node with
//! the default mode 0600, while `/dev/iommu` must be 0660 as upstream makes
//! it, so that a group such as `kvm` or `vfio` can be given access. This is
//! the same registration with the mode set; it reuses the kernel's file
//! operations table for `T`.

use core::marker::PhantomData;
use kernel::{
    bindings,
    error::to_result,
    miscdevice::{
        MiscDevice,
        MiscDeviceOptions, //
    },
    prelude::*,
    types::Opaque,
};

/// A registered misc device whose files are handled by `T`.
///
/// # Invariants
///
/// `inner` is registered with `misc_register` for the whole life of the value.
#[repr(transparent)]
#[pin_data(PinnedDrop)]
pub(crate) struct MiscRegistration<T> {
    #[pin]
    inner: Opaque<bindings::miscdevice>,
    _t: PhantomData<T>,
}

// SAFETY: The registration is only handed to the misc core, which may use it
// from any thread; nothing in it is tied to the registering thread.
unsafe impl<T> Send for MiscRegistration<T> {}

// SAFETY: `&MiscRegistration` gives no access to the inner `miscdevice`
// besides the misc core's own, which is synchronised by `misc_mtx`.
unsafe impl<T> Sync for MiscRegistration<T> {}

impl<T: MiscDevice> MiscRegistration<T> {
    /// Registers `/dev/<name>` with file mode `mode`.
    ///
    /// The kernel's open path casts the registered `miscdevice` to
    /// `MiscDeviceRegistration<T>`, which is a `repr(transparent)` wrapper of
    /// `Opaque<bindings::miscdevice>` exactly like this type, so the
    /// `&MiscDeviceRegistration<T>` handed to [`MiscDevice::open`] is valid.
    pub(crate) fn register(name: &'static CStr, mode: u16) -> impl PinInit<Self, Error> {
        try_pin_init!(Self {
            inner <- Opaque::try_ffi_init(move |slot: *mut bindings::miscdevice| {
                let mut raw = MiscDeviceOptions { name }.into_raw::<T>();
                raw.nodename = raw.name;
                raw.mode = mode;
                // Files of this device are recognised by these operations,
                // which `misc_open` installs as they are.
                // SAFETY: `into_raw` points `fops` at a static table.
                crate::kapi::set_fops(Some(unsafe { &*raw.fops }));
                // SAFETY: `slot` is valid for writes and not yet initialised.
                unsafe { slot.write(raw) };
                // SAFETY: `slot` is a fully initialised `miscdevice` that stays
                // pinned until `drop` deregisters it.
                to_result(unsafe { bindings::misc_register(slot) })
            }),
            _t: PhantomData,
        })
    }
}

#[pinned_drop]
impl<T> PinnedDrop for MiscRegistration<T> {
    fn drop(self: Pin<&mut Self>) {
        // SAFETY: By the type invariant `inner` is registered.
        unsafe { bindings::misc_deregister(self.inner.get()) };
        crate::kapi::set_fops(None);
    }
}
