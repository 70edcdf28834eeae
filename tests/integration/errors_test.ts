/**
 * Every bad input gets a clear error of the right class and code, and
 * leaves nothing behind: no cgroup, no mount, no process, and no state
 * directory other than the container's own (which destroy() removes).
 */
import { assert, assertEquals, assertMatch } from "../_assert.ts";
import {
  ConfigError,
  type ConfigInput,
  ContainerError,
  createFactory,
  type ErrorCode,
  SystemError,
} from "../../mod.ts";
import {
  assertNoLeftovers,
  integration,
  startSleeper,
  tempDir,
  testConfig,
  testFactory,
  testRootfs,
  testStateDirs,
  uniqueId,
} from "../_helpers.ts";
import { expectStartFailure } from "./_host.ts";

/** Runs `action`, expecting it to throw (or reject with) a ContainerError of `code`. */
async function expectError(
  code: ErrorCode,
  action: () => unknown,
): Promise<ContainerError> {
  let error: unknown;
  try {
    await action();
  } catch (caught) {
    error = caught;
  }
  assert(error !== undefined, `expected a ${code} error, got success`);
  assert(error instanceof ContainerError, `expected a ContainerError, got ${error}`);
  assertEquals(error.code, code, error.message);
  return error;
}

/** create() must refuse the config with a ConfigError naming `paths`, creating nothing. */
async function expectConfigRejected(
  config: unknown,
  paths: string[],
  message?: RegExp,
): Promise<ConfigError> {
  const factory = await testFactory();
  const id = uniqueId("bad");
  const error = await expectError(
    "ConfigInvalid",
    () => factory.create(id, config as ConfigInput),
  );
  assert(error instanceof ConfigError, `not a ConfigError: ${error}`);
  assertEquals(error.issues.map((i) => i.path), paths, error.message);
  for (const path of paths) assert(error.message.includes(path), error.message);
  if (message) assertMatch(error.message, message);
  assertEquals(testStateDirs(), []);
  return error;
}

Deno.test({
  name: "create() refuses an invalid config with the path of every bad field",
  ...integration,
  async fn() {
    await expectConfigRejected({ ...testConfig(), hostname: 5 }, ["hostname"]);
    await expectConfigRejected({ ...testConfig(), bogus: true }, ["bogus"], /Unknown key/);
    await expectConfigRejected(
      { ...testConfig(), namespaces: [{ type: "NEWFOO" }] },
      ["namespaces[0].type"],
      /NEWFOO/,
    );
    await expectConfigRejected(
      testConfig({ capabilities: ["CHOWN", "NOT_A_CAP"] }),
      ["capabilities[1]"],
      /NOT_A_CAP/,
    );
    // Every bad field is named, not only the first.
    await expectConfigRejected({ ...testConfig(), hostname: 5, bogus: 1 }, ["hostname", "bogus"]);
    await expectConfigRejected(
      testConfig({ capabilities: ["NOPE"], rootfs: "relative" }),
      ["rootfs", "capabilities[0]"],
    );
    assertNoLeftovers();
  },
});

Deno.test({
  name: "create() refuses a rootfs that does not exist, is relative, is a symlink or is a file",
  ...integration,
  async fn() {
    const dir = tempDir();
    await expectConfigRejected(testConfig({ rootfs: `${dir}/missing` }), ["rootfs"], /not exist/);
    await expectConfigRejected(testConfig({ rootfs: "relative/rootfs" }), ["rootfs"], /absolute/);
    Deno.symlinkSync(testRootfs(), `${dir}/link`);
    await expectConfigRejected(testConfig({ rootfs: `${dir}/link` }), ["rootfs"], /symlink/);
    Deno.writeTextFileSync(`${dir}/file`, "");
    await expectConfigRejected(testConfig({ rootfs: `${dir}/file` }), ["rootfs"], /directory/);
    await expectConfigRejected(testConfig({ rootfs: "" }), ["rootfs"]);
    assertNoLeftovers();
  },
});

Deno.test({
  name: "create() refuses an id in use and leaves the first container alone",
  ...integration,
  async fn() {
    const factory = await testFactory();
    const id = uniqueId("twice");
    const first = await factory.create(id, testConfig());
    const before = first.state();
    const error = await expectError("IdInUse", () => factory.create(id, testConfig()));
    assert(error.message.includes(id), error.message);
    assertEquals(first.state(), before);
    assertEquals((await factory.load(id)).status(), "stopped");
    await first.destroy();
    // Once destroyed, the id is free again.
    const again = await factory.create(id, testConfig());
    await again.destroy();
    assertNoLeftovers();
  },
});

Deno.test({
  name: "create() and load() refuse malformed ids and touch nothing",
  ...integration,
  async fn() {
    const factory = await testFactory();
    const ids = ["", ".", "..", "a/b", "../escape", "a\u0000b", "x".repeat(1025), ".hidden", " a"];
    const rootBefore = [...Deno.readDirSync(`${factory.root}/..`)].map((e) => e.name).sort();
    for (const id of ids) {
      const created = await expectError("InvalidIdFormat", () => factory.create(id, testConfig()));
      assert(!created.message.includes("\u0000"), "the message holds a raw NUL");
      await expectError("InvalidIdFormat", () => factory.load(id));
    }
    assertEquals([...Deno.readDirSync(`${factory.root}/..`)].map((e) => e.name).sort(), rootBefore);
    assertEquals(testStateDirs(), []);
    assertNoLeftovers();
  },
});

Deno.test({
  name: "create() lets no id through validation that cannot name a state directory",
  ...integration,
  async fn() {
    const factory = await testFactory();
    // NAME_MAX is 255: the longest directory name there is.
    const longest = `${uniqueId("l")}-`.padEnd(255, "x");
    const container = await factory.create(longest, testConfig());
    assertEquals((await factory.load(longest)).id, longest);
    await container.destroy();
    // Longer ids are either refused as malformed or work; never a failed mkdir.
    const outcomes: Record<number, string> = {};
    for (const length of [256, 1024]) {
      const id = `${uniqueId("l")}-`.padEnd(length, "x");
      try {
        await (await factory.create(id, testConfig())).destroy();
        outcomes[length] = "created";
      } catch (error) {
        outcomes[length] = error instanceof ContainerError && error.code === "InvalidIdFormat"
          ? "InvalidIdFormat"
          : String(error).slice(0, 60);
      }
    }
    for (const [length, outcome] of Object.entries(outcomes)) {
      assert(
        outcome === "created" || outcome === "InvalidIdFormat",
        `an id of ${length} characters: ${outcome}`,
      );
    }
    assertNoLeftovers();
  },
});

Deno.test({
  name: "load() of an id that does not exist fails with ContainerNotExists",
  ...integration,
  async fn() {
    const factory = await testFactory();
    const id = uniqueId("nobody");
    const error = await expectError("ContainerNotExists", () => factory.load(id));
    assert(error.message.includes(id), error.message);
    // A factory on a root that does not exist yet creates nothing by loading.
    const root = `${tempDir()}/not-yet`;
    const fresh = await createFactory({ root });
    await expectError("ContainerNotExists", () => fresh.load(id));
    assert(!existsPath(root), "load() created the state root");
    assertNoLeftovers();
  },
});

function existsPath(path: string): boolean {
  try {
    Deno.lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

Deno.test({
  name: "createFactory() refuses a state root that is a file",
  ...integration,
  async fn() {
    const file = `${tempDir()}/file`;
    Deno.writeTextFileSync(file, "");
    const error = await expectError("SystemError", () => createFactory({ root: file }));
    assert(error instanceof SystemError, String(error));
    assertEquals(error.errnoName, "ENOTDIR");
    assert(error.message.includes(file), error.message);
    assertNoLeftovers();
  },
});

Deno.test({
  name: "load() of a corrupt state file fails clearly",
  ...integration,
  async fn() {
    const factory = await testFactory();
    const container = await factory.create(uniqueId("corrupt"), testConfig());
    const path = `${factory.root}/${container.id}/state.json`;
    const original = Deno.readTextFileSync(path);
    Deno.writeTextFileSync(path, original.slice(0, original.length / 2));
    try {
      const error = await expectError("SystemError", () => factory.load(container.id));
      assertMatch(error.message, /corrupt/);
      assert(error.message.includes(path), error.message);
    } finally {
      Deno.writeTextFileSync(path, original);
    }
    await container.destroy();
    assertNoLeftovers();
  },
});

Deno.test({
  name: "destroy() refuses a running container with ContainerNotStopped and leaves it running",
  ...integration,
  async fn() {
    const sleeper = await startSleeper();
    try {
      const error = await expectError("ContainerNotStopped", () => sleeper.container.destroy());
      assert(error.message.includes(sleeper.container.id), error.message);
      assertEquals(sleeper.container.status(), "running");
      assertEquals(sleeper.container.processes(), [sleeper.pid]);
    } finally {
      await sleeper.stop();
    }
    assertNoLeftovers();
  },
});

Deno.test({
  name: "signal() on a container that is not running fails with ContainerNotRunning",
  ...integration,
  async fn() {
    const factory = await testFactory();
    const container = await factory.create(uniqueId("idle"), testConfig());
    await expectError("ContainerNotRunning", () => container.signal("SIGKILL"));
    const proc = await container.start({
      args: ["/bin/probe", "exit", "0"],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    });
    await proc.wait();
    await expectError("ContainerNotRunning", () => container.signal("SIGTERM"));
    await expectError("ContainerNotRunning", () => proc.signal("SIGTERM"));
    await container.destroy();
    await expectError("ContainerNotExists", () => container.signal("SIGTERM"));
    assertNoLeftovers();
  },
});

Deno.test({
  name: "start() on a destroyed container fails with ContainerNotExists",
  ...integration,
  async fn() {
    const factory = await testFactory();
    const container = await factory.create(uniqueId("gone"), testConfig());
    await container.destroy();
    await expectError("ContainerNotExists", () => container.start({ args: ["true"] }));
    assertNoLeftovers();
  },
});

Deno.test({
  name: "start() of a missing binary fails with exec ENOENT and leaves nothing behind",
  ...integration,
  async fn() {
    const error = await expectStartFailure(testConfig(), { args: ["/bin/missing-binary"] });
    assert(error instanceof SystemError, String(error));
    assertEquals(error.message, "exec `/bin/missing-binary`: ENOENT");
    assertNoLeftovers();
  },
});

Deno.test({
  name: "start() without a program fails with a ConfigError naming process.args",
  ...integration,
  async fn() {
    for (const args of [[], [""]]) {
      const error = await expectStartFailure(testConfig(), { args });
      assert(error instanceof ConfigError, String(error));
      assertEquals(error.issues.map((i) => i.path), ["process.args"]);
    }
    assertNoLeftovers();
  },
});

Deno.test({
  name: "start() refuses a namespace path of the wrong type, naming both types",
  ...integration,
  async fn() {
    const withIpcPath = (path: string) => {
      const config = testConfig();
      config.namespaces = config.namespaces!.map((ns) =>
        ns.type === "NEWIPC" ? { type: "NEWIPC", path } : ns
      );
      return config;
    };
    const index = testConfig().namespaces!.findIndex((ns) => ns.type === "NEWIPC");
    const field = `namespaces[${index}].path`;

    const net = await expectStartFailure(withIpcPath(`/proc/${Deno.pid}/ns/net`), {
      args: ["true"],
    });
    assert(net instanceof ConfigError, String(net));
    assertEquals(net.issues.map((i) => i.path), [field]);
    assertMatch(net.message, /is a net namespace/);
    assertMatch(net.message, /NEWIPC/);

    const file = `${tempDir()}/not-a-namespace`;
    Deno.writeTextFileSync(file, "");
    const plain = await expectStartFailure(withIpcPath(file), { args: ["true"] });
    assert(plain instanceof ConfigError, String(plain));
    assertEquals(plain.issues.map((i) => i.path), [field]);
    assertMatch(plain.message, /not a namespace/);

    const missing = await expectStartFailure(withIpcPath("/proc/self/ns/nope"), { args: ["true"] });
    assert(missing instanceof ConfigError, String(missing));
    assertMatch(missing.message, /ENOENT/);
    assertNoLeftovers();
  },
});

Deno.test({
  name: "start() refuses a user that does not exist with a ConfigError naming process.user",
  ...integration,
  async fn() {
    const error = await expectStartFailure(testConfig(), { args: ["true"], user: "ghost" });
    assert(error instanceof ConfigError, String(error));
    assertEquals(error.issues.map((i) => i.path), ["process.user"]);
    assertMatch(error.message, /ghost/);
    const range = await expectStartFailure(testConfig(), { args: ["true"], user: "99999999999" });
    assert(range instanceof ConfigError, String(range));
    assertEquals(range.issues.map((i) => i.path), ["process.user"]);
    assertNoLeftovers();
  },
});

Deno.test({
  name: "start() refuses a freezer state in the config, naming cgroups.freezer",
  ...integration,
  async fn() {
    const base = testConfig();
    // A freezer state is the running container's, never the start's.
    const frozen = await expectStartFailure(
      testConfig({ cgroups: { ...base.cgroups, freezer: "FROZEN" } }),
      { args: ["true"] },
    );
    assert(frozen instanceof ConfigError, String(frozen));
    assertEquals(frozen.issues.map((i) => i.path), ["cgroups.freezer"]);
    assertNoLeftovers();
  },
});

Deno.test({
  name: "start() refuses a bind mount whose source does not exist",
  ...integration,
  async fn() {
    const source = `${tempDir()}/missing`;
    const config = testConfig();
    config.mounts = [...config.mounts!, {
      source,
      destination: "/mnt",
      device: "bind",
      flags: 0x1000, // MS_BIND
    }];
    const error = await expectStartFailure(config, { args: ["true"] });
    assert(error instanceof ConfigError, String(error));
    assertEquals(error.issues.map((i) => i.path), [`mounts[${config.mounts.length - 1}].source`]);
    assert(error.message.includes(source), error.message);
    assertNoLeftovers();
  },
});

Deno.test({
  name: "start() reports an rlimit the kernel refuses as a setrlimit error",
  ...integration,
  async fn() {
    const nrOpen = Number(Deno.readTextFileSync("/proc/sys/fs/nr_open").trim());
    const error = await expectStartFailure(
      testConfig({ rlimits: [{ type: 7, soft: nrOpen + 1, hard: nrOpen + 1 }] }),
      { args: ["true"] },
    );
    assert(error instanceof SystemError, String(error));
    assertEquals(error.op, "setrlimit");
    assertMatch(error.message, /resource=7/);
    assertNoLeftovers();
  },
});
