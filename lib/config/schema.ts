/**
 * The shape of a container config. It checks each value (types, enums,
 * ranges) and fills in defaults; checks that relate fields to one another
 * live in `validate.ts`. Every object is strict, so a misspelt key is an
 * error rather than a silently ignored setting.
 *
 * What each field means is documented once, on the types in `types.ts`;
 * the end of this file proves the types and the shapes agree.
 *
 * Built on the in-house kit in `_shape.ts` rather than zod: this runs on
 * every container start, where zod's import and schema building cost
 * tens of milliseconds.
 *
 * @module
 */
import * as s from "./_shape.ts";
import { rlimitNumber } from "./rlimits.ts";
import { formatPath, listOf, show } from "./_issues.ts";
import type { SeccompProfile } from "../seccomp/profile.ts";
import { validateSeccomp } from "../seccomp/validate.ts";
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

// Shapes hold no state, so the common ones are built once and shared.
const STRING = s.string();
const TEXT = s.withDefault(STRING, "");
const FLAG = s.withDefault(s.boolean(), false);
const COUNT = s.withDefault(s.int(0), 0);
const STRINGS = s.withDefault(s.array(STRING), []);

/** An integer from `min` up, 0 when left out. */
const intOrZero = (min: number, max?: number) => s.withDefault(s.int(min, max), 0);
/** A list of `item`, empty when left out. */
const list = <Out, In>(item: s.Shape<Out, In>) => s.withDefault(s.array(item), []);

/** An id as the kernel stores it (uid_t, gid_t): 32 bits, and `(uid_t)-1` is reserved. */
const ID = s.int(0, UINT32_MAX - 1);

/** A program run on the host around a mount (the seed's premount/postmount commands). */
const commandSchema = s.strictObject({
  path: STRING,
  args: STRINGS,
  env: STRINGS,
  dir: TEXT,
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
const mountSchema = s.strictObject({
  source: TEXT,
  destination: STRING,
  device: s.oneOf(MOUNT_DEVICES),
  flags: intOrZero(0, UINT32_MAX),
  data: TEXT,
  relabel: s.withDefault(s.oneOf(["", "z", "Z"]), ""),
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

const DEVICE_TYPES = `${listOf(["c", "b", "p", "a"])} (or 99, 98, 112, 97)`;

/** `c` char, `b` block, `p` fifo, `a` all (only in cgroup rules). */
const deviceTypeSchema = s.union([
  s.oneOf(["c", "b", "p", "a"]),
  s.transform(s.oneOf([99, 98, 112, 97]), (code) => DEVICE_TYPE_CODES[code]),
], {
  expected: `one of ${DEVICE_TYPES}`,
  message: (value) => `Must be one of ${DEVICE_TYPES}, got ${show(value)}`,
});

/** A device node to create, or a device cgroup rule. */
const deviceSchema = s.strictObject({
  type: deviceTypeSchema,
  path: TEXT,
  major: s.int(-1),
  minor: s.int(-1),
  permissions: TEXT,
  file_mode: COUNT,
  uid: s.withDefault(ID, 0),
  gid: s.withDefault(ID, 0),
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
const namespaceSchema = s.strictObject({
  type: s.oneOf(NAMESPACE_TYPES),
  path: TEXT,
});

/** A network interface set up in the container's network namespace. */
const networkSchema = s.strictObject({
  type: s.oneOf(["loopback", "veth"]),
  name: TEXT,
  bridge: TEXT,
  mac_address: TEXT,
  address: TEXT,
  gateway: TEXT,
  ipv6_address: TEXT,
  ipv6_gateway: TEXT,
  mtu: COUNT,
  txqueuelen: COUNT,
  host_interface_name: TEXT,
  hairpin_mode: FLAG,
});

/** A route added in the container's network namespace. */
const routeSchema = s.strictObject({
  destination: TEXT,
  source: TEXT,
  gateway: TEXT,
  interface_name: TEXT,
});

/** A net_prio priority for one interface. */
const ifPrioSchema = s.strictObject({
  interface: STRING,
  priority: s.int(0),
});

/**
 * Cgroup placement and limits. Zero (or empty) means "leave the kernel's
 * value"; -1 in the memory fields means unlimited.
 */
const cgroupSchema = s.strictObject({
  name: TEXT,
  parent: TEXT,
  allow_all_devices: FLAG,
  allowed_devices: list(deviceSchema),
  denied_devices: list(deviceSchema),
  memory: intOrZero(-1),
  memory_reservation: intOrZero(-1),
  memory_swap: intOrZero(-1),
  cpu_shares: COUNT,
  cpu_quota: intOrZero(-1),
  cpu_period: COUNT,
  // The seed tagged its two realtime fields `cpu_quota` and `cpu_period`,
  // the same JSON keys as the CFS fields, so under encoding/json's rule
  // none of the four reached JSON. They get keys of their own here.
  cpu_rt_runtime: intOrZero(-1),
  cpu_rt_period: COUNT,
  cpuset_cpus: TEXT,
  cpuset_mems: TEXT,
  blkio_throttle_read_bps_device: TEXT,
  blkio_throttle_write_bps_device: TEXT,
  blkio_throttle_read_iops_device: TEXT,
  blkio_throttle_write_iops_device: TEXT,
  blkio_weight: COUNT,
  blkio_weight_device: TEXT,
  freezer: s.withDefault(s.oneOf(["", "FROZEN", "THAWED"]), ""),
  slice: TEXT,
  oom_kill_disable: FLAG,
  net_prio_ifpriomap: list(ifPrioSchema),
  pids_limit: intOrZero(-1),
});

/**
 * The seed wrote RLIM_INFINITY as uint64 max, which JSON numbers round to
 * 2^64; it, `-1` and `"unlimited"` all mean no limit, which comes out as -1.
 */
const RLIM_INFINITY_AS_JSON = 2 ** 64;

const RLIMIT_VALUE = "a non-negative integer, -1 or `unlimited`";

const isUnlimited = (value: number | "unlimited") =>
  value === "unlimited" || value === -1 || value === RLIM_INFINITY_AS_JSON;

const rlimitValueSchema = s.transform(
  s.refine(
    s.union([s.number(), s.oneOf(["unlimited"])], {
      expected: RLIMIT_VALUE,
      message: (value) => `Expected ${RLIMIT_VALUE}, got ${show(value)}`,
    }),
    (value) =>
      isUnlimited(value) || (Number.isSafeInteger(value) && (value as number) >= 0)
        ? undefined
        : `Expected ${RLIMIT_VALUE}, got ${show(value)}`,
  ),
  (value): number => isUnlimited(value) ? -1 : value as number,
);

const RLIMIT_TYPE = "an `RLIMIT_*` number or name";

const rlimitTypeSchema = s.transform(
  s.refine(
    s.union([s.int(0), STRING], {
      expected: RLIMIT_TYPE,
      message: (value) => `Expected ${RLIMIT_TYPE}, got ${show(value)}`,
    }),
    (value) =>
      typeof value === "string" && rlimitNumber(value) === undefined
        ? `Unknown resource limit ${show(value)}: expected a name such as \`RLIMIT_NOFILE\``
        : undefined,
  ),
  (value): number => typeof value === "number" ? value : rlimitNumber(value)!,
);

/**
 * A resource limit. `type` is the `RLIMIT_*` number (a name such as
 * `RLIMIT_NOFILE` is accepted and becomes the number). `hard` and `soft`
 * are non-negative integers, with -1 meaning RLIM_INFINITY in the output
 * (`"unlimited"`, -1 and the seed's uint64 max are accepted on input).
 */
const rlimitSchema = s.strictObject({
  type: rlimitTypeSchema,
  hard: rlimitValueSchema,
  soft: rlimitValueSchema,
});

/** One range of a user namespace's id map. */
const idMapSchema = s.strictObject({
  container_id: ID,
  host_id: ID,
  size: s.int(1, UINT32_MAX),
});

/**
 * A seccomp profile (OCI `linux.seccomp`), checked by the seccomp
 * validator so each issue names its field (`seccomp.syscalls[3].action`),
 * or `"default"` for the built-in profile. The output is a copy.
 */
class SeccompShape extends s.Shape<SeccompProfile | "default"> {
  readonly expected = "a seccomp profile or `default`";
  run(value: unknown, context: s.Context): SeccompProfile | "default" | s.Invalid {
    if (value === "default") return value;
    if (typeof value === "string") {
      return context.fail(
        `Unknown profile ${show(value)}: give a profile object or \`default\` for the built-in one`,
      );
    }
    const issues = validateSeccomp(value, formatPath(context.keys.slice(0, context.depth)));
    if (issues.length === 0) return structuredClone(value) as SeccompProfile;
    if (context.probing === 0) context.issues.push(...issues);
    return s.INVALID;
  }
}

/** A whole container config. Only `rootfs` is required. */
export const configSchema = s.strictObject({
  rootfs: STRING,
  no_pivot_root: FLAG,
  pivot_dir: TEXT,
  readonlyfs: FLAG,
  privatefs: FLAG,
  parent_death_signal: intOrZero(0, 64),
  mounts: list(mountSchema),
  devices: list(deviceSchema),
  mount_label: TEXT,
  hostname: TEXT,
  namespaces: list(namespaceSchema),
  capabilities: STRINGS,
  networks: list(networkSchema),
  routes: list(routeSchema),
  // An absent `cgroups` is parsed as `{}`, so its own defaults fill in.
  cgroups: s.withDefault(cgroupSchema, {}),
  apparmor_profile: TEXT,
  process_label: TEXT,
  labels_optional: FLAG,
  seccomp: s.optional(new SeccompShape()),
  no_new_privileges: FLAG,
  oom_score_adj: s.optional(s.int(-1000, 1000)),
  rlimits: list(rlimitSchema),
  additional_groups: list(ID),
  uid_mappings: list(idMapSchema),
  gid_mappings: list(idMapSchema),
  mask_paths: STRINGS,
  readonly_paths: STRINGS,
  system_properties: s.withDefault(s.record(STRING), {}),
});

// The documented types in types.ts must be exactly what the shapes parse
// and accept: same keys, same optionality, assignable both ways. A `false`
// below means a type and its shape drifted apart.
type Same<A, B> = [A, keyof A] extends [B, keyof B]
  ? [B, keyof B] extends [A, keyof A] ? true : false
  : false;
type AllTrue<T extends true[]> = T;

type _TypesMatchSchema = AllTrue<[
  Same<Config, s.Infer<typeof configSchema>>,
  Same<ConfigInput, s.Input<typeof configSchema>>,
  Same<Mount, s.Infer<typeof mountSchema>>,
  Same<MountInput, s.Input<typeof mountSchema>>,
  Same<Command, s.Infer<typeof commandSchema>>,
  Same<CommandInput, s.Input<typeof commandSchema>>,
  Same<Device, s.Infer<typeof deviceSchema>>,
  Same<DeviceInput, s.Input<typeof deviceSchema>>,
  Same<Namespace, s.Infer<typeof namespaceSchema>>,
  Same<NamespaceInput, s.Input<typeof namespaceSchema>>,
  Same<Network, s.Infer<typeof networkSchema>>,
  Same<NetworkInput, s.Input<typeof networkSchema>>,
  Same<Route, s.Infer<typeof routeSchema>>,
  Same<RouteInput, s.Input<typeof routeSchema>>,
  Same<Cgroup, s.Infer<typeof cgroupSchema>>,
  Same<CgroupInput, s.Input<typeof cgroupSchema>>,
  Same<IfPriority, s.Infer<typeof ifPrioSchema>>,
  Same<IfPriority, s.Input<typeof ifPrioSchema>>,
  Same<Rlimit, s.Infer<typeof rlimitSchema>>,
  Same<RlimitInput, s.Input<typeof rlimitSchema>>,
  Same<IdMap, s.Infer<typeof idMapSchema>>,
  Same<IdMap, s.Input<typeof idMapSchema>>,
]>;
