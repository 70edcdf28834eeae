import { assert, assertEquals, assertMatch } from "../../_assert.ts";
import { SystemError } from "../../../lib/errors.ts";
import {
  clockTicks,
  collectStats,
  hugePageLabel,
  StatsCollector,
} from "../../../lib/stats/collect.ts";

/** Writes a fake tree: path (relative to the root) to content. */
function tree(files: Record<string, string>): string {
  const root = Deno.makeTempDirSync({ prefix: "nsinit-stats-" });
  for (const [path, content] of Object.entries(files)) {
    const full = `${root}/${path}`;
    Deno.mkdirSync(full.slice(0, full.lastIndexOf("/")), { recursive: true });
    if (!path.endsWith("/")) Deno.writeTextFileSync(full, content);
  }
  return root;
}

function withTree(files: Record<string, string>, test: (root: string) => void): void {
  const root = tree(files);
  try {
    test(root);
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
}

const V1_MEMORY_STAT = "cache 4096\nrss 8192\nswap 0\ntotal_cache 4096\ntotal_rss 8192\n";

const V1_FILES = {
  "cpuacct/c/cpuacct.usage": "3000000000\n",
  "cpuacct/c/cpuacct.usage_percpu": "1000000000 2000000000 \n",
  "cpuacct/c/cpuacct.stat": "user 150\nsystem 50\n",
  "cpu/c/cpu.stat": "nr_periods 10\nnr_throttled 2\nthrottled_time 5000\nnr_bursts 0\n",
  "memory/c/memory.usage_in_bytes": "12288\n",
  "memory/c/memory.max_usage_in_bytes": "65536\n",
  "memory/c/memory.failcnt": "3\n",
  "memory/c/memory.limit_in_bytes": "9223372036854771712\n",
  "memory/c/memory.memsw.usage_in_bytes": "12288\n",
  "memory/c/memory.memsw.max_usage_in_bytes": "65536\n",
  "memory/c/memory.memsw.failcnt": "0\n",
  "memory/c/memory.memsw.limit_in_bytes": "9223372036854771712\n",
  "memory/c/memory.stat": V1_MEMORY_STAT,
  "blkio/c/blkio.throttle.io_service_bytes":
    "8:0 Read 4096\n8:0 Write 8192\n8:0 Sync 0\n8:0 Async 12288\n8:0 Total 12288\nTotal 12288\n",
  "blkio/c/blkio.throttle.io_serviced": "8:0 Read 1\n8:0 Write 2\nTotal 3\n",
  "pids/c/pids.current": "4\n",
  "pids/c/pids.max": "max\n",
  "hugetlb/c/hugetlb.2MB.usage_in_bytes": "2097152\n",
  "hugetlb/c/hugetlb.2MB.max_usage_in_bytes": "4194304\n",
  "hugetlb/c/hugetlb.2MB.failcnt": "1\n",
  "hugetlb/c/hugetlb.2MB.limit_in_bytes": "9223372036854771712\n",
  "hugetlb/c/hugetlb.1GB.usage_in_bytes": "0\n",
  "sys/kernel/mm/hugepages/hugepages-2048kB/": "",
  "sys/kernel/mm/hugepages/hugepages-1048576kB/": "",
};

function v1Paths(root: string): Record<string, string> {
  const paths: Record<string, string> = {};
  for (const subsystem of ["cpu", "cpuacct", "memory", "blkio", "pids", "hugetlb"]) {
    paths[subsystem] = `${root}/${subsystem}/c`;
  }
  paths["devices"] = `${root}/devices/c`;
  return paths;
}

Deno.test("collectStats() reads every v1 file of the seed into its JSON fields", () => {
  withTree(V1_FILES, (root) => {
    const stats = collectStats(v1Paths(root), { sysfs: `${root}/sys` });
    const perTick = 1e9 / clockTicks();
    assertEquals(stats.cpu_stats, {
      cpu_usage: {
        total_usage: 3000000000,
        percpu_usage: [1000000000, 2000000000],
        usage_in_usermode: 150 * perTick,
        usage_in_kernelmode: 50 * perTick,
      },
      throttling_data: { periods: 10, throttled_periods: 2, throttled_time: 5000 },
    });
    assertEquals(stats.memory_stats, {
      cache: 4096,
      usage: { usage: 12288, max_usage: 65536, failcnt: 3, limit: 9223372036854771712 },
      swap_usage: { usage: 12288, max_usage: 65536, failcnt: 0, limit: 9223372036854771712 },
      stats: { cache: 4096, rss: 8192, swap: 0, total_cache: 4096, total_rss: 8192 },
    });
    assertEquals(stats.blkio_stats.io_service_bytes_recursive, [
      { major: 8, minor: 0, op: "Read", value: 4096 },
      { major: 8, minor: 0, op: "Write", value: 8192 },
      { major: 8, minor: 0, op: "Sync", value: 0 },
      { major: 8, minor: 0, op: "Async", value: 12288 },
      { major: 8, minor: 0, op: "Total", value: 12288 },
    ]);
    assertEquals(stats.blkio_stats.io_serviced_recursive, [
      { major: 8, minor: 0, op: "Read", value: 1 },
      { major: 8, minor: 0, op: "Write", value: 2 },
    ]);
    assertEquals(stats.blkio_stats.sectors_recursive, []);
    assertEquals(stats.hugetlb_stats, {
      "1GB": { usage: 0, max_usage: 0, failcnt: 0, limit: 0 },
      "2MB": { usage: 2097152, max_usage: 4194304, failcnt: 1, limit: 9223372036854771712 },
    });
    assertEquals(stats.pids_stats, { current: 4, limit: Infinity });
    assertEquals(stats.interfaces, []);
  });
});

Deno.test("collectStats() reads the CFQ blkio files when blkio.io_serviced_recursive exists", () => {
  const files: Record<string, string> = {};
  for (
    const name of [
      "sectors",
      "io_service_bytes",
      "io_serviced",
      "io_queued",
      "io_service_time",
      "io_wait_time",
      "io_merged",
      "time",
    ]
  ) {
    const op = name === "sectors" || name === "time" ? "" : "Read ";
    files[`blkio/c/blkio.${name}_recursive`] = `8:0 ${op}${name.length}\n`;
  }
  files["blkio/c/blkio.throttle.io_service_bytes"] = "8:0 Read 999\n";
  withTree(files, (root) => {
    const blkio = collectStats({ blkio: `${root}/blkio/c` }).blkio_stats;
    assertEquals(blkio.sectors_recursive, [{ major: 8, minor: 0, op: "", value: 7 }]);
    assertEquals(blkio.io_service_bytes_recursive[0]!.value, "io_service_bytes".length);
    assertEquals(blkio.io_serviced_recursive[0]!.value, "io_serviced".length);
    assertEquals(blkio.io_queue_recursive[0]!.value, "io_queued".length);
    assertEquals(blkio.io_service_time_recursive[0]!.value, "io_service_time".length);
    assertEquals(blkio.io_wait_time_recursive[0]!.value, "io_wait_time".length);
    assertEquals(blkio.io_merged_recursive[0]!.value, "io_merged".length);
    assertEquals(blkio.io_time_recursive, [{ major: 8, minor: 0, op: "", value: 4 }]);
  });
});

const V2_FILES = {
  "c/cpu.stat":
    "usage_usec 3000\nuser_usec 2000\nsystem_usec 1000\nnr_periods 7\nnr_throttled 1\nthrottled_usec 40\n",
  "c/memory.current": "8192\n",
  "c/memory.peak": "16384\n",
  "c/memory.max": "max\n",
  "c/memory.events": "low 0\nhigh 0\nmax 5\noom 1\noom_kill 1\n",
  "c/memory.swap.current": "4096\n",
  "c/memory.swap.max": "1048576\n",
  "c/memory.swap.events": "high 0\nmax 2\nfail 3\n",
  "c/memory.stat": "anon 4096\nfile 2048\nkernel 0\npgfault 17\n",
  "c/io.stat": "8:0 rbytes=100 wbytes=200 rios=1 wios=2 dbytes=0 dios=0\n",
  "c/pids.current": "2\n",
  "c/pids.max": "100\n",
  "c/hugetlb.2MB.current": "0\n",
  "c/hugetlb.2MB.max": "max\n",
  "c/hugetlb.2MB.events": "max 4\n",
  "sys/kernel/mm/hugepages/hugepages-2048kB/": "",
};

Deno.test("collectStats() reads cgroup v2 files, `max` as Infinity", () => {
  withTree(V2_FILES, (root) => {
    const stats = collectStats({ unified: `${root}/c` }, { sysfs: `${root}/sys` });
    assertEquals(stats.cpu_stats, {
      cpu_usage: {
        total_usage: 3000000,
        percpu_usage: [],
        usage_in_usermode: 2000000,
        usage_in_kernelmode: 1000000,
      },
      throttling_data: { periods: 7, throttled_periods: 1, throttled_time: 40000 },
    });
    assertEquals(stats.memory_stats, {
      cache: 2048,
      usage: { usage: 8192, max_usage: 16384, failcnt: 5, limit: Infinity },
      swap_usage: { usage: 4096, max_usage: 0, failcnt: 3, limit: 1048576 },
      stats: { anon: 4096, file: 2048, kernel: 0, pgfault: 17 },
    });
    assertEquals(stats.blkio_stats.io_service_bytes_recursive, [
      { major: 8, minor: 0, op: "Read", value: 100 },
      { major: 8, minor: 0, op: "Write", value: 200 },
      { major: 8, minor: 0, op: "Discard", value: 0 },
    ]);
    assertEquals(stats.blkio_stats.io_serviced_recursive.map((e) => e.value), [1, 2, 0]);
    assertEquals(stats.hugetlb_stats, {
      "2MB": { usage: 0, max_usage: 0, failcnt: 4, limit: Infinity },
    });
    assertEquals(stats.pids_stats, { current: 2, limit: 100 });
  });
});

Deno.test("on hybrid, a controller is read on v1 when the record has its directory, else on v2", () => {
  withTree({ ...V1_FILES, ...V2_FILES }, (root) => {
    const paths = { memory: `${root}/memory/c`, pids: `${root}/pids/c`, unified: `${root}/c` };
    const stats = collectStats(paths);
    assertEquals(stats.cpu_stats.cpu_usage.total_usage, 3000000);
    assertEquals(stats.cpu_stats.throttling_data.throttled_time, 40000);
    assertEquals(stats.memory_stats.usage.usage, 12288, "memory from v1");
    assertEquals(stats.pids_stats, { current: 4, limit: Infinity });
    assertEquals(stats.blkio_stats.io_serviced_recursive.map((e) => e.value), [1, 2, 0], "v2 io");
    // With cpuacct on v1 the v2 cpu.stat is not read at all.
    const withCpuacct = collectStats({ ...paths, cpuacct: `${root}/cpuacct/c` });
    assertEquals(withCpuacct.cpu_stats.cpu_usage.total_usage, 3000000000);
  });
});

Deno.test("missing files and directories leave zeros", () => {
  withTree({ "memory/c/memory.usage_in_bytes": "100\n", "cpu/c/": "" }, (root) => {
    const stats = collectStats({
      ...v1Paths(root),
      cpuacct: `${root}/nowhere`,
      unified: `${root}/gone`,
    });
    assertEquals(stats.memory_stats.usage, { usage: 100, max_usage: 0, failcnt: 0, limit: 0 });
    assertEquals(stats.memory_stats.stats, {});
    assertEquals(stats.cpu_stats.cpu_usage.total_usage, 0);
    assertEquals(stats.cpu_stats.cpu_usage.percpu_usage, []);
    assertEquals(stats.pids_stats, { current: 0, limit: 0 });
    assertEquals(stats.hugetlb_stats, {});
  });
});

Deno.test("negative values become 0, as the seed made them", () => {
  withTree({
    "cpuacct/c/cpuacct.usage": "-5\n",
    "cpuacct/c/cpuacct.usage_percpu": "-1 7\n",
    "memory/c/memory.stat": "cache -4096\nrss 12\n",
    "blkio/c/blkio.throttle.io_serviced": "8:0 Read -2\n",
  }, (root) => {
    const stats = collectStats(v1Paths(root));
    assertEquals(stats.cpu_stats.cpu_usage.total_usage, 0);
    assertEquals(stats.cpu_stats.cpu_usage.percpu_usage, [0, 7]);
    assertEquals(stats.memory_stats.stats, { cache: 0, rss: 12 });
    assertEquals(stats.blkio_stats.io_serviced_recursive[0]!.value, 0);
  });
});

Deno.test("a file in the wrong format is a SystemError naming it", () => {
  withTree({ "memory/c/memory.usage_in_bytes": "lots\n" }, (root) => {
    let error: unknown;
    try {
      collectStats({ memory: `${root}/memory/c` });
    } catch (caught) {
      error = caught;
    }
    assert(error instanceof SystemError);
    assertEquals(error.op, "parse");
    assertMatch(error.message, /^parse `.*memory\.usage_in_bytes`: syntax error at byte 0$/);
  });
});

Deno.test("memory.stat keys not seen before are learnt", () => {
  withTree({
    "a/memory.stat": "cache 1\nrss 2\n",
    "b/memory.stat": "cache 3\nnew_key 4\nrss 5\n",
  }, (root) => {
    assertEquals(collectStats({ memory: `${root}/a` }).memory_stats.stats, { cache: 1, rss: 2 });
    assertEquals(collectStats({ memory: `${root}/b` }).memory_stats.stats, {
      cache: 3,
      new_key: 4,
      rss: 5,
    });
    assertEquals(collectStats({ memory: `${root}/a` }).memory_stats.stats, { cache: 1, rss: 2 });
  });
});

Deno.test("interface counters are read from the host end, rx and tx swapped", () => {
  const files: Record<string, string> = {};
  const names = ["bytes", "packets", "errors", "dropped"];
  names.forEach((name, i) => {
    files[`sys/class/net/veth0/statistics/rx_${name}`] = `${10 + i}\n`;
    files[`sys/class/net/veth0/statistics/tx_${name}`] = `${20 + i}\n`;
  });
  withTree(files, (root) => {
    const stats = collectStats({}, { sysfs: `${root}/sys`, interfaces: ["veth0", "gone0"] });
    assertEquals(stats.interfaces, [{
      name: "veth0",
      rx_bytes: 20,
      rx_packets: 21,
      rx_errors: 22,
      rx_dropped: 23,
      tx_bytes: 10,
      tx_packets: 11,
      tx_errors: 12,
      tx_dropped: 13,
    }]);
  });
});

Deno.test("a collector that keeps its files open reads fresh values on every call", () => {
  withTree(V1_FILES, (root) => {
    using collector = new StatsCollector(v1Paths(root), { keepOpen: true });
    assertEquals(collector.collect().pids_stats.current, 4);
    Deno.writeTextFileSync(`${root}/pids/c/pids.current`, "5\n");
    Deno.writeTextFileSync(`${root}/memory/c/memory.stat`, "cache 1\n");
    const stats = collector.collect();
    assertEquals(stats.pids_stats.current, 5);
    assertEquals(stats.memory_stats.stats, { cache: 1 });
    collector.close();
    collector.close();
    assertEquals(collector.collect().pids_stats.current, 5, "reopens after close");
  });
});

Deno.test("the mode is derived from the record when not given", () => {
  withTree({ ...V1_FILES, ...V2_FILES }, (root) => {
    assertEquals(new StatsCollector({ unified: `${root}/c` }).mode, "v2");
    assertEquals(new StatsCollector({ memory: `${root}/memory/c` }).mode, "v1");
    assertEquals(new StatsCollector({ memory: "/m", unified: "/u" }).mode, "hybrid");
    assertEquals(new StatsCollector({ "name=systemd": "/s", unified: "/u" }).mode, "v2");
    // Given v2, the v1 directories of the record are not read.
    const stats = collectStats({ memory: `${root}/memory/c`, unified: `${root}/c` }, {
      mode: "v2",
    });
    assertEquals(stats.memory_stats.usage.usage, 8192);
  });
});

Deno.test("huge page sizes are labelled as the hugetlb files name them", () => {
  assertEquals(hugePageLabel("hugepages-2048kB"), "2MB");
  assertEquals(hugePageLabel("hugepages-1048576kB"), "1GB");
  assertEquals(hugePageLabel("hugepages-64kB"), "64KB");
  assertEquals(hugePageLabel("other"), undefined);
});

Deno.test("USER_HZ comes from the auxiliary vector and is 100 on Linux", () => {
  assertEquals(clockTicks(), 100);
});
