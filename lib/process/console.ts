/**
 * The parent's end of a container's terminal: the pty master the container
 * created in its own devpts and sent over the sync socket.
 *
 * @module
 */
import { errno, sys } from "../../ffi/syscalls.ts";
import { F, TIOCSWINSZ } from "../../ffi/constants.ts";
import { Errno } from "../../ffi/_errno.ts";
import { SystemError } from "../errors.ts";
import { closeFd } from "../sys/fs.ts";
import { readableFromFd, writableToFd } from "../sys/streams.ts";

/** A container's terminal, seen from outside. */
export class Console {
  #fd: number;
  /** What the container writes to its terminal. */
  readonly readable: ReadableStream<Uint8Array>;
  /** What the container reads from its terminal (keystrokes). */
  readonly writable: WritableStream<Uint8Array>;

  /** @internal Consoles come from `Container.start({ terminal: true })`; takes ownership of `masterFd`. */
  constructor(masterFd: number) {
    this.#fd = masterFd;
    // Reading and writing go through their own descriptors so each can close on its own.
    const readFd = sys.fcntl(masterFd, F.DUPFD_CLOEXEC, 3);
    const writeFd = sys.fcntl(masterFd, F.DUPFD_CLOEXEC, 3);
    if (readFd < 0 || writeFd < 0) throw new SystemError("fcntl F_DUPFD_CLOEXEC", errno());
    // Once the last process holding the terminal exits, the master reads EIO: that is the end.
    this.readable = readableFromFd(readFd, { endOn: [Errno.EIO] });
    this.writable = writableToFd(writeFd);
  }

  /** Sets the terminal's size; the container's foreground process gets SIGWINCH. */
  resize(columns: number, rows: number): void {
    const size = new Uint16Array([rows, columns, 0, 0]);
    if (sys.ioctl(this.#fd, TIOCSWINSZ, new Uint8Array(size.buffer)) < 0) {
      throw new SystemError("ioctl TIOCSWINSZ", errno());
    }
  }

  /** Closes the master descriptor used for resizing; the streams close on their own. */
  close(): void {
    if (this.#fd >= 0) closeFd(this.#fd);
    this.#fd = -1;
  }

  /** Same as {@link Console.close}. */
  [Symbol.dispose](): void {
    this.close();
  }
}
