/**
 * Standard streams of a container process: inherited from this process,
 * /dev/null, a pipe to a web stream, or a descriptor the caller owns.
 *
 * @module
 */
import { O } from "../../ffi/constants.ts";
import { closeFd, openFile } from "../sys/fs.ts";
import { pipe, readableFromFd, writableToFd } from "../sys/streams.ts";

/** Where a standard stream of a container process goes. */
export type Stdio = "inherit" | "null" | "piped" | number;

/** The three streams, resolved into descriptors before the spawn. */
export interface PreparedStdio {
  /** The descriptors the child gets as 0, 1 and 2. */
  childFds: [number, number, number];
  /** Parent ends of pipes: stdin's write end, stdout's and stderr's read ends. */
  parentFds: [number | null, number | null, number | null];
  /** Descriptors opened only for the spawn, to close after it. */
  closeAfterSpawn: number[];
}

/** Opens pipes and /dev/null as the streams ask. */
export function prepareStdio(streams: readonly [Stdio, Stdio, Stdio]): PreparedStdio {
  const prepared: PreparedStdio = {
    childFds: [0, 1, 2],
    parentFds: [null, null, null],
    closeAfterSpawn: [],
  };
  try {
    streams.forEach((stdio, index) => {
      if (stdio === "inherit") {
        prepared.childFds[index] = index;
      } else if (stdio === "null") {
        const fd = openFile("/dev/null", O.RDWR);
        prepared.closeAfterSpawn.push(fd);
        prepared.childFds[index] = fd;
      } else if (stdio === "piped") {
        const [read, write] = pipe();
        const [child, parent] = index === 0 ? [read, write] : [write, read];
        prepared.closeAfterSpawn.push(child);
        prepared.childFds[index] = child;
        prepared.parentFds[index] = parent;
      } else {
        prepared.childFds[index] = stdio;
      }
    });
  } catch (error) {
    releaseStdio(prepared);
    throw error;
  }
  return prepared;
}

/** Closes every descriptor of a prepared set (after a failed start). */
export function releaseStdio(prepared: PreparedStdio): void {
  prepared.closeAfterSpawn.forEach(closeFd);
  prepared.parentFds.forEach((fd) => fd !== null && closeFd(fd));
  prepared.closeAfterSpawn = [];
  prepared.parentFds = [null, null, null];
}

/** The parent's web streams for the piped descriptors. */
export function stdioStreams(prepared: PreparedStdio): {
  stdin: WritableStream<Uint8Array> | null;
  stdout: ReadableStream<Uint8Array> | null;
  stderr: ReadableStream<Uint8Array> | null;
} {
  const [stdin, stdout, stderr] = prepared.parentFds;
  return {
    stdin: stdin === null ? null : writableToFd(stdin),
    stdout: stdout === null ? null : readableFromFd(stdout),
    stderr: stderr === null ? null : readableFromFd(stderr),
  };
}
