/**
 * Destroying a stopped container: what is left of its processes, its
 * cgroups, and its state directory. Namespaces and cgroups it joined but did
 * not create are left alone.
 *
 * @module
 */
import { removeCgroups } from "../cgroups/manager.ts";
import type { StateFile } from "../state/state.ts";
import { removeAll } from "../sys/fs.ts";
import { killCgroupProcesses } from "./start.ts";

/** Removes everything the container made; the caller has checked it is stopped. */
export async function destroyContainer(dir: string, state: StateFile): Promise<void> {
  if (Object.keys(state.cgroup_paths).length > 0) {
    await killCgroupProcesses(state);
    await removeCgroups(new Set(Object.values(state.cgroup_paths)), state.cgroup_created);
  }
  removeAll(dir);
}
