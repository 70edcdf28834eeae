/**
 * Linux capability names and numbers (linux/capability.h). Configs name a
 * capability without the `CAP_` prefix, as the seed did: `NET_ADMIN`.
 *
 * @module
 */

/** Every capability the kernel defines, by name without `CAP_`, with its number. */
export const CAPABILITIES = {
  CHOWN: 0,
  DAC_OVERRIDE: 1,
  DAC_READ_SEARCH: 2,
  FOWNER: 3,
  FSETID: 4,
  KILL: 5,
  SETGID: 6,
  SETUID: 7,
  SETPCAP: 8,
  LINUX_IMMUTABLE: 9,
  NET_BIND_SERVICE: 10,
  NET_BROADCAST: 11,
  NET_ADMIN: 12,
  NET_RAW: 13,
  IPC_LOCK: 14,
  IPC_OWNER: 15,
  SYS_MODULE: 16,
  SYS_RAWIO: 17,
  SYS_CHROOT: 18,
  SYS_PTRACE: 19,
  SYS_PACCT: 20,
  SYS_ADMIN: 21,
  SYS_BOOT: 22,
  SYS_NICE: 23,
  SYS_RESOURCE: 24,
  SYS_TIME: 25,
  SYS_TTY_CONFIG: 26,
  MKNOD: 27,
  LEASE: 28,
  AUDIT_WRITE: 29,
  AUDIT_CONTROL: 30,
  SETFCAP: 31,
  MAC_OVERRIDE: 32,
  MAC_ADMIN: 33,
  SYSLOG: 34,
  WAKE_ALARM: 35,
  BLOCK_SUSPEND: 36,
  AUDIT_READ: 37,
  PERFMON: 38,
  BPF: 39,
  CHECKPOINT_RESTORE: 40,
} as const;
Object.freeze(CAPABILITIES);

/** A capability name as configs spell it, such as `NET_ADMIN`. */
export type CapabilityName = keyof typeof CAPABILITIES;

/** Whether `name` is a known capability (case-sensitive, without `CAP_`). */
export function isCapabilityName(name: string): name is CapabilityName {
  return Object.hasOwn(CAPABILITIES, name);
}

/**
 * The kernel's number for a capability.
 *
 * @param name A capability name without `CAP_`, such as `SYS_ADMIN`.
 * @returns Its bit number, 0 to 40.
 * @throws {RangeError} when the name is not a known capability; validated configs never hold one.
 */
export function capabilityNumber(name: string): number {
  if (!isCapabilityName(name)) throw new RangeError(`Unknown capability \`${name}\``);
  return CAPABILITIES[name];
}
