/**
 * The WASM core's parsers with the reference parsers' result shapes, for
 * comparing the two.
 *
 * @module
 */
import {
  BLKIO_RECORD,
  E_KEYS_FULL,
  INPUT,
  INPUT_SIZE,
  IOSTAT_RECORD,
  OP_OTHER,
  putInput,
  RECORDS,
  SEEN,
  VALUES,
  wasmCore,
} from "../../../wasm/mod.ts";
import type { BlkioLine, IoStatLine, Keyed, Result } from "./_reference.ts";

const encoder = new TextEncoder();
const OPS = ["", "Read", "Write", "Sync", "Async", "Discard", "Total"];

function input(text: string | Uint8Array): number {
  return putInput(typeof text === "string" ? encoder.encode(text) : text);
}

function values(count: number): number[] {
  return Array.from(wasmCore().f64.subarray(VALUES >> 3, (VALUES >> 3) + count));
}

export function wasmScalar(text: string | Uint8Array): Result<number> {
  const rc = wasmCore().parseScalar(INPUT, input(text));
  return rc < 0 ? { ok: false, code: rc } : { ok: true, value: values(1)[0]! };
}

export function wasmList(text: string | Uint8Array): Result<number[]> {
  const rc = wasmCore().parseList(INPUT, input(text));
  return rc < 0 ? { ok: false, code: rc } : { ok: true, value: values(rc) };
}

const sets = new Map<string, number>();

/** The core's id of a key set (defined at the end of the input region, as the stats code does). */
export function keySet(keys: readonly string[]): number {
  const name = keys.join("\n");
  let id = sets.get(name);
  if (id === undefined) {
    const bytes = encoder.encode(name);
    const at = INPUT + INPUT_SIZE - bytes.length;
    wasmCore().bytes.set(bytes, at);
    id = wasmCore().defineKeys(at, bytes.length);
    if (id === E_KEYS_FULL) {
      wasmCore().resetKeys();
      sets.clear();
      id = wasmCore().defineKeys(at, bytes.length);
    }
    if (id < 0) throw new Error(`defineKeys failed: ${id}`);
    sets.set(name, id);
  }
  return id;
}

export function wasmKeyed(keys: readonly string[], text: string | Uint8Array): Result<Keyed> {
  const set = keySet(keys);
  const core = wasmCore();
  const rc = core.parseKeyed(set, INPUT, input(text));
  if (rc < 0) return { ok: false, code: rc };
  const found = values(keys.length).map((v, i) => core.bytes[SEEN + i] === 1 ? v : undefined);
  return { ok: true, value: { values: found, unknown: rc } };
}

export function wasmBlkio(text: string | Uint8Array): Result<BlkioLine[]> {
  const core = wasmCore();
  const rc = core.parseBlkio(INPUT, input(text));
  if (rc < 0) return { ok: false, code: rc };
  const out: BlkioLine[] = [];
  for (let i = 0; i < rc; i++) {
    const at = RECORDS + i * BLKIO_RECORD;
    const code = core.view.getUint16(at + 8, true);
    const length = core.view.getUint16(at + 10, true);
    const offset = core.view.getUint32(at + 12, true);
    out.push({
      major: core.view.getUint32(at, true),
      minor: core.view.getUint32(at + 4, true),
      op: code === OP_OTHER
        ? new TextDecoder().decode(core.input.subarray(offset, offset + length))
        : OPS[code]!,
      value: core.view.getFloat64(at + 16, true),
    });
  }
  return { ok: true, value: out };
}

export function wasmIoStat(text: string | Uint8Array): Result<IoStatLine[]> {
  const core = wasmCore();
  const rc = core.parseIoStat(INPUT, input(text));
  if (rc < 0) return { ok: false, code: rc };
  const out: IoStatLine[] = [];
  for (let i = 0; i < rc; i++) {
    const at = RECORDS + i * IOSTAT_RECORD;
    out.push({
      major: core.view.getUint32(at, true),
      minor: core.view.getUint32(at + 4, true),
      values: Array.from({ length: 6 }, (_, k) => core.view.getFloat64(at + 8 + k * 8, true)),
    });
  }
  return { ok: true, value: out };
}
