/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The ioctl interface of iommufd_rs_access_client.ko, a test driver of the
 * iommufd in-kernel access API (iommufd_access_*), shared with the selftest
 * that drives it. Each open file of /dev/iommufd_rs_access_client holds at
 * most one access.
 */
#ifndef IOMMUFD_RS_ACCESS_CLIENT_H
#define IOMMUFD_RS_ACCESS_CLIENT_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define ACCESS_CLIENT_DEV "/dev/iommufd_rs_access_client"

enum {
	/* ACCESS_CLIENT_CREATE: the access pins (needs_pin_pages). */
	ACCESS_CLIENT_NEEDS_PIN = 1 << 0,
	/*
	 * ACCESS_CLIENT_PIN: copy the user buffer into the pinned pages,
	 * rather than out of them. The other PIN flags, like those of
	 * ACCESS_CLIENT_RW, are IOMMUFD_ACCESS_RW_*, repeated here.
	 */
	ACCESS_CLIENT_PIN_FILL = 1 << 16,
	ACCESS_CLIENT_RW_WRITE = 1 << 0,
	ACCESS_CLIENT_RW_KTHREAD = 1 << 1,
};

/* The largest pin or copy the client takes. */
#define ACCESS_CLIENT_MAX_LEN (1024UL * 1024)

struct access_client_cmd {
	__s32 iommufd;	/* CREATE: an iommufd file descriptor */
	__u32 flags;	/* CREATE, PIN, RW */
	__u32 ioas_id;	/* ATTACH, REPLACE */
	__u32 out_id;	/* CREATE: the access's object id */
	__u64 iova;	/* PIN, UNPIN, RW */
	__u64 length;	/* PIN, UNPIN, RW */
	__u64 uptr;	/* PIN: the pinned bytes go (or, with FILL, come) here;
			 * RW: the buffer copied from or to
			 */
};

/*
 * What the unmap callback saw. "refuse" is how many more callbacks return
 * without unpinning (set with ACCESS_CLIENT_SET_REFUSE).
 */
struct access_client_status {
	__u64 unmaps;
	__u64 last_iova;
	__u64 last_length;
	__u32 pinned;	/* the ranges pinned and not given back */
	__u32 refuse;
};

#define ACCESS_CLIENT_CREATE _IOWR('A', 1, struct access_client_cmd)
#define ACCESS_CLIENT_DESTROY _IO('A', 2)
#define ACCESS_CLIENT_ATTACH _IOW('A', 3, struct access_client_cmd)
#define ACCESS_CLIENT_REPLACE _IOW('A', 4, struct access_client_cmd)
#define ACCESS_CLIENT_DETACH _IO('A', 5)
#define ACCESS_CLIENT_PIN _IOW('A', 6, struct access_client_cmd)
#define ACCESS_CLIENT_UNPIN _IOW('A', 7, struct access_client_cmd)
#define ACCESS_CLIENT_RW _IOW('A', 8, struct access_client_cmd)
#define ACCESS_CLIENT_STATUS _IOR('A', 9, struct access_client_status)
#define ACCESS_CLIENT_SET_REFUSE _IOW('A', 10, __u32)

#endif
