/**
 * The seed's execin tests (integration/execin_test.go), ported, and more on
 * joining a running container: a joined process shares every namespace and
 * cgroup of the init, gets the config's rlimits and its own user,
 * environment, terminal and extra files, and dies with the init.
 */
import { assert, assertEquals, assertMatch, assertNotEquals } from "../_assert.ts";
import {
  ConfigError,
  type Container,
  type ContainerProcess,
  type ProcessOptions,
  SystemError,
} from "../../mod.ts";
import {
  assertNoLeftovers,
  childProcesses,
  integration,
  testConfig,
  testFactory,
  uniqueId,
} from "../_helpers.ts";
import {
  cgroupLines,
  closeFd,
  fdFlags,
  fdsOf,
  namespaceInodes,
  O,
  openFd,
  pipe,
  readFdToEnd,
  readUntil,
  streamText,
  waitUntil,
} from "./_host.ts";

const decoder = new TextDecoder();

/**
 * Runs `fn` with a container whose init is `cat` reading a piped stdin (as
 * in the seed); afterwards closes that stdin, checks `cat` exits 0 (so the
 * init outlived every join) and destroys the container.
 */
async function withCatInit(
  fn: (container: Container, init: ContainerProcess) => Promise<void>,
): Promise<void> {
  const factory = await testFactory();
  const container = await factory.create(uniqueId("execin"), testConfig());
  const init = await container.start({
    args: ["cat"],
    stdin: "piped",
    stdout: "null",
    stderr: "null",
  });
  try {
    await fn(container, init);
    assertEquals(container.status(), "running");
    await init.stdin!.close();
    assertEquals(await init.wait(), { success: true, code: 0, signal: null });
  } finally {
    if (container.status() === "running") init.signal("SIGKILL");
    await init.wait();
    await container.destroy();
  }
}

/** Joins `container` with piped output; returns the exit status and output. */
async function join(
  container: Container,
  options: ProcessOptions,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const proc = await container.start({
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    ...options,
  });
  const output = await proc.output();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

/** `ps -o pid,comm` rows (without the header) as [pid, command]. */
function psRows(text: string): [string, string][] {
  return text.trim().split(/\r?\n/).slice(1).map((line) => {
    const [pid = "", comm = ""] = line.trim().split(/\s+/);
    return [pid, comm];
  });
}

Deno.test({
  name: "start() on a running container joins it and sees the init (TestExecIn)",
  ...integration,
  async fn() {
    await withCatInit(async (container, init) => {
      const result = await join(container, { args: ["ps", "-o", "pid,comm"] });
      assertEquals(result.code, 0, result.stderr);
      const rows = psRows(result.stdout);
      assertEquals(rows.length, 2, result.stdout);
      assertEquals(rows[0], ["1", "cat"]);
      assertEquals(rows[1]![1], "ps");
      assertNotEquals(rows[1]![0], "1");
      assertEquals(container.processes(), [init.pid]);
    });
    assertNoLeftovers();
  },
});

Deno.test({
  name: "a joined process gets the config's rlimits (TestExecInRlimit)",
  ...integration,
  async fn() {
    await withCatInit(async (container) => {
      const result = await join(container, { args: ["sh", "-c", "ulimit -n"] });
      assertEquals(result.stdout.trim(), "1025", result.stderr);
      const report = JSON.parse((await join(container, { args: ["/bin/probe", "report"] })).stdout);
      assertEquals(report.rlimit_nofile, [1025, 1025]);
    });
    assertNoLeftovers();
  },
});

Deno.test({
  name: "a join of a missing binary fails clearly and the init keeps running (TestExecInError)",
  ...integration,
  async fn() {
    await withCatInit(async (container, init) => {
      for (const program of ["there-is-no-such-binary", "/bin/there-is-no-such-binary"]) {
        let error: unknown;
        try {
          await container.start({ args: [program], stdin: "null", stdout: "null", stderr: "null" });
        } catch (caught) {
          error = caught;
        }
        assert(error instanceof SystemError, `expected a SystemError, got ${error}`);
        assertEquals([error.op, error.errnoName], ["exec", "ENOENT"]);
        assert(error.message.includes(program), error.message);
        assertEquals(container.status(), "running");
        assertEquals(container.processes(), [init.pid]);
        // Only the init is a child of this process: the failed join was reaped.
        assertEquals(childProcesses().map((line) => Number(line.split(" ")[0])), [init.pid]);
      }
      // The container still takes joins.
      assertEquals((await join(container, { args: ["true"] })).code, 0);
    });
    assertNoLeftovers();
  },
});

Deno.test({
  name: "a join with a bad user or cwd fails clearly and the init keeps running",
  ...integration,
  async fn() {
    await withCatInit(async (container, init) => {
      try {
        await container.start({ args: ["true"], user: "nosuchuser" });
        throw new Error("start() should have failed");
      } catch (error) {
        assert(error instanceof ConfigError, String(error));
        assertEquals(error.issues.map((i) => i.path), ["process.user"]);
      }
      try {
        await container.start({ args: ["true"], cwd: "/no/such/dir", stdin: "null" });
        throw new Error("start() should have failed");
      } catch (error) {
        assert(error instanceof SystemError, String(error));
        assertMatch(error.message, /^chdir `\/no\/such\/dir`: ENOENT$/);
      }
      assertEquals(container.processes(), [init.pid]);
    });
    assertNoLeftovers();
  },
});

Deno.test({
  name: "a joined process gets a terminal when it asks for one (TestExecInTTY)",
  ...integration,
  async fn() {
    await withCatInit(async (container) => {
      const proc = await container.start({ args: ["ps", "-o", "pid,comm"], terminal: true });
      assert(proc.console !== null, "no console");
      assertEquals([proc.stdin, proc.stdout, proc.stderr], [null, null, null]);
      const [text, status] = await Promise.all([streamText(proc.console.readable), proc.wait()]);
      assertEquals(status.code, 0, text);
      const rows = psRows(text);
      assertEquals(rows.map(([, comm]) => comm), ["cat", "ps"], text);

      const probe = await container.start({ args: ["/bin/probe", "report"], terminal: true });
      const [json, probeStatus] = await Promise.all([
        streamText(probe.console!.readable),
        probe.wait(),
      ]);
      assertEquals(probeStatus.code, 0, json);
      const report = JSON.parse(json);
      assertEquals(report.isatty, [true, true, true]);
      assertMatch(report.tty, /^\/dev\/pts\/\d+$/);
      // The terminal is the session's controlling terminal and the process leads the session.
      assertEquals(report.sid, report.pid);
    });
    assertNoLeftovers();
  },
});

Deno.test({
  name: "a joined process sees its terminal resized by Console.resize()",
  ...integration,
  async fn() {
    await withCatInit(async (container) => {
      const proc = await container.start({
        args: ["sh", "-c", "read a; probe winsize; read b; stty size"],
        terminal: true,
      });
      const console = proc.console!;
      const reader = console.readable.getReader();
      const writer = console.writable.getWriter();
      try {
        console.resize(80, 24);
        await writer.write(new TextEncoder().encode("1\n"));
        await readUntil(reader, (text) => /^24 80\r?$/m.test(text));
        console.resize(132, 43);
        await writer.write(new TextEncoder().encode("2\n"));
        await readUntil(reader, (text) => /^43 132\r?$/m.test(text));
      } finally {
        writer.releaseLock();
        await console.writable.close();
        // Drain to the end (EIO once the process is gone).
        for (let r = await reader.read(); !r.done; r = await reader.read());
      }
      assertEquals((await proc.wait()).code, 0);
    });
    assertNoLeftovers();
  },
});

Deno.test({
  name:
    "a joined process gets its environment with the last duplicate winning (TestExecInEnvironment)",
  ...integration,
  async fn() {
    await withCatInit(async (container) => {
      const result = await join(container, {
        args: ["/bin/probe", "env"],
        env: ["PATH=/usr/bin:/bin", "DEBUG=true", "DEBUG=false", "ENV=test"],
      });
      const env = result.stdout.trim().split("\n");
      assertEquals(env.filter((e) => e.startsWith("DEBUG=")), ["DEBUG=false"]);
      assertEquals(env.filter((e) => e.startsWith("ENV=")), ["ENV=test"]);
      assertEquals(env.filter((e) => e.startsWith("HOME=")), ["HOME=/root"]);
      assertEquals(env.length, 4, env.join(" "));
    });
    assertNoLeftovers();
  },
});

Deno.test({
  name:
    "a joined process gets extraFiles as fds 3 and 4 and no other descriptor (TestExecinPassExtraFiles)",
  ...integration,
  async fn() {
    const leak = openFd("/dev/null", O.RDWR); // inheritable: must not reach the container
    const [read1, write1] = pipe();
    const [read2, write2] = pipe();
    try {
      await withCatInit(async (container) => {
        const result = await join(container, {
          args: ["sh", "-c", "ls /proc/self/fd; echo -n one >&3; echo -n two >&4"],
          extraFiles: [write1, write2],
        });
        assertEquals(result.code, 0, result.stderr);
        assertEquals(result.stdout.trim().split(/\s+/).join(" "), "0 1 2 3 4 5");
        assert(
          fdFlags(write1).open && fdFlags(write2).open,
          "the caller's descriptors were closed",
        );
        closeFd(write1);
        closeFd(write2);
        assertEquals(readFdToEnd(read1), "one");
        assertEquals(readFdToEnd(read2), "two");
        const report = JSON.parse(
          (await join(container, { args: ["/bin/probe", "report"] })).stdout,
        );
        assertEquals(report.fds, [0, 1, 2]);
      });
    } finally {
      for (const fd of [leak, read1, write1, read2, write2]) if (fdFlags(fd).open) closeFd(fd);
    }
    assertNoLeftovers();
  },
});

Deno.test({
  name: "a joined process shares every namespace and cgroup of the init",
  ...integration,
  async fn() {
    const leak = openFd("/dev/null", O.RDWR); // inheritable: must not reach the container
    try {
      await withCatInit(async (container, init) => {
        const joined = await container.start({
          args: ["/bin/probe", "sleep", "0"],
          stdin: "null",
          stdout: "null",
          stderr: "null",
        });
        try {
          assertEquals(fdsOf(joined.pid), [0, 1, 2]);
          const initNs = namespaceInodes(init.pid);
          const host = namespaceInodes(Deno.pid);
          for (const ns of ["mnt", "uts", "ipc", "pid", "net"]) {
            assertNotEquals(initNs[ns], host[ns], `the init shares the host's ${ns} namespace`);
          }
          assertEquals(namespaceInodes(joined.pid), initNs);
          assertEquals(cgroupLines(joined.pid), cgroupLines(init.pid));
          assert(
            cgroupLines(init.pid).every((line) => line.endsWith(`/${container.id}`)),
            cgroupLines(init.pid).join("\n"),
          );
          assertEquals(container.processes().sort(), [init.pid, joined.pid].sort());
          // Inside, it is not PID 1 and its parent is outside the pid namespace.
          const stat = Deno.readTextFileSync(`/proc/${joined.pid}/status`);
          const nspid = stat.match(/^NSpid:\s+(.*)$/m)![1]!.split(/\s+/).map(Number);
          assertEquals(nspid[0], joined.pid);
          assert(nspid[1]! > 1, `joined process has pid ${nspid[1]} in the container`);
          // Its root is the container's root.
          assertEquals(
            Deno.statSync(`/proc/${joined.pid}/root/`).ino,
            Deno.statSync(`/proc/${init.pid}/root/`).ino,
          );
        } finally {
          joined.signal("SIGKILL");
          await joined.wait();
        }
      });
    } finally {
      closeFd(leak);
    }
    assertNoLeftovers();
  },
});

Deno.test({
  name: "a joined process runs as its own user with the config's capabilities",
  ...integration,
  async fn() {
    await withCatInit(async (container) => {
      const daemon = JSON.parse(
        (await join(container, { args: ["/bin/probe", "report"], user: "daemon", cwd: "/tmp" }))
          .stdout,
      );
      assertEquals([daemon.uid, daemon.gid, daemon.groups, daemon.cwd], [1, 1, [100], "/tmp"]);
      const root = JSON.parse((await join(container, { args: ["/bin/probe", "report"] })).stdout);
      assertEquals([root.uid, root.gid, root.cwd, root.hostname], [0, 0, "/", "integration"]);
      assertEquals(root.caps.eff, "00000000a80425fb");
      assertEquals(root.caps.bnd, "00000000a80425fb");
      const replaced = JSON.parse(
        (await join(container, { args: ["/bin/probe", "report"], capabilities: ["KILL"] }))
          .stdout,
      );
      assertEquals(
        [replaced.caps.eff, replaced.caps.prm, replaced.caps.bnd, replaced.caps.inh],
        ["0000000000000020", "0000000000000020", "0000000000000020", "0000000000000000"],
      );
    });
    assertNoLeftovers();
  },
});

Deno.test({
  name: "joined processes die with the init and wait() reports the signal",
  ...integration,
  async fn() {
    const factory = await testFactory();
    const container = await factory.create(uniqueId("execin"), testConfig());
    const quiet = { stdin: "null", stdout: "null", stderr: "null" } as const;
    const init = await container.start({ args: ["/bin/probe", "sleep", "0"], ...quiet });
    const joined = [
      await container.start({ args: ["/bin/probe", "sleep", "0"], ...quiet }),
      await container.start({ args: ["/bin/probe", "trap", "15"], ...quiet }),
    ];
    await waitUntil("both joins are in the cgroup", () => container.processes().length === 3);
    init.signal("SIGKILL");
    // Waited together: the dying init lingers until every process of its pid namespace is reaped.
    const statuses = await Promise.all([init, ...joined].map((proc) => proc.wait()));
    for (const status of statuses) {
      assertEquals(status, { success: false, code: 137, signal: "SIGKILL" });
    }
    assertEquals(container.status(), "stopped");
    assertEquals(container.processes(), []);
    await container.destroy();
    assertNoLeftovers();
  },
});

Deno.test({
  name: "the init's exit completes even while a joined process is not waited for",
  ...integration,
  async fn() {
    const factory = await testFactory();
    const container = await factory.create(uniqueId("execin"), testConfig());
    const quiet = { stdin: "null", stdout: "null", stderr: "null" } as const;
    const init = await container.start({ args: ["/bin/probe", "sleep", "0"], ...quiet });
    const joined = await container.start({ args: ["/bin/probe", "sleep", "0"], ...quiet });
    try {
      init.signal("SIGKILL");
      // The caller has not (yet) waited for the joined process: the kernel
      // killed it with the init, and the init must still become waitable and
      // the container stopped, without the caller reaping the join first.
      let timer: ReturnType<typeof setTimeout> | undefined;
      const status = await Promise.race([
        init.wait(),
        new Promise<"timeout">((resolve) => timer = setTimeout(() => resolve("timeout"), 3000)),
      ]);
      clearTimeout(timer);
      let state = "reaped";
      try {
        state = Deno.readTextFileSync(`/proc/${init.pid}/stat`).split(") ")[1]?.[0] ?? "?";
      } catch {
        // reaped: what the test wants
      }
      assertEquals(
        { status, containerStatus: container.status() },
        { status: { success: false, code: 137, signal: "SIGKILL" }, containerStatus: "stopped" },
        `the init (state ${state}) is stuck until the joined process ${joined.pid} is reaped`,
      );
    } finally {
      await joined.wait();
      await init.wait();
      await container.destroy();
    }
    assertNoLeftovers();
  },
});
