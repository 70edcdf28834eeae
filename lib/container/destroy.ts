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

/** Removes everything the container made; the caller has checked it is stopped. */
export async function destroyContainer(dir: string, state: StateFile): Promise<void> {
  if (Object.keys(state.cgroup_paths).length > 0) {
    // Normally empty by now (an init in its own pid namespace takes everything
    // with it), but an init whose creator died before recording it, or the
    // processes of a host-pid container, may still be there.
    await killCgroupProcesses(state);
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
