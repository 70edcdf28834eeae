/**
 * Who this process is on the host: its effective uid and gid, read from
 * /proc/self/status (no FFI call and no `--allow-sys` needed).
 *
 * @module
 */
import { readTextFile } from "./fs.ts";

/** The effective ids of this process. */
export interface CallerIds {
  /** The effective uid. */
  uid: number;
  /** The effective gid. */
  gid: number;
}

/** Field 2 (effective) of a `Uid:` or `Gid:` line of /proc/<pid>/status. */
function effective(status: string, key: "Uid" | "Gid"): number {
  const line = status.split("\n").find((l) => l.startsWith(`${key}:`)) ?? "";
  return Number(line.split(/\s+/)[2] ?? NaN);
}

/**
 * This process's effective uid and gid on the host: a uid other than 0
 * means a rootless container (see {@link rootlessConfig}).
 *
 * @returns The ids, read from /proc/self/status.
 * @throws {SystemError} when /proc is not mounted.
 * @example
 * ```ts ignore
 * import { callerIds } from "./mod.ts";
 * const { uid } = callerIds();
 * ```
 */
export function callerIds(): CallerIds {
  const status = readTextFile("/proc/self/status");
  return { uid: effective(status, "Uid"), gid: effective(status, "Gid") };
}
