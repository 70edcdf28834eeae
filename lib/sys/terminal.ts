/**
 * The host terminal in raw mode, as cfmakeraw(3) sets it: no echo, no line
 * editing, no signals from keys, and no output processing (Deno's own
 * `setRaw` keeps output processing, which turns every "\n" the container
 * writes into "\r\n" a second time).
 *
 * @module
 */
import { errno, libc } from "../../ffi/libc.ts";
import { SystemError } from "../errors.ts";

// struct termios is 60 bytes on x86_64 and aarch64 glibc; a little room to spare.
const TERMIOS_SIZE = 64;
const TCSANOW = 0;

/** A terminal put in raw mode; `restore()` puts back the settings it had. */
export interface RawTerminal {
  /** Restores the settings the terminal had before; idempotent. */
  restore(): void;
}

/**
 * Puts the terminal on `fd` in raw mode.
 *
 * @throws {SystemError} when `fd` is not a terminal.
 */
export function makeRaw(fd: number): RawTerminal {
  const saved = new Uint8Array(TERMIOS_SIZE);
  if (libc().tcgetattr(fd, saved) < 0) {
    throw new SystemError("tcgetattr", errno(), { target: `fd ${fd}` });
  }
  const raw = saved.slice();
  libc().cfmakeraw(raw);
  if (libc().tcsetattr(fd, TCSANOW, raw) < 0) {
    throw new SystemError("tcsetattr", errno(), { target: `fd ${fd}` });
  }
  let restored = false;
  return {
    restore() {
      if (restored) return;
      restored = true;
      libc().tcsetattr(fd, TCSANOW, saved);
    },
  };
}
