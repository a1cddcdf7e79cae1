// SPDX-License-Identifier: GPL-2.0-only
/*
 * The vfio-user device model (tools/vfio-user-device) in the guest: QEMU's
 * vfio-user-pci presents one PCI Express function per server that
 * scripts/vm.sh started for VM_VFU.
 *
 * - config_pasid: the model's own endpoints show the configured PASID
 *   capability (width, Exec, Priv, offset), ATS and PRI, DevCap2's End-End
 *   TLP Prefix bit, and PASID enabled (the intel-iommu driver enables it at
 *   probe, on a function of a multi-function device only with ACS); the
 *   host's lspci shows the same where it is installed.
 * - vfu.*: RID DMA through vfio-pci, the VFIO cdev and an IOAS: the device
 *   reaches exactly what the IOAS maps at the IOVA (QEMU sends the model
 *   the DMA maps of the guest IOMMU's domain), and a DMA to an IOVA that is
 *   not mapped, or no longer, faults in the device's status register.
 * - multifunction_groups: functions share an IOMMU group unless ACS
 *   isolates them.
 * - dump_config: a device presenting a captured config space shows the
 *   guest the dump's bytes, except the fields listed in dump_rules.
 *
 * Needs the VM booted with VM_VFU and, for vfu.*, vfio-pci loaded
 * (scripts/vfio-edu.sh --test iommufd_rs_vfu does that). Skips what the
 * boot has no device for.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/iommufd.h>
#include <linux/vfio.h>

#include "iommufd_rs_util.h"
#include "kselftest_harness.h"

#include "iommufd_rs_edu.h"
#include "iommufd_rs_vfu.h"

/* What the host's lspci (pciutils) prints of bdf's PASID capability. */
static void lspci_pasid(struct __test_metadata *_metadata, const struct vfu_dev *d)
{
	char cmd[128], line[256], want_cap[64];
	int cap = 0, enabled = 0;
	FILE *p;

	if (access("/usr/bin/lspci", X_OK) && access("/usr/sbin/lspci", X_OK)) {
		TH_LOG("no lspci on the host: config read through sysfs only");
		return;
	}
	snprintf(cmd, sizeof(cmd), "lspci -vvv -s %s 2>&1", d->bdf);
	snprintf(want_cap, sizeof(want_cap), "PASIDCap: Exec%c Priv%c, Max PASID Width: %02x",
		 d->exec ? '+' : '-', d->priv ? '+' : '-', d->pasid_width);
	p = popen(cmd, "r");
	ASSERT_NE(NULL, p);
	while (fgets(line, sizeof(line), p)) {
		if (strstr(line, want_cap))
			cap = 1;
		if (strstr(line, "PASIDCtl: Enable+"))
			enabled = 1;
	}
	pclose(p);
	EXPECT_TRUE(cap);
	EXPECT_TRUE(enabled);
}

TEST(config_pasid)
{
	struct vfu_dev devs[VFU_MAX];
	__u8 c[CFG_SIZE];
	int n, i, exp, pasid, seen = 0;
	char capstr[64], ctlstr[64];
	__u16 pcap, pctl;

	n = vfu_devices(devs, VFU_MAX);
	if (!n)
		SKIP(return, "no vfio-user device (boot with VM_VFU)");
	for (i = 0; i < n; i++) {
		const struct vfu_dev *d = &devs[i];

		if (!d->bdf[0])
			TH_LOG("device %d (%s) not found behind 00:%02x.0", i, d->spec,
			       VFU_PORT_SLOT0 + d->port);
		ASSERT_NE(0, d->bdf[0]);
		ASSERT_EQ(CFG_SIZE, vfu_read_config(d->bdf, c));
		if (d->dump[0])
			continue;
		seen++;
		/* QEMU sets the multi-function bit from multifunction=on. */
		EXPECT_EQ(d->multifunction ? 0x80 : 0, c[0x0e] & 0x80);
		exp = vfu_std_cap(c, PCI_ID_EXP);
		ASSERT_NE(0, exp);
		/* Version 2, Endpoint. */
		EXPECT_EQ(0x0002, cfg16(c, exp + 2) & 0xf0f);
		EXPECT_EQ(EXP_DEVCAP2_EE_PREFIX, cfg32(c, exp + 0x24) & EXP_DEVCAP2_EE_PREFIX);
		EXPECT_EQ(d->ats, !!vfu_ext_cap(c, PCI_EXT_ID_ATS));
		EXPECT_EQ(d->pri, !!vfu_ext_cap(c, PCI_EXT_ID_PRI));
		EXPECT_EQ(!!d->acs, !!vfu_ext_cap(c, PCI_EXT_ID_ACS));

		pasid = vfu_ext_cap(c, PCI_EXT_ID_PASID);
		if (!d->pasid_width) {
			EXPECT_EQ(0, pasid);
			continue;
		}
		ASSERT_NE(0, pasid);
		if (d->pasid_at)
			EXPECT_EQ(d->pasid_at, pasid);
		pcap = cfg16(c, pasid + 4);
		pctl = cfg16(c, pasid + 6);
		snprintf(capstr, sizeof(capstr), "Exec%c Priv%c, Max PASID Width: %02x",
			 pcap & 2 ? '+' : '-', pcap & 4 ? '+' : '-', (pcap >> 8) & 0x1f);
		snprintf(ctlstr, sizeof(ctlstr), "Enable%c Exec%c Priv%c", pctl & 1 ? '+' : '-',
			 pctl & 2 ? '+' : '-', pctl & 4 ? '+' : '-');
		TH_LOG("%s: PASID at %#x: PASIDCap: %s; PASIDCtl: %s", d->bdf, pasid, capstr,
		       ctlstr);
		EXPECT_EQ(d->pasid_width, (pcap >> 8) & 0x1f);
		EXPECT_EQ(d->exec, !!(pcap & 2));
		EXPECT_EQ(d->priv, !!(pcap & 4));
		/*
		 * The intel-iommu driver enables PASID when it probes the
		 * device, if pci_enable_pasid() lets it: on a function of a
		 * multi-function device only with ACS (Request Redirect and
		 * Upstream Forwarding on the whole path).
		 */
		if (iommu_vendor() == IOMMU_VTD)
			EXPECT_EQ(vfu_pasid_allowed(d), pctl & 1);
		if (pctl & 1)
			lspci_pasid(_metadata, d);
	}
	if (!seen)
		SKIP(return, "only captured config spaces here");
}

/*
 * The functions of a multi-function device share an IOMMU group unless
 * ACS isolates them: a function without ACS isolation joins a sibling
 * that has none either (get_pci_function_alias_group()).
 */
TEST(multifunction_groups)
{
	struct vfu_dev devs[VFU_MAX];
	int n, i, j, gi, gj, seen = 0;

	n = vfu_devices(devs, VFU_MAX);
	for (i = 0; i < n; i++) {
		for (j = i + 1; j < n && devs[j].port == devs[i].port; j++) {
			ASSERT_NE(0, devs[i].bdf[0]);
			ASSERT_NE(0, devs[j].bdf[0]);
			gi = iommu_group_of(devs[i].bdf);
			gj = iommu_group_of(devs[j].bdf);
			TH_LOG("%s (%s): group %d; %s (%s): group %d", devs[i].bdf, devs[i].spec,
			       gi, devs[j].bdf, devs[j].spec, gj);
			ASSERT_LE(0, gi);
			ASSERT_LE(0, gj);
			EXPECT_EQ(!vfu_isolated(&devs[i]) && !vfu_isolated(&devs[j]), gi == gj);
			seen++;
		}
	}
	if (!seen)
		SKIP(return, "no multi-function device (boot with VM_VFU='...;func=1,...')");
}

/*
 * The bytes of a captured config space that the guest may see changed, as
 * (capability, offset in it, length, why); cap 0 is the header, an
 * extended capability is cap 0x100 + its id, -1 every extended header.
 */
struct dump_rule {
	int cap;
	int off;
	int len;
	const char *why;
};

static const struct dump_rule dump_rules[] = {
	{ 0, 0x04, 4, "command and status: the guest's and the model's (decoding off)" },
	{ 0, 0x0c, 2, "cache line size and latency timer: the guest's" },
	{ 0, 0x0e, 1, "header type: QEMU's multi-function bit" },
	{ 0, 0x10, 24, "BARs: sized by the model, assigned by the guest" },
	{ 0, 0x30, 4, "expansion ROM: the model has none" },
	{ 0, 0x3c, 1, "interrupt line: the guest's" },
	{ 0x01, 4, 4, "PM control/status: the guest's" },
	{ 0x05, 2, 22, "MSI: QEMU emulates it" },
	{ 0x11, 2, 2, "MSI-X control: QEMU emulates it" },
	{ 0x10, 2, 1, "PCIe flags: QEMU makes an RCiEP an Endpoint behind a root port" },
	{ 0x10, 8, 4, "device control/status: the guest's" },
	{ 0x10, 0x0c, 8, "link: QEMU's for a former RCiEP; control the guest's" },
	{ 0x10, 0x26, 1, "DevCap2: the model forces End-End TLP Prefix with PASID" },
	{ 0x10, 0x28, 4, "device control 2: the guest's" },
	{ 0x10, 0x30, 4, "link control/status 2: the guest's" },
	{ -1, 2, 2, "next pointers: QEMU skips the capabilities it hides" },
	{ 0x100 + 0x01, 4, 0x1c, "AER status, masks, control: the guest's" },
	{ 0x100 + PCI_EXT_ID_ATS, 6, 2, "ATS control: the IOMMU driver's" },
	{ 0x100 + PCI_EXT_ID_PASID, 6, 2, "PASID control: the IOMMU driver's" },
	{ 0x100 + PCI_EXT_ID_PRI, 4, 4, "PRI control/status: the IOMMU driver's" },
	{ 0x100 + PCI_EXT_ID_PRI, 0x0c, 4, "PRI allocation: the IOMMU driver's" },
	{ 0x100 + 0x18, 4, 4, "LTR latencies: the guest's" },
	{ 0x100 + 0x15, 4, 0x30, "Resizable BAR: QEMU offers the current size only" },
	/* QEMU hides SR-IOV and ARI (and what is masked as ID 0). */
	{ 0x100 + 0x10, 0, 0x40, "SR-IOV: hidden by QEMU" },
	{ 0x100 + 0x0e, 0, 8, "ARI: hidden by QEMU" },
};

/* The rule that allows a change at off of dump d, or NULL. */
static const struct dump_rule *dump_rule_for(const __u8 *d, int off)
{
	int caps[64][2], ncaps = 0, pos, i, j, start;
	__u32 hdr;

	pos = d[0x34] & ~3;
	for (i = 0; i < 48 && pos >= 0x40 && pos < 0x100 && ncaps < 64; i++) {
		caps[ncaps][0] = d[pos];
		caps[ncaps++][1] = pos;
		pos = d[pos + 1] & ~3;
	}
	pos = 0x100;
	for (i = 0; i < 1024 && pos >= 0x100 && pos <= CFG_SIZE - 4 && ncaps < 64; i++) {
		hdr = cfg32(d, pos);
		if (!hdr)
			break;
		caps[ncaps][0] = 0x100 + (hdr & 0xffff);
		caps[ncaps++][1] = pos;
		pos = (hdr >> 20) & ~3;
	}
	for (j = 0; j < (int)ARRAY_SIZE(dump_rules); j++) {
		const struct dump_rule *r = &dump_rules[j];

		if (r->cap == 0) {
			if (off >= r->off && off < r->off + r->len)
				return r;
			continue;
		}
		for (i = 0; i < ncaps; i++) {
			if (r->cap == -1 ? caps[i][0] < 0x100 : caps[i][0] != r->cap)
				continue;
			start = caps[i][1] + r->off;
			if (off >= start && off < start + r->len)
				return r;
		}
	}
	return NULL;
}

TEST(dump_config)
{
	struct vfu_dev devs[VFU_MAX];
	__u8 c[CFG_SIZE], d[CFG_SIZE];
	int n, i, off, covered, bad, allowed, pasid, exp, seen = 0;

	n = vfu_devices(devs, VFU_MAX);
	for (i = 0; i < n; i++) {
		const struct vfu_dev *dev = &devs[i];

		if (!dev->dump[0])
			continue;
		seen++;
		ASSERT_NE(0, dev->bdf[0]);
		covered = vfu_load_dump(dev->dump, d);
		if (covered < 0)
			TH_LOG("cannot read %s", dev->dump);
		ASSERT_LT(0, covered);
		ASSERT_EQ(CFG_SIZE, vfu_read_config(dev->bdf, c));
		bad = 0;
		allowed = 0;
		for (off = 0; off < CFG_SIZE; off++) {
			const struct dump_rule *r;

			if (c[off] == d[off])
				continue;
			r = dump_rule_for(d, off);
			if (r) {
				allowed++;
				continue;
			}
			TH_LOG("%s (%s) %#05x: the dump has %02x, the guest sees %02x",
			       dev->bdf, dev->dump, off, d[off], c[off]);
			bad++;
		}
		TH_LOG("%s: %s: %d bytes compared, %d differ as listed, %d otherwise",
		       dev->bdf, dev->dump, CFG_SIZE, allowed, bad);
		EXPECT_EQ(0, bad);
		/* With PASID, the End-End TLP Prefix bit the model forces. */
		pasid = vfu_ext_cap(c, PCI_EXT_ID_PASID);
		exp = vfu_std_cap(c, PCI_ID_EXP);
		if (pasid && exp) {
			__u32 devcap2 = cfg32(c, exp + 0x24);

			TH_LOG("%s: PASID at %#x, PASIDCap %04x, PASIDCtl %04x, DevCap2 %08x",
			       dev->bdf, pasid, cfg16(c, pasid + 4), cfg16(c, pasid + 6), devcap2);
			EXPECT_EQ(EXP_DEVCAP2_EE_PREFIX, devcap2 & EXP_DEVCAP2_EE_PREFIX);
		}
	}
	if (!seen)
		SKIP(return, "no captured config space (boot with VM_VFU='dump=...')");
}

/* RID DMA through vfio-pci and an IOAS, on the index-th device. */
FIXTURE(vfu)
{
	struct vfu_dev dev;
	int iommufd;
	int vfio;
	__u32 ioas_id;
	__u32 devid;
	__u64 bar0;
	__u8 *buf;
	int unsafe_irqs;
};

FIXTURE_VARIANT(vfu)
{
	int index;
};

FIXTURE_VARIANT_ADD(vfu, dev0) { .index = 0 };
FIXTURE_VARIANT_ADD(vfu, dev1) { .index = 1 };
FIXTURE_VARIANT_ADD(vfu, dev2) { .index = 2 };
FIXTURE_VARIANT_ADD(vfu, dev3) { .index = 3 };
FIXTURE_VARIANT_ADD(vfu, dev4) { .index = 4 };
FIXTURE_VARIANT_ADD(vfu, dev5) { .index = 5 };
FIXTURE_VARIANT_ADD(vfu, dev6) { .index = 6 };
FIXTURE_VARIANT_ADD(vfu, dev7) { .index = 7 };
FIXTURE_VARIANT_ADD(vfu, dev8) { .index = 8 };
FIXTURE_VARIANT_ADD(vfu, dev9) { .index = 9 };

#define VFU_IOVA 0x10000000UL
#define VFU_PAGES 4

FIXTURE_SETUP(vfu)
{
	struct vfio_device_bind_iommufd bind = { .argsz = sizeof(bind) };
	struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };
	struct vfu_dev devs[VFU_MAX];
	int n;

	self->iommufd = -1;
	self->vfio = -1;
	self->buf = NULL;
	self->unsafe_irqs = 0;
	n = vfu_devices(devs, VFU_MAX);
	if (n <= variant->index)
		SKIP(return, "no vfio-user device %d (VM_VFU has %d)", variant->index, n);
	self->dev = devs[variant->index];
	if (access("/sys/bus/pci/drivers/vfio-pci", F_OK))
		SKIP(return, "vfio-pci is not loaded");
	ASSERT_NE(0, self->dev.bdf[0]);
	ASSERT_EQ(0, bind_vfio_pci(self->dev.bdf));
	/*
	 * vfio-pci refuses the devices of its denylist (Intel's DSA, IAA and
	 * QAT among them) unless loaded with disable_denylist=1: that is the
	 * dump's identity, not the model.
	 */
	if (self->dev.dump[0] && !vfu_vfio_pci_bound(self->dev.bdf))
		SKIP(return, "vfio-pci did not bind %s (%s): its denylist?", self->dev.bdf,
		     self->dev.dump);
	self->vfio = open_vfio_cdev(self->dev.bdf);
	ASSERT_LE(0, self->vfio);
	self->iommufd = open("/dev/iommu", O_RDWR);
	ASSERT_LE(0, self->iommufd);
	self->unsafe_irqs = msi_isolated() == 0;
	if (self->unsafe_irqs)
		ASSERT_EQ(0, set_unsafe_irqs(1));
	bind.iommufd = self->iommufd;
	if (ioctl(self->vfio, VFIO_DEVICE_BIND_IOMMUFD, &bind)) {
		/*
		 * vfio-pci sets up an Intel display device's OpRegion from its
		 * ASLS register, which in a dump points into the captured
		 * machine's memory: opening the device fails.
		 */
		if (self->dev.dump[0] && errno == EINVAL && vfu_intel_display(self->dev.bdf))
			SKIP(return, "%s (%s): vfio-pci cannot set up an Intel display's OpRegion",
			     self->dev.bdf, self->dev.dump);
		TH_LOG("%s: VFIO_DEVICE_BIND_IOMMUFD: %s", self->dev.bdf, strerror(errno));
	}
	ASSERT_NE(0, bind.out_devid);
	self->devid = bind.out_devid;
	ASSERT_EQ(0, ioctl(self->iommufd, IOMMU_IOAS_ALLOC, &alloc));
	self->ioas_id = alloc.out_ioas_id;
	/* BAR0, and bus mastering on. */
	ASSERT_EQ(0, edu_open(self->vfio, &self->bar0));
	ASSERT_EQ(VFU_ID, rd32(self->vfio, self->bar0, VFU_REG_ID));
	self->buf = mmap(NULL, VFU_PAGES * PSZ, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->buf);
}

FIXTURE_TEARDOWN(vfu)
{
	if (self->buf && self->buf != MAP_FAILED)
		munmap(self->buf, VFU_PAGES * PSZ);
	if (self->vfio >= 0)
		close(self->vfio);
	if (self->iommufd >= 0)
		close(self->iommufd);
	if (self->unsafe_irqs)
		set_unsafe_irqs(0);
}

static int vfu_attach(int vfio, __u32 pt_id)
{
	struct vfio_device_attach_iommufd_pt attach = {
		.argsz = sizeof(attach),
		.pt_id = pt_id,
	};

	return ioctl(vfio, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach);
}

/* Registers: the ID, a scratch register, what the model says it is. */
TEST_F(vfu, registers)
{
	__u32 info = rd32(self->vfio, self->bar0, VFU_REG_INFO);

	ASSERT_EQ(0, wr32(self->vfio, self->bar0, VFU_REG_SCRATCH, 0x12345678));
	EXPECT_EQ(0x12345678, rd32(self->vfio, self->bar0, VFU_REG_SCRATCH));
	EXPECT_EQ(self->dev.func, (info >> 16) & 7);
	EXPECT_EQ(!!self->dev.dump[0], !!(info & (1 << 24)));
	if (!self->dev.dump[0]) {
		EXPECT_EQ(self->dev.pasid_width, info & 0x1f);
		EXPECT_EQ(self->dev.exec, !!(info & (1 << 8)));
		EXPECT_EQ(self->dev.priv, !!(info & (1 << 9)));
		EXPECT_EQ(self->dev.ats, !!(info & (1 << 10)));
		EXPECT_EQ(self->dev.pri, !!(info & (1 << 11)));
	}
}

/*
 * Device to memory and memory to device through the IOAS, and the
 * pattern fill over two pages.
 */
TEST_F(vfu, dma_both_ways)
{
	__u8 *a = self->buf, *b = self->buf + PSZ;
	__u8 pattern[PSZ], back[PSZ];
	unsigned long i;
	__u32 maps;

	/* Not attached (the device is blocked): nothing is mapped. */
	EXPECT_EQ(0, rd32(self->vfio, self->bar0, VFU_REG_MAPS));
	EXPECT_EQ(VFU_STATUS_FAULT, vfu_dma(self->vfio, self->bar0, VFU_CMD_TO_MEM, 0,
					    VFU_IOVA, 16));

	ASSERT_EQ(0, edu_map(self->iommufd, self->ioas_id, self->buf,
			     VFU_PAGES * PSZ, VFU_IOVA));
	ASSERT_EQ(0, vfu_attach(self->vfio, self->ioas_id));
	/* QEMU sent the model the domain's maps. */
	maps = rd32(self->vfio, self->bar0, VFU_REG_MAPS);
	TH_LOG("%s: %u DMA ranges mapped in the model after attach", self->dev.bdf, maps);
	EXPECT_LT(0, maps);

	for (i = 0; i < PSZ; i++)
		pattern[i] = (__u8)(i * 13 + 7);
	memset(a, 0, PSZ);
	ASSERT_EQ(0, vfu_buf_write(self->vfio, self->bar0, pattern, PSZ));
	ASSERT_EQ(VFU_STATUS_DONE, vfu_dma(self->vfio, self->bar0, VFU_CMD_TO_MEM, 0,
					   VFU_IOVA, PSZ));
	ASSERT_EQ(0, memcmp(pattern, a, PSZ));

	for (i = 0; i < PSZ; i++)
		b[i] = (__u8)(i * 5 + 1);
	ASSERT_EQ(VFU_STATUS_DONE, vfu_dma(self->vfio, self->bar0, 0, VFU_IOVA + PSZ,
					   0, PSZ));
	ASSERT_EQ(0, vfu_buf_read(self->vfio, self->bar0, back, PSZ));
	ASSERT_EQ(0, memcmp(b, back, PSZ));

	/* A part of the buffer, at an offset, to an unaligned IOVA. */
	memset(a, 0, PSZ);
	ASSERT_EQ(VFU_STATUS_DONE, vfu_dma(self->vfio, self->bar0, VFU_CMD_TO_MEM, 100,
					   VFU_IOVA + 3, 50));
	ASSERT_EQ(0, memcmp(back + 100, a + 3, 50));
	EXPECT_EQ(0, a[2]);
	EXPECT_EQ(0, a[53]);

	/* The pattern over two pages (two ranges, unless QEMU merged them). */
	ASSERT_EQ(0, wr32(self->vfio, self->bar0, VFU_REG_DMA_PATTERN, 0xa5c3e1f0));
	ASSERT_EQ(VFU_STATUS_DONE, vfu_dma(self->vfio, self->bar0,
					   VFU_CMD_TO_MEM | VFU_CMD_FILL, 0,
					   VFU_IOVA + 2 * PSZ, 2 * PSZ));
	for (i = 2 * PSZ; i < 4 * PSZ; i += 4)
		ASSERT_EQ(0xa5c3e1f0, *(__u32 *)(self->buf + i));

	/* Past the buffer, or a fill that is not whole words: invalid. */
	EXPECT_EQ(VFU_STATUS_INVALID, vfu_dma(self->vfio, self->bar0, VFU_CMD_TO_MEM,
					      PSZ - 8, VFU_IOVA, 16));
	EXPECT_EQ(VFU_STATUS_INVALID, vfu_dma(self->vfio, self->bar0,
					      VFU_CMD_TO_MEM | VFU_CMD_FILL, 0,
					      VFU_IOVA, 3));
}

/*
 * IOVAs the IOAS does not map fault, and are reported; so does a mapped
 * one once it is unmapped, and the memory behind it stays as it was.
 */
TEST_F(vfu, dma_unmapped_faults)
{
	__u32 faults, status;
	unsigned long i;

	ASSERT_EQ(0, edu_map(self->iommufd, self->ioas_id, self->buf, PSZ, VFU_IOVA));
	ASSERT_EQ(0, vfu_attach(self->vfio, self->ioas_id));
	faults = rd32(self->vfio, self->bar0, VFU_REG_FAULT_COUNT);

	/* Well away from the mapping. */
	status = vfu_dma(self->vfio, self->bar0, VFU_CMD_TO_MEM, 0, VFU_IOVA + 16 * PSZ, 64);
	EXPECT_EQ(VFU_STATUS_FAULT, status);
	EXPECT_EQ(VFU_IOVA + 16 * PSZ, rd64(self->vfio, self->bar0, VFU_REG_FAULT_IOVA));
	/* Running off its end: the fault is at the first byte past it. */
	status = vfu_dma(self->vfio, self->bar0, 0, VFU_IOVA + PSZ - 8, 0, 16);
	EXPECT_EQ(VFU_STATUS_FAULT, status);
	EXPECT_EQ(VFU_IOVA + PSZ, rd64(self->vfio, self->bar0, VFU_REG_FAULT_IOVA));
	EXPECT_EQ(faults + 2, rd32(self->vfio, self->bar0, VFU_REG_FAULT_COUNT));
	/* The status register is write-1-to-clear. */
	ASSERT_EQ(0, wr32(self->vfio, self->bar0, VFU_REG_DMA_STATUS, VFU_STATUS_FAULT));
	EXPECT_EQ(0, rd32(self->vfio, self->bar0, VFU_REG_DMA_STATUS));

	/* Mapped, it works; unmapped, the same DMA faults and writes nothing. */
	memset(self->buf, 0x11, PSZ);
	ASSERT_EQ(0, wr32(self->vfio, self->bar0, VFU_REG_DMA_PATTERN, 0x22222222));
	ASSERT_EQ(VFU_STATUS_DONE, vfu_dma(self->vfio, self->bar0,
					   VFU_CMD_TO_MEM | VFU_CMD_FILL, 0, VFU_IOVA, 64));
	EXPECT_EQ(0x22, self->buf[63]);
	EXPECT_EQ(0x11, self->buf[64]);
	ASSERT_EQ(0, edu_unmap(self->iommufd, self->ioas_id, VFU_IOVA, PSZ));
	/* QEMU sent the unmap too. */
	EXPECT_EQ(0, rd32(self->vfio, self->bar0, VFU_REG_MAPS));
	memset(self->buf, 0x33, PSZ);
	ASSERT_EQ(0, wr32(self->vfio, self->bar0, VFU_REG_DMA_PATTERN, 0x44444444));
	EXPECT_EQ(VFU_STATUS_FAULT, vfu_dma(self->vfio, self->bar0,
					    VFU_CMD_TO_MEM | VFU_CMD_FILL, 0, VFU_IOVA, 64));
	EXPECT_EQ(VFU_IOVA, rd64(self->vfio, self->bar0, VFU_REG_FAULT_IOVA));
	for (i = 0; i < PSZ; i++)
		ASSERT_EQ(0x33, self->buf[i]);
}

/* Without bus mastering the engine refuses to start. */
TEST_F(vfu, dma_needs_bus_master)
{
	struct vfio_region_info cfg = {
		.argsz = sizeof(cfg),
		.index = VFIO_PCI_CONFIG_REGION_INDEX,
	};
	__u16 cmd;

	ASSERT_EQ(0, edu_map(self->iommufd, self->ioas_id, self->buf, PSZ, VFU_IOVA));
	ASSERT_EQ(0, vfu_attach(self->vfio, self->ioas_id));
	ASSERT_EQ(0, ioctl(self->vfio, VFIO_DEVICE_GET_REGION_INFO, &cfg));
	ASSERT_EQ(2, pread(self->vfio, &cmd, 2, cfg.offset + 4));
	cmd &= ~0x4;
	ASSERT_EQ(2, pwrite(self->vfio, &cmd, 2, cfg.offset + 4));
	EXPECT_EQ(VFU_STATUS_NO_MASTER, vfu_dma(self->vfio, self->bar0, VFU_CMD_TO_MEM, 0,
						VFU_IOVA, 16));
	cmd |= 0x4;
	ASSERT_EQ(2, pwrite(self->vfio, &cmd, 2, cfg.offset + 4));
	EXPECT_EQ(VFU_STATUS_DONE, vfu_dma(self->vfio, self->bar0, VFU_CMD_TO_MEM, 0,
					   VFU_IOVA, 16));
}

TEST_HARNESS_MAIN
