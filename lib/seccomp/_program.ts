/**
 * The code generator behind `compileSeccomp`: the architecture dispatch,
 * each architecture's section (x32 and newer-call checks, the binary search
 * on the call number, the rule chains) and the argument comparisons. What
 * the program does, and why, is told in `compile.ts`.
 *
 * @module
 */
import { Assembler, BPF, type Label, SECCOMP_DATA, type SockFilter } from "./bpf.ts";
import {
  ACTIONS,
  type MachineArch,
  SECCOMP_RET,
  SECCOMP_RET_DATA,
  type SeccompAction,
  type SeccompArchitecture,
  type SeccompOperator,
  type SeccompProfile,
} from "./profile.ts";
import {
  AUDIT_ARCH,
  highestSyscall,
  type SyscallAbi,
  syscallNumber,
  X32_SYSCALL_BIT,
} from "./syscalls.ts";

/** The `ENOSYS` errno. */
export const ENOSYS = 38;
const EPERM = 1;
const MAX_U64 = (1n << 64n) - 1n;
const MAX_U32 = 0xffffffffn;

/** One architecture's part of the program: its ABI table and how its arguments are read. */
export interface Section {
  /** The architecture's libseccomp name. */
  architecture: SeccompArchitecture;
  /** Whose system call numbers it uses. */
  abi: SyscallAbi;
  /** Its `seccomp_data.arch` value. */
  audit: number;
  /** 32: the ABI sees only the low halves of the argument registers. */
  bits: 32 | 64;
  /** Whether x32 calls (`nr & 0x40000000`) arrive under this arch value, to be killed. */
  x32: boolean;
}

/** One argument comparison of a rule, its values as bigints. */
export interface Condition {
  index: number;
  op: SeccompOperator;
  value: bigint;
  valueTwo: bigint;
}

/** A rule as the program sees it: its result and its comparisons (ANDed). */
export interface Rule {
  /** Place in the profile, for ties. */
  order: number;
  /** The filter's return value. */
  ret: number;
  conditions: Condition[];
}

/** A filter return value for an action and its data. */
export function actionReturn(action: SeccompAction, data?: number | null): number {
  const base = ACTIONS[action];
  if (action === "SCMP_ACT_ERRNO" || action === "SCMP_ACT_TRACE") {
    return (base | ((data ?? EPERM) & SECCOMP_RET_DATA)) >>> 0;
  }
  return base >>> 0;
}

/** The kernel's precedence of a return value: lower runs first (linux/seccomp.h). */
export function precedence(ret: number): number {
  return (ret & 0xffff0000) | 0;
}

/** The sections for a machine, and what becomes of each listed architecture. */
export function sections(profile: SeccompProfile, arch: MachineArch): {
  sections: Section[];
  refused: { architecture: SeccompArchitecture; reason: string }[];
  ignored: SeccompArchitecture[];
} {
  const native: SeccompArchitecture = arch === "x86_64" ? "SCMP_ARCH_X86_64" : "SCMP_ARCH_AARCH64";
  let listed: readonly SeccompArchitecture[] = profile.architectures ?? [];
  if (!listed.length && profile.archMap?.length) {
    const entry = profile.archMap.find((e) => e.architecture === native);
    listed = entry ? [entry.architecture, ...(entry.subArchitectures ?? [])] : [];
  }
  const result: Section[] = arch === "x86_64"
    ? [{ architecture: native, abi: "x86_64", audit: AUDIT_ARCH.X86_64, bits: 64, x32: true }]
    : [{ architecture: native, abi: "aarch64", audit: AUDIT_ARCH.AARCH64, bits: 64, x32: false }];
  const refused: { architecture: SeccompArchitecture; reason: string }[] = [];
  const ignored: SeccompArchitecture[] = [];
  for (const name of new Set(listed)) {
    if (name === native) continue;
    if (arch === "x86_64" && name === "SCMP_ARCH_X86") {
      result.push({
        architecture: name,
        abi: "i386",
        audit: AUDIT_ARCH.I386,
        bits: 32,
        x32: false,
      });
    } else if (arch === "x86_64" && name === "SCMP_ARCH_X32") {
      refused.push({
        architecture: name,
        reason: "x32 calls (`nr & 0x40000000`) are always refused: the process is killed",
      });
    } else if (arch === "aarch64" && name === "SCMP_ARCH_ARM") {
      refused.push({
        architecture: name,
        reason: "no 32-bit ARM system call table: a 32-bit ARM process is killed",
      });
    } else {
      ignored.push(name);
    }
  }
  return { sections: result, refused, ignored };
}

/** The outcome of a comparison when it does not depend on the argument. */
function decided(c: Condition, bits: 32 | 64): boolean | undefined {
  const max = bits === 32 ? MAX_U32 : MAX_U64;
  const v = c.value;
  switch (c.op) {
    case "SCMP_CMP_EQ":
      return v > max ? false : undefined;
    case "SCMP_CMP_NE":
      return v > max ? true : undefined;
    case "SCMP_CMP_LT":
      return v > max ? true : v === 0n ? false : undefined;
    case "SCMP_CMP_LE":
      return v >= max ? true : undefined;
    case "SCMP_CMP_GT":
      return v >= max ? false : undefined;
    case "SCMP_CMP_GE":
      return v === 0n ? true : v > max ? false : undefined;
    case "SCMP_CMP_MASKED_EQ": {
      const mask = v & max;
      if ((c.valueTwo & ~mask) !== 0n) return false;
      return mask === 0n ? true : undefined;
    }
  }
}

type Target = "pass" | "fail" | "next" | "cont";
interface Test {
  code: number;
  k: number;
  t: Target;
  f: Target;
}
interface Block {
  offset: number;
  mask?: number;
  tests: Test[];
}

const lo32 = (v: bigint) => Number(v & MAX_U32);
const hi32 = (v: bigint) => Number((v >> 32n) & MAX_U32);

/** The code of one comparison not decided at compile time, as load-and-test blocks. */
function comparison(c: Condition, bits: 32 | 64): Block[] {
  const low = SECCOMP_DATA.argLow(c.index);
  const high = SECCOMP_DATA.argHigh(c.index);
  const vlo = lo32(c.value);
  const vhi = hi32(c.value);
  if (c.op === "SCMP_CMP_MASKED_EQ") {
    const mask = bits === 32 ? c.value & MAX_U32 : c.value;
    const blocks: Block[] = [];
    const masked = (offset: number, m: number, want: number, last: boolean) =>
      blocks.push({
        offset,
        mask: m === 0xffffffff ? undefined : m,
        tests: [{ code: BPF.JMP_JEQ_K, k: want, t: last ? "pass" : "next", f: "fail" }],
      });
    const mhi = hi32(mask);
    const mlo = lo32(mask);
    if (mhi !== 0) masked(high, mhi, hi32(c.valueTwo), mlo === 0);
    if (mlo !== 0) masked(low, mlo, lo32(c.valueTwo), true);
    return blocks;
  }
  // The low half: the whole test on a 32-bit ABI, the tie-break on a 64-bit one.
  const lowTest: Record<SeccompOperator, Test> = {
    SCMP_CMP_EQ: { code: BPF.JMP_JEQ_K, k: vlo, t: "pass", f: "fail" },
    SCMP_CMP_NE: { code: BPF.JMP_JEQ_K, k: vlo, t: "fail", f: "pass" },
    SCMP_CMP_GT: { code: BPF.JMP_JGT_K, k: vlo, t: "pass", f: "fail" },
    SCMP_CMP_GE: { code: BPF.JMP_JGE_K, k: vlo, t: "pass", f: "fail" },
    SCMP_CMP_LT: { code: BPF.JMP_JGE_K, k: vlo, t: "fail", f: "pass" },
    SCMP_CMP_LE: { code: BPF.JMP_JGT_K, k: vlo, t: "fail", f: "pass" },
    SCMP_CMP_MASKED_EQ: { code: BPF.JMP_JEQ_K, k: vlo, t: "pass", f: "fail" },
  };
  const lowBlock: Block = { offset: low, tests: [lowTest[c.op]] };
  if (bits === 32) return [lowBlock];
  let tests: Test[];
  switch (c.op) {
    case "SCMP_CMP_EQ":
      tests = [{ code: BPF.JMP_JEQ_K, k: vhi, t: "next", f: "fail" }];
      break;
    case "SCMP_CMP_NE":
      tests = [{ code: BPF.JMP_JEQ_K, k: vhi, t: "next", f: "pass" }];
      break;
    default: {
      // Ordered: a greater high half decides one way, a smaller one the other.
      const above: Target = c.op === "SCMP_CMP_GT" || c.op === "SCMP_CMP_GE" ? "pass" : "fail";
      const below: Target = above === "pass" ? "fail" : "pass";
      if (vhi === 0xffffffff) {
        tests = [{ code: BPF.JMP_JEQ_K, k: vhi, t: "next", f: below }];
      } else if (vhi === 0) {
        tests = [{ code: BPF.JMP_JGT_K, k: 0, t: above, f: "next" }];
      } else {
        tests = [
          { code: BPF.JMP_JGT_K, k: vhi, t: above, f: "cont" },
          { code: BPF.JMP_JEQ_K, k: vhi, t: "next", f: below },
        ];
      }
    }
  }
  return [{ offset: high, tests }, lowBlock];
}

function emitComparison(asm: Assembler, blocks: Block[], pass: Label, fail: Label): void {
  const labels = blocks.map(() => asm.label());
  blocks.forEach((block, i) => {
    if (i > 0) asm.bind(labels[i]!);
    asm.load(block.offset);
    if (block.mask !== undefined) asm.and(block.mask);
    const next = i + 1 < blocks.length ? labels[i + 1]! : pass;
    for (const test of block.tests) {
      const cont = asm.label();
      let continues = false;
      const resolve = (target: Target): Label => {
        if (target === "pass") return pass;
        if (target === "fail") return fail;
        if (target === "next") return next;
        continues = true;
        return cont;
      };
      asm.jump(test.code, test.k, resolve(test.t), resolve(test.f));
      if (continues) asm.bind(cont);
    }
  });
}

/**
 * A call's rules as the program tries them: by precedence then profile
 * order, decided comparisons resolved, nothing after an unconditional rule,
 * no trailing rule whose result is the default's.
 */
function chainOf(rules: readonly Rule[], bits: 32 | 64, defaultRet: number): Rule[] {
  const sorted = [...rules].sort((a, b) =>
    precedence(a.ret) - precedence(b.ret) || a.order - b.order
  );
  const chain: Rule[] = [];
  for (const rule of sorted) {
    const conditions: Condition[] = [];
    let never = false;
    for (const c of rule.conditions) {
      const outcome = decided(c, bits);
      if (outcome === false) never = true;
      if (outcome === undefined) conditions.push(c);
    }
    if (never) continue;
    chain.push({ ...rule, conditions });
    if (conditions.length === 0) break;
  }
  while (chain.length && chain[chain.length - 1]!.ret === defaultRet) chain.pop();
  return chain;
}

function chainKey(chain: readonly Rule[]): string {
  return JSON.stringify(chain.map((rule) => [
    rule.ret,
    rule.conditions.map((c) => [
      c.index,
      c.op,
      String(c.value),
      c.op === "SCMP_CMP_MASKED_EQ" ? String(c.valueTwo) : "0",
    ]),
  ]));
}

interface SectionInput {
  section: Section;
  rules: readonly { names: readonly string[]; rule: Rule }[];
  defaultRet: number;
  enosys: boolean;
}

/** Emits one architecture's section; returns the names its table lacks. */
function emitSection(asm: Assembler, start: Label, input: SectionInput): string[] {
  const { section, defaultRet } = input;
  const highest = highestSyscall(section.abi);
  const skipped = new Set<string>();
  // Indexed by number (a table's numbers are dense): each call's rules, in profile order.
  const byNumber: (Rule[] | undefined)[] = new Array(highest + 1);
  for (const { names, rule } of input.rules) {
    for (const name of names) {
      const nr = syscallNumber(section.abi, name);
      if (nr === undefined) {
        skipped.add(name);
        continue;
      }
      const list = byNumber[nr];
      if (list === undefined) byNumber[nr] = [rule];
      else if (list[list.length - 1] !== rule) list.push(rule);
    }
  }

  const returns = new Map<number, Label>();
  const retLabel = (value: number): Label => {
    let label = returns.get(value);
    if (label === undefined) {
      label = asm.label();
      returns.set(value, label);
    }
    return label;
  };
  const defaultLabel = retLabel(defaultRet);

  // Ranges of numbers with one outcome (a return, or a chain shared by calls
  // with the same rules); gaps take the default.
  const chains = new Map<string, { label: Label; chain: Rule[] }>();
  const ranges: { start: number; target: Label }[] = [{ start: 0, target: defaultLabel }];
  const outcome = (nr: number, target: Label) => {
    const last = ranges[ranges.length - 1]!;
    if (last.target === target) return;
    if (last.start === nr) last.target = target;
    else ranges.push({ start: nr, target });
  };
  for (let nr = 0; nr < byNumber.length; nr++) {
    const rules = byNumber[nr];
    if (rules === undefined) {
      outcome(nr, defaultLabel);
      continue;
    }
    const only = rules.length === 1 ? rules[0]! : undefined;
    if (only && only.conditions.length === 0) {
      outcome(nr, retLabel(only.ret));
      continue;
    }
    const chain = chainOf(rules, section.bits, defaultRet);
    if (chain.length === 0) {
      outcome(nr, defaultLabel);
    } else if (chain.length === 1 && chain[0]!.conditions.length === 0) {
      outcome(nr, retLabel(chain[0]!.ret));
    } else {
      const key = chainKey(chain);
      let entry = chains.get(key);
      if (!entry) {
        entry = { label: asm.label(), chain };
        chains.set(key, entry);
      }
      outcome(nr, entry.label);
    }
  }
  outcome(byNumber.length, defaultLabel);

  asm.bind(start);
  asm.load(SECCOMP_DATA.nr);
  const newer = input.enosys ? retLabel(actionReturn("SCMP_ACT_ERRNO", ENOSYS)) : defaultLabel;
  let x32: Label | undefined;
  if (section.x32) {
    x32 = asm.label();
    const go = asm.label();
    asm.jump(BPF.JMP_JGE_K, X32_SYSCALL_BIT, x32, go);
    asm.bind(go);
  }
  if (input.enosys) {
    const go = asm.label();
    asm.jump(BPF.JMP_JGT_K, highest, newer, go);
    asm.bind(go);
  }

  emitSearch(asm, ranges);

  for (const { label, chain } of chains.values()) {
    asm.bind(label);
    chain.forEach((rule, r) => {
      const last = r === chain.length - 1;
      if (rule.conditions.length === 0) {
        asm.ret(rule.ret);
        return;
      }
      const fail = last ? defaultLabel : asm.label();
      const success = retLabel(rule.ret);
      rule.conditions.forEach((c, i) => {
        const finalTest = i === rule.conditions.length - 1;
        const pass = finalTest ? success : asm.label();
        emitComparison(asm, comparison(c, section.bits), pass, fail);
        if (!finalTest) asm.bind(pass);
      });
      if (!last) asm.bind(fail);
    });
  }

  if (x32 !== undefined) {
    // nr >= 0x40000000: x32 (or garbage) is killed; -1 goes on like any unknown call.
    asm.bind(x32);
    asm.jump(BPF.JMP_JEQ_K, 0xffffffff, newer, retLabel(SECCOMP_RET.KILL_PROCESS));
  }
  for (const [value, label] of returns) {
    asm.bind(label);
    asm.ret(value);
  }
  return [...skipped];
}

/** A binary search over `ranges` (sorted by start, the first at 0) on A = nr. */
function emitSearch(asm: Assembler, ranges: readonly { start: number; target: Label }[]): void {
  if (ranges.length === 1) {
    asm.goto(ranges[0]!.target);
    return;
  }
  const node = (lo: number, hi: number, self: Label | undefined): void => {
    if (self !== undefined) asm.bind(self);
    const mid = (lo + hi) >> 1;
    const left = mid - lo === 1 ? ranges[lo]!.target : asm.label();
    const right = hi - mid === 1 ? ranges[mid]!.target : asm.label();
    asm.jump(BPF.JMP_JGE_K, ranges[mid]!.start, right, left);
    if (mid - lo > 1) node(lo, mid, left);
    if (hi - mid > 1) node(mid, hi, right);
  };
  node(0, ranges.length, undefined);
}

/** What the program is made from: the sections and the rules that apply. */
export interface ProgramInput {
  /** The architectures filtered, the machine's first. */
  sections: readonly Section[];
  /** The applicable rules with their names, in profile order. */
  rules: SectionInput["rules"];
  /** The default action's return value. */
  defaultRet: number;
  /** Whether calls newer than a table get `ENOSYS`. */
  enosys: boolean;
}

/**
 * Emits the whole program: `seccomp_data.arch` dispatched to each section,
 * any other value killing the process.
 *
 * @returns The instructions, and per section the names its table lacks.
 */
export function emitProgram(input: ProgramInput): {
  instructions: SockFilter[];
  skipped: { architecture: SeccompArchitecture; names: string[] }[];
} {
  const asm = new Assembler();
  asm.load(SECCOMP_DATA.arch);
  const starts = input.sections.map(() => asm.label());
  input.sections.forEach((section, i) => {
    const next = asm.label();
    asm.jump(BPF.JMP_JEQ_K, section.audit, starts[i]!, next);
    asm.bind(next);
  });
  asm.ret(SECCOMP_RET.KILL_PROCESS);
  const skipped: { architecture: SeccompArchitecture; names: string[] }[] = [];
  input.sections.forEach((section, i) => {
    const { rules, defaultRet, enosys } = input;
    const names = emitSection(asm, starts[i]!, { section, rules, defaultRet, enosys });
    if (names.length) skipped.push({ architecture: section.architecture, names });
  });
  return { instructions: asm.assemble(), skipped };
}
