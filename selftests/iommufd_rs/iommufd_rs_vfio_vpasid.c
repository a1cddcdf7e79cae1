// SPDX-License-Identifier: GPL-2.0-only
/*
 * vfio-pci-pasid.ko (vfio_pci_pasid/), the vfio-pci variant that presents a
 * virtual PASID capability, on the functions of the vfio-user device model
 * (VM_VFU), from userspace through the VFIO config region:
 *
 * - layout: the config region of each function under plain vfio-pci and
 *   under the variant. With PASID enabled on the function, the variant's
 *   chain has one PASID capability, last, where the policy puts it (0xff8,
 *   or the first free gap when the function's own hidden PASID capability
 *   sits at 0xff8), with the width the IOMMU accepts and the Exec/Priv bits
 *   enabled physically; the previous header is relinked, and every other
 *   byte is vfio-pci's (but the header at 0x100 where vfio-pci shows the
 *   device's, see below). Without PASID, both are the same byte for byte.
 * - control: header and Capability are read-only; Control keeps the bits
 *   the function has enabled and never reaches the device (its physical
 *   Control, read through sysfs, does not change); FLR through the config
 *   region, VFIO_DEVICE_RESET and a new open clear it.
 * - offset_request, fingerprint_required: the sysfs contract of the
 *   migration target (an offset or a fingerprint required before open, a
 *   refused open when it cannot be honoured).
 * - module_parameters: offsets by vendor:device and by address, quirk
 *   ranges, and tables that do not parse (the variant is reloaded).
 *
 * Needs vfio-pci and vfio-pci-pasid loaded (scripts/vfio-edu.sh). Fails,
 * rather than skips, when IOMMUFD_RS_NEED_PASID_DEV=1 and there is no
 * function with PASID enabled. Leaves every function it used on vfio-pci.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/iommufd.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>

#include "iommufd_rs_util.h"
#include "kselftest_harness.h"

#include "iommufd_rs_edu.h"
#include "iommufd_rs_vfu.h"
#include "iommufd_rs_pasid_dev.h"

#define VARIANT "vfio-pci-pasid"
#define SYSFS_DEV "/sys/bus/pci/devices/"

/* An open VFIO device: the cdev bound to an iommufd, and its config region. */
struct vdev {
	int vfio;
	int iommufd;
	__u64 cfg;
};

static int need_device(void)
{
	const char *v = getenv("IOMMUFD_RS_NEED_PASID_DEV");

	return v && !strcmp(v, "1");
}

static int vdev_open(struct vdev *v, const char *bdf)
{
	struct vfio_device_bind_iommufd bind = { .argsz = sizeof(bind) };
	struct vfio_region_info reg = {
		.argsz = sizeof(reg),
		.index = VFIO_PCI_CONFIG_REGION_INDEX,
	};

	v->iommufd = -1;
	v->vfio = open_vfio_cdev(bdf);
	if (v->vfio < 0)
		return -1;
	v->iommufd = open("/dev/iommu", O_RDWR);
	bind.iommufd = v->iommufd;
	if (v->iommufd < 0 || ioctl(v->vfio, VFIO_DEVICE_BIND_IOMMUFD, &bind) ||
	    ioctl(v->vfio, VFIO_DEVICE_GET_REGION_INFO, &reg)) {
		int e = errno;

		close(v->vfio);
		if (v->iommufd >= 0)
			close(v->iommufd);
		errno = e;
		return -1;
	}
	v->cfg = reg.offset;
	return 0;
}

static void vdev_close(struct vdev *v)
{
	close(v->vfio);
	close(v->iommufd);
}

static int cfg_read(struct vdev *v, void *buf, size_t len, unsigned int off)
{
	return pread(v->vfio, buf, len, v->cfg + off) == (ssize_t)len ? 0 : -1;
}

static int cfg_write(struct vdev *v, const void *buf, size_t len, unsigned int off)
{
	return pwrite(v->vfio, buf, len, v->cfg + off) == (ssize_t)len ? 0 : -1;
}

static __u32 vcfg32(struct vdev *v, unsigned int off)
{
	__u32 x = 0;

	cfg_read(v, &x, 4, off);
	return x;
}

/* bdf's vfio-pci-pasid sysfs attribute name, into buf; 0 or -1. */
static int attr_read(const char *bdf, const char *name, char *buf, size_t len)
{
	char path[256];

	snprintf(path, sizeof(path), SYSFS_DEV "%.63s/%s", bdf, name);
	return read_sysfs(path, buf, len);
}

/* Writes val to the attribute: 0, or the errno of the write. */
static int attr_write(const char *bdf, const char *name, const char *val)
{
	char path[256];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), SYSFS_DEV "%.63s/%s", bdf, name);
	fd = open(path, O_WRONLY);
	if (fd < 0)
		return errno;
	n = write(fd, val, strlen(val));
	n = n < 0 ? errno : 0;
	close(fd);
	return n;
}

/* The physical PASID Control register of bdf (sysfs config), or -1. */
static int phys_ctrl(const char *bdf)
{
	static __u8 c[CFG_SIZE];
	int off;

	if (vfu_read_config(bdf, c) != CFG_SIZE)
		return -1;
	off = vfu_ext_cap(c, PCI_EXT_CAP_ID_PASID);
	return off ? cfg16(c, off + PCI_PASID_CTRL) : -1;
}

/* The functions of the boot with a PASID capability that Linux enabled. */
static int pasid_functions(struct vfu_dev *devs, int *idx, int max)
{
	static struct vfu_dev all[VFU_MAX];
	int n = vfu_devices(all, VFU_MAX), i, k = 0;

	memcpy(devs, all, sizeof(all));
	for (i = 0; i < n && k < max; i++) {
		int ctrl;

		if (!all[i].bdf[0])
			continue;
		ctrl = phys_ctrl(all[i].bdf);
		if (ctrl >= 0 && (ctrl & PCI_PASID_CTRL_ENABLE))
			idx[k++] = i;
	}
	return k;
}

/*
 * Where the policy puts the capability on the model's functions: 0xff8,
 * unless the function's own PASID capability is there (pasid-at=0xff8),
 * which leaves the model's null header at 0x100 and the first free gap
 * after it (vfio_pci_pasid/host/tests.rs, model_pasid_at_ff8).
 */
static unsigned int expected_offset(const struct vfu_dev *d)
{
	return d->pasid_at == 0xff8 ? 0x104 : 0xff8;
}

/* The last capability of the extended chain in c, or 0. */
static int last_ext(const __u8 *c)
{
	int pos = 0x100, i;

	for (i = 0; i < 1024 && pos >= 0x100 && pos <= CFG_SIZE - 4; i++) {
		int next = (cfg32(c, pos) >> 20) & ~3;

		if (!next)
			return pos;
		pos = next;
	}
	return 0;
}

/* The capability whose next pointer is off in the chain of c, or 0. */
static int prev_ext(const __u8 *c, int off)
{
	int pos = 0x100, i;

	for (i = 0; i < 1024 && pos >= 0x100 && pos <= CFG_SIZE - 4; i++) {
		int next = (cfg32(c, pos) >> 20) & ~3;

		if (next == off)
			return pos;
		pos = next;
	}
	return 0;
}

/* How many capabilities with this id the chain of c has. */
static int count_ext(const __u8 *c, int id)
{
	int pos = 0x100, i, n = 0;

	for (i = 0; i < 1024 && pos >= 0x100 && pos <= CFG_SIZE - 4; i++) {
		__u32 h = cfg32(c, pos);

		n += (h & 0xffff) == (__u32)id;
		pos = (h >> 20) & ~3;
	}
	return n;
}

/* The whole config region of bdf under driver drv, opened afresh. */
static int read_region(const char *bdf, const char *drv, __u8 *buf)
{
	struct vdev v;
	int rc;

	if (bind_driver(bdf, drv) || vdev_open(&v, bdf))
		return -1;
	rc = cfg_read(&v, buf, CFG_SIZE, 0);
	vdev_close(&v);
	return rc;
}

/* How many kernel log lines contain s, or -1. */
static int log_lines(const char *s)
{
	char line[512];
	int n = 0;
	FILE *p = popen("dmesg", "r");

	if (!p)
		return -1;
	while (fgets(line, sizeof(line), p))
		n += !!strstr(line, s);
	return pclose(p) ? -1 : n;
}

/* The offset of PCIe Device Control in the config region, or 0. */
static int exp_devctl(struct vdev *v)
{
	__u8 c[256];
	int exp;

	if (cfg_read(v, c, sizeof(c), 0))
		return 0;
	exp = vfu_std_cap(c, PCI_CAP_ID_EXP);
	return exp ? exp + PCI_EXP_DEVCTL : 0;
}

FIXTURE(vpasid)
{
	struct vfu_dev devs[VFU_MAX];
	int idx[VFU_MAX];
	int n;
};

FIXTURE_SETUP(vpasid)
{
	if (access("/sys/bus/pci/drivers/" VARIANT, F_OK))
		SKIP(return, VARIANT " is not loaded");
	self->n = pasid_functions(self->devs, self->idx, VFU_MAX);
	if (!self->n) {
		if (need_device())
			ASSERT_TRUE(0 && "no function with PASID enabled");
		SKIP(return, "no function with PASID enabled (boot with VM_VFU)");
	}
}

/*
 * Reloads the variant (IOMMUFD_RS_VPASID_KO, which scripts/vfio-edu.sh
 * loaded) with these module parameters: 0, or -1 if the load failed.
 */
static int reload_variant(const char *params)
{
	const char *ko = getenv("IOMMUFD_RS_VPASID_KO");
	char cmd[1024];

	if (!ko)
		return -1;
	if (!access("/sys/module/vfio_pci_pasid", F_OK) && system("rmmod vfio_pci_pasid"))
		return -1;
	snprintf(cmd, sizeof(cmd), "insmod '%s' %s 2>/dev/null", ko, params);
	return system(cmd) ? -1 : 0;
}

/* Whether the variant is loaded with empty quirks and offsets. */
static int variant_plain(void)
{
	char q[64], o[64];

	return !read_sysfs("/sys/module/vfio_pci_pasid/parameters/quirks", q, sizeof(q)) &&
	       !read_sysfs("/sys/module/vfio_pci_pasid/parameters/offsets", o, sizeof(o)) &&
	       !q[0] && !o[0];
}

FIXTURE_TEARDOWN(vpasid)
{
	int i;

	if (!variant_plain())
		reload_variant("");

	for (i = 0; i < VFU_MAX; i++) {
		char drv[128];

		if (!self->devs[i].bdf[0] || driver_of(self->devs[i].bdf, drv, sizeof(drv)))
			continue;
		if (!strcmp(drv, VARIANT)) {
			attr_write(self->devs[i].bdf, "vpasid_offset", "auto");
			attr_write(self->devs[i].bdf, "vpasid_fingerprint", "none");
			bind_vfio_pci(self->devs[i].bdf);
		}
	}
}

TEST_F(vpasid, layout)
{
	static __u8 plain[CFG_SIZE], var[CFG_SIZE], phys[CFG_SIZE];
	unsigned int vtd = vtd_pasid_width();
	int i, p, checked = 0, null_first;

	for (i = 0; i < VFU_MAX; i++) {
		const struct vfu_dev *d = &self->devs[i];
		unsigned int off, prev, width, cap;
		char attr[64];
		__u16 ctrl;

		if (!d->bdf[0] || vfu_read_config(d->bdf, phys) != CFG_SIZE)
			continue;
		/* vfio-pci refuses some captured devices (denylist). */
		if (read_region(d->bdf, "vfio-pci", plain))
			continue;
		ASSERT_EQ(0, read_region(d->bdf, VARIANT, var)) TH_LOG("%s", d->spec);
		ctrl = vfu_ext_cap(phys, PCI_EXT_CAP_ID_PASID) ?
			cfg16(phys, vfu_ext_cap(phys, PCI_EXT_CAP_ID_PASID) + PCI_PASID_CTRL) : 0;
		/*
		 * vfio-pci hides PASID, except behind a device header of id 0
		 * at 0x100: its map takes that for the standard header (id 0
		 * too) and reads it from the device, so the device's chain
		 * shows, hidden capabilities and all.
		 */
		null_first = cfg32(phys, 0x100) && !(cfg32(phys, 0x100) & 0xffff);
		ASSERT_TRUE(!null_first || cfg32(phys, 0x100) == cfg32(plain, 0x100));
		ASSERT_TRUE(null_first || !count_ext(plain, PCI_EXT_CAP_ID_PASID));
		ASSERT_EQ(0, attr_read(d->bdf, "vpasid_offset", attr, sizeof(attr)));
		if (!(ctrl & PCI_PASID_CTRL_ENABLE)) {
			ASSERT_EQ(0, memcmp(plain, var, CFG_SIZE)) TH_LOG("%s", d->spec);
			ASSERT_STREQ("none", attr);
			TH_LOG("%s: no PASID enabled, same config region", d->spec);
			checked++;
			continue;
		}
		off = vfu_ext_cap(var, PCI_EXT_CAP_ID_PASID);
		ASSERT_EQ(expected_offset(d), off) TH_LOG("%s", d->spec);
		ASSERT_EQ(off, strtoul(attr, NULL, 16));
		ASSERT_EQ(1, count_ext(var, PCI_EXT_CAP_ID_PASID));
		ASSERT_EQ(off, last_ext(var));
		/* Id 0x1b, version 1, the end of the chain. */
		ASSERT_EQ(0x0001001bU, cfg32(var, off));
		/* Width: the device's and the IOMMU's, whichever is less. */
		cap = cfg16(phys, vfu_ext_cap(phys, PCI_EXT_CAP_ID_PASID) + PCI_PASID_CAP);
		width = (cap >> 8) & 0x1f;
		if (vtd && vtd < width)
			width = vtd;
		ASSERT_EQ(width << 8 | (ctrl & 6), cfg16(var, off + PCI_PASID_CAP));
		ASSERT_EQ(0, cfg16(var, off + PCI_PASID_CTRL));
		/*
		 * The capability before ours is vfio-pci's last, relinked; with
		 * a null header first, 0x100 is vfio-pci's own header.
		 */
		prev = prev_ext(var, off);
		ASSERT_NE(0, prev);
		ASSERT_TRUE(null_first || last_ext(plain) == prev);
		ASSERT_EQ(cfg32(plain, prev) & 0xfffff, cfg32(var, prev) & 0xfffff);
		for (p = 0; p < CFG_SIZE; p++) {
			if ((p >= off && p < off + 8) || (p >= prev && p < prev + 4) ||
			    (null_first && p >= 0x100 && p < 0x104))
				continue;
			ASSERT_EQ(plain[p], var[p]) TH_LOG("%s: byte %#x", d->spec, p);
		}
		TH_LOG("%s: PASID at %#x after %#x, capability %04x", d->spec, off, prev,
		       cfg16(var, off + PCI_PASID_CAP));
		checked++;
	}
	ASSERT_LT(0, checked);
}

TEST_F(vpasid, control)
{
	int i;

	for (i = 0; i < self->n; i++) {
		const struct vfu_dev *d = &self->devs[self->idx[i]];
		unsigned int off, cap, exp;
		__u32 ones = ~0U, zero = 0, hdr, capreg;
		__u16 w, devctl;
		int before;
		struct vdev v;
		__u8 eight[8];

		before = phys_ctrl(d->bdf);
		ASSERT_LE(0, before);
		ASSERT_EQ(0, bind_driver(d->bdf, VARIANT));
		ASSERT_EQ(0, vdev_open(&v, d->bdf));
		off = expected_offset(d);
		hdr = vcfg32(&v, off);
		capreg = vcfg32(&v, off + 4);
		ASSERT_EQ(0x0001001bU, hdr);
		cap = capreg & 0xffff;
		/* Enable, and Exec/Priv Enable where the capability has them. */
		exp = PCI_PASID_CTRL_ENABLE | (cap & 6);

		/* Header and Capability do not change; Control takes its bits. */
		ASSERT_EQ(0, cfg_write(&v, &ones, 4, off));
		ASSERT_EQ(hdr, vcfg32(&v, off));
		ASSERT_EQ(0, cfg_write(&v, &ones, 4, off + 4));
		ASSERT_EQ(cap | exp << 16, vcfg32(&v, off + 4));
		ASSERT_EQ(before, phys_ctrl(d->bdf));
		w = 0;
		ASSERT_EQ(0, cfg_write(&v, &w, 2, off + PCI_PASID_CTRL));
		ASSERT_EQ(cap, vcfg32(&v, off + 4));
		/* One 8-byte write over the whole capability. */
		memset(eight, 0xff, sizeof(eight));
		ASSERT_EQ(0, cfg_write(&v, eight, 8, off));
		ASSERT_EQ(hdr, vcfg32(&v, off));
		ASSERT_EQ(cap | exp << 16, vcfg32(&v, off + 4));
		/* A byte write to Control's low byte. */
		ASSERT_EQ(0, cfg_write(&v, &zero, 1, off + PCI_PASID_CTRL));
		ASSERT_EQ(cap, vcfg32(&v, off + 4));
		ASSERT_EQ(before, phys_ctrl(d->bdf));

		/* VFIO_DEVICE_RESET clears it (the model has FLR). */
		w = PCI_PASID_CTRL_ENABLE;
		ASSERT_EQ(0, cfg_write(&v, &w, 2, off + PCI_PASID_CTRL));
		ASSERT_EQ(cap | 1U << 16, vcfg32(&v, off + 4));
		ASSERT_EQ(0, ioctl(v.vfio, VFIO_DEVICE_RESET));
		ASSERT_EQ(cap, vcfg32(&v, off + 4));

		/* So does an FLR through PCIe Device Control. */
		ASSERT_EQ(0, cfg_write(&v, &w, 2, off + PCI_PASID_CTRL));
		ASSERT_EQ(cap | 1U << 16, vcfg32(&v, off + 4));
		devctl = exp_devctl(&v);
		ASSERT_NE(0, devctl);
		ASSERT_EQ(0, cfg_read(&v, &w, 2, devctl));
		w |= PCI_EXP_DEVCTL_BCR_FLR;
		ASSERT_EQ(0, cfg_write(&v, &w, 2, devctl));
		ASSERT_EQ(cap, vcfg32(&v, off + 4));

		/* And a new open. */
		w = PCI_PASID_CTRL_ENABLE;
		ASSERT_EQ(0, cfg_write(&v, &w, 2, off + PCI_PASID_CTRL));
		vdev_close(&v);
		ASSERT_EQ(0, vdev_open(&v, d->bdf));
		ASSERT_EQ(cap, vcfg32(&v, off + 4));
		vdev_close(&v);
		ASSERT_EQ(before, phys_ctrl(d->bdf));
	}
}

TEST_F(vpasid, offset_request)
{
	const struct vfu_dev *d = &self->devs[self->idx[0]];
	static __u8 phys[CFG_SIZE];
	char attr[64], msg[160];
	int hidden, lines;
	struct vdev v;

	ASSERT_EQ(CFG_SIZE, vfu_read_config(d->bdf, phys));
	hidden = vfu_ext_cap(phys, PCI_EXT_CAP_ID_PASID);
	ASSERT_NE(0, hidden);
	ASSERT_EQ(0, bind_driver(d->bdf, VARIANT));

	/* Not dword aligned, out of range, not a number. */
	ASSERT_EQ(EINVAL, attr_write(d->bdf, "vpasid_offset", "0xf02"));
	ASSERT_EQ(EINVAL, attr_write(d->bdf, "vpasid_offset", "0xffc"));
	ASSERT_EQ(EINVAL, attr_write(d->bdf, "vpasid_offset", "0x40"));
	ASSERT_EQ(EINVAL, attr_write(d->bdf, "vpasid_offset", "here"));

	/* A free offset is honoured. */
	ASSERT_EQ(0, attr_write(d->bdf, "vpasid_offset", "0xf00"));
	ASSERT_EQ(0, vdev_open(&v, d->bdf));
	ASSERT_EQ(0x0001001bU, vcfg32(&v, 0xf00));
	ASSERT_EQ(0, attr_read(d->bdf, "vpasid_offset", attr, sizeof(attr)));
	ASSERT_STREQ("0xf00", attr);
	/* No change while open. */
	ASSERT_EQ(EBUSY, attr_write(d->bdf, "vpasid_offset", "0xff8"));
	vdev_close(&v);

	/*
	 * The function's own, hidden, PASID registers are refused, with one
	 * line in the kernel log.
	 */
	snprintf(attr, sizeof(attr), "%#x", hidden);
	ASSERT_EQ(0, attr_write(d->bdf, "vpasid_offset", attr));
	snprintf(msg, sizeof(msg), VARIANT " %s: cannot present PASID: offset %#x overlaps",
		 d->bdf, hidden);
	lines = log_lines(msg);
	ASSERT_LE(0, lines);
	ASSERT_EQ(-1, vdev_open(&v, d->bdf));
	ASSERT_EQ(EBUSY, errno);
	ASSERT_EQ(lines + 1, log_lines(msg));

	ASSERT_EQ(0, attr_write(d->bdf, "vpasid_offset", "auto"));
	ASSERT_EQ(0, vdev_open(&v, d->bdf));
	ASSERT_EQ(0, attr_read(d->bdf, "vpasid_offset", attr, sizeof(attr)));
	ASSERT_EQ(expected_offset(d), strtoul(attr, NULL, 16));
	vdev_close(&v);
}

TEST_F(vpasid, fingerprint_required)
{
	const struct vfu_dev *d = &self->devs[self->idx[0]];
	char fp[64], other[64];
	struct vdev v;
	int i;

	ASSERT_EQ(0, bind_driver(d->bdf, VARIANT));
	ASSERT_EQ(0, vdev_open(&v, d->bdf));
	vdev_close(&v);
	ASSERT_EQ(0, attr_read(d->bdf, "vpasid_fingerprint", fp, sizeof(fp)));
	ASSERT_EQ(16, strlen(fp));

	/* The same layout is reproduced. */
	ASSERT_EQ(0, attr_write(d->bdf, "vpasid_fingerprint", fp));
	ASSERT_EQ(0, vdev_open(&v, d->bdf));
	vdev_close(&v);
	/* Another one is refused, as is the layout at another offset. */
	snprintf(other, sizeof(other), "%s", fp);
	other[15] = other[15] == '0' ? '1' : '0';
	ASSERT_EQ(0, attr_write(d->bdf, "vpasid_fingerprint", other));
	ASSERT_EQ(-1, vdev_open(&v, d->bdf));
	ASSERT_EQ(EXDEV, errno);
	ASSERT_EQ(0, attr_write(d->bdf, "vpasid_fingerprint", fp));
	ASSERT_EQ(0, attr_write(d->bdf, "vpasid_offset", "0xf00"));
	ASSERT_EQ(-1, vdev_open(&v, d->bdf));
	ASSERT_EQ(EXDEV, errno);
	ASSERT_EQ(0, attr_write(d->bdf, "vpasid_offset", "auto"));
	ASSERT_EQ(EINVAL, attr_write(d->bdf, "vpasid_fingerprint", "0x12345678123456789"));
	ASSERT_EQ(0, attr_write(d->bdf, "vpasid_fingerprint", "none"));
	ASSERT_EQ(0, vdev_open(&v, d->bdf));
	vdev_close(&v);

	/* A function without PASID cannot honour any requirement. */
	for (i = 0; i < VFU_MAX; i++) {
		const struct vfu_dev *n = &self->devs[i];
		char drv[128];

		if (!n->bdf[0] || phys_ctrl(n->bdf) >= 0 || bind_driver(n->bdf, VARIANT) ||
		    driver_of(n->bdf, drv, sizeof(drv)) || strcmp(drv, VARIANT))
			continue;
		ASSERT_EQ(0, attr_write(n->bdf, "vpasid_fingerprint", fp));
		ASSERT_EQ(-1, vdev_open(&v, n->bdf));
		ASSERT_EQ(EOPNOTSUPP, errno);
		ASSERT_EQ(0, attr_write(n->bdf, "vpasid_fingerprint", "none"));
		ASSERT_EQ(0, vdev_open(&v, n->bdf));
		vdev_close(&v);
		break;
	}
}

/*
 * The quirks and offsets module parameters. Each reload unbinds and binds
 * the functions again: on one vCPU under TCG beside other VMs that took
 * longer than the harness's default 30 s.
 */
TEST_F_TIMEOUT(vpasid, module_parameters, 300)
{
	const struct vfu_dev *d = &self->devs[self->idx[0]];
	char params[256], attr[64], id[2][16];
	struct vdev v;

	if (!getenv("IOMMUFD_RS_VPASID_KO"))
		SKIP(return, "IOMMUFD_RS_VPASID_KO is not set (scripts/vfio-edu.sh sets it)");
	snprintf(params, sizeof(params), SYSFS_DEV "%s/vendor", d->bdf);
	ASSERT_EQ(0, read_sysfs(params, id[0], sizeof(id[0])));
	snprintf(params, sizeof(params), SYSFS_DEV "%s/device", d->bdf);
	ASSERT_EQ(0, read_sysfs(params, id[1], sizeof(id[1])));

	/* Tables that do not parse fail the load. */
	ASSERT_EQ(-1, reload_variant("quirks=1b36:1f00:0x50-0x60"));
	ASSERT_EQ(-1, reload_variant("offsets=1b36:1f00=0xf02"));

	/* An offset for the function's vendor:device. */
	snprintf(params, sizeof(params), "'offsets=%s:%s=0xf00'", id[0] + 2, id[1] + 2);
	ASSERT_EQ(0, reload_variant(params));
	ASSERT_EQ(0, bind_driver(d->bdf, VARIANT));
	ASSERT_EQ(0, vdev_open(&v, d->bdf));
	ASSERT_EQ(0x0001001bU, vcfg32(&v, 0xf00));
	vdev_close(&v);
	ASSERT_EQ(0, attr_read(d->bdf, "vpasid_offset", attr, sizeof(attr)));
	ASSERT_STREQ("0xf00", attr);

	/* Its address wins over its vendor:device. */
	snprintf(params, sizeof(params), "'offsets=%s:%s=0xf00;%s=0xe00'", id[0] + 2,
		 id[1] + 2, d->bdf);
	ASSERT_EQ(0, reload_variant(params));
	ASSERT_EQ(0, bind_driver(d->bdf, VARIANT));
	ASSERT_EQ(0, vdev_open(&v, d->bdf));
	ASSERT_EQ(0x0001001bU, vcfg32(&v, 0xe00));
	vdev_close(&v);

	/*
	 * A quirk over the end of config space: the default goes to the first
	 * gap. On the model's endpoint with ATS, ATS is at 0x100 (8 bytes)
	 * and PRI at 0x110, so that is 0x108.
	 */
	if (d->ats && !d->dump[0] && !d->pasid_at) {
		snprintf(params, sizeof(params), "'quirks=%s:%s:0xf00-0xfff'", id[0] + 2,
			 id[1] + 2);
		ASSERT_EQ(0, reload_variant(params));
		ASSERT_EQ(0, bind_driver(d->bdf, VARIANT));
		ASSERT_EQ(0, vdev_open(&v, d->bdf));
		ASSERT_EQ(0x0001001bU, vcfg32(&v, 0x108));
		vdev_close(&v);
		/* And the operator cannot have 0xff8 there. */
		ASSERT_EQ(0, attr_write(d->bdf, "vpasid_offset", "0xff8"));
		ASSERT_EQ(-1, vdev_open(&v, d->bdf));
		ASSERT_EQ(EBUSY, errno);
	}
	ASSERT_EQ(0, reload_variant(""));
	ASSERT_TRUE(variant_plain());
}

TEST_HARNESS_MAIN
