/**
 * Fixture of lifecycle_test.ts: loads a container from another process,
 * prints what it sees as one line of JSON, and sends the container a
 * signal when asked.
 *
 * Usage: deno run --allow-ffi _load_child.ts ROOT ID [SIGNAL]
 *
 * Prints `{"status", "processes", "initPid"}`, or `{"error", "code"}` when
 * the load fails; with SIGNAL, then `{"signalled": SIGNAL}`.
 *
 * @module
 */
import { ContainerError, createFactory } from "../../mod.ts";

const [root, id, signal] = Deno.args;
if (root === undefined || id === undefined) {
  console.error("usage: _load_child.ts ROOT ID [SIGNAL]");
  Deno.exit(2);
}
const factory = await createFactory({ root });
try {
  const container = await factory.load(id);
  console.log(JSON.stringify({
    status: container.status(),
    processes: container.processes(),
    initPid: container.state().init_process_pid,
  }));
  if (signal !== undefined) {
    container.signal(signal as Deno.Signal);
    console.log(JSON.stringify({ signalled: signal }));
  }
} catch (error) {
  if (!(error instanceof ContainerError)) throw error;
  console.log(JSON.stringify({ error: error.name, code: error.code, message: error.message }));
}
