/**
 * cgroup v2 delegation against a fake tree: each ancestor enables the
 * controllers it has and the container needs, and nothing it enables already.
 */
import { assertEquals, assertThrows } from "../../_assert.ts";
import { enableControllers } from "../../../lib/cgroups/subtree.ts";

function fakeTree(files: Record<string, string>): string {
  const root = Deno.makeTempDirSync({ prefix: "subtree-" });
  for (const [path, content] of Object.entries(files)) {
    const full = `${root}/${path}`;
    Deno.mkdirSync(full.slice(0, full.lastIndexOf("/")), { recursive: true });
    Deno.writeTextFileSync(full, content);
  }
  return root;
}

Deno.test("enableControllers() writes the missing controllers into each ancestor, root first", () => {
  const root = fakeTree({
    "cgroup.controllers": "cpuset cpu io memory hugetlb pids rdma misc\n",
    "cgroup.subtree_control": "memory pids\n",
    "parent/cgroup.controllers": "cpu memory pids\n",
    "parent/cgroup.subtree_control": "",
    "parent/c/cgroup.controllers": "",
  });
  try {
    const writes = enableControllers(root, `${root}/parent/c`);
    assertEquals(writes, [
      { file: `${root}/cgroup.subtree_control`, value: "+cpu +cpuset +io +hugetlb" },
      { file: `${root}/parent/cgroup.subtree_control`, value: "+cpu +memory +pids" },
    ]);
    assertEquals(
      Deno.readTextFileSync(`${root}/parent/cgroup.subtree_control`),
      "+cpu +memory +pids",
    );
    // The container's own directory is not touched: its controllers are its parent's to give.
    assertEquals(Deno.readTextFileSync(`${root}/parent/c/cgroup.controllers`), "");
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test("enableControllers() writes nothing when everything is enabled", () => {
  const root = fakeTree({
    "cgroup.controllers": "cpu memory\n",
    "cgroup.subtree_control": "cpu memory\n",
  });
  try {
    assertEquals(enableControllers(root, `${root}/c`), []);
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test("enableControllers() names the file it could not write", () => {
  const root = fakeTree({ "cgroup.controllers": "memory\n" }); // no subtree_control file
  try {
    assertThrows(
      () => enableControllers(root, `${root}/c`),
      /enable cgroup controllers `\+memory` in `.*\/cgroup\.subtree_control`: ENOENT/,
    );
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});
