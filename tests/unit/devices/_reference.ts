/**
 * For the tests only: a plain model of a v1 devices cgroup (what
 * security/device_cgroup.c does with writes to devices.allow and
 * devices.deny), and an interpreter of the eBPF subset the device programs
 * use, with the verifier's structural checks.
 *
 * @module
 */
import type { DeviceWrite } from "../../../lib/devices/rules.ts";

const BITS: Record<string, number> = { m: 1, r: 2, w: 4 };

/** Access bits of permission letters. */
export function bits(permissions: string): number {
  return [...permissions].reduce((sum, letter) => sum | BITS[letter]!, 0);
}

interface Exception {
  type: string;
  major: number;
  minor: number;
  access: number;
}

/** A v1 devices cgroup made under an allow-all parent, fed one write at a time. */
export class ModelCgroup {
  allowByDefault = true;
  exceptions: Exception[] = [];

  write(write: DeviceWrite): void {
    const toAllow = write.file === "devices.allow";
    if (write.type === "a") {
      this.allowByDefault = toAllow;
      this.exceptions = [];
      return;
    }
    const access = bits(write.permissions);
    const same = this.exceptions.find((e) =>
      e.type === write.type && e.major === write.major && e.minor === write.minor
    );
    if (toAllow !== this.allowByDefault) {
      if (same) same.access |= access;
      else {this.exceptions.push({
          type: write.type,
          major: write.major,
          minor: write.minor,
          access,
        });}
    } else if (same) {
      same.access &= ~access;
      if (same.access === 0) this.exceptions.splice(this.exceptions.indexOf(same), 1);
    }
  }

  /** The kernel's check for an access mask (match_exception / match_exception_partial). */
  allowed(type: string, major: number, minor: number, access: number): boolean {
    const matching = this.exceptions.filter((e) =>
      e.type === type && (e.major === -1 || e.major === major) &&
      (e.minor === -1 || e.minor === minor)
    );
    return this.allowByDefault
      ? !matching.some((e) => (e.access & access) !== 0)
      : matching.some((e) => (access & ~e.access) === 0);
  }
}

/** A model fed a whole sequence. */
export function model(writes: readonly DeviceWrite[]): ModelCgroup {
  const cgroup = new ModelCgroup();
  writes.forEach((w) => cgroup.write(w));
  return cgroup;
}

interface Insn {
  code: number;
  dst: number;
  src: number;
  off: number;
  imm: number;
}

function decode(program: Uint8Array): Insn[] {
  const view = new DataView(program.buffer, program.byteOffset, program.byteLength);
  const out: Insn[] = [];
  for (let at = 0; at < program.length; at += 8) {
    out.push({
      code: program[at]!,
      dst: program[at + 1]! & 0xf,
      src: program[at + 1]! >> 4,
      off: view.getInt16(at + 2, true),
      imm: view.getInt32(at + 4, true),
    });
  }
  return out;
}

const KNOWN = new Set([0x61, 0xbf, 0xb7, 0x54, 0x74, 0x55, 0x45, 0x05, 0x95]);
const JUMPS = new Set([0x55, 0x45, 0x05]);

/**
 * The verifier's structural checks (kernel/bpf/verifier.c check_cfg): known
 * opcodes, jumps forward and inside the program, every instruction
 * reachable, the last one an exit or a jump; r0 set before every exit.
 */
export function checkProgram(program: Uint8Array): void {
  const insns = decode(program);
  if (insns.length === 0) throw new Error("empty program");
  const reached = new Array<boolean>(insns.length).fill(false);
  reached[0] = true;
  insns.forEach((insn, pc) => {
    if (!KNOWN.has(insn.code)) {
      throw new Error(`unknown opcode 0x${insn.code.toString(16)} at ${pc}`);
    }
    if (!reached[pc]) throw new Error(`unreachable instruction ${pc}`);
    if (JUMPS.has(insn.code)) {
      const target = pc + 1 + insn.off;
      if (insn.off < 0 || target >= insns.length) throw new Error(`bad jump at ${pc}`);
      reached[target] = true;
    }
    if (insn.code !== 0x95 && insn.code !== 0x05) {
      if (pc + 1 >= insns.length) throw new Error("falls off the end");
      reached[pc + 1] = true;
    }
    if (insn.code === 0x95) {
      const previous = insns[pc - 1];
      if (!previous || previous.code !== 0xb7 || previous.dst !== 0) {
        throw new Error(`exit at ${pc} without r0 set just before`);
      }
    }
  });
}

/** Runs a device program on a context; returns r0. */
export function runProgram(
  program: Uint8Array,
  accessType: number,
  major: number,
  minor: number,
): number {
  const insns = decode(program);
  const ctx = [accessType >>> 0, major >>> 0, minor >>> 0];
  const r = new Array<bigint>(11).fill(0n);
  const mask64 = (1n << 64n) - 1n;
  for (let pc = 0, steps = 0; steps < 100000; steps++) {
    const { code, dst, src, off, imm } = insns[pc]!;
    const sImm = BigInt.asUintN(64, BigInt(imm));
    switch (code) {
      case 0x61: // ldxw
        if (src !== 1 || off % 4 !== 0 || off > 8) throw new Error(`bad ctx load at ${pc}`);
        r[dst] = BigInt(ctx[off / 4]!);
        break;
      case 0xbf:
        r[dst] = r[src]!;
        break;
      case 0xb7:
        r[dst] = sImm;
        break;
      case 0x54:
        r[dst] = (r[dst]! & 0xffffffffn) & (sImm & 0xffffffffn);
        break;
      case 0x74:
        r[dst] = (r[dst]! & 0xffffffffn) >> BigInt(imm);
        break;
      case 0x55:
        if ((r[dst]! & mask64) !== sImm) pc += off;
        break;
      case 0x45:
        if ((r[dst]! & sImm) !== 0n) pc += off;
        break;
      case 0x05:
        pc += off;
        break;
      case 0x95:
        return Number(r[0]!);
      default:
        throw new Error(`unknown opcode ${code}`);
    }
    pc++;
  }
  throw new Error("program did not end");
}
