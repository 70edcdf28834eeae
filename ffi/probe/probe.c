/*
 * probe: a tiny static program run inside containers by the integration
 * tests and the demo. It reports what it sees (ids, namespaces, caps, fds,
 * cwd, hostname, ...) as one line of JSON, and offers a few small actions
 * (exit, sleep, trap signals, read and write files) so a test can drive a
 * container without a shell in its rootfs.
 *
 * It needs only libc and never /proc for its basic report: whatever it
 * cannot learn is reported as null. Output goes through one static buffer
 * written with write(2); nothing is allocated.
 *
 * Conventions: a permission mode or umask is printed as its octal digits
 * read as a decimal integer (0755 -> 755); errno values in JSON are names
 * ("ENOENT"). Exit status: 0 success, 1 failure, 2 bad usage.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#ifndef PR_GET_NO_NEW_PRIVS
#define PR_GET_NO_NEW_PRIVS 39
#endif

#define USAGE                                                          \
	"usage: probe [report]          one line of JSON about this process\n" \
	"       probe env               environment, one string a line\n" \
	"       probe exit N            exit with status N\n"             \
	"       probe sleep SECONDS     sleep (fractions allowed; 0 = forever)\n" \
	"       probe signal SIG        kill itself with signal number SIG\n" \
	"       probe cat FILE          copy FILE (- for stdin) to stdout\n" \
	"       probe write FILE TEXT   write TEXT to FILE (created, truncated)\n" \
	"       probe fdwrite FD TEXT   write TEXT to the open fd FD\n"   \
	"       probe stat PATH         lstat as JSON\n"                  \
	"       probe ls DIR            sorted names as a JSON array\n"   \
	"       probe mounts            /proc/self/mountinfo verbatim\n"  \
	"       probe sysctl KEY        /proc/sys/KEY (dots as slashes), trimmed\n" \
	"       probe trap SIG...       print `signal N` per signal; SIGTERM ends\n" \
	"       probe winsize           `rows cols` of the terminal on fd 0\n" \
	"       probe spin              busy loop forever\n"

extern char **environ;

/* ---- output ------------------------------------------------------------ */

static char out_buf[16384];
static size_t out_len;
static int out_failed;
static int out_fresh; /* nothing yet in the innermost object */

static int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static void out_flush(void)
{
	if (out_len > 0 && write_all(1, out_buf, out_len) < 0)
		out_failed = 1;
	out_len = 0;
}

static void out_bytes(const char *data, size_t len)
{
	if (len > sizeof out_buf - out_len)
		out_flush();
	if (len > sizeof out_buf) {
		if (write_all(1, data, len) < 0)
			out_failed = 1;
		return;
	}
	memcpy(out_buf + out_len, data, len);
	out_len += len;
}

static void out(const char *text)
{
	out_bytes(text, strlen(text));
}

static void out_int(long long value)
{
	char text[24];
	out_bytes(text, (size_t)snprintf(text, sizeof text, "%lld", value));
}

static void out_octal(unsigned value)
{
	char text[16];
	out_bytes(text, (size_t)snprintf(text, sizeof text, "%o", value));
}

/* Length of a valid UTF-8 sequence at s (of at most n bytes), or 0. */
static size_t utf8_length(const unsigned char *s, size_t n)
{
	size_t len;
	unsigned char lo = 0x80, hi = 0xbf;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4;
	else
		return 0;
	if (s[0] == 0xe0)
		lo = 0xa0; /* overlong */
	else if (s[0] == 0xed)
		hi = 0x9f; /* surrogates */
	else if (s[0] == 0xf0)
		lo = 0x90; /* overlong */
	else if (s[0] == 0xf4)
		hi = 0x8f; /* above U+10FFFF */
	if (len > n || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

/*
 * A JSON string. Control characters are escaped; a byte that is not part of
 * valid UTF-8 (a file name can hold any byte) becomes \u00XX so the output
 * always parses.
 */
static void out_string(const char *text)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t n = strlen(text);
	out_bytes("\"", 1);
	for (size_t i = 0; i < n;) {
		size_t run = 0;
		char esc[8];
		if (s[i] >= 0x80)
			run = utf8_length(s + i, n - i);
		else if (s[i] >= 0x20 && s[i] != '"' && s[i] != '\\')
			run = 1;
		if (run > 0) {
			out_bytes((const char *)s + i, run);
			i += run;
			continue;
		}
		switch (s[i]) {
		case '"': out_bytes("\\\"", 2); break;
		case '\\': out_bytes("\\\\", 2); break;
		case '\n': out_bytes("\\n", 2); break;
		case '\t': out_bytes("\\t", 2); break;
		case '\r': out_bytes("\\r", 2); break;
		default:
			snprintf(esc, sizeof esc, "\\u%04x", s[i]);
			out_bytes(esc, 6);
		}
		i++;
	}
	out_bytes("\"", 1);
}

static void out_begin(void)
{
	out_bytes("{", 1);
	out_fresh = 1;
}

static void out_end(void)
{
	out_bytes("}", 1);
	out_fresh = 0;
}

static void out_key(const char *key)
{
	if (!out_fresh)
		out_bytes(",", 1);
	out_fresh = 0;
	out_string(key);
	out_bytes(":", 1);
}

static void out_key_int(const char *key, long long value)
{
	out_key(key);
	out_int(value);
}

static void out_bool(int value)
{
	out(value ? "true" : "false");
}

/*
 * Prints `error: <what>: <strerror>` on stderr (without the strerror when
 * err is 0, without `<what>: ` when what is empty); returns 1, the status.
 */
static int fail(const char *what, int err)
{
	char line[512];
	int n = snprintf(line, sizeof line, "error: %s%s%s\n", what,
			 *what && err ? ": " : "", err ? strerror(err) : "");
	if (n > (int)sizeof line - 1)
		n = sizeof line - 1;
	write_all(2, line, (size_t)n);
	return 1;
}

static int usage(void)
{
	write_all(2, USAGE, sizeof USAGE - 1);
	return 2;
}

/* ---- small helpers ----------------------------------------------------- */

static const struct {
	int value;
	const char *name;
} errno_names[] = {
#define E(x) {x, #x}
	E(EPERM),   E(ENOENT),  E(ESRCH),        E(EINTR),     E(EIO),
	E(ENXIO),   E(E2BIG),   E(EBADF),        E(ECHILD),    E(EAGAIN),
	E(ENOMEM),  E(EACCES),  E(EFAULT),       E(EBUSY),     E(EEXIST),
	E(EXDEV),   E(ENODEV),  E(ENOTDIR),      E(EISDIR),    E(EINVAL),
	E(ENFILE),  E(EMFILE),  E(ENOTTY),       E(ETXTBSY),   E(EFBIG),
	E(ENOSPC),  E(ESPIPE),  E(EROFS),        E(EMLINK),    E(EPIPE),
	E(ERANGE),  E(ELOOP),   E(ENAMETOOLONG), E(ENOSYS),    E(ENOTEMPTY),
	E(ENODATA), E(EOVERFLOW), E(ENOTSUP),    E(ESTALE),    E(EDQUOT),
#undef E
};

static void out_errno_name(int err)
{
	char text[24];
	for (size_t i = 0; i < sizeof errno_names / sizeof errno_names[0]; i++) {
		if (errno_names[i].value == err) {
			out_string(errno_names[i].name);
			return;
		}
	}
	snprintf(text, sizeof text, "errno %d", err);
	out_string(text);
}

/* Parses a whole decimal integer in [min, max]; returns 0 or -1. */
static int parse_int(const char *text, long min, long max, long *value)
{
	char *end;
	errno = 0;
	*value = strtol(text, &end, 10);
	if (errno != 0 || end == text || *end != 0 || *value < min || *value > max)
		return -1;
	return 0;
}

/* Reads a whole (small) file into buf, NUL-terminated; returns length or -1. */
static ssize_t read_file(const char *path, char *buf, size_t size)
{
	size_t len = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	while (len < size - 1) {
		ssize_t n = read(fd, buf + len, size - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int err = errno;
			close(fd);
			errno = err;
			return -1;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = 0;
	return (ssize_t)len;
}

/* Copies fd to stdout; returns 0 or an errno. */
static int copy_fd(int fd)
{
	static char buf[65536];
	for (;;) {
		ssize_t n = read(fd, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno;
		if (n == 0)
			return 0;
		if (write_all(1, buf, (size_t)n) < 0)
			return errno;
	}
}

struct linux_dirent64 {
	uint64_t d_ino;
	int64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

/*
 * Calls each(name, ctx) for every entry of the open directory fd except
 * "." and "..". getdents64 directly, so nothing is allocated. Returns 0 or
 * an errno (or what `each` returned, when not 0).
 */
static int list_dir(int fd, int (*each)(const char *name, void *ctx), void *ctx)
{
	static _Alignas(8) char buf[8192];
	for (;;) {
		long n = syscall(SYS_getdents64, fd, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno;
		if (n == 0)
			return 0;
		for (long at = 0; at < n;) {
			struct linux_dirent64 *d = (void *)(buf + at);
			const char *name = d->d_name;
			at += d->d_reclen;
			if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
				continue;
			int rc = each(name, ctx);
			if (rc != 0)
				return rc;
		}
	}
}

/* ---- report ------------------------------------------------------------ */

static void report_ns(void)
{
	static const char *const names[] = {"mnt", "uts", "ipc", "pid", "net",
					    "user", "cgroup"};
	out_key("ns");
	out_begin();
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		char path[64], link[64];
		unsigned long long inode;
		char close_bracket;
		snprintf(path, sizeof path, "/proc/self/ns/%s", names[i]);
		ssize_t n = readlink(path, link, sizeof link - 1);
		out_key(names[i]);
		if (n > 0) {
			link[n] = 0;
			const char *open = strchr(link, '[');
			if (open && sscanf(open, "[%llu%c", &inode, &close_bracket) == 2 &&
			    close_bracket == ']') {
				out_int((long long)inode);
				continue;
			}
		}
		out("null");
	}
	out_end();
}

/* The value of "Name:\t..." in a /proc status text, copied into value. */
static int status_field(const char *status, const char *name, char *value, size_t size)
{
	size_t name_len = strlen(name);
	for (const char *line = status; *line;) {
		const char *end = strchr(line, '\n');
		if (!end)
			end = line + strlen(line);
		if (strncmp(line, name, name_len) == 0 && line[name_len] == ':') {
			const char *v = line + name_len + 1;
			while (v < end && (*v == ' ' || *v == '\t'))
				v++;
			size_t len = (size_t)(end - v);
			if (len >= size)
				return -1;
			memcpy(value, v, len);
			value[len] = 0;
			return 0;
		}
		line = *end ? end + 1 : end;
	}
	return -1;
}

static void report_status(void)
{
	static const char *const caps[][2] = {
		{"inh", "CapInh"}, {"prm", "CapPrm"}, {"eff", "CapEff"},
		{"bnd", "CapBnd"}, {"amb", "CapAmb"},
	};
	static char status[16384];
	char value[64];
	long seccomp;
	int have = read_file("/proc/self/status", status, sizeof status) >= 0;

	out_key("caps");
	if (have) {
		out_begin();
		for (size_t i = 0; i < sizeof caps / sizeof caps[0]; i++) {
			out_key(caps[i][0]);
			if (status_field(status, caps[i][1], value, sizeof value) == 0)
				out_string(value);
			else
				out("null");
		}
		out_end();
	} else {
		out("null");
	}
	out_key("no_new_privs");
	int nnp = prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0);
	if (nnp < 0)
		out("null");
	else
		out_bool(nnp);
	out_key("seccomp");
	if (have && status_field(status, "Seccomp", value, sizeof value) == 0 &&
	    parse_int(value, 0, 1000, &seccomp) == 0)
		out_int(seccomp);
	else
		out("null");
}

struct fd_list {
	int self;
	size_t count;
	int fds[65536];
};

static int collect_fd(const char *name, void *ctx)
{
	struct fd_list *list = ctx;
	long fd;
	if (parse_int(name, 0, INT32_MAX, &fd) < 0 || fd == list->self)
		return 0;
	if (list->count == sizeof list->fds / sizeof list->fds[0])
		return ENOMEM;
	list->fds[list->count++] = (int)fd;
	return 0;
}

/* Open fds from /proc/self/fd, or by asking fcntl about 0..1023. */
static void report_fds(void)
{
	static struct fd_list list;
	int rc = -1;
	list.self = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (list.self >= 0) {
		rc = list_dir(list.self, collect_fd, &list);
		close(list.self);
	}
	if (rc != 0) {
		list.count = 0;
		for (int fd = 0; fd < 1024; fd++)
			if (fcntl(fd, F_GETFD) >= 0)
				list.fds[list.count++] = fd;
	}
	out_key("fds");
	out("[");
	for (size_t i = 0; i < list.count; i++) {
		if (i > 0)
			out(",");
		out_int(list.fds[i]);
	}
	out("]");
}

static int cmd_report(void)
{
	static gid_t groups[65536];
	struct utsname uts;
	struct rlimit rl;
	struct statvfs vfs;
	char cwd[4096], tty[256];
	int ngroups, env_count = 0;
	mode_t mask = umask(0);

	umask(mask);
	out_begin();
	out_key_int("pid", getpid());
	out_key_int("ppid", getppid());
	out_key_int("uid", getuid());
	out_key_int("euid", geteuid());
	out_key_int("gid", getgid());
	out_key_int("egid", getegid());
	out_key("groups");
	out("[");
	ngroups = getgroups(sizeof groups / sizeof groups[0], groups);
	for (int i = 0; i < ngroups; i++) {
		if (i > 0)
			out(",");
		out_int(groups[i]);
	}
	out("]");
	out_key("hostname");
	if (uname(&uts) == 0)
		out_string(uts.nodename);
	else
		out("null");
	out_key("cwd");
	if (getcwd(cwd, sizeof cwd))
		out_string(cwd);
	else
		out("null");
	out_key("umask");
	out_octal(mask);
	report_ns();
	report_status();
	out_key("dumpable");
	int dumpable = prctl(PR_GET_DUMPABLE, 0, 0, 0, 0);
	if (dumpable < 0)
		out("null");
	else
		out_int(dumpable);
	report_fds();
	out_key("rlimit_nofile");
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		out("[");
		out_int(rl.rlim_cur == RLIM_INFINITY ? -1 : (long long)rl.rlim_cur);
		out(",");
		out_int(rl.rlim_max == RLIM_INFINITY ? -1 : (long long)rl.rlim_max);
		out("]");
	} else {
		out("null");
	}
	for (char **e = environ; e && *e; e++)
		env_count++;
	out_key_int("env_count", env_count);
	out_key("isatty");
	out("[");
	for (int fd = 0; fd < 3; fd++) {
		if (fd > 0)
			out(",");
		out_bool(isatty(fd));
	}
	out("]");
	out_key("tty");
	if (ttyname_r(0, tty, sizeof tty) == 0)
		out_string(tty);
	else
		out("null");
	out_key_int("sid", getsid(0));
	out_key_int("pgid", getpgrp());
	out_key("root_is_readonly");
	if (statvfs("/", &vfs) == 0)
		out_bool((vfs.f_flag & ST_RDONLY) != 0);
	else
		out("null");
	out_end();
	out("\n");
	return 0;
}

/* ---- other subcommands ------------------------------------------------- */

static int cmd_env(void)
{
	for (char **e = environ; e && *e; e++) {
		out(*e);
		out("\n");
	}
	return 0;
}

/* Parses "S", "S.F" or ".F" seconds; returns 0 or -1. */
static int parse_seconds(const char *text, struct timespec *ts)
{
	long long sec = 0, nsec = 0, scale = 100000000;
	int digits = 0;
	const char *p = text;
	for (; *p >= '0' && *p <= '9'; p++, digits++) {
		sec = sec * 10 + (*p - '0');
		if (sec > 1000000000)
			return -1;
	}
	if (*p == '.') {
		for (p++; *p >= '0' && *p <= '9'; p++, digits++) {
			nsec += (*p - '0') * scale;
			scale /= 10;
		}
	}
	if (*p != 0 || digits == 0)
		return -1;
	ts->tv_sec = (time_t)sec;
	ts->tv_nsec = (long)nsec;
	return 0;
}

static int cmd_sleep(const char *arg)
{
	struct timespec left;
	if (parse_seconds(arg, &left) < 0)
		return usage();
	if (left.tv_sec == 0 && left.tv_nsec == 0)
		for (;;)
			pause();
	while (nanosleep(&left, &left) < 0)
		if (errno != EINTR)
			return fail("nanosleep", errno);
	return 0;
}

/*
 * The signal is sent with its default action and unblocked, whatever was
 * inherited. The init of a pid namespace ignores signals it sends itself,
 * so there (and for signals whose default is to ignore) this returns.
 */
static int cmd_signal(const char *arg)
{
	long sig;
	sigset_t set;
	char what[96];
	if (parse_int(arg, 1, _NSIG - 1, &sig) < 0)
		return usage();
	signal((int)sig, SIG_DFL);
	sigemptyset(&set);
	sigaddset(&set, (int)sig);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	if (kill(getpid(), (int)sig) < 0)
		return fail("kill", errno);
	snprintf(what, sizeof what, "signal %ld did not end pid %d", sig, (int)getpid());
	return fail(what, 0);
}

static int cmd_cat(const char *path)
{
	int fd = strcmp(path, "-") == 0 ? 0 : open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return fail(path, errno);
	int err = copy_fd(fd);
	if (fd != 0)
		close(fd);
	return err ? fail(path, err) : 0;
}

static int cmd_write(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return fail("", errno);
	if (write_all(fd, text, strlen(text)) < 0) {
		int err = errno;
		close(fd);
		return fail("", err);
	}
	if (close(fd) < 0 && errno != EINTR)
		return fail("", errno);
	return 0;
}

static int cmd_fdwrite(const char *arg, const char *text)
{
	long fd;
	if (parse_int(arg, 0, INT32_MAX, &fd) < 0)
		return usage();
	if (write_all((int)fd, text, strlen(text)) < 0)
		return fail("", errno);
	return 0;
}

static int out_error(int err)
{
	out_begin();
	out_key("error");
	out_errno_name(err);
	out_end();
	out("\n");
	return 1;
}

static int cmd_stat(const char *path)
{
	struct stat st;
	const char *type = "unknown";
	if (lstat(path, &st) < 0)
		return out_error(errno);
	switch (st.st_mode & S_IFMT) {
	case S_IFREG: type = "file"; break;
	case S_IFDIR: type = "dir"; break;
	case S_IFLNK: type = "symlink"; break;
	case S_IFCHR: type = "char"; break;
	case S_IFBLK: type = "block"; break;
	case S_IFIFO: type = "fifo"; break;
	case S_IFSOCK: type = "socket"; break;
	}
	out_begin();
	out_key("type");
	out_string(type);
	out_key("mode");
	out_octal(st.st_mode & 07777);
	out_key_int("uid", st.st_uid);
	out_key_int("gid", st.st_gid);
	out_key_int("major", major(st.st_rdev));
	out_key_int("minor", minor(st.st_rdev));
	out_key_int("size", st.st_size);
	out_end();
	out("\n");
	return 0;
}

static char name_pool[1 << 20];
static char *names[1 << 15];

struct name_list {
	size_t count;
	size_t used;
};

static int collect_name(const char *name, void *ctx)
{
	struct name_list *list = ctx;
	size_t len = strlen(name) + 1;
	if (list->count == sizeof names / sizeof names[0] ||
	    len > sizeof name_pool - list->used)
		return ENOMEM;
	names[list->count] = memcpy(name_pool + list->used, name, len);
	list->count++;
	list->used += len;
	return 0;
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmd_ls(const char *path)
{
	struct name_list list = {0, 0};
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return out_error(errno);
	int err = list_dir(fd, collect_name, &list);
	close(fd);
	if (err)
		return out_error(err);
	qsort(names, list.count, sizeof names[0], compare_names);
	out("[");
	for (size_t i = 0; i < list.count; i++) {
		if (i > 0)
			out(",");
		out_string(names[i]);
	}
	out("]\n");
	return 0;
}

static int cmd_sysctl(const char *key)
{
	static char value[65536];
	char path[512];
	/* A key with a slash is a path already (interface names hold dots). */
	int dots = strchr(key, '/') == NULL;
	size_t at = snprintf(path, sizeof path, "/proc/sys/");
	for (; *key && at < sizeof path - 1; key++)
		path[at++] = dots && *key == '.' ? '/' : *key;
	path[at] = 0;
	if (*key)
		return usage();
	ssize_t len = read_file(path, value, sizeof value);
	if (len < 0)
		return fail(path, errno);
	char *start = value, *end = value + len;
	while (start < end && (*start == ' ' || *start == '\t' || *start == '\n'))
		start++;
	while (end > start && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\n'))
		end--;
	out_bytes(start, (size_t)(end - start));
	out("\n");
	return 0;
}

/*
 * Handlers only count. Every trapped signal stays blocked except inside
 * sigsuspend, and each handler blocks the others, so the main loop can read
 * and reset the counters without racing a handler.
 */
static volatile sig_atomic_t received[_NSIG];

static void on_signal(int sig)
{
	received[sig]++;
}

static int cmd_trap(int argc, char **argv)
{
	struct sigaction sa;
	sigset_t trapped, wait_mask;
	int trap_term = 0;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&trapped);
	for (int i = 0; i < argc; i++) {
		long sig;
		if (parse_int(argv[i], 1, _NSIG - 1, &sig) < 0)
			return usage();
		/* libc refuses its own internal signals (32-34 in musl). */
		if (sigaddset(&trapped, (int)sig) < 0 || sig == SIGKILL || sig == SIGSTOP) {
			char what[64];
			snprintf(what, sizeof what, "signal %ld cannot be trapped", sig);
			fail(what, 0);
			return 2;
		}
		trap_term |= sig == SIGTERM;
	}
	sa.sa_mask = trapped;
	sigprocmask(SIG_BLOCK, &trapped, &wait_mask);
	for (int sig = 1; sig < _NSIG; sig++) {
		if (sigismember(&trapped, sig) != 1)
			continue;
		if (sigaction(sig, &sa, NULL) < 0)
			return fail("sigaction", errno);
		sigdelset(&wait_mask, sig);
	}
	if (write_all(1, "ready\n", 6) < 0)
		return 1;
	for (;;) {
		sigsuspend(&wait_mask);
		for (int sig = 1; sig < _NSIG; sig++) {
			for (; received[sig] > 0; received[sig]--) {
				char line[24];
				int n = snprintf(line, sizeof line, "signal %d\n", sig);
				if (write_all(1, line, (size_t)n) < 0)
					return 1;
				if (sig == SIGTERM && trap_term)
					return 0;
			}
		}
	}
}

static int cmd_winsize(void)
{
	struct winsize ws;
	if (ioctl(0, TIOCGWINSZ, &ws) < 0)
		return fail("TIOCGWINSZ on fd 0", errno);
	out_int(ws.ws_row);
	out(" ");
	out_int(ws.ws_col);
	out("\n");
	return 0;
}

__attribute__((noreturn)) static void cmd_spin(void)
{
	volatile unsigned long turns = 0;
	for (;;)
		turns++;
}

/* ---- main -------------------------------------------------------------- */

static int run(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "report";
	int n = argc > 1 ? argc - 2 : 0; /* arguments after the subcommand */

	if (strcmp(cmd, "report") == 0 && n == 0)
		return cmd_report();
	if (strcmp(cmd, "env") == 0 && n == 0)
		return cmd_env();
	if (strcmp(cmd, "exit") == 0 && n == 1) {
		long status;
		if (parse_int(argv[2], 0, 255, &status) < 0)
			return usage();
		return (int)status;
	}
	if (strcmp(cmd, "sleep") == 0 && n == 1)
		return cmd_sleep(argv[2]);
	if (strcmp(cmd, "signal") == 0 && n == 1)
		return cmd_signal(argv[2]);
	if (strcmp(cmd, "cat") == 0 && n == 1)
		return cmd_cat(argv[2]);
	if (strcmp(cmd, "write") == 0 && n == 2)
		return cmd_write(argv[2], argv[3]);
	if (strcmp(cmd, "fdwrite") == 0 && n == 2)
		return cmd_fdwrite(argv[2], argv[3]);
	if (strcmp(cmd, "stat") == 0 && n == 1)
		return cmd_stat(argv[2]);
	if (strcmp(cmd, "ls") == 0 && n == 1)
		return cmd_ls(argv[2]);
	if (strcmp(cmd, "mounts") == 0 && n == 0)
		return cmd_cat("/proc/self/mountinfo");
	if (strcmp(cmd, "sysctl") == 0 && n == 1)
		return cmd_sysctl(argv[2]);
	if (strcmp(cmd, "trap") == 0 && n >= 1)
		return cmd_trap(n, argv + 2);
	if (strcmp(cmd, "winsize") == 0 && n == 0)
		return cmd_winsize();
	if (strcmp(cmd, "spin") == 0 && n == 0)
		cmd_spin();
	if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0) {
		out(USAGE);
		return 0;
	}
	return usage();
}

int main(int argc, char **argv)
{
	int status = run(argc, argv);
	out_flush();
	return status == 0 && out_failed ? 1 : status;
}
