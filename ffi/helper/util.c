#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sync.h"
#include "util.h"

int sync_fd = -1;

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
