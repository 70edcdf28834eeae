/**
 * A container's life: its status from creation to destruction, its state
 * file (atomic, readable from another process, never fooled by a recycled
 * pid), its processes, signals, a restart, a container that shares the
 * host's pid namespace, and what destroy() removes.
 */
import { assert, assertEquals, assertNotEquals } from "../_assert.ts";
import { ContainerError } from "../../mod.ts";
import {
  assertNoLeftovers,
  integration,
  startSleeper,
  TEST_CGROUP_PARENT,
  testCgroups,
  testConfig,
  testFactory,
  uniqueId,
} from "../_helpers.ts";
import {
  fixtureCommand,
  isDead,
  namespaceInodes,
  procStat,
  readUntil,
  waitUntil,
} from "./_host.ts";

const quiet = { stdin: "null", stdout: "null", stderr: "null" } as const;

/** Every cgroup hierarchy mounted under /sys/fs/cgroup (cpu, memory, ..., unified). */
function hierarchies(): string[] {
  return [...Deno.readDirSync("/sys/fs/cgroup")].map((e) => e.name).sort();
}

function exists(path: string): boolean {
  try {
    Deno.lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Loads a container in another Deno process and returns what it printed (one JSON per line). */
async function loadElsewhere(id: string, signal?: string): Promise<Record<string, unknown>[]> {
  const factory = await testFactory();
  const output = await fixtureCommand(
    "./_load_child.ts",
    [factory.root, id, ...(signal ? [signal] : [])],
  ).output();
  const stdout = new TextDecoder().decode(output.stdout);
  assertEquals(output.code, 0, new TextDecoder().decode(output.stderr));
  return stdout.trim().split("\n").map((line) => JSON.parse(line));
}

Deno.test({
  name: "status() goes from stopped to running to stopped to destroyed",
  ...integration,
  async fn() {
    const factory = await testFactory();
    const container = await factory.create(uniqueId("life"), testConfig());
    assertEquals(container.status(), "stopped");
    assertEquals(container.state().init_process_pid, 0);
    assertEquals(container.processes(), []);
    const proc = await container.start({
      args: ["sh", "-c", "read line; exit 7"],
      stdin: "piped",
      stdout: "null",
      stderr: "null",
    });
    assertEquals(container.status(), "running");
    assertEquals(container.state().init_process_pid, proc.pid);
    await proc.stdin!.close();
    assertEquals((await proc.wait()).code, 7);
    assertEquals(container.status(), "stopped");
    await container.destroy();
    assertEquals(container.status(), "destroyed");
    // A destroyed container is gone for good; destroying it again does nothing.
    await container.destroy();
    try {
      container.state();
      throw new Error("state() should have failed");
    } catch (error) {
      assert(error instanceof ContainerError, String(error));
      assertEquals(error.code, "ContainerNotExists");
    }
    try {
      await factory.load(container.id);
      throw new Error("load() should have failed");
    } catch (error) {
      assert(error instanceof ContainerError, String(error));
      assertEquals(error.code, "ContainerNotExists");
    }
    assertNoLeftovers();
  },
});

Deno.test({
  name: "state.json is always whole while it is rewritten",
  ...integration,
  async fn() {
    const factory = await testFactory();
    const container = await factory.create(uniqueId("atomic"), testConfig());
    const path = `${factory.root}/${container.id}/state.json`;
    let reads = 0;
    let running = true;
    const failures: string[] = [];
    // Deno's file reads run on other threads, so they race the (synchronous) writes for real.
    const reader = (async () => {
      while (running) {
        try {
          const state = JSON.parse(await Deno.readTextFile(path));
          if (state.id !== container.id) failures.push(`wrong id ${state.id}`);
          reads++;
        } catch (error) {
          failures.push(String(error));
        }
      }
    })();
    try {
      // A start writes the state as soon as the init's pid is known, and a
      // failed start's undo writes it back: two rewrites per round.
      for (let round = 0; round < 40; round++) {
        try {
          await container.start({ args: ["/no/such/program"], ...quiet });
          throw new Error("start() should have failed");
        } catch (error) {
          assert(error instanceof ContainerError && error.code === "SystemError", String(error));
        }
      }
    } finally {
      running = false;
      await reader;
    }
    assertEquals(failures, []);
    assert(reads > 20, `only ${reads} reads raced the writes`);
    // No temporary file was left next to it.
    assertEquals([...Deno.readDirSync(`${factory.root}/${container.id}`)].map((e) => e.name), [
      "state.json",
    ]);
    await container.destroy();
    assertNoLeftovers();
  },
});

Deno.test({
  name: "load() in another process sees a running container and its processes",
  ...integration,
  async fn() {
    const sleeper = await startSleeper();
    try {
      const joined = await sleeper.container.start({
        args: ["/bin/probe", "sleep", "0"],
        ...quiet,
      });
      try {
        const [seen] = await loadElsewhere(sleeper.container.id);
        assertEquals(seen!.status, "running");
        assertEquals(seen!.initPid, sleeper.pid);
        assertEquals(
          (seen!.processes as number[]).sort(),
          [sleeper.pid, joined.pid].sort(),
        );
      } finally {
        joined.signal("SIGKILL");
        await joined.wait();
      }
    } finally {
      await sleeper.stop();
    }
    const [gone] = await loadElsewhere(uniqueId("missing"));
    assertEquals(gone!.code, "ContainerNotExists");
    assertNoLeftovers();
  },
});

Deno.test({
  name: "signal() from another process reaches the container's init",
  ...integration,
  async fn() {
    const factory = await testFactory();
    const container = await factory.create(uniqueId("signal"), testConfig());
    const init = await container.start({
      args: ["/bin/probe", "trap", "10", "15"],
      stdin: "null",
      stdout: "piped",
      stderr: "null",
    });
    const reader = init.stdout!.getReader();
    try {
      await readUntil(reader, (text) => text.includes("ready\n"));
      const lines = await loadElsewhere(container.id, "SIGUSR1");
      assertEquals(lines[1], { signalled: "SIGUSR1" });
      await readUntil(reader, (text) => text.includes("signal 10\n"));
      // SIGTERM ends `probe trap` with status 0.
      await loadElsewhere(container.id, "SIGTERM");
      for (let r = await reader.read(); !r.done; r = await reader.read());
      assertEquals(await init.wait(), { success: true, code: 0, signal: null });
    } finally {
      reader.releaseLock();
      if (container.status() === "running") init.signal("SIGKILL");
      await init.wait();
      await container.destroy();
    }
    assertNoLeftovers();
  },
});

Deno.test({
  name: "signal() sends a signal to the init and refuses once it has exited",
  ...integration,
  async fn() {
    const factory = await testFactory();
    const container = await factory.create(uniqueId("signal"), testConfig());
    const init = await container.start({
      args: ["/bin/probe", "trap", "10", "12"],
      stdin: "null",
      stdout: "piped",
      stderr: "null",
    });
    const reader = init.stdout!.getReader();
    try {
      await readUntil(reader, (text) => text.includes("ready\n"));
      container.signal("SIGUSR1");
      container.signal(12); // SIGUSR2, by number
      await readUntil(
        reader,
        (text) => text.includes("signal 10\n") && text.includes("signal 12\n"),
      );
      container.signal("SIGKILL");
      for (let r = await reader.read(); !r.done; r = await reader.read());
      assertEquals(await init.wait(), { success: false, code: 137, signal: "SIGKILL" });
      for (const signal of ["SIGKILL", "SIGTERM"] as const) {
        try {
          container.signal(signal);
          throw new Error("signal() should have failed");
        } catch (error) {
          assert(error instanceof ContainerError, String(error));
          assertEquals(error.code, "ContainerNotRunning");
        }
      }
    } finally {
      reader.releaseLock();
      if (container.status() === "running") init.signal("SIGKILL");
      await init.wait();
      await container.destroy();
    }
    assertNoLeftovers();
  },
});

Deno.test({
  name: "status() does not take a recycled pid for the init",
  ...integration,
  async fn() {
    const factory = await testFactory();
    const container = await factory.create(uniqueId("recycled"), testConfig());
    const path = `${factory.root}/${container.id}/state.json`;
    const original = Deno.readTextFileSync(path);
    // A live process that is not the container's: as if the init's pid had been reused.
    const stranger = new Deno.Command("sleep", { args: ["1000"], stdout: "null", stderr: "null" })
      .spawn();
    try {
      const start = procStat(stranger.pid)!.start;
      const writeState = (startTime: string) => {
        const state = JSON.parse(original);
        state.init_process_pid = stranger.pid;
        state.init_process_start = startTime;
        Deno.writeTextFileSync(path, JSON.stringify(state));
      };
      // The right start time: it is taken for the init (so the check below can fail).
      writeState(start);
      assertEquals(container.status(), "running");
      // Another start time: the pid was recycled, the container is stopped.
      writeState(String(Number(start) - 1));
      assertEquals(container.status(), "stopped");
      assertEquals((await factory.load(container.id)).status(), "stopped");
      try {
        container.signal("SIGKILL");
        throw new Error("signal() should have failed");
      } catch (error) {
        assert(error instanceof ContainerError, String(error));
        assertEquals(error.code, "ContainerNotRunning");
      }
      // Nothing was sent to the stranger.
      assert(!isDead(stranger.pid, start), "signal() killed an unrelated process");
      // destroy() goes ahead and leaves the stranger alone.
      await container.destroy();
      assertEquals(container.status(), "destroyed");
      assert(!isDead(stranger.pid, start), "destroy() killed an unrelated process");
    } finally {
      stranger.kill("SIGKILL");
      await stranger.status;
      if (exists(path)) {
        Deno.writeTextFileSync(path, original);
        await container.destroy();
      }
    }
    assertNoLeftovers();
  },
});

Deno.test({
  name: "processes() lists the init and every joined process",
  ...integration,
  async fn() {
    const sleeper = await startSleeper();
    const { container } = sleeper;
    try {
      assertEquals(container.processes(), [sleeper.pid]);
      const joined = [
        await container.start({ args: ["/bin/probe", "sleep", "0"], ...quiet }),
        await container.start({ args: ["/bin/probe", "sleep", "0"], ...quiet }),
      ];
      const all = [sleeper.pid, ...joined.map((p) => p.pid)].sort((a, b) => a - b);
      assertEquals([...container.processes()].sort((a, b) => a - b), all);
      // The same as the kernel's list for the container's cgroup.
      const devices = container.state().cgroup_paths["devices"]!;
      const procs = Deno.readTextFileSync(`${devices}/cgroup.procs`).trim().split("\n").map(Number);
      assertEquals(procs.sort((a, b) => a - b), all);
      joined[0]!.signal("SIGKILL");
      await joined[0]!.wait();
      assertEquals(
        [...container.processes()].sort((a, b) => a - b),
        [sleeper.pid, joined[1]!.pid].sort((a, b) => a - b),
      );
      joined[1]!.signal("SIGKILL");
      await joined[1]!.wait();
      assertEquals(container.processes(), [sleeper.pid]);
    } finally {
      await sleeper.stop();
    }
    assertNoLeftovers();
  },
});

Deno.test({
  name: "a container in the host's pid namespace takes its forked processes with its init",
  ...integration,
  async fn() {
    const config = testConfig();
    config.namespaces = config.namespaces!.filter((ns) => ns.type !== "NEWPID");
    const factory = await testFactory();
    const container = await factory.create(uniqueId("hostpid"), config);
    const init = await container.start({
      args: ["sh", "-c", "sleep 1000 & exec /bin/probe sleep 0"],
      ...quiet,
    });
    let background = 0;
    let backgroundStart = "";
    try {
      assertEquals(namespaceInodes(init.pid).pid, namespaceInodes(Deno.pid).pid);
      // The shell forks, then the child execs sleep: wait for both steps.
      await waitUntil("the background sleep is in the cgroup", () => {
        const other = container.processes().find((pid) => pid !== init.pid);
        return other !== undefined && procStat(other)?.comm === "sleep";
      });
      background = container.processes().find((pid) => pid !== init.pid)!;
      backgroundStart = procStat(background)!.start;
      assertEquals(Deno.readTextFileSync(`/proc/${background}/comm`).trim(), "sleep");
      init.signal("SIGKILL");
      assertEquals(await init.wait(), { success: false, code: 137, signal: "SIGKILL" });
      // Once wait() returns, nothing of the container runs any more.
      assertEquals(container.processes(), []);
      await waitUntil(
        `the background sleep ${background} is reaped`,
        () => isDead(background, backgroundStart),
      );
      assertEquals(container.status(), "stopped");
    } finally {
      if (container.status() === "running") init.signal("SIGKILL");
      await init.wait();
      await container.destroy();
    }
    assert(isDead(background, backgroundStart));
    assertNoLeftovers();
  },
});

Deno.test({
  name: "destroy() after a host-pid init died without wait() kills what it forked",
  ...integration,
  async fn() {
    const config = testConfig();
    config.namespaces = config.namespaces!.filter((ns) => ns.type !== "NEWPID");
    const factory = await testFactory();
    const container = await factory.create(uniqueId("hostpid"), config);
    const init = await container.start({
      args: ["sh", "-c", "sleep 1000 & exec /bin/probe sleep 0"],
      ...quiet,
    });
    await waitUntil(
      "the background sleep is in the cgroup",
      () => container.processes().length === 2,
    );
    const background = container.processes().find((pid) => pid !== init.pid)!;
    const backgroundStart = procStat(background)!.start;
    // Kill the init from outside the library, and let another handle destroy it.
    Deno.kill(init.pid, "SIGKILL");
    // The library reaps its children in the background, so the init may be gone already.
    await waitUntil("the init is dead", () => (procStat(init.pid)?.state ?? "Z") === "Z");
    const loaded = await factory.load(container.id);
    assertEquals(loaded.status(), "stopped");
    await loaded.destroy();
    assert(
      isDead(background, backgroundStart),
      `background sleep ${background} survived destroy()`,
    );
    assertEquals(loaded.status(), "destroyed");
    // The init is still this process's child to reap.
    assertEquals((await init.wait()).signal, "SIGKILL");
    assertNoLeftovers();
  },
});

Deno.test({
  name: "destroy() removes the container's cgroup on every hierarchy and its state directory",
  ...integration,
  async fn() {
    const factory = await testFactory();
    const id = uniqueId("destroy");
    const container = await factory.create(id, testConfig());
    const init = await container.start({ args: ["/bin/probe", "sleep", "0"], ...quiet });
    const dirs = hierarchies().map((h) => `/sys/fs/cgroup/${h}/${TEST_CGROUP_PARENT}/${id}`);
    try {
      assert(hierarchies().length >= 1);
      for (const dir of dirs) assert(exists(dir), `${dir} was not created`);
      assertEquals(Object.values(container.state().cgroup_paths).sort(), [...dirs].sort());
      // The init sits in each of them.
      const lines = Deno.readTextFileSync(`/proc/${init.pid}/cgroup`).trim().split("\n");
      for (const line of lines) assert(line.endsWith(`:/${TEST_CGROUP_PARENT}/${id}`), line);
      try {
        await container.destroy();
        throw new Error("destroy() of a running container should have failed");
      } catch (error) {
        assert(error instanceof ContainerError, String(error));
        assertEquals(error.code, "ContainerNotStopped");
      }
    } finally {
      init.signal("SIGKILL");
      await init.wait();
    }
    assert(exists(`${factory.root}/${id}`));
    await container.destroy();
    for (const dir of dirs) assert(!exists(dir), `${dir} is left`);
    assertEquals(testCgroups(), []);
    assert(!exists(`${factory.root}/${id}`), "the state directory is left");
    assertNoLeftovers();
  },
});

Deno.test({
  name: "start() after the init exited creates the container afresh, and destroy() still cleans up",
  ...integration,
  async fn() {
    const factory = await testFactory();
    const container = await factory.create(uniqueId("restart"), testConfig());
    try {
      const first = await container.start({ args: ["/bin/probe", "sleep", "0"], ...quiet });
      const firstNs = namespaceInodes(first.pid);
      first.signal("SIGKILL");
      await first.wait();
      assertEquals(container.status(), "stopped");
      const second = await container.start({ args: ["/bin/probe", "sleep", "0"], ...quiet });
      assertEquals(container.status(), "running");
      assertEquals(container.state().init_process_pid, second.pid);
      assertNotEquals(namespaceInodes(second.pid).pid, firstNs.pid);
      assertEquals(container.processes(), [second.pid]);
      // The cgroup parents the first start created are still the container's to remove.
      const parents = hierarchies().map((h) => `/sys/fs/cgroup/${h}/${TEST_CGROUP_PARENT}`);
      const created = container.state().cgroup_created;
      second.signal("SIGKILL");
      await second.wait();
      await container.destroy();
      assertEquals(
        { notRecorded: parents.filter((dir) => !created.includes(dir)), left: testCgroups() },
        { notRecorded: [], left: [] },
      );
      assertNoLeftovers();
    } finally {
      // Whatever a failure above left behind, so that later tests start clean.
      await container.destroy().catch(() => {});
      for (const dir of testCgroups()) {
        try {
          Deno.removeSync(`${dir}/${container.id}`);
        } catch {
          // not there
        }
        try {
          Deno.removeSync(dir);
        } catch {
          // not there, or another container's
        }
      }
    }
  },
});
