// SPDX-License-Identifier: GPL-2.0-only
/*
 * Walk the iommufd flow that iommufd-rs implements so far, saying what
 * happens at each step. Exits non-zero at the first unexpected result.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/iommufd.h>

#define PSZ 4096UL

static int step(const char *what, int rc)
{
	if (rc)
		printf("  %-44s FAILED: %s\n", what, strerror(errno));
	else
		printf("  %-44s ok\n", what);
	return rc;
}

static __u32 ioas_alloc(int fd)
{
	struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };

	if (step("IOMMU_IOAS_ALLOC", ioctl(fd, IOMMU_IOAS_ALLOC, &alloc)))
		return 0;
	printf("    -> ioas id %u\n", alloc.out_ioas_id);
	return alloc.out_ioas_id;
}

int main(void)
{
	struct iommu_destroy destroy = { .size = sizeof(destroy) };
	struct iommu_iova_range range;
	struct iommu_ioas_iova_ranges ranges = {
		.size = sizeof(ranges),
		.num_iovas = 1,
		.allowed_iovas = (uintptr_t)&range,
	};
	struct iommu_ioas_map map = {
		.size = sizeof(map),
		.flags = IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE,
		.length = 16 * PSZ,
	};
	struct iommu_ioas_copy copy = {
		.size = sizeof(copy),
		.flags = IOMMU_IOAS_MAP_READABLE,
		.length = 4 * PSZ,
	};
	struct iommu_ioas_unmap unmap = {
		.size = sizeof(unmap),
		.iova = 0,
		.length = UINT64_MAX,
	};
	__u32 ioas, ioas2;
	void *buf;
	int fd;

	printf("iommufd demo\n");
	fd = open("/dev/iommu", O_RDWR);
	if (step("open /dev/iommu", fd < 0 ? -1 : 0))
		return 1;
	ioas = ioas_alloc(fd);
	if (!ioas)
		return 1;

	ranges.ioas_id = ioas;
	if (step("IOMMU_IOAS_IOVA_RANGES", ioctl(fd, IOMMU_IOAS_IOVA_RANGES, &ranges)))
		return 1;
	printf("    -> %u range(s), first [0x%llx, 0x%llx], alignment %llu\n",
	       ranges.num_iovas, (unsigned long long)range.start,
	       (unsigned long long)range.last,
	       (unsigned long long)ranges.out_iova_alignment);

	buf = mmap(NULL, map.length, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED)
		return 1;
	map.ioas_id = ioas;
	map.user_va = (uintptr_t)buf;
	if (step("IOMMU_IOAS_MAP of 64 KiB, IOVA allocated", ioctl(fd, IOMMU_IOAS_MAP, &map)))
		return 1;
	printf("    -> user VA %p mapped at IOVA 0x%llx\n", buf,
	       (unsigned long long)map.iova);

	ioas2 = ioas_alloc(fd);
	if (!ioas2)
		return 1;
	copy.src_ioas_id = ioas;
	copy.dst_ioas_id = ioas2;
	copy.src_iova = map.iova + 4 * PSZ;
	if (step("IOMMU_IOAS_COPY of 16 KiB to the second IOAS", ioctl(fd, IOMMU_IOAS_COPY, &copy)))
		return 1;
	printf("    -> IOVA 0x%llx of ioas %u now maps the same pages at IOVA 0x%llx of ioas %u\n",
	       (unsigned long long)copy.src_iova, ioas,
	       (unsigned long long)copy.dst_iova, ioas2);

	unmap.ioas_id = ioas;
	unmap.iova = map.iova;
	unmap.length = PSZ;
	if (ioctl(fd, IOMMU_IOAS_UNMAP, &unmap) != -1 || errno != ENOENT) {
		printf("  %-44s FAILED: expected ENOENT\n", "IOMMU_IOAS_UNMAP of part of an area");
		return 1;
	}
	printf("  %-44s ENOENT: areas go whole\n", "IOMMU_IOAS_UNMAP of part of an area");
	unmap.length = map.length;
	if (step("IOMMU_IOAS_UNMAP of the area", ioctl(fd, IOMMU_IOAS_UNMAP, &unmap)))
		return 1;
	printf("    -> %llu bytes unmapped\n", (unsigned long long)unmap.length);

	unmap.ioas_id = ioas2;
	unmap.iova = 0;
	unmap.length = UINT64_MAX;
	if (step("IOMMU_IOAS_UNMAP of everything in the copy", ioctl(fd, IOMMU_IOAS_UNMAP, &unmap)))
		return 1;
	printf("    -> %llu bytes unmapped\n", (unsigned long long)unmap.length);

	destroy.id = ioas;
	if (step("IOMMU_DESTROY of the first ioas", ioctl(fd, IOMMU_DESTROY, &destroy)))
		return 1;
	if (ioctl(fd, IOMMU_DESTROY, &destroy) != -1 || errno != ENOENT) {
		printf("  %-44s FAILED: expected ENOENT\n", "IOMMU_DESTROY again");
		return 1;
	}
	printf("  %-44s ENOENT, as expected\n", "IOMMU_DESTROY again");

	close(fd);
	printf("closed: the second ioas went with the file\ndone\n");
	return 0;
}
