import { assert, assertEquals, assertMatch } from "../../_assert.ts";
import {
  CHECKS,
  type ConfigInput,
  parseConfig,
  type PathKind,
  validateConfig,
} from "../../../lib/config/mod.ts";
import { input, issuesFor, pathsFor } from "./_helpers.ts";

const without = (...types: string[]): Partial<ConfigInput> => ({
  namespaces: input().namespaces!.filter((ns) => !types.includes(ns.type)),
});

Deno.test("CHECKS run in a fixed order under unique names", () => {
  const names = CHECKS.map((check) => check.name);
  assertEquals(new Set(names).size, names.length);
  assertEquals(names[0], "rootfs");
});

Deno.test("validateConfig() returns no issue for a good config", () => {
  assertEquals(issuesFor(input()), []);
});

// 1. rootfs

Deno.test("rootfs check refuses an empty or relative rootfs", () => {
  assertEquals(issuesFor(input({ rootfs: "" })), [
    { path: "rootfs", message: "Must not be empty: give the container's root directory" },
  ]);
  assertEquals(issuesFor(input({ rootfs: "rootfs" })), [
    { path: "rootfs", message: "Must be an absolute path, got `rootfs`" },
  ]);
});

Deno.test("rootfs check asks inspectPath, refusing a missing path, a symlink or a file", () => {
  const inspect = (kind: PathKind) => ({ inspectPath: (_: string) => kind });
  assertEquals(issuesFor(input(), inspect("missing")), [{
    path: "rootfs",
    message: "Does not exist: `/srv/box`",
  }]);
  assertEquals(issuesFor(input(), inspect("symlink")), [
    { path: "rootfs", message: "Must not be a symlink: `/srv/box`" },
  ]);
  assertEquals(issuesFor(input(), inspect("other")), [{
    path: "rootfs",
    message: "Must be a directory: `/srv/box`",
  }]);
  assertEquals(issuesFor(input(), inspect("directory")), []);
});

Deno.test("rootfs check passes the rootfs itself to inspectPath and nothing else", () => {
  const asked: string[] = [];
  const inspectPath = (path: string): PathKind => {
    asked.push(path);
    return "directory";
  };
  issuesFor(input(), { inspectPath });
  assertEquals(asked, ["/srv/box"]);
});

// 2. namespaces

Deno.test("namespaces check refuses a type listed twice", () => {
  const namespaces = [...input().namespaces!, { type: "NEWPID" as const }];
  assertEquals(issuesFor(input({ namespaces })), [{
    path: "namespaces[5].type",
    message: "Listed twice: `NEWPID`",
  }]);
});

Deno.test("namespaces check refuses a relative path to join", () => {
  const namespaces = [{ type: "NEWNET" as const, path: "proc/1/ns/net" }];
  assertEquals(pathsFor({ rootfs: "/srv/box", namespaces }), ["namespaces[0].path"]);
  assertEquals(
    pathsFor({ rootfs: "/srv/box", namespaces: [{ type: "NEWNET", path: "/proc/1/ns/net" }] }),
    [],
  );
});

Deno.test("namespaces check refuses NEWUSER only when user namespaces are unavailable", () => {
  const config = input({
    namespaces: [...input().namespaces!, { type: "NEWUSER" }],
    uid_mappings: [{ container_id: 0, host_id: 1000, size: 1 }],
    gid_mappings: [{ container_id: 0, host_id: 1000, size: 1 }],
  });
  assertEquals(issuesFor(config), []);
  assertEquals(issuesFor(config, { userNamespacesAvailable: true }), []);
  assertEquals(issuesFor(config, { userNamespacesAvailable: false }), [
    { path: "namespaces[5].type", message: "User namespaces are not available on this host" },
  ]);
});

// 3. what needs which namespace

Deno.test("namespace needs check refuses a hostname without NEWUTS", () => {
  assertEquals(issuesFor(input({ ...without("NEWUTS"), hostname: "box" })), [
    { path: "hostname", message: "Requires the `NEWUTS` namespace: add it to `namespaces`" },
  ]);
  assertEquals(issuesFor(input({ hostname: "box" })), []);
});

Deno.test("namespace needs check refuses networks and routes without NEWNET", () => {
  const config = input({
    ...without("NEWNET"),
    networks: [{ type: "loopback" }],
    routes: [{ destination: "0.0.0.0/0" }],
  });
  assertEquals(pathsFor(config), ["networks", "routes"]);
  assertEquals(
    pathsFor(input({ networks: [{ type: "loopback" }], routes: [{ destination: "0.0.0.0/0" }] })),
    [],
  );
});

Deno.test("namespace needs check refuses masked and read-only paths without NEWNS", () => {
  const paths = { mask_paths: ["/proc/kcore"], readonly_paths: ["/proc/sys"] };
  assertEquals(pathsFor(input({ ...without("NEWNS"), ...paths })), [
    "mask_paths",
    "readonly_paths",
  ]);
  assertEquals(pathsFor(input(paths)), []);
});

Deno.test("namespace needs check refuses id mappings without NEWUSER", () => {
  const map = [{ container_id: 0, host_id: 1000, size: 1 }];
  assertEquals(pathsFor(input({ uid_mappings: map, gid_mappings: map })), [
    "uid_mappings",
    "gid_mappings",
  ]);
});

Deno.test("namespace needs check requires a new user namespace to map container id 0", () => {
  const namespaces = [...input().namespaces!, { type: "NEWUSER" as const }];
  const map = [{ container_id: 1, host_id: 1000, size: 10 }];
  assertEquals(issuesFor(input({ namespaces, uid_mappings: map, gid_mappings: map })), [
    {
      path: "uid_mappings",
      message: "Must map container id 0 when a `NEWUSER` namespace is created",
    },
    {
      path: "gid_mappings",
      message: "Must map container id 0 when a `NEWUSER` namespace is created",
    },
  ]);
  const joined = [...input().namespaces!, { type: "NEWUSER" as const, path: "/proc/1/ns/user" }];
  assertEquals(issuesFor(input({ namespaces: joined })), []);
});

Deno.test("id mappings check refuses overlapping ranges and ranges past 32 bits", () => {
  const namespaces = [...input().namespaces!, { type: "NEWUSER" as const }];
  const gid = [{ container_id: 0, host_id: 1000, size: 1 }];
  const overlapping = [{ container_id: 0, host_id: 1000, size: 10 }, {
    container_id: 5,
    host_id: 1005,
    size: 10,
  }];
  assertEquals(issuesFor(input({ namespaces, uid_mappings: overlapping, gid_mappings: gid })), [
    { path: "uid_mappings[1]", message: "Container ids overlap those of `uid_mappings[0]`" },
    { path: "uid_mappings[1]", message: "Host ids overlap those of `uid_mappings[0]`" },
  ]);
  const tooLong = [{ container_id: 0, host_id: 2 ** 32 - 10, size: 11 }];
  assertEquals(pathsFor(input({ namespaces, uid_mappings: tooLong, gid_mappings: gid })), [
    "uid_mappings[0].size",
  ]);
  const adjacent = [{ container_id: 0, host_id: 1000, size: 1 }, {
    container_id: 1,
    host_id: 1001,
    size: 10,
  }];
  assertEquals(pathsFor(input({ namespaces, uid_mappings: adjacent, gid_mappings: gid })), []);
});

// 4. mounts

const tmpfs = (destination: string) => ({ source: "tmpfs", destination, device: "tmpfs" as const });

Deno.test("mounts check refuses a relative destination and `/`", () => {
  assertEquals(issuesFor(input({ mounts: [tmpfs("tmp"), tmpfs("/"), tmpfs("/tmp/..")] })), [
    { path: "mounts[0].destination", message: "Must be an absolute path, got `tmp`" },
    { path: "mounts[1].destination", message: "Must not be `/`: that is the rootfs itself" },
    { path: "mounts[2].destination", message: "Must not be `/`: that is the rootfs itself" },
  ]);
  assertEquals(issuesFor(input({ mounts: [tmpfs("/tmp")] })), []);
});

Deno.test("mounts check refuses a bind without a source", () => {
  assertEquals(issuesFor(input({ mounts: [{ destination: "/data", device: "bind" }] })), [
    { path: "mounts[0].source", message: "Must not be empty: a bind mount needs a source" },
  ]);
  assertEquals(
    issuesFor(input({ mounts: [{ source: "/srv/data", destination: "/data", device: "bind" }] })),
    [],
  );
});

Deno.test("mounts check refuses any mount in /proc but proc on /proc (CVE-2019-16884)", () => {
  const bind = { source: "/tmp/evil", destination: "/proc/self/attr", device: "bind" as const };
  const issues = issuesFor(input({ mounts: [bind, tmpfs("/proc"), tmpfs("/sys/../proc/sys")] }));
  assertEquals(issues.map((i) => i.path), [
    "mounts[0].destination",
    "mounts[1].destination",
    "mounts[2].destination",
  ]);
  assertMatch(issues[0]!.message, /^Must not be in \/proc: only a `proc` mount may go on \/proc/);
  assertEquals(
    issuesFor(input({ mounts: [{ source: "proc", destination: "/proc", device: "proc" }] })),
    [],
  );
  assertEquals(
    pathsFor(input({ mounts: [{ source: "proc", destination: "/proc/sys", device: "proc" }] })),
    [
      "mounts[0].destination",
    ],
  );
});

Deno.test("mounts check allows look-alikes of /proc such as /proc2 and /sys", () => {
  assertEquals(issuesFor(input({ mounts: [tmpfs("/proc2"), tmpfs("/sys/fs/cgroup")] })), []);
});

Deno.test("mounts check refuses a hook command without a program", () => {
  const mount = {
    ...tmpfs("/tmp"),
    premount_cmds: [{ path: "" }],
    postmount_cmds: [{ path: "/bin/true" }],
  };
  assertEquals(pathsFor(input({ mounts: [mount] })), ["mounts[0].premount_cmds[0].path"]);
});

// 5. device nodes

const node = (overrides: Record<string, unknown> = {}) => ({
  type: "c" as const,
  path: "/dev/null",
  major: 1,
  minor: 3,
  permissions: "rwm",
  file_mode: 0o666,
  ...overrides,
});

Deno.test("device nodes check accepts char, block and fifo nodes under /dev", () => {
  const devices = [
    node(),
    node({ type: "b", path: "/dev/sda", major: 8, minor: 0 }),
    node({ type: "p", path: "/dev/fifo", major: 0, minor: 0 }),
  ];
  assertEquals(issuesFor(input({ devices } as never)), []);
});

Deno.test("device nodes check refuses an `a` node, wildcards and paths outside /dev", () => {
  const devices = [
    node({ type: "a" }),
    node({ path: "/dev/zero", major: -1, minor: -1 }),
    node({ path: "dev/tty" }),
    node({ path: "/etc/passwd" }),
    node({ path: "/dev/../etc/shadow" }),
    node({ path: "/dev" }),
  ];
  assertEquals(pathsFor(input({ devices } as never)), [
    "devices[0].type",
    "devices[1].major",
    "devices[1].minor",
    "devices[2].path",
    "devices[3].path",
    "devices[4].path",
    "devices[5].path",
  ]);
});

Deno.test("device nodes check refuses a path listed twice", () => {
  assertEquals(issuesFor(input({ devices: [node(), node({ path: "/dev//null" })] })), [
    { path: "devices[1].path", message: "Listed twice: `/dev//null`" },
  ]);
});

Deno.test("device nodes check refuses permissions outside rwm and modes past 0o7777", () => {
  const devices = [
    node({ permissions: "rwx" }),
    node({ path: "/dev/zero", permissions: "rr" }),
    node({ path: "/dev/full", file_mode: 0o10000 }),
  ];
  assertEquals(issuesFor(input({ devices } as never)), [
    {
      path: "devices[0].permissions",
      message: "Must be letters of `rwm`, each at most once, got `rwx`",
    },
    {
      path: "devices[1].permissions",
      message: "Must be letters of `rwm`, each at most once, got `rr`",
    },
    { path: "devices[2].file_mode", message: "Must be permission bits within 0o7777, got 0o10000" },
  ]);
  assertEquals(
    issuesFor(input({ devices: [node({ permissions: "", file_mode: 0o7777 })] } as never)),
    [],
  );
});

// 6. cgroup device rules

Deno.test("cgroup device rules check accepts wildcards and the `a` type", () => {
  const rules = [{ type: "a", major: -1, minor: -1, permissions: "rwm" }, {
    type: "c",
    major: 136,
    minor: -1,
    permissions: "rw",
  }];
  assertEquals(
    issuesFor(input({ cgroups: { allowed_devices: rules, denied_devices: rules } } as never)),
    [],
  );
});

Deno.test("cgroup device rules check refuses fifo rules and empty or bad permissions", () => {
  const rules = [
    { type: "p", major: 1, minor: 1, permissions: "r" },
    { type: "c", major: 1, minor: 1, permissions: "" },
    { type: "b", major: 8, minor: -1, permissions: "x" },
  ];
  assertEquals(pathsFor(input({ cgroups: { denied_devices: rules } } as never)), [
    "cgroups.denied_devices[0].type",
    "cgroups.denied_devices[1].permissions",
    "cgroups.denied_devices[2].permissions",
  ]);
  assertEquals(
    pathsFor(
      input({
        cgroups: { allowed_devices: [{ type: "c", major: -2, minor: 0, permissions: "r" }] },
      }),
    ),
    [
      "cgroups.allowed_devices[0].major",
    ],
  );
});

// 7. capabilities

Deno.test("capabilities check accepts known names without CAP_", () => {
  assertEquals(
    issuesFor(input({ capabilities: ["CHOWN", "NET_ADMIN", "CHECKPOINT_RESTORE"] })),
    [],
  );
});

Deno.test("capabilities check refuses CAP_-prefixed, lower-case, unknown and repeated names", () => {
  assertEquals(issuesFor(input({ capabilities: ["CAP_CHOWN", "kill", "FLY", "KILL", "KILL"] })), [
    {
      path: "capabilities[0]",
      message: "Unknown capability `CAP_CHOWN`: write `CHOWN`, without the `CAP_` prefix",
    },
    {
      path: "capabilities[1]",
      message: "Unknown capability `kill`: names are upper case, write `KILL`",
    },
    { path: "capabilities[2]", message: "Unknown capability `FLY`" },
    { path: "capabilities[4]", message: "Listed twice: `KILL`" },
  ]);
});

// 8. rlimits

Deno.test("rlimits check refuses an unknown number, soft above hard and a type twice", () => {
  const rlimits = [
    { type: 16, hard: 1, soft: 1 },
    { type: 7, hard: 1024, soft: 4096 },
    { type: "RLIMIT_NOFILE", hard: 1, soft: 1 },
    { type: 4, hard: 10, soft: "unlimited" as const },
  ];
  assertEquals(issuesFor(input({ rlimits })), [
    {
      path: "rlimits[0].type",
      message: "Unknown resource limit: `16` is not an `RLIMIT_*` number",
    },
    { path: "rlimits[1].soft", message: "Must not exceed the hard limit `1024`, got `4096`" },
    { path: "rlimits[2].type", message: "Listed twice: `RLIMIT_NOFILE`" },
    { path: "rlimits[3].soft", message: "Must not exceed the hard limit `10`, got `-1`" },
  ]);
});

Deno.test("rlimits check takes infinity as the largest limit", () => {
  assertEquals(
    issuesFor(
      input({
        rlimits: [{ type: 4, hard: "unlimited", soft: 1 << 30 }, { type: 7, hard: 0, soft: 0 }],
      }),
    ),
    [],
  );
});

// 9. masked and read-only paths

Deno.test("masked and read-only paths check refuses relative paths", () => {
  assertEquals(
    pathsFor(input({ mask_paths: ["proc/kcore"], readonly_paths: ["/proc/sys", "sys"] })),
    [
      "mask_paths[0]",
      "readonly_paths[1]",
    ],
  );
  assertEquals(pathsFor(input({ mask_paths: ["/proc/kcore"], readonly_paths: ["/proc/sys"] })), []);
});

// 10. system properties

Deno.test("system properties check accepts namespaced sysctls with their namespace", () => {
  const system_properties = {
    "kernel.shmmni": "4096",
    "kernel.shm_rmid_forced": "1",
    "fs.mqueue.msg_max": "10",
    "net.ipv4.ip_forward": "1",
    "net.ipv4.conf.all.rp_filter": "1",
    "kernel.domainname": "example.org",
    "kernel.hostname": "box",
  };
  assertEquals(issuesFor(input({ system_properties })), []);
});

Deno.test("system properties check refuses sysctls whose namespace is missing", () => {
  const config = input({
    ...without("NEWIPC", "NEWNET", "NEWUTS"),
    system_properties: {
      "kernel.msgmax": "1",
      "fs.mqueue.queues_max": "1",
      "net.core.somaxconn": "1",
      "kernel.domainname": "x",
    },
  });
  assertEquals(issuesFor(config).map((i) => [i.path, i.message]), [
    [
      'system_properties["kernel.msgmax"]',
      "Requires the `NEWIPC` namespace: add it to `namespaces`",
    ],
    [
      'system_properties["fs.mqueue.queues_max"]',
      "Requires the `NEWIPC` namespace: add it to `namespaces`",
    ],
    [
      'system_properties["net.core.somaxconn"]',
      "Requires the `NEWNET` namespace: add it to `namespaces`",
    ],
    [
      'system_properties["kernel.domainname"]',
      "Requires the `NEWUTS` namespace: add it to `namespaces`",
    ],
  ]);
});

Deno.test("system properties check refuses sysctls no namespace isolates", () => {
  assertEquals(
    issuesFor(input({ system_properties: { "vm.swappiness": "0", "kernel.pid_max": "10" } })),
    [
      {
        path: 'system_properties["vm.swappiness"]',
        message: "Not namespaced: it would change the host",
      },
      {
        path: 'system_properties["kernel.pid_max"]',
        message: "Not namespaced: it would change the host",
      },
    ],
  );
});

Deno.test("system properties check refuses malformed names such as paths and empty parts", () => {
  const names = [
    "net/ipv4/ip_forward",
    "net..ipv4",
    "net.ipv4.",
    "../etc/x",
    "",
    "net.ipv4.conf.eth 0.x",
  ];
  const system_properties = Object.fromEntries(names.map((name) => [name, "1"]));
  const issues = issuesFor(input({ system_properties }));
  assertEquals(issues.length, names.length);
  assert(issues.every((i) => i.message.startsWith("Invalid sysctl name")));
});

Deno.test("system properties check refuses kernel.hostname next to hostname", () => {
  assertEquals(
    issuesFor(input({ hostname: "box", system_properties: { "kernel.hostname": "other" } })),
    [
      {
        path: 'system_properties["kernel.hostname"]',
        message: "Conflicts with `hostname`: set only one of them",
      },
    ],
  );
});

// 12. cgroup path

Deno.test("cgroup path check refuses `..` components and a name with `/`", () => {
  assertEquals(pathsFor(input({ cgroups: { name: "a/b", parent: "../escape" } })), [
    "cgroups.name",
    "cgroups.parent",
  ]);
  assertEquals(pathsFor(input({ cgroups: { name: "..", parent: "x/../y" } })), [
    "cgroups.name",
    "cgroups.parent",
  ]);
  assertEquals(pathsFor(input({ cgroups: { name: "box", parent: "machine/nsinit" } })), []);
});

// 13. networks

const veth = (overrides: Record<string, unknown> = {}) => ({
  type: "veth" as const,
  name: "eth0",
  bridge: "docker0",
  address: "172.17.0.101/16",
  gateway: "172.17.42.1",
  ...overrides,
});

Deno.test("networks check accepts loopback bare and a veth with a bridge and addresses", () => {
  assertEquals(
    issuesFor(
      input({ networks: [{ type: "loopback" }, veth(), veth({ address: "", gateway: "" })] }),
    ),
    [],
  );
});

Deno.test("networks check refuses a veth without a bridge or with bad addresses", () => {
  const networks = [
    veth({ bridge: "" }),
    veth({ address: "172.17.0.101" }),
    veth({ address: "300.1.1.1/16" }),
    veth({ address: "10.0.0.1/33" }),
    veth({ gateway: "10.0.0" }),
  ];
  assertEquals(pathsFor(input({ networks } as never)), [
    "networks[0].bridge",
    "networks[1].address",
    "networks[2].address",
    "networks[3].address",
    "networks[4].gateway",
  ]);
});

Deno.test("networks check refuses bad MACs, names, IPv6 addresses, MTUs and routes, naming each field", () => {
  const networks = [
    veth({ mac_address: "02:42:ac:11:00" }),
    veth({ name: "a-name-too-long-x", host_interface_name: "bad/name" }),
    veth({ ipv6_address: "fd00::2", ipv6_gateway: "10.0.0.1" }),
    veth({ mtu: 70000 }),
  ];
  const routes = [{ destination: "10.1.0.1/16" }, { gateway: "10.0.0.1", source: "fd00::1" }];
  const issues = issuesFor(input({ networks, routes } as never));
  assertEquals(issues.map((i) => i.path), [
    "networks[0].mac_address",
    "networks[1].name",
    "networks[1].host_interface_name",
    "networks[2].ipv6_address",
    "networks[2].ipv6_gateway",
    "networks[3].mtu",
    "routes[0].destination",
    "routes[1]",
  ]);
  for (const issue of issues) assert(issue.message.length > 10, issue.message);
});

Deno.test("networks check refuses veths and routes in a network namespace joined by path", () => {
  const base = input({});
  const joined = base.namespaces!.map((ns) =>
    ns.type === "NEWNET" ? { ...ns, path: "/run/netns/blue" } : ns
  );
  assertEquals(
    pathsFor(
      input({
        namespaces: joined,
        networks: [{ type: "loopback" }, veth()],
        routes: [{ destination: "10.1.0.0/16", gateway: "10.0.0.1" }],
      } as never),
    ),
    ["networks[1].type", "routes"],
  );
  // Loopback alone is fine there.
  assertEquals(pathsFor(input({ namespaces: joined, networks: [{ type: "loopback" }] })), []);
});

// All at once

Deno.test("validateConfig() reports several issues at once, in check order", () => {
  const config = input({
    rootfs: "relative",
    ...without("NEWUTS"),
    hostname: "box",
    mounts: [tmpfs("tmp")],
    capabilities: ["CAP_KILL"],
  });
  assertEquals(pathsFor(config), [
    "rootfs",
    "hostname",
    "mounts[0].destination",
    "capabilities[0]",
  ]);
});

Deno.test("validateConfig() returns the issues of a parsed config instead of throwing", () => {
  const config = parseConfig(input());
  config.namespaces = [];
  config.hostname = "box";
  assertEquals(validateConfig(config), [
    { path: "hostname", message: "Requires the `NEWUTS` namespace: add it to `namespaces`" },
  ]);
});
