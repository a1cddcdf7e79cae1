/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers the iommufd_rs C selftests share: writing a control file, and the
 * pinned memory of the calling process.
 */
#ifndef IOMMUFD_RS_UTIL_H
#define IOMMUFD_RS_UTIL_H

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Writes val to path (debugfs, /proc): 0, or -1 if it could not all go. */
static inline int write_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, val, strlen(val));
	close(fd);
	return n == (ssize_t)strlen(val) ? 0 : -1;
}

/* VmPin of the calling process in KiB, or -1. */
static inline long vm_pin_kb(void)
{
	char line[256];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "VmPin:", 6))
			kb = strtol(line + 6, NULL, 10);
	fclose(f);
	return kb;
}

#endif
