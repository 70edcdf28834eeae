/**
 * nsinit: run and manage containers from the command line, built only on
 * the library in mod.ts.
 *
 * ```sh
 * deno run --allow-ffi cli/nsinit.ts exec --tty /bin/sh
 * ```
 *
 * This entry point runs `_bundle.js`: cli/main.ts and the library bundled
 * into one module by `deno task build` (a unit test fails when it is stale).
 * Deno loads one module in a few milliseconds where the seventy it is made
 * of take over ten, and nsinit starts once per container.
 *
 * @module
 */
import { main } from "./_bundle.js";

if (import.meta.main) Deno.exit(await main(Deno.args));
