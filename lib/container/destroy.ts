/**
 * Destroying a stopped container: what is left of its processes, its
 * cgroups, the host ends of its veths, and its state directory. Namespaces
 * and cgroups it joined but did not create are left alone.
 *
 * @module
 */
import { removeCgroups } from "../cgroups/manager.ts";
import { type StateFile, statePath } from "../state/state.ts";
import { removeAll, rmdir, unlink } from "../sys/fs.ts";
import { deleteHostInterfaces, killCgroupProcesses } from "./start.ts";

/** True when the container made its own pid namespace: its init's death took every process with it. */
function ownPidNamespace(state: StateFile): boolean {
  const namespaces =
    (state.config as { namespaces?: { type: string; path?: string }[] }).namespaces ?? [];
  return namespaces.some((ns) => ns.type === "NEWPID" && !ns.path);
}

/** Removes everything the container made; the caller has checked it is stopped. */
export async function destroyContainer(dir: string, state: StateFile): Promise<void> {
  if (Object.keys(state.cgroup_paths).length > 0) {
    if (!ownPidNamespace(state)) await killCgroupProcesses(state);
    await removeCgroups(new Set(Object.values(state.cgroup_paths)), state.cgroup_created);
  }
  // Usually already gone with the network namespace; if not yet, now.
  deleteHostInterfaces(state.host_interfaces);
  // The directory holds state.json only, unless someone put more there.
  try {
    unlink(statePath(dir));
    rmdir(dir);
  } catch {
    removeAll(dir);
  }
}
