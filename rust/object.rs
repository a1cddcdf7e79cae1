// SPDX-License-Identifier: GPL-2.0

//! The per-file object table.
//!
//! Every object an iommufd file creates lives here under a small integer id,
//! allocated lowest-free from 1 to `i32::MAX` as upstream's `xa_alloc` does.
//!
//! Publication has two phases: [`ObjectTable::reserve`] takes an id for a
//! fully built object and returns a [`Pending`] guard; the ioctl may still
//! fail (typically while writing the id back to userspace), and dropping the
//! guard then releases the id. Only [`Pending::publish`], which cannot fail,
//! makes the object visible to lookups.
//!
//! Each object counts its users: one for the table and one per live
//! [`ObjRef`]. An object is destroyed only when the table holds the last user,
//! so anything that refers to an object keeps it alive and makes
//! `IOMMU_DESTROY` fail with `EBUSY`. A [`WeakObj`] names an object without
//! keeping it, by id and serial.

#![deny(unsafe_code)]

use core::{
    marker::PhantomData,
    ops::Deref, //
};
use kernel::{
    alloc::flags::GFP_KERNEL_ACCOUNT,
    prelude::*,
    sync::{
        atomic::{
            Atomic,
            Full,
            Relaxed, //
        },
        new_condvar,
        new_spinlock,
        Arc,
        CondVar,
        CondVarTimeoutResult,
        SpinLock, //
    },
    time::{
        delay::fsleep,
        msecs_to_jiffies,
        Delta, //
    },
};

#[cfg(iommufd_rs_selftest)]
use crate::selftest::MockDevice;
use crate::{
    access::Access,
    device::Device,
    fault::Fault,
    glue::SyncMapleTreeAlloc,
    hw_pagetable::Hwpt,
    ioas::Ioas,
    viommu::{
        Vdevice,
        Viommu, //
    },
};

/// The highest object id, as `xa_limit_31b`.
const ID_MAX: usize = i32::MAX as usize;

/// What an object is.
pub(crate) enum ObjectKind {
    /// A driver's in-kernel access.
    Access(Arc<Access>),
    /// An I/O address space.
    Ioas(Arc<Ioas>),
    /// A hardware page table, paging or nested.
    Hwpt(Arc<Hwpt>),
    /// A bound device.
    Device(Arc<Device>),
    /// A page fault queue.
    Fault(Arc<Fault>),
    /// A virtual IOMMU.
    Viommu(Arc<Viommu>),
    /// A device behind a virtual IOMMU.
    Vdevice(Arc<Vdevice>),
    /// A selftest mock device.
    #[cfg(iommufd_rs_selftest)]
    MockDevice(Arc<MockDevice>),
}

/// An object of the table.
pub(crate) struct Object {
    id: u32,
    /// Unique in the table's lifetime, unlike `id`, which is reused.
    serial: u64,
    /// One for the table and one per [`ObjRef`]; zero once destruction has
    /// begun, after which no new reference can be taken.
    users: Atomic<i32>,
    /// The table's waiters for objects to become unused.
    wait: Arc<DestroyWait>,
    pub(crate) kind: ObjectKind,
}

/// Where [`ObjectTable::destroy_wait`] waits for an object's other users to
/// go, as upstream's `destroy_wait`: the last [`ObjRef`] of an object wakes
/// the waiters, if there are any.
#[pin_data]
struct DestroyWait {
    /// How many wait; nobody takes the lock below while none does.
    waiters: Atomic<u32>,
    /// Counts the wake-ups, so that a waiter sees one it would miss between
    /// its check and its sleep.
    #[pin]
    wakeups: SpinLock<u64>,
    #[pin]
    cv: CondVar,
}

impl DestroyWait {
    /// An object lost a user: wakes the waiters.
    fn wake(&self) {
        // The caller's `fetch_sub` is fully ordered: it comes before this
        // load, as a waiter's `fetch_add` comes before its check.
        if self.waiters.load(Relaxed) == 0 {
            return;
        }
        let mut n = self.wakeups.lock();
        *n = n.wrapping_add(1);
        self.cv.notify_all();
    }
}

/// How long [`ObjectTable::destroy_wait`] waits for short-term users: a
/// minute, as upstream.
const DESTROY_WAIT_MS: u32 = 60_000;

impl Object {
    /// Takes a user reference unless destruction has already begun.
    fn try_get(&self) -> bool {
        let mut cur = self.users.load(Relaxed);
        loop {
            if cur == 0 {
                return false;
            }
            let Some(next) = cur.checked_add(1) else {
                return false;
            };
            match self.users.cmpxchg(cur, next, Full) {
                Ok(_) => return true,
                Err(seen) => cur = seen,
            }
        }
    }

    /// Begins destruction if the table holds the only user: `EBUSY` if
    /// others do, `ENOENT` if destruction has already begun.
    fn try_retire(&self) -> Result {
        match self.users.cmpxchg(1, 0, Full) {
            Ok(_) => Ok(()),
            Err(0) => Err(ENOENT),
            Err(_) => Err(EBUSY),
        }
    }
}

/// A slot of the table.
enum Entry {
    /// The id is taken by an object that is not published yet.
    Reserved,
    /// A published object.
    Live(Arc<Object>),
}

/// A type of object that can be looked up by id.
pub(crate) trait ObjectType: Sized {
    /// Returns the object as `Self`, or `None` if it is of another type.
    fn cast(kind: &ObjectKind) -> Option<&Arc<Self>>;
}

/// A counted reference to an object of type `T`.
///
/// While it lives the object cannot be destroyed; dropping it is the "put".
pub(crate) struct ObjRef<T> {
    obj: Arc<Object>,
    inner: Arc<T>,
}

impl<T> ObjRef<T> {
    /// The id of the referenced object.
    pub(crate) fn id(&self) -> u32 {
        self.obj.id
    }

    /// The object itself, without keeping it from being destroyed.
    pub(crate) fn arc(&self) -> Arc<T> {
        self.inner.clone()
    }

    /// A number no other object of the table ever had, to tell an object
    /// from a later one that reuses its id.
    pub(crate) fn serial(&self) -> u64 {
        self.obj.serial
    }

    /// A weak reference to the same object.
    pub(crate) fn downgrade(&self) -> WeakObj<T> {
        WeakObj {
            id: self.obj.id,
            serial: self.obj.serial,
            _t: PhantomData,
        }
    }
}

/// A weak reference to an object of type `T`: its id and serial. It keeps
/// nothing alive, and finds the object only while the id names it, not a
/// later object that reuses the id.
pub(crate) struct WeakObj<T> {
    id: u32,
    serial: u64,
    _t: PhantomData<fn() -> T>,
}

impl<T> Clone for WeakObj<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for WeakObj<T> {}

impl<T> WeakObj<T> {
    /// The object `reserve_with` gave id `id` and serial `serial`.
    pub(crate) fn from_parts(id: u32, serial: u64) -> Self {
        Self {
            id,
            serial,
            _t: PhantomData,
        }
    }

    /// Whether `r` is the object.
    pub(crate) fn is(&self, r: &ObjRef<T>) -> bool {
        self.serial == r.serial()
    }

    /// Whether `other` names the same object.
    pub(crate) fn same(&self, other: &Self) -> bool {
        self.id == other.id && self.serial == other.serial
    }

    /// The object's serial.
    pub(crate) fn serial(&self) -> u64 {
        self.serial
    }
}

impl<T: ObjectType> WeakObj<T> {
    /// A counted reference to the object: `ENOENT` if it is gone, being
    /// destroyed, or its id is another object's now.
    pub(crate) fn get(&self, table: &ObjectTable) -> Result<ObjRef<T>> {
        let r = table.get::<T>(self.id)?;
        if !self.is(&r) {
            return Err(ENOENT);
        }
        Ok(r)
    }
}

impl<T> ObjRef<T> {
    /// Another reference to the same object: `ENOENT` if it is being
    /// destroyed.
    pub(crate) fn clone_ref(&self) -> Result<Self> {
        if !self.obj.try_get() {
            return Err(ENOENT);
        }
        Ok(Self {
            obj: self.obj.clone(),
            inner: self.inner.clone(),
        })
    }
}

impl<T> Deref for ObjRef<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.inner
    }
}

impl<T> Drop for ObjRef<T> {
    fn drop(&mut self) {
        // Down to the table's own: the object may be destroyed now.
        if self.obj.users.fetch_sub(1, Full) == 2 {
            self.obj.wait.wake();
        }
    }
}

/// The objects of one iommufd file. The file's release destroys them, with
/// [`ObjectTable::destroy_all`].
#[pin_data]
pub(crate) struct ObjectTable {
    #[pin]
    ids: SyncMapleTreeAlloc<KBox<Entry>>,
    next_serial: Atomic<u64>,
    wait: Arc<DestroyWait>,
}

/// An object whose id is reserved but which lookups cannot see yet.
///
/// Dropping it without [`Pending::publish`] releases the id and the object.
pub(crate) struct Pending<'a> {
    table: &'a ObjectTable,
    obj: Arc<Object>,
    published: bool,
}

impl Pending<'_> {
    /// The id the object will be published under.
    pub(crate) fn id(&self) -> u32 {
        self.obj.id
    }

    /// A reference to the object before it is published.
    pub(crate) fn get<T: ObjectType>(&self) -> Result<ObjRef<T>> {
        let inner = T::cast(&self.obj.kind).ok_or(ENOENT)?;
        if !self.obj.try_get() {
            return Err(ENOENT);
        }
        Ok(ObjRef {
            obj: self.obj.clone(),
            inner: inner.clone(),
        })
    }

    /// Makes the object visible to lookups. Cannot fail.
    pub(crate) fn publish(mut self) {
        let mut guard = self.table.ids.lock();
        if let Some(entry) = guard.load(self.obj.id as usize) {
            *entry = Entry::Live(self.obj.clone());
            self.published = true;
        }
    }
}

impl Drop for Pending<'_> {
    fn drop(&mut self) {
        if !self.published {
            // The entry is `Reserved`: erasing it only gives the id back.
            drop(self.table.ids.erase(self.obj.id as usize));
        }
    }
}

impl ObjectTable {
    /// Creates an empty table.
    pub(crate) fn new() -> impl PinInit<Self, Error> {
        try_pin_init!(Self {
            ids <- SyncMapleTreeAlloc::new(),
            next_serial: Atomic::new(0),
            wait: Arc::pin_init(
                pin_init!(DestroyWait {
                    waiters: Atomic::new(0),
                    wakeups <- new_spinlock!(0),
                    cv <- new_condvar!(),
                }),
                GFP_KERNEL_ACCOUNT,
            )?,
        })
    }

    /// Reserves an id for `kind`. The object stays invisible until the
    /// returned guard is published.
    pub(crate) fn reserve(&self, kind: ObjectKind) -> Result<Pending<'_>> {
        self.reserve_with(|_, _| Ok((kind, ()))).map(|(p, ())| p)
    }

    /// Reserves an id and builds the object with it: `f` gets the id and
    /// the object's serial, by which it can know itself from a later object
    /// with its id, and returns the object and anything else for the caller.
    pub(crate) fn reserve_with<R>(
        &self,
        f: impl FnOnce(u32, u64) -> Result<(ObjectKind, R)>,
    ) -> Result<(Pending<'_>, R)> {
        let entry = KBox::new(Entry::Reserved, GFP_KERNEL_ACCOUNT)?;
        let index = self
            .ids
            .alloc_range(1, entry, 1..=ID_MAX, GFP_KERNEL_ACCOUNT)
            .map_err(Error::from)?;
        let built = u32::try_from(index).map_err(|_| EOVERFLOW).and_then(|id| {
            let serial = self.next_serial.fetch_add(1, Relaxed);
            let (kind, extra) = f(id, serial)?;
            let obj = Object {
                id,
                serial,
                users: Atomic::new(1),
                wait: self.wait.clone(),
                kind,
            };
            Ok((Arc::new(obj, GFP_KERNEL_ACCOUNT)?, extra))
        });
        match built {
            Ok((obj, extra)) => Ok((
                Pending {
                    table: self,
                    obj,
                    published: false,
                },
                extra,
            )),
            Err(e) => {
                drop(self.ids.erase(index));
                Err(e)
            }
        }
    }

    /// Runs `f` if the table holds no object, published or not, with the
    /// table locked so that none can appear meanwhile: `EBUSY` otherwise.
    /// `f` runs under a spinlock and must not sleep.
    pub(crate) fn if_empty(&self, f: impl FnOnce()) -> Result {
        let mut guard = self.ids.lock();
        let mut mas = guard.ma_state(0, ID_MAX);
        if mas.find(ID_MAX).is_some() {
            return Err(EBUSY);
        }
        f();
        Ok(())
    }

    /// Looks up object `id` as a `T`. Unknown ids, unpublished objects,
    /// objects being destroyed and objects of another type are all `ENOENT`.
    pub(crate) fn get<T: ObjectType>(&self, id: u32) -> Result<ObjRef<T>> {
        let mut guard = self.ids.lock();
        let Some(entry) = guard.load(id as usize) else {
            return Err(ENOENT);
        };
        let Entry::Live(obj) = &*entry else {
            return Err(ENOENT);
        };
        let inner = T::cast(&obj.kind).ok_or(ENOENT)?;
        if !obj.try_get() {
            return Err(ENOENT);
        }
        Ok(ObjRef {
            obj: obj.clone(),
            inner: inner.clone(),
        })
    }

    /// Destroys object `id` if it is a `T` for which `pred` holds
    /// (`ENOENT` otherwise).
    pub(crate) fn destroy_if<T: ObjectType>(&self, id: u32, pred: impl Fn(&T) -> bool) -> Result {
        self.remove(id, |k| T::cast(k).is_some_and(|t| pred(t)))
            .map(drop)
    }

    /// References to every published object of type `T`, lowest id first.
    pub(crate) fn all<T: ObjectType>(&self) -> Result<KVec<ObjRef<T>>> {
        let mut out = KVec::new();
        let mut start = 1usize;
        loop {
            // Found under the tree's spinlock, kept after it: the vector
            // grows with the lock released.
            let found = {
                let mut guard = self.ids.lock();
                let mut mas = guard.ma_state(start, ID_MAX);
                let mut found = None;
                while let Some(entry) = mas.find(ID_MAX) {
                    let Entry::Live(obj) = &*entry else {
                        continue;
                    };
                    let Some(inner) = T::cast(&obj.kind) else {
                        continue;
                    };
                    if obj.try_get() {
                        found = Some(ObjRef {
                            obj: obj.clone(),
                            inner: inner.clone(),
                        });
                        break;
                    }
                }
                found
            };
            let Some(r) = found else {
                return Ok(out);
            };
            start = r.id() as usize + 1;
            out.push(r, GFP_KERNEL_ACCOUNT)?;
        }
    }

    /// Destroys object `weak` if `pred` holds: `ENOENT` if it is gone or
    /// another object has the id, `EBUSY` while it is in use.
    pub(crate) fn destroy_weak<T: ObjectType>(
        &self,
        weak: &WeakObj<T>,
        pred: &impl Fn(&T) -> bool,
    ) -> Result {
        self.remove_if(weak.id, |obj| {
            obj.serial == weak.serial && T::cast(&obj.kind).is_some_and(|t| pred(t))
        })
        .map(drop)
    }

    /// As [`Self::destroy_weak`], but while the object is in use, waits a
    /// while for its other users to go, as upstream waits for short-term
    /// users: signals do not cut the wait short (it is the release path of
    /// a driver, which must not fail because its process was killed). Gives
    /// up (`EBUSY`) after [`DESTROY_WAIT_MS`].
    ///
    /// 7.3's `CondVar` has no uninterruptible timed wait: with a signal
    /// pending, the interruptible one returns at once, so the wait goes on
    /// by sleeping a millisecond at a time between checks.
    pub(crate) fn destroy_wait<T: ObjectType>(
        &self,
        weak: &WeakObj<T>,
        pred: impl Fn(&T) -> bool,
    ) -> Result {
        let wait = &self.wait;
        let mut left = msecs_to_jiffies(DESTROY_WAIT_MS);
        wait.waiters.fetch_add(1, Full);
        let res = loop {
            let seen = *wait.wakeups.lock();
            match self.destroy_weak(weak, &pred) {
                Err(e) if e == EBUSY => {}
                res => break res,
            }
            let mut wakeups = wait.wakeups.lock();
            if *wakeups != seen {
                // A user went since the check: check again.
                continue;
            }
            match wait.cv.wait_interruptible_timeout(&mut wakeups, left) {
                CondVarTimeoutResult::Woken { jiffies } => left = jiffies,
                CondVarTimeoutResult::Timeout => break Err(EBUSY),
                CondVarTimeoutResult::Signal { jiffies } => {
                    drop(wakeups);
                    fsleep(Delta::from_millis(1));
                    left = jiffies.saturating_sub(msecs_to_jiffies(1));
                    if left == 0 {
                        break Err(EBUSY);
                    }
                }
            }
        };
        wait.waiters.fetch_sub(1, Full);
        res
    }

    /// Whether a published object has id `id`.
    fn exists(&self, id: u32) -> bool {
        let mut guard = self.ids.lock();
        matches!(guard.load(id as usize).map(|e| &*e), Some(Entry::Live(_)))
    }

    /// As [`Self::get`], but an object of another type is `EINVAL`, as where
    /// upstream looks an id up as any object and then switches on its type.
    pub(crate) fn get_typed<T: ObjectType>(&self, id: u32) -> Result<ObjRef<T>> {
        self.get::<T>(id)
            .map_err(|e| if self.exists(id) { EINVAL } else { e })
    }

    /// Retires object `id` if `pred` accepts it and nothing else uses it,
    /// and takes it out of the table. The caller drops it, which destroys
    /// it, after anything that must come first.
    pub(crate) fn remove(
        &self,
        id: u32,
        pred: impl Fn(&ObjectKind) -> bool,
    ) -> Result<Arc<Object>> {
        self.remove_if(id, |obj| pred(&obj.kind))
    }

    fn remove_if(&self, id: u32, pred: impl Fn(&Object) -> bool) -> Result<Arc<Object>> {
        let obj = {
            let mut guard = self.ids.lock();
            let Some(entry) = guard.load(id as usize) else {
                return Err(ENOENT);
            };
            let Entry::Live(obj) = &*entry else {
                return Err(ENOENT);
            };
            if !pred(obj) {
                return Err(ENOENT);
            }
            obj.try_retire()?;
            obj.clone()
        };
        // The object is retired: no lookup can take it any more, and the
        // teardown runs outside the tree's spinlock.
        drop(self.ids.erase(id as usize));
        Ok(obj)
    }

    /// Destroys every object, each before what it depends on, as the file
    /// closes. Objects refer to each other: destroy the ones nothing uses,
    /// and repeat until the table is empty.
    pub(crate) fn destroy_all(&self) {
        loop {
            let mut destroyed = 0usize;
            let mut any = false;
            let mut start = 1;
            loop {
                let (found, seen) = self.retire_next_leaf(start);
                any |= seen;
                let Some(id) = found else {
                    break;
                };
                destroyed += 1;
                start = id + 1;
            }
            if !any {
                break;
            }
            if destroyed == 0 {
                // A reference cycle, which is a bug here. The tree's own drop
                // still frees what is left.
                pr_err!("objects still in use at close\n");
                break;
            }
        }
    }

    /// Retires and removes the first object at or after `start` that nothing
    /// else uses. Returns its id, or `None` (and whether any object was seen)
    /// when there is none.
    fn retire_next_leaf(&self, start: usize) -> (Option<usize>, bool) {
        let mut seen = false;
        let found = {
            let mut guard = self.ids.lock();
            let mut mas = guard.ma_state(start, ID_MAX);
            let mut found = None;
            while let Some(entry) = mas.find(ID_MAX) {
                seen = true;
                if let Entry::Live(obj) = &*entry {
                    if obj.try_retire().is_ok() {
                        found = Some(obj.id as usize);
                        break;
                    }
                }
            }
            found
        };
        if let Some(id) = found {
            drop(self.ids.erase(id));
        }
        (found, seen)
    }
}
