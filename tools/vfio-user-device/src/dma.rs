// SPDX-License-Identifier: GPL-2.0

//! The device's view of DMA: the IOVA ranges the client (QEMU) maps with
//! DMA_MAP, each backed by a file it passes (guest RAM, a shared memfd)
//! that is mapped here once per file. With a vIOMMU, QEMU sends the IOVA
//! space of the device's IOMMU domain, so a DMA reaches exactly what the
//! guest's IOMMU maps; anything else faults.

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;
use std::rc::Rc;

use vfio_user::DmaMapFlags;

/// A whole file mapped shared.
struct Mapping {
    ptr: *mut u8,
    len: usize,
    writable: bool,
}

impl Mapping {
    fn new(file: &File) -> io::Result<Mapping> {
        // SAFETY: an all-zero stat is a valid value, and fstat fills it in.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        // SAFETY: the fd is open for the duration of the call, st is ours.
        if unsafe { libc::fstat(file.as_raw_fd(), &mut st) } != 0 {
            return Err(io::Error::last_os_error());
        }
        let len = usize::try_from(st.st_size)
            .ok()
            .filter(|&l| l > 0)
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "empty file"))?;
        let mut writable = true;
        let mut ptr = libc::MAP_FAILED;
        for prot in [libc::PROT_READ | libc::PROT_WRITE, libc::PROT_READ] {
            // SAFETY: a new shared mapping of a file at an address the
            // kernel picks; it touches no memory of ours.
            ptr = unsafe {
                libc::mmap(
                    std::ptr::null_mut(),
                    len,
                    prot,
                    libc::MAP_SHARED,
                    file.as_raw_fd(),
                    0,
                )
            };
            if ptr != libc::MAP_FAILED {
                break;
            }
            writable = false;
        }
        if ptr == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        Ok(Mapping {
            ptr: ptr.cast(),
            len,
            writable,
        })
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: ptr and len are a mapping made in new() and used by
        // nothing else once the last reference is gone.
        unsafe { libc::munmap(self.ptr.cast(), self.len) };
    }
}

/// One mapped IOVA range.
#[derive(Clone)]
struct Entry {
    size: u64,
    flags: DmaMapFlags,
    /// The file mapping and the range's offset in it; None when the client
    /// passed no file (the range exists but the device cannot reach it).
    backing: Option<(Rc<Mapping>, u64)>,
}

#[derive(Default)]
pub(crate) struct DmaSpace {
    entries: BTreeMap<u64, Entry>,
    files: HashMap<(u64, u64), Rc<Mapping>>,
    pub(crate) verbose: bool,
}

/// Why a DMA did not complete: the first IOVA it could not reach.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Fault(pub(crate) u64);

impl DmaSpace {
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    fn mapping(&mut self, file: &File) -> io::Result<Rc<Mapping>> {
        // SAFETY: as in Mapping::new.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        // SAFETY: as in Mapping::new.
        if unsafe { libc::fstat(file.as_raw_fd(), &mut st) } != 0 {
            return Err(io::Error::last_os_error());
        }
        let key = (st.st_dev, st.st_ino);
        if let Some(m) = self.files.get(&key) {
            if u64::try_from(m.len).ok() == u64::try_from(st.st_size).ok() {
                return Ok(m.clone());
            }
        }
        let m = Rc::new(Mapping::new(file)?);
        self.files.insert(key, m.clone());
        Ok(m)
    }

    pub(crate) fn map(
        &mut self,
        flags: DmaMapFlags,
        offset: u64,
        iova: u64,
        size: u64,
        file: Option<File>,
    ) -> io::Result<()> {
        if size == 0 {
            return Ok(());
        }
        let end = iova
            .checked_add(size)
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "IOVA range wraps"))?;
        let backing = match file {
            None => None,
            Some(f) => match self.mapping(&f) {
                Ok(m) => {
                    let fits = offset
                        .checked_add(size)
                        .is_some_and(|e| usize::try_from(e).is_ok_and(|e| e <= m.len));
                    if fits {
                        Some((m, offset))
                    } else {
                        eprintln!(
                            "vfio-user-device: DMA map {iova:#x}+{size:#x} at file offset {offset:#x} is past the file's end; unreachable"
                        );
                        None
                    }
                }
                Err(e) => {
                    eprintln!(
                        "vfio-user-device: DMA map {iova:#x}+{size:#x}: cannot map its file: {e}"
                    );
                    None
                }
            },
        };
        if self.verbose {
            eprintln!(
                "vfio-user-device: map {iova:#x}-{:#x} {flags:?}{}",
                end - 1,
                if backing.is_some() { "" } else { " (no file)" }
            );
        }
        // A new map replaces whatever it overlaps.
        self.remove(iova, size);
        self.entries.insert(
            iova,
            Entry {
                size,
                flags,
                backing,
            },
        );
        // Drop the files no range uses any more.
        self.files.retain(|_, m| Rc::strong_count(m) > 1);
        Ok(())
    }

    /// The client's unmap of [iova, iova + size).
    pub(crate) fn unmap(&mut self, iova: u64, size: u64) {
        if self.verbose && size > 0 {
            eprintln!(
                "vfio-user-device: unmap {iova:#x}-{:#x}",
                iova.saturating_add(size - 1)
            );
        }
        self.remove(iova, size);
    }

    /// Removes [iova, iova + size), splitting ranges it cuts.
    fn remove(&mut self, iova: u64, size: u64) {
        let end = iova.saturating_add(size);
        if size == 0 {
            return;
        }
        let hit: Vec<u64> = self
            .entries
            .range(..end)
            .filter(|(&s, e)| s.saturating_add(e.size) > iova)
            .map(|(&s, _)| s)
            .collect();
        for start in hit {
            let Some(e) = self.entries.remove(&start) else {
                continue;
            };
            let e_end = start.saturating_add(e.size);
            if start < iova {
                let mut head = e.clone();
                head.size = iova - start;
                self.entries.insert(start, head);
            }
            if e_end > end {
                let mut tail = e;
                tail.size = e_end - end;
                if let Some((_, off)) = tail.backing.as_mut() {
                    *off += end - start;
                }
                self.entries.insert(end, tail);
            }
        }
        self.files.retain(|_, m| Rc::strong_count(m) > 1);
    }

    pub(crate) fn unmap_all(&mut self) {
        if self.verbose {
            eprintln!("vfio-user-device: unmap all");
        }
        self.entries.clear();
        self.files.clear();
    }

    /// The host address of iova and how many bytes from there stay in its
    /// range, if the device may access it (writing if write).
    fn translate(&self, iova: u64, write: bool) -> Option<(*mut u8, u64)> {
        let (&start, e) = self.entries.range(..=iova).next_back()?;
        let left = start
            .checked_add(e.size)?
            .checked_sub(iova)
            .filter(|&l| l > 0)?;
        let need = if write {
            DmaMapFlags::WRITE
        } else {
            DmaMapFlags::READ
        };
        if !e.flags.contains(need) {
            return None;
        }
        let (m, off) = e.backing.as_ref()?;
        if write && !m.writable {
            return None;
        }
        // map() checked that off + size is within the mapping.
        let at = usize::try_from(off + (iova - start)).ok()?;
        // SAFETY: at is below m.len (see above), so the result stays in
        // the mapping.
        Some((unsafe { m.ptr.add(at) }, left))
    }

    fn access(
        &self,
        iova: u64,
        len: usize,
        write: bool,
        mut f: impl FnMut(*mut u8, usize, usize),
    ) -> Result<(), Fault> {
        let mut done = 0usize;
        while done < len {
            let at = iova.checked_add(done as u64).ok_or(Fault(iova))?;
            let (host, left) = self.translate(at, write).ok_or(Fault(at))?;
            let n = usize::try_from(left).unwrap_or(usize::MAX).min(len - done);
            f(host, done, n);
            done += n;
        }
        Ok(())
    }

    /// Device reads memory at iova into buf.
    pub(crate) fn read(&self, iova: u64, buf: &mut [u8]) -> Result<(), Fault> {
        let dst = buf.as_mut_ptr();
        self.access(iova, buf.len(), false, |host, done, n| {
            // SAFETY: host..host+n lies in one live mapping (translate), and
            // done + n is within buf; guest memory is only ever touched
            // through raw copies, never through references.
            unsafe { std::ptr::copy_nonoverlapping(host, dst.add(done), n) };
        })
    }

    /// Device writes buf to memory at iova.
    pub(crate) fn write(&self, iova: u64, buf: &[u8]) -> Result<(), Fault> {
        let src = buf.as_ptr();
        self.access(iova, buf.len(), true, |host, done, n| {
            // SAFETY: as in read(), the other way.
            unsafe { std::ptr::copy_nonoverlapping(src.add(done), host, n) };
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Seek, SeekFrom, Write};

    fn memfile(len: usize) -> Option<File> {
        let path = std::env::temp_dir().join(format!("vfu-dma-test-{}", std::process::id()));
        let mut f = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)
            .ok()?;
        std::fs::remove_file(&path).ok()?;
        f.write_all(&vec![0u8; len]).ok()?;
        Some(f)
    }

    #[test]
    fn map_access_split_unmap() {
        let Some(mut file) = memfile(0x4000) else {
            panic!("temp file")
        };
        let Ok(clone) = file.try_clone() else {
            panic!("clone")
        };
        let mut d = DmaSpace::default();
        assert!(d
            .map(
                DmaMapFlags::READ_WRITE,
                0x1000,
                0x10000,
                0x2000,
                Some(clone)
            )
            .is_ok());
        assert_eq!(d.write(0x10ffe, &[1, 2, 3, 4]), Ok(()));
        let mut back = [0u8; 4];
        assert!(file.seek(SeekFrom::Start(0x1ffe)).is_ok());
        assert!(file.read_exact(&mut back).is_ok());
        assert_eq!(back, [1, 2, 3, 4]);
        assert_eq!(d.write(0x11ffe, &[0; 4]), Err(Fault(0x12000)));
        assert_eq!(d.read(0xf000, &mut back), Err(Fault(0xf000)));
        // Cut the middle page out: the halves stay reachable.
        d.unmap(0x10800, 0x1000);
        assert_eq!(d.len(), 2);
        assert_eq!(d.read(0x107fc, &mut back), Ok(()));
        assert_eq!(d.read(0x10800, &mut back), Err(Fault(0x10800)));
        assert_eq!(d.read(0x11800, &mut back), Ok(()));
        d.unmap_all();
        assert_eq!(d.read(0x11800, &mut back), Err(Fault(0x11800)));
        // Read-only ranges refuse device writes.
        let Ok(clone) = file.try_clone() else {
            panic!("clone")
        };
        assert!(d.map(DmaMapFlags::READ, 0, 0, 0x1000, Some(clone)).is_ok());
        assert_eq!(d.write(0, &[0]), Err(Fault(0)));
        // Past the file's end: mapped, unreachable.
        let Ok(clone) = file.try_clone() else {
            panic!("clone")
        };
        assert!(d
            .map(DmaMapFlags::READ_WRITE, 0x3000, 0x1000, 0x2000, Some(clone))
            .is_ok());
        assert_eq!(d.read(0x1000, &mut back), Err(Fault(0x1000)));
    }
}
