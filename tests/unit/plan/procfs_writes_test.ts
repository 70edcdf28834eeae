/**
 * CVE-2025-52881 (security-anchors section 4, #14, the plan half): no op
 * writes a kernel file by a path string; every write goes beneath a
 * directory the helper verifies to be procfs (fstatfs) and is opened with
 * openat2 beneath it, and none of the ops that open paths in the rootfs
 * names a /proc file to write.
 */
import { assert, assertEquals } from "../../_assert.ts";
import { defaultConfig, parseConfig } from "../../../lib/config/mod.ts";
import { buildInitPlan } from "../../../lib/plan/build.ts";
import type { PlanOp } from "../../../lib/plan/ops.ts";

Deno.test("every kernel-file write of an init plan is beneath the verified procfs handle", () => {
  const config = parseConfig({
    ...defaultConfig({ rootfs: "/srv/rootfs" }),
    system_properties: { "net.ipv4.ip_forward": "1", "kernel.msgmax": "8192" },
  });
  const plan: PlanOp[] = buildInitPlan({
    config,
    cgroups: { enter: [], cloneInto: "" },
    process: { args: ["sh"], env: [], cwd: "/", terminal: false },
    user: { uid: 0, gid: 0, additionalGids: [], home: "/" },
    joins: [],
    bindSources: new Map(),
  });
  const writes = plan.filter((op) => op.op === "WRITE");
  assertEquals(writes.length, 2);
  for (const op of writes) {
    assertEquals(op.dir, "/proc");
    assertEquals(op.procfs, true);
    assert(op.file.startsWith("sys/") && !op.file.split("/").includes(".."), op.file);
  }
  // Nothing else writes into /proc by name.
  for (const op of plan) {
    if (op.op === "MKFILE" || op.op === "MKNOD" || op.op === "SYMLINK") {
      assert(!op.path.startsWith("/proc"), `${op.op} ${op.path}`);
    }
  }
});
