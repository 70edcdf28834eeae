/**
 * Stats benchmark.
 *
 *   (c) `Container.stats()` of one running container (as root): what a
 *       user calls, state file read included, and the collector of
 *       `Container.statsCollector()` that keeps the files open; median of
 *       1000 calls each. Target: 150 µs per container.
 *   (a) collecting one container's statistics with every subsystem: a
 *       cgroup on each stats hierarchy of this machine with a sleeping
 *       process in it; median of 1000 calls of `collectStats()` (one
 *       open/read/close per file) and of a `StatsCollector` that keeps its
 *       files open (one pread per file). Target: 150 µs per call.
 *   (b) parse throughput on the same bytes: the WASM core against the
 *       TypeScript reference parser of the tests (decode, split, regular
 *       expressions) and against a hand-written TypeScript byte loop, for
 *       memory.stat-like and blkio-like input. Target: WASM 2x the TS parser.
 *
 * Usage: deno run --allow-all bench/stats_bench.ts   (as root for (a) on a
 * test cgroup; otherwise (a) reads the root cgroups, with fewer files)
 *
 * @module
 */
import { builtinRootfs, createFactory, defaultConfig } from "../mod.ts";
import { collectStats, StatsCollector } from "../lib/stats/collect.ts";
import { INPUT, INPUT_SIZE, putInput, RECORDS, VALUES, wasmCore } from "../wasm/mod.ts";
import { refBlkio, refKeyed } from "../tests/unit/wasm/_reference.ts";

const CALLS = 1000;
const NAME = `nsinit-bench-stats-${Deno.pid}`;
const STATS_SUBSYSTEMS = ["cpu", "cpuacct", "memory", "blkio", "pids", "hugetlb"];

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function mounts(): Record<string, string> {
  const found: Record<string, string> = {};
  for (const line of Deno.readTextFileSync("/proc/self/mountinfo").split("\n")) {
    const fields = line.split(" ");
    const dash = fields.indexOf("-");
    if (dash < 0) continue;
    if (fields[dash + 1] === "cgroup2") found["unified"] = fields[4]!;
    if (fields[dash + 1] !== "cgroup") continue;
    for (const option of fields[dash + 3]!.split(",")) {
      if (STATS_SUBSYSTEMS.includes(option)) found[option] = fields[4]!;
    }
  }
  return found;
}

function timeCalls(call: () => unknown): number {
  for (let i = 0; i < 100; i++) call();
  const times: number[] = [];
  for (let i = 0; i < CALLS; i++) {
    const start = performance.now();
    call();
    times.push(performance.now() - start);
  }
  return median(times) * 1000;
}

async function benchCollect(): Promise<void> {
  const hierarchies = mounts();
  const paths: Record<string, string> = {};
  const root = Deno.uid() === 0;
  const dirs: string[] = [];
  let child: Deno.ChildProcess | undefined;
  try {
    if (root) {
      for (const [subsystem, mount] of Object.entries(hierarchies)) {
        paths[subsystem] = `${mount}/${NAME}`;
      }
      for (const dir of new Set(Object.values(paths))) {
        Deno.mkdirSync(dir);
        dirs.push(dir);
      }
      const enter = dirs.map((dir) => `echo $$ > ${dir}/cgroup.procs`).join(" && ");
      child = new Deno.Command("/bin/sh", {
        args: ["-c", `${enter} && echo ready && exec sleep 600`],
        stdout: "piped",
        stdin: "null",
      }).spawn();
      const reader = child.stdout.getReader();
      await reader.read();
      reader.releaseLock();
    } else {
      Object.assign(paths, hierarchies);
      console.log("(a) not root: reading the root cgroups (they lack some files)");
    }
    const files = (stats: ReturnType<typeof collectStats>) =>
      Object.keys(stats.memory_stats.stats).length;
    const sample = collectStats(paths);
    const oneShot = timeCalls(() => collectStats(paths));
    using collector = new StatsCollector(paths, { keepOpen: true });
    const kept = timeCalls(() => collector.collect());
    console.log(
      `(a) stats of one cgroup set (${Object.keys(paths).join(", ")}; memory.stat ${
        files(sample)
      } keys), median of ${CALLS}:`,
    );
    console.log(`    collectStats(), open/read/close per file:   ${oneShot.toFixed(1)} µs`);
    console.log(`    StatsCollector keepOpen, one pread per file: ${kept.toFixed(1)} µs`);
    console.log(
      `    target 150 µs: ${oneShot <= 150 ? "met" : "missed"} by collectStats(), ${
        kept <= 150 ? "met" : "missed"
      } by the kept collector`,
    );
  } finally {
    if (child) {
      child.kill("SIGKILL");
      await child.status;
    }
    await removeDirs(dirs);
  }
}

async function removeDirs(dirs: string[]): Promise<void> {
  for (const dir of dirs.reverse()) {
    for (let attempt = 0;; attempt++) {
      try {
        Deno.removeSync(dir);
        break;
      } catch (error) {
        if (attempt > 20) throw error;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    }
  }
}

// ---- (b) parse throughput ---------------------------------------------------------

const MEMORY_STAT_KEYS = [
  "cache",
  "rss",
  "rss_huge",
  "shmem",
  "mapped_file",
  "dirty",
  "writeback",
  "workingset_refault_anon",
  "workingset_refault_file",
  "swap",
  "swapcached",
  "pgpgin",
  "pgpgout",
  "pgfault",
  "pgmajfault",
  "inactive_anon",
  "active_anon",
  "inactive_file",
  "active_file",
  "unevictable",
  "hierarchical_memory_limit",
  "hierarchical_memsw_limit",
];

function memoryStatLike(lines: number): Uint8Array {
  const keys = [...MEMORY_STAT_KEYS, ...MEMORY_STAT_KEYS.map((k) => `total_${k}`)];
  const out: string[] = [];
  for (let i = 0; i < lines; i++) {
    out.push(`${keys[i % keys.length]} ${(i * 7919 * 104729) % 9_000_000_000_000}`);
  }
  return new TextEncoder().encode(out.join("\n") + "\n");
}

function blkioLike(devices: number): Uint8Array {
  const out: string[] = [];
  for (let d = 0; d < devices; d++) {
    for (const op of ["Read", "Write", "Sync", "Async", "Discard", "Total"]) {
      out.push(`${8 + (d >> 4)}:${(d & 15) * 16} ${op} ${(d + 1) * 123456789 + op.length}`);
    }
  }
  out.push("Total 123456");
  return new TextEncoder().encode(out.join("\n") + "\n");
}

/** A hand-written TypeScript parser of `key value` lines over bytes: no decoding, a hash per key. */
function tsBytesKeyed(keys: readonly string[]): (bytes: Uint8Array, out: Float64Array) => void {
  const encoded = keys.map((k) => new TextEncoder().encode(k));
  const byHash = new Map<number, number>();
  encoded.forEach((key, i) => {
    let h = 0x811c9dc5;
    for (const c of key) h = Math.imul(h ^ c, 0x01000193) >>> 0;
    byHash.set(h, i);
  });
  return (bytes, out) => {
    out.fill(0);
    let p = 0;
    const end = bytes.length;
    while (p < end) {
      while (p < end && (bytes[p] === 32 || bytes[p] === 9 || bytes[p] === 10)) p++;
      const start = p;
      let h = 0x811c9dc5;
      while (p < end && bytes[p] !== 32 && bytes[p] !== 9 && bytes[p] !== 10) {
        h = Math.imul(h ^ bytes[p]!, 0x01000193) >>> 0;
        p++;
      }
      const index = byHash.get(h);
      const key = index === undefined ? undefined : encoded[index]!;
      let match = key !== undefined && key.length === p - start;
      for (let i = 0; match && i < key!.length; i++) match = key![i] === bytes[start + i];
      while (p < end && (bytes[p] === 32 || bytes[p] === 9)) p++;
      let value = 0;
      let negative = false;
      if (bytes[p] === 45) {
        negative = true;
        p++;
      }
      while (p < end && bytes[p]! >= 48 && bytes[p]! <= 57) value = value * 10 + bytes[p++]! - 48;
      if (p < end && bytes[p] !== 10 && bytes[p] !== 32 && bytes[p] !== 9) {
        throw new Error("syntax");
      }
      if (match) out[index!] = negative ? 0 : value;
      while (p < end && bytes[p] !== 10) p++;
    }
  };
}

/** A hand-written TypeScript blkio parser over bytes. */
function tsBytesBlkio(bytes: Uint8Array, out: Float64Array): number {
  let p = 0;
  let count = 0;
  const end = bytes.length;
  const number = () => {
    let v = 0;
    const start = p;
    while (p < end && bytes[p]! >= 48 && bytes[p]! <= 57) v = v * 10 + bytes[p++]! - 48;
    if (p === start) throw new Error("syntax");
    return v;
  };
  while (p < end) {
    if (bytes[p] === 10) {
      p++;
      continue;
    }
    if (bytes[p] === 84) { // Total line
      while (p < end && bytes[p] !== 10) p++;
      continue;
    }
    const major = number();
    p++; // ':'
    const minor = number();
    while (bytes[p] === 32) p++;
    let op = 0;
    if (bytes[p]! >= 65) {
      const start = p;
      while (bytes[p] !== 32) p++;
      op = bytes[start]! ^ (p - start);
      while (bytes[p] === 32) p++;
    }
    const value = number();
    out[count * 4] = major;
    out[count * 4 + 1] = minor;
    out[count * 4 + 2] = op;
    out[count * 4 + 3] = value;
    count++;
    while (p < end && bytes[p] !== 10) p++;
  }
  return count;
}

function throughput(bytes: Uint8Array, run: () => void): number {
  const target = 4 * 1024 * 1024; // bytes per batch
  const reps = Math.max(1, Math.floor(target / bytes.length));
  for (let i = 0; i < reps; i++) run();
  const rates: number[] = [];
  for (let batch = 0; batch < 15; batch++) {
    const start = performance.now();
    for (let i = 0; i < reps; i++) run();
    rates.push((bytes.length * reps) / ((performance.now() - start) / 1000) / 1e6);
  }
  return median(rates);
}

function benchParse(): void {
  const core = wasmCore();
  const decoder = new TextDecoder();
  const keys = [...MEMORY_STAT_KEYS, ...MEMORY_STAT_KEYS.map((k) => `total_${k}`)];
  const keyBytes = new TextEncoder().encode(keys.join("\n"));
  const at = INPUT + INPUT_SIZE - keyBytes.length;
  core.bytes.set(keyBytes, at);
  const set = core.defineKeys(at, keyBytes.length);
  const tsKeyed = tsBytesKeyed(keys);
  const values = new Float64Array(keys.length);
  const records = new Float64Array(4 * 20000);
  let sink = 0;

  const inputs: [string, Uint8Array, () => void, () => void, () => void][] = [];
  for (
    const [label, bytes] of [
      ["memory.stat-like, 1.3 KB (44 lines)", memoryStatLike(44)],
      ["memory.stat-like, 64 KB", memoryStatLike(2200)],
    ] as const
  ) {
    inputs.push([
      label,
      bytes,
      () => {
        const n = putInput(bytes);
        sink += core.parseKeyed(set, INPUT, n) + core.f64[VALUES >> 3]!;
      },
      () => {
        const r = refKeyed(keys, decoder.decode(bytes));
        if (r.ok) sink += r.value.values[0] ?? 0;
      },
      () => {
        tsKeyed(bytes, values);
        sink += values[0]!;
      },
    ]);
  }
  for (
    const [label, bytes] of [
      ["blkio-like, 1 device (7 lines)", blkioLike(1)],
      ["blkio-like, 64 KB", blkioLike(400)],
    ] as const
  ) {
    inputs.push([
      label,
      bytes,
      () => {
        const n = putInput(bytes);
        sink += core.parseBlkio(INPUT, n) + core.f64[(RECORDS + 16) >> 3]!;
      },
      () => {
        const r = refBlkio(decoder.decode(bytes));
        if (r.ok) sink += r.value.length;
      },
      () => {
        sink += tsBytesBlkio(bytes, records);
      },
    ]);
  }
  console.log(
    "(b) parse throughput, MB/s (median of 15 batches of ~4 MB; WASM includes the copy into its memory):",
  );
  console.log(
    "    input                                WASM     TS reference   ratio   TS byte loop   ratio",
  );
  for (const [label, bytes, wasm, reference, loop] of inputs) {
    const w = throughput(bytes, wasm);
    const r = throughput(bytes, reference);
    const l = throughput(bytes, loop);
    console.log(
      `    ${label.padEnd(36)} ${w.toFixed(0).padStart(6)}   ${r.toFixed(0).padStart(12)}   ${
        (w / r).toFixed(1).padStart(4)
      }x  ${l.toFixed(0).padStart(12)}   ${(w / l).toFixed(1).padStart(4)}x`,
    );
  }
  if (sink === 0.5) console.log(sink);
}

/** (c) `stats()` of a real container running `sleep`, with its own cgroup on every hierarchy. */
async function benchContainer(): Promise<void> {
  if (Deno.uid() !== 0) {
    console.log("(c) skipped: creating a container needs root");
    return;
  }
  const root = Deno.makeTempDirSync({ dir: "/dev/shm", prefix: "nsinit-bench-stats-" });
  const rootfs = `${root}/rootfs`;
  Deno.mkdirSync(rootfs);
  await new Deno.Command("cp", { args: ["-a", `${builtinRootfs(root)}/.`, rootfs] }).output();
  Deno.copyFileSync("/bin/busybox", `${rootfs}/bin/busybox`);
  Deno.symlinkSync("busybox", `${rootfs}/bin/sleep`);
  const factory = await createFactory({ root: `${root}/state` });
  const base = defaultConfig({ rootfs });
  const container = await factory.create("stats", {
    ...base,
    cgroups: {
      ...base.cgroups,
      name: NAME,
      parent: "/",
      memory: 256 * 1024 * 1024,
      pids_limit: 100,
    },
  });
  try {
    const process = await container.start({
      args: ["/bin/sleep", "600"],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    });
    try {
      const stats = container.stats();
      const perCall = timeCalls(() => container.stats());
      using collector = container.statsCollector();
      const polled = timeCalls(() => collector.collect());
      console.log(
        `(c) Container.stats() of one running container (${
          Object.keys(container.state().cgroup_paths).length
        } cgroup paths; memory.stat ${
          Object.keys(stats.memory_stats.stats).length
        } keys), median of ${CALLS}:`,
      );
      console.log(
        `    stats(), state file read, open/read/close per file: ${perCall.toFixed(1)} µs`,
      );
      console.log(`    statsCollector().collect(), files kept open:       ${polled.toFixed(1)} µs`);
      console.log(
        `    target 150 µs: ${perCall <= 150 ? "met" : "NOT met"} by stats(), ${
          polled <= 150 ? "met" : "NOT met"
        } by statsCollector()`,
      );
    } finally {
      process.signal("SIGKILL");
      await process.wait();
    }
  } finally {
    await container.destroy();
    Deno.removeSync(root, { recursive: true });
  }
}

await benchContainer();
await benchCollect();
benchParse();
