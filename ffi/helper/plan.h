/*
 * The init plan: a flat list of operations the helper executes in order. It
 * is built by lib/plan (TypeScript), which holds every decision; the layout
 * below is mirrored in lib/plan/encode.ts and a unit test checks both agree.
 *
 * Ops run in order, except that the cgroup v2 directory named by CLONE is
 * opened before the first op, while the helper still sees the host's mounts.
 *
 * Message = header, op_count records, then a blob of strings.
 * Each string slot of a record is a (offset, length) reference into the
 * blob, checked before use:
 *   S  NUL-terminated string: blob[off + len] == 0, no NUL inside
 *   L  list of num[slot] NUL-terminated strings filling [off, off + len)
 *   U  array of num[slot] uint32 values, len == 4 * num[slot]
 *   F  seccomp program: num[slot] (1 to 4096) struct sock_filter records,
 *      len == 8 * num[slot], off 8-byte aligned
 *   N  unused: off == len == 0
 */
#ifndef NSINIT_PLAN_H
#define NSINIT_PLAN_H

#include <stdint.h>

#define PLAN_MAGIC 0x5049534eu /* "NSIP" */
#define PLAN_VERSION 1
#define PLAN_MAX_BYTES (1 << 20)
#define PLAN_MAX_OPS 4096
#define PLAN_MAX_POINTERS 65536
#define PLAN_HEADER_SIZE 16
#define PLAN_OP_SIZE 72

/* Op flags. */
#define PF_HOST_PATH 1    /* MOUNT: the target is a host path, not resolved in the rootfs;
			   * WRITE: the dir is a host path, written before the clone */
#define PF_NO_SYMLINKS 2  /* resolve without following any symlink (/proc, /sys) */
#define PF_RECURSIVE 4    /* BIND: recursive bind (MS_REC) */
#define PF_SRC_IN_ROOT 8  /* BIND: the source is resolved in the rootfs */
#define PF_PROCFS 16      /* WRITE: the file must be on procfs */
#define PF_NO_PIVOT 32    /* PIVOT: MS_MOVE and chroot instead of pivot_root */
#define PF_BIND_CONSOLE 64 /* CONSOLE: bind the pty over the console path */
#define PF_SELF 128       /* WRITE: the file is beneath <dir>/<pid>/, the pid read from <dir>/self */

#define PLAN_MAX_FILTER 4096 /* BPF_MAXINSNS */

/* X(name, code, slot0, slot1, slot2, slot3) */
#define PLAN_OPS(X)                        \
	X(SETNS, 1, N, N, N, N)            \
	X(CLONE, 2, S, N, N, N)            \
	X(UMASK, 3, N, N, N, N)            \
	X(MOUNT, 4, S, S, S, S)            \
	X(ROOTFS, 5, S, N, N, N)           \
	X(MKDIR, 6, S, N, N, N)            \
	X(MKFILE, 7, S, N, N, N)           \
	X(BIND, 8, S, S, N, N)             \
	X(MKNOD, 9, S, N, N, N)            \
	X(SYMLINK, 10, S, S, N, N)         \
	X(MASK, 11, S, S, N, N)            \
	X(READONLY, 12, S, N, N, N)        \
	X(WRITE, 13, S, S, S, N)           \
	X(PIVOT, 14, N, N, N, N)           \
	X(ROOT_READONLY, 15, N, N, N, N)   \
	X(HOSTNAME, 16, S, N, N, N)        \
	X(IFUP, 17, S, N, N, N)            \
	X(RLIMIT, 18, N, N, N, N)          \
	X(RUN, 19, L, L, L, S)             \
	X(CONSOLE, 20, S, S, N, N)         \
	X(SYNC, 21, N, N, N, N)            \
	X(BOUNDING, 22, N, N, N, N)        \
	X(IDENTITY, 23, N, N, U, N)        \
	X(CAPS, 24, N, N, N, N)            \
	X(PDEATHSIG, 25, N, N, N, N)       \
	X(CHDIR, 26, S, N, N, N)           \
	X(EXEC, 27, L, L, L, N)            \
	X(CGROUP_ENTER, 28, S, S, N, N)    \
	X(SECCOMP, 29, F, N, N, N)         \
	X(NO_NEW_PRIVS, 30, N, N, N, N)        \
	X(DUMPABLE, 33, N, N, N, N)        \
	X(SETID, 34, N, N, N, N)

#define PLAN_OP_ENUM(name, code, a, b, c, d) OP_##name = code,
enum plan_op_code { PLAN_OPS(PLAN_OP_ENUM) OP_MAX };

struct plan_header {
	uint32_t magic;
	uint32_t version;
	uint32_t op_count;
	uint32_t blob_len;
};

struct plan_ref {
	uint32_t off;
	uint32_t len;
};

struct plan_op {
	uint32_t code;
	uint32_t flags;
	int64_t num[4];
	struct plan_ref str[4];
};

_Static_assert(sizeof(struct plan_header) == PLAN_HEADER_SIZE, "header layout");
_Static_assert(sizeof(struct plan_op) == PLAN_OP_SIZE, "op layout");

/* A decoded plan: records point into the received message. */
struct plan {
	const struct plan_op *ops;
	uint32_t op_count;
	const char *blob;
	uint32_t blob_len;
	/* For list slots: index of the NULL-terminated pointer array in plan_pointers. */
	uint32_t list_at[PLAN_MAX_OPS][4];
};

/* Checks every record and builds the pointer arrays; on failure returns -1
 * and stores the index of the bad op (or -1 for the header) in *bad_op. */
int plan_decode(struct plan *plan, const void *message, uint32_t size, int fd_limit, int *bad_op);

/* The string in slot `slot` of op `index`. */
const char *plan_str(const struct plan *plan, uint32_t index, int slot);

/* The NULL-terminated array for list slot `slot` of op `index`. */
char *const *plan_list(const struct plan *plan, uint32_t index, int slot);

#endif
