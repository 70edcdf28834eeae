/**
 * The libc symbol table. Every file, process and socket operation of the
 * runtime goes through these bindings, so `--allow-ffi` is the only
 * permission a program needs (see DESIGN.md, "Permissions and artifacts").
 *
 * C names are kept; each parameter carries its C type. Calls that can wait
 * come in a `nonblocking` twin (suffix `_async`) that runs on a worker thread;
 * errno is only read after synchronous calls, on the calling thread.
 *
 * @module
 */

const symbols = {
  // errno
  __errno_location: { parameters: [], result: "pointer" }, // int *(void)

  // files
  open: { parameters: ["buffer", "i32", "u32"], result: "i32" }, // const char *path, int flags, mode_t mode
  openat: { parameters: ["i32", "buffer", "i32", "u32"], result: "i32" }, // int dirfd, const char *path, int flags, mode_t
  close: { parameters: ["i32"], result: "i32" }, // int fd
  read: { parameters: ["i32", "buffer", "usize"], result: "isize" }, // int fd, void *buf, size_t count
  write: { parameters: ["i32", "buffer", "usize"], result: "isize" }, // int fd, const void *buf, size_t count
  pread: { parameters: ["i32", "buffer", "usize", "i64"], result: "isize" }, // int fd, void *buf, size_t, off_t
  fsync: { parameters: ["i32"], result: "i32" }, // int fd
  mkdir: { parameters: ["buffer", "u32"], result: "i32" }, // const char *path, mode_t mode
  rmdir: { parameters: ["buffer"], result: "i32" }, // const char *path
  unlink: { parameters: ["buffer"], result: "i32" }, // const char *path
  rename: { parameters: ["buffer", "buffer"], result: "i32" }, // const char *old, const char *new
  readlink: { parameters: ["buffer", "buffer", "usize"], result: "isize" }, // const char *path, char *buf, size_t
  statx: { parameters: ["i32", "buffer", "i32", "u32", "buffer"], result: "i32" }, // int dirfd, const char *path, int flags, unsigned mask, struct statx *
  getdents64: { parameters: ["i32", "buffer", "usize"], result: "isize" }, // int fd, void *dirp, size_t count
  fcntl: { parameters: ["i32", "i32", "i32"], result: "i32" }, // int fd, int cmd, int arg
  ioctl: { parameters: ["i32", "u64", "buffer"], result: "i32" }, // int fd, unsigned long request, void *arg
  memfd_create: { parameters: ["buffer", "u32"], result: "i32" }, // const char *name, unsigned flags
  ftruncate: { parameters: ["i32", "i64"], result: "i32" }, // int fd, off_t length
  flock: { parameters: ["i32", "i32"], result: "i32" }, // int fd, int operation

  // pipes, sockets, polling
  pipe2: { parameters: ["buffer", "i32"], result: "i32" }, // int fds[2], int flags
  socketpair: { parameters: ["i32", "i32", "i32", "buffer"], result: "i32" }, // int domain, int type, int protocol, int sv[2]
  sendmsg: { parameters: ["i32", "buffer", "i32"], result: "isize" }, // int fd, const struct msghdr *, int flags
  recvmsg: { parameters: ["i32", "buffer", "i32"], result: "isize" }, // int fd, struct msghdr *, int flags
  shutdown: { parameters: ["i32", "i32"], result: "i32" }, // int fd, int how
  setsockopt: { parameters: ["i32", "i32", "i32", "buffer", "u32"], result: "i32" }, // int fd, int level, int name, const void *val, socklen_t
  poll: { parameters: ["buffer", "u64", "i32"], result: "i32" }, // struct pollfd *fds, nfds_t n, int timeout_ms
  poll_async: {
    name: "poll",
    parameters: ["buffer", "u64", "i32"],
    result: "i32",
    nonblocking: true,
  },

  // processes
  posix_spawn: {
    parameters: ["buffer", "buffer", "buffer", "buffer", "buffer", "buffer"],
    result: "i32",
  }, // pid_t *pid, const char *path, const posix_spawn_file_actions_t *, const posix_spawnattr_t *, char *const argv[], char *const envp[]
  posix_spawn_file_actions_init: { parameters: ["buffer"], result: "i32" }, // posix_spawn_file_actions_t *
  posix_spawn_file_actions_destroy: { parameters: ["buffer"], result: "i32" }, // posix_spawn_file_actions_t *
  posix_spawn_file_actions_adddup2: { parameters: ["buffer", "i32", "i32"], result: "i32" }, // posix_spawn_file_actions_t *, int fd, int newfd
  posix_spawnattr_init: { parameters: ["buffer"], result: "i32" }, // posix_spawnattr_t *
  posix_spawnattr_destroy: { parameters: ["buffer"], result: "i32" }, // posix_spawnattr_t *
  posix_spawnattr_setflags: { parameters: ["buffer", "i16"], result: "i32" }, // posix_spawnattr_t *, short flags
  posix_spawnattr_setsigmask: { parameters: ["buffer", "buffer"], result: "i32" }, // posix_spawnattr_t *, const sigset_t *
  posix_spawnattr_setsigdefault: { parameters: ["buffer", "buffer"], result: "i32" }, // posix_spawnattr_t *, const sigset_t *
  sigemptyset: { parameters: ["buffer"], result: "i32" }, // sigset_t *
  sigfillset: { parameters: ["buffer"], result: "i32" }, // sigset_t *
  kill: { parameters: ["i32", "i32"], result: "i32" }, // pid_t pid, int sig
  waitid: { parameters: ["i32", "u32", "buffer", "i32"], result: "i32" }, // idtype_t, id_t, siginfo_t *, int options
  syscall4: { name: "syscall", parameters: ["i64", "i64", "i64", "i64", "i64"], result: "i64" }, // long nr, ... (unused arguments must be passed as 0)
  syscall_openat2: {
    name: "syscall",
    parameters: ["i64", "i32", "buffer", "buffer", "usize"],
    result: "i64",
  }, // SYS_openat2, int dirfd, const char *path, struct open_how *, size_t
  getpid: { parameters: [], result: "i32" }, // void
  geteuid: { parameters: [], result: "u32" }, // void
  isatty: { parameters: ["i32"], result: "i32" }, // int fd
  tcgetattr: { parameters: ["i32", "buffer"], result: "i32" }, // int fd, struct termios *
  tcsetattr: { parameters: ["i32", "i32", "buffer"], result: "i32" }, // int fd, int when, const struct termios *
  cfmakeraw: { parameters: ["buffer"], result: "void" }, // struct termios *
  signal: { parameters: ["i32", "pointer"], result: "pointer" }, // int sig, sighandler_t handler
} as const satisfies Deno.ForeignLibraryInterface;

/** The loaded libc symbols. */
export type Libc = Deno.DynamicLibrary<typeof symbols>["symbols"];

let loaded: Libc | undefined;

/** Loads libc once per isolate; later calls return the same symbols. */
export function libc(): Libc {
  if (loaded === undefined) {
    try {
      loaded = Deno.dlopen("libc.so.6", symbols).symbols;
    } catch (error) {
      if (error instanceof Deno.errors.NotCapable) throw error;
      throw new Error("Failed to load libc.so.6: this runtime needs glibc on Linux", {
        cause: error,
      });
    }
  }
  return loaded;
}

let errnoView: Deno.UnsafePointerView | undefined;

/** The calling thread's errno; read it right after a synchronous call. */
export function errno(): number {
  if (errnoView === undefined) {
    const pointer = libc().__errno_location();
    if (pointer === null) throw new Error("__errno_location() returned NULL");
    errnoView = new Deno.UnsafePointerView(pointer);
  }
  return errnoView.getInt32();
}

/** Linux syscall numbers that are the same on every architecture (424 and up). */
export const SYS = {
  pidfd_send_signal: 424,
  pidfd_open: 434,
  openat2: 437,
} as const;
