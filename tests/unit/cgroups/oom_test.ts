import { assert, assertEquals } from "../../_assert.ts";
import { notifyOom, type OomEvent } from "../../../lib/cgroups/oom.ts";
import { ContainerError } from "../../../lib/errors.ts";

/** A fake v2 cgroup: a directory with memory.events, as the kernel lays it out. */
function fakeCgroup(): { dir: string; root: string } {
  const root = Deno.makeTempDirSync({ prefix: "nsinit-oom-" });
  const dir = `${root}/c`;
  Deno.mkdirSync(dir);
  Deno.writeTextFileSync(`${dir}/memory.events`, events(0, 0));
  return { dir, root };
}

function events(oom: number, kills: number, max = 0): string {
  return `low 0\nhigh 0\nmax ${max}\noom ${oom}\noom_kill ${kills}\noom_group_kill 0\n`;
}

/** Rewrites the file in place, as the kernel does (no truncation: counters keep their width). */
function overwrite(path: string, text: string): void {
  using file = Deno.openSync(path, { write: true });
  file.writeSync(new TextEncoder().encode(text));
}

async function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`Timed out after ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

Deno.test("notifyOom() on v2 reports increments of oom and oom_kill in memory.events", async () => {
  const { dir, root } = fakeCgroup();
  const oom = notifyOom({ unified: dir });
  try {
    const first = oom.next();
    overwrite(`${dir}/memory.events`, events(1, 1));
    assertEquals(await within(first, 2000), { done: false, value: { count: 1, kills: 1 } });
    // A change of other counters is no OOM.
    const second = oom.next();
    overwrite(`${dir}/memory.events`, events(1, 1, 5));
    overwrite(`${dir}/memory.events`, events(3, 1, 5));
    assertEquals(await within(second, 2000), { done: false, value: { count: 2, kills: 0 } });
  } finally {
    await oom.close();
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test("notifyOom() on v2 ends when the cgroup directory is removed", async () => {
  const { dir, root } = fakeCgroup();
  const oom = notifyOom({ unified: dir });
  try {
    const seen: OomEvent[] = [];
    const loop = (async () => {
      for await (const event of oom) seen.push(event);
    })();
    Deno.removeSync(dir, { recursive: true });
    await within(loop, 2000);
    assertEquals(seen, []);
    assertEquals(await oom.next(), { done: true, value: undefined });
  } finally {
    await oom.close();
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test("return() on the OOM events ends a pending next() and closes the descriptors", async () => {
  const { dir, root } = fakeCgroup();
  try {
    const oom = notifyOom({ unified: dir });
    const pending = oom.next();
    assertEquals(await oom.return(), { done: true, value: undefined });
    assertEquals(await within(pending, 1000), { done: true, value: undefined });
    await oom.close(); // idempotent
    {
      await using again = notifyOom({ unified: dir });
      void again.next();
    } // disposal ends the pending wait; the test's op sanitizer would catch a leftover poll
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test("notifyOom() without a memory cgroup says so", () => {
  const root = Deno.makeTempDirSync({ prefix: "nsinit-oom-" });
  try {
    let error: unknown;
    try {
      notifyOom({ unified: root, cpu: "/x" });
    } catch (e) {
      error = e;
    }
    assert(error instanceof ContainerError);
    assertEquals(
      error.message,
      "The container has no memory cgroup to watch: neither a v1 memory cgroup nor " +
        "`memory.events` in its cgroup v2 directory",
    );
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});
