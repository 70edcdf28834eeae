import { assert, assertEquals } from "../../_assert.ts";
import { ContainerError } from "../../../lib/errors.ts";
import { lockContainer, lockContainerNow } from "../../../lib/state/lock.ts";

/** A state directory holding a state file, as the factory leaves it. */
function stateDir(): string {
  const dir = Deno.makeTempDirSync({ prefix: "nsinit-lock-" });
  Deno.writeTextFileSync(`${dir}/state.json`, "{}");
  return dir;
}

function cleanup(dir: string): void {
  Deno.removeSync(dir, { recursive: true });
}

async function settledWithin<T>(promise: Promise<T>, ms: number): Promise<boolean> {
  let settled = false;
  promise.then(() => settled = true, () => settled = true);
  await new Promise((resolve) => setTimeout(resolve, ms));
  return settled;
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return "ok";
  } catch (error) {
    assert(error instanceof ContainerError, String(error));
    return error.code;
  }
}

Deno.test("an exclusive lock waits for another exclusive lock and gets it once released", async () => {
  const dir = stateDir();
  const first = await lockContainer(dir, "c", "exclusive");
  const second = lockContainer(dir, "c", "exclusive");
  assertEquals(await settledWithin(second, 50), false);
  first.release();
  (await second).release();
  first.release(); // idempotent
  cleanup(dir);
});

Deno.test("shared locks are held together, and an exclusive one waits for all of them", async () => {
  const dir = stateDir();
  const a = await lockContainer(dir, "c", "shared");
  const b = await lockContainer(dir, "c", "shared");
  const c = lockContainerNow(dir, "c", "shared");
  const exclusive = lockContainer(dir, "c", "exclusive");
  assertEquals(await settledWithin(exclusive, 30), false);
  a.release();
  b.release();
  assertEquals(await settledWithin(exclusive, 30), false);
  c.release();
  (await exclusive).release();
  cleanup(dir);
});

Deno.test("a synchronous lock refuses to wait for this process's own exclusive lock", async () => {
  const dir = stateDir();
  const held = await lockContainer(dir, "c", "exclusive");
  let code = "";
  try {
    lockContainerNow(dir, "c", "shared");
  } catch (error) {
    code = (error as ContainerError).code;
  }
  assertEquals(code, "ContainerBusy");
  held.release();
  lockContainerNow(dir, "c", "shared").release();
  cleanup(dir);
});

Deno.test("a lock waiting while the container is destroyed fails with ContainerNotExists", async () => {
  const dir = stateDir();
  const held = await lockContainer(dir, "c", "exclusive");
  const waiting = lockContainer(dir, "c", "shared");
  // What destroy() does under its lock.
  Deno.removeSync(`${dir}/state.json`);
  Deno.removeSync(dir);
  held.release();
  assertEquals(await codeOf(waiting), "ContainerNotExists");
  assertEquals(await codeOf(lockContainer(dir, "c", "exclusive")), "ContainerNotExists");
});

Deno.test("a container re-created under the same id is not the one a lock was asked for", async () => {
  const dir = stateDir();
  const ino = BigInt(Deno.statSync(dir).ino!);
  (await lockContainer(dir, "c", "exclusive", ino)).release();
  cleanup(dir);
  Deno.mkdirSync(dir);
  Deno.mkdirSync(`${dir}-other`); // keeps the old inode number from being reused at once
  Deno.writeTextFileSync(`${dir}/state.json`, "{}");
  if (BigInt(Deno.statSync(dir).ino!) !== ino) {
    assertEquals(await codeOf(lockContainer(dir, "c", "exclusive", ino)), "ContainerNotExists");
  }
  (await lockContainer(dir, "c", "exclusive")).release();
  cleanup(dir);
  cleanup(`${dir}-other`);
});

Deno.test("a directory without a state file is no container to lock", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "nsinit-lock-" });
  assertEquals(await codeOf(lockContainer(dir, "c", "shared")), "ContainerNotExists");
  cleanup(dir);
});
