import { assertEquals, assertThrows } from "../../_assert.ts";
import { createCgroups, removeCgroups } from "../../../lib/cgroups/manager.ts";
import type { CgroupDir } from "../../../lib/cgroups/paths.ts";
import type { Hierarchy } from "../../../lib/cgroups/hierarchies.ts";

function fakeHierarchies(root: string): Hierarchy[] {
  return ["memory", "pids"].map((name) => {
    Deno.mkdirSync(`${root}/${name}`);
    return { mountpoint: `${root}/${name}`, root: "/", version: 1, subsystems: [name], key: name };
  });
}

function dirsFor(hierarchies: Hierarchy[], name: string): CgroupDir[] {
  return hierarchies.map((hierarchy) => ({
    hierarchy,
    path: `${hierarchy.mountpoint}/parent/${name}`,
  }));
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

Deno.test("createCgroups() records the parents it made and removeCgroups() removes them", async () => {
  const root = Deno.makeTempDirSync();
  const hierarchies = fakeHierarchies(root);
  const dirs = dirsFor(hierarchies, "a");
  const { created } = createCgroups(dirs);
  assertEquals(created, [
    `${root}/memory/parent`,
    `${root}/memory/parent/a`,
    `${root}/pids/parent`,
    `${root}/pids/parent/a`,
  ]);
  await removeCgroups(dirs.map((d) => d.path), created);
  assertEquals(exists(`${root}/memory/parent`), false);
  Deno.removeSync(root, { recursive: true });
});

Deno.test("removeCgroups() leaves a parent made by another container until the last one goes", async () => {
  const root = Deno.makeTempDirSync();
  const hierarchies = fakeHierarchies(root);
  const first = createCgroups(dirsFor(hierarchies, "a"));
  const shared = new Set(first.created);
  const second = createCgroups(dirsFor(hierarchies, "b"), {
    madeByRuntime: (path) => shared.has(path),
  });
  assertEquals(second.created.includes(`${root}/memory/parent`), true);
  await removeCgroups(dirsFor(hierarchies, "a").map((d) => d.path), first.created);
  assertEquals(exists(`${root}/memory/parent/b`), true);
  await removeCgroups(dirsFor(hierarchies, "b").map((d) => d.path), second.created);
  assertEquals(exists(`${root}/memory/parent`), false);
  Deno.removeSync(root, { recursive: true });
});

Deno.test("createCgroups() keeps a parent it did not make when it fails", () => {
  const root = Deno.makeTempDirSync();
  const hierarchies = fakeHierarchies(root);
  Deno.mkdirSync(`${root}/memory/parent`);
  Deno.writeTextFileSync(`${root}/pids/parent`, "a file where a directory must go");
  assertThrows(() => createCgroups(dirsFor(hierarchies, "a")), /ENOTDIR|EEXIST/);
  assertEquals(exists(`${root}/memory/parent`), true);
  assertEquals(exists(`${root}/memory/parent/a`), false);
  Deno.removeSync(root, { recursive: true });
});
