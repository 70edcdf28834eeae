/*
 * The operations of the init plan. Each returns 0, or -1 with errno set (and
 * op_detail set when errno alone cannot say what went wrong); main.c turns a
 * failure into an error record naming the op's index.
 */
#ifndef NSINIT_OPS_H
#define NSINIT_OPS_H

#include "plan.h"

/* Extra detail for a failure: a wait status, or a DETAIL_* code. */
extern int op_detail;

#define DETAIL_NOT_NULL_DEVICE 1 /* MASK: the mask source is not the real /dev/null */
#define DETAIL_NOT_PROCFS 2      /* WRITE: the directory is not on procfs */
#define DETAIL_NOT_DEVPTS 3      /* CONSOLE: the ptmx is not on devpts */
#define DETAIL_UNREACHABLE_CWD 4 /* CHDIR: the cwd lies outside the root */

/* Opens the pty master at `ptmx` (in the root) and binds a pty over `console`. */
int open_console_master(const char *ptmx);
int bind_console(int slave, const char *console);

int run_fs_op(const struct plan *plan, uint32_t index);
int run_proc_op(const struct plan *plan, uint32_t index);

#endif
