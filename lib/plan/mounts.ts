/**
 * Mount policy: the config's mounts, devices, /dev symlinks, masked and
 * read-only paths become plan ops. Every target is a path inside the rootfs,
 * resolved there by the helper.
 *
 * @module
 */
import type { Config, Device, Mount } from "../config/mod.ts";
import { MS } from "../config/mod.ts";
import { normalize } from "../_deps/path.ts";
import { execCandidates } from "./exec.ts";
import type { PlanOp } from "./ops.ts";

/** MOUNT_ATTR_* values of mount_setattr(2). */
export const MOUNT_ATTR = {
  RDONLY: 0x1,
  NOSUID: 0x2,
  NODEV: 0x4,
  NOEXEC: 0x8,
  NOATIME: 0x10,
  STRICTATIME: 0x20,
  NODIRATIME: 0x80,
} as const;

const PROPAGATION = MS.MS_PRIVATE | MS.MS_SLAVE | MS.MS_SHARED | MS.MS_UNBINDABLE;

/** Mount flags that map onto mount attributes of a bind. */
export function mountAttributes(flags: number): number {
  const pairs: [number, number][] = [
    [MS.MS_RDONLY, MOUNT_ATTR.RDONLY],
    [MS.MS_NOSUID, MOUNT_ATTR.NOSUID],
    [MS.MS_NODEV, MOUNT_ATTR.NODEV],
    [MS.MS_NOEXEC, MOUNT_ATTR.NOEXEC],
    [MS.MS_NOATIME, MOUNT_ATTR.NOATIME],
    [MS.MS_STRICTATIME, MOUNT_ATTR.STRICTATIME],
    [MS.MS_NODIRATIME, MOUNT_ATTR.NODIRATIME],
  ];
  return pairs.reduce((attrs, [flag, attr]) => (flags & flag) ? attrs | attr : attrs, 0);
}

/** Makes a path absolute and clean, so no `.` or `..` reaches the helper. */
export function cleanPath(path: string): string {
  return normalize("/" + path).replace(/\/+$/, "") || "/";
}

/** /proc and /sys must be real directories: resolving them never follows a symlink. */
function isKernelTree(mount: Mount): boolean {
  return mount.device === "proc" || mount.device === "sysfs";
}

/** What kind of file a bind source is, looked up by the caller on the host. */
export type SourceKind = "directory" | "file";

/** Hooks run as the seed ran them: `path` is the program (looked up in PATH), `args` follow it. */
function hookOps(commands: Mount["premount_cmds"]): PlanOp[] {
  return commands.map((command) => ({
    op: "RUN",
    candidates: execCandidates(command.path, command.env),
    args: [command.path, ...command.args],
    env: command.env,
    dir: command.dir,
  }));
}

/** Filesystems that take the SELinux mount label as a `context=` option (as runc labels them). */
const LABELLED_FILESYSTEMS: ReadonlySet<string> = new Set(["tmpfs", "devpts"]);

/** Mount data with the SELinux `context=` option added, when there is a label. */
export function labelledData(data: string, label: string): string {
  if (label === "") return data;
  const context = `context="${label}"`;
  return data === "" ? context : `${data},${context}`;
}

/**
 * Ops for one configured mount, its hooks included. `mountLabel` is the
 * SELinux label of the container's tmpfs and devpts mounts, or "".
 */
export function mountOps(
  mount: Mount,
  sourceKind: SourceKind | undefined,
  mountLabel = "",
): PlanOp[] {
  const target = cleanPath(mount.destination);
  const noSymlinks = isKernelTree(mount);
  const ops: PlanOp[] = [...hookOps(mount.premount_cmds)];
  if (mount.device === "bind") {
    ops.push(
      sourceKind === "file"
        ? { op: "MKFILE", path: target, mode: 0o644 }
        : { op: "MKDIR", path: target, mode: 0o755 },
      {
        op: "BIND",
        source: mount.source,
        target,
        recursive: (mount.flags & MS.MS_REC) !== 0,
        attrSet: mountAttributes(mount.flags),
        propagation: mount.flags & PROPAGATION,
      },
    );
  } else {
    ops.push(
      { op: "MKDIR", path: target, mode: 0o755, noSymlinks },
      {
        op: "MOUNT",
        source: mount.source || mount.device,
        target,
        fstype: mount.device,
        data: LABELLED_FILESYSTEMS.has(mount.device)
          ? labelledData(mount.data, mountLabel)
          : mount.data,
        flags: mount.flags & ~PROPAGATION & ~MS.MS_BIND,
        noSymlinks,
      },
    );
    if (mount.flags & PROPAGATION) {
      ops.push({
        op: "MOUNT",
        source: "",
        target,
        fstype: "",
        data: "",
        flags: mount.flags & (PROPAGATION | MS.MS_REC),
        noSymlinks,
      });
    }
  }
  ops.push(...hookOps(mount.postmount_cmds));
  return ops;
}

/** One of the container's own cgroup directories, as a `cgroup` mount shows it. */
export interface CgroupMountSource {
  /**
   * The name under the mount: the hierarchy's mount point's base name
   * (`memory`, `cpu,cpuacct`, `unified`), or "" for a v2 hierarchy mounted
   * at the cgroup root, which is then bound at the destination itself.
   */
  name: string;
  /** The container's directory on the host. */
  path: string;
  /** Symlinks to `name` beside it: the controllers of a joint hierarchy (`cpu`, `cpuacct`). */
  links: readonly string[];
}

const CGROUP_BIND_ATTRS = MOUNT_ATTR.RDONLY | MOUNT_ATTR.NOSUID | MOUNT_ATTR.NODEV |
  MOUNT_ATTR.NOEXEC;

/**
 * Ops for a `cgroup` mount (the seed's): the container's own cgroup
 * directories, read-only, at the destination: a tmpfs holding a directory
 * per hierarchy and a symlink per joint controller, remounted read-only,
 * then a read-only bind per directory; on a v2-only host the one directory
 * is bound there itself.
 */
export function cgroupMountOps(mount: Mount, sources: readonly CgroupMountSource[]): PlanOp[] {
  const target = cleanPath(mount.destination);
  const flags = mount.flags & ~PROPAGATION & ~MS.MS_BIND & ~MS.MS_RDONLY;
  const bind = (source: string, at: string): PlanOp => ({
    op: "BIND",
    source,
    target: at,
    recursive: false,
    attrSet: CGROUP_BIND_ATTRS,
    propagation: 0,
  });
  const ops: PlanOp[] = [...hookOps(mount.premount_cmds), {
    op: "MKDIR",
    path: target,
    mode: 0o755,
  }];
  const whole = sources.find((s) => s.name === "");
  if (whole !== undefined) {
    ops.push(bind(whole.path, target));
  } else {
    ops.push({ op: "MOUNT", source: "tmpfs", target, fstype: "tmpfs", data: "mode=755", flags });
    for (const source of sources) {
      ops.push({ op: "MKDIR", path: `${target}/${source.name}`, mode: 0o755 });
      for (const link of source.links) {
        ops.push({ op: "SYMLINK", target: source.name, path: `${target}/${link}` });
      }
    }
    // Read-only before the binds go onto its directories.
    const remount = MS.MS_REMOUNT | MS.MS_RDONLY | flags;
    ops.push({ op: "MOUNT", source: "", target, fstype: "", data: "", flags: remount });
    for (const source of sources) ops.push(bind(source.path, `${target}/${source.name}`));
  }
  ops.push(...hookOps(mount.postmount_cmds));
  return ops;
}

const FILE_TYPE: Record<string, number> = { c: 0o020000, b: 0o060000, p: 0o010000 };

/** The Linux dev_t of a major and minor number (the glibc encoding). */
export function makedev(major: number, minor: number): bigint {
  const ma = BigInt(major);
  const mi = BigInt(minor);
  return ((ma & 0xfffn) << 8n) | (mi & 0xffn) | ((ma & ~0xfffn) << 32n) | ((mi & ~0xffn) << 12n);
}

/** Ops that create the configured device nodes. */
export function deviceOps(devices: readonly Device[]): PlanOp[] {
  return devices.map((device) => ({
    op: "MKNOD",
    path: cleanPath(device.path),
    mode: (FILE_TYPE[device.type] ?? 0) | (device.file_mode & 0o7777),
    dev: makedev(device.major, device.minor),
    uid: device.uid,
    gid: device.gid,
  }));
}

/** The standard /dev symlinks (runtime-spec and the seed). */
export function devSymlinkOps(): PlanOp[] {
  const links: [string, string][] = [
    ["/proc/self/fd", "/dev/fd"],
    ["/proc/self/fd/0", "/dev/stdin"],
    ["/proc/self/fd/1", "/dev/stdout"],
    ["/proc/self/fd/2", "/dev/stderr"],
    ["pts/ptmx", "/dev/ptmx"],
  ];
  return links.map(([target, path]) => ({ op: "SYMLINK", target, path }));
}

/** Ops for sysctls: each a write beneath the container's verified /proc. */
export function sysctlOps(properties: Readonly<Record<string, string>>): PlanOp[] {
  return Object.entries(properties).map(([key, value]) => ({
    op: "WRITE",
    dir: "/proc",
    file: `sys/${key.replaceAll(".", "/")}`,
    content: value,
    procfs: true,
  }));
}

/** Ops that make paths read-only, then mask others. */
export function protectOps(config: Config): PlanOp[] {
  return [
    ...config.readonly_paths.map((path): PlanOp => ({ op: "READONLY", path: cleanPath(path) })),
    ...config.mask_paths.map((path): PlanOp => ({
      op: "MASK",
      path: cleanPath(path),
      devNull: "/dev/null",
    })),
  ];
}
