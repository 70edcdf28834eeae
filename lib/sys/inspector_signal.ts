/**
 * Deno 2.9.2 and later open a V8 inspector on 127.0.0.1:9229 when the
 * process receives SIGUSR1 (denoland/deno#35738), with no switch to turn
 * that off. A root process that manages containers must never do that: a
 * container sharing the host's pid and network namespaces could signal it
 * and then drive it. Deno installs its SIGUSR1 handler about half a second
 * after start-up, so the signal is set to be ignored now (until then it
 * would kill the process) and again after Deno's handler is in place.
 *
 * @module
 */
import { libc } from "../../ffi/libc.ts";

const SIGUSR1 = 10;
const SIG_IGN = 1n;
const AFTER_DENO_INSTALLS_MS = [600, 1000, 2000];

function ignore(): void {
  libc().signal(SIGUSR1, Deno.UnsafePointer.create(SIG_IGN));
}

/**
 * Makes this process ignore SIGUSR1, so that it can never open Deno's
 * inspector. SIGUSR1 listeners of the program stop working too.
 */
export function refuseInspectorSignal(): void {
  ignore();
  for (const delay of AFTER_DENO_INSTALLS_MS) Deno.unrefTimer(setTimeout(ignore, delay));
}
