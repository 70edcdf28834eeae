/**
 * Classic BPF as seccomp takes it: the `sock_filter` record, the few opcodes
 * a seccomp filter needs, the encoder to the kernel's 8-byte records, and a
 * small assembler with symbolic labels.
 *
 * Classic BPF jumps only forward, and a conditional jump reaches at most 255
 * instructions. The assembler lays code out as written and, where a
 * conditional target lies further, puts a trampoline right after the jump:
 * a copy of the target when it is a `ret` (no extra step at run time), else
 * an unconditional `ja` (32-bit offset). It repeats until every jump fits.
 *
 * @module
 */

/** One instruction: `struct sock_filter` of linux/filter.h. */
export interface SockFilter {
  /** Opcode (`BPF_LD|BPF_W|BPF_ABS`, ...). */
  readonly code: number;
  /** Instructions to skip when a conditional jump's test holds. */
  readonly jt: number;
  /** Instructions to skip when it fails. */
  readonly jf: number;
  /** The constant operand. */
  readonly k: number;
}

/** The kernel's limit on a classic BPF program (`BPF_MAXINSNS`). */
export const BPF_MAXINSNS = 4096;

/** Opcodes: class | size | mode, or class | operation | source. */
export const BPF = {
  /** `A = *(u32 *)(data + k)` */
  LD_W_ABS: 0x20,
  /** `A &= k` */
  ALU_AND_K: 0x54,
  /** `pc += k` */
  JMP_JA: 0x05,
  /** `pc += A == k ? jt : jf` */
  JMP_JEQ_K: 0x15,
  /** `pc += A > k ? jt : jf` (unsigned) */
  JMP_JGT_K: 0x25,
  /** `pc += A >= k ? jt : jf` (unsigned) */
  JMP_JGE_K: 0x35,
  /** `pc += A & k ? jt : jf` */
  JMP_JSET_K: 0x45,
  /** `return k` */
  RET_K: 0x06,
} as const;

/** Offsets in `struct seccomp_data` (little-endian machines). */
export const SECCOMP_DATA = {
  nr: 0,
  arch: 4,
  instructionPointer: 8,
  /** Low 32 bits of argument `i`. */
  argLow: (i: number): number => 16 + 8 * i,
  /** High 32 bits of argument `i`. */
  argHigh: (i: number): number => 20 + 8 * i,
  /** `sizeof(struct seccomp_data)` */
  size: 64,
} as const;

/**
 * Encodes a program as the array of `struct sock_filter` the kernel reads
 * through `struct sock_fprog` (8 bytes each: u16 code, u8 jt, u8 jf, u32 k,
 * in the machine's byte order, little-endian on x86_64 and aarch64).
 *
 * @param program The instructions.
 * @returns A new buffer of `8 * program.length` bytes.
 */
export function encodeFilter(program: readonly SockFilter[]): Uint8Array {
  const bytes = new Uint8Array(program.length * 8);
  const view = new DataView(bytes.buffer);
  program.forEach((insn, i) => {
    view.setUint16(i * 8, insn.code, true);
    view.setUint8(i * 8 + 2, insn.jt);
    view.setUint8(i * 8 + 3, insn.jf);
    view.setUint32(i * 8 + 4, insn.k >>> 0, true);
  });
  return bytes;
}

/** A position in the program, placed with {@link Assembler.bind}. */
export type Label = number;

type Item =
  | { kind: "bind"; label: Label }
  | { kind: "op"; code: number; k: number }
  | { kind: "jump"; code: number; k: number; jt: Label; jf: Label }
  | { kind: "ja"; target: Label };

/** Builds a program from instructions with symbolic jump targets. */
export class Assembler {
  #items: Item[] = [];
  #labels = 0;

  /** A new label, to be bound once. */
  label(): Label {
    return this.#labels++;
  }

  /** Places `label` at the next instruction. */
  bind(label: Label): void {
    this.#items.push({ kind: "bind", label });
  }

  /** `A = seccomp_data[offset]` (32 bits). */
  load(offset: number): void {
    this.#items.push({ kind: "op", code: BPF.LD_W_ABS, k: offset });
  }

  /** `A &= mask` */
  and(mask: number): void {
    this.#items.push({ kind: "op", code: BPF.ALU_AND_K, k: mask >>> 0 });
  }

  /** `return value` */
  ret(value: number): void {
    this.#items.push({ kind: "op", code: BPF.RET_K, k: value >>> 0 });
  }

  /** A conditional jump (`BPF.JMP_JEQ_K`, ...) comparing A with `k`. */
  jump(code: number, k: number, jt: Label, jf: Label): void {
    this.#items.push({ kind: "jump", code, k: k >>> 0, jt, jf });
  }

  /** An unconditional jump. */
  goto(target: Label): void {
    this.#items.push({ kind: "ja", target });
  }

  /**
   * Resolves labels into offsets, adding trampolines where a conditional
   * jump cannot reach.
   *
   * @returns The program.
   * @throws {Error} when a label is unbound or a jump goes backwards (a compiler bug).
   */
  assemble(): SockFilter[] {
    for (;;) {
      const items = this.#items;
      const at = layout(items, this.#labels);
      // The item indexes of jumps that cannot reach a target.
      const far: number[] = [];
      let pc = 0;
      for (let i = 0; i < items.length; i++) {
        const item = items[i]!;
        if (item.kind === "bind") continue;
        if (item.kind === "jump") {
          if (distance(at, item.jt, pc) > 255 || distance(at, item.jf, pc) > 255) far.push(i);
        }
        pc++;
      }
      if (far.length === 0) return emit(items, at);
      this.#items = this.#withTrampolines(items, far, at);
    }
  }

  /**
   * `items` with a trampoline after each jump of `far` (item indexes,
   * ascending), one for each side that cannot reach its target.
   */
  #withTrampolines(items: readonly Item[], far: readonly number[], at: readonly number[]): Item[] {
    const code = items.filter((item) => item.kind !== "bind");
    const next: Item[] = [];
    let f = 0;
    let pc = 0;
    items.forEach((item, i) => {
      if (item.kind !== "bind") pc++;
      if (far[f] !== i || item.kind !== "jump") {
        next.push(item);
        return;
      }
      f++;
      const jump = { ...item };
      const hops: Item[] = [];
      for (const side of ["jt", "jf"] as const) {
        const target = item[side];
        if (distance(at, target, pc - 1) <= 255) continue;
        const hop = this.label();
        const landing = code[at[target]!];
        hops.push({ kind: "bind", label: hop });
        // A `ret` is copied rather than jumped to.
        hops.push(
          landing?.kind === "op" && landing.code === BPF.RET_K
            ? { ...landing }
            : { kind: "ja", target },
        );
        jump[side] = hop;
      }
      next.push(jump, ...hops);
    });
    return next;
  }
}

/** Where each label lands (the index of the next instruction), by label. */
function layout(items: readonly Item[], labels: number): number[] {
  const at: number[] = new Array(labels);
  let pc = 0;
  for (const item of items) {
    if (item.kind === "bind") at[item.label] = pc;
    else pc++;
  }
  return at;
}

function distance(at: readonly number[], label: Label, pc: number): number {
  const target = at[label];
  if (target === undefined) throw new Error(`BPF label ${label} is not bound`);
  const offset = target - pc - 1;
  if (offset < 0) throw new Error(`BPF jump from ${pc} to ${target} goes backwards`);
  return offset;
}

function emit(items: readonly Item[], at: readonly number[]): SockFilter[] {
  const program: SockFilter[] = [];
  for (const item of items) {
    const pc = program.length;
    switch (item.kind) {
      case "bind":
        break;
      case "op":
        program.push({ code: item.code, jt: 0, jf: 0, k: item.k });
        break;
      case "jump":
        program.push({
          code: item.code,
          jt: distance(at, item.jt, pc),
          jf: distance(at, item.jf, pc),
          k: item.k,
        });
        break;
      case "ja":
        program.push({ code: BPF.JMP_JA, jt: 0, jf: 0, k: distance(at, item.target, pc) });
        break;
    }
  }
  return program;
}
