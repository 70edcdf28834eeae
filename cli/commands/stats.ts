/**
 * `nsinit stats --id ID [--json]`: a container's resource usage, as JSON
 * when stdout is not a terminal (or with `--json`), else as a table.
 *
 * @module
 */
import type { Stats } from "../../mod.ts";
import { optionHelp, type OptionSpecs } from "../_args.ts";
import { ID_OPTION, loadById } from "./_by_id.ts";
import type { Command } from "./_context.ts";

const OPTIONS: OptionSpecs = {
  ...ID_OPTION,
  json: { type: "boolean", help: "print JSON even on a terminal" },
};

const UNITS = ["B", "KiB", "MiB", "GiB", "TiB"];

function bytes(n: number): string {
  if (!Number.isFinite(n)) return "max";
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${UNITS[unit]}`;
}

function seconds(ns: number): string {
  return `${(ns / 1e9).toFixed(3)} s`;
}

function count(n: number): string {
  return Number.isFinite(n) ? String(n) : "max";
}

/** The human-readable table: one `section  name  value` row per figure. */
export function statsTable(stats: Stats): string {
  const rows: [string, string, string][] = [];
  const { cpu_usage: cpu, throttling_data: throttle } = stats.cpu_stats;
  rows.push(
    ["cpu", "total", seconds(cpu.total_usage)],
    ["", "user", seconds(cpu.usage_in_usermode)],
    ["", "kernel", seconds(cpu.usage_in_kernelmode)],
    ...cpu.percpu_usage.map((ns, i): [string, string, string] => ["", `cpu${i}`, seconds(ns)]),
    [
      "",
      "throttled",
      `${throttle.throttled_periods} of ${throttle.periods} periods, ${
        seconds(throttle.throttled_time)
      }`,
    ],
  );
  const memory = stats.memory_stats;
  rows.push(
    ["memory", "usage", bytes(memory.usage.usage)],
    ["", "max usage", bytes(memory.usage.max_usage)],
    ["", "limit", bytes(memory.usage.limit)],
    ["", "failcnt", String(memory.usage.failcnt)],
    ["", "cache", bytes(memory.cache)],
    ["", "swap usage", bytes(memory.swap_usage.usage)],
    ["", "swap limit", bytes(memory.swap_usage.limit)],
  );
  const io = stats.blkio_stats;
  const total = (entries: typeof io.io_service_bytes_recursive) =>
    entries.filter((e) => e.op === "Read" || e.op === "Write").reduce(
      (sums, e) => ({ ...sums, [e.op]: (sums[e.op] ?? 0) + e.value }),
      {} as Record<string, number>,
    );
  const ioBytes = total(io.io_service_bytes_recursive);
  const ioOps = total(io.io_serviced_recursive);
  rows.push(
    ["blkio", "read", `${bytes(ioBytes["Read"] ?? 0)}, ${ioOps["Read"] ?? 0} ops`],
    ["", "write", `${bytes(ioBytes["Write"] ?? 0)}, ${ioOps["Write"] ?? 0} ops`],
  );
  for (const [size, huge] of Object.entries(stats.hugetlb_stats)) {
    rows.push(["hugetlb", size, `${bytes(huge.usage)} of ${bytes(huge.limit)}`]);
  }
  rows.push(["pids", "current", `${stats.pids_stats.current} of ${count(stats.pids_stats.limit)}`]);
  for (const net of stats.interfaces) {
    rows.push(
      ["network", `${net.name} rx`, `${bytes(net.rx_bytes)}, ${net.rx_packets} packets`],
      ["", `${net.name} tx`, `${bytes(net.tx_bytes)}, ${net.tx_packets} packets`],
    );
  }
  const width = (i: number) => Math.max(...rows.map((row) => row[i]!.length));
  const [a, b] = [width(0), width(1)];
  return rows.map(([s, n, v]) => `${s.padEnd(a)}  ${n.padEnd(b)}  ${v}`).join("\n");
}

export const stats: Command = {
  summary: "print a container's resource usage",
  usage: "nsinit [global options] stats [--id ID] [--json]",
  help: () => optionHelp(OPTIONS),
  async run(context, args) {
    const { container, values } = await loadById(context, args, "stats", OPTIONS);
    const usage = container.stats();
    const json = values.json === true || !Deno.stdout.isTerminal();
    console.log(json ? JSON.stringify(usage, null, 2) : statsTable(usage));
    return 0;
  },
};
