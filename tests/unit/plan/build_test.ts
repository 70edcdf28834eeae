/**
 * The init and join plans as data: which ops, in which order, with which
 * values. No root needed; nothing here touches the system.
 */
import { assert, assertEquals } from "../../_assert.ts";
import {
  capabilityNumber,
  type Config,
  DEFAULT_MASKED_PATHS,
  DEFAULT_READONLY_PATHS,
  defaultConfig,
  type Mount,
  MS,
  type NamespaceType,
} from "../../../lib/config/mod.ts";
import { CLONE } from "../../../ffi/constants.ts";
import {
  buildInitPlan,
  buildJoinPlan,
  type CgroupPlacement,
  execCandidates,
  type InitPlanInput,
  type NamespaceJoin,
  needsNetworkSetup,
  type PlanProcess,
  processEnv,
  SYNC_TAG,
} from "../../../lib/plan/build.ts";
import { makedev, MOUNT_ATTR, type SourceKind } from "../../../lib/plan/mounts.ts";
import type { OpName, PlanOp } from "../../../lib/plan/ops.ts";
import type { HostFacts } from "../../../lib/plan/security.ts";
import type { ExecUser } from "../../../lib/user/lookup.ts";
import { compileSeccomp, DEFAULT_SECCOMP_PROFILE, encodeFilter } from "../../../lib/seccomp/mod.ts";

/** A fixed host, so plans do not depend on the machine the tests run on. */
const HOST: HostFacts = {
  arch: "x86_64",
  kernelVersion: "6.1.0",
  lsm: { apparmor: false, selinux: false },
  apparmorExecAttr: "attr/apparmor/exec",
};

const ROOT: ExecUser = { uid: 0, gid: 0, additionalGids: [], home: "/root" };
const NO_CGROUPS: CgroupPlacement = { enter: [], cloneInto: "" };

function proc(overrides: Partial<PlanProcess> = {}): PlanProcess {
  return { args: ["sh"], env: ["PATH=/bin"], cwd: "/", terminal: false, ...overrides };
}

function initPlan(
  config: Config,
  options: {
    process?: PlanProcess;
    user?: ExecUser;
    joins?: NamespaceJoin[];
    bindSources?: Map<number, SourceKind>;
    cgroups?: CgroupPlacement;
    host?: HostFacts;
  } = {},
): PlanOp[] {
  const input: InitPlanInput = {
    config,
    cgroups: options.cgroups ?? NO_CGROUPS,
    process: options.process ?? proc(),
    user: options.user ?? ROOT,
    joins: options.joins ?? [],
    bindSources: options.bindSources ?? new Map(),
    host: options.host ?? HOST,
  };
  return buildInitPlan(input);
}

function names(plan: readonly PlanOp[]): OpName[] {
  return plan.map((op) => op.op);
}

function indexOf(plan: readonly PlanOp[], match: (op: PlanOp) => boolean): number {
  const index = plan.findIndex(match);
  assert(index >= 0, `no matching op in ${JSON.stringify(names(plan))}`);
  return index;
}

function only<N extends OpName>(plan: readonly PlanOp[], name: N): Extract<PlanOp, { op: N }> {
  const found = plan.filter((op) => op.op === name);
  assertEquals(found.length, 1, `expected exactly one ${name}`);
  return found[0] as Extract<PlanOp, { op: N }>;
}

function bind(destination: string, source: string, flags: number, extra: Partial<Mount> = {}) {
  return {
    source,
    destination,
    device: "bind" as const,
    flags,
    data: "",
    relabel: "" as const,
    premount_cmds: [],
    postmount_cmds: [],
    ...extra,
  };
}

const DEFAULT_CAPS = [
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

function capMask(caps: readonly string[]): bigint {
  return caps.reduce((mask, name) => mask | (1n << BigInt(capabilityNumber(name))), 0n);
}

/** The invariants every plan must keep, whatever the config. */
function assertInvariants(plan: readonly PlanOp[], { init }: { init: boolean }): void {
  const clones = plan.flatMap((op, i) => op.op === "CLONE" ? [i] : []);
  assertEquals(clones.length, 1, "exactly one CLONE");
  const clone = clones[0]!;
  plan.forEach((op, i) => {
    if (op.op === "SETNS") {
      assert(i < clone, `${op.op} at ${i} after the CLONE at ${clone}`);
    } else if (op.op !== "CLONE" && op.op !== "CGROUP_ENTER") {
      assert(i > clone, `${op.op} at ${i} before the CLONE at ${clone}`);
    }
  });
  assertEquals(plan.at(-1)?.op, "EXEC", "EXEC last");
  assertEquals(names(plan).filter((n) => n === "EXEC").length, 1, "exactly one EXEC");
  const bounding = indexOf(plan, (op) => op.op === "BOUNDING");
  const identity = indexOf(plan, (op) => op.op === "IDENTITY");
  const caps = indexOf(plan, (op) => op.op === "CAPS");
  assert(bounding < identity && identity < caps, "BOUNDING, IDENTITY, CAPS in that order");
  const pdeathsig = plan.findIndex((op) => op.op === "PDEATHSIG");
  if (init) assert(pdeathsig > identity, "PDEATHSIG after IDENTITY (setuid clears it)");
  for (const op of plan) {
    const targets = op.op === "MOUNT" || op.op === "BIND"
      ? [op.target]
      : op.op === "MKDIR" || op.op === "MKFILE" || op.op === "MKNOD" || op.op === "READONLY" ||
          op.op === "MASK"
      ? [op.path]
      : [];
    for (const target of targets) {
      assert(target.startsWith("/"), `${op.op} target ${target} is not absolute`);
      assert(!target.split("/").includes(".."), `${op.op} target ${target} contains ..`);
      assert(!target.split("/").includes("."), `${op.op} target ${target} contains .`);
    }
  }
  const pivot = plan.findIndex((op) => op.op === "PIVOT");
  if (pivot >= 0) {
    plan.forEach((op, i) => {
      if (
        ["ROOTFS", "MKDIR", "MKFILE", "BIND", "MKNOD", "SYMLINK", "MASK", "READONLY"].includes(
          op.op,
        )
      ) {
        assert(i < pivot, `${op.op} at ${i} after PIVOT`);
      }
    });
  }
}

Deno.test("buildInitPlan() lays out the default config's plan op by op", () => {
  const plan = initPlan(defaultConfig({ rootfs: "/r" }));
  const { MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_RDONLY, MS_STRICTATIME } = MS;
  const caps = capMask(DEFAULT_CAPS);
  const mount = (
    device: string,
    source: string,
    target: string,
    flags: number,
    data = "",
  ): PlanOp[] => {
    const noSymlinks = device === "proc" || device === "sysfs";
    return [
      { op: "MKDIR", path: target, mode: 0o755, noSymlinks },
      { op: "MOUNT", source, target, fstype: device, data, flags, noSymlinks },
    ];
  };
  const node = (path: string, major: number, minor: number): PlanOp => ({
    op: "MKNOD",
    path,
    mode: 0o020666,
    dev: makedev(major, minor),
    uid: 0,
    gid: 0,
  });
  const expected: PlanOp[] = [
    {
      op: "CLONE",
      flags: CLONE.PARENT | CLONE.NEWNS | CLONE.NEWUTS | CLONE.NEWIPC | CLONE.NEWPID |
        CLONE.NEWNET,
      cgroup: "",
    },
    { op: "UMASK", mask: 0 },
    {
      op: "MOUNT",
      source: "",
      target: "/",
      fstype: "",
      data: "",
      flags: MS.MS_REC | MS.MS_SLAVE,
      hostPath: true,
    },
    { op: "ROOTFS", rootfs: "/r" },
    ...mount("proc", "proc", "/proc", MS_NOEXEC | MS_NOSUID | MS_NODEV),
    ...mount("tmpfs", "tmpfs", "/dev", MS_NOSUID | MS_STRICTATIME, "mode=755,size=65536k"),
    ...mount(
      "devpts",
      "devpts",
      "/dev/pts",
      MS_NOSUID | MS_NOEXEC,
      "newinstance,ptmxmode=0666,mode=0620,gid=5",
    ),
    ...mount("tmpfs", "shm", "/dev/shm", MS_NOSUID | MS_NOEXEC | MS_NODEV, "mode=1777,size=65536k"),
    ...mount("mqueue", "mqueue", "/dev/mqueue", MS_NOSUID | MS_NOEXEC | MS_NODEV),
    ...mount("sysfs", "sysfs", "/sys", MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RDONLY),
    node("/dev/fuse", 10, 229),
    node("/dev/null", 1, 3),
    node("/dev/zero", 1, 5),
    node("/dev/full", 1, 7),
    node("/dev/tty", 5, 0),
    node("/dev/urandom", 1, 9),
    node("/dev/random", 1, 8),
    { op: "SYMLINK", target: "/proc/self/fd", path: "/dev/fd" },
    { op: "SYMLINK", target: "/proc/self/fd/0", path: "/dev/stdin" },
    { op: "SYMLINK", target: "/proc/self/fd/1", path: "/dev/stdout" },
    { op: "SYMLINK", target: "/proc/self/fd/2", path: "/dev/stderr" },
    { op: "SYMLINK", target: "pts/ptmx", path: "/dev/ptmx" },
    // The seed's order: read-only remounts, then masks.
    ...DEFAULT_READONLY_PATHS.map((path): PlanOp => ({ op: "READONLY", path })),
    ...DEFAULT_MASKED_PATHS.map((path): PlanOp => ({ op: "MASK", path, devNull: "/dev/null" })),
    { op: "PIVOT", noPivot: false },
    { op: "HOSTNAME", hostname: "nsinit" },
    { op: "IFUP", name: "lo" },
    { op: "RLIMIT", resource: 7, soft: 1024n, hard: 1024n },
    { op: "BOUNDING", keep: caps },
    { op: "IDENTITY", uid: 0, gid: 0, groups: [] },
    { op: "CAPS", effective: caps, permitted: caps, inheritable: 0n, ambient: 0n },
    { op: "PDEATHSIG", signal: 9 },
    { op: "UMASK", mask: 0o022 },
    { op: "CHDIR", path: "/" },
    // Last before exec: no_new_privs (the template asks for it) and the default profile.
    { op: "NO_NEW_PRIVS" },
    {
      op: "SECCOMP",
      filter: encodeFilter(
        compileSeccomp(DEFAULT_SECCOMP_PROFILE, {
          arch: "x86_64",
          capabilities: DEFAULT_CAPS,
          kernelVersion: "6.1.0",
        }).instructions,
      ),
      flags: 0,
    },
    {
      op: "EXEC",
      candidates: ["/bin/sh"],
      args: ["sh"],
      env: ["PATH=/bin", "HOME=/root"],
    },
  ];
  assertEquals(plan, expected);
  assertInvariants(plan, { init: true });
});

Deno.test("buildInitPlan() keeps the 14 template capabilities in bounding, effective and permitted", () => {
  const plan = initPlan(defaultConfig({ rootfs: "/r" }));
  const bounding = only(plan, "BOUNDING");
  const caps = only(plan, "CAPS");
  assertEquals(bounding.keep, 0xa804_25fbn);
  assertEquals(bounding.keep, capMask(DEFAULT_CAPS));
  let bits = 0;
  for (let mask = bounding.keep; mask > 0n; mask >>= 1n) bits += Number(mask & 1n);
  assertEquals(bits, 14);
  assertEquals(caps.effective, bounding.keep);
  assertEquals(caps.permitted, bounding.keep);
  assertEquals(caps.inheritable, 0n);
  assertEquals(caps.ambient, 0n);
});

Deno.test("buildInitPlan() makes / a recursive private mount with privatefs", () => {
  const config = defaultConfig({ rootfs: "/r" });
  config.privatefs = true;
  const plan = initPlan(config);
  assertEquals(plan[2], {
    op: "MOUNT",
    source: "",
    target: "/",
    fstype: "",
    data: "",
    flags: MS.MS_REC | MS.MS_PRIVATE,
    hostPath: true,
  });
  assertInvariants(plan, { init: true });
});

Deno.test("buildInitPlan() joins namespaces with a path, user first and mount last, and does not create them", () => {
  const config = defaultConfig({ rootfs: "/r" });
  const types: NamespaceType[] = ["NEWNS", "NEWUTS", "NEWIPC", "NEWPID", "NEWNET", "NEWUSER"];
  config.namespaces = types.map((type) => ({ type, path: `/proc/1/ns/${type}` }));
  // Descriptor numbers as the helper sees them, deliberately out of order.
  const fds: Record<NamespaceType, number> = {
    NEWNS: 9,
    NEWUTS: 4,
    NEWIPC: 8,
    NEWPID: 5,
    NEWNET: 7,
    NEWUSER: 6,
  };
  const joins = types.map((type) => ({ type, fd: fds[type], path: `/proc/1/ns/${type}` }));
  const plan = initPlan(config, { joins });
  const order: NamespaceType[] = ["NEWUSER", "NEWIPC", "NEWUTS", "NEWNET", "NEWPID", "NEWNS"];
  assertEquals(
    plan.slice(0, 6),
    order.map((type): PlanOp => ({
      op: "SETNS",
      fd: fds[type],
      nstype: CLONE[type],
      label: `/proc/1/ns/${type}`,
    })),
  );
  assertEquals(plan[6], { op: "CLONE", flags: CLONE.PARENT, cgroup: "" });
  // A joined mount namespace is the other container's: no rootfs ops.
  for (const name of ["ROOTFS", "PIVOT", "MOUNT", "MKDIR", "MKNOD", "BIND"] as const) {
    assert(!names(plan).includes(name), `${name} in a plan that joins NEWNS`);
  }
  assertInvariants(plan, { init: true });
});

Deno.test("buildInitPlan() creates the namespaces without a path and joins only the others", () => {
  const config = defaultConfig({ rootfs: "/r" });
  config.namespaces = config.namespaces.map((ns) =>
    ns.type === "NEWNET" || ns.type === "NEWIPC" ? { ...ns, path: `/run/ns/${ns.type}` } : ns
  );
  const joins: NamespaceJoin[] = [
    { type: "NEWNET", fd: 4, path: "/run/ns/NEWNET" },
    { type: "NEWIPC", fd: 5, path: "/run/ns/NEWIPC" },
  ];
  const plan = initPlan(config, { joins });
  assertEquals(plan.slice(0, 3), [
    { op: "SETNS", fd: 5, nstype: CLONE.NEWIPC, label: "/run/ns/NEWIPC" },
    { op: "SETNS", fd: 4, nstype: CLONE.NEWNET, label: "/run/ns/NEWNET" },
    {
      op: "CLONE",
      flags: CLONE.PARENT | CLONE.NEWNS | CLONE.NEWUTS | CLONE.NEWPID,
      cgroup: "",
    },
  ]);
  // Still a new mount namespace: the rootfs is set up.
  only(plan, "ROOTFS");
  only(plan, "PIVOT");
  assertInvariants(plan, { init: true });
});

Deno.test("buildInitPlan() enters v1 cgroups once the parent says so, before the pivot", () => {
  const config = defaultConfig({ rootfs: "/r" });
  config.namespaces = config.namespaces.map((ns) =>
    ns.type === "NEWNET" ? { ...ns, path: "/run/ns/net" } : ns
  );
  const cgroups = {
    enter: ["/sys/fs/cgroup/memory/c/tasks", "/sys/fs/cgroup/cpu/c/tasks"],
    cloneInto: "/sys/fs/cgroup/unified/c",
  };
  const plan = initPlan(config, {
    joins: [{ type: "NEWNET", fd: 4, path: "/run/ns/net" }],
    cgroups,
  });
  assertEquals(names(plan).slice(0, 2), ["SETNS", "CLONE"]);
  assertEquals(only(plan, "CLONE").cgroup, "/sys/fs/cgroup/unified/c");
  const sync = indexOf(plan, (op) => op.op === "SYNC");
  assertEquals(plan.slice(sync, sync + 3), [
    { op: "SYNC", tag: SYNC_TAG.CGROUPS },
    { op: "CGROUP_ENTER", path: "/sys/fs/cgroup/memory/c/tasks", content: "0" },
    { op: "CGROUP_ENTER", path: "/sys/fs/cgroup/cpu/c/tasks", content: "0" },
  ]);
  // While the host's cgroup files are still reachable: before the pivot.
  assert(sync + 2 < indexOf(plan, (op) => op.op === "PIVOT"));
  assertInvariants(plan, { init: true });

  const noCgroups = initPlan(config, { joins: [{ type: "NEWNET", fd: 4, path: "/run/ns/net" }] });
  assert(!names(noCgroups).includes("SYNC"), "no SYNC without v1 cgroups to enter");
  assert(!names(noCgroups).includes("CGROUP_ENTER"));
});

Deno.test("buildInitPlan() without NEWNS has no rootfs ops at all", () => {
  const config = defaultConfig({ rootfs: "/r" });
  config.namespaces = config.namespaces.filter((ns) => ns.type !== "NEWNS");
  const plan = initPlan(config);
  for (
    const name of [
      "ROOTFS",
      "PIVOT",
      "MOUNT",
      "MKDIR",
      "MKFILE",
      "BIND",
      "MKNOD",
      "SYMLINK",
      "MASK",
      "READONLY",
      "WRITE",
      "ROOT_READONLY",
      "CONSOLE",
    ] as const
  ) {
    assert(!names(plan).includes(name), `${name} in a plan without NEWNS`);
  }
  assertEquals(only(plan, "CLONE").flags & CLONE.NEWNS, 0);
  assertInvariants(plan, { init: true });
});

Deno.test("buildInitPlan() with a terminal and no NEWNS creates the console without binding it", () => {
  const config = defaultConfig({ rootfs: "/r" });
  config.namespaces = config.namespaces.filter((ns) => ns.type !== "NEWNS");
  const user = { uid: 1000, gid: 100, additionalGids: [], home: "/home/u" };
  const plan = initPlan(config, { process: proc({ terminal: true }), user });
  assertEquals(only(plan, "CONSOLE"), {
    op: "CONSOLE",
    ptmx: "/dev/pts/ptmx",
    console: "",
    bindConsole: false,
    uid: 1000,
    gid: 100,
    rows: 0,
    columns: 0,
  });
  assert(indexOf(plan, (op) => op.op === "CONSOLE") < indexOf(plan, (op) => op.op === "IDENTITY"));
  assertInvariants(plan, { init: true });
});

Deno.test("buildInitPlan() with a terminal and NEWNS binds the console after devpts, before the pivot", () => {
  const user = { uid: 1000, gid: 5, additionalGids: [], home: "/home/u" };
  const plan = initPlan(defaultConfig({ rootfs: "/r" }), {
    process: proc({ terminal: true }),
    user,
  });
  const console = only(plan, "CONSOLE");
  assertEquals(console, {
    op: "CONSOLE",
    ptmx: "/dev/pts/ptmx",
    console: "/dev/console",
    bindConsole: true,
    uid: 1000,
    gid: 5,
    rows: 0,
    columns: 0,
  });
  const at = plan.indexOf(console);
  const devpts = indexOf(plan, (op) => op.op === "MOUNT" && op.fstype === "devpts");
  const devTmpfs = indexOf(plan, (op) => op.op === "MOUNT" && op.target === "/dev");
  const pivot = indexOf(plan, (op) => op.op === "PIVOT");
  assert(devTmpfs < devpts && devpts < at && at < pivot, JSON.stringify(names(plan)));
  // /dev/console is bound over a node that must exist: after the /dev nodes.
  assert(at > indexOf(plan, (op) => op.op === "MKNOD" && op.path === "/dev/null"));
  assertInvariants(plan, { init: true });
});

Deno.test("buildInitPlan() moves the root instead of pivoting with no_pivot_root", () => {
  const config = defaultConfig({ rootfs: "/r" });
  config.no_pivot_root = true;
  assertEquals(only(initPlan(config), "PIVOT"), { op: "PIVOT", noPivot: true });
});

Deno.test("buildInitPlan() remounts the root read-only after the pivot with readonlyfs", () => {
  const config = defaultConfig({ rootfs: "/r" });
  assert(!names(initPlan(config)).includes("ROOT_READONLY"));
  config.readonlyfs = true;
  const plan = initPlan(config);
  const pivot = indexOf(plan, (op) => op.op === "PIVOT");
  assertEquals(plan[pivot + 1], { op: "ROOT_READONLY" });
  assertInvariants(plan, { init: true });
});

Deno.test("buildInitPlan() writes sysctls under the verified /proc before /proc/sys turns read-only", () => {
  const config = defaultConfig({ rootfs: "/r" });
  config.system_properties = { "kernel.shmmni": "8192", "net.ipv4.ip_forward": "1" };
  const plan = initPlan(config);
  const writes = plan.filter((op) => op.op === "WRITE");
  assertEquals(writes, [
    { op: "WRITE", dir: "/proc", file: "sys/kernel/shmmni", content: "8192", procfs: true },
    { op: "WRITE", dir: "/proc", file: "sys/net/ipv4/ip_forward", content: "1", procfs: true },
  ]);
  const lastWrite = plan.lastIndexOf(writes.at(-1)!);
  const procMount = indexOf(plan, (op) => op.op === "MOUNT" && op.fstype === "proc");
  const readonlySys = indexOf(plan, (op) => op.op === "READONLY" && op.path === "/proc/sys");
  assert(procMount < plan.indexOf(writes[0]!), "sysctls after /proc is mounted");
  assert(lastWrite < readonlySys, "sysctls before /proc/sys is read-only");
  assertInvariants(plan, { init: true });
});

Deno.test("buildInitPlan() brings up lo only with a loopback network in a network namespace", () => {
  const config = defaultConfig({ rootfs: "/r" });
  config.networks = [];
  assert(!names(initPlan(config)).includes("IFUP"));
  const hostNet = defaultConfig({ rootfs: "/r" });
  hostNet.namespaces = hostNet.namespaces.filter((ns) => ns.type !== "NEWNET");
  assert(!names(initPlan(hostNet)).includes("IFUP"));
});

Deno.test("buildInitPlan() waits for the network setup before the process ops, only for veths or routes in a new netns", () => {
  const veth = {
    type: "veth" as const,
    name: "eth0",
    bridge: "br0",
    mac_address: "",
    address: "10.0.0.2/24",
    gateway: "",
    ipv6_address: "",
    ipv6_gateway: "",
    mtu: 0,
    txqueuelen: 0,
    host_interface_name: "",
    hairpin_mode: false,
  };
  const network = (ops: readonly PlanOp[]) =>
    ops.filter((op) => op.op === "SYNC" && op.tag === SYNC_TAG.NETWORK).length;
  const loopbackOnly = defaultConfig({ rootfs: "/r" });
  assertEquals(network(initPlan(loopbackOnly)), 0);
  assert(!needsNetworkSetup(loopbackOnly));

  const config = defaultConfig({ rootfs: "/r" });
  config.networks.push(veth);
  assert(needsNetworkSetup(config));
  const plan = initPlan(config);
  assertEquals(network(plan), 1);
  const sync = plan.findIndex((op) => op.op === "SYNC" && op.tag === SYNC_TAG.NETWORK);
  // lo comes up in the init (IFUP), before the wait; the process ops follow it.
  assert(plan.findIndex((op) => op.op === "IFUP") < sync);
  assertEquals(plan[sync + 1]!.op, "RLIMIT");
  assertInvariants(plan, { init: true });

  const routesOnly = defaultConfig({ rootfs: "/r" });
  routesOnly.routes = [{
    destination: "10.1.0.0/16",
    source: "",
    gateway: "",
    interface_name: "lo",
  }];
  assert(needsNetworkSetup(routesOnly));

  const joined = defaultConfig({ rootfs: "/r" });
  joined.networks.push(veth);
  joined.namespaces = joined.namespaces.map((ns) =>
    ns.type === "NEWNET" ? { ...ns, path: "/run/netns/x" } : ns
  );
  assert(!needsNetworkSetup(joined));
});

Deno.test("buildInitPlan() sets no hostname when it is empty and no death signal when it is 0", () => {
  const config = defaultConfig({ rootfs: "/r" });
  config.hostname = "";
  config.parent_death_signal = 0;
  const plan = initPlan(config);
  assert(!names(plan).includes("HOSTNAME"));
  assert(!names(plan).includes("PDEATHSIG"));
  assertInvariants(plan, { init: false });
});

Deno.test("buildInitPlan() turns unlimited rlimits into RLIM_INFINITY", () => {
  const config = defaultConfig({ rootfs: "/r" });
  config.rlimits = [{ type: 4, soft: -1, hard: -1 }, { type: 7, soft: 10, hard: -1 }];
  assertEquals(initPlan(config).filter((op) => op.op === "RLIMIT"), [
    { op: "RLIMIT", resource: 4, soft: -1n, hard: -1n },
    { op: "RLIMIT", resource: 7, soft: 10n, hard: -1n },
  ]);
});

Deno.test("buildInitPlan() creates a file or a directory for a bind by its source's kind", () => {
  const config = defaultConfig({ rootfs: "/r" });
  const first = config.mounts.length;
  config.mounts.push(
    bind("/etc/resolv.conf", "/host/resolv.conf", MS.MS_BIND),
    bind("/data", "/host/data", MS.MS_BIND | MS.MS_REC),
    bind("/other", "/host/other", MS.MS_BIND),
  );
  const plan = initPlan(config, {
    bindSources: new Map<number, SourceKind>([[first, "file"], [first + 1, "directory"]]),
  });
  const at = indexOf(plan, (op) => op.op === "BIND" && op.target === "/etc/resolv.conf");
  assertEquals(plan[at - 1], { op: "MKFILE", path: "/etc/resolv.conf", mode: 0o644 });
  const dir = indexOf(plan, (op) => op.op === "BIND" && op.target === "/data");
  assertEquals(plan[dir - 1], { op: "MKDIR", path: "/data", mode: 0o755 });
  // An unknown kind is treated as a directory.
  const other = indexOf(plan, (op) => op.op === "BIND" && op.target === "/other");
  assertEquals(plan[other - 1], { op: "MKDIR", path: "/other", mode: 0o755 });
  assertInvariants(plan, { init: true });
});

Deno.test("buildInitPlan() maps bind flags onto attributes and keeps propagation", () => {
  const config = defaultConfig({ rootfs: "/r" });
  const first = config.mounts.length;
  config.mounts.push(
    bind("/ro", "/host/ro", MS.MS_BIND | MS.MS_REC | MS.MS_RDONLY | MS.MS_NOSUID),
    bind(
      "/shared",
      "/host/shared",
      MS.MS_BIND | MS.MS_SHARED | MS.MS_NODEV | MS.MS_NOEXEC | MS.MS_NOATIME,
    ),
    bind("/slave", "/host/slave", MS.MS_BIND | MS.MS_REC | MS.MS_SLAVE | MS.MS_STRICTATIME),
  );
  const plan = initPlan(config, {
    bindSources: new Map<number, SourceKind>([
      [first, "directory"],
      [first + 1, "directory"],
      [first + 2, "directory"],
    ]),
  });
  const binds = plan.filter((op) => op.op === "BIND");
  assertEquals(binds, [
    {
      op: "BIND",
      source: "/host/ro",
      target: "/ro",
      recursive: true,
      attrSet: MOUNT_ATTR.RDONLY | MOUNT_ATTR.NOSUID,
      propagation: 0,
    },
    {
      op: "BIND",
      source: "/host/shared",
      target: "/shared",
      recursive: false,
      attrSet: MOUNT_ATTR.NODEV | MOUNT_ATTR.NOEXEC | MOUNT_ATTR.NOATIME,
      propagation: MS.MS_SHARED,
    },
    {
      op: "BIND",
      source: "/host/slave",
      target: "/slave",
      recursive: true,
      attrSet: MOUNT_ATTR.STRICTATIME,
      propagation: MS.MS_SLAVE,
    },
  ]);
  assertEquals(MOUNT_ATTR.RDONLY | MOUNT_ATTR.NOSUID, 0x3);
  // Binds are never done with mount(2): no MOUNT carries MS_BIND.
  for (const op of plan) {
    if (op.op === "MOUNT") assertEquals(op.flags & MS.MS_BIND, 0);
  }
  assertInvariants(plan, { init: true });
});

Deno.test("buildInitPlan() cleans mount destinations so none escapes the rootfs", () => {
  const config = defaultConfig({ rootfs: "/r" });
  const first = config.mounts.length;
  config.mounts.push(
    bind("/../../etc/x/", "/host/a", MS.MS_BIND),
    bind("data/./y//z", "/host/b", MS.MS_BIND),
    {
      source: "tmpfs",
      destination: "/run/../../tmp",
      device: "tmpfs",
      flags: 0,
      data: "",
      relabel: "",
      premount_cmds: [],
      postmount_cmds: [],
    },
  );
  const plan = initPlan(config, { bindSources: new Map([[first, "directory"]]) });
  assertEquals(plan.filter((op) => op.op === "BIND").map((op) => op.target), [
    "/etc/x",
    "/data/y/z",
  ]);
  assertEquals(
    plan.filter((op) => op.op === "MOUNT" && op.fstype === "tmpfs").map((op) =>
      op.op === "MOUNT" ? op.target : ""
    ),
    ["/dev", "/dev/shm", "/tmp"],
  );
  assertInvariants(plan, { init: true });
});

Deno.test("buildInitPlan() changes a filesystem mount's propagation with a second mount", () => {
  const config = defaultConfig({ rootfs: "/r" });
  config.mounts.push({
    source: "tmpfs",
    destination: "/scratch",
    device: "tmpfs",
    flags: MS.MS_NOSUID | MS.MS_PRIVATE | MS.MS_REC,
    data: "size=1m",
    relabel: "",
    premount_cmds: [],
    postmount_cmds: [],
  });
  const plan = initPlan(config);
  const at = indexOf(plan, (op) => op.op === "MOUNT" && op.target === "/scratch");
  assertEquals(plan.slice(at - 1, at + 2), [
    { op: "MKDIR", path: "/scratch", mode: 0o755, noSymlinks: false },
    {
      op: "MOUNT",
      source: "tmpfs",
      target: "/scratch",
      fstype: "tmpfs",
      data: "size=1m",
      flags: MS.MS_NOSUID | MS.MS_REC,
      noSymlinks: false,
    },
    {
      op: "MOUNT",
      source: "",
      target: "/scratch",
      fstype: "",
      data: "",
      flags: MS.MS_PRIVATE | MS.MS_REC,
      noSymlinks: false,
    },
  ]);
  // Without propagation flags there is no second mount.
  assertEquals(plan.filter((op) => op.op === "MOUNT" && op.target === "/proc").length, 1);
});

Deno.test("buildInitPlan() runs premount and postmount commands around their mount", () => {
  const config = defaultConfig({ rootfs: "/r" });
  const first = config.mounts.length;
  config.mounts.push(
    bind("/data", "/host/data", MS.MS_BIND, {
      premount_cmds: [
        { path: "/bin/pre", args: [], env: [], dir: "" },
        { path: "/bin/pre2", args: ["-x"], env: ["A=1"], dir: "/tmp" },
      ],
      postmount_cmds: [{ path: "/bin/post", args: [], env: ["B=2"], dir: "" }],
    }),
  );
  const plan = initPlan(config, { bindSources: new Map([[first, "directory"]]) });
  const at = indexOf(plan, (op) => op.op === "BIND" && op.target === "/data");
  assertEquals(plan.slice(at - 3, at + 2), [
    { op: "RUN", candidates: ["/bin/pre"], args: ["/bin/pre"], env: [], dir: "" },
    { op: "RUN", candidates: ["/bin/pre2"], args: ["/bin/pre2", "-x"], env: ["A=1"], dir: "/tmp" },
    { op: "MKDIR", path: "/data", mode: 0o755 },
    {
      op: "BIND",
      source: "/host/data",
      target: "/data",
      recursive: false,
      attrSet: 0,
      propagation: 0,
    },
    { op: "RUN", candidates: ["/bin/post"], args: ["/bin/post"], env: ["B=2"], dir: "" },
  ]);
  assertInvariants(plan, { init: true });
});

Deno.test("processEnv() keeps the last definition of a name and adds HOME only when absent", () => {
  const user = { uid: 1, gid: 1, additionalGids: [], home: "/home/u" };
  assertEquals(processEnv(["A=1", "B=2", "A=3"], user), ["A=3", "B=2", "HOME=/home/u"]);
  assertEquals(processEnv(["HOME=/x", "PATH=/bin"], user), ["HOME=/x", "PATH=/bin"]);
  assertEquals(processEnv(["HOME=", "X=1"], user), ["HOME=", "X=1"]);
  assertEquals(processEnv(["HOME=/a", "HOME=/b"], user), ["HOME=/b"]);
  assertEquals(processEnv([], user), ["HOME=/home/u"]);
  // A value may hold further '=' signs; the name ends at the first.
  assertEquals(processEnv(["A=b=c", "A=d=e"], user), ["A=d=e", "HOME=/home/u"]);
});

Deno.test("execCandidates() follows PATH in order, as execvp does", () => {
  assertEquals(execCandidates("/usr/bin/env", ["PATH=/bin"]), ["/usr/bin/env"]);
  assertEquals(execCandidates("./run", ["PATH=/bin"]), ["./run"]);
  assertEquals(execCandidates("a/b", []), ["a/b"]);
  assertEquals(execCandidates("sh", ["PATH=/usr/local/bin:/usr/bin:/bin"]), [
    "/usr/local/bin/sh",
    "/usr/bin/sh",
    "/bin/sh",
  ]);
  assertEquals(execCandidates("sh", ["PATH=:/a::/b/:"]), ["/a/sh", "/b/sh"]);
  assertEquals(execCandidates("sh", ["PATH=/a", "PATH=/b"]), ["/b/sh"]);
  assertEquals(execCandidates("sh", ["HOME=/"]), [
    "/usr/local/sbin/sh",
    "/usr/local/bin/sh",
    "/usr/sbin/sh",
    "/usr/bin/sh",
    "/sbin/sh",
    "/bin/sh",
  ]);
  // MYPATH is not PATH.
  assertEquals(execCandidates("sh", ["MYPATH=/x"]).at(-1), "/bin/sh");
});

Deno.test("buildInitPlan() resolves the program with the process's deduplicated PATH", () => {
  const plan = initPlan(defaultConfig({ rootfs: "/r" }), {
    process: proc({ args: ["top", "-b"], env: ["PATH=/nope", "PATH=/usr/bin:/bin"], cwd: "" }),
  });
  assertEquals(plan.at(-1), {
    op: "EXEC",
    candidates: ["/usr/bin/top", "/bin/top"],
    args: ["top", "-b"],
    env: ["PATH=/usr/bin:/bin", "HOME=/root"],
  });
  // An empty cwd means /.
  assertEquals(only(plan, "CHDIR"), { op: "CHDIR", path: "/" });
});

Deno.test("buildInitPlan() sets the user's groups with IDENTITY", () => {
  const user = { uid: 1000, gid: 1000, additionalGids: [100, 5, 4000000000], home: "/home/t" };
  const plan = initPlan(defaultConfig({ rootfs: "/r" }), { user });
  assertEquals(only(plan, "IDENTITY"), {
    op: "IDENTITY",
    uid: 1000,
    gid: 1000,
    groups: [100, 5, 4000000000],
  });
});

Deno.test("buildInitPlan() lets the process's capabilities replace the config's", () => {
  const config = defaultConfig({ rootfs: "/r" });
  const plan = initPlan(config, { process: proc({ capabilities: ["NET_ADMIN", "SYS_ADMIN"] }) });
  const mask = (1n << 12n) | (1n << 21n);
  assertEquals(only(plan, "BOUNDING").keep, mask);
  assertEquals(only(plan, "CAPS"), {
    op: "CAPS",
    effective: mask,
    permitted: mask,
    inheritable: 0n,
    ambient: 0n,
  });
  const none = initPlan(config, { process: proc({ capabilities: [] }) });
  assertEquals(only(none, "BOUNDING").keep, 0n);
  assertEquals(only(none, "CAPS").permitted, 0n);
});

Deno.test("buildJoinPlan() joins every namespace of the init through its pidfd", () => {
  const config = defaultConfig({ rootfs: "/r" });
  config.namespaces.push({ type: "NEWUSER", path: "" });
  config.namespaces = config.namespaces.map((ns) =>
    ns.type === "NEWIPC" ? { ...ns, path: "/run/ns/ipc" } : ns
  );
  const plan = buildJoinPlan({
    config,
    cgroups: NO_CGROUPS,
    process: proc({ terminal: true, args: ["/bin/ps"] }),
    user: ROOT,
    initPidfd: 4,
    initPid: 1234,
  });
  const all = CLONE.NEWNS | CLONE.NEWUTS | CLONE.NEWIPC | CLONE.NEWPID | CLONE.NEWNET |
    CLONE.NEWUSER;
  assertEquals(plan.slice(0, 3), [
    { op: "SETNS", fd: 4, nstype: all, label: "namespaces of pid 1234" },
    { op: "CLONE", flags: CLONE.PARENT, cgroup: "" },
    {
      op: "CONSOLE",
      ptmx: "/dev/pts/ptmx",
      console: "",
      bindConsole: false,
      uid: 0,
      gid: 0,
      rows: 0,
      columns: 0,
    },
  ]);
  for (
    const name of ["ROOTFS", "PIVOT", "MOUNT", "MKDIR", "MKNOD", "HOSTNAME", "IFUP", "PDEATHSIG"]
  ) {
    assert(!names(plan).includes(name as OpName), `${name} in a join plan`);
  }
  assertEquals(plan.at(-1), {
    op: "EXEC",
    candidates: ["/bin/ps"],
    args: ["/bin/ps"],
    env: ["PATH=/bin", "HOME=/root"],
  });
  assertInvariants(plan, { init: false });
});

Deno.test("buildJoinPlan() without a terminal has no CONSOLE and keeps the process's capabilities", () => {
  const config = defaultConfig({ rootfs: "/r" });
  const plan = buildJoinPlan({
    config,
    cgroups: { enter: ["/sys/fs/cgroup/pids/c/tasks"], cloneInto: "" },
    process: proc({ capabilities: ["KILL"] }),
    user: ROOT,
    initPidfd: 5,
    initPid: 99,
  });
  assertEquals(names(plan).slice(0, 3), ["CGROUP_ENTER", "SETNS", "CLONE"]);
  assert(!names(plan).includes("CONSOLE"));
  assertEquals(only(plan, "CAPS").effective, 1n << 5n);
  assertInvariants(plan, { init: false });
});

Deno.test("buildInitPlan() enters the v1 cgroups before the mounts when a cgroup mount binds them", () => {
  const cgroups: CgroupPlacement = { enter: ["/sys/fs/cgroup/memory/c/tasks"], cloneInto: "" };
  const plain = initPlan(defaultConfig({ rootfs: "/r" }), { cgroups });
  // Without one, the init enters them late, so their creation overlaps its mounts.
  assert(
    indexOf(plain, (op) => op.op === "SYNC") >
      indexOf(plain, (op) => op.op === "MOUNT" && op.fstype === "proc"),
  );
  const config = defaultConfig({ rootfs: "/r" });
  config.mounts.push({
    source: "cgroup",
    destination: "/sys/fs/cgroup",
    device: "cgroup",
    flags: 0,
    data: "",
    relabel: "",
    premount_cmds: [],
    postmount_cmds: [],
  });
  const plan = buildInitPlan({
    config,
    cgroups,
    process: proc(),
    user: ROOT,
    joins: [],
    bindSources: new Map(),
    cgroupMounts: [{ name: "memory", path: "/sys/fs/cgroup/memory/c", links: [] }],
  });
  const sync = indexOf(plan, (op) => op.op === "SYNC");
  assert(sync < indexOf(plan, (op) => op.op === "MOUNT" && op.fstype === "proc"));
  assert(sync < indexOf(plan, (op) => op.op === "BIND" && op.source === "/sys/fs/cgroup/memory/c"));
  assertEquals(plan.filter((op) => op.op === "SYNC").length, 1);
});
