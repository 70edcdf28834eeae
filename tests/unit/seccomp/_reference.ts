/**
 * What a profile means, evaluated directly on one system call: no BPF, no
 * ranges, no chains, no trimming. The fuzz test checks the compiled program
 * against it. Written from the compiler's documented semantics:
 *
 * - only the machine's architecture, and i386 on x86_64 when the profile
 *   lists `SCMP_ARCH_X86`, are filtered; any other arch value kills;
 * - on x86_64, `nr >= 0x40000000` kills, except -1;
 * - a denying default gives `ENOSYS` to numbers above the table's highest
 *   (unless `newerSyscalls` is `default`);
 * - otherwise every rule that applies in the context (caps, machine arch,
 *   kernel) and names the call, with all its comparisons true, matches; the
 *   matching rule whose action comes first in the kernel's precedence wins,
 *   the earliest in the profile among equals; no match gives the default;
 * - i386 compares the low 32 bits of each argument as the whole argument.
 *
 * @module
 */
import {
  AUDIT_ARCH,
  highestSyscall,
  type SeccompContext,
  type SeccompProfile,
  type SeccompSyscall,
  type SyscallAbi,
  syscallNumber,
} from "../../../lib/seccomp/mod.ts";
import type { SeccompData } from "./_bpf.ts";

const KILL_PROCESS = 0x80000000;
const ACTION: Record<string, number> = {
  SCMP_ACT_KILL_PROCESS: 0x80000000,
  SCMP_ACT_KILL: 0,
  SCMP_ACT_KILL_THREAD: 0,
  SCMP_ACT_TRAP: 0x30000,
  SCMP_ACT_ERRNO: 0x50000,
  SCMP_ACT_TRACE: 0x7ff00000,
  SCMP_ACT_LOG: 0x7ffc0000,
  SCMP_ACT_ALLOW: 0x7fff0000,
};

/** The filter result of an action with its data (EPERM when none is given). */
export function result(action: string, data?: number | null): number {
  const base = ACTION[action]!;
  const withData = action === "SCMP_ACT_ERRNO" || action === "SCMP_ACT_TRACE";
  return (withData ? base | ((data ?? 1) & 0xffff) : base) >>> 0;
}

/** The kernel's action precedence: smaller runs first. */
function rank(ret: number): number {
  return (ret & 0xffff0000) | 0;
}

function version(text: string): number[] {
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(text)!;
  return [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)];
}

function atLeast(kernel: string, min: string): boolean {
  const a = version(kernel);
  const b = version(min);
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i]! > b[i]!;
  return true;
}

function ruleApplies(rule: SeccompSyscall, context: SeccompContext): boolean {
  const caps = new Set(context.capabilities.map((c) => c.replace(/^CAP_/, "")));
  const has = (c: string) => caps.has(c.replace(/^CAP_/, ""));
  const machine = context.arch === "x86_64" ? ["amd64", "x86_64"] : ["arm64", "aarch64"];
  const inc = rule.includes;
  const exc = rule.excludes;
  if (inc?.caps?.length && !inc.caps.every(has)) return false;
  if (inc?.arches?.length && !inc.arches.some((a) => machine.includes(a))) return false;
  if (inc?.minKernel && !atLeast(context.kernelVersion, inc.minKernel)) return false;
  if (exc?.caps?.some(has)) return false;
  if (exc?.arches?.some((a) => machine.includes(a))) return false;
  if (exc?.minKernel && atLeast(context.kernelVersion, exc.minKernel)) return false;
  return true;
}

function holds(
  op: string,
  argument: bigint,
  value: bigint,
  valueTwo: bigint,
): boolean {
  switch (op) {
    case "SCMP_CMP_EQ":
      return argument === value;
    case "SCMP_CMP_NE":
      return argument !== value;
    case "SCMP_CMP_LT":
      return argument < value;
    case "SCMP_CMP_LE":
      return argument <= value;
    case "SCMP_CMP_GT":
      return argument > value;
    case "SCMP_CMP_GE":
      return argument >= value;
    case "SCMP_CMP_MASKED_EQ":
      return (argument & value) === valueTwo;
  }
  throw new Error(`Unknown op ${op}`);
}

/** The filter's result for one call, evaluated from the profile's meaning. */
export function evaluate(
  profile: SeccompProfile,
  context: SeccompContext,
  data: SeccompData,
): number {
  const listed = profile.architectures?.length
    ? profile.architectures
    : (profile.archMap ?? []).flatMap((e) =>
      e.architecture === (context.arch === "x86_64" ? "SCMP_ARCH_X86_64" : "SCMP_ARCH_AARCH64")
        ? [e.architecture, ...(e.subArchitectures ?? [])]
        : []
    );
  const arch = data.arch >>> 0;
  let abi: SyscallAbi;
  if (context.arch === "x86_64" && arch === AUDIT_ARCH.X86_64) abi = "x86_64";
  else if (
    context.arch === "x86_64" && arch === AUDIT_ARCH.I386 && listed.includes("SCMP_ARCH_X86")
  ) {
    abi = "i386";
  } else if (context.arch === "aarch64" && arch === AUDIT_ARCH.AARCH64) abi = "aarch64";
  else return KILL_PROCESS;

  const defaultRet = result(profile.defaultAction, profile.defaultErrnoRet);
  const denies = rank(defaultRet) < rank(0x7fc00000);
  const enosys = (context.newerSyscalls ?? "enosys") === "enosys" && denies;
  const nr = data.nr >>> 0;
  const newer = enosys ? result("SCMP_ACT_ERRNO", 38) : defaultRet;
  if (abi === "x86_64" && nr >= 0x40000000) return nr === 0xffffffff ? newer : KILL_PROCESS;
  if (nr > highestSyscall(abi)) return newer;

  let best: { ret: number; order: number } | undefined;
  (profile.syscalls ?? []).forEach((rule, order) => {
    if (!ruleApplies(rule, context)) return;
    if (!rule.names.some((name) => syscallNumber(abi, name) === nr)) return;
    const all = (rule.args ?? []).every((a) => {
      let argument = BigInt.asUintN(64, data.args[a.index] ?? 0n);
      if (abi === "i386") argument &= 0xffffffffn;
      return holds(a.op, argument, BigInt(a.value), BigInt(a.valueTwo ?? 0));
    });
    if (!all) return;
    const ret = result(rule.action, rule.errnoRet);
    if (!best || rank(ret) < rank(best.ret)) best = { ret, order };
  });
  return best ? best.ret : defaultRet;
}
