/**
 * Resource limit names and numbers (asm-generic/resource.h, the same on
 * every architecture this runtime builds for).
 *
 * @module
 */

/** Every `RLIMIT_*` resource with its number for setrlimit(2). */
export const RLIMITS = {
  RLIMIT_CPU: 0,
  RLIMIT_FSIZE: 1,
  RLIMIT_DATA: 2,
  RLIMIT_STACK: 3,
  RLIMIT_CORE: 4,
  RLIMIT_RSS: 5,
  RLIMIT_NPROC: 6,
  RLIMIT_NOFILE: 7,
  RLIMIT_MEMLOCK: 8,
  RLIMIT_AS: 9,
  RLIMIT_LOCKS: 10,
  RLIMIT_SIGPENDING: 11,
  RLIMIT_MSGQUEUE: 12,
  RLIMIT_NICE: 13,
  RLIMIT_RTPRIO: 14,
  RLIMIT_RTTIME: 15,
} as const;
Object.freeze(RLIMITS);

/** A resource limit name, such as `RLIMIT_NOFILE`. */
export type RlimitName = keyof typeof RLIMITS;

/**
 * The number of a resource limit given by name, with or without the
 * `RLIMIT_` prefix (`RLIMIT_NOFILE` or `NOFILE`); `undefined` when unknown.
 */
export function rlimitNumber(name: string): number | undefined {
  const full = name.startsWith("RLIMIT_") ? name : `RLIMIT_${name}`;
  return Object.hasOwn(RLIMITS, full) ? RLIMITS[full as RlimitName] : undefined;
}

/** The name of a resource limit number, such as `RLIMIT_NOFILE` for 7; `undefined` when unknown. */
export function rlimitName(type: number): RlimitName | undefined {
  return (Object.keys(RLIMITS) as RlimitName[]).find((name) => RLIMITS[name] === type);
}
