/*
 * Async-signal-safe helpers shared by the helper's stages: no malloc, no
 * stdio, no locks; every read and write is retried on EINTR.
 */
#ifndef NSINIT_UTIL_H
#define NSINIT_UTIL_H

#include <stddef.h>
#include <stdint.h>

#define RETRY(expr)                                           \
	({                                                    \
		long _rc;                                     \
		do                                            \
			_rc = (long)(expr);                   \
		while (_rc == -1 && errno == EINTR);          \
		_rc;                                          \
	})

/* The sync socket, set once at start. */
extern int sync_fd;

/*
 * /proc/<pid>/stat of the helper's parent (the Deno process, which the init
 * shares through CLONE_PARENT), opened at start: -1 when it could not be.
 */
extern int parent_stat_fd;

/* True when the parent has exited or is exiting (read from parent_stat_fd). */
int parent_exiting(void);

/* Sends one record; returns 0 or -1. */
int send_record(uint32_t type, int32_t op, int32_t err, int32_t arg);

/* Sends an error record for plan op `op` and exits; never returns. */
__attribute__((noreturn)) void bail(int op, int err, int arg);

/* Writes "/proc/self/fd/<fd>" into buf (at least 32 bytes). */
const char *fd_path(char *buf, int fd);

#endif
