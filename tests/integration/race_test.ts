/**
 * The rename-exchange race (security-anchors.md section 4, #8; CVE-2021-30465,
 * CVE-2024-45310, CVE-2025-52881): while another process swaps a directory
 * with a symlink to `/` as fast as it can, containers are created. The host
 * root must never be visible inside, and no host path may be created.
 *
 * Two places are raced: a directory inside the rootfs that holds a bind
 * mount's destination and the process's cwd, and the rootfs directory
 * itself (its bundle on a volume another container shares).
 *
 * NSINIT_RACE_RUNS sets the number of containers per scenario (default 200).
 */
import { assert, assertEquals } from "../_assert.ts";
import { type ConfigInput, ContainerError } from "../../mod.ts";
import {
  assertNoLeftovers,
  integration,
  makeRootfs,
  tempDir,
  testConfig,
  testFactory,
  uniqueId,
} from "../_helpers.ts";
import { readUntil } from "./_host.ts";

const RACER = new URL("./_exchange_racer.ts", import.meta.url).pathname;
const decoder = new TextDecoder();
const NAME = `nsinit-race-${Deno.pid}`;
/** Present on the host root only: a container that sees it sees the host's `/`. */
const HOST_MARKER = `/${NAME}-host-marker`;

function exists(path: string): boolean {
  try {
    Deno.lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

interface Race {
  /** The directory and the symlink to `/` the racer swaps. */
  swap: [string, string];
  config: ConfigInput;
}

/** Creates `runs` containers while the racer swaps; returns what they saw. */
async function race({ swap, config }: Race, runs: number) {
  const stopFile = `${tempDir("stop-")}/stop`;
  const hostRoot = [...Deno.readDirSync("/")].map((e) => e.name).sort();
  const factory = await testFactory();
  // Created before the racer starts: the race is on start(), where the paths are resolved.
  const containers = [];
  for (let i = 0; i < runs; i++) containers.push(await factory.create(uniqueId("race"), config));
  const racer = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", RACER, ...swap, stopFile],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const tally = { ran: 0, failed: 0, sawHost: 0, sawVolume: 0 };
  const failures = new Set<string>();
  const started = performance.now();
  let racerOut = "";
  try {
    const reader = racer.stdout.getReader();
    racerOut = await readUntil(reader, (t) => t.includes("started"), 60_000);
    reader.releaseLock();
    for (const [i, container] of containers.entries()) {
      try {
        const process = await container.start({
          args: [
            "sh",
            "-c",
            `cat ${HOST_MARKER} 2>/dev/null; cat /data/${NAME}/volume-marker ` +
            `/${NAME}/volume-marker 2>/dev/null; echo`,
          ],
          cwd: "/data",
          stdin: "null",
          stdout: "piped",
          stderr: "null",
        });
        const text = decoder.decode((await process.output()).stdout);
        tally.ran++;
        if (text.includes("host")) tally.sawHost++;
        if (text.includes("volume")) tally.sawVolume++;
      } catch (error) {
        // A create or start may fail cleanly (a path changed under it); it must not escape.
        if (!(error instanceof ContainerError)) throw error;
        tally.failed++;
        failures.add(error.message.replace(/[\w/.-]*\d{3,}[\w/.-]*/g, "PATH"));
      } finally {
        await container.destroy();
      }
      assert(!exists(`/${NAME}`), `run ${i}: /${NAME} was created on the host`);
    }
  } finally {
    Deno.writeTextFileSync(stopFile, "");
    const result = await racer.output().catch(() => null);
    racerOut += result ? decoder.decode(result.stdout) : "";
    try {
      racer.kill("SIGKILL");
    } catch {
      // already exited
    }
    if (exists(`/${NAME}`)) Deno.removeSync(`/${NAME}`, { recursive: true });
    for (const container of containers) await container.destroy().catch(() => {});
  }
  const seconds = (performance.now() - started) / 1000;
  const swaps = JSON.parse(racerOut.split("\n").find((l) => l.startsWith("{")) ?? "{}").swaps;
  console.log(
    `race: ${runs} creates in ${seconds.toFixed(1)} s, ${swaps} swaps, ${JSON.stringify(tally)}, ` +
      `failures: ${JSON.stringify([...failures])}`,
  );
  assertEquals(tally.sawHost, 0, "a container saw the host root");
  assertEquals(tally.ran + tally.failed, runs);
  assert(swaps > runs, `the racer made only ${swaps} swaps`);
  assertEquals([...Deno.readDirSync("/")].map((e) => e.name).sort(), hostRoot);
  return tally;
}

/** A volume to bind at `/data/<NAME>`, and the config that binds it. */
function withVolume(rootfs: string): ConfigInput {
  const volume = tempDir("volume-");
  Deno.writeTextFileSync(`${volume}/volume-marker`, "volume");
  const base = testConfig({ rootfs });
  return {
    ...base,
    mounts: [...base.mounts!, { source: volume, destination: `/data/${NAME}`, device: "bind" }],
  };
}

async function withHostMarker(fn: () => Promise<void>): Promise<void> {
  Deno.writeTextFileSync(HOST_MARKER, "host");
  try {
    await fn();
  } finally {
    Deno.removeSync(HOST_MARKER);
  }
  assertNoLeftovers();
}

const runs = Number(Deno.env.get("NSINIT_RACE_RUNS") ?? 200);

Deno.test({
  name:
    `CVE-2021-30465: ${runs} creates while a mount's parent directory is swapped with a symlink to /`,
  ...integration,
  async fn() {
    await withHostMarker(async () => {
      const rootfs = makeRootfs(tempDir("rootfs-"));
      Deno.mkdirSync(`${rootfs}/data`);
      Deno.symlinkSync("/", `${rootfs}/link`);
      const tally = await race({
        swap: [`${rootfs}/data`, `${rootfs}/link`],
        config: withVolume(rootfs),
      }, runs);
      assert(tally.sawVolume > 0, "no container saw its volume");
    });
  },
});

Deno.test({
  name: `CVE-2021-30465: ${runs} creates while the rootfs itself is swapped with a symlink to /`,
  ...integration,
  async fn() {
    await withHostMarker(async () => {
      const bundle = tempDir("bundle-");
      const rootfs = makeRootfs(`${bundle}/rootfs`);
      Deno.mkdirSync(`${rootfs}/data`);
      Deno.symlinkSync("/", `${bundle}/link`);
      const tally = await race({
        swap: [`${bundle}/rootfs`, `${bundle}/link`],
        config: withVolume(rootfs),
      }, runs);
      assert(tally.ran > 0, "no container ran");
    });
  },
});
