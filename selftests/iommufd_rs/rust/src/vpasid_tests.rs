// SPDX-License-Identifier: GPL-2.0

//! PASID virtualization, the iommufd-rs extension of linux/iommufd_rs.h.
//!
//! Against iommufd_rs.ko each test checks its rules; the mock IOMMU's
//! tests read which host PASID reaches the mock device's register and which
//! HWPT the mock IOMMU has there. The C iommufd.ko has none of these
//! commands: there each test checks that it answers them `ENOTTY`, as any
//! command it does not know, and that its mock refuses the extension's op
//! and device flag.

use std::path::Path;

use crate::dev::{Errno, Iommufd, MockDev};
use crate::uapi::*;
use crate::{check_eq, ok, Failure, NotPassed, TestResult};

const ENOENT: i32 = 2;
const E2BIG: i32 = 7;
const EINVAL: i32 = 22;
const EBUSY: i32 = 16;
const ENOTTY: i32 = 25;
const EOPNOTSUPP: i32 = 95;

type Test = (&'static str, fn() -> TestResult);

/// The tests that need no mock device, which the production variant runs.
pub fn without_mock() -> Vec<Test> {
    vec![("vpasid_mode", mode), ("vpasid_size_rules", size_rules)]
}

/// The tests on mock devices.
pub fn with_mock() -> Vec<Test> {
    vec![
        ("vpasid_global_two_devices", global_two_devices),
        ("vpasid_per_rid_detach_reattach", per_rid_detach_reattach),
        ("vpasid_shared_group", shared_group),
        ("vpasid_release_on_close", release_on_close),
    ]
}

/// The C iommufd.ko is loaded, rather than iommufd_rs.ko.
fn c_module() -> bool {
    Path::new("/sys/module/iommufd").exists()
}

fn open() -> Result<Iommufd, Failure> {
    Iommufd::open().map_err(|e| Failure(format!("open /dev/iommu: {e}")))
}

/// On the C module: the extension's commands are unknown ones.
fn c_answers_enotty(fd: &Iommufd) -> TestResult {
    check_eq!(Err(ENOTTY), fd.pasid_mode(IOMMU_OPTION_OP_GET, 0));
    check_eq!(
        Err(ENOTTY),
        fd.pasid_mode(IOMMU_OPTION_OP_SET, IOMMU_RS_PASID_MODE_GLOBAL)
    );
    check_eq!(Err(ENOTTY), fd.vpasid_attach(0, 1, 1, 1));
    check_eq!(ENOTTY, fd.vpasid_detach(1, 1));
    check_eq!(Err(ENOTTY), fd.vpasid_query(1, 1));
    Ok(())
}

/// On the C module with its mock: the extension's op and flag are unknown.
fn c_mock_refuses(fd: &Iommufd) -> TestResult {
    c_answers_enotty(fd)?;
    let ioas = ok!(fd.ioas_alloc());
    check_eq!(Err(EOPNOTSUPP), fd.mediate_pasid(1, 1));
    check_eq!(
        Some(EINVAL),
        fd.mock_domain_flags(
            ioas,
            MOCK_FLAGS_DEVICE_PASID | IOMMU_RS_MOCK_FLAGS_DEVICE_SHARED_GROUP
        )
        .err()
    );
    Ok(())
}

fn mode() -> TestResult {
    let fd = open()?;
    if c_module() {
        return c_answers_enotty(&fd);
    }
    check_eq!(
        Ok(IOMMU_RS_PASID_MODE_PER_RID),
        fd.pasid_mode(IOMMU_OPTION_OP_GET, 0)
    );
    ok!(fd.pasid_mode(IOMMU_OPTION_OP_SET, IOMMU_RS_PASID_MODE_GLOBAL));
    check_eq!(
        Ok(IOMMU_RS_PASID_MODE_GLOBAL),
        fd.pasid_mode(IOMMU_OPTION_OP_GET, 0)
    );
    check_eq!(Err(EINVAL), fd.pasid_mode(IOMMU_OPTION_OP_SET, 2));
    check_eq!(Err(EOPNOTSUPP), fd.pasid_mode(2, 0));
    // Another file has its own mode.
    let other = open()?;
    check_eq!(
        Ok(IOMMU_RS_PASID_MODE_PER_RID),
        other.pasid_mode(IOMMU_OPTION_OP_GET, 0)
    );
    check_eq!(
        Ok(IOMMU_RS_PASID_MODE_GLOBAL),
        fd.pasid_mode(IOMMU_OPTION_OP_GET, 0)
    );
    Ok(())
}

fn size_rules() -> TestResult {
    let fd = open()?;
    if c_module() {
        return c_answers_enotty(&fd);
    }
    #[repr(C)]
    #[derive(Default)]
    struct Longer {
        cmd: iommu_rs_vpasid_attach,
        extra: u64,
    }
    let mut big = Longer::default();
    big.cmd.dev_id = u32::MAX;
    big.cmd.vpasid = 1;
    // Short of the last mandatory field.
    big.cmd.size = size32::<iommu_rs_vpasid_attach>() - 4;
    check_eq!(EINVAL, fd.ioctl(IOMMU_RS_VPASID_ATTACH, &mut big));
    // Non-zero bytes beyond the struct.
    big.cmd.size = size32::<Longer>();
    big.extra = 1;
    check_eq!(E2BIG, fd.ioctl(IOMMU_RS_VPASID_ATTACH, &mut big));
    // Zeroes beyond it are fine; the device is then looked up.
    big.extra = 0;
    check_eq!(ENOENT, fd.ioctl(IOMMU_RS_VPASID_ATTACH, &mut big));
    big.cmd.flags = 1 << 1;
    check_eq!(EOPNOTSUPP, fd.ioctl(IOMMU_RS_VPASID_ATTACH, &mut big));
    // A command number with size bits is not the command.
    let sized = ioc(
        IOC_READ | IOC_WRITE,
        IOMMUFD_TYPE,
        IOMMUFD_RS_CMD_VPASID_ATTACH,
        std::mem::size_of::<iommu_rs_vpasid_attach>(),
    );
    check_eq!(ENOTTY, fd.ioctl_raw(sized, std::ptr::null_mut()));
    Ok(())
}

/// An IOAS and `n` PASID-capable mock devices (with `flags`), their RIDs
/// on a PASID-compatible HWPT, and two PASID-compatible HWPTs.
struct Fixture {
    fd: Iommufd,
    devs: Vec<MockDev>,
    s2: u32,
    s2b: u32,
}

impl Fixture {
    fn new(n: usize, flags: u32) -> Result<Self, Failure> {
        let fd = open()?;
        let ioas = ok!(fd.ioas_alloc());
        let mut devs = Vec::new();
        for _ in 0..n {
            devs.push(ok!(
                fd.mock_domain_flags(ioas, MOCK_FLAGS_DEVICE_PASID | flags)
            ));
        }
        let s2 = ok!(fd.hwpt_alloc(devs[0].idev, ioas, IOMMU_HWPT_ALLOC_PASID));
        let s2b = ok!(fd.hwpt_alloc(devs[0].idev, ioas, IOMMU_HWPT_ALLOC_PASID));
        for d in &devs {
            let e = fd.mock_domain_replace(d.stdev, s2);
            if e != 0 {
                return Err(Failure(format!("RID replace: errno {e}")));
            }
        }
        Ok(Self { fd, devs, s2, s2b })
    }

    fn set_mode(&self, mode: u32) -> Result<(), Failure> {
        self.fd
            .pasid_mode(IOMMU_OPTION_OP_SET, mode)
            .map(|_| ())
            .map_err(|e| Failure(format!("PASID_MODE: errno {e}")))
    }

    fn attach(&self, d: usize, vpasid: u32, pt: u32) -> Result<u32, Errno> {
        self.fd.vpasid_attach(0, self.devs[d].idev, vpasid, pt)
    }

    /// Device `d`'s DMA at `vpasid` carries `ppasid` to the mock IOMMU,
    /// which has `hwpt` there.
    fn lands(&self, d: usize, vpasid: u32, ppasid: u32, hwpt: u32) -> TestResult {
        let dev = &self.devs[d];
        check_eq!(Ok(ppasid), self.fd.mediate_pasid(dev.stdev, vpasid));
        check_eq!(0, self.fd.pasid_check_hwpt(dev.stdev, ppasid, hwpt));
        check_eq!(Ok((ppasid, hwpt)), self.fd.vpasid_query(dev.idev, vpasid));
        Ok(())
    }
}

/// The C module: skipped is no pass, so each mock test checks there that
/// the extension is unknown.
fn on_c() -> Option<TestResult> {
    if !c_module() {
        return None;
    }
    Some(
        open()
            .map_err(NotPassed::from)
            .and_then(|fd| c_mock_refuses(&fd)),
    )
}

fn global_two_devices() -> TestResult {
    if let Some(r) = on_c() {
        return r;
    }
    let f = Fixture::new(2, 0)?;
    f.set_mode(IOMMU_RS_PASID_MODE_GLOBAL)?;
    let p = ok!(f.attach(0, 7, f.s2));
    check_eq!(Ok(p), f.attach(1, 7, f.s2b));
    f.lands(0, 7, p, f.s2)?;
    f.lands(1, 7, p, f.s2b)?;
    let q = ok!(f.attach(0, 8, f.s2));
    if q == p || q == 0 {
        return Err(Failure(format!("vPASID 8 got host PASID {q}, 7 got {p}")).into());
    }
    // The untranslated path and the mode are off limits now.
    check_eq!(EBUSY, f.fd.pasid_attach(f.devs[0].stdev, 300, f.s2));
    check_eq!(
        Err(EBUSY),
        f.fd.pasid_mode(IOMMU_OPTION_OP_SET, IOMMU_RS_PASID_MODE_PER_RID)
    );
    Ok(())
}

fn per_rid_detach_reattach() -> TestResult {
    if let Some(r) = on_c() {
        return r;
    }
    let f = Fixture::new(2, 0)?;
    check_eq!(Ok(1), f.attach(0, 100, f.s2));
    check_eq!(Ok(2), f.attach(0, 200, f.s2b));
    // Another group: its own space.
    check_eq!(Ok(1), f.attach(1, 200, f.s2));
    f.lands(0, 100, 1, f.s2)?;
    f.lands(0, 200, 2, f.s2b)?;
    f.lands(1, 200, 1, f.s2)?;
    check_eq!(0, f.fd.vpasid_detach(f.devs[0].idev, 100));
    check_eq!(0, f.fd.pasid_check_hwpt(f.devs[0].stdev, 1, 0));
    check_eq!(Err(ENOENT), f.fd.mediate_pasid(f.devs[0].stdev, 100));
    check_eq!(Err(ENOENT), f.fd.vpasid_query(f.devs[0].idev, 100));
    // Reattached, the lowest free host PASID again.
    check_eq!(Ok(1), f.attach(0, 300, f.s2b));
    f.lands(0, 300, 1, f.s2b)?;
    // Replace keeps the host PASID.
    check_eq!(
        Ok(2),
        f.fd.vpasid_attach(IOMMU_RS_VPASID_REPLACE, f.devs[0].idev, 200, f.s2)
    );
    f.lands(0, 200, 2, f.s2)?;
    check_eq!(Err(EBUSY), f.attach(0, 200, f.s2));
    check_eq!(Err(EINVAL), f.attach(0, 0, f.s2));
    check_eq!(Err(EINVAL), f.attach(0, IOMMU_RS_VPASID_LIMIT, f.s2));
    Ok(())
}

fn shared_group() -> TestResult {
    if let Some(r) = on_c() {
        return r;
    }
    let f = Fixture::new(2, IOMMU_RS_MOCK_FLAGS_DEVICE_SHARED_GROUP)?;
    for mode in [IOMMU_RS_PASID_MODE_PER_RID, IOMMU_RS_PASID_MODE_GLOBAL] {
        f.set_mode(mode)?;
        let p = ok!(f.attach(0, 100, f.s2));
        // The same HWPT at the same vPASID: one context, one host PASID.
        check_eq!(Ok(p), f.attach(1, 100, f.s2));
        f.lands(0, 100, p, f.s2)?;
        f.lands(1, 100, p, f.s2)?;
        check_eq!(0, f.fd.vpasid_detach(f.devs[1].idev, 100));
        // Another HWPT in the context: upstream's group rule.
        check_eq!(Err(EINVAL), f.attach(1, 100, f.s2b));
        // The untranslated path stays off the context's PASID.
        check_eq!(EBUSY, f.fd.pasid_attach(f.devs[1].stdev, p, f.s2));
        f.lands(0, 100, p, f.s2)?;
        check_eq!(0, f.fd.vpasid_detach(f.devs[0].idev, 100));
        check_eq!(0, f.fd.pasid_check_hwpt(f.devs[1].stdev, p, 0));
    }
    Ok(())
}

fn release_on_close() -> TestResult {
    if let Some(r) = on_c() {
        return r;
    }
    let first = {
        let f = Fixture::new(1, 0)?;
        f.set_mode(IOMMU_RS_PASID_MODE_GLOBAL)?;
        let p = ok!(f.attach(0, 5, f.s2));
        f.lands(0, 5, p, f.s2)?;
        p
        // The file closes with the vPASID attached.
    };
    let f = Fixture::new(1, 0)?;
    f.set_mode(IOMMU_RS_PASID_MODE_GLOBAL)?;
    // The pool hands out its lowest free PASID: the one the close freed.
    check_eq!(Ok(first), f.attach(0, 6, f.s2));
    f.lands(0, 6, first, f.s2)?;
    Ok(())
}
