/**
 * Turns a failed plan op (its index and errno, as the helper reports them)
 * into an error that names the step: `mount src=proc dst=/proc type=proc
 * flags=MS_NOSUID|MS_NODEV: EPERM`.
 *
 * @module
 */
import { MS } from "../config/mod.ts";
import { SystemError } from "../errors.ts";
import { Errno } from "../../ffi/_errno.ts";
import { NAMESPACE_FLAGS } from "./build.ts";
import type { PlanOp } from "./ops.ts";

/** Detail codes of ffi/helper/ops.h. */
export const DETAIL = {
  NOT_NULL_DEVICE: 1,
  NOT_PROCFS: 2,
  NOT_DEVPTS: 3,
  UNREACHABLE_CWD: 4,
} as const;

function flagNames(flags: number): string {
  const names = Object.entries(MS)
    .filter(([, bit]) => bit !== 0 && (flags & bit) === bit)
    .map(([name]) => name);
  return names.length > 0 ? names.join("|") : "0";
}

function nstypeNames(nstype: number): string {
  return Object.entries(NAMESPACE_FLAGS)
    .filter(([, bit]) => (nstype & bit) !== 0)
    .map(([name]) => name)
    .join("|");
}

function quote(path: string): string {
  return `\`${path}\``;
}

/** The operation name and the detail that identifies its target. */
function describeOp(op: PlanOp): { name: string; detail: string } {
  switch (op.op) {
    case "SETNS":
      return {
        name: "setns",
        detail: op.label
          ? `${quote(op.label)} (${nstypeNames(op.nstype)})`
          : nstypeNames(op.nstype),
      };
    case "CLONE":
      return {
        name: "clone",
        detail: `flags=${nstypeNames(op.flags) || "0"}${op.cgroup ? ` into \`${op.cgroup}\`` : ""}`,
      };
    case "CGROUP_ENTER":
      return { name: "enter cgroup", detail: quote(op.path) };
    case "MOUNT":
      return {
        name: "mount",
        detail: `src=${op.source || "none"} dst=${op.target} type=${op.fstype || "none"} flags=${
          flagNames(op.flags)
        }${op.data ? ` data=${op.data}` : ""}`,
      };
    case "ROOTFS":
      return { name: "bind rootfs", detail: quote(op.rootfs) };
    case "BIND":
      return { name: "bind mount", detail: `src=${op.source} dst=${op.target}` };
    case "MKDIR":
    case "MKFILE":
    case "MASK":
    case "READONLY":
    case "MKNOD":
      return { name: op.op.toLowerCase(), detail: quote(op.path) };
    case "SYMLINK":
      return { name: "symlink", detail: `${quote(op.path)} -> ${quote(op.target)}` };
    case "WRITE":
      return op.self
        ? { name: "write", detail: `${quote(`${op.dir}/self/${op.file}`)} (${op.content})` }
        : { name: "write", detail: quote(`${op.dir}/${op.file}`) };
    case "NO_NEW_PRIVS":
      return { name: "set no_new_privs", detail: "" };
    case "SECCOMP":
      return { name: "install seccomp filter", detail: `(${op.filter.length / 8} instructions)` };
    case "PIVOT":
      return { name: op.noPivot ? "move root (no_pivot_root)" : "pivot_root", detail: "" };
    case "ROOT_READONLY":
      return { name: "remount root read-only", detail: "" };
    case "HOSTNAME":
      return { name: "sethostname", detail: quote(op.hostname) };
    case "IFUP":
      return { name: "bring up interface", detail: quote(op.name) };
    case "RLIMIT":
      return { name: "setrlimit", detail: `resource=${op.resource}` };
    case "RUN":
      return { name: "run hook", detail: quote(op.args[0] ?? "") };
    case "CONSOLE":
      return { name: "create console", detail: quote(op.ptmx) };
    case "SYNC":
      return { name: "sync", detail: `tag=${op.tag}` };
    case "BOUNDING":
      return { name: "drop bounding capabilities", detail: "" };
    case "IDENTITY":
      return { name: "set user", detail: `uid=${op.uid} gid=${op.gid}` };
    case "SETID":
      return { name: "set user", detail: `uid=${op.uid} gid=${op.gid} (no groups)` };
    case "DUMPABLE":
      return { name: "set dumpable", detail: String(op.dumpable) };
    case "CAPS":
      return { name: "set capabilities", detail: "" };
    case "PDEATHSIG":
      return { name: "set parent death signal", detail: String(op.signal) };
    case "CHDIR":
      return { name: "chdir", detail: quote(op.path) };
    case "EXEC":
      return { name: "exec", detail: quote(op.args[0] ?? "") };
    case "UMASK":
      return { name: "umask", detail: "" };
  }
}

const DETAIL_TEXT: Record<number, string> = {
  [DETAIL.NOT_NULL_DEVICE]: "`/dev/null` in the container is not the null device",
  [DETAIL.NOT_PROCFS]: "the directory is not procfs",
  [DETAIL.NOT_DEVPTS]: "the ptmx is not on devpts",
  [DETAIL.UNREACHABLE_CWD]: "the directory lies outside the container",
};

/** The error for a failure the helper reported at `index` (or -1: before any op). */
export function planFailure(
  plan: readonly PlanOp[],
  index: number,
  errno: number,
  detail: number,
): SystemError {
  const op = plan[index];
  if (op === undefined) {
    return new SystemError("helper", errno, {
      detail: index === -1 ? "(before the plan ran)" : `op ${index}`,
    });
  }
  const { name, detail: what } = describeOp(op);
  if (op.op === "RUN" && errno === 0) {
    const status = detail;
    const how = (status & 0x7f) === 0
      ? `exit status ${(status >> 8) & 0xff}`
      : `signal ${status & 0x7f}`;
    return new SystemError(name, 0, { detail: `${what} ended with ${how}` });
  }
  const why = DETAIL_TEXT[detail] ??
    (op.op === "WRITE" && op.self && op.file === "oom_score_adj" && errno === Errno.EACCES
      ? "lowering oom_score_adj needs CAP_SYS_RESOURCE"
      : undefined);
  return new SystemError(name, errno, { detail: why ? `${what}: ${why}` : what });
}
