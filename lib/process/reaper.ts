/**
 * Container processes are this process's children and must be reaped
 * promptly, waited for or not: a joined process killed with its pid
 * namespace stays a zombie until its parent reaps it, and until then the
 * kernel holds the namespace's init in its exit. A SIGCHLD listener reaps
 * every tracked process in the background; unlike a pending poll, it does
 * not keep Deno's event loop alive.
 *
 * @module
 */
import type { ExitStatus } from "../sys/proc.ts";
import { closePidfd, tryReapPidfd } from "../sys/proc.ts";

interface Tracked {
  pidfd: number;
  settle: (status: ExitStatus) => void;
  fail: (error: unknown) => void;
}

const tracked = new Map<number, Tracked>();
let listening = false;

function reapIfExited(entry: Tracked): boolean {
  let status: ExitStatus | null;
  try {
    status = tryReapPidfd(entry.pidfd);
  } catch (error) {
    untrack(entry);
    entry.fail(error);
    return true;
  }
  if (status === null) return false;
  untrack(entry);
  entry.settle(status);
  return true;
}

function untrack(entry: Tracked): void {
  tracked.delete(entry.pidfd);
  closePidfd(entry.pidfd);
  if (tracked.size === 0 && listening) {
    Deno.removeSignalListener("SIGCHLD", onChildExit);
    listening = false;
  }
}

function onChildExit(): void {
  for (const entry of [...tracked.values()]) reapIfExited(entry);
}

/** A process the reaper watches. */
export interface Reaped {
  /** Settles with the exit status once the process has been reaped. */
  readonly exited: Promise<ExitStatus>;
  /** Reaps now if the process has exited; true once it has been reaped. */
  check(): boolean;
}

/** Starts watching a child through its pidfd; the reaper closes the pidfd after reaping. */
export function track(pidfd: number): Reaped {
  let entry!: Tracked;
  const exited = new Promise<ExitStatus>((settle, fail) => {
    entry = { pidfd, settle, fail };
  });
  tracked.set(pidfd, entry);
  if (!listening) {
    Deno.addSignalListener("SIGCHLD", onChildExit);
    listening = true;
  }
  // It may have exited before the listener was there.
  reapIfExited(entry);
  return { exited, check: () => !tracked.has(pidfd) || reapIfExited(entry) };
}
