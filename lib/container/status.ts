/**
 * A container's status, derived from its state file and the kernel: the
 * init is alive only if its pid still runs with the recorded start time.
 *
 * @module
 */
import type { StateFile } from "../state/state.ts";
import { frozen } from "../cgroups/freezer.ts";
import { processStat } from "../sys/proc.ts";

/**
 * The lifecycle of a container: `stopped` (created, or its first process
 * has exited), `running`, `paused` (frozen), `destroyed`.
 */
export type ContainerStatus = "stopped" | "running" | "paused" | "destroyed";

/** True when the state's init process is alive (not exited, not a recycled pid). */
export function initAlive(state: StateFile): boolean {
  if (state.init_process_pid <= 0) return false;
  const stat = processStat(state.init_process_pid);
  if (stat === null || stat.start !== state.init_process_start) return false;
  return stat.state !== "Z" && stat.state !== "X";
}

/** The status a state file describes right now. */
export function statusOf(state: StateFile | null): ContainerStatus {
  if (state === null) return "destroyed";
  if (!initAlive(state)) return "stopped";
  return frozen(state.cgroup_paths) ? "paused" : "running";
}
