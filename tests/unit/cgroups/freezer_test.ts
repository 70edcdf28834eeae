import { assert, assertEquals } from "../../_assert.ts";
import { freeze, freezerState, frozen, thaw } from "../../../lib/cgroups/freezer.ts";
import { ContainerError } from "../../../lib/errors.ts";

/** A fake cgroup directory with the given files. */
function fakeDir(files: Record<string, string>): string {
  const dir = Deno.makeTempDirSync({ prefix: "nsinit-freezer-" });
  for (const [name, content] of Object.entries(files)) {
    Deno.writeTextFileSync(`${dir}/${name}`, content);
  }
  return dir;
}

Deno.test("freeze() and thaw() write the v1 freezer.state and read it back", async () => {
  const dir = fakeDir({ "freezer.state": "THAWED\n" });
  try {
    const paths = { freezer: dir, unified: "/nonexistent" };
    assertEquals(freezerState(paths), "THAWED");
    await freeze(paths);
    assertEquals(Deno.readTextFileSync(`${dir}/freezer.state`).trim(), "FROZEN");
    assertEquals(frozen(paths), true);
    await thaw(paths);
    assertEquals(freezerState(paths), "THAWED");
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("freezerState() reads v2's cgroup.freeze and the frozen line of cgroup.events", () => {
  const dir = fakeDir({ "cgroup.freeze": "0\n", "cgroup.events": "populated 1\nfrozen 0\n" });
  try {
    const paths = { unified: dir };
    assertEquals(freezerState(paths), "THAWED");
    Deno.writeTextFileSync(`${dir}/cgroup.freeze`, "1\n");
    assertEquals(freezerState(paths), "FREEZING");
    Deno.writeTextFileSync(`${dir}/cgroup.events`, "populated 1\nfrozen 1\n");
    assertEquals(freezerState(paths), "FROZEN");
    assertEquals(frozen(paths), true);
    assertEquals(freezerState({}), null);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("freeze() on v2 returns once cgroup.events says frozen 1", async () => {
  const dir = fakeDir({ "cgroup.freeze": "0\n", "cgroup.events": "populated 1\nfrozen 1\n" });
  try {
    await freeze({ unified: dir });
    assertEquals(Deno.readTextFileSync(`${dir}/cgroup.freeze`).trim(), "1");
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("freeze() names the state it is stuck in and thaws again", async () => {
  const dir = fakeDir({ "cgroup.freeze": "0\n", "cgroup.events": "populated 1\nfrozen 0\n" });
  try {
    const error = await freeze({ unified: dir }, { timeoutMs: 30 }).then(() => undefined, (e) => e);
    assert(error instanceof ContainerError);
    assertEquals(
      error.message,
      `Freezer \`${dir}\` is stuck in frozen 0: asked for FROZEN, waited 30 ms`,
    );
    assertEquals(Deno.readTextFileSync(`${dir}/cgroup.freeze`).trim(), "0");
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("freeze() without a freezer says so", async () => {
  const error = await freeze({ memory: "/x" }).then(() => undefined, (e) => e);
  assert(error instanceof ContainerError);
  assertEquals(
    error.message,
    "The container has no freezer: neither a v1 freezer cgroup nor a cgroup v2 directory",
  );
});
