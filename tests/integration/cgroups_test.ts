/**
 * Cgroup limits, update, pause/resume, kill-all and OOM events on this
 * machine's real hierarchies (v1 controllers and the v2 unified mount).
 * Each test makes its own cgroup directories, named
 * `nsinit-test-cg-<pid>-<n>` at the root of every hierarchy, puts a shell
 * started with Deno.Command in them, and removes both in `finally`.
 */
import { assert, assertEquals, assertMatch, assertRejects } from "../_assert.ts";
import { childProcesses, isRoot } from "../_helpers.ts";
import { loopDevice, waitUntil } from "./_host.ts";
import { ConfigError } from "../../lib/errors.ts";
import { cgroupLayout } from "../../lib/cgroups/hierarchies.ts";
import { type CgroupDir, cgroupDirs, cgroupPathsRecord } from "../../lib/cgroups/paths.ts";
import { cgroupPids, createCgroups, removeCgroups } from "../../lib/cgroups/manager.ts";
import { cgroupMode } from "../../lib/cgroups/mode.ts";
import { CgroupLimitError, setLimits } from "../../lib/cgroups/limits.ts";
import { freeze, freezerState, frozen, killAll, thaw } from "../../lib/cgroups/freezer.ts";
import { notifyOom } from "../../lib/cgroups/oom.ts";

const options = { ignore: !isRoot };
const MiB = 1024 * 1024;
const PREFIX = `nsinit-test-cg-${Deno.pid}-`;
let counter = 0;

/** A test cgroup on every hierarchy that binds controllers (and on the unified one). */
interface TestCgroup {
  paths: Record<string, string>;
  dirs: CgroupDir[];
  created: string[];
}

function makeCgroup(only?: (dir: CgroupDir) => boolean): TestCgroup {
  const { hierarchies, initPaths } = cgroupLayout();
  const usable = hierarchies.filter((h) =>
    h.version === 2 || h.subsystems.some((s) => !s.startsWith("name="))
  );
  const dirs = cgroupDirs(usable, initPaths, { parent: "/", name: `${PREFIX}${++counter}` })
    .filter((dir) => only?.(dir) ?? true);
  const { created } = createCgroups(dirs);
  return { paths: cgroupPathsRecord(dirs), dirs, created };
}

/**
 * Kills what runs in the cgroup, collects the child (its stderr too: the
 * pipe closes once every process holding it is dead), removes the cgroup.
 */
async function cleanup(
  cgroup: TestCgroup,
  child?: Deno.ChildProcess,
): Promise<Deno.CommandOutput | undefined> {
  try {
    await killAll(cgroup.paths);
    if (child === undefined) return undefined;
    try {
      child.kill("SIGKILL");
    } catch {
      // already exited
    }
    return await child.output();
  } finally {
    await removeCgroups(cgroup.dirs.map((d) => d.path), cgroup.created);
  }
}

const v1Only = (dir: CgroupDir) => dir.hierarchy.version === 1;
const v2Only = (dir: CgroupDir) => dir.hierarchy.version === 2;

/** Runs `script` in /bin/sh after the shell put itself in every directory of the cgroup. */
function spawnIn(cgroup: TestCgroup, script: string): Deno.ChildProcess {
  const procs = cgroup.dirs.map((d) => `${d.path}/cgroup.procs`);
  const join = `for f in "$@"; do echo $$ > "$f" || exit 99; done;`;
  return new Deno.Command("/bin/sh", {
    args: ["-c", `${join} ${script}`, "sh", ...procs],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
}

/** Waits until the child has joined every directory of the cgroup. */
async function joined(cgroup: TestCgroup, child: Deno.ChildProcess): Promise<void> {
  await waitUntil(
    "the child joins its cgroups",
    () => cgroup.dirs.every((d) => cgroupPids(d.path).includes(child.pid)),
  );
}

/** Resolves with the promise's value, or fails after `ms`. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Timed out after ${ms} ms: ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The error a promise rejects with; fails when it resolves. */
async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error("Expected a rejection");
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const read = (path: string) => Deno.readTextFileSync(path).trim();

/** utime + stime of a process, in clock ticks. */
function cpuTicks(pid: number): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(fields[11]) + Number(fields[12]);
}

const ALLOCATE = `x=1; while :; do x="$x$x"; done`;
const BUSY = `while :; do :; done`;

Deno.test({
  name: "cgroupMode() reads this machine (v1 controllers and a cgroup2 mount) as hybrid",
  ...options,
  fn() {
    assertEquals(cgroupMode(cgroupLayout().hierarchies), "hybrid");
  },
});

Deno.test({
  name:
    "setLimits() enforces memory: a process allocating past it is OOM-killed and the OOM event arrives",
  ...options,
  async fn() {
    const cgroup = makeCgroup();
    const memory = cgroup.paths["memory"]!;
    await setLimits(cgroup.paths, { memory: 32 * MiB });
    assertEquals(read(`${memory}/memory.limit_in_bytes`), String(32 * MiB));
    assertEquals(read(`${memory}/memory.memsw.limit_in_bytes`), String(64 * MiB));
    const events = notifyOom(cgroup.paths);
    const child = spawnIn(cgroup, ALLOCATE);
    try {
      const status = await within(child.status, 20000, "the allocating process dies");
      assertEquals(status.signal, "SIGKILL");
      const next = await within(events.next(), 5000, "an OOM event");
      assertEquals(next.done, false);
      assert(next.value!.count >= 1);
      assertEquals(next.value!.kills, null);
      assertMatch(read(`${memory}/memory.oom_control`), /oom_kill [1-9]/);
    } finally {
      await events.close();
      await cleanup(cgroup, child);
    }
  },
});

Deno.test({
  name: "with oom_kill_disable an OOM process waits, under_oom is reported, and the event arrives",
  ...options,
  async fn() {
    const cgroup = makeCgroup();
    const memory = cgroup.paths["memory"]!;
    await setLimits(cgroup.paths, { memory: 16 * MiB, oom_kill_disable: true });
    assertMatch(read(`${memory}/memory.oom_control`), /oom_kill_disable 1/);
    const events = notifyOom(cgroup.paths);
    const child = spawnIn(cgroup, ALLOCATE);
    try {
      const next = await within(events.next(), 20000, "an OOM event");
      assert(next.value!.count >= 1);
      await waitUntil(
        "under_oom 1",
        () => /under_oom 1/.test(read(`${memory}/memory.oom_control`)),
      );
      const alive = await Promise.race([
        child.status.then(() => false),
        sleep(200).then(() => true),
      ]);
      assert(alive, "the process waits for memory instead of being killed");
    } finally {
      await events.close();
      await cleanup(cgroup, child);
    }
  },
});

Deno.test({
  name: "notifyOom() ends its iteration when the cgroup is removed",
  ...options,
  async fn() {
    const cgroup = makeCgroup();
    const events = notifyOom(cgroup.paths);
    let removed = false;
    try {
      const pending = events.next();
      await cleanup(cgroup);
      removed = true;
      assertEquals(await within(pending, 5000, "the end of the events"), {
        done: true,
        value: undefined,
      });
      assertEquals((await events.next()).done, true);
    } finally {
      await events.close();
      if (!removed) await cleanup(cgroup);
    }
  },
});

Deno.test({
  name: "return() ends a pending wait for OOM events and lets the event loop go",
  ...options,
  async fn() {
    const cgroup = makeCgroup();
    try {
      const events = notifyOom(cgroup.paths);
      const pending = events.next();
      assertEquals(await events.return(), { done: true, value: undefined });
      assertEquals(await within(pending, 1000, "the pending next()"), {
        done: true,
        value: undefined,
      });
      // `for await` with break releases it the same way.
      const again = notifyOom(cgroup.paths);
      const loop = (async () => {
        for await (const _ of again) break;
      })();
      await again.close();
      await within(loop, 1000, "the loop ends");
    } finally {
      await cleanup(cgroup);
    }
  },
});

Deno.test({
  name:
    "setLimits() refuses a memory limit below the usage with the kernel's EBUSY and keeps the old one",
  ...options,
  async fn() {
    const cgroup = makeCgroup();
    const memory = cgroup.paths["memory"]!;
    const before = read(`${memory}/memory.limit_in_bytes`);
    const child = spawnIn(
      cgroup,
      `x=1; i=0; while [ $i -lt 25 ]; do x="$x$x"; i=$((i+1)); done; while :; do sleep 1; done`,
    );
    try {
      await waitUntil(
        "the child holds 32 MiB",
        () => Number(read(`${memory}/memory.usage_in_bytes`)) > 32 * MiB,
        10000,
      );
      const error = await rejection(setLimits(cgroup.paths, { memory: 4 * MiB }));
      assert(error instanceof CgroupLimitError);
      assertEquals(
        error.message,
        "cgroups.memory: the kernel refused `4194304` for memory.limit_in_bytes: EBUSY",
      );
      assertEquals([error.field, error.errnoName], ["cgroups.memory", "EBUSY"]);
      assertEquals(read(`${memory}/memory.limit_in_bytes`), before);
      assertEquals(read(`${memory}/memory.memsw.limit_in_bytes`), before);
    } finally {
      await cleanup(cgroup, child);
    }
  },
});

Deno.test({
  name: "setLimits() raises and lowers memory and memory+swap in an order the kernel accepts",
  ...options,
  async fn() {
    const cgroup = makeCgroup();
    const memory = cgroup.paths["memory"]!;
    const limits = () => [
      Number(read(`${memory}/memory.limit_in_bytes`)) / MiB,
      Number(read(`${memory}/memory.memsw.limit_in_bytes`)) / MiB,
    ];
    try {
      await setLimits(cgroup.paths, { memory: 64 * MiB, memory_swap: 128 * MiB });
      assertEquals(limits(), [64, 128]);
      await setLimits(cgroup.paths, { memory: 256 * MiB, memory_swap: 512 * MiB });
      assertEquals(limits(), [256, 512]);
      await setLimits(cgroup.paths, { memory: 32 * MiB, memory_swap: 48 * MiB });
      assertEquals(limits(), [32, 48]);
      await setLimits(cgroup.paths, { memory: 100 * MiB }); // memory+swap: 2 x memory
      assertEquals(limits(), [100, 200]);
      await setLimits(cgroup.paths, { memory: -1, memory_swap: -1 });
      assertEquals(read(`${memory}/memory.limit_in_bytes`), "9223372036854771712");
      await setLimits(cgroup.paths, { memory_reservation: 16 * MiB });
      assertEquals(read(`${memory}/memory.soft_limit_in_bytes`), String(16 * MiB));
    } finally {
      await cleanup(cgroup);
    }
  },
});

Deno.test({
  name: "a failed setLimits() leaves the old limits in force",
  ...options,
  async fn() {
    const cgroup = makeCgroup();
    const memory = cgroup.paths["memory"]!;
    const cpu = cgroup.paths["cpu"]!;
    try {
      await setLimits(cgroup.paths, { memory: 64 * MiB, cpu_shares: 512 });
      await assertRejects(
        () => setLimits(cgroup.paths, { memory: 128 * MiB, cpu_shares: 256, cpuset_cpus: "9-12" }),
        // CPUs past the last one: ERANGE since Linux 5.x (EINVAL before).
        /^CgroupLimitError: cgroups\.cpuset_cpus: the kernel refused `9-12` for cpuset\.cpus: E(RANGE|INVAL)$/,
      );
      assertEquals(read(`${memory}/memory.limit_in_bytes`), String(64 * MiB));
      assertEquals(read(`${memory}/memory.memsw.limit_in_bytes`), String(128 * MiB));
      assertEquals(read(`${cpu}/cpu.shares`), "512");
      assertEquals(
        read(`${cgroup.paths["cpuset"]}/cpuset.cpus`),
        read("/sys/fs/cgroup/cpuset/cpuset.cpus"),
      );

      await assertRejects(
        () => setLimits(cgroup.paths, { cpu_shares: 256, cpuset_mems: "abc" }),
        /^CgroupLimitError: cgroups\.cpuset_mems: the kernel refused `abc` for cpuset\.mems: EINVAL$/,
      );
      assertEquals(read(`${cpu}/cpu.shares`), "512");
    } finally {
      await cleanup(cgroup);
    }
  },
});

Deno.test({
  name: "cpu_shares=1 is refused with the seed's message and the old shares stay (TestCpuShares)",
  ...options,
  async fn() {
    const cgroup = makeCgroup();
    const cpu = cgroup.paths["cpu"]!;
    try {
      const before = read(`${cpu}/cpu.shares`);
      await assertRejects(
        () => setLimits(cgroup.paths, { cpu_shares: 1 }),
        (e: Error) => e.message === "cgroups.cpu_shares: The minimum allowed cpu-shares is 2",
      );
      assertEquals(read(`${cpu}/cpu.shares`), before);
      await assertRejects(
        () => setLimits(cgroup.paths, { memory: 64 * MiB, cpu_shares: 10_000_000 }),
        (e: Error) => e.message === "cgroups.cpu_shares: The maximum allowed cpu-shares is 262144",
      );
      assertEquals(read(`${cpu}/cpu.shares`), before);
      assertEquals(read(`${cgroup.paths["memory"]}/memory.limit_in_bytes`), "9223372036854771712");
    } finally {
      await cleanup(cgroup);
    }
  },
});

Deno.test({
  name: "a cpu quota throttles a busy process (cpu.stat nr_throttled)",
  ...options,
  async fn() {
    const cgroup = makeCgroup();
    const cpu = cgroup.paths["cpu"]!;
    await setLimits(cgroup.paths, { cpu_quota: 10000, cpu_period: 100000 });
    assertEquals(read(`${cpu}/cpu.cfs_quota_us`), "10000");
    assertEquals(read(`${cpu}/cpu.cfs_period_us`), "100000");
    const child = spawnIn(cgroup, BUSY);
    try {
      await joined(cgroup, child);
      await waitUntil(
        "nr_throttled > 0",
        () => Number(/nr_throttled (\d+)/.exec(read(`${cpu}/cpu.stat`))?.[1]) > 0,
        3000,
      );
    } finally {
      await cleanup(cgroup, child);
    }
  },
});

Deno.test({
  name: "realtime runtime and period are written in an order the kernel accepts",
  ...options,
  async fn() {
    const cgroup = makeCgroup();
    const cpu = cgroup.paths["cpu"]!;
    try {
      await setLimits(cgroup.paths, { cpu_rt_period: 100000, cpu_rt_runtime: 10000 });
      assertEquals([read(`${cpu}/cpu.rt_period_us`), read(`${cpu}/cpu.rt_runtime_us`)], [
        "100000",
        "10000",
      ]);
      await setLimits(cgroup.paths, { cpu_rt_period: 5000, cpu_rt_runtime: 4000 });
      assertEquals([read(`${cpu}/cpu.rt_period_us`), read(`${cpu}/cpu.rt_runtime_us`)], [
        "5000",
        "4000",
      ]);
      await setLimits(cgroup.paths, { cpu_rt_period: 100000, cpu_rt_runtime: 20000 });
      assertEquals([read(`${cpu}/cpu.rt_period_us`), read(`${cpu}/cpu.rt_runtime_us`)], [
        "100000",
        "20000",
      ]);
    } finally {
      await cleanup(cgroup);
    }
  },
});

Deno.test({
  name: "a cpuset pins a running process (Cpus_allowed_list)",
  ignore: !isRoot || navigator.hardwareConcurrency < 2,
  async fn() {
    const cgroup = makeCgroup();
    const child = spawnIn(cgroup, "while :; do sleep 1; done");
    try {
      await joined(cgroup, child);
      await setLimits(cgroup.paths, { cpuset_cpus: "1", cpuset_mems: "0" });
      const allowed = () =>
        /Cpus_allowed_list:\s*(\S+)/.exec(read(`/proc/${child.pid}/status`))?.[1];
      assertEquals(allowed(), "1");
      assertEquals(read(`${cgroup.paths["cpuset"]}/cpuset.mems`), "0");
      await setLimits(cgroup.paths, { cpuset_cpus: "0" });
      assertEquals(allowed(), "0");
    } finally {
      await cleanup(cgroup, child);
    }
  },
});

Deno.test({
  name: "pids_limit stops a fork bomb at the limit",
  ...options,
  async fn() {
    const cgroup = makeCgroup();
    const pids = cgroup.paths["pids"]!;
    await setLimits(cgroup.paths, { pids_limit: 10 });
    assertEquals(read(`${pids}/pids.max`), "10");
    const child = spawnIn(cgroup, `i=0; while [ $i -lt 20 ]; do sleep 5 & i=$((i+1)); done; wait`);
    try {
      await waitUntil(
        "a fork fails",
        () => Number(/max (\d+)/.exec(read(`${pids}/pids.events`))?.[1]) > 0,
        5000,
      );
      assert(Number(read(`${pids}/pids.current`)) <= 10);
      assert(Number(read(`${pids}/pids.peak`)) <= 10);
      await setLimits(cgroup.paths, { pids_limit: -1 });
      assertEquals(read(`${pids}/pids.max`), "max");
    } finally {
      const output = await cleanup(cgroup, child);
      assertMatch(new TextDecoder().decode(output!.stderr), /fork/i);
    }
  },
});

Deno.test({
  name: "blkio weight, per-device weight and throttles are written and read back",
  ...options,
  async fn() {
    using loop = loopDevice();
    const disk = loop.number;
    const cgroup = makeCgroup();
    const blkio = cgroup.paths["blkio"]!;
    try {
      await setLimits(cgroup.paths, {
        blkio_weight: 500,
        blkio_weight_device: `${disk} 300`,
        blkio_throttle_read_bps_device: `${disk} 1048576`,
        blkio_throttle_write_bps_device: `${disk} 2097152`,
        blkio_throttle_read_iops_device: `${disk} 100`,
        blkio_throttle_write_iops_device: `${disk} 200`,
      });
      // CFQ's blkio.weight went with CFQ (Linux 5.0); BFQ's takes its place.
      const weight = [...Deno.readDirSync(blkio)].some((e) => e.name === "blkio.weight")
        ? "blkio.weight"
        : "blkio.bfq.weight";
      assertMatch(read(`${blkio}/${weight}`), /^(default )?500$/);
      assertMatch(read(`${blkio}/${weight}_device`), new RegExp(`^${disk} 300$`, "m"));
      assertEquals(read(`${blkio}/blkio.throttle.read_bps_device`), `${disk} 1048576`);
      assertEquals(read(`${blkio}/blkio.throttle.write_bps_device`), `${disk} 2097152`);
      assertEquals(read(`${blkio}/blkio.throttle.read_iops_device`), `${disk} 100`);
      assertEquals(read(`${blkio}/blkio.throttle.write_iops_device`), `${disk} 200`);
      // A failed update of a list restores each device's old entry.
      await assertRejects(
        () =>
          setLimits(cgroup.paths, {
            blkio_weight_device: `${disk} 400`,
            blkio_throttle_read_bps_device: `${disk} 2097152\n4095:4095 5`,
          }),
        /^CgroupLimitError: cgroups\.blkio_throttle_read_bps_device: the kernel refused `4095:4095 5` for blkio\.throttle\.read_bps_device: E[A-Z]+$/,
      );
      assertMatch(read(`${blkio}/${weight}_device`), new RegExp(`^${disk} 300$`, "m"));
      assertEquals(read(`${blkio}/blkio.throttle.read_bps_device`), `${disk} 1048576`);
      // 0 removes a device's throttle.
      await setLimits(cgroup.paths, { blkio_throttle_read_bps_device: `${disk} 0` });
      assertEquals(read(`${blkio}/blkio.throttle.read_bps_device`), "");
    } finally {
      await cleanup(cgroup);
    }
  },
});

Deno.test({
  name: "freeze() and thaw() pause and resume a real process through the v1 freezer",
  ...options,
  async fn() {
    const cgroup = makeCgroup();
    const child = spawnIn(cgroup, BUSY);
    try {
      await joined(cgroup, child);
      await sleep(50);
      await freeze(cgroup.paths);
      assertEquals(read(`${cgroup.paths["freezer"]}/freezer.state`), "FROZEN");
      assertEquals(frozen(cgroup.paths), true);
      const ticks = cpuTicks(child.pid);
      await sleep(200);
      assertEquals(cpuTicks(child.pid), ticks, "a frozen process gets no CPU time");
      await thaw(cgroup.paths);
      assertEquals(freezerState(cgroup.paths), "THAWED");
      await waitUntil("the process runs again", () => cpuTicks(child.pid) > ticks, 3000);
      // The config's freezer field does the same.
      await setLimits(cgroup.paths, { freezer: "FROZEN" });
      assertEquals(frozen(cgroup.paths), true);
      await setLimits(cgroup.paths, { freezer: "THAWED" });
      assertEquals(frozen(cgroup.paths), false);
    } finally {
      await cleanup(cgroup, child);
    }
  },
});

Deno.test({
  name: "killAll() without cgroup.kill freezes, kills every process and thaws",
  ...options,
  async fn() {
    const cgroup = makeCgroup(v1Only);
    const child = spawnIn(cgroup, `sleep 100 & sleep 100 & wait`);
    try {
      await joined(cgroup, child);
      const memory = cgroup.paths["memory"]!;
      await waitUntil("three processes", () => cgroupPids(memory).length === 3);
      await killAll(cgroup.paths);
      assertEquals(cgroupPids(memory), []);
      assertEquals((await child.status).signal, "SIGKILL");
      assertEquals(freezerState(cgroup.paths), "THAWED");
    } finally {
      await cleanup(cgroup, child);
    }
  },
});

Deno.test({
  name:
    "on the unified mount freeze() waits for frozen 1, thaw() for frozen 0 and killAll() uses cgroup.kill",
  ...options,
  async fn() {
    const cgroup = makeCgroup(v2Only);
    const dir = cgroup.paths["unified"]!;
    const child = spawnIn(cgroup, `sleep 100 & ${BUSY}`);
    try {
      await joined(cgroup, child);
      await freeze(cgroup.paths);
      assertMatch(read(`${dir}/cgroup.events`), /^frozen 1$/m);
      assertEquals(frozen(cgroup.paths), true);
      const ticks = cpuTicks(child.pid);
      await sleep(200);
      assertEquals(cpuTicks(child.pid), ticks, "a frozen process gets no CPU time");
      await thaw(cgroup.paths);
      assertMatch(read(`${dir}/cgroup.events`), /^frozen 0$/m);
      assertEquals(freezerState(cgroup.paths), "THAWED");
      await waitUntil("the process runs again", () => cpuTicks(child.pid) > ticks, 3000);
      await killAll(cgroup.paths);
      assertEquals(cgroupPids(dir), []);
      assertMatch(read(`${dir}/cgroup.events`), /^populated 0$/m);
      assertEquals((await child.status).signal, "SIGKILL");
    } finally {
      await cleanup(cgroup, child);
    }
  },
});

Deno.test({
  name:
    "setLimits() on the unified mount refuses controllers it does not enable, naming each field",
  ...options,
  async fn() {
    const cgroup = makeCgroup(v2Only);
    const dir = cgroup.paths["unified"]!;
    try {
      const error = await rejection(setLimits(cgroup.paths, { memory: 64 * MiB, pids_limit: 10 }));
      assert(error instanceof ConfigError);
      assertEquals(error.issues.map((i) => i.path), ["cgroups.memory", "cgroups.pids_limit"]);
      assertEquals(
        error.issues[0]!.message,
        `No memory cgroup: no v1 hierarchy is mounted and \`memory\` is not in \`${dir}/cgroup.controllers\``,
      );
    } finally {
      await cleanup(cgroup);
    }
  },
});

Deno.test({
  name: "no test cgroup directory and no child process is left",
  ...options,
  fn() {
    // A cgroup directory holding a process cannot be removed: no directory, no process in one.
    const left: string[] = [];
    for (const hierarchy of cgroupLayout().hierarchies) {
      for (const entry of Deno.readDirSync(hierarchy.mountpoint)) {
        if (entry.name.startsWith(PREFIX)) left.push(`${hierarchy.mountpoint}/${entry.name}`);
      }
    }
    assertEquals(left, []);
    assertEquals(childProcesses(), []);
  },
});
