/**
 * `nsinit exec --tty` at a real terminal: nsinit runs on a pseudo-terminal
 * made by fixtures/pty_harness.py (python3's pty and termios modules), and
 * the test types into it, resizes it and reads what appears on it.
 */
import { assert, assertEquals, assertMatch, assertNotEquals } from "../_assert.ts";
import { integration } from "../_helpers.ts";
import { CliEnv, delay, within } from "./fixtures/nsinit_env.ts";

const HARNESS = new URL("./fixtures/pty_harness.py", import.meta.url).pathname;

const hasPython = (() => {
  try {
    return new Deno.Command("python3", { args: ["-c", "import pty, termios"] }).outputSync()
      .success;
  } catch {
    return false;
  }
})();

const ttyIntegration = { ignore: integration.ignore || !hasPython };
if (!integration.ignore && !hasPython) console.warn("tty tests skipped: no python3 with pty");

// Linux termios bits (asm-generic/termbits.h).
const ISIG = 0o1;
const ICANON = 0o2;
const ECHO = 0o10;

/** A terminal control sequence (ESC [ ...). */
const ESC = String.fromCharCode(0x1b);
const CSI = new RegExp(`${ESC}\\[[0-9;?]*[ -/]*[@-~]`, "g");

/** termios as the harness reports it: iflag, oflag, cflag, lflag, ispeed, ospeed, cc. */
type Termios = [number, number, number, number, number, number, number[]];

interface HarnessEvent {
  event: "started" | "termios" | "exit";
  pid?: number;
  label?: string;
  code?: number | null;
  signal?: number | null;
  termios: Termios;
}

/** nsinit on a pseudo-terminal, driven through the harness. */
class PtySession {
  readonly child: Deno.ChildProcess;
  /** Everything that appeared on the terminal: `\r\n` (and `\r\r\n`) read as `\n`, no control sequences. */
  output = "";
  readonly events: HarnessEvent[] = [];
  #raw = "";
  #errors = "";
  #writer: WritableStreamDefaultWriter<Uint8Array>;
  #waiters: (() => void)[] = [];
  #done: Promise<Deno.CommandStatus>;
  #ended = false;

  constructor(env: CliEnv, args: string[], size: { rows: number; cols: number }) {
    const child = new Deno.Command("python3", {
      args: [
        HARNESS,
        String(size.rows),
        String(size.cols),
        "--",
        Deno.execPath(),
        ...env.argv(args),
      ],
      cwd: env.rootfs,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.child = child;
    this.#writer = child.stdin.getWriter();
    const output = child.stdout.pipeTo(
      new WritableStream({
        write: (chunk) => {
          this.#raw += new TextDecoder().decode(chunk, { stream: true });
          // Line ends as the program wrote them, without terminal control sequences
          // (deno's progress line clearing, the shell's cursor position query).
          this.output = this.#raw.replace(/\r+\n/g, "\n").replace(CSI, "");
          this.#notify();
        },
      }),
    );
    let pending = "";
    const decoder = new TextDecoder();
    const events = child.stderr.pipeTo(
      new WritableStream({
        write: (chunk) => {
          pending += decoder.decode(chunk, { stream: true });
          let newline;
          while ((newline = pending.indexOf("\n")) >= 0) {
            const line = pending.slice(0, newline);
            pending = pending.slice(newline + 1);
            try {
              this.events.push(JSON.parse(line));
            } catch {
              this.#errors += line + "\n";
            }
          }
          this.#notify();
        },
      }),
    );
    this.#done = (async () => {
      const status = await child.status;
      await Promise.allSettled([output, events]);
      this.#ended = true;
      this.#notify();
      return status;
    })();
  }

  #notify(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    waiters.forEach((wake) => wake());
  }

  async #until(ready: () => boolean, ms: number, what: string): Promise<void> {
    await within(
      (async () => {
        while (!ready()) {
          if (this.#ended) throw new Error(`${what}, but the harness ended: ${this.describe()}`);
          await new Promise<void>((resolve) => this.#waiters.push(resolve));
        }
      })(),
      ms,
      `${what}; ${this.describe()}`,
    );
  }

  /** The bytes that appeared on the terminal, as they came. */
  get rawOutput(): string {
    return this.#raw;
  }

  describe(): string {
    return `output so far ${JSON.stringify(this.output)}, harness errors ${
      JSON.stringify(this.#errors)
    }`;
  }

  /** The current length of the output, to wait for what comes after it. */
  mark(): number {
    return this.output.length;
  }

  /** Waits until the output after `from` matches; returns that part. */
  async waitFor(pattern: RegExp, from = 0, ms = 15000): Promise<string> {
    await this.#until(() => pattern.test(this.output.slice(from)), ms, `waiting for ${pattern}`);
    return this.output.slice(from);
  }

  /** Waits for the shell's prompt after `from`. */
  prompt(from: number): Promise<string> {
    return this.waitFor(/(^|\n)\/[\w/]* # /, from);
  }

  async #control(message: Record<string, unknown>): Promise<void> {
    await this.#writer.write(new TextEncoder().encode(JSON.stringify(message) + "\n"));
  }

  /** Types text at the terminal. */
  type(text: string): Promise<void> {
    return this.#control({ input: text });
  }

  /** Resizes the terminal (the kernel sends SIGWINCH to nsinit). */
  resize(rows: number, cols: number): Promise<void> {
    return this.#control({ winsize: [rows, cols] });
  }

  /** Sends a signal to nsinit. */
  signal(number: number): Promise<void> {
    return this.#control({ signal: number });
  }

  /** The outer terminal's settings now. */
  async termios(label: string): Promise<Termios> {
    await this.#control({ termios: label });
    await this.#until(
      () => this.events.some((e) => e.event === "termios" && e.label === label),
      10000,
      `termios ${label}`,
    );
    return this.events.find((e) => e.event === "termios" && e.label === label)!.termios;
  }

  /** The settings of the terminal before nsinit started. */
  async before(): Promise<Termios> {
    await this.#until(() => this.events.some((e) => e.event === "started"), 10000, "start");
    return this.events.find((e) => e.event === "started")!.termios;
  }

  /** Waits for nsinit to exit; returns its status and the terminal's settings after it. */
  async exit(
    ms = 30000,
  ): Promise<{ code: number | null; signal: number | null; termios: Termios }> {
    await this.#until(() => this.events.some((e) => e.event === "exit"), ms, "nsinit to exit");
    await this.close();
    const exit = this.events.find((e) => e.event === "exit")!;
    return { code: exit.code ?? null, signal: exit.signal ?? null, termios: exit.termios };
  }

  /** Ends the harness (which kills nsinit after its time limit at the latest). */
  async close(): Promise<void> {
    await this.#writer.close().catch(() => {});
    await within(this.#done, 150000, "the pty harness to end");
  }

  /** For cleanup: kill nsinit through the harness, then end it. */
  async stop(): Promise<void> {
    if (!this.#ended && !this.events.some((e) => e.event === "exit")) {
      const started = this.events.find((e) => e.event === "started");
      if (started?.pid) {
        try {
          Deno.kill(started.pid, "SIGKILL");
        } catch {
          // gone
        }
      }
    }
    await this.close().catch(() => {});
  }
}

/** A tty test: its own env and sessions, nothing left behind. */
function ttyTest(name: string, fn: (start: Starter, env: CliEnv) => Promise<void>): void {
  Deno.test({
    name,
    ...ttyIntegration,
    async fn() {
      const env = new CliEnv();
      const sessions: PtySession[] = [];
      const start: Starter = (args, size = { rows: 24, cols: 80 }) => {
        const session = new PtySession(env, args, size);
        sessions.push(session);
        return session;
      };
      try {
        await fn(start, env);
        env.assertClean();
      } finally {
        await Promise.all(sessions.map((s) => s.stop()));
        await env.cleanup();
      }
    },
  });
}

type Starter = (args: string[], size?: { rows: number; cols: number }) => PtySession;

ttyTest("exec --tty gives the command /dev/pts/0 of the container's own devpts", async (start) => {
  const session = start(["exec", "--tty", "sh", "-c", "tty; ls /dev/pts"]);
  const exit = await session.exit();
  assertEquals(exit.code, 0, session.describe());
  const lines = session.output.split("\n").map((l) => l.trim()).filter(Boolean);
  assert(lines.includes("/dev/pts/0"), session.describe());
  // Only the container's own terminal is in its devpts: a fresh instance.
  const listed = lines.slice(lines.indexOf("/dev/pts/0") + 1).join(" ").split(/\s+/).sort();
  assertEquals(listed, ["0", "ptmx"]);
});

ttyTest(
  "exec --tty: stdin, stdout and stderr are the terminal and the process leads its own session",
  async (start) => {
    const session = start(["exec", "--tty", "probe", "report"]);
    const exit = await session.exit();
    assertEquals(exit.code, 0, session.describe());
    const json = session.output.split("\n").find((line) => line.startsWith("{"));
    assert(json, session.describe());
    const report = JSON.parse(json);
    assertEquals(report.isatty, [true, true, true]);
    assertEquals(report.tty, "/dev/pts/0");
    assertEquals(report.sid, report.pid);
    assertEquals(report.pgid, report.pid);
  },
);

ttyTest(
  "typing `echo hello; exit 7` into the shell prints hello and nsinit exits 7",
  async (start) => {
    const session = start(["exec", "--tty", "/bin/sh"]);
    await session.prompt(0);
    const from = session.mark();
    await session.type("echo hello; exit 7\n");
    await session.waitFor(/^hello$/m, from);
    const exit = await session.exit();
    assertEquals([exit.code, exit.signal], [7, null], session.describe());
  },
);

ttyTest("Ctrl-C interrupts the shell's foreground sleep and the shell goes on", async (start) => {
  const session = start(["exec", "--tty", "/bin/sh"]);
  await session.prompt(0);
  let from = session.mark();
  await session.type("sleep 100; echo sleep-ended\n");
  await session.waitFor(/sleep 100; echo sleep-ended\n/, from);
  await delay(500); // let the sleep start
  const interrupted = Date.now();
  from = session.mark();
  await session.type("\x03");
  await session.prompt(from);
  assert(Date.now() - interrupted < 10000);
  assert(!session.output.includes("\nsleep-ended"), "the whole command line should be interrupted");
  from = session.mark();
  await session.type("echo after-$((40+2))\n");
  await session.waitFor(/^after-42$/m, from);
  await session.type("exit 0\n");
  const exit = await session.exit();
  assertEquals([exit.code, exit.signal], [0, null], session.describe());
});

ttyTest(
  "job control in the shell: `sleep 100 &` is listed by jobs and `kill %1` ends it",
  async (start) => {
    const session = start(["exec", "--tty", "/bin/sh"]);
    await session.prompt(0);
    let from = session.mark();
    await session.type("sleep 100 &\n");
    await session.prompt(from);
    from = session.mark();
    await session.type("jobs\n");
    await session.waitFor(/^\[1\]\+?\s+Running\s+sleep 100$/m, from);
    from = session.mark();
    await session.type("kill %1; wait; jobs; echo killed-$?\n");
    await session.waitFor(/^killed-\d+$/m, from);
    from = session.mark();
    await session.type("jobs; echo jobs-done\n");
    const after = await session.waitFor(/^jobs-done$/m, from);
    assert(!/Running/.test(after), after);
    await session.type("exit 0\n");
    assertEquals((await session.exit()).code, 0, session.describe());
  },
);

ttyTest("the container's terminal has the outer window size from the start", async (start) => {
  // A program that reads the size once when it starts (stty size, or an
  // editor drawing its first screen) must see the real size, not 0 0.
  const size = { rows: 33, cols: 111 };
  const probe = start(["exec", "--id", "ws1", "--tty", "probe", "winsize"], size);
  assertEquals((await probe.exit()).code, 0, probe.describe());
  const stty = start(["exec", "--id", "ws2", "--tty", "stty", "size"], size);
  assertEquals((await stty.exit()).code, 0, stty.describe());
  assertEquals(
    { probe: probe.output.trim(), stty: stty.output.trim() },
    { probe: "33 111", stty: "33 111" },
  );
});

ttyTest(
  "the shell in the container sees the outer window size and follows resizes",
  async (start) => {
    const session = start(["exec", "--id", "ws3", "--tty", "/bin/sh"], { rows: 33, cols: 111 });
    await session.prompt(0);
    let from = session.mark();
    await session.type("stty size\n");
    await session.waitFor(/^33 111$/m, from);

    await session.resize(44, 99); // the kernel sends SIGWINCH to nsinit
    await delay(300);
    from = session.mark();
    await session.type("stty size\n");
    await session.waitFor(/^44 99$/m, from);

    await session.resize(20, 70);
    await session.signal(28); // and an explicit SIGWINCH too
    await delay(300);
    from = session.mark();
    await session.type("stty size\n");
    await session.waitFor(/^20 70$/m, from);
    await session.type("exit\n");
    assertEquals((await session.exit()).code, 0, session.describe());
  },
);

ttyTest(
  "the outer terminal is raw while nsinit runs and restored after it exits",
  async (start) => {
    const session = start(["exec", "--tty", "/bin/sh"]);
    const before = await session.before();
    assertEquals(before[3] & (ICANON | ECHO | ISIG), ICANON | ECHO | ISIG, "a cooked terminal");
    await session.prompt(0);
    const during = await session.termios("during");
    assertEquals(during[3] & (ICANON | ECHO | ISIG), 0, `lflag ${during[3].toString(8)}`);
    await session.type("exit 3\n");
    const exit = await session.exit();
    assertEquals(exit.code, 3);
    assertEquals(exit.termios, before);
  },
);

ttyTest(
  "the outer terminal is fully raw: the container's bytes reach it unchanged",
  async (start) => {
    // The container's pty turns "\n" into "\r\n"; a raw outer terminal (the
    // seed's term.MakeRaw, cfmakeraw) must not add a second "\r".
    const session = start(["exec", "--tty", "printf", "a\\nb\\n"]);
    const exit = await session.exit();
    assertEquals(exit.code, 0, session.describe());
    const raw = session.rawOutput.replace(CSI, "");
    assertEquals(JSON.stringify(raw), JSON.stringify("a\r\nb\r\n"));
  },
);

ttyTest(
  "the outer terminal is restored when the container's process is killed",
  async (start, env) => {
    const session = start(["exec", "--id", "killed", "--tty", "/bin/sh"]);
    const before = await session.before();
    await session.prompt(0);
    const state = await env.waitRunning("killed");
    Deno.kill(state.init_process_pid as number, "SIGKILL");
    const exit = await session.exit();
    assertEquals([exit.code, exit.signal], [137, null], session.describe());
    assertEquals(exit.termios, before);
  },
);

ttyTest(
  "exec --tty of a missing program exits 127 and leaves the terminal as it was",
  async (start) => {
    const session = start(["exec", "--tty", "/no/such/program"]);
    const before = await session.before();
    const exit = await session.exit();
    assertEquals(exit.code, 127, session.describe());
    assertMatch(session.output, /^nsinit: .*\/no\/such\/program/m);
    assertEquals(exit.termios, before);
  },
);

ttyTest(
  "a second exec --tty joins the running container with a terminal of its own",
  async (start) => {
    const first = start(["exec", "--id", "shared", "--tty", "/bin/sh"]);
    await first.prompt(0);
    const second = start(["exec", "--id", "shared", "--tty", "sh", "-c", "tty; ps -o pid,comm"]);
    const exit = await second.exit();
    assertEquals(exit.code, 0, second.describe());
    assertMatch(second.output, /^\/dev\/pts\/1$/m);
    assertMatch(second.output, /^\s*1 sh$/m);
    // The first shell is untouched and still answers.
    const from = first.mark();
    await first.type("tty; exit 4\n");
    await first.waitFor(/^\/dev\/pts\/0$/m, from);
    assertEquals((await first.exit()).code, 4, first.describe());
    assertNotEquals(first.output, second.output);
  },
);
