/**
 * Processes over libc: start times (to tell a live init from a recycled
 * pid), pidfds, signals and waiting without blocking the event loop.
 *
 * @module
 */
import { errno, sys } from "../../ffi/syscalls.ts";
import { CLD, P_PID, P_PIDFD, POLL, SIGNALS, W } from "../../ffi/constants.ts";
import { Errno } from "../../ffi/_errno.ts";
import { SystemError } from "../errors.ts";
import { closeFd, tryReadTextFile } from "./fs.ts";
import { waitFor } from "./poll.ts";

/** What /proc/<pid>/stat says of a process's life. */
export interface ProcessStat {
  /** Field 3: R, S, D, Z (zombie), X (dead), ... */
  state: string;
  /** Field 22: start time in clock ticks since boot, which tells a recycled pid apart. */
  start: string;
}

/** Reads /proc/<pid>/stat, or returns null when there is no such process. */
export function processStat(pid: number): ProcessStat | null {
  const stat = tryReadTextFile(`/proc/${pid}/stat`);
  if (stat === null) return null;
  // The command name (field 2) may contain spaces and parentheses: fields
  // after it are counted from the last ')'.
  const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return { state: rest[0] ?? "", start: rest[19] ?? "" };
}

/** How a process ended, in the shape of Deno.CommandStatus. */
export interface ExitStatus {
  /** True when it exited with status 0. */
  success: boolean;
  /** The exit status, or 128 + the signal number when killed by a signal. */
  code: number;
  /** The signal that killed it, or null. */
  signal: Deno.Signal | null;
}

function signalName(number: number): Deno.Signal | null {
  const entry = Object.entries(SIGNALS).find(([, n]) => n === number);
  return entry ? entry[0] as Deno.Signal : null;
}

/** Converts a signal name or number to its number. */
export function signalNumber(signal: Deno.Signal | number): number {
  if (typeof signal === "number") return signal;
  const number = SIGNALS[signal];
  if (number === undefined) throw new TypeError(`Unknown signal ${signal}`);
  return number;
}

function decodeSiginfo(info: Uint8Array): ExitStatus {
  const view = new DataView(info.buffer);
  const code = view.getInt32(8, true); // si_code
  const status = view.getInt32(24, true); // si_status
  if (code === CLD.EXITED) return { success: status === 0, code: status, signal: null };
  return { success: false, code: 128 + status, signal: signalName(status) };
}

/** Opens a pidfd for `pid` (close-on-exec). */
export function pidfdOpen(pid: number): number {
  const fd = sys.pidfd_open(pid);
  if (fd < 0) throw new SystemError("pidfd_open", errno(), { target: `pid ${pid}` });
  return fd;
}

/** Sends a signal through a pidfd (never to a recycled pid). */
export function pidfdSignal(pidfd: number, signal: number): void {
  const rc = sys.pidfd_send_signal(pidfd, signal);
  if (rc < 0) throw new SystemError("pidfd_send_signal", errno(), { target: `signal ${signal}` });
}

/** Reaps a child through its pidfd if it has exited; null while it runs. */
export function tryReapPidfd(pidfd: number): ExitStatus | null {
  const info = new Uint8Array(128);
  for (;;) {
    const rc = sys.waitid(P_PIDFD, pidfd, info, W.EXITED | W.NOHANG);
    if (rc === 0) {
      return new DataView(info.buffer).getInt32(16, true) !== 0 ? decodeSiginfo(info) : null; // si_pid
    }
    const code = errno();
    if (code !== Errno.EINTR) throw new SystemError("waitid", code, { target: `pidfd ${pidfd}` });
  }
}

/** Reaps a child through its pidfd, waiting without blocking the event loop. */
export async function waitPidfd(pidfd: number): Promise<ExitStatus> {
  for (;;) {
    const status = tryReapPidfd(pidfd);
    if (status !== null) return status;
    await waitFor(pidfd, POLL.IN);
  }
}

/** Reaps a child by pid, blocking: only for a child known to be exiting now. */
export function reapNow(pid: number): ExitStatus {
  const info = new Uint8Array(128);
  for (;;) {
    if (sys.waitid(P_PID, pid, info, W.EXITED) === 0) return decodeSiginfo(info);
    const code = errno();
    if (code !== Errno.EINTR) throw new SystemError("waitid", code, { target: `pid ${pid}` });
  }
}

/** Sends a signal to a pid; returns false when there is no such process. */
export function kill(pid: number, signal: number): boolean {
  if (sys.kill(pid, signal) === 0) return true;
  const code = errno();
  if (code === Errno.ESRCH) return false;
  throw new SystemError("kill", code, { target: `pid ${pid}` });
}

/** Closes a pidfd. */
export function closePidfd(fd: number): void {
  closeFd(fd);
}
