import { assertEquals } from "../../_assert.ts";
import {
  parseCgroupMounts,
  parseControllers,
  parseProcCgroup,
} from "../../../lib/cgroups/hierarchies.ts";
import { cgroupDirs, cgroupPathsRecord } from "../../../lib/cgroups/paths.ts";

// Lines as this machine's kernel prints them (a hybrid layout), plus a co-mounted pair and a duplicate.
const MOUNTINFO = [
  "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755",
  "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct",
  "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory",
  "36 31 0:33 / /sys/fs/cgroup/cpuset rw,relatime shared:5 - cgroup cgroup rw,cpuset,clone_children",
  "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd",
  "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw,nsdelegate",
  "90 22 0:32 /sub /mnt/memory\\040copy rw - cgroup cgroup rw,memory",
].join("\n");

const PROC_CGROUPS = `#subsys_name	hierarchy	num_cgroups	enabled
cpuset	3	1	1
cpu	1	1	1
cpuacct	2	1	1
memory	4	12	1
`;

Deno.test("parseCgroupMounts() finds v1 and v2 hierarchies once each, with their controllers", () => {
  const hierarchies = parseCgroupMounts(MOUNTINFO, parseControllers(PROC_CGROUPS));
  assertEquals(hierarchies.map((h) => [h.mountpoint, h.version, h.key]), [
    ["/sys/fs/cgroup/cpu,cpuacct", 1, "cpu,cpuacct"],
    ["/sys/fs/cgroup/memory", 1, "memory"],
    ["/sys/fs/cgroup/cpuset", 1, "cpuset"],
    ["/sys/fs/cgroup/systemd", 1, "name=systemd"],
    ["/sys/fs/cgroup/unified", 2, ""],
  ]);
});

Deno.test("parseProcCgroup() keys co-mounted controllers in a stable order", () => {
  const paths = parseProcCgroup(
    "2:cpuacct,cpu:/a\n4:memory:/process_api/x\n1:name=systemd:/\n0::/init.scope\n",
  );
  assertEquals(paths.get("cpu,cpuacct"), "/a");
  assertEquals(paths.get("memory"), "/process_api/x");
  assertEquals(paths.get("name=systemd"), "/");
  assertEquals(paths.get(""), "/init.scope");
});

Deno.test("cgroupDirs() puts a relative parent under the host init's cgroup, an absolute one at the root", () => {
  const hierarchies = parseCgroupMounts(MOUNTINFO, parseControllers(PROC_CGROUPS));
  const init = parseProcCgroup(
    "1:cpu,cpuacct:/\n4:memory:/machine\n3:cpuset:/\n9:name=systemd:/\n0::/init.scope\n",
  );
  const relative = cgroupDirs(hierarchies, init, { parent: "nsinit", name: "c1" }).map((d) =>
    d.path
  );
  assertEquals(relative, [
    "/sys/fs/cgroup/cpu,cpuacct/nsinit/c1",
    "/sys/fs/cgroup/memory/machine/nsinit/c1",
    "/sys/fs/cgroup/cpuset/nsinit/c1",
    "/sys/fs/cgroup/systemd/nsinit/c1",
    "/sys/fs/cgroup/unified/init.scope/nsinit/c1",
  ]);
  const absolute = cgroupDirs(hierarchies, init, { parent: "/top", name: "c1" }).map((d) => d.path);
  assertEquals(absolute[1], "/sys/fs/cgroup/memory/top/c1");
});

Deno.test("cgroupDirs() never climbs out of the hierarchy with `..`", () => {
  const hierarchies = parseCgroupMounts(MOUNTINFO, parseControllers(PROC_CGROUPS));
  const dirs = cgroupDirs(hierarchies, new Map(), { parent: "../../..", name: "c1" });
  for (const dir of dirs) assertEquals(dir.path.startsWith(dir.hierarchy.mountpoint + "/"), true);
});

Deno.test("cgroupPathsRecord() names each subsystem and the unified hierarchy", () => {
  const hierarchies = parseCgroupMounts(MOUNTINFO, parseControllers(PROC_CGROUPS));
  const record = cgroupPathsRecord(cgroupDirs(hierarchies, new Map(), { parent: "p", name: "n" }));
  assertEquals(record.cpu, "/sys/fs/cgroup/cpu,cpuacct/p/n");
  assertEquals(record.cpuacct, "/sys/fs/cgroup/cpu,cpuacct/p/n");
  assertEquals(record["name=systemd"], "/sys/fs/cgroup/systemd/p/n");
  assertEquals(record.unified, "/sys/fs/cgroup/unified/p/n");
});
