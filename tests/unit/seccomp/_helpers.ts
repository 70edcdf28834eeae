/**
 * Shared pieces of the seccomp tests: compile, check like the kernel, and
 * run a call through the program.
 *
 * @module
 */
import {
  AUDIT_ARCH,
  type CompiledSeccomp,
  compileSeccomp,
  encodeFilter,
  type SeccompContext,
  type SeccompProfile,
  type SyscallAbi,
  syscallNumber,
} from "../../../lib/seccomp/mod.ts";
import { checkFilter, decodeFilter, describeResult, runFilter } from "./_bpf.ts";

/** A context on x86_64 with no capabilities and a recent kernel, with changes. */
export function context(more: Partial<SeccompContext> = {}): SeccompContext {
  return { arch: "x86_64", capabilities: [], kernelVersion: "6.1.0", ...more };
}

const AUDIT: Record<SyscallAbi, number> = {
  x86_64: AUDIT_ARCH.X86_64,
  i386: AUDIT_ARCH.I386,
  aarch64: AUDIT_ARCH.AARCH64,
};

/** A compiled program, checked as the kernel would, and a runner that goes through its bytes. */
export function compile(profile: SeccompProfile, ctx: SeccompContext = context()): {
  compiled: CompiledSeccomp;
  /** The result for `name` (on `abi`, the machine's by default) with `args`, described. */
  call: (name: string, args?: readonly (bigint | number)[], abi?: SyscallAbi) => string;
  /** The result for a raw number and arch. */
  raw: (nr: number, arch: number, args?: readonly bigint[]) => string;
} {
  const compiled = compileSeccomp(profile, ctx);
  checkFilter(compiled.instructions);
  const program = decodeFilter(encodeFilter(compiled.instructions));
  const raw = (nr: number, arch: number, args: readonly bigint[] = []) =>
    describeResult(runFilter(program, { nr, arch, args }));
  const call = (name: string, args: readonly (bigint | number)[] = [], abi?: SyscallAbi) => {
    const on = abi ?? ctx.arch;
    const nr = syscallNumber(on, name);
    if (nr === undefined) throw new Error(`No \`${name}\` on ${on}`);
    return raw(nr, AUDIT[on], args.map((a) => BigInt(a)));
  };
  return { compiled, call, raw };
}

/** A small deterministic random generator (mulberry32), so failures replay. */
export function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
