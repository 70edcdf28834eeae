/**
 * Fixture of process_test.ts: runs one container process whose standard
 * streams are inherited from this Deno process, then destroys the
 * container and exits with the process's status.
 *
 * Usage: deno run --allow-ffi _inherit_child.ts ROOT ID CONFIG_JSON COMMAND [ARGS...]
 *
 * @module
 */
import { createFactory } from "../../mod.ts";

const [root, id, configJson, ...args] = Deno.args;
if (root === undefined || id === undefined || configJson === undefined || args.length === 0) {
  console.error("usage: _inherit_child.ts ROOT ID CONFIG_JSON COMMAND [ARGS...]");
  Deno.exit(2);
}
const factory = await createFactory({ root });
const container = await factory.create(id, JSON.parse(configJson));
let code = 1;
try {
  const process = await container.start({ args });
  code = (await process.wait()).code;
} finally {
  await container.destroy();
}
Deno.exit(code);
