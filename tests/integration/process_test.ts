/**
 * What a container process is started as and with: user and groups, working
 * directory, environment, executable lookup, standard streams, extra files
 * (and no others), capabilities, rlimits, exit statuses and the parent-death
 * signal. Checked from inside with the probe and from outside through /proc.
 */
import { assert, assertEquals, assertMatch } from "../_assert.ts";
import { ConfigError, type ConfigInput, type ProcessOptions, SystemError } from "../../mod.ts";
import { CAPABILITIES } from "../../lib/config/capabilities.ts";
import {
  assertNoLeftovers,
  integration,
  makeRootfs,
  probeReport,
  runContainer,
  startSleeper,
  tempDir,
  testConfig,
  testFactory,
  uniqueId,
} from "../_helpers.ts";
import {
  closeFd,
  expectStartFailure,
  fdFlags,
  fdsOf,
  fixtureCommand,
  isDead,
  O,
  openFd,
  pipe,
  procStat,
  readFdToEnd,
  readUntil,
  streamText,
  waitUntil,
} from "./_host.ts";

interface Report {
  pid: number;
  uid: number;
  euid: number;
  gid: number;
  egid: number;
  groups: number[];
  cwd: string;
  caps: { inh: string; prm: string; eff: string; bnd: string; amb: string };
  fds: number[];
  rlimit_nofile: [number, number];
}

async function report(
  config: ConfigInput = testConfig(),
  process: Parameters<typeof probeReport>[1] = {},
): Promise<Report> {
  return await probeReport(config, process) as unknown as Report;
}

function sortedGroups(report: Report): number[] {
  return [...report.groups].sort((a, b) => a - b);
}

async function envOf(process: Omit<ProcessOptions, "args">): Promise<string[]> {
  const result = await runContainer(testConfig(), { ...process, args: ["/bin/probe", "env"] });
  assertEquals(result.code, 0, result.stderr);
  return result.stdout.trim().split("\n");
}

function capabilityMask(names: readonly string[]): bigint {
  return names.reduce(
    (mask, name) => mask | (1n << BigInt(CAPABILITIES[name as keyof typeof CAPABILITIES])),
    0n,
  );
}

function capSets(report: Report): Record<keyof Report["caps"], bigint> {
  const sets = {} as Record<keyof Report["caps"], bigint>;
  for (const [name, hex] of Object.entries(report.caps)) {
    sets[name as keyof Report["caps"]] = BigInt(`0x${hex}`);
  }
  return sets;
}

/**
 * A private busybox rootfs whose root directory non-root users can search
 * (the shared one lives in a 0700 temporary directory).
 */
function openRootfs(): string {
  const rootfs = makeRootfs(tempDir("rootfs-"));
  Deno.chmodSync(rootfs, 0o755);
  return rootfs;
}

/** Docker's 2015 default set (CapEff of a default `docker run`), known independently of the tables. */
const DOCKER_DEFAULT_CAPS = 0xa80425fbn;

// ---- user -------------------------------------------------------------------

Deno.test({
  name: "start() runs as a user named in the container's passwd, with its groups",
  ...integration,
  async fn() {
    const r = await report(testConfig(), { user: "daemon" });
    assertEquals([r.uid, r.euid, r.gid, r.egid], [1, 1, 1, 1]);
    // /etc/group lists daemon as a member of users (100).
    assertEquals(sortedGroups(r), [100]);
    assertNoLeftovers();
  },
});

Deno.test({
  name: "start() takes a numeric user's gid, home and groups from passwd and group",
  ...integration,
  async fn() {
    const r = await report(testConfig(), { user: "1000" });
    assertEquals([r.uid, r.euid, r.gid, r.egid], [1000, 1000, 1000, 1000]);
    assertEquals(sortedGroups(r), [100]);
    const env = await envOf({ user: "1000", env: ["PATH=/bin"] });
    assert(env.includes("HOME=/home/tester"), env.join(" "));
    assertNoLeftovers();
  },
});

Deno.test({
  name: "start() runs a uid that passwd does not know with gid 0 and HOME /",
  ...integration,
  async fn() {
    const r = await report(testConfig(), { user: "4242" });
    assertEquals([r.uid, r.gid, sortedGroups(r)], [4242, 0, []]);
    const env = await envOf({ user: "4242", env: ["PATH=/bin"] });
    assert(env.includes("HOME=/"), env.join(" "));
    assertNoLeftovers();
  },
});

Deno.test({
  name: "start() uses an explicit uid:gid as is, without membership groups",
  ...integration,
  async fn() {
    const r = await report(testConfig(), { user: "1000:0" });
    assertEquals([r.uid, r.euid, r.gid, r.egid], [1000, 1000, 0, 0]);
    assertEquals(sortedGroups(r), []);
    assertNoLeftovers();
  },
});

Deno.test({
  name: "start() resolves name:group against passwd and group",
  ...integration,
  async fn() {
    const r = await report(testConfig(), { user: "tester:users" });
    assertEquals([r.uid, r.gid], [1000, 100]);
    assertEquals(sortedGroups(r), []);
    assertNoLeftovers();
  },
});

Deno.test({
  name: "start() adds the config's additional_groups and the process's additionalGroups",
  ...integration,
  async fn() {
    const r = await report(testConfig({ additional_groups: [5, 4000] }), {
      user: "daemon",
      additionalGroups: ["tester", 7],
    });
    assertEquals([r.uid, r.gid], [1, 1]);
    assertEquals(sortedGroups(r), [5, 7, 100, 1000, 4000]);
    const root = await report(testConfig({ additional_groups: [5] }));
    assertEquals([root.uid, root.gid, sortedGroups(root)], [0, 0, [5]]);
    assertNoLeftovers();
  },
});

Deno.test({
  name: "start() refuses a user the container does not know and leaves nothing behind",
  ...integration,
  async fn() {
    const error = await expectStartFailure(testConfig(), { args: ["true"], user: "nosuchuser" });
    assert(error instanceof ConfigError, String(error));
    assertEquals(error.code, "ConfigInvalid");
    assertEquals(error.issues.map((i) => i.path), ["process.user"]);
    assertMatch(error.message, /nosuchuser/);
    const group = await expectStartFailure(testConfig(), { args: ["true"], user: "tester:nogrp" });
    assert(group instanceof ConfigError, String(group));
    assertEquals(group.issues.map((i) => i.path), ["process.user"]);
    assertMatch(group.message, /nogrp/);
    const extra = await expectStartFailure(testConfig(), {
      args: ["true"],
      additionalGroups: ["nogrp"],
    });
    assert(extra instanceof ConfigError, String(extra));
    assertMatch(extra.message, /nogrp/);
    assertNoLeftovers();
  },
});

// ---- cwd --------------------------------------------------------------------

Deno.test({
  name: "start() runs in / by default and in the given cwd",
  ...integration,
  async fn() {
    assertEquals((await report()).cwd, "/");
    assertEquals((await report(testConfig(), { cwd: "/tmp" })).cwd, "/tmp");
    assertEquals(
      (await report(testConfig(), { cwd: "/home/tester", user: "tester" })).cwd,
      "/home/tester",
    );
    assertNoLeftovers();
  },
});

Deno.test({
  name: "start() fails with a chdir error naming a cwd that does not exist",
  ...integration,
  async fn() {
    const error = await expectStartFailure(testConfig(), {
      args: ["/bin/probe", "report"],
      cwd: "/no/such/dir",
    });
    assert(error instanceof SystemError, String(error));
    assertEquals([error.op, error.errnoName], ["chdir", "ENOENT"]);
    assertMatch(error.message, /^chdir `\/no\/such\/dir`: ENOENT$/);
    assertNoLeftovers();
  },
});

// ---- environment --------------------------------------------------------------

Deno.test({
  name: "start() keeps the last of duplicate environment entries",
  ...integration,
  async fn() {
    const env = await envOf({ env: ["PATH=/bin", "DEBUG=true", "DEBUG=false", "ENV=test"] });
    assertEquals(env.filter((e) => e.startsWith("DEBUG=")), ["DEBUG=false"]);
    assertEquals(env.filter((e) => e.startsWith("ENV=")), ["ENV=test"]);
    assertEquals(env.filter((e) => e.startsWith("HOME=")), ["HOME=/root"]);
    assertNoLeftovers();
  },
});

Deno.test({
  name: "start() leaves a HOME given in the environment alone",
  ...integration,
  async fn() {
    const env = await envOf({ env: ["PATH=/bin", "HOME=/custom"], user: "tester" });
    assertEquals(env.filter((e) => e.startsWith("HOME=")), ["HOME=/custom"]);
    assertNoLeftovers();
  },
});

Deno.test({
  name: "start() without env gives the process a PATH and HOME",
  ...integration,
  async fn() {
    const env = await envOf({});
    assertEquals(
      env.filter((e) => e.startsWith("PATH=")),
      ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
    );
    assertEquals(env.filter((e) => e.startsWith("HOME=")), ["HOME=/root"]);
    assertNoLeftovers();
  },
});

// ---- exit status --------------------------------------------------------------

Deno.test({
  name: "wait() reports the exit code of the process",
  ...integration,
  async fn() {
    const factory = await testFactory();
    for (const [code, success] of [[42, false], [0, true], [255, false]] as const) {
      const container = await factory.create(uniqueId(), testConfig());
      const proc = await container.start({ args: ["/bin/probe", "exit", String(code)] });
      assertEquals(await proc.wait(), { success, code, signal: null });
      // wait() is idempotent.
      assertEquals(await proc.wait(), { success, code, signal: null });
      await container.destroy();
    }
    assertNoLeftovers();
  },
});

Deno.test({
  name: "wait() reports 128 + N and the signal for a process killed by a signal",
  ...integration,
  async fn() {
    const sleeper = await startSleeper();
    try {
      // A joined process is not PID 1 of the pid namespace, so SIGTERM's default action applies.
      const joined = await sleeper.container.start({
        args: ["/bin/probe", "sleep", "0"],
        stdin: "null",
        stdout: "null",
        stderr: "null",
      });
      joined.signal("SIGTERM");
      assertEquals(await joined.wait(), { success: false, code: 143, signal: "SIGTERM" });
      // It kills itself with SIGUSR1 (10).
      const selfKilled = await sleeper.container.start({
        args: ["/bin/probe", "signal", "10"],
        stdin: "null",
        stdout: "null",
        stderr: "null",
      });
      assertEquals(await selfKilled.wait(), { success: false, code: 138, signal: "SIGUSR1" });
    } finally {
      await sleeper.stop();
    }

    // PID 1 ignores a SIGTERM it has no handler for; SIGKILL from outside ends it.
    const factory = await testFactory();
    const container = await factory.create(uniqueId(), testConfig());
    const init = await container.start({
      args: ["/bin/probe", "sleep", "0"],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    });
    init.signal(9);
    assertEquals(await init.wait(), { success: false, code: 137, signal: "SIGKILL" });
    await container.destroy();
    assertNoLeftovers();
  },
});

// ---- the executable -------------------------------------------------------------

Deno.test({
  name: "start() fails with exec ENOENT for a missing executable and leaves nothing behind",
  ...integration,
  async fn() {
    for (const program of ["/bin/no-such-program", "no-such-program"]) {
      const error = await expectStartFailure(testConfig(), { args: [program, "x"] });
      assert(error instanceof SystemError, String(error));
      assertEquals([error.op, error.errnoName], ["exec", "ENOENT"]);
      assertMatch(error.message, /exec/);
      assertMatch(error.message, /ENOENT/);
      assert(error.message.includes(program), error.message);
    }
    assertNoLeftovers();
  },
});

/** A private rootfs with /opt/{a,b,c}/tool: not executable, echoes b, echoes c. */
function toolRootfs(): string {
  const rootfs = openRootfs();
  for (const dir of ["a", "b", "c"]) Deno.mkdirSync(`${rootfs}/opt/${dir}`, { recursive: true });
  Deno.writeTextFileSync(`${rootfs}/opt/a/tool`, "#!/bin/sh\necho a\n", { mode: 0o644 });
  Deno.chmodSync(`${rootfs}/opt/a/tool`, 0o644);
  for (const dir of ["b", "c"]) {
    Deno.writeTextFileSync(`${rootfs}/opt/${dir}/tool`, `#!/bin/sh\necho ${dir}\n`);
    Deno.chmodSync(`${rootfs}/opt/${dir}/tool`, 0o755);
  }
  Deno.writeTextFileSync(`${rootfs}/bin/notexec`, "#!/bin/sh\necho no\n");
  Deno.chmodSync(`${rootfs}/bin/notexec`, 0o644);
  return rootfs;
}

Deno.test({
  name: "start() fails with exec EACCES for a file that is not executable",
  ...integration,
  async fn() {
    const config = testConfig({ rootfs: toolRootfs() });
    for (const program of ["/bin/notexec", "notexec"]) {
      const error = await expectStartFailure(config, { args: [program] });
      assert(error instanceof SystemError, String(error));
      assertEquals([error.op, error.errnoName], ["exec", "EACCES"]);
      assert(error.message.includes(program), error.message);
    }
    assertNoLeftovers();
  },
});

Deno.test({
  name: "start() looks a program without a slash up in PATH, directory by directory",
  ...integration,
  async fn() {
    const config = testConfig({ rootfs: toolRootfs() });
    // `sh` through the default PATH, and through a given one.
    const sh = await runContainer(config, { args: ["sh", "-c", "echo found"] });
    assertEquals([sh.code, sh.stdout], [0, "found\n"], sh.stderr);
    const withPath = await runContainer(config, {
      args: ["sh", "-c", "echo found"],
      env: ["PATH=/nowhere:/bin"],
    });
    assertEquals([withPath.code, withPath.stdout], [0, "found\n"], withPath.stderr);
    // A missing directory and a non-executable file are skipped; the first executable wins.
    const tool = await runContainer(config, {
      args: ["tool"],
      env: ["PATH=/nowhere:/opt/a:/opt/b:/opt/c"],
    });
    assertEquals([tool.code, tool.stdout], [0, "b\n"], tool.stderr);
    const other = await runContainer(config, { args: ["tool"], env: ["PATH=/opt/c:/opt/b"] });
    assertEquals(other.stdout, "c\n");
    // The last PATH definition is the one searched.
    const last = await runContainer(config, {
      args: ["tool"],
      env: ["PATH=/opt/b", "PATH=/opt/c"],
    });
    assertEquals(last.stdout, "c\n");
    // Only a non-executable match: EACCES, not ENOENT.
    const denied = await expectStartFailure(config, { args: ["tool"], env: ["PATH=/opt/a"] });
    assert(denied instanceof SystemError, String(denied));
    assertEquals(denied.errnoName, "EACCES");
    assertNoLeftovers();
  },
});

// ---- standard streams ------------------------------------------------------------

Deno.test({
  name: "start() pipes stdin, stdout and stderr separately",
  ...integration,
  async fn() {
    const factory = await testFactory();
    const container = await factory.create(uniqueId(), testConfig());
    const proc = await container.start({
      args: ["sh", "-c", "cat; echo to-stderr >&2; echo to-stdout"],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    });
    assert(proc.stdin && proc.stdout && proc.stderr);
    const writer = proc.stdin.getWriter();
    await writer.write(new TextEncoder().encode("line one\nline two\n"));
    await writer.close();
    const [stdout, stderr, status] = await Promise.all([
      streamText(proc.stdout),
      streamText(proc.stderr),
      proc.wait(),
    ]);
    assertEquals(status.code, 0);
    assertEquals(stdout, "line one\nline two\nto-stdout\n");
    assertEquals(stderr, "to-stderr\n");
    await container.destroy();
    assertNoLeftovers();
  },
});

Deno.test({
  name: "start() connects null streams to /dev/null",
  ...integration,
  async fn() {
    const factory = await testFactory();
    const container = await factory.create(uniqueId(), testConfig());
    const proc = await container.start({
      args: ["sh", "-c", "cat; echo out; echo err >&2; exec /bin/probe sleep 0"],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    });
    assertEquals([proc.stdin, proc.stdout, proc.stderr], [null, null, null]);
    // `cat` read end of file from /dev/null at once, so the probe runs.
    await waitUntil(
      "the shell execs the probe",
      () => Deno.readTextFileSync(`/proc/${proc.pid}/comm`).trim() === "probe",
    );
    for (const fd of [0, 1, 2]) {
      assertEquals(Deno.readLinkSync(`/proc/${proc.pid}/fd/${fd}`), "/dev/null");
    }
    proc.signal("SIGKILL");
    const output = await proc.output();
    assertEquals([output.code, output.stdout.length, output.stderr.length], [137, 0, 0]);
    await container.destroy();
    assertNoLeftovers();
  },
});

Deno.test({
  name: "start() uses raw descriptors as stdio and leaves them open for the caller",
  ...integration,
  async fn() {
    const dir = tempDir();
    Deno.writeTextFileSync(`${dir}/in`, "from a file\n");
    const input = openFd(`${dir}/in`, O.RDONLY | O.CLOEXEC);
    const output = openFd(`${dir}/out`, O.WRONLY | O.CREAT | O.TRUNC | O.CLOEXEC);
    const [errRead, errWrite] = pipe();
    try {
      const result = await runContainer(testConfig(), {
        args: ["sh", "-c", "cat; echo done; echo oops >&2"],
        stdin: input,
        stdout: output,
        stderr: errWrite,
      });
      assertEquals(result.code, 0);
      assertEquals([fdFlags(input).open, fdFlags(output).open, fdFlags(errWrite).open], [
        true,
        true,
        true,
      ]);
      closeFd(errWrite);
      assertEquals(readFdToEnd(errRead), "oops\n");
      assertEquals(Deno.readTextFileSync(`${dir}/out`), "from a file\ndone\n");
    } finally {
      closeFd(input);
      closeFd(output);
      closeFd(errRead);
      if (fdFlags(errWrite).open) closeFd(errWrite);
    }
    assertNoLeftovers();
  },
});

Deno.test({
  name: "start() with inherited stdio shares the caller's streams",
  ...integration,
  async fn() {
    const factory = await testFactory();
    const id = uniqueId("inherit");
    const child = fixtureCommand("./_inherit_child.ts", [
      factory.root,
      id,
      JSON.stringify(testConfig()),
      "sh",
      "-c",
      "cat; echo to-stderr >&2; exit 3",
    ], { stdin: "piped" }).spawn();
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode("through the parent\n"));
    await writer.close();
    const output = await child.output();
    const decoder = new TextDecoder();
    assertEquals(
      [output.code, decoder.decode(output.stdout), decoder.decode(output.stderr)],
      [3, "through the parent\n", "to-stderr\n"],
    );
    assertNoLeftovers();
  },
});

// ---- extra files, and no others -------------------------------------------------------

Deno.test({
  name: "start() passes extraFiles as fds 3 and 4 (TestPassExtraFiles)",
  ...integration,
  async fn() {
    const [read1, write1] = pipe();
    const [read2, write2] = pipe();
    try {
      const result = await runContainer(testConfig(), {
        // ls lists its own directory descriptor too: the lowest free one, 5.
        args: ["sh", "-c", "ls /proc/self/fd; echo -n one >&3; echo -n two >&4"],
        extraFiles: [write1, write2],
      });
      assertEquals(result.code, 0, result.stderr);
      assertEquals(result.stdout.trim().split(/\s+/).join(" "), "0 1 2 3 4 5");
      assert(fdFlags(write1).open && fdFlags(write2).open, "the caller's descriptors were closed");
      closeFd(write1);
      closeFd(write2);
      assertEquals(readFdToEnd(read1), "one");
      assertEquals(readFdToEnd(read2), "two");
      const r = await report(testConfig(), { extraFiles: [read1, read2] });
      assertEquals(r.fds, [0, 1, 2, 3, 4]);
    } finally {
      for (const fd of [read1, write1, read2, write2]) if (fdFlags(fd).open) closeFd(fd);
    }
    assertNoLeftovers();
  },
});

// CVE-2024-21626 (section 4, #2; the link allow-list is in escape_test.ts).
Deno.test({
  name: "start() lets no other descriptor of the caller into the container",
  ...integration,
  async fn() {
    // Inheritable (not close-on-exec) descriptors, as a careless embedder would have.
    const leaks = [openFd("/dev/null", O.RDWR), openFd("/dev/null", O.RDONLY), ...pipe(false)];
    const [read, write] = pipe();
    try {
      for (const fd of leaks) assertEquals(fdFlags(fd), { open: true, cloexec: false });
      // From inside.
      assertEquals((await report()).fds, [0, 1, 2]);
      assertEquals((await report(testConfig(), { extraFiles: [write] })).fds, [0, 1, 2, 3]);
      const piped = await report(testConfig(), { stdin: "piped" });
      assertEquals(piped.fds, [0, 1, 2]);
      // From outside, for a long-running init and a joined process.
      const factory = await testFactory();
      const container = await factory.create(uniqueId(), testConfig());
      const init = await container.start({
        args: ["/bin/probe", "sleep", "0"],
        stdin: "null",
        stdout: "piped",
        stderr: "null",
        extraFiles: [write],
      });
      const joined = await container.start({
        args: ["/bin/probe", "sleep", "0"],
        stdin: "null",
        stdout: "null",
        stderr: "null",
      });
      try {
        assertEquals(fdsOf(init.pid), [0, 1, 2, 3]);
        assertEquals(fdsOf(joined.pid), [0, 1, 2]);
      } finally {
        init.signal("SIGKILL");
        await Promise.all([init.output(), joined.wait()]);
        await container.destroy();
      }
    } finally {
      [...leaks, read, write].forEach(closeFd);
    }
    assertNoLeftovers();
  },
});

// ---- capabilities ---------------------------------------------------------------------

// CVE-2022-29162, crun CVE-2022-27650, youki CVE-2025-27612 (section 4, #15: inheritable and ambient stay empty).
Deno.test({
  name: "start() gives the config's capabilities as bounding, effective and permitted sets",
  ...integration,
  async fn() {
    const config = testConfig();
    const expected = capabilityMask(config.capabilities!);
    assertEquals(config.capabilities!.length, 14);
    assertEquals(expected, DOCKER_DEFAULT_CAPS);
    const sets = capSets(await report(config));
    assertEquals(sets, { inh: 0n, prm: expected, eff: expected, bnd: expected, amb: 0n });
    assertNoLeftovers();
  },
});

Deno.test({
  name: "start() leaves a non-root user only the bounding set once it has exec'd",
  ...integration,
  async fn() {
    // The kernel recomputes the sets at exec: without inheritable or ambient
    // capabilities a non-root program keeps none, only the bounding set.
    const sets = capSets(await report(testConfig({ rootfs: openRootfs() }), { user: "tester" }));
    assertEquals(sets, { inh: 0n, prm: 0n, eff: 0n, bnd: DOCKER_DEFAULT_CAPS, amb: 0n });
    assertNoLeftovers();
  },
});

Deno.test({
  name: "start() replaces the config's capabilities with the process's (TestProcessCaps)",
  ...integration,
  async fn() {
    const config = testConfig();
    const added = capSets(
      await report(config, { capabilities: [...config.capabilities!, "NET_ADMIN"] }),
    );
    const netAdmin = 1n << 12n;
    assertEquals(added.eff, DOCKER_DEFAULT_CAPS | netAdmin);
    assertEquals(added.bnd, DOCKER_DEFAULT_CAPS | netAdmin);

    const replaced = capSets(await report(config, { capabilities: ["NET_ADMIN", "CHOWN"] }));
    assertEquals(replaced, { inh: 0n, prm: 0x1001n, eff: 0x1001n, bnd: 0x1001n, amb: 0n });

    const none = capSets(await report(config, { capabilities: [] }));
    assertEquals(none, { inh: 0n, prm: 0n, eff: 0n, bnd: 0n, amb: 0n });
    assertNoLeftovers();
  },
});

// ---- rlimits ----------------------------------------------------------------------------

Deno.test({
  name: "start() sets an rlimit whose soft limit is below its hard limit",
  ...integration,
  async fn() {
    const r = await report(testConfig({ rlimits: [{ type: 7, soft: 512, hard: 1025 }] }));
    assertEquals(r.rlimit_nofile, [512, 1025]);
    const shell = await runContainer(
      testConfig({ rlimits: [{ type: 7, soft: 512, hard: 1025 }] }),
      { args: ["sh", "-c", "ulimit -Sn; ulimit -Hn"] },
    );
    assertEquals(shell.stdout, "512\n1025\n");
    assertNoLeftovers();
  },
});

Deno.test({
  name: "start() takes -1 in an rlimit as unlimited",
  ...integration,
  async fn() {
    // Raising a hard limit needs CAP_SYS_RESOURCE, which a test host may lack:
    // the limits used here are the ones whose hard limit is unlimited by default.
    const result = await runContainer(
      testConfig({
        rlimits: [
          { type: 7, soft: 1025, hard: 1025 },
          { type: 4, soft: -1, hard: -1 }, // RLIMIT_CORE, soft 0 by default
          { type: 3, soft: -1, hard: -1 }, // RLIMIT_STACK, soft 8 MiB by default
          { type: 1, soft: 1048576, hard: -1 }, // RLIMIT_FSIZE
        ],
      }),
      { args: ["cat", "/proc/self/limits"] },
    );
    assertEquals(result.code, 0, result.stderr);
    const limit = (name: string) =>
      result.stdout.split("\n").find((line) => line.startsWith(name))?.slice(26).trim().split(
        /\s+/,
      ).slice(0, 2);
    assertEquals(limit("Max core file size"), ["unlimited", "unlimited"]);
    assertEquals(limit("Max stack size"), ["unlimited", "unlimited"]);
    assertEquals(limit("Max file size"), ["1048576", "unlimited"]);
    assertEquals(limit("Max open files"), ["1025", "1025"]);
    assertNoLeftovers();
  },
});

// ---- parent death signal -------------------------------------------------------------------

/** Starts a container from another Deno process, kills that process, and returns the container's pid. */
async function orphanContainer(
  id: string,
  config: ConfigInput,
): Promise<{ pid: number; start: string }> {
  const factory = await testFactory();
  const child = fixtureCommand("./_pdeathsig_child.ts", [
    factory.root,
    id,
    JSON.stringify(config),
  ]).spawn();
  const reader = child.stdout.getReader();
  let pid: number;
  try {
    const line = await readUntil(reader, (text) => text.includes("\n"), 15000);
    pid = JSON.parse(line).pid;
  } catch (error) {
    child.kill("SIGKILL");
    reader.releaseLock();
    const output = await child.output();
    throw new Error(`${error}; stderr: ${new TextDecoder().decode(output.stderr)}`);
  }
  const stat = procStat(pid);
  assert(stat !== null && !isDead(pid, stat.start), `container process ${pid} is not running`);
  // Its parent is the other Deno process (the helper cloned it with CLONE_PARENT).
  assertEquals(stat.ppid, child.pid);
  child.kill("SIGKILL");
  reader.releaseLock();
  const status = await child.output();
  assertEquals(status.signal, "SIGKILL");
  return { pid, start: stat.start };
}

Deno.test({
  name: "start() with parent_death_signal kills the process when its creator dies",
  ...integration,
  async fn() {
    const id = uniqueId("pdeath");
    const { pid, start } = await orphanContainer(id, testConfig({ parent_death_signal: 9 }));
    const container = await (await testFactory()).load(id);
    try {
      await waitUntil(`pid ${pid} dies with its parent`, () => isDead(pid, start));
      assertEquals(container.status(), "stopped");
    } finally {
      // On failure, the orphan must not outlive the test.
      if (!isDead(pid, start)) {
        container.signal("SIGKILL");
        await waitUntil(`pid ${pid} dies`, () => isDead(pid, start));
      }
      await container.destroy();
    }
    assertEquals(container.status(), "destroyed");
    assertNoLeftovers();
  },
});

Deno.test({
  name: "start() without parent_death_signal lets the process outlive its creator",
  ...integration,
  async fn() {
    const id = uniqueId("orphan");
    const { pid, start } = await orphanContainer(id, testConfig({ parent_death_signal: 0 }));
    const container = await (await testFactory()).load(id);
    try {
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert(!isDead(pid, start), `pid ${pid} died with its parent`);
      assertEquals(container.status(), "running");
    } finally {
      container.signal("SIGKILL");
      await waitUntil(`pid ${pid} dies`, () => isDead(pid, start));
      await container.destroy();
    }
    assertNoLeftovers();
  },
});
