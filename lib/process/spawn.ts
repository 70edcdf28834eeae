/**
 * Starts the helper with posix_spawn(3) from the sealed memfd. glibc's
 * posix_spawn uses a vfork-style clone and execve, which is safe from a
 * multithreaded process such as Deno; the helper then clones the container's
 * init itself.
 *
 * Descriptor contract (see ffi/helper/main.c): 0-2 stdio, 3.. extra files,
 * then the sync socket, then namespace fds to join; nothing else survives.
 *
 * @module
 */
import { libc } from "../../ffi/libc.ts";
import { errno, sys } from "../../ffi/syscalls.ts";
import { F } from "../../ffi/constants.ts";
import { SystemError } from "../errors.ts";
import { closeFd, cstr } from "../sys/fs.ts";
import { helperFd } from "./helper_binary.ts";

/** The descriptors to hand to the helper, in the contract's order. */
export interface HelperFds {
  stdio: readonly [number, number, number];
  extraFiles: readonly number[];
  sync: number;
  /** Namespace fds to join; they land right after the sync socket. */
  joins: readonly number[];
}

/** A started helper and where its descriptors landed. */
export interface SpawnedHelper {
  pid: number;
  /** The sync socket's number inside the helper. */
  syncFd: number;
  /** The helper-side numbers of `joins`, in order. */
  joinFds: number[];
}

// An opaque glibc structure, allocated larger than its x86_64/aarch64 size.
const FILE_ACTIONS_SIZE = 256;

function pointerArray(strings: Uint8Array[]): BigUint64Array<ArrayBuffer> {
  const array = new BigUint64Array(strings.length + 1);
  strings.forEach((s, i) => {
    array[i] = BigInt(
      Deno.UnsafePointer.value(Deno.UnsafePointer.of(s as Uint8Array<ArrayBuffer>)),
    );
  });
  return array;
}

function must(rc: number, op: string): void {
  if (rc !== 0) throw new SystemError(op, rc);
}

/** Spawns the helper; the caller sends it the plan over the sync socket. */
export function spawnHelper(fds: HelperFds): SpawnedHelper {
  const c = libc();
  const sources = [...fds.stdio, ...fds.extraFiles, fds.sync, ...fds.joins];
  const fdLimit = sources.length;
  const syncFd = 3 + fds.extraFiles.length;

  // Move every source above the targets first, so no dup2 clobbers another source.
  const high: number[] = [];
  let memfd = -1;
  const fileActions = new Uint8Array(FILE_ACTIONS_SIZE);
  try {
    for (const fd of sources) {
      const copy = sys.fcntl(fd, F.DUPFD_CLOEXEC, fdLimit);
      if (copy < 0) throw new SystemError("fcntl F_DUPFD_CLOEXEC", errno(), { target: `fd ${fd}` });
      high.push(copy);
    }
    // The exec path must not be among the fds the file actions overwrite.
    const helper = helperFd();
    memfd = helper >= fdLimit ? -1 : sys.fcntl(helper, F.DUPFD_CLOEXEC, fdLimit);
    if (helper < fdLimit && memfd < 0) throw new SystemError("fcntl F_DUPFD_CLOEXEC", errno());
    const path = cstr(`/proc/self/fd/${memfd >= 0 ? memfd : helper}`);

    must(c.posix_spawn_file_actions_init(fileActions), "posix_spawn_file_actions_init");
    high.forEach((fd, target) => {
      must(
        c.posix_spawn_file_actions_adddup2(fileActions, fd, target),
        "posix_spawn_file_actions_adddup2",
      );
    });

    const argvStrings = [cstr("nsinit-helper"), cstr(String(syncFd)), cstr(String(fdLimit))];
    const argv = pointerArray(argvStrings);
    const envp = pointerArray([]);
    const pid = new Int32Array(1);
    const rc = c.posix_spawn(
      new Uint8Array(pid.buffer),
      path,
      fileActions,
      null, // default attributes: the helper resets signals itself (fewer FFI symbols to bind)
      new Uint8Array(argv.buffer),
      new Uint8Array(envp.buffer),
    );
    if (rc !== 0) throw new SystemError("posix_spawn", rc, { target: "nsinit helper" });
    const joinFds = fds.joins.map((_, i) => syncFd + 1 + i);
    return { pid: pid[0]!, syncFd, joinFds };
  } finally {
    c.posix_spawn_file_actions_destroy(fileActions);
    high.forEach(closeFd);
    if (memfd >= 0) closeFd(memfd);
  }
}
