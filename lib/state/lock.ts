/**
 * Container locks. The lock is flock(2) on the container's state directory
 * `<root>/<id>` itself: there is no lock file to create, and nothing is left
 * when the directory goes. Exclusive for what changes a container (starting
 * its init, destroy, and updates), shared for what only needs it to stay as
 * it is (joining a process, sending a signal). A lock is held for one
 * operation, never for a container's life.
 *
 * A lock is taken on an open directory, so a holder that waited while the
 * container was destroyed (and perhaps created again under the same id)
 * finds out: the locked directory must still be the one at `<root>/<id>`,
 * with the inode the caller first saw, and hold a state file.
 *
 * @module
 */
import { Errno } from "../../ffi/_errno.ts";
import { errno, sys } from "../../ffi/syscalls.ts";
import { LOCK, O } from "../../ffi/constants.ts";
import { ContainerError, SystemError } from "../errors.ts";
import { closeFd, cstr, fstat, stat } from "../sys/fs.ts";
import { statePath } from "./state.ts";

/** Shared (join, signal) or exclusive (start, destroy, update). */
export type LockMode = "shared" | "exclusive";

/** Locks this process holds, by directory, so a synchronous lock never waits for itself. */
const held = new Map<string, { shared: number; exclusive: number }>();

/** A held container lock; `release()` is idempotent. */
export class ContainerLock implements Disposable {
  #fd: number;
  #dir: string;
  #mode: LockMode;

  /** @internal Use {@link lockContainer} or {@link lockContainerNow}. */
  constructor(fd: number, dir: string, mode: LockMode) {
    this.#fd = fd;
    this.#dir = dir;
    this.#mode = mode;
    const count = held.get(dir) ?? { shared: 0, exclusive: 0 };
    count[mode]++;
    held.set(dir, count);
  }

  /** Releases the lock (closing the descriptor drops it). */
  release(): void {
    if (this.#fd < 0) return;
    closeFd(this.#fd);
    this.#fd = -1;
    const count = held.get(this.#dir)!;
    count[this.#mode]--;
    if (count.shared === 0 && count.exclusive === 0) held.delete(this.#dir);
  }

  /** Same as `release()`. */
  [Symbol.dispose](): void {
    this.release();
  }
}

function operation(mode: LockMode): number {
  return mode === "exclusive" ? LOCK.EX : LOCK.SH;
}

function notExists(id: string): ContainerError {
  return new ContainerError("ContainerNotExists", `Container \`${id}\` does not exist`);
}

function openDir(dir: string, id: string): number {
  const fd = sys.open(cstr(dir), O.RDONLY | O.DIRECTORY | O.CLOEXEC, 0);
  if (fd >= 0) return fd;
  const code = errno();
  if (code === Errno.ENOENT || code === Errno.ENOTDIR) throw notExists(id);
  throw new SystemError("open state directory", code, { target: dir });
}

/** After the lock is taken: is the locked directory still the container's? */
function verify(fd: number, dir: string, id: string, ino: bigint | undefined): void {
  const locked = fstat(fd).ino;
  const current = stat(dir);
  const same = current !== null && current.ino === locked && (ino === undefined || ino === locked);
  if (!same || stat(statePath(dir)) === null) throw notExists(id);
}

function take(fd: number, dir: string, id: string, mode: LockMode, ino?: bigint): ContainerLock {
  try {
    verify(fd, dir, id, ino);
  } catch (error) {
    closeFd(fd);
    throw error;
  }
  return new ContainerLock(fd, dir, mode);
}

function lockFailed(fd: number, dir: string, code: number): SystemError {
  closeFd(fd);
  return new SystemError("flock", code, { target: dir });
}

/**
 * Locks a container's state directory, waiting (on a worker thread, the
 * event loop goes on) while another process or operation holds it.
 *
 * @param ino the directory's inode when the caller opened the container: a
 *   directory re-created under the same id is not the same container.
 * @throws {ContainerError} `ContainerNotExists` when the container is gone,
 *   or went while this waited.
 */
export async function lockContainer(
  dir: string,
  id: string,
  mode: LockMode,
  ino?: bigint,
): Promise<ContainerLock> {
  const fd = openDir(dir, id);
  if (sys.flock(fd, operation(mode) | LOCK.NB) < 0) {
    let code = errno();
    if (code !== Errno.EAGAIN) throw lockFailed(fd, dir, code);
    for (;;) {
      if (await sys.flockWaiting(fd, operation(mode)) === 0) break;
      code = errno();
      if (code !== Errno.EINTR) throw lockFailed(fd, dir, code);
    }
  }
  return take(fd, dir, id, mode, ino);
}

/**
 * Locks a container's state directory from synchronous code. It waits only
 * for other processes: while this process itself holds the container in a
 * conflicting mode (an unfinished start or destroy), waiting would never
 * end, so it fails instead.
 *
 * @throws {ContainerError} `ContainerBusy` when this process holds a
 *   conflicting lock; `ContainerNotExists` when the container is gone.
 */
export function lockContainerNow(
  dir: string,
  id: string,
  mode: LockMode,
  ino?: bigint,
): ContainerLock {
  const mine = held.get(dir);
  if (mine && (mine.exclusive > 0 || (mode === "exclusive" && mine.shared > 0))) {
    throw new ContainerError(
      "ContainerBusy",
      `Container \`${id}\` is busy: an operation of this process on it has not finished`,
    );
  }
  const fd = openDir(dir, id);
  while (sys.flock(fd, operation(mode)) < 0) {
    const code = errno();
    if (code !== Errno.EINTR) throw lockFailed(fd, dir, code);
  }
  return take(fd, dir, id, mode, ino);
}
