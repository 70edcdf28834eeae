/**
 * The libc symbol table. Every file, process and socket operation of the
 * runtime goes through these bindings, so `--allow-ffi` is the only
 * permission a program needs (see DESIGN.md, "Permissions and artifacts").
 *
 * It is kept small on purpose: each symbol costs about 0.15 ms of start-up
 * (Deno compiles a trampoline per symbol), so system calls go through the
 * raw-syscall object of ffi/syscalls.ts; only what is not a system call is
 * bound by name. C names are kept; each parameter carries its C type. The
 * one call that waits has a `nonblocking` binding (suffix `_async`) that runs
 * on a worker thread. errno is never read: see ffi/syscall/syscall.c.
 *
 * @module
 */

const symbols = {
  // only to load ffi/syscall (a memfd is written before it exists); every
  // other system call goes through it: long syscall(long nr, ...)
  syscall: { parameters: ["i64", "i64", "i64", "i64", "i64", "i64", "i64"], result: "i64" },

  // waiting without blocking the event loop (runs on a worker thread)
  poll_async: {
    name: "poll",
    parameters: ["buffer", "u64", "i32"],
    result: "i32",
    nonblocking: true,
  }, // struct pollfd *, nfds_t, int timeout_ms

  // spawning the helper: a vfork-style clone and execve, safe in a multithreaded process
  posix_spawn: {
    parameters: ["buffer", "buffer", "buffer", "buffer", "buffer", "buffer"],
    result: "i32",
  }, // pid_t *pid, const char *path, const posix_spawn_file_actions_t *, const posix_spawnattr_t *, char *const argv[], char *const envp[]
  posix_spawn_file_actions_init: { parameters: ["buffer"], result: "i32" }, // posix_spawn_file_actions_t *
  posix_spawn_file_actions_destroy: { parameters: ["buffer"], result: "i32" }, // posix_spawn_file_actions_t *
  posix_spawn_file_actions_adddup2: { parameters: ["buffer", "i32", "i32"], result: "i32" }, // posix_spawn_file_actions_t *, int fd, int newfd
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
