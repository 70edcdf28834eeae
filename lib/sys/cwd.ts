/**
 * The current directory through libc: `Deno.cwd()` would need
 * `--allow-read`, and the runtime needs only `--allow-ffi`.
 *
 * @module
 */
import { errno, sys } from "../../ffi/syscalls.ts";
import { SystemError } from "../errors.ts";

/** The process's current working directory. */
export function workingDirectory(): string {
  const buffer = new Uint8Array(4096);
  const n = sys.readlink(new TextEncoder().encode("/proc/self/cwd\0"), buffer);
  if (n < 0) throw new SystemError("readlink", errno(), { target: "/proc/self/cwd" });
  return new TextDecoder().decode(buffer.subarray(0, n));
}
