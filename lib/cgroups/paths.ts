/**
 * Where a container's cgroup lives on each hierarchy. As in the seed, the
 * cgroup is `parent/name`; an absolute parent is taken from the hierarchy's
 * root, a relative one from the directory of the host's init (pid 1).
 *
 * @module
 */
import { join, normalize } from "../_deps/path.ts";
import { type Hierarchy, normaliseKey } from "./hierarchies.ts";

/** The container's directory on one hierarchy. */
export interface CgroupDir {
  hierarchy: Hierarchy;
  /** Absolute path of the container's cgroup directory. */
  path: string;
}

/** Computes the container's directory on every hierarchy. */
export function cgroupDirs(
  hierarchies: readonly Hierarchy[],
  initPaths: ReadonlyMap<string, string>,
  cgroup: { parent: string; name: string },
): CgroupDir[] {
  return hierarchies.map((hierarchy) => {
    let base = "/";
    if (!cgroup.parent.startsWith("/")) {
      const initPath = initPaths.get(normaliseKey(hierarchy.key)) ?? "/";
      base = initPath.startsWith(hierarchy.root)
        ? initPath.slice(hierarchy.root.length) || "/"
        : "/";
    }
    const relative = normalize(join("/", base, cgroup.parent, cgroup.name));
    return { hierarchy, path: join(hierarchy.mountpoint, relative) };
  });
}

/** The seed's state.json shape: each subsystem (and "unified" for v2) to its directory. */
export function cgroupPathsRecord(dirs: readonly CgroupDir[]): Record<string, string> {
  const record: Record<string, string> = {};
  for (const { hierarchy, path } of dirs) {
    if (hierarchy.version === 2) record["unified"] = path;
    for (const subsystem of hierarchy.subsystems) record[subsystem] = path;
  }
  return record;
}

/** How a process enters a set of cgroup directories: v1 `tasks` files to write, a v2 directory to be cloned into. */
export function cgroupPlacement(dirs: Iterable<{ path: string; version: 1 | 2 }>): {
  enter: string[];
  cloneInto: string;
} {
  const enter = new Set<string>();
  let cloneInto = "";
  for (const { path, version } of dirs) {
    if (version === 2) cloneInto = path;
    else enter.add(`${path}/tasks`);
  }
  return { enter: [...enter], cloneInto };
}

/** The same directories read back from a state file's record ("unified" is the v2 one). */
export function dirsFromRecord(
  record: Readonly<Record<string, string>>,
): { path: string; version: 1 | 2 }[] {
  return Object.entries(record).map(([key, path]) => ({
    path,
    version: key === "unified" ? 2 : 1,
  }));
}
