/**
 * A process running in a container, seen from outside: its host pid, a
 * pidfd to wait on and signal it without racing pid reuse, and its streams.
 *
 * @module
 */
import { Errno } from "../../ffi/_errno.ts";
import { ContainerError, SystemError } from "../errors.ts";
import { type ExitStatus, pidfdSignal, signalNumber } from "../sys/proc.ts";
import { type Reaped, track } from "./reaper.ts";
import { KeepAlive } from "../sys/keep_alive.ts";
import type { Console } from "./console.ts";

export type { ExitStatus };

/** What a {@link ContainerProcess} is made of. */
export interface ProcessParts {
  pid: number;
  pidfd: number;
  stdin: WritableStream<Uint8Array> | null;
  stdout: ReadableStream<Uint8Array> | null;
  stderr: ReadableStream<Uint8Array> | null;
  console: Console | null;
  /** Runs once after the process was reaped (the container's cleanup for its init). */
  onExit?: (status: ExitStatus) => Promise<void> | void;
}

/** The collected output of {@link ContainerProcess.output}. */
export interface ProcessOutput extends ExitStatus {
  /** Everything the process wrote to a piped stdout (empty when not piped). */
  stdout: Uint8Array;
  /** Everything the process wrote to a piped stderr (empty when not piped). */
  stderr: Uint8Array;
}

async function collect(stream: ReadableStream<Uint8Array> | null): Promise<Uint8Array> {
  if (stream === null) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

/** A process started in a container by `Container.start()`. */
export class ContainerProcess {
  #pid: number;
  #pidfd: number;
  #reaped: Reaped;
  #done: Promise<ExitStatus>;
  #exited = false;
  /** The process's stdin when it was started with `stdin: "piped"`. */
  readonly stdin: WritableStream<Uint8Array> | null;
  /** The process's stdout when it was started with `stdout: "piped"`. */
  readonly stdout: ReadableStream<Uint8Array> | null;
  /** The process's stderr when it was started with `stderr: "piped"`. */
  readonly stderr: ReadableStream<Uint8Array> | null;
  /** The container side's terminal when it was started with `terminal: true`. */
  readonly console: Console | null;

  /** @internal Processes come from `Container.start()`. */
  constructor(parts: ProcessParts) {
    this.#pid = parts.pid;
    this.#pidfd = parts.pidfd;
    this.stdin = parts.stdin;
    this.stdout = parts.stdout;
    this.stderr = parts.stderr;
    this.console = parts.console;
    // Reaped in the background whether or not anyone waits (see reaper.ts).
    this.#reaped = track(parts.pidfd);
    this.#done = this.#reaped.exited.then(async (status) => {
      this.#exited = true;
      try {
        await parts.onExit?.(status);
      } finally {
        this.console?.close();
      }
      return status;
    });
    this.#done.catch(() => {}); // reported to whoever waits; not an unhandled rejection
  }

  /** The process's pid on the host. */
  get pid(): number {
    return this.#pid;
  }

  /** Waits for the process to exit; every call returns the same status. */
  async wait(): Promise<ExitStatus> {
    if (this.#exited) return await this.#done;
    // The reaper's signal listener does not keep the event loop alive; a waiter
    // must: a poll on a pipe of its own, woken when the status is in. (Not a
    // timer: Deno's first setTimeout costs milliseconds.)
    const keepAlive = new KeepAlive();
    try {
      return await this.#done;
    } finally {
      await keepAlive.release();
    }
  }

  /** Waits for exit and collects piped stdout and stderr. */
  async output(): Promise<ProcessOutput> {
    const [stdout, stderr, status] = await Promise.all([
      collect(this.stdout),
      collect(this.stderr),
      this.wait(),
    ]);
    return { ...status, stdout, stderr };
  }

  /**
   * Sends a signal (name or number) to the process.
   *
   * @throws {ContainerError} `ContainerNotRunning` once the process has exited.
   */
  signal(signal: Deno.Signal | number): void {
    // Once reaped, the pidfd is closed and its number may be reused: never touch it then.
    if (this.#exited || this.#reaped.check()) {
      throw new ContainerError("ContainerNotRunning", `Process ${this.#pid} has exited`);
    }
    try {
      pidfdSignal(this.#pidfd, signalNumber(signal));
    } catch (error) {
      if (error instanceof SystemError && error.errno === Errno.ESRCH) {
        throw new ContainerError("ContainerNotRunning", `Process ${this.#pid} has exited`, {
          cause: error,
        });
      }
      throw error;
    }
  }
}
