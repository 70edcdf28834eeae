import { assert, assertEquals, assertMatch } from "../../_assert.ts";
import { parseConfig } from "../../../lib/config/mod.ts";
import { input, issuesFor, pathsFor } from "./_helpers.ts";

Deno.test("parseConfig() rejects an unknown top-level key and names its path", () => {
  const issues = issuesFor({ ...input(), bogus: true });
  assertEquals(issues, [{ path: "bogus", message: "Unknown key" }]);
});

Deno.test("parseConfig() rejects unknown keys at every nesting level", () => {
  const paths = pathsFor(input({
    mounts: [{
      destination: "/tmp",
      device: "tmpfs",
      extra: 1,
      premount_cmds: [{ path: "/bin/true", x: 1 }],
    }],
    cgroups: { allowed_devices: [{ type: "c", major: 1, minor: 3, y: 2 }], z: 3 },
    networks: [{ type: "loopback", w: 4 }],
    rlimits: [{ type: 7, hard: 1, soft: 1, v: 5 }],
    uid_mappings: [],
  } as never));
  for (
    const path of [
      "mounts[0].extra",
      "mounts[0].premount_cmds[0].x",
      "cgroups.allowed_devices[0].y",
      "cgroups.z",
      "networks[0].w",
      "rlimits[0].v",
    ]
  ) {
    assert(paths.includes(path), `${path} not in ${paths.join(", ")}`);
  }
});

Deno.test("parseConfig() suggests the key a Go field name or typo meant", () => {
  const issues = issuesFor({ ...input(), NoPivotRoot: true, hostnme: "x" });
  assertEquals(issues, [
    { path: "NoPivotRoot", message: "Unknown key: did you mean `no_pivot_root`?" },
    { path: "hostnme", message: "Unknown key: did you mean `hostname`?" },
  ]);
});

Deno.test("parseConfig() keeps the realtime cpu fields apart from cpu_quota and cpu_period", () => {
  const config = parseConfig(
    input({ cgroups: { cpu_quota: 50000, cpu_rt_runtime: 950000, cpu_rt_period: 1000000 } }),
  );
  assertEquals([
    config.cgroups.cpu_quota,
    config.cgroups.cpu_rt_runtime,
    config.cgroups.cpu_rt_period,
  ], [50000, 950000, 1000000]);
});

Deno.test("parseConfig() requires rootfs and names a wrong type with the value", () => {
  assertEquals(issuesFor({}), [{ path: "rootfs", message: "Required: expected a string" }]);
  assertEquals(issuesFor({ rootfs: 42 }), [{
    path: "rootfs",
    message: "Expected a string, got `42`",
  }]);
  assertEquals(issuesFor(null), [{ path: "", message: "Expected an object, got `null`" }]);
  assertEquals(issuesFor([]), [{ path: "", message: "Expected an object, got an array" }]);
});

Deno.test("parseConfig() fills every default so no field is undefined", () => {
  const config = parseConfig({ rootfs: "/srv/box" });
  assertEquals(config.mounts, []);
  assertEquals(config.system_properties, {});
  assertEquals(config.parent_death_signal, 0);
  assertEquals(config.cgroups.name, "");
  assertEquals(config.cgroups.allowed_devices, []);
  assertEquals(config.cgroups.freezer, "");
  const walk = (value: unknown, path: string): void => {
    assert(value !== undefined, `${path} is undefined`);
    if (value !== null && typeof value === "object") {
      for (const [key, inner] of Object.entries(value)) walk(inner, `${path}.${key}`);
    }
  };
  walk(config, "config");
});

Deno.test("parseConfig() fills defaults inside nested entries", () => {
  const config = parseConfig(input({
    mounts: [{ source: "tmpfs", destination: "/tmp", device: "tmpfs" }],
    devices: [{ type: "c", path: "/dev/null", major: 1, minor: 3 }],
    networks: [{ type: "loopback" }],
  }));
  assertEquals(config.mounts[0], {
    source: "tmpfs",
    destination: "/tmp",
    device: "tmpfs",
    flags: 0,
    data: "",
    relabel: "",
    premount_cmds: [],
    postmount_cmds: [],
  });
  assertEquals(config.devices[0], {
    type: "c",
    path: "/dev/null",
    major: 1,
    minor: 3,
    permissions: "",
    file_mode: 0,
    uid: 0,
    gid: 0,
  });
  assertEquals(config.networks[0]?.mtu, 0);
  assertEquals(config.networks[0]?.hairpin_mode, false);
});

Deno.test("parseConfig() normalises a device type given as the seed's int to its letter", () => {
  const devices = [99, 98, 112].map((type, i) => ({
    type,
    path: `/dev/d${i}`,
    major: 1,
    minor: i,
  }));
  const rules = [{ type: 97, major: -1, minor: -1, permissions: "rwm" }];
  const config = parseConfig(input({ devices, cgroups: { allowed_devices: rules } } as never));
  assertEquals(config.devices.map((d) => d.type), ["c", "b", "p"]);
  assertEquals(config.cgroups.allowed_devices[0]?.type, "a");
});

Deno.test("parseConfig() keeps a device type given as a letter", () => {
  const config = parseConfig(
    input({ devices: [{ type: "b", path: "/dev/sda", major: 8, minor: 0 }] }),
  );
  assertEquals(config.devices[0]?.type, "b");
});

Deno.test("parseConfig() rejects an unknown device type naming both forms", () => {
  const issues = issuesFor(
    input({ devices: [{ type: "x", path: "/dev/x", major: 1, minor: 1 }] } as never),
  );
  assertEquals(issues.map((i) => i.path), ["devices[0].type"]);
  assertMatch(issues[0]!.message, /`c`, `b`, `p` or `a` \(or 99, 98, 112, 97\), got `x`/);
});

Deno.test("parseConfig() takes an rlimit type by name, with or without the RLIMIT_ prefix", () => {
  const config = parseConfig(input({
    rlimits: [{ type: "RLIMIT_NOFILE", hard: 1024, soft: 512 }, {
      type: "NPROC",
      hard: 10,
      soft: 10,
    }],
  }));
  assertEquals(config.rlimits.map((r) => r.type), [7, 6]);
});

Deno.test("parseConfig() rejects an unknown rlimit name", () => {
  const issues = issuesFor(input({ rlimits: [{ type: "RLIMIT_BOGUS", hard: 1, soft: 1 }] }));
  assertEquals(issues.map((i) => i.path), ["rlimits[0].type"]);
  assertMatch(issues[0]!.message, /^Unknown resource limit `RLIMIT_BOGUS`/);
});

Deno.test("parseConfig() reads unlimited, -1 and the seed's uint64 max as RLIM_INFINITY (-1)", () => {
  const seedInfinity = JSON.parse("18446744073709551615");
  const config = parseConfig(input({
    rlimits: [
      { type: "CORE", hard: "unlimited", soft: -1 },
      { type: "STACK", hard: seedInfinity, soft: 8388608 },
    ],
  }));
  assertEquals(config.rlimits.map((r) => [r.hard, r.soft]), [[-1, -1], [-1, 8388608]]);
});

Deno.test("parseConfig() rejects a negative or fractional rlimit value", () => {
  const paths = pathsFor(input({ rlimits: [{ type: 7, hard: -2, soft: 1.5 }] }));
  assertEquals(paths, ["rlimits[0].hard", "rlimits[0].soft"]);
});

Deno.test("parseConfig() rejects out-of-range integers with the bound in the message", () => {
  assertEquals(issuesFor(input({ parent_death_signal: 65 })), [
    { path: "parent_death_signal", message: "Must be at most 64, got `65`" },
  ]);
  assertEquals(issuesFor(input({ additional_groups: [10, -1] })), [
    { path: "additional_groups[1]", message: "Must be at least 0, got `-1`" },
  ]);
  assertEquals(issuesFor(input({ parent_death_signal: 1.5 })), [
    { path: "parent_death_signal", message: "Expected an integer, got `1.5`" },
  ]);
});

Deno.test("parseConfig() accepts parent_death_signal 0 to 64 and non-negative additional_groups", () => {
  assertEquals(issuesFor(input({ parent_death_signal: 64, additional_groups: [0, 10] })), []);
});

Deno.test("parseConfig() rejects an unknown enum value and lists the allowed ones", () => {
  assertEquals(issuesFor(input({ namespaces: [{ type: "NEWCGROUP" }] } as never)), [
    {
      path: "namespaces[0].type",
      message:
        "Must be one of `NEWNS`, `NEWUTS`, `NEWIPC`, `NEWPID`, `NEWNET` or `NEWUSER`, got `NEWCGROUP`",
    },
  ]);
  assertEquals(pathsFor(input({ mounts: [{ destination: "/x", device: "ext4" }] } as never)), [
    "mounts[0].device",
  ]);
  assertEquals(
    pathsFor(input({ mounts: [{ destination: "/x", device: "tmpfs", relabel: "q" }] } as never)),
    [
      "mounts[0].relabel",
    ],
  );
  assertEquals(pathsFor(input({ networks: [{ type: "macvlan" }] } as never)), ["networks[0].type"]);
  assertEquals(pathsFor(input({ cgroups: { freezer: "PAUSED" } } as never)), ["cgroups.freezer"]);
});

Deno.test("parseConfig() requires id map ranges of at least one id", () => {
  const map = { container_id: 0, host_id: 1000, size: 0 };
  assertEquals(pathsFor(input({ uid_mappings: [map] })), ["uid_mappings[0].size"]);
});

Deno.test("parseConfig() reports every shape issue at once", () => {
  const paths = pathsFor({ rootfs: 1, hostname: false, mounts: [{}], bogus: 0 });
  assertEquals(paths.sort(), [
    "bogus",
    "hostname",
    "mounts[0].destination",
    "mounts[0].device",
    "rootfs",
  ]);
});
