// SPDX-License-Identifier: GPL-2.0

//! The memory behind IOAS areas.
//!
//! A [`Pages`] is one contiguous range of user memory, named when it is
//! mapped: a user virtual range in the mapping process's mm, or a byte range
//! of a file. Nothing is read, faulted or pinned at map time; the pages are
//! pinned once something needs their physical addresses (a domain filled from
//! the IOAS, or an in-kernel access), and several areas, in one IOAS or
//! several after `IOMMU_IOAS_COPY`, share one `Pages` and so one pin and one
//! charge.

use kernel::{
    alloc::flags::GFP_KERNEL_ACCOUNT,
    fs::File,
    mm::Mm,
    prelude::*,
    sync::{
        aref::ARef,
        Arc, //
    },
};

use crate::iova::PAGE_SIZE;

/// Where the bytes of a [`Pages`] come from.
pub(crate) enum Source {
    /// User memory of a process, from the page-aligned address `uptr`.
    User {
        /// The first byte of the first page.
        uptr: u64,
        /// The address space `uptr` is in.
        #[expect(dead_code, reason = "read when the pages are pinned")]
        mm: ARef<Mm>,
    },
    /// A file, from the page-aligned offset `start`.
    File {
        /// The first byte of the first page.
        start: u64,
        /// The file, kept open.
        #[expect(dead_code, reason = "read when the pages are pinned")]
        file: ARef<File>,
    },
}

/// A contiguous, page-granular range of memory that areas map.
pub(crate) struct Pages {
    source: Source,
    /// The number of pages in the range.
    npages: u64,
    /// Whether the device may write: pinned with `FOLL_WRITE`.
    writable: bool,
}

impl Pages {
    /// Describes `length` bytes at `addr` of `source`'s space, where `addr` is
    /// a user address or a file offset. `EINVAL` for an empty or huge length.
    pub(crate) fn new(
        addr: u64,
        length: u64,
        writable: bool,
        source: impl FnOnce(u64) -> Source,
    ) -> Result<(Arc<Self>, u64)> {
        if length == 0 || length > u64::MAX - PAGE_SIZE {
            return Err(EINVAL);
        }
        let start_byte = addr % PAGE_SIZE;
        let npages = length
            .checked_add(start_byte)
            .and_then(|n| n.checked_add(PAGE_SIZE - 1))
            .ok_or(EOVERFLOW)?
            / PAGE_SIZE;
        let pages = Arc::new(
            Self {
                source: source(addr - start_byte),
                npages,
                writable,
            },
            GFP_KERNEL_ACCOUNT,
        )?;
        Ok((pages, start_byte))
    }

    /// Whether the pages may be mapped writable.
    pub(crate) fn writable(&self) -> bool {
        self.writable
    }

    /// The number of pages.
    #[expect(dead_code, reason = "used by pinning")]
    pub(crate) fn npages(&self) -> u64 {
        self.npages
    }

    /// The backing address (user VA or file offset) of byte `start_byte`,
    /// which automatic IOVA allocation aligns to.
    pub(crate) fn addr_of(&self, start_byte: u64) -> u64 {
        let base = match &self.source {
            Source::User { uptr, .. } => *uptr,
            Source::File { start, .. } => *start,
        };
        base.wrapping_add(start_byte)
    }
}
