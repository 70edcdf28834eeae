/**
 * Shared helpers of the integration tests: a busybox root filesystem, a
 * test config, running a container to completion, and the leftover check
 * every test ends with. Integration tests need root and busybox-static.
 *
 * @module
 */
import {
  type Config,
  type ConfigInput,
  type Container,
  ContainerError,
  createFactory,
  defaultConfig,
  type Factory,
  type ProcessOptions,
} from "../mod.ts";
import { assertEquals } from "./_assert.ts";
import * as probe from "../ffi/probe/_embed.ts";

/** True when the tests run as root (integration tests need it). */
export const isRoot = Deno.uid() === 0;

const BUSYBOX = "/bin/busybox";

/** True when a static busybox is installed (apt-get install busybox-static). */
export const hasBusybox = (() => {
  try {
    return Deno.statSync(BUSYBOX).isFile;
  } catch {
    return false;
  }
})();

/** Skip integration tests where they cannot run, and say why once. */
export const integration: { ignore: boolean } = { ignore: !isRoot || !hasBusybox };
if (integration.ignore) {
  console.warn(
    `integration tests skipped: ${
      !isRoot ? "not root" : `no ${BUSYBOX} (apt-get install busybox-static)`
    }`,
  );
}

/** The cgroup parent every test container is created under. */
export const TEST_CGROUP_PARENT = `nsinit-test-${Deno.pid}`;

const workDir = Deno.makeTempDirSync({ prefix: "nsinit-test-" });
globalThis.addEventListener("unload", () => {
  try {
    Deno.removeSync(workDir, { recursive: true });
  } catch {
    // already gone
  }
});

/** A fresh directory for one test. */
export function tempDir(prefix = "t-"): string {
  return Deno.makeTempDirSync({ dir: workDir, prefix });
}

const PASSWD = [
  "root:x:0:0:root:/root:/bin/sh",
  "daemon:x:1:1:daemon:/usr/sbin:/bin/false",
  "tester:x:1000:1000:tester:/home/tester:/bin/sh",
  "nobody:x:65534:65534:nobody:/nonexistent:/bin/false",
  "",
].join("\n");

const GROUP = [
  "root:x:0:",
  "daemon:x:1:",
  "tty:x:5:",
  "users:x:100:tester,daemon",
  "tester:x:1000:",
  "nogroup:x:65534:",
  "",
].join("\n");

function busyboxApplets(): string[] {
  const output = new Deno.Command(BUSYBOX, { args: ["--list"] }).outputSync();
  return new TextDecoder().decode(output.stdout).split("\n").filter((name) =>
    /^[\w.-]+$/.test(name)
  );
}

/** Writes a busybox root filesystem (with /bin/probe) into `dir`. */
export function makeRootfs(dir: string): string {
  Deno.mkdirSync(dir, { recursive: true });
  Deno.chmodSync(dir, 0o755); // a temporary directory starts 0700: no user but root could run anything
  for (const sub of ["bin", "etc", "proc", "sys", "dev", "tmp", "root", "home/tester", "usr/bin"]) {
    Deno.mkdirSync(`${dir}/${sub}`, { recursive: true });
  }
  Deno.chmodSync(`${dir}/tmp`, 0o1777);
  Deno.copyFileSync(BUSYBOX, `${dir}/bin/busybox`);
  for (const applet of busyboxApplets()) {
    if (applet !== "busybox") Deno.symlinkSync("busybox", `${dir}/bin/${applet}`);
  }
  const bytes = Uint8Array.from(atob(probe.BASE64), (c) => c.charCodeAt(0));
  Deno.writeFileSync(`${dir}/bin/probe`, bytes, { mode: 0o755 });
  Deno.chmodSync(`${dir}/bin/probe`, 0o755);
  Deno.writeTextFileSync(`${dir}/etc/passwd`, PASSWD);
  Deno.writeTextFileSync(`${dir}/etc/group`, GROUP);
  return dir;
}

let sharedRootfs: string | undefined;

/** One busybox rootfs shared by the tests of this file (read-only use). */
export function testRootfs(): string {
  sharedRootfs ??= makeRootfs(tempDir("rootfs-"));
  return sharedRootfs;
}

/** The seed's test template: the default config with hostname `integration` and NOFILE 1025. */
export function testConfig(overrides: Partial<ConfigInput> = {}): ConfigInput {
  const base = defaultConfig({ rootfs: testRootfs() });
  return {
    ...base,
    hostname: "integration",
    rlimits: [{ type: 7, hard: 1025, soft: 1025 }],
    cgroups: { ...base.cgroups, name: "", parent: TEST_CGROUP_PARENT },
    ...overrides,
  } as ConfigInput;
}

let factoryPromise: Promise<Factory> | undefined;

/** A factory whose state root lives in the test's temporary directory. */
export function testFactory(): Promise<Factory> {
  factoryPromise ??= createFactory({ root: `${workDir}/state` });
  return factoryPromise;
}

let counter = 0;

/** A container id unique in this run. */
export function uniqueId(prefix = "test"): string {
  return `${prefix}-${Deno.pid}-${++counter}`;
}

/** What {@link runContainer} returns. */
export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

const decoder = new TextDecoder();

/** Creates a container, runs one process to completion with piped output, destroys it. */
export async function runContainer(
  config: ConfigInput | Config,
  process: ProcessOptions,
): Promise<RunResult> {
  const factory = await testFactory();
  const container = await factory.create(uniqueId(), config);
  try {
    const proc = await container.start({
      stdout: "piped",
      stderr: "piped",
      stdin: "null",
      ...process,
    });
    const output = await proc.output();
    return {
      code: output.code,
      stdout: decoder.decode(output.stdout),
      stderr: decoder.decode(output.stderr),
    };
  } finally {
    await container.destroy();
  }
}

/** Runs the probe's report in a container and parses it. */
export async function probeReport(
  config: ConfigInput | Config,
  process: Partial<ProcessOptions> = {},
): Promise<Record<string, unknown>> {
  const result = await runContainer(config, { args: ["/bin/probe", "report"], ...process });
  assertEquals(result.code, 0, result.stderr);
  return JSON.parse(result.stdout);
}

/** Starts a long-running container (`sleep` by default) and returns it with its process. */
export async function startSleeper(
  config: ConfigInput | Config = testConfig(),
  args: string[] = ["/bin/probe", "sleep", "0"],
): Promise<{ container: Container; pid: number; stop: () => Promise<void> }> {
  const factory = await testFactory();
  const container = await factory.create(uniqueId("sleeper"), config);
  const proc = await container.start({ args, stdin: "null", stdout: "null", stderr: "null" });
  return {
    container,
    pid: proc.pid,
    stop: async () => {
      try {
        proc.signal("SIGKILL");
      } catch (error) {
        if (!(error instanceof ContainerError) || error.code !== "ContainerNotRunning") throw error;
      }
      await proc.wait();
      await container.destroy();
    },
  };
}

/** Every cgroup directory named after the test parent, on any hierarchy. */
export function testCgroups(): string[] {
  const found: string[] = [];
  for (const entry of Deno.readDirSync("/sys/fs/cgroup")) {
    const path = `/sys/fs/cgroup/${entry.name}/${TEST_CGROUP_PARENT}`;
    try {
      Deno.statSync(path);
      found.push(path);
    } catch {
      // not there: good
    }
  }
  return found;
}

/** Mounts on the host that mention the test's directory. */
export function testMounts(): string[] {
  return Deno.readTextFileSync("/proc/self/mountinfo").split("\n").filter((line) =>
    line.includes(workDir)
  );
}

/** State directories left under the test factory's root. */
export function testStateDirs(): string[] {
  try {
    return [...Deno.readDirSync(`${workDir}/state`)].map((e) => e.name).filter((name) =>
      !name.startsWith(".")
    );
  } catch {
    return [];
  }
}

/** Child processes of this test process that are still around (running or zombie). */
export function childProcesses(): string[] {
  const children: string[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const stat = Deno.readTextFileSync(`/proc/${entry.name}/stat`);
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(fields[1]) === Deno.pid) {
        children.push(`${entry.name} ${stat.slice(0, stat.lastIndexOf(")") + 1)}`);
      }
    } catch {
      // exited while listing
    }
  }
  return children;
}

/** Fails when a test left a cgroup, a mount, a state directory or a child process behind. */
export function assertNoLeftovers(): void {
  assertEquals(
    {
      cgroups: testCgroups(),
      mounts: testMounts(),
      state: testStateDirs(),
      children: childProcesses(),
    },
    { cgroups: [], mounts: [], state: [], children: [] },
  );
}
