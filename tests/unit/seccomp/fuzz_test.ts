/**
 * Random profiles, compiled and run on random calls in the BPF machine, must
 * give what the direct reference evaluator gives. A failure prints the seed
 * and the case; `SECCOMP_FUZZ_SEED` replays a run.
 */
import { assertEquals } from "../../_assert.ts";
import {
  type SeccompAction,
  type SeccompArchitecture,
  type SeccompArg,
  type SeccompContext,
  type SeccompOperator,
  type SeccompProfile,
  type SeccompRuleFilter,
  type SeccompSyscall,
  SYSCALL_TABLES,
  type SyscallAbi,
  validateSeccomp,
} from "../../../lib/seccomp/mod.ts";
import {
  AUDIT_ARCH,
  compileSeccomp,
  encodeFilter,
  syscallNumber,
} from "../../../lib/seccomp/mod.ts";
import { checkFilter, decodeFilter, describeResult, runFilter, type SeccompData } from "./_bpf.ts";
import { evaluate } from "./_reference.ts";
import { random } from "./_helpers.ts";

const ACTIONS: SeccompAction[] = [
  "SCMP_ACT_ALLOW",
  "SCMP_ACT_ERRNO",
  "SCMP_ACT_KILL",
  "SCMP_ACT_KILL_PROCESS",
  "SCMP_ACT_KILL_THREAD",
  "SCMP_ACT_TRAP",
  "SCMP_ACT_LOG",
  "SCMP_ACT_TRACE",
];
const OPS: SeccompOperator[] = [
  "SCMP_CMP_NE",
  "SCMP_CMP_LT",
  "SCMP_CMP_LE",
  "SCMP_CMP_EQ",
  "SCMP_CMP_GE",
  "SCMP_CMP_GT",
  "SCMP_CMP_MASKED_EQ",
];
const ARCHES: SeccompArchitecture[] = [
  "SCMP_ARCH_X86_64",
  "SCMP_ARCH_X86",
  "SCMP_ARCH_X32",
  "SCMP_ARCH_AARCH64",
  "SCMP_ARCH_ARM",
  "SCMP_ARCH_S390X",
];
/** Names present on some ABIs and not others, and one on none. */
const NAMES = [
  "read",
  "write",
  "openat",
  "socket",
  "personality",
  "clone",
  "ioctl",
  "mmap",
  "getpid",
  "socketcall",
  "open",
  "arch_prctl",
  "mmap2",
  "renameat",
  "set_thread_area",
  "clone3",
  "no_such_call",
];
const ALL_NAMES = Object.keys(SYSCALL_TABLES.x86_64);
const SPECIAL = [
  0n,
  1n,
  2n,
  8n,
  40n,
  0x7fffffffn,
  0x80000000n,
  0xffffffffn,
  0x1_00000000n,
  0x1_00000001n,
  0xffffffff_00000000n,
  0xffffffff_ffffffffn,
  0x12345678_9abcdef0n,
];
const M64 = (1n << 64n) - 1n;

class Gen {
  constructor(readonly next: () => number) {}
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(list: readonly T[]): T {
    return list[this.int(list.length)]!;
  }
  some<T>(list: readonly T[], p = 0.5): T[] {
    return list.filter(() => this.chance(p));
  }
  u32(): bigint {
    return BigInt(this.int(0x100000000));
  }
  u64(): bigint {
    return (this.u32() << 32n) | this.u32();
  }
  value(): bigint {
    const r = this.int(4);
    if (r === 0) return this.pick(SPECIAL);
    if (r === 1) return BigInt(this.int(64));
    if (r === 2) return this.u64();
    return (this.pick(SPECIAL) & 0xffffffff_00000000n) | this.u32();
  }
}

function filter(g: Gen): SeccompRuleFilter | undefined {
  if (!g.chance(0.25)) return undefined;
  const out: SeccompRuleFilter = {};
  if (g.chance(0.6)) out.caps = g.some(["CAP_SYS_ADMIN", "SYS_PTRACE", "CAP_NET_ADMIN"], 0.4);
  if (g.chance(0.4)) out.arches = g.some(["amd64", "arm64", "x86", "s390x", "aarch64"], 0.4);
  if (g.chance(0.4)) out.minKernel = g.pick(["4.8", "5.10", "6.1", "6.1.5", "7.0"]);
  return out;
}

function argument(g: Gen): SeccompArg {
  const value = g.value();
  const op = g.pick(OPS);
  let valueTwo: bigint | undefined;
  if (op === "SCMP_CMP_MASKED_EQ") {
    // Usually a value the mask can produce, sometimes one it cannot.
    valueTwo = g.chance(0.8) ? value & g.value() : g.value();
  } else if (g.chance(0.2)) valueTwo = g.value();
  const asNumber = (v: bigint) =>
    v <= BigInt(Number.MAX_SAFE_INTEGER) && g.chance(0.5) ? Number(v) : v;
  return {
    index: g.chance(0.6) ? g.int(2) : g.int(6),
    value: asNumber(value),
    ...(valueTwo === undefined ? {} : { valueTwo: asNumber(valueTwo) }),
    op,
  };
}

function rule(g: Gen, names: readonly string[]): SeccompSyscall {
  const action = g.pick(ACTIONS);
  const out: SeccompSyscall = {
    names: Array.from({ length: 1 + g.int(3) }, () => g.pick(names)),
    action,
  };
  if ((action === "SCMP_ACT_ERRNO" || action === "SCMP_ACT_TRACE") && g.chance(0.7)) {
    out.errnoRet = g.pick([0, 1, 13, 38, 4095]);
  }
  if (g.chance(0.7)) out.args = Array.from({ length: 1 + g.int(3) }, () => argument(g));
  const includes = filter(g);
  const excludes = filter(g);
  if (includes) out.includes = includes;
  if (excludes) out.excludes = excludes;
  return out;
}

function profile(g: Gen): SeccompProfile {
  const defaultAction = g.pick(ACTIONS);
  const big = g.chance(0.08);
  const names = big ? ALL_NAMES : NAMES;
  const p: SeccompProfile = {
    defaultAction,
    syscalls: Array.from({ length: big ? 40 + g.int(60) : g.int(10) }, () => rule(g, names)),
  };
  if ((defaultAction === "SCMP_ACT_ERRNO" || defaultAction === "SCMP_ACT_TRACE") && g.chance(0.5)) {
    p.defaultErrnoRet = g.pick([1, 38, 95]);
  }
  const arches = g.some(ARCHES);
  if (g.chance(0.15)) {
    p.archMap = [
      {
        architecture: "SCMP_ARCH_X86_64",
        subArchitectures: g.some(["SCMP_ARCH_X86", "SCMP_ARCH_X32"]),
      },
      { architecture: "SCMP_ARCH_AARCH64", subArchitectures: g.some(["SCMP_ARCH_ARM"]) },
    ];
  } else if (arches.length || g.chance(0.5)) p.architectures = arches;
  return p;
}

function context(g: Gen): SeccompContext {
  return {
    arch: g.chance(0.7) ? "x86_64" : "aarch64",
    capabilities: g.some(["SYS_ADMIN", "CAP_SYS_PTRACE", "NET_ADMIN", "KILL"], 0.4),
    kernelVersion: g.pick(["4.4.0-210-generic", "5.10.0", "6.1.0-18-amd64", "6.1.5", "6.18.44"]),
    ...(g.chance(0.3) ? { newerSyscalls: g.pick(["enosys", "default"] as const) } : {}),
  };
}

/** Argument values near those the profile compares with. */
function argumentsFor(g: Gen, p: SeccompProfile): bigint[] {
  const near: bigint[] = [];
  for (const r of p.syscalls ?? []) {
    for (const a of r.args ?? []) {
      const v = BigInt(a.value);
      near.push(v, (v + 1n) & M64, (v - 1n) & M64, v ^ 0xffffffff_00000000n, v ^ 0xffffffffn);
      if (a.valueTwo !== undefined) near.push(BigInt(a.valueTwo));
      near.push(BigInt(a.valueTwo ?? 0) | (g.u64() & ~v & M64));
    }
  }
  return Array.from({ length: 6 }, () => {
    if (near.length && g.chance(0.7)) return g.pick(near);
    return g.value();
  });
}

function call(g: Gen, p: SeccompProfile, ctx: SeccompContext): SeccompData {
  const abis: SyscallAbi[] = ctx.arch === "x86_64" ? ["x86_64", "x86_64", "i386"] : ["aarch64"];
  let abi: SyscallAbi = g.pick(abis);
  let arch: number =
    { x86_64: AUDIT_ARCH.X86_64, i386: AUDIT_ARCH.I386, aarch64: AUDIT_ARCH.AARCH64 }[abi];
  if (g.chance(0.05)) {
    arch = g.pick([
      AUDIT_ARCH.X86_64,
      AUDIT_ARCH.I386,
      AUDIT_ARCH.AARCH64,
      AUDIT_ARCH.ARM,
      g.int(2 ** 32),
    ]);
    abi = "x86_64";
  }
  const named = (p.syscalls ?? []).flatMap((r) => r.names);
  let nr: number;
  const r = g.int(10);
  if (r < 6 && named.length) nr = syscallNumber(abi, g.pick(named)) ?? g.int(460);
  else if (r < 8) nr = g.int(460);
  else {
    nr = g.pick([-1, 0x40000000, 0x40000000 | g.int(500), 0x80000000, 451, 1000, g.int(2 ** 32)]);
  }
  return { nr, arch, args: argumentsFor(g, p), instructionPointer: g.u64() };
}

const show = (value: unknown) =>
  JSON.stringify(value, (_, v) => typeof v === "bigint" ? `0x${v.toString(16)}n` : v);

Deno.test("compiled programs agree with the reference evaluator on random profiles and calls", () => {
  const seed = Number(Deno.env.get("SECCOMP_FUZZ_SEED") ?? Date.now() % 2 ** 31);
  const g = new Gen(random(seed));
  let calls = 0;
  let programs = 0;
  let longest = 0;
  for (let n = 0; n < 400; n++) {
    const p = profile(g);
    const ctx = context(g);
    assertEquals(validateSeccomp(p), [], `seed ${seed}: generated an invalid profile ${show(p)}`);
    const compiled = compileSeccomp(p, ctx);
    checkFilter(compiled.instructions);
    const program = decodeFilter(encodeFilter(compiled.instructions));
    programs++;
    longest = Math.max(longest, program.length);
    for (let i = 0; i < 150; i++) {
      const data = call(g, p, ctx);
      const got = runFilter(program, data);
      const want = evaluate(p, ctx, data);
      if (got !== want) {
        throw new Error(
          `seed ${seed}, profile ${n}, call ${i}: BPF gave ${describeResult(got)}, ` +
            `the reference ${describeResult(want)}\nprofile ${show(p)}\ncontext ${show(ctx)}\n` +
            `call ${show(data)}`,
        );
      }
      calls++;
    }
  }
  assertEquals(programs, 400);
  assertEquals(calls, 400 * 150);
  console.log(`seed ${seed}: ${programs} programs (longest ${longest}), ${calls} calls agree`);
});
