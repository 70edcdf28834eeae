import { assertEquals, assertThrows } from "../../_assert.ts";
import { cgroupMode } from "../../../lib/cgroups/mode.ts";
import type { Hierarchy } from "../../../lib/cgroups/hierarchies.ts";
import { ContainerError } from "../../../lib/errors.ts";

function v1(...subsystems: string[]): Hierarchy {
  const key = subsystems.join(",");
  return { mountpoint: `/sys/fs/cgroup/${key}`, root: "/", version: 1, subsystems, key };
}

const unified: Hierarchy = {
  mountpoint: "/sys/fs/cgroup",
  root: "/",
  version: 2,
  subsystems: [],
  key: "",
};

Deno.test("cgroupMode() tells v1, hybrid and v2 hosts apart", () => {
  assertEquals(cgroupMode([v1("cpu", "cpuacct"), v1("memory"), v1("name=systemd")]), "v1");
  assertEquals(cgroupMode([v1("memory"), v1("name=systemd"), unified]), "hybrid");
  assertEquals(cgroupMode([unified]), "v2");
});

Deno.test("cgroupMode() does not count a v1 hierarchy without controllers", () => {
  assertEquals(cgroupMode([v1("name=systemd"), unified]), "v2");
});

Deno.test("cgroupMode() refuses a host with no cgroup hierarchy", () => {
  assertThrows(() => cgroupMode([]), ContainerError);
  assertThrows(() => cgroupMode([v1("name=systemd")]), /No cgroup hierarchy is mounted/);
});
