/**
 * The default seccomp profile: the same effect as Docker's default
 * (github.com/moby/profiles `seccomp/default.json`), written out here by
 * area. Calls not named are refused with `EPERM`.
 *
 * Where this differs from moby's file, on purpose:
 *
 * - `socket` is refused for AF_ALG (38, as containers/common's profile does)
 *   and AF_VSOCK (40, as moby does), and the domain is compared on its low
 *   32 bits (`MASKED_EQ` with mask `0xffffffff`): `socket` takes an `int`,
 *   so a 64-bit comparison (`NE 40`) would let `0x1_00000028` through while
 *   the kernel creates an AF_VSOCK socket from it.
 * - The architectures are listed flat (OCI's `architectures`) rather than as
 *   moby's `archMap`; the compiler filters the ones of the machine's family.
 *   x32 is refused whatever the profile says, and so is 32-bit ARM on
 *   aarch64 (there is no ARM table here).
 *
 * Known gap, shared with Docker: an i386 process creates sockets through
 * `socketcall`, whose arguments sit in memory a filter cannot read, so the
 * `socket` domain rules cover i386's direct `socket` call only.
 *
 * @module
 */
import type { SeccompProfile, SeccompSyscall } from "./profile.ts";
import { deepFreeze } from "./_freeze.ts";

/** Calls every container may make, by area. */
// deno-fmt-ignore
const ALLOWED: Readonly<Record<string, readonly string[]>> = {
  files: [
    "access", "cachestat", "chdir", "chmod", "chown", "chown32", "close", "close_range",
    "copy_file_range", "creat", "dup", "dup2", "dup3", "faccessat", "faccessat2", "fadvise64",
    "fadvise64_64", "fallocate", "fchdir", "fchmod", "fchmodat", "fchmodat2", "fchown", "fchown32",
    "fchownat", "fcntl", "fcntl64", "fdatasync", "flock", "fstat", "fstat64", "fstatat64",
    "fstatfs", "fstatfs64", "fsync", "ftruncate", "ftruncate64", "futimesat", "getcwd", "getdents",
    "getdents64", "ioctl", "lchown", "lchown32", "link", "linkat", "_llseek", "lseek", "lstat",
    "lstat64", "mkdir", "mkdirat", "mknod", "mknodat", "name_to_handle_at", "newfstatat", "open",
    "openat", "openat2", "pipe", "pipe2", "pread64", "preadv", "preadv2", "pwrite64", "pwritev",
    "pwritev2", "read", "readahead", "readlink", "readlinkat", "readv", "rename", "renameat",
    "renameat2", "rmdir", "sendfile", "sendfile64", "splice", "stat", "stat64", "statfs",
    "statfs64", "statx", "symlink", "symlinkat", "sync", "sync_file_range", "syncfs", "tee",
    "truncate", "truncate64", "umask", "unlink", "unlinkat", "utime", "utimensat",
    "utimensat_time64", "utimes", "vmsplice", "write", "writev",
  ],
  xattrs: [
    "fgetxattr", "flistxattr", "fremovexattr", "fsetxattr", "getxattr", "getxattrat", "lgetxattr",
    "listxattr", "listxattrat", "llistxattr", "lremovexattr", "lsetxattr", "removexattr",
    "removexattrat", "setxattr", "setxattrat",
  ],
  // Only reading the mount table: listing and describing mounts (Linux 6.8).
  mountInfo: ["listmount", "statmount"],
  waiting: [
    "epoll_create", "epoll_create1", "epoll_ctl", "epoll_ctl_old", "epoll_pwait", "epoll_pwait2",
    "epoll_wait", "epoll_wait_old", "eventfd", "eventfd2", "fanotify_mark", "inotify_add_watch",
    "inotify_init", "inotify_init1", "inotify_rm_watch", "_newselect", "poll", "ppoll",
    "ppoll_time64", "pselect6", "pselect6_time64", "select", "signalfd", "signalfd4",
    "timerfd_create", "timerfd_gettime", "timerfd_gettime64", "timerfd_settime",
    "timerfd_settime64",
  ],
  // Linux AIO; io_uring is not here (moby removed it in 2023: a large attack surface).
  aio: [
    "io_cancel", "io_destroy", "io_getevents", "io_pgetevents", "io_pgetevents_time64", "io_setup",
    "io_submit",
  ],
  memory: [
    "brk", "madvise", "map_shadow_stack", "membarrier", "memfd_create", "memfd_secret", "mincore",
    "mlock", "mlock2", "mlockall", "mmap", "mmap2", "mprotect", "mremap", "mseal", "msync",
    "munlock", "munlockall", "munmap", "pkey_alloc", "pkey_free", "pkey_mprotect",
    "remap_file_pages",
  ],
  processes: [
    "capget", "capset", "execve", "execveat", "exit", "exit_group", "fork", "getcpu", "getpgid",
    "getpgrp", "getpid", "getppid", "getpriority", "getrlimit", "get_robust_list", "getrusage",
    "getsid", "get_thread_area", "gettid", "ioprio_get", "ioprio_set", "kill", "pidfd_open",
    "pidfd_send_signal", "prctl", "prlimit64", "process_mrelease", "restart_syscall", "rseq",
    "sched_getaffinity", "sched_getattr", "sched_getparam", "sched_get_priority_max",
    "sched_get_priority_min", "sched_getscheduler", "sched_rr_get_interval",
    "sched_rr_get_interval_time64", "sched_setaffinity", "sched_setattr", "sched_setparam",
    "sched_setscheduler", "sched_yield", "seccomp", "setpgid", "setpriority", "setrlimit",
    "set_robust_list", "setsid", "set_thread_area", "set_tid_address", "sysinfo", "tgkill",
    "times", "tkill", "ugetrlimit", "uname", "vfork", "wait4", "waitid", "waitpid",
  ],
  // Landlock only narrows what the caller may do.
  landlock: ["landlock_add_rule", "landlock_create_ruleset", "landlock_restrict_self"],
  futexes: ["futex", "futex_requeue", "futex_time64", "futex_wait", "futex_waitv", "futex_wake"],
  // Changing ids is still bounded by the capabilities the process holds.
  credentials: [
    "getegid", "getegid32", "geteuid", "geteuid32", "getgid", "getgid32", "getgroups",
    "getgroups32", "getresgid", "getresgid32", "getresuid", "getresuid32", "getuid", "getuid32",
    "setfsgid", "setfsgid32", "setfsuid", "setfsuid32", "setgid", "setgid32", "setgroups",
    "setgroups32", "setregid", "setregid32", "setresgid", "setresgid32", "setresuid",
    "setresuid32", "setreuid", "setreuid32", "setuid", "setuid32",
  ],
  signals: [
    "pause", "rt_sigaction", "rt_sigpending", "rt_sigprocmask", "rt_sigqueueinfo", "rt_sigreturn",
    "rt_sigsuspend", "rt_sigtimedwait", "rt_sigtimedwait_time64", "rt_tgsigqueueinfo",
    "sigaltstack", "sigprocmask", "sigreturn",
  ],
  // adjtimex and clock_adjtime only read the clock without CAP_SYS_TIME (the kernel checks).
  time: [
    "adjtimex", "alarm", "clock_adjtime", "clock_adjtime64", "clock_getres", "clock_getres_time64",
    "clock_gettime", "clock_gettime64", "clock_nanosleep", "clock_nanosleep_time64", "getitimer",
    "gettimeofday", "nanosleep", "setitimer", "time", "timer_create", "timer_delete",
    "timer_getoverrun", "timer_gettime", "timer_gettime64", "timer_settime", "timer_settime64",
  ],
  // `socket` itself is conditional (below); socketcall is i386's multiplexer for all of these.
  sockets: [
    "accept", "accept4", "bind", "connect", "getpeername", "getsockname", "getsockopt", "listen",
    "recv", "recvfrom", "recvmmsg", "recvmmsg_time64", "recvmsg", "send", "sendmmsg", "sendmsg",
    "sendto", "setsockopt", "shutdown", "socketcall", "socketpair",
  ],
  ipc: [
    "ipc", "mq_getsetattr", "mq_notify", "mq_open", "mq_timedreceive", "mq_timedreceive_time64",
    "mq_timedsend", "mq_timedsend_time64", "mq_unlink", "msgctl", "msgget", "msgrcv", "msgsnd",
    "semctl", "semget", "semop", "semtimedop", "semtimedop_time64", "shmat", "shmctl", "shmdt",
    "shmget",
  ],
  // getrandom; RISC-V's hardware probe; the return-probe trampoline's call (x86_64, 6.11).
  other: ["getrandom", "riscv_hwprobe", "uretprobe"],
};

const allow = (names: readonly string[], more: Partial<SeccompSyscall> = {}): SeccompSyscall => ({
  names,
  action: "SCMP_ACT_ALLOW",
  ...more,
});
const withCap = (cap: string, names: readonly string[]) =>
  allow(names, { includes: { caps: [cap] } });
const forArches = (arches: readonly string[], names: readonly string[]) =>
  allow(names, { includes: { arches } });

/** `CLONE_NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET` (0x7E020000). */
const CLONE_NAMESPACE_FLAGS = 0x7e020000;
/**
 * The personas a process may ask for: `PER_LINUX`, `PER_LINUX32`, each with
 * `UNAME26`, and `0xffffffff`, which only reads the current one.
 */
const PERSONAS = [0x0, 0x8, 0x20000, 0x20008, 0xffffffff];
/** `AF_ALG` (kernel crypto sockets) and `AF_VSOCK` (host/guest sockets). */
const REFUSED_SOCKET_DOMAINS = [38, 40];

const SYSCALLS: SeccompSyscall[] = [
  allow(Object.values(ALLOWED).flat()),
  // Before 4.8 ptrace could be used to get around seccomp, so these need a newer kernel.
  allow(["process_vm_readv", "process_vm_writev", "ptrace"], { includes: { minKernel: "4.8" } }),

  // socket: every domain but AF_ALG and AF_VSOCK (see the module doc for the mask).
  ...REFUSED_SOCKET_DOMAINS.map((domain): SeccompSyscall => ({
    names: ["socket"],
    action: "SCMP_ACT_ERRNO",
    errnoRet: 1,
    args: [{ index: 0, value: 0xffffffff, valueTwo: domain, op: "SCMP_CMP_MASKED_EQ" }],
  })),
  allow(["socket"]),

  // personality: only the harmless personas (no READ_IMPLIES_EXEC, no ADDR_NO_RANDOMIZE).
  ...PERSONAS.map((persona) =>
    allow(["personality"], { args: [{ index: 0, value: persona, op: "SCMP_CMP_EQ" }] })
  ),

  // Architecture-specific calls; arch names are moby's (Go's GOARCH).
  forArches(["ppc64le"], ["sync_file_range2", "swapcontext"]),
  forArches(["arm", "arm64"], [
    "arm_fadvise64_64",
    "arm_sync_file_range",
    "sync_file_range2",
    "breakpoint",
    "cacheflush",
    "set_tls",
  ]),
  forArches(["amd64", "x32"], ["arch_prctl"]),
  forArches(["amd64", "x32", "x86"], ["modify_ldt"]),
  forArches(["s390", "s390x"], ["s390_pci_mmio_read", "s390_pci_mmio_write", "s390_runtime_instr"]),
  forArches(["riscv64"], ["riscv_flush_icache"]),

  // Calls a capability already guards, allowed when the container holds it.
  withCap("CAP_DAC_READ_SEARCH", ["open_by_handle_at"]),
  withCap("CAP_SYS_ADMIN", [
    "bpf",
    "clone",
    "clone3",
    "fanotify_init",
    "fsconfig",
    "fsmount",
    "fsopen",
    "fspick",
    "lookup_dcookie",
    "lsm_get_self_attr",
    "lsm_list_modules",
    "lsm_set_self_attr",
    "mount",
    "mount_setattr",
    "move_mount",
    "open_tree",
    "perf_event_open",
    "quotactl",
    "quotactl_fd",
    "setdomainname",
    "sethostname",
    "setns",
    "syslog",
    "umount",
    "umount2",
    "unshare",
  ]),
  // Without CAP_SYS_ADMIN: clone but no new namespaces (s390 puts the flags second).
  allow(["clone"], {
    args: [{ index: 0, value: CLONE_NAMESPACE_FLAGS, valueTwo: 0, op: "SCMP_CMP_MASKED_EQ" }],
    excludes: { caps: ["CAP_SYS_ADMIN"], arches: ["s390", "s390x"] },
  }),
  allow(["clone"], {
    args: [{ index: 1, value: CLONE_NAMESPACE_FLAGS, valueTwo: 0, op: "SCMP_CMP_MASKED_EQ" }],
    includes: { arches: ["s390", "s390x"] },
    excludes: { caps: ["CAP_SYS_ADMIN"] },
  }),
  // clone3 passes its flags in memory, out of a filter's sight: ENOSYS makes
  // libc fall back to clone.
  {
    names: ["clone3"],
    action: "SCMP_ACT_ERRNO",
    errnoRet: 38,
    excludes: { caps: ["CAP_SYS_ADMIN"] },
  },
  withCap("CAP_SYS_BOOT", ["reboot"]),
  withCap("CAP_SYS_CHROOT", ["chroot"]),
  withCap("CAP_SYS_MODULE", ["delete_module", "init_module", "finit_module"]),
  withCap("CAP_SYS_PACCT", ["acct"]),
  withCap("CAP_SYS_PTRACE", [
    "kcmp",
    "pidfd_getfd",
    "process_madvise",
    "process_vm_readv",
    "process_vm_writev",
    "ptrace",
  ]),
  withCap("CAP_SYS_RAWIO", ["iopl", "ioperm"]),
  withCap("CAP_SYS_TIME", ["settimeofday", "stime", "clock_settime", "clock_settime64"]),
  withCap("CAP_SYS_TTY_CONFIG", ["vhangup"]),
  withCap("CAP_SYS_NICE", ["get_mempolicy", "mbind", "set_mempolicy", "set_mempolicy_home_node"]),
  withCap("CAP_SYSLOG", ["syslog"]),
  withCap("CAP_BPF", ["bpf"]),
  withCap("CAP_PERFMON", ["perf_event_open"]),
];

/**
 * Docker's default seccomp profile in effect: `EPERM` for every call not
 * allowed; namespaces, mounts, module loading, clock setting, tracing and
 * the like refused unless the container holds the capability that guards
 * them; kernel keyrings and `io_uring` refused; `clone` without namespace
 * flags; `clone3` answered `ENOSYS`; `socket` without AF_ALG or AF_VSOCK;
 * `personality` limited to harmless personas. Frozen.
 */
export const DEFAULT_SECCOMP_PROFILE: SeccompProfile = deepFreeze({
  defaultAction: "SCMP_ACT_ERRNO",
  defaultErrnoRet: 1,
  architectures: [
    "SCMP_ARCH_X86_64",
    "SCMP_ARCH_X86",
    "SCMP_ARCH_X32",
    "SCMP_ARCH_AARCH64",
    "SCMP_ARCH_ARM",
  ],
  syscalls: SYSCALLS,
});
