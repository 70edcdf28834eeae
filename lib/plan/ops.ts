/**
 * The operations of an init plan, as plain data. `lib/plan/build.ts` makes
 * them from a config and a process; `encode.ts` lays them out for the helper
 * (`ffi/helper/plan.h`), which executes them in order and decides nothing.
 *
 * @module
 */

/** Join a namespace through an inherited fd (before the clone). */
export interface SetnsOp {
  op: "SETNS";
  /** The fd number inside the helper. */
  fd: number;
  /** CLONE_NEW* flags: one type for a namespace file, several for a pidfd. */
  nstype: number;
  /** What the fd is, for messages only (not sent to the helper). */
  label?: string;
}

/** Clone the init with these flags; everything after runs in the init. */
export interface CloneOp {
  op: "CLONE";
  flags: number;
  /** A cgroup v2 directory the init is born into (CLONE_INTO_CGROUP), or "". */
  cgroup: string;
}

/**
 * Move the helper into a cgroup before it clones (the init inherits it).
 * Writing "0" to a v1 `tasks` file moves the writer itself, which the kernel
 * does without its global threadgroup lock.
 */
export interface CgroupEnterOp {
  op: "CGROUP_ENTER";
  /** The file to write, such as `/sys/fs/cgroup/memory/nsinit/c1/tasks`. */
  path: string;
  content: string;
}

/** Set the umask. */
export interface UmaskOp {
  op: "UMASK";
  mask: number;
}

/** mount(2) a filesystem (or change propagation) on a directory. */
export interface MountOp {
  op: "MOUNT";
  source: string;
  /** In the rootfs, unless `hostPath`. */
  target: string;
  fstype: string;
  data: string;
  /** MS_* flags. */
  flags: number;
  /** The target is a host path (only `/` for propagation changes). */
  hostPath?: boolean;
  /** Resolve the target without following symlinks (/proc, /sys). */
  noSymlinks?: boolean;
}

/** Bind the rootfs onto itself and make it the root for in-root paths. */
export interface RootfsOp {
  op: "ROOTFS";
  rootfs: string;
}

/** Create a directory and its parents inside the rootfs. */
export interface MkdirOp {
  op: "MKDIR";
  path: string;
  mode: number;
  noSymlinks?: boolean;
}

/** Create an empty file inside the rootfs when missing (a bind target). */
export interface MkfileOp {
  op: "MKFILE";
  path: string;
  mode: number;
}

/** Bind mount with open_tree/move_mount, attributes set on the detached tree. */
export interface BindOp {
  op: "BIND";
  source: string;
  target: string;
  recursive: boolean;
  /** MOUNT_ATTR_* to set. */
  attrSet: number;
  /** MS_PRIVATE, MS_SLAVE, MS_SHARED or MS_UNBINDABLE, or 0. */
  propagation: number;
  /** The source is a path inside the rootfs rather than on the host. */
  sourceInRoot?: boolean;
  noSymlinks?: boolean;
}

/** Create a device node (or fifo) inside the rootfs and chown it. */
export interface MknodOp {
  op: "MKNOD";
  path: string;
  /** File type bits and permissions. */
  mode: number;
  /** The encoded dev_t. */
  dev: bigint;
  uid: number;
  gid: number;
}

/** Create a symlink inside the rootfs (an existing one is kept). */
export interface SymlinkOp {
  op: "SYMLINK";
  target: string;
  path: string;
}

/** Mask a path with the verified /dev/null (files) or an empty read-only tmpfs (directories). */
export interface MaskOp {
  op: "MASK";
  path: string;
  devNull: string;
}

/** Make a path read-only with a recursive read-only bind onto itself. */
export interface ReadonlyOp {
  op: "READONLY";
  path: string;
}

/** Write a kernel file beneath a directory verified to be procfs. */
export interface WriteOp {
  op: "WRITE";
  dir: string;
  file: string;
  content: string;
  procfs: boolean;
  /**
   * `file` lies beneath the process's own `<dir>/<pid>/`, the pid read from
   * the procfs's `self` link (never followed as a path).
   */
  self?: boolean;
  /**
   * `dir` is a host path, not resolved in the rootfs: such a write runs
   * before the joins and the clone, while the helper sees the host.
   */
  hostPath?: boolean;
}

/** Switch to the rootfs: pivot_root, or MS_MOVE plus chroot. */
export interface PivotOp {
  op: "PIVOT";
  noPivot: boolean;
}

/** Make the new root read-only. */
export interface RootReadonlyOp {
  op: "ROOT_READONLY";
}

/** Set the hostname. */
export interface HostnameOp {
  op: "HOSTNAME";
  hostname: string;
}

/** Bring a network interface up. */
export interface IfupOp {
  op: "IFUP";
  name: string;
}

/** setrlimit; -1n is RLIM_INFINITY. */
export interface RlimitOp {
  op: "RLIMIT";
  resource: number;
  soft: bigint;
  hard: bigint;
}

/** Run a hook command to completion (pre/post mount commands); its output goes to stderr. */
export interface RunOp {
  op: "RUN";
  /** Paths tried in order, as execvp does with $PATH. */
  candidates: readonly string[];
  /** argv, the program's name first. */
  args: readonly string[];
  env: readonly string[];
  dir: string;
}

/** Create the terminal in the container's devpts and send its master to the parent. */
export interface ConsoleOp {
  op: "CONSOLE";
  ptmx: string;
  console: string;
  bindConsole: boolean;
  uid: number;
  gid: number;
  /** The initial window size (0 x 0 leaves it unset). */
  rows: number;
  columns: number;
}

/** Report reaching this point and wait for the parent's go-ahead. */
export interface SyncOp {
  op: "SYNC";
  tag: number;
}

/** Drop every capability not in `keep` from the bounding set. */
export interface BoundingOp {
  op: "BOUNDING";
  keep: bigint;
}

/** Become this user, keeping the permitted capabilities. */
export interface IdentityOp {
  op: "IDENTITY";
  uid: number;
  gid: number;
  groups: readonly number[];
}

/**
 * Become this uid and gid without setting supplementary groups: the first
 * step inside a new user namespace, and the identity of a process where
 * setgroups(2) is denied (a user namespace an unprivileged user made).
 */
export interface SetidOp {
  op: "SETID";
  uid: number;
  gid: number;
}

/**
 * Set the dumpable flag: an unprivileged parent can only write the id maps
 * of a dumpable process, so a rootless init is dumpable around that point.
 */
export interface DumpableOp {
  op: "DUMPABLE";
  dumpable: boolean;
}

/** Set the capability sets exactly. */
export interface CapsOp {
  op: "CAPS";
  effective: bigint;
  permitted: bigint;
  inheritable: bigint;
  ambient: bigint;
}

/** Arm the parent-death signal, and exit if the parent is already gone. */
export interface PdeathsigOp {
  op: "PDEATHSIG";
  signal: number;
}

/** Change directory and verify the result lies inside the root. */
export interface ChdirOp {
  op: "CHDIR";
  path: string;
}

/** Set `no_new_privs`: exec grants nothing through setuid bits or file capabilities. */
export interface NoNewPrivsOp {
  op: "NO_NEW_PRIVS";
}

/** Install a seccomp filter (`SECCOMP_SET_MODE_FILTER`). */
export interface SeccompOp {
  op: "SECCOMP";
  /** The program: `struct sock_filter` records, 8 bytes each. */
  filter: Uint8Array;
  /** `SECCOMP_FILTER_FLAG_*` bits. */
  flags: number;
}

/** execve the first candidate that exists. */
export interface ExecOp {
  op: "EXEC";
  candidates: readonly string[];
  args: readonly string[];
  env: readonly string[];
}

/** One operation of an init plan. */
export type PlanOp =
  | SetnsOp
  | CgroupEnterOp
  | CloneOp
  | UmaskOp
  | MountOp
  | RootfsOp
  | MkdirOp
  | MkfileOp
  | BindOp
  | MknodOp
  | SymlinkOp
  | MaskOp
  | ReadonlyOp
  | WriteOp
  | PivotOp
  | RootReadonlyOp
  | HostnameOp
  | IfupOp
  | RlimitOp
  | RunOp
  | ConsoleOp
  | SyncOp
  | BoundingOp
  | IdentityOp
  | SetidOp
  | DumpableOp
  | CapsOp
  | PdeathsigOp
  | ChdirOp
  | NoNewPrivsOp
  | SeccompOp
  | ExecOp;

/** The name of an op kind. */
export type OpName = PlanOp["op"];
