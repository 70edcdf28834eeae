/**
 * User namespaces and rootless containers on the real kernel: the seed's
 * TestUsernsExecPS, id maps and namespaces seen from the host, files made
 * inside owned by the mapped uid, host devices bound in, joining, the
 * sample config, bad mappings, and a non-root user (setpriv to nobody)
 * running a container.
 */
import { assert, assertEquals, assertMatch, assertNotEquals } from "../_assert.ts";
import {
  ConfigError,
  type ConfigInput,
  readConfigInput,
  userNamespaceMappings,
  withUserNamespace,
} from "../../mod.ts";
import {
  assertNoLeftovers,
  integration,
  makeRootfs,
  runContainer,
  startSleeper,
  TEST_CGROUP_PARENT,
  testConfig,
  testFactory,
  uniqueId,
} from "../_helpers.ts";

const HOST_ROOT = 100000;
const RANGE = [{ container_id: 0, host_id: HOST_ROOT, size: 65536 }];
const NOBODY = 65534;

/**
 * A rootfs that container root (a host uid other than 0) can reach: the
 * test's own temporary directory is 0700, so this one lives beside it,
 * 0755, owned by root; the test removes it.
 */
let openRootfsDir: string | undefined;
function openRootfs(): string {
  if (openRootfsDir === undefined) {
    openRootfsDir = Deno.makeTempDirSync({ prefix: "nsinit-test-userns-" });
    Deno.chmodSync(openRootfsDir, 0o755);
    makeRootfs(`${openRootfsDir}/rootfs`);
    globalThis.addEventListener("unload", () => {
      try {
        Deno.removeSync(openRootfsDir!, { recursive: true });
      } catch {
        // already gone
      }
    });
  }
  return `${openRootfsDir}/rootfs`;
}

function usernsConfig(maps = RANGE, overrides: Partial<ConfigInput> = {}): ConfigInput {
  return withUserNamespace(testConfig({ rootfs: openRootfs(), ...overrides }), maps, maps);
}

function idLines(text: string): string[] {
  return text.trim().split("\n").map((line) => line.trim().split(/\s+/).join(" "));
}

/** No mount on the host mentions the open rootfs either. */
function assertNoUsernsMounts(): void {
  const mounts = Deno.readTextFileSync("/proc/self/mountinfo").split("\n");
  assertEquals(mounts.filter((line) => line.includes("nsinit-test-userns-")), []);
}

async function rejects(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error("Expected a rejection");
}

Deno.test({
  name: "start() runs ps as PID 1 root of a user namespace (TestUsernsExecPS)",
  ...integration,
  async fn() {
    // The seed's maps: {0 -> 0, 1000} for uids and gids.
    const maps = [{ container_id: 0, host_id: 0, size: 1000 }];
    const config = withUserNamespace(testConfig(), maps, maps);
    const result = await runContainer(config, { args: ["ps"] });
    assertEquals(result.code, 0, result.stderr);
    const lines = result.stdout.trim().split("\n");
    assertEquals(lines.length, 2, result.stdout);
    assertMatch(lines[1]!, /^\s*1\s+root\s+.*\bps$/);
    assertNoLeftovers();
  },
});

Deno.test({
  name:
    "a user namespace container: maps and namespace seen from the host, root inside, files owned by the mapped uid, joined by exec",
  ...integration,
  async fn() {
    const rootfs = openRootfs();
    const sleeper = await startSleeper(usernsConfig());
    try {
      const { pid, container } = sleeper;
      // From outside: the maps the parent wrote, a user namespace of its own, host ids.
      assertEquals(idLines(Deno.readTextFileSync(`/proc/${pid}/uid_map`)), [
        `0 ${HOST_ROOT} 65536`,
      ]);
      assertEquals(idLines(Deno.readTextFileSync(`/proc/${pid}/gid_map`)), [
        `0 ${HOST_ROOT} 65536`,
      ]);
      assertEquals(Deno.readTextFileSync(`/proc/${pid}/setgroups`).trim(), "allow");
      const userNs = Deno.readLinkSync(`/proc/${pid}/ns/user`);
      assertNotEquals(userNs, Deno.readLinkSync("/proc/self/ns/user"));
      const status = Deno.readTextFileSync(`/proc/${pid}/status`);
      assertMatch(status, new RegExp(`^Uid:\\s+${HOST_ROOT}\\s+${HOST_ROOT}\\s`, "m"));
      assertMatch(status, new RegExp(`^Gid:\\s+${HOST_ROOT}\\s+${HOST_ROOT}\\s`, "m"));

      // Joined: the exec'd process lands in the same user namespace, as root there.
      const joined = await container.start({
        args: [
          "/bin/sh",
          "-c",
          "id -u; id -g; readlink /proc/self/ns/user; touch /tmp/made-inside; cat /proc/self/uid_map",
        ],
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      });
      const output = await joined.output();
      const text = new TextDecoder().decode(output.stdout);
      assertEquals(output.code, 0, new TextDecoder().decode(output.stderr));
      const [uid, gid, ns, map] = text.trim().split("\n");
      assertEquals([uid, gid, ns], ["0", "0", userNs]);
      assertEquals(idLines(map!), [`0 ${HOST_ROOT} 65536`]);
      const made = Deno.statSync(`${rootfs}/tmp/made-inside`);
      assertEquals([made.uid, made.gid], [HOST_ROOT, HOST_ROOT]);
      Deno.removeSync(`${rootfs}/tmp/made-inside`);
    } finally {
      await sleeper.stop();
    }
    assertNoLeftovers();
    assertNoUsernsMounts();
  },
});

Deno.test({
  name:
    "devices in a user namespace are the host's nodes, bind-mounted, and usable by container root",
  ...integration,
  async fn() {
    const script = [
      "stat -c '%t:%T %F' /dev/null /dev/zero /dev/urandom /dev/tty",
      "echo x > /dev/null",
      "head -c 4 /dev/urandom | wc -c",
      "grep -c ' /dev/null ' /proc/self/mountinfo",
    ].join("; ");
    const result = await runContainer(usernsConfig(), { args: ["/bin/sh", "-c", script] });
    assertEquals(result.code, 0, result.stderr);
    assertEquals(result.stdout.trim().split("\n"), [
      "1:3 character special file",
      "1:5 character special file",
      "1:9 character special file",
      "5:0 character special file",
      "4",
      "1",
    ]);
    assertNoLeftovers();
  },
});

Deno.test({
  name:
    "the init of a user namespace lands in its cgroups and its mapped root cannot move out of them",
  ...integration,
  async fn() {
    const config = usernsConfig(RANGE, {
      mounts: [
        ...testConfig().mounts!,
        // The host's pids hierarchy, writable: only the kernel's permission checks stand in the way.
        {
          source: "/sys/fs/cgroup/pids",
          destination: "/tmp/hostpids",
          device: "bind",
          flags: 4096,
        },
      ],
    });
    const sleeper = await startSleeper(config);
    try {
      const cgroups = Deno.readTextFileSync(`/proc/${sleeper.pid}/cgroup`);
      for (const subsystem of ["pids", "memory", "devices", "freezer"]) {
        assertMatch(
          cgroups,
          new RegExp(`:${subsystem}:/${TEST_CGROUP_PARENT}/`),
          `${subsystem} in ${cgroups}`,
        );
      }
      const escape = await sleeper.container.start({
        args: ["/bin/sh", "-c", "echo $$ > /tmp/hostpids/cgroup.procs"],
        stdin: "null",
        stdout: "null",
        stderr: "piped",
      });
      const output = await escape.output();
      assertNotEquals(output.code, 0);
      assertMatch(new TextDecoder().decode(output.stderr), /denied|not permitted/i);
      assertEquals(
        Deno.readTextFileSync(`/proc/${sleeper.pid}/cgroup`),
        cgroups,
      );
    } finally {
      await sleeper.stop();
    }
    assertNoLeftovers();
  },
});

Deno.test({
  name: "without its own network namespace, a user namespace gets the host's /sys bound read-only",
  ...integration,
  async fn() {
    const config = usernsConfig(RANGE, { networks: [] });
    config.namespaces = config.namespaces!.filter((ns) => ns.type !== "NEWNET");
    const result = await runContainer(config, {
      args: [
        "/bin/sh",
        "-c",
        "test -d /sys/class/net && echo net; touch /sys/x 2>/dev/null || echo ro",
      ],
    });
    assertEquals(result.code, 0, result.stderr);
    assertEquals(result.stdout.trim().split("\n"), ["net", "ro"]);
    assertNoLeftovers();
  },
});

Deno.test({
  name: "sample_configs/userns.json runs with a test rootfs: root is host uid 1000",
  ...integration,
  async fn() {
    const rootfs = openRootfs();
    const sample = readConfigInput(
      new URL("../../sample_configs/userns.json", import.meta.url).pathname,
    ) as ConfigInput;
    const config: ConfigInput = {
      ...sample,
      rootfs,
      cgroups: { ...sample.cgroups, parent: TEST_CGROUP_PARENT },
    };
    const result = await runContainer(config, {
      args: ["/bin/sh", "-c", "id -u; cat /proc/self/uid_map; touch /tmp/sample-made"],
    });
    assertEquals(result.code, 0, result.stderr);
    const [uid, ...map] = result.stdout.trim().split("\n");
    assertEquals(uid, "0");
    assertEquals(idLines(map.join("\n")), ["0 1000 1", "1 1 999", "1001 1001 2147482647"]);
    assertEquals(Deno.statSync(`${rootfs}/tmp/sample-made`).uid, 1000);
    Deno.removeSync(`${rootfs}/tmp/sample-made`);
    assertNoLeftovers();
  },
});

Deno.test({
  name: "bad user namespace configs are refused with the field named, leaving nothing behind",
  ...integration,
  async fn() {
    const factory = await testFactory();
    const base = testConfig({ rootfs: openRootfs() });
    const userNs = [...base.namespaces!, { type: "NEWUSER" as const }];
    const cases: [ConfigInput, RegExp][] = [
      [
        {
          ...base,
          namespaces: userNs,
          uid_mappings: [...RANGE, { container_id: 10, host_id: 5, size: 2 }],
          gid_mappings: RANGE,
        },
        /uid_mappings\[1\]: Container ids overlap those of `uid_mappings\[0\]`/,
      ],
      [
        {
          ...base,
          namespaces: userNs,
          uid_mappings: [{ container_id: 0, host_id: 1, size: 0 }],
          gid_mappings: RANGE,
        },
        /uid_mappings\[0\]\.size: /,
      ],
      [
        { ...base, uid_mappings: RANGE, gid_mappings: RANGE },
        /uid_mappings: Requires the `NEWUSER` namespace/,
      ],
      [
        { ...base, namespaces: userNs },
        /uid_mappings: Must map container id 0/,
      ],
      [
        {
          ...base,
          namespaces: userNs,
          uid_mappings: RANGE,
          gid_mappings: [{ container_id: 0, host_id: HOST_ROOT, size: 1 }],
        },
        /mounts\[2\]\.data: `gid=5` names an id that `gid_mappings` does not map/,
      ],
    ];
    for (const [config, pattern] of cases) {
      const error = await rejects(factory.create(uniqueId("badmap"), config));
      assert(error instanceof ConfigError, String(error));
      assertMatch(error.message, pattern);
    }
    // Caught at start: the user is unmapped; the rootfs is out of container root's reach.
    const startCases: [ConfigInput, string, RegExp][] = [
      [
        usernsConfig([{ container_id: 0, host_id: HOST_ROOT, size: 1000 }]),
        "tester",
        /process\.user: Not mapped in the user namespace: uid 1000, gid 1000/,
      ],
      [
        withUserNamespace(testConfig(), RANGE, RANGE),
        "",
        /rootfs: `\/tmp\/nsinit-test-[^`]+` is not searchable by container root \(host uid 100000/,
      ],
      [
        usernsConfig(RANGE, {
          devices: [{
            type: "c",
            path: "/dev/nsinit-none",
            major: 1,
            minor: 3,
            permissions: "rwm",
            file_mode: 0o666,
          }],
        }),
        "",
        /devices\[0\]\.path: The host has no `\/dev\/nsinit-none` as c 1:3/,
      ],
    ];
    for (const [config, user, pattern] of startCases) {
      const container = await factory.create(uniqueId("badmap"), config);
      try {
        const error = await rejects(container.start({ args: ["true"], user, stdin: "null" }));
        assertMatch(error.message, pattern);
      } finally {
        await container.destroy();
      }
    }
    assertNoLeftovers();
    assertNoUsernsMounts();
  },
});

/** Runs a command as nobody, with a Deno cache of its own; returns its output. */
async function asNobody(
  args: string[],
  cwd: string,
  denoDir: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const command = new Deno.Command("setpriv", {
    args: [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, "--clear-groups", Deno.execPath(), ...args],
    cwd,
    env: { DENO_DIR: denoDir, HOME: denoDir, NO_COLOR: "1" },
    clearEnv: true,
    stdin: "null",
  });
  const output = await command.output();
  const text = new TextDecoder();
  return {
    code: output.code,
    stdout: text.decode(output.stdout),
    stderr: text.decode(output.stderr),
  };
}

/** A directory nobody owns, for its state root and Deno cache; removed by the caller. */
function nobodyDir(): string {
  const dir = Deno.makeTempDirSync({ prefix: "nsinit-test-rootless-" });
  Deno.chownSync(dir, NOBODY, NOBODY);
  return dir;
}

const CHILD = new URL("./_rootless_child.ts", import.meta.url).pathname;
const NSINIT = new URL("../../cli/nsinit.ts", import.meta.url).pathname;

/** What _rootless_child.ts reports. */
interface ChildResult {
  error?: string;
  code?: number;
  stdout?: string;
  stderr?: string;
}

/** Runs _rootless_child.ts as nobody, with state and cache in `dir`. */
async function rootlessChild(
  dir: string,
  extra: Record<string, unknown>,
  args: string[],
): Promise<ChildResult> {
  const child = await asNobody(
    [
      "run",
      "--allow-ffi",
      "--allow-read",
      CHILD,
      `${dir}/state`,
      openRootfs(),
      TEST_CGROUP_PARENT,
      JSON.stringify(extra),
      ...args,
    ],
    dir,
    `${dir}/deno`,
  );
  assertEquals(child.code, 0, child.stderr);
  return JSON.parse(child.stdout);
}

/** Runs nsinit as nobody in the open rootfs, with state and cache in `dir`. */
function rootlessCli(dir: string, args: string[]) {
  return asNobody(
    ["run", "--allow-ffi", NSINIT, "--root", `${dir}/state`, ...args],
    openRootfs(),
    `${dir}/deno`,
  );
}

function stateDirs(dir: string): string[] {
  return [...Deno.readDirSync(`${dir}/state`)].map((e) => e.name).filter((n) => !n.startsWith("."));
}

Deno.test({
  name:
    "rootless: a non-root user runs echo in a container of its own user namespace, with no cgroup written",
  ...integration,
  async fn() {
    const dir = nobodyDir();
    try {
      const script = "echo hello; id -u; cat /proc/self/uid_map; cat /proc/self/setgroups";
      const result = await rootlessChild(dir, {}, ["/bin/sh", "-c", script]);
      assertEquals([result.error, result.code], [undefined, 0], JSON.stringify(result));
      const [hello, uid, map, setgroups] = result.stdout!.trim().split("\n");
      assertEquals([hello, uid, setgroups], ["hello", "0", "deny"]);
      assertEquals(idLines(map!), [`0 ${NOBODY} 1`]);

      // A second process joins the first's user namespace (setgroups stays denied there).
      const joined = await rootlessChild(dir, {}, [
        "--join",
        "/bin/sh",
        "-c",
        "id -u; ps -o pid,comm | grep -c sleep",
      ]);
      assertEquals([joined.error, joined.code], [undefined, 0], JSON.stringify(joined));
      assertEquals(joined.stdout!.trim().split("\n"), ["0", "1"]);

      // The CLI, as a user types it.
      const cli = await rootlessCli(dir, ["exec", "--rootless", "--id", "rl", "echo", "hello"]);
      assertEquals([cli.code, cli.stdout, cli.stderr], [0, "hello\n", ""]);
      assertEquals(stateDirs(dir), []);
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
    // No cgroup was made (the test parent nor the CLI's default `nsinit/rl`).
    const made = ["pids", "memory", "devices", "freezer", "cpu"].filter((s) => {
      try {
        Deno.statSync(`/sys/fs/cgroup/${s}/nsinit/rl`);
        return true;
      } catch {
        return false;
      }
    });
    assertEquals(made, []);
    assertNoLeftovers();
  },
});

Deno.test({
  name: "rootless: what needs real root is refused with one clear line naming the field",
  ...integration,
  async fn() {
    const dir = nobodyDir();
    try {
      const limited = await rootlessChild(
        dir,
        { cgroups: { memory: 64 << 20, parent: TEST_CGROUP_PARENT } },
        ["true"],
      );
      assertMatch(
        limited.error ?? "",
        /cgroups\.memory: Cgroup limits need root or a delegated cgroup \(running as uid 65534, not root\)/,
      );
      const cases: [string[], RegExp][] = [
        [
          ["--userns-root-uid", "1000"],
          /^nsinit: .*uid_mappings\[0\]: Maps host ids other than your own uid 65534: that needs root/,
        ],
        [[], /^nsinit: .*namespaces: A `NEWUSER` namespace mapping your own ids is needed/],
      ];
      for (const [flags, pattern] of cases) {
        const cli = await rootlessCli(dir, ["exec", ...flags, "--id", "rl", "true"]);
        assertEquals(cli.code, 1, cli.stderr);
        assertEquals(cli.stderr.trim().split("\n").length, 1, cli.stderr);
        assertMatch(cli.stderr, pattern);
      }
      assertEquals(stateDirs(dir), []);
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
    assertNoLeftovers();
  },
});

Deno.test({
  name: "nsinit exec --userns-root-uid 1000 maps root to host 1000 as the seed did",
  ...integration,
  async fn() {
    const dir = Deno.makeTempDirSync({ prefix: "nsinit-test-usernscli-" });
    try {
      const command = new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "--allow-ffi",
          NSINIT,
          "--root",
          `${dir}/state`,
          "exec",
          "--rootfs",
          openRootfs(),
          "--userns-root-uid",
          "1000",
          "--id",
          "u",
          "cat",
          "/proc/self/uid_map",
          "/proc/self/gid_map",
        ],
        stdin: "null",
      });
      const output = await command.output();
      const text = new TextDecoder();
      assertEquals(output.code, 0, text.decode(output.stderr));
      const expected = ["0 1000 1", "1 1 999", "1001 1001 2147482647"];
      assertEquals(idLines(text.decode(output.stdout)), [...expected, ...expected]);
      assertEquals(
        userNamespaceMappings(1000).map((m) => `${m.container_id} ${m.host_id} ${m.size}`),
        expected,
      );
    } finally {
      Deno.removeSync(dir, { recursive: true });
      // The CLI's template cgroup (parent `nsinit`, named after the id) is removed by exec itself.
    }
    assertNoUsernsMounts();
  },
});
