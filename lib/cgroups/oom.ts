/**
 * Out-of-memory events of a cgroup, as an async iterable (the seed's
 * `NotifyOOM`).
 *
 * v1: an eventfd is registered for `memory.oom_control` through
 * `cgroup.event_control`; the kernel adds to its counter at each OOM, and
 * once more when the cgroup is removed, which is told apart by the cgroup
 * directory being gone.
 *
 * v2: `memory.events` is watched with inotify (the kernel reports each
 * change of it as IN_MODIFY); its `oom` and `oom_kill` counters are re-read
 * and their increments reported. The end of the cgroup is seen as the
 * directory's IN_DELETE in its parent (cgroupfs sends no IN_DELETE_SELF
 * while the watch holds the inode).
 *
 * The waiting is a poll(2) on a worker thread, over the event descriptor and
 * a wake-up eventfd of our own, so `return()` (or `close()`) ends a pending
 * `next()` at once and lets the event loop finish.
 *
 * @module
 */
import { Errno } from "../../ffi/_errno.ts";
import { libc } from "../../ffi/libc.ts";
import { errno, sys } from "../../ffi/syscalls.ts";
import { O, POLL } from "../../ffi/constants.ts";
import { ContainerError, SystemError } from "../errors.ts";
import { check, closeFd, cstr, lstat, openFile, tryReadTextFile, writeFile } from "../sys/fs.ts";

/** One report of out-of-memory events. */
export interface OomEvent {
  /** OOM situations since the previous report (v1: eventfd counts; v2: `oom` increments). */
  count: number;
  /** Processes the OOM killer killed since the previous report (v2 `oom_kill`); null on v1. */
  kills: number | null;
}

const EFD_CLOEXEC = O.CLOEXEC;
const EFD_NONBLOCK = O.NONBLOCK;
const IN = {
  MODIFY: 0x2,
  MOVED_FROM: 0x40,
  DELETE: 0x200,
  DELETE_SELF: 0x400,
  IGNORED: 0x8000,
  NONBLOCK: O.NONBLOCK,
  CLOEXEC: O.CLOEXEC,
} as const;

/** Waits until one of `fds` is readable (or in error); returns each one's revents. */
async function waitForAny(fds: readonly number[]): Promise<number[]> {
  const pollfds = new Uint8Array(8 * fds.length);
  const view = new DataView(pollfds.buffer);
  fds.forEach((fd, i) => {
    view.setInt32(i * 8, fd, true);
    view.setInt16(i * 8 + 4, POLL.IN, true);
  });
  const revents = () => fds.map((_, i) => view.getInt16(i * 8 + 6, true));
  for (;;) {
    const n = await libc().poll_async(pollfds, BigInt(fds.length), -1);
    if (n > 0) return revents();
    // errno is not readable across threads; poll only fails with EINTR or ENOMEM here.
    const again = sys.pollNow(pollfds, fds.length);
    if (again > 0) return revents();
    if (again < 0 && errno() !== Errno.EINTR) {
      throw new SystemError("poll", errno(), { target: `fds ${fds.join(", ")}` });
    }
  }
}

/** Reads an eventfd's counter (resetting it); 0 when it was not signalled. */
function readCounter(fd: number): number {
  const buffer = new Uint8Array(8);
  for (;;) {
    if (sys.read(fd, buffer, 8) === 8) {
      return Number(new DataView(buffer.buffer).getBigUint64(0, true));
    }
    const code = errno();
    if (code === Errno.EAGAIN) return 0;
    if (code !== Errno.EINTR) throw new SystemError("read", code, { target: `eventfd ${fd}` });
  }
}

function parseCounters(text: string): { oom: number; oomKill: number } {
  const value = (key: string) => Number(new RegExp(`^${key} (\\d+)$`, "m").exec(text)?.[1] ?? 0);
  return { oom: value("oom"), oomKill: value("oom_kill") };
}

/** What a round of waiting found: an event, nothing worth reporting, or the end of the cgroup. */
type Outcome = OomEvent | "none" | "gone";

interface Source {
  fd: number;
  /** Reads what woke the poll. */
  read(): Outcome;
}

function v1Source(dir: string): Source {
  const fd = check(sys.eventfd2(0, EFD_CLOEXEC | EFD_NONBLOCK), "eventfd2");
  try {
    const control = openFile(`${dir}/memory.oom_control`, O.RDONLY);
    try {
      writeFile(`${dir}/cgroup.event_control`, `${fd} ${control}`);
    } finally {
      closeFd(control); // the registration holds the eventfd, not this file
    }
  } catch (error) {
    closeFd(fd);
    throw error;
  }
  return {
    fd,
    read: () => {
      const count = readCounter(fd);
      // The kernel signals once more when it removes the cgroup.
      if (lstat(`${dir}/memory.oom_control`) === null) return "gone";
      return count > 0 ? { count, kills: null } : "none";
    },
  };
}

function v2Source(dir: string): Source {
  const file = `${dir}/memory.events`;
  const slash = dir.replace(/\/+$/, "").lastIndexOf("/");
  const parent = dir.slice(0, slash) || "/";
  const name = dir.replace(/\/+$/, "").slice(slash + 1);
  const fd = check(sys.inotify_init1(IN.CLOEXEC | IN.NONBLOCK), "inotify_init1");
  let last: { oom: number; oomKill: number };
  let fileWatch: number;
  let parentWatch: number;
  try {
    fileWatch = check(
      sys.inotify_add_watch(fd, cstr(file), IN.MODIFY | IN.DELETE_SELF),
      "inotify_add_watch",
      file,
    );
    parentWatch = check(
      sys.inotify_add_watch(fd, cstr(parent), IN.DELETE | IN.MOVED_FROM),
      "inotify_add_watch",
      parent,
    );
    const text = tryReadTextFile(file);
    if (text === null) throw new SystemError("open", Errno.ENOENT, { target: file });
    last = parseCounters(text);
  } catch (error) {
    closeFd(fd);
    throw error;
  }
  const buffer = new Uint8Array(4096);
  const view = new DataView(buffer.buffer);
  const decoder = new TextDecoder();
  return {
    fd,
    read: () => {
      let gone = false;
      for (;;) {
        const n = sys.read(fd, buffer, buffer.length);
        if (n < 0) {
          const code = errno();
          if (code === Errno.EINTR) continue;
          if (code === Errno.EAGAIN) break;
          throw new SystemError("read", code, { target: `inotify ${fd}` });
        }
        for (let offset = 0; offset < n;) {
          const wd = view.getInt32(offset, true);
          const mask = view.getUint32(offset + 4, true);
          const length = view.getUint32(offset + 12, true);
          const entry = decoder.decode(buffer.subarray(offset + 16, offset + 16 + length))
            .replace(/\0+$/, "");
          if (wd === fileWatch && (mask & (IN.DELETE_SELF | IN.IGNORED))) gone = true;
          if (wd === parentWatch && (mask & (IN.DELETE | IN.MOVED_FROM)) && entry === name) {
            gone = true;
          }
          offset += 16 + length;
        }
      }
      const text = gone ? null : tryReadTextFile(file);
      if (text === null) return "gone";
      const now = parseCounters(text);
      const event = {
        count: Math.max(0, now.oom - last.oom),
        kills: Math.max(0, now.oomKill - last.oomKill),
      };
      last = now;
      return event.count > 0 || event.kills > 0 ? event : "none";
    },
  };
}

/** The v1 memory cgroup when there is one, else the v2 directory's `memory.events`. */
function sourceFor(paths: Readonly<Record<string, string>>): Source {
  const memory = paths["memory"];
  if (memory !== undefined) return v1Source(memory);
  const unified = paths["unified"];
  if (unified !== undefined && lstat(`${unified}/memory.events`) !== null) {
    return v2Source(unified);
  }
  throw new ContainerError(
    "SystemError",
    "The container has no memory cgroup to watch: neither a v1 memory cgroup nor " +
      "`memory.events` in its cgroup v2 directory",
  );
}

/**
 * The OOM events of one cgroup, from the moment it was created. Iterate it
 * with `for await`; the iteration ends when the cgroup is removed, or when
 * the consumer stops (`break`, `return()`, {@link OomEvents.close}), which
 * also ends a pending wait at once. Release it with `await using` or
 * `close()` when it is not iterated to the end.
 */
export class OomEvents implements AsyncIterableIterator<OomEvent>, AsyncDisposable {
  #source: Source;
  #wake: number;
  #pending: Promise<unknown> | undefined;
  #closing: Promise<void> | undefined;
  #queue: Promise<unknown> = Promise.resolve();

  /** Starts listening; the same as {@link notifyOom}. */
  constructor(paths: Readonly<Record<string, string>>) {
    this.#wake = check(sys.eventfd2(0, EFD_CLOEXEC | EFD_NONBLOCK), "eventfd2");
    try {
      this.#source = sourceFor(paths);
    } catch (error) {
      closeFd(this.#wake);
      throw error;
    }
  }

  /** The next report; `done` once the cgroup is gone or the events are closed. */
  next(): Promise<IteratorResult<OomEvent, undefined>> {
    const result = this.#queue.then(() => this.#next());
    this.#queue = result.catch(() => undefined);
    return result;
  }

  async #next(): Promise<IteratorResult<OomEvent, undefined>> {
    while (this.#closing === undefined) {
      const pending = waitForAny([this.#source.fd, this.#wake]);
      this.#pending = pending;
      await pending;
      this.#pending = undefined;
      if (this.#closing !== undefined) break;
      const outcome = this.#source.read();
      if (outcome === "gone") break;
      if (outcome !== "none") return { done: false, value: outcome };
    }
    await this.close();
    return { done: true, value: undefined };
  }

  /** Stops: ends a pending `next()` and closes the descriptors. */
  async return(): Promise<IteratorResult<OomEvent, undefined>> {
    await this.close();
    return { done: true, value: undefined };
  }

  /** Closes the descriptors once no wait is pending; idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      const one = new Uint8Array(new BigUint64Array([1n]).buffer);
      sys.write(this.#wake, one, 8);
      await this.#pending?.catch(() => undefined);
      closeFd(this.#source.fd);
      closeFd(this.#wake);
    })();
    return this.#closing;
  }

  /** Returns itself: an `OomEvents` is iterated once. */
  [Symbol.asyncIterator](): this {
    return this;
  }

  /** Same as {@link OomEvents.close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/**
 * Starts listening for OOM events of a container's memory cgroup: the v1
 * one when `paths` has a `memory` hierarchy, else the v2 directory's
 * `memory.events`. Events from this call on are reported.
 *
 * @param paths Subsystem to directory, as in a container state's `cgroup_paths`.
 * @returns The events; iterate with `for await`, release with `close()` when not iterated to the end.
 * @throws {ContainerError} `SystemError` when the container has no memory cgroup.
 * @throws {SystemError} When the kernel refuses the registration.
 *
 * @example
 * ```ts
 * for await (const event of notifyOom(state.cgroup_paths)) {
 *   console.log(`OOM notification received (${event.count})`);
 * }
 * ```
 */
export function notifyOom(paths: Readonly<Record<string, string>>): OomEvents {
  return new OomEvents(paths);
}
