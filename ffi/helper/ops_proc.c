/*
 * Process operations of the init plan: identity, capabilities, limits,
 * console, hooks and the final execve. The order they run in is the plan's.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ops.h"
#include "sync.h"
#include "syscalls.h"
#include "util.h"

#define MAX_GROUPS 65536

static gid_t groups[MAX_GROUPS];

static int op_identity(const struct plan *plan, uint32_t i)
{
	const struct plan_op *op = &plan->ops[i];
	size_t count = (size_t)op->num[2];
	/* Keep the permitted set across the uid change; CAPS sets the final sets. */
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		return -1;
	memcpy(groups, plan->blob + op->str[2].off, count * sizeof(gid_t));
	if (syscall(SYS_setgroups, count, groups) < 0)
		return -1;
	if (syscall(SYS_setresgid, (gid_t)op->num[1], (gid_t)op->num[1], (gid_t)op->num[1]) < 0)
		return -1;
	if (syscall(SYS_setresuid, (uid_t)op->num[0], (uid_t)op->num[0], (uid_t)op->num[0]) < 0)
		return -1;
	return 0;
}

/*
 * Becomes uid/gid without touching the supplementary groups: in a user
 * namespace whose setgroups is "deny" (rootless), and right after the
 * parent wrote the id maps, to become the namespace's root.
 */
static int op_setid(const struct plan *plan, uint32_t i)
{
	const struct plan_op *op = &plan->ops[i];
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		return -1;
	if (syscall(SYS_setresgid, (gid_t)op->num[1], (gid_t)op->num[1], (gid_t)op->num[1]) < 0)
		return -1;
	if (syscall(SYS_setresuid, (uid_t)op->num[0], (uid_t)op->num[0], (uid_t)op->num[0]) < 0)
		return -1;
	return 0;
}

static int op_bounding(const struct plan *plan, uint32_t i)
{
	uint64_t keep = (uint64_t)plan->ops[i].num[0];
	for (int cap = 0; cap < 64; cap++) {
		if (keep & (1ULL << cap))
			continue;
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0) {
			if (errno == EINVAL)
				break; /* past the kernel's last capability */
			return -1;
		}
	}
	return 0;
}

struct cap_header {
	uint32_t version;
	int pid;
};

struct cap_data {
	uint32_t effective;
	uint32_t permitted;
	uint32_t inheritable;
};

static int op_caps(const struct plan *plan, uint32_t i)
{
	const struct plan_op *op = &plan->ops[i];
	uint64_t effective = (uint64_t)op->num[0], permitted = (uint64_t)op->num[1];
	uint64_t inheritable = (uint64_t)op->num[2], ambient = (uint64_t)op->num[3];
	struct cap_header header = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct cap_data data[2] = {
		{(uint32_t)effective, (uint32_t)permitted, (uint32_t)inheritable},
		{(uint32_t)(effective >> 32), (uint32_t)(permitted >> 32), (uint32_t)(inheritable >> 32)},
	};
	if (syscall(SYS_capset, &header, data) < 0)
		return -1;
	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
		return -1;
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return -1;
	for (int cap = 0; cap < 64; cap++)
		if ((ambient & (1ULL << cap)) && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0)
			return -1;
	return 0;
}

static int op_rlimit(const struct plan *plan, uint32_t i)
{
	const struct plan_op *op = &plan->ops[i];
	uint64_t limit[2] = {(uint64_t)op->num[1], (uint64_t)op->num[2]};
	return syscall(SYS_prlimit64, 0, (int)op->num[0], limit, NULL) < 0 ? -1 : 0;
}

static int op_ifup(const struct plan *plan, uint32_t i)
{
	struct ifreq request;
	memset(&request, 0, sizeof request);
	strncpy(request.ifr_name, plan_str(plan, i, 0), IFNAMSIZ - 1);
	int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (sock < 0)
		return -1;
	int rc = ioctl(sock, SIOCGIFFLAGS, &request);
	if (rc == 0) {
		request.ifr_flags |= IFF_UP;
		rc = ioctl(sock, SIOCSIFFLAGS, &request);
	}
	int saved = errno;
	close(sock);
	errno = saved;
	return rc;
}

/* Tries each candidate path in order, as execvp does with $PATH; returns only on failure. */
static int exec_first(char *const *candidates, char *const *argv, char *const *envp)
{
	int denied = 0;
	for (; *candidates != NULL; candidates++) {
		execve(*candidates, argv, envp);
		if (errno == EACCES)
			denied = 1;
		else if (errno != ENOENT && errno != ENOTDIR)
			return -1;
	}
	errno = denied ? EACCES : ENOENT;
	return -1;
}

/* Runs a hook command to completion; a non-zero status fails the op. Its output goes to stderr. */
static int op_run(const struct plan *plan, uint32_t i)
{
	const char *dir = plan_str(plan, i, 3);
	long pid = syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
	if (pid < 0)
		return -1;
	if (pid == 0) {
		if (dir[0] != 0 && chdir(dir) < 0)
			_exit(126);
		dup2(2, 1);
		exec_first(plan_list(plan, i, 0), plan_list(plan, i, 1), plan_list(plan, i, 2));
		_exit(errno == ENOENT ? 127 : 126);
	}
	int status = 0;
	if (RETRY(wait4((pid_t)pid, &status, 0, NULL)) < 0)
		return -1;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	op_detail = status;
	errno = 0;
	return -1;
}

static int send_fd(int fd)
{
	struct sync_record record = {.type = SYNC_CONSOLE, .op = -1};
	struct iovec iov = {.iov_base = &record, .iov_len = sizeof record};
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} control;
	memset(&control, 0, sizeof control);
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = control.buf,
		.msg_controllen = sizeof control.buf,
	};
	struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
	cmsg->cmsg_level = SOL_SOCKET;
	cmsg->cmsg_type = SCM_RIGHTS;
	cmsg->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
	return RETRY(sendmsg(sync_fd, &msg, MSG_NOSIGNAL)) < 0 ? -1 : 0;
}

/* Creates the terminal inside the container's devpts and hands the master to the parent. */
static int op_console(const struct plan *plan, uint32_t i)
{
	const struct plan_op *op = &plan->ops[i];
	int master = open_console_master(plan_str(plan, i, 0));
	if (master < 0)
		return -1;
	struct statfs fs;
	int unlock = 0;
	if (fstatfs(master, &fs) < 0 || fs.f_type != DEVPTS_SUPER_MAGIC) {
		op_detail = DETAIL_NOT_DEVPTS;
		errno = EXDEV;
		goto fail_master;
	}
	if (ioctl(master, TIOCSPTLCK, &unlock) < 0)
		goto fail_master;
	/* The size the parent's terminal has, so the program sees it from its first instruction. */
	struct winsize size = {.ws_row = (unsigned short)op->num[2], .ws_col = (unsigned short)op->num[3]};
	if ((size.ws_row != 0 || size.ws_col != 0) && ioctl(master, TIOCSWINSZ, &size) < 0)
		goto fail_master;
	int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (slave < 0)
		goto fail_master;
	if (fchown(slave, (uid_t)op->num[0], (gid_t)op->num[1]) < 0)
		goto fail_both;
	if ((op->flags & PF_BIND_CONSOLE) && bind_console(slave, plan_str(plan, i, 1)) < 0)
		goto fail_both;
	if (setsid() < 0 || ioctl(slave, TIOCSCTTY, 0) < 0)
		goto fail_both;
	for (int fd = 0; fd < 3; fd++)
		if (dup2(slave, fd) < 0)
			goto fail_both;
	if (send_fd(master) < 0)
		goto fail_both;
	close(slave);
	close(master);
	return 0;
fail_both: {
	int saved = errno;
	close(slave);
	errno = saved;
}
fail_master: {
	int saved = errno;
	close(master);
	errno = saved;
	return -1;
}
}

/* Tells the parent this point is reached and waits for its go-ahead. */
static int op_sync(const struct plan *plan, uint32_t i)
{
	int32_t tag = (int32_t)plan->ops[i].num[0];
	if (send_record(SYNC_READY, (int32_t)i, 0, tag) < 0)
		return -1;
	struct sync_record record;
	long n = RETRY(recv(sync_fd, &record, sizeof record, 0));
	if (n == 0)
		_exit(255); /* the parent is gone */
	if (n != (long)sizeof record || record.type != SYNC_GO || record.arg != tag) {
		errno = EPROTO;
		return -1;
	}
	return 0;
}

static int op_pdeathsig(const struct plan *plan, uint32_t i)
{
	if (prctl(PR_SET_PDEATHSIG, (unsigned long)plan->ops[i].num[0], 0, 0, 0) < 0)
		return -1;
	/*
	 * If the parent died before the signal was armed, its end of the socket
	 * is closed, or it is still exiting: a dying process reparents its
	 * children (without a signal, as none was armed yet) before its last
	 * thread closes its descriptors.
	 */
	char byte;
	if (recv(sync_fd, &byte, 1, MSG_DONTWAIT | MSG_PEEK) == 0 || parent_exiting())
		_exit(255);
	return 0;
}

static int op_chdir(const struct plan *plan, uint32_t i)
{
	/* Whole paths: a buffer too small for an unreachable path fails with ERANGE and says nothing. */
	char cwd[4096];
	if (chdir(plan_str(plan, i, 0)) < 0)
		return -1;
	/* A cwd outside the root (through a host directory fd) reads back as "(unreachable)...". */
	if (syscall(SYS_getcwd, cwd, sizeof cwd) < 0)
		return -1;
	if (cwd[0] != '/') {
		op_detail = DETAIL_UNREACHABLE_CWD;
		errno = ENOENT;
		return -1;
	}
	return 0;
}

/*
 * Installs the seccomp filter: the last step before exec, so it constrains
 * the container's program and not the helper's set-up. The plan sets
 * no_new_privs first unless the process keeps CAP_SYS_ADMIN.
 */
static int op_seccomp(const struct plan *plan, uint32_t i)
{
	const struct plan_op *op = &plan->ops[i];
	struct nsinit_sock_fprog program = {
		.len = (unsigned short)op->num[0],
		.filter = plan->blob + op->str[0].off,
	};
	return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, (unsigned)op->num[1], &program) < 0 ? -1 : 0;
}

static int op_exec(const struct plan *plan, uint32_t i)
{
	return exec_first(plan_list(plan, i, 0), plan_list(plan, i, 1), plan_list(plan, i, 2));
}

/* Moves the calling task into a cgroup by writing to one of its files (v1 `tasks`: "0" means "me"). */
static int op_cgroup_enter(const struct plan *plan, uint32_t i)
{
	int fd = (int)RETRY(open(plan_str(plan, i, 0), O_WRONLY | O_CLOEXEC));
	if (fd < 0)
		return -1;
	long n = RETRY(write(fd, plan_str(plan, i, 1), plan->ops[i].str[1].len));
	int saved = errno;
	close(fd);
	errno = saved;
	return n < 0 ? -1 : 0;
}

int run_proc_op(const struct plan *plan, uint32_t index)
{
	const struct plan_op *op = &plan->ops[index];
	switch (op->code) {
	case OP_SETNS:
		if (setns((int)op->num[0], (int)op->num[1]) < 0)
			return -1;
		close((int)op->num[0]);
		return 0;
	case OP_UMASK:
		umask((mode_t)op->num[0]);
		return 0;
	case OP_HOSTNAME:
		return sethostname(plan_str(plan, index, 0), op->str[0].len);
	case OP_IFUP:
		return op_ifup(plan, index);
	case OP_RLIMIT:
		return op_rlimit(plan, index);
	case OP_RUN:
		return op_run(plan, index);
	case OP_CONSOLE:
		return op_console(plan, index);
	case OP_SYNC:
		return op_sync(plan, index);
	case OP_BOUNDING:
		return op_bounding(plan, index);
	case OP_IDENTITY:
		return op_identity(plan, index);
	case OP_CAPS:
		return op_caps(plan, index);
	case OP_PDEATHSIG:
		return op_pdeathsig(plan, index);
	case OP_CHDIR:
		return op_chdir(plan, index);
	case OP_EXEC:
		return op_exec(plan, index);
	case OP_CGROUP_ENTER:
		return op_cgroup_enter(plan, index);
	case OP_DUMPABLE:
		/* An unprivileged parent can only open /proc/<pid>/uid_map of a dumpable process. */
		return prctl(PR_SET_DUMPABLE, (unsigned long)op->num[0], 0, 0, 0);
	case OP_SETID:
		return op_setid(plan, index);
	case OP_NO_NEW_PRIVS:
		return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	case OP_SECCOMP:
		return op_seccomp(plan, index);
	}
	errno = EINVAL;
	return -1;
}
