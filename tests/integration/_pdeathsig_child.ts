/**
 * Fixture of process_test.ts: creates a container in another Deno process,
 * prints its first process's pid and start time as one line of JSON, then
 * waits on it until the test kills this process.
 *
 * Usage: deno run --allow-ffi _pdeathsig_child.ts ROOT ID CONFIG_JSON
 *
 * @module
 */
import { createFactory } from "../../mod.ts";

const [root, id, configJson] = Deno.args;
if (root === undefined || id === undefined || configJson === undefined) {
  console.error("usage: _pdeathsig_child.ts ROOT ID CONFIG_JSON");
  Deno.exit(2);
}
const factory = await createFactory({ root });
const container = await factory.create(id, JSON.parse(configJson));
const process = await container.start({
  args: ["/bin/probe", "sleep", "0"],
  stdin: "null",
  stdout: "null",
  stderr: "null",
});
console.log(JSON.stringify({ pid: process.pid }));
await process.wait();
