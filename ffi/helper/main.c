/*
 * nsinit helper: executes an init plan (plan.h) sent by the Deno parent.
 *
 * It is spawned from a sealed memfd with argv = {name, sync_fd, fd_limit}:
 * fds 0-2 are the container's stdio, 3..sync_fd-1 its extra files, and
 * sync_fd..fd_limit-1 the sync socket and namespace fds to join. It runs the
 * join ops, clones the init with CLONE_PARENT (so the init is the parent's
 * own child), reports the init's pid and exits; the init runs the rest of
 * the plan and execs. Nothing here decides: the plan says what to do.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ops.h"
#include "plan.h"
#include "sync.h"
#include "syscalls.h"
#include "util.h"

static _Alignas(8) char message[PLAN_MAX_BYTES];
static struct plan plan;

static int parse_fd(const char *text)
{
	long value = 0;
	if (*text == 0)
		return -1;
	for (; *text; text++) {
		if (*text < '0' || *text > '9' || value > 65536)
			return -1;
		value = value * 10 + (*text - '0');
	}
	return (int)value;
}

/*
 * A container starts with every signal at its default and none blocked.
 * Exec resets caught signals only; ignored ones (Deno ignores SIGPIPE) and
 * the mask would otherwise pass through to the container.
 */
static void reset_signals(void)
{
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	struct sigaction defaults = {.sa_handler = SIG_DFL};
	for (int sig = 1; sig < _NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			sigaction(sig, &defaults, NULL); /* the C library's own signals refuse: fine */
}

/* Only stdio, the extra files and the sync range survive; the sync range never reaches the container. */
static void tidy_fds(int fd_limit)
{
	if (syscall(SYS_close_range, fd_limit, ~0U, 0) < 0)
		bail(-1, errno, 0);
	if (syscall(SYS_close_range, sync_fd, fd_limit - 1, CLOSE_RANGE_CLOEXEC) < 0)
		bail(-1, errno, 0);
}

/* Opened above fd_limit (the lowest free number after tidy_fds), close-on-exec. */
static void open_parent_stat(void)
{
	char path[48] = "/proc/";
	char digits[12];
	int n = 0;
	unsigned value = (unsigned)getppid();
	do {
		digits[n++] = (char)('0' + value % 10);
		value /= 10;
	} while (value > 0);
	size_t at = 6;
	while (n > 0)
		path[at++] = digits[--n];
	memcpy(path + at, "/stat", 6);
	parent_stat_fd = (int)RETRY(open(path, O_RDONLY | O_CLOEXEC));
}

static uint32_t receive_plan(void)
{
	struct iovec iov = {.iov_base = message, .iov_len = sizeof message};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
	long n = RETRY(recvmsg(sync_fd, &msg, 0));
	if (n == 0)
		_exit(0); /* the parent gave up before sending */
	if (n < 0)
		bail(-1, errno, 0);
	if (msg.msg_flags & MSG_TRUNC)
		bail(-1, EMSGSIZE, 0);
	return (uint32_t)n;
}

/*
 * The cgroup v2 directory of the CLONE op is opened before any op runs,
 * while the helper still sees the host's mount namespace.
 */
static int open_clone_cgroup(const struct plan *p)
{
	for (uint32_t i = 0; i < p->op_count; i++) {
		if (p->ops[i].code != OP_CLONE || plan_str(p, i, 0)[0] == 0)
			continue;
		int fd = (int)RETRY(open(plan_str(p, i, 0), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
		if (fd < 0)
			bail((int)i, errno, 0);
		return fd;
	}
	return -1;
}

/*
 * Clones the init (clone3, so that it can be born inside its cgroup v2
 * directory: no migration, no global cgroup lock). Returns as fork does.
 */
static long clone_init(const struct plan *p, uint32_t i, int cgroup_fd)
{
	struct nsinit_clone_args args = {.flags = (uint64_t)p->ops[i].num[0]};
	/* With CLONE_PARENT the exit signal is the parent's own and must be left 0. */
	if (!(args.flags & CLONE_PARENT))
		args.exit_signal = SIGCHLD;
	if (cgroup_fd >= 0) {
		args.flags |= CLONE_INTO_CGROUP;
		args.cgroup = (uint64_t)cgroup_fd;
	}
	long pid = syscall(SYS_clone3, &args, sizeof args);
	if (pid == 0 && cgroup_fd >= 0)
		close(cgroup_fd);
	return pid;
}

int main(int argc, char **argv)
{
	if (argc != 3)
		return 254;
	sync_fd = parse_fd(argv[1]);
	int fd_limit = parse_fd(argv[2]);
	if (sync_fd < 3 || fd_limit <= sync_fd)
		return 254;
	tidy_fds(fd_limit);
	open_parent_stat();
	reset_signals();
	/* Non-dumpable before joining anything: a container must not ptrace us or open our exe. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		bail(-1, errno, 0);
	prctl(PR_SET_NAME, (unsigned long)"nsinit:[0:HELP]", 0, 0, 0);

	uint32_t size = receive_plan();
	int bad_op;
	if (plan_decode(&plan, message, size, fd_limit, &bad_op) < 0)
		bail(bad_op, EINVAL, 0);

	int cgroup_fd = open_clone_cgroup(&plan);
	for (uint32_t i = 0; i < plan.op_count; i++) {
		if (plan.ops[i].code != OP_CLONE) {
			if (run_fs_op(&plan, i) < 0)
				bail((int)i, errno, op_detail);
			continue;
		}
		long pid = clone_init(&plan, i, cgroup_fd);
		if (pid < 0)
			bail((int)i, errno, 0);
		if (pid > 0) {
			send_record(SYNC_PID, (int32_t)i, 0, (int32_t)pid);
			_exit(0);
		}
		prctl(PR_SET_NAME, (unsigned long)"nsinit:[1:INIT]", 0, 0, 0);
	}
	/* The plan always ends with OP_EXEC, which only returns on failure. */
	bail((int)plan.op_count - 1, ENOEXEC, 0);
}
