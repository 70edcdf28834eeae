/**
 * Finding the mounted cgroup hierarchies (v1, v2, or both: "hybrid") from
 * /proc/self/mountinfo, and where a process sits in each from
 * /proc/<pid>/cgroup. Pure parsers plus one function that reads the files.
 *
 * @module
 */
import { O, POLL } from "../../ffi/constants.ts";
import { closeFd, openFile, readAll, readTextFile } from "../sys/fs.ts";
import { pollNow } from "../sys/poll.ts";

/** One mounted cgroup hierarchy. */
export interface Hierarchy {
  /** Where it is mounted, such as `/sys/fs/cgroup/memory`. */
  mountpoint: string;
  /** The directory of the hierarchy that is mounted there (`/` unless in a cgroup namespace). */
  root: string;
  version: 1 | 2;
  /** v1 controllers (or `name=systemd`) bound to it; empty for v2. */
  subsystems: string[];
  /** The key of this hierarchy in /proc/<pid>/cgroup: the subsystems joined by `,`, or "" for v2. */
  key: string;
}

function unescapeMountField(field: string): string {
  return field.replace(
    /\\([0-7]{3})/g,
    (_, octal: string) => String.fromCharCode(parseInt(octal, 8)),
  );
}

/**
 * Parses mountinfo text into cgroup hierarchies, one per hierarchy (a second
 * mount of the same hierarchy is skipped). `controllers` are the names from
 * /proc/cgroups, used to tell controllers from mount options.
 */
export function parseCgroupMounts(
  mountinfo: string,
  controllers: ReadonlySet<string>,
): Hierarchy[] {
  const seen = new Set<string>();
  const hierarchies: Hierarchy[] = [];
  for (const line of mountinfo.split("\n")) {
    const fields = line.split(" ");
    const dash = fields.indexOf("-");
    if (dash < 6 || fields.length < dash + 4) continue;
    const fstype = fields[dash + 1];
    if (fstype !== "cgroup" && fstype !== "cgroup2") continue;
    const device = fields[2]!;
    if (seen.has(device)) continue;
    seen.add(device);
    const options = fields[dash + 3]!.split(",");
    const subsystems = fstype === "cgroup2"
      ? []
      : options.filter((o) => controllers.has(o) || o.startsWith("name="));
    hierarchies.push({
      mountpoint: unescapeMountField(fields[4]!),
      root: unescapeMountField(fields[3]!),
      version: fstype === "cgroup2" ? 2 : 1,
      subsystems,
      key: subsystems.join(","),
    });
  }
  return hierarchies;
}

/** Parses /proc/cgroups into the set of controller names the kernel knows. */
export function parseControllers(procCgroups: string): Set<string> {
  const names = new Set<string>();
  for (const line of procCgroups.split("\n")) {
    if (line.startsWith("#") || line.trim() === "") continue;
    names.add(line.split(/\s+/)[0]!);
  }
  return names;
}

/** Parses /proc/<pid>/cgroup: hierarchy key (sorted controllers, "" for v2) to path. */
export function parseProcCgroup(text: string): Map<string, string> {
  const paths = new Map<string, string>();
  for (const line of text.split("\n")) {
    const first = line.indexOf(":");
    const second = line.indexOf(":", first + 1);
    if (first < 0 || second < 0) continue;
    paths.set(normaliseKey(line.slice(first + 1, second)), line.slice(second + 1));
  }
  return paths;
}

/** Controllers in a stable order, so mount options and /proc/<pid>/cgroup compare equal. */
export function normaliseKey(key: string): string {
  return key.split(",").filter((k) => k !== "").sort().join(",");
}

/** The hierarchies mounted in this process's mount namespace, and where the host's init sits in each. */
export interface CgroupLayout {
  hierarchies: Hierarchy[];
  /** /proc/1/cgroup: hierarchy key to the init's path. */
  initPaths: Map<string, string>;
}

let cached: { layout: CgroupLayout; mounts: number } | undefined;

/**
 * Reads the cgroup layout, once: it is kept until the mount table changes,
 * which an open /proc/self/mountinfo reports through poll (POLLPRI).
 */
export function cgroupLayout(): CgroupLayout {
  if (cached && !(pollNow(cached.mounts, POLL.PRI) & (POLL.PRI | POLL.ERR))) return cached.layout;
  if (cached) closeFd(cached.mounts);
  const mounts = openFile("/proc/self/mountinfo", O.RDONLY);
  try {
    const controllers = parseControllers(readTextFile("/proc/cgroups"));
    const layout = {
      hierarchies: parseCgroupMounts(
        new TextDecoder().decode(readAll(mounts, "/proc/self/mountinfo", 65536)),
        controllers,
      ),
      initPaths: parseProcCgroup(readTextFile("/proc/1/cgroup")),
    };
    cached = { layout, mounts };
    return layout;
  } catch (error) {
    closeFd(mounts);
    cached = undefined;
    throw error;
  }
}
