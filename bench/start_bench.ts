/**
 * Container start benchmark: N containers running /bin/true with the
 * default config (5 namespaces, pivot_root, default mounts and devices,
 * cgroup placement), created, run to exit and destroyed, by
 *
 *   (a) mod.ts, all from this one Deno process
 *   (b) one `nsinit exec` per container (a Deno process each)
 *   (c) `runc run`, and (d) `crun run`, on the same rootfs with an equivalent OCI config
 *       (the default seccomp profile included, flattened to plain OCI rules)
 *
 * and (a) once more without the seccomp filter, to price the default
 * profile: its compile (cold, then cached), its encoding into the plan,
 * and the difference per container of the two (a) runners, taken round by
 * round (the target: under 0.5 ms).
 *   (e) as (a), plus one veth on a bridge (address, gateway): the cost of
 *       networking, reported as the extra time of start() and of the whole
 *       cycle over (a)'s loopback-only containers
 *
 * in one run, printing medians and ratios. The runners take turns, one
 * container each per round, so that the drift of a shared VM weighs on all
 * alike; (a) is also timed alone first, back to back. crun 1.8 refuses this machine's
 * hybrid cgroup layout, so it runs inside `unshare -m` with the unified
 * mount removed; that workaround's own cost is measured beside it.
 *
 * Equal footing: every runtime keeps its state on tmpfs (/dev/shm, as /run
 * is on a real host), and the cgroup parent the containers go under exists
 * before the run (runc and crun never create and remove a parent per
 * container, and nsinit removes only parents it made).
 *
 * Usage: deno task bench [--n 100]
 *
 * @module
 */
import {
  builtinRootfs,
  configToJson,
  createFactory,
  DEFAULT_SECCOMP_PROFILE,
  defaultConfig,
  type SeccompProfile,
} from "../mod.ts";
import { clearSeccompCache, compileSeccomp } from "../lib/seccomp/mod.ts";
import { hostFacts, seccompProgram } from "../lib/plan/security.ts";
import { buildInitPlan } from "../lib/plan/build.ts";
import { encodePlan } from "../lib/plan/encode.ts";
import { lstat, rmdir } from "../lib/sys/fs.ts";

const N = Number(Deno.args[Deno.args.indexOf("--n") + 1] || 100) || 100;
const WARMUP = 10;
const ROOT = "/dev/shm/nsinit-bench";
const CGROUP_PARENT = "nsinit-bench";
const BRIDGE = "nsinit-bench0";
const repo = new URL("..", import.meta.url).pathname;

interface Row {
  name: string;
  times: number[];
  note?: string;
}

/** Durations of container.start() alone (to exec), by runner, after the warm-up. */
const startTimes: Record<"loopback" | "veth", number[]> = { loopback: [], veth: [] };
let measuring = false;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function p90(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length * 0.9)]!;
}

function has(command: string): boolean {
  try {
    return new Deno.Command(command, { args: ["--version"], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}

interface Runner {
  name: string;
  run: () => Promise<void>;
}

/**
 * Runs every runner once per round, interleaved, so that drift of a shared
 * VM (frequency, neighbours, the kernel's deferred namespace teardown)
 * weighs on all of them alike.
 */
async function timeInterleaved(runners: Runner[]): Promise<Row[]> {
  const rows: Row[] = runners.map(({ name }) => ({ name, times: [] }));
  for (let round = 0; round < WARMUP + N; round++) {
    measuring = round >= WARMUP;
    for (const [i, runner] of runners.entries()) {
      const start = performance.now();
      await runner.run();
      if (round >= WARMUP) rows[i]!.times.push(performance.now() - start);
    }
  }
  return rows;
}

async function command(
  cmd: string,
  args: string[],
  options: Deno.CommandOptions = {},
): Promise<void> {
  const output = await new Deno.Command(cmd, { args, stdout: "null", stderr: "piped", ...options })
    .output();
  if (!output.success) {
    throw new Error(
      `${cmd} ${args.join(" ")} failed: ${new TextDecoder().decode(output.stderr).trim()}`,
    );
  }
}

/**
 * The default profile as plain OCI `linux.seccomp` (no moby `includes`,
 * `excludes` or `archMap`): the rules that apply to these capabilities on
 * this machine, as runc and crun take them.
 */
function ociSeccomp(profile: SeccompProfile, caps: readonly string[]): Record<string, unknown> {
  const arch = Deno.build.arch === "x86_64" ? ["amd64", "x86_64"] : ["arm64", "aarch64"];
  const held = new Set(caps);
  const applies = (rule: NonNullable<SeccompProfile["syscalls"]>[number]) => {
    const inc = rule.includes ?? {};
    const exc = rule.excludes ?? {};
    if (inc.caps?.some((c) => !held.has(c.replace(/^CAP_/, "")))) return false;
    if (inc.arches?.length && !inc.arches.some((a) => arch.includes(a))) return false;
    if (exc.caps?.some((c) => held.has(c.replace(/^CAP_/, "")))) return false;
    if (exc.arches?.some((a) => arch.includes(a))) return false;
    return !inc.minKernel; // the few newer-kernel rules are left out, as an old libseccomp would
  };
  const native = profile.archMap?.find((e) =>
    e.architecture === (Deno.build.arch === "x86_64" ? "SCMP_ARCH_X86_64" : "SCMP_ARCH_AARCH64")
  );
  return {
    defaultAction: profile.defaultAction,
    defaultErrnoRet: profile.defaultErrnoRet,
    architectures: native ? [native.architecture, ...(native.subArchitectures ?? [])] : [],
    syscalls: (profile.syscalls ?? []).filter(applies).map((rule) => ({
      names: rule.names,
      action: rule.action,
      ...(rule.errnoRet !== undefined ? { errnoRet: rule.errnoRet } : {}),
      ...(rule.args ? { args: rule.args } : {}),
    })),
  };
}

function ociConfig(rootfs: string, id: string): Record<string, unknown> {
  const ours = defaultConfig({ rootfs });
  const ms = (flags: number) =>
    [[1, "ro"], [2, "nosuid"], [4, "nodev"], [8, "noexec"], [1 << 24, "strictatime"]]
      .filter(([bit]) => flags & (bit as number)).map(([, name]) => name as string);
  const caps = ours.capabilities.map((c) => `CAP_${c}`);
  return {
    ociVersion: "1.0.2",
    process: {
      terminal: false,
      user: { uid: 0, gid: 0 },
      args: ["/bin/true"],
      env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
      cwd: "/",
      capabilities: { bounding: caps, effective: caps, permitted: caps },
      rlimits: [{ type: "RLIMIT_NOFILE", hard: 1024, soft: 1024 }],
    },
    root: { path: rootfs, readonly: false },
    hostname: ours.hostname,
    mounts: ours.mounts.map((m) => ({
      destination: m.destination,
      type: m.device,
      source: m.source,
      options: [...ms(m.flags), ...(m.data ? m.data.split(",") : [])],
    })),
    linux: {
      cgroupsPath: `/${CGROUP_PARENT}/${id}`,
      resources: {
        devices: [
          { allow: false, access: "rwm" },
          ...ours.cgroups.allowed_devices.map((d) => ({
            allow: true,
            type: d.type,
            ...(d.major >= 0 ? { major: d.major } : {}),
            ...(d.minor >= 0 ? { minor: d.minor } : {}),
            access: d.permissions,
          })),
        ],
      },
      namespaces: [{ type: "pid" }, { type: "network" }, { type: "ipc" }, { type: "uts" }, {
        type: "mount",
      }],
      maskedPaths: ours.mask_paths,
      readonlyPaths: ours.readonly_paths,
      seccomp: ociSeccomp(DEFAULT_SECCOMP_PROFILE, ours.capabilities),
    },
  };
}

function makeCgroupParent(): void {
  for (const entry of Deno.readDirSync("/sys/fs/cgroup")) {
    const dir = `/sys/fs/cgroup/${entry.name}/${CGROUP_PARENT}`;
    try {
      Deno.mkdirSync(dir);
    } catch {
      // there already
    }
    if (entry.name === "cpuset") {
      for (const file of ["cpuset.cpus", "cpuset.mems"]) {
        Deno.writeTextFileSync(
          `${dir}/${file}`,
          Deno.readTextFileSync(`/sys/fs/cgroup/cpuset/${file}`),
        );
      }
    }
  }
}

function removeCgroupParent(): void {
  for (const entry of Deno.readDirSync("/sys/fs/cgroup")) {
    const dir = `/sys/fs/cgroup/${entry.name}/${CGROUP_PARENT}`;
    try {
      for (const child of Deno.readDirSync(dir)) {
        if (child.isDirectory) Deno.removeSync(`${dir}/${child.name}`);
      }
      Deno.removeSync(dir);
    } catch {
      // not there
    }
  }
}

async function main(): Promise<void> {
  Deno.mkdirSync(ROOT, { recursive: true });
  makeCgroupParent();
  const base = builtinRootfs(ROOT);
  // One rootfs for everyone: the built-in one plus a static /bin/true.
  const rootfs = `${ROOT}/bench-rootfs`;
  await command("rm", ["-rf", rootfs]);
  await command("cp", ["-a", base, rootfs]);
  if (!Deno.statSync("/bin/busybox").isFile) {
    throw new Error(
      "The benchmark needs a static /bin/busybox for /bin/true: apt-get install busybox-static",
    );
  }
  Deno.copyFileSync("/bin/busybox", `${rootfs}/bin/busybox`);
  Deno.symlinkSync("busybox", `${rootfs}/bin/true`);
  const config = {
    ...defaultConfig({ rootfs }),
    cgroups: { ...defaultConfig().cgroups, name: "", parent: CGROUP_PARENT },
  };
  const runners: Runner[] = [];
  const crunDirWasThere = lstat("/run/crun") !== null;

  // (a) the library, in this process; and again without the seccomp filter.
  const factory = await createFactory({ root: ROOT });
  let serial = 0;
  const cycle = async (id: string, cfg: typeof config, starts: number[] | null) => {
    const container = await factory.create(id, cfg);
    const begin = performance.now();
    const process = await container.start({
      args: ["/bin/true"],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    });
    if (measuring && starts) starts.push(performance.now() - begin);
    await process.wait();
    await container.destroy();
  };
  const library = (input: typeof config) => () => cycle(`a${serial++}`, input, null);
  const unfiltered = { ...config };
  delete unfiltered.seccomp;
  runners.push({
    name: "(a) mod.ts, one Deno process",
    run: () => cycle(`a${serial++}`, config, startTimes.loopback),
  });
  // (e) the same with one veth on a bridge (the bridge is made for the run).
  await command("ip", ["link", "add", BRIDGE, "type", "bridge"]);
  await command("ip", ["addr", "add", "10.250.0.1/16", "dev", BRIDGE]);
  await command("ip", ["link", "set", BRIDGE, "up"]);
  const withVeth = {
    ...config,
    networks: [...config.networks, {
      ...config.networks[0]!,
      type: "veth" as const,
      name: "eth0",
      bridge: BRIDGE,
      address: "10.250.0.2/16",
      gateway: "10.250.0.1",
    }],
  };
  runners.push({
    name: "(e) mod.ts, + one veth on a bridge",
    run: () => cycle(`e${serial++}`, withVeth, startTimes.veth),
  });

  // (b) nsinit exec, one Deno process per container, and Deno's own start-up beside it.
  const configFile = `${ROOT}/bench-config.json`;
  Deno.writeTextFileSync(configFile, JSON.stringify(configToJson(config)));
  const empty = `${ROOT}/empty.ts`;
  Deno.writeTextFileSync(empty, "");
  const deno = Deno.execPath();
  runners.push({
    name: "    deno run (empty script)",
    run: () => command(deno, ["run", "--allow-ffi", empty]),
  });
  runners.push({
    name: "(b) nsinit exec per container",
    run: () =>
      command(deno, [
        "run",
        "--allow-ffi",
        `${repo}cli/nsinit.ts`,
        "--root",
        ROOT,
        "exec",
        "--id",
        `b${serial++}`,
        "--config",
        configFile,
        "/bin/true",
      ]),
  });

  // (c) runc and (d) crun on the same rootfs.
  const bundle = `${ROOT}/bundle`;
  Deno.mkdirSync(bundle, { recursive: true });
  if (has("runc")) {
    runners.push({
      name: "(c) runc run",
      run: async () => {
        const id = `c${serial++}`;
        Deno.writeTextFileSync(`${bundle}/config.json`, JSON.stringify(ociConfig(rootfs, id)));
        await command("runc", ["--root", `${ROOT}/runc`, "run", "--bundle", bundle, id]);
      },
    });
  }
  if (has("crun")) {
    runners.push({
      name: "    unshare -m + umount unified (crun workaround alone)",
      run: () => command("unshare", ["-m", "sh", "-c", "umount /sys/fs/cgroup/unified; /bin/true"]),
    });
    runners.push({
      name: "(d) crun run (inside the workaround)",
      run: async () => {
        const id = `d${serial++}`;
        Deno.writeTextFileSync(`${bundle}/config.json`, JSON.stringify(ociConfig(rootfs, id)));
        await command("unshare", [
          "-m",
          "sh",
          "-c",
          `umount /sys/fs/cgroup/unified; exec crun --root ${ROOT}/crun run --bundle ${bundle} ${id}`,
        ]);
      },
    });
  }
  // (a) alone first: back to back, nothing else running, as a program that starts containers in a loop sees it.
  let rows: Row[];
  let filtered: { on: number[]; off: number[] };
  try {
    const [alone] = await timeInterleaved([{
      ...runners[0]!,
      name: "(a) mod.ts, back to back, alone",
      run: library(config),
    }]);
    // The default profile's price: (a) with and without it, alone, alternating which goes first.
    filtered = await timePair(library(config), library(unfiltered));
    rows = [alone!, ...await timeInterleaved(runners)];
  } finally {
    await command("ip", ["link", "del", BRIDGE]);
    removeCgroupParent();
    Deno.removeSync(ROOT, { recursive: true });
    // crun makes /run/crun even with --root elsewhere: removed when it made it (and it is empty).
    if (!crunDirWasThere) {
      try {
        rmdir("/run/crun");
      } catch {
        // not empty: someone else's
      }
    }
  }
  report(rows);
  reportSeccomp(filtered, config);
}

/** Times two runners in N rounds (after a warm-up), swapping which runs first each round. */
async function timePair(
  first: () => Promise<void>,
  second: () => Promise<void>,
): Promise<{ on: number[]; off: number[] }> {
  const on: number[] = [];
  const off: number[] = [];
  const time = async (run: () => Promise<void>, into: number[], keep: boolean) => {
    const start = performance.now();
    await run();
    if (keep) into.push(performance.now() - start);
  };
  for (let round = 0; round < WARMUP + N; round++) {
    const keep = round >= WARMUP;
    if (round % 2 === 0) {
      await time(first, on, keep);
      await time(second, off, keep);
    } else {
      await time(second, off, keep);
      await time(first, on, keep);
    }
  }
  return { on, off };
}

/** Microseconds per call of `fn`, the median of a few batches. */
function micros(fn: () => unknown, batch = 200): number {
  const per: number[] = [];
  for (let round = 0; round < 7; round++) {
    const start = performance.now();
    for (let i = 0; i < batch; i++) fn();
    per.push((performance.now() - start) * 1000 / batch);
  }
  return median(per);
}

/** What the default profile costs: compile, plan, and the difference per container. */
function reportSeccomp(
  { on, off }: { on: number[]; off: number[] },
  config: ReturnType<typeof defaultConfig>,
): void {
  // Round by round: each round ran one container of each, so drift cancels out.
  const paired = on.map((t, i) => t - off[i]!);
  const extra = median(paired);
  const host = hostFacts();
  const context = {
    arch: host.arch,
    capabilities: config.capabilities,
    kernelVersion: host.kernelVersion,
  };
  const cold = micros(() => {
    clearSeccompCache();
    compileSeccomp(DEFAULT_SECCOMP_PROFILE, context);
  }, 5);
  const instructions = compileSeccomp(DEFAULT_SECCOMP_PROFILE, context).instructions.length;
  const cached = micros(() => seccompProgram(config, config.capabilities, host));
  const plan = (input: typeof config) => () =>
    encodePlan(buildInitPlan({
      config: input,
      cgroups: { enter: [], cloneInto: "" },
      process: { args: ["/bin/true"], env: [], cwd: "/", terminal: false },
      user: { uid: 0, gid: 0, additionalGids: [], home: "/" },
      joins: [],
      bindSources: new Map(),
      host,
    }));
  const unfiltered = { ...config };
  delete unfiltered.seccomp;
  const planOn = micros(plan(config));
  const planOff = micros(plan(unfiltered));
  console.log(`\ndefault seccomp profile (${instructions} instructions on ${host.arch}):`);
  console.log(
    `  compile, cold:                 ${cold.toFixed(1)} us (once per process and capability set)`,
  );
  console.log(`  compile, cached:               ${cached.toFixed(1)} us per container`);
  console.log(
    `  build + encode the init plan:  ${planOn.toFixed(1)} us with the filter, ${
      planOff.toFixed(1)
    } us without`,
  );
  console.log(
    `  container start, with - without, median of per-round differences: ${extra.toFixed(2)} ms ` +
      `(medians ${median(on).toFixed(2)} vs ${median(off).toFixed(2)} ms, alone, N=${N})`,
  );
  console.log(`  target < 0.5 ms per container: ${extra < 0.5 ? "met" : "NOT met"}`);
}

function report(rows: Row[]): void {
  const reference = median(rows.find((r) => r.name.startsWith("(a) mod.ts, one"))!.times);
  const byName = (prefix: string) => rows.find((r) => r.name.startsWith(prefix));
  console.log(
    `\ncontainer create + start + exit + destroy, /bin/true, default config, N=${N} (ms)\n`,
  );
  console.log(
    `${"".padEnd(56)} ${"median".padStart(8)} ${"p90".padStart(8)} ${"vs (a)".padStart(8)}`,
  );
  for (const row of rows) {
    const m = median(row.times);
    console.log(
      `${row.name.padEnd(56)} ${m.toFixed(2).padStart(8)} ${
        p90(row.times).toFixed(2).padStart(8)
      } ${(m / reference).toFixed(2).padStart(7)}x`,
    );
  }
  const a = reference;
  const b = byName("(b)");
  const empty = byName("    deno run");
  const crun = byName("(d)");
  const workaround = byName("    unshare");
  console.log("");
  const alone = median(rows[0]!.times);
  console.log(
    `(a) target <= 3 ms: ${alone.toFixed(2)} ms alone, ${a.toFixed(2)} ms interleaved: ${
      alone <= 3 ? "met" : "NOT met"
    }`,
  );
  if (crun && workaround) {
    const net = median(crun.times) - median(workaround.times);
    console.log(
      `(a) target > 2x faster than crun: crun ${median(crun.times).toFixed(2)} ms (${
        net.toFixed(2)
      } ms without the workaround) = ${(net / a).toFixed(2)}x (a) ${
        net / a > 2 ? "met" : "NOT met"
      }`,
    );
  }
  const veth = byName("(e)");
  if (veth) {
    const start = median(startTimes.veth) - median(startTimes.loopback);
    const whole = median(veth.times) - a;
    console.log(
      `(e) target <= 2 ms extra per container for one veth: start() ${
        median(startTimes.veth).toFixed(2)
      } ms vs ${median(startTimes.loopback).toFixed(2)} ms loopback-only = ${
        start.toFixed(2)
      } ms extra ${start <= 2 ? "met" : "NOT met"}; whole cycle (with the veth's deletion) ${
        whole.toFixed(2)
      } ms extra`,
    );
  }
  if (b && empty) {
    const extra = median(b.times) - median(empty.times);
    console.log(
      `(b) target <= 10 ms above deno start-up: ${extra.toFixed(2)} ms ${
        extra <= 10 ? "met" : "NOT met"
      }`,
    );
  }
}

await main();
