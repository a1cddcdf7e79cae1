/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the selftests on the vfio-user device model (tools/vfio-user-device)
 * share: the devices the VM was booted with, where each sits in the guest,
 * their config space, and BAR0's DMA engine.
 *
 * scripts/vm.sh starts one server per spec of VM_VFU ("spec;spec;...") and
 * exports the list to the guest as IOMMUFD_RS_VFU, the dump directory as
 * IOMMUFD_RS_VFU_DUMPS. A spec without func= (or func=0) has a
 * pcie-root-port of its own, the k-th one at 0000:00:(0x10+k).0; a spec with
 * func=N is function N behind the previous spec's root port.
 *
 * Include kselftest_harness.h, iommufd_rs_util.h and iommufd_rs_edu.h first.
 */
#ifndef IOMMUFD_RS_VFU_H
#define IOMMUFD_RS_VFU_H

#include <dirent.h>

/* BAR0 of the model (tools/vfio-user-device/src/device.rs has the table). */
#define VFU_ID 0x56465531
#define VFU_REG_ID 0x00
#define VFU_REG_INFO 0x04
#define VFU_REG_SCRATCH 0x08
#define VFU_REG_MAPS 0x0c
#define VFU_REG_DMA_SRC 0x10
#define VFU_REG_DMA_DST 0x18
#define VFU_REG_DMA_LEN 0x20
#define VFU_REG_DMA_CMD 0x24
#define VFU_REG_DMA_STATUS 0x28
#define VFU_REG_DMA_PATTERN 0x2c
#define VFU_REG_FAULT_IOVA 0x30
#define VFU_REG_DONE_COUNT 0x38
#define VFU_REG_FAULT_COUNT 0x3c
#define VFU_BUF 0x1000UL
#define VFU_BUF_SIZE 0x1000UL

#define VFU_CMD_RUN 0x1
#define VFU_CMD_TO_MEM 0x2
#define VFU_CMD_FILL 0x4

#define VFU_STATUS_DONE 0x2
#define VFU_STATUS_FAULT 0x4
#define VFU_STATUS_INVALID 0x8
#define VFU_STATUS_NO_MASTER 0x10

#define VFU_MAX 16
#define VFU_PORT_SLOT0 0x10
#define CFG_SIZE 4096

#define PCI_EXT_ID_ACS 0x0d
#define PCI_EXT_ID_ATS 0x0f
#define PCI_EXT_ID_PRI 0x13
#define PCI_EXT_ID_PASID 0x1b
#define PCI_ID_EXP 0x10
#define EXP_DEVCAP2_EE_PREFIX 0x00200000U

struct vfu_dev {
	char spec[256];
	int port;		/* the root port's index: slot 0x10 + port */
	int func;
	int multifunction;	/* function 0 with more functions after it */
	int pasid_width;	/* 0: no PASID capability */
	int exec, priv, ats, pri;
	int acs;		/* the ACS capability bits, 0 without ACS */
	int acs_ro;		/* ACS control bits that cannot be enabled */
	int pasid_at;		/* 0: the model's default offset */
	char dump[256];		/* the dump's path, or empty */
	char bdf[BDF_LEN];	/* in the guest, or empty if not found */
};

static inline long vfu_num(const char *s)
{
	return strtol(s, NULL, 0);
}

/* One spec, items "key" or "key=value" separated by commas. */
static inline void vfu_parse(struct vfu_dev *d, const char *spec)
{
	char buf[256], *save = NULL, *item, *val;
	const char *dir = getenv("IOMMUFD_RS_VFU_DUMPS");

	memset(d, 0, sizeof(*d));
	snprintf(d->spec, sizeof(d->spec), "%s", spec);
	snprintf(buf, sizeof(buf), "%s", spec);
	for (item = strtok_r(buf, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
		val = strchr(item, '=');
		if (val)
			*val++ = 0;
		if (!strcmp(item, "pasid") || !strcmp(item, "pasid-width"))
			d->pasid_width = val ? vfu_num(val) : 0;
		else if (!strcmp(item, "exec"))
			d->exec = 1;
		else if (!strcmp(item, "priv"))
			d->priv = 1;
		else if (!strcmp(item, "ats"))
			d->ats = 1;
		else if (!strcmp(item, "pri"))
			d->pri = 1;
		else if (!strcmp(item, "acs"))
			d->acs = val ? vfu_num(val) : 0x1d;
		else if (!strcmp(item, "acs-ro") && val)
			d->acs_ro = vfu_num(val);
		else if (!strcmp(item, "func") && val)
			d->func = vfu_num(val);
		else if (!strcmp(item, "pasid-at") && val)
			d->pasid_at = vfu_num(val);
		else if (!strcmp(item, "dump") && val)
			snprintf(d->dump, sizeof(d->dump), "%s%s%.200s",
				 strchr(val, '/') || !dir ? "" : dir,
				 strchr(val, '/') || !dir ? "" : "/", val);
	}
}

#define ACS_SV 0x01
#define ACS_RR 0x04
#define ACS_CR 0x08
#define ACS_UF 0x10

/*
 * Whether Linux finds the ACS flags enabled on d (pci_acs_enabled()): a
 * function of a multi-function device needs an ACS capability, in which
 * the flags it advertises are enabled (Linux enables SV, RR, CR and UF)
 * and the ones it does not are taken as hard-wired on.
 */
static inline int vfu_acs_enabled(const struct vfu_dev *d, int flags)
{
	if (!d->multifunction && !d->func)
		return 1;
	return d->acs && !(flags & d->acs & d->acs_ro);
}

/* Whether pci_enable_pasid() lets the IOMMU driver enable PASID on d. */
static inline int vfu_pasid_allowed(const struct vfu_dev *d)
{
	return vfu_acs_enabled(d, ACS_RR | ACS_UF);
}

/* Whether d gets an IOMMU group apart from its sibling functions. */
static inline int vfu_isolated(const struct vfu_dev *d)
{
	return vfu_acs_enabled(d, ACS_SV | ACS_RR | ACS_CR | ACS_UF);
}

/* The guest address of the function behind root port slot, or -1. */
static inline int vfu_find_bdf(int slot, int func, char *bdf, size_t len)
{
	char path[128], suffix[16];
	struct dirent *e;
	int rc = -1;
	DIR *d;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/0000:00:%02x.0", slot);
	snprintf(suffix, sizeof(suffix), ":00.%d", func);
	d = opendir(path);
	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (strlen(e->d_name) == 12 && !strcmp(e->d_name + 7, suffix)) {
			snprintf(bdf, len, "%s", e->d_name);
			rc = 0;
			break;
		}
	closedir(d);
	return rc;
}

/* The devices of IOMMUFD_RS_VFU, found in the guest; how many. */
static inline int vfu_devices(struct vfu_dev *devs, int max)
{
	const char *env = getenv("IOMMUFD_RS_VFU");
	char *list, *save = NULL, *spec;
	int n = 0, port = -1, i;

	if (!env || !*env)
		return 0;
	list = strdup(env);
	if (!list)
		return 0;
	for (spec = strtok_r(list, ";", &save); spec && n < max;
	     spec = strtok_r(NULL, ";", &save)) {
		vfu_parse(&devs[n], spec);
		if (devs[n].func == 0)
			port++;
		devs[n].port = port;
		vfu_find_bdf(VFU_PORT_SLOT0 + port, devs[n].func, devs[n].bdf,
			     sizeof(devs[n].bdf));
		n++;
	}
	free(list);
	for (i = 0; i + 1 < n; i++)
		if (devs[i].func == 0 && devs[i + 1].func)
			devs[i].multifunction = 1;
	return n;
}

/* Whether vfio-pci is bdf's driver. */
static inline int vfu_vfio_pci_bound(const char *bdf)
{
	char drv[128];

	return !driver_of(bdf, drv, sizeof(drv)) && !strcmp(drv, "vfio-pci");
}

/* Whether bdf is an Intel display device (vfio-pci's IGD support). */
static inline int vfu_intel_display(const char *bdf)
{
	char path[128], v[32], class[32];

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/vendor", bdf);
	if (read_sysfs(path, v, sizeof(v)))
		return 0;
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/class", bdf);
	if (read_sysfs(path, class, sizeof(class)))
		return 0;
	return !strcmp(v, "0x8086") && !strncmp(class, "0x03", 4);
}

/* bdf's config space as sysfs has it (4096 bytes for root); the length. */
static inline int vfu_read_config(const char *bdf, __u8 *buf)
{
	char path[128];
	int fd, n;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%.63s/config", bdf);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	n = pread(fd, buf, CFG_SIZE, 0);
	close(fd);
	return n;
}

static inline __u32 cfg32(const __u8 *c, int off)
{
	return c[off] | c[off + 1] << 8 | c[off + 2] << 16 | (__u32)c[off + 3] << 24;
}

static inline __u16 cfg16(const __u8 *c, int off)
{
	return c[off] | c[off + 1] << 8;
}

/* The offset of standard capability id, or 0. */
static inline int vfu_std_cap(const __u8 *c, int id)
{
	int pos = c[0x34] & ~3, i;

	if (!(cfg16(c, 0x06) & 0x10))
		return 0;
	for (i = 0; i < 48 && pos >= 0x40 && pos < 0x100; i++) {
		if (c[pos] == id)
			return pos;
		pos = c[pos + 1] & ~3;
	}
	return 0;
}

/* The offset of extended capability id, or 0. */
static inline int vfu_ext_cap(const __u8 *c, int id)
{
	int pos = 0x100, i;
	__u32 hdr;

	for (i = 0; i < 1024 && pos >= 0x100 && pos <= CFG_SIZE - 4; i++) {
		hdr = cfg32(c, pos);
		if (!hdr)
			return 0;
		if ((hdr & 0xffff) == (__u32)id)
			return pos;
		pos = (hdr >> 20) & ~3;
	}
	return 0;
}

/* One "off: b0 b1 ... b15" line of lspci -xxxx: 0, or -1 if it is not one. */
static inline int vfu_hex_line(const char *line, unsigned int *off, __u8 *b)
{
	const char *p;
	char *end;
	unsigned long v;
	int i;

	v = strtoul(line, &end, 16);
	if (end == line || *end != ':' || v % 16 || v >= CFG_SIZE)
		return -1;
	*off = v;
	end++;
	for (i = 0; i < 16; i++) {
		if (*end != ' ')
			return -1;
		p = end + 1;
		v = strtoul(p, &end, 16);
		if (end - p != 2)
			return -1;
		b[i] = v;
	}
	return 0;
}

/*
 * The first device's config space of an lspci -xxxx dump (the hex lines),
 * zero past what the dump covers; the number of bytes covered, or -1.
 */
static inline int vfu_load_dump(const char *path, __u8 *buf)
{
	int covered = 0, starts = 0;
	unsigned int off;
	char line[512];
	FILE *f = fopen(path, "r");
	__u8 b[16];

	if (!f)
		return -1;
	memset(buf, 0, CFG_SIZE);
	while (fgets(line, sizeof(line), f)) {
		if (vfu_hex_line(line, &off, b))
			continue;
		if (!off && starts++)
			break;
		memcpy(buf + off, b, 16);
		if ((int)off + 16 > covered)
			covered = off + 16;
	}
	fclose(f);
	return covered;
}

/* The 64-bit registers, as two 32-bit writes (the model takes any width). */
static inline int wr64(int vfio, __u64 bar, unsigned long off, __u64 val)
{
	return wr32(vfio, bar, off, (__u32)val) ||
	       wr32(vfio, bar, off + 4, (__u32)(val >> 32)) ? -1 : 0;
}

static inline __u64 rd64(int vfio, __u64 bar, unsigned long off)
{
	return rd32(vfio, bar, off) | (__u64)rd32(vfio, bar, off + 4) << 32;
}

/*
 * One command of the DMA engine; it runs while the command is written, so
 * the status read back is final. The status, or ~0 if the registers could
 * not be written.
 */
static inline __u32 vfu_dma(int vfio, __u64 bar, __u32 cmd, __u64 src, __u64 dst, __u32 len)
{
	if (wr64(vfio, bar, VFU_REG_DMA_SRC, src) ||
	    wr64(vfio, bar, VFU_REG_DMA_DST, dst) ||
	    wr32(vfio, bar, VFU_REG_DMA_LEN, len) ||
	    wr32(vfio, bar, VFU_REG_DMA_CMD, VFU_CMD_RUN | cmd))
		return ~0U;
	return rd32(vfio, bar, VFU_REG_DMA_STATUS);
}

/* The device's buffer through BAR0, in and out: 0 or -1. */
static inline int vfu_buf_write(int vfio, __u64 bar, const void *data, size_t len)
{
	return pwrite(vfio, data, len, bar + VFU_BUF) == (ssize_t)len ? 0 : -1;
}

static inline int vfu_buf_read(int vfio, __u64 bar, void *data, size_t len)
{
	return pread(vfio, data, len, bar + VFU_BUF) == (ssize_t)len ? 0 : -1;
}

#endif /* IOMMUFD_RS_VFU_H */
