/**
 * The rename-exchange race (security-anchors.md section 4, #8; CVE-2021-30465,
 * CVE-2024-45310, CVE-2025-52881): while another process swaps a rootfs
 * directory with a symlink to `/` as fast as it can, containers are created
 * with a bind mount and their cwd beneath that directory. The host root
 * must never be visible inside, and no host path may be created or bound.
 *
 * NSINIT_RACE_RUNS sets the number of containers (default 200).
 */
import { assert, assertEquals } from "../_assert.ts";
import type { ConfigInput } from "../../mod.ts";
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

function exists(path: string): boolean {
  try {
    Deno.lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

Deno.test({
  name: "CVE-2021-30465: 200 creates under a RENAME_EXCHANGE racer never reach the host root",
  ...integration,
  async fn() {
    const runs = Number(Deno.env.get("NSINIT_RACE_RUNS") ?? 200);
    const rootfs = makeRootfs(tempDir("rootfs-"));
    const name = `nsinit-race-${Deno.pid}`;
    // Present on the host root only: a container that sees it sees the host's /.
    const hostMarker = `/${name}-host-marker`;
    Deno.writeTextFileSync(hostMarker, "host");
    const hostRoot = [...Deno.readDirSync("/")].map((e) => e.name).sort();
    Deno.mkdirSync(`${rootfs}/data`);
    Deno.symlinkSync("/", `${rootfs}/link`);
    const volume = tempDir("volume-");
    Deno.writeTextFileSync(`${volume}/volume-marker`, "volume");
    const stopFile = `${tempDir("stop-")}/stop`;

    const base = testConfig({ rootfs });
    const config: ConfigInput = {
      ...base,
      mounts: [...base.mounts!, { source: volume, destination: `/data/${name}`, device: "bind" }],
    };
    const factory = await testFactory();
    const racer = new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-all", RACER, `${rootfs}/data`, `${rootfs}/link`, stopFile],
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const tally = { ran: 0, failed: 0, sawHost: 0, sawVolume: 0 };
    const failures = new Set<string>();
    const started = performance.now();
    let racerOut = "";
    try {
      // Wait until the racer runs.
      const reader = racer.stdout.getReader();
      racerOut = await readUntil(reader, (t) => t.includes("started"), 60_000);
      reader.releaseLock();
      for (let i = 0; i < runs; i++) {
        const container = await factory.create(uniqueId("race"), config);
        try {
          const process = await container.start({
            args: [
              "sh",
              "-c",
              `cat ${hostMarker} 2>/dev/null; cat /data/${name}/volume-marker /${name}/volume-marker ` +
              "2>/dev/null; echo; pwd -P",
            ],
            cwd: "/data",
            stdin: "null",
            stdout: "piped",
            stderr: "null",
          });
          const output = await process.output();
          const text = decoder.decode(output.stdout);
          tally.ran++;
          if (text.includes("host")) tally.sawHost++;
          if (text.includes("volume")) tally.sawVolume++;
        } catch (error) {
          // A start may fail cleanly (a path changed under it); it must not escape.
          tally.failed++;
          failures.add(String((error as Error).message).replace(/\d+/g, "N"));
        } finally {
          await container.destroy();
        }
        assert(!exists(`/${name}`), `run ${i}: /${name} was created on the host`);
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
      Deno.removeSync(hostMarker);
      if (exists(`/${name}`)) Deno.removeSync(`/${name}`, { recursive: true });
    }
    const seconds = (performance.now() - started) / 1000;
    const swaps = JSON.parse(racerOut.split("\n").find((l) => l.startsWith("{")) ?? "{}").swaps;
    console.log(
      `race: ${runs} creates in ${seconds.toFixed(1)} s, ${swaps} swaps, ${
        JSON.stringify(tally)
      }, failures: ${JSON.stringify([...failures])}`,
    );
    assertEquals(tally.sawHost, 0, "a container saw the host root");
    assertEquals(tally.ran + tally.failed, runs);
    assert(swaps > runs, `the racer made only ${swaps} swaps`);
    assert(tally.sawVolume > 0, "no container saw its volume");
    const rootNow = [...Deno.readDirSync("/")].map((e) => e.name).sort();
    assertEquals(rootNow, hostRoot.filter((n) => n !== `${name}-host-marker`));
    assertNoLeftovers();
  },
});
