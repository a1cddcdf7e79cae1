// SPDX-License-Identifier: GPL-2.0

//! A vfio-user server presenting one PCI Express function to QEMU's
//! `vfio-user-pci`: the model's own endpoint (PASID, ATS and PRI
//! capabilities as configured) or a captured config space, with a small
//! DMA engine in BAR0 that reaches guest memory through the DMA maps QEMU
//! sends. See README.md in this directory.
//!
//! The crate's server handles one connection and then returns: one process
//! per device and boot, as scripts/vm.sh starts them.

#![deny(unsafe_op_in_unsafe_fn)]
#![deny(clippy::undocumented_unsafe_blocks)]

mod config;
mod device;
mod dma;
mod dump;
mod spec;

use std::process::ExitCode;

use vfio_user::Server;

fn run() -> Result<(), String> {
    let opts = spec::parse(std::env::args().skip(1))?;
    let mut dev = device::Device::new(&opts)?;
    if opts.print_config {
        print!("{}", dev.config_hex());
        return Ok(());
    }
    let socket = opts.socket.as_ref().ok_or("--socket PATH is needed")?;
    let server = Server::new(socket, true, dev.irqs(), dev.regions())
        .map_err(|e| format!("{}: {e}", socket.display()))?;
    server
        .run(&mut dev)
        .map_err(|e| format!("serving {}: {e}", socket.display()))
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("vfio-user-device: {e}");
            ExitCode::FAILURE
        }
    }
}
