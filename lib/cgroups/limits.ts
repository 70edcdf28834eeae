/**
 * Resource limits: a `Cgroup` config's limit fields written to a
 * container's cgroup directories, on v1 hierarchies, on the v2 unified
 * hierarchy, or on both (hybrid: each controller where it is mounted).
 *
 * Two steps. {@link planLimits} turns the config into a flat list of file
 * writes ({@link LimitWrite}), each naming the config field it carries out;
 * it only reads (current values, where the order of writes depends on them)
 * and refuses, with every field named, what the host cannot do.
 * {@link applyLimits} (synchronous, for a container's start) and
 * {@link setLimits} (for a running container, the freezer field included)
 * read the old value of each file, write the new ones in order and, when the
 * kernel refuses one, write the old values back in reverse order, so the
 * limits in force before the call stay in force.
 *
 * v1 files (as the seed wrote them): `memory.limit_in_bytes`,
 * `memory.soft_limit_in_bytes`, `memory.memsw.limit_in_bytes` (2 x memory
 * when `memory_swap` is 0), `memory.oom_control`, `cpu.shares` (read back:
 * the kernel clamps it), `cpu.cfs_period_us`, `cpu.cfs_quota_us`,
 * `cpu.rt_period_us`, `cpu.rt_runtime_us`, `cpuset.cpus`, `cpuset.mems`,
 * `blkio.weight`/`blkio.weight_device` (or BFQ's `blkio.bfq.weight*` where
 * CFQ is gone, kernel 5.0 and later), `blkio.throttle.*_device`, `pids.max`,
 * `net_prio.ifpriomap`.
 *
 * v2 files: `memory.max`, `memory.low` (from `memory_reservation`: like v1's
 * soft limit it protects memory under pressure; `memory.high` would
 * throttle instead), `memory.swap.max` (swap alone: `memory_swap` minus
 * `memory`), `cpu.max`, `cpu.weight` (from shares:
 * `1 + ((shares - 2) * 9999) / 262142`), `cpuset.cpus`, `cpuset.mems`,
 * `io.weight` (weight `1 + ((w - 10) * 9999) / 990`; or BFQ's `io.bfq.weight`
 * with the v1 weight as is), `io.max`, `pids.max`. v2 has no realtime group
 * scheduling and no OOM-killer switch: those fields are refused there.
 *
 * The blkio device fields hold one `major:minor value` entry per line; each
 * entry is one write(2), as the kernel takes one rule per write.
 *
 * The `freezer` field is carried out last, by `freezer.ts`.
 *
 * @module
 */
import { Errno, errnoName } from "../../ffi/_errno.ts";
import { errno, sys } from "../../ffi/syscalls.ts";
import { O } from "../../ffi/constants.ts";
import type { Cgroup } from "../config/types.ts";
import { ConfigError, type ConfigIssue, ContainerError, SystemError } from "../errors.ts";
import { closeFd, cstr, readTextFile, tryReadTextFile } from "../sys/fs.ts";
import { freeze, type FreezeOptions, freezerState, thaw } from "./freezer.ts";

/** The `Cgroup` config fields that set limits. */
export const LIMIT_FIELDS = [
  "memory",
  "memory_reservation",
  "memory_swap",
  "oom_kill_disable",
  "cpu_shares",
  "cpu_quota",
  "cpu_period",
  "cpu_rt_runtime",
  "cpu_rt_period",
  "cpuset_cpus",
  "cpuset_mems",
  "blkio_weight",
  "blkio_weight_device",
  "blkio_throttle_read_bps_device",
  "blkio_throttle_write_bps_device",
  "blkio_throttle_read_iops_device",
  "blkio_throttle_write_iops_device",
  "net_prio_ifpriomap",
  "freezer",
  "pids_limit",
] as const;

/**
 * The limits to set: the `Cgroup` config's limit fields (all but its
 * placement and device rules), each optional: a missing field, 0 or ""
 * leaves the kernel's value. `pids_limit` is the maximum number of tasks
 * (-1 is no limit).
 */
export type CgroupLimits = Partial<
  Omit<
    Cgroup,
    "name" | "parent" | "allow_all_devices" | "allowed_devices" | "denied_devices" | "slice"
  >
>;

/** Reads a file's text, or null when it does not exist. */
export type ReadFile = (path: string) => string | null;

/** One file write that carries out a config field. */
export interface LimitWrite {
  /** The config field, such as `cgroups.memory`. */
  field: string;
  /** Absolute path of the cgroup file. */
  file: string;
  /** What to write, one write(2) each, in order. */
  values: string[];
  /** The writes that bring back the file's state from its old content. */
  restore: (old: string) => string[];
  /** Checks the value read back after the write; returns a message when it is wrong. */
  verify?: (readBack: string) => string | undefined;
}

/** The kernel refused a limit: names the config field, the value, the file and the errno. */
export class CgroupLimitError extends SystemError {
  /** Always `CgroupLimitError`. */
  override name = "CgroupLimitError";
  /** The config field, such as `cgroups.cpuset_cpus`. */
  readonly field: string;
  /** The cgroup file. */
  readonly file: string;
  /** The value the kernel refused. */
  readonly value: string;

  /**
   * Creates the error for `value` refused in `file` with `errno`; `problem`
   * replaces the kernel's answer when the refusal is not an errno (a value
   * read back different from the one written).
   */
  constructor(
    where: { field: string; file: string; value: string },
    errno: number,
    problem?: string,
    options?: ErrorOptions,
  ) {
    super("write", errno, { target: where.file }, options);
    const file = where.file.slice(where.file.lastIndexOf("/") + 1);
    this.message = problem !== undefined
      ? `${where.field}: ${problem}`
      : `${where.field}: the kernel refused \`${where.value}\` for ${file}: ${errnoName(errno)}`;
    this.field = where.field;
    this.file = where.file;
    this.value = where.value;
  }
}

// ---------------------------------------------------------------------------
// Helpers shared by the v1 and v2 mappings

/** What a planner gets: the limits, a file reader, and where to put writes and issues. */
interface Plan {
  limits: CgroupLimits;
  read: ReadFile;
  writes: LimitWrite[];
  issues: ConfigIssue[];
}

type Field = keyof CgroupLimits;

const path = (field: Field) => `cgroups.${field}`;

function issue(plan: Plan, field: Field, message: string): void {
  plan.issues.push({ path: path(field), message });
}

/** A write whose old value, as read, restores it. */
function simple(field: Field, file: string, value: string | number): LimitWrite {
  return { field: path(field), file, values: [String(value)], restore: (old) => [old.trim()] };
}

/** A number field's value, 0 when it is not set. */
function num(plan: Plan, field: Field): number {
  const value = plan.limits[field];
  return typeof value === "number" ? value : 0;
}

/** A string field's value, "" when it is not set. */
function str(plan: Plan, field: Field): string {
  const value = plan.limits[field];
  return typeof value === "string" ? value.trim() : "";
}

/** A limit the kernel reads back as a number; -1 and huge values (v1's "unlimited") are Infinity. */
function limitValue(text: string | null | undefined): number {
  const value = (text ?? "").trim().split(/\s+/)[0] ?? "";
  if (value === "max" || value === "-1") return Infinity;
  const n = Number(value);
  return Number.isFinite(n) && n < 2 ** 62 ? n : Infinity;
}

/**
 * Orders a pair of writes bound by `low <= high` (memory limit and
 * memory+swap limit, realtime runtime and period) so that the state between
 * the two writes is valid too: the low one first when it fits under the
 * current high one, otherwise the high one first.
 */
function orderPair(
  low: LimitWrite,
  newLow: number,
  high: LimitWrite,
  currentHigh: number,
): LimitWrite[] {
  return newLow <= currentHigh ? [low, high] : [high, low];
}

/** One `major:minor value` entry of a blkio device field. */
interface DeviceEntry {
  key: string;
  value: number;
}

/** Parses a blkio device field: `major:minor value` entries, one per line. */
function deviceEntries(plan: Plan, field: Field): DeviceEntry[] {
  const entries: DeviceEntry[] = [];
  for (const line of str(plan, field).split("\n")) {
    const text = line.trim();
    if (text === "") continue;
    const match = /^(\d+):(\d+)\s+(\d+)$/.exec(text);
    if (match === null) {
      issue(
        plan,
        field,
        `Each line must be \`major:minor value\` with non-negative integers, got \`${text}\``,
      );
      continue;
    }
    entries.push({ key: `${match[1]}:${match[2]}`, value: Number(match[3]) });
  }
  return entries;
}

/** The lines of a keyed file (`key rest...`), by key. */
function keyedLines(text: string): Map<string, string> {
  const lines = new Map<string, string>();
  for (const line of text.split("\n")) {
    const trimmed = line.trim();
    if (trimmed !== "") lines.set(trimmed.split(/\s+/)[0]!, trimmed);
  }
  return lines;
}

/**
 * Writes of keyed entries (one per write); restored by writing each key's
 * old line back, or `key <removed>` for a key that had none.
 */
function keyed(field: Field, file: string, values: string[], removed: string): LimitWrite {
  return {
    field: path(field),
    file,
    values,
    restore: (old) => {
      const before = keyedLines(old);
      const keys = [...new Set(values.map((v) => v.split(/\s+/)[0]!))];
      return keys.map((key) => before.get(key) ?? `${key} ${removed}`);
    },
  };
}

/** The first of `names` that exists in `dir`. */
function firstFile(plan: Plan, dir: string, names: string[]): string | undefined {
  return names.map((name) => `${dir}/${name}`).find((file) => plan.read(file) !== null);
}

// ---------------------------------------------------------------------------
// cgroup v1

function memoryV1(plan: Plan, dir: string): void {
  const memory = num(plan, "memory");
  const swap = num(plan, "memory_swap");
  const reservation = num(plan, "memory_reservation");
  const limit = memory !== 0 ? simple("memory", `${dir}/memory.limit_in_bytes`, memory) : undefined;

  // memory+swap: the value when given (-1 unlimited); 2 x memory by default, as the seed did.
  const memswFile = `${dir}/memory.memsw.limit_in_bytes`;
  let memsw: LimitWrite | undefined;
  if (swap !== 0) {
    if (plan.read(memswFile) === null) {
      issue(
        plan,
        "memory_swap",
        "Swap accounting is off on this host: `memory.memsw.limit_in_bytes` does not exist",
      );
    } else memsw = simple("memory_swap", memswFile, swap);
  } else if (memory !== 0 && plan.read(memswFile) !== null) {
    memsw = simple("memory", memswFile, memory === -1 ? -1 : memory * 2);
  }

  if (limit && memsw) {
    // The kernel keeps memory <= memory+swap at every step.
    const newLimit = memory === -1 ? Infinity : memory;
    plan.writes.push(...orderPair(limit, newLimit, memsw, limitValue(plan.read(memswFile))));
  } else if (limit) plan.writes.push(limit);
  else if (memsw) plan.writes.push(memsw);

  if (reservation !== 0) {
    plan.writes.push(
      simple("memory_reservation", `${dir}/memory.soft_limit_in_bytes`, reservation),
    );
  }
  if (plan.limits.oom_kill_disable === true) {
    plan.writes.push({
      field: path("oom_kill_disable"),
      file: `${dir}/memory.oom_control`,
      values: ["1"],
      restore: (old) => [/oom_kill_disable\s+(\d)/.exec(old)?.[1] ?? "0"],
    });
  }
}

/** The seed's message for shares the kernel clamped. */
export function cpuSharesProblem(requested: number, readBack: string): string | undefined {
  const actual = Number(readBack.trim());
  if (actual === requested) return undefined;
  return requested > actual
    ? `The maximum allowed cpu-shares is ${actual}`
    : `The minimum allowed cpu-shares is ${actual}`;
}

function cpuV1(plan: Plan, dir: string): void {
  const shares = num(plan, "cpu_shares");
  if (shares !== 0) {
    plan.writes.push({
      ...simple("cpu_shares", `${dir}/cpu.shares`, shares),
      verify: (readBack) => cpuSharesProblem(shares, readBack),
    });
  }
  const period = num(plan, "cpu_period");
  const quota = num(plan, "cpu_quota");
  if (period !== 0) plan.writes.push(simple("cpu_period", `${dir}/cpu.cfs_period_us`, period));
  if (quota !== 0) plan.writes.push(simple("cpu_quota", `${dir}/cpu.cfs_quota_us`, quota));

  const rtPeriod = num(plan, "cpu_rt_period");
  const rtRuntime = num(plan, "cpu_rt_runtime");
  const rtPeriodWrite = simple("cpu_rt_period", `${dir}/cpu.rt_period_us`, rtPeriod);
  const rtRuntimeWrite = simple("cpu_rt_runtime", `${dir}/cpu.rt_runtime_us`, rtRuntime);
  if (rtPeriod !== 0 && rtRuntime !== 0) {
    // The kernel keeps runtime <= period at every step.
    const current = limitValue(plan.read(`${dir}/cpu.rt_period_us`));
    const newRuntime = rtRuntime === -1 ? Infinity : rtRuntime;
    plan.writes.push(...orderPair(rtRuntimeWrite, newRuntime, rtPeriodWrite, current));
  } else if (rtPeriod !== 0) plan.writes.push(rtPeriodWrite);
  else if (rtRuntime !== 0) plan.writes.push(rtRuntimeWrite);
}

function cpusetFiles(plan: Plan, dir: string): void {
  const cpus = str(plan, "cpuset_cpus");
  const mems = str(plan, "cpuset_mems");
  if (cpus !== "") plan.writes.push(simple("cpuset_cpus", `${dir}/cpuset.cpus`, cpus));
  if (mems !== "") plan.writes.push(simple("cpuset_mems", `${dir}/cpuset.mems`, mems));
}

const THROTTLE = [
  ["blkio_throttle_read_bps_device", "read_bps", "rbps"],
  ["blkio_throttle_write_bps_device", "write_bps", "wbps"],
  ["blkio_throttle_read_iops_device", "read_iops", "riops"],
  ["blkio_throttle_write_iops_device", "write_iops", "wiops"],
] as const;

function blkioV1(plan: Plan, dir: string): void {
  const weight = num(plan, "blkio_weight");
  if (weight !== 0) {
    // CFQ's blkio.weight left with CFQ in 5.0; BFQ's takes the same 1-1000 range.
    const file = firstFile(plan, dir, ["blkio.weight", "blkio.bfq.weight"]);
    if (file === undefined) {
      issue(plan, "blkio_weight", "Neither `blkio.weight` nor `blkio.bfq.weight` exists");
    } else plan.writes.push(simple("blkio_weight", file, weight));
  }
  const perDevice = deviceEntries(plan, "blkio_weight_device");
  if (perDevice.length > 0) {
    const file = firstFile(plan, dir, ["blkio.weight_device", "blkio.bfq.weight_device"]);
    if (file === undefined) {
      issue(
        plan,
        "blkio_weight_device",
        "Neither `blkio.weight_device` nor `blkio.bfq.weight_device` exists",
      );
    } else {
      const values = perDevice.map((e) => `${e.key} ${e.value}`);
      plan.writes.push(keyed("blkio_weight_device", file, values, "0"));
    }
  }
  for (const [field, name] of THROTTLE) {
    const entries = deviceEntries(plan, field);
    if (entries.length === 0) continue;
    const values = entries.map((e) => `${e.key} ${e.value}`);
    // A rule of 0 removes the device's rule.
    plan.writes.push(keyed(field, `${dir}/blkio.throttle.${name}_device`, values, "0"));
  }
}

function pidsFiles(plan: Plan, dir: string): void {
  const limit = plan.limits.pids_limit ?? 0;
  if (limit !== 0) {
    plan.writes.push(simple("pids_limit", `${dir}/pids.max`, limit < 0 ? "max" : limit));
  }
}

function netPrioV1(plan: Plan, dir: string): void {
  const map = plan.limits.net_prio_ifpriomap ?? [];
  const values = map.map((p) => `${p.interface} ${p.priority}`);
  plan.writes.push(keyed("net_prio_ifpriomap", `${dir}/net_prio.ifpriomap`, values, "0"));
}

// ---------------------------------------------------------------------------
// cgroup v2

/** Converts v1 cpu shares (2-262144) to a v2 cpu weight (1-10000). */
export function cpuWeightFromShares(shares: number): number {
  return 1 + Math.floor(((shares - 2) * 9999) / 262142);
}

/** Converts a v1 blkio weight (10-1000) to a v2 io weight (1-10000). */
export function ioWeightFromBlkio(weight: number): number {
  return 1 + Math.floor(((weight - 10) * 9999) / 990);
}

const v2Value = (n: number) => n === -1 ? "max" : String(n);

function memoryV2(plan: Plan, dir: string): void {
  const memory = num(plan, "memory");
  const swap = num(plan, "memory_swap");
  const reservation = num(plan, "memory_reservation");
  if (memory !== 0) plan.writes.push(simple("memory", `${dir}/memory.max`, v2Value(memory)));
  if (reservation !== 0) {
    plan.writes.push(simple("memory_reservation", `${dir}/memory.low`, v2Value(reservation)));
  }
  // v1's memory_swap bounds memory + swap; v2's memory.swap.max bounds swap alone.
  const swapFile = `${dir}/memory.swap.max`;
  let swapMax: string | undefined;
  if (swap === -1) swapMax = "max";
  else if (swap > 0) {
    if (memory <= 0) {
      issue(
        plan,
        "memory_swap",
        "On cgroup v2 a memory+swap limit needs `cgroups.memory` set to a limit: swap is limited alone there",
      );
    } else if (swap < memory) {
      issue(plan, "memory_swap", `Must be at least \`cgroups.memory\` (${memory}), got ${swap}`);
    } else swapMax = String(swap - memory);
  } else if (swap === 0 && memory !== 0 && plan.read(swapFile) !== null) {
    swapMax = memory === -1 ? "max" : String(memory); // the seed's default: as much swap as memory
  }
  if (swapMax !== undefined) {
    if (plan.read(swapFile) === null) {
      issue(
        plan,
        "memory_swap",
        "Swap accounting is off on this host: `memory.swap.max` does not exist",
      );
    } else plan.writes.push(simple(swap !== 0 ? "memory_swap" : "memory", swapFile, swapMax));
  }
  if (plan.limits.oom_kill_disable === true) {
    issue(
      plan,
      "oom_kill_disable",
      "Not supported on cgroup v2: it has no switch for the OOM killer",
    );
  }
}

function cpuV2(plan: Plan, dir: string): void {
  const shares = num(plan, "cpu_shares");
  if (shares !== 0) {
    if (shares < 2) issue(plan, "cpu_shares", "The minimum allowed cpu-shares is 2");
    else if (shares > 262144) issue(plan, "cpu_shares", "The maximum allowed cpu-shares is 262144");
    else plan.writes.push(simple("cpu_shares", `${dir}/cpu.weight`, cpuWeightFromShares(shares)));
  }
  const quota = num(plan, "cpu_quota");
  const period = num(plan, "cpu_period");
  if (quota !== 0 || period !== 0) {
    // cpu.max is "quota period"; a lone quota keeps the period, a lone period keeps the quota.
    const currentQuota = (plan.read(`${dir}/cpu.max`) ?? "max").trim().split(/\s+/)[0]!;
    const value = period === 0
      ? v2Value(quota)
      : `${quota === 0 ? currentQuota : v2Value(quota)} ${period}`;
    plan.writes.push(simple(quota !== 0 ? "cpu_quota" : "cpu_period", `${dir}/cpu.max`, value));
  }
  for (const field of ["cpu_rt_runtime", "cpu_rt_period"] as const) {
    if (num(plan, field) !== 0) {
      issue(plan, field, "Not supported on cgroup v2: it has no realtime group scheduling");
    }
  }
}

function ioV2(plan: Plan, dir: string): void {
  // BFQ takes the v1 weight as is; io.weight (blk-iocost) has a wider range.
  const bfq = plan.read(`${dir}/io.bfq.weight`) !== null;
  const file = bfq ? `${dir}/io.bfq.weight` : `${dir}/io.weight`;
  const convert = (w: number) => bfq ? w : ioWeightFromBlkio(w);
  const weight = num(plan, "blkio_weight");
  if (weight !== 0) {
    plan.writes.push(keyed("blkio_weight", file, [`default ${convert(weight)}`], "100"));
  }
  const perDevice = deviceEntries(plan, "blkio_weight_device");
  if (perDevice.length > 0) {
    const values = perDevice.map((e) => `${e.key} ${convert(e.value)}`);
    plan.writes.push(keyed("blkio_weight_device", file, values, "default"));
  }
  const all = "rbps=max wbps=max riops=max wiops=max";
  for (const [field, , key] of THROTTLE) {
    const entries = deviceEntries(plan, field);
    if (entries.length === 0) continue;
    // io.max takes some keys of a device's line and keeps the rest; v1's 0 (no rule) is "max".
    const values = entries.map((e) => `${e.key} ${key}=${e.value === 0 ? "max" : e.value}`);
    plan.writes.push(keyed(field, `${dir}/io.max`, values, all));
  }
}

// ---------------------------------------------------------------------------
// Planning

/** Where a controller lives: a v1 directory, the v2 directory, or nowhere. */
type Home = { version: 1 | 2; dir: string } | undefined;

/** The fields each controller carries out, and its v1 and v2 names. */
const CONTROLLERS = [
  {
    v1: "memory",
    v2: "memory",
    fields: ["memory", "memory_reservation", "memory_swap", "oom_kill_disable"],
  },
  {
    v1: "cpu",
    v2: "cpu",
    fields: ["cpu_shares", "cpu_quota", "cpu_period", "cpu_rt_runtime", "cpu_rt_period"],
  },
  { v1: "cpuset", v2: "cpuset", fields: ["cpuset_cpus", "cpuset_mems"] },
  {
    v1: "blkio",
    v2: "io",
    fields: ["blkio_weight", "blkio_weight_device", ...THROTTLE.map(([field]) => field)],
  },
  { v1: "pids", v2: "pids", fields: ["pids_limit"] },
  { v1: "net_prio", v2: "", fields: ["net_prio_ifpriomap"] },
] as const satisfies readonly { v1: string; v2: string; fields: readonly Field[] }[];

function isSet(value: unknown): boolean {
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value === "string") return value.trim() !== "";
  return value !== 0 && value !== false && value !== undefined && value !== null;
}

/**
 * The writes that carry out `limits` on a container's cgroups, in order.
 * Each controller is written where it is: its v1 hierarchy when `paths` has
 * one, else the v2 directory (`paths.unified`) when its
 * `cgroup.controllers` lists it. The freezer field is not among the writes
 * ({@link setLimits} carries it out last).
 *
 * @param paths Subsystem to directory, as in a container state's `cgroup_paths` (`unified` for v2).
 * @param limits The limits; unset fields are left alone.
 * @param read Reads current values, where the order of writes depends on them (a fake tree in tests).
 * @throws {ConfigError} Naming every field this host cannot carry out or whose value is malformed.
 */
export function planLimits(
  paths: Readonly<Record<string, string>>,
  limits: CgroupLimits,
  read: ReadFile = tryReadTextFile,
): LimitWrite[] {
  const plan: Plan = { limits, read, writes: [], issues: [] };
  let v2Controllers: Set<string> | undefined;
  const home = (v1: string, v2: string): Home => {
    if (paths[v1] !== undefined) return { version: 1, dir: paths[v1] };
    const unified = paths["unified"];
    if (unified === undefined || v2 === "") return undefined;
    v2Controllers ??= new Set((read(`${unified}/cgroup.controllers`) ?? "").trim().split(/\s+/));
    return v2Controllers.has(v2) ? { version: 2, dir: unified } : undefined;
  };
  for (const controller of CONTROLLERS) {
    const set = controller.fields.filter((field) => isSet(limits[field]));
    if (set.length === 0) continue;
    const where = home(controller.v1, controller.v2);
    if (where === undefined) {
      const v2 = controller.v2 === ""
        ? "cgroup v2 has no such controller"
        : paths["unified"] === undefined
        ? "there is no cgroup v2 directory"
        : `\`${controller.v2}\` is not in \`${paths["unified"]}/cgroup.controllers\``;
      for (const field of set) {
        issue(plan, field, `No ${controller.v1} cgroup: no v1 hierarchy is mounted and ${v2}`);
      }
      continue;
    }
    const { version, dir } = where;
    switch (controller.v1) {
      case "memory":
        (version === 1 ? memoryV1 : memoryV2)(plan, dir);
        break;
      case "cpu":
        (version === 1 ? cpuV1 : cpuV2)(plan, dir);
        break;
      case "cpuset":
        cpusetFiles(plan, dir);
        break;
      case "blkio":
        (version === 1 ? blkioV1 : ioV2)(plan, dir);
        break;
      case "pids":
        pidsFiles(plan, dir);
        break;
      case "net_prio":
        netPrioV1(plan, dir);
        break;
    }
  }
  if (plan.issues.length > 0) throw new ConfigError(plan.issues);
  return plan.writes;
}

// ---------------------------------------------------------------------------
// Applying

const encoder = new TextEncoder();

/**
 * Writes each value with its own write(2); a refusal is a {@link CgroupLimitError}.
 * `progress.written` counts the values the kernel took.
 */
function writeValues(
  where: { field: string; file: string },
  values: readonly string[],
  progress: { written: number } = { written: 0 },
): void {
  const fd = sys.open(cstr(where.file), O.WRONLY | O.TRUNC | O.CLOEXEC, 0);
  if (fd < 0) {
    const code = errno();
    throw new CgroupLimitError(
      { ...where, value: values[0] ?? "" },
      code,
      `cannot open \`${where.file}\`: ${errnoName(code)}`,
    );
  }
  try {
    for (const value of values) {
      const bytes = encoder.encode(`${value}\n`);
      for (;;) {
        if (sys.write(fd, bytes, bytes.length) >= 0) {
          progress.written++;
          break;
        }
        const code = errno();
        if (code !== Errno.EINTR) throw new CgroupLimitError({ ...where, value }, code);
      }
    }
  } finally {
    closeFd(fd);
  }
}

/** Options of {@link applyLimits}. */
export interface ApplyLimitsOptions {
  /**
   * Read old values and write them back when a write fails (default true).
   * A container being created has no old limits worth keeping: pass false
   * there to save the reads.
   */
  rollback?: boolean;
}

/** Options of {@link setLimits}. */
export interface SetLimitsOptions extends ApplyLimitsOptions, FreezeOptions {}

/** What the writes changed: each write with the file's old content and how many values the kernel took. */
type Applied = { write: LimitWrite; old: string; written: number }[];

/** Writes back the old values of what the kernel took, newest first; failures go to `error`. */
function restore(applied: Applied, error: unknown): void {
  for (const { write, old } of applied.filter((a) => a.written > 0).reverse()) {
    try {
      writeValues(write, write.restore(old));
    } catch (restoreError) {
      if (error instanceof ContainerError) error.cleanupErrors.push(restoreError);
    }
  }
}

/** Plans and writes the limits; on a refusal restores and throws; returns what it changed. */
function writeLimits(
  paths: Readonly<Record<string, string>>,
  limits: CgroupLimits,
  options: ApplyLimitsOptions,
): Applied {
  const rollback = options.rollback ?? true;
  const cache = new Map<string, string | null>();
  const read: ReadFile = (file) => {
    if (!cache.has(file)) cache.set(file, tryReadTextFile(file));
    return cache.get(file)!;
  };
  const writes = planLimits(paths, limits, read);
  const applied: Applied = [];
  try {
    for (const write of writes) {
      const progress = { write, old: rollback ? read(write.file) ?? "" : "", written: 0 };
      if (rollback) applied.push(progress);
      writeValues(write, write.values, progress);
      if (write.verify) {
        const problem = write.verify(readTextFile(write.file));
        if (problem !== undefined) {
          throw new CgroupLimitError({ ...write, value: write.values[0]! }, 0, problem);
        }
      }
    }
  } catch (error) {
    restore(applied, error);
    throw error;
  }
  return applied;
}

/**
 * Writes the limits to a container's cgroups, synchronously, all but the
 * `freezer` field (see {@link setLimits} for that): for the start of a
 * container, between creating its cgroups and letting its first process
 * run. When the kernel refuses a value, every file already written gets its
 * old value back, in reverse order.
 *
 * @param paths Subsystem to directory, as in a container state's `cgroup_paths`.
 * @param limits The limits; unset fields are left alone.
 * @throws {ConfigError} Naming every field the host cannot carry out (nothing is written then).
 * @throws {CgroupLimitError} When the kernel refuses a value, naming the field and the errno,
 * such as ``cgroups.cpuset_cpus: the kernel refused `9-12` for cpuset.cpus: EINVAL``.
 */
export function applyLimits(
  paths: Readonly<Record<string, string>>,
  limits: CgroupLimits,
  options: ApplyLimitsOptions = {},
): void {
  writeLimits(paths, limits, options);
}

/**
 * Sets the limits on a container's cgroups (the seed's `Set`, for a running
 * container), the `freezer` field last. When the kernel refuses a value, or
 * the freezer state is not reached, every file already written gets its old
 * value back, in reverse order, so the limits in force before the call stay
 * in force; a failed restore is attached to the error (`cleanupErrors`).
 *
 * @param paths Subsystem to directory, as in a container state's `cgroup_paths`.
 * @param limits The limits; unset fields are left alone.
 * @throws {ConfigError} Naming every field the host cannot carry out (nothing is written then).
 * @throws {CgroupLimitError} When the kernel refuses a value, naming the field and the errno,
 * such as ``cgroups.cpuset_cpus: the kernel refused `9-12` for cpuset.cpus: EINVAL``.
 * @throws {ContainerError} When the `freezer` state is not reached in time.
 */
export async function setLimits(
  paths: Readonly<Record<string, string>>,
  limits: CgroupLimits,
  options: SetLimitsOptions = {},
): Promise<void> {
  const applied = writeLimits(paths, limits, options);
  const target = limits.freezer ?? "";
  if (target === "" || freezerState(paths) === target) return;
  try {
    await (target === "FROZEN" ? freeze : thaw)(paths, options);
  } catch (error) {
    restore(applied, error);
    throw error;
  }
}
