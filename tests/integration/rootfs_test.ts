/**
 * The root filesystem switch, seen from inside and outside real containers:
 * pivot_root and its MS_MOVE + chroot fallback, a read-only root, the
 * propagation of `/` (slave by default, private with `privatefs`) and the
 * hostname (the seed's rootfs and UTS tests).
 */
import { assert, assertEquals, assertMatch, assertNotEquals } from "../_assert.ts";
import { type ConfigInput, namespaceIds } from "../../mod.ts";
import { DEFAULT_MASKED_PATHS, DEFAULT_READONLY_PATHS } from "../../lib/config/mod.ts";
import {
  assertNoLeftovers,
  integration,
  makeRootfs,
  probeReport,
  runContainer,
  type RunResult,
  startSleeper,
  tempDir,
  testConfig,
  testRootfs,
} from "../_helpers.ts";
import { mountAt, type MountEntry, parseMountinfo } from "../_mountinfo.ts";

// ---- helpers of this file ------------------------------------------------

/** The host mount that holds `path`: the longest mount point that is a prefix of it. */
function hostMountHolding(path: string): MountEntry {
  const entries = parseMountinfo(Deno.readTextFileSync("/proc/self/mountinfo"));
  const holding = entries.filter((e) =>
    e.mountPoint === "/" || path === e.mountPoint || path.startsWith(`${e.mountPoint}/`)
  );
  return holding.reduce((best, e) => e.mountPoint.length >= best.mountPoint.length ? e : best);
}

/** Runs one command in a fresh container on `config` and returns its output. */
function run(config: ConfigInput, ...args: string[]): Promise<RunResult> {
  return runContainer(config, { args });
}

function sorted(names: Iterable<string>): string[] {
  return [...names].sort((a, b) => a < b ? -1 : a > b ? 1 : 0);
}

function listHost(dir: string): string[] {
  return sorted([...Deno.readDirSync(dir)].map((entry) => entry.name));
}

function sh(command: string[]): void {
  const output = new Deno.Command(command[0]!, { args: command.slice(1) }).outputSync();
  const stderr = new TextDecoder().decode(output.stderr);
  assert(output.success, `${command.join(" ")} failed: ${stderr}`);
}

/** What the default config mounts, masks and protects: the only mount points a container may see. */
const CONTAINER_MOUNT_POINTS = new Set([
  "/",
  "/proc",
  "/dev",
  "/dev/pts",
  "/dev/shm",
  "/dev/mqueue",
  "/sys",
  ...DEFAULT_MASKED_PATHS,
  ...DEFAULT_READONLY_PATHS,
]);

// ---- the root switch ------------------------------------------------------

for (const noPivot of [false, true]) {
  const how = noPivot ? "with no_pivot_root moves the rootfs onto / and chroots" : "pivots";
  Deno.test({
    name: `start() ${how}: / is the rootfs and the host's files are out of reach`,
    ...integration,
    async fn() {
      const rootfs = makeRootfs(tempDir("rootfs-"));
      Deno.writeTextFileSync(`${rootfs}/marker`, "written on the host");
      const hostDir = tempDir("host-only-");
      Deno.writeTextFileSync(`${hostDir}/secret`, "host");
      const before = listHost(rootfs);
      const config = testConfig({ rootfs, no_pivot_root: noPivot });

      const ls = await run(config, "/bin/probe", "ls", "/");
      assertEquals(ls.code, 0, ls.stderr);
      assertEquals(JSON.parse(ls.stdout), before);

      const marker = await run(config, "/bin/probe", "cat", "/marker");
      assertEquals(marker.stdout, "written on the host");

      const secret = await run(config, "/bin/probe", "stat", `${hostDir}/secret`);
      assertEquals(JSON.parse(secret.stdout), { error: "ENOENT" });
      // The host's own root is not reachable by name either: /bin/probe exists only in the rootfs.
      assertEquals((await run(config, "/bin/probe", "stat", "/bin/dash")).code, 1);

      // Only the container's own mounts are visible: the old root is gone (or out of reach).
      const mounts = await run(config, "/bin/probe", "mounts");
      assertEquals(mounts.code, 0, mounts.stderr);
      const points = parseMountinfo(mounts.stdout).map((e) => e.mountPoint);
      const foreign = points.filter((point) => !CONTAINER_MOUNT_POINTS.has(point));
      assertEquals(foreign, [], mounts.stdout);
      assert(points.includes("/"), mounts.stdout);

      const report = await probeReport(config);
      assertEquals(report.cwd, "/");
      assertNotEquals((report.ns as Record<string, number>).mnt, namespaceIds().mnt);
      // Starting changed nothing in the rootfs on the host.
      assertEquals(listHost(rootfs), before);
      assertNoLeftovers();
    },
  });
}

for (const noPivot of [false, true]) {
  Deno.test({
    name: `start() with readonlyfs${
      noPivot ? " and no_pivot_root" : ""
    } makes / read-only inside but not on the host`,
    ...integration,
    async fn() {
      const rootfs = makeRootfs(tempDir("rootfs-"));
      const config = testConfig({ rootfs, readonlyfs: true, no_pivot_root: noPivot });

      const report = await probeReport(config);
      assertEquals(report.root_is_readonly, true);

      const write = await run(config, "/bin/probe", "write", "/x", "y");
      assertEquals(write.code, 1);
      assertMatch(write.stderr, /Read-only file system/);
      const writeTmp = await run(config, "/bin/probe", "write", "/tmp/x", "y");
      assertEquals(writeTmp.code, 1, "the rootfs's /tmp is part of / and read-only too");

      // Mounts of their own stay writable.
      const shm = await run(config, "/bin/probe", "write", "/dev/shm/x", "y");
      assertEquals(shm.code, 0, shm.stderr);

      const mounts = parseMountinfo((await run(config, "/bin/probe", "mounts")).stdout);
      assert(mountAt(mounts, "/").options.includes("ro"), JSON.stringify(mountAt(mounts, "/")));

      // Nothing was written, and the host's view of the rootfs stays writable.
      assert(!listHost(rootfs).includes("x"));
      Deno.writeTextFileSync(`${rootfs}/host-can-write`, "yes");
      assertEquals(hostMountHolding(rootfs).options.includes("ro"), false);
      assertNoLeftovers();
    },
  });
}

Deno.test({
  name:
    "start() without readonlyfs leaves / writable and a file written inside lands in the rootfs",
  ...integration,
  async fn() {
    const rootfs = makeRootfs(tempDir("rootfs-"));
    const config = testConfig({ rootfs });

    const report = await probeReport(config);
    assertEquals(report.root_is_readonly, false);

    const write = await run(config, "/bin/probe", "write", "/written", "from inside");
    assertEquals(write.code, 0, write.stderr);
    assertEquals(Deno.readTextFileSync(`${rootfs}/written`), "from inside");
    assertNoLeftovers();
  },
});

// ---- propagation of / -------------------------------------------------------

/**
 * This VM's root mount is private (no `shared:` field), so a container on the
 * shared test rootfs cannot show `master:`. The tests below therefore build
 * the rootfs on a tmpfs the test makes shared, which is what a host with
 * systemd (shared `/`) looks like; the first test covers the host as it is.
 */
Deno.test({
  name: "start() makes / a slave of the host's root mount when it is shared, else keeps it private",
  ...integration,
  async fn() {
    const host = hostMountHolding(testRootfs());
    const peer = host.optional.find((field) => field.startsWith("shared:"));
    const mounts = await run(testConfig(), "/bin/probe", "mounts");
    assertEquals(mounts.code, 0, mounts.stderr);
    const root = mountAt(parseMountinfo(mounts.stdout), "/");
    if (peer) {
      assertEquals(root.optional, [`master:${peer.slice("shared:".length)}`]);
    } else {
      // A private host mount has no peers to follow: the copy is private too.
      assertEquals(root.optional, []);
    }
    assertNoLeftovers();
  },
});

/** A tmpfs mounted on the host and made shared, holding a rootfs; unmounted by `dispose`. */
function sharedRootfs(): { shared: string; rootfs: string; peer: string; dispose: () => void } {
  const shared = tempDir("shared-");
  sh(["mount", "-t", "tmpfs", "-o", "size=64m", "nsinit-test-shared", shared]);
  try {
    sh(["mount", "--make-shared", shared]);
    const rootfs = makeRootfs(`${shared}/rootfs`);
    Deno.mkdirSync(`${rootfs}/late`);
    const entry = mountAt(parseMountinfo(Deno.readTextFileSync("/proc/self/mountinfo")), shared);
    const peer = entry.optional.find((field) => field.startsWith("shared:"));
    assert(peer, `${shared} is not shared: ${entry.optional}`);
    return {
      shared,
      rootfs,
      peer: peer.slice("shared:".length),
      dispose: () => sh(["umount", "-R", shared]),
    };
  } catch (error) {
    sh(["umount", "-R", shared]);
    throw error;
  }
}

/** Host mounts on `dir` or under it. */
function hostMountsUnder(dir: string): string[] {
  return parseMountinfo(Deno.readTextFileSync("/proc/self/mountinfo"))
    .map((e) => e.mountPoint)
    .filter((point) => point === dir || point.startsWith(`${dir}/`));
}

for (const noPivot of [false, true]) {
  Deno.test({
    name:
      `start()${noPivot ? " with no_pivot_root" : ""} makes / a slave of a shared rootfs mount: ` +
      "host mounts propagate in, the container's never out",
    ...integration,
    async fn() {
      const { rootfs, peer, dispose } = sharedRootfs();
      try {
        const sleeper = await startSleeper(testConfig({ rootfs, no_pivot_root: noPivot }));
        try {
          const inside = () =>
            parseMountinfo(Deno.readTextFileSync(`/proc/${sleeper.pid}/mountinfo`));
          assertEquals(mountAt(inside(), "/").optional, [`master:${peer}`]);
          // The container's /proc, /dev, /sys ... were made in its namespace only.
          assertEquals(hostMountsUnder(rootfs), []);

          sh(["mount", "-t", "tmpfs", "nsinit-test-late", `${rootfs}/late`]);
          Deno.writeTextFileSync(`${rootfs}/late/file`, "mounted later on the host");
          assertEquals(mountAt(inside(), "/late").fstype, "tmpfs");
          assertEquals(
            Deno.readTextFileSync(`/proc/${sleeper.pid}/root/late/file`),
            "mounted later on the host",
          );
        } finally {
          await sleeper.stop();
        }
      } finally {
        dispose();
      }
      assertNoLeftovers();
    },
  });
}

Deno.test({
  name: "start() with privatefs makes / private: it follows no host mount and host mounts stay out",
  ...integration,
  async fn() {
    const { rootfs, dispose } = sharedRootfs();
    try {
      const sleeper = await startSleeper(testConfig({ rootfs, privatefs: true }));
      try {
        const inside = () =>
          parseMountinfo(Deno.readTextFileSync(`/proc/${sleeper.pid}/mountinfo`));
        assertEquals(mountAt(inside(), "/").optional, []);
        assertEquals(
          inside().filter((e) => e.optional.length > 0).map((e) => `${e.mountPoint} ${e.optional}`),
          [],
        );
        assertEquals(hostMountsUnder(rootfs), []);

        sh(["mount", "-t", "tmpfs", "nsinit-test-late", `${rootfs}/late`]);
        Deno.writeTextFileSync(`${rootfs}/late/file`, "mounted later on the host");
        assertEquals(inside().filter((e) => e.mountPoint === "/late"), []);
        assertEquals([...Deno.readDirSync(`/proc/${sleeper.pid}/root/late`)], []);
      } finally {
        await sleeper.stop();
      }
    } finally {
      dispose();
    }
    assertNoLeftovers();
  },
});

// ---- hostname ---------------------------------------------------------------

Deno.test({
  name: "start() sets the config's hostname in a new uts namespace",
  ...integration,
  async fn() {
    const hostBefore = Deno.hostname();
    const result = await run(testConfig(), "hostname");
    assertEquals(result.stdout.trim(), "integration");
    const report = await probeReport(testConfig({ hostname: "another-name" }));
    assertEquals(report.hostname, "another-name");
    assertNotEquals((report.ns as Record<string, number>).uts, namespaceIds().uts);
    assertEquals(Deno.hostname(), hostBefore, "the host's hostname is unchanged");
    assertNoLeftovers();
  },
});

Deno.test({
  name: "start() without NEWUTS keeps the host's hostname and uts namespace",
  ...integration,
  async fn() {
    const config = testConfig({ hostname: "" });
    config.namespaces = config.namespaces!.filter((ns) => ns.type !== "NEWUTS");
    const report = await probeReport(config);
    assertEquals(report.hostname, Deno.hostname());
    assertEquals((report.ns as Record<string, number>).uts, namespaceIds().uts);
    const result = await run(config, "hostname");
    assertEquals(result.stdout.trim(), Deno.hostname());
    assertNoLeftovers();
  },
});
