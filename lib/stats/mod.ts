/**
 * Container statistics: cgroup (v1, v2, hybrid) and network interface
 * counters, read in bulk and parsed by the WASM core.
 *
 * @module
 */
export { type CgroupMode, type CollectOptions, collectStats, StatsCollector } from "./collect.ts";
export type {
  BlkioStatEntry,
  BlkioStats,
  CpuStats,
  CpuUsage,
  HugetlbStats,
  InterfaceStats,
  MemoryData,
  MemoryStats,
  PidsStats,
  Stats,
  ThrottlingData,
} from "./types.ts";
