/**
 * Device nodes and the devices cgroup in real containers: the default nodes
 * and /dev symlinks, custom nodes with their mode and owner, the v1 devices
 * cgroup's allow list and what it refuses inside the container.
 */
import { assert, assertEquals, assertMatch } from "../_assert.ts";
import { type ConfigInput, type Device, type DeviceInput } from "../../mod.ts";
import {
  assertNoLeftovers,
  integration,
  makeRootfs,
  runContainer,
  type RunResult,
  startSleeper,
  tempDir,
  testConfig,
} from "../_helpers.ts";

// ---- helpers of this file ------------------------------------------------

function run(config: ConfigInput, ...args: string[]): Promise<RunResult> {
  return runContainer(config, { args });
}

/** A rule as the kernel lists it in devices.list: `c 1:3 rwm`, `b *:* m`. */
function ruleText(rule: Pick<Device, "type" | "major" | "minor" | "permissions">): string {
  const number = (n: number) => n < 0 ? "*" : String(n);
  return `${rule.type} ${number(rule.major)}:${number(rule.minor)} ${rule.permissions}`;
}

/** The devices.list of a running container's devices cgroup, sorted, and that cgroup's path. */
async function devicesList(config: ConfigInput): Promise<{ path: string; rules: string[] }> {
  const sleeper = await startSleeper(config);
  try {
    const path = sleeper.container.state().cgroup_paths.devices;
    assert(path, `no devices cgroup in ${JSON.stringify(sleeper.container.state().cgroup_paths)}`);
    const procs = Deno.readTextFileSync(`${path}/cgroup.procs`).trim().split("\n").map(Number);
    assert(procs.includes(sleeper.pid), `${sleeper.pid} is not in ${path}: ${procs}`);
    const text = Deno.readTextFileSync(`${path}/devices.list`);
    return { path, rules: text.trim().split("\n").sort() };
  } finally {
    await sleeper.stop();
  }
}

/** The directory every tempDir() lives in: this test run's own. */
const WORK_DIR = tempDir("probe-").replace(/\/[^/]+$/, "");

/** The host's mount points; those of other test runs (their own /tmp/nsinit-test-*) left out. */
function hostMounts(): string[] {
  return Deno.readTextFileSync("/proc/self/mountinfo").split("\n")
    .map((line) => line.split(" ")[4] ?? "")
    .filter((point) => !/\/nsinit-test-/.test(point) || point.startsWith(WORK_DIR));
}

const hasDevicesV1 = (() => {
  try {
    return Deno.statSync("/sys/fs/cgroup/devices/devices.list").isFile;
  } catch {
    return false;
  }
})();

/** Tests of the v1 devices cgroup skip where it is not mounted (a cgroup v2 only host). */
const devicesV1 = { ignore: integration.ignore || !hasDevicesV1 };

// ---- device nodes -------------------------------------------------------------

Deno.test({
  name: "start() creates the default device nodes with their numbers and mode 0666",
  ...integration,
  async fn() {
    const expected: [string, number, number][] = [
      ["/dev/null", 1, 3],
      ["/dev/zero", 1, 5],
      ["/dev/full", 1, 7],
      ["/dev/tty", 5, 0],
      ["/dev/urandom", 1, 9],
      ["/dev/random", 1, 8],
      ["/dev/fuse", 10, 229],
    ];
    const script = expected.map(([path]) => `probe stat ${path}`).join(" && ");
    const result = await run(testConfig(), "/bin/sh", "-c", script);
    assertEquals(result.code, 0, result.stderr);
    const stats = result.stdout.trim().split("\n").map((line) => JSON.parse(line));
    assertEquals(
      stats,
      expected.map(([, major, minor]) => ({
        type: "char",
        mode: 666,
        uid: 0,
        gid: 0,
        major,
        minor,
        size: 0,
      })),
    );
    // /dev is the container's own tmpfs: nothing else from the host's /dev.
    const ls = JSON.parse((await run(testConfig(), "/bin/probe", "ls", "/dev")).stdout);
    assertEquals(ls, [
      "fd",
      "full",
      "fuse",
      "mqueue",
      "null",
      "ptmx",
      "pts",
      "random",
      "shm",
      "stderr",
      "stdin",
      "stdout",
      "tty",
      "urandom",
      "zero",
    ]);
    assertNoLeftovers();
  },
});

Deno.test({
  name: "start() links /dev/fd, stdin, stdout, stderr and ptmx where they belong",
  ...integration,
  async fn() {
    const result = await run(
      testConfig(),
      "/bin/sh",
      "-c",
      'for l in fd stdin stdout stderr ptmx; do echo "$l $(readlink /dev/$l)"; done',
    );
    assertEquals(result.code, 0, result.stderr);
    assertEquals(result.stdout.trim().split("\n"), [
      "fd /proc/self/fd",
      "stdin /proc/self/fd/0",
      "stdout /proc/self/fd/1",
      "stderr /proc/self/fd/2",
      "ptmx pts/ptmx",
    ]);
    // They work: writing to /dev/stdout reaches the process's stdout.
    const echo = await run(testConfig(), "/bin/probe", "write", "/dev/stdout", "through the link");
    assertEquals(echo.stdout, "through the link");
    // ptmx leads to the container's own devpts instance.
    const ptmx = await run(testConfig(), "/bin/sh", "-c", "stat -L -c '%t:%T' /dev/ptmx");
    assertEquals(ptmx.stdout.trim(), "5:2");
    assertNoLeftovers();
  },
});

Deno.test({
  name: "start() creates a custom device node with its mode and owner",
  ...integration,
  async fn() {
    // A rootfs of its own whose / other users may enter (tempDir() makes it 0700).
    const rootfs = makeRootfs(tempDir("rootfs-"));
    Deno.chmodSync(rootfs, 0o755);
    const config = testConfig({ rootfs });
    const custom: DeviceInput[] = [
      {
        type: "c",
        path: "/dev/custom",
        major: 1,
        minor: 7,
        permissions: "rwm",
        file_mode: 0o600,
        uid: 1000,
        gid: 1000,
      },
      { type: "c", path: "/dev/sub/dir/null2", major: 1, minor: 3, file_mode: 0o640, gid: 5 },
      { type: "b", path: "/dev/blk", major: 7, minor: 0, file_mode: 0o660 },
      { type: "p", path: "/dev/fifo", major: 0, minor: 0, file_mode: 0o620 },
    ];
    config.devices = [...config.devices!, ...custom];

    const script = "probe stat /dev/custom && probe stat /dev/sub/dir/null2 && " +
      "probe stat /dev/blk && probe stat /dev/fifo";
    const result = await run(config, "/bin/sh", "-c", script);
    assertEquals(result.code, 0, result.stderr);
    const [customStat, nullStat, blkStat, fifoStat] = result.stdout.trim().split("\n").map((l) =>
      JSON.parse(l)
    );
    assertEquals(customStat, {
      type: "char",
      mode: 600,
      uid: 1000,
      gid: 1000,
      major: 1,
      minor: 7,
      size: 0,
    });
    assertEquals(nullStat, {
      type: "char",
      mode: 640,
      uid: 0,
      gid: 5,
      major: 1,
      minor: 3,
      size: 0,
    });
    assertEquals(
      [blkStat.type, blkStat.mode, blkStat.major, blkStat.minor],
      ["block", 660, 7, 0],
    );
    assertEquals([fifoStat.type, fifoStat.mode], ["fifo", 620]);

    // /dev/custom is the full device, and the cgroup allows 1:7: writing fails with ENOSPC.
    const full = await run(config, "/bin/probe", "write", "/dev/custom", "x");
    assertEquals(full.code, 1);
    assertMatch(full.stderr, /No space left on device/);
    // The owner's mode is honoured: uid 1000 may open it, another user may not.
    const owner = await runContainer(config, {
      args: ["/bin/probe", "write", "/dev/custom", "x"],
      user: "1000:1000",
    });
    assertMatch(owner.stderr, /No space left on device/);
    const other = await runContainer(config, {
      args: ["/bin/probe", "write", "/dev/custom", "x"],
      user: "daemon",
    });
    assertMatch(other.stderr, /Permission denied/);
    assertNoLeftovers();
  },
});

Deno.test({
  name: "start() never changes the owner of a host file bind-mounted where a device node goes",
  ...integration,
  async fn() {
    const hostDir = tempDir("host-");
    const file = `${hostDir}/file`;
    Deno.writeTextFileSync(file, "host data");
    Deno.chownSync(file, 1234, 1234);
    Deno.chmodSync(file, 0o640);
    const config = testConfig({ mask_paths: [] });
    config.mounts = [...config.mounts!, { source: file, destination: "/dev/full", device: "bind" }];
    // Refusing the config would be fine too; changing the host file is not.
    let output: RunResult | undefined;
    try {
      output = await runContainer(config, { args: ["/bin/probe", "stat", "/dev/full"] });
    } catch (error) {
      console.warn(`start() refused the config: ${error}`);
    }
    const after = Deno.statSync(file);
    assertEquals(
      { uid: after.uid, gid: after.gid, mode: after.mode! & 0o7777 },
      { uid: 1234, gid: 1234, mode: 0o640 },
    );
    assertEquals(Deno.readTextFileSync(file), "host data");
    if (output) assertEquals(JSON.parse(output.stdout).type, "file", "the bind covers the node");
    assertNoLeftovers();
  },
});

// runc CVE-2026-41579, crun CVE-2026-47766 and CVE-2026-88264 (security-anchors section 4, #10).
for (const present of [false, true]) {
  Deno.test({
    name: `start() with /dev a symlink to a host directory ${
      present ? "(present in the rootfs too) keeps /dev in the rootfs" : "never populates it"
    }`,
    ...integration,
    async fn() {
      const rootfs = makeRootfs(tempDir("rootfs-"));
      const hostDir = tempDir("host-dev-");
      Deno.removeSync(`${rootfs}/dev`);
      Deno.symlinkSync(hostDir, `${rootfs}/dev`);
      if (present) Deno.mkdirSync(`${rootfs}${hostDir}`, { recursive: true });
      const mountsBefore = hostMounts();

      let failure: unknown;
      let result: RunResult | undefined;
      try {
        result = await run(testConfig({ rootfs }), "/bin/probe", "stat", "/dev/null");
      } catch (error) {
        failure = error;
      }
      // The host directory gains no nodes, links or mounts, whatever happened.
      assertEquals([...Deno.readDirSync(hostDir)], []);
      assertEquals(hostMounts(), mountsBefore);
      if (present) {
        // The tmpfs went on the in-root target, so the devices are there.
        assertEquals(failure, undefined, String(failure));
        assertEquals(JSON.parse(result!.stdout).major, 1);
        assertEquals([...Deno.readDirSync(`${rootfs}${hostDir}`)], []);
      } else if (failure !== undefined) {
        assertMatch(String(failure), /`\/dev`/);
      }
      assertNoLeftovers();
    },
  });
}

// ---- the devices cgroup (v1) ---------------------------------------------------

Deno.test({
  name: "start() writes the config's allowed devices as the devices cgroup's whole allow list",
  ...devicesV1,
  async fn() {
    const config = testConfig();
    const { rules } = await devicesList(config);
    assertEquals(rules, config.cgroups!.allowed_devices!.map((d) => ruleText(d as Device)).sort());
    // It is the default list: the mknod wildcards, consoles, ptys, tun and the simple devices.
    assert(rules.includes("c *:* m") && rules.includes("b *:* m"), rules.join("\n"));
    assert(rules.includes("c 136:* rwm"), rules.join("\n"));
    assert(!rules.some((rule) => rule.startsWith("c 10:229")), "fuse is created, not allowed");
    assertNoLeftovers();
  },
});

Deno.test({
  name: "start() writes a custom allow list, and allow_all_devices allows everything",
  ...devicesV1,
  async fn() {
    const base = testConfig();
    const allowed: DeviceInput[] = [
      { type: "c", major: 1, minor: 3, permissions: "rw" },
      { type: "c", major: 1, minor: 5, permissions: "r" },
      { type: "c", major: 136, minor: -1, permissions: "rwm" },
    ];
    const custom = await devicesList(
      testConfig({ cgroups: { ...base.cgroups!, allowed_devices: allowed } }),
    );
    assertEquals(custom.rules, ["c 1:3 rw", "c 1:5 r", "c 136:* rwm"].sort());

    const all = await devicesList(
      testConfig({ cgroups: { ...base.cgroups!, allow_all_devices: true, allowed_devices: [] } }),
    );
    assertEquals(all.rules, ["a *:* rwm"]);
    assertNoLeftovers();
  },
});

Deno.test({
  name: "start() lets mknod make any node but the devices cgroup refuses to open one not allowed",
  ...devicesV1,
  async fn() {
    const script = [
      "mknod /dev/sda b 8 0 && echo made-sda",
      "mknod /dev/mem2 c 1 1 && echo made-mem",
      "head -c 1 /dev/sda >/dev/null 2>/tmp/err || cat /tmp/err",
      "head -c 1 /dev/mem2 >/dev/null 2>/tmp/err || cat /tmp/err",
      "head -c 1 /dev/fuse >/dev/null 2>/tmp/err || cat /tmp/err",
      "head -c 3 /dev/zero | wc -c",
    ].join("; ");
    const config = testConfig();
    // The rootfs's /tmp is shared by the tests: keep the error file in a tmpfs.
    const result = await run(
      config,
      "/bin/sh",
      "-c",
      script.replaceAll("/tmp/err", "/dev/shm/err"),
    );
    const lines = result.stdout.trim().split("\n");
    assertEquals(lines.slice(0, 2), ["made-sda", "made-mem"], result.stderr);
    assertMatch(lines[2]!, /\/dev\/sda: Operation not permitted/);
    assertMatch(lines[3]!, /\/dev\/mem2: Operation not permitted/);
    assertMatch(lines[4]!, /\/dev\/fuse: Operation not permitted/);
    assertEquals(lines[5]!.trim(), "3");
    assertNoLeftovers();
  },
});

Deno.test({
  name:
    "start() without the mknod wildcard rules makes mknod of a device not allowed fail with EPERM",
  ...devicesV1,
  async fn() {
    const base = testConfig();
    const allowed = base.cgroups!.allowed_devices!.filter((d) => d.major !== -1 || d.minor !== -1);
    const config = testConfig({ cgroups: { ...base.cgroups!, allowed_devices: allowed } });
    const result = await run(
      config,
      "/bin/sh",
      "-c",
      "mknod /dev/sda b 8 0; mknod /dev/null2 c 1 3 && echo made-null2 && head -c 0 /dev/null2",
    );
    assertMatch(result.stderr, /mknod: \/dev\/sda: Operation not permitted/);
    assertEquals(result.stdout, "made-null2\n", result.stderr);
    assertEquals(result.code, 0, result.stderr);
    assertNoLeftovers();
  },
});
