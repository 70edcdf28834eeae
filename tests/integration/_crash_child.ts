/**
 * Fixture of escape_test.ts: creates a container and starts its init,
 * saying `starting` just before start(); the test kills this process at
 * some point of the start.
 *
 * Usage: deno run --allow-all _crash_child.ts ROOT ID CONFIG_JSON MARKER
 *
 * @module
 */
import { createFactory } from "../../mod.ts";

const [root, id, config, marker] = Deno.args;
if (root === undefined || id === undefined || config === undefined || marker === undefined) {
  console.error("usage: _crash_child.ts ROOT ID CONFIG_JSON MARKER");
  Deno.exit(2);
}
const factory = await createFactory({ root });
const container = await factory.create(id, JSON.parse(config));
console.log("starting");
await container.start({
  args: ["/bin/sh", "-c", "while :; do sleep 1; done", marker],
  stdin: "null",
  stdout: "null",
  stderr: "null",
});
console.log("started");
await new Promise(() => {}); // until killed
