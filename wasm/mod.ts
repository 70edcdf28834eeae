/**
 * The WASM core's loader: the embedded module (wasm/_embed.ts) is compiled
 * and instantiated once, synchronously, on first use. The boundary is bytes
 * and numbers: the host puts input into the {@link INPUT} region, calls an
 * export, and reads results at the offsets of `wasm/_layout.ts`.
 *
 * @module
 */
import { BASE64 } from "./_embed.ts";
import {
  E_BAD_KEYS,
  E_BAD_QUERY,
  E_BAD_RULE,
  E_KEYS_FULL,
  E_RANGE,
  E_SYNTAX,
  E_TOO_MANY,
  INPUT,
  INPUT_SIZE,
  LAYOUT_END,
} from "./_layout.ts";

export * from "./_layout.ts";

/** The module's exports. Pointers are byte offsets in {@link WasmCore.memory}; negative results are error codes. */
export interface WasmExports {
  /** One number (or `max`) into VALUES[0]; returns 1. */
  parseScalar(ptr: number, len: number): number;
  /** White-space separated numbers into VALUES; returns how many. */
  parseList(ptr: number, len: number): number;
  /** Defines a key set from line-feed separated keys; returns its id. */
  defineKeys(ptr: number, len: number): number;
  /** `key value` lines into VALUES and SEEN for the keys of `set`; returns the count of unknown-key lines. */
  parseKeyed(set: number, ptr: number, len: number): number;
  /** Forgets every key set. */
  resetKeys(): void;
  /** blkio v1 lines into BLKIO_RECORD records; returns how many. */
  parseBlkio(ptr: number, len: number): number;
  /** io.stat v2 lines into IOSTAT_RECORD records; returns how many. */
  parseIoStat(ptr: number, len: number): number;
  /** Evaluates device rule writes; returns the count of minimal writes at DEV_WRITES. */
  deviceRules(ptr: number, len: number): number;
  /** 1 when the last evaluated rules allow the access, 0 when not. */
  deviceAllowed(type: number, major: number, minor: number, access: number): number;
  /** Emits the cgroup v2 device program at DEV_PROG; returns its instruction count. */
  deviceProgram(): number;
}

/** The instantiated core with typed views of its memory (the memory never grows). */
export interface WasmCore extends WasmExports {
  memory: WebAssembly.Memory;
  bytes: Uint8Array<ArrayBuffer>;
  view: DataView<ArrayBuffer>;
  f64: Float64Array<ArrayBuffer>;
  u32: Uint32Array<ArrayBuffer>;
  i32: Int32Array<ArrayBuffer>;
  /** The input region, for reading a file straight into it. */
  input: Uint8Array<ArrayBuffer>;
}

function decode(base64: string): Uint8Array<ArrayBuffer> {
  const native = (Uint8Array as unknown as {
    fromBase64?: (text: string) => Uint8Array<ArrayBuffer>;
  }).fromBase64;
  if (native) return native(base64);
  const binary = atob(base64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

let core: WasmCore | undefined;

/** The core, instantiated on the first call. */
export function wasmCore(): WasmCore {
  if (core !== undefined) return core;
  const instance = new WebAssembly.Instance(new WebAssembly.Module(decode(BASE64)), {});
  const exports = instance.exports as unknown as WasmExports & { memory: WebAssembly.Memory };
  // The module's memory is not shared and never grows (stub runtime, no allocation).
  const buffer = exports.memory.buffer as ArrayBuffer;
  if (buffer.byteLength < LAYOUT_END) {
    throw new Error(
      `The WASM core has ${buffer.byteLength} bytes of memory, fewer than its layout`,
    );
  }
  const loaded: WasmCore = {
    memory: exports.memory,
    bytes: new Uint8Array(buffer),
    view: new DataView(buffer),
    f64: new Float64Array(buffer),
    u32: new Uint32Array(buffer),
    i32: new Int32Array(buffer),
    input: new Uint8Array(buffer, INPUT, INPUT_SIZE),
    parseScalar: exports.parseScalar,
    parseList: exports.parseList,
    defineKeys: exports.defineKeys,
    parseKeyed: exports.parseKeyed,
    resetKeys: exports.resetKeys,
    parseBlkio: exports.parseBlkio,
    parseIoStat: exports.parseIoStat,
    deviceRules: exports.deviceRules,
    deviceAllowed: exports.deviceAllowed,
    deviceProgram: exports.deviceProgram,
  };
  core = loaded;
  return loaded;
}

/**
 * Copies `bytes` into the input region and returns their length.
 *
 * @throws {RangeError} when they do not fit.
 */
export function putInput(bytes: Uint8Array): number {
  if (bytes.length > INPUT_SIZE) {
    throw new RangeError(`Input of ${bytes.length} bytes exceeds the WASM input region`);
  }
  wasmCore().input.set(bytes);
  return bytes.length;
}

const ERROR_NAMES: Record<number, string> = {
  [E_SYNTAX]: "syntax error",
  [E_RANGE]: "input outside the input region",
  [E_TOO_MANY]: "too many values",
  [E_KEYS_FULL]: "key tables full",
  [E_BAD_KEYS]: "bad key set",
  [E_BAD_RULE]: "bad device rule",
  [E_BAD_QUERY]: "bad device query",
};

/** A readable name of a negative result. */
export function wasmErrorName(code: number): string {
  return ERROR_NAMES[code] ?? `error ${code}`;
}
