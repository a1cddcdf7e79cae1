/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the VFIO selftests on QEMU's edu device share: finding edu devices
 * and binding them to vfio-pci, the vfio cdev, edu's DMA engine
 * (docs/specs/edu.rst in QEMU), the IOMMU the guest has, and a few iommufd
 * calls that return an errno.
 *
 * Include kselftest_harness.h and iommufd_rs_util.h first.
 */
#ifndef IOMMUFD_RS_EDU_H
#define IOMMUFD_RS_EDU_H

#include <dirent.h>
#include <time.h>

#include <linux/vfio.h>

#define EDU_VENDOR "0x1234"
#define EDU_DEVICE "0x11e8"

/* BAR0 registers and the DMA engine's 4 KiB buffer (edu.rst). */
#define EDU_ID 0x00
#define EDU_DMA_SRC 0x80
#define EDU_DMA_DST 0x88
#define EDU_DMA_CNT 0x90
#define EDU_DMA_CMD 0x98
#define EDU_DMA_RUN 0x1
#define EDU_DMA_TO_RAM 0x2
#define EDU_BUF 0x40000UL
/* edu masks DMA addresses to 28 bits: keep the IOVAs below 256 MiB. */
#define IOVA 0x1000000UL

static inline int read_sysfs(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = 0;
	if (n && buf[n - 1] == '\n')
		buf[n - 1] = 0;
	return 0;
}

#define BDF_LEN 64

static inline int bdf_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* The PCI addresses of up to max edu devices, sorted; how many there are. */
static inline int find_edus(char (*bdfs)[BDF_LEN], int max)
{
	DIR *d = opendir("/sys/bus/pci/devices");
	struct dirent *e;
	char path[600], v[32], dev[32];
	int n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d)) && n < max) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%.256s/vendor", e->d_name);
		if (read_sysfs(path, v, sizeof(v)))
			continue;
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%.256s/device", e->d_name);
		if (read_sysfs(path, dev, sizeof(dev)))
			continue;
		if (!strcmp(v, EDU_VENDOR) && !strcmp(dev, EDU_DEVICE))
			snprintf(bdfs[n++], BDF_LEN, "%.63s", e->d_name);
	}
	closedir(d);
	qsort(bdfs, n, BDF_LEN, bdf_cmp);
	return n;
}

/* The first edu device's PCI address into bdf, or -1 if there is none. */
static inline int find_edu(char *bdf, size_t len)
{
	char bdfs[1][BDF_LEN];

	if (find_edus(bdfs, 1) < 1)
		return -1;
	snprintf(bdf, len, "%s", bdfs[0]);
	return 0;
}

/* The number of bdf's IOMMU group, or -1. */
static inline int iommu_group_of(const char *bdf)
{
	char path[600], link[600], *name;
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%.63s/iommu_group", bdf);
	n = readlink(path, link, sizeof(link) - 1);
	if (n <= 0)
		return -1;
	link[n] = 0;
	name = strrchr(link, '/');
	return name ? atoi(name + 1) : -1;
}

/* The name of bdf's driver into drv (empty if none); 0, or -1. */
static inline int driver_of(const char *bdf, char *drv, size_t len)
{
	char path[512], link[512], *name;
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%.63s/driver", bdf);
	n = readlink(path, link, sizeof(link) - 1);
	if (n <= 0) {
		drv[0] = 0;
		return n < 0 && errno != ENOENT ? -1 : 0;
	}
	link[n] = 0;
	name = strrchr(link, '/');
	name = name ? name + 1 : link;
	if (strlen(name) >= len)
		return -1;
	memcpy(drv, name, strlen(name) + 1);
	return 0;
}

/*
 * Binds bdf to driver drv (vfio-pci, vfio-pci-pasid) through
 * driver_override: 0, or -1. A driver can still refuse the device in its
 * probe (vfio-pci's denylist): driver_of() tells.
 */
static inline int bind_driver(const char *bdf, const char *drv)
{
	char path[512], cur[128];

	if (driver_of(bdf, cur, sizeof(cur)))
		return -1;
	if (!strcmp(cur, drv))
		return 0;
	if (cur[0]) {
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%.63s/driver/unbind", bdf);
		if (write_file(path, bdf))
			return -1;
	}
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%.63s/driver_override", bdf);
	if (write_file(path, drv))
		return -1;
	return write_file("/sys/bus/pci/drivers_probe", bdf);
}

/* Binds bdf to vfio-pci through driver_override; 0 or -1. */
static inline int bind_vfio_pci(const char *bdf)
{
	return bind_driver(bdf, "vfio-pci");
}

/* The vfio cdev of bdf, /dev/vfio/devices/vfioN, opened; or -1. */
static inline int open_vfio_cdev(const char *bdf)
{
	char path[512];
	struct dirent *e;
	DIR *d;
	int fd = -1;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%.63s/vfio-dev", bdf);
	d = opendir(path);
	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (!strncmp(e->d_name, "vfio", 4)) {
			snprintf(path, sizeof(path), "/dev/vfio/devices/%s", e->d_name);
			fd = open(path, O_RDWR);
			break;
		}
	closedir(d);
	return fd;
}

/*
 * BAR0's offset in the vfio device file into bar0, and bus mastering on (or
 * the device's DMA goes nowhere): 0, or -1.
 */
static inline int edu_open(int vfio, __u64 *bar0)
{
	struct vfio_region_info reg = {
		.argsz = sizeof(reg),
		.index = VFIO_PCI_BAR0_REGION_INDEX,
	};
	struct vfio_region_info cfg = {
		.argsz = sizeof(cfg),
		.index = VFIO_PCI_CONFIG_REGION_INDEX,
	};
	__u16 cmd;

	if (ioctl(vfio, VFIO_DEVICE_GET_REGION_INFO, &reg) || reg.size < PSZ ||
	    ioctl(vfio, VFIO_DEVICE_GET_REGION_INFO, &cfg) ||
	    pread(vfio, &cmd, 2, cfg.offset + 4) != 2)
		return -1;
	cmd |= 0x4;
	if (pwrite(vfio, &cmd, 2, cfg.offset + 4) != 2)
		return -1;
	*bar0 = reg.offset;
	return 0;
}

/*
 * Whether the Intel IOMMU has snoop control (ECAP.SC, bit 7), with which
 * domains enforce cache coherent DMA: 1, 0, or -1 if it cannot be read.
 */
static inline int vtd_snoop_control(void)
{
	char ecap[64];

	if (read_sysfs("/sys/class/iommu/dmar0/intel-iommu/ecap", ecap, sizeof(ecap)))
		return -1;
	return (strtoull(ecap, NULL, 16) >> 7) & 1;
}

enum iommu_vendor { IOMMU_OTHER, IOMMU_VTD, IOMMU_AMD };

/* The IOMMU the guest has, from the class its driver registers. */
static inline enum iommu_vendor iommu_vendor(void)
{
	if (!access("/sys/class/iommu/dmar0", F_OK))
		return IOMMU_VTD;
	if (!access("/sys/class/iommu/ivhd0", F_OK))
		return IOMMU_AMD;
	return IOMMU_OTHER;
}

/*
 * Whether MSIs are isolated, that is whether the kernel remaps interrupts:
 * its remapped irq chips are the "IR-" ones in /proc/interrupts. 1, 0, or
 * -1 if that cannot be read.
 */
static inline int msi_isolated(void)
{
	char line[512];
	int found = 0;
	FILE *f = fopen("/proc/interrupts", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, " IR-"))
			found = 1;
	fclose(f);
	return found;
}

/*
 * The iommufd module's allow_unsafe_interrupts set to on (Y or N); the
 * module is either iommufd_rs or the C iommufd. 0, or -1.
 */
static inline int set_unsafe_irqs(int on)
{
	static const char *const param[] = {
		"/sys/module/iommufd_rs/parameters/allow_unsafe_interrupts",
		"/sys/module/iommufd/parameters/allow_unsafe_interrupts",
	};
	unsigned int i;

	for (i = 0; i < 2; i++)
		if (!access(param[i], F_OK))
			return write_file(param[i], on ? "Y" : "N");
	return -1;
}

/*
 * The registers through the vfio device file, 32 bits at a time: edu takes
 * 4-byte accesses everywhere, and the IOVAs here fit in 32 bits.
 */
static inline __u32 rd32(int vfio, __u64 bar, unsigned long off)
{
	__u32 val = ~0U;

	if (pread(vfio, &val, 4, bar + off) != 4)
		return ~0U;
	return val;
}

static inline int wr32(int vfio, __u64 bar, unsigned long off, __u32 val)
{
	return pwrite(vfio, &val, 4, bar + off) == 4 ? 0 : -1;
}

/*
 * One edu DMA of len bytes, between IOVA iova and the device's buffer, to
 * RAM if to_ram; waits for the engine (it runs 100 ms after the command).
 * 0, or -1 if it did not finish within 10 s.
 */
static inline int edu_dma(int vfio, __u64 bar, __u32 iova, __u32 len, int to_ram)
{
	struct timespec ts = { .tv_nsec = 10 * 1000 * 1000 };
	int i;

	if (wr32(vfio, bar, EDU_DMA_SRC, to_ram ? EDU_BUF : iova) ||
	    wr32(vfio, bar, EDU_DMA_DST, to_ram ? iova : EDU_BUF) ||
	    wr32(vfio, bar, EDU_DMA_CNT, len) ||
	    wr32(vfio, bar, EDU_DMA_CMD, EDU_DMA_RUN | (to_ram ? EDU_DMA_TO_RAM : 0)))
		return -1;
	for (i = 0; i < 1000; i++) {
		if (!(rd32(vfio, bar, EDU_DMA_CMD) & EDU_DMA_RUN))
			return 0;
		nanosleep(&ts, NULL);
	}
	return -1;
}

/* A fixed, readable and writable map through the shared helper. */
#define edu_map(fd, ioas, buf, len, iova)                                  \
	_test_ioctl_ioas_map(fd, ioas, buf, len, &(__u64){ iova },        \
			     IOMMU_IOAS_MAP_FIXED_IOVA |                   \
				     IOMMU_IOAS_MAP_READABLE |             \
				     IOMMU_IOAS_MAP_WRITEABLE)
#define edu_unmap(fd, ioas, iova, len) \
	_test_ioctl_ioas_unmap(fd, ioas, iova, len, NULL)

static inline int hwpt_alloc(int fd, __u32 flags, __u32 dev_id, __u32 pt_id,
			     __u32 fault_id, __u32 data_type, void *data,
			     __u32 data_len, __u32 *hwpt_id)
{
	struct iommu_hwpt_alloc cmd = {
		.size = sizeof(cmd),
		.flags = flags,
		.dev_id = dev_id,
		.pt_id = pt_id,
		.data_type = data_type,
		.data_len = data_len,
		.data_uptr = (uintptr_t)data,
		.fault_id = fault_id,
	};
	int rc = ioctl(fd, IOMMU_HWPT_ALLOC, &cmd);

	*hwpt_id = rc ? 0 : cmd.out_hwpt_id;
	return rc ? errno : 0;
}

static inline int destroy_id(int fd, __u32 id)
{
	struct iommu_destroy cmd = { .size = sizeof(cmd), .id = id };

	return ioctl(fd, IOMMU_DESTROY, &cmd);
}

#endif /* IOMMUFD_RS_EDU_H */
