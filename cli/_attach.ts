/**
 * Attaching the terminal to a container process: with a terminal, the host
 * tty goes raw and bytes are copied both ways, the window size follows
 * SIGWINCH, and the tty is restored on exit; either way, termination
 * signals sent to nsinit are forwarded to the process.
 *
 * @module
 */
import type { Console, ContainerProcess, ExitStatus } from "../mod.ts";

// Ctrl-C and friends reach a terminal's process through the pty itself.
const FORWARDED_WITH_TTY: Deno.Signal[] = ["SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2"];
const FORWARDED: Deno.Signal[] = ["SIGINT", ...FORWARDED_WITH_TTY];

function forwardSignals(process: ContainerProcess, signals: Deno.Signal[]): () => void {
  const handlers = signals.map((signal) => {
    const handler = () => {
      try {
        process.signal(signal);
      } catch {
        // it exited in the meantime
      }
    };
    Deno.addSignalListener(signal, handler);
    return [signal, handler] as const;
  });
  return () => handlers.forEach(([signal, handler]) => Deno.removeSignalListener(signal, handler));
}

function followWindowSize(console: Console): () => void {
  const resize = () => {
    try {
      const { columns, rows } = Deno.consoleSize();
      console.resize(columns, rows);
    } catch {
      // stdout is not a terminal
    }
  };
  resize();
  Deno.addSignalListener("SIGWINCH", resize);
  return () => Deno.removeSignalListener("SIGWINCH", resize);
}

async function withTerminal(process: ContainerProcess, console: Console): Promise<ExitStatus> {
  const raw = Deno.stdin.isTerminal();
  if (raw) Deno.stdin.setRaw(true);
  const stopResizing = followWindowSize(console);
  const stopForwarding = forwardSignals(process, FORWARDED_WITH_TTY);
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
    stopForwarding();
    stopResizing();
    if (raw) Deno.stdin.setRaw(false);
  }
}

/** Waits for the process with the host terminal attached; returns its exit status. */
export async function runAttached(process: ContainerProcess): Promise<ExitStatus> {
  if (process.console) return await withTerminal(process, process.console);
  const stop = forwardSignals(process, FORWARDED);
  try {
    return await process.wait();
  } finally {
    stop();
  }
}
