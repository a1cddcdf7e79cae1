// SPDX-License-Identifier: GPL-2.0

//! The state behind one open `/dev/iommu` file.

use kernel::{
    alloc::flags::GFP_KERNEL_ACCOUNT,
    fs::File,
    miscdevice::{
        MiscDevice,
        MiscDeviceRegistration, //
    },
    prelude::*,
};

use crate::{
    ioctl,
    object::ObjectTable, //
};

/// One iommufd context: everything a file descriptor owns. Closing the file
/// drops it, which destroys every object in dependency order.
#[pin_data]
pub(crate) struct Ictx {
    #[pin]
    pub(crate) objects: ObjectTable,
}

#[vtable]
impl MiscDevice for Ictx {
    type Ptr = Pin<KBox<Self>>;

    fn open(_file: &File, _misc: &MiscDeviceRegistration<Self>) -> Result<Pin<KBox<Self>>> {
        KBox::try_pin_init(
            try_pin_init!(Self {
                objects <- ObjectTable::new(),
            }),
            GFP_KERNEL_ACCOUNT,
        )
    }

    fn ioctl(me: Pin<&Self>, _file: &File, cmd: u32, arg: usize) -> Result<isize> {
        ioctl::dispatch(&me, cmd, arg)?;
        Ok(0)
    }
}
