/*
 * Sync protocol between the Deno parent and the helper; the TypeScript side
 * is lib/process/sync.ts and a unit test checks that both agree.
 *
 *   Deno                          helper (H)                 init (C)
 *   ---- plan (one message) ---->
 *   <--- SYNC_READY {arg=tag} ---  (OP_SYNC before the clone: cgroups, user namespaces)
 *   ---- SYNC_GO {arg=tag} ----->
 *                                 setns, clone(CLONE_PARENT)
 *   <--- SYNC_PID {arg=pid} -----
 *                                 _exit(0)
 *                                                            setup ops
 *   <--- SYNC_CONSOLE {fd via SCM_RIGHTS} -------------------  (terminal only)
 *   <--- SYNC_READY {arg=tag} -------------------------------  (OP_SYNC only;
 *        Deno writes /proc/<pid>/uid_map and gid_map at tag 2)
 *   ---- SYNC_GO {arg=tag} --------------------------------->
 *   <--- EOF: execve succeeded (the socket is close-on-exec) -
 *   <--- SYNC_ERROR {op, err, arg} from H or C at any point, then _exit
 *
 * Records are fixed-size, over a SOCK_SEQPACKET socketpair; a receive names
 * the record it expects and fails on anything else.
 */
#ifndef NSINIT_SYNC_H
#define NSINIT_SYNC_H

#include <stdint.h>

#define SYNC_PID 1
#define SYNC_ERROR 2
#define SYNC_CONSOLE 3
#define SYNC_READY 4
#define SYNC_GO 5

#define SYNC_RECORD_SIZE 16

struct sync_record {
	uint32_t type;
	int32_t op;  /* index of the plan op that failed, or -1 */
	int32_t err; /* errno of the failure */
	int32_t arg; /* pid, tag, or detail such as an exit status */
};

#endif
