import { assert, assertEquals, assertThrows } from "../../_assert.ts";
import {
  DEFAULT_ALLOWED_DEVICES,
  DEFAULT_AUTO_CREATED_DEVICES,
  DEFAULT_MOUNTS,
  DEFAULT_SIMPLE_DEVICES,
  defaultConfig,
  type Device,
  MS,
  parseConfig,
} from "../../../lib/config/mod.ts";

const rule = (d: Device) =>
  `${d.type} ${d.major < 0 ? "*" : d.major}:${d.minor < 0 ? "*" : d.minor} ${d.permissions}`;

Deno.test("defaultConfig() passes validation once a rootfs is given", () => {
  const config = defaultConfig({ rootfs: "/srv/box" });
  assertEquals(parseConfig(config), config);
});

Deno.test("defaultConfig() leaves the rootfs empty when none is given, which validation refuses", () => {
  assertEquals(defaultConfig().rootfs, "");
  assertThrows(() => parseConfig(defaultConfig()));
});

Deno.test("defaultConfig() is nsinit's template", () => {
  const config = defaultConfig({ rootfs: "/srv/box" });
  assertEquals(config.parent_death_signal, 9);
  assertEquals(config.hostname, "nsinit");
  assertEquals(config.namespaces.map((ns) => ns.type), [
    "NEWNS",
    "NEWUTS",
    "NEWIPC",
    "NEWPID",
    "NEWNET",
  ]);
  assertEquals(config.capabilities.length, 14);
  assert(config.capabilities.includes("AUDIT_WRITE") && !config.capabilities.includes("SYS_ADMIN"));
  assertEquals(config.cgroups.name, "nsinit");
  assertEquals(config.cgroups.parent, "nsinit");
  assertEquals(config.cgroups.allowed_devices, [...DEFAULT_ALLOWED_DEVICES]);
  assertEquals(config.devices, [...DEFAULT_AUTO_CREATED_DEVICES]);
  assertEquals(config.mounts, [...DEFAULT_MOUNTS]);
  assertEquals(config.networks.map((n) => n.type), ["loopback"]);
  // As runc and Docker set them today.
  assertEquals(config.mask_paths, [
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
  assertEquals(config.readonly_paths, [
    "/proc/bus",
    "/proc/fs",
    "/proc/irq",
    "/proc/sys",
    "/proc/sysrq-trigger",
  ]);
  // The default seccomp profile and no_new_privs, as `runc spec` sets it; no oom_score_adj.
  assertEquals(config.seccomp, "default");
  assertEquals(config.no_new_privileges, true);
  assertEquals(config.oom_score_adj, undefined);
  assertEquals(config.labels_optional, false);
  // /sys is mounted read-only.
  const sys = config.mounts.find((m) => m.destination === "/sys")!;
  assert((sys.flags & MS.MS_RDONLY) !== 0);
  assertEquals(config.rlimits, [{ type: 7, hard: 1024, soft: 1024 }]);
});

Deno.test("defaultConfig() names the cgroup after options.name", () => {
  assertEquals(defaultConfig({ name: "box" }).cgroups.name, "box");
});

Deno.test("defaultConfig() returns a fresh config each time", () => {
  const first = defaultConfig();
  first.mounts[0]!.data = "changed";
  first.devices.pop();
  first.capabilities.push("SYS_ADMIN");
  const second = defaultConfig();
  assertEquals(second.mounts[0]!.data, "");
  assertEquals(second.devices.length, DEFAULT_AUTO_CREATED_DEVICES.length);
  assert(!second.capabilities.includes("SYS_ADMIN"));
});

Deno.test("the default lists are frozen all the way down", () => {
  for (
    const list of [
      DEFAULT_MOUNTS,
      DEFAULT_SIMPLE_DEVICES,
      DEFAULT_ALLOWED_DEVICES,
      DEFAULT_AUTO_CREATED_DEVICES,
    ]
  ) {
    assert(Object.isFrozen(list));
    assert(list.every((item) => Object.isFrozen(item)));
  }
  assert(Object.isFrozen(DEFAULT_MOUNTS[0]!.premount_cmds));
});

Deno.test("DEFAULT_SIMPLE_DEVICES are the six char devices, rwm and mode 0666", () => {
  assertEquals(DEFAULT_SIMPLE_DEVICES.map((d) => `${d.path} ${d.major}:${d.minor}`), [
    "/dev/null 1:3",
    "/dev/zero 1:5",
    "/dev/full 1:7",
    "/dev/tty 5:0",
    "/dev/urandom 1:9",
    "/dev/random 1:8",
  ]);
  assert(
    DEFAULT_SIMPLE_DEVICES.every((d) =>
      d.type === "c" && d.permissions === "rwm" && d.file_mode === 0o666
    ),
  );
});

Deno.test("DEFAULT_ALLOWED_DEVICES are mknod of anything, consoles, ptys, tun and the simple devices", () => {
  assertEquals(DEFAULT_ALLOWED_DEVICES.map(rule), [
    "c *:* m",
    "b *:* m",
    "c 5:1 rwm",
    "c 4:0 rwm",
    "c 4:1 rwm",
    "c 136:* rwm",
    "c 5:2 rwm",
    "c 10:200 rwm",
    ...DEFAULT_SIMPLE_DEVICES.map(rule),
  ]);
});

Deno.test("DEFAULT_AUTO_CREATED_DEVICES are fuse and the simple devices", () => {
  assertEquals(DEFAULT_AUTO_CREATED_DEVICES.map((d) => d.path), [
    "/dev/fuse",
    ...DEFAULT_SIMPLE_DEVICES.map((d) => d.path),
  ]);
  assertEquals(rule(DEFAULT_AUTO_CREATED_DEVICES[0]!), "c 10:229 rwm");
});

Deno.test("DEFAULT_MOUNTS are proc, /dev, devpts, shm, mqueue and a read-only sysfs", () => {
  const { MS_NOSUID, MS_NOEXEC, MS_NODEV, MS_RDONLY, MS_STRICTATIME } = MS;
  assertEquals(DEFAULT_MOUNTS.map((m) => [m.source, m.destination, m.device, m.flags, m.data]), [
    ["proc", "/proc", "proc", MS_NOEXEC | MS_NOSUID | MS_NODEV, ""],
    ["tmpfs", "/dev", "tmpfs", MS_NOSUID | MS_STRICTATIME, "mode=755,size=65536k"],
    [
      "devpts",
      "/dev/pts",
      "devpts",
      MS_NOSUID | MS_NOEXEC,
      "newinstance,ptmxmode=0666,mode=0620,gid=5",
    ],
    ["shm", "/dev/shm", "tmpfs", MS_NOSUID | MS_NOEXEC | MS_NODEV, "mode=1777,size=65536k"],
    ["mqueue", "/dev/mqueue", "mqueue", MS_NOSUID | MS_NOEXEC | MS_NODEV, ""],
    ["sysfs", "/sys", "sysfs", MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RDONLY, ""],
  ]);
});
