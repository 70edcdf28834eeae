/**
 * Config + process -> init plan. Every decision of how a container starts is
 * made here, as data: which namespaces, which mounts and flags, which user,
 * which capabilities, which executable. The helper only carries it out.
 *
 * @module
 */
import type { Config, NamespaceType } from "../config/mod.ts";
import { capabilityNumber, MS } from "../config/mod.ts";
import { CLONE } from "../../ffi/constants.ts";
import type { ExecUser } from "../user/lookup.ts";
import { execCandidates } from "./exec.ts";
import type { PlanOp } from "./ops.ts";
import { deviceBindOps, sysfsBindOps, USERMAP_TAG, userNamespaceOps } from "./userns.ts";
import {
  earlySecurityOps,
  finalSecurityOps,
  type HostFacts,
  hostFacts,
  labelOps,
  mountLabel,
} from "./security.ts";
import {
  cgroupMountOps,
  type CgroupMountSource,
  cleanPath,
  deviceOps,
  devSymlinkOps,
  mountOps,
  protectOps,
  type SourceKind,
  sysctlOps,
} from "./mounts.ts";

/** What the container's process runs, as the plan needs it. */
export interface PlanProcess {
  args: readonly string[];
  env: readonly string[];
  cwd: string;
  terminal: boolean;
  /** The terminal's initial size, when `terminal` is set. */
  consoleSize?: { columns: number; rows: number };
  /** Capability names that replace the config's for this process. */
  capabilities?: readonly string[];
}

/** A namespace the helper joins through a descriptor it inherits. */
export interface NamespaceJoin {
  type: NamespaceType;
  /** The descriptor's number inside the helper. */
  fd: number;
  /** The namespace file it was opened from, for messages. */
  path: string;
}

/** Where the new process goes in the cgroup hierarchies. */
export interface CgroupPlacement {
  /** v1 `tasks` files to write "0" to (each moves the writer itself). */
  enter: readonly string[];
  /** The cgroup v2 directory the process is cloned into, or "". */
  cloneInto: string;
}

/** Sync tags: the points where an init waits for its parent. */
export const SYNC_TAG = {
  /** The parent has created the v1 cgroup directories and set their device rules. */
  CGROUPS: 1,
  /** The parent has written the new user namespace's id maps. */
  USERMAP: USERMAP_TAG,
  /** The parent has set up the veths and routes in the init's new network namespace. */
  NETWORK: 3,
} as const;

/** Everything a new container's init plan is made from. */
export interface InitPlanInput {
  config: Config;
  cgroups: CgroupPlacement;
  process: PlanProcess;
  user: ExecUser;
  /** Namespaces configured with a path, already opened. */
  joins: readonly NamespaceJoin[];
  /** For each bind mount (by index in config.mounts), whether its source is a file or a directory. */
  bindSources: ReadonlyMap<number, SourceKind>;
  /**
   * The parent is not root on the host (rootless): the init is dumpable
   * while its id maps are written, and setgroups is denied in its user
   * namespace, so the process's supplementary groups are left as they are.
   */
  unprivileged?: boolean;
  /** The machine, kernel and LSMs the seccomp filter and labels are for; this host's when absent. */
  host?: HostFacts;
  /** The container's cgroup directories, for `cgroup` mounts. */
  cgroupMounts?: readonly CgroupMountSource[];
}

/** Everything a plan to join a running container is made from. */
export interface JoinPlanInput {
  config: Config;
  cgroups: CgroupPlacement;
  process: PlanProcess;
  user: ExecUser;
  /** A pidfd of the container's init, as numbered inside the helper. */
  initPidfd: number;
  /** The init's host pid, for messages. */
  initPid: number;
  /** Whether setgroups is allowed in the container's user namespace (default true). */
  setgroups?: boolean;
  /** The machine, kernel and LSMs the seccomp filter and labels are for; this host's when absent. */
  host?: HostFacts;
}

/** The clone flag of each namespace type. */
export const NAMESPACE_FLAGS: Readonly<Record<NamespaceType, number>> = {
  NEWNS: CLONE.NEWNS,
  NEWUTS: CLONE.NEWUTS,
  NEWIPC: CLONE.NEWIPC,
  NEWPID: CLONE.NEWPID,
  NEWNET: CLONE.NEWNET,
  NEWUSER: CLONE.NEWUSER,
};

/** Join order: the user namespace first, the mount namespace last (it changes the root). */
const JOIN_ORDER: readonly NamespaceType[] = [
  "NEWUSER",
  "NEWIPC",
  "NEWUTS",
  "NEWNET",
  "NEWPID",
  "NEWNS",
];

function hasNamespace(config: Config, type: NamespaceType): boolean {
  return config.namespaces.some((ns) => ns.type === type);
}

function createsNamespace(config: Config, type: NamespaceType): boolean {
  return config.namespaces.some((ns) => ns.type === type && ns.path === "");
}

/**
 * Whether the parent sets up networking for a new init: veths or routes in
 * a network namespace the init creates. `loopback` alone needs no parent:
 * the init brings `lo` up itself (IFUP), and one joined by path is left as
 * it is.
 */
export function needsNetworkSetup(config: Config): boolean {
  return createsNamespace(config, "NEWNET") &&
    (config.networks.some((n) => n.type !== "loopback") || config.routes.length > 0);
}

/** The clone flags of the namespaces to create (those without a path). */
export function cloneFlags(config: Config): number {
  return config.namespaces
    .filter((ns) => ns.path === "")
    .reduce((flags, ns) => flags | NAMESPACE_FLAGS[ns.type], 0);
}

/** The environment with duplicates resolved (last wins) and HOME filled in from passwd. */
export function processEnv(env: readonly string[], user: ExecUser): string[] {
  const byName = new Map<string, string>();
  for (const entry of env) {
    const eq = entry.indexOf("=");
    byName.set(eq < 0 ? entry : entry.slice(0, eq), entry);
  }
  if (!byName.has("HOME")) byName.set("HOME", `HOME=${user.home}`);
  return [...byName.values()];
}

function capabilityMask(names: readonly string[]): bigint {
  return names.reduce((mask, name) => mask | (1n << BigInt(capabilityNumber(name))), 0n);
}

/** rlimit values as the kernel takes them: a negative value is RLIM_INFINITY. */
function rlimitValue(value: number): bigint {
  return value < 0 ? -1n : BigInt(value);
}

/**
 * The ops that make the process what it runs as, then exec it (shared by
 * init and join): limits, LSM labels, capabilities and user, cwd, then
 * no_new_privs and the seccomp filter right before exec.
 */
function processOps(
  config: Config,
  process: PlanProcess,
  user: ExecUser,
  options: { pdeathsig: number; setgroups: boolean; host: HostFacts },
): PlanOp[] {
  const { pdeathsig, host } = options;
  const capNames = process.capabilities ?? config.capabilities;
  const caps = capabilityMask(capNames);
  const env = processEnv(process.env, user);
  const ops: PlanOp[] = config.rlimits.map((r) => ({
    op: "RLIMIT",
    resource: r.type,
    soft: rlimitValue(r.soft),
    hard: rlimitValue(r.hard),
  }));
  ops.push(...labelOps(config, host));
  ops.push(
    { op: "BOUNDING", keep: caps },
    options.setgroups
      ? { op: "IDENTITY", uid: user.uid, gid: user.gid, groups: user.additionalGids }
      : { op: "SETID", uid: user.uid, gid: user.gid },
    { op: "CAPS", effective: caps, permitted: caps, inheritable: 0n, ambient: 0n },
  );
  // After IDENTITY: changing credentials clears the parent-death signal.
  if (pdeathsig > 0) ops.push({ op: "PDEATHSIG", signal: pdeathsig });
  ops.push(
    { op: "UMASK", mask: 0o022 },
    { op: "CHDIR", path: process.cwd || "/" },
    ...finalSecurityOps(config, capNames, host),
    { op: "EXEC", candidates: execCandidates(process.args[0]!, env), args: process.args, env },
  );
  return ops;
}

/**
 * A terminal made in the container's own devpts, owned by the process's user;
 * with a new mount namespace it is also bound over /dev/console.
 */
function consoleOp(process: PlanProcess, user: ExecUser, bindConsole: boolean): PlanOp {
  return {
    op: "CONSOLE",
    ptmx: "/dev/pts/ptmx",
    console: bindConsole ? "/dev/console" : "",
    bindConsole,
    uid: user.uid,
    gid: user.gid,
    rows: process.consoleSize?.rows ?? 0,
    columns: process.consoleSize?.columns ?? 0,
  };
}

/** The root filesystem: propagation, the rootfs bind, mounts, devices, cgroups, then the switch. */
function rootfsOps(input: InitPlanInput, host: HostFacts): PlanOp[] {
  const { config, process, user } = input;
  const userNs = hasNamespace(config, "NEWUSER");
  const ownsNet = createsNamespace(config, "NEWNET");
  const label = mountLabel(config, host);
  const ops: PlanOp[] = [
    {
      op: "MOUNT",
      source: "",
      target: "/",
      fstype: "",
      data: "",
      flags: MS.MS_REC | (config.privatefs ? MS.MS_PRIVATE : MS.MS_SLAVE),
      hostPath: true,
    },
    { op: "ROOTFS", rootfs: config.rootfs },
  ];
  // A cgroup mount binds the container's v1 cgroups: they must exist first.
  // (In a user namespace the helper entered them before the clone.)
  const cgroupsFirst = config.mounts.some((mount) => mount.device === "cgroup");
  if (cgroupsFirst && !userNs) ops.push(...deferredCgroupOps(input.cgroups));
  config.mounts.forEach((mount, index) =>
    ops.push(
      ...(mount.device === "cgroup"
        ? cgroupMountOps(mount, input.cgroupMounts ?? [])
        : userNs && !ownsNet && mount.device === "sysfs"
        ? sysfsBindOps(mount)
        : mountOps(mount, input.bindSources.get(index), label)),
    )
  );
  ops.push(
    ...(userNs ? deviceBindOps(config.devices) : deviceOps(config.devices)),
    ...devSymlinkOps(),
  );
  if (process.terminal) ops.push(consoleOp(process, user, true));
  ops.push(...sysctlOps(config.system_properties), ...protectOps(config));
  // In a user namespace the cgroups were entered before the clone.
  if (!userNs && !cgroupsFirst) ops.push(...deferredCgroupOps(input.cgroups));
  ops.push({ op: "PIVOT", noPivot: config.no_pivot_root });
  if (config.readonlyfs) ops.push({ op: "ROOT_READONLY" });
  return ops;
}

function cgroupEnterOps(cgroups: CgroupPlacement): PlanOp[] {
  return cgroups.enter.map((path) => ({ op: "CGROUP_ENTER", path, content: "0" }));
}

/**
 * A new init enters its v1 cgroups itself once the parent, which creates
 * them while the init clones and mounts, says they are ready; it does so
 * before pivot_root, while the host's cgroup files are still in sight.
 * With a user namespace the helper runs these same ops before it clones.
 */
function deferredCgroupOps(cgroups: CgroupPlacement): PlanOp[] {
  if (cgroups.enter.length === 0) return [];
  return [{ op: "SYNC", tag: SYNC_TAG.CGROUPS }, ...cgroupEnterOps(cgroups)];
}

/** The plan for a container's first process. */
export function buildInitPlan(input: InitPlanInput): PlanOp[] {
  const { config, process, user } = input;
  const userNs = hasNamespace(config, "NEWUSER");
  const unprivileged = input.unprivileged ?? false;
  const host = input.host ?? hostFacts();
  // In a user namespace the init could not write the host's cgroup files:
  // the helper enters the cgroups before it joins or clones anything.
  const ops: PlanOp[] = [
    ...(userNs ? deferredCgroupOps(input.cgroups) : []),
    ...earlySecurityOps(config),
  ];
  for (const type of JOIN_ORDER) {
    const join = input.joins.find((j) => j.type === type);
    if (join) {
      ops.push({ op: "SETNS", fd: join.fd, nstype: NAMESPACE_FLAGS[type], label: join.path });
    }
  }
  ops.push({
    op: "CLONE",
    flags: CLONE.PARENT | cloneFlags(config),
    cgroup: input.cgroups.cloneInto,
  });
  if (createsNamespace(config, "NEWUSER")) ops.push(...userNamespaceOps(unprivileged));
  // A joined user namespace has its maps already: become its root at once.
  else if (userNs) ops.push({ op: "SETID", uid: 0, gid: 0 });
  ops.push({ op: "UMASK", mask: 0 });
  if (createsNamespace(config, "NEWNS")) {
    ops.push(...rootfsOps(input, host));
  } else {
    if (!userNs) ops.push(...deferredCgroupOps(input.cgroups));
    if (process.terminal) ops.push(consoleOp(process, user, false));
  }
  if (config.hostname !== "") ops.push({ op: "HOSTNAME", hostname: config.hostname });
  if (hasNamespace(config, "NEWNET") && config.networks.some((n) => n.type === "loopback")) {
    ops.push({ op: "IFUP", name: "lo" });
  }
  // As late as it can be: the parent's netlink work overlaps all of the above.
  if (needsNetworkSetup(config)) ops.push({ op: "SYNC", tag: SYNC_TAG.NETWORK });
  ops.push(
    ...processOps(config, process, user, {
      pdeathsig: config.parent_death_signal,
      setgroups: !unprivileged,
      host,
    }),
  );
  return ops;
}

/** The plan for a process that joins a running container's namespaces. */
export function buildJoinPlan(input: JoinPlanInput): PlanOp[] {
  const { config, process, user } = input;
  const nstype = config.namespaces.reduce((flags, ns) => flags | NAMESPACE_FLAGS[ns.type], 0);
  // Entered by the helper before the joins: after a setns the host's cgroup files may be out of sight.
  const ops: PlanOp[] = [...cgroupEnterOps(input.cgroups), ...earlySecurityOps(config)];
  if (nstype !== 0) {
    ops.push({
      op: "SETNS",
      fd: input.initPidfd,
      nstype,
      label: `namespaces of pid ${input.initPid}`,
    });
  }
  ops.push({ op: "CLONE", flags: CLONE.PARENT, cgroup: input.cgroups.cloneInto });
  if (process.terminal) ops.push(consoleOp(process, user, false));
  ops.push(...processOps(config, process, user, {
    pdeathsig: 0,
    setgroups: input.setgroups ?? true,
    host: input.host ?? hostFacts(),
  }));
  return ops;
}

export { cleanPath, execCandidates };
