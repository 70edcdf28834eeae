/**
 * The default devices and mounts, and nsinit's config template built from
 * them.
 *
 * @module
 */
import { MS } from "./mount_flags.ts";
import { parseShape } from "./parse.ts";
import type { Config, Device, DeviceType, Mount } from "./types.ts";

/** Freezes a value and everything in it, so a shared default cannot be edited in place. */
function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object") {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

function frozen<T extends object>(items: T[]): readonly T[] {
  return deepFreeze(items);
}

const WILDCARD = -1;

function device(
  type: DeviceType,
  path: string,
  major: number,
  minor: number,
  permissions: string,
  fileMode = 0,
): Device {
  return { type, path, major, minor, permissions, file_mode: fileMode, uid: 0, gid: 0 };
}

/** The devices every container gets as nodes and may use: null, zero, full, tty, urandom, random. */
export const DEFAULT_SIMPLE_DEVICES: readonly Device[] = frozen([
  device("c", "/dev/null", 1, 3, "rwm", 0o666),
  device("c", "/dev/zero", 1, 5, "rwm", 0o666),
  device("c", "/dev/full", 1, 7, "rwm", 0o666),
  device("c", "/dev/tty", 5, 0, "rwm", 0o666),
  device("c", "/dev/urandom", 1, 9, "rwm", 0o666),
  device("c", "/dev/random", 1, 8, "rwm", 0o666),
]);

/**
 * The default devices cgroup allow list: mknod of any node, the consoles,
 * pseudo-terminals, tun, and the simple devices.
 */
export const DEFAULT_ALLOWED_DEVICES: readonly Device[] = frozen([
  // mknod is allowed for every node; using one still needs its own rule.
  device("c", "", WILDCARD, WILDCARD, "m"),
  device("b", "", WILDCARD, WILDCARD, "m"),
  device("c", "/dev/console", 5, 1, "rwm"),
  device("c", "/dev/tty0", 4, 0, "rwm"),
  device("c", "/dev/tty1", 4, 1, "rwm"),
  // Every pseudo-terminal slave (/dev/pts/N).
  device("c", "", 136, WILDCARD, "rwm"),
  device("c", "/dev/ptmx", 5, 2, "rwm"),
  device("c", "/dev/net/tun", 10, 200, "rwm"),
  ...DEFAULT_SIMPLE_DEVICES.map((d) => ({ ...d })),
]);

/** The device nodes created in a container's /dev: fuse (created, not allowed) and the simple devices. */
export const DEFAULT_AUTO_CREATED_DEVICES: readonly Device[] = frozen([
  device("c", "/dev/fuse", 10, 229, "rwm", 0o666),
  ...DEFAULT_SIMPLE_DEVICES.map((d) => ({ ...d })),
]);

function mount(device: Mount["device"], destination: string, flags: number, data = ""): Mount {
  const source = device === "tmpfs" && destination === "/dev/shm" ? "shm" : device;
  return {
    source,
    destination,
    device,
    flags,
    data,
    relabel: "",
    premount_cmds: [],
    postmount_cmds: [],
  };
}

const { MS_NOSUID, MS_NOEXEC, MS_NODEV, MS_RDONLY, MS_STRICTATIME } = MS;

/** The mounts a container gets: /proc, /dev, /dev/pts, /dev/shm, /dev/mqueue and a read-only /sys. */
export const DEFAULT_MOUNTS: readonly Mount[] = frozen([
  mount("proc", "/proc", MS_NOEXEC | MS_NOSUID | MS_NODEV),
  mount("tmpfs", "/dev", MS_NOSUID | MS_STRICTATIME, "mode=755,size=65536k"),
  mount("devpts", "/dev/pts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620,gid=5"),
  mount("tmpfs", "/dev/shm", MS_NOSUID | MS_NOEXEC | MS_NODEV, "mode=1777,size=65536k"),
  mount("mqueue", "/dev/mqueue", MS_NOSUID | MS_NOEXEC | MS_NODEV),
  mount("sysfs", "/sys", MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RDONLY),
]);

/** The capabilities the template keeps (Docker's 2015 defaults). */
const TEMPLATE_CAPABILITIES = [
  "CHOWN",
  "DAC_OVERRIDE",
  "FSETID",
  "FOWNER",
  "MKNOD",
  "NET_RAW",
  "SETGID",
  "SETUID",
  "SETFCAP",
  "SETPCAP",
  "NET_BIND_SERVICE",
  "SYS_CHROOT",
  "KILL",
  "AUDIT_WRITE",
];

const SIGKILL = 9;

/**
 * Paths hidden from the container, as runc and Docker hide them today: a
 * file is covered by the (verified) null device, a directory by an empty
 * read-only tmpfs; a path this kernel lacks is skipped. Docker also hides
 * each `/sys/devices/system/cpu/cpu*\/thermal_throttle`, which a static
 * template cannot list.
 */
export const DEFAULT_MASKED_PATHS: readonly string[] = Object.freeze([
  "/proc/acpi",
  "/proc/asound",
  "/proc/interrupts",
  "/proc/kcore",
  "/proc/keys",
  "/proc/latency_stats",
  "/proc/sched_debug",
  "/proc/scsi",
  "/proc/timer_list",
  "/proc/timer_stats",
  "/sys/devices/virtual/powercap",
  "/sys/firmware",
]);

/** Kernel knobs under /proc made read-only, as runc and Docker do. */
export const DEFAULT_READONLY_PATHS: readonly string[] = Object.freeze([
  "/proc/bus",
  "/proc/fs",
  "/proc/irq",
  "/proc/sys",
  "/proc/sysrq-trigger",
]);

/** Options of {@link defaultConfig}. */
export interface DefaultConfigOptions {
  /** The rootfs; left empty when absent, for the caller to set before validation. */
  rootfs?: string;
  /** The cgroup name; `nsinit` when absent. */
  name?: string;
}

/**
 * nsinit's config template: new mount, UTS, IPC, PID and network
 * namespaces, hostname `nsinit`, a loopback interface, Docker's default
 * capabilities, the default mounts and devices, the default seccomp
 * profile, `no_new_privileges`, the masked and read-only paths of
 * {@link DEFAULT_MASKED_PATHS} and {@link DEFAULT_READONLY_PATHS}, SIGKILL
 * on parent death and 1024 open files.
 *
 * @param options The rootfs and the cgroup name.
 * @returns A fresh config; editing it leaves later templates untouched.
 * @example
 * ```ts
 * const config = defaultConfig({ rootfs: "/var/lib/box/rootfs", name: "box" });
 * ```
 */
export function defaultConfig(options: DefaultConfigOptions = {}): Config {
  // Parsing copies every list, so the frozen defaults are never shared.
  return parseShape({
    rootfs: options.rootfs ?? "",
    parent_death_signal: SIGKILL,
    capabilities: TEMPLATE_CAPABILITIES,
    namespaces: ["NEWNS", "NEWUTS", "NEWIPC", "NEWPID", "NEWNET"].map((type) => ({ type })),
    hostname: "nsinit",
    cgroups: {
      name: options.name ?? "nsinit",
      parent: "nsinit",
      allowed_devices: DEFAULT_ALLOWED_DEVICES,
    },
    devices: DEFAULT_AUTO_CREATED_DEVICES,
    mounts: DEFAULT_MOUNTS,
    networks: [{ type: "loopback" }],
    mask_paths: DEFAULT_MASKED_PATHS,
    readonly_paths: DEFAULT_READONLY_PATHS,
    seccomp: "default",
    no_new_privileges: true,
    rlimits: [{ type: "RLIMIT_NOFILE", hard: 1024, soft: 1024 }],
  });
}
