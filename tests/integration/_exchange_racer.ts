/**
 * Fixture of race_test.ts: swaps two paths with renameat2(RENAME_EXCHANGE)
 * as fast as it can until STOPFILE exists (or a minute has passed), then
 * prints how many swaps it made.
 *
 * Usage: deno run --allow-all _exchange_racer.ts A B STOPFILE
 *
 * @module
 */
import { errno, NR, syscall } from "../../ffi/syscalls.ts";

const [a, b, stop] = Deno.args;
if (a === undefined || b === undefined || stop === undefined) {
  console.error("usage: _exchange_racer.ts A B STOPFILE");
  Deno.exit(2);
}
const AT_FDCWD = -100;
const RENAME_EXCHANGE = 2;
const encoder = new TextEncoder();
const from = encoder.encode(a + "\0");
const to = encoder.encode(b + "\0");
const deadline = Date.now() + 60_000;
let swaps = 0;
console.log("started");
while (Date.now() < deadline) {
  for (let i = 0; i < 1000; i++) {
    if (syscall(NR.renameat2, AT_FDCWD, from, AT_FDCWD, to, RENAME_EXCHANGE) < 0) {
      console.error(`renameat2: errno ${errno()}`);
      Deno.exit(1);
    }
    swaps++;
  }
  try {
    Deno.statSync(stop);
    break;
  } catch {
    // go on
  }
}
console.log(JSON.stringify({ swaps }));
