/**
 * The escape regression suite (security-anchors.md section 4): each test is
 * named after the class it covers and the CVEs of that class. Tests of the
 * same list that live elsewhere carry the CVE in a comment:
 *
 * - #5 /proc and /sys symlinks, #7 destination escape, #9 mkdir in root,
 *   #11 fake /dev/null: mounts_test.ts
 * - #10 /dev symlink: devices_test.ts
 * - #19 plan fuzz: helper_test.ts
 * - #8 rename-exchange race: race_test.ts
 *
 * Every test checks the host side: the host file or directory an attack
 * aims at is unchanged, and nothing (cgroup, mount, state, process) is left.
 */
import { assert, assertEquals, assertMatch } from "../_assert.ts";
import {
  ConfigError,
  type ConfigInput,
  ContainerError,
  type ProcessOptions,
  SystemError,
} from "../../mod.ts";
import { sys } from "../../ffi/syscalls.ts";
import { F } from "../../ffi/constants.ts";
import { helperFd } from "../../lib/process/helper_binary.ts";
import * as helperEmbed from "../../ffi/helper/_embed.ts";
import { embeddedBytes } from "../../ffi/embedded.ts";
import { launch } from "../../lib/process/launch.ts";
import { buildJoinPlan } from "../../lib/plan/build.ts";
import { cgroupPlacement, dirsFromRecord } from "../../lib/cgroups/paths.ts";
import { closePidfd, pidfdOpen, waitPidfd } from "../../lib/sys/proc.ts";
import {
  assertNoLeftovers,
  childProcesses,
  integration,
  makeRootfs,
  runContainer,
  startSleeper,
  tempDir,
  TEST_CGROUP_PARENT,
  testConfig,
  testFactory,
  uniqueId,
} from "../_helpers.ts";
import { CliEnv } from "./fixtures/nsinit_env.ts";
import { releaseRunNetns } from "./_netns.ts";
import { closeFd, fdsOf, openFd, pipe, readUntil, streamText } from "./_host.ts";

const decoder = new TextDecoder();

/** A private busybox rootfs the test may plant things in. */
function privateRootfs(): string {
  return makeRootfs(tempDir("rootfs-"));
}

/** What a host file or directory looks like now; call the result to assert nothing changed. */
function hostSnapshot(path: string): () => void {
  const take = () => {
    const info = Deno.lstatSync(path);
    const entries = info.isDirectory
      ? [...Deno.readDirSync(path)].map((e) => e.name).sort()
      : Deno.readTextFileSync(path);
    return {
      entries,
      mode: info.mode,
      uid: info.uid,
      gid: info.gid,
      mtime: info.mtime?.getTime(),
      ino: info.ino,
    };
  };
  const before = take();
  return () => assertEquals(take(), before, `host path ${path} changed`);
}

/** The test config without the /dev tmpfs, so that what the rootfs has in /dev is what counts. */
function withoutDevTmpfs(rootfs: string): ConfigInput {
  const config = testConfig({ rootfs });
  return { ...config, mounts: config.mounts!.filter((m) => m.destination !== "/dev") };
}

/** Runs a command; returns its result, or the error start() failed with. */
async function attempt(
  config: ConfigInput,
  process: ProcessOptions,
): Promise<{ code: number; stdout: string; stderr: string } | Error> {
  try {
    return await runContainer(config, process);
  } catch (error) {
    if (error instanceof ContainerError) return error;
    throw error;
  }
}

async function sha256(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

// ---- #1 the helper is a sealed memfd (CVE-2019-5736) --------------------------------------

Deno.test({
  name: "CVE-2019-5736: the helper is a sealed memfd that no container process can rewrite",
  ...integration,
  async fn() {
    const fd = helperFd();
    assertMatch(Deno.readLinkSync(`/proc/self/fd/${fd}`), /^\/memfd:nsinit-helper/);
    const seals = sys.fcntl(fd, F.GET_SEALS, 0);
    const wanted = F.SEAL_WRITE | F.SEAL_GROW | F.SEAL_SHRINK | F.SEAL_SEAL;
    assertEquals(seals & wanted, wanted, `seals ${seals.toString(16)}`);
    // Reopened for write through /proc, as CVE-2019-5736 did: no byte gets in.
    const writable = sys.open(new TextEncoder().encode(`/proc/self/fd/${fd}\0`), 1, 0);
    if (writable >= 0) {
      assertEquals(sys.write(writable, new Uint8Array([0x41]), 1), -1);
      closeFd(writable);
    }
    const expected = await sha256(embeddedBytes(helperEmbed.BASE64));

    // The image's entrypoint is `#!/proc/self/exe`: the kernel runs the
    // helper again, inside the container; it must find nothing to do.
    const rootfs = privateRootfs();
    Deno.writeTextFileSync(`${rootfs}/bin/evil`, "#!/proc/self/exe\n", { mode: 0o755 });
    Deno.chmodSync(`${rootfs}/bin/evil`, 0o755);
    const config = testConfig({
      rootfs,
      capabilities: [...testConfig().capabilities!, "SYS_PTRACE", "DAC_READ_SEARCH"],
    });
    const evil = await attempt(config, { args: ["/bin/evil"] });
    assert(evil instanceof Error || evil.code !== 0, JSON.stringify(evil));

    // A container process with CAP_SYS_PTRACE loops over /proc/*/exe and
    // writes to every memfd it can open while processes join it.
    const factory = await testFactory();
    const container = await factory.create(uniqueId(), config);
    const looper = await container.start({
      args: [
        "sh",
        "-c",
        "while :; do for f in /proc/[0-9]*/exe; do " +
        'case "$(readlink $f 2>/dev/null)" in *memfd*) echo SEEN $f; ' +
        "(echo x >> $f) 2>/dev/null && echo WROTE $f;; esac; done; done",
      ],
      stdin: "null",
      stdout: "piped",
      stderr: "null",
    });
    const output = streamText(looper.stdout);
    try {
      for (let i = 0; i < 30; i++) {
        const joined = await container.start({
          args: ["/bin/true"],
          stdin: "null",
          stdout: "null",
          stderr: "null",
        });
        assertEquals((await joined.wait()).code, 0);
        const viaScript = await container.start({
          args: ["/bin/evil"],
          stdin: "null",
          stdout: "null",
          stderr: "null",
        });
        assert((await viaScript.wait()).code !== 0);
      }
    } finally {
      looper.signal("SIGKILL");
      await looper.wait();
      await container.destroy();
    }
    const seen = await output;
    assert(!seen.includes("WROTE"), seen);
    const after = Deno.readFileSync(`/proc/self/fd/${fd}`);
    assertEquals(await sha256(after), expected, "the helper memfd changed");
    assertNoLeftovers();
  },
});

// ---- #2 leaked descriptors (CVE-2024-21626) -----------------------------------------------

Deno.test({
  name: "CVE-2024-21626: inheritable host descriptors never reach the init or a joined process",
  ...integration,
  async fn() {
    // Not close-on-exec, opened through the raw system call layer as an embedder might.
    const leaks = [
      sys.open(new TextEncoder().encode("/\0"), 0o200000, 0), // the host's root directory
      sys.open(new TextEncoder().encode("/sys/fs/cgroup\0"), 0o200000, 0),
      ...pipe(false),
    ];
    for (const fd of leaks) assert(fd >= 0);
    const [read, write] = pipe();
    try {
      const { container, pid, stop } = await startSleeper();
      try {
        const joined = await container.start({
          args: ["/bin/probe", "sleep", "0"],
          stdin: "null",
          stdout: "null",
          stderr: "null",
          extraFiles: [write],
        });
        try {
          for (const [who, expected] of [[pid, [0, 1, 2]], [joined.pid, [0, 1, 2, 3]]] as const) {
            assertEquals(fdsOf(who), [...expected], `fds of ${who}`);
            // Allow-listed by what they are: /dev/null for stdio, our pipe for fd 3.
            for (const n of expected) {
              const link = Deno.readLinkSync(`/proc/${who}/fd/${n}`);
              const want = n === 3 ? Deno.readLinkSync(`/proc/self/fd/${write}`) : "/dev/null";
              assertEquals(link, want, `fd ${n} of ${who}`);
            }
          }
        } finally {
          joined.signal("SIGKILL");
          await joined.wait();
        }
      } finally {
        await stop();
      }
    } finally {
      [...leaks, read, write].forEach(closeFd);
    }
    assertNoLeftovers();
  },
});

// ---- #3 cwd breakout (CVE-2024-21626) -----------------------------------------------------

Deno.test({
  name: "CVE-2024-21626: a cwd of /proc/self/fd/N never lands on the host (init and exec)",
  ...integration,
  async fn() {
    // A host directory handed in as an extra file, with a long path (the
    // unreachable-cwd check must not depend on the path's length).
    const hostDir = `${tempDir("host-")}/${"d".repeat(100)}/${"e".repeat(100)}`;
    Deno.mkdirSync(hostDir, { recursive: true });
    Deno.writeTextFileSync(`${hostDir}/host-marker`, "host");
    const unchanged = hostSnapshot(hostDir);
    const dirFd = openFd(hostDir, 0o200000 | 0o2000000);
    const script = "pwd; cat ../../../host-marker host-marker 2>/dev/null; echo done";
    const { container, stop } = await startSleeper();
    try {
      for (const extraFiles of [[dirFd], []]) {
        for (let n = 3; n <= 20; n++) {
          const process: ProcessOptions = {
            args: ["sh", "-c", script],
            cwd: `/proc/self/fd/${n}`,
            extraFiles,
          };
          for (const where of ["init", "exec"]) {
            let result: { code: number; stdout: string; stderr: string } | Error;
            if (where === "init") {
              result = await attempt(testConfig(), process);
            } else {
              try {
                const proc = await container.start({ ...process, stdout: "piped", stderr: "null" });
                const out = await proc.output();
                result = { code: out.code, stdout: decoder.decode(out.stdout), stderr: "" };
              } catch (error) {
                result = error as Error;
              }
            }
            const context = `${where} cwd fd ${n} extras ${extraFiles.length}: ${
              result instanceof Error ? result.message : result.stdout
            }`;
            if (result instanceof Error) {
              // A clean error naming the step.
              assert(result instanceof SystemError, context);
              assertMatch(result.message, /chdir/, context);
              if (n === 3 && extraFiles.length === 1) {
                assertMatch(result.message, /outside the container/, context);
              }
            } else {
              assert(!result.stdout.includes("host"), context);
            }
          }
        }
      }
    } finally {
      closeFd(dirFd);
      await stop();
    }
    unchanged();
    assertNoLeftovers();
  },
});

Deno.test({
  name: "CVE-2024-21626: a cwd that is a symlink to / or to a host path resolves inside the rootfs",
  ...integration,
  async fn() {
    const rootfs = privateRootfs();
    const hostDir = tempDir("host-");
    Deno.writeTextFileSync(`${hostDir}/host-marker`, "host");
    Deno.symlinkSync("/", `${rootfs}/to-root`);
    Deno.symlinkSync(hostDir, `${rootfs}/to-host`);
    Deno.mkdirSync(`${rootfs}${hostDir}`, { recursive: true });
    Deno.writeTextFileSync(`${rootfs}/root-marker`, "container");
    const unchanged = hostSnapshot(hostDir);
    for (const cwd of ["/to-root", "/to-host"]) {
      const result = await runContainer(testConfig({ rootfs }), {
        args: ["sh", "-c", "pwd -P; cat host-marker 2>/dev/null; cat /root-marker"],
        cwd,
      });
      assertEquals(result.code, 0, result.stderr);
      const [pwd, marker] = result.stdout.trim().split("\n");
      assertEquals(pwd, cwd === "/to-root" ? "/" : hostDir);
      assertEquals(marker, "container");
    }
    unchanged();
    assertNoLeftovers();
  },
});

// ---- #4 non-dumpable join (CVE-2016-9962) -------------------------------------------------

/** This process's child that is a joining process (by its stage name) in the init's pid namespace. */
function pausedJoiner(initPid: number): number {
  const pidns = Deno.readLinkSync(`/proc/${initPid}/ns/pid`);
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const stat = Deno.readTextFileSync(`/proc/${entry.name}/stat`);
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (
        ppid === Deno.pid && stat.includes("(nsinit:[1:INIT])") &&
        Deno.readLinkSync(`/proc/${entry.name}/ns/pid`) === pidns
      ) return Number(entry.name);
    } catch {
      // gone
    }
  }
  throw new Error("the paused joining process was not found");
}

Deno.test({
  name: "CVE-2016-9962: a joining process is non-dumpable until it execs, as seen from inside",
  ...integration,
  async fn() {
    const { container, pid: initPid, stop } = await startSleeper();
    const state = container.state();
    const pidfd = pidfdOpen(initPid);
    let paused = 0;
    const seen: string[] = [];
    // From inside, as root without CAP_SYS_PTRACE: a dumpable process of the
    // same uid can be inspected, a non-dumpable one cannot.
    const look = async (hostPid: number) => {
      const status = Deno.readTextFileSync(`/proc/${hostPid}/status`);
      const nspid = status.match(/^NSpid:\s+(.*)$/m)![1]!.trim().split(/\s+/).pop();
      const result = await container.start({
        args: [
          "sh",
          "-c",
          `readlink /proc/${nspid}/exe && echo EXE; readlink /proc/${nspid}/fd/0 && echo FDS; ` +
          `cat /proc/${nspid}/environ >/dev/null && echo ENV; echo end`,
        ],
        stdin: "null",
        stdout: "piped",
        stderr: "null",
      });
      const out = await result.output();
      return decoder.decode(out.stdout);
    };
    try {
      const launched = await launch({
        plan: ({ joinFds }) => {
          const ops = buildJoinPlan({
            config: container.config,
            process: { args: ["/bin/true"], env: [], cwd: "/", terminal: false },
            user: { uid: 0, gid: 0, additionalGids: [], home: "/" },
            initPidfd: joinFds[0]!,
            initPid,
            cgroups: cgroupPlacement(dirsFromRecord(state.cgroup_paths)),
          });
          // A test hook: the joined process waits after every join and before its execve.
          ops.splice(ops.length - 1, 0, { op: "SYNC", tag: 42 });
          return ops;
        },
        stdio: [0, 1, 2],
        extraFiles: [],
        joins: [pidfd],
        onPid: (pid) => {
          paused = pid;
        },
        onReady: async () => {
          // The READY record may come before the helper's PID record: find the process then.
          seen.push(await look(paused || pausedJoiner(initPid)));
        },
      });
      await waitPidfd(launched.pidfd);
      closePidfd(launched.pidfd);
      // The control: the init, dumpable, is open to the same look.
      seen.push(await look(initPid));
    } finally {
      closePidfd(pidfd);
      await stop();
    }
    assertEquals(seen[0]!.trim(), "end", `paused joiner: ${seen[0]}`);
    assertMatch(seen[1]!, /EXE\n.*FDS\nENV\nend/s);
    assertNoLeftovers();
  },
});

// ---- #6 /proc overmount (CVE-2019-16884) --------------------------------------------------

Deno.test({
  name: "CVE-2019-16884: a non-procfs mount on /proc or anything mounted under it is refused",
  ...integration,
  async fn() {
    const factory = await testFactory();
    const source = tempDir("fake-proc-");
    const cases = [
      { source: "tmpfs", destination: "/proc", device: "tmpfs" },
      { source, destination: "/proc", device: "bind" },
      { source, destination: "/proc/self/attr", device: "bind" },
      { source: "tmpfs", destination: "/proc/sys", device: "tmpfs" },
    ] as const;
    for (const mount of cases) {
      const base = testConfig();
      const config = { ...base, mounts: [...base.mounts!, { ...mount }] };
      let error: unknown;
      try {
        await factory.create(uniqueId(), config);
      } catch (e) {
        error = e;
      }
      assert(error instanceof ConfigError, `${JSON.stringify(mount)}: ${error}`);
      assertMatch(error.message, /mounts\[6\]/);
    }
    assertNoLeftovers();
  },
});

// ---- #12 stdio reopen (crun CVE-2026-88265) -----------------------------------------------

Deno.test({
  name: "crun CVE-2026-88265: a rootfs /dev/null pointing at a host file is never opened for stdio",
  ...integration,
  async fn() {
    const rootfs = privateRootfs();
    const hostDir = tempDir("host-");
    Deno.writeTextFileSync(`${hostDir}/target`, "host file");
    Deno.symlinkSync(`${hostDir}/target`, `${rootfs}/dev/null`);
    const unchanged = hostSnapshot(`${hostDir}/target`);
    const unchangedDir = hostSnapshot(hostDir);
    const result = await attempt(withoutDevTmpfs(rootfs), {
      args: ["sh", "-c", "stat -L -c '%t:%T' /proc/self/fd/0 /proc/self/fd/2; echo hi >&2"],
      stdin: "null",
      stderr: "null",
    });
    unchanged();
    unchangedDir();
    if (!(result instanceof Error)) {
      assertEquals(result.code, 0);
      assertEquals(result.stdout.trim().split("\n"), ["1:3", "1:3"]);
    }
    assertNoLeftovers();
  },
});

// ---- #13 /dev/console (CVE-2025-52565) ----------------------------------------------------

Deno.test({
  name: "CVE-2025-52565: a planted /dev/console symlink gets the pty, the host target is unchanged",
  ...integration,
  async fn() {
    const rootfs = privateRootfs();
    const hostDir = tempDir("host-");
    Deno.writeTextFileSync(`${hostDir}/target`, "host file");
    Deno.symlinkSync(`${hostDir}/target`, `${rootfs}/dev/console`);
    const unchanged = hostSnapshot(`${hostDir}/target`);
    const factory = await testFactory();
    const container = await factory.create(uniqueId(), withoutDevTmpfs(rootfs));
    let text = "";
    let failure: unknown;
    try {
      const proc = await container.start({
        args: ["sh", "-c", "stat -c '%F %t' /dev/console; stat -L -c '%t' /proc/self/fd/0"],
        terminal: true,
      });
      [text] = await Promise.all([streamText(proc.console!.readable), proc.wait()]);
    } catch (error) {
      failure = error;
    } finally {
      await container.destroy();
    }
    unchanged();
    if (failure === undefined) {
      // 136 = 0x88, the pty major.
      assertEquals(text.trim().split(/\r?\n/), ["character special file 88", "88"], text);
    } else {
      assert(failure instanceof SystemError, String(failure));
    }
    assertNoLeftovers();
  },
});

// ---- #14 procfs writes (CVE-2025-52881) ---------------------------------------------------

Deno.test({
  name: "CVE-2025-52881: sysctls cannot be aimed outside /proc/sys or at host-global knobs",
  ...integration,
  async fn() {
    const corePattern = Deno.readTextFileSync("/proc/sys/kernel/core_pattern");
    const factory = await testFactory();
    for (
      const key of [
        "kernel.core_pattern",
        "kernel.sysrq",
        "../sysrq-trigger",
        "..",
        "kernel/../../self/sched",
        "net.ipv4.ip_forward/../../../../sysrq-trigger",
      ]
    ) {
      let error: unknown;
      try {
        await factory.create(uniqueId(), testConfig({ system_properties: { [key]: "h" } }));
      } catch (e) {
        error = e;
      }
      assert(error instanceof ConfigError, `${key}: ${error}`);
      assertMatch(error.message, /system_properties/);
    }
    // A namespaced sysctl is written, through the verified procfs handle, in the container only.
    const hostValue = Deno.readTextFileSync("/proc/sys/net/ipv4/ip_forward");
    const result = await runContainer(
      testConfig({
        system_properties: { "net.ipv4.ip_forward": hostValue.trim() === "1" ? "0" : "1" },
      }),
      { args: ["cat", "/proc/sys/net/ipv4/ip_forward"] },
    );
    assertEquals(result.stdout.trim(), hostValue.trim() === "1" ? "0" : "1", result.stderr);
    assertEquals(Deno.readTextFileSync("/proc/sys/net/ipv4/ip_forward"), hostValue);
    assertEquals(Deno.readTextFileSync("/proc/sys/kernel/core_pattern"), corePattern);
    assertNoLeftovers();
  },
});

// ---- #16 numeric users (CVE-2016-3697, crun CVE-2026-30892) ------------------------------

Deno.test({
  name: "CVE-2016-3697: a numeric user is a uid, even when passwd has an entry of that name",
  ...integration,
  async fn() {
    const rootfs = privateRootfs();
    Deno.writeTextFileSync(
      `${rootfs}/etc/passwd`,
      Deno.readTextFileSync(`${rootfs}/etc/passwd`) + "1000:x:0:0:impostor:/:/bin/sh\n" +
        "1:x:0:0:impostor2:/:/bin/sh\n",
    );
    const ids = async (user: string) => {
      const result = await runContainer(testConfig({ rootfs }), { args: ["id", "-u"], user });
      assertEquals(result.code, 0, result.stderr);
      return Number(result.stdout.trim());
    };
    assertEquals(await ids("1000"), 1000);
    assertEquals(await ids("1"), 1);
    assertEquals(await ids("1:1"), 1);
    assertEquals(await ids("tester"), 1000);
    assertNoLeftovers();
  },
});

// ---- #18 masked and read-only paths (runc mask.bats, CVE-2023-25809) -----------------------

Deno.test({
  name: "masked and read-only paths hold: masked file empty, /proc/sys EROFS, no umount, /sys ro",
  ...integration,
  async fn() {
    // This kernel may lack /proc/kcore and /proc/sysrq-trigger: mask what it has.
    const masked = ["/proc/kcore", "/proc/timer_list", "/proc/keys"].find((path) => {
      try {
        return Deno.statSync(path).isFile;
      } catch {
        return false;
      }
    })!;
    const result = await runContainer(testConfig({ mask_paths: [masked] }), {
      args: [
        "sh",
        "-c",
        `wc -c < ${masked}; (echo x > /proc/sys/kernel/hostname) 2>&1; umount ${masked} 2>&1; ` +
        "touch /sys/x 2>&1; echo end",
      ],
    });
    const lines = result.stdout.trim().split("\n");
    assertEquals(lines[0]!.trim(), "0", result.stdout);
    assertMatch(lines[1]!, /Read-only file system/);
    assertMatch(lines[2]!, /Operation not permitted|Permission denied/);
    assertMatch(lines[3]!, /Read-only file system/);
    assertEquals(lines.at(-1), "end");
    assertNoLeftovers();
  },
});

// ---- #22 concurrency ---------------------------------------------------------------------

const CHILD = new URL("./_create_child.ts", import.meta.url).pathname;

/** Runs `n` racing child processes; each reports one line, then lives until `release()`. */
async function children(
  n: number,
  args: string[],
): Promise<{ results: Record<string, unknown>[]; release: () => Promise<void> }> {
  const spawned = Array.from({ length: n }, () =>
    new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-all", CHILD, ...args],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn());
  const release = async () => {
    await Promise.all(spawned.map(async (child) => {
      await child.stdin.close().catch(() => {});
      await child.output().catch(() => {});
    }));
  };
  try {
    const results = await Promise.all(spawned.map(async (child) => {
      const reader = child.stdout.getReader();
      const text = await readUntil(reader, (t) => t.includes("\n"), 60_000);
      reader.releaseLock();
      return JSON.parse(text.trim()) as Record<string, unknown>;
    }));
    return { results, release };
  } catch (error) {
    await release();
    throw error;
  }
}

Deno.test({
  name: "20 parallel creates of one id from 20 processes: one success, 19 IdInUse, nothing left",
  ...integration,
  async fn() {
    const factory = await testFactory();
    const id = uniqueId("race");
    const config = JSON.stringify(testConfig());
    const { results, release } = await children(20, ["create", factory.root, id, config]);
    await release();
    const codes = results.map((r) => r.code ?? "ok");
    assertEquals(codes.filter((c) => c === "ok").length, 1, JSON.stringify(results));
    assertEquals(codes.filter((c) => c === "IdInUse").length, 19, JSON.stringify(results));
    for (const r of results) if (r.code) assertMatch(String(r.message), /already in use/);
    const container = await factory.load(id);
    assertEquals(container.status(), "stopped");
    await container.destroy();
    // No staging directory of a loser is left either.
    assertEquals([...Deno.readDirSync(factory.root)].map((e) => e.name), []);
    assertNoLeftovers();
  },
});

Deno.test({
  name: "20 parallel starts of one stopped container from 20 processes make exactly one init",
  ...integration,
  async fn() {
    const factory = await testFactory();
    const id = uniqueId("race");
    const container = await factory.create(id, testConfig());
    const { results, release } = await children(20, ["start", factory.root, id]);
    try {
      assertEquals(results.filter((r) => r.code).length, 0, JSON.stringify(results));
      const pidNamespaces = new Set(results.map((r) => r.pidns));
      assertEquals(pidNamespaces.size, 1, JSON.stringify(results));
      assertEquals(results.filter((r) => r.init).length, 1, JSON.stringify(results));
    } finally {
      // The init dies with the child that created it (parent_death_signal).
      await release();
      for (let i = 0; i < 300 && container.status() === "running"; i++) {
        await new Promise((r) => setTimeout(r, 10));
      }
      await container.destroy();
    }
    assertNoLeftovers();
  },
});

Deno.test({
  name: "destroy() racing start() and signal() from other processes gives clean errors only",
  ...integration,
  async fn() {
    const factory = await testFactory();
    const id = uniqueId("race");
    const container = await factory.create(id, testConfig());
    const racing = children(10, ["start", factory.root, id]);
    await new Promise((r) => setTimeout(r, 50));
    let destroyed = false;
    for (let i = 0; i < 1000 && !destroyed; i++) {
      try {
        if (container.status() === "running") container.signal("SIGKILL");
        await container.destroy();
        destroyed = true;
      } catch (error) {
        assert(error instanceof ContainerError, String(error));
        await new Promise((r) => setTimeout(r, 5));
      }
    }
    const { results, release } = await racing;
    await release();
    for (const r of results) {
      if (r.code) assertMatch(String(r.code), /ContainerNotExists|ContainerNotRunning/);
    }
    // Whatever a late racer started was killed with it: wait for the state to go.
    for (let i = 0; i < 300 && container.status() !== "destroyed"; i++) {
      if (container.status() === "running") container.signal("SIGKILL");
      await new Promise((r) => setTimeout(r, 10));
      await container.destroy().catch(() => {});
    }
    assertEquals(container.status(), "destroyed");
    assertNoLeftovers();
  },
});

Deno.test({
  name: "10 parallel `nsinit exec` of one id: one creates it, the others join, nothing is left",
  ...integration,
  async fn() {
    const env = new CliEnv();
    try {
      // Long enough for every nsinit to start (10 Deno processes on a loaded machine).
      const args = ["exec", "--id", "par", "/bin/sh", "-c", "sleep 5"];
      const results = await Promise.all(
        Array.from({ length: 10 }, () => env.run(args, { ms: 60_000 })),
      );
      const summary = results.map((r) => `${r.code} ${r.stderr.trim()}`).join("; ");
      // The creator's command ends with 0; a joined one is killed when it does (137).
      for (const result of results) assert([0, 137].includes(result.code), summary);
      assert(results.some((r) => r.code === 0), summary);
      env.assertClean();
    } finally {
      await env.cleanup();
    }
  },
});

// ---- #21 the creating process dies in the middle of start() --------------------------

const CRASH_CHILD = new URL("./_crash_child.ts", import.meta.url).pathname;

/** Host pids whose command line holds `marker`. */
function processesWith(marker: string): number[] {
  const found: number[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      if (Deno.readTextFileSync(`/proc/${entry.name}/cmdline`).includes(marker)) {
        found.push(Number(entry.name));
      }
    } catch {
      // gone
    }
  }
  return found;
}

Deno.test({
  name: "a creator killed at any point of start() leaves nothing that destroy() does not remove",
  ...integration,
  async fn() {
    const factory = await testFactory();
    const runs = Number(Deno.env.get("NSINIT_CRASH_RUNS") ?? 30);
    const outcomes = { beforeStarted: 0, afterStarted: 0 };
    for (let run = 0; run < runs; run++) {
      const id = uniqueId("crash");
      const marker = `nsinit-crash-${id}`;
      const child = new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "--allow-all",
          CRASH_CHILD,
          factory.root,
          id,
          JSON.stringify(testConfig()),
          marker,
        ],
        stdout: "piped",
        stderr: "null",
      }).spawn();
      const reader = child.stdout.getReader();
      let text = await readUntil(reader, (t) => t.includes("starting"), 60_000);
      // Spread the kills over the whole start (a few milliseconds on this machine).
      await new Promise((resolve) => setTimeout(resolve, (run * 7) % 40));
      child.kill("SIGKILL");
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        text += decoder.decode(value);
      }
      await child.status;
      if (text.includes("started")) outcomes.afterStarted++;
      else outcomes.beforeStarted++;
      // With its creator gone, the init ends by itself: killed by its
      // parent-death signal, or exiting where it would have armed it.
      for (let i = 0; i < 300 && processesWith(marker).length > 0; i++) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      assertEquals(processesWith(marker), [], `run ${run}: the init outlived its creator`);
      // What `delete --force` does: kill whatever runs, then destroy (nothing should).
      const container = await factory.load(id);
      for (let i = 0; i < 300 && container.status() === "running"; i++) {
        try {
          container.signal("SIGKILL");
        } catch (error) {
          // it may die on its own meanwhile
          assert(error instanceof ContainerError && error.code === "ContainerNotRunning");
        }
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      await container.destroy();
      assertEquals(processesWith(marker), [], `run ${run}: a container process survived`);
      assertNoLeftovers();
    }
    console.log(`crash: ${JSON.stringify(outcomes)}`);
  },
});

// ---- #24 no zombies ------------------------------------------------------------------------

Deno.test({
  name: "100 processes joined into a container leave no zombie children of this process",
  ...integration,
  async fn() {
    const { container, pid, stop } = await startSleeper();
    try {
      for (let i = 0; i < 100; i++) {
        const joined = await container.start({
          args: ["/bin/true"],
          stdin: "null",
          stdout: "null",
          stderr: "null",
        });
        assertEquals((await joined.wait()).code, 0);
      }
      assertEquals(childProcesses().map((line) => Number(line.split(" ")[0])), [pid]);
    } finally {
      await stop();
    }
    assertNoLeftovers();
  },
});

// ---- #30 the helper spawned from a worker ---------------------------------------------------

Deno.test({
  name: "a container started from a Worker outlives the worker (P2 #30)",
  ...integration,
  // Known failure, not fixed here: the init's parent is the thread that spawned
  // the helper (CLONE_PARENT), and PR_SET_PDEATHSIG fires when that thread
  // exits, so terminating the worker kills the init. Fixing it needs a
  // design decision (a helper that stays as the init's parent and watches
  // the sync socket, or spawning from a thread that lives as long as Deno).
  ignore: true,
  async fn() {
    const factory = await testFactory();
    const id = uniqueId("worker");
    const worker = new Worker(new URL("./_worker_start.ts", import.meta.url).href, {
      type: "module",
    });
    const pid = await new Promise<number>((resolve) => {
      worker.onmessage = (event) => resolve(event.data.pid);
      worker.postMessage({ root: factory.root, id, config: testConfig() });
    });
    worker.terminate();
    await new Promise((resolve) => setTimeout(resolve, 500));
    const container = await factory.load(id);
    try {
      assertEquals(container.status(), "running", `init ${pid} died with the worker`);
    } finally {
      if (container.status() === "running") container.signal("SIGKILL");
      await new Promise((resolve) => setTimeout(resolve, 200));
      await container.destroy();
    }
  },
});

// ---- #27 destroy removes only what the container made ----------------------------------

Deno.test({
  name: "destroy() leaves a joined network namespace and a pre-existing parent cgroup alone",
  ...integration,
  async fn() {
    const netns = `nsinit-sec-${Deno.pid}`;
    const hostRun = (...args: string[]) => {
      const out = new Deno.Command(args[0]!, { args: args.slice(1) }).outputSync();
      assert(out.success, `${args.join(" ")}: ${decoder.decode(out.stderr)}`);
      return decoder.decode(out.stdout);
    };
    hostRun("ip", "netns", "add", netns);
    // The parent exists before the container and is someone else's.
    const parent = `${TEST_CGROUP_PARENT}/keep`;
    const hierarchies = [...Deno.readDirSync("/sys/fs/cgroup")].map((e) =>
      `/sys/fs/cgroup/${e.name}`
    )
      .filter((path) => {
        try {
          return Deno.statSync(`${path}/cgroup.procs`).isFile;
        } catch {
          return false;
        }
      });
    const made: string[] = [];
    try {
      for (const hierarchy of hierarchies) {
        for (const dir of [`${hierarchy}/${TEST_CGROUP_PARENT}`, `${hierarchy}/${parent}`]) {
          try {
            Deno.mkdirSync(dir);
            made.push(dir);
          } catch {
            continue; // already there
          }
          // A new cpuset starts with no cpus and no memory nodes: copy the parent's.
          for (const file of ["cpuset.cpus", "cpuset.mems"]) {
            try {
              const value = Deno.readTextFileSync(`${dir}/../${file}`);
              Deno.writeTextFileSync(`${dir}/${file}`, value);
            } catch {
              // not a cpuset hierarchy
            }
          }
        }
      }
      const base = testConfig();
      const config: ConfigInput = {
        ...base,
        namespaces: base.namespaces!.map((ns) =>
          ns.type === "NEWNET" ? { type: "NEWNET", path: `/run/netns/${netns}` } : ns
        ),
        cgroups: { ...base.cgroups!, parent },
      };
      const result = await runContainer(config, { args: ["/bin/true"] });
      assertEquals(result.code, 0, result.stderr);
      // Still there and still a network namespace.
      hostRun("ip", "netns", "exec", netns, "true");
      for (const dir of made) assert(Deno.statSync(dir).isDirectory, `${dir} was removed`);
    } finally {
      for (const dir of made.reverse()) Deno.removeSync(dir);
      hostRun("ip", "netns", "del", netns);
      releaseRunNetns();
    }
    assertNoLeftovers();
  },
});

// ---- #29 library leaks (runc TestFdLeaks) ------------------------------------------------

Deno.test({
  name: "50 containers in one process leave the fd count and the mount table as they were",
  ...integration,
  async fn() {
    await runContainer(testConfig(), { args: ["/bin/true"] }); // warm up: helper memfd, libraries
    const fds = () => [...Deno.readDirSync("/proc/self/fd")].length;
    // Only mounts of ours: other programs on the machine may mount meanwhile.
    const mounts = () =>
      Deno.readTextFileSync("/proc/self/mountinfo").split("\n").filter((line) =>
        /nsinit/.test(line)
      ).length;
    const before = { fds: fds(), mounts: mounts() };
    for (let i = 0; i < 50; i++) {
      const result = await runContainer(testConfig(), { args: ["/bin/true"] });
      assertEquals(result.code, 0);
    }
    assert(fds() <= before.fds, `fds: ${before.fds} before, ${fds()} after`);
    assertEquals(mounts(), before.mounts);
    assertNoLeftovers();
  },
});
