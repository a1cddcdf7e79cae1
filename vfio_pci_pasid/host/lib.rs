// SPDX-License-Identifier: GPL-2.0

//! Host build of `vfio_pci_pasid/vpasid.rs`, for unit tests.

#![allow(dead_code)]

#[path = "../vpasid.rs"]
mod vpasid;

#[cfg(test)]
mod tests;
