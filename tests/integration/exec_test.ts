/**
 * The seed's exec tests (integration/exec_test.go), ported: real containers
 * on the real kernel, checked from inside and from outside.
 */
import { assert, assertEquals, assertMatch, assertNotEquals } from "../_assert.ts";
import { namespaceIds } from "../../mod.ts";
import {
  assertNoLeftovers,
  integration,
  probeReport,
  runContainer,
  startSleeper,
  testConfig,
  testFactory,
  uniqueId,
} from "../_helpers.ts";

Deno.test({
  name: "start() runs ps as PID 1 of a new pid namespace (TestExecPS)",
  ...integration,
  async fn() {
    const result = await runContainer(testConfig(), { args: ["ps"] });
    assertEquals(result.code, 0, result.stderr);
    const lines = result.stdout.trim().split("\n");
    assertEquals(lines.length, 2, result.stdout);
    assertMatch(lines[1]!, /^\s*1\s+root\s+.*\bps$/);
    assertNoLeftovers();
  },
});

Deno.test({
  name: "start() gives the container its own ipc namespace (TestIPCPrivate)",
  ...integration,
  async fn() {
    const report = await probeReport(testConfig());
    assertNotEquals((report.ns as Record<string, number>).ipc, namespaceIds().ipc);
    assertNoLeftovers();
  },
});

Deno.test({
  name: "start() shares the host's ipc namespace when NEWIPC is absent (TestIPCHost)",
  ...integration,
  async fn() {
    const config = testConfig();
    config.namespaces = config.namespaces!.filter((ns) => ns.type !== "NEWIPC");
    const report = await probeReport(config);
    assertEquals((report.ns as Record<string, number>).ipc, namespaceIds().ipc);
    assertNoLeftovers();
  },
});

Deno.test({
  name: "start() joins an ipc namespace by path (TestIPCJoinPath)",
  ...integration,
  async fn() {
    // The seed joined pid 1's; this machine's pid 1 is not ours to touch, so join the test's own (the host's).
    const config = testConfig();
    config.namespaces = config.namespaces!.map((ns) =>
      ns.type === "NEWIPC" ? { type: "NEWIPC", path: `/proc/${Deno.pid}/ns/ipc` } : ns
    );
    const report = await probeReport(config);
    assertEquals((report.ns as Record<string, number>).ipc, namespaceIds().ipc);
    assertNoLeftovers();
  },
});

Deno.test({
  name: "start() fails on a bad namespace path and leaves nothing behind (TestIPCBadPath)",
  ...integration,
  async fn() {
    const config = testConfig();
    config.namespaces = config.namespaces!.map((ns) =>
      ns.type === "NEWIPC" ? { type: "NEWIPC", path: "/proc/1/ns/ipcc" } : ns
    );
    const factory = await testFactory();
    const container = await factory.create(uniqueId(), config);
    try {
      await container.start({ args: ["true"] });
      throw new Error("start() should have failed");
    } catch (error) {
      assertMatch(
        String(error),
        /namespaces\[2\]\.path: Cannot open `\/proc\/1\/ns\/ipcc`: ENOENT/,
      );
    }
    assertEquals(container.status(), "stopped");
    await container.destroy();
    assertNoLeftovers();
  },
});

Deno.test({
  name: "start() applies rlimits (TestRlimit)",
  ...integration,
  async fn() {
    const result = await runContainer(testConfig(), { args: ["/bin/sh", "-c", "ulimit -n"] });
    assertEquals(result.stdout.trim(), "1025");
    assertNoLeftovers();
  },
});

Deno.test({
  name: "start() on a running container joins its pid namespace (TestEnter)",
  ...integration,
  async fn() {
    const sleeper = await startSleeper();
    try {
      const joined = await sleeper.container.start({
        args: ["ps", "-o", "pid,comm"],
        stdout: "piped",
      });
      const output = await joined.output();
      const lines = new TextDecoder().decode(output.stdout).trim().split("\n").slice(1).map((l) =>
        l.trim()
      );
      assertEquals(lines.length, 2, lines.join("\n"));
      assertMatch(lines[0]!, /^1 probe$/);
      const processes = sleeper.container.processes();
      assert(processes.includes(sleeper.pid), `${processes} lacks ${sleeper.pid}`);
    } finally {
      await sleeper.stop();
    }
    assertNoLeftovers();
  },
});

Deno.test({
  name: "start() passes the environment and HOME from passwd (TestProcessEnv)",
  ...integration,
  async fn() {
    const result = await runContainer(testConfig(), {
      args: ["/bin/probe", "env"],
      env: ["PATH=/usr/bin:/bin", "HOSTNAME=integration", "TERM=xterm", "FOO=BAR"],
    });
    const env = result.stdout.trim().split("\n");
    assert(env.includes("FOO=BAR"), env.join(" "));
    assert(env.includes("HOME=/root"), env.join(" "));
    assertNoLeftovers();
  },
});

Deno.test({
  name: "state() records the host's ipc namespace when NEWIPC is absent (TestContainerState)",
  ...integration,
  async fn() {
    const config = testConfig();
    config.namespaces = config.namespaces!.filter((ns) => ns.type !== "NEWIPC");
    const sleeper = await startSleeper(config);
    try {
      const state = sleeper.container.state();
      assertEquals(state.init_process_pid, sleeper.pid);
      const ipcPath = state.namespace_paths.NEWIPC!;
      assertEquals(Deno.statSync(ipcPath).ino, Deno.statSync("/proc/self/ns/ipc").ino);
      assertNotEquals(
        Deno.statSync(state.namespace_paths.NEWPID!).ino,
        Deno.statSync("/proc/self/ns/pid").ino,
      );
    } finally {
      await sleeper.stop();
    }
    assertNoLeftovers();
  },
});

Deno.test({
  name: "start() sets system properties (TestSystemProperties)",
  ...integration,
  async fn() {
    const result = await runContainer(
      testConfig({ system_properties: { "kernel.shmmni": "8192" } }),
      {
        args: ["cat", "/proc/sys/kernel/shmmni"],
      },
    );
    assertEquals(result.stdout.trim(), "8192");
    assertNoLeftovers();
  },
});
