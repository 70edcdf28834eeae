/**
 * Attaching the terminal to a container process: with a terminal, the host
 * tty goes raw and bytes are copied both ways, the window size follows
 * SIGWINCH, and the tty is restored on exit; either way, termination
 * signals sent to nsinit are forwarded to the process. SIGUSR1 is not among
 * them: nsinit ignores it (see `refuseInspectorSignal`).
 *
 * @module
 */
import { type Console, type ContainerProcess, type ExitStatus, makeRaw } from "../mod.ts";

// Ctrl-C and friends reach a terminal's process through the pty itself.
const FORWARDED_WITH_TTY: Deno.Signal[] = ["SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR2"];
const FORWARDED: Deno.Signal[] = ["SIGINT", ...FORWARDED_WITH_TTY];

/**
 * Forwards signals to a process. It listens from the moment it is made, so
 * that a signal arriving while the process starts is held and delivered
 * once the process exists, instead of killing nsinit.
 */
export class SignalForwarder {
  #process: ContainerProcess | undefined;
  #pending: Deno.Signal[] = [];
  #handlers: [Deno.Signal, () => void][];

  constructor(terminal: boolean) {
    this.#handlers = (terminal ? FORWARDED_WITH_TTY : FORWARDED).map((signal) => {
      const handler = () => this.#deliver(signal);
      Deno.addSignalListener(signal, handler);
      return [signal, handler];
    });
  }

  #deliver(signal: Deno.Signal): void {
    if (this.#process === undefined) {
      this.#pending.push(signal);
      return;
    }
    try {
      this.#process.signal(signal);
    } catch {
      // it exited in the meantime
    }
  }

  /** Starts forwarding to `process`, first what arrived while it started. */
  attach(process: ContainerProcess): void {
    this.#process = process;
    for (const signal of this.#pending.splice(0)) this.#deliver(signal);
  }

  /** Stops listening. */
  close(): void {
    for (const [signal, handler] of this.#handlers) Deno.removeSignalListener(signal, handler);
    this.#handlers = [];
  }
}

/** The host terminal's size, when stdout is one. */
export function hostConsoleSize(): { columns: number; rows: number } | undefined {
  try {
    return Deno.consoleSize();
  } catch {
    return undefined;
  }
}

function followWindowSize(console: Console): () => void {
  const resize = () => {
    const size = hostConsoleSize();
    if (size) console.resize(size.columns, size.rows);
  };
  Deno.addSignalListener("SIGWINCH", resize);
  return () => Deno.removeSignalListener("SIGWINCH", resize);
}

async function withTerminal(process: ContainerProcess, console: Console): Promise<ExitStatus> {
  const raw = Deno.stdin.isTerminal() ? makeRaw(0) : null;
  const stopResizing = followWindowSize(console);
  try {
    // Keystrokes go in until nsinit exits; output is drained until the pty closes.
    Deno.stdin.readable.pipeTo(console.writable).catch(() => {});
    const output = console.readable.pipeTo(Deno.stdout.writable, { preventClose: true }).catch(
      () => {},
    );
    const status = await process.wait();
    // A background child may still hold the terminal: do not wait for it forever.
    await Promise.race([output, new Promise((resolve) => setTimeout(resolve, 250))]);
    return status;
  } finally {
    stopResizing();
    raw?.restore();
  }
}

/** Waits for the process with the host terminal attached; returns its exit status. */
export async function runAttached(
  process: ContainerProcess,
  signals: SignalForwarder,
): Promise<ExitStatus> {
  signals.attach(process);
  try {
    return process.console ? await withTerminal(process, process.console) : await process.wait();
  } finally {
    signals.close();
  }
}
