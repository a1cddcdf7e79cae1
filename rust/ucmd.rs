// SPDX-License-Identifier: GPL-2.0

//! The iommufd ioctl contract, shared by every command.
//!
//! Every iommufd command is `_IO(';', nr)`, so the size encoded in the command
//! number is zero and carries no information. Instead the first `u32` of the
//! argument is the size of the struct as userspace knows it. It is read once;
//! a size below the command's last mandatory field is `EINVAL`; the common
//! prefix is copied in and any byte userspace sent beyond our struct must be
//! zero, else `E2BIG`; the answer is written back truncated to the user's size.
//!
//! A command that creates an object hands it to its [`UserCmdBuf`] as the
//! new object; the dispatcher publishes it if the command succeeds and
//! aborts it (releasing its id) if it fails, as upstream's `ucmd->new_obj`.

#![deny(unsafe_code)]

use core::mem::size_of;
use kernel::{
    fs::File,
    prelude::*,
    transmute::{
        AsBytes,
        FromBytes, //
    },
    uaccess::{
        UserPtr,
        UserSlice, //
    },
};

use crate::object::Pending;

/// A command struct of the iommufd uAPI: plain bytes, zero by default.
pub(crate) trait UserCmd: FromBytes + AsBytes + Default {}

impl<T: FromBytes + AsBytes + Default> UserCmd for T {}

/// One ioctl invocation: the file, the user buffer, the size userspace
/// declared and the object the command creates, if any.
pub(crate) struct UserCmdBuf<'a> {
    /// The iommufd file: what the fds a command makes keep open.
    file: &'a File,
    ptr: usize,
    user_size: usize,
    new_obj: Option<Pending<'a>>,
}

/// The bytes of a user's trailing, unknown fields are checked this many at a
/// time.
const ZERO_CHECK_CHUNK: usize = 64;

/// Fills `dst` from the `user_len` bytes at user address `addr`, as the
/// kernel's `copy_struct_from_user`: a shorter user struct leaves the rest of
/// `dst` as it was, a longer one must have only zeroes beyond it (`E2BIG`).
pub(crate) fn copy_struct_from_user(dst: &mut [u8], addr: usize, user_len: usize) -> Result {
    let mut reader = UserSlice::new(UserPtr::from_addr(addr), user_len).reader();
    let common = user_len.min(dst.len());
    reader.read_slice(&mut dst[..common])?;
    let mut chunk = [0u8; ZERO_CHECK_CHUNK];
    while !reader.is_empty() {
        let n = reader.len().min(ZERO_CHECK_CHUNK);
        reader.read_slice(&mut chunk[..n])?;
        if chunk[..n].iter().any(|&b| b != 0) {
            return Err(E2BIG);
        }
    }
    Ok(())
}

impl<'a> UserCmdBuf<'a> {
    /// Reads the declared size of the struct at `arg`.
    pub(crate) fn new(file: &'a File, arg: usize) -> Result<Self> {
        let size: u32 = UserSlice::new(UserPtr::from_addr(arg), size_of::<u32>())
            .reader()
            .read()?;
        Ok(Self {
            file,
            ptr: arg,
            user_size: usize::try_from(size).map_err(|_| EOVERFLOW)?,
            new_obj: None,
        })
    }

    /// Makes `obj` the object this command creates, and returns its id. The
    /// dispatcher publishes it if the command succeeds; otherwise it is
    /// aborted. A command creates one object at most.
    pub(crate) fn set_new_obj(&mut self, obj: Pending<'a>) -> u32 {
        let id = obj.id();
        // A second object would abort the first; no command makes two.
        self.new_obj = Some(obj);
        id
    }

    /// Ends the command with `res`: publishes the new object on success,
    /// aborts it on failure.
    pub(crate) fn finish(self, res: Result) -> Result {
        if let (Ok(()), Some(obj)) = (&res, self.new_obj) {
            obj.publish();
        }
        res
    }

    /// The iommufd file the ioctl was issued on.
    pub(crate) fn file(&self) -> &'a File {
        self.file
    }

    /// Copies the command in, following `copy_struct_from_user` semantics;
    /// `min_size` is the end of its last mandatory field.
    pub(crate) fn read<T: UserCmd>(&self, min_size: usize) -> Result<T> {
        if self.user_size < min_size {
            return Err(EINVAL);
        }
        let mut cmd = T::default();
        copy_struct_from_user(cmd.as_bytes_mut(), self.ptr, self.user_size)?;
        Ok(cmd)
    }

    /// Writes `cmd` back, no more than the size userspace declared.
    pub(crate) fn respond<T: UserCmd>(&self, cmd: &T) -> Result {
        let bytes = cmd.as_bytes();
        let n = self.user_size.min(bytes.len());
        UserSlice::new(UserPtr::from_addr(self.ptr), n)
            .writer()
            .write_slice(&bytes[..n])
    }

    /// Writes `value` at byte `offset` of the user's struct, whatever size
    /// the user declared; for commands that answer in one field only.
    pub(crate) fn write_at<V: AsBytes>(&self, offset: usize, value: &V) -> Result {
        let addr = self.ptr.checked_add(offset).ok_or(EFAULT)?;
        UserSlice::new(UserPtr::from_addr(addr), size_of::<V>())
            .writer()
            .write(value)
    }
}
