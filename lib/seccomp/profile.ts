/**
 * The seccomp profile as OCI's `linux.seccomp` spells it (libseccomp's
 * names), with moby's `includes`/`excludes` and `archMap`, and the kernel
 * constants those names stand for.
 *
 * @module
 */

/** What a rule (or the default) does to a matching system call. */
export type SeccompAction =
  | "SCMP_ACT_ALLOW"
  | "SCMP_ACT_ERRNO"
  | "SCMP_ACT_KILL"
  | "SCMP_ACT_KILL_PROCESS"
  | "SCMP_ACT_KILL_THREAD"
  | "SCMP_ACT_TRAP"
  | "SCMP_ACT_LOG"
  | "SCMP_ACT_TRACE";

/** How an argument is compared with `value` (unsigned 64-bit). */
export type SeccompOperator =
  | "SCMP_CMP_NE"
  | "SCMP_CMP_LT"
  | "SCMP_CMP_LE"
  | "SCMP_CMP_EQ"
  | "SCMP_CMP_GE"
  | "SCMP_CMP_GT"
  | "SCMP_CMP_MASKED_EQ";

/** libseccomp's architecture names. */
export type SeccompArchitecture =
  | "SCMP_ARCH_X86"
  | "SCMP_ARCH_X86_64"
  | "SCMP_ARCH_X32"
  | "SCMP_ARCH_ARM"
  | "SCMP_ARCH_AARCH64"
  | "SCMP_ARCH_MIPS"
  | "SCMP_ARCH_MIPS64"
  | "SCMP_ARCH_MIPS64N32"
  | "SCMP_ARCH_MIPSEL"
  | "SCMP_ARCH_MIPSEL64"
  | "SCMP_ARCH_MIPSEL64N32"
  | "SCMP_ARCH_PPC"
  | "SCMP_ARCH_PPC64"
  | "SCMP_ARCH_PPC64LE"
  | "SCMP_ARCH_S390"
  | "SCMP_ARCH_S390X"
  | "SCMP_ARCH_PARISC"
  | "SCMP_ARCH_PARISC64"
  | "SCMP_ARCH_RISCV64"
  | "SCMP_ARCH_LOONGARCH64"
  | "SCMP_ARCH_M68K"
  | "SCMP_ARCH_SH"
  | "SCMP_ARCH_SHEB";

/** `seccomp(2)` filter flags a profile may ask for. */
export type SeccompFlag =
  | "SECCOMP_FILTER_FLAG_TSYNC"
  | "SECCOMP_FILTER_FLAG_LOG"
  | "SECCOMP_FILTER_FLAG_SPEC_ALLOW"
  | "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV";

/** One argument comparison; all of a rule's comparisons must hold (AND). */
export interface SeccompArg {
  /** The argument, 0 to 5. */
  index: number;
  /** The value compared with; the mask for `SCMP_CMP_MASKED_EQ`. Unsigned, below 2^64. */
  value: number | bigint;
  /** For `SCMP_CMP_MASKED_EQ`, what the masked argument must equal; ignored otherwise. */
  valueTwo?: number | bigint;
  /** The comparison. */
  op: SeccompOperator;
}

/**
 * When a rule applies (moby's extension): `includes` needs every listed
 * capability, the machine's architecture among `arches` and a kernel at
 * least `minKernel`; `excludes` drops the rule when any listed capability is
 * held, the machine's architecture is listed, or the kernel is at least
 * `minKernel`.
 */
export interface SeccompRuleFilter {
  /** Capability names, with or without `CAP_`. */
  caps?: readonly string[];
  /** Architectures as moby names them (Go's `amd64`, `arm64`, ...). */
  arches?: readonly string[];
  /** A kernel version, `major.minor` or `major.minor.patch`. */
  minKernel?: string;
}

/** One rule: what happens to the named system calls when its arguments match. */
export interface SeccompSyscall {
  /** System call names; a name unknown on an architecture is skipped there. */
  names: readonly string[];
  /** What to do. */
  action: SeccompAction;
  /** The errno of `SCMP_ACT_ERRNO` (default 1, EPERM), or the value of `SCMP_ACT_TRACE`. */
  errnoRet?: number;
  /** Argument comparisons, ANDed; none means every call matches. */
  args?: readonly SeccompArg[] | null;
  /** Conditions under which the rule exists at all. */
  includes?: SeccompRuleFilter;
  /** Conditions under which the rule is dropped. */
  excludes?: SeccompRuleFilter;
  /** Free text. */
  comment?: string;
}

/** moby's per-architecture list: the machine's entry names the architectures filtered. */
export interface SeccompArchMapEntry {
  /** The native architecture this entry is for. */
  architecture: SeccompArchitecture;
  /** The architectures that also run on it. */
  subArchitectures?: readonly SeccompArchitecture[] | null;
}

/** A seccomp profile: OCI's `linux.seccomp`, plus moby's `archMap`. */
export interface SeccompProfile {
  /** What happens to a system call no rule matches. */
  defaultAction: SeccompAction;
  /** The errno of a default `SCMP_ACT_ERRNO` (default 1, EPERM), or the default trace value. */
  defaultErrnoRet?: number;
  /** Architectures to filter; the machine's own is always filtered. */
  architectures?: readonly SeccompArchitecture[];
  /** moby's alternative to `architectures`; not both. */
  archMap?: readonly SeccompArchMapEntry[];
  /** `seccomp(2)` flags; recorded for the helper. */
  flags?: readonly SeccompFlag[];
  /** The rules. */
  syscalls?: readonly SeccompSyscall[];
}

/** The kernel's `SECCOMP_RET_*` action values (the high 16 bits of a filter's return). */
export const SECCOMP_RET = {
  KILL_PROCESS: 0x80000000,
  KILL_THREAD: 0x00000000,
  TRAP: 0x00030000,
  ERRNO: 0x00050000,
  USER_NOTIF: 0x7fc00000,
  TRACE: 0x7ff00000,
  LOG: 0x7ffc0000,
  ALLOW: 0x7fff0000,
} as const;

/** `SECCOMP_RET_DATA`: the low 16 bits, the errno or trace value. */
export const SECCOMP_RET_DATA = 0xffff;

/** The kernel's largest errno (`MAX_ERRNO`); it clamps larger ones to this. */
export const MAX_ERRNO = 4095;

/** Each action's `SECCOMP_RET_*` value (data not included). */
export const ACTIONS: Readonly<Record<SeccompAction, number>> = Object.freeze({
  SCMP_ACT_ALLOW: SECCOMP_RET.ALLOW,
  SCMP_ACT_ERRNO: SECCOMP_RET.ERRNO,
  // libseccomp's SCMP_ACT_KILL is the thread-killing action.
  SCMP_ACT_KILL: SECCOMP_RET.KILL_THREAD,
  SCMP_ACT_KILL_PROCESS: SECCOMP_RET.KILL_PROCESS,
  SCMP_ACT_KILL_THREAD: SECCOMP_RET.KILL_THREAD,
  SCMP_ACT_TRAP: SECCOMP_RET.TRAP,
  SCMP_ACT_LOG: SECCOMP_RET.LOG,
  SCMP_ACT_TRACE: SECCOMP_RET.TRACE,
});

/** Actions that carry data (`errnoRet`, `defaultErrnoRet`). */
export const ACTIONS_WITH_DATA: ReadonlySet<string> = new Set(["SCMP_ACT_ERRNO", "SCMP_ACT_TRACE"]);

/** Actions libseccomp knows that this compiler does not support, and why. */
export const UNSUPPORTED_ACTIONS: Readonly<Record<string, string>> = Object.freeze({
  SCMP_ACT_NOTIFY: "needs a seccomp user-notification listener, which this runtime does not run",
});

/** Every comparison operator. */
export const OPERATORS: readonly SeccompOperator[] = Object.freeze([
  "SCMP_CMP_NE",
  "SCMP_CMP_LT",
  "SCMP_CMP_LE",
  "SCMP_CMP_EQ",
  "SCMP_CMP_GE",
  "SCMP_CMP_GT",
  "SCMP_CMP_MASKED_EQ",
]);

/** Every libseccomp architecture name. */
export const ARCHITECTURES: readonly SeccompArchitecture[] = Object.freeze([
  "SCMP_ARCH_X86",
  "SCMP_ARCH_X86_64",
  "SCMP_ARCH_X32",
  "SCMP_ARCH_ARM",
  "SCMP_ARCH_AARCH64",
  "SCMP_ARCH_MIPS",
  "SCMP_ARCH_MIPS64",
  "SCMP_ARCH_MIPS64N32",
  "SCMP_ARCH_MIPSEL",
  "SCMP_ARCH_MIPSEL64",
  "SCMP_ARCH_MIPSEL64N32",
  "SCMP_ARCH_PPC",
  "SCMP_ARCH_PPC64",
  "SCMP_ARCH_PPC64LE",
  "SCMP_ARCH_S390",
  "SCMP_ARCH_S390X",
  "SCMP_ARCH_PARISC",
  "SCMP_ARCH_PARISC64",
  "SCMP_ARCH_RISCV64",
  "SCMP_ARCH_LOONGARCH64",
  "SCMP_ARCH_M68K",
  "SCMP_ARCH_SH",
  "SCMP_ARCH_SHEB",
]);

/** `seccomp(2)` flag bits (linux/seccomp.h). */
export const FLAGS: Readonly<Record<SeccompFlag, number>> = Object.freeze({
  SECCOMP_FILTER_FLAG_TSYNC: 1,
  SECCOMP_FILTER_FLAG_LOG: 2,
  SECCOMP_FILTER_FLAG_SPEC_ALLOW: 4,
  SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV: 32,
});

/**
 * Architecture names `includes.arches`/`excludes.arches` may use: moby's
 * (Go's GOARCH values plus libseccomp-style `x86`, `x32`, `s390`, ...), and
 * the kernel's `x86_64`/`aarch64` for the two machines this runtime runs on.
 */
export const RULE_ARCHES: ReadonlySet<string> = new Set([
  "386",
  "amd64",
  "arm",
  "arm64",
  "aarch64",
  "loong64",
  "mips",
  "mips64",
  "mips64le",
  "mips64n32",
  "mipsel64n32",
  "mipsle",
  "ppc",
  "ppc64",
  "ppc64le",
  "riscv64",
  "s390",
  "s390x",
  "x32",
  "x86",
  "x86_64",
]);

/** The machines this compiler builds filters for, by the kernel's name (`uname -m`). */
export type MachineArch = "x86_64" | "aarch64";

/** The names of a machine in `includes.arches`/`excludes.arches`. */
export const MACHINE_RULE_ARCHES: Readonly<Record<MachineArch, readonly string[]>> = Object.freeze({
  x86_64: ["amd64", "x86_64"],
  aarch64: ["arm64", "aarch64"],
});
