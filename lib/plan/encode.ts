/**
 * Lays a plan out in the helper's wire format, described in
 * `ffi/helper/plan.h` (a unit test checks that the codes and slot kinds here
 * match it): a 16-byte header, one 72-byte record per op, then a blob of
 * NUL-terminated strings that records reference by (offset, length), and
 * of the seccomp program's 8-byte records.
 *
 * @module
 */
import type { PlanOp } from "./ops.ts";

export const PLAN_MAGIC = 0x5049534e;
export const PLAN_VERSION = 1;
export const PLAN_HEADER_SIZE = 16;
export const PLAN_OP_SIZE = 72;
export const PLAN_MAX_BYTES = 1 << 20;
export const PLAN_MAX_OPS = 4096;
/** Room for the strings of every list slot, one terminator per list included. */
export const PLAN_MAX_POINTERS = 65536;

/** Op flags, as in plan.h. */
export const PF = {
  HOST_PATH: 1,
  NO_SYMLINKS: 2,
  RECURSIVE: 4,
  SRC_IN_ROOT: 8,
  PROCFS: 16,
  NO_PIVOT: 32,
  BIND_CONSOLE: 64,
  SELF: 128,
} as const;

/** The most instructions a seccomp program may have (the kernel's BPF_MAXINSNS). */
export const PLAN_MAX_FILTER = 4096;

/**
 * Slot kinds: N unused, S string, L list of strings, U array of uint32, F
 * seccomp program (8-byte records, 8-byte aligned).
 */
export type SlotKind = "N" | "S" | "L" | "U" | "F";

/** Op codes and slot kinds; must equal PLAN_OPS in plan.h. */
export const OP_LAYOUT: Readonly<Record<PlanOp["op"], { code: number; slots: string }>> = {
  SETNS: { code: 1, slots: "NNNN" },
  CLONE: { code: 2, slots: "SNNN" },
  UMASK: { code: 3, slots: "NNNN" },
  MOUNT: { code: 4, slots: "SSSS" },
  ROOTFS: { code: 5, slots: "SNNN" },
  MKDIR: { code: 6, slots: "SNNN" },
  MKFILE: { code: 7, slots: "SNNN" },
  BIND: { code: 8, slots: "SSNN" },
  MKNOD: { code: 9, slots: "SNNN" },
  SYMLINK: { code: 10, slots: "SSNN" },
  MASK: { code: 11, slots: "SSNN" },
  READONLY: { code: 12, slots: "SNNN" },
  WRITE: { code: 13, slots: "SSSN" },
  PIVOT: { code: 14, slots: "NNNN" },
  ROOT_READONLY: { code: 15, slots: "NNNN" },
  HOSTNAME: { code: 16, slots: "SNNN" },
  IFUP: { code: 17, slots: "SNNN" },
  RLIMIT: { code: 18, slots: "NNNN" },
  RUN: { code: 19, slots: "LLLS" },
  CONSOLE: { code: 20, slots: "SSNN" },
  SYNC: { code: 21, slots: "NNNN" },
  BOUNDING: { code: 22, slots: "NNNN" },
  IDENTITY: { code: 23, slots: "NNUN" },
  CAPS: { code: 24, slots: "NNNN" },
  PDEATHSIG: { code: 25, slots: "NNNN" },
  CHDIR: { code: 26, slots: "SNNN" },
  EXEC: { code: 27, slots: "LLLN" },
  CGROUP_ENTER: { code: 28, slots: "SSNN" },
  SECCOMP: { code: 29, slots: "FNNN" },
  NO_NEW_PRIVS: { code: 30, slots: "NNNN" },
  DUMPABLE: { code: 33, slots: "NNNN" },
  SETID: { code: 34, slots: "NNNN" },
};

type Slot =
  | { kind: "S"; value: string }
  | { kind: "L"; value: readonly string[] }
  | { kind: "U"; value: readonly number[] }
  | { kind: "F"; value: Uint8Array };

interface OpRecord {
  flags: number;
  num: (number | bigint)[];
  slots: (Slot | undefined)[];
}

function s(value: string): Slot {
  return { kind: "S", value };
}

function l(value: readonly string[]): Slot {
  return { kind: "L", value };
}

function flagBits(pairs: [boolean | undefined, number][]): number {
  return pairs.reduce((bits, [on, bit]) => on ? bits | bit : bits, 0);
}

/** Maps one op onto its record: flags, numbers and string slots. */
function toRecord(op: PlanOp): OpRecord {
  switch (op.op) {
    case "SETNS":
      return { flags: 0, num: [op.fd, op.nstype], slots: [] };
    case "CLONE":
      return { flags: 0, num: [op.flags], slots: [s(op.cgroup)] };
    case "CGROUP_ENTER":
      return { flags: 0, num: [], slots: [s(op.path), s(op.content)] };
    case "UMASK":
      return { flags: 0, num: [op.mask], slots: [] };
    case "MOUNT":
      return {
        flags: flagBits([[op.hostPath, PF.HOST_PATH], [op.noSymlinks, PF.NO_SYMLINKS]]),
        num: [op.flags],
        slots: [s(op.source), s(op.target), s(op.fstype), s(op.data)],
      };
    case "ROOTFS":
      return { flags: 0, num: [], slots: [s(op.rootfs)] };
    case "MKDIR":
      return {
        flags: flagBits([[op.noSymlinks, PF.NO_SYMLINKS]]),
        num: [op.mode],
        slots: [s(op.path)],
      };
    case "MKFILE":
      return { flags: 0, num: [op.mode], slots: [s(op.path)] };
    case "BIND":
      return {
        flags: flagBits([
          [op.recursive, PF.RECURSIVE],
          [op.sourceInRoot, PF.SRC_IN_ROOT],
          [op.noSymlinks, PF.NO_SYMLINKS],
        ]),
        num: [op.attrSet, op.propagation],
        slots: [s(op.source), s(op.target)],
      };
    case "MKNOD":
      return { flags: 0, num: [op.mode, op.dev, op.uid, op.gid], slots: [s(op.path)] };
    case "SYMLINK":
      return { flags: 0, num: [], slots: [s(op.target), s(op.path)] };
    case "MASK":
      return { flags: 0, num: [], slots: [s(op.path), s(op.devNull)] };
    case "READONLY":
      return { flags: 0, num: [], slots: [s(op.path)] };
    case "WRITE":
      return {
        flags: flagBits([
          [op.procfs, PF.PROCFS],
          [op.self, PF.SELF],
          [op.hostPath, PF.HOST_PATH],
        ]),
        num: [],
        slots: [s(op.dir), s(op.file), s(op.content)],
      };
    case "PIVOT":
      return { flags: flagBits([[op.noPivot, PF.NO_PIVOT]]), num: [], slots: [] };
    case "ROOT_READONLY":
      return { flags: 0, num: [], slots: [] };
    case "HOSTNAME":
      return { flags: 0, num: [], slots: [s(op.hostname)] };
    case "IFUP":
      return { flags: 0, num: [], slots: [s(op.name)] };
    case "RLIMIT":
      return { flags: 0, num: [op.resource, op.soft, op.hard], slots: [] };
    case "RUN":
      return {
        flags: 0,
        num: [op.candidates.length, op.args.length, op.env.length],
        slots: [l(op.candidates), l(op.args), l(op.env), s(op.dir)],
      };
    case "CONSOLE":
      return {
        flags: flagBits([[op.bindConsole, PF.BIND_CONSOLE]]),
        num: [op.uid, op.gid, op.rows, op.columns],
        slots: [s(op.ptmx), s(op.console)],
      };
    case "SYNC":
      return { flags: 0, num: [op.tag], slots: [] };
    case "BOUNDING":
      return { flags: 0, num: [op.keep], slots: [] };
    case "IDENTITY":
      return {
        flags: 0,
        num: [op.uid, op.gid, op.groups.length],
        slots: [undefined, undefined, { kind: "U", value: op.groups }],
      };
    case "SETID":
      return { flags: 0, num: [op.uid, op.gid], slots: [] };
    case "DUMPABLE":
      return { flags: 0, num: [op.dumpable ? 1 : 0], slots: [] };
    case "CAPS":
      return { flags: 0, num: [op.effective, op.permitted, op.inheritable, op.ambient], slots: [] };
    case "PDEATHSIG":
      return { flags: 0, num: [op.signal], slots: [] };
    case "CHDIR":
      return { flags: 0, num: [], slots: [s(op.path)] };
    case "EXEC":
      return {
        flags: 0,
        num: [op.candidates.length, op.args.length, op.env.length],
        slots: [l(op.candidates), l(op.args), l(op.env)],
      };
    case "NO_NEW_PRIVS":
      return { flags: 0, num: [], slots: [] };
    case "SECCOMP": {
      const count = op.filter.length / 8;
      if (!Number.isInteger(count) || count < 1 || count > PLAN_MAX_FILTER) {
        throw new RangeError(
          `The seccomp program is ${op.filter.length} bytes: expected 1 to ${PLAN_MAX_FILTER} 8-byte instructions`,
        );
      }
      return { flags: 0, num: [count, op.flags], slots: [{ kind: "F", value: op.filter }] };
    }
  }
}

const encoder = new TextEncoder();

/** A blob under construction; strings are stored NUL-terminated. */
class Blob {
  #chunks: Uint8Array[] = [];
  length = 0;

  add(bytes: Uint8Array, align = 1): number {
    const pad = (align - (this.length % align)) % align;
    if (pad > 0) this.#push(new Uint8Array(pad));
    const offset = this.length;
    this.#push(bytes);
    return offset;
  }

  #push(bytes: Uint8Array): void {
    this.#chunks.push(bytes);
    this.length += bytes.length;
  }

  writeInto(target: Uint8Array, at: number): void {
    for (const chunk of this.#chunks) {
      target.set(chunk, at);
      at += chunk.length;
    }
  }
}

function cString(value: string): Uint8Array {
  if (value.includes("\0")) {
    throw new TypeError(`String contains a NUL byte: ${JSON.stringify(value)}`);
  }
  const bytes = encoder.encode(value);
  const out = new Uint8Array(bytes.length + 1);
  out.set(bytes);
  return out;
}

function slotBytes(slot: Slot): { bytes: Uint8Array; length: number; align: number } {
  switch (slot.kind) {
    case "S": {
      const bytes = cString(slot.value);
      return { bytes, length: bytes.length - 1, align: 1 };
    }
    case "L": {
      const parts = slot.value.map(cString);
      const bytes = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
      let at = 0;
      for (const part of parts) {
        bytes.set(part, at);
        at += part.length;
      }
      return { bytes, length: bytes.length, align: 1 };
    }
    case "U": {
      const bytes = new Uint8Array(slot.value.length * 4);
      const view = new DataView(bytes.buffer);
      slot.value.forEach((v, i) => view.setUint32(i * 4, v, true));
      return { bytes, length: bytes.length, align: 4 };
    }
    case "F":
      return { bytes: slot.value, length: slot.value.length, align: 8 };
  }
}

/** Encodes a plan into one message for the helper. */
export function encodePlan(ops: readonly PlanOp[]): Uint8Array<ArrayBuffer> {
  if (ops.length > PLAN_MAX_OPS) {
    throw new RangeError(
      `The init plan has ${ops.length} operations, above the limit of ${PLAN_MAX_OPS}`,
    );
  }
  const blob = new Blob();
  let pointers = 0;
  const records = ops.map((op) => {
    const record = toRecord(op);
    const refs = record.slots.map((slot) => {
      if (slot === undefined) return [0, 0] as const;
      if (slot.kind === "L") pointers += slot.value.length + 1;
      const { bytes, length, align } = slotBytes(slot);
      return [blob.add(bytes, align), length] as const;
    });
    return { code: OP_LAYOUT[op.op].code, record, refs };
  });
  if (pointers > PLAN_MAX_POINTERS) {
    throw new RangeError(
      `The init plan's argument and environment lists hold ${pointers} strings, above the limit of ${PLAN_MAX_POINTERS}`,
    );
  }
  const size = PLAN_HEADER_SIZE + records.length * PLAN_OP_SIZE + blob.length;
  if (size > PLAN_MAX_BYTES) {
    throw new RangeError(`The init plan is ${size} bytes, above the limit of ${PLAN_MAX_BYTES}`);
  }
  const message = new Uint8Array(size);
  const view = new DataView(message.buffer);
  view.setUint32(0, PLAN_MAGIC, true);
  view.setUint32(4, PLAN_VERSION, true);
  view.setUint32(8, records.length, true);
  view.setUint32(12, blob.length, true);
  records.forEach(({ code, record, refs }, index) => {
    const at = PLAN_HEADER_SIZE + index * PLAN_OP_SIZE;
    view.setUint32(at, code, true);
    view.setUint32(at + 4, record.flags, true);
    record.num.forEach((n, k) => view.setBigInt64(at + 8 + k * 8, BigInt(n), true));
    refs.forEach(([offset, length], k) => {
      view.setUint32(at + 40 + k * 8, offset, true);
      view.setUint32(at + 44 + k * 8, length, true);
    });
  });
  blob.writeInto(message, PLAN_HEADER_SIZE + records.length * PLAN_OP_SIZE);
  return message;
}
