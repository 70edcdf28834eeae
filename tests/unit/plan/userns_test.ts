/**
 * User namespace plans as data: where the cgroups are entered, the sync
 * point for the id maps, bound devices and /sys, the identity without
 * setgroups, and what a caller without root is refused.
 */
import { assert, assertEquals } from "../../_assert.ts";
import {
  type Config,
  defaultConfig,
  parseConfig,
  rootlessConfig,
  withUserNamespace,
} from "../../../lib/config/mod.ts";
import { CLONE } from "../../../ffi/constants.ts";
import { buildInitPlan, buildJoinPlan, SYNC_TAG } from "../../../lib/plan/build.ts";
import type { OpName, PlanOp } from "../../../lib/plan/ops.ts";
import { rootlessIssues } from "../../../lib/plan/userns.ts";
import type { ExecUser } from "../../../lib/user/lookup.ts";

const MAPS = [{ container_id: 0, host_id: 100000, size: 65536 }];
const USER: ExecUser = { uid: 0, gid: 0, additionalGids: [5], home: "/root" };
const CGROUPS = { enter: ["/sys/fs/cgroup/pids/c/tasks"], cloneInto: "" };

function usernsConfig(edit: (c: Config) => void = () => {}): Config {
  const config = parseConfig(withUserNamespace(defaultConfig({ rootfs: "/srv/box" }), MAPS, MAPS));
  edit(config);
  return config;
}

function plan(config: Config, unprivileged = false): PlanOp[] {
  return buildInitPlan({
    config,
    cgroups: CGROUPS,
    process: { args: ["sh"], env: [], cwd: "/", terminal: false },
    user: USER,
    joins: [],
    bindSources: new Map(),
    unprivileged,
  });
}

const names = (ops: readonly PlanOp[]): OpName[] => ops.map((op) => op.op);
const at = (ops: readonly PlanOp[], match: (op: PlanOp) => boolean) => ops.findIndex(match);

Deno.test("a user namespace plan enters the cgroups before the clone, then waits for the id maps and becomes root", () => {
  const ops = plan(usernsConfig());
  assertEquals(names(ops).slice(0, 7), [
    "SYNC",
    "CGROUP_ENTER",
    "CLONE",
    "SYNC",
    "SETID",
    "UMASK",
    "MOUNT",
  ]);
  assertEquals(ops[0], { op: "SYNC", tag: SYNC_TAG.CGROUPS });
  assertEquals(ops[3], { op: "SYNC", tag: SYNC_TAG.USERMAP });
  assertEquals(ops[4], { op: "SETID", uid: 0, gid: 0 });
  const clone = ops[2] as Extract<PlanOp, { op: "CLONE" }>;
  assert(clone.flags & CLONE.NEWUSER);
  // No cgroup is entered from inside the namespace, where the host's files are not writable.
  assertEquals(ops.filter((op) => op.op === "CGROUP_ENTER").length, 1);
  assertEquals(SYNC_TAG.USERMAP, 2);
});

Deno.test("a rootless plan is dumpable only while its maps are written, and sets no groups", () => {
  const ops = plan(usernsConfig(), true);
  const usermap = at(ops, (op) => op.op === "SYNC" && op.tag === SYNC_TAG.USERMAP);
  assertEquals(ops.slice(usermap - 1, usermap + 3), [
    { op: "DUMPABLE", dumpable: true },
    { op: "SYNC", tag: SYNC_TAG.USERMAP },
    { op: "DUMPABLE", dumpable: false },
    { op: "SETID", uid: 0, gid: 0 },
  ]);
  assertEquals(ops.filter((op) => op.op === "IDENTITY"), []);
  const setids = ops.filter((op) => op.op === "SETID");
  assertEquals(setids.at(-1), { op: "SETID", uid: 0, gid: 0 });
  // A privileged parent sets the groups as usual.
  const identity = plan(usernsConfig()).find((op) => op.op === "IDENTITY");
  assertEquals(identity, { op: "IDENTITY", uid: 0, gid: 0, groups: [5] });
});

Deno.test("devices in a user namespace are bound from the host, never made with mknod", () => {
  const ops = plan(usernsConfig());
  assertEquals(ops.filter((op) => op.op === "MKNOD"), []);
  const i = at(ops, (op) => op.op === "BIND" && op.target === "/dev/null");
  assertEquals(ops[i - 1], { op: "MKFILE", path: "/dev/null", mode: 0o644 });
  assertEquals(ops[i], {
    op: "BIND",
    source: "/dev/null",
    target: "/dev/null",
    recursive: false,
    attrSet: 0,
    propagation: 0,
  });
  const bound = ops.filter((op) => op.op === "BIND" && op.source.startsWith("/dev/")).length;
  assertEquals(bound, usernsConfig().devices.length);
});

Deno.test("sysfs in a user namespace without a new network namespace is the host's /sys, bound", () => {
  const own = plan(usernsConfig());
  assert(own.some((op) => op.op === "MOUNT" && op.fstype === "sysfs"));
  const shared = plan(usernsConfig((c) => {
    c.namespaces = c.namespaces.filter((ns) => ns.type !== "NEWNET");
    c.networks = [];
  }));
  assertEquals(shared.filter((op) => op.op === "MOUNT" && op.fstype === "sysfs"), []);
  const bind = shared.find((op) => op.op === "BIND" && op.source === "/sys");
  assertEquals(bind, {
    op: "BIND",
    source: "/sys",
    target: "/sys",
    recursive: true,
    attrSet: 0xf, // ro, nosuid, nodev, noexec
    propagation: 0,
    noSymlinks: true,
  });
});

Deno.test("a plan without a user namespace keeps entering v1 cgroups from the init", () => {
  const config = parseConfig(defaultConfig({ rootfs: "/srv/box" }));
  const ops = plan(config);
  assertEquals(ops[0]!.op, "CLONE");
  assert(at(ops, (op) => op.op === "CGROUP_ENTER") > 0);
  assertEquals(ops.filter((op) => op.op === "SETID" || op.op === "DUMPABLE"), []);
});

Deno.test("a joined user namespace is entered by the helper, which then becomes its root", () => {
  const config = parseConfig({
    ...defaultConfig({ rootfs: "/srv/box" }),
    namespaces: [{ type: "NEWNS" }, { type: "NEWUSER", path: "/proc/5/ns/user" }],
    hostname: "",
    networks: [],
  });
  const ops = buildInitPlan({
    config,
    cgroups: CGROUPS,
    process: { args: ["sh"], env: [], cwd: "/", terminal: false },
    user: USER,
    joins: [{ type: "NEWUSER", fd: 4, path: "/proc/5/ns/user" }],
    bindSources: new Map(),
  });
  assertEquals(names(ops).slice(0, 5), ["SYNC", "CGROUP_ENTER", "SETNS", "CLONE", "SETID"]);
});

Deno.test("a join into a user namespace with setgroups denied sets no groups", () => {
  const join = (setgroups: boolean) =>
    buildJoinPlan({
      config: usernsConfig(),
      cgroups: { enter: [], cloneInto: "" },
      process: { args: ["sh"], env: [], cwd: "/", terminal: false },
      user: USER,
      initPidfd: 4,
      initPid: 77,
      setgroups,
    });
  const denied = join(false);
  assertEquals(denied.filter((op) => op.op === "IDENTITY"), []);
  assertEquals(denied.find((op) => op.op === "SETID"), { op: "SETID", uid: 0, gid: 0 });
  const setns = denied.find((op) => op.op === "SETNS") as Extract<PlanOp, { op: "SETNS" }>;
  assert(setns.nstype & CLONE.NEWUSER);
  assert(join(true).some((op) => op.op === "IDENTITY"));
});

Deno.test("rootlessIssues() refuses what needs root, naming each field", () => {
  const context = { uid: 1000, gid: 1000, cgroupsWritable: false };
  const rootless = rootlessConfig(defaultConfig({ rootfs: "/srv/box" }), context);
  const good = parseConfig(rootless);
  assertEquals(rootlessIssues(good, context), []);

  const noUserNs = parseConfig(defaultConfig({ rootfs: "/srv/box" }));
  assertEquals(rootlessIssues(noUserNs, context).map((i) => i.path), ["namespaces"]);

  const bad = parseConfig({
    ...rootless,
    uid_mappings: [{ container_id: 0, host_id: 0, size: 1 }, {
      container_id: 1,
      host_id: 1001,
      size: 1,
    }],
    additional_groups: [0],
    cgroups: { memory: 1 << 20 },
  });
  const issues = rootlessIssues(bad, context);
  assertEquals(issues.map((i) => i.path), [
    "uid_mappings[0]",
    "uid_mappings[1]",
    "additional_groups",
    "cgroups.memory",
  ]);
  assertEquals(
    issues[0]!.message,
    "Maps host ids other than your own uid 1000: that needs root (running as uid 1000, not root)",
  );
  assertEquals(
    issues[3]!.message,
    "Cgroup limits need root or a delegated cgroup (running as uid 1000, not root)",
  );
  // With a delegated cgroup the limits are the cgroup code's to apply.
  assertEquals(
    rootlessIssues(bad, { ...context, cgroupsWritable: true }).map((i) => i.path).includes(
      "cgroups.memory",
    ),
    false,
  );
});
