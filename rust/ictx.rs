// SPDX-License-Identifier: GPL-2.0

//! The state behind one open `/dev/iommu` file.

#![deny(unsafe_code)]

use kernel::{
    alloc::flags::GFP_KERNEL_ACCOUNT,
    fs::File,
    miscdevice::{
        MiscDevice,
        MiscDeviceRegistration, //
    },
    new_mutex,
    prelude::*,
    sync::{
        atomic::{
            Atomic,
            Relaxed, //
        },
        Arc, Mutex,
    },
};

use crate::{
    device::Groups,
    ioctl,
    object::ObjectTable,
    vfio_compat::CompatIoas,
    vpasid::{
        VpasidState,
        Vpasids, //
    },
};

/// One iommufd context: everything a file descriptor owns. Closing the file
/// drops it, which destroys every object in dependency order.
#[pin_data]
pub(crate) struct Ictx {
    #[pin]
    pub(crate) objects: ObjectTable,
    /// The IOAS chosen with `IOMMU_VFIO_IOAS`.
    #[pin]
    pub(crate) vfio_ioas: Mutex<Option<CompatIoas>>,
    /// The IOMMU groups of the bound devices.
    pub(crate) groups: Arc<Mutex<Groups>>,
    /// The PASID mode and the vPASID mappings (`iommufd_rs.h`), shared
    /// with the bound devices.
    pub(crate) vpasids: Vpasids,
    /// `IOMMU_OPTION_RLIMIT_MODE`: charge pins to the process's mm rather
    /// than to the user.
    account_per_process: Atomic<bool>,
}

impl Ictx {
    /// Whether pins are charged per process (`RLIMIT_MODE` 1).
    pub(crate) fn account_per_process(&self) -> bool {
        self.account_per_process.load(Relaxed)
    }

    /// Sets the rlimit mode; the caller checked that the file is empty.
    pub(crate) fn set_account_per_process(&self, on: bool) {
        self.account_per_process.store(on, Relaxed);
    }
}

#[vtable]
impl MiscDevice for Ictx {
    type Ptr = Pin<KBox<Self>>;

    fn open(_file: &File, _misc: &MiscDeviceRegistration<Self>) -> Result<Pin<KBox<Self>>> {
        let groups = Arc::pin_init(new_mutex!(Groups::new()), GFP_KERNEL_ACCOUNT)?;
        let vpasids = Arc::pin_init(new_mutex!(VpasidState::new()), GFP_KERNEL_ACCOUNT)?;
        KBox::try_pin_init(
            try_pin_init!(Self {
                objects <- ObjectTable::new(),
                vfio_ioas <- new_mutex!(None),
                groups,
                vpasids,
                account_per_process: Atomic::new(false),
            }),
            GFP_KERNEL_ACCOUNT,
        )
    }

    fn release(me: Pin<KBox<Self>>, _file: &File) {
        // Every object, in dependency order, before the context goes.
        me.objects.destroy_all();
    }

    fn ioctl(me: Pin<&Self>, file: &File, cmd: u32, arg: usize) -> Result<isize> {
        ioctl::dispatch(&me, file, cmd, arg)
    }
}
