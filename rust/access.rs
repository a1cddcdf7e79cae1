// SPDX-License-Identifier: GPL-2.0

//! In-kernel accesses to an IOAS: the in-kernel API's and the selftest's.
//!
//! An access pins pages mapped in an IOAS, or copies through them, for a
//! kernel user that has no domain, such as an emulated device or an mdev
//! driver. Two kinds exist, sharing this code:
//!
//! - a driver's, made by `iommufd_access_create()` (rust/kapi.rs): an object
//!   of the file's table, attached and detached by IOAS id, whose pins are
//!   ranges the driver gives back with `iommufd_access_unpin_pages()`. When
//!   an IOAS wants to unmap pages it pins, the driver's `unmap` callback is
//!   asked to unpin them ([`AccessOps`]);
//! - the selftest's, made by `IOMMU_TEST_OP_CREATE_ACCESS` as a file
//!   descriptor, whose pins are items with ids that an unmap simply drops,
//!   as upstream's test access does.
//!
//! Callbacks run with no lock of the IOAS or of the access held, so that the
//! driver may unpin from them. Each runs while the access counts it (see
//! [`Calls`]); detach and destroy wait for those running to end, so that no
//! callback runs once they return.
//!
//! Lock order: an access's state, its items, then the IOAS's access list and
//! its page table, then the pins of a `Pages`. The IOAS's access list comes
//! before an access's call count.

#![deny(unsafe_code)]

use kernel::{
    alloc::flags::GFP_KERNEL_ACCOUNT,
    fs::File,
    new_condvar,
    new_mutex, //
    prelude::*,
    sync::{
        aref::ARef,
        Arc,
        CondVar,
        Mutex, //
    },
};

#[cfg(iommufd_rs_selftest)]
use crate::glue::{
    self,
    NewFd, //
};
#[cfg(iommufd_rs_selftest)]
use crate::iova::PAGE_SIZE;
use crate::{
    glue::PinnedPage,
    io_pagetable::AccessPin,
    ioas::Ioas,
    iova::IovaRange,
    object::{
        ObjRef,
        ObjectKind,
        ObjectType, //
    },
};

/// What a driver's access does when an IOAS wants pages back.
pub(crate) trait AccessOps: Send + Sync {
    /// The driver must unpin whatever it pinned in `length` bytes at `iova`
    /// (`length` is `u64::MAX` for everything) before returning.
    fn unmap(&self, iova: u64, length: u64);
}

/// One pin an access holds.
struct Item {
    /// Only the selftest names its pins.
    #[cfg_attr(not(iommufd_rs_selftest), expect(dead_code, reason = "selftest only"))]
    id: u32,
    range: IovaRange,
    pins: KVec<AccessPin>,
}

/// The pins of an access.
struct Items {
    next_id: u32,
    list: KVec<Item>,
}

/// Where an access is attached.
struct State {
    /// The IOAS pins and copies go to, and that holds the pins; `None` while
    /// detached.
    ioas: Option<ObjRef<Ioas>>,
    /// A change of IOAS waits, unlocked, for the driver to unpin: no new pin
    /// or copy may start (`ENOENT`), and no other change (`EBUSY`), as
    /// upstream; unpins still go to `ioas`.
    changing: bool,
}

/// The state [`Access::change_ioas`] expects the access in.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Expect {
    /// Detached, to attach it.
    Detached,
    /// Attached, to replace its IOAS or detach it.
    Attached,
    /// Either.
    Any,
}

/// The unmap notifications of an IOAS running on an access.
struct Calls {
    /// Destruction has begun: no new notification starts.
    closed: bool,
    /// Destruction has detached the access and let its pins go.
    shut: bool,
    running: u32,
}

/// An in-kernel user of an IOAS's pages.
#[pin_data]
pub(crate) struct Access {
    #[pin]
    state: Mutex<State>,
    /// The iommufd file, kept open: the IOAS lives in its object table, and
    /// every IOAS id given for the access is looked up there.
    ictx_file: ARef<File>,
    /// Pins whole pages (and so needs a page aligned IOAS).
    needs_pin: bool,
    /// The driver's callbacks; `None` for the selftest's access, whose pins
    /// an unmap drops by itself.
    ops: Option<KBox<dyn AccessOps>>,
    #[pin]
    items: Mutex<Items>,
    #[pin]
    calls: Mutex<Calls>,
    /// Signalled when the last running notification ends, and when
    /// destruction has let the pins go.
    #[pin]
    calls_done: CondVar,
}

/// The largest range one access pin may cover, as upstream's test.
#[cfg(iommufd_rs_selftest)]
pub(crate) const MAX_PIN_LENGTH: u64 = 16 << 20;

/// All of the IOVA space.
const ALL: IovaRange = IovaRange {
    start: 0,
    last: u64::MAX,
};

/// A running notification: the access cannot finish detaching or being
/// destroyed until it is dropped.
pub(crate) struct CallGuard(Arc<Access>);

impl Drop for CallGuard {
    fn drop(&mut self) {
        let mut calls = self.0.calls.lock();
        calls.running = calls.running.saturating_sub(1);
        if calls.running == 0 {
            self.0.calls_done.notify_all();
        }
    }
}

impl CallGuard {
    /// Tells the access that `ioas` wants to unmap `range`: the driver is
    /// asked to unpin it, or the selftest's pins there are dropped.
    pub(crate) fn notify_unmap(&self, ioas: &Ioas, range: IovaRange) {
        let access = &self.0;
        if let Some(ops) = &access.ops {
            ops.unmap(range.start, range.len().unwrap_or(u64::MAX));
            return;
        }
        let state = access.state.lock();
        // Only pins of this IOAS: the access may have moved meanwhile.
        if let Some(cur) = &state.ioas {
            if core::ptr::eq::<Ioas>(&**cur, ioas) {
                access.drop_items(cur, range);
            }
        }
    }
}

impl ObjectType for Access {
    fn cast(kind: &ObjectKind) -> Option<&Arc<Self>> {
        match kind {
            ObjectKind::Access(a) => Some(a),
            _ => None,
        }
    }
}

impl Access {
    /// A new access, detached, with the driver's `ops` (`None` for the
    /// selftest's).
    pub(crate) fn new(
        ictx_file: &File,
        needs_pin: bool,
        ops: Option<KBox<dyn AccessOps>>,
    ) -> Result<Arc<Self>> {
        Arc::pin_init(
            try_pin_init!(Self {
                state <- new_mutex!(State {
                    ioas: None,
                    changing: false,
                }),
                ictx_file: ARef::from(ictx_file),
                needs_pin,
                ops,
                items <- new_mutex!(Items {
                    next_id: 1,
                    list: KVec::new(),
                }),
                calls <- new_mutex!(Calls {
                    closed: false,
                    shut: false,
                    running: 0,
                }),
                calls_done <- new_condvar!(),
            }),
            GFP_KERNEL_ACCOUNT,
        )
    }

    /// Creates the selftest's access to `ioas` and returns the fd that
    /// owns it.
    #[cfg(iommufd_rs_selftest)]
    pub(crate) fn create(ioas: ObjRef<Ioas>, ictx_file: &File, needs_pin: bool) -> Result<NewFd> {
        let access = Self::new(ictx_file, needs_pin, None)?;
        access.change_ioas(Expect::Any, || Ok(Some(ioas)))?;
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

    /// Counts a notification about to run on the access: `None` once its
    /// destruction has begun. The caller holds the IOAS's access list,
    /// where it found the access, so that a detach that removes it from
    /// there and then waits for running notifications misses none.
    pub(crate) fn begin_call(self: &Arc<Self>) -> Option<CallGuard> {
        let mut calls = self.calls.lock();
        if calls.closed {
            return None;
        }
        calls.running = calls.running.checked_add(1)?;
        Some(CallGuard(self.clone()))
    }

    /// Waits until a destruction that has begun has let the access's pins
    /// go, for an unmap that found the access too late to notify it: its
    /// pins go away without the driver's help, and the unmap must not spin
    /// on them meanwhile. No lock the destruction takes may be held.
    pub(crate) fn wait_shut(&self) {
        let mut calls = self.calls.lock();
        while calls.closed && !calls.shut {
            self.calls_done.wait(&mut calls);
        }
    }

    /// Waits for the running notifications to end; if `close`, no new one
    /// starts afterwards. No lock the callbacks take may be held.
    fn wait_calls(&self, close: bool) {
        let mut calls = self.calls.lock();
        calls.closed |= close;
        while calls.running != 0 {
            self.calls_done.wait(&mut calls);
        }
    }

    /// Moves the access to the IOAS `new` gives (`None`: detaches it), if
    /// it is in the state `from` expects (else `EINVAL` to attach,
    /// `ENOENT` to replace or detach, before `new` is asked). The driver is
    /// asked to unpin everything of the old IOAS, and what it still pins
    /// there is let go; from now on the access follows `new`'s unmaps. On
    /// failure it stays where it was; `EBUSY` while another change waits
    /// for the driver. A detach returns once no notification runs.
    pub(crate) fn change_ioas(
        self: &Arc<Self>,
        from: Expect,
        new: impl FnOnce() -> Result<Option<ObjRef<Ioas>>>,
    ) -> Result {
        let mut state = self.state.lock();
        let attached = state.ioas.is_some() && !state.changing;
        match from {
            Expect::Detached if attached => return Err(EINVAL),
            Expect::Attached if !attached => return Err(ENOENT),
            _ => {}
        }
        if state.changing {
            return Err(EBUSY);
        }
        let new = new()?;
        let same = match (&state.ioas, &new) {
            (Some(cur), Some(new)) => cur.serial() == new.serial(),
            (None, None) => true,
            _ => false,
        };
        if same {
            return Ok(());
        }
        if let Some(new) = &new {
            new.attach_access(self.clone(), self.needs_pin)?;
        }
        if state.ioas.is_some() {
            if let Some(ops) = &self.ops {
                state.changing = true;
                drop(state);
                ops.unmap(0, u64::MAX);
                state = self.state.lock();
                state.changing = false;
            }
            if let Some(old) = state.ioas.take() {
                self.drop_items(&old, ALL);
                old.detach_access(self, self.needs_pin);
            }
        }
        let detach = new.is_none();
        state.ioas = new;
        drop(state);
        if detach {
            // Notifications that found the access before it left its IOAS:
            // none may run once a detach returns.
            self.wait_calls(false);
        }
        Ok(())
    }

    /// Pins the whole pages mapped at `range`, for writing if `write`, and
    /// returns them, for [`Self::unpin`] to give back. `ENOENT` while
    /// detached or if `range` is not all mapped, `EINVAL` if it does not
    /// cover whole pages or an unmap waits for it, `EPERM` if the mapping
    /// does not allow the access. Returns the item's id too.
    pub(crate) fn pin(&self, range: IovaRange, write: bool) -> Result<(u32, KVVec<PinnedPage>)> {
        let state = self.state.lock();
        let ioas = match &state.ioas {
            Some(ioas) if !state.changing => ioas,
            _ => return Err(ENOENT),
        };
        let mut items = self.items.lock();
        items.list.reserve(1, GFP_KERNEL_ACCOUNT)?;
        let (pins, pages) = ioas.iopt.lock().access_pin(range, write)?;
        let id = items.next_id;
        items.next_id = id.wrapping_add(1);
        let item = Item { id, range, pins };
        // Room was reserved above.
        if let Err(item) = items.list.push_within_capacity(item) {
            ioas.iopt.lock().access_unpin(&item.0.pins);
            return Err(ENOMEM);
        }
        Ok((id, pages))
    }

    /// Pins `length` bytes at `iova` and, if `uptr` is not 0, checks that
    /// they are the pages of userspace's `uptr`. Returns the item's id.
    #[cfg(iommufd_rs_selftest)]
    pub(crate) fn pin_pages(&self, iova: u64, length: u64, uptr: u64, write: bool) -> Result<u32> {
        if !self.needs_pin {
            return Err(EOPNOTSUPP);
        }
        let range = IovaRange::from_len(iova, length)?;
        let (id, pages) = self.pin(range, write)?;
        if uptr != 0 {
            // An address that wraps is simply not mapped: EFAULT from GUP.
            let at = usize::try_from(uptr.wrapping_sub(iova % PAGE_SIZE)).map_err(|_| EFAULT);
            if let Err(e) = at.and_then(|at| glue::check_pages(at, &pages)) {
                // Ignoring a second failure: the item is gone either way.
                let _ = self.destroy_item(id);
                return Err(e);
            }
        }
        Ok(id)
    }

    /// Gives back the pin of exactly `range`: `ENOENT` if there is none.
    pub(crate) fn unpin(&self, range: IovaRange) -> Result {
        self.remove_item(|i| i.range.start == range.start && i.range.last == range.last)
    }

    /// Reads (`write` false) or writes `data` at `iova` as a device would;
    /// `slow` forces the path that pins the pages for the copy. `ENOENT`
    /// while detached.
    pub(crate) fn rw(&self, iova: u64, data: &mut [u8], write: bool, slow: bool) -> Result {
        let range = IovaRange::from_len(iova, data.len() as u64)?;
        let state = self.state.lock();
        let ioas = match &state.ioas {
            Some(ioas) if !state.changing => ioas,
            _ => return Err(ENOENT),
        };
        let mut iopt = ioas.iopt.lock();
        iopt.access_rw(range, data, write, slow)
    }

    /// Unpins item `id`: `ENOENT` if there is none.
    #[cfg(iommufd_rs_selftest)]
    pub(crate) fn destroy_item(&self, id: u32) -> Result {
        self.remove_item(|i| i.id == id)
    }

    /// Unpins the first item for which `pred` holds: `ENOENT` if none.
    fn remove_item(&self, pred: impl Fn(&Item) -> bool) -> Result {
        let state = self.state.lock();
        let ioas = state.ioas.as_ref().ok_or(ENOENT)?;
        let mut items = self.items.lock();
        let at = items.list.iter().position(pred).ok_or(ENOENT)?;
        let item = items.list.remove(at)?;
        ioas.iopt.lock().access_unpin(&item.pins);
        Ok(())
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

    /// Ends the access: no notification runs once this returns, and it is
    /// detached, the driver asked to unpin everything first. Every pin left
    /// is let go.
    pub(crate) fn shutdown(self: &Arc<Self>) {
        self.wait_calls(true);
        // Detaching cannot fail, but while another change waits for the
        // driver, which is the driver's bug (upstream warns).
        let res = self.change_ioas(Expect::Any, || Ok(None));
        kernel::warn_on!(res.is_err());
        self.calls.lock().shut = true;
        self.calls_done.notify_all();
    }
}
