/**
 * User namespace policy: what the init does around the parent's writing of
 * its id maps, how devices and /sys reach a container that may not mknod or
 * mount sysfs, and what a caller without root may not ask for.
 *
 * @module
 */
import type { Config, Device, Mount } from "../config/mod.ts";
import { MS } from "../config/mod.ts";
import type { ConfigIssue } from "../errors.ts";
import { cleanPath, mountOps } from "./mounts.ts";
import type { PlanOp } from "./ops.ts";
import { LIMIT_FIELDS } from "../cgroups/limits.ts";

/** The sync tag at which the parent writes the new user namespace's id maps. */
export const USERMAP_TAG = 2;

/**
 * Right after the clone into a new user namespace: wait for the parent to
 * write the id maps, then become the namespace's root (the credentials the
 * clone left are the parent's host ids, which are unmapped there). A parent
 * without root can only open the maps of a dumpable process, so a rootless
 * init is dumpable for just that moment (nothing else is in its namespaces).
 */
export function userNamespaceOps(unprivileged: boolean): PlanOp[] {
  const ops: PlanOp[] = [];
  if (unprivileged) ops.push({ op: "DUMPABLE", dumpable: true });
  ops.push({ op: "SYNC", tag: USERMAP_TAG });
  if (unprivileged) ops.push({ op: "DUMPABLE", dumpable: false });
  ops.push({ op: "SETID", uid: 0, gid: 0 });
  return ops;
}

/**
 * Device nodes in a user namespace: mknod is not allowed there (and nodes
 * on a filesystem the namespace mounted would not open), so each node is
 * the host's own, bind-mounted onto an empty file. The host node at the
 * same path is used, as runc does; start checks it is the configured one.
 */
export function deviceBindOps(devices: readonly Device[]): PlanOp[] {
  return devices.flatMap((device): PlanOp[] => {
    const path = cleanPath(device.path);
    return [
      { op: "MKFILE", path, mode: 0o644 },
      { op: "BIND", source: path, target: path, recursive: false, attrSet: 0, propagation: 0 },
    ];
  });
}

/**
 * sysfs may only be mounted by a user namespace that owns the network
 * namespace; without a new one, the host's /sys is bound recursively with
 * the mount's flags instead (as runc does), still resolved without symlinks.
 */
export function sysfsBindOps(mount: Mount): PlanOp[] {
  const bind: Mount = {
    ...mount,
    device: "bind",
    source: "/sys",
    flags: mount.flags | MS.MS_BIND | MS.MS_REC,
  };
  return mountOps(bind, "directory").map((op) =>
    op.op === "MKDIR" || op.op === "BIND" ? { ...op, noSymlinks: true } : op
  );
}

/** Who starts the container, for {@link rootlessIssues}. */
export interface RootlessContext {
  /** The caller's effective uid and gid on the host. */
  uid: number;
  gid: number;
  /** Whether the caller may write the container's cgroups (a delegated subtree). */
  cgroupsWritable: boolean;
}

/**
 * What a config asks for that needs root on the host, when the caller has
 * none: each one an issue naming the field and why.
 */
export function rootlessIssues(config: Config, context: RootlessContext): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const who = `running as uid ${context.uid}, not root`;
  const userNs = config.namespaces.findIndex((ns) => ns.type === "NEWUSER");
  if (userNs < 0) {
    issues.push({
      path: "namespaces",
      message:
        `A \`NEWUSER\` namespace mapping your own ids is needed (${who}): add it with \`uid_mappings\` and \`gid_mappings\``,
    });
  } else if (config.namespaces[userNs]!.path === "") {
    const own = { uid_mappings: context.uid, gid_mappings: context.gid } as const;
    for (const field of ["uid_mappings", "gid_mappings"] as const) {
      const kind = field === "uid_mappings" ? "uid" : "gid";
      config[field].forEach((m, i) => {
        if (i === 0 && m.host_id === own[field] && m.size === 1) return;
        issues.push({
          path: `${field}[${i}]`,
          message: `Maps host ids other than your own ${kind} ${
            own[field]
          }: that needs root (${who})`,
        });
      });
    }
  }
  if (config.additional_groups.length > 0) {
    issues.push({
      path: "additional_groups",
      message:
        `Supplementary groups need root: setgroups is denied in a user namespace made without it (${who})`,
    });
  }
  config.networks.forEach((network, i) => {
    if (network.type !== "loopback") {
      issues.push({
        path: `networks[${i}].type`,
        message: `A \`${network.type}\` network is made on the host: that needs root (${who})`,
      });
    }
  });
  if (!context.cgroupsWritable) {
    for (const field of LIMIT_FIELDS) {
      const value = config.cgroups[field];
      const set = Array.isArray(value) ? value.length > 0 : Boolean(value);
      if (set) {
        issues.push({
          path: `cgroups.${field}`,
          message: `Cgroup limits need root or a delegated cgroup (${who})`,
        });
      }
    }
  }
  return issues;
}
