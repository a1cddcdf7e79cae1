// SPDX-License-Identifier: GPL-2.0-only
/*
 * The iommufd ioctl contract common to every command: how the struct size is
 * read and checked, how ids are allocated per file, how objects are destroyed
 * and what closing a file does. These hold for the C iommufd.ko as well,
 * which is how the tests themselves are checked.
 */
#define _GNU_SOURCE
#include <poll.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "iommufd_rs_util.h"

FIXTURE(uapi)
{
	int fd;
};

FIXTURE_SETUP(uapi)
{
	self->fd = open("/dev/iommu", O_RDWR);
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(uapi)
{
	close(self->fd);
}

TEST(devnode)
{
	struct stat st;

	ASSERT_EQ(0, stat("/dev/iommu", &st));
	ASSERT_TRUE(S_ISCHR(st.st_mode));
	ASSERT_EQ(0660, st.st_mode & 0777);
}

TEST_F(uapi, ioas_alloc_ids)
{
	__u32 a = 0, b = 0;

	test_ioctl_ioas_alloc(&a);
	test_ioctl_ioas_alloc(&b);
	/* ids start at 1 in a new file and are handed out lowest first */
	ASSERT_EQ(1, a);
	ASSERT_EQ(2, b);
}

TEST_F(uapi, ioas_alloc_flags)
{
	struct iommu_ioas_alloc cmd = {
		.size = sizeof(cmd),
		.flags = 1,
		.out_ioas_id = 0xdead,
	};
	unsigned int bit;

	for (bit = 0; bit < 32; bit++) {
		cmd.flags = 1U << bit;
		EXPECT_ERRNO(EOPNOTSUPP, ioctl(self->fd, IOMMU_IOAS_ALLOC, &cmd));
		/* a failed command reports nothing */
		ASSERT_EQ(0xdead, cmd.out_ioas_id);
	}
	/* nothing was created: the next id is still the first */
	cmd.flags = 0;
	ASSERT_EQ(0, ioctl(self->fd, IOMMU_IOAS_ALLOC, &cmd));
	ASSERT_EQ(1, cmd.out_ioas_id);
}

TEST_F(uapi, size_below_minimum)
{
	struct iommu_ioas_alloc alloc = { .out_ioas_id = 0xdead };
	struct iommu_destroy dst = { .id = 1 };
	__u32 id;

	for (alloc.size = 0; alloc.size < sizeof(alloc); alloc.size++) {
		EXPECT_ERRNO(EINVAL, ioctl(self->fd, IOMMU_IOAS_ALLOC, &alloc));
		ASSERT_EQ(0xdead, alloc.out_ioas_id);
	}
	test_ioctl_ioas_alloc(&id);
	for (dst.size = 0; dst.size < sizeof(dst); dst.size++)
		EXPECT_ERRNO(EINVAL, ioctl(self->fd, IOMMU_DESTROY, &dst));
	/* the object survived the malformed destroys */
	test_ioctl_destroy(id);
}

TEST_F(uapi, size_above_struct)
{
	struct {
		struct iommu_ioas_alloc cmd;
		__u8 tail[64];
		__u32 guard;
	} big;
	size_t i;

	/* a newer userspace's zeroed extra fields are accepted */
	memset(&big, 0, sizeof(big));
	big.guard = 0x5a5a5a5a;
	big.cmd.size = sizeof(big.cmd) + sizeof(big.tail);
	ASSERT_EQ(0, ioctl(self->fd, IOMMU_IOAS_ALLOC, &big));
	ASSERT_EQ(1, big.cmd.out_ioas_id);
	for (i = 0; i < sizeof(big.tail); i++)
		ASSERT_EQ(0, big.tail[i]);
	ASSERT_EQ(0x5a5a5a5a, big.guard);

	/* any non-zero byte past the kernel's struct is E2BIG */
	for (i = 0; i < sizeof(big.tail); i += 7) {
		memset(&big, 0, sizeof(big));
		big.cmd.size = sizeof(big.cmd) + sizeof(big.tail);
		big.cmd.out_ioas_id = 0xdead;
		big.tail[i] = 1;
		EXPECT_ERRNO(E2BIG, ioctl(self->fd, IOMMU_IOAS_ALLOC, &big));
		ASSERT_EQ(0xdead, big.cmd.out_ioas_id);
	}
	/* a non-zero byte beyond the declared size is not looked at */
	memset(&big, 0, sizeof(big));
	big.cmd.size = sizeof(big.cmd) + 8;
	big.tail[8] = 1;
	ASSERT_EQ(0, ioctl(self->fd, IOMMU_IOAS_ALLOC, &big));
	ASSERT_EQ(2, big.cmd.out_ioas_id);
	ASSERT_EQ(1, big.tail[8]);
}

TEST_F(uapi, size_is_read_once_from_user)
{
	/* a struct that ends where its mapping ends: a larger size faults */
	__u8 *map = mmap(NULL, 2 * PSZ, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct iommu_ioas_alloc *cmd;

	ASSERT_NE(MAP_FAILED, map);
	ASSERT_EQ(0, munmap(map + PSZ, PSZ));
	cmd = (void *)(map + PSZ - sizeof(*cmd));
	memset(cmd, 0, sizeof(*cmd));
	cmd->size = sizeof(*cmd);
	ASSERT_EQ(0, ioctl(self->fd, IOMMU_IOAS_ALLOC, cmd));
	ASSERT_EQ(1, cmd->out_ioas_id);

	cmd->size = sizeof(*cmd) + 4;
	EXPECT_ERRNO(EFAULT, ioctl(self->fd, IOMMU_IOAS_ALLOC, cmd));

	/* a huge declared size is checked for zeroes, not trusted */
	cmd->size = 0xffffffff;
	EXPECT_ERRNO(EFAULT, ioctl(self->fd, IOMMU_IOAS_ALLOC, cmd));
	munmap(map, PSZ);
}

TEST_F(uapi, bad_pointer)
{
	EXPECT_ERRNO(EFAULT, ioctl(self->fd, IOMMU_IOAS_ALLOC, NULL));
	EXPECT_ERRNO(EFAULT, ioctl(self->fd, IOMMU_DESTROY, (void *)8));
}

/*
 * The production variant of iommufd_rs.ko (IOMMUFD_RS_SELFTEST=n) has no
 * selftest ABI: IOMMU_TEST_CMD is an unknown command there. The test kernel
 * has CONFIG_IOMMUFD_TEST, so the selftest variant and the C iommufd.ko have
 * it. IOMMUFD_IMPL, set by the VM runner, says which module is loaded.
 */
TEST_F(uapi, selftest_abi_per_variant)
{
	/* Op 0 is no operation: a module with the ABI refuses it otherwise. */
	struct iommu_test_cmd cmd = { .size = sizeof(cmd) };
	const char *impl = getenv("IOMMUFD_IMPL");
	int rc;

	if (!impl || (strcmp(impl, "rust-prod") && strcmp(impl, "rust") &&
		      strcmp(impl, "c")))
		SKIP(return, "IOMMUFD_IMPL does not name the module");
	rc = ioctl(self->fd, IOMMU_TEST_CMD, &cmd);
	ASSERT_EQ(-1, rc);
	/* ENOTTY on the production variant only */
	ASSERT_EQ(!strcmp(impl, "rust-prod"), errno == ENOTTY);
}

TEST_F(uapi, unknown_commands)
{
	struct iommu_ioas_alloc cmd = { .size = sizeof(cmd) };
	const unsigned long cmds[] = {
		_IO(IOMMUFD_TYPE, 0x7f),
		_IO(IOMMUFD_TYPE, 0xff),
		_IO(IOMMUFD_TYPE, 0xc0),
		/* our type and number with size or direction bits */
		_IOWR(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_ALLOC,
		      struct iommu_ioas_alloc),
		_IOR(IOMMUFD_TYPE, IOMMUFD_CMD_DESTROY, struct iommu_destroy),
		/* another type with our number */
		_IO('x', IOMMUFD_CMD_IOAS_ALLOC),
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cmds); i++)
		EXPECT_ERRNO(ENOTTY, ioctl(self->fd, cmds[i], &cmd));
	/* none of them created an object */
	ASSERT_EQ(0, ioctl(self->fd, IOMMU_IOAS_ALLOC, &cmd));
	ASSERT_EQ(1, cmd.out_ioas_id);
}

TEST_F(uapi, destroy)
{
	__u32 a, b, c;

	test_ioctl_ioas_alloc(&a);
	test_ioctl_ioas_alloc(&b);
	test_ioctl_destroy(a);

	/* destroying twice */
	test_err_destroy(ENOENT, a);

	/* ids that never existed */
	test_err_destroy(ENOENT, 0);
	test_err_destroy(ENOENT, b + 1);
	test_err_destroy(ENOENT, 0x7fffffff);
	test_err_destroy(ENOENT, 0x80000000);
	test_err_destroy(ENOENT, 0xffffffff);

	/* a freed id is reused, lowest first */
	test_ioctl_ioas_alloc(&c);
	ASSERT_EQ(a, c);
	test_ioctl_destroy(b);
	test_ioctl_destroy(c);
}

TEST_F(uapi, destroy_unknown_flags_free_fields)
{
	/* a larger destroy with zeroed tail is fine, a set tail is E2BIG */
	struct {
		struct iommu_destroy cmd;
		__u32 extra;
	} big = { .cmd = { .size = sizeof(big) } };
	__u32 id;

	test_ioctl_ioas_alloc(&id);
	big.cmd.id = id;
	big.extra = 1;
	EXPECT_ERRNO(E2BIG, ioctl(self->fd, IOMMU_DESTROY, &big));
	big.extra = 0;
	ASSERT_EQ(0, ioctl(self->fd, IOMMU_DESTROY, &big));
	test_err_destroy(ENOENT, id);
}

TEST_F(uapi, ids_are_per_file)
{
	int fd2 = open("/dev/iommu", O_RDWR);
	__u32 a, b;

	ASSERT_LE(0, fd2);
	test_ioctl_ioas_alloc(&a);
	/* the other file has no objects */
	EXPECT_ERRNO(ENOENT, _test_ioctl_destroy(fd2, a));
	/* and its own numbering */
	ASSERT_EQ(0, _test_ioctl_ioas_alloc(fd2, &b));
	ASSERT_EQ(a, b);
	ASSERT_EQ(0, _test_ioctl_destroy(fd2, b));
	EXPECT_ERRNO(ENOENT, _test_ioctl_destroy(fd2, b));
	/* the first file's object is untouched */
	test_ioctl_destroy(a);
	close(fd2);
}

TEST(close_with_live_objects)
{
	int round, i;

	for (round = 0; round < 3; round++) {
		int fd = open("/dev/iommu", O_RDWR);
		__u32 id;

		ASSERT_LE(0, fd);
		for (i = 0; i < 2000; i++) {
			ASSERT_EQ(0, _test_ioctl_ioas_alloc(fd, &id));
			ASSERT_EQ(i + 1, id);
		}
		/* leave holes, so that close sees a sparse table */
		for (i = 1; i <= 2000; i += 3)
			ASSERT_EQ(0, _test_ioctl_destroy(fd, i));
		ASSERT_EQ(0, close(fd));
	}
}

/* An open fault queue fd with nothing to read, that still works. */
static void fault_fd_idle(struct __test_metadata *_metadata, int ffd)
{
	struct iommu_hwpt_page_response resp = {
		.cookie = 1,
		.code = IOMMUFD_PAGE_RESP_SUCCESS,
	};
	struct pollfd pfd = { .fd = ffd, .events = POLLIN | POLLOUT };
	struct iommu_hwpt_pgfault msg;

	ASSERT_EQ(1, poll(&pfd, 1, 0));
	ASSERT_EQ(POLLOUT, pfd.revents);
	ASSERT_EQ(0, read(ffd, &msg, sizeof(msg)));
	/* no fault was read, so no cookie is known */
	EXPECT_ERRNO(EINVAL, write(ffd, &resp, sizeof(resp)));
}

/*
 * A fault queue's fd holds its object, as upstream's event queue files do:
 * IOMMU_DESTROY, which does not wait for users, is EBUSY while it is open,
 * and succeeds once it is closed.
 */
TEST_F(uapi, fault_fd_holds_fault)
{
	__u32 id, id2;
	int ffd, ffd2, dup_fd;

	test_ioctl_fault_alloc(&id, &ffd);
	test_err_destroy(EBUSY, id);
	/* a failed destroy leaves the object and its fd as they were */
	test_err_destroy(EBUSY, id);
	fault_fd_idle(_metadata, ffd);
	ASSERT_EQ(0, close(ffd));
	test_ioctl_destroy(id);
	test_err_destroy(ENOENT, id);

	/* the file counts once, however many fds it has */
	test_ioctl_fault_alloc(&id, &ffd);
	dup_fd = dup(ffd);
	ASSERT_LE(0, dup_fd);
	ASSERT_EQ(0, close(ffd));
	test_err_destroy(EBUSY, id);
	fault_fd_idle(_metadata, dup_fd);
	ASSERT_EQ(0, close(dup_fd));
	test_ioctl_destroy(id);

	/* each queue is held by its own fd only */
	test_ioctl_fault_alloc(&id, &ffd);
	test_ioctl_fault_alloc(&id2, &ffd2);
	ASSERT_EQ(0, close(ffd2));
	test_ioctl_destroy(id2);
	test_err_destroy(EBUSY, id);
	ASSERT_EQ(0, close(ffd));
	test_ioctl_destroy(id);
}

/*
 * A fault queue's fd keeps its iommufd context: closing /dev/iommu first
 * leaves the queue working, and the context goes with the fault fd.
 */
TEST(fault_fd_outlives_iommufd)
{
	__u32 ioas, id, id2;
	int fd, ffd, ffd2;
	pid_t pid;
	int status;

	fd = open("/dev/iommu", O_RDWR);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, _test_ioctl_ioas_alloc(fd, &ioas));
	ASSERT_EQ(0, _test_ioctl_fault_alloc(fd, &id, &ffd));
	ASSERT_EQ(0, _test_ioctl_fault_alloc(fd, &id2, &ffd2));
	ASSERT_EQ(0, close(ffd2));
	ASSERT_EQ(0, close(fd));
	fault_fd_idle(_metadata, ffd);
	ASSERT_EQ(0, close(ffd));

	/* a process that exits with both open */
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		fd = open("/dev/iommu", O_RDWR);
		if (fd < 0 || _test_ioctl_ioas_alloc(fd, &ioas) ||
		    _test_ioctl_fault_alloc(fd, &id, &ffd) ||
		    _test_ioctl_fault_alloc(fd, &id2, &ffd2))
			_exit(1);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
}

#define THREADS 4
#define PER_THREAD 500

static void *alloc_destroy_thread(void *arg)
{
	int fd = *(int *)arg;
	__u32 ids[PER_THREAD];
	int i;

	for (i = 0; i < PER_THREAD; i++)
		if (_test_ioctl_ioas_alloc(fd, &ids[i]))
			return (void *)1;
	for (i = 0; i < PER_THREAD; i++)
		if (_test_ioctl_destroy(fd, ids[i]))
			return (void *)2;
	return NULL;
}

TEST_F(uapi, concurrent_alloc_destroy)
{
	pthread_t t[THREADS];
	void *ret;
	__u32 id;
	int i;

	for (i = 0; i < THREADS; i++)
		ASSERT_EQ(0, pthread_create(&t[i], NULL, alloc_destroy_thread,
					    &self->fd));
	for (i = 0; i < THREADS; i++) {
		ASSERT_EQ(0, pthread_join(t[i], &ret));
		/* every id a thread got was its own to destroy */
		ASSERT_EQ(NULL, ret);
	}
	/* everything was destroyed: numbering starts over */
	test_ioctl_ioas_alloc(&id);
	ASSERT_EQ(1, id);
}

TEST_HARNESS_MAIN
