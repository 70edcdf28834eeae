/**
 * A container's resource usage, with the seed's JSON field names
 * (libcontainer's `cgroups.Stats` plus the interface list). Every value is a
 * number: counters above 2^53 lose their last digits; a limit of `max` (no
 * limit, cgroup v2 and pids) is `Infinity`, which JSON writes as `null`.
 *
 * @module
 */

/** CFS throttling, from cpu.stat. */
export interface ThrottlingData {
  /** Enforcement periods that elapsed. */
  periods: number;
  /** Periods in which the group was throttled. */
  throttled_periods: number;
  /** Total time throttled, in nanoseconds. */
  throttled_time: number;
}

/** CPU time, in nanoseconds. */
export interface CpuUsage {
  /** All CPU time (cpuacct.usage; v2 cpu.stat usage_usec). */
  total_usage: number;
  /** Time per CPU (cpuacct.usage_percpu; empty on v2). */
  percpu_usage: number[];
  /** System time (cpuacct.stat `system` ticks; v2 system_usec). */
  usage_in_kernelmode: number;
  /** User time (cpuacct.stat `user` ticks; v2 user_usec). */
  usage_in_usermode: number;
}

/** CPU statistics. */
export interface CpuStats {
  /** CPU time used. */
  cpu_usage: CpuUsage;
  /** How much CFS throttling happened. */
  throttling_data: ThrottlingData;
}

/** One memory counter set, in bytes. */
export interface MemoryData {
  /** Current usage. */
  usage: number;
  /** Highest usage recorded (v2: memory.peak where the kernel has it, else 0). */
  max_usage: number;
  /** How often the limit was hit (v2: the `max` or `fail` event count). */
  failcnt: number;
  /** The limit. */
  limit: number;
}

/** Memory statistics. */
export interface MemoryStats {
  /** Page cache: `cache` of memory.stat (v2: `file`). */
  cache: number;
  /** Memory (v1 memory.*; v2 memory.current, memory.peak, memory.events, memory.max). */
  usage: MemoryData;
  /** v1: memory plus swap (memory.memsw.*); v2: swap alone (memory.swap.*). */
  swap_usage: MemoryData;
  /** Every key of memory.stat. */
  stats: Record<string, number>;
}

/** One line of a blkio file. */
export interface BlkioStatEntry {
  /** Device major number. */
  major: number;
  /** Device minor number. */
  minor: number;
  /** `Read`, `Write`, `Sync`, `Async`, `Discard`, `Total`, or "" for files without ops. */
  op: string;
  /** The counter. */
  value: number;
}

/** Block I/O statistics, recursive over the cgroup's descendants. */
export interface BlkioStats {
  /** Bytes transferred, by op. */
  io_service_bytes_recursive: BlkioStatEntry[];
  /** I/O operations, by op. */
  io_serviced_recursive: BlkioStatEntry[];
  /** Requests queued, by op (CFQ). */
  io_queue_recursive: BlkioStatEntry[];
  /** Time spent servicing requests, by op (CFQ). */
  io_service_time_recursive: BlkioStatEntry[];
  /** Time spent waiting in queues, by op (CFQ). */
  io_wait_time_recursive: BlkioStatEntry[];
  /** Requests merged, by op (CFQ). */
  io_merged_recursive: BlkioStatEntry[];
  /** Disk time, per device (CFQ). */
  io_time_recursive: BlkioStatEntry[];
  /** Sectors transferred, per device (CFQ). */
  sectors_recursive: BlkioStatEntry[];
}

/** Huge page usage of one page size, in bytes. */
export interface HugetlbStats {
  /** Current usage. */
  usage: number;
  /** Highest usage recorded (0 on v2, which does not keep it). */
  max_usage: number;
  /** How often the limit was hit. */
  failcnt: number;
  /** The limit (`Infinity` for `max`). */
  limit: number;
}

/** Process counts. */
export interface PidsStats {
  /** Processes and threads in the cgroup. */
  current: number;
  /** pids.max; `Infinity` for `max`. */
  limit: number;
}

/**
 * One network interface, as the container sees it: `rx_*` is what the
 * container received. In `Container.stats()` it is read from the host end
 * of a veth pair (so `rx_*` are the host end's `tx_*`); lib/network's
 * `interfaceStats()` reads it inside the container's namespace.
 */
export interface InterfaceStats {
  /** The host end's name in `Container.stats()`; the name inside for `interfaceStats()`. */
  name: string;
  /** Bytes received. */
  rx_bytes: number;
  /** Packets received. */
  rx_packets: number;
  /** Receive errors. */
  rx_errors: number;
  /** Packets dropped on receive. */
  rx_dropped: number;
  /** Bytes sent. */
  tx_bytes: number;
  /** Packets sent. */
  tx_packets: number;
  /** Send errors. */
  tx_errors: number;
  /** Packets dropped on send. */
  tx_dropped: number;
}

/** Everything {@link collectStats} reports about one container. */
export interface Stats {
  /** CPU time and throttling. */
  cpu_stats: CpuStats;
  /** Memory use. */
  memory_stats: MemoryStats;
  /** Block I/O. */
  blkio_stats: BlkioStats;
  /** Per page size, such as `2MB`. */
  hugetlb_stats: Record<string, HugetlbStats>;
  /** Process counts. */
  pids_stats: PidsStats;
  /** Network interfaces (empty when the network setup names none). */
  interfaces: InterfaceStats[];
}

/** A zeroed {@link Stats}. */
export function emptyStats(): Stats {
  const memory = (): MemoryData => ({ usage: 0, max_usage: 0, failcnt: 0, limit: 0 });
  return {
    cpu_stats: {
      cpu_usage: { total_usage: 0, percpu_usage: [], usage_in_kernelmode: 0, usage_in_usermode: 0 },
      throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 },
    },
    memory_stats: { cache: 0, usage: memory(), swap_usage: memory(), stats: {} },
    blkio_stats: {
      io_service_bytes_recursive: [],
      io_serviced_recursive: [],
      io_queue_recursive: [],
      io_service_time_recursive: [],
      io_wait_time_recursive: [],
      io_merged_recursive: [],
      io_time_recursive: [],
      sectors_recursive: [],
    },
    hugetlb_stats: {},
    pids_stats: { current: 0, limit: 0 },
    interfaces: [],
  };
}
