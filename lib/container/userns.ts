/**
 * The host side of user namespaces: checks made before anything is created
 * (the rootfs is reachable by the container's root, the host has the device
 * nodes to bind, the process's ids are mapped, which cgroups a caller
 * without root may write), and the id maps written at the init's sync point.
 *
 * @module
 */
import type { Config } from "../config/mod.ts";
import { hostIdOf, idMapText, isMapped } from "../config/mod.ts";
import type { CgroupDir } from "../cgroups/paths.ts";
import { ConfigError, type ConfigIssue, SystemError } from "../errors.ts";
import { dirname } from "../_deps/path.ts";
import { type FileInfo, stat, tryReadTextFile, writeFile } from "../sys/fs.ts";
import type { ExecUser } from "../user/lookup.ts";
import type { CallerIds } from "../sys/ids.ts";

/** Whether the config creates a user namespace. */
export function createsUserNamespace(config: Config): boolean {
  return config.namespaces.some((ns) => ns.type === "NEWUSER" && ns.path === "");
}

/** Whether a process with these host ids has every access in `bits` (4 read, 2 write, 1 search) to `info`. */
export function permits(info: FileInfo, ids: CallerIds, bits: number): boolean {
  if (ids.uid === 0) return true;
  const shift = info.uid === ids.uid ? 6 : info.gid === ids.gid ? 3 : 0;
  return ((info.mode >> shift) & bits) === bits;
}

/**
 * The rootfs and every directory above it must be searchable by the host
 * ids of container root, which mounts it. The runtime never chowns a rootfs
 * to make it so: that is the owner's choice.
 */
function rootfsIssues(config: Config): ConfigIssue[] {
  const uid = hostIdOf(config.uid_mappings, 0);
  const gid = hostIdOf(config.gid_mappings, 0);
  if (uid === undefined || gid === undefined || uid === 0) return [];
  const chain: string[] = [];
  for (let dir = config.rootfs; chain.at(-1) !== "/"; dir = dirname(dir)) chain.push(dir);
  for (const dir of chain.reverse()) {
    const info = stat(dir);
    if (info !== null && !permits(info, { uid, gid }, 1)) {
      return [{
        path: "rootfs",
        message:
          `\`${dir}\` is not searchable by container root (host uid ${uid}, gid ${gid}): give that uid access to the rootfs`,
      }];
    }
  }
  return [];
}

/** In a user namespace devices are bound from the host: the host must have each one, as configured. */
function deviceIssues(config: Config): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  config.devices.forEach((device, i) => {
    const info = stat(device.path);
    const kind = device.type === "c" ? "char" : device.type === "b" ? "block" : "fifo";
    const same = info !== null && info.kind === kind &&
      (kind === "fifo" || (info.rdevMajor === device.major && info.rdevMinor === device.minor));
    if (!same) {
      const node = kind === "fifo" ? "a fifo" : `${device.type} ${device.major}:${device.minor}`;
      issues.push({
        path: `devices[${i}].path`,
        message:
          `The host has no \`${device.path}\` as ${node}: in a user namespace device nodes are bound from the host, as mknod is not allowed there`,
      });
    }
  });
  return issues;
}

/**
 * Checks, before anything is created, what a new user namespace needs from
 * the host.
 *
 * @throws {ConfigError} naming `rootfs` or `devices[i].path`.
 */
export function checkUserNamespaceHost(config: Config): void {
  if (!config.namespaces.some((ns) => ns.type === "NEWUSER")) return;
  const issues = [
    ...(createsUserNamespace(config) ? rootfsIssues(config) : []),
    ...deviceIssues(config),
  ];
  if (issues.length > 0) throw new ConfigError(issues);
}

/**
 * The process's uid, gid and groups must be mapped in a new user namespace,
 * or the kernel refuses to switch to them.
 *
 * @throws {ConfigError} naming `process.user`.
 */
export function checkUserMapped(config: Config, user: ExecUser): void {
  if (!createsUserNamespace(config)) return;
  const unmapped: string[] = [];
  if (!isMapped(config.uid_mappings, user.uid)) unmapped.push(`uid ${user.uid}`);
  for (const gid of [user.gid, ...user.additionalGids]) {
    if (!isMapped(config.gid_mappings, gid)) unmapped.push(`gid ${gid}`);
  }
  if (unmapped.length > 0) {
    throw new ConfigError([{
      path: "process.user",
      message: `Not mapped in the user namespace: ${
        unmapped.join(", ")
      } (see \`uid_mappings\` and \`gid_mappings\`)`,
    }]);
  }
}

/** The deepest existing directory at or above `path`. */
function existingAncestor(path: string): { path: string; info: FileInfo } | null {
  for (let dir = path;; dir = dirname(dir)) {
    const info = stat(dir);
    if (info !== null) return { path: dir, info };
    if (dir === "/") return null;
  }
}

/**
 * The cgroup directories a caller without root may use: those it can
 * create (or that exist and are its own), on a delegated subtree. The
 * others are skipped: no cgroup file is written there.
 */
export function writableCgroupDirs(dirs: readonly CgroupDir[], ids: CallerIds): CgroupDir[] {
  return dirs.filter((dir) => {
    const found = existingAncestor(dir.path);
    if (found === null) return false;
    if (found.path === dir.path) return found.info.uid === ids.uid;
    return permits(found.info, ids, 2 | 1);
  });
}

/**
 * Writes the new user namespace's id maps, as the parent must (from the
 * namespace's parent): "deny" to setgroups first when the caller is not
 * root, as the kernel requires before an unprivileged gid_map.
 *
 * @throws {SystemError} naming the file and the errno.
 */
export function writeIdMaps(pid: number, config: Config, unprivileged: boolean): void {
  const files: [string, string][] = [];
  if (unprivileged) files.push(["setgroups", "deny"]);
  files.push(["uid_map", idMapText(config.uid_mappings)], [
    "gid_map",
    idMapText(config.gid_mappings),
  ]);
  for (const [file, content] of files) {
    const path = `/proc/${pid}/${file}`;
    try {
      writeFile(path, content);
    } catch (error) {
      if (!(error instanceof SystemError)) throw error;
      throw new SystemError(`write ${file}`, error.errno, {
        target: path,
        detail: content.trim().replaceAll("\n", ", "),
      });
    }
  }
}

/** Whether setgroups is allowed in the user namespace of a running process. */
export function setgroupsAllowed(pid: number): boolean {
  return tryReadTextFile(`/proc/${pid}/setgroups`)?.trim() !== "deny";
}
