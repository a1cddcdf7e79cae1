// SPDX-License-Identifier: GPL-2.0

//! Host build of the module's kernel-independent files, for unit tests.

#![allow(dead_code)]

#[path = "../iova.rs"]
mod iova;

#[path = "../pasid_attach.rs"]
mod pasid_attach;

#[path = "../shim/mod.rs"]
mod shim;

#[path = "../vpasid_map.rs"]
mod vpasid_map;

#[cfg(test)]
mod iova_tests;

#[cfg(test)]
mod pasid_attach_tests;

#[cfg(test)]
mod shim_tests;

#[cfg(test)]
mod vpasid_map_tests;
