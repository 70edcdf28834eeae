/**
 * Mounts in real containers (the seed's rootfs_linux tests and TestMountCmds):
 * the default mounts, user mounts of every kind, where a destination may
 * resolve to, config validation of mounts, masked and read-only paths and the
 * premount/postmount commands. Every check is made from inside the
 * container (the probe) and, where it matters, from the host.
 */
import { assert, assertEquals, assertMatch, assertRejects } from "../_assert.ts";
import {
  type CommandInput,
  ConfigError,
  type ConfigInput,
  ContainerError,
  type MountInput,
  MS,
  SystemError,
} from "../../mod.ts";
import {
  assertNoLeftovers,
  integration,
  makeRootfs,
  runContainer,
  type RunResult,
  startSleeper,
  tempDir,
  testConfig,
  testFactory,
  testRootfs,
  uniqueId,
} from "../_helpers.ts";
import { mountAt, type MountEntry, parseMountinfo } from "../_mountinfo.ts";

// ---- helpers of this file ------------------------------------------------

/** Asserts that a mount carries every one of `options` (per-mount or superblock). */
function assertOptions(entry: MountEntry, options: string[]): void {
  const all = new Set([...entry.options, ...entry.superOptions]);
  const missing = options.filter((option) => !all.has(option));
  assertEquals(missing, [], `${entry.mountPoint}: ${[...all].join(",")}`);
}

/** The directory every tempDir() lives in: this test run's own. */
const WORK_DIR = tempDir("probe-").replace(/\/[^/]+$/, "");

/**
 * The host's mounts, as `mountpoint fstype options`. Mounts of other test
 * runs (their own /tmp/nsinit-test-* directories) are left out, so that a
 * concurrent run cannot make this one fail; ours are kept.
 */
function hostMounts(): string[] {
  return parseMountinfo(Deno.readTextFileSync("/proc/self/mountinfo"))
    .filter((e) => !/\/nsinit-test-/.test(e.mountPoint) || e.mountPoint.startsWith(WORK_DIR))
    .map((e) => `${e.mountPoint} ${e.fstype} ${e.options.join(",")} ${e.optional.join(" ")}`);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Runs one command in a fresh container on `config`. */
function run(config: ConfigInput, ...args: string[]): Promise<RunResult> {
  return runContainer(config, { args });
}

/** Runs one command and returns what `probe mounts` saw. */
async function mountsIn(config: ConfigInput): Promise<MountEntry[]> {
  const result = await run(config, "/bin/probe", "mounts");
  assertEquals(result.code, 0, result.stderr);
  return parseMountinfo(result.stdout);
}

/** `probe stat` as JSON. */
async function statIn(config: ConfigInput, path: string): Promise<Record<string, unknown>> {
  return JSON.parse((await run(config, "/bin/probe", "stat", path)).stdout);
}

/** The test config on `rootfs` with `mounts` added after the default ones (indices 6, 7, ...). */
function withMounts(rootfs: string, ...mounts: MountInput[]): ConfigInput {
  const config = testConfig({ rootfs });
  return { ...config, mounts: [...config.mounts!, ...mounts] };
}

/** A private busybox rootfs this test may change. */
function privateRootfs(): string {
  return makeRootfs(tempDir("rootfs-"));
}

function listHost(dir: string): string[] {
  return [...Deno.readDirSync(dir)].map((entry) => entry.name).sort();
}

function exists(path: string): boolean {
  try {
    Deno.lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

function hostRun(command: string[]): void {
  const output = new Deno.Command(command[0]!, { args: command.slice(1) }).outputSync();
  assert(output.success, `${command.join(" ")}: ${new TextDecoder().decode(output.stderr)}`);
}

/** Starts a container on `config` expecting the start to fail, and returns the error. */
async function failedStart(config: ConfigInput): Promise<unknown> {
  const factory = await testFactory();
  const container = await factory.create(uniqueId(), config);
  let caught: unknown;
  try {
    const process = await container.start({ args: ["true"], stdout: "null", stderr: "null" });
    await process.wait();
  } catch (error) {
    caught = error;
  }
  try {
    assert(caught !== undefined, "start() should have failed");
    assertEquals(container.status(), "stopped");
  } finally {
    await container.destroy();
  }
  return caught;
}

/** Asserts that creating a container from `config` fails with an issue at `path`. */
async function assertConfigIssue(config: ConfigInput, path: string, message: RegExp) {
  const factory = await testFactory();
  await assertRejects(factory.create(uniqueId(), config), (error: unknown) => {
    assert(error instanceof ConfigError, String(error));
    const issue = error.issues.find((i) => i.path === path);
    assert(issue, `no issue at ${path}: ${error.message}`);
    assertMatch(issue.message, message);
    assertMatch(error.message, new RegExp(escapeRegExp(path)));
    return true;
  });
}

// ---- the default mounts -----------------------------------------------------

Deno.test({
  name: "start() mounts proc, a /dev tmpfs, devpts, shm, mqueue and a read-only sysfs",
  ...integration,
  async fn() {
    const mounts = await mountsIn(testConfig());

    const proc = mountAt(mounts, "/proc");
    assertEquals(proc.fstype, "proc");
    assertOptions(proc, ["rw", "nosuid", "nodev", "noexec"]);

    const dev = mountAt(mounts, "/dev");
    assertEquals(dev.fstype, "tmpfs");
    assertOptions(dev, ["rw", "nosuid", "mode=755", "size=65536k"]);

    const pts = mountAt(mounts, "/dev/pts");
    assertEquals(pts.fstype, "devpts");
    assertOptions(pts, ["nosuid", "noexec", "mode=620", "ptmxmode=666", "gid=5"]);

    const shm = mountAt(mounts, "/dev/shm");
    assertEquals(shm.fstype, "tmpfs");
    assertEquals(shm.source, "shm");
    // tmpfs shows no `mode=` when it is its default 1777: look at the directory instead.
    assertOptions(shm, ["nosuid", "nodev", "noexec", "size=65536k"]);
    assertEquals((await statIn(testConfig(), "/dev/shm")).mode, 1777);

    const mqueue = mountAt(mounts, "/dev/mqueue");
    assertEquals(mqueue.fstype, "mqueue");
    assertOptions(mqueue, ["nosuid", "nodev", "noexec"]);

    const sys = mountAt(mounts, "/sys");
    assertEquals(sys.fstype, "sysfs");
    assertOptions(sys, ["ro", "nosuid", "nodev", "noexec"]);

    // The new devpts instance has its own ptmx.
    assertEquals(await statIn(testConfig(), "/dev/pts/ptmx"), {
      type: "char",
      mode: 666,
      uid: 0,
      gid: 0,
      major: 5,
      minor: 2,
      size: 0,
    });
    const sysWrite = await run(
      testConfig(),
      "/bin/probe",
      "write",
      "/sys/kernel/uevent_helper",
      "x",
    );
    assertEquals(sysWrite.code, 1);
    assertMatch(sysWrite.stderr, /Read-only file system/);
    assertNoLeftovers();
  },
});

Deno.test({
  name:
    "start() mounts only in the container's namespace: the host's mounts are unchanged during and after",
  ...integration,
  async fn() {
    const before = hostMounts();
    const sleeper = await startSleeper();
    let during: string[];
    try {
      during = hostMounts();
      const inside = parseMountinfo(Deno.readTextFileSync(`/proc/${sleeper.pid}/mountinfo`));
      for (const path of ["/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys"]) {
        mountAt(inside, path);
      }
    } finally {
      await sleeper.stop();
    }
    assertEquals(during, before);
    assertEquals(hostMounts(), before);
    assertNoLeftovers();
  },
});

// ---- user mounts --------------------------------------------------------------

Deno.test({
  name:
    "start() bind-mounts a host directory read-write: a file written inside appears on the host",
  ...integration,
  async fn() {
    const rootfs = privateRootfs();
    const source = tempDir("bind-src-");
    Deno.writeTextFileSync(`${source}/from-host`, "host data");
    const config = withMounts(rootfs, { source, destination: "/mnt/rw", device: "bind" });

    const read = await run(config, "/bin/probe", "cat", "/mnt/rw/from-host");
    assertEquals(read.stdout, "host data");
    const write = await run(config, "/bin/probe", "write", "/mnt/rw/from-inside", "container data");
    assertEquals(write.code, 0, write.stderr);
    assertEquals(Deno.readTextFileSync(`${source}/from-inside`), "container data");

    const entry = mountAt(await mountsIn(config), "/mnt/rw");
    assertOptions(entry, ["rw"]);
    // The mount point was created in the rootfs and holds nothing on the host.
    assertEquals(listHost(`${rootfs}/mnt/rw`), []);
    assertNoLeftovers();
  },
});

Deno.test({
  name:
    "start() bind-mounts read-only with MS_BIND|MS_RDONLY: writing fails with EROFS, the host stays writable",
  ...integration,
  async fn() {
    const rootfs = privateRootfs();
    const source = tempDir("bind-src-");
    Deno.writeTextFileSync(`${source}/file`, "original");
    const config = withMounts(rootfs, {
      source,
      destination: "/mnt/ro",
      device: "bind",
      flags: MS.MS_BIND | MS.MS_RDONLY,
    });

    const write = await run(config, "/bin/probe", "write", "/mnt/ro/new", "x");
    assertEquals(write.code, 1);
    assertMatch(write.stderr, /Read-only file system/);
    const overwrite = await run(config, "/bin/probe", "write", "/mnt/ro/file", "changed");
    assertEquals(overwrite.code, 1);
    assertEquals((await run(config, "/bin/probe", "cat", "/mnt/ro/file")).stdout, "original");
    assertOptions(mountAt(await mountsIn(config), "/mnt/ro"), ["ro"]);

    assertEquals(listHost(source), ["file"]);
    Deno.writeTextFileSync(`${source}/host-still-writes`, "yes");
    assertNoLeftovers();
  },
});

Deno.test({
  name: "start() bind-mounts a single file onto a path that does not exist yet, creating the file",
  ...integration,
  async fn() {
    const rootfs = privateRootfs();
    const source = tempDir("bind-src-");
    Deno.writeTextFileSync(`${source}/app.conf`, "key=value\n");
    const config = withMounts(rootfs, {
      source: `${source}/app.conf`,
      destination: "/etc/injected/deeper/app.conf",
      device: "bind",
    });

    assertEquals(
      (await run(config, "/bin/probe", "cat", "/etc/injected/deeper/app.conf")).stdout,
      "key=value\n",
    );
    const stat = await statIn(config, "/etc/injected/deeper/app.conf");
    assertEquals(stat.type, "file");
    assertEquals(stat.size, 10);

    // On the host: an empty file as the mount point, the source untouched.
    const target = Deno.lstatSync(`${rootfs}/etc/injected/deeper/app.conf`);
    assert(target.isFile);
    assertEquals(target.size, 0);
    assertEquals(Deno.readTextFileSync(`${source}/app.conf`), "key=value\n");
    assertNoLeftovers();
  },
});

Deno.test({
  name: "start() mounts a tmpfs with its data options: size=1m,mode=700",
  ...integration,
  async fn() {
    const rootfs = privateRootfs();
    const config = withMounts(rootfs, {
      source: "tmpfs",
      destination: "/scratch",
      device: "tmpfs",
      flags: MS.MS_NOSUID | MS.MS_NODEV,
      data: "size=1m,mode=700",
    });

    const stat = await statIn(config, "/scratch");
    assertEquals([stat.type, stat.mode, stat.uid], ["dir", 700, 0]);
    const entry = mountAt(await mountsIn(config), "/scratch");
    assertEquals(entry.fstype, "tmpfs");
    assertOptions(entry, ["nosuid", "nodev", "size=1024k", "mode=700"]);

    // One megabyte and no more.
    const fill = await run(
      config,
      "/bin/sh",
      "-c",
      "dd if=/dev/zero of=/scratch/a bs=1024 count=512 2>/dev/null && echo fits; " +
        "dd if=/dev/zero of=/scratch/b bs=1024 count=1024 2>/dev/null || echo full",
    );
    assertEquals(fill.stdout, "fits\nfull\n", fill.stderr);
    assertEquals(listHost(`${rootfs}/scratch`), []);
    assertNoLeftovers();
  },
});

Deno.test({
  name: "start() mounts a second proc, sysfs and mqueue outside their usual places",
  ...integration,
  async fn() {
    const rootfs = privateRootfs();
    const config = withMounts(
      rootfs,
      { source: "proc", destination: "/proc2", device: "proc", flags: MS.MS_NOSUID | MS.MS_NODEV },
      { source: "sysfs", destination: "/sys2", device: "sysfs", flags: MS.MS_RDONLY },
      { source: "mqueue", destination: "/mq2", device: "mqueue" },
    );

    const mounts = await mountsIn(config);
    assertEquals(mountAt(mounts, "/proc2").fstype, "proc");
    assertEquals(mountAt(mounts, "/sys2").fstype, "sysfs");
    assertOptions(mountAt(mounts, "/sys2"), ["ro"]);
    assertEquals(mountAt(mounts, "/mq2").fstype, "mqueue");

    // The second proc belongs to the container's pid namespace: its pid 1 is the probe.
    const comm = await run(config, "/bin/probe", "cat", "/proc2/1/comm");
    assertEquals(comm.stdout, "probe\n");
    const sys = JSON.parse((await run(config, "/bin/probe", "ls", "/sys2")).stdout) as string[];
    assert(sys.includes("kernel"), sys.join(" "));
    assertNoLeftovers();
  },
});

Deno.test({
  name: "start() binds submounts only with MS_REC, and MS_REC|MS_RDONLY makes them read-only too",
  ...integration,
  async fn() {
    const rootfs = privateRootfs();
    const source = tempDir("bind-src-");
    Deno.mkdirSync(`${source}/sub`);
    hostRun(["mount", "-t", "tmpfs", "nsinit-test-sub", `${source}/sub`]);
    try {
      Deno.writeTextFileSync(`${source}/sub/file`, "in the submount");
      const config = withMounts(
        rootfs,
        { source, destination: "/mnt/rec", device: "bind", flags: MS.MS_BIND | MS.MS_REC },
        { source, destination: "/mnt/flat", device: "bind", flags: MS.MS_BIND },
        {
          source,
          destination: "/mnt/rec-ro",
          device: "bind",
          flags: MS.MS_BIND | MS.MS_REC | MS.MS_RDONLY,
        },
      );

      assertEquals(
        (await run(config, "/bin/probe", "cat", "/mnt/rec/sub/file")).stdout,
        "in the submount",
      );
      assertEquals(JSON.parse((await run(config, "/bin/probe", "ls", "/mnt/flat/sub")).stdout), []);

      const mounts = await mountsIn(config);
      assertEquals(mountAt(mounts, "/mnt/rec/sub").fstype, "tmpfs");
      assertEquals(mounts.filter((e) => e.mountPoint === "/mnt/flat/sub"), []);
      assertOptions(mountAt(mounts, "/mnt/rec-ro/sub"), ["ro"]);

      const write = await run(config, "/bin/probe", "write", "/mnt/rec-ro/sub/x", "y");
      assertEquals(write.code, 1);
      assertMatch(write.stderr, /Read-only file system/);
      const writeRec = await run(config, "/bin/probe", "write", "/mnt/rec/sub/x", "y");
      assertEquals(writeRec.code, 0, writeRec.stderr);
      assertEquals(Deno.readTextFileSync(`${source}/sub/x`), "y");
    } finally {
      hostRun(["umount", `${source}/sub`]);
    }
    assertNoLeftovers();
  },
});

Deno.test({
  name: "start() creates the missing parent directories of a mount destination",
  ...integration,
  async fn() {
    const rootfs = privateRootfs();
    const config = withMounts(rootfs, {
      source: "tmpfs",
      destination: "/deep/er/and/deeper",
      device: "tmpfs",
    });
    assertEquals(mountAt(await mountsIn(config), "/deep/er/and/deeper").fstype, "tmpfs");
    assert(Deno.statSync(`${rootfs}/deep/er/and/deeper`).isDirectory);
    assertEquals((await statIn(config, "/deep/er")).type, "dir");
    assertNoLeftovers();
  },
});

// ---- where a destination may resolve to ------------------------------------

/**
 * Host state a mount must never change: the host directory a symlink in the
 * rootfs points at, and the host's mount table.
 */
function hostSnapshot(hostDir: string): () => void {
  const mounts = hostMounts();
  const entries = listHost(hostDir);
  return () => {
    assertEquals(listHost(hostDir), entries, `${hostDir} changed on the host`);
    assertEquals(hostMounts(), mounts, "the host's mounts changed");
  };
}

// CVE-2021-30465, CVE-2019-18837 (security-anchors section 4, #7: destination escape).
for (
  const [kind, link] of [
    ["an absolute symlink", (hostDir: string) => hostDir],
    ["a relative symlink that climbs out", (hostDir: string) => `../../../../../..${hostDir}`],
  ] as const
) {
  Deno.test({
    name: `start() resolves a destination through ${kind} inside the rootfs, never on the host`,
    ...integration,
    async fn() {
      const rootfs = privateRootfs();
      const hostDir = tempDir("host-target-");
      // The link's target exists in the rootfs too, as it would in an image that has it.
      Deno.mkdirSync(`${rootfs}${hostDir}`, { recursive: true });
      Deno.symlinkSync(link(hostDir), `${rootfs}/data`);
      const source = tempDir("bind-src-");
      Deno.writeTextFileSync(`${source}/payload`, "bound");
      const unchanged = hostSnapshot(hostDir);
      const config = withMounts(
        rootfs,
        { source, destination: "/data/x", device: "bind" },
        { source: "tmpfs", destination: "/data/y", device: "tmpfs", data: "mode=710" },
      );

      const ls = await run(config, "/bin/sh", "-c", "probe ls /data/x && probe stat /data/y");
      assertEquals(ls.code, 0, ls.stderr);
      assertEquals(ls.stdout.split("\n")[0], '["payload"]');
      assertEquals(JSON.parse(ls.stdout.split("\n")[1]!).mode, 710);
      const mounts = await mountsIn(config);
      assertEquals(mountAt(mounts, `${hostDir}/x`).fstype, mountAt(mounts, "/").fstype);
      assertEquals(mountAt(mounts, `${hostDir}/y`).fstype, "tmpfs");

      unchanged();
      assertEquals(listHost(`${rootfs}${hostDir}`), ["x", "y"]);
      assertNoLeftovers();
    },
  });
}

Deno.test({
  name:
    "start() mounts through a symlink whose target is missing in the rootfs at the in-root location",
  ...integration,
  async fn() {
    // The image's /data points at a path that exists only on the host.
    const rootfs = privateRootfs();
    const hostDir = tempDir("host-target-");
    Deno.symlinkSync(hostDir, `${rootfs}/data`);
    Deno.symlinkSync(`../../../../../..${hostDir}`, `${rootfs}/data2`);
    const source = tempDir("bind-src-");
    Deno.writeTextFileSync(`${source}/payload`, "bound");
    const unchanged = hostSnapshot(hostDir);
    const config = withMounts(
      rootfs,
      { source, destination: "/data/x", device: "bind" },
      { source: "tmpfs", destination: "/data2/y", device: "tmpfs" },
    );

    let result: RunResult | undefined;
    let failure: unknown;
    try {
      result = await run(config, "/bin/probe", "ls", "/data/x");
    } catch (error) {
      failure = error;
    }
    // First what matters most: whatever happened, the host was not touched.
    unchanged();
    // Then the expected result (runc's SecureJoin + MkdirAll): created inside the rootfs.
    assertEquals(failure, undefined, `start() failed: ${failure}`);
    assertEquals(result?.stdout, '["payload"]\n');
    assertEquals(listHost(`${rootfs}${hostDir}`), ["x", "y"]);
    assertNoLeftovers();
  },
});

// CVE-2024-45310 (security-anchors section 4, #9: mkdir in root).
Deno.test({
  name: "start() never creates a destination's missing directories on the host through a symlink",
  ...integration,
  async fn() {
    const rootfs = privateRootfs();
    const hostDir = tempDir("host-target-");
    Deno.symlinkSync(hostDir, `${rootfs}/a`);
    const unchanged = hostSnapshot(hostDir);
    const config = withMounts(rootfs, { source: "tmpfs", destination: "/a/b/c", device: "tmpfs" });

    let failure: unknown;
    try {
      const result = await run(config, "/bin/probe", "stat", "/a/b/c");
      assertEquals(JSON.parse(result.stdout).type, "dir");
    } catch (error) {
      failure = error;
    }
    unchanged();
    assertEquals(exists(`${hostDir}/b`), false);
    if (failure !== undefined) {
      // Refusing is safe too, as long as the message names the destination.
      assert(failure instanceof SystemError, String(failure));
      assertMatch(failure.message, /`\/a\/b\/c`/);
    } else {
      assert(Deno.statSync(`${rootfs}${hostDir}/b/c`).isDirectory);
    }
    assertNoLeftovers();
  },
});

Deno.test({
  name: "start() keeps a destination with `..` components inside the rootfs",
  ...integration,
  async fn() {
    const rootfs = privateRootfs();
    const hostDir = tempDir("host-target-");
    const unchanged = hostSnapshot(hostDir);
    const config = withMounts(rootfs, {
      source: "tmpfs",
      destination: `/../../../..${hostDir}/x`,
      device: "tmpfs",
    });
    assertEquals(mountAt(await mountsIn(config), `${hostDir}/x`).fstype, "tmpfs");
    unchanged();
    assert(Deno.statSync(`${rootfs}${hostDir}/x`).isDirectory);
    assertNoLeftovers();
  },
});

Deno.test({
  name:
    "start() binds a file through a symlink to a host file inside the rootfs, not over the host file",
  ...integration,
  async fn() {
    const rootfs = privateRootfs();
    const hostDir = tempDir("host-target-");
    Deno.writeTextFileSync(`${hostDir}/hostfile`, "host content");
    Deno.mkdirSync(`${rootfs}${hostDir}`, { recursive: true });
    Deno.writeTextFileSync(`${rootfs}${hostDir}/hostfile`, "");
    Deno.symlinkSync(`${hostDir}/hostfile`, `${rootfs}/etc/linked.conf`);
    const source = tempDir("bind-src-");
    Deno.writeTextFileSync(`${source}/app.conf`, "container content");
    const unchanged = hostSnapshot(hostDir);
    const config = withMounts(rootfs, {
      source: `${source}/app.conf`,
      destination: "/etc/linked.conf",
      device: "bind",
    });

    const read = await run(config, "/bin/probe", "cat", "/etc/linked.conf");
    assertEquals(read.stdout, "container content", read.stderr);
    unchanged();
    assertEquals(Deno.readTextFileSync(`${hostDir}/hostfile`), "host content");
    assertNoLeftovers();
  },
});

// CVE-2019-19921, CVE-2023-27561, CVE-2023-28642, youki CVE-2025-54867 (section 4, #5).
for (const tree of ["proc", "sys"]) {
  for (const toRoot of [false, true]) {
    Deno.test({
      name: `start() refuses a rootfs whose /${tree} is a symlink to ${
        toRoot ? "/" : "a host directory"
      } and leaves the host unchanged`,
      ...integration,
      async fn() {
        const rootfs = privateRootfs();
        const hostDir = tempDir("host-target-");
        Deno.removeSync(`${rootfs}/${tree}`);
        Deno.symlinkSync(toRoot ? "/" : hostDir, `${rootfs}/${tree}`);
        // Even with the target present in the rootfs, the kernel tree must be a real directory.
        Deno.mkdirSync(`${rootfs}${hostDir}`, { recursive: true });
        const unchanged = hostSnapshot(hostDir);

        const error = await failedStart(testConfig({ rootfs }));
        assert(error instanceof SystemError, String(error));
        assertMatch(error.message, new RegExp(`\`/${tree}\``));
        assertMatch(error.message, /ELOOP|symlink/);
        unchanged();
        assertEquals(listHost(`${rootfs}${hostDir}`), []);
        assertNoLeftovers();
      },
    });
  }
}

// ---- config validation of mounts ---------------------------------------------

// CVE-2019-16884 (section 4, #6; more cases in escape_test.ts).
Deno.test({
  name: "create() refuses a bind onto /proc or anything under it, naming the field",
  ...integration,
  async fn() {
    const source = tempDir("bind-src-");
    for (const destination of ["/proc", "/proc/sys", "/proc/self/attr", "/x/../proc/sys"]) {
      await assertConfigIssue(
        withMounts(tempDir(), { source, destination, device: "bind" }),
        "mounts[6].destination",
        /Must not be in \/proc/,
      );
    }
    // tmpfs over /proc is refused too: only proc may go there.
    await assertConfigIssue(
      withMounts(tempDir(), { source: "tmpfs", destination: "/proc", device: "tmpfs" }),
      "mounts[6].destination",
      /only a `proc` mount/,
    );
    assertNoLeftovers();
  },
});

Deno.test({
  name: "create() refuses a mount on / and a relative destination, naming the field",
  ...integration,
  async fn() {
    const source = tempDir("bind-src-");
    for (const destination of ["/", "//", "/./", "/x/.."]) {
      await assertConfigIssue(
        withMounts(tempDir(), { source, destination, device: "bind" }),
        "mounts[6].destination",
        /Must not be `\/`/,
      );
    }
    await assertConfigIssue(
      withMounts(tempDir(), { source: "tmpfs", destination: "data", device: "tmpfs" }),
      "mounts[6].destination",
      /absolute/,
    );
    assertNoLeftovers();
  },
});

Deno.test({
  name: "create() refuses an unknown mount kind and a bind without a source, naming the field",
  ...integration,
  async fn() {
    await assertConfigIssue(
      withMounts(tempDir(), {
        source: "server:/export",
        destination: "/mnt",
        device: "nfs" as MountInput["device"],
      }),
      "mounts[6].device",
      /Must be one of .*got `nfs`/,
    );
    await assertConfigIssue(
      withMounts(tempDir(), { destination: "/mnt", device: "bind" }),
      "mounts[6].source",
      /Must not be empty/,
    );
    assertNoLeftovers();
  },
});

Deno.test({
  name: "start() refuses a bind whose source does not exist before anything runs",
  ...integration,
  async fn() {
    const rootfs = privateRootfs();
    const missing = `${tempDir("bind-src-")}/does-not-exist`;
    const before = listHost(rootfs);
    const error = await failedStart(
      withMounts(rootfs, { source: missing, destination: "/mnt/x", device: "bind" }),
    );
    assert(error instanceof ConfigError, String(error));
    assertEquals(error.issues.map((i) => i.path), ["mounts[6].source"]);
    assertMatch(error.message, /mounts\[6\]\.source: .*[Dd]oes not exist/);
    // Nothing ran: not even the mount point was created.
    assertEquals(listHost(rootfs), before);
    assertNoLeftovers();
  },
});

// ---- masked paths ---------------------------------------------------------------

/** Whether this kernel has a /proc file (this VM's has no kcore and no sysrq-trigger). */
function hostHas(path: string): boolean {
  return exists(path);
}

Deno.test({
  name: "start() masks /proc/kcore with the null device by default, when the kernel has one",
  ...integration,
  async fn() {
    const stat = await statIn(testConfig(), "/proc/kcore");
    if (hostHas("/proc/kcore")) {
      assertEquals([stat.type, stat.major, stat.minor], ["char", 1, 3]);
      const read = await run(testConfig(), "/bin/probe", "cat", "/proc/kcore");
      assertEquals([read.code, read.stdout], [0, ""], read.stderr);
    } else {
      // A kernel without CONFIG_PROC_KCORE: the mask is skipped and the start succeeds.
      assertEquals(stat, { error: "ENOENT" });
    }
    assertNoLeftovers();
  },
});

Deno.test({
  name: "start() masks a /proc file with the null device: it reads as empty",
  ...integration,
  async fn() {
    const config = testConfig({ mask_paths: ["/proc/kcore", "/proc/timer_list"] });
    const stat = await statIn(config, "/proc/timer_list");
    assertEquals([stat.type, stat.major, stat.minor], ["char", 1, 3]);
    const read = await run(config, "/bin/probe", "cat", "/proc/timer_list");
    assertEquals([read.code, read.stdout], [0, ""], read.stderr);
    assertOptions(mountAt(await mountsIn(config), "/proc/timer_list"), ["rw"]);
    // Without the mask, the file is the kernel's and has content.
    const plain = testConfig({ mask_paths: [] });
    assertEquals((await statIn(plain, "/proc/timer_list")).type, "file");
    const unmasked = await run(plain, "/bin/probe", "cat", "/proc/timer_list");
    assert(unmasked.stdout.length > 0, unmasked.stderr);
    assertNoLeftovers();
  },
});

Deno.test({
  name: "start() masks a directory with an empty read-only tmpfs and a file with /dev/null",
  ...integration,
  async fn() {
    const rootfs = privateRootfs();
    Deno.mkdirSync(`${rootfs}/secret`);
    Deno.writeTextFileSync(`${rootfs}/secret/key`, "hidden");
    Deno.writeTextFileSync(`${rootfs}/etc/secret.txt`, "hidden too");
    const config = testConfig({
      rootfs,
      mask_paths: ["/proc/kcore", "/secret", "/etc/secret.txt", "/proc/tty"],
    });

    assertEquals(JSON.parse((await run(config, "/bin/probe", "ls", "/secret")).stdout), []);
    assertEquals(JSON.parse((await run(config, "/bin/probe", "ls", "/proc/tty")).stdout), []);
    const write = await run(config, "/bin/probe", "write", "/secret/new", "x");
    assertEquals(write.code, 1);
    assertMatch(write.stderr, /Read-only file system/);
    const file = await run(config, "/bin/probe", "cat", "/etc/secret.txt");
    assertEquals([file.code, file.stdout], [0, ""]);
    // Unmasked, they hold what the rootfs and the kernel have.
    const plain = testConfig({ rootfs });
    assertEquals(JSON.parse((await run(plain, "/bin/probe", "ls", "/secret")).stdout), ["key"]);
    const tty = JSON.parse((await run(plain, "/bin/probe", "ls", "/proc/tty")).stdout);
    assert(tty.length > 0);
    // The host's files are untouched.
    assertEquals(Deno.readTextFileSync(`${rootfs}/secret/key`), "hidden");
    assertNoLeftovers();
  },
});

Deno.test({
  name: "start() skips a mask path that does not exist and creates nothing for it",
  ...integration,
  async fn() {
    const rootfs = privateRootfs();
    const before = listHost(rootfs);
    const config = testConfig({
      rootfs,
      mask_paths: ["/proc/kcore", "/no/such/dir", "/proc/no-such-file"],
    });
    const result = await run(config, "/bin/probe", "stat", "/no");
    assertEquals(JSON.parse(result.stdout), { error: "ENOENT" });
    assertEquals(listHost(rootfs), before);
    assertNoLeftovers();
  },
});

// CVE-2025-31133 (section 4, #11: fake /dev/null).
Deno.test({
  name: "start() refuses to mask with a /dev/null that is not the null device and binds nothing",
  ...integration,
  async fn() {
    // A host file bound over /dev/null must never become the source of a mask.
    const hostDir = tempDir("host-target-");
    Deno.writeTextFileSync(`${hostDir}/fake-null`, "host file");
    const before = Deno.statSync(`${hostDir}/fake-null`);
    const config = withMounts(testRootfs(), {
      source: `${hostDir}/fake-null`,
      destination: "/dev/null",
      device: "bind",
    });
    config.mask_paths = ["/proc/timer_list"];
    const error = await failedStart(config);
    assert(error instanceof SystemError, String(error));
    assertMatch(error.message, /`\/proc\/timer_list`/);
    assertMatch(error.message, /not the null device/);
    assertEquals(Deno.readTextFileSync(`${hostDir}/fake-null`), "host file");
    assertEquals(Deno.statSync(`${hostDir}/fake-null`).mtime, before.mtime);
    assertNoLeftovers();
  },
});

// CVE-2025-31133 (section 4, #11: a missing /dev/null must not skip the mask).
Deno.test({
  name: "start() fails to mask when /dev/null is missing instead of skipping the mask",
  ...integration,
  async fn() {
    const config = testConfig({ mask_paths: ["/proc/timer_list"] });
    config.devices = config.devices!.filter((d) => d.path !== "/dev/null");
    const error = await failedStart(config);
    assert(error instanceof SystemError, String(error));
    assertMatch(error.message, /`\/proc\/timer_list`|`\/dev\/null`/);
    assertNoLeftovers();
  },
});

// ---- read-only paths --------------------------------------------------------------

Deno.test({
  name: "start() makes /proc/sys read-only after applying system_properties",
  ...integration,
  async fn() {
    const config = testConfig({
      system_properties: { "kernel.shmmni": "8192", "net.ipv4.ip_forward": "1" },
    });
    const write = await run(config, "/bin/probe", "write", "/proc/sys/kernel/hostname", "changed");
    assertEquals(write.code, 1);
    assertMatch(write.stderr, /Read-only file system/);
    const read = await run(
      config,
      "/bin/sh",
      "-c",
      "probe sysctl kernel.shmmni; probe sysctl net.ipv4.ip_forward; hostname",
    );
    assertEquals(read.stdout, "8192\n1\nintegration\n", read.stderr);

    const mounts = await mountsIn(config);
    for (const path of ["/proc/sys", "/proc/sysrq-trigger", "/proc/irq", "/proc/bus"]) {
      // This VM's kernel has no /proc/sysrq-trigger: a missing path is skipped.
      if (hostHas(path)) assertOptions(mountAt(mounts, path), ["ro"]);
      else assertEquals(mounts.filter((e) => e.mountPoint === path), []);
    }
    assertOptions(mountAt(mounts, "/proc"), ["rw"]);
    assertNoLeftovers();
  },
});

Deno.test({
  name: "start() makes a rootfs directory in readonly_paths read-only and skips missing ones",
  ...integration,
  async fn() {
    const rootfs = privateRootfs();
    const before = listHost(rootfs);
    const config = testConfig({ rootfs, readonly_paths: ["/etc", "/no/such/path"] });
    const write = await run(config, "/bin/probe", "write", "/etc/new", "x");
    assertEquals(write.code, 1);
    assertMatch(write.stderr, /Read-only file system/);
    const tmp = await run(config, "/bin/probe", "write", "/tmp/new", "x");
    assertEquals(tmp.code, 0, tmp.stderr);
    assertEquals(Deno.readTextFileSync(`${rootfs}/tmp/new`), "x");
    assertEquals(listHost(rootfs), before);
    // Read-only in the container only.
    Deno.writeTextFileSync(`${rootfs}/etc/host-writes`, "yes");
    assertNoLeftovers();
  },
});

// ---- premount and postmount commands (TestMountCmds) ----------------------------

/**
 * A command as an executable script on the host, run with no `args`: the
 * seed and this runtime agree on what that means (argv is just the path),
 * so these tests hold whichever way `args` is read.
 */
function hook(body: string, options: Omit<CommandInput, "path"> = {}): CommandInput {
  const path = `${tempDir("hook-")}/hook.sh`;
  Deno.writeTextFileSync(path, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  Deno.chmodSync(path, 0o755);
  return { path, ...options };
}

Deno.test({
  name: "start() runs premount commands before and postmount commands after their mount",
  ...integration,
  async fn() {
    const rootfs = privateRootfs();
    const source = tempDir("bind-src-");
    const config = withMounts(
      rootfs,
      {
        source,
        destination: "/mnt/src",
        device: "bind",
        premount_cmds: [
          hook(`echo "$MARK" > ${source}/pre; pwd > ${source}/pwd`, {
            env: ["MARK=premount ran"],
            dir: source,
          }),
        ],
      },
      {
        source: "tmpfs",
        destination: "/scratch",
        device: "tmpfs",
        // Before the mount: lands in the rootfs's own directory, hidden inside by the tmpfs.
        premount_cmds: [hook(`mkdir -p ${rootfs}/scratch && echo under > ${rootfs}/scratch/under`)],
        // After the mount: lands in the container's tmpfs, which the host never sees.
        postmount_cmds: [hook(`echo post > ${rootfs}/scratch/post`)],
      },
    );

    const result = await run(config, "/bin/sh", "-c", "cat /mnt/src/pre /mnt/src/pwd; ls /scratch");
    assertEquals(result.stdout, `premount ran\n${source}\npost\n`, result.stderr);
    assertEquals(listHost(`${rootfs}/scratch`), ["under"]);
    assertNoLeftovers();
  },
});

Deno.test({
  name: "start() runs the seed's mount commands as the seed wrote them (TestMountCmds)",
  ...integration,
  async fn() {
    // libcontainer integration/exec_test.go TestMountCmds, as written in 2015: `path` is
    // looked up in PATH and `args` are the arguments after it (Go's exec.Command(path, args...)).
    const rootfs = privateRootfs();
    const tmpDir = tempDir("tmpdir-");
    const config = withMounts(rootfs, {
      source: tmpDir,
      destination: "/tmp",
      device: "bind",
      flags: MS.MS_BIND | MS.MS_REC,
      premount_cmds: [
        { path: "touch", args: [`${tmpDir}/hello`] },
        { path: "touch", args: [`${tmpDir}/world`] },
      ],
      postmount_cmds: [
        { path: "cp", args: [`${rootfs}/tmp/hello`, `${rootfs}/tmp/hello-backup`] },
        { path: "cp", args: [`${rootfs}/tmp/world`, `${rootfs}/tmp/world-backup`] },
      ],
    });
    const result = await runContainer(config, {
      args: ["sh", "-c", "env"],
      env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
    });
    assertEquals(result.code, 0, result.stderr);
    assertEquals(listHost(tmpDir), ["hello", "hello-backup", "world", "world-backup"]);
    assertNoLeftovers();
  },
});

Deno.test({
  name: "start() passes a command's args after its path, as the seed's exec.Command did",
  ...integration,
  async fn() {
    const rootfs = privateRootfs();
    const out = tempDir("hook-out-");
    const config = withMounts(rootfs, {
      source: "tmpfs",
      destination: "/scratch",
      device: "tmpfs",
      premount_cmds: [{
        path: "/bin/sh",
        args: ["-c", `echo "$0|$1" > ${out}/argv`, "zero", "one"],
      }],
    });
    const result = await run(config, "/bin/probe", "exit", "0");
    assertEquals(result.code, 0, result.stderr);
    assertEquals(Deno.readTextFileSync(`${out}/argv`), "zero|one\n");
    assertNoLeftovers();
  },
});

for (const which of ["premount_cmds", "postmount_cmds"] as const) {
  Deno.test({
    name: `start() fails when one of ${which} fails, naming it and its exit status`,
    ...integration,
    async fn() {
      const rootfs = privateRootfs();
      const before = hostMounts();
      const failing = hook("exit 3");
      const error = await failedStart(
        withMounts(rootfs, {
          source: "tmpfs",
          destination: "/scratch",
          device: "tmpfs",
          [which]: [failing],
        }),
      );
      assert(error instanceof ContainerError, String(error));
      assertMatch(error.message, new RegExp(`\`${escapeRegExp(failing.path!)}\`.*exit status 3`));

      const missing = await failedStart(
        withMounts(rootfs, {
          source: "tmpfs",
          destination: "/scratch",
          device: "tmpfs",
          [which]: [{ path: "/no/such/hook" }],
        }),
      );
      assertMatch(String(missing), /`\/no\/such\/hook`.*(exit status 127|ENOENT)/);
      assertEquals(hostMounts(), before);
      assertNoLeftovers();
    },
  });
}
