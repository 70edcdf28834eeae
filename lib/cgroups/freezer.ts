/**
 * Pausing and resuming every process of a cgroup, and killing them all.
 *
 * v1: `freezer.state` is written `FROZEN` or `THAWED`, then read back every
 * millisecond (the read is what moves a FREEZING cgroup on) until it shows
 * the target, within a bound. v2: `cgroup.freeze` is written 1 or 0, then
 * `cgroup.events` is awaited until it shows `frozen 1` or `frozen 0` (the
 * kernel wakes a poll for POLLPRI on each change). Where a container has a
 * v1 freezer cgroup it is used (hybrid hosts); else its v2 directory.
 *
 * Killing: v2's `cgroup.kill` (Linux 5.14) when there is one; else freeze,
 * SIGKILL every pid of `cgroup.procs`, thaw, so no process forks away in
 * between; then wait until the cgroup is empty.
 *
 * @module
 */
import { libc } from "../../ffi/libc.ts";
import { O, POLL, SIGNALS } from "../../ffi/constants.ts";
import { ContainerError } from "../errors.ts";
import { closeFd, lstat, openFile, readAll, tryReadTextFile, writeFile } from "../sys/fs.ts";
import { waitFor } from "../sys/poll.ts";
import { kill } from "../sys/proc.ts";
import { cgroupPids } from "./manager.ts";

/** A freezer's state; FREEZING while some task has not stopped yet. */
export type FreezerState = "THAWED" | "FREEZING" | "FROZEN";

/** Options of {@link freeze}, {@link thaw} and {@link killAll}. */
export interface FreezeOptions {
  /** How long to wait for the state (or for the cgroup to empty), in ms; default 2000. */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 2000;

type Freezer = { version: 1 | 2; dir: string };

/** The cgroup that freezes the container: its v1 freezer cgroup, else its v2 directory. */
function freezerOf(paths: Readonly<Record<string, string>>): Freezer | undefined {
  if (paths["freezer"] !== undefined) return { version: 1, dir: paths["freezer"] };
  if (paths["unified"] !== undefined) return { version: 2, dir: paths["unified"] };
  return undefined;
}

function noFreezer(): ContainerError {
  return new ContainerError(
    "SystemError",
    "The container has no freezer: neither a v1 freezer cgroup nor a cgroup v2 directory",
  );
}

const EMPTY = new Uint8Array(0);

/** Sleeps on a worker thread (poll with no descriptor): no timer on the main thread. */
async function sleep(ms: number): Promise<void> {
  await libc().poll_async(EMPTY, 0n, ms);
}

/** Parses `cgroup.events` (`key value` lines). */
function parseEvents(text: string): Map<string, string> {
  const events = new Map<string, string>();
  for (const line of text.split("\n")) {
    const [key, value] = line.trim().split(/\s+/);
    if (key) events.set(key, value ?? "");
  }
  return events;
}

function readEvents(dir: string): Map<string, string> | null {
  const text = tryReadTextFile(`${dir}/cgroup.events`);
  return text === null ? null : parseEvents(text);
}

/**
 * Waits until `cgroup.events` satisfies `done`, within `timeoutMs`; returns
 * the last events read (null when the file is gone). A fresh descriptor per
 * round: reading it arms POLLPRI for any change after the read.
 */
async function waitForEvents(
  dir: string,
  done: (events: Map<string, string>) => boolean,
  timeoutMs: number,
): Promise<{ events: Map<string, string> | null; met: boolean }> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    let fd: number;
    try {
      fd = openFile(`${dir}/cgroup.events`, O.RDONLY);
    } catch {
      return { events: null, met: false };
    }
    try {
      const events = parseEvents(new TextDecoder().decode(readAll(fd)));
      if (done(events)) return { events, met: true };
      const remaining = Math.ceil(deadline - performance.now());
      if (remaining <= 0) return { events, met: false };
      await waitFor(fd, POLL.PRI, remaining);
    } finally {
      closeFd(fd);
    }
  }
}

/** The container's freezer state, or null when it has no freezer. */
export function freezerState(paths: Readonly<Record<string, string>>): FreezerState | null {
  const freezer = freezerOf(paths);
  if (freezer === undefined) return null;
  if (freezer.version === 1) {
    const state = tryReadTextFile(`${freezer.dir}/freezer.state`)?.trim();
    return state === "FROZEN" || state === "FREEZING" || state === "THAWED" ? state : null;
  }
  const asked = tryReadTextFile(`${freezer.dir}/cgroup.freeze`)?.trim();
  if (asked === undefined) return null;
  if (asked !== "1") return "THAWED";
  return readEvents(freezer.dir)?.get("frozen") === "1" ? "FROZEN" : "FREEZING";
}

/** True when the container's processes are frozen (its status is `paused`). */
export function frozen(paths: Readonly<Record<string, string>>): boolean {
  return freezerState(paths) === "FROZEN";
}

async function setV1(dir: string, target: "FROZEN" | "THAWED", timeoutMs: number): Promise<void> {
  const file = `${dir}/freezer.state`;
  const deadline = performance.now() + timeoutMs;
  let rewrite = performance.now() + 100;
  writeFile(file, target);
  for (;;) {
    const state = tryReadTextFile(file)?.trim();
    if (state === target) return;
    if (state === undefined || performance.now() >= deadline) {
      throw new ContainerError(
        "SystemError",
        `Freezer \`${dir}\` is stuck in ${state ?? "no state (its freezer.state is gone)"}: ` +
          `asked for ${target}, waited ${timeoutMs} ms`,
      );
    }
    await sleep(1);
    // A task that was busy when asked is frozen on a later request.
    if (target === "FROZEN" && performance.now() >= rewrite) {
      writeFile(file, target);
      rewrite = performance.now() + 100;
    }
  }
}

async function setV2(dir: string, target: "FROZEN" | "THAWED", timeoutMs: number): Promise<void> {
  const want = target === "FROZEN" ? "1" : "0";
  writeFile(`${dir}/cgroup.freeze`, want);
  const { events, met } = await waitForEvents(dir, (e) => e.get("frozen") === want, timeoutMs);
  if (!met) {
    const state = events === null
      ? "no state (its cgroup.events is gone)"
      : `frozen ${events.get("frozen") ?? "?"}`;
    throw new ContainerError(
      "SystemError",
      `Freezer \`${dir}\` is stuck in ${state}: asked for ${target}, waited ${timeoutMs} ms`,
    );
  }
}

async function setState(
  paths: Readonly<Record<string, string>>,
  target: "FROZEN" | "THAWED",
  options: FreezeOptions,
): Promise<void> {
  const freezer = freezerOf(paths);
  if (freezer === undefined) throw noFreezer();
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const set = freezer.version === 1 ? setV1 : setV2;
  try {
    await set(freezer.dir, target, timeoutMs);
  } catch (error) {
    // A half-frozen container is worse than a running one: thaw what did freeze.
    if (target === "FROZEN") {
      try {
        await set(freezer.dir, "THAWED", timeoutMs);
      } catch (thawError) {
        if (error instanceof ContainerError) error.cleanupErrors.push(thawError);
      }
    }
    throw error;
  }
}

/**
 * Freezes every process of the container (pause) and waits until they are
 * all frozen; when they are not within the timeout, thaws them again.
 *
 * @param paths Subsystem to directory, as in a container state's `cgroup_paths`.
 * @throws {ContainerError} `SystemError` naming the state the freezer is stuck in, or when there is no freezer.
 */
export function freeze(
  paths: Readonly<Record<string, string>>,
  options: FreezeOptions = {},
): Promise<void> {
  return setState(paths, "FROZEN", options);
}

/**
 * Thaws every process of the container (resume) and waits until the freezer says so.
 *
 * @param paths Subsystem to directory, as in a container state's `cgroup_paths`.
 * @throws {ContainerError} `SystemError` naming the state the freezer is stuck in, or when there is no freezer.
 */
export function thaw(
  paths: Readonly<Record<string, string>>,
  options: FreezeOptions = {},
): Promise<void> {
  return setState(paths, "THAWED", options);
}

/** The directory whose `cgroup.procs` lists the container's processes. */
function procsDir(paths: Readonly<Record<string, string>>): string | undefined {
  return paths["freezer"] ?? paths["unified"] ?? paths["devices"] ?? Object.values(paths)[0];
}

/**
 * Kills every process of the container with SIGKILL and waits until its
 * cgroup is empty: through `cgroup.kill` when the v2 directory has one,
 * else by freezing, killing each pid and thawing (the seed's
 * signalAllProcesses, for containers that share the host's pid namespace).
 *
 * @param paths Subsystem to directory, as in a container state's `cgroup_paths`.
 * @throws {ContainerError} `SystemError` when processes remain after the timeout.
 */
export async function killAll(
  paths: Readonly<Record<string, string>>,
  options: FreezeOptions = {},
): Promise<void> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const unified = paths["unified"];
  if (unified !== undefined && lstat(`${unified}/cgroup.kill`) !== null) {
    writeFile(`${unified}/cgroup.kill`, "1");
    const { met } = await waitForEvents(unified, (e) => e.get("populated") === "0", timeoutMs);
    if (!met && cgroupPids(unified).length > 0) throw survivors(unified, timeoutMs);
    return;
  }
  const dir = procsDir(paths);
  if (dir === undefined) return;
  const freezer = freezerOf(paths);
  let isFrozen = false;
  if (freezer !== undefined) {
    try {
      await freeze(paths, options);
      isFrozen = true;
    } catch {
      // a freezer that cannot freeze: kill in rounds below
    }
  }
  cgroupPids(dir).forEach((pid) => kill(pid, SIGNALS.SIGKILL!));
  if (isFrozen) await thaw(paths, options);
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const pids = cgroupPids(dir);
    if (pids.length === 0) return;
    if (performance.now() >= deadline) throw survivors(dir, timeoutMs);
    pids.forEach((pid) => kill(pid, SIGNALS.SIGKILL!));
    await sleep(1);
  }
}

function survivors(dir: string, timeoutMs: number): ContainerError {
  return new ContainerError(
    "SystemError",
    `Processes of \`${dir}\` survived SIGKILL for ${timeoutMs} ms: pids ${
      cgroupPids(dir).join(", ")
    }`,
  );
}
