/**
 * System calls, named after their C functions. Every `Deno.dlopen` symbol
 * costs about 0.15 ms of start-up to compile its trampoline, so the runtime
 * binds one raw-syscall function (ffi/syscall/syscall.c) instead of forty;
 * the numbers below are the kernel's, per architecture.
 *
 * Each call returns what the system call returns, or -1 on failure with the
 * error kept for `errno()`. The error comes back in the call's own return
 * value, so nothing the runtime does between two calls can change it.
 * Buffers are passed by address and must stay referenced by the caller for
 * the duration of the call, which a synchronous call guarantees.
 *
 * @module
 */
import { embeddedBytes } from "./embedded.ts";
import { libc } from "./libc.ts";
import * as rawObject from "./syscall/_embed.ts";

const ARM64 = Deno.build.arch === "aarch64";

/** Kernel system call numbers (x86_64, and aarch64 which has only the *at forms). */
export const NR = {
  read: ARM64 ? 63 : 0,
  write: ARM64 ? 64 : 1,
  close: ARM64 ? 57 : 3,
  ioctl: ARM64 ? 29 : 16,
  getpid: ARM64 ? 172 : 39,
  socketpair: ARM64 ? 199 : 53,
  sendmsg: ARM64 ? 211 : 46,
  recvmsg: ARM64 ? 212 : 47,
  shutdown: ARM64 ? 210 : 48,
  setsockopt: ARM64 ? 208 : 54,
  kill: ARM64 ? 129 : 62,
  fcntl: ARM64 ? 25 : 72,
  flock: ARM64 ? 32 : 73,
  rt_sigaction: ARM64 ? 134 : 13,
  getdents64: ARM64 ? 61 : 217,
  waitid: ARM64 ? 95 : 247,
  openat: ARM64 ? 56 : 257,
  mkdirat: ARM64 ? 34 : 258,
  unlinkat: ARM64 ? 35 : 263,
  readlinkat: ARM64 ? 78 : 267,
  ppoll: ARM64 ? 73 : 271,
  pipe2: ARM64 ? 59 : 293,
  renameat2: ARM64 ? 276 : 316,
  memfd_create: ARM64 ? 279 : 319,
  statx: ARM64 ? 291 : 332,
  socket: ARM64 ? 198 : 41,
  bind: ARM64 ? 200 : 49,
  getsockname: ARM64 ? 204 : 51,
  sendto: ARM64 ? 206 : 44,
  recvfrom: ARM64 ? 207 : 45,
  setns: ARM64 ? 268 : 308,
  eventfd2: ARM64 ? 19 : 290,
  inotify_init1: ARM64 ? 26 : 294,
  inotify_add_watch: ARM64 ? 27 : 254,
  bpf: ARM64 ? 280 : 321,
  pidfd_send_signal: 424,
  pidfd_open: 434,
  openat2: 437,
} as const;

/** An argument: a number, a bigint, a buffer (passed by address) or null. */
type Arg = number | bigint | Uint8Array | null;

function word(value: Arg): bigint {
  if (value === null) return 0n;
  if (typeof value === "number") return BigInt(value);
  if (typeof value === "bigint") return value;
  return BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(value as Uint8Array<ArrayBuffer>)));
}

const RAW_SYMBOLS = {
  nsinit_syscall: { parameters: ["i64", "i64", "i64", "i64", "i64", "i64", "i64"], result: "i64" },
} as const satisfies Deno.ForeignLibraryInterface;

// The same function on a worker thread, for the rare call that must wait
// (a contended flock); bound only when first needed.
const RAW_WAITING_SYMBOLS = {
  nsinit_syscall: { ...RAW_SYMBOLS.nsinit_syscall, nonblocking: true },
} as const satisfies Deno.ForeignLibraryInterface;

type RawSyscall = Deno.DynamicLibrary<typeof RAW_SYMBOLS>["symbols"]["nsinit_syscall"];
type RawWaitingSyscall = Deno.DynamicLibrary<
  typeof RAW_WAITING_SYMBOLS
>["symbols"]["nsinit_syscall"];

let raw: RawSyscall | undefined;
let rawWaiting: RawWaitingSyscall | undefined;

/**
 * Loads ffi/syscall from a memfd. Only this bootstrap uses libc's
 * syscall(2), whose errno it cannot read: a failure says which step failed.
 */
function loadRaw<S extends Deno.ForeignLibraryInterface>(symbols: S): Deno.DynamicLibrary<S> {
  const bootstrap = (nr: number, a: Arg, b: Arg = 0, c: Arg = 0) =>
    Number(libc().syscall(BigInt(nr), word(a), word(b), word(c), 0n, 0n, 0n));
  const fail = (step: string): never => {
    throw new Error(`Cannot load the raw-syscall object (ffi/syscall): ${step} failed`);
  };
  const MFD_CLOEXEC = 1;
  const fd = bootstrap(NR.memfd_create, new TextEncoder().encode("nsinit-syscall\0"), MFD_CLOEXEC);
  if (fd < 0) fail("memfd_create");
  try {
    const bytes = embeddedBytes(rawObject.BASE64);
    for (let done = 0; done < bytes.length;) {
      const n = bootstrap(NR.write, fd, bytes.subarray(done), bytes.length - done);
      if (n <= 0) fail("write to its memfd");
      done += n;
    }
    return Deno.dlopen(`/proc/self/fd/${fd}`, symbols);
  } finally {
    bootstrap(NR.close, fd);
  }
}

let lastErrno = 0;

/** The error of the last failed system call made through {@link syscall}. */
export function errno(): number {
  return lastErrno;
}

/** Calls system call `nr` with up to six arguments; returns its result, or -1 and sets errno(). */
export function syscall(
  nr: number,
  a: Arg = 0,
  b: Arg = 0,
  c: Arg = 0,
  d: Arg = 0,
  e: Arg = 0,
  f: Arg = 0,
): number {
  raw ??= loadRaw(RAW_SYMBOLS).symbols.nsinit_syscall;
  return result(raw(BigInt(nr), word(a), word(b), word(c), word(d), word(e), word(f)));
}

function result(value: bigint): number {
  const n = Number(value);
  // The kernel returns -4095..-1 for an error, never as a valid result.
  if (n < 0 && n > -4096) {
    lastErrno = -n;
    return -1;
  }
  return n;
}

/**
 * Like {@link syscall} for a call that may block, run on a worker thread so
 * the event loop goes on; number arguments only (no buffer may move while
 * the call runs). errno() is set when the promise settles.
 */
export async function syscallWaiting(nr: number, a = 0, b = 0, c = 0): Promise<number> {
  rawWaiting ??= loadRaw(RAW_WAITING_SYMBOLS).symbols.nsinit_syscall;
  return result(await rawWaiting(BigInt(nr), BigInt(a), BigInt(b), BigInt(c), 0n, 0n, 0n));
}

/** Directory fd meaning "the current directory" for *at calls. */
const AT_FDCWD = -100;
const AT_REMOVEDIR = 0x200;
const RENAME_NOREPLACE = 1;

/** The calls the runtime makes, with the C library's names and argument order. */
export const sys = {
  open: (path: Uint8Array, flags: number, mode: number) =>
    syscall(NR.openat, AT_FDCWD, path, flags, mode),
  openat: (dirfd: number, path: Uint8Array, flags: number, mode: number) =>
    syscall(NR.openat, dirfd, path, flags, mode),
  openat2: (dirfd: number, path: Uint8Array, how: Uint8Array) =>
    syscall(NR.openat2, dirfd, path, how, how.length),
  close: (fd: number) => syscall(NR.close, fd),
  read: (fd: number, buf: Uint8Array, count: number) => syscall(NR.read, fd, buf, count),
  write: (fd: number, buf: Uint8Array, count: number) => syscall(NR.write, fd, buf, count),
  mkdir: (path: Uint8Array, mode: number) => syscall(NR.mkdirat, AT_FDCWD, path, mode),
  rmdir: (path: Uint8Array) => syscall(NR.unlinkat, AT_FDCWD, path, AT_REMOVEDIR),
  unlink: (path: Uint8Array) => syscall(NR.unlinkat, AT_FDCWD, path, 0),
  rename: (from: Uint8Array, to: Uint8Array) =>
    syscall(NR.renameat2, AT_FDCWD, from, AT_FDCWD, to, 0),
  renameNoReplace: (from: Uint8Array, to: Uint8Array) =>
    syscall(NR.renameat2, AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE),
  readlink: (path: Uint8Array, buf: Uint8Array) =>
    syscall(NR.readlinkat, AT_FDCWD, path, buf, buf.length),
  statx: (dirfd: number, path: Uint8Array, flags: number, mask: number, buf: Uint8Array) =>
    syscall(NR.statx, dirfd, path, flags, mask, buf),
  getdents64: (fd: number, buf: Uint8Array) => syscall(NR.getdents64, fd, buf, buf.length),
  fcntl: (fd: number, cmd: number, arg: number) => syscall(NR.fcntl, fd, cmd, arg),
  flock: (fd: number, operation: number) => syscall(NR.flock, fd, operation),
  /** flock(2) that waits for the lock on a worker thread. */
  flockWaiting: (fd: number, operation: number) => syscallWaiting(NR.flock, fd, operation),
  ioctl: (fd: number, request: number, arg: Uint8Array | null) =>
    syscall(NR.ioctl, fd, request, arg),
  memfd_create: (name: Uint8Array, flags: number) => syscall(NR.memfd_create, name, flags),
  pipe2: (fds: Uint8Array, flags: number) => syscall(NR.pipe2, fds, flags),
  socketpair: (domain: number, type: number, protocol: number, fds: Uint8Array) =>
    syscall(NR.socketpair, domain, type, protocol, fds),
  sendmsg: (fd: number, msg: Uint8Array, flags: number) => syscall(NR.sendmsg, fd, msg, flags),
  recvmsg: (fd: number, msg: Uint8Array, flags: number) => syscall(NR.recvmsg, fd, msg, flags),
  setsockopt: (fd: number, level: number, name: number, value: Uint8Array) =>
    syscall(NR.setsockopt, fd, level, name, value, value.length),
  shutdown: (fd: number, how: number) => syscall(NR.shutdown, fd, how),
  /** poll(2) without waiting (timeout 0), as ppoll with a zero timeout. */
  pollNow: (fds: Uint8Array, count: number) =>
    syscall(NR.ppoll, fds, count, new Uint8Array(16), null, 8),
  kill: (pid: number, signal: number) => syscall(NR.kill, pid, signal),
  waitid: (idtype: number, id: number, info: Uint8Array, options: number) =>
    syscall(NR.waitid, idtype, id, info, options, null),
  getpid: () => syscall(NR.getpid),
  socket: (domain: number, type: number, protocol: number) =>
    syscall(NR.socket, domain, type, protocol),
  bind: (fd: number, address: Uint8Array) => syscall(NR.bind, fd, address, address.length),
  getsockname: (fd: number, address: Uint8Array, length: Uint8Array) =>
    syscall(NR.getsockname, fd, address, length),
  sendto: (fd: number, buf: Uint8Array, flags: number, address: Uint8Array | null) =>
    syscall(NR.sendto, fd, buf, buf.length, flags, address, address?.length ?? 0),
  recvfrom: (fd: number, buf: Uint8Array, flags: number) =>
    syscall(NR.recvfrom, fd, buf, buf.length, flags, null, null),
  /** Joins the namespace of `fd` on the calling thread only (allowed for network namespaces in a threaded process). */
  setns: (fd: number, nstype: number) => syscall(NR.setns, fd, nstype),
  eventfd2: (initial: number, flags: number) => syscall(NR.eventfd2, initial, flags),
  inotify_init1: (flags: number) => syscall(NR.inotify_init1, flags),
  inotify_add_watch: (fd: number, path: Uint8Array, mask: number) =>
    syscall(NR.inotify_add_watch, fd, path, mask),
  bpf: (cmd: number, attr: Uint8Array) => syscall(NR.bpf, cmd, attr, attr.length),
  pidfd_open: (pid: number) => syscall(NR.pidfd_open, pid, 0),
  pidfd_send_signal: (pidfd: number, signal: number) =>
    syscall(NR.pidfd_send_signal, pidfd, signal, null, 0),
  /** rt_sigaction with the kernel's struct: handler, flags, restorer, one 64-bit mask word. */
  sigaction: (signal: number, handler: bigint) =>
    syscall(
      NR.rt_sigaction,
      signal,
      new Uint8Array(new BigUint64Array([handler, 0n, 0n, 0n]).buffer),
      null,
      8,
    ),
};
