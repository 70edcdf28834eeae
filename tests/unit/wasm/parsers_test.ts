import { assert, assertEquals } from "../../_assert.ts";
import { readDir, readFile } from "../../../lib/sys/fs.ts";
import { E_RANGE, E_SYNTAX, INPUT, INPUT_SIZE, wasmCore } from "../../../wasm/mod.ts";
import {
  MAX,
  refBlkio,
  refIoStat,
  refKeyed,
  refList,
  refScalar,
  type Result,
} from "./_reference.ts";
import { wasmBlkio, wasmIoStat, wasmKeyed, wasmList, wasmScalar } from "./_wasm.ts";

const decoder = new TextDecoder();

let accepted = 0;
let refused = 0;

function same<T>(wasm: Result<T>, reference: Result<T>, what: string): void {
  assertEquals(wasm, reference, what);
  if (wasm.ok) accepted++;
  else refused++;
}

/** Fuzzed input must exercise both outcomes. */
function assertMixed(): void {
  const total = accepted + refused;
  assert(
    accepted > total * 0.3 && refused > total * 0.05,
    `${accepted} accepted, ${refused} refused`,
  );
  accepted = refused = 0;
}

// ---- the grammar, by example ------------------------------------------------

Deno.test("parseScalar reads one number with any white space around it", () => {
  assertEquals(wasmScalar("152154112\n"), { ok: true, value: 152154112 });
  assertEquals(wasmScalar(" \t42 \n\n"), { ok: true, value: 42 });
  assertEquals(wasmScalar("9223372036854771712\n"), { ok: true, value: 9223372036854771712 });
});

Deno.test("parseScalar maps `max` to the sentinel and negative values to 0", () => {
  assertEquals(wasmScalar("max\n"), { ok: true, value: MAX });
  assertEquals(wasmScalar("-1\n"), { ok: true, value: 0 });
});

Deno.test("parseScalar saturates at 2^64 - 1", () => {
  assertEquals(wasmScalar("18446744073709551615"), { ok: true, value: 2 ** 64 });
  assertEquals(wasmScalar("99999999999999999999999"), { ok: true, value: 2 ** 64 });
});

Deno.test("parseScalar refuses what is not one number", () => {
  for (const bad of ["", "\n", "1 2", "12a", "maximum", "-", "+1", "0x10", "1.5", "ma"]) {
    assertEquals(wasmScalar(bad), { ok: false, code: E_SYNTAX }, JSON.stringify(bad));
  }
});

Deno.test("parseList reads cpuacct.usage_percpu with its trailing space", () => {
  assertEquals(wasmList("780928820192 971898814295 \n"), {
    ok: true,
    value: [780928820192, 971898814295],
  });
  assertEquals(wasmList(""), { ok: true, value: [] });
  assertEquals(wasmList("1 x 2").ok, false);
});

Deno.test("parseKeyed returns the asked keys in order, whatever order the file has", () => {
  const keys = ["system", "user", "missing"];
  assertEquals(wasmKeyed(keys, "user 101321\nsystem 73960\nextra 1\n"), {
    ok: true,
    value: { values: [73960, 101321, undefined], unknown: 1 },
  });
});

Deno.test("parseKeyed tolerates blank lines, tabs and a missing final line feed", () => {
  const keys = ["a", "b"];
  assertEquals(wasmKeyed(keys, "\n  a\t7  \n\nb -3"), {
    ok: true,
    value: { values: [7, 0], unknown: 0 },
  });
});

Deno.test("parseKeyed refuses a known key without a number", () => {
  for (const bad of ["a\n", "a x\n", "a 1 2\n", "a\t\n", "a 1x"]) {
    assertEquals(wasmKeyed(["a"], bad), { ok: false, code: E_SYNTAX }, JSON.stringify(bad));
  }
  // An unknown key's line is skipped unread.
  assertEquals(wasmKeyed(["a"], "b nonsense here\na 1"), {
    ok: true,
    value: { values: [1], unknown: 1 },
  });
});

Deno.test("defineKeys refuses empty, blank-holding and duplicate keys", () => {
  const core = wasmCore();
  for (const bad of ["a\n\nb", "a b", "a\na", ""]) {
    const bytes = new TextEncoder().encode(bad);
    core.bytes.set(bytes, INPUT);
    if (bad === "") continue; // an empty set is allowed
    assert(core.defineKeys(INPUT, bytes.length) < 0, JSON.stringify(bad));
  }
});

Deno.test("parseBlkio reads device lines with and without ops and skips the total line", () => {
  const text = "8:0 Read 4096\n8:0 Write 0\n8:0 Discard 0\n8:0 Total 4096\n8:16 12\n" +
    "253:1 Weird 3\nTotal 4096\n";
  assertEquals(wasmBlkio(text), {
    ok: true,
    value: [
      { major: 8, minor: 0, op: "Read", value: 4096 },
      { major: 8, minor: 0, op: "Write", value: 0 },
      { major: 8, minor: 0, op: "Discard", value: 0 },
      { major: 8, minor: 0, op: "Total", value: 4096 },
      { major: 8, minor: 16, op: "", value: 12 },
      { major: 253, minor: 1, op: "Weird", value: 3 },
    ],
  });
  for (const bad of ["8:0\n", "8 0 Read 1\n", "Totals 1\n", "8:0 Read\n", "4294967296:0 1\n"]) {
    assertEquals(wasmBlkio(bad), { ok: false, code: E_SYNTAX }, JSON.stringify(bad));
  }
});

Deno.test("parseIoStat reads the six counters and skips other keys", () => {
  const text = "8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=5 dios=6 cost.usage=9\n253:1 wios=7\n";
  assertEquals(wasmIoStat(text), {
    ok: true,
    value: [
      { major: 8, minor: 0, values: [1, 2, 3, 4, 5, 6] },
      { major: 253, minor: 1, values: [0, 0, 0, 7, 0, 0] },
    ],
  });
  for (const bad of ["8:0 rbytes\n", "8:0 =1\n", "8:0 rbytes=x\n", "8 rbytes=1\n"]) {
    assertEquals(wasmIoStat(bad), { ok: false, code: E_SYNTAX }, JSON.stringify(bad));
  }
});

Deno.test("the parsers refuse input outside the input region", () => {
  const core = wasmCore();
  assertEquals(core.parseScalar(0, 4), E_RANGE);
  assertEquals(core.parseList(INPUT, INPUT_SIZE + 1), E_RANGE);
  assertEquals(core.parseBlkio(INPUT + INPUT_SIZE, 1), E_RANGE);
  assertEquals(core.parseIoStat(INPUT - 1, 1), E_RANGE);
});

// ---- real files of this machine ------------------------------------------------

// Through libc: Deno asks for --allow-all to read parts of /sys.
function tryRead(path: string): string | null {
  try {
    return decoder.decode(readFile(path));
  } catch {
    return null;
  }
}

/** The cgroup directories to look in: every hierarchy's root, and this process's own. */
function cgroupDirs(): string[] {
  const dirs = new Set<string>();
  const mounts = tryRead("/proc/self/mountinfo") ?? "";
  const own = tryRead("/proc/self/cgroup") ?? "";
  for (const line of mounts.split("\n")) {
    const fields = line.split(" ");
    const dash = fields.indexOf("-");
    if (dash < 0 || !/^cgroup2?$/.test(fields[dash + 1] ?? "")) continue;
    const mountpoint = fields[4]!;
    dirs.add(mountpoint);
    for (const entry of own.split("\n")) {
      const path = entry.split(":").slice(2).join(":");
      if (path && path !== "/") dirs.add(`${mountpoint}${path}`);
    }
  }
  return [...dirs].filter((dir) => tryRead(`${dir}/cgroup.procs`) !== null);
}

const SCALAR_FILES =
  /^(cpuacct\.usage|cpuacct\.usage_(user|sys)|memory\.(.*_in_bytes|failcnt|current|max|peak|swappiness)|pids\.(current|max)|cpu\.(shares|cfs_.*_us|rt_.*_us|weight)|cgroup\.max\.(depth|descendants)|hugetlb\..*\.(usage_in_bytes|max_usage_in_bytes|limit_in_bytes|failcnt|current|max))$/;
const LIST_FILES = /^cpuacct\.usage_percpu(_user|_sys)?$/;
const KEYED_FILES =
  /^(memory\.stat|cpu\.stat|cpuacct\.stat|memory\.events|memory\.oom_control|cgroup\.stat|hugetlb\..*\.events)$/;
const BLKIO_FILES =
  /^blkio\..*(io_service_bytes|io_serviced|sectors|time|io_queued|io_merged|io_wait_time|io_service_time)(_recursive)?$/;

function realFiles(): { path: string; text: string }[] {
  const files: { path: string; text: string }[] = [];
  for (const dir of cgroupDirs()) {
    for (const entry of readDir(dir)) {
      if (entry.type !== 8) continue;
      const text = tryRead(`${dir}/${entry.name}`);
      if (text !== null) files.push({ path: `${dir}/${entry.name}`, text });
    }
  }
  for (const net of readDir("/sys/class/net")) {
    for (const stat of readDir(`/sys/class/net/${net.name}/statistics`)) {
      const path = `/sys/class/net/${net.name}/statistics/${stat.name}`;
      const text = tryRead(path);
      if (text !== null) files.push({ path, text });
    }
  }
  const vmstat = tryRead("/proc/vmstat");
  if (vmstat !== null) files.push({ path: "/proc/vmstat", text: vmstat });
  return files;
}

function keysOf(text: string): string[] {
  return [...new Set(text.split("\n").map((l) => l.trim().split(/[ \t]/)[0]!).filter((k) => k))];
}

Deno.test("the WASM parsers equal the reference parsers on this machine's cgroup and sysfs files", () => {
  let compared = 0;
  const kinds = new Set<string>();
  for (const { path, text } of realFiles()) {
    const name = path.slice(path.lastIndexOf("/") + 1);
    if (path.startsWith("/sys/class/net/") || SCALAR_FILES.test(name)) {
      same(wasmScalar(text), refScalar(text), path);
      assert(refScalar(text).ok, `${path} is one number`);
      kinds.add("scalar");
    } else if (LIST_FILES.test(name)) {
      same(wasmList(text), refList(text), path);
      kinds.add("list");
    } else if (KEYED_FILES.test(name) || path === "/proc/vmstat") {
      // Every key of the file, reversed (the first guess fails), plus one the file lacks.
      const keys = [...keysOf(text).reverse(), "no_such_key"];
      same(wasmKeyed(keys, text), refKeyed(keys, text), path);
      const half = keysOf(text).filter((_, i) => i % 2 === 0);
      same(wasmKeyed(half, text), refKeyed(half, text), `${path} (half the keys)`);
      kinds.add("keyed");
    } else if (BLKIO_FILES.test(name)) {
      same(wasmBlkio(text), refBlkio(text), path);
      assert(refBlkio(text).ok, `${path} parses`);
      kinds.add("blkio");
    } else if (name === "io.stat") {
      same(wasmIoStat(text), refIoStat(text), path);
      kinds.add("io.stat");
    } else {
      continue;
    }
    compared++;
  }
  assert(compared > 20, `compared ${compared} files`);
  for (const kind of ["scalar", "list", "keyed", "blkio"]) assert(kinds.has(kind), kind);
});

// ---- fuzzing ----------------------------------------------------------------------

/** A small deterministic PRNG (mulberry32), so a failure can be replayed. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function fuzzer(seed: number) {
  const next = random(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
  const chance = (p: number) => next() < p;
  const digits = (n: number) => Array.from({ length: n }, () => pick([..."0123456789"])).join("");
  const number = () =>
    chance(0.04) ? pick(["", "-", "ma", "maxx", "1.5", "0x1", "+3", "1e3", "12a"]) : pick([
      () => digits(1 + Math.floor(next() * 20)),
      () => digits(1 + Math.floor(next() * 30)),
      () => "-" + digits(1 + Math.floor(next() * 5)),
      () => "max",
      () => "0",
    ])();
  const blanks = (min: number) =>
    Array.from({ length: min + Math.floor(next() * 3) }, () => pick([" ", "\t"])).join("");
  /** Inserts, deletes or replaces a few bytes. */
  const mutate = (text: string) => {
    let out = text;
    const edits = chance(0.6) ? 0 : 1 + Math.floor(next() * 3);
    for (let i = 0; i < edits; i++) {
      const at = Math.floor(next() * (out.length + 1));
      const piece = pick([" ", "\t", "\n", ":", "=", "-", "x", "Total", "max", "9", "\r", "\0"]);
      out = pick([
        () => out.slice(0, at) + piece + out.slice(at),
        () => out.slice(0, at) + out.slice(at + 1),
        () => out.slice(0, at) + piece + out.slice(at + 1),
      ])();
    }
    return out;
  };
  return { next, pick, chance, digits, number, blanks, mutate };
}

const FUZZ_RUNS = 3000;

Deno.test("the WASM parsers equal the reference parsers on fuzzed scalars and lists", () => {
  accepted = refused = 0;
  const f = fuzzer(1);
  for (let i = 0; i < FUZZ_RUNS; i++) {
    const scalar = f.mutate(f.blanks(0) + f.number() + (f.chance(0.7) ? "\n" : f.blanks(0)));
    same(wasmScalar(scalar), refScalar(scalar), JSON.stringify(scalar));
    const list = f.mutate(
      Array.from({ length: Math.floor(f.next() * 8) }, () => f.number() + f.blanks(1)).join("") +
        (f.chance(0.5) ? "\n" : ""),
    );
    same(wasmList(list), refList(list), JSON.stringify(list));
  }
  assertMixed();
});

Deno.test("the WASM parsers equal the reference parsers on fuzzed keyed files", () => {
  const f = fuzzer(2);
  const pool = ["cache", "rss", "total_rss", "user", "system", "nr_periods", "a", "b", "max"];
  for (let i = 0; i < FUZZ_RUNS; i++) {
    const keys = pool.filter(() => f.chance(0.5));
    const lines = Array.from({ length: Math.floor(f.next() * 10) }, () => {
      const key = f.chance(0.8) ? f.pick(pool) : f.pick(["x_y", "cache2", "ca", "RSS"]);
      return f.blanks(0) + key + f.blanks(1) + f.number() + (f.chance(0.2) ? f.blanks(1) : "");
    });
    const text = f.mutate(lines.join("\n") + (f.chance(0.8) ? "\n" : ""));
    same(wasmKeyed(keys, text), refKeyed(keys, text), `${keys} ${JSON.stringify(text)}`);
  }
  assertMixed();
});

Deno.test("the WASM parsers equal the reference parsers on fuzzed blkio files", () => {
  const f = fuzzer(3);
  const ops = ["Read", "Write", "Sync", "Async", "Discard", "Total", "Other", ""];
  for (let i = 0; i < FUZZ_RUNS; i++) {
    const lines = Array.from({ length: Math.floor(f.next() * 8) }, () => {
      const op = f.pick(ops);
      return f.blanks(0) + f.digits(1 + Math.floor(f.next() * 3)) + ":" +
        f.digits(f.chance(0.1) ? 11 : 1 + Math.floor(f.next() * 3)) +
        f.blanks(1) + (op ? op + f.blanks(1) : "") + f.number();
    });
    if (f.chance(0.5)) lines.push("Total" + f.blanks(1) + f.number());
    const text = f.mutate(lines.join("\n") + (f.chance(0.8) ? "\n" : ""));
    same(wasmBlkio(text), refBlkio(text), JSON.stringify(text));
  }
  assertMixed();
});

Deno.test("the WASM parsers equal the reference parsers on fuzzed io.stat files", () => {
  const f = fuzzer(4);
  const keys = ["rbytes", "wbytes", "rios", "wios", "dbytes", "dios", "cost.vrate", "rbyte", "x"];
  for (let i = 0; i < FUZZ_RUNS; i++) {
    const lines = Array.from({ length: Math.floor(f.next() * 6) }, () => {
      const fields = Array.from(
        { length: Math.floor(f.next() * 8) },
        () => f.blanks(1) + f.pick(keys) + "=" + f.number(),
      );
      return f.digits(1 + Math.floor(f.next() * 3)) + ":" + f.digits(1 + Math.floor(f.next() * 3)) +
        fields.join("");
    });
    const text = f.mutate(lines.join("\n") + (f.chance(0.8) ? "\n" : ""));
    same(wasmIoStat(text), refIoStat(text), JSON.stringify(text));
  }
  assertMixed();
});
