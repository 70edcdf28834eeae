/**
 * Host-side tools of the integration tests in this directory: raw
 * descriptors through the test's own libc binding (Deno has no public fd for
 * a file or a pipe, and the runtime's own bindings are what is under test),
 * a look at a process from /proc, polling, and running a fixture script in
 * another Deno process.
 *
 * @module
 */
import { type ConfigInput, ContainerError, type ProcessOptions } from "../../mod.ts";
import { assert, assertEquals } from "../_assert.ts";
import {
  childProcesses,
  testCgroups,
  testFactory,
  testMounts,
  testStateDirs,
  uniqueId,
} from "../_helpers.ts";

const libc = Deno.dlopen("libc.so.6", {
  open: { parameters: ["buffer", "i32", "u32"], result: "i32" }, // const char *path, int flags, mode_t mode
  close: { parameters: ["i32"], result: "i32" }, // int fd
  pipe2: { parameters: ["buffer", "i32"], result: "i32" }, // int fds[2], int flags
  read: { parameters: ["i32", "buffer", "usize"], result: "isize" }, // int fd, void *buf, size_t count
  write: { parameters: ["i32", "buffer", "usize"], result: "isize" }, // int fd, const void *buf, size_t count
  fcntl: { parameters: ["i32", "i32", "i32"], result: "i32" }, // int fd, int cmd, int arg
}).symbols;

/** open(2) flags (x86_64). */
export const O = {
  RDONLY: 0,
  WRONLY: 1,
  RDWR: 2,
  CREAT: 0o100,
  TRUNC: 0o1000,
  CLOEXEC: 0o2000000,
} as const;

const F_GETFD = 1;
const FD_CLOEXEC = 1;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Opens a host file and returns the raw descriptor (no O_CLOEXEC unless asked). */
export function openFd(path: string, flags: number, mode = 0o644): number {
  const fd = libc.open(encoder.encode(path + "\0"), flags, mode);
  if (fd < 0) throw new Error(`open ${path} failed`);
  return fd;
}

/** A pipe as [read end, write end]; both close-on-exec unless `cloexec` is false. */
export function pipe(cloexec = true): [number, number] {
  const fds = new Int32Array(2);
  if (libc.pipe2(new Uint8Array(fds.buffer), cloexec ? O.CLOEXEC : 0) < 0) {
    throw new Error("pipe2 failed");
  }
  return [fds[0]!, fds[1]!];
}

/** Closes a descriptor this test opened. */
export function closeFd(fd: number): void {
  libc.close(fd);
}

/** Whether `fd` is open in this process, and whether it is close-on-exec. */
export function fdFlags(fd: number): { open: boolean; cloexec: boolean } {
  const flags = libc.fcntl(fd, F_GETFD, 0);
  return { open: flags >= 0, cloexec: flags >= 0 && (flags & FD_CLOEXEC) !== 0 };
}

/** Reads a (blocking) descriptor to end of file; every writer must be closed or exiting. */
export function readFdToEnd(fd: number): string {
  const chunks: string[] = [];
  const buffer = new Uint8Array(65536);
  for (;;) {
    const n = Number(libc.read(fd, buffer, BigInt(buffer.length)));
    if (n < 0) throw new Error(`read from fd ${fd} failed`);
    if (n === 0) return chunks.join("");
    chunks.push(decoder.decode(buffer.subarray(0, n)));
  }
}

/** The open descriptors of a process, from /proc/<pid>/fd, sorted. */
export function fdsOf(pid: number): number[] {
  return [...Deno.readDirSync(`/proc/${pid}/fd`)].map((e) => Number(e.name)).sort((a, b) => a - b);
}

/** State (R, S, Z, ...) and start time of a process, or null when there is none. */
export function procStat(
  pid: number,
): { state: string; start: string; ppid: number; comm: string } | null {
  let text: string;
  try {
    text = Deno.readTextFileSync(`/proc/${pid}/stat`);
  } catch {
    return null;
  }
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  const comm = text.slice(text.indexOf("(") + 1, text.lastIndexOf(")"));
  return { state: fields[0]!, ppid: Number(fields[1]), start: fields[19]!, comm };
}

/** True when the process that had `start` as its start time no longer runs (gone or a zombie). */
export function isDead(pid: number, start: string): boolean {
  const stat = procStat(pid);
  return stat === null || stat.start !== start || stat.state === "Z" || stat.state === "X";
}

/** Polls `condition` every 10 ms until it holds; fails after `timeoutMs`. */
export async function waitUntil(
  what: string,
  condition: () => boolean,
  timeoutMs = 5000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Reads a text stream until `done(textSoFar)` holds; the stream stays open for more. */
export async function readUntil(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  done: (text: string) => boolean,
  timeoutMs = 5000,
): Promise<string> {
  let text = "";
  const streamDecoder = new TextDecoder();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`Timed out after ${timeoutMs} ms; read so far: ${text}`)),
      timeoutMs,
    );
  });
  try {
    while (!done(text)) {
      const { value, done: ended } = await Promise.race([reader.read(), timeout]);
      if (ended) throw new Error(`Stream ended before the expected text; read: ${text}`);
      text += streamDecoder.decode(value, { stream: true });
    }
    return text;
  } finally {
    clearTimeout(timer);
  }
}

/** Reads a stream to its end as text. */
export async function streamText(stream: ReadableStream<Uint8Array> | null): Promise<string> {
  if (stream === null) throw new Error("The stream is not piped");
  let text = "";
  const streamDecoder = new TextDecoder();
  for await (const chunk of stream) text += streamDecoder.decode(chunk, { stream: true });
  return text + streamDecoder.decode();
}

/** Inode numbers of a process's namespaces, by /proc/<pid>/ns name. */
export function namespaceInodes(pid: number): Record<string, number> {
  const inodes: Record<string, number> = {};
  for (const entry of Deno.readDirSync(`/proc/${pid}/ns`)) {
    inodes[entry.name] = Deno.statSync(`/proc/${pid}/ns/${entry.name}`).ino!;
  }
  return inodes;
}

/** The lines of /proc/<pid>/cgroup, sorted. */
export function cgroupLines(pid: number): string[] {
  return Deno.readTextFileSync(`/proc/${pid}/cgroup`).trim().split("\n").sort();
}

/** A fixture script of this directory run as `deno run --allow-ffi` (the only permission the library needs). */
export function fixtureCommand(
  script: string,
  args: string[],
  stdio: Pick<Deno.CommandOptions, "stdin" | "stdout" | "stderr"> = {},
): Deno.Command {
  return new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      "--no-check",
      "--allow-ffi",
      new URL(script, import.meta.url).pathname,
      ...args,
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    ...stdio,
  });
}

/**
 * Starts `options` in a fresh container of `config`, expecting start() to
 * fail; checks the failure left nothing behind but the container's own
 * state directory (no cgroup, no mount, no process, the state as created),
 * destroys the container and returns the error.
 */
export async function expectStartFailure(
  config: ConfigInput,
  options: ProcessOptions,
): Promise<ContainerError> {
  const factory = await testFactory();
  const id = uniqueId("fail");
  const container = await factory.create(id, config);
  const before = container.state();
  let error: unknown;
  try {
    const process = await container.start({
      stdin: "null",
      stdout: "null",
      stderr: "null",
      ...options,
    });
    await process.wait();
  } catch (caught) {
    error = caught;
  }
  if (error === undefined) {
    await container.destroy();
    throw new Error(`start(${JSON.stringify(options.args)}) should have failed`);
  }
  assert(error instanceof ContainerError, `not a ContainerError: ${error}`);
  assertEquals(
    {
      status: container.status(),
      state: container.state(),
      cgroups: testCgroups(),
      mounts: testMounts(),
      stateDirs: testStateDirs(),
      children: childProcesses(),
    },
    { status: "stopped", state: before, cgroups: [], mounts: [], stateDirs: [id], children: [] },
  );
  await container.destroy();
  assertEquals(container.status(), "destroyed");
  return error;
}

/** A loop device on a temporary file, with the BFQ scheduler (per-device weights need it). */
export function loopDevice(): { device: string; number: string; [Symbol.dispose](): void } {
  const file = Deno.makeTempFileSync({ prefix: "nsinit-test-cg-loop-" });
  Deno.truncateSync(file, 8 * 1024 * 1024);
  const output = new Deno.Command("losetup", { args: ["--find", "--show", file] }).outputSync();
  Deno.removeSync(file); // the loop device keeps it open
  if (!output.success) throw new Error(new TextDecoder().decode(output.stderr));
  const device = new TextDecoder().decode(output.stdout).trim();
  const name = device.slice(device.lastIndexOf("/") + 1);
  const detach = () => new Deno.Command("losetup", { args: ["-d", device] }).outputSync();
  try {
    Deno.writeTextFileSync(`/sys/block/${name}/queue/scheduler`, "bfq");
    return {
      device,
      number: Deno.readTextFileSync(`/sys/block/${name}/dev`).trim(),
      [Symbol.dispose]: detach,
    };
  } catch (error) {
    detach();
    throw error;
  }
}
