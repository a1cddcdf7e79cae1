/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the VFIO PASID selftests share: finding PCI functions by their
 * extended capabilities in sysfs config space, the PASID capability's
 * registers, and what the guest's intel-iommu driver has programmed for a
 * device and PASID, read from its debugfs (CONFIG_INTEL_IOMMU_DEBUGFS).
 *
 * Include kselftest_harness.h, iommufd_rs_util.h, iommufd_rs_edu.h and
 * iommufd_rs_vfu.h (config space reading) first.
 */
#ifndef IOMMUFD_RS_PASID_DEV_H
#define IOMMUFD_RS_PASID_DEV_H

#include <sys/mount.h>

#include <linux/pci_regs.h>

/*
 * The PCI addresses of up to max functions with extended capability id
 * (want 1) or without it (want 0), sorted; how many there are. Only
 * endpoints (header type 0) are counted. Directory order is no order: give
 * room for all, then take the first.
 */
static inline int find_by_ext_cap(char (*bdfs)[BDF_LEN], int max, __u16 id, int want)
{
	DIR *d = opendir("/sys/bus/pci/devices");
	static __u8 cfg[CFG_SIZE];
	struct dirent *e;
	int n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d)) && n < max) {
		if (e->d_name[0] == '.' || vfu_read_config(e->d_name, cfg) != CFG_SIZE)
			continue;
		if ((cfg[PCI_HEADER_TYPE] & 0x7f) != PCI_HEADER_TYPE_NORMAL)
			continue;
		if (!!vfu_ext_cap(cfg, id) == want)
			snprintf(bdfs[n++], BDF_LEN, "%.63s", e->d_name);
	}
	closedir(d);
	qsort(bdfs, n, BDF_LEN, bdf_cmp);
	return n;
}

/* How many devices bdf's IOMMU group has, or -1. */
static inline int iommu_group_size(const char *bdf)
{
	char path[600];
	struct dirent *e;
	int n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%.63s/iommu_group/devices", bdf);
	d = opendir(path);
	if (!d)
		return -1;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

/* The PASID capability of bdf as the kernel sees it. */
struct pasid_cap {
	unsigned int off;
	/* Max PASID Width, and the EXEC and PRIV bits, of the capability. */
	unsigned int width;
	int exec;
	int priv;
	/* The control register: enabled, and with EXEC and PRIV on. */
	__u16 ctrl;
};

/* 0, or -1 if bdf has no PASID capability or its config cannot be read. */
static inline int pasid_cap_of(const char *bdf, struct pasid_cap *pc)
{
	static __u8 cfg[CFG_SIZE];
	__u16 cap;

	if (vfu_read_config(bdf, cfg) != CFG_SIZE)
		return -1;
	pc->off = vfu_ext_cap(cfg, PCI_EXT_CAP_ID_PASID);
	if (!pc->off)
		return -1;
	cap = cfg16(cfg, pc->off + PCI_PASID_CAP);
	pc->width = (cap >> 8) & 0x1f;
	pc->exec = !!(cap & PCI_PASID_CAP_EXEC);
	pc->priv = !!(cap & PCI_PASID_CAP_PRIV);
	pc->ctrl = cfg16(cfg, pc->off + PCI_PASID_CTRL);
	return 0;
}

/*
 * The PASID width of the guest's VT-d: max_pasids is 2 << ECAP.PSS (bits
 * 39:35), so the width is PSS + 1. 0 if there is no VT-d or no PASID
 * support (ECAP.PASID, bit 40).
 */
static inline unsigned int vtd_pasid_width(void)
{
	char ecap[64];
	__u64 v;

	if (read_sysfs("/sys/class/iommu/dmar0/intel-iommu/ecap", ecap, sizeof(ecap)))
		return 0;
	v = strtoull(ecap, NULL, 16);
	if (!((v >> 40) & 1))
		return 0;
	return ((v >> 35) & 0x1f) + 1;
}

#define VTD_DEBUGFS "/sys/kernel/debug/iommu/intel"

/* Mounts debugfs if it is not yet: 0 if intel-iommu's directory is there. */
static inline int vtd_debugfs(void)
{
	if (access("/sys/kernel/debug/iommu", F_OK))
		mount("debugfs", "/sys/kernel/debug", "debugfs", 0, NULL);
	return access(VTD_DEBUGFS, F_OK) ? -1 : 0;
}

/*
 * What intel-iommu has at pasid of bdf (IOMMU_NO_PASID, 0, for the RID):
 * the root of the page table its PASID table entry points at into pgd, and
 * whether the page at IOVA iova is mapped there into mapped. Returns 0, or
 * -1 if the driver has no domain there (no directory for the PASID, or no
 * present PASID table entry).
 */
static inline int vtd_pasid_state(const char *bdf, unsigned int pasid, __u64 iova,
				  __u64 *pgd, int *mapped)
{
	char path[600], line[512], pfn[32];
	unsigned int got;
	int found = 0;
	FILE *f;

	if (pasid)
		snprintf(path, sizeof(path), VTD_DEBUGFS "/%s/%x/domain_translation_struct",
			 bdf, pasid);
	else
		snprintf(path, sizeof(path), VTD_DEBUGFS "/%s/domain_translation_struct", bdf);
	f = fopen(path, "r");
	if (!f)
		return -1;
	/* The walk prints each mapped page as "0x<13 hex digits of pfn> |". */
	snprintf(pfn, sizeof(pfn), "0x%013llx |", (unsigned long long)(iova >> 12));
	*mapped = 0;
	while (fgets(line, sizeof(line), f)) {
		char *at = strstr(line, " with pasid ");

		if (!strncmp(line, "Device ", 7) && at &&
		    sscanf(at, " with pasid %x @0x%llx", &got, (unsigned long long *)pgd) == 2 &&
		    got == pasid)
			found = 1;
		if (!strncmp(line, pfn, strlen(pfn)))
			*mapped = 1;
	}
	fclose(f);
	return found ? 0 : -1;
}

/* The two IOVAs the PASID tests map, one in each of two IOASes. */
#define IOVA_A 0x100000UL
#define IOVA_B 0x200000UL

/*
 * What intel-iommu has at pasid: whether a domain is there, its page table
 * root, and whether it maps IOVA_A and IOVA_B.
 */
struct vtd_view {
	int present;
	__u64 pgd;
	int maps_a;
	int maps_b;
};

static inline struct vtd_view vtd_view(const char *bdf, unsigned int pasid)
{
	struct vtd_view v = { 0 };

	v.present = !vtd_pasid_state(bdf, pasid, IOVA_A, &v.pgd, &v.maps_a);
	if (v.present)
		vtd_pasid_state(bdf, pasid, IOVA_B, &v.pgd, &v.maps_b);
	return v;
}

/*
 * The PASIDs of bdf with a present entry in its PASID table, as the
 * driver's dmar_translation_struct lists them, as a bitmap of the first
 * 64 * words PASIDs; how many entries there are in all, or -1.
 */
static inline int vtd_present_pasids(const char *bdf, __u64 *bits, unsigned int words)
{
	char line[512], want[16];
	unsigned int bus, dev, fn, pasid;
	int n = 0;
	FILE *f;

	/* Entries are listed by bus:dev.fn, without the domain. */
	if (sscanf(bdf, "%*x:%x:%x.%x", &bus, &dev, &fn) != 3)
		return -1;
	snprintf(want, sizeof(want), "%02x:%02x.%x\t", bus, dev, fn);
	f = fopen(VTD_DEBUGFS "/dmar_translation_struct", "r");
	if (!f)
		return -1;
	memset(bits, 0, words * sizeof(*bits));
	while (fgets(line, sizeof(line), f)) {
		char *p = line;
		int field;

		if (strncmp(line, want, strlen(want)))
			continue;
		/* bdf, root entry, context entry, then the PASID. */
		for (field = 0; field < 3 && p; field++) {
			p = strchr(p, '\t');
			if (p)
				p++;
		}
		if (!p || *p < '0' || *p > '9')
			continue;
		pasid = strtoul(p, NULL, 10);
		n++;
		if (pasid < 64 * words)
			bits[pasid / 64] |= 1ULL << (pasid % 64);
	}
	fclose(f);
	return n;
}

#endif /* IOMMUFD_RS_PASID_DEV_H */
