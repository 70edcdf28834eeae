/**
 * A process running in a container, seen from outside: its host pid, a
 * pidfd to wait on and signal it without racing pid reuse, and its streams.
 *
 * @module
 */
import { Errno } from "../../ffi/_errno.ts";
import { ContainerError, SystemError } from "../errors.ts";
import { closePidfd, type ExitStatus, pidfdSignal, signalNumber, waitPidfd } from "../sys/proc.ts";
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
  #status: Promise<ExitStatus> | undefined;
  #exited = false;
  #onExit: ProcessParts["onExit"];
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
    this.#onExit = parts.onExit;
    this.stdin = parts.stdin;
    this.stdout = parts.stdout;
    this.stderr = parts.stderr;
    this.console = parts.console;
  }

  /** The process's pid on the host. */
  get pid(): number {
    return this.#pid;
  }

  /** Waits for the process to exit and reaps it; every call returns the same status. */
  wait(): Promise<ExitStatus> {
    this.#status ??= (async () => {
      try {
        const status = await waitPidfd(this.#pidfd);
        this.#exited = true;
        await this.#onExit?.(status);
        return status;
      } finally {
        closePidfd(this.#pidfd);
        this.console?.close();
      }
    })();
    return this.#status;
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
    if (this.#exited) {
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
