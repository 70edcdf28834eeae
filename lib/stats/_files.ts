/**
 * Reading numeric kernel files in bulk: each file is read once straight
 * into the WASM core's input region (pseudo-files give their whole content
 * to one read that has room for it) and the core parses the bytes in place.
 * Missing files are not errors: the caller gets `undefined`.
 *
 * @module
 */
import { errno, sys, syscall } from "../../ffi/syscalls.ts";
import { Errno } from "../../ffi/_errno.ts";
import { O } from "../../ffi/constants.ts";
import { SystemError } from "../errors.ts";
import { cstr } from "../sys/fs.ts";
import {
  BLKIO_RECORD,
  E_KEYS_FULL,
  INPUT,
  INPUT_SIZE,
  IOSTAT_RECORD,
  MAX_SENTINEL,
  OP_OTHER,
  RECORDS,
  SEEN,
  STATUS_ERROR_AT,
  VALUES,
  type WasmCore,
  wasmCore,
  wasmErrorName,
} from "../../wasm/mod.ts";
import type { BlkioStatEntry } from "./types.ts";

const decoder = new TextDecoder();
const encoder = new TextEncoder();

/** A parsed number as the stats report it: `max` is `Infinity`. */
export function statNumber(value: number): number {
  return value === MAX_SENTINEL ? Infinity : value;
}

let generation = 0;

/**
 * Keys wanted from a flat keyed file, defined in the core once (again after
 * the core's key tables were reset). Values come back in this order.
 */
export class KeySet {
  readonly names: readonly string[];
  #id = -1;
  #generation = -1;

  /** The keys, in the order their values come back (ideally the file's order). */
  constructor(names: readonly string[]) {
    this.names = names;
  }

  /** The set's id in the core, defining it when needed. */
  id(core: WasmCore): number {
    if (this.#generation === generation) return this.#id;
    // At the end of the input region: a file read before may still be waiting to be parsed.
    const bytes = encoder.encode(this.names.join("\n"));
    const at = INPUT + INPUT_SIZE - bytes.length;
    core.bytes.set(bytes, at);
    let id = core.defineKeys(at, bytes.length);
    if (id === E_KEYS_FULL) {
      // Sets are defined once per process; a full table means keys were relearnt many times.
      core.resetKeys();
      generation++;
      id = core.defineKeys(at, bytes.length);
    }
    if (id < 0) throw new RangeError(`Bad key set ${this.names.join(",")}: ${wasmErrorName(id)}`);
    this.#id = id;
    this.#generation = generation;
    return id;
  }
}

/** The keys of a keyed file, as its lines list them (blanks are spaces and tabs, as for the core). */
function keysOf(text: string): string[] {
  const keys: string[] = [];
  for (const line of text.split("\n")) {
    const key = line.replace(/^[ \t]+/, "").split(/[ \t]/)[0];
    if (key) keys.push(key);
  }
  return keys;
}

/**
 * A key set learnt from the file itself (memory.stat, whose keys differ
 * between kernels): the first read decodes the keys once, later reads need
 * no decoding unless the file shows a key not yet known.
 */
export class LearntKeys {
  #set = new KeySet([]);

  /** The current set. */
  get set(): KeySet {
    return this.#set;
  }

  /** Adds the keys of the file in the input region (`length` bytes), in the file's order. */
  learn(core: WasmCore, length: number): void {
    const fileKeys = keysOf(decoder.decode(core.input.subarray(0, length)));
    const known = new Set(fileKeys);
    const names = [...new Set(fileKeys), ...this.#set.names.filter((name) => !known.has(name))];
    this.#set = new KeySet(names);
  }
}

/** File too large (not in ffi/_errno.ts's table yet). */
const EFBIG = 27;

/** pread64(2); not yet in ffi/syscalls.ts. */
const NR_PREAD64 = Deno.build.arch === "aarch64" ? 67 : 17;

/**
 * Reads and parses numeric files. C strings of the paths are kept between
 * calls; with `keepOpen` so are the descriptors (each read is then one
 * pread at offset 0: opening a cgroup file costs the kernel several times
 * more than reading it), until {@link close}.
 */
export class StatFiles {
  readonly core: WasmCore = wasmCore();
  readonly keepOpen: boolean;
  #paths = new Map<string, Uint8Array<ArrayBuffer>>();
  /** With keepOpen: path to descriptor, or -1 for a file that does not exist. */
  #fds = new Map<string, number>();

  /** Reads files one open/read/close each, or keeping them open. */
  constructor(keepOpen = false) {
    this.keepOpen = keepOpen;
  }

  /** Opens `path`; -1 when it does not exist. */
  #open(path: string): number {
    let name = this.#paths.get(path);
    if (name === undefined) {
      name = cstr(path);
      this.#paths.set(path, name);
    }
    const fd = sys.open(name, O.RDONLY | O.CLOEXEC, 0);
    if (fd >= 0) return fd;
    const code = errno();
    if (code === Errno.ENOENT || code === Errno.ENODEV) return -1;
    throw new SystemError("open", code, { target: path });
  }

  /** Reads `fd` from offset 0 into the input region; -1 when its cgroup was removed. */
  #readFd(fd: number, path: string): number {
    for (;;) {
      const n = this.keepOpen
        ? syscall(NR_PREAD64, fd, this.core.input, INPUT_SIZE, 0)
        : sys.read(fd, this.core.input, INPUT_SIZE);
      if (n >= 0) {
        // Pseudo-files give all they have to a read with room for it: a full buffer means more.
        if (n === INPUT_SIZE) throw new SystemError("read", EFBIG, { target: path });
        return n;
      }
      const code = errno();
      if (code === Errno.EINTR) continue;
      if (code === Errno.ENODEV) return -1;
      throw new SystemError("read", code, { target: path });
    }
  }

  /** Reads `path` into the input region; returns its length, or -1 when it does not exist. */
  read(path: string): number {
    if (!this.keepOpen) {
      const fd = this.#open(path);
      if (fd < 0) return -1;
      try {
        return this.#readFd(fd, path);
      } finally {
        sys.close(fd);
      }
    }
    let fd = this.#fds.get(path);
    if (fd === undefined) {
      fd = this.#open(path);
      this.#fds.set(path, fd);
    }
    if (fd < 0) return -1;
    const n = this.#readFd(fd, path);
    if (n >= 0) return n;
    // The cgroup was removed (and perhaps made again): open the path once more.
    sys.close(fd);
    this.#fds.delete(path);
    fd = this.#open(path);
    this.#fds.set(path, fd);
    return fd < 0 ? -1 : this.#readFd(fd, path);
  }

  /** Closes every kept descriptor; later reads open the files again. */
  close(): void {
    for (const fd of this.#fds.values()) if (fd >= 0) sys.close(fd);
    this.#fds.clear();
  }

  #fail(path: string, code: number): never {
    const at = this.core.i32[STATUS_ERROR_AT >> 2]!;
    throw new SystemError("parse", 0, {
      target: path,
      detail: `\`${path}\`: ${wasmErrorName(code)} at byte ${at}`,
    });
  }

  /** One number (`max` is `Infinity`), or undefined when the file is missing. */
  scalar(path: string): number | undefined {
    const length = this.read(path);
    if (length < 0) return undefined;
    const rc = this.core.parseScalar(INPUT, length);
    if (rc < 0) this.#fail(path, rc);
    return statNumber(this.core.f64[VALUES >> 3]!);
  }

  /** A list of numbers, or undefined when the file is missing. */
  list(path: string): number[] | undefined {
    const length = this.read(path);
    if (length < 0) return undefined;
    const count = this.core.parseList(INPUT, length);
    if (count < 0) this.#fail(path, count);
    const values = new Array<number>(count);
    const f64 = this.core.f64;
    for (let i = 0; i < count; i++) values[i] = statNumber(f64[(VALUES >> 3) + i]!);
    return values;
  }

  /**
   * Parses a keyed file for `keys`; then {@link value} and {@link seen} give
   * the results by key index. False when the file is missing.
   */
  keyed(path: string, keys: KeySet | LearntKeys): boolean {
    const length = this.read(path);
    if (length < 0) return false;
    const learnt = keys instanceof LearntKeys ? keys : undefined;
    let unknown = this.core.parseKeyed(
      (learnt?.set ?? keys as KeySet).id(this.core),
      INPUT,
      length,
    );
    if (unknown > 0 && learnt) {
      learnt.learn(this.core, length);
      unknown = this.core.parseKeyed(learnt.set.id(this.core), INPUT, length);
    }
    if (unknown < 0) this.#fail(path, unknown);
    return true;
  }

  /** The value of key `index` of the last keyed parse (0 when absent). */
  value(index: number): number {
    return statNumber(this.core.f64[(VALUES >> 3) + index]!);
  }

  /** Whether the last keyed parse found key `index`. */
  seen(index: number): boolean {
    return this.core.bytes[SEEN + index] === 1;
  }

  /** Every key of the last parse with `keys` that the file had, with its value. */
  map(keys: LearntKeys): Record<string, number> {
    const record: Record<string, number> = {};
    const names = keys.set.names;
    for (let i = 0; i < names.length; i++) {
      if (this.seen(i)) record[names[i]!] = this.value(i);
    }
    return record;
  }

  /** blkio v1 lines, or undefined when the file is missing. */
  blkio(path: string): BlkioStatEntry[] | undefined {
    const length = this.read(path);
    if (length < 0) return undefined;
    const count = this.core.parseBlkio(INPUT, length);
    if (count < 0) this.#fail(path, count);
    const { u32, f64, view } = this.core;
    const entries = new Array<BlkioStatEntry>(count);
    for (let i = 0; i < count; i++) {
      const at = RECORDS + i * BLKIO_RECORD;
      const code = view.getUint16(at + 8, true);
      entries[i] = {
        major: u32[at >> 2]!,
        minor: u32[(at >> 2) + 1]!,
        op: code === OP_OTHER ? this.#opName(at) : OP_NAMES[code]!,
        value: statNumber(f64[(at + 16) >> 3]!),
      };
    }
    return entries;
  }

  #opName(record: number): string {
    const length = this.core.view.getUint16(record + 10, true);
    const offset = this.core.u32[(record + 12) >> 2]!;
    return decoder.decode(this.core.input.subarray(offset, offset + length));
  }

  /**
   * io.stat v2 lines as blkio entries: bytes (rbytes, wbytes, dbytes) and
   * operations (rios, wios, dios) as `Read`, `Write` and `Discard`. False
   * when the file is missing.
   */
  ioStat(path: string, bytes: BlkioStatEntry[], ios: BlkioStatEntry[]): boolean {
    const length = this.read(path);
    if (length < 0) return false;
    const count = this.core.parseIoStat(INPUT, length);
    if (count < 0) this.#fail(path, count);
    const { u32, f64 } = this.core;
    for (let i = 0; i < count; i++) {
      const at = RECORDS + i * IOSTAT_RECORD;
      const major = u32[at >> 2]!;
      const minor = u32[(at >> 2) + 1]!;
      const v = (slot: number) => statNumber(f64[((at + 8) >> 3) + slot]!);
      bytes.push(
        { major, minor, op: "Read", value: v(0) },
        { major, minor, op: "Write", value: v(1) },
        { major, minor, op: "Discard", value: v(4) },
      );
      ios.push(
        { major, minor, op: "Read", value: v(2) },
        { major, minor, op: "Write", value: v(3) },
        { major, minor, op: "Discard", value: v(5) },
      );
    }
    return true;
  }
}

/** Names of the blkio op codes (OP_NONE .. OP_TOTAL). */
const OP_NAMES = ["", "Read", "Write", "Sync", "Async", "Discard", "Total"];
