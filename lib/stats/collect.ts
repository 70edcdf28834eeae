/**
 * Collects a container's statistics from its cgroup files (v1, v2 or both,
 * "hybrid") and its network interfaces' sysfs counters. Files are read in
 * bulk through one reused buffer, one open/read/close each, and parsed by
 * the WASM core; a missing file leaves its numbers at 0.
 *
 * Knows nothing of containers: it takes the state's `cgroup_paths` record
 * (subsystem to directory, `unified` for v2) and interface names.
 *
 * @module
 */
import { readDir, readFile } from "../sys/fs.ts";
import { KeySet, LearntKeys, StatFiles } from "./_files.ts";
import { type BlkioStatEntry, type BlkioStats, emptyStats, type Stats } from "./types.ts";

/**
 * Which cgroup versions hold the controllers: only v1, only v2, or v1
 * controllers beside a v2 mount (the same values as `cgroupMode()` of the
 * host's hierarchies gives).
 */
export type CgroupMode = "v1" | "v2" | "hybrid";

/** Options of {@link collectStats}. */
export interface CollectOptions {
  /** Where the controllers are; by default derived from the record (`unified` alone means v2). */
  mode?: CgroupMode;
  /** Host-side names of the container's veth pairs (filled by the network setup). */
  interfaces?: readonly string[];
  /**
   * Keep the files open between {@link StatsCollector.collect} calls (each read is then one
   * pread); the collector must then be closed. Default false: one open/read/close per file.
   */
  keepOpen?: boolean;
  /** Where sysfs is mounted (tests point it at a fake tree). Default `/sys`. */
  sysfs?: string;
}

function modeOf(paths: Readonly<Record<string, string>>): CgroupMode {
  const keys = Object.keys(paths);
  const v1 = keys.some((key) => key !== "unified" && !key.startsWith("name="));
  if (!v1) return "v2";
  return "unified" in paths ? "hybrid" : "v1";
}

const NANOSECONDS_PER_SECOND = 1e9;
const AT_CLKTCK = 17;
let userHz: number | undefined;

/** USER_HZ, the unit of cpuacct.stat: AT_CLKTCK from the auxiliary vector (100 on Linux). */
export function clockTicks(): number {
  if (userHz === undefined) {
    userHz = 100;
    try {
      const auxv = readFile("/proc/self/auxv");
      const view = new DataView(auxv.buffer, auxv.byteOffset, auxv.byteLength);
      for (let at = 0; at + 16 <= auxv.length; at += 16) {
        if (view.getBigUint64(at, true) === BigInt(AT_CLKTCK)) {
          userHz = Number(view.getBigUint64(at + 8, true)) || 100;
          break;
        }
      }
    } catch {
      // keep Linux's fixed USER_HZ
    }
  }
  return userHz;
}

const hugePageSizesBySysfs = new Map<string, string[]>();

/** A huge page size as the hugetlb files name it: `hugepages-2048kB` is `2MB`. */
export function hugePageLabel(directory: string): string | undefined {
  const match = /^hugepages-(\d+)kB$/.exec(directory);
  if (!match) return undefined;
  let size = Number(match[1]) * 1024;
  const units = ["B", "KB", "MB", "GB", "TB", "PB"];
  let unit = 0;
  while (size >= 1024 && unit < units.length - 1) {
    size /= 1024;
    unit++;
  }
  return `${size}${units[unit]}`;
}

/** The huge page sizes of this machine (read once per sysfs root). */
export function hugePageSizes(sysfs = "/sys"): string[] {
  let sizes = hugePageSizesBySysfs.get(sysfs);
  if (sizes === undefined) {
    try {
      sizes = readDir(`${sysfs}/kernel/mm/hugepages`).map((e) => hugePageLabel(e.name))
        .filter((label): label is string => label !== undefined).sort();
    } catch {
      sizes = [];
    }
    hugePageSizesBySysfs.set(sysfs, sizes);
  }
  return sizes;
}

const CPUACCT_STAT = new KeySet(["user", "system"]);
const CPU_STAT_V1 = new KeySet(["nr_periods", "nr_throttled", "throttled_time"]);
const CPU_STAT_V2 = new KeySet([
  "usage_usec",
  "user_usec",
  "system_usec",
  "nr_periods",
  "nr_throttled",
  "throttled_usec",
]);
const EVENTS_MAX = new KeySet(["max"]);
const EVENTS_FAIL = new KeySet(["fail"]);
const MEMORY_STAT_V1 = new LearntKeys();
const MEMORY_STAT_V2 = new LearntKeys();

/** The seed's blkio files when CFQ is in use (blkio.io_serviced_recursive exists), by field. */
const CFQ_FILES: [keyof BlkioStats, string][] = [
  ["sectors_recursive", "blkio.sectors_recursive"],
  ["io_service_bytes_recursive", "blkio.io_service_bytes_recursive"],
  ["io_serviced_recursive", "blkio.io_serviced_recursive"],
  ["io_queue_recursive", "blkio.io_queued_recursive"],
  ["io_service_time_recursive", "blkio.io_service_time_recursive"],
  ["io_wait_time_recursive", "blkio.io_wait_time_recursive"],
  ["io_merged_recursive", "blkio.io_merged_recursive"],
  ["io_time_recursive", "blkio.time_recursive"],
];

const INTERFACE_FILES = [
  // The host end's tx is what the container received.
  ["rx_bytes", "tx_bytes"],
  ["rx_packets", "tx_packets"],
  ["rx_errors", "tx_errors"],
  ["rx_dropped", "tx_dropped"],
  ["tx_bytes", "rx_bytes"],
  ["tx_packets", "rx_packets"],
  ["tx_errors", "rx_errors"],
  ["tx_dropped", "rx_dropped"],
] as const;

/**
 * Reads one container's statistics again and again: keeps the encoded file
 * names between calls and, with `keepOpen`, the descriptors (then close it,
 * or declare it with `using`). A cgroup that was removed reads as missing.
 */
export class StatsCollector {
  /** The cgroup directories read, by subsystem. */
  readonly paths: Readonly<Record<string, string>>;
  /** Where the controllers are. */
  readonly mode: CgroupMode;
  /** Host ends of the container's veth pairs. */
  readonly interfaces: readonly string[];
  /** Where sysfs is mounted. */
  readonly sysfs: string;
  #files: StatFiles;

  /** A collector for the cgroup directories of `paths` (subsystem to directory, `unified` for v2). */
  constructor(paths: Readonly<Record<string, string>>, options: CollectOptions = {}) {
    this.paths = paths;
    this.mode = options.mode ?? modeOf(paths);
    this.interfaces = options.interfaces ?? [];
    this.sysfs = options.sysfs ?? "/sys";
    this.#files = new StatFiles(options.keepOpen ?? false);
  }

  /** Closes the descriptors kept open; idempotent (a later collect opens them again). */
  close(): void {
    this.#files.close();
  }

  /** Same as {@link close}. */
  [Symbol.dispose](): void {
    this.close();
  }

  /** The directory holding `subsystem`'s v1 files, or undefined when they come from v2 or nowhere. */
  #v1(subsystem: string): string | undefined {
    return this.mode === "v2" ? undefined : this.paths[subsystem];
  }

  /** The v2 directory when `subsystem` is read there. */
  #v2(subsystem: string): string | undefined {
    if (this.mode === "v1") return undefined;
    if (this.mode === "hybrid" && this.paths[subsystem] !== undefined) return undefined;
    return this.paths["unified"];
  }

  /**
   * Reads every statistic.
   *
   * @throws {SystemError} when a file exists but cannot be read or parsed.
   */
  collect(): Stats {
    const stats = emptyStats();
    this.#cpu(stats);
    this.#memory(stats);
    this.#blkio(stats);
    this.#hugetlb(stats);
    this.#pids(stats);
    this.#interfaces(stats);
    return stats;
  }

  #cpu(stats: Stats): void {
    const files = this.#files;
    const usage = stats.cpu_stats.cpu_usage;
    const throttling = stats.cpu_stats.throttling_data;
    const cpuacct = this.#v1("cpuacct");
    if (cpuacct !== undefined) {
      usage.total_usage = files.scalar(`${cpuacct}/cpuacct.usage`) ?? 0;
      usage.percpu_usage = files.list(`${cpuacct}/cpuacct.usage_percpu`) ?? [];
      if (files.keyed(`${cpuacct}/cpuacct.stat`, CPUACCT_STAT)) {
        const perTick = NANOSECONDS_PER_SECOND / clockTicks();
        usage.usage_in_usermode = files.value(0) * perTick;
        usage.usage_in_kernelmode = files.value(1) * perTick;
      }
    }
    const cpu = this.#v1("cpu");
    if (cpu !== undefined && files.keyed(`${cpu}/cpu.stat`, CPU_STAT_V1)) {
      throttling.periods = files.value(0);
      throttling.throttled_periods = files.value(1);
      throttling.throttled_time = files.value(2);
    }
    // cgroup v2 keeps usage in every cgroup's cpu.stat, controller or not.
    const unified = cpuacct === undefined ? this.#v2("cpuacct") : undefined;
    const v2 = unified ?? this.#v2("cpu");
    if (v2 !== undefined && files.keyed(`${v2}/cpu.stat`, CPU_STAT_V2)) {
      if (unified !== undefined) {
        usage.total_usage = files.value(0) * 1000;
        usage.usage_in_usermode = files.value(1) * 1000;
        usage.usage_in_kernelmode = files.value(2) * 1000;
      }
      if (cpu === undefined) {
        throttling.periods = files.value(3);
        throttling.throttled_periods = files.value(4);
        throttling.throttled_time = files.value(5) * 1000;
      }
    }
  }

  #memory(stats: Stats): void {
    const files = this.#files;
    const memory = stats.memory_stats;
    const v1 = this.#v1("memory");
    if (v1 !== undefined) {
      const data = (prefix: string) => ({
        usage: files.scalar(`${v1}/${prefix}.usage_in_bytes`) ?? 0,
        max_usage: files.scalar(`${v1}/${prefix}.max_usage_in_bytes`) ?? 0,
        failcnt: files.scalar(`${v1}/${prefix}.failcnt`) ?? 0,
        limit: files.scalar(`${v1}/${prefix}.limit_in_bytes`) ?? 0,
      });
      memory.usage = data("memory");
      memory.swap_usage = data("memory.memsw");
      if (files.keyed(`${v1}/memory.stat`, MEMORY_STAT_V1)) {
        memory.stats = files.map(MEMORY_STAT_V1);
        memory.cache = memory.stats["cache"] ?? 0;
      }
      return;
    }
    const v2 = this.#v2("memory");
    if (v2 === undefined) return;
    const events = (file: string, keys: KeySet) =>
      files.keyed(`${v2}/${file}`, keys) ? files.value(0) : 0;
    memory.usage = {
      usage: files.scalar(`${v2}/memory.current`) ?? 0,
      max_usage: files.scalar(`${v2}/memory.peak`) ?? 0,
      failcnt: events("memory.events", EVENTS_MAX),
      limit: files.scalar(`${v2}/memory.max`) ?? 0,
    };
    memory.swap_usage = {
      usage: files.scalar(`${v2}/memory.swap.current`) ?? 0,
      max_usage: files.scalar(`${v2}/memory.swap.peak`) ?? 0,
      failcnt: events("memory.swap.events", EVENTS_FAIL),
      limit: files.scalar(`${v2}/memory.swap.max`) ?? 0,
    };
    if (files.keyed(`${v2}/memory.stat`, MEMORY_STAT_V2)) {
      memory.stats = files.map(MEMORY_STAT_V2);
      memory.cache = memory.stats["file"] ?? 0;
    }
  }

  #blkio(stats: Stats): void {
    const files = this.#files;
    const blkio = stats.blkio_stats;
    const v1 = this.#v1("blkio");
    if (v1 !== undefined) {
      // The seed's rule: the CFQ files when the scheduler provides them, else the throttle ones.
      const serviced = files.blkio(`${v1}/blkio.io_serviced_recursive`);
      if (serviced !== undefined) {
        for (const [field, file] of CFQ_FILES) {
          blkio[field] = field === "io_serviced_recursive"
            ? serviced
            : files.blkio(`${v1}/${file}`) ?? [];
        }
      } else {
        blkio.io_service_bytes_recursive = files.blkio(`${v1}/blkio.throttle.io_service_bytes`) ??
          [];
        blkio.io_serviced_recursive = files.blkio(`${v1}/blkio.throttle.io_serviced`) ?? [];
      }
      return;
    }
    const v2 = this.#v2("blkio");
    if (v2 !== undefined) {
      const bytes: BlkioStatEntry[] = [];
      const ios: BlkioStatEntry[] = [];
      if (files.ioStat(`${v2}/io.stat`, bytes, ios)) {
        blkio.io_service_bytes_recursive = bytes;
        blkio.io_serviced_recursive = ios;
      }
    }
  }

  #hugetlb(stats: Stats): void {
    const files = this.#files;
    const v1 = this.#v1("hugetlb");
    const v2 = v1 === undefined ? this.#v2("hugetlb") : undefined;
    if (v1 === undefined && v2 === undefined) return;
    for (const size of hugePageSizes(this.sysfs)) {
      if (v1 !== undefined) {
        const usage = files.scalar(`${v1}/hugetlb.${size}.usage_in_bytes`);
        if (usage === undefined) continue;
        stats.hugetlb_stats[size] = {
          usage,
          max_usage: files.scalar(`${v1}/hugetlb.${size}.max_usage_in_bytes`) ?? 0,
          failcnt: files.scalar(`${v1}/hugetlb.${size}.failcnt`) ?? 0,
          limit: files.scalar(`${v1}/hugetlb.${size}.limit_in_bytes`) ?? 0,
        };
      } else {
        const usage = files.scalar(`${v2}/hugetlb.${size}.current`);
        if (usage === undefined) continue;
        stats.hugetlb_stats[size] = {
          usage,
          max_usage: 0,
          failcnt: files.keyed(`${v2}/hugetlb.${size}.events`, EVENTS_MAX) ? files.value(0) : 0,
          limit: files.scalar(`${v2}/hugetlb.${size}.max`) ?? 0,
        };
      }
    }
  }

  #pids(stats: Stats): void {
    const dir = this.#v1("pids") ?? this.#v2("pids");
    if (dir === undefined) return;
    stats.pids_stats.current = this.#files.scalar(`${dir}/pids.current`) ?? 0;
    stats.pids_stats.limit = this.#files.scalar(`${dir}/pids.max`) ?? 0;
  }

  #interfaces(stats: Stats): void {
    for (const name of this.interfaces) {
      const dir = `${this.sysfs}/class/net/${name}/statistics`;
      const entry = {
        name,
        rx_bytes: 0,
        rx_packets: 0,
        rx_errors: 0,
        rx_dropped: 0,
        tx_bytes: 0,
        tx_packets: 0,
        tx_errors: 0,
        tx_dropped: 0,
      };
      let found = false;
      for (const [field, file] of INTERFACE_FILES) {
        const value = this.#files.scalar(`${dir}/${file}`);
        if (value === undefined) continue;
        entry[field] = value;
        found = true;
      }
      // An interface that is gone (its container's network was torn down) is left out.
      if (found) stats.interfaces.push(entry);
    }
  }
}

/**
 * Reads a container's statistics from its cgroup directories and interfaces,
 * one open/read/close per file. To poll, keep a {@link StatsCollector} with
 * `keepOpen` instead: its reads cost a fraction.
 *
 * @param paths The container state's `cgroup_paths`: subsystem to directory, `unified` for v2.
 * @param options The cgroup mode (derived from `paths` when absent) and the host ends of the container's veths.
 * @returns Every statistic; files that do not exist leave their numbers at 0.
 * @throws {SystemError} when a file exists but cannot be read or parsed.
 *
 * Needs `--allow-ffi` (files are read through libc).
 */
export function collectStats(
  paths: Readonly<Record<string, string>>,
  options: Omit<CollectOptions, "keepOpen"> = {},
): Stats {
  return new StatsCollector(paths, { ...options, keepOpen: false }).collect();
}
