#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sync.h"
#include "util.h"

int sync_fd = -1;
int parent_stat_fd = -1;

int send_record(uint32_t type, int32_t op, int32_t err, int32_t arg)
{
	struct sync_record record = {.type = type, .op = op, .err = err, .arg = arg};
	long n = RETRY(send(sync_fd, &record, sizeof record, MSG_NOSIGNAL));
	return n == (long)sizeof record ? 0 : -1;
}

void bail(int op, int err, int arg)
{
	send_record(SYNC_ERROR, op, err, arg);
	_exit(255);
}

const char *fd_path(char *buf, int fd)
{
	static const char prefix[] = "/proc/self/fd/";
	char digits[12];
	int n = 0;
	unsigned value = (unsigned)fd;
	do {
		digits[n++] = (char)('0' + value % 10);
		value /= 10;
	} while (value != 0);
	size_t at = 0;
	for (; prefix[at] != 0; at++)
		buf[at] = prefix[at];
	while (n > 0)
		buf[at++] = digits[--n];
	buf[at] = 0;
	return buf;
}

/* PF_EXITING in the flags field of /proc/<pid>/stat: set as soon as a task starts to exit. */
#define NSINIT_PF_EXITING 0x4

int parent_exiting(void)
{
	char buf[512];
	if (parent_stat_fd < 0)
		return 0;
	long n = RETRY(pread(parent_stat_fd, buf, sizeof buf - 1, 0));
	if (n <= 0)
		return 1; /* the task is gone */
	buf[n] = 0;
	/* After the last ')': state ppid pgrp session tty_nr tpgid flags */
	char *p = NULL;
	for (char *c = buf; *c; c++)
		if (*c == ')')
			p = c;
	if (p == NULL || p[1] != ' ')
		return 0;
	p += 2;
	char state = *p;
	if (state == 'Z' || state == 'X' || state == 'x')
		return 1;
	for (int field = 0; field < 6 && *p; p++)
		if (*p == ' ')
			field++;
	unsigned long flags = 0;
	for (; *p >= '0' && *p <= '9'; p++)
		flags = flags * 10 + (unsigned long)(*p - '0');
	return (flags & NSINIT_PF_EXITING) != 0;
}
