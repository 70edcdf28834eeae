/**
 * Containers with resource limits, as users drive them through the
 * library: limits from the config enforced by the kernel, set() on a
 * running container, pause()/resume(), stats() and notifyOOM(), and the
 * refusals that leave nothing behind. Checked from outside through the
 * cgroup files and /proc, and from inside through what the processes meet.
 */
import { assert, assertEquals, assertMatch, assertNotEquals } from "../_assert.ts";
import {
  CgroupLimitError,
  type CgroupLimits,
  ConfigError,
  type Container,
  ContainerError,
  type ContainerProcess,
} from "../../mod.ts";
import {
  assertNoLeftovers,
  integration,
  runContainer,
  startSleeper,
  testConfig,
  testFactory,
  uniqueId,
} from "../_helpers.ts";
import { expectStartFailure, loopDevice, procStat, waitUntil } from "./_host.ts";

const MiB = 1024 * 1024;
const read = (path: string) => Deno.readTextFileSync(path).trim();
const decoder = new TextDecoder();

/** The error `fn` rejects with, checked to be a `type`; fails when it resolves. */
async function rejected<E extends Error>(
  fn: () => Promise<unknown>,
  type: abstract new (...args: never[]) => E,
): Promise<E> {
  try {
    await fn();
  } catch (error) {
    assert(error instanceof type, `expected a ${type.name}, got ${error}`);
    return error;
  }
  throw new Error(`expected a ${type.name}, but it resolved`);
}

/** The test config with these cgroup fields set. */
function limited(cgroups: CgroupLimits) {
  const base = testConfig();
  return testConfig({ cgroups: { ...base.cgroups, ...cgroups } });
}

/** A cgroup file of a container, by subsystem. */
function cgroupFile(container: Container, subsystem: string, file: string): string {
  return read(`${container.state().cgroup_paths[subsystem]}/${file}`);
}

/** Host pids of every process of the container. */
function pidsOf(container: Container): number[] {
  return container.processes();
}

/** Starts a container running `script` in sh; stdin piped so the test decides when it goes on. */
async function startScript(
  cgroups: CgroupLimits,
  script: string,
): Promise<{ container: Container; process: ContainerProcess; stop: () => Promise<void> }> {
  const factory = await testFactory();
  const container = await factory.create(uniqueId("cg"), limited(cgroups));
  const process = await container.start({
    args: ["/bin/sh", "-c", script],
    stdin: "piped",
    stdout: "null",
    stderr: "piped",
  });
  return {
    container,
    process,
    stop: async () => {
      try {
        process.signal("SIGKILL");
      } catch {
        // already exited
      }
      await process.output().catch(() => undefined);
      await container.destroy();
    },
  };
}

Deno.test({
  name: "pause() freezes every process of the container and resume() lets them go on (TestFreeze)",
  ...integration,
  async fn() {
    const { container, stop } = await startSleeper(
      testConfig(),
      ["/bin/sh", "-c", "sleep 1000 & sleep 1000 & wait"],
    );
    try {
      await waitUntil("three processes", () => pidsOf(container).length === 3);
      await container.pause();
      assertEquals(container.status(), "paused");
      assertEquals(cgroupFile(container, "freezer", "freezer.state"), "FROZEN");
      const pids = pidsOf(container);
      assertEquals(pids.length, 3);
      // Seen from outside, each frozen task sleeps uninterruptibly (D), whatever it was doing.
      assertEquals(pids.map((pid) => procStat(pid)?.state), ["D", "D", "D"]);
      const again = await rejected(() => container.pause(), ContainerError);
      assertEquals(again.code, "ContainerPaused");
      const start = await rejected(() => container.start({ args: ["true"] }), ContainerError);
      assertEquals(start.code, "ContainerPaused");

      await container.resume();
      assertEquals(container.status(), "running");
      assertEquals(cgroupFile(container, "freezer", "freezer.state"), "THAWED");
      const notPaused = await rejected(() => container.resume(), ContainerError);
      assertEquals(notPaused.code, "ContainerNotRunning");
      // Thawed, the container runs a joined process again.
      const joined = await container.start({ args: ["true"], stdout: "null", stderr: "null" });
      assertEquals((await joined.wait()).code, 0);
    } finally {
      // A frozen process takes its SIGKILL only once thawed.
      if (container.status() === "paused") await container.resume();
      await stop();
    }
    assertNoLeftovers();
  },
});

Deno.test({
  name: "pause() and resume() of a stopped container say it is not running",
  ...integration,
  async fn() {
    const factory = await testFactory();
    const container = await factory.create(uniqueId("cg"), testConfig());
    try {
      assertEquals(
        (await rejected(() => container.pause(), ContainerError)).code,
        "ContainerNotRunning",
      );
      assertEquals(
        (await rejected(() => container.resume(), ContainerError)).code,
        "ContainerNotRunning",
      );
      assertEquals(
        (await rejected(() => container.set({ memory: 64 * MiB }), ContainerError)).code,
        "ContainerNotRunning",
      );
    } finally {
      await container.destroy();
    }
    assertNoLeftovers();
  },
});

Deno.test({
  name:
    "cpu_shares of 1 fails the start with the seed's message and leaves nothing (TestCpuShares)",
  ...integration,
  async fn() {
    const error = await expectStartFailure(limited({ cpu_shares: 1 }), { args: ["true"] });
    assert(error instanceof CgroupLimitError, String(error));
    assertEquals(error.message, "cgroups.cpu_shares: The minimum allowed cpu-shares is 2");
    assertNoLeftovers();
  },
});

Deno.test({
  name: "a cpuset that does not exist fails the start naming the field and the kernel's answer",
  ...integration,
  async fn() {
    const error = await expectStartFailure(limited({ cpuset_cpus: "60-63" }), { args: ["true"] });
    assert(error instanceof CgroupLimitError, String(error));
    assertEquals(error.field, "cgroups.cpuset_cpus");
    assertMatch(
      error.message,
      /^cgroups\.cpuset_cpus: the kernel refused `60-63` for cpuset\.cpus: E[A-Z]+$/,
    );
    assertNoLeftovers();
  },
});

Deno.test({
  name: "a blkio weight the host cannot take is refused before anything is made",
  ...integration,
  async fn() {
    const error = await expectStartFailure(limited({ blkio_weight: 5000 }), { args: ["true"] });
    assertMatch(error.message, /cgroups\.blkio_weight/);
    assertNoLeftovers();
  },
});

Deno.test({
  name: "memory: a process allocating past the limit is OOM-killed and notifyOOM() sees the event",
  ...integration,
  async fn() {
    // No swap beyond the limit: memory+swap equals memory.
    const { container, process, stop } = await startScript(
      { memory: 16 * MiB, memory_swap: 16 * MiB },
      `read go; x=1; while :; do x="$x$x"; done`,
    );
    try {
      assertEquals(cgroupFile(container, "memory", "memory.limit_in_bytes"), String(16 * MiB));
      const events = container.notifyOOM();
      try {
        const next = events.next();
        const writer = process.stdin!.getWriter();
        await writer.write(new TextEncoder().encode("go\n"));
        await writer.close();
        const status = await process.wait();
        assertEquals(status.signal, "SIGKILL");
        const event = await next;
        assertEquals(event.done, false);
        assert(event.value!.count >= 1);
        assertMatch(cgroupFile(container, "memory", "memory.oom_control"), /oom_kill [1-9]/);
      } finally {
        await events.close();
      }
    } finally {
      await stop();
    }
    assertNoLeftovers();
  },
});

Deno.test({
  name: "pids_limit stops a fork bomb in the container at the limit",
  ...integration,
  async fn() {
    const { container, stop } = await startScript(
      { pids_limit: 10 },
      `i=0; while [ $i -lt 30 ]; do sleep 1000 & i=$((i+1)); done; echo done >&2; wait`,
    );
    try {
      assertEquals(cgroupFile(container, "pids", "pids.max"), "10");
      await waitUntil(
        "a fork is refused",
        () => Number(/max (\d+)/.exec(cgroupFile(container, "pids", "pids.events"))?.[1]) > 0,
        10000,
      );
      assert(Number(cgroupFile(container, "pids", "pids.current")) <= 10);
      assert(pidsOf(container).length <= 10);
    } finally {
      await stop();
    }
    assertNoLeftovers();
  },
});

Deno.test({
  name: "cpuset_cpus pins the container's processes (Cpus_allowed_list in /proc)",
  ignore: integration.ignore || navigator.hardwareConcurrency < 2,
  async fn() {
    const { container, pid, stop } = await startSleeper(limited({ cpuset_cpus: "1" }));
    try {
      assertEquals(/Cpus_allowed_list:\s*(\S+)/.exec(read(`/proc/${pid}/status`))?.[1], "1");
      assertEquals(cgroupFile(container, "cpuset", "cpuset.cpus"), "1");
      // Memory nodes were inherited from the parent, as the seed did.
      assertNotEquals(cgroupFile(container, "cpuset", "cpuset.mems"), "");
    } finally {
      await stop();
    }
    assertNoLeftovers();
  },
});

Deno.test({
  name: "blkio weight and a read throttle land in the container's blkio files",
  ...integration,
  async fn() {
    using loop = loopDevice();
    const { container, stop } = await startSleeper(
      limited({ blkio_weight: 300, blkio_throttle_read_bps_device: `${loop.number} 1048576` }),
    );
    try {
      const blkio = container.state().cgroup_paths["blkio"]!;
      const weightFile = ["blkio.weight", "blkio.bfq.weight"].find((f) => {
        try {
          return Deno.statSync(`${blkio}/${f}`).isFile;
        } catch {
          return false;
        }
      });
      assert(weightFile !== undefined);
      assertMatch(read(`${blkio}/${weightFile}`), /(^|\s)300$/);
      assertEquals(read(`${blkio}/blkio.throttle.read_bps_device`), `${loop.number} 1048576`);
    } finally {
      await stop();
    }
    assertNoLeftovers();
  },
});

Deno.test({
  name: "set() changes the limits of a running container and records them in its state",
  ...integration,
  async fn() {
    const { container, stop } = await startSleeper(limited({ memory: 64 * MiB, pids_limit: 20 }));
    try {
      await container.set({ memory: 32 * MiB, cpu_shares: 512, pids_limit: 15 });
      assertEquals(cgroupFile(container, "memory", "memory.limit_in_bytes"), String(32 * MiB));
      assertEquals(cgroupFile(container, "cpu", "cpu.shares"), "512");
      assertEquals(cgroupFile(container, "pids", "pids.max"), "15");
      const recorded = container.state().config as { cgroups: Record<string, unknown> };
      assertEquals(
        [recorded.cgroups.memory, recorded.cgroups.cpu_shares, recorded.cgroups.pids_limit],
        [32 * MiB, 512, 15],
      );
      assertEquals(container.config.cgroups.memory, 32 * MiB);
      // Loaded again, the container has the new config.
      const loaded = await (await testFactory()).load(container.id);
      assertEquals(loaded.config.cgroups.pids_limit, 15);

      const notALimit = await rejected(
        () => container.set({ name: "x" } as unknown as CgroupLimits),
        ConfigError,
      );
      assertEquals(notALimit.issues[0]!.path, "cgroups.name");
      const bad = await rejected(() => container.set({ pids_limit: -5 }), ConfigError);
      assertEquals(bad.issues[0]!.path, "cgroups.pids_limit");
    } finally {
      await stop();
    }
    assertNoLeftovers();
  },
});

Deno.test({
  name: "a failed set() leaves the old limits in force and the recorded config unchanged",
  ...integration,
  async fn() {
    const { container, stop } = await startSleeper(limited({ memory: 64 * MiB, cpu_shares: 256 }));
    try {
      const before = container.state().config;
      const error = await rejected(
        () => container.set({ memory: 48 * MiB, cpu_shares: 300, cpuset_cpus: "60-63" }),
        CgroupLimitError,
      );
      assertEquals(error.field, "cgroups.cpuset_cpus");
      assertEquals(cgroupFile(container, "memory", "memory.limit_in_bytes"), String(64 * MiB));
      assertEquals(cgroupFile(container, "cpu", "cpu.shares"), "256");
      assertEquals(container.state().config, before);
      assertEquals(container.config.cgroups.memory, 64 * MiB);
    } finally {
      await stop();
    }
    assertNoLeftovers();
  },
});

Deno.test({
  name: "set() of a memory limit below the container's usage is refused with the kernel's answer",
  ...integration,
  async fn() {
    // 8 MiB held by the shell, no swap to push it to: the kernel cannot go below it.
    const { container, process, stop } = await startScript(
      { memory: 64 * MiB, memory_swap: 64 * MiB },
      `x=12345678; i=0; while [ $i -lt 20 ]; do x="$x$x"; i=$((i+1)); done; echo ready >&2; read go`,
    );
    try {
      const reader = process.stderr!.getReader();
      let seen = "";
      while (!seen.includes("ready")) {
        const { value, done } = await reader.read();
        if (done) break;
        seen += decoder.decode(value);
      }
      reader.releaseLock();
      assertMatch(seen, /ready/);
      const error = await rejected(
        () => container.set({ memory: 2 * MiB, memory_swap: 2 * MiB }),
        CgroupLimitError,
      );
      assertEquals(error.field, "cgroups.memory");
      assertMatch(error.message, /memory\.limit_in_bytes: EBUSY$/);
      assertEquals(cgroupFile(container, "memory", "memory.limit_in_bytes"), String(64 * MiB));
      assertEquals(
        cgroupFile(container, "memory", "memory.memsw.limit_in_bytes"),
        String(64 * MiB),
      );
    } finally {
      await stop();
    }
    assertNoLeftovers();
  },
});

Deno.test({
  name: "stats() reports the container's CPU, memory, limits and pids",
  ...integration,
  async fn() {
    const { container, stop } = await startSleeper(
      limited({ memory: 64 * MiB, pids_limit: 50 }),
      ["/bin/sh", "-c", "i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; sleep 1000 & wait"],
    );
    try {
      await waitUntil("the loop ends", () => pidsOf(container).length === 2, 20000);
      const stats = container.stats();
      assert(stats.cpu_stats.cpu_usage.total_usage > 0);
      assertEquals(stats.cpu_stats.cpu_usage.percpu_usage.length, navigator.hardwareConcurrency);
      assertEquals(
        stats.cpu_stats.cpu_usage.percpu_usage.reduce((a, b) => a + b, 0),
        stats.cpu_stats.cpu_usage.total_usage,
      );
      assert(stats.memory_stats.usage.usage > 0);
      assert(stats.memory_stats.usage.max_usage >= stats.memory_stats.usage.usage);
      assertEquals(stats.memory_stats.usage.limit, 64 * MiB);
      assert("rss" in stats.memory_stats.stats || "anon" in stats.memory_stats.stats);
      assertEquals(stats.pids_stats, { current: 2, limit: 50 });
      assertEquals(stats.interfaces, []);
      // A collector for polling reads the same figures through descriptors it keeps.
      {
        using collector = container.statsCollector();
        assertEquals(collector.collect().pids_stats, { current: 2, limit: 50 });
        assertEquals(collector.collect().memory_stats.usage.limit, 64 * MiB);
      }
      assertEquals(
        Number(cgroupFile(container, "memory", "memory.limit_in_bytes")),
        stats.memory_stats.usage.limit,
      );
    } finally {
      await stop();
    }
    const error = await rejected(
      () => Promise.resolve().then(() => container.stats()),
      ContainerError,
    );
    assertEquals(error.code, "ContainerNotExists");
    assertNoLeftovers();
  },
});

Deno.test({
  name: "a cgroup mount shows the container's own cgroups read-only at /sys/fs/cgroup",
  ...integration,
  async fn() {
    const base = testConfig();
    const config = testConfig({
      cgroups: { ...base.cgroups, memory: 48 * MiB },
      mounts: [...(base.mounts ?? []), {
        source: "cgroup",
        destination: "/sys/fs/cgroup",
        device: "cgroup",
        flags: 0,
      }],
    });
    const result = await runContainer(config, {
      args: [
        "/bin/sh",
        "-c",
        "cat /sys/fs/cgroup/memory/memory.limit_in_bytes; ls /sys/fs/cgroup/memory/ | grep -c '^nsinit-test' ; " +
        "grep ' /sys/fs/cgroup' /proc/self/mountinfo | cut -d' ' -f5,6; " +
        "echo 1 > /sys/fs/cgroup/memory/memory.limit_in_bytes || echo refused; " +
        "mkdir /sys/fs/cgroup/x || echo refused",
      ],
    });
    const out = result.stdout.trim().split("\n");
    assertEquals(out[0], String(48 * MiB), result.stderr);
    // The container's own directory, not the host's root: no test parent inside.
    assertEquals(out[1], "0");
    const mounts = out.filter((line) => line.startsWith("/sys/fs/cgroup"));
    assert(mounts.some((line) => line.startsWith("/sys/fs/cgroup/memory ro,")), out.join("\n"));
    assert(mounts.every((line) => / ro,/.test(line)), out.join("\n"));
    assertEquals(out.slice(-2), ["refused", "refused"]);
    assertNoLeftovers();
  },
});
