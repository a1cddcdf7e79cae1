// SPDX-License-Identifier: GPL-2.0

//! The device's options, from the command line (`--pasid-width 20 --exec`)
//! or from one spec string (`--spec pasid-width=20,exec`), the form that
//! scripts/vm.sh takes from `VM_VFU`. Both spell the same keys.

use std::path::PathBuf;

/// What the device model presents.
#[derive(Clone, Debug)]
pub(crate) struct Options {
    /// The vfio-user socket to listen on.
    pub(crate) socket: Option<PathBuf>,
    pub(crate) vendor: u16,
    pub(crate) device: u16,
    /// The 24-bit class code (base class, sub-class, programming interface).
    pub(crate) class: u32,
    pub(crate) revision: u8,
    /// Max PASID Width of the PASID capability; 0 leaves the capability out.
    pub(crate) pasid_width: u8,
    pub(crate) pasid_exec: bool,
    pub(crate) pasid_priv: bool,
    pub(crate) ats: bool,
    pub(crate) pri: bool,
    /// An ACS capability advertising these bits (`acs` alone: Source
    /// Validation, Request Redirect, Completion Redirect, Upstream
    /// Forwarding). Linux enables PASID on a function of a multi-function
    /// device only when the function has ACS.
    pub(crate) acs: Option<u16>,
    /// ACS control bits that stay 0 whatever is written: Linux treats a
    /// function whose advertised SV/RR/CR/UF are not all enabled as not
    /// isolated, and groups it with its sibling functions.
    pub(crate) acs_ro: u16,
    /// Where the extended capabilities go (defaults below).
    pub(crate) pasid_at: Option<u16>,
    pub(crate) ats_at: Option<u16>,
    pub(crate) pri_at: Option<u16>,
    pub(crate) acs_at: Option<u16>,
    /// The function number the runner places the device at (informative:
    /// QEMU decides the address).
    pub(crate) func: u8,
    /// Function 0 of a multi-function device: header type bit 7.
    pub(crate) multifunction: bool,
    /// Present this captured config space (an `lspci -xxxx` dump) instead.
    pub(crate) dump: Option<PathBuf>,
    /// Where a dump named without a slash is looked up.
    pub(crate) dump_dir: Option<PathBuf>,
    /// Print the config space as `lspci -xxxx` would and exit.
    pub(crate) print_config: bool,
    /// Log every DMA map and unmap to stderr.
    pub(crate) verbose: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            socket: None,
            vendor: 0x1b36,
            device: 0x1f00,
            // Processing accelerator.
            class: 0x12_00_00,
            revision: 1,
            pasid_width: 0,
            pasid_exec: false,
            pasid_priv: false,
            ats: false,
            pri: false,
            acs: None,
            acs_ro: 0,
            pasid_at: None,
            ats_at: None,
            pri_at: None,
            acs_at: None,
            func: 0,
            multifunction: false,
            dump: None,
            dump_dir: None,
            print_config: false,
            verbose: false,
        }
    }
}

pub(crate) const USAGE: &str = "\
usage: vfio-user-device --socket PATH [options] [--spec KEY[=VALUE],...]
  --vendor ID --device ID --class CODE --revision N   identity (hex with 0x)
  --pasid-width N (or --pasid N)  a PASID capability with Max PASID Width N (1-20)
  --exec --priv                   its Execute and Privileged Mode bits
  --ats --pri --acs[=BITS]        ATS, PRI and ACS extended capabilities
  --acs-ro BITS                   ACS control bits that cannot be enabled
  --pasid-at OFF --ats-at OFF --pri-at OFF --acs-at OFF   their offsets
  --func N --multifunction        function number; header type bit 7
  --dump FILE [--dump-dir DIR]    present an lspci -xxxx dump instead
  --print-config                  print the config space and exit
  --verbose                       log DMA maps and unmaps
A spec string spells the same keys without dashes, e.g.
  --spec pasid-width=20,exec,priv,ats,pri";

/// Keys that take a value.
const VALUE_KEYS: &[&str] = &[
    "socket",
    "spec",
    "vendor",
    "device",
    "class",
    "revision",
    "pasid-width",
    "pasid",
    "pasid-at",
    "ats-at",
    "pri-at",
    "acs-at",
    "acs-ro",
    "func",
    "dump",
    "dump-dir",
];

fn number(key: &str, value: &str, max: u64) -> Result<u64, String> {
    let n = if let Some(hex) = value.strip_prefix("0x").or(value.strip_prefix("0X")) {
        u64::from_str_radix(hex, 16)
    } else {
        value.parse::<u64>()
    }
    .map_err(|_| format!("{key}: not a number: {value}"))?;
    if n > max {
        return Err(format!("{key}: {value} is above {max:#x}"));
    }
    Ok(n)
}

fn ext_offset(key: &str, value: &str) -> Result<u16, String> {
    let n = number(key, value, 0xffc)?;
    if n < 0x100 || n % 4 != 0 {
        return Err(format!(
            "{key}: {value} is not a dword offset in extended config space"
        ));
    }
    // The range check above keeps it in u16.
    Ok(n as u16)
}

impl Options {
    fn apply(&mut self, key: &str, value: Option<&str>) -> Result<(), String> {
        let val = || value.ok_or_else(|| format!("{key} needs a value"));
        match key {
            "socket" => self.socket = Some(PathBuf::from(val()?)),
            "spec" => self.apply_spec(val()?)?,
            "vendor" => self.vendor = number(key, val()?, 0xffff)? as u16,
            "device" => self.device = number(key, val()?, 0xffff)? as u16,
            "class" => self.class = number(key, val()?, 0xff_ffff)? as u32,
            "revision" => self.revision = number(key, val()?, 0xff)? as u8,
            "pasid-width" | "pasid" => {
                let w = number(key, val()?, 20)? as u8;
                self.pasid_width = w;
            }
            "pasid-at" => self.pasid_at = Some(ext_offset(key, val()?)?),
            "ats-at" => self.ats_at = Some(ext_offset(key, val()?)?),
            "pri-at" => self.pri_at = Some(ext_offset(key, val()?)?),
            "acs-at" => self.acs_at = Some(ext_offset(key, val()?)?),
            "func" => self.func = number(key, val()?, 7)? as u8,
            "dump" => self.dump = Some(PathBuf::from(val()?)),
            "dump-dir" => self.dump_dir = Some(PathBuf::from(val()?)),
            "exec" => self.pasid_exec = true,
            "priv" => self.pasid_priv = true,
            "ats" => self.ats = true,
            "pri" => self.pri = true,
            "acs" => {
                self.acs = Some(match value {
                    Some(v) => number(key, v, 0x7f)? as u16,
                    None => 0x1d,
                })
            }
            "acs-ro" => self.acs_ro = number(key, val()?, 0x7f)? as u16,
            "multifunction" => self.multifunction = true,
            "print-config" => self.print_config = true,
            "verbose" => self.verbose = true,
            _ => return Err(format!("unknown option {key}\n{USAGE}")),
        }
        if value.is_some() && !VALUE_KEYS.contains(&key) && key != "acs" {
            return Err(format!("{key} takes no value"));
        }
        Ok(())
    }

    /// A comma-separated list of `key` and `key=value` items.
    fn apply_spec(&mut self, spec: &str) -> Result<(), String> {
        for item in spec.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            match item.split_once('=') {
                Some((k, v)) if k != "spec" => self.apply(k, Some(v))?,
                Some(_) => return Err("a spec cannot hold another spec".into()),
                None => self.apply(item, None)?,
            }
        }
        Ok(())
    }

    /// The dump file: a bare name is looked up in the dump directory.
    pub(crate) fn dump_path(&self) -> Option<PathBuf> {
        let dump = self.dump.as_ref()?;
        match &self.dump_dir {
            Some(dir) if dump.components().count() == 1 => Some(dir.join(dump)),
            _ => Some(dump.clone()),
        }
    }
}

/// Parses the command line (without the program name).
pub(crate) fn parse<I: Iterator<Item = String>>(mut args: I) -> Result<Options, String> {
    let mut o = Options::default();
    while let Some(arg) = args.next() {
        if arg == "-h" || arg == "--help" {
            return Err(USAGE.into());
        }
        let Some(opt) = arg.strip_prefix("--") else {
            return Err(format!("unexpected argument {arg}\n{USAGE}"));
        };
        match opt.split_once('=') {
            Some((k, v)) => o.apply(k, Some(v))?,
            None if VALUE_KEYS.contains(&opt) => {
                let v = args
                    .next()
                    .ok_or_else(|| format!("--{opt} needs a value"))?;
                o.apply(opt, Some(&v))?;
            }
            None => o.apply(opt, None)?,
        }
    }
    if o.dump.is_none() && (o.pasid_exec || o.pasid_priv) && o.pasid_width == 0 {
        return Err("exec and priv need a PASID capability (pasid-width)".into());
    }
    Ok(o)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> impl Iterator<Item = String> + '_ {
        s.split_whitespace().map(String::from)
    }

    #[test]
    fn command_line_and_spec_agree() {
        let a = parse(args(
            "--pasid-width 20 --exec --priv --ats --pri --vendor 0x1af4",
        ));
        let b = parse(args("--spec pasid=20,exec,priv,ats,pri,vendor=0x1af4"));
        let (a, b) = (a.unwrap_or_default(), b.unwrap_or_default());
        assert_eq!(a.pasid_width, 20);
        assert_eq!(b.pasid_width, 20);
        assert!(a.pasid_exec && b.pasid_exec && a.pasid_priv && b.pasid_priv);
        assert!(a.ats && b.ats && a.pri && b.pri);
        assert_eq!((a.vendor, b.vendor), (0x1af4, 0x1af4));
    }

    #[test]
    fn bad_values_are_refused() {
        assert!(parse(args("--pasid 21")).is_err());
        assert!(parse(args("--pasid-at 0xfa")).is_err());
        assert!(parse(args("--pasid-at 0x101")).is_err());
        assert!(parse(args("--exec")).is_err());
        assert!(parse(args("--spec exec=1")).is_err());
        assert!(parse(args("--spec spec=x")).is_err());
        assert!(parse(args("--nonsense")).is_err());
        assert!(parse(args("--vendor")).is_err());
    }
}
