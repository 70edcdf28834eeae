/**
 * The seed's "create flags": command-line edits of the config template,
 * shared by `exec` and `config`.
 *
 * @module
 */
import {
  callerIds,
  type CgroupLimits,
  type ConfigInput,
  MS,
  rootlessConfig,
  signalNumber,
  userNamespaceMappings,
  withUserNamespace,
  workingDirectory,
} from "../mod.ts";
import { type OptionSpecs, type OptionValues, UsageError } from "./_args.ts";

/** How a limit flag's value is read. */
type LimitKind = "int" | "bytes" | "text";

/** A resource limit flag: the `cgroups` field it sets and how its value is read. */
interface LimitFlag {
  field: keyof CgroupLimits;
  kind: LimitKind;
  value: string;
  help: string;
}

/** The seed's cgroup flags, and pids. */
const CREATE_LIMITS: Readonly<Record<string, LimitFlag>> = {
  cpushares: { field: "cpu_shares", kind: "int", value: "N", help: "CPU shares (relative weight)" },
  "memory-limit": {
    field: "memory",
    kind: "bytes",
    value: "BYTES",
    help: "memory limit in bytes (k, m, g suffixes; -1 unlimited)",
  },
  "memory-swap": {
    field: "memory_swap",
    kind: "bytes",
    value: "BYTES",
    help: "memory plus swap limit in bytes (-1 unlimited)",
  },
  "cpuset-cpus": {
    field: "cpuset_cpus",
    kind: "text",
    value: "CPUS",
    help: "CPUs to run on, such as 0-1",
  },
  "cpuset-mems": {
    field: "cpuset_mems",
    kind: "text",
    value: "MEMS",
    help: "memory nodes to use, such as 0",
  },
  "pids-limit": {
    field: "pids_limit",
    kind: "int",
    value: "N",
    help: "maximum number of processes (-1 unlimited)",
  },
};

/** Limit flags of `update`: those of create, and the CPU quota, memory reservation and blkio weight. */
export const UPDATE_LIMITS: Readonly<Record<string, LimitFlag>> = {
  ...CREATE_LIMITS,
  "cpu-quota": {
    field: "cpu_quota",
    kind: "int",
    value: "US",
    help: "CFS quota in microseconds per period (-1 none)",
  },
  "cpu-period": {
    field: "cpu_period",
    kind: "int",
    value: "US",
    help: "CFS period in microseconds",
  },
  "memory-reservation": {
    field: "memory_reservation",
    kind: "bytes",
    value: "BYTES",
    help: "memory soft limit in bytes",
  },
  "blkio-weight": {
    field: "blkio_weight",
    kind: "int",
    value: "N",
    help: "block I/O weight (10-1000)",
  },
};

/** Option specs of limit flags. */
export function limitOptions(flags: Readonly<Record<string, LimitFlag>>): OptionSpecs {
  return Object.fromEntries(
    Object.entries(flags).map(([name, flag]) => [name, {
      type: "string",
      value: flag.value,
      help: flag.help,
    }]),
  );
}

const UNITS: Readonly<Record<string, number>> = { "": 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30 };

function limitValue(name: string, kind: LimitKind, text: string): number | string {
  if (kind === "text") return text;
  const pattern = kind === "bytes" ? /^(-?\d+)([kmg]?)b?$/i : /^(-?\d+)()$/;
  const match = pattern.exec(text.trim());
  if (match === null) {
    const what = kind === "bytes" ? "a number of bytes (k, m, g suffixes)" : "an integer";
    throw new UsageError(`Invalid --${name} \`${text}\`: expected ${what}`);
  }
  const value = Number(match[1]);
  return value === -1 ? -1 : value * UNITS[match[2]!.toLowerCase()]!;
}

/** The limits the given limit flags set (only those given). */
export function limitsFromFlags(
  values: OptionValues,
  flags: Readonly<Record<string, LimitFlag>> = UPDATE_LIMITS,
): CgroupLimits {
  const limits: Record<string, number | string> = {};
  for (const [name, flag] of Object.entries(flags)) {
    const text = values[name];
    if (typeof text === "string") limits[flag.field] = limitValue(name, flag.kind, text);
  }
  return limits as CgroupLimits;
}

/** The create flags this version supports. */
export const CREATE_FLAGS: OptionSpecs = {
  rootfs: {
    type: "string",
    value: "DIR",
    help: "root filesystem (default: the current directory)",
  },
  hostname: { type: "string", value: "NAME", help: "hostname (default nsinit)" },
  "read-only": { type: "boolean", help: "make the root filesystem read-only" },
  bind: {
    type: "string",
    multiple: true,
    value: "SRC:DST[:ro|rw]",
    help: "bind mount a host path",
  },
  tmpfs: { type: "string", multiple: true, value: "DST", help: "mount a tmpfs" },
  "parent-death-signal": {
    type: "string",
    value: "SIG",
    help: "signal the init gets when nsinit dies",
  },
  net: {
    type: "string",
    value: "MODE",
    help: "network namespace: private, host, or a path to join",
  },
  ipc: { type: "string", value: "MODE", help: "ipc namespace: private, host, or a path to join" },
  pid: { type: "string", value: "MODE", help: "pid namespace: private, host, or a path to join" },
  uts: { type: "string", value: "MODE", help: "uts namespace: private, host, or a path to join" },
  mnt: { type: "string", value: "MODE", help: "mount namespace: private, host, or a path to join" },
  "userns-root-uid": {
    type: "string",
    value: "N",
    help: "new user namespace with container root mapped to host id N (uids and gids)",
  },
  rootless: {
    type: "boolean",
    help: "run without root: a user namespace mapping only your own uid and gid",
  },
  "veth-bridge": {
    type: "string",
    value: "BRIDGE",
    help: "add a veth eth0 whose host end joins this bridge",
  },
  "veth-address": { type: "string", value: "CIDR", help: "the veth's IPv4 address, a.b.c.d/n" },
  "veth-gateway": { type: "string", value: "IP", help: "the veth's default gateway" },
  "veth-mtu": { type: "string", value: "N", help: "the veth's MTU (default: the bridge's)" },
  ...limitOptions(CREATE_LIMITS),
  cgroup: {
    type: "boolean",
    help: "mount the container's own cgroups read-only at /sys/fs/cgroup",
  },
};

type Namespaces = NonNullable<ConfigInput["namespaces"]>;
type Mounts = NonNullable<ConfigInput["mounts"]>;
type Networks = NonNullable<ConfigInput["networks"]>;

const NAMESPACE_FLAGS = {
  net: "NEWNET",
  ipc: "NEWIPC",
  pid: "NEWPID",
  uts: "NEWUTS",
  mnt: "NEWNS",
} as const;

function signal(value: string): number {
  if (/^\d+$/.test(value) && Number(value) <= 64) return Number(value);
  const upper = value.toUpperCase();
  try {
    return signalNumber((upper.startsWith("SIG") ? upper : `SIG${upper}`) as Deno.Signal);
  } catch {
    throw new UsageError(`Invalid --parent-death-signal \`${value}\`: give a number or a name`);
  }
}

function bindMount(spec: string): Mounts[number] {
  const parts = spec.split(":");
  const [source, destination, mode = "rw"] = parts;
  if (
    parts.length < 2 || parts.length > 3 || !source || !destination || !["ro", "rw"].includes(mode)
  ) {
    throw new UsageError(`Invalid --bind \`${spec}\`: expected SRC:DST[:ro|rw]`);
  }
  const flags = MS.MS_BIND | MS.MS_REC | (mode === "ro" ? MS.MS_RDONLY : 0);
  return { source, destination, device: "bind", flags };
}

const VETH_DETAILS = ["veth-address", "veth-gateway", "veth-mtu"] as const;

/** The veth the --veth-* flags describe (as the seed's nsinit: `eth0`, a random host name), or null. */
function vethNetwork(values: OptionValues): Networks[number] | null {
  const bridge = values["veth-bridge"];
  if (typeof bridge !== "string") {
    const stray = VETH_DETAILS.find((flag) => typeof values[flag] === "string");
    if (stray) throw new UsageError(`--${stray} needs --veth-bridge`);
    return null;
  }
  const mtu = values["veth-mtu"];
  if (typeof mtu === "string" && !/^\d+$/.test(mtu)) {
    throw new UsageError(`Invalid --veth-mtu \`${mtu}\`: give a number of bytes`);
  }
  return {
    type: "veth",
    name: "eth0",
    bridge,
    ...(typeof values["veth-address"] === "string" ? { address: values["veth-address"] } : {}),
    ...(typeof values["veth-gateway"] === "string" ? { gateway: values["veth-gateway"] } : {}),
    ...(typeof mtu === "string" ? { mtu: Number(mtu) } : {}),
  };
}

/** Applies the given create flags to a config (the input form, before validation). */
export function applyCreateFlags(config: ConfigInput, values: OptionValues): ConfigInput {
  const next: ConfigInput = { ...config };
  if (typeof values.rootfs === "string") {
    // A relative --rootfs is taken from the current directory, as a shell user expects.
    next.rootfs = values.rootfs.startsWith("/")
      ? values.rootfs
      : `${workingDirectory()}/${values.rootfs}`;
  }
  if (typeof values.hostname === "string") next.hostname = values.hostname;
  if (values["read-only"] === true) next.readonlyfs = true;
  if (typeof values["parent-death-signal"] === "string") {
    next.parent_death_signal = signal(values["parent-death-signal"]);
  }
  const mounts: Mounts = [...(next.mounts ?? [])];
  for (const spec of (values.bind as string[] | undefined) ?? []) mounts.push(bindMount(spec));
  for (const destination of (values.tmpfs as string[] | undefined) ?? []) {
    mounts.push({
      source: "tmpfs",
      destination,
      device: "tmpfs",
      flags: MS.MS_NOSUID | MS.MS_NODEV,
    });
  }
  if (values.cgroup === true) {
    mounts.push({
      source: "cgroup",
      destination: "/sys/fs/cgroup",
      device: "cgroup",
      flags: MS.MS_NOSUID | MS.MS_NODEV | MS.MS_NOEXEC | MS.MS_RDONLY,
    });
  }
  next.mounts = mounts;
  const limits = limitsFromFlags(values, CREATE_LIMITS);
  if (Object.keys(limits).length > 0) next.cgroups = { ...next.cgroups, ...limits };
  let namespaces: Namespaces = [...(next.namespaces ?? [])];
  for (const [flag, type] of Object.entries(NAMESPACE_FLAGS)) {
    const value = values[flag];
    if (typeof value !== "string") continue;
    namespaces = namespaces.filter((ns) => ns.type !== type);
    if (value === "host") {
      if (type === "NEWNET") next.networks = [];
      if (type === "NEWUTS") next.hostname = "";
    } else if (value === "" || value === "private") {
      namespaces.push({ type });
      if (type === "NEWNET" && (next.networks ?? []).length === 0) {
        next.networks = [{ type: "loopback" }];
      }
      if (type === "NEWUTS" && !next.hostname) next.hostname = "nsinit";
    } else {
      namespaces.push({ type, path: value });
    }
  }
  next.namespaces = namespaces;
  // After --net, so that --net private brings lo up beside it.
  const veth = vethNetwork(values);
  if (veth) next.networks = [...(next.networks ?? []), veth];
  return userNamespaceFlags(next, values);
}

/** `--userns-root-uid N` (the seed's mappings) and `--rootless` (your own ids only). */
function userNamespaceFlags(config: ConfigInput, values: OptionValues): ConfigInput {
  const rootUid = values["userns-root-uid"];
  if (typeof rootUid === "string" && values.rootless === true) {
    throw new UsageError("Give --userns-root-uid or --rootless, not both");
  }
  if (values.rootless === true) return rootlessConfig(config, callerIds());
  if (typeof rootUid !== "string") return config;
  if (!/^\d+$/.test(rootUid)) {
    throw new UsageError(`Invalid --userns-root-uid \`${rootUid}\`: give a host uid`);
  }
  let maps;
  try {
    maps = userNamespaceMappings(Number(rootUid));
  } catch (error) {
    throw new UsageError(`Invalid --userns-root-uid \`${rootUid}\`: ${(error as Error).message}`);
  }
  return withUserNamespace(config, maps, maps);
}
