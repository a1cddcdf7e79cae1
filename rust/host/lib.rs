// SPDX-License-Identifier: GPL-2.0

//! Host build of the module's kernel-independent files, for unit tests.

#![allow(dead_code)]

#[path = "../iova.rs"]
mod iova;

#[cfg(test)]
mod iova_tests;
