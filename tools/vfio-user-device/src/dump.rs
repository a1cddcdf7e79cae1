// SPDX-License-Identifier: GPL-2.0

//! Captured config spaces: the hex lines of `lspci -xxxx` (`100: 01 00 ...`),
//! with the `Region N: ... [size=64K]` lines of `lspci -v` when the file has
//! them. A file with several devices gives its first one.

use crate::config::CFG_SIZE;

/// One captured device.
pub(crate) struct Dump {
    pub(crate) bytes: Vec<u8>,
    /// How many bytes the hex lines covered (256 or 4096, normally).
    pub(crate) covered: usize,
    /// BAR sizes from the `Region N:` lines, where the file has them.
    pub(crate) bar_sizes: [Option<u64>; 6],
}

fn hex_line(line: &str) -> Option<(usize, [u8; 16])> {
    let (off, rest) = line.trim().split_once(": ")?;
    if off.len() < 2 || off.len() > 3 {
        return None;
    }
    let off = usize::from_str_radix(off, 16).ok()?;
    let mut bytes = [0u8; 16];
    let mut n = 0;
    for tok in rest.split_whitespace() {
        let b = bytes.get_mut(n)?;
        if tok.len() != 2 {
            return None;
        }
        *b = u8::from_str_radix(tok, 16).ok()?;
        n += 1;
    }
    (n == 16 && off % 16 == 0 && off < CFG_SIZE).then_some((off, bytes))
}

/// `Region 2: Memory at ... [size=128K]` into (2, 131072).
fn region_line(line: &str) -> Option<(usize, u64)> {
    let rest = line.trim().strip_prefix("Region ")?;
    let (idx, rest) = rest.split_once(':')?;
    let idx: usize = idx.trim().parse().ok()?;
    let size = rest.split("[size=").nth(1)?.split(']').next()?;
    let (digits, shift) = match size.as_bytes().last()? {
        b'K' => (&size[..size.len() - 1], 10),
        b'M' => (&size[..size.len() - 1], 20),
        b'G' => (&size[..size.len() - 1], 30),
        _ => (size, 0),
    };
    let n: u64 = digits.parse().ok()?;
    let size = n.checked_shl(shift)?;
    (idx < 6 && size.is_power_of_two()).then_some((idx, size))
}

pub(crate) fn parse(text: &str) -> Result<Dump, String> {
    let mut dump = Dump {
        bytes: vec![0; CFG_SIZE],
        covered: 0,
        bar_sizes: [None; 6],
    };
    let mut seen_start = false;
    for line in text.lines() {
        if let Some((off, bytes)) = hex_line(line) {
            if off == 0 {
                if seen_start {
                    // The next device's dump.
                    break;
                }
                seen_start = true;
            }
            if !seen_start {
                continue;
            }
            dump.bytes[off..off + 16].copy_from_slice(&bytes);
            dump.covered = dump.covered.max(off + 16);
        } else if let Some((idx, size)) = region_line(line) {
            if !seen_start {
                dump.bar_sizes[idx] = Some(size);
            }
        }
    }
    if dump.covered < 64 {
        return Err("no lspci -xxxx hex lines (at least the 64-byte header)".into());
    }
    Ok(dump)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines() {
        let text = "00:01.0 Foo\n\tRegion 0: Memory at f000 (32-bit) [size=64K]\n\
                    \tRegion 2: I/O ports at 2020 [size=32]\n\
                    00: 86 80 25 0b 46 01 10 00 00 00 80 08 00 00 00 00\n\
                    10: 0c 00 f4 ff 6f 20 00 00 0c 00 f0 ff 6f 20 00 00\n\
                    20: 00 00 00 00 00 00 00 00 00 00 00 00 86 80 00 00\n\
                    30: 00 00 00 00 40 00 00 00 00 00 00 00 00 00 00 00\n\
                    ff0: 00 00 00 00 00 00 00 00 00 00 00 00 11 22 33 44\n\
                    00: 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f 10\n";
        let d = parse(text).ok();
        let d = d.as_ref();
        assert_eq!(d.map(|d| d.covered), Some(4096));
        assert_eq!(d.map(|d| d.bytes[0]), Some(0x86));
        assert_eq!(d.map(|d| d.bytes[0xfff]), Some(0x44));
        assert_eq!(d.map(|d| d.bar_sizes[0]), Some(Some(0x10000)));
        assert_eq!(d.map(|d| d.bar_sizes[2]), Some(Some(32)));
        assert!(parse("nothing here").is_err());
    }
}
