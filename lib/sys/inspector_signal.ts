/**
 * Deno 2.9.2 and later open a V8 inspector on 127.0.0.1:9229 when the
 * process receives SIGUSR1 (denoland/deno#35738), with no switch to turn
 * that off. A root process that manages containers must never do that: a
 * container sharing the host's pid and network namespaces could signal it
 * and then drive it. Deno installs its SIGUSR1 handler about half a second
 * after start-up, so the signal is set to be ignored now (until then it
 * would kill the process) and again once Deno's handler is in place.
 *
 * @module
 */
import { libc } from "../../ffi/libc.ts";
import { sys } from "../../ffi/syscalls.ts";

const SIGUSR1 = 10;
const SIG_IGN = 1n;
const AFTER_DENO_INSTALLS_MS = [700, 1500];

function ignore(): void {
  sys.sigaction(SIGUSR1, SIG_IGN);
}

/**
 * Makes this process ignore SIGUSR1, so that it can never open Deno's
 * inspector; SIGUSR1 listeners of the program stop working too. The
 * re-ignores run on worker-thread timers (a first `setTimeout` costs Deno
 * several milliseconds), which keep the event loop alive for 1.5 s at most.
 */
export function refuseInspectorSignal(): void {
  ignore();
  const none = new Uint8Array(8);
  for (const delay of AFTER_DENO_INSTALLS_MS) libc().poll_async(none, 0n, delay).then(ignore);
}
