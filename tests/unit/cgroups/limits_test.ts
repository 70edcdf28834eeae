import { assert, assertEquals, assertThrows } from "../../_assert.ts";
import {
  applyLimits,
  CgroupLimitError,
  type CgroupLimits,
  cpuSharesProblem,
  cpuWeightFromShares,
  ioWeightFromBlkio,
  type LimitWrite,
  planLimits,
  setLimits,
} from "../../../lib/cgroups/limits.ts";
import { ConfigError } from "../../../lib/errors.ts";

/** A reader over an in-memory tree: path to content; anything else does not exist. */
function reader(files: Record<string, string>): (path: string) => string | null {
  return (path) => files[path] ?? null;
}

/** The writes as [field, file, values], for comparing. */
function summary(writes: LimitWrite[]): [string, string, string[]][] {
  return writes.map((w) => [w.field, w.file, w.values]);
}

/** The issues of the ConfigError that `fn` throws, as "path: message". */
function issuesOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (error) {
    assert(error instanceof ConfigError, String(error));
    return error.issues.map((i) => `${i.path}: ${i.message}`);
  }
  throw new Error("Expected a ConfigError");
}

const V1 = {
  memory: "/cg/memory/c",
  cpu: "/cg/cpu/c",
  cpuacct: "/cg/cpu/c",
  cpuset: "/cg/cpuset/c",
  blkio: "/cg/blkio/c",
  pids: "/cg/pids/c",
  freezer: "/cg/freezer/c",
  devices: "/cg/devices/c",
};

const UNLIMITED = "9223372036854771712\n";

/** The files of fresh v1 cgroups, as this machine's kernel has them (BFQ, no CFQ). */
const V1_FILES: Record<string, string> = {
  "/cg/memory/c/memory.limit_in_bytes": UNLIMITED,
  "/cg/memory/c/memory.memsw.limit_in_bytes": UNLIMITED,
  "/cg/memory/c/memory.soft_limit_in_bytes": UNLIMITED,
  "/cg/memory/c/memory.oom_control": "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n",
  "/cg/cpu/c/cpu.rt_period_us": "1000000\n",
  "/cg/blkio/c/blkio.bfq.weight": "100\n",
  "/cg/blkio/c/blkio.bfq.weight_device": "default 100\n",
};

Deno.test("planLimits() writes the seed's v1 files, each only when its field is set", () => {
  const writes = planLimits(V1, {
    memory: 64 << 20,
    memory_reservation: 32 << 20,
    oom_kill_disable: true,
    cpu_shares: 512,
    cpu_period: 100000,
    cpu_quota: 50000,
    cpu_rt_period: 100000,
    cpu_rt_runtime: 10000,
    cpuset_cpus: "0-1",
    cpuset_mems: "0",
    blkio_weight: 500,
    blkio_weight_device: "8:0 300\n8:16 200",
    blkio_throttle_read_bps_device: "8:0 1048576",
    blkio_throttle_write_bps_device: "8:0 2097152",
    blkio_throttle_read_iops_device: "8:0 100",
    blkio_throttle_write_iops_device: " 8:0 200 \n\n",
    pids_limit: 10,
  }, reader(V1_FILES));
  assertEquals(summary(writes), [
    ["cgroups.memory", "/cg/memory/c/memory.limit_in_bytes", ["67108864"]],
    ["cgroups.memory", "/cg/memory/c/memory.memsw.limit_in_bytes", ["134217728"]],
    ["cgroups.memory_reservation", "/cg/memory/c/memory.soft_limit_in_bytes", ["33554432"]],
    ["cgroups.oom_kill_disable", "/cg/memory/c/memory.oom_control", ["1"]],
    ["cgroups.cpu_shares", "/cg/cpu/c/cpu.shares", ["512"]],
    ["cgroups.cpu_period", "/cg/cpu/c/cpu.cfs_period_us", ["100000"]],
    ["cgroups.cpu_quota", "/cg/cpu/c/cpu.cfs_quota_us", ["50000"]],
    ["cgroups.cpu_rt_runtime", "/cg/cpu/c/cpu.rt_runtime_us", ["10000"]],
    ["cgroups.cpu_rt_period", "/cg/cpu/c/cpu.rt_period_us", ["100000"]],
    ["cgroups.cpuset_cpus", "/cg/cpuset/c/cpuset.cpus", ["0-1"]],
    ["cgroups.cpuset_mems", "/cg/cpuset/c/cpuset.mems", ["0"]],
    ["cgroups.blkio_weight", "/cg/blkio/c/blkio.bfq.weight", ["500"]],
    ["cgroups.blkio_weight_device", "/cg/blkio/c/blkio.bfq.weight_device", [
      "8:0 300",
      "8:16 200",
    ]],
    [
      "cgroups.blkio_throttle_read_bps_device",
      "/cg/blkio/c/blkio.throttle.read_bps_device",
      ["8:0 1048576"],
    ],
    [
      "cgroups.blkio_throttle_write_bps_device",
      "/cg/blkio/c/blkio.throttle.write_bps_device",
      ["8:0 2097152"],
    ],
    [
      "cgroups.blkio_throttle_read_iops_device",
      "/cg/blkio/c/blkio.throttle.read_iops_device",
      ["8:0 100"],
    ],
    [
      "cgroups.blkio_throttle_write_iops_device",
      "/cg/blkio/c/blkio.throttle.write_iops_device",
      ["8:0 200"],
    ],
    ["cgroups.pids_limit", "/cg/pids/c/pids.max", ["10"]],
  ]);
  assertEquals(planLimits(V1, {}, reader(V1_FILES)), []);
  assertEquals(
    planLimits(V1, { memory: 0, cpuset_cpus: "", oom_kill_disable: false }, reader(V1_FILES)),
    [],
  );
});

Deno.test("planLimits() prefers CFQ's blkio.weight where the kernel has it", () => {
  const files = { ...V1_FILES, "/cg/blkio/c/blkio.weight": "500\n" };
  const writes = planLimits(V1, { blkio_weight: 300 }, reader(files));
  assertEquals(summary(writes), [["cgroups.blkio_weight", "/cg/blkio/c/blkio.weight", ["300"]]]);
});

Deno.test("planLimits() orders memory and memory+swap so the kernel never sees memsw < limit", () => {
  const at = (limit: string, memsw: string) =>
    reader({
      ...V1_FILES,
      "/cg/memory/c/memory.limit_in_bytes": limit,
      "/cg/memory/c/memory.memsw.limit_in_bytes": memsw,
    });
  const files = (writes: LimitWrite[]) => writes.map((w) => w.file.split("/").pop());
  // Raising past the current memory+swap: memory+swap first.
  assertEquals(
    files(planLimits(V1, { memory: 300, memory_swap: 600 }, at("100\n", "200\n"))),
    ["memory.memsw.limit_in_bytes", "memory.limit_in_bytes"],
  );
  // Lowering, or staying under the current memory+swap: memory first.
  assertEquals(
    files(planLimits(V1, { memory: 50, memory_swap: 80 }, at("100\n", "200\n"))),
    ["memory.limit_in_bytes", "memory.memsw.limit_in_bytes"],
  );
  assertEquals(
    files(planLimits(V1, { memory: 150, memory_swap: 600 }, at("100\n", "200\n"))),
    ["memory.limit_in_bytes", "memory.memsw.limit_in_bytes"],
  );
  // Unlimited memory with a limited memory+swap: memory+swap (unlimited too) first.
  const unlimited = planLimits(V1, { memory: -1 }, at("100\n", "200\n"));
  assertEquals(summary(unlimited), [
    ["cgroups.memory", "/cg/memory/c/memory.memsw.limit_in_bytes", ["-1"]],
    ["cgroups.memory", "/cg/memory/c/memory.limit_in_bytes", ["-1"]],
  ]);
  // From unlimited: memory first.
  assertEquals(
    files(planLimits(V1, { memory: 100 }, at(UNLIMITED, UNLIMITED))),
    ["memory.limit_in_bytes", "memory.memsw.limit_in_bytes"],
  );
});

Deno.test("planLimits() takes memory_swap as given, and -1 as unlimited", () => {
  assertEquals(summary(planLimits(V1, { memory_swap: -1 }, reader(V1_FILES))), [
    ["cgroups.memory_swap", "/cg/memory/c/memory.memsw.limit_in_bytes", ["-1"]],
  ]);
  assertEquals(summary(planLimits(V1, { memory: 100, memory_swap: 100 }, reader(V1_FILES))), [
    ["cgroups.memory", "/cg/memory/c/memory.limit_in_bytes", ["100"]],
    ["cgroups.memory_swap", "/cg/memory/c/memory.memsw.limit_in_bytes", ["100"]],
  ]);
});

Deno.test("planLimits() skips the default memory+swap without swap accounting, refuses an explicit one", () => {
  const files = { ...V1_FILES };
  delete files["/cg/memory/c/memory.memsw.limit_in_bytes"];
  assertEquals(summary(planLimits(V1, { memory: 100 }, reader(files))), [
    ["cgroups.memory", "/cg/memory/c/memory.limit_in_bytes", ["100"]],
  ]);
  assertEquals(issuesOf(() => planLimits(V1, { memory: 100, memory_swap: 200 }, reader(files))), [
    "cgroups.memory_swap: Swap accounting is off on this host: `memory.memsw.limit_in_bytes` does not exist",
  ]);
});

Deno.test("planLimits() orders realtime runtime and period so runtime <= period holds throughout", () => {
  const files = (writes: LimitWrite[]) => writes.map((w) => w.file.split("/").pop());
  const at = (period: string) => reader({ ...V1_FILES, "/cg/cpu/c/cpu.rt_period_us": period });
  assertEquals(
    files(planLimits(V1, { cpu_rt_period: 50000, cpu_rt_runtime: 40000 }, at("1000000\n"))),
    ["cpu.rt_runtime_us", "cpu.rt_period_us"],
  );
  assertEquals(
    files(planLimits(V1, { cpu_rt_period: 100000, cpu_rt_runtime: 80000 }, at("50000\n"))),
    ["cpu.rt_period_us", "cpu.rt_runtime_us"],
  );
  assertEquals(files(planLimits(V1, { cpu_rt_runtime: 5000 }, at("50000\n"))), [
    "cpu.rt_runtime_us",
  ]);
});

Deno.test("planLimits() names every field it cannot carry out, and writes nothing then", () => {
  const paths = { memory: "/cg/memory/c" };
  assertEquals(
    issuesOf(() =>
      planLimits(paths, {
        memory: 100,
        cpu_shares: 512,
        pids_limit: 5,
        blkio_throttle_read_bps_device: "8:0 fast",
        net_prio_ifpriomap: [{ interface: "eth0", priority: 1 }],
      }, reader(V1_FILES))
    ),
    [
      "cgroups.cpu_shares: No cpu cgroup: no v1 hierarchy is mounted and there is no cgroup v2 directory",
      "cgroups.blkio_throttle_read_bps_device: No blkio cgroup: no v1 hierarchy is mounted and there is no cgroup v2 directory",
      "cgroups.pids_limit: No pids cgroup: no v1 hierarchy is mounted and there is no cgroup v2 directory",
      "cgroups.net_prio_ifpriomap: No net_prio cgroup: no v1 hierarchy is mounted and cgroup v2 has no such controller",
    ],
  );
  assertEquals(
    issuesOf(() =>
      planLimits(V1, {
        blkio_weight_device: "8:0 300\n8-16 200",
        blkio_throttle_read_bps_device: "8:0 fast",
      }, reader(V1_FILES))
    ),
    [
      "cgroups.blkio_weight_device: Each line must be `major:minor value` with non-negative integers, got `8-16 200`",
      "cgroups.blkio_throttle_read_bps_device: Each line must be `major:minor value` with non-negative integers, got `8:0 fast`",
    ],
  );
});

Deno.test("planLimits() writes net_prio.ifpriomap one interface per write", () => {
  const writes = planLimits({ net_prio: "/cg/net_prio/c" }, {
    net_prio_ifpriomap: [{ interface: "lo", priority: 1 }, { interface: "eth0", priority: 5 }],
  }, reader({}));
  assertEquals(summary(writes), [
    ["cgroups.net_prio_ifpriomap", "/cg/net_prio/c/net_prio.ifpriomap", ["lo 1", "eth0 5"]],
  ]);
  assertEquals(writes[0]!.restore("lo 0\neth0 3\n"), ["lo 0", "eth0 3"]);
});

Deno.test("the restore of a list writes each device's old entry back, or removes it", () => {
  const [write] = planLimits(V1, {
    blkio_throttle_read_bps_device: "8:0 200\n8:16 300\n8:0 250",
  }, reader(V1_FILES));
  assertEquals(write!.restore("8:0 100\n"), ["8:0 100", "8:16 0"]);
  assertEquals(write!.restore(""), ["8:0 0", "8:16 0"]);
  const [simple] = planLimits(V1, { cpu_shares: 512 }, reader(V1_FILES));
  assertEquals(simple!.restore("1024\n"), ["1024"]);
  const [oom] = planLimits(V1, { oom_kill_disable: true }, reader(V1_FILES));
  assertEquals(oom!.restore("oom_kill_disable 0\nunder_oom 0\noom_kill 3\n"), ["0"]);
});

Deno.test("cpuSharesProblem() gives the seed's message for clamped shares", () => {
  assertEquals(cpuSharesProblem(512, "512\n"), undefined);
  assertEquals(cpuSharesProblem(1, "2\n"), "The minimum allowed cpu-shares is 2");
  assertEquals(cpuSharesProblem(300000, "262144\n"), "The maximum allowed cpu-shares is 262144");
});

Deno.test("cpuWeightFromShares() and ioWeightFromBlkio() map the v1 ranges onto v2's", () => {
  assertEquals([2, 1024, 262144].map(cpuWeightFromShares), [1, 39, 10000]);
  assertEquals([10, 100, 500, 1000].map(ioWeightFromBlkio), [1, 910, 4950, 10000]);
});

const V2 = { unified: "/cg/unified/c" };
const V2_FILES: Record<string, string> = {
  "/cg/unified/c/cgroup.controllers": "cpuset cpu io memory hugetlb pids\n",
  "/cg/unified/c/cpu.max": "max 100000\n",
  "/cg/unified/c/memory.swap.max": "max\n",
  "/cg/unified/c/io.weight": "default 100\n",
};

Deno.test("planLimits() maps the config onto v2 files", () => {
  const writes = planLimits(V2, {
    memory: 64 << 20,
    memory_reservation: 32 << 20,
    memory_swap: 96 << 20,
    cpu_shares: 1024,
    cpu_quota: 50000,
    cpu_period: 100000,
    cpuset_cpus: "0",
    cpuset_mems: "0",
    blkio_weight: 500,
    blkio_weight_device: "8:0 1000",
    blkio_throttle_read_bps_device: "8:0 1048576",
    blkio_throttle_write_bps_device: "8:0 0",
    blkio_throttle_read_iops_device: "8:0 100",
    blkio_throttle_write_iops_device: "8:0 200\n8:16 300",
    pids_limit: -1,
  }, reader(V2_FILES));
  const u = "/cg/unified/c";
  assertEquals(summary(writes), [
    ["cgroups.memory", `${u}/memory.max`, ["67108864"]],
    ["cgroups.memory_reservation", `${u}/memory.low`, ["33554432"]],
    ["cgroups.memory_swap", `${u}/memory.swap.max`, ["33554432"]],
    ["cgroups.cpu_shares", `${u}/cpu.weight`, ["39"]],
    ["cgroups.cpu_quota", `${u}/cpu.max`, ["50000 100000"]],
    ["cgroups.cpuset_cpus", `${u}/cpuset.cpus`, ["0"]],
    ["cgroups.cpuset_mems", `${u}/cpuset.mems`, ["0"]],
    ["cgroups.blkio_weight", `${u}/io.weight`, ["default 4950"]],
    ["cgroups.blkio_weight_device", `${u}/io.weight`, ["8:0 10000"]],
    ["cgroups.blkio_throttle_read_bps_device", `${u}/io.max`, ["8:0 rbps=1048576"]],
    ["cgroups.blkio_throttle_write_bps_device", `${u}/io.max`, ["8:0 wbps=max"]],
    ["cgroups.blkio_throttle_read_iops_device", `${u}/io.max`, ["8:0 riops=100"]],
    ["cgroups.blkio_throttle_write_iops_device", `${u}/io.max`, [
      "8:0 wiops=200",
      "8:16 wiops=300",
    ]],
    ["cgroups.pids_limit", `${u}/pids.max`, ["max"]],
  ]);
  const ioMax = writes.find((w) => w.field === "cgroups.blkio_throttle_write_iops_device")!;
  assertEquals(ioMax.restore("8:0 rbps=1 wbps=max riops=max wiops=max\n"), [
    "8:0 rbps=1 wbps=max riops=max wiops=max",
    "8:16 rbps=max wbps=max riops=max wiops=max",
  ]);
  const weight = writes.find((w) => w.field === "cgroups.blkio_weight_device")!;
  assertEquals(weight.restore("default 100\n"), ["8:0 default"]);
});

Deno.test("planLimits() converts memory+swap to v2's swap alone, with the seed's default", () => {
  const plan = (limits: CgroupLimits) =>
    planLimits(V2, limits, reader(V2_FILES)).map((w) => [w.file.split("/").pop(), w.values[0]]);
  assertEquals(plan({ memory: 100 }), [["memory.max", "100"], ["memory.swap.max", "100"]]);
  assertEquals(plan({ memory: 100, memory_swap: 100 }), [
    ["memory.max", "100"],
    ["memory.swap.max", "0"],
  ]);
  assertEquals(plan({ memory: -1 }), [["memory.max", "max"], ["memory.swap.max", "max"]]);
  assertEquals(plan({ memory: 100, memory_swap: -1 }), [
    ["memory.max", "100"],
    ["memory.swap.max", "max"],
  ]);
  const noSwap = { ...V2_FILES };
  delete noSwap["/cg/unified/c/memory.swap.max"];
  assertEquals(summary(planLimits(V2, { memory: 100 }, reader(noSwap))), [
    ["cgroups.memory", "/cg/unified/c/memory.max", ["100"]],
  ]);
});

Deno.test("planLimits() writes cpu.max with the current quota or period kept", () => {
  const plan = (limits: CgroupLimits, current = "50000 100000\n") =>
    planLimits(V2, limits, reader({ ...V2_FILES, "/cg/unified/c/cpu.max": current }))
      .map((w) => [w.field, w.values[0]]);
  assertEquals(plan({ cpu_quota: 20000 }), [["cgroups.cpu_quota", "20000"]]);
  assertEquals(plan({ cpu_quota: -1 }), [["cgroups.cpu_quota", "max"]]);
  assertEquals(plan({ cpu_period: 20000 }), [["cgroups.cpu_period", "50000 20000"]]);
  assertEquals(plan({ cpu_period: 20000 }, "max 100000\n"), [["cgroups.cpu_period", "max 20000"]]);
  assertEquals(plan({ cpu_quota: -1, cpu_period: 20000 }), [["cgroups.cpu_quota", "max 20000"]]);
});

Deno.test("planLimits() uses BFQ's io.bfq.weight with the v1 weight where it exists", () => {
  const files = { ...V2_FILES, "/cg/unified/c/io.bfq.weight": "default 100\n" };
  assertEquals(
    summary(planLimits(V2, { blkio_weight: 500, blkio_weight_device: "8:0 300" }, reader(files))),
    [
      ["cgroups.blkio_weight", "/cg/unified/c/io.bfq.weight", ["default 500"]],
      ["cgroups.blkio_weight_device", "/cg/unified/c/io.bfq.weight", ["8:0 300"]],
    ],
  );
});

Deno.test("planLimits() refuses on v2 what v2 cannot do, naming each field", () => {
  assertEquals(
    issuesOf(() =>
      planLimits(V2, {
        memory_swap: 200,
        oom_kill_disable: true,
        cpu_shares: 1,
        cpu_rt_runtime: 1000,
        cpu_rt_period: 10000,
      }, reader(V2_FILES))
    ),
    [
      "cgroups.memory_swap: On cgroup v2 a memory+swap limit needs `cgroups.memory` set to a limit: swap is limited alone there",
      "cgroups.oom_kill_disable: Not supported on cgroup v2: it has no switch for the OOM killer",
      "cgroups.cpu_shares: The minimum allowed cpu-shares is 2",
      "cgroups.cpu_rt_runtime: Not supported on cgroup v2: it has no realtime group scheduling",
      "cgroups.cpu_rt_period: Not supported on cgroup v2: it has no realtime group scheduling",
    ],
  );
  assertEquals(
    issuesOf(() => planLimits(V2, { memory: 200, memory_swap: 100 }, reader(V2_FILES))),
    ["cgroups.memory_swap: Must be at least `cgroups.memory` (200), got 100"],
  );
  assertEquals(
    issuesOf(() => planLimits(V2, { cpu_shares: 300000 }, reader(V2_FILES))),
    ["cgroups.cpu_shares: The maximum allowed cpu-shares is 262144"],
  );
  const bare = { "/cg/unified/c/cgroup.controllers": "hugetlb\n" };
  assertEquals(issuesOf(() => planLimits(V2, { pids_limit: 10 }, reader(bare))), [
    "cgroups.pids_limit: No pids cgroup: no v1 hierarchy is mounted and `pids` is not in `/cg/unified/c/cgroup.controllers`",
  ]);
});

Deno.test("planLimits() on a hybrid host writes each controller where it is", () => {
  const paths = { memory: "/cg/memory/c", unified: "/cg/unified/c" };
  const files = { ...V1_FILES, "/cg/unified/c/cgroup.controllers": "pids\n" };
  assertEquals(summary(planLimits(paths, { memory: 100, pids_limit: 10 }, reader(files))), [
    ["cgroups.memory", "/cg/memory/c/memory.limit_in_bytes", ["100"]],
    ["cgroups.memory", "/cg/memory/c/memory.memsw.limit_in_bytes", ["200"]],
    ["cgroups.pids_limit", "/cg/unified/c/pids.max", ["10"]],
  ]);
});

/** A fake v1 tree on disk: regular files with the given contents. */
function fakeTree(files: Record<string, string>): string {
  const root = Deno.makeTempDirSync({ prefix: "nsinit-limits-" });
  for (const [path, content] of Object.entries(files)) {
    Deno.mkdirSync(`${root}${path.slice(0, path.lastIndexOf("/"))}`, { recursive: true });
    Deno.writeTextFileSync(`${root}${path}`, content);
  }
  return root;
}

function pathsUnder(root: string, paths: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(paths).map(([k, v]) => [k, `${root}${v}`]));
}

Deno.test("setLimits() writes the files of a fake tree", async () => {
  const root = fakeTree({
    ...V1_FILES,
    "/cg/cpu/c/cpu.shares": "1024\n",
    "/cg/cpuset/c/cpuset.cpus": "0-1\n",
    "/cg/pids/c/pids.max": "max\n",
    "/cg/blkio/c/blkio.throttle.read_bps_device": "",
    "/cg/freezer/c/freezer.state": "THAWED\n",
  });
  try {
    const paths = pathsUnder(root, V1);
    await setLimits(paths, {
      memory: 100,
      cpu_shares: 512,
      cpuset_cpus: "1",
      pids_limit: 7,
      blkio_throttle_read_bps_device: "8:0 10\n8:16 20",
      freezer: "FROZEN",
    });
    const read = (path: string) => Deno.readTextFileSync(`${root}${path}`);
    assertEquals(read("/cg/memory/c/memory.limit_in_bytes"), "100\n");
    assertEquals(read("/cg/memory/c/memory.memsw.limit_in_bytes"), "200\n");
    assertEquals(read("/cg/cpu/c/cpu.shares"), "512\n");
    assertEquals(read("/cg/cpuset/c/cpuset.cpus"), "1\n");
    assertEquals(read("/cg/pids/c/pids.max"), "7\n");
    // One write(2) per entry: a regular file shows them one after the other.
    assertEquals(read("/cg/blkio/c/blkio.throttle.read_bps_device"), "8:0 10\n8:16 20\n");
    assertEquals(read("/cg/freezer/c/freezer.state"), "FROZEN\n");
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test("a failed setLimits() writes the old values back in reverse order", async () => {
  const root = fakeTree({
    ...V1_FILES,
    "/cg/memory/c/memory.limit_in_bytes": "100\n",
    "/cg/memory/c/memory.memsw.limit_in_bytes": "200\n",
    "/cg/cpu/c/cpu.shares": "1024\n",
    "/cg/blkio/c/blkio.throttle.read_bps_device": "8:0 5\n",
  });
  // A file no one may write, even root: a read-only sysctl.
  Deno.mkdirSync(`${root}/cg/cpuset/c`, { recursive: true });
  Deno.symlinkSync("/proc/sys/kernel/ostype", `${root}/cg/cpuset/c/cpuset.cpus`);
  try {
    const paths = pathsUnder(root, V1);
    const error = await setLimits(paths, {
      memory: 300,
      memory_swap: 400,
      cpu_shares: 512,
      cpuset_cpus: "1",
      blkio_throttle_read_bps_device: "8:0 10\n8:16 20",
    }).then(() => undefined, (e) => e);
    assert(error instanceof CgroupLimitError, String(error));
    assertEquals(error.field, "cgroups.cpuset_cpus");
    assertEquals(
      error.message,
      `cgroups.cpuset_cpus: cannot open \`${root}/cg/cpuset/c/cpuset.cpus\`: ${error.errnoName}`,
    );
    assertEquals(error.cleanupErrors, []);
    const read = (path: string) => Deno.readTextFileSync(`${root}${path}`);
    assertEquals(read("/cg/memory/c/memory.limit_in_bytes"), "100\n");
    assertEquals(read("/cg/memory/c/memory.memsw.limit_in_bytes"), "200\n");
    assertEquals(read("/cg/cpu/c/cpu.shares"), "1024\n");
    // blkio comes after cpuset: never written, so nothing to restore.
    assertEquals(read("/cg/blkio/c/blkio.throttle.read_bps_device"), "8:0 5\n");
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test("a refused entry of a list restores the entries written before it", async () => {
  const root = fakeTree({
    ...V1_FILES,
    "/cg/blkio/c/blkio.throttle.read_bps_device": "8:0 5\n",
  });
  Deno.symlinkSync("/proc/sys/kernel/ostype", `${root}/cg/blkio/c/blkio.throttle.write_bps_device`);
  try {
    const paths = pathsUnder(root, V1);
    await setLimits(paths, {
      blkio_throttle_read_bps_device: "8:0 10\n8:16 20",
      blkio_throttle_write_bps_device: "8:0 10",
    }).then(() => assert(false, "must fail"), (e) => assert(e instanceof CgroupLimitError));
    // The restore is written over the new entries: 8:0 back to 5, 8:16 removed (0).
    assertEquals(
      Deno.readTextFileSync(`${root}/cg/blkio/c/blkio.throttle.read_bps_device`),
      "8:0 5\n8:16 0\n",
    );
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test("applyLimits() writes synchronously, and without rollback reads no old value", () => {
  const root = fakeTree({
    ...V1_FILES,
    "/cg/cpu/c/cpu.shares": "1024\n",
    "/cg/pids/c/pids.max": "max\n",
  });
  Deno.symlinkSync("/proc/sys/kernel/ostype", `${root}/cg/pids/c/pids.max.ro`);
  try {
    const paths = pathsUnder(root, V1);
    applyLimits(paths, { cpu_shares: 512, pids_limit: 3 }, { rollback: false });
    const read = (path: string) => Deno.readTextFileSync(`${root}${path}`);
    assertEquals([read("/cg/cpu/c/cpu.shares"), read("/cg/pids/c/pids.max")], ["512\n", "3\n"]);
    // Without rollback a refusal leaves what was written (a new cgroup is removed anyway).
    Deno.removeSync(`${root}/cg/pids/c/pids.max`);
    Deno.renameSync(`${root}/cg/pids/c/pids.max.ro`, `${root}/cg/pids/c/pids.max`);
    assertThrows(
      () => applyLimits(paths, { cpu_shares: 256, pids_limit: 4 }, { rollback: false }),
      CgroupLimitError,
    );
    assertEquals(read("/cg/cpu/c/cpu.shares"), "256\n");
    // With it (the default) the old shares come back.
    assertThrows(() => applyLimits(paths, { cpu_shares: 128, pids_limit: 4 }), CgroupLimitError);
    assertEquals(read("/cg/cpu/c/cpu.shares"), "256\n");
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test("setLimits() writes nothing when the plan has an issue", async () => {
  const root = fakeTree(V1_FILES);
  try {
    const paths = pathsUnder(root, { memory: V1.memory });
    await setLimits(paths, { memory: 100, pids_limit: 3 }).then(
      () => assert(false, "must fail"),
      (e) => assert(e instanceof ConfigError),
    );
    assertEquals(
      Deno.readTextFileSync(`${root}/cg/memory/c/memory.limit_in_bytes`),
      UNLIMITED,
    );
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test("CgroupLimitError names the field, the value, the file and the errno", () => {
  const error = new CgroupLimitError(
    { field: "cgroups.cpuset_cpus", file: "/sys/fs/cgroup/cpuset/c/cpuset.cpus", value: "9-12" },
    22,
  );
  assertEquals(
    error.message,
    "cgroups.cpuset_cpus: the kernel refused `9-12` for cpuset.cpus: EINVAL",
  );
  assertEquals([error.code, error.errnoName, error.op], ["SystemError", "EINVAL", "write"]);
  assertThrows(() => {
    throw error;
  }, CgroupLimitError);
});
