// SPDX-License-Identifier: GPL-2.0-only
/*
 * Walk the iommufd flow that iommufd-rs implements so far, saying what
 * happens at each step. Exits non-zero at the first unexpected result.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/iommufd.h>

static int step(const char *what, int rc)
{
	if (rc)
		printf("  %-40s FAILED: %s\n", what, strerror(errno));
	else
		printf("  %-40s ok\n", what);
	return rc;
}

int main(void)
{
	struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };
	struct iommu_destroy destroy = { .size = sizeof(destroy) };
	int fd;

	printf("iommufd demo\n");
	fd = open("/dev/iommu", O_RDWR);
	if (step("open /dev/iommu", fd < 0 ? -1 : 0))
		return 1;

	if (step("IOMMU_IOAS_ALLOC", ioctl(fd, IOMMU_IOAS_ALLOC, &alloc)))
		return 1;
	printf("    -> ioas id %u\n", alloc.out_ioas_id);

	destroy.id = alloc.out_ioas_id;
	if (step("IOMMU_DESTROY of the ioas", ioctl(fd, IOMMU_DESTROY, &destroy)))
		return 1;

	/* The id is gone now: a second destroy is refused. */
	if (ioctl(fd, IOMMU_DESTROY, &destroy) != -1 || errno != ENOENT) {
		printf("  %-40s FAILED: expected ENOENT\n", "IOMMU_DESTROY again");
		return 1;
	}
	printf("  %-40s ENOENT, as expected\n", "IOMMU_DESTROY again");

	close(fd);
	printf("done\n");
	return 0;
}
