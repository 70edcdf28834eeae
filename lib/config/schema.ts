/**
 * The zod schema of a container config. It checks the shape of each value
 * (types, enums, ranges) and fills in defaults; checks that relate fields
 * to one another live in `validate.ts`. Every object is strict, so a
 * misspelt key is an error rather than a silently ignored setting.
 *
 * What each field means is documented once, on the types in `types.ts`;
 * the end of this file proves the types and the schema agree.
 *
 * @module
 */
import { z } from "../_deps/zod.ts";
import { rlimitNumber } from "./rlimits.ts";
import { show } from "./_issues.ts";
import type {
  Cgroup,
  CgroupInput,
  Command,
  CommandInput,
  Config,
  ConfigInput,
  Device,
  DeviceInput,
  DeviceType,
  IdMap,
  IfPriority,
  Mount,
  MountInput,
  Namespace,
  NamespaceInput,
  Network,
  NetworkInput,
  Rlimit,
  RlimitInput,
  Route,
  RouteInput,
} from "./types.ts";

const UINT32_MAX = 2 ** 32 - 1;

const text = () => z.string().default("");
const flag = () => z.boolean().default(false);
const int = (min: number, max = Number.MAX_SAFE_INTEGER) => z.number().int().min(min).max(max);
const count = () => int(0).default(0);
const list = <T extends z.ZodType>(item: T) => z.array(item).default(() => []);

/** An id as the kernel stores it (uid_t, gid_t): 32 bits, and `(uid_t)-1` is reserved. */
const id = () => int(0, UINT32_MAX - 1);

/** A program run on the host around a mount (the seed's premount/postmount commands). */
const commandSchema = z.strictObject({
  path: z.string(),
  args: list(z.string()),
  env: list(z.string()),
  dir: text(),
});

/** The filesystem kinds a mount may have. */
export const MOUNT_DEVICES = [
  "bind",
  "tmpfs",
  "proc",
  "sysfs",
  "mqueue",
  "devpts",
  "cgroup",
] as const;

/** One mount inside the container. */
const mountSchema = z.strictObject({
  source: text(),
  destination: z.string(),
  device: z.enum(MOUNT_DEVICES),
  flags: int(0, UINT32_MAX).default(0),
  data: text(),
  relabel: z.enum(["", "z", "Z"]).default(""),
  premount_cmds: list(commandSchema),
  postmount_cmds: list(commandSchema),
});

/**
 * The seed serialised a device type as the int of its character; both
 * that and the letter are accepted, and the letter is what comes out.
 */
const DEVICE_TYPE_CODES: Record<99 | 98 | 112 | 97, DeviceType> = {
  99: "c",
  98: "b",
  112: "p",
  97: "a",
};

/** `c` char, `b` block, `p` fifo, `a` all (only in cgroup rules). */
const deviceTypeSchema = z.union([
  z.enum(["c", "b", "p", "a"]),
  z.literal([99, 98, 112, 97]).transform((code) => DEVICE_TYPE_CODES[code]),
], {
  error: (issue) =>
    `Must be one of \`c\`, \`b\`, \`p\` or \`a\` (or 99, 98, 112, 97), got ${show(issue.input)}`,
});

/** A device node to create, or a device cgroup rule. */
const deviceSchema = z.strictObject({
  type: deviceTypeSchema,
  path: text(),
  major: int(-1),
  minor: int(-1),
  permissions: text(),
  file_mode: count(),
  uid: id().default(0),
  gid: id().default(0),
});

/** The namespace kinds, named as the seed named them (CLONE_ without the prefix). */
export const NAMESPACE_TYPES = [
  "NEWNS",
  "NEWUTS",
  "NEWIPC",
  "NEWPID",
  "NEWNET",
  "NEWUSER",
] as const;

/** A namespace to create, or with a path, to join. */
const namespaceSchema = z.strictObject({
  type: z.enum(NAMESPACE_TYPES),
  path: text(),
});

/** A network interface set up in the container's network namespace. */
const networkSchema = z.strictObject({
  type: z.enum(["loopback", "veth"]),
  name: text(),
  bridge: text(),
  mac_address: text(),
  address: text(),
  gateway: text(),
  ipv6_address: text(),
  ipv6_gateway: text(),
  mtu: count(),
  txqueuelen: count(),
  host_interface_name: text(),
  hairpin_mode: flag(),
});

/** A route added in the container's network namespace. */
const routeSchema = z.strictObject({
  destination: text(),
  source: text(),
  gateway: text(),
  interface_name: text(),
});

/** A net_prio priority for one interface. */
const ifPrioSchema = z.strictObject({
  interface: z.string(),
  priority: int(0),
});

/**
 * Cgroup placement and limits. Zero (or empty) means "leave the kernel's
 * value"; -1 in the memory fields means unlimited.
 */
const cgroupSchema = z.strictObject({
  name: text(),
  parent: text(),
  allow_all_devices: flag(),
  allowed_devices: list(deviceSchema),
  denied_devices: list(deviceSchema),
  memory: int(-1).default(0),
  memory_reservation: int(-1).default(0),
  memory_swap: int(-1).default(0),
  cpu_shares: count(),
  cpu_quota: int(-1).default(0),
  cpu_period: count(),
  // The seed tagged its two realtime fields `cpu_quota` and `cpu_period`,
  // the same JSON keys as the CFS fields, so under encoding/json's rule
  // none of the four reached JSON. They get keys of their own here.
  cpu_rt_runtime: int(-1).default(0),
  cpu_rt_period: count(),
  cpuset_cpus: text(),
  cpuset_mems: text(),
  blkio_throttle_read_bps_device: text(),
  blkio_throttle_write_bps_device: text(),
  blkio_throttle_read_iops_device: text(),
  blkio_throttle_write_iops_device: text(),
  blkio_weight: count(),
  blkio_weight_device: text(),
  freezer: z.enum(["", "FROZEN", "THAWED"]).default(""),
  slice: text(),
  oom_kill_disable: flag(),
  net_prio_ifpriomap: list(ifPrioSchema),
});

/**
 * The seed wrote RLIM_INFINITY as uint64 max, which JSON numbers round to
 * 2^64; it, `-1` and `"unlimited"` all mean no limit, which comes out as -1.
 */
const RLIM_INFINITY_AS_JSON = 2 ** 64;

const rlimitValueSchema = z.union([z.number(), z.literal("unlimited")], {
  error: (issue) =>
    `Expected a non-negative integer, -1 or \`unlimited\`, got ${show(issue.input)}`,
}).transform((value, ctx): number => {
  if (value === "unlimited" || value === -1 || value === RLIM_INFINITY_AS_JSON) return -1;
  if (Number.isSafeInteger(value) && value >= 0) return value;
  ctx.addIssue({
    code: "custom",
    input: value,
    message: `Expected a non-negative integer, -1 or \`unlimited\`, got ${show(value)}`,
  });
  return z.NEVER;
});

const rlimitTypeSchema = z.union([int(0), z.string()], {
  error: (issue) => `Expected an \`RLIMIT_*\` number or name, got ${show(issue.input)}`,
}).transform((value, ctx): number => {
  if (typeof value === "number") return value;
  const number = rlimitNumber(value);
  if (number !== undefined) return number;
  ctx.addIssue({
    code: "custom",
    input: value,
    message: `Unknown resource limit ${show(value)}: expected a name such as \`RLIMIT_NOFILE\``,
  });
  return z.NEVER;
});

/**
 * A resource limit. `type` is the `RLIMIT_*` number (a name such as
 * `RLIMIT_NOFILE` is accepted and becomes the number). `hard` and `soft`
 * are non-negative integers, with -1 meaning RLIM_INFINITY in the output
 * (`"unlimited"`, -1 and the seed's uint64 max are accepted on input).
 */
const rlimitSchema = z.strictObject({
  type: rlimitTypeSchema,
  hard: rlimitValueSchema,
  soft: rlimitValueSchema,
});

/** One range of a user namespace's id map. */
const idMapSchema = z.strictObject({
  container_id: id(),
  host_id: id(),
  size: int(1, UINT32_MAX),
});

/** A whole container config. Only `rootfs` is required. */
export const configSchema = z.strictObject({
  rootfs: z.string(),
  no_pivot_root: flag(),
  pivot_dir: text(),
  readonlyfs: flag(),
  privatefs: flag(),
  parent_death_signal: int(0, 64).default(0),
  mounts: list(mountSchema),
  devices: list(deviceSchema),
  mount_label: text(),
  hostname: text(),
  namespaces: list(namespaceSchema),
  capabilities: list(z.string()),
  networks: list(networkSchema),
  routes: list(routeSchema),
  cgroups: cgroupSchema.prefault({}),
  apparmor_profile: text(),
  process_label: text(),
  rlimits: list(rlimitSchema),
  additional_groups: list(id()),
  uid_mappings: list(idMapSchema),
  gid_mappings: list(idMapSchema),
  mask_paths: list(z.string()),
  readonly_paths: list(z.string()),
  system_properties: z.record(z.string(), z.string()).default(() => ({})),
});

// The documented types in types.ts must be exactly what the schema parses
// and accepts: same keys, same optionality, assignable both ways. A `false`
// below means a type and its schema drifted apart.
type Same<A, B> = [A, keyof A] extends [B, keyof B]
  ? [B, keyof B] extends [A, keyof A] ? true : false
  : false;
type AllTrue<T extends true[]> = T;

type _TypesMatchSchema = AllTrue<[
  Same<Config, z.output<typeof configSchema>>,
  Same<ConfigInput, z.input<typeof configSchema>>,
  Same<Mount, z.output<typeof mountSchema>>,
  Same<MountInput, z.input<typeof mountSchema>>,
  Same<Command, z.output<typeof commandSchema>>,
  Same<CommandInput, z.input<typeof commandSchema>>,
  Same<Device, z.output<typeof deviceSchema>>,
  Same<DeviceInput, z.input<typeof deviceSchema>>,
  Same<Namespace, z.output<typeof namespaceSchema>>,
  Same<NamespaceInput, z.input<typeof namespaceSchema>>,
  Same<Network, z.output<typeof networkSchema>>,
  Same<NetworkInput, z.input<typeof networkSchema>>,
  Same<Route, z.output<typeof routeSchema>>,
  Same<RouteInput, z.input<typeof routeSchema>>,
  Same<Cgroup, z.output<typeof cgroupSchema>>,
  Same<CgroupInput, z.input<typeof cgroupSchema>>,
  Same<IfPriority, z.output<typeof ifPrioSchema>>,
  Same<IfPriority, z.input<typeof ifPrioSchema>>,
  Same<Rlimit, z.output<typeof rlimitSchema>>,
  Same<RlimitInput, z.input<typeof rlimitSchema>>,
  Same<IdMap, z.output<typeof idMapSchema>>,
  Same<IdMap, z.input<typeof idMapSchema>>,
]>;
