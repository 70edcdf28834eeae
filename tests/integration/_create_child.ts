/**
 * Fixture of escape_test.ts: one of many processes racing on one
 * container id. Prints one line of JSON, then keeps what it started alive
 * until its stdin closes (the init dies with its creator).
 *
 * Usage: deno run --allow-all _create_child.ts create ROOT ID CONFIG_JSON
 *        deno run --allow-all _create_child.ts start ROOT ID
 *
 * Prints `{"ok": true}` (create), `{"pid", "pidns", "init"}` (start), or
 * `{"code", "message"}` for a ContainerError.
 *
 * @module
 */
import { ContainerError, createFactory } from "../../mod.ts";

const [mode, root, id, config] = Deno.args;
if (root === undefined || id === undefined || (mode === "create" && config === undefined)) {
  console.error("usage: _create_child.ts create|start ROOT ID [CONFIG_JSON]");
  Deno.exit(2);
}
const factory = await createFactory({ root });
try {
  if (mode === "create") {
    await factory.create(id, JSON.parse(config!));
    console.log(JSON.stringify({ ok: true }));
  } else {
    const container = await factory.load(id);
    const proc = await container.start({
      args: ["/bin/probe", "sleep", "0"],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    });
    console.log(JSON.stringify({
      pid: proc.pid,
      pidns: Deno.readLinkSync(`/proc/${proc.pid}/ns/pid`),
      init: container.state().init_process_pid === proc.pid,
    }));
  }
} catch (error) {
  if (!(error instanceof ContainerError)) throw error;
  console.log(JSON.stringify({ code: error.code, message: error.message }));
}
// Hold on to what was started until told to go.
const buffer = new Uint8Array(16);
while (await Deno.stdin.read(buffer) !== null) {
  // nothing to read: the parent only closes it
}
Deno.exit(0);
