/**
 * The cgroup commands and flags of the nsinit CLI as users run them:
 * `exec` with limit flags and `--cgroup`, then `pause`, `unpause`,
 * `update`, `stats` and `oom` on a running container. Every test ends by
 * checking that no state directory, cgroup or process is left.
 */
import { assert, assertEquals, assertMatch } from "../_assert.ts";
import { integration } from "../_helpers.ts";
import { procStat } from "./_host.ts";
import { CliEnv, lines, type Result } from "./fixtures/nsinit_env.ts";

const MiB = 1024 * 1024;
const read = (path: string) => Deno.readTextFileSync(path).trim();

function cliTest(name: string, fn: (env: CliEnv) => Promise<void>): void {
  Deno.test({
    name,
    ...integration,
    async fn() {
      const env = new CliEnv();
      try {
        await fn(env);
        env.assertClean();
      } finally {
        await env.cleanup();
      }
    },
  });
}

function assertSuccess(result: Result): void {
  assertEquals([result.code, result.stderr], [0, ""], JSON.stringify(result));
}

/** A failure printed as one `nsinit: ` line, exit status 1. */
function assertOneLineError(result: Result, pattern: RegExp): void {
  assertEquals(result.code, 1, JSON.stringify(result));
  const errors = lines(result.stderr);
  assertEquals(errors.length, 1, JSON.stringify(result));
  assertMatch(errors[0]!, /^nsinit: /);
  assertMatch(errors[0]!, pattern);
}

cliTest(
  "exec with limit flags and --cgroup: the container reads its own limits, read-only, at /sys/fs/cgroup",
  async (env) => {
    const result = await env.run([
      "exec",
      "--memory-limit",
      "48m",
      "--memory-swap",
      "-1",
      "--pids-limit",
      "30",
      "--cpushares",
      "512",
      "--cpuset-cpus",
      "0",
      "--cpuset-mems",
      "0",
      "--cgroup",
      "sh",
      "-c",
      "cd /sys/fs/cgroup; cat memory/memory.limit_in_bytes pids/pids.max cpu/cpu.shares " +
      "cpuset/cpuset.cpus; echo 1 > pids/pids.max || echo refused",
    ]);
    assertEquals(result.code, 0, JSON.stringify(result));
    assertEquals(lines(result.stdout), [String(48 * MiB), "30", "512", "0", "refused"]);
    assertMatch(result.stderr, /Read-only file system/);
  },
);

cliTest("exec with a limit the kernel refuses prints one line naming the field", async (env) => {
  assertOneLineError(
    await env.run(["exec", "--cpushares", "1", "true"]),
    /cgroups\.cpu_shares: The minimum allowed cpu-shares is 2$/,
  );
  assertOneLineError(await env.run(["exec", "--memory-limit", "lots", "true"]), /--memory-limit/);
});

cliTest(
  "pause, unpause, update and stats act on a running container",
  async (env) => {
    const first = env.spawn([
      "exec",
      "--id",
      "c",
      "--memory-limit",
      "64m",
      "sh",
      "-c",
      "sleep 1000 & wait",
    ]);
    const state = await env.waitRunning("c");
    const paths = state.cgroup_paths as Record<string, string>;
    const init = state.init_process_pid as number;

    assertSuccess(await env.run(["pause", "--id", "c"]));
    assertEquals(JSON.parse((await env.run(["state", "--id", "c"])).stdout).status, "paused");
    assertEquals(read(`${paths.freezer}/freezer.state`), "FROZEN");
    assertEquals(procStat(init)?.state, "D");
    assertOneLineError(await env.run(["pause", "--id", "c"]), /is already paused/);
    assertSuccess(await env.run(["unpause", "--id", "c"]));
    assertEquals(read(`${paths.freezer}/freezer.state`), "THAWED");
    assertOneLineError(await env.run(["unpause", "--id", "c"]), /is not paused/);

    assertSuccess(
      await env.run(["update", "--id", "c", "--memory-limit", "32m", "--pids-limit", "12"]),
    );
    assertEquals(read(`${paths.memory}/memory.limit_in_bytes`), String(32 * MiB));
    assertEquals(read(`${paths.pids}/pids.max`), "12");
    assertOneLineError(
      await env.run(["update", "--id", "c", "--memory-limit", "16m", "--cpuset-cpus", "60"]),
      /cgroups\.cpuset_cpus: the kernel refused `60` for cpuset\.cpus: E[A-Z]+$/,
    );
    assertEquals(read(`${paths.memory}/memory.limit_in_bytes`), String(32 * MiB));
    assertOneLineError(await env.run(["update", "--id", "c"]), /needs at least one limit flag/);

    // Not a terminal: JSON.
    const stats = await env.run(["stats", "--id", "c"]);
    assertEquals(stats.code, 0, stats.stderr);
    const usage = JSON.parse(stats.stdout);
    assertEquals(usage.memory_stats.usage.limit, 32 * MiB);
    assertEquals(usage.pids_stats, { current: 2, limit: 12 });
    assert(usage.cpu_stats.cpu_usage.total_usage > 0);

    Deno.kill(init, "SIGKILL");
    assertEquals((await first.wait()).code, 137);
  },
);

cliTest("oom prints a line for each OOM event and ends with the container", async (env) => {
  // A child that allocates without end is OOM-killed, again and again, so
  // `oom` sees an event however late it starts listening.
  const first = env.spawn([
    "exec",
    "--id",
    "o",
    "--memory-limit",
    "16m",
    "--memory-swap",
    "16m",
    "sh",
    "-c",
    `while :; do sh -c 'x=1; while :; do x="$x$x"; done'; done`,
  ]);
  const state = await env.waitRunning("o");
  const init = state.init_process_pid as number;
  const oom = env.spawn(["oom", "--id", "o"]);
  await oom.waitFor(/OOM notification received/, 30000);
  assertMatch(lines(oom.stdout)[0]!, /^OOM notification received \(\d+ event/);
  Deno.kill(init, "SIGKILL");
  assertEquals((await first.wait()).code, 137);
  // The container's cgroup is gone: the events end, and so does `oom`.
  const ended = await oom.wait();
  assertEquals([ended.code, ended.stderr], [0, ""], JSON.stringify(ended));
});
