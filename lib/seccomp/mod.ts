/**
 * Seccomp: the OCI profile, its validation, the default profile and the
 * compiler to the classic BPF program the kernel installs with
 * `seccomp(SECCOMP_SET_MODE_FILTER)`.
 *
 * @example
 * ```ts
 * import { compileSeccomp, DEFAULT_SECCOMP_PROFILE, encodeFilter } from "./mod.ts";
 *
 * const compiled = compileSeccomp(DEFAULT_SECCOMP_PROFILE, {
 *   arch: "x86_64",
 *   capabilities: ["CHOWN", "KILL", "NET_BIND_SERVICE"],
 *   kernelVersion: "6.1.0",
 * });
 * const filter = encodeFilter(compiled.instructions); // 8 bytes per instruction
 * ```
 *
 * @module
 */
export { BPF, BPF_MAXINSNS, encodeFilter, SECCOMP_DATA, type SockFilter } from "./bpf.ts";
export {
  actionReturn,
  clearSeccompCache,
  type CompiledSeccomp,
  compileSeccomp,
  type SeccompContext,
} from "./compile.ts";
export { DEFAULT_SECCOMP_PROFILE } from "./default_profile.ts";
export {
  ACTIONS,
  ARCHITECTURES,
  FLAGS,
  type MachineArch,
  OPERATORS,
  SECCOMP_RET,
  type SeccompAction,
  type SeccompArchitecture,
  type SeccompArchMapEntry,
  type SeccompArg,
  type SeccompFlag,
  type SeccompOperator,
  type SeccompProfile,
  type SeccompRuleFilter,
  type SeccompSyscall,
} from "./profile.ts";
export {
  AUDIT_ARCH,
  highestSyscall,
  SYSCALL_TABLES,
  type SyscallAbi,
  syscallNumber,
  X32_SYSCALL_BIT,
} from "./syscalls.ts";
export { validateSeccomp } from "./validate.ts";
