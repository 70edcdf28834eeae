/*
 * Filesystem operations of the init plan. Every path inside the container is
 * resolved against the rootfs with openat2(RESOLVE_IN_ROOT), and mounts are
 * made on the resolved file descriptor, so a symlink in the image can never
 * send a mount, a device node or a new directory onto the host.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ops.h"
#include "syscalls.h"
#include "util.h"

int op_detail;

/* The container's root: the rootfs before pivot_root, "/" after it. */
static int root_fd = -1;

static int ensure_root(void)
{
	if (root_fd < 0)
		root_fd = (int)RETRY(open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
	return root_fd;
}

static int open_in_root(const char *path, int flags, uint64_t resolve)
{
	struct nsinit_open_how how = {
		.flags = (uint64_t)(flags | O_CLOEXEC),
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | resolve,
	};
	if (ensure_root() < 0)
		return -1;
	return (int)RETRY(syscall(SYS_openat2, root_fd, path, &how, sizeof how));
}

static int close_keep_errno(int fd, int rc)
{
	int saved = errno;
	if (fd >= 0)
		close(fd);
	errno = saved;
	return rc;
}

static int is_dot_component(const char *name, size_t len)
{
	return (len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.');
}

#define MAX_SYMLINKS 40

/* Resolves "." and ".." lexically, in place; ".." at the root stays at the root. */
static void normalize_in_root(char *path)
{
	char *out = path;
	const char *in = path;
	while (*in != 0) {
		while (*in == '/')
			in++;
		const char *end = in;
		while (*end != 0 && *end != '/')
			end++;
		size_t len = (size_t)(end - in);
		if (len == 0 || (len == 1 && in[0] == '.')) {
			/* nothing */
		} else if (len == 2 && in[0] == '.' && in[1] == '.') {
			while (out > path && *--out != '/')
				;
		} else {
			*out++ = '/';
			memmove(out, in, len);
			out += len;
		}
		in = end;
	}
	if (out == path)
		*out++ = '/';
	*out = 0;
}

/*
 * The path that `name` (a symlink in directory `dir`, an in-root path)
 * points to, followed by `rest`: where creation must continue when the
 * symlink dangles. It stays a path inside the root.
 */
static int follow_dangling(char *out, int parent, const char *name, const char *dir, size_t dirlen,
			   const char *rest)
{
	char target[PATH_MAX];
	ssize_t n = readlinkat(parent, name, target, sizeof target - 1);
	if (n < 0)
		return -1;
	target[n] = 0;
	size_t at = 0;
	if (target[0] != '/') {
		if (dirlen + 1 >= PATH_MAX)
			goto too_long;
		memcpy(out, dir, dirlen);
		out[dirlen] = '/';
		at = dirlen + 1;
	}
	size_t tlen = (size_t)n, rlen = strlen(rest);
	if (at + tlen + 1 + rlen >= PATH_MAX)
		goto too_long;
	memcpy(out + at, target, tlen);
	at += tlen;
	out[at++] = '/';
	memcpy(out + at, rest, rlen + 1);
	normalize_in_root(out);
	return 0;
too_long:
	errno = ENAMETOOLONG;
	return -1;
}

static int mkdir_in_root_depth(const char *path, size_t len, mode_t mode, uint64_t resolve, int depth);

/*
 * Opens the directory `path` inside the root, creating what is missing one
 * component at a time with mkdirat() on the already resolved parent. A
 * dangling symlink on the way is followed (inside the root) and its target
 * created, as runc and crun do.
 */
static int mkdir_in_root(const char *path, size_t len, mode_t mode, uint64_t resolve)
{
	return mkdir_in_root_depth(path, len, mode, resolve, 0);
}

static int mkdir_in_root_depth(const char *path, size_t len, mode_t mode, uint64_t resolve, int depth)
{
	char prefix[PATH_MAX];
	char name[NAME_MAX + 1];
	if (len >= sizeof prefix) {
		errno = ENAMETOOLONG;
		return -1;
	}
	int parent = open_in_root("/", O_PATH | O_DIRECTORY, resolve);
	size_t at = 0;
	while (parent >= 0) {
		while (at < len && path[at] == '/')
			at++;
		if (at == len)
			return parent;
		size_t end = at;
		while (end < len && path[end] != '/')
			end++;
		if (is_dot_component(path + at, end - at) || end - at > NAME_MAX) {
			close(parent);
			errno = EINVAL;
			return -1;
		}
		memcpy(prefix, path, end);
		prefix[end] = 0;
		int fd = open_in_root(prefix, O_PATH | O_DIRECTORY, resolve);
		if (fd < 0 && errno == ENOENT) {
			memcpy(name, path + at, end - at);
			name[end - at] = 0;
			if (mkdirat(parent, name, mode) < 0) {
				if (errno != EEXIST || (resolve & RESOLVE_NO_SYMLINKS) || depth >= MAX_SYMLINKS) {
					if (errno == EEXIST)
						errno = ELOOP;
					return close_keep_errno(parent, -1);
				}
				/* It exists but does not resolve: a dangling symlink. */
				char next[PATH_MAX];
				char rest[PATH_MAX];
				memcpy(rest, path + end, len - end);
				rest[len - end] = 0;
				int rc = follow_dangling(next, parent, name, path, at > 0 ? at - 1 : 0, rest);
				close(parent);
				return rc < 0 ? -1 : mkdir_in_root_depth(next, strlen(next), mode, resolve, depth + 1);
			}
			fd = open_in_root(prefix, O_PATH | O_DIRECTORY, resolve);
		}
		int saved = errno;
		close(parent);
		errno = saved;
		parent = fd;
		at = end;
	}
	return -1;
}

/* Opens (creating) the parent directory of `path` and points *base at the last component. */
static int parent_in_root(const char *path, const char **base)
{
	const char *slash = strrchr(path, '/');
	if (slash == NULL || slash[1] == 0 || is_dot_component(slash + 1, strlen(slash + 1))) {
		errno = EINVAL;
		return -1;
	}
	*base = slash + 1;
	return mkdir_in_root(path, (size_t)(slash - path), 0755, 0);
}

static int move_tree(int tree, int target)
{
	long rc = syscall(SYS_move_mount, tree, "", target, "",
			  MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
	return rc < 0 ? -1 : 0;
}

static int set_attr(int tree, uint64_t attr_set, uint64_t propagation, int recursive)
{
	if (attr_set == 0 && propagation == 0)
		return 0;
	struct nsinit_mount_attr attr = {.attr_set = attr_set, .propagation = propagation};
	unsigned flags = AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0);
	return syscall(SYS_mount_setattr, tree, "", flags, &attr, sizeof attr) < 0 ? -1 : 0;
}

static int op_mount(const struct plan *plan, uint32_t i)
{
	const struct plan_op *op = &plan->ops[i];
	const char *source = plan_str(plan, i, 0);
	const char *target = plan_str(plan, i, 1);
	const char *fstype = plan_str(plan, i, 2);
	const char *data = plan_str(plan, i, 3);
	char where[32];
	int fd = -1;
	if (!(op->flags & PF_HOST_PATH)) {
		uint64_t resolve = (op->flags & PF_NO_SYMLINKS) ? RESOLVE_NO_SYMLINKS : 0;
		fd = open_in_root(target, O_PATH | O_DIRECTORY, resolve);
		if (fd < 0)
			return -1;
		target = fd_path(where, fd);
	}
	int rc = mount(source, target, fstype[0] ? fstype : NULL, (unsigned long)op->num[0],
		       data[0] ? data : NULL);
	return close_keep_errno(fd, rc);
}

/*
 * pivot_root and MS_MOVE both need the new root to be a mount point: the
 * rootfs is bound onto itself. The directory is looked up once (never
 * through a final symlink) and the bind is made from and onto that
 * descriptor: two lookups of the path could be raced (a rename exchange
 * with a symlink to / between them bound the host's root onto the rootfs).
 * The cloned tree's descriptor is then the root everything else resolves in.
 */
static int op_rootfs(const struct plan *plan, uint32_t i)
{
	int dir = (int)RETRY(open(plan_str(plan, i, 0), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
	if (dir < 0)
		return -1;
	int tree = (int)syscall(SYS_open_tree, dir, "",
				OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE | AT_EMPTY_PATH);
	if (tree < 0)
		return close_keep_errno(dir, -1);
	int rc = move_tree(tree, dir);
	close_keep_errno(dir, 0);
	if (rc < 0)
		return close_keep_errno(tree, -1);
	if (root_fd >= 0)
		close(root_fd);
	root_fd = tree;
	return 0;
}

static int op_mkdir(const struct plan *plan, uint32_t i)
{
	const char *path = plan_str(plan, i, 0);
	uint64_t resolve = (plan->ops[i].flags & PF_NO_SYMLINKS) ? RESOLVE_NO_SYMLINKS : 0;
	int fd = mkdir_in_root(path, strlen(path), (mode_t)plan->ops[i].num[0], resolve);
	return fd < 0 ? -1 : close_keep_errno(fd, 0);
}

/* Creates an empty file inside the root when nothing is there; a dangling symlink's target is created. */
static int mkfile_in_root(const char *path, mode_t mode, int depth)
{
	int fd = open_in_root(path, O_PATH, 0);
	if (fd >= 0 || errno != ENOENT)
		return fd < 0 ? -1 : close_keep_errno(fd, 0);
	const char *base;
	int parent = parent_in_root(path, &base);
	if (parent < 0)
		return -1;
	fd = (int)RETRY(openat(parent, base, O_CREAT | O_EXCL | O_NOFOLLOW | O_WRONLY | O_CLOEXEC, mode));
	if (fd < 0 && errno == EEXIST && depth < MAX_SYMLINKS) {
		char next[PATH_MAX];
		int rc = follow_dangling(next, parent, base, path, (size_t)(base - 1 - path), "");
		close(parent);
		return rc < 0 ? -1 : mkfile_in_root(next, mode, depth + 1);
	}
	close_keep_errno(parent, 0);
	return fd < 0 ? -1 : close_keep_errno(fd, 0);
}

static int op_mkfile(const struct plan *plan, uint32_t i)
{
	return mkfile_in_root(plan_str(plan, i, 0), (mode_t)plan->ops[i].num[0], 0);
}

static int op_bind(const struct plan *plan, uint32_t i)
{
	const struct plan_op *op = &plan->ops[i];
	int recursive = (op->flags & PF_RECURSIVE) != 0;
	unsigned tree_flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (recursive ? AT_RECURSIVE : 0);
	uint64_t resolve = (op->flags & PF_NO_SYMLINKS) ? RESOLVE_NO_SYMLINKS : 0;
	int tree;
	if (op->flags & PF_SRC_IN_ROOT) {
		int source = open_in_root(plan_str(plan, i, 0), O_PATH, resolve);
		if (source < 0)
			return -1;
		tree = (int)syscall(SYS_open_tree, source, "", tree_flags | AT_EMPTY_PATH);
		close_keep_errno(source, 0);
	} else {
		tree = (int)syscall(SYS_open_tree, AT_FDCWD, plan_str(plan, i, 0), tree_flags);
	}
	if (tree < 0)
		return -1;
	if (set_attr(tree, (uint64_t)op->num[0], (uint64_t)op->num[1], recursive) < 0)
		return close_keep_errno(tree, -1);
	int target = open_in_root(plan_str(plan, i, 1), O_PATH, resolve);
	if (target < 0)
		return close_keep_errno(tree, -1);
	int rc = move_tree(tree, target);
	close_keep_errno(target, 0);
	return close_keep_errno(tree, rc);
}

static int op_mknod(const struct plan *plan, uint32_t i)
{
	const struct plan_op *op = &plan->ops[i];
	const char *base;
	int parent = parent_in_root(plan_str(plan, i, 0), &base);
	if (parent < 0)
		return -1;
	if (mknodat(parent, base, (mode_t)op->num[0], (dev_t)op->num[1]) < 0) {
		/* Something is already there (a node of the image, or a bind): leave it as it is. */
		return close_keep_errno(parent, errno == EEXIST ? 0 : -1);
	}
	int rc = fchownat(parent, base, (uid_t)op->num[2], (gid_t)op->num[3], AT_SYMLINK_NOFOLLOW);
	return close_keep_errno(parent, rc);
}

static int op_symlink(const struct plan *plan, uint32_t i)
{
	const char *base;
	int parent = parent_in_root(plan_str(plan, i, 1), &base);
	if (parent < 0)
		return -1;
	int rc = symlinkat(plan_str(plan, i, 0), parent, base);
	if (rc < 0 && errno == EEXIST)
		rc = 0;
	return close_keep_errno(parent, rc);
}

/* Masks a path: the verified /dev/null over a file, an empty read-only tmpfs over a directory. */
static int op_mask(const struct plan *plan, uint32_t i)
{
	int target = open_in_root(plan_str(plan, i, 0), O_PATH, 0);
	if (target < 0)
		return errno == ENOENT ? 0 : -1;
	struct stat st;
	if (fstat(target, &st) < 0)
		return close_keep_errno(target, -1);
	if (S_ISDIR(st.st_mode)) {
		char where[32];
		int rc = mount("tmpfs", fd_path(where, target), "tmpfs", MS_RDONLY,
			       "size=0,nr_inodes=1");
		return close_keep_errno(target, rc);
	}
	/* Resolved in the root (symlinks stay inside it); what counts is that the
	 * inode is the null device, checked on the fd that is then bound. */
	int null = open_in_root(plan_str(plan, i, 1), O_PATH, 0);
	if (null < 0)
		return close_keep_errno(target, -1);
	struct stat ns;
	if (fstat(null, &ns) < 0 || !S_ISCHR(ns.st_mode) || major(ns.st_rdev) != 1 ||
	    minor(ns.st_rdev) != 3) {
		op_detail = DETAIL_NOT_NULL_DEVICE;
		close(null);
		errno = EPERM;
		return close_keep_errno(target, -1);
	}
	int tree = (int)syscall(SYS_open_tree, null, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
	close_keep_errno(null, 0);
	if (tree < 0)
		return close_keep_errno(target, -1);
	int rc = move_tree(tree, target);
	close_keep_errno(tree, 0);
	return close_keep_errno(target, rc);
}

static int op_readonly(const struct plan *plan, uint32_t i)
{
	int target = open_in_root(plan_str(plan, i, 0), O_PATH, 0);
	if (target < 0)
		return errno == ENOENT ? 0 : -1;
	int tree = (int)syscall(SYS_open_tree, target, "",
				OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | AT_RECURSIVE);
	if (tree < 0)
		return close_keep_errno(target, -1);
	int rc = set_attr(tree, MOUNT_ATTR_RDONLY, 0, 1);
	if (rc == 0)
		rc = move_tree(tree, target);
	close_keep_errno(tree, 0);
	return close_keep_errno(target, rc);
}

/* Opens the directory of a WRITE op: in the root, or (PF_HOST_PATH) as the helper sees it. */
static int open_write_dir(const struct plan_op *op, const char *path)
{
	if (!(op->flags & PF_HOST_PATH))
		return open_in_root(path, O_PATH | O_DIRECTORY, RESOLVE_NO_SYMLINKS);
	struct nsinit_open_how how = {
		.flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
		.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	return (int)RETRY(syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof how));
}

/*
 * The path of a WRITE op's file beneath its directory. With PF_SELF it is
 * beneath the process's own <pid>/, the pid read from the procfs's "self"
 * link: the procfs says which pid is ours in its pid namespace, and no
 * symlink is followed on the way to the file.
 */
static const char *write_path(char *buf, size_t size, int dir, const struct plan_op *op,
			      const char *file)
{
	if (!(op->flags & PF_SELF))
		return file;
	ssize_t n = readlinkat(dir, "self", buf, 16);
	if (n < 0)
		return NULL;
	for (ssize_t k = 0; k < n; k++) {
		if (buf[k] < '0' || buf[k] > '9') {
			errno = EXDEV;
			return NULL;
		}
	}
	if (n == 0 || n >= 16 || (size_t)n + 1 + op->str[1].len >= size) {
		errno = n == 0 || n >= 16 ? EXDEV : ENAMETOOLONG;
		return NULL;
	}
	buf[n] = '/';
	memcpy(buf + n + 1, file, op->str[1].len + 1);
	return buf;
}

/*
 * Writes a kernel file (a sysctl, the process's oom_score_adj or LSM
 * attribute) beneath a directory verified to be on procfs.
 */
static int op_write(const struct plan *plan, uint32_t i)
{
	const struct plan_op *op = &plan->ops[i];
	int dir = open_write_dir(op, plan_str(plan, i, 0));
	if (dir < 0)
		return -1;
	struct statfs fs;
	if ((op->flags & PF_PROCFS) && (fstatfs(dir, &fs) < 0 || fs.f_type != PROC_SUPER_MAGIC)) {
		op_detail = DETAIL_NOT_PROCFS;
		errno = EXDEV;
		return close_keep_errno(dir, -1);
	}
	char buf[PATH_MAX];
	const char *file = write_path(buf, sizeof buf, dir, op, plan_str(plan, i, 1));
	if (file == NULL)
		return close_keep_errno(dir, -1);
	struct nsinit_open_how how = {
		.flags = O_WRONLY | O_CLOEXEC | O_NOFOLLOW,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV,
	};
	int fd = (int)RETRY(syscall(SYS_openat2, dir, file, &how, sizeof how));
	close_keep_errno(dir, 0);
	if (fd < 0)
		return -1;
	const char *content = plan_str(plan, i, 2);
	size_t len = op->str[2].len;
	while (len > 0) {
		long n = RETRY(write(fd, content, len));
		if (n < 0)
			return close_keep_errno(fd, -1);
		content += n;
		len -= (size_t)n;
	}
	return close_keep_errno(fd, 0);
}

static int op_pivot(const struct plan *plan, uint32_t i)
{
	if (ensure_root() < 0 || fchdir(root_fd) < 0)
		return -1;
	if (plan->ops[i].flags & PF_NO_PIVOT) {
		if (mount(".", "/", NULL, MS_MOVE, NULL) < 0 || chroot(".") < 0)
			return -1;
	} else {
		/* pivot_root(".", ".") stacks the old root on the new one; detach it,
		 * made a slave first so the unmount does not reach the host. */
		if (syscall(SYS_pivot_root, ".", ".") < 0)
			return -1;
		if (mount("", ".", NULL, MS_SLAVE | MS_REC, NULL) < 0)
			return -1;
		if (umount2(".", MNT_DETACH) < 0)
			return -1;
	}
	if (chdir("/") < 0)
		return -1;
	close(root_fd);
	root_fd = -1;
	return ensure_root() < 0 ? -1 : 0;
}

static int op_root_readonly(void)
{
	struct nsinit_mount_attr attr = {.attr_set = MOUNT_ATTR_RDONLY};
	return syscall(SYS_mount_setattr, AT_FDCWD, "/", 0, &attr, sizeof attr) < 0 ? -1 : 0;
}

int open_console_master(const char *ptmx)
{
	return open_in_root(ptmx, O_RDWR | O_NOCTTY, RESOLVE_NO_SYMLINKS);
}

int bind_console(int slave, const char *console)
{
	int fd = open_in_root(console, O_PATH | O_NOFOLLOW, 0);
	if (fd < 0 && errno == ENOENT) {
		const char *base;
		int parent = parent_in_root(console, &base);
		if (parent < 0)
			return -1;
		int created = (int)RETRY(openat(parent, base,
						O_CREAT | O_EXCL | O_NOFOLLOW | O_WRONLY | O_CLOEXEC, 0600));
		close_keep_errno(parent, 0);
		if (created < 0)
			return -1;
		close(created);
		fd = open_in_root(console, O_PATH | O_NOFOLLOW, 0);
	}
	if (fd < 0)
		return -1;
	int tree = (int)syscall(SYS_open_tree, slave, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
	if (tree < 0)
		return close_keep_errno(fd, -1);
	int rc = move_tree(tree, fd);
	close_keep_errno(tree, 0);
	return close_keep_errno(fd, rc);
}

int run_fs_op(const struct plan *plan, uint32_t index)
{
	switch (plan->ops[index].code) {
	case OP_MOUNT:
		return op_mount(plan, index);
	case OP_ROOTFS:
		return op_rootfs(plan, index);
	case OP_MKDIR:
		return op_mkdir(plan, index);
	case OP_MKFILE:
		return op_mkfile(plan, index);
	case OP_BIND:
		return op_bind(plan, index);
	case OP_MKNOD:
		return op_mknod(plan, index);
	case OP_SYMLINK:
		return op_symlink(plan, index);
	case OP_MASK:
		return op_mask(plan, index);
	case OP_READONLY:
		return op_readonly(plan, index);
	case OP_WRITE:
		return op_write(plan, index);
	case OP_PIVOT:
		return op_pivot(plan, index);
	case OP_ROOT_READONLY:
		return op_root_readonly();
	}
	return run_proc_op(plan, index);
}
