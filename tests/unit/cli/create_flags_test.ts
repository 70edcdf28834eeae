/**
 * The limit flags and --cgroup of `exec`/`config`, and the flags of
 * `update`, as config edits.
 */
import { assertEquals, assertThrows } from "../../_assert.ts";
import { applyCreateFlags, limitsFromFlags } from "../../../cli/_create_flags.ts";
import { MS } from "../../../lib/config/mod.ts";

Deno.test("limit flags set the seed's cgroup fields, bytes with k, m and g suffixes", () => {
  const config = applyCreateFlags({ rootfs: "/r", cgroups: { name: "x" } }, {
    cpushares: "512",
    "memory-limit": "64m",
    "memory-swap": "-1",
    "cpuset-cpus": "0-1",
    "cpuset-mems": "0",
    "pids-limit": "100",
  });
  assertEquals(config.cgroups, {
    name: "x",
    cpu_shares: 512,
    memory: 64 * 1024 * 1024,
    memory_swap: -1,
    cpuset_cpus: "0-1",
    cpuset_mems: "0",
    pids_limit: 100,
  });
});

Deno.test("no limit flag leaves the config's cgroups as they are", () => {
  const cgroups = { name: "x", memory: 5 };
  assertEquals(applyCreateFlags({ rootfs: "/r", cgroups }, {}).cgroups, cgroups);
});

Deno.test("a malformed limit is a usage error naming the flag", () => {
  assertThrows(
    () => limitsFromFlags({ "memory-limit": "lots" }),
    /Invalid --memory-limit `lots`: expected a number of bytes/,
  );
  assertThrows(
    () => limitsFromFlags({ cpushares: "5k" }),
    /Invalid --cpushares `5k`: expected an integer/,
  );
  assertEquals(
    limitsFromFlags({ "memory-limit": "2G", "cpu-quota": "-1", "blkio-weight": "300" }),
    {
      memory: 2 * 1024 ** 3,
      cpu_quota: -1,
      blkio_weight: 300,
    },
  );
});

Deno.test("--cgroup adds the seed's cgroup mount at /sys/fs/cgroup", () => {
  const config = applyCreateFlags({ rootfs: "/r", mounts: [] }, { cgroup: true });
  assertEquals(config.mounts, [{
    source: "cgroup",
    destination: "/sys/fs/cgroup",
    device: "cgroup",
    flags: MS.MS_NOSUID | MS.MS_NODEV | MS.MS_NOEXEC | MS.MS_RDONLY,
  }]);
});
