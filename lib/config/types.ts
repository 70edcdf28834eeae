/**
 * The TypeScript types of a config. They are written out so each field is
 * documented, and `schema.ts` checks at compile time that every one of them
 * equals what the shapes there parse (output types) or accept (input
 * types), so the two cannot drift.
 *
 * The output types (`Config`, `Mount`, ...) have every default filled in;
 * the `*Input` types are what may be written, with defaulted keys optional.
 * Keys are the seed's snake_case JSON keys; the seccomp profile inside
 * `seccomp` keeps OCI's camelCase keys.
 *
 * @module
 */
import type { SeccompProfile } from "../seccomp/profile.ts";

/** The kinds of mount: a bind of a host path or one of the pseudo filesystems. */
export type MountDevice = "bind" | "tmpfs" | "proc" | "sysfs" | "mqueue" | "devpts" | "cgroup";

/** A program run on the host around a mount (the seed's premount/postmount commands). */
export interface Command {
  /** Program to run. */
  path: string;
  /** Its argv; empty means just `path`. */
  args: string[];
  /** Its environment, as `KEY=value` strings. */
  env: string[];
  /** Its working directory; empty means the runtime's. */
  dir: string;
}

/** A mount inside the container. */
export interface Mount {
  /** What to mount: a host path for `bind`, otherwise a name shown in /proc/mounts. */
  source: string;
  /** Where, inside the rootfs: an absolute path, never `/` and never inside /proc. */
  destination: string;
  /** The kind of mount (the seed's `device` key). */
  device: MountDevice;
  /** `MS_*` bits as in mount(2); see `MS`. */
  flags: number;
  /** Filesystem options, such as `mode=755`. */
  data: string;
  /** SELinux relabel of a bind source: `z` shared, `Z` private, empty for none. */
  relabel: "" | "z" | "Z";
  /** Commands run on the host before the mount. */
  premount_cmds: Command[];
  /** Commands run on the host after the mount. */
  postmount_cmds: Command[];
}

/** `c` char, `b` block, `p` fifo, `a` all (only in cgroup rules). */
export type DeviceType = "c" | "b" | "p" | "a";

/** The seed's encoding of a device type: the int of its letter (99 `c`, 98 `b`, 112 `p`, 97 `a`). */
export type DeviceTypeCode = 99 | 98 | 112 | 97;

/** A device node to create, or a device cgroup rule. */
export interface Device {
  /** `c`, `b`, `p`, or `a` for a rule matching every type. */
  type: DeviceType;
  /** Node path under /dev; empty in rules that match by number. */
  path: string;
  /** Major number; -1 matches any in a cgroup rule. */
  major: number;
  /** Minor number; -1 matches any in a cgroup rule. */
  minor: number;
  /** Cgroup access: letters of `rwm`. */
  permissions: string;
  /** Permission bits of the node, within 0o7777. */
  file_mode: number;
  /** Owner of the node. */
  uid: number;
  /** Group of the node. */
  gid: number;
}

/** The namespace kinds, named as the seed named them (`CLONE_NEW*` without `CLONE_`). */
export type NamespaceType = "NEWNS" | "NEWUTS" | "NEWIPC" | "NEWPID" | "NEWNET" | "NEWUSER";

/** A namespace to create, or with a path, to join. */
export interface Namespace {
  /** Which namespace. */
  type: NamespaceType;
  /** A namespace file such as `/proc/42/ns/net` to join; empty creates a new namespace. */
  path: string;
}

/** A network interface set up in the container's network namespace. */
export interface Network {
  /** `loopback` brings up `lo`; `veth` creates a pair with one end on a host bridge. */
  type: "loopback" | "veth";
  /** Interface name inside the container, such as `eth0`. */
  name: string;
  /** Host bridge the veth's host end joins. */
  bridge: string;
  /** MAC address of the container's end; empty for a random one. */
  mac_address: string;
  /** IPv4 address with prefix length, such as `172.17.0.101/16`. */
  address: string;
  /** IPv4 default gateway. */
  gateway: string;
  /** IPv6 address with prefix length. */
  ipv6_address: string;
  /** IPv6 default gateway. */
  ipv6_gateway: string;
  /** MTU; 0 for the kernel's default. */
  mtu: number;
  /** Transmit queue length; 0 for the kernel's default. */
  txqueuelen: number;
  /** Name of the veth's host end. */
  host_interface_name: string;
  /** Let traffic leave and re-enter the bridge through the same port. */
  hairpin_mode: boolean;
}

/** A route added in the container's network namespace. */
export interface Route {
  /** Destination in CIDR form. */
  destination: string;
  /** Preferred source address. */
  source: string;
  /** Next hop. */
  gateway: string;
  /** Interface the route goes out of. */
  interface_name: string;
}

/** A net_prio priority for one interface. */
export interface IfPriority {
  /** Interface name. */
  interface: string;
  /** Priority of its traffic. */
  priority: number;
}

/**
 * Cgroup placement and limits. Zero (or empty) leaves the kernel's value;
 * -1 in the memory and quota fields means unlimited.
 */
export interface Cgroup {
  /** Cgroup name; empty means the container id. */
  name: string;
  /** Parent cgroup path, relative to each hierarchy's root. */
  parent: string;
  /** Allow every device, ignoring the rules below. */
  allow_all_devices: boolean;
  /** Device access rules granted. */
  allowed_devices: Device[];
  /** Device access rules denied. */
  denied_devices: Device[];
  /** Memory limit in bytes. */
  memory: number;
  /** Memory soft limit in bytes. */
  memory_reservation: number;
  /** Memory plus swap limit in bytes; -1 is unlimited. */
  memory_swap: number;
  /** CPU weight. */
  cpu_shares: number;
  /** CFS quota in microseconds per period; -1 is no quota. */
  cpu_quota: number;
  /** CFS period in microseconds. */
  cpu_period: number;
  /**
   * Realtime runtime in microseconds per period; -1 is unlimited. (The seed
   * tagged this field and the next `cpu_quota`/`cpu_period`, clashing with
   * the CFS fields; they have keys of their own here.)
   */
  cpu_rt_runtime: number;
  /** Realtime period in microseconds. */
  cpu_rt_period: number;
  /** CPUs the container may run on, such as `0-3,6`. */
  cpuset_cpus: string;
  /** Memory nodes the container may use. */
  cpuset_mems: string;
  /** Read bytes per second per device, as `major:minor rate` lines. */
  blkio_throttle_read_bps_device: string;
  /** Write bytes per second per device. */
  blkio_throttle_write_bps_device: string;
  /** Read operations per second per device. */
  blkio_throttle_read_iops_device: string;
  /** Write operations per second per device. */
  blkio_throttle_write_iops_device: string;
  /** Block I/O weight. */
  blkio_weight: number;
  /** Block I/O weight per device. */
  blkio_weight_device: string;
  /** Freezer state to set: `FROZEN`, `THAWED`, or empty to leave it. */
  freezer: "" | "FROZEN" | "THAWED";
  /** systemd slice, when systemd manages the cgroup. */
  slice: string;
  /** Keep the OOM killer away from the container. */
  oom_kill_disable: boolean;
  /** Traffic priority per interface. */
  net_prio_ifpriomap: IfPriority[];
  /** Maximum number of tasks (the pids controller); -1 is no limit, 0 leaves the kernel's value. */
  pids_limit: number;
}

/**
 * A resource limit. `type` is the `RLIMIT_*` number (see `RLIMITS`).
 * `hard` and `soft` are non-negative integers, or -1 for RLIM_INFINITY.
 */
export interface Rlimit {
  /** The `RLIMIT_*` number, such as 7 for `RLIMIT_NOFILE`. */
  type: number;
  /** The ceiling; -1 is unlimited. */
  hard: number;
  /** The limit in force, at most `hard`; -1 is unlimited. */
  soft: number;
}

/** One range of a user namespace's id map. */
export interface IdMap {
  /** First id inside the container. */
  container_id: number;
  /** The host id it maps to. */
  host_id: number;
  /** Number of ids in the range, at least 1. */
  size: number;
}

/** A validated container config, every default filled in. */
export interface Config {
  /** The container's root directory: an absolute host path. */
  rootfs: string;
  /** Move the rootfs to / with MS_MOVE and chroot instead of pivot_root. */
  no_pivot_root: boolean;
  /** Directory inside the rootfs for the old root during pivot_root; empty for the default. */
  pivot_dir: string;
  /** Make / read-only once set up. */
  readonlyfs: boolean;
  /** Mount / private rather than slave, so no host mount event reaches the container. */
  privatefs: boolean;
  /** Signal the container's init gets when its parent dies, 0 to 64; 0 for none. */
  parent_death_signal: number;
  /** Mounts, in order. */
  mounts: Mount[];
  /** Device nodes created in the container's /dev. */
  devices: Device[];
  /** SELinux context for mounts (`context=`). */
  mount_label: string;
  /** Hostname; needs `NEWUTS`. */
  hostname: string;
  /** Namespaces to create or join. */
  namespaces: Namespace[];
  /** Capabilities kept, named without `CAP_`, such as `NET_BIND_SERVICE`. */
  capabilities: string[];
  /** Network interfaces; need `NEWNET`. */
  networks: Network[];
  /** Routes; need `NEWNET`. */
  routes: Route[];
  /** Cgroup placement and limits. */
  cgroups: Cgroup;
  /** AppArmor profile applied on exec. */
  apparmor_profile: string;
  /** SELinux label the process runs with. */
  process_label: string;
  /**
   * Start even when a label above (`apparmor_profile`, `process_label`,
   * `mount_label`) names an LSM this host has not enabled: the label is then
   * skipped. When false, such a start fails with the field named.
   */
  labels_optional: boolean;
  /**
   * A seccomp profile in OCI's `linux.seccomp` shape (`defaultAction`,
   * `architectures`, `syscalls[{names, action, errnoRet, args}]`, `flags`),
   * or `"default"` for the built-in profile (equivalent to Docker's). Left
   * out, no filter is installed. The filter is installed just before exec.
   */
  seccomp?: SeccompProfile | "default";
  /**
   * Set `no_new_privs` before exec, so that setuid files and file
   * capabilities grant nothing. A seccomp filter sets it anyway when the
   * process does not keep `SYS_ADMIN` (the kernel requires one or the other).
   */
  no_new_privileges: boolean;
  /** The process's `oom_score_adj`, -1000 to 1000; left out, it inherits the runtime's. */
  oom_score_adj?: number;
  /** Resource limits. */
  rlimits: Rlimit[];
  /** Supplementary group ids of the process. */
  additional_groups: number[];
  /** User id map; needs `NEWUSER`. */
  uid_mappings: IdMap[];
  /** Group id map; needs `NEWUSER`. */
  gid_mappings: IdMap[];
  /** Paths hidden from the container; need `NEWNS`. */
  mask_paths: string[];
  /** Paths remounted read-only; need `NEWNS`. */
  readonly_paths: string[];
  /** sysctls: `kernel.shmmni` is written to /proc/sys/kernel/shmmni. Only namespaced ones are allowed. */
  system_properties: Record<string, string>;
}

/** A command as written: only `path` is required. */
export type CommandInput = Pick<Command, "path"> & Partial<Command>;

/** A mount as written: `destination` and `device` are required. */
export type MountInput =
  & Pick<Mount, "destination" | "device">
  & Partial<Omit<Mount, "premount_cmds" | "postmount_cmds">>
  & { premount_cmds?: CommandInput[]; postmount_cmds?: CommandInput[] };

/** A device as written: `type` (letter or the seed's int), `major` and `minor` are required. */
export type DeviceInput =
  & Pick<Device, "major" | "minor">
  & Partial<Omit<Device, "type">>
  & { type: DeviceType | DeviceTypeCode };

/** A namespace as written: only `type` is required. */
export type NamespaceInput = Pick<Namespace, "type"> & Partial<Namespace>;

/** A network as written: only `type` is required. */
export type NetworkInput = Pick<Network, "type"> & Partial<Network>;

/** A route as written: every field may be left out. */
export type RouteInput = Partial<Route>;

/** Cgroup settings as written: every field may be left out. */
export type CgroupInput =
  & Partial<Omit<Cgroup, "allowed_devices" | "denied_devices">>
  & { allowed_devices?: DeviceInput[]; denied_devices?: DeviceInput[] };

/**
 * A resource limit as written: `type` may be a name such as `RLIMIT_NOFILE`
 * (or `NOFILE`), and a limit may be `"unlimited"` (or -1).
 */
export interface RlimitInput {
  /** The `RLIMIT_*` number or name. */
  type: number | string;
  /** The ceiling. */
  hard: number | "unlimited";
  /** The limit in force. */
  soft: number | "unlimited";
}

/** A container config as written: only `rootfs` is required. */
export type ConfigInput =
  & Pick<Config, "rootfs">
  & Partial<
    Omit<
      Config,
      "mounts" | "devices" | "namespaces" | "networks" | "routes" | "cgroups" | "rlimits"
    >
  >
  & {
    mounts?: MountInput[];
    devices?: DeviceInput[];
    namespaces?: NamespaceInput[];
    networks?: NetworkInput[];
    routes?: RouteInput[];
    cgroups?: CgroupInput;
    rlimits?: RlimitInput[];
  };
