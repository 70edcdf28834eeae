/**
 * Security policy of a process, as plan ops: its `oom_score_adj`, its LSM
 * labels, `no_new_privs` and its seccomp filter. The filter is compiled here
 * (once per profile and context: `compileSeccomp` caches it) and carried in
 * the plan as the kernel's 8-byte `sock_filter` records.
 *
 * Where each goes:
 * - `oom_score_adj` is written by the helper to its own
 *   `/proc/<pid>/oom_score_adj` on the host's procfs before it joins or
 *   clones anything (as runc's nsexec does); the init or joined process
 *   inherits it. Lowering it needs CAP_SYS_RESOURCE.
 * - LSM labels are written to the process's own `attr/` files beneath the
 *   container's /proc, verified to be procfs, before the process drops its
 *   capabilities; they take effect at exec.
 * - `no_new_privs` and the seccomp filter come last, after the user,
 *   capabilities and cwd are set, right before exec: the filter then
 *   constrains only the container's program (and the exec itself).
 *
 * @module
 */
import type { Config } from "../config/mod.ts";
import { ConfigError } from "../errors.ts";
import {
  type CompiledSeccomp,
  compileSeccomp,
  DEFAULT_SECCOMP_PROFILE,
  encodeFilter,
  type MachineArch,
} from "../seccomp/mod.ts";
import { lstat, tryReadTextFile } from "../sys/fs.ts";
import type { PlanOp } from "./ops.ts";
import { hostLsms, type LsmState } from "./support.ts";

/** What the security ops depend on besides the config: facts about this host. */
export interface HostFacts {
  /** The machine (`uname -m`). */
  arch: MachineArch;
  /** The kernel's release (`uname -r`), for the profile's `minKernel` rules. */
  kernelVersion: string;
  /** Which LSMs are enabled. */
  lsm: LsmState;
  /**
   * The AppArmor exec attribute beneath `/proc/<pid>/`: `attr/apparmor/exec`
   * on kernels with LSM stacking, `attr/exec` before.
   */
  apparmorExecAttr: string;
}

let facts: HostFacts | undefined;

/** Reads this host's facts (once: they are fixed at boot). */
export function hostFacts(): HostFacts {
  facts ??= {
    arch: Deno.build.arch as MachineArch,
    kernelVersion: tryReadTextFile("/proc/sys/kernel/osrelease")?.trim() ?? "0.0",
    lsm: hostLsms(),
    apparmorExecAttr: lstat("/proc/self/attr/apparmor") === null
      ? "attr/exec"
      : "attr/apparmor/exec",
  };
  return facts;
}

/** The process's own procfs file, written from the host before the joins and the clone. */
function ownProcWrite(file: string, content: string): PlanOp {
  return { op: "WRITE", dir: "/proc", file, content, procfs: true, self: true, hostPath: true };
}

/** A write to the process's own procfs file beneath the container's /proc. */
function containerProcWrite(file: string, content: string): PlanOp {
  return { op: "WRITE", dir: "/proc", file, content, procfs: true, self: true };
}

/** Ops the helper runs before it joins or clones anything: `oom_score_adj`. */
export function earlySecurityOps(config: Config): PlanOp[] {
  if (config.oom_score_adj === undefined) return [];
  return [ownProcWrite("oom_score_adj", String(config.oom_score_adj))];
}

/**
 * LSM label writes for the process, for each label whose LSM is enabled; a
 * label whose LSM is off was refused before the start unless
 * `labels_optional` is set, and is then skipped.
 */
export function labelOps(config: Config, host: HostFacts): PlanOp[] {
  const ops: PlanOp[] = [];
  if (config.apparmor_profile !== "" && host.lsm.apparmor) {
    ops.push(containerProcWrite(host.apparmorExecAttr, `exec ${config.apparmor_profile}`));
  }
  if (config.process_label !== "" && host.lsm.selinux) {
    ops.push(containerProcWrite("attr/exec", config.process_label));
  }
  return ops;
}

/** The SELinux mount label to add as `context=` to the container's own filesystems, or "". */
export function mountLabel(config: Config, host: HostFacts): string {
  return host.lsm.selinux ? config.mount_label : "";
}

const encoded = new WeakMap<CompiledSeccomp, Uint8Array>();

/**
 * The compiled seccomp filter of a process, or `undefined` when the config
 * has none.
 *
 * @throws {ConfigError} when the profile compiles past the kernel's limit.
 */
export function seccompProgram(
  config: Config,
  capabilities: readonly string[],
  host: HostFacts,
): CompiledSeccomp | undefined {
  if (config.seccomp === undefined) return undefined;
  const profile = config.seccomp === "default" ? DEFAULT_SECCOMP_PROFILE : config.seccomp;
  try {
    return compileSeccomp(profile, {
      arch: host.arch,
      capabilities,
      kernelVersion: host.kernelVersion,
    });
  } catch (error) {
    if (error instanceof RangeError) {
      throw new ConfigError([{ path: "seccomp", message: error.message }], { cause: error });
    }
    throw error;
  }
}

/**
 * The last ops before exec: `no_new_privs` when asked for, or when a filter
 * is installed by a process without SYS_ADMIN (the kernel requires one or
 * the other), then the filter.
 */
export function finalSecurityOps(
  config: Config,
  capabilities: readonly string[],
  host: HostFacts,
): PlanOp[] {
  const program = seccompProgram(config, capabilities, host);
  const ops: PlanOp[] = [];
  if (config.no_new_privileges || (program && !capabilities.includes("SYS_ADMIN"))) {
    ops.push({ op: "NO_NEW_PRIVS" });
  }
  if (program) {
    let filter = encoded.get(program);
    if (!filter) encoded.set(program, filter = encodeFilter(program.instructions));
    ops.push({ op: "SECCOMP", filter, flags: program.flags });
  }
  return ops;
}
