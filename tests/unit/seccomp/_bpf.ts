/**
 * A small classic-BPF machine for the seccomp tests: it checks a program the
 * way the kernel does before accepting it (`bpf_check_classic` and
 * `seccomp_check_filter`) and runs it on a `struct seccomp_data`, so the
 * compiler's output is tested as the kernel would execute it, without root.
 *
 * @module
 */
import type { SockFilter } from "../../../lib/seccomp/mod.ts";

/** The input of a filter: `struct seccomp_data`. */
export interface SeccompData {
  /** System call number (as the kernel's `int`, given here as its unsigned 32 bits or -1). */
  nr: number;
  /** `AUDIT_ARCH_*` */
  arch: number;
  /** Where the call was made. */
  instructionPointer?: bigint;
  /** The six arguments, 64 bits each. */
  args: readonly bigint[];
}

/** `struct seccomp_data` as bytes, little-endian. */
export function seccompData(data: SeccompData): DataView {
  const view = new DataView(new ArrayBuffer(64));
  view.setUint32(0, data.nr >>> 0, true);
  view.setUint32(4, data.arch >>> 0, true);
  view.setBigUint64(8, data.instructionPointer ?? 0n, true);
  for (let i = 0; i < 6; i++) {
    view.setBigUint64(16 + 8 * i, BigInt.asUintN(64, data.args[i] ?? 0n), true);
  }
  return view;
}

/** Reads the kernel's 8-byte records back into instructions. */
export function decodeFilter(bytes: Uint8Array): SockFilter[] {
  if (bytes.length % 8 !== 0) {
    throw new Error(`A filter is 8-byte records, got ${bytes.length} bytes`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const program: SockFilter[] = [];
  for (let at = 0; at < bytes.length; at += 8) {
    program.push({
      code: view.getUint16(at, true),
      jt: view.getUint8(at + 2),
      jf: view.getUint8(at + 3),
      k: view.getUint32(at + 4, true),
    });
  }
  return program;
}

// Opcode fields (linux/bpf_common.h).
const CLASS = (code: number) => code & 0x07;
const SIZE = (code: number) => code & 0x18;
const MODE = (code: number) => code & 0xe0;
const OP = (code: number) => code & 0xf0;
const SRC = (code: number) => code & 0x08;
const LD = 0x00, LDX = 0x01, ST = 0x02, STX = 0x03, ALU = 0x04, JMP = 0x05, RET = 0x06, MISC = 0x07;
const W = 0x00;
const IMM = 0x00, ABS = 0x20, MEM = 0x60, LEN = 0x80;
const K = 0x00, X = 0x08, A = 0x10;
const JA = 0x00, JEQ = 0x10, JGT = 0x20, JGE = 0x30, JSET = 0x40;
const ADD = 0x00, SUB = 0x10, MUL = 0x20, DIV = 0x30, OR = 0x40, AND = 0x50, LSH = 0x60;
const RSH = 0x70, NEG = 0x80, MOD = 0x90, XOR = 0xa0;
const TAX = 0x00, TXA = 0x80;
const MEMWORDS = 16;

/**
 * Checks a program as the kernel does before installing it; throws with the
 * reason where the kernel would return EINVAL.
 */
export function checkFilter(program: readonly SockFilter[]): void {
  if (program.length === 0 || program.length > 4096) {
    throw new Error(`A filter has 1 to 4096 instructions, got ${program.length}`);
  }
  program.forEach((insn, pc) => {
    const { code, k } = insn;
    const fail = (why: string) => {
      throw new Error(`Instruction ${pc} (code 0x${code.toString(16)}): ${why}`);
    };
    switch (CLASS(code)) {
      case LD:
        if (MODE(code) === ABS) {
          // seccomp allows only 32-bit absolute loads, aligned, inside seccomp_data.
          if (SIZE(code) !== W) fail("seccomp allows only 32-bit absolute loads");
          if (k & 3 || k >= 64) fail(`load offset ${k} outside seccomp_data or unaligned`);
        } else if (MODE(code) === MEM) {
          if (k >= MEMWORDS) fail("scratch memory index out of range");
        } else if (MODE(code) === LEN) {
          if (SIZE(code) !== W) fail("bad length load");
        } else if (MODE(code) !== IMM) fail("load mode not allowed in seccomp");
        break;
      case LDX:
        if (MODE(code) === MEM && k >= MEMWORDS) fail("scratch memory index out of range");
        else if (MODE(code) !== IMM && MODE(code) !== MEM && MODE(code) !== LEN) {
          fail("ldx mode not allowed in seccomp");
        }
        break;
      case ST:
      case STX:
        if (k >= MEMWORDS) fail("scratch memory index out of range");
        break;
      case ALU:
        if (![ADD, SUB, MUL, DIV, OR, AND, LSH, RSH, NEG, MOD, XOR].includes(OP(code))) {
          fail("unknown ALU operation");
        }
        if (SRC(code) === K && (OP(code) === DIV || OP(code) === MOD) && k === 0) {
          fail("division by constant zero");
        }
        break;
      case JMP:
        if (OP(code) === JA) {
          if (pc + 1 + k >= program.length) fail("jump past the end");
        } else {
          if (![JEQ, JGT, JGE, JSET].includes(OP(code))) fail("unknown jump");
          if (pc + 1 + insn.jt >= program.length || pc + 1 + insn.jf >= program.length) {
            fail("conditional jump past the end");
          }
        }
        break;
      case RET:
        if ((code & 0x18) !== K && (code & 0x18) !== A) fail("bad return source");
        break;
      case MISC:
        if (OP(code) !== TAX && OP(code) !== TXA) fail("unknown misc operation");
        break;
    }
  });
  const last = program[program.length - 1]!;
  if (CLASS(last.code) !== RET) throw new Error("The last instruction must be a return");
}

/**
 * Runs a checked program on `data` and returns the filter's 32-bit result.
 * Classic BPF jumps only forward, so a run takes at most one pass.
 */
export function runFilter(program: readonly SockFilter[], data: SeccompData): number {
  const input = seccompData(data);
  const mem = new Uint32Array(MEMWORDS);
  let a = 0;
  let x = 0;
  for (let pc = 0; pc < program.length; pc++) {
    const { code, jt, jf, k } = program[pc]!;
    switch (CLASS(code)) {
      case LD:
        a = MODE(code) === ABS
          ? input.getUint32(k, true)
          : MODE(code) === MEM
          ? mem[k]!
          : MODE(code) === LEN
          ? 64
          : k;
        break;
      case LDX:
        x = MODE(code) === MEM ? mem[k]! : MODE(code) === LEN ? 64 : k;
        break;
      case ST:
        mem[k] = a;
        break;
      case STX:
        mem[k] = x;
        break;
      case ALU: {
        const b = SRC(code) === X ? x : k;
        switch (OP(code)) {
          case ADD:
            a = (a + b) >>> 0;
            break;
          case SUB:
            a = (a - b) >>> 0;
            break;
          case MUL:
            a = Math.imul(a, b) >>> 0;
            break;
          case DIV:
            a = b === 0 ? 0 : Math.floor(a / b) >>> 0;
            break;
          case MOD:
            a = b === 0 ? 0 : (a % b) >>> 0;
            break;
          case OR:
            a = (a | b) >>> 0;
            break;
          case AND:
            a = (a & b) >>> 0;
            break;
          case XOR:
            a = (a ^ b) >>> 0;
            break;
          case LSH:
            a = b >= 32 ? 0 : (a << b) >>> 0;
            break;
          case RSH:
            a = b >= 32 ? 0 : a >>> b;
            break;
          case NEG:
            a = -a >>> 0;
            break;
        }
        if (SRC(code) === X && (OP(code) === DIV || OP(code) === MOD) && x === 0) return 0;
        break;
      }
      case JMP: {
        if (OP(code) === JA) {
          pc += k;
          break;
        }
        const b = (SRC(code) === X ? x : k) >>> 0;
        const holds = OP(code) === JEQ
          ? a === b
          : OP(code) === JGT
          ? a > b
          : OP(code) === JGE
          ? a >= b
          : (a & b) !== 0;
        pc += holds ? jt : jf;
        break;
      }
      case RET:
        return ((code & 0x18) === A ? a : k) >>> 0;
      case MISC:
        if (OP(code) === TAX) x = a;
        else a = x;
        break;
    }
    a >>>= 0;
    x >>>= 0;
  }
  throw new Error("The program ran off its end");
}

/** Splits a filter result into its action and data, for readable assertions. */
export function describeResult(ret: number): string {
  const action = (ret & 0xffff0000) >>> 0;
  const data = ret & 0xffff;
  switch (action) {
    case 0x80000000:
      return "KILL_PROCESS";
    case 0x00000000:
      return "KILL_THREAD";
    case 0x00030000:
      return `TRAP(${data})`;
    case 0x00050000:
      return `ERRNO(${data})`;
    case 0x7ff00000:
      return `TRACE(${data})`;
    case 0x7ffc0000:
      return "LOG";
    case 0x7fff0000:
      return "ALLOW";
    default:
      return `0x${ret.toString(16)}`;
  }
}
