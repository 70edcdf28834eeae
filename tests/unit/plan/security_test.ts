/**
 * The security ops of a plan: where oom_score_adj, LSM labels,
 * no_new_privs and the seccomp filter go, and what they carry.
 */
import { assert, assertEquals, assertThrows } from "../../_assert.ts";
import { type Config, defaultConfig } from "../../../lib/config/mod.ts";
import {
  buildInitPlan,
  buildJoinPlan,
  type CgroupPlacement,
  type PlanProcess,
} from "../../../lib/plan/build.ts";
import { encodePlan } from "../../../lib/plan/encode.ts";
import type { OpName, PlanOp } from "../../../lib/plan/ops.ts";
import { type HostFacts, seccompProgram } from "../../../lib/plan/security.ts";
import { compileSeccomp, DEFAULT_SECCOMP_PROFILE, encodeFilter } from "../../../lib/seccomp/mod.ts";
import type { ExecUser } from "../../../lib/user/lookup.ts";

const ROOT: ExecUser = { uid: 0, gid: 0, additionalGids: [], home: "/root" };
const CGROUPS: CgroupPlacement = { enter: ["/sys/fs/cgroup/pids/c/tasks"], cloneInto: "" };
const PROCESS: PlanProcess = { args: ["sh"], env: ["PATH=/bin"], cwd: "/", terminal: false };

function host(lsm: Partial<HostFacts["lsm"]> = {}): HostFacts {
  return {
    arch: "x86_64",
    kernelVersion: "6.1.0",
    lsm: { apparmor: false, selinux: false, ...lsm },
    apparmorExecAttr: "attr/apparmor/exec",
  };
}

function config(edit: (c: Config) => void = () => {}): Config {
  const value = defaultConfig({ rootfs: "/r" });
  edit(value);
  return value;
}

function init(c: Config, h = host(), process = PROCESS): PlanOp[] {
  return buildInitPlan({
    config: c,
    cgroups: CGROUPS,
    process,
    user: ROOT,
    joins: [],
    bindSources: new Map(),
    host: h,
  });
}

function join(c: Config, h = host(), process = PROCESS): PlanOp[] {
  return buildJoinPlan({
    config: c,
    cgroups: CGROUPS,
    process,
    user: ROOT,
    initPidfd: 5,
    initPid: 42,
    host: h,
  });
}

const names = (plan: readonly PlanOp[]): OpName[] => plan.map((op) => op.op);
const tail = (plan: readonly PlanOp[], n: number) => names(plan).slice(-n);

Deno.test("oom_score_adj is written from the host's procfs before the init is cloned", () => {
  const plan = init(config((c) => c.oom_score_adj = 300));
  assertEquals(plan[0], {
    op: "WRITE",
    dir: "/proc",
    file: "oom_score_adj",
    content: "300",
    procfs: true,
    self: true,
    hostPath: true,
  });
  assertEquals(plan[1]!.op, "CLONE");
  assertEquals(names(init(config())).filter((n) => n === "WRITE"), []);
});

Deno.test("oom_score_adj is written before a joined process's setns, after its cgroup entry", () => {
  const plan = join(config((c) => c.oom_score_adj = -5));
  assertEquals(names(plan).slice(0, 4), ["CGROUP_ENTER", "WRITE", "SETNS", "CLONE"]);
  assertEquals((plan[1] as Extract<PlanOp, { op: "WRITE" }>).content, "-5");
});

Deno.test("no_new_privs and the seccomp filter are the last ops before exec, in init and join", () => {
  for (const plan of [init(config()), join(config())]) {
    assertEquals(tail(plan, 4), ["CHDIR", "NO_NEW_PRIVS", "SECCOMP", "EXEC"]);
    const caps = names(plan).indexOf("CAPS");
    assert(caps >= 0 && caps < names(plan).indexOf("SECCOMP"), "after the capabilities");
  }
});

Deno.test("the filter is the default profile compiled for the process's own capabilities", () => {
  const compile = (caps: readonly string[]) =>
    encodeFilter(
      compileSeccomp(DEFAULT_SECCOMP_PROFILE, {
        arch: "x86_64",
        capabilities: caps,
        kernelVersion: "6.1.0",
      })
        .instructions,
    );
  const c = config();
  const seccomp = (plan: PlanOp[]) =>
    plan.find((op) => op.op === "SECCOMP") as Extract<PlanOp, { op: "SECCOMP" }>;
  assertEquals(seccomp(init(c)).filter, compile(c.capabilities));
  const admin = { ...PROCESS, capabilities: [...c.capabilities, "SYS_ADMIN"] };
  const withAdmin = seccomp(join(c, host(), admin)).filter;
  assertEquals(withAdmin, compile(admin.capabilities));
  // SYS_ADMIN opens mount, unshare and the rest: a different program.
  assert(withAdmin.length !== compile(c.capabilities).length);
});

Deno.test("no_new_privs goes with a filter unless the process keeps SYS_ADMIN", () => {
  const off = config((c) => c.no_new_privileges = false);
  assertEquals(tail(init(off), 3), ["NO_NEW_PRIVS", "SECCOMP", "EXEC"]);
  const admin = { ...PROCESS, capabilities: ["SYS_ADMIN"] };
  assertEquals(tail(init(off, host(), admin), 3), ["CHDIR", "SECCOMP", "EXEC"]);
  // Asked for, it is set whatever the capabilities.
  assertEquals(tail(init(config(), host(), admin), 3), ["NO_NEW_PRIVS", "SECCOMP", "EXEC"]);
  const nnpOnly = config((c) => delete c.seccomp);
  assertEquals(tail(init(nnpOnly), 3), ["CHDIR", "NO_NEW_PRIVS", "EXEC"]);
  const neither = config((c) => {
    delete c.seccomp;
    c.no_new_privileges = false;
  });
  assertEquals(tail(init(neither), 2), ["CHDIR", "EXEC"]);
});

Deno.test("a custom profile's flags reach the SECCOMP op", () => {
  const c = config((c) =>
    c.seccomp = {
      defaultAction: "SCMP_ACT_ALLOW",
      flags: ["SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW"],
      syscalls: [{ names: ["mkdir"], action: "SCMP_ACT_ERRNO" }],
    }
  );
  const op = init(c).find((o) => o.op === "SECCOMP") as Extract<PlanOp, { op: "SECCOMP" }>;
  assertEquals(op.flags, 2 | 4);
  assertEquals(op.filter.length % 8, 0);
});

Deno.test("seccompProgram() compiles a profile once: equal profiles get the cached program", () => {
  const profile = () => ({
    defaultAction: "SCMP_ACT_ALLOW" as const,
    syscalls: [{ names: ["mkdir"], action: "SCMP_ACT_ERRNO" as const }],
  });
  const a = seccompProgram(config((c) => c.seccomp = profile()), ["KILL"], host());
  const b = seccompProgram(config((c) => c.seccomp = profile()), ["KILL"], host());
  assert(a !== undefined && a === b);
  const d1 = seccompProgram(config(), ["KILL"], host());
  assert(d1 !== undefined && d1 === seccompProgram(config(), ["KILL"], host()));
  assertEquals(seccompProgram(config((c) => delete c.seccomp), ["KILL"], host()), undefined);
});

Deno.test("LSM labels are written to the process's own attr files when the LSM is enabled", () => {
  const c = config((c) => {
    c.apparmor_profile = "docker-default";
    c.process_label = "system_u:system_r:svirt_lxc_net_t:s0";
  });
  assertEquals(names(init(c)).filter((n) => n === "WRITE"), [], "no LSM: no write");
  const plan = init(c, host({ apparmor: true, selinux: true }));
  const writes = plan.filter((op) => op.op === "WRITE");
  assertEquals(writes, [
    {
      op: "WRITE",
      dir: "/proc",
      file: "attr/apparmor/exec",
      content: "exec docker-default",
      procfs: true,
      self: true,
    },
    {
      op: "WRITE",
      dir: "/proc",
      file: "attr/exec",
      content: "system_u:system_r:svirt_lxc_net_t:s0",
      procfs: true,
      self: true,
    },
  ]);
  // After the root switch, before the capabilities are dropped.
  const first = plan.indexOf(writes[0]!);
  assert(names(plan).indexOf("PIVOT") < first && first < names(plan).indexOf("BOUNDING"));
  // A joined process gets them too.
  assertEquals(
    join(c, host({ apparmor: true, selinux: true })).filter((op) => op.op === "WRITE").length,
    2,
  );
  // Older kernels: the shared attr/exec.
  const old = { ...host({ apparmor: true }), apparmorExecAttr: "attr/exec" };
  assertEquals(
    (init(c, old).find((op) => op.op === "WRITE") as { file: string }).file,
    "attr/exec",
  );
});

Deno.test("the SELinux mount label becomes context= on tmpfs and devpts mounts only", () => {
  const c = config((c) => c.mount_label = "system_u:object_r:svirt_sandbox_file_t:s0");
  const data = (h: HostFacts) =>
    Object.fromEntries(
      init(c, h).flatMap((op) =>
        op.op === "MOUNT" && op.fstype !== "" ? [[op.target, op.data]] : []
      ),
    );
  const context = 'context="system_u:object_r:svirt_sandbox_file_t:s0"';
  assertEquals(data(host({ selinux: true })), {
    "/proc": "",
    "/dev": `mode=755,size=65536k,${context}`,
    "/dev/pts": `newinstance,ptmxmode=0666,mode=0620,gid=5,${context}`,
    "/dev/shm": `mode=1777,size=65536k,${context}`,
    "/dev/mqueue": "",
    "/sys": "",
  });
  assert(!Object.values(data(host())).some((d) => d.includes("context=")));
});

Deno.test("every procfs write of a plan goes through the verified procfs directory", () => {
  const c = config((c) => {
    c.oom_score_adj = 10;
    c.apparmor_profile = "p";
    c.system_properties = { "kernel.shmmni": "8192" };
  });
  for (const plan of [init(c, host({ apparmor: true })), join(c, host({ apparmor: true }))]) {
    for (const op of plan) {
      if (op.op === "WRITE") assert(op.procfs && op.dir === "/proc", JSON.stringify(op));
    }
  }
});

Deno.test("the default plan, filter included, encodes; a filter of a bad size is refused", () => {
  const message = encodePlan(init(config()));
  assert(message.length < 16384, `${message.length} bytes`);
  const bad: PlanOp[] = [{ op: "SECCOMP", filter: new Uint8Array(12), flags: 0 }];
  assertThrows(() => encodePlan(bad), RangeError);
  assertThrows(
    () => encodePlan([{ op: "SECCOMP", filter: new Uint8Array(0), flags: 0 }]),
    RangeError,
  );
  assertThrows(
    () => encodePlan([{ op: "SECCOMP", filter: new Uint8Array(8 * 4097), flags: 0 }]),
    RangeError,
  );
});
