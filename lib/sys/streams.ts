/**
 * Web streams over raw descriptors (pipes, a pty master), reading and
 * writing without blocking the event loop: the descriptor is non-blocking
 * and readiness is awaited with poll on a worker thread.
 *
 * @module
 */
import { errno, sys } from "../../ffi/syscalls.ts";
import { F, O, POLL } from "../../ffi/constants.ts";
import { Errno } from "../../ffi/_errno.ts";
import { SystemError } from "../errors.ts";
import { closeFd } from "./fs.ts";
import { waitFor } from "./poll.ts";

/** Sets O_NONBLOCK on a descriptor. */
export function setNonblocking(fd: number): void {
  const flags = sys.fcntl(fd, F.GETFL, 0);
  if (flags < 0 || sys.fcntl(fd, F.SETFL, flags | O.NONBLOCK) < 0) {
    throw new SystemError("fcntl O_NONBLOCK", errno(), { target: `fd ${fd}` });
  }
}

/** Options of the stream constructors. */
export interface FdStreamOptions {
  /** Close the descriptor when the stream ends (default true). */
  close?: boolean;
  /** Errno values that mean end of stream (a pty master gives EIO once the slave closes). */
  endOn?: number[];
}

/** A readable stream of the bytes read from `fd` until end of file. */
export function readableFromFd(
  fd: number,
  options: FdStreamOptions = {},
): ReadableStream<Uint8Array> {
  setNonblocking(fd);
  const endOn = new Set(options.endOn ?? []);
  let open = true;
  const finish = () => {
    if (open && options.close !== false) closeFd(fd);
    open = false;
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const buffer = new Uint8Array(65536);
      for (;;) {
        const n = sys.read(fd, buffer, buffer.length);
        if (n > 0) return controller.enqueue(buffer.slice(0, n));
        const code = n < 0 ? errno() : 0;
        if (n === 0 || endOn.has(code)) {
          finish();
          return controller.close();
        }
        if (code === Errno.EINTR) continue;
        if (code !== Errno.EAGAIN) {
          finish();
          return controller.error(new SystemError("read", code, { target: `fd ${fd}` }));
        }
        await waitFor(fd, POLL.IN);
      }
    },
    cancel: finish,
  });
}

/** A writable stream that writes each chunk fully to `fd`. */
export function writableToFd(
  fd: number,
  options: FdStreamOptions = {},
): WritableStream<Uint8Array> {
  setNonblocking(fd);
  let open = true;
  const finish = () => {
    if (open && options.close !== false) closeFd(fd);
    open = false;
  };
  return new WritableStream<Uint8Array>({
    async write(chunk) {
      let offset = 0;
      while (offset < chunk.length) {
        const rest = chunk.subarray(offset) as Uint8Array<ArrayBuffer>;
        const n = sys.write(fd, rest, rest.length);
        if (n >= 0) {
          offset += n;
          continue;
        }
        const code = errno();
        if (code === Errno.EINTR) continue;
        if (code !== Errno.EAGAIN) throw new SystemError("write", code, { target: `fd ${fd}` });
        await waitFor(fd, POLL.OUT);
      }
    },
    close: finish,
    abort: finish,
  });
}

/** Creates a pipe; both ends close-on-exec. Returns [read, write]. */
export function pipe(): [number, number] {
  const fds = new Int32Array(2);
  if (sys.pipe2(new Uint8Array(fds.buffer), O.CLOEXEC) < 0) {
    throw new SystemError("pipe2", errno());
  }
  return [fds[0]!, fds[1]!];
}
