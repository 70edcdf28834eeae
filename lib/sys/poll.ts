/**
 * Waiting for descriptors without blocking the event loop: poll(2) runs on a
 * worker thread (a nonblocking FFI call); the operation itself then runs
 * synchronously on the caller's thread, where errno can be read.
 *
 * @module
 */
import { libc } from "../../ffi/libc.ts";
import { errno, sys } from "../../ffi/syscalls.ts";
import { POLL } from "../../ffi/constants.ts";
import { Errno } from "../../ffi/_errno.ts";
import { SystemError } from "../errors.ts";

/** Waits until `fd` has one of `events` (default readable); returns the revents. */
export async function waitFor(
  fd: number,
  events: number = POLL.IN,
  timeoutMs = -1,
): Promise<number> {
  const pollfd = new Uint8Array(8);
  const view = new DataView(pollfd.buffer);
  view.setInt32(0, fd, true);
  view.setInt16(4, events, true);
  for (;;) {
    const n = await libc().poll_async(pollfd, 1n, timeoutMs);
    if (n >= 0) return n === 0 ? 0 : view.getInt16(6, true);
    // errno is not readable across threads; poll only fails with EINTR or ENOMEM here.
    const again = sys.pollNow(pollfd, 1);
    if (again > 0) return view.getInt16(6, true);
    if (again < 0 && errno() !== Errno.EINTR) {
      throw new SystemError("poll", errno(), { target: `fd ${fd}` });
    }
  }
}

/** Returns the revents of `fd` right now, without waiting. */
export function pollNow(fd: number, events: number = POLL.IN): number {
  const pollfd = new Uint8Array(8);
  const view = new DataView(pollfd.buffer);
  view.setInt32(0, fd, true);
  view.setInt16(4, events, true);
  // poll is never restarted after a signal handler, even with a zero timeout.
  let n: number;
  do n = sys.pollNow(pollfd, 1); while (n < 0 && errno() === Errno.EINTR);
  if (n < 0) throw new SystemError("poll", errno(), { target: `fd ${fd}` });
  return n === 0 ? 0 : view.getInt16(6, true);
}
