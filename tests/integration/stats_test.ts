/**
 * Statistics of a real cgroup set on this machine's v1 hierarchies (and the
 * v2 mount beside them): a busy shell moves itself into a test cgroup on
 * each, works, then sleeps while the stats are read.
 *
 * @module
 */
import { assert, assertEquals } from "../_assert.ts";
import { childProcesses, isRoot } from "../_helpers.ts";
import { collectStats, StatsCollector } from "../../lib/stats/collect.ts";
import type { Stats } from "../../lib/stats/types.ts";

const NAME = `nsinit-test-stats-${Deno.pid}`;
const ROOT = "/sys/fs/cgroup";
const SUBSYSTEMS = ["cpu", "cpuacct", "memory", "blkio", "pids", "hugetlb"];

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** This machine's hierarchies for each stats subsystem (a combined `cpu,cpuacct` mount counts for both). */
function hierarchies(): Record<string, string> {
  const found: Record<string, string> = {};
  for (const line of Deno.readTextFileSync("/proc/self/mountinfo").split("\n")) {
    const fields = line.split(" ");
    const dash = fields.indexOf("-");
    if (dash < 0) continue;
    if (fields[dash + 1] === "cgroup2") found["unified"] = fields[4]!;
    if (fields[dash + 1] !== "cgroup") continue;
    for (const option of fields[dash + 3]!.split(",")) {
      if (SUBSYSTEMS.includes(option)) found[option] = fields[4]!;
    }
  }
  return found;
}

const mounts = hierarchies();
const hasV1 = ["cpuacct", "memory", "pids"].every((s) => s in mounts);

function leftovers(): string[] {
  return Deno.readTextFileSync("/proc/self/mountinfo").split("\n")
    .map((line) => line.split(" ")[4] ?? "")
    .filter((mount) => mount.startsWith(ROOT))
    .map((mount) => `${mount}/${NAME}`)
    .filter(exists);
}

async function rmdirRetrying(path: string): Promise<void> {
  for (let attempt = 0;; attempt++) {
    try {
      Deno.removeSync(path);
      return;
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return;
      if (attempt >= 20) throw error;
      await new Promise((resolve) => setTimeout(resolve, 10 * (attempt + 1)));
    }
  }
}

Deno.test({
  name: "collectStats() reports plausible numbers for a busy process on the real v1 hierarchies",
  ignore: !isRoot || !hasV1,
  fn: async () => {
    const paths: Record<string, string> = {};
    for (const [subsystem, mount] of Object.entries(mounts)) paths[subsystem] = `${mount}/${NAME}`;
    const dirs = [...new Set(Object.values(paths))];
    for (const dir of dirs) Deno.mkdirSync(dir);
    let child: Deno.ChildProcess | undefined;
    try {
      // The shell enters every hierarchy, burns some CPU, allocates, then waits to be read.
      const enter = dirs.map((dir) => `echo $$ > ${dir}/cgroup.procs || exit 9`).join("\n");
      const work = "i=0; s=''; while [ $i -lt 60000 ]; do i=$((i+1)); s=\"$s.\"; " +
        "[ ${#s} -gt 4000 ] && s=''; done";
      child = new Deno.Command("/bin/sh", {
        args: ["-c", `${enter}\n${work}\necho ready\nexec sleep 60`],
        stdin: "null",
        stdout: "piped",
        stderr: "inherit",
      }).spawn();
      const reader = child.stdout.getReader();
      let output = "";
      while (!output.includes("ready\n")) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`the shell ended early: ${output}`);
        output += new TextDecoder().decode(value);
      }
      reader.releaseLock();
      await new Promise((resolve) => setTimeout(resolve, 50)); // let `exec sleep` settle

      const stats = collectStats(paths);
      checkPlausible(stats, paths);

      using collector = new StatsCollector(paths, { keepOpen: true });
      const first = collector.collect();
      const second = collector.collect();
      checkPlausible(second, paths);
      assert(second.cpu_stats.cpu_usage.total_usage >= first.cpu_stats.cpu_usage.total_usage);

      child.kill("SIGKILL");
      await child.status;
      child = undefined;
      for (const dir of dirs) await rmdirRetrying(dir);
      // The kept descriptors now point at removed cgroups: read as missing, not as errors.
      const gone = collector.collect();
      assertEquals(gone.pids_stats.current, 0);
      assertEquals(gone.memory_stats.stats, {});
    } finally {
      if (child) {
        child.kill("SIGKILL");
        await child.status;
      }
      for (const dir of dirs) await rmdirRetrying(dir);
    }
    assertEquals(leftovers(), [], "test cgroups left behind");
    assertEquals(childProcesses(), [], "child processes left behind");
  },
});

function checkPlausible(stats: Stats, paths: Record<string, string>): void {
  const cpu = stats.cpu_stats.cpu_usage;
  assert(cpu.total_usage > 1e6, `total_usage ${cpu.total_usage} ns`);
  const percpu = cpu.percpu_usage.reduce((sum, n) => sum + n, 0);
  assert(Math.abs(percpu - cpu.total_usage) <= cpu.total_usage * 0.01, `percpu ${percpu}`);
  assert(cpu.percpu_usage.length >= 1, "one value per CPU");
  // Ticks are sampled: user + system is near the total, within a few ticks.
  const ticks = cpu.usage_in_usermode + cpu.usage_in_kernelmode;
  assert(ticks > 0 && ticks <= cpu.total_usage * 1.5 + 5e7, `user+system ${ticks}`);
  assert(stats.cpu_stats.throttling_data.periods >= 0);

  const memory = stats.memory_stats;
  assert(memory.usage.usage > 0, "memory usage");
  assert(memory.usage.max_usage >= memory.usage.usage, "max_usage >= usage");
  assert(memory.usage.limit > 0, "limit");
  for (const key of ["cache", "rss", "mapped_file", "pgfault", "total_rss", "total_cache"]) {
    assert(key in memory.stats, `memory.stat has ${key}`);
  }
  assert(memory.stats["pgfault"]! > 0, "page faults");
  assertEquals(memory.cache, memory.stats["cache"]);
  if (exists(`${paths["memory"]}/memory.memsw.usage_in_bytes`)) {
    assert(memory.swap_usage.usage >= memory.usage.usage, "memsw counts memory plus swap");
  }

  assertEquals(stats.pids_stats, { current: 1, limit: Infinity });
  for (const entry of stats.blkio_stats.io_service_bytes_recursive) {
    assert(entry.major >= 0 && entry.minor >= 0 && entry.value >= 0);
  }
  assertEquals(stats.interfaces, []);
}
