/**
 * Kernel ABI constants the TypeScript side needs, with kernel names. Values
 * that differ between x86_64 and aarch64 are chosen by `Deno.build.arch`.
 *
 * @module
 */

const isArm = Deno.build.arch === "aarch64";

/** open(2) flags. */
export const O = {
  RDONLY: 0,
  WRONLY: 1,
  RDWR: 2,
  CREAT: 0o100,
  EXCL: 0o200,
  NOCTTY: 0o400,
  TRUNC: 0o1000,
  APPEND: 0o2000,
  NONBLOCK: 0o4000,
  DIRECTORY: isArm ? 0o40000 : 0o200000,
  NOFOLLOW: isArm ? 0o100000 : 0o400000,
  CLOEXEC: 0o2000000,
  PATH: 0o10000000,
} as const;

/** Directory file descriptor meaning "the current directory". */
export const AT_FDCWD = -100;
/** *at(2) flags. */
export const AT = { SYMLINK_NOFOLLOW: 0x100, EMPTY_PATH: 0x1000 } as const;

/** fcntl(2) commands and flags. */
export const F = {
  GETFD: 1,
  SETFD: 2,
  GETFL: 3,
  SETFL: 4,
  DUPFD_CLOEXEC: 1030,
  ADD_SEALS: 1033,
  GET_SEALS: 1034,
  FD_CLOEXEC: 1,
  SEAL_SEAL: 1,
  SEAL_SHRINK: 2,
  SEAL_GROW: 4,
  SEAL_WRITE: 8,
  SEAL_EXEC: 0x20,
} as const;

/** memfd_create(2) flags. */
export const MFD = { CLOEXEC: 1, ALLOW_SEALING: 2, EXEC: 0x10 } as const;

/** File type bits of st_mode. */
export const S = {
  IFMT: 0o170000,
  IFSOCK: 0o140000,
  IFLNK: 0o120000,
  IFREG: 0o100000,
  IFBLK: 0o060000,
  IFDIR: 0o040000,
  IFCHR: 0o020000,
  IFIFO: 0o010000,
} as const;

/** Socket constants. */
export const AF_UNIX = 1;
export const SOCK = { STREAM: 1, DGRAM: 2, SEQPACKET: 5, CLOEXEC: 0o2000000, NONBLOCK: 0o4000 };
export const SOL_SOCKET = 1;
export const SO_SNDBUF = 7;
export const SO_SNDBUFFORCE = 32;
export const SCM_RIGHTS = 1;
export const MSG = {
  DONTWAIT: 0x40,
  TRUNC: 0x20,
  CTRUNC: 0x8,
  CMSG_CLOEXEC: 0x40000000,
  NOSIGNAL: 0x4000,
};

/** poll(2) events. */
export const POLL = { IN: 1, PRI: 2, OUT: 4, ERR: 8, HUP: 16, NVAL: 32 } as const;

/** waitid(2) id types, options and si_code values. */
export const P_PID = 1;
export const P_PIDFD = 3;
export const W = { NOHANG: 1, EXITED: 4, NOWAIT: 0x01000000 } as const;
export const CLD = { EXITED: 1, KILLED: 2, DUMPED: 3, TRAPPED: 4, STOPPED: 5, CONTINUED: 6 };

/** Terminal ioctls. */
export const TIOCGWINSZ = 0x5413;
export const TIOCSWINSZ = 0x5414;

/** flock(2) operations. */
export const LOCK = { SH: 1, EX: 2, NB: 4, UN: 8 } as const;

/** Namespace clone flags, by the seed's type names. */
export const CLONE = {
  NEWNS: 0x00020000,
  NEWCGROUP: 0x02000000,
  NEWUTS: 0x04000000,
  NEWIPC: 0x08000000,
  NEWUSER: 0x10000000,
  NEWPID: 0x20000000,
  NEWNET: 0x40000000,
  PARENT: 0x00008000,
} as const;

/** Signal numbers (x86_64 and aarch64 agree). */
export const SIGNALS: Readonly<Record<string, number>> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGILL: 4,
  SIGTRAP: 5,
  SIGABRT: 6,
  SIGBUS: 7,
  SIGFPE: 8,
  SIGKILL: 9,
  SIGUSR1: 10,
  SIGSEGV: 11,
  SIGUSR2: 12,
  SIGPIPE: 13,
  SIGALRM: 14,
  SIGTERM: 15,
  SIGSTKFLT: 16,
  SIGCHLD: 17,
  SIGCONT: 18,
  SIGSTOP: 19,
  SIGTSTP: 20,
  SIGTTIN: 21,
  SIGTTOU: 22,
  SIGURG: 23,
  SIGXCPU: 24,
  SIGXFSZ: 25,
  SIGVTALRM: 26,
  SIGPROF: 27,
  SIGWINCH: 28,
  SIGIO: 29,
  SIGPWR: 30,
  SIGSYS: 31,
};
