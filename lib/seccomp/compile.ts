/**
 * Compiles a seccomp profile into the classic BPF program the kernel runs on
 * every system call of the container.
 *
 * ## What the program does
 *
 * 1. It loads `seccomp_data.arch` and goes to the section of that
 *    architecture. The machine's own architecture always has a section (as
 *    with libseccomp); on x86_64, i386 (`int 0x80`, AUDIT_ARCH_I386) has one
 *    when the profile lists `SCMP_ARCH_X86`, filtered with i386's own
 *    numbers. Any other architecture value kills the process
 *    (`SECCOMP_RET_KILL_PROCESS`): an ABI the program has no numbers for
 *    must not pass unchecked, whatever the default action. That includes
 *    32-bit ARM on aarch64 (there is no ARM table here) and, on x86_64, i386
 *    when the profile does not list it.
 * 2. x86_64 section: a call with the x32 bit (`nr & 0x40000000`) kills the
 *    process, whether or not the profile lists `SCMP_ARCH_X32`: x32 shares
 *    AUDIT_ARCH_X86_64 and would otherwise reach x86_64 rules with other
 *    meanings. `nr == -1` (which is no x32 call) goes on like any number
 *    above the table, as libseccomp lets it.
 * 3. When the default action denies (errno, kill, trap), a call numbered
 *    above the highest of the section's table gets `ENOSYS`, as runc does:
 *    it is newer than this table, so the profile cannot have meant to allow
 *    or deny it, and libc falls back on `ENOSYS` where it would fail on
 *    `EPERM` (glibc's `fchmodat2` on a kernel newer than the headers the
 *    tables came from). Off with `newerSyscalls: "default"`.
 * 4. The system call number is dispatched by a binary search over ranges of
 *    numbers that share an outcome, one `jge` per node: the default profile
 *    has about 90 ranges per section, so a call takes seven or eight tests
 *    (a linear chain would take up to 360). A call with an unconditional
 *    outcome jumps straight to its `ret`; one with argument rules jumps to
 *    its chain. Chains with the same rules are emitted once.
 * 5. A chain tries the call's rules in order; each rule's comparisons are
 *    ANDed, each fails to the next rule, and the last fails to the default.
 *
 * ## Which rule wins
 *
 * Rules for one system call are ordered by their action's precedence, the
 * kernel's order among filters (kill process, kill thread, trap, errno,
 * trace, log, allow), then by their place in the profile, and the first
 * whose comparisons all hold decides. So a deny rule is never shadowed by an
 * allow rule for the same call, whatever their order in the profile; two
 * errno rules that both match give the first one's errno. Rules after an
 * unconditional one cannot run and are dropped; so are trailing rules whose
 * result is the default's, the only place where that cannot change an
 * outcome (libseccomp drops every rule whose action equals the default,
 * which loses a deny rule placed under an allow rule).
 *
 * ## Arguments
 *
 * `seccomp_data.args` are 64 bits, compared as unsigned 64-bit numbers in
 * two 32-bit halves: the high halves decide unless equal, then the low
 * halves, for every operator (`MASKED_EQ` masks both halves). An i386 call
 * sees only the low 32 bits of each register (the kernel's compat entry
 * truncates them, while `seccomp_data` may carry stale high bits when a
 * 64-bit process uses `int 0x80`), so its section compares the low half as
 * the whole value, a value above 2^32 deciding statically. A comparison
 * whose outcome is known (`GE 0`, a mask of 0) is resolved at compile time.
 * Note that several comparisons on the same argument are ANDed here; runc
 * turns them into separate rules (OR).
 *
 * ## Size
 *
 * The kernel takes at most 4096 instructions. Dispatch costs one
 * instruction per range boundary, a `ret` is shared by every call that
 * reaches it, and an argument comparison costs at most six instructions;
 * the default profile compiles to about 250 instructions with both x86
 * sections. A profile that still exceeds the limit is a `ConfigError`.
 *
 * @module
 */
import { ConfigError } from "../errors.ts";
import { isCapabilityName } from "../config/capabilities.ts";
import { BPF_MAXINSNS, type SockFilter } from "./bpf.ts";
import {
  actionReturn,
  emitProgram,
  ENOSYS,
  precedence,
  type ProgramInput,
  sections,
} from "./_program.ts";
import {
  FLAGS,
  MACHINE_RULE_ARCHES,
  type MachineArch,
  SECCOMP_RET,
  type SeccompArchitecture,
  type SeccompProfile,
  type SeccompRuleFilter,
} from "./profile.ts";
import { KERNEL_VERSION, validateSeccomp } from "./validate.ts";
import { DEFAULT_SECCOMP_PROFILE } from "./default_profile.ts";
import { deepFreeze } from "./_freeze.ts";

export { actionReturn };

/** What the compiled program depends on besides the profile. */
export interface SeccompContext {
  /** The machine's architecture (`uname -m`). */
  arch: MachineArch;
  /**
   * The container process's capabilities, for `includes.caps` and
   * `excludes.caps` (moby uses the bounding set), with or without `CAP_`.
   */
  capabilities: readonly string[];
  /** The running kernel's release (`uname -r`, such as `6.1.0-18-amd64`), for `minKernel`. */
  kernelVersion: string;
  /**
   * What a call numbered above the table's highest gets when the default
   * action denies: `ENOSYS` (the default) or the default action.
   */
  newerSyscalls?: "enosys" | "default";
}

/** A compiled profile: the program and what was made of the profile. */
export interface CompiledSeccomp {
  /** The program, for `seccomp(SECCOMP_SET_MODE_FILTER)`; encode it with `encodeFilter`. */
  readonly instructions: readonly SockFilter[];
  /** The `seccomp(2)` flags to pass, from the profile's `flags`. */
  readonly flags: number;
  /** The profile's flag names, as given. */
  readonly flagNames: readonly string[];
  /** The architectures filtered, each with its own numbers. */
  readonly architectures: readonly SeccompArchitecture[];
  /** Architectures the profile lists whose calls are refused (killed), and why. */
  readonly refused: readonly { architecture: SeccompArchitecture; reason: string }[];
  /** Listed architectures that cannot run on this machine, so need no filtering. */
  readonly ignored: readonly SeccompArchitecture[];
  /** Names of applicable rules that an architecture has no such system call for. */
  readonly skipped: readonly { architecture: SeccompArchitecture; names: readonly string[] }[];
  /** Indexes of the profile's rules left out by `includes`/`excludes`. */
  readonly excludedRules: readonly number[];
  /** The default action's return value. */
  readonly defaultReturn: number;
}

function parseKernel(version: string): [number, number, number] | undefined {
  const match = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(version);
  return match ? [Number(match[1]), Number(match[2]), Number(match[3] ?? 0)] : undefined;
}

function atLeast(kernel: [number, number, number], min: string): boolean {
  const want = KERNEL_VERSION.exec(min)!;
  const w = [Number(want[1]), Number(want[2]), Number(want[3] ?? 0)];
  for (let i = 0; i < 3; i++) {
    if (kernel[i] !== w[i]) return kernel[i]! > w[i]!;
  }
  return true;
}

const capName = (name: string) => name.replace(/^CAP_/, "");

/** Whether a rule exists in this context (moby's `includes`/`excludes`). */
function applies(
  includes: SeccompRuleFilter | undefined,
  excludes: SeccompRuleFilter | undefined,
  caps: ReadonlySet<string>,
  arches: readonly string[],
  kernel: [number, number, number],
): boolean {
  if (includes) {
    if (includes.caps?.length && !includes.caps.every((c) => caps.has(capName(c)))) return false;
    if (includes.arches?.length && !includes.arches.some((a) => arches.includes(a))) return false;
    if (includes.minKernel && !atLeast(kernel, includes.minKernel)) return false;
  }
  if (excludes) {
    if (excludes.caps?.some((c) => caps.has(capName(c)))) return false;
    if (excludes.arches?.some((a) => arches.includes(a))) return false;
    if (excludes.minKernel && atLeast(kernel, excludes.minKernel)) return false;
  }
  return true;
}

function build(profile: SeccompProfile, context: SeccompContext): CompiledSeccomp {
  const kernel = parseKernel(context.kernelVersion);
  if (!kernel) {
    throw new RangeError(`Cannot read the kernel version \`${context.kernelVersion}\``);
  }
  if (!Object.hasOwn(MACHINE_RULE_ARCHES, context.arch)) {
    throw new RangeError(`No seccomp support for the \`${context.arch}\` architecture`);
  }
  const caps = new Set<string>();
  for (const name of context.capabilities) {
    const bare = capName(name);
    if (!isCapabilityName(bare)) throw new RangeError(`Unknown capability \`${name}\``);
    caps.add(bare);
  }
  const machineNames = MACHINE_RULE_ARCHES[context.arch];
  const defaultRet = actionReturn(profile.defaultAction, profile.defaultErrnoRet);
  const denies = precedence(defaultRet) < precedence(SECCOMP_RET.USER_NOTIF);
  const enosys = (context.newerSyscalls ?? "enosys") === "enosys" && denies &&
    defaultRet !== actionReturn("SCMP_ACT_ERRNO", ENOSYS);

  const excludedRules: number[] = [];
  const rules: ProgramInput["rules"][number][] = [];
  (profile.syscalls ?? []).forEach((syscall, order) => {
    if (!applies(syscall.includes, syscall.excludes, caps, machineNames, kernel)) {
      excludedRules.push(order);
      return;
    }
    rules.push({
      names: syscall.names,
      rule: {
        order,
        ret: actionReturn(syscall.action, syscall.errnoRet),
        conditions: (syscall.args ?? []).map((a) => ({
          index: a.index,
          op: a.op,
          value: BigInt(a.value),
          valueTwo: BigInt(a.valueTwo ?? 0),
        })),
      },
    });
  });

  const { sections: list, refused, ignored } = sections(profile, context.arch);
  const { instructions, skipped } = emitProgram({ sections: list, rules, defaultRet, enosys });
  if (instructions.length > BPF_MAXINSNS) {
    throw new ConfigError([{
      path: "seccomp",
      message: `The compiled filter has ${instructions.length} instructions, ` +
        `over the kernel's limit of ${BPF_MAXINSNS}: merge rules or drop argument conditions`,
    }]);
  }
  const flagNames = [...(profile.flags ?? [])];
  // WAIT_KILLABLE_RECV is only valid with a user-notification listener, which is never asked for.
  const flags = flagNames.reduce(
    (bits, name) => name === "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV" ? bits : bits | FLAGS[name],
    0,
  );
  return deepFreeze({
    instructions,
    flags,
    flagNames,
    architectures: list.map((s) => s.architecture),
    refused,
    ignored,
    skipped,
    excludedRules,
    defaultReturn: defaultRet,
  });
}

/**
 * The cache key of a profile: its JSON with every primitive tagged by type,
 * so that no two different values (a bigint and a string, `NaN` and `null`)
 * share a key. Equal profiles written with keys in another order merely
 * miss the cache.
 *
 * @throws {TypeError} for a value JSON cannot hold (a function, a symbol).
 */
function profileKey(profile: unknown): string {
  return JSON.stringify(profile, (_key, value: unknown) => {
    switch (typeof value) {
      case "string":
        return `s${value}`;
      case "bigint":
        return `b${value}`;
      case "number":
        return Number.isFinite(value) ? value : `n${value}`;
      case "function":
      case "symbol":
        throw new TypeError(`Not a JSON value: ${typeof value}`);
      default:
        return value;
    }
  });
}

const CACHE_SIZE = 32;
/** Compiled profiles by the text of profile and context. */
const cache = new Map<string, CompiledSeccomp>();
/** Compiled deep-frozen profiles by identity (they cannot change), then by context. */
const frozenCache = new WeakMap<object, Map<string, CompiledSeccomp>>();
/** Profiles found deep-frozen; the default profile is, by construction. */
const frozenProfiles = new WeakSet<object>([DEFAULT_SECCOMP_PROFILE]);

function isDeepFrozen(value: unknown): boolean {
  if (typeof value !== "object" || value === null) return true;
  if (!Object.isFrozen(value)) return false;
  return Object.values(value).every(isDeepFrozen);
}

/** Looks `key` up in a bounded map, keeping the most recently used last. */
function recall(map: Map<string, CompiledSeccomp>, key: string): CompiledSeccomp | undefined {
  const hit = map.get(key);
  if (hit) {
    map.delete(key);
    map.set(key, hit);
  }
  return hit;
}

function remember(map: Map<string, CompiledSeccomp>, key: string, value: CompiledSeccomp): void {
  map.set(key, value);
  if (map.size > CACHE_SIZE) map.delete(map.keys().next().value!);
}

/**
 * Compiles a profile into a seccomp BPF program for this machine and
 * container. The same profile and context (compared by value; a deep-frozen
 * profile such as {@link DEFAULT_SECCOMP_PROFILE} by identity) give the same
 * cached, frozen result.
 *
 * @example
 * ```ts
 * const compiled = compileSeccomp(DEFAULT_SECCOMP_PROFILE, {
 *   arch: "x86_64",
 *   capabilities: ["CHOWN", "KILL"],
 *   kernelVersion: "6.1.0",
 * });
 * const bytes = encodeFilter(compiled.instructions); // for struct sock_fprog
 * ```
 *
 * @param profile The profile (OCI `linux.seccomp`).
 * @param context The machine and the process the program is for.
 * @returns The program and what was made of the profile.
 * @throws {ConfigError} when the profile is invalid or compiles past the
 *   kernel's 4096 instructions.
 * @throws {RangeError} when the context is not usable (unknown machine,
 *   capability or kernel version).
 */
export function compileSeccomp(
  profile: SeccompProfile,
  context: SeccompContext,
): CompiledSeccomp {
  const contextKey = JSON.stringify({
    arch: context.arch,
    capabilities: [...new Set(context.capabilities.map(capName))].sort(),
    kernelVersion: context.kernelVersion,
    newerSyscalls: context.newerSyscalls ?? "enosys",
  });
  let frozen = frozenProfiles.has(profile);
  if (!frozen && isDeepFrozen(profile)) {
    frozenProfiles.add(profile);
    frozen = true;
  }
  let byContext: Map<string, CompiledSeccomp> | undefined;
  let key: string | undefined;
  if (frozen) {
    byContext = frozenCache.get(profile);
    if (!byContext) frozenCache.set(profile, byContext = new Map());
    key = contextKey;
  } else {
    byContext = cache;
    try {
      key = profileKey(profile) + contextKey;
    } catch {
      key = undefined; // Not JSON-like: validation reports what is wrong.
    }
  }
  const hit = key === undefined ? undefined : recall(byContext, key);
  if (hit) return hit;
  // The default profile is checked by a unit test rather than at every start.
  if (profile !== DEFAULT_SECCOMP_PROFILE) {
    const issues = validateSeccomp(profile);
    if (issues.length) throw new ConfigError(issues);
  }
  const compiled = build(profile, context);
  if (key !== undefined) remember(byContext, key, compiled);
  return compiled;
}

/** Empties the compile cache (for measurements and tests). */
export function clearSeccompCache(): void {
  cache.clear();
  frozenCache.delete(DEFAULT_SECCOMP_PROFILE);
}
