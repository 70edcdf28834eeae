/** The table `nsinit stats` prints on a terminal. */
import { assertEquals, assertMatch } from "../../_assert.ts";
import { statsTable } from "../../../cli/commands/stats.ts";
import { emptyStats } from "../../../lib/stats/types.ts";

Deno.test("statsTable() shows CPU, memory, blkio, pids and interfaces in aligned rows", () => {
  const stats = emptyStats();
  stats.cpu_stats.cpu_usage.total_usage = 1.5e9;
  stats.cpu_stats.cpu_usage.percpu_usage = [1e9, 0.5e9];
  stats.memory_stats.usage = {
    usage: 3 * 1024 * 1024,
    max_usage: 4096,
    failcnt: 2,
    limit: Infinity,
  };
  stats.blkio_stats.io_service_bytes_recursive = [
    { major: 8, minor: 0, op: "Read", value: 2048 },
    { major: 8, minor: 16, op: "Read", value: 2048 },
    { major: 8, minor: 0, op: "Total", value: 4096 },
  ];
  stats.pids_stats = { current: 3, limit: Infinity };
  stats.interfaces = [{
    name: "veth0",
    rx_bytes: 10,
    rx_packets: 1,
    rx_errors: 0,
    rx_dropped: 0,
    tx_bytes: 20,
    tx_packets: 2,
    tx_errors: 0,
    tx_dropped: 0,
  }];
  const rows = statsTable(stats).split("\n");
  assertEquals(rows[0], "cpu      total       1.500 s");
  assertEquals(rows[3], "         cpu0        1.000 s");
  assertMatch(rows.find((r) => r.includes("usage") && r.startsWith("memory"))!, /3\.0 MiB$/);
  assertMatch(rows.find((r) => r.includes(" limit "))!, /max$/);
  assertMatch(rows.find((r) => r.startsWith("blkio"))!, /read\s+4\.0 KiB, 0 ops$/);
  assertMatch(rows.find((r) => r.startsWith("pids"))!, /current\s+3 of max$/);
  assertMatch(rows.at(-1)!, /veth0 tx\s+20 B, 2 packets$/);
});
