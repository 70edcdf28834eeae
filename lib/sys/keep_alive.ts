/**
 * Keeping Deno's event loop alive while a promise that only a signal
 * listener settles is awaited: a pending poll on a pipe of our own, which
 * `release()` wakes and closes.
 *
 * @module
 */
import { sys } from "../../ffi/syscalls.ts";
import { closeFd } from "./fs.ts";
import { waitFor } from "./poll.ts";
import { pipe } from "./streams.ts";

/** Holds the event loop open until released. */
export class KeepAlive {
  #read: number;
  #write: number;
  #pending: Promise<number>;

  constructor() {
    [this.#read, this.#write] = pipe();
    this.#pending = waitFor(this.#read);
  }

  /** Lets the event loop end again. */
  async release(): Promise<void> {
    if (this.#write < 0) return;
    sys.write(this.#write, new Uint8Array(1), 1);
    await this.#pending;
    closeFd(this.#read);
    closeFd(this.#write);
    this.#write = -1;
  }
}
