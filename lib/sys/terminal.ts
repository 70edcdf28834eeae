/**
 * The host terminal in raw mode, as cfmakeraw(3) sets it: no echo, no line
 * editing, no signals from keys, and no output processing (Deno's own
 * `setRaw` keeps output processing, which turns every "\n" the container
 * writes into "\r\n" a second time). The settings go through the TCGETS and
 * TCSETS ioctls, with the kernel's struct termios.
 *
 * @module
 */
import { errno, sys } from "../../ffi/syscalls.ts";
import { SystemError } from "../errors.ts";

const TCGETS = 0x5401;
const TCSETS = 0x5402;
// The kernel's struct termios: four tcflag_t words, c_line, c_cc[19].
const TERMIOS_SIZE = 36;
const IFLAG = 0, OFLAG = 4, CFLAG = 8, LFLAG = 12, CC = 17;
const VTIME = 5, VMIN = 6;

// What cfmakeraw clears and sets (asm-generic termbits, as on x86_64 and aarch64).
const IGNBRK = 0o1,
  BRKINT = 0o2,
  PARMRK = 0o10,
  ISTRIP = 0o40,
  INLCR = 0o100,
  IGNCR = 0o200,
  ICRNL = 0o400,
  IXON = 0o2000;
const OPOST = 0o1;
const ISIG = 0o1, ICANON = 0o2, ECHO = 0o10, ECHONL = 0o100, IEXTEN = 0o100000;
const CSIZE = 0o60, CS8 = 0o60, PARENB = 0o400;

/** A terminal put in raw mode; `restore()` puts back the settings it had. */
export interface RawTerminal {
  /** Restores the settings the terminal had before; idempotent. */
  restore(): void;
}

function raw(settings: Uint8Array): Uint8Array {
  const out = settings.slice();
  const view = new DataView(out.buffer);
  const clear = (at: number, bits: number) =>
    view.setUint32(at, view.getUint32(at, true) & ~bits, true);
  clear(IFLAG, IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON);
  clear(OFLAG, OPOST);
  clear(LFLAG, ECHO | ECHONL | ICANON | ISIG | IEXTEN);
  clear(CFLAG, CSIZE | PARENB);
  view.setUint32(CFLAG, view.getUint32(CFLAG, true) | CS8, true);
  out[CC + VMIN] = 1;
  out[CC + VTIME] = 0;
  return out;
}

/**
 * Puts the terminal on `fd` in raw mode.
 *
 * @throws {SystemError} when `fd` is not a terminal.
 */
export function makeRaw(fd: number): RawTerminal {
  const saved = new Uint8Array(TERMIOS_SIZE);
  if (sys.ioctl(fd, TCGETS, saved) < 0) {
    throw new SystemError("ioctl TCGETS", errno(), { target: `fd ${fd}` });
  }
  if (sys.ioctl(fd, TCSETS, raw(saved)) < 0) {
    throw new SystemError("ioctl TCSETS", errno(), { target: `fd ${fd}` });
  }
  let restored = false;
  return {
    restore() {
      if (restored) return;
      restored = true;
      sys.ioctl(fd, TCSETS, saved);
    },
  };
}
