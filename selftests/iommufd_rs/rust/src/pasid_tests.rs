// SPDX-License-Identifier: GPL-2.0

//! PASID attach, driven through the mock IOMMU's test command.
//!
//! What the tests hold the module to is what upstream's iommufd does: a
//! PASID takes only a HWPT allocated with `IOMMU_HWPT_ALLOC_PASID`, and only
//! while the RID of its device sits on such a HWPT too; a PASID is attached
//! once and then replaced; a failed replace leaves the old HWPT in place; an
//! attached HWPT cannot be destroyed. Every expected errno is the one the C
//! `iommufd.ko` returns, and the program runs against both.

use std::ffi::{c_int, c_void};

use crate::dev::{Errno, Iommufd, MockDev};
use crate::uapi::*;
use crate::{check_eq, ok, Failure, NotPassed, TestResult};

const EINVAL: i32 = 22;
const EBUSY: i32 = 16;
const ENOMEM: i32 = 12;
const EOPNOTSUPP: i32 = 95;

/// The largest PASID of a mock device that has PASIDs.
const PASID_MAX: u32 = (1 << MOCK_PASID_WIDTH) - 1;
/// Every PASID a test here attaches; the fixture detaches them all on drop.
const USED_PASIDS: [u32; 6] = [1, 100, 200, 300, IOMMU_TEST_PASID_RESERVED, PASID_MAX];

/// The first IOVA of a mock domain.
const MOCK_BASE: u64 = MOCK_APERTURE_START as u64;
const PAGE: u64 = 4096;
const BUF_LEN: u64 = 16 * PAGE;
const RW_FIXED: u32 =
    IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE | IOMMU_IOAS_MAP_FIXED_IOVA;

type Test = (&'static str, fn() -> TestResult);

pub fn all() -> Vec<Test> {
    vec![
        ("pasid_hw_info_max_pasid_log2", hw_info_max_pasid_log2),
        ("pasid_hwpt_alloc_paging_flags", hwpt_alloc_paging_flags),
        ("pasid_hwpt_alloc_nested", hwpt_alloc_nested),
        ("pasid_detach_unattached", detach_unattached),
        ("pasid_attach_needs_compat_rid", attach_needs_compat_rid),
        ("pasid_attach_needs_compat_hwpt", attach_needs_compat_hwpt),
        ("pasid_attach_twice_busy", attach_twice_busy),
        ("pasid_rid_stays_compat", rid_stays_compat),
        ("pasid_device_without_pasid", device_without_pasid),
        ("pasid_out_of_range", out_of_range),
        ("pasid_replace_unattached", replace_unattached),
        ("pasid_replace_to_nested", replace_to_nested),
        ("pasid_replace_rollback", replace_rollback),
        ("pasid_destroy_attached_hwpt", destroy_attached_hwpt),
        ("pasid_close_after_pasid_detach", close_after_pasid_detach),
        (
            "pasid_close_with_pasids_attached",
            close_with_pasids_attached,
        ),
        ("pasid_domain_filled_from_ioas", domain_filled_from_ioas),
    ]
}

extern "C" {
    fn mmap(
        addr: *mut c_void,
        len: usize,
        prot: c_int,
        flags: c_int,
        fd: c_int,
        off: i64,
    ) -> *mut c_void;
    fn munmap(addr: *mut c_void, len: usize) -> c_int;
}

const PROT_READ: c_int = 1;
const PROT_WRITE: c_int = 2;
const MAP_SHARED: c_int = 0x01;
const MAP_ANONYMOUS: c_int = 0x20;
const MAP_POPULATE: c_int = 0x8000;

/// Page-aligned, populated anonymous memory to map into an IOAS.
struct Buf {
    ptr: *mut c_void,
    len: usize,
}

impl Buf {
    fn new(len: u64) -> Result<Self, Failure> {
        let len = len as usize;
        // SAFETY: A fresh anonymous mapping; no memory of ours is touched.
        let ptr = unsafe {
            mmap(
                std::ptr::null_mut(),
                len,
                PROT_READ | PROT_WRITE,
                MAP_SHARED | MAP_ANONYMOUS | MAP_POPULATE,
                -1,
                0,
            )
        };
        if ptr as isize == -1 {
            return Err(Failure(format!(
                "mmap: {}",
                std::io::Error::last_os_error()
            )));
        }
        Ok(Self { ptr, len })
    }

    fn va(&self) -> u64 {
        self.ptr as u64
    }
}

impl Drop for Buf {
    fn drop(&mut self) {
        // SAFETY: Our own mapping, unmapped once.
        unsafe { munmap(self.ptr, self.len) };
    }
}

/// Detaches every PASID in `USED_PASIDS` of `devs` when dropped.
///
/// The C iommufd warns when a mock device goes away with PASIDs still
/// attached, so a test that fails half-way must not leave any behind for the
/// fd's release to find.
struct PasidGuard<'a> {
    fd: &'a Iommufd,
    devs: Vec<u32>,
}

impl PasidGuard<'_> {
    /// Leaves the PASIDs attached, for a test of what close does with them.
    fn disarm(mut self) {
        self.devs.clear();
    }
}

impl Drop for PasidGuard<'_> {
    fn drop(&mut self) {
        for &dev in &self.devs {
            for pasid in USED_PASIDS {
                self.fd.pasid_detach(dev, pasid);
            }
        }
    }
}

/// An IOAS with two mock devices on it, each on the automatic domain: `dev`
/// has PASIDs, `np` has none.
struct Fixture {
    fd: Iommufd,
    ioas: u32,
    dev: MockDev,
    np: MockDev,
    /// Data for a nested HWPT of the mock.
    nest: iommu_hwpt_selftest,
}

impl Fixture {
    fn new() -> Result<Self, Failure> {
        let fd = Iommufd::open().map_err(|e| Failure(format!("open /dev/iommu: {e}")))?;
        let ioas = ok!(fd.ioas_alloc());
        let dev = ok!(fd.mock_domain_flags(ioas, MOCK_FLAGS_DEVICE_PASID));
        let np = ok!(fd.mock_domain_flags(ioas, 0));
        Ok(Self {
            fd,
            ioas,
            dev,
            np,
            nest: iommu_hwpt_selftest {
                iotlb: IOMMU_TEST_IOTLB_DEFAULT,
                pagetable_type: 0,
            },
        })
    }

    /// A paging HWPT for the PASID-capable device.
    fn paging(&self, flags: u32) -> Result<u32, Errno> {
        self.fd.hwpt_alloc(self.dev.idev, self.ioas, flags)
    }

    /// A nested HWPT for the PASID-capable device.
    fn nested(&self, parent: u32, flags: u32) -> Result<u32, Errno> {
        self.fd
            .hwpt_alloc_nested(self.dev.idev, parent, flags, &self.nest)
    }

    fn attach(&self, pasid: u32, pt: u32) -> Errno {
        self.fd.pasid_attach(self.dev.stdev, pasid, pt)
    }

    fn replace(&self, pasid: u32, pt: u32) -> Errno {
        self.fd.pasid_replace(self.dev.stdev, pasid, pt)
    }

    fn detach(&self, pasid: u32) -> Errno {
        self.fd.pasid_detach(self.dev.stdev, pasid)
    }

    /// 0 if `pasid` of the PASID-capable device holds `hwpt` (0: nothing).
    fn check(&self, pasid: u32, hwpt: u32) -> Errno {
        self.fd.pasid_check_hwpt(self.dev.stdev, pasid, hwpt)
    }

    fn rid_replace(&self, pt: u32) -> Errno {
        self.fd.mock_domain_replace(self.dev.stdev, pt)
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        drop(PasidGuard {
            fd: &self.fd,
            devs: vec![self.dev.stdev, self.np.stdev],
        });
    }
}

fn hw_info_max_pasid_log2() -> TestResult {
    let f = Fixture::new()?;

    let mut data = iommu_test_hw_info {
        flags: 0xa5a5_a5a5,
        test_reg: 0xa5a5_a5a5,
    };
    let info = ok!(f.fd.get_hw_info(f.dev.idev, &mut data));
    check_eq!(MOCK_PASID_WIDTH, u32::from(info.out_max_pasid_log2));
    check_eq!(IOMMU_HW_INFO_TYPE_SELFTEST, info.out_data_type());
    check_eq!(size32::<iommu_test_hw_info>(), info.data_len);
    check_eq!(0, data.flags);
    check_eq!(IOMMU_HW_INFO_SELFTEST_REGVAL, data.test_reg);

    // A device without PASIDs reports a width of 0 and otherwise the same.
    let mut data = iommu_test_hw_info {
        flags: 0xa5a5_a5a5,
        test_reg: 0xa5a5_a5a5,
    };
    let info = ok!(f.fd.get_hw_info(f.np.idev, &mut data));
    check_eq!(0, info.out_max_pasid_log2);
    check_eq!(IOMMU_HW_INFO_TYPE_SELFTEST, info.out_data_type());
    check_eq!(0, data.flags);
    check_eq!(IOMMU_HW_INFO_SELFTEST_REGVAL, data.test_reg);

    // The width is the device's, whatever else its flags say.
    let nd = ok!(f
        .fd
        .mock_domain_flags(f.ioas, MOCK_FLAGS_DEVICE_PASID | MOCK_FLAGS_DEVICE_NO_DIRTY));
    let info = ok!(f.fd.get_hw_info(nd.idev, &mut data));
    check_eq!(MOCK_PASID_WIDTH, u32::from(info.out_max_pasid_log2));
    Ok(())
}

fn hwpt_alloc_paging_flags() -> TestResult {
    let f = Fixture::new()?;

    // ALLOC_PASID alone and with the other paging flags, on either device.
    for flags in [
        IOMMU_HWPT_ALLOC_PASID,
        IOMMU_HWPT_ALLOC_PASID | IOMMU_HWPT_ALLOC_NEST_PARENT,
        IOMMU_HWPT_ALLOC_PASID | IOMMU_HWPT_ALLOC_DIRTY_TRACKING,
    ] {
        let id = ok!(f.paging(flags));
        check_eq!(0, f.fd.destroy(id));
        let id = ok!(f.fd.hwpt_alloc(f.np.idev, f.ioas, flags));
        check_eq!(0, f.fd.destroy(id));
    }

    // The lowest free id, which the next object takes.
    let free = ok!(f.paging(IOMMU_HWPT_ALLOC_PASID));
    check_eq!(0, f.fd.destroy(free));

    // Bits no one has defined, alone or next to ALLOC_PASID.
    for bad in [1 << 4, 1 << 5, 1 << 31] {
        check_eq!(Err(EOPNOTSUPP), f.paging(bad));
        check_eq!(Err(EOPNOTSUPP), f.paging(IOMMU_HWPT_ALLOC_PASID | bad));
    }

    // The refusals kept no object: the free id is still free.
    check_eq!(Ok(free), f.paging(IOMMU_HWPT_ALLOC_PASID));
    Ok(())
}

fn hwpt_alloc_nested() -> TestResult {
    let f = Fixture::new()?;
    let parent = ok!(f.paging(IOMMU_HWPT_ALLOC_NEST_PARENT));
    let pparent = ok!(f.paging(IOMMU_HWPT_ALLOC_NEST_PARENT | IOMMU_HWPT_ALLOC_PASID));
    let plain = ok!(f.paging(0));
    let pplain = ok!(f.paging(IOMMU_HWPT_ALLOC_PASID));

    // A nesting parent takes nested HWPTs with ALLOC_PASID, whether or not
    // it has the flag itself.
    let n0 = ok!(f.nested(parent, IOMMU_HWPT_ALLOC_PASID));
    let n1 = ok!(f.nested(pparent, IOMMU_HWPT_ALLOC_PASID));
    let n2 = ok!(f.nested(parent, 0));

    // Any other paging HWPT is no parent, ALLOC_PASID or not.
    check_eq!(Err(EINVAL), f.nested(plain, IOMMU_HWPT_ALLOC_PASID));
    check_eq!(Err(EINVAL), f.nested(pplain, IOMMU_HWPT_ALLOC_PASID));
    check_eq!(Err(EINVAL), f.nested(f.dev.hwpt, IOMMU_HWPT_ALLOC_PASID));
    // Nor is a nested one.
    check_eq!(Err(EINVAL), f.nested(n0, IOMMU_HWPT_ALLOC_PASID));

    // ALLOC_PASID is the one flag a nested HWPT of the mock takes.
    check_eq!(
        Err(EOPNOTSUPP),
        f.nested(parent, IOMMU_HWPT_ALLOC_NEST_PARENT)
    );
    check_eq!(
        Err(EOPNOTSUPP),
        f.nested(parent, IOMMU_HWPT_ALLOC_PASID | 1 << 4)
    );

    // A parent lives as long as what is nested on it.
    check_eq!(EBUSY, f.fd.destroy(parent));
    for id in [n0, n2, parent, n1, pparent, plain, pplain] {
        check_eq!(0, f.fd.destroy(id));
    }
    Ok(())
}

fn detach_unattached() -> TestResult {
    let f = Fixture::new()?;
    check_eq!(0, f.detach(100));
    check_eq!(0, f.check(100, 0));
    // check_hwpt with a HWPT really compares: 100 does not hold this one.
    check_eq!(EINVAL, f.check(100, f.dev.hwpt));
    check_eq!(0, f.fd.pasid_detach(f.np.stdev, 100));

    // Detaching twice after an attach is as quiet.
    let s2 = ok!(f.paging(IOMMU_HWPT_ALLOC_PASID));
    check_eq!(0, f.rid_replace(s2));
    check_eq!(0, f.attach(100, s2));
    check_eq!(0, f.detach(100));
    check_eq!(0, f.detach(100));
    check_eq!(0, f.check(100, 0));
    Ok(())
}

fn attach_needs_compat_rid() -> TestResult {
    let f = Fixture::new()?;
    let s2 = ok!(f.paging(IOMMU_HWPT_ALLOC_PASID));
    let parent = ok!(f.paging(IOMMU_HWPT_ALLOC_NEST_PARENT));
    let n0 = ok!(f.nested(parent, IOMMU_HWPT_ALLOC_PASID));

    // The RID is on the automatic domain, made without ALLOC_PASID.
    check_eq!(0, f.check(0, f.dev.hwpt));
    check_eq!(EINVAL, f.attach(100, s2));
    check_eq!(EINVAL, f.attach(100, n0));
    check_eq!(0, f.check(100, 0));

    // Nor will a nesting parent made without it.
    check_eq!(0, f.rid_replace(parent));
    check_eq!(EINVAL, f.attach(100, s2));
    check_eq!(0, f.check(100, 0));

    // With the RID on a compatible HWPT the PASID attaches, to that same
    // HWPT or to another compatible one.
    check_eq!(0, f.rid_replace(s2));
    check_eq!(0, f.check(0, s2));
    check_eq!(0, f.attach(100, s2));
    check_eq!(0, f.check(100, s2));
    check_eq!(0, f.attach(200, n0));
    check_eq!(0, f.check(200, n0));
    // The check tells HWPTs apart and PASIDs apart.
    check_eq!(EINVAL, f.check(100, n0));
    check_eq!(EINVAL, f.check(100, 0));
    check_eq!(0, f.check(300, 0));

    check_eq!(0, f.detach(100));
    check_eq!(0, f.detach(200));
    check_eq!(0, f.check(100, 0));
    check_eq!(0, f.check(200, 0));
    Ok(())
}

fn attach_needs_compat_hwpt() -> TestResult {
    let f = Fixture::new()?;
    let s2 = ok!(f.paging(IOMMU_HWPT_ALLOC_PASID));
    let plain = ok!(f.paging(0));
    let parent = ok!(f.paging(IOMMU_HWPT_ALLOC_NEST_PARENT));
    let n_plain = ok!(f.nested(parent, 0));
    check_eq!(0, f.rid_replace(s2));

    // A HWPT made without ALLOC_PASID never goes on a PASID, which stays
    // unattached.
    for pt in [plain, parent, n_plain, f.dev.hwpt] {
        check_eq!(EINVAL, f.attach(100, pt));
        check_eq!(0, f.check(100, 0));
    }
    // An IOAS would need an automatic domain, and those lack the flag.
    check_eq!(EINVAL, f.attach(100, f.ioas));
    check_eq!(0, f.check(100, 0));

    // The refusals took no reference on the HWPTs they named.
    for id in [plain, n_plain, parent] {
        check_eq!(0, f.fd.destroy(id));
    }
    check_eq!(0, f.attach(100, s2));
    check_eq!(0, f.check(100, s2));
    check_eq!(0, f.detach(100));
    Ok(())
}

fn attach_twice_busy() -> TestResult {
    let f = Fixture::new()?;
    let s2 = ok!(f.paging(IOMMU_HWPT_ALLOC_PASID));
    let s2b = ok!(f.paging(IOMMU_HWPT_ALLOC_PASID));
    let parent = ok!(f.paging(IOMMU_HWPT_ALLOC_NEST_PARENT));
    let n0 = ok!(f.nested(parent, IOMMU_HWPT_ALLOC_PASID));
    check_eq!(0, f.rid_replace(s2));
    check_eq!(0, f.attach(100, s2));

    // Attach never overwrites: not with the same HWPT, nor another one.
    check_eq!(EBUSY, f.attach(100, s2));
    check_eq!(EBUSY, f.attach(100, s2b));
    check_eq!(EBUSY, f.attach(100, n0));
    check_eq!(0, f.check(100, s2));

    // The RID is PASID 0 of the same table, attached already.
    check_eq!(EBUSY, f.attach(0, s2b));
    check_eq!(0, f.check(0, s2));

    // After a detach the PASID is free for another HWPT.
    check_eq!(0, f.detach(100));
    check_eq!(0, f.attach(100, s2b));
    check_eq!(0, f.check(100, s2b));
    check_eq!(0, f.detach(100));
    Ok(())
}

fn rid_stays_compat() -> TestResult {
    let f = Fixture::new()?;
    let s2 = ok!(f.paging(IOMMU_HWPT_ALLOC_PASID));
    let s2b = ok!(f.paging(IOMMU_HWPT_ALLOC_PASID));
    let plain = ok!(f.paging(0));
    check_eq!(0, f.rid_replace(s2));
    check_eq!(0, f.attach(100, s2b));

    // While a PASID is attached the RID cannot leave compatible HWPTs.
    check_eq!(EINVAL, f.rid_replace(plain));
    check_eq!(0, f.check(0, s2));
    check_eq!(EINVAL, f.rid_replace(f.ioas));
    check_eq!(0, f.check(0, s2));
    check_eq!(0, f.check(100, s2b));
    // It can move between them.
    check_eq!(0, f.rid_replace(s2b));
    check_eq!(0, f.check(0, s2b));
    check_eq!(0, f.check(100, s2b));

    // Once the PASID is detached, the RID is free again.
    check_eq!(0, f.detach(100));
    check_eq!(0, f.rid_replace(plain));
    check_eq!(0, f.check(0, plain));
    // And back to the automatic domain, still held by the other device.
    check_eq!(0, f.rid_replace(f.ioas));
    check_eq!(0, f.check(0, f.dev.hwpt));
    Ok(())
}

fn device_without_pasid() -> TestResult {
    let f = Fixture::new()?;
    let s2 = ok!(f.paging(IOMMU_HWPT_ALLOC_PASID));
    let np = f.np.stdev;

    check_eq!(EINVAL, f.fd.pasid_attach(np, 100, s2));
    // Its RID on a compatible HWPT changes nothing.
    check_eq!(0, f.fd.mock_domain_replace(np, s2));
    check_eq!(0, f.fd.pasid_check_hwpt(np, 0, s2));
    for pasid in [1, 100, PASID_MAX] {
        check_eq!(EINVAL, f.fd.pasid_attach(np, pasid, s2));
        check_eq!(0, f.fd.pasid_check_hwpt(np, pasid, 0));
    }
    check_eq!(EINVAL, f.fd.pasid_replace(np, 100, s2));
    check_eq!(0, f.fd.mock_domain_replace(np, f.ioas));
    Ok(())
}

fn out_of_range() -> TestResult {
    let f = Fixture::new()?;
    let s2 = ok!(f.paging(IOMMU_HWPT_ALLOC_PASID));
    check_eq!(0, f.rid_replace(s2));

    // The device has 20 PASID bits: the largest PASID is fine, one more
    // is not.
    check_eq!(EINVAL, f.attach(PASID_MAX + 1, s2));
    check_eq!(0, f.check(PASID_MAX + 1, 0));
    check_eq!(EINVAL, f.attach(1 << 24, s2));
    check_eq!(0, f.attach(PASID_MAX, s2));
    check_eq!(0, f.check(PASID_MAX, s2));
    check_eq!(0, f.detach(PASID_MAX));
    check_eq!(0, f.check(PASID_MAX, 0));
    Ok(())
}

fn replace_unattached() -> TestResult {
    let f = Fixture::new()?;
    let s2 = ok!(f.paging(IOMMU_HWPT_ALLOC_PASID));
    check_eq!(0, f.rid_replace(s2));

    // Replace needs something to replace.
    check_eq!(EINVAL, f.replace(200, s2));
    check_eq!(0, f.check(200, 0));
    // Including after a detach.
    check_eq!(0, f.attach(200, s2));
    check_eq!(0, f.detach(200));
    check_eq!(EINVAL, f.replace(200, s2));
    check_eq!(0, f.check(200, 0));
    Ok(())
}

fn replace_to_nested() -> TestResult {
    let f = Fixture::new()?;
    let s2 = ok!(f.paging(IOMMU_HWPT_ALLOC_PASID));
    let plain = ok!(f.paging(0));
    let parent = ok!(f.paging(IOMMU_HWPT_ALLOC_NEST_PARENT));
    let n0 = ok!(f.nested(parent, IOMMU_HWPT_ALLOC_PASID));
    let n1 = ok!(f.nested(parent, IOMMU_HWPT_ALLOC_PASID));
    check_eq!(0, f.rid_replace(s2));
    check_eq!(0, f.attach(200, s2));
    check_eq!(0, f.check(200, s2));

    // Replace follows attach's rules, and a refusal changes nothing.
    check_eq!(EINVAL, f.replace(200, f.ioas));
    check_eq!(0, f.check(200, s2));
    check_eq!(EINVAL, f.replace(200, plain));
    check_eq!(0, f.check(200, s2));

    check_eq!(0, f.replace(200, n0));
    check_eq!(0, f.check(200, n0));
    check_eq!(EINVAL, f.check(200, s2));
    check_eq!(0, f.replace(200, n1));
    check_eq!(0, f.check(200, n1));
    // The old HWPT was let go: it can be destroyed now.
    check_eq!(0, f.fd.destroy(n0));
    // Replacing with what is there already succeeds and keeps it.
    check_eq!(0, f.replace(200, n1));
    check_eq!(0, f.check(200, n1));

    check_eq!(0, f.detach(200));
    check_eq!(0, f.check(200, 0));
    Ok(())
}

fn replace_rollback() -> TestResult {
    let f = Fixture::new()?;
    let s2 = ok!(f.paging(IOMMU_HWPT_ALLOC_PASID));
    let parent = ok!(f.paging(IOMMU_HWPT_ALLOC_NEST_PARENT));
    let n0 = ok!(f.nested(parent, IOMMU_HWPT_ALLOC_PASID));
    check_eq!(0, f.rid_replace(s2));

    // The mock fails the driver call after an attach of PASID 1024: the
    // replace fails and the PASID is left on the HWPT it had.
    check_eq!(0, f.attach(IOMMU_TEST_PASID_RESERVED, s2));
    check_eq!(0, f.check(IOMMU_TEST_PASID_RESERVED, s2));
    check_eq!(ENOMEM, f.replace(IOMMU_TEST_PASID_RESERVED, n0));
    check_eq!(0, f.check(IOMMU_TEST_PASID_RESERVED, s2));
    check_eq!(EINVAL, f.check(IOMMU_TEST_PASID_RESERVED, n0));
    // n0 was not kept by the failed replace, s2 is still held.
    check_eq!(0, f.fd.destroy(n0));
    check_eq!(EBUSY, f.fd.destroy(s2));

    check_eq!(0, f.detach(IOMMU_TEST_PASID_RESERVED));
    check_eq!(0, f.check(IOMMU_TEST_PASID_RESERVED, 0));
    Ok(())
}

fn destroy_attached_hwpt() -> TestResult {
    let f = Fixture::new()?;
    let s2 = ok!(f.paging(IOMMU_HWPT_ALLOC_PASID));
    let s2b = ok!(f.paging(IOMMU_HWPT_ALLOC_PASID));
    let parent = ok!(f.paging(IOMMU_HWPT_ALLOC_NEST_PARENT));
    let n0 = ok!(f.nested(parent, IOMMU_HWPT_ALLOC_PASID));
    check_eq!(0, f.rid_replace(s2));
    check_eq!(0, f.attach(100, s2b));
    check_eq!(0, f.attach(200, n0));

    check_eq!(EBUSY, f.fd.destroy(s2b));
    check_eq!(EBUSY, f.fd.destroy(n0));
    check_eq!(EBUSY, f.fd.destroy(parent));
    // The failed destroys changed nothing.
    check_eq!(0, f.check(100, s2b));
    check_eq!(0, f.check(200, n0));

    check_eq!(0, f.detach(100));
    check_eq!(0, f.fd.destroy(s2b));
    check_eq!(0, f.detach(200));
    check_eq!(0, f.fd.destroy(n0));
    check_eq!(0, f.fd.destroy(parent));
    // The RID still holds s2 until it moves off it.
    check_eq!(EBUSY, f.fd.destroy(s2));
    check_eq!(0, f.rid_replace(f.ioas));
    check_eq!(0, f.fd.destroy(s2));
    Ok(())
}

/// Whether the kernel's C iommufd.ko is the one loaded.
fn c_iommufd_loaded() -> bool {
    std::path::Path::new("/sys/module/iommufd").exists()
}

fn close_after_pasid_detach() -> TestResult {
    close_second_fd(false)
}

fn close_with_pasids_attached() -> TestResult {
    // The C selftest object unbinds its mock device detaching the RID
    // only: the PASID attachments leak, with the HWPTs and pins under
    // them, and the kernel warns (iommufd_device_unbind,
    // __iommu_group_free_device, iommufd_fops_release twice). Not a rule
    // of the uAPI to hold C to, so C sits this one out.
    if c_iommufd_loaded() {
        return Err(NotPassed::Skipped(
            "the C iommufd leaks PASID attachments left at close".into(),
        ));
    }
    close_second_fd(true)
}

/// Builds PASID state on a second file and closes it, with the PASIDs still
/// attached or not; the first file checks that every pin went with it.
fn close_second_fd(leave_attached: bool) -> TestResult {
    let f = Fixture::new()?;
    let buf = Buf::new(BUF_LEN)?;
    check_eq!(0, f.fd.md_check_refs(buf.va(), BUF_LEN, 0));

    let fd2 = Iommufd::open().map_err(|e| Failure(format!("open /dev/iommu: {e}")))?;
    let ioas = ok!(fd2.ioas_alloc());
    let dev = ok!(fd2.mock_domain_flags(ioas, MOCK_FLAGS_DEVICE_PASID));
    // Detaches if a check below fails: a failure must not hand the close a
    // state the kernel may not cope with.
    let guard = PasidGuard {
        fd: &fd2,
        devs: vec![dev.stdev],
    };
    check_eq!(
        Ok(MOCK_BASE),
        fd2.map(ioas, buf.va(), BUF_LEN, MOCK_BASE, RW_FIXED)
    );
    let s2 = ok!(fd2.hwpt_alloc(
        dev.idev,
        ioas,
        IOMMU_HWPT_ALLOC_PASID | IOMMU_HWPT_ALLOC_NEST_PARENT
    ));
    let n0 = ok!(fd2.hwpt_alloc_nested(dev.idev, s2, IOMMU_HWPT_ALLOC_PASID, &f.nest));
    let n1 = ok!(fd2.hwpt_alloc_nested(dev.idev, s2, IOMMU_HWPT_ALLOC_PASID, &f.nest));
    check_eq!(0, fd2.mock_domain_replace(dev.stdev, s2));
    check_eq!(0, fd2.pasid_attach(dev.stdev, 100, n0));
    check_eq!(0, fd2.pasid_attach(dev.stdev, 200, n1));
    check_eq!(0, fd2.pasid_attach(dev.stdev, PASID_MAX, s2));
    check_eq!(0, fd2.pasid_check_hwpt(dev.stdev, 100, n0));
    check_eq!(0, fd2.pasid_check_hwpt(dev.stdev, 200, n1));
    check_eq!(0, fd2.md_check_map(s2, MOCK_BASE, BUF_LEN, buf.va()));
    check_eq!(0, f.fd.md_check_refs(buf.va(), BUF_LEN, 1));

    if leave_attached {
        guard.disarm();
    } else {
        // The HWPTs, the RID on s2 and the mapping all stay.
        drop(guard);
        check_eq!(0, fd2.pasid_check_hwpt(dev.stdev, 100, 0));
        check_eq!(0, fd2.pasid_check_hwpt(dev.stdev, PASID_MAX, 0));
        check_eq!(0, f.fd.md_check_refs(buf.va(), BUF_LEN, 1));
    }
    // Closing tears all of it down, pins included.
    drop(fd2);
    check_eq!(0, f.fd.md_check_refs(buf.va(), BUF_LEN, 0));

    // A file opened afterwards starts empty and can do it all again.
    let fd3 = Iommufd::open().map_err(|e| Failure(format!("open /dev/iommu: {e}")))?;
    check_eq!(Ok(1), fd3.ioas_alloc());
    let dev = ok!(fd3.mock_domain_flags(1, MOCK_FLAGS_DEVICE_PASID));
    let _guard = PasidGuard {
        fd: &fd3,
        devs: vec![dev.stdev],
    };
    let s2 = ok!(fd3.hwpt_alloc(dev.idev, 1, IOMMU_HWPT_ALLOC_PASID));
    check_eq!(0, fd3.mock_domain_replace(dev.stdev, s2));
    check_eq!(0, fd3.pasid_attach(dev.stdev, 100, s2));
    check_eq!(0, fd3.pasid_check_hwpt(dev.stdev, 100, s2));
    check_eq!(0, fd3.pasid_detach(dev.stdev, 100));
    Ok(())
}

fn domain_filled_from_ioas() -> TestResult {
    let f = Fixture::new()?;
    let buf = Buf::new(BUF_LEN)?;
    let va = buf.va();
    let base = MOCK_BASE;

    // One HWPT made before the mapping, one after: both get its pages.
    let before = ok!(f.paging(IOMMU_HWPT_ALLOC_PASID));
    check_eq!(Ok(base), f.fd.map(f.ioas, va, BUF_LEN, base, RW_FIXED));
    let after = ok!(f.paging(IOMMU_HWPT_ALLOC_PASID));
    check_eq!(0, f.fd.md_check_map(before, base, BUF_LEN, va));
    check_eq!(0, f.fd.md_check_map(after, base, BUF_LEN, va));
    check_eq!(0, f.fd.md_check_map(f.dev.hwpt, base, BUF_LEN, va));
    check_eq!(0, f.fd.md_check_refs(va, BUF_LEN, 1));
    // The check looks at the pages: other ones, or IOVA past the end, fail.
    check_eq!(EINVAL, f.fd.md_check_map(before, base, PAGE, va + PAGE));
    check_eq!(EINVAL, f.fd.md_check_map(before, base + BUF_LEN, PAGE, va));

    // Attached to the RID and a PASID, the HWPTs keep following the IOAS.
    check_eq!(0, f.rid_replace(before));
    check_eq!(0, f.attach(100, after));
    check_eq!(0, f.fd.md_check_map(after, base, BUF_LEN, va));
    check_eq!(Ok(BUF_LEN), f.fd.unmap(f.ioas, base, BUF_LEN));
    check_eq!(EINVAL, f.fd.md_check_map(after, base, PAGE, va));
    check_eq!(EINVAL, f.fd.md_check_map(before, base, PAGE, va));
    check_eq!(0, f.fd.md_check_refs(va, BUF_LEN, 0));
    check_eq!(0, f.check(100, after));

    // A second mapping, at another IOVA, reaches the attached one too.
    let base2 = base + 4 * BUF_LEN;
    check_eq!(Ok(base2), f.fd.map(f.ioas, va, BUF_LEN, base2, RW_FIXED));
    check_eq!(0, f.fd.md_check_map(after, base2, BUF_LEN, va));
    check_eq!(0, f.fd.md_check_map(before, base2, BUF_LEN, va));
    check_eq!(Ok(BUF_LEN), f.fd.unmap(f.ioas, 0, u64::MAX));
    check_eq!(EINVAL, f.fd.md_check_map(after, base2, PAGE, va));

    check_eq!(0, f.detach(100));
    check_eq!(0, f.rid_replace(f.ioas));
    Ok(())
}
