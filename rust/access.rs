// SPDX-License-Identifier: GPL-2.0

//! In-kernel accesses to an IOAS, as upstream's selftest creates them.
//!
//! An access pins pages mapped in an IOAS for a kernel user that has no
//! domain, such as an emulated device. Upstream exposes it to its selftest
//! through `IOMMU_TEST_OP_CREATE_ACCESS`, as a file descriptor; this module
//! does the same, so pinning and its accounting can be exercised before any
//! domain exists. Each pin is an item with an id; unmapping an area an item
//! pins first removes the item, as upstream's test access does.
//!
//! Lock order: an access's IOAS, its items, then the IOAS's page table, then
//! the pins of a `Pages`.

#![deny(unsafe_code)]

#[cfg(iommufd_rs_selftest)]
use kernel::new_mutex;
use kernel::{
    alloc::flags::GFP_KERNEL_ACCOUNT,
    fs::File,
    prelude::*,
    sync::{
        aref::ARef,
        Arc,
        Mutex, //
    },
};

#[cfg(iommufd_rs_selftest)]
use crate::glue::NewFd;
use crate::{
    glue,
    io_pagetable::AccessPin,
    ioas::Ioas,
    iova::{
        IovaRange,
        PAGE_SIZE, //
    },
    object::ObjRef,
};

/// One pin an access holds.
struct Item {
    id: u32,
    range: IovaRange,
    pins: KVec<AccessPin>,
}

/// The pins of an access.
struct Items {
    next_id: u32,
    list: KVec<Item>,
}

/// An in-kernel user of an IOAS's pages.
#[pin_data]
pub(crate) struct Access {
    /// The IOAS, which `IOMMU_TEST_OP_ACCESS_REPLACE_IOAS` can change.
    #[pin]
    ioas: Mutex<ObjRef<Ioas>>,
    /// The iommufd file, kept open: the IOAS lives in its object table, and
    /// every IOAS id given for the access is looked up there.
    ictx_file: ARef<File>,
    /// Created with `MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES`.
    needs_pin: bool,
    #[pin]
    items: Mutex<Items>,
}

/// The largest range one access pin may cover, as upstream's test.
pub(crate) const MAX_PIN_LENGTH: u64 = 16 << 20;

impl Access {
    /// Creates an access to `ioas` and returns the fd that owns it.
    #[cfg(iommufd_rs_selftest)]
    pub(crate) fn create(ioas: ObjRef<Ioas>, ictx_file: &File, needs_pin: bool) -> Result<NewFd> {
        let access = Arc::pin_init(
            try_pin_init!(Self {
                ioas <- new_mutex!(ioas),
                ictx_file: ARef::from(ictx_file),
                needs_pin,
                items <- new_mutex!(Items {
                    next_id: 1,
                    list: KVec::new(),
                }),
            }),
            GFP_KERNEL_ACCOUNT,
        )?;
        access
            .ioas
            .lock()
            .attach_access(access.clone(), needs_pin)?;
        glue::access_fd(access.clone()).inspect_err(|_| access.shutdown())
    }

    /// Runs `f` on the access behind fd `fd`: `EBADFD` if there is none.
    #[cfg(iommufd_rs_selftest)]
    pub(crate) fn with_fd<R>(fd: u32, f: impl FnOnce(&Access) -> Result<R>) -> Result<R> {
        glue::with_access(fd, |access| f(&access))
    }

    /// Runs `f` on the access behind fd `fd`, as a counted reference.
    #[cfg(iommufd_rs_selftest)]
    pub(crate) fn with_fd_arc<R>(fd: u32, f: impl FnOnce(Arc<Access>) -> Result<R>) -> Result<R> {
        glue::with_access(fd, |access| f(access.into()))
    }

    /// The iommufd file the access belongs to, where its ids are resolved.
    #[cfg(iommufd_rs_selftest)]
    pub(crate) fn ictx_file(&self) -> &File {
        &self.ictx_file
    }

    /// Moves the access to IOAS `new`: the pins it holds are let go, as for
    /// an unmap of everything, and it follows `new`'s unmaps from now on.
    /// On failure it stays where it was.
    pub(crate) fn replace_ioas(self: &Arc<Self>, new: ObjRef<Ioas>) -> Result {
        let mut cur = self.ioas.lock();
        if cur.serial() == new.serial() {
            return Ok(());
        }
        new.attach_access(self.clone(), self.needs_pin)?;
        self.drop_items(
            &cur,
            IovaRange {
                start: 0,
                last: u64::MAX,
            },
        );
        cur.detach_access(self, self.needs_pin);
        *cur = new;
        Ok(())
    }

    /// Pins `length` bytes at `iova` and, if `uptr` is not 0, checks that
    /// they are the pages of userspace's `uptr`. Returns the item's id.
    pub(crate) fn pin_pages(&self, iova: u64, length: u64, uptr: u64, write: bool) -> Result<u32> {
        if !self.needs_pin {
            return Err(EOPNOTSUPP);
        }
        let range = IovaRange::from_len(iova, length)?;
        let ioas = self.ioas.lock();
        let mut items = self.items.lock();
        items.list.reserve(1, GFP_KERNEL_ACCOUNT)?;
        let (pins, pages) = ioas.iopt.lock().access_pin(range, write)?;
        if uptr != 0 {
            // An address that wraps is simply not mapped: EFAULT from GUP.
            let at = usize::try_from(uptr.wrapping_sub(iova % PAGE_SIZE)).map_err(|_| EFAULT);
            if let Err(e) = at.and_then(|at| glue::check_pages(at, &pages)) {
                ioas.iopt.lock().access_unpin(&pins);
                return Err(e);
            }
        }
        let id = items.next_id;
        items.next_id = id.wrapping_add(1);
        let item = Item { id, range, pins };
        // Room was reserved above.
        if let Err(item) = items.list.push_within_capacity(item) {
            ioas.iopt.lock().access_unpin(&item.0.pins);
            return Err(ENOMEM);
        }
        Ok(id)
    }

    /// Reads (`write` false) or writes `data` at `iova` as a device would;
    /// `slow` forces the path that pins the pages for the copy.
    pub(crate) fn rw(&self, iova: u64, data: &mut [u8], write: bool, slow: bool) -> Result {
        let range = IovaRange::from_len(iova, data.len() as u64)?;
        let ioas = self.ioas.lock();
        let mut iopt = ioas.iopt.lock();
        iopt.access_rw(range, data, write, slow)
    }

    /// Unpins item `id`: `ENOENT` if there is none.
    pub(crate) fn destroy_item(&self, id: u32) -> Result {
        let ioas = self.ioas.lock();
        let mut items = self.items.lock();
        let at = items.list.iter().position(|i| i.id == id).ok_or(ENOENT)?;
        let item = items.list.remove(at)?;
        ioas.iopt.lock().access_unpin(&item.pins);
        Ok(())
    }

    /// The IOAS wants to unmap `range`: drop every item that pins any of it.
    pub(crate) fn notify_unmap(&self, range: IovaRange) {
        let ioas = self.ioas.lock();
        self.drop_items(&ioas, range);
    }

    /// Drops every item that pins any of `range` of `ioas`, the current IOAS.
    fn drop_items(&self, ioas: &Ioas, range: IovaRange) {
        let mut items = self.items.lock();
        let mut i = 0;
        while i < items.list.len() {
            let hit =
                items.list[i].range.start <= range.last && range.start <= items.list[i].range.last;
            if !hit {
                i += 1;
                continue;
            }
            if let Ok(item) = items.list.remove(i) {
                ioas.iopt.lock().access_unpin(&item.pins);
            }
        }
    }

    /// Releases every pin and detaches from the IOAS: the access fd is gone,
    /// or was never made.
    pub(crate) fn shutdown(&self) {
        let ioas = self.ioas.lock();
        let mut items = self.items.lock();
        while let Some(item) = items.list.pop() {
            ioas.iopt.lock().access_unpin(&item.pins);
        }
        drop(items);
        ioas.detach_access(self, self.needs_pin);
    }
}
