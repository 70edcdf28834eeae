/**
 * Device access rules, evaluated by the WASM core. The config's rules become
 * the write sequence the seed made on a v1 devices cgroup (`a` to
 * `devices.deny` then each allowed rule to `devices.allow`, or `a` to
 * `devices.allow` then each denied rule to `devices.deny`); the core replays
 * it with the kernel's semantics and gives back the decisions of the result:
 * the minimal v1 writes, a yes/no answer for one access, and the cgroup v2
 * device program (eBPF) that decides the same.
 *
 * Knows nothing of containers: it takes rules and gives writes, answers and
 * instructions.
 *
 * @module
 */
import { ConfigError, type ConfigIssue } from "../errors.ts";
import {
  DEV_ACC_MKNOD,
  DEV_ACC_READ,
  DEV_ACC_WRITE,
  DEV_FILE_ALLOW,
  DEV_FILE_DENY,
  DEV_MAX,
  DEV_PROG,
  DEV_WRITES,
  DEVICE_RECORD,
  INPUT,
  putInput,
  STATUS_ERROR_AT,
  wasmCore,
  wasmErrorName,
} from "../../wasm/mod.ts";

/** One device rule: type `a`, `c` or `b`; -1 is a wildcard major or minor; permissions are letters of `rwm`. */
export interface DeviceRule {
  /** `a`, `b` or `c`. */
  type: string;
  /** Major number, -1 for any. */
  major: number;
  /** Minor number, -1 for any. */
  minor: number;
  /** Letters of `rwm`; "" means all three. */
  permissions: string;
}

/** A config's device rules: allow everything but `denied`, or nothing but `allowed`. */
export interface DeviceRules {
  /** Allow every device but `denied`; otherwise deny every device but `allowed`. */
  allowAll: boolean;
  /** The devices granted when `allowAll` is false. */
  allowed: readonly DeviceRule[];
  /** The devices refused when `allowAll` is true. */
  denied: readonly DeviceRule[];
}

/** The devices cgroup (v1) files. */
export type DeviceFile = "devices.allow" | "devices.deny";

/** One write to a v1 devices cgroup file. */
export interface DeviceWrite {
  /** The file written to. */
  file: DeviceFile;
  /** `a`, `b` or `c`. */
  type: string;
  /** Major number, -1 for `*`. */
  major: number;
  /** Minor number, -1 for `*`. */
  minor: number;
  /** Letters of `rwm`, in that order. */
  permissions: string;
}

/** An access to ask about: `r`, `w`, `m` or several of them (all must be allowed). */
export type DeviceAccess = string;

const ACCESS_BITS: Record<string, number> = {
  r: DEV_ACC_READ,
  w: DEV_ACC_WRITE,
  m: DEV_ACC_MKNOD,
};

/** The access bits of a permission string; "" means `rwm`, as the v1 writer always did. */
export function accessBits(permissions: string): number {
  if (permissions === "") return DEV_ACC_READ | DEV_ACC_WRITE | DEV_ACC_MKNOD;
  let bits = 0;
  for (const letter of permissions) {
    const bit = ACCESS_BITS[letter];
    if (bit === undefined) return -1;
    bits |= bit;
  }
  return bits;
}

/** The permission letters of access bits, in `rwm` order. */
export function permissionString(bits: number): string {
  return (bits & DEV_ACC_READ ? "r" : "") + (bits & DEV_ACC_WRITE ? "w" : "") +
    (bits & DEV_ACC_MKNOD ? "m" : "");
}

/** The devices-cgroup text of a write, such as `c 1:3 rwm`, `c 136:* rw` or `a`. */
export function deviceWriteText(write: Omit<DeviceWrite, "file">): string {
  if (write.type === "a") return "a";
  const number = (n: number) => n < 0 ? "*" : String(n);
  return `${write.type} ${number(write.major)}:${number(write.minor)} ${write.permissions}`;
}

/** The seed's write sequence for a config's rules. */
export function seedWrites(rules: DeviceRules): DeviceWrite[] {
  const [first, rest, list]: [DeviceFile, DeviceFile, readonly DeviceRule[]] = rules.allowAll
    ? ["devices.allow", "devices.deny", rules.denied]
    : ["devices.deny", "devices.allow", rules.allowed];
  return [
    { file: first, type: "a", major: -1, minor: -1, permissions: "rwm" },
    ...list.map((rule) => ({
      file: rest,
      type: rule.type,
      major: rule.major,
      minor: rule.minor,
      permissions: permissionString(accessBits(rule.permissions)),
    })),
  ];
}

const MAX_NUMBER = 0x7fffffff;

function checkRules(rules: DeviceRules): void {
  const issues: ConfigIssue[] = [];
  const list = rules.allowAll ? "denied_devices" : "allowed_devices";
  for (const [i, rule] of (rules.allowAll ? rules.denied : rules.allowed).entries()) {
    const at = `cgroups.${list}[${i}]`;
    if (rule.type !== "a" && rule.type !== "b" && rule.type !== "c") {
      issues.push({
        path: `${at}.type`,
        message: `Must be \`a\`, \`b\` or \`c\`, got ${rule.type}`,
      });
    }
    for (const key of ["major", "minor"] as const) {
      const n = rule[key];
      if (!Number.isInteger(n) || n < -1 || n > MAX_NUMBER) {
        issues.push({
          path: `${at}.${key}`,
          message: `Must be -1 or 0 to ${MAX_NUMBER}, got ${n}`,
        });
      }
    }
    if (accessBits(rule.permissions) < 0) {
      issues.push({
        path: `${at}.permissions`,
        message: `Must be letters of \`rwm\`, got ${rule.permissions}`,
      });
    }
  }
  if (issues.length > 0) throw new ConfigError(issues);
}

/** Encodes writes as the core's DEVICE_RECORDs. */
export function encodeWrites(writes: readonly DeviceWrite[]): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(writes.length * DEVICE_RECORD);
  const view = new DataView(bytes.buffer);
  writes.forEach((write, i) => {
    const at = i * DEVICE_RECORD;
    bytes[at] = write.file === "devices.allow" ? DEV_FILE_ALLOW : DEV_FILE_DENY;
    bytes[at + 1] = write.type.charCodeAt(0);
    bytes[at + 2] = accessBits(write.permissions);
    view.setInt32(at + 4, write.major, true);
    view.setInt32(at + 8, write.minor, true);
  });
  return bytes;
}

/** The policy whose evaluation the core holds now. */
let current: DevicePolicy | undefined;

/**
 * The decisions of a set of device rules, as the kernel would make them
 * after the seed's writes. Build one with {@link devicePolicy}.
 */
export class DevicePolicy {
  /** The minimal v1 writes that decide every access as the seed's writes did, `a` first. */
  readonly writes: readonly DeviceWrite[];
  /** True when every device is allowed by default (the first write is `a` to `devices.allow`). */
  readonly allowByDefault: boolean;
  #input: Uint8Array<ArrayBuffer>;
  #program: Uint8Array<ArrayBuffer> | undefined;

  /** Evaluates encoded writes (see {@link encodeWrites}). */
  constructor(input: Uint8Array<ArrayBuffer>) {
    this.#input = input;
    this.writes = this.#evaluate();
    this.allowByDefault = this.writes[0]!.file === "devices.allow";
  }

  #evaluate(): DeviceWrite[] {
    const core = wasmCore();
    const count = core.deviceRules(INPUT, putInput(this.#input));
    if (count < 0) {
      current = undefined;
      const index = core.i32[STATUS_ERROR_AT >> 2]!;
      throw new RangeError(`Device rule write ${index}: ${wasmErrorName(count)}`);
    }
    current = this;
    const writes: DeviceWrite[] = [];
    for (let i = 0; i < count; i++) {
      const at = DEV_WRITES + i * DEVICE_RECORD;
      writes.push({
        file: core.bytes[at] === DEV_FILE_ALLOW ? "devices.allow" : "devices.deny",
        type: String.fromCharCode(core.bytes[at + 1]!),
        major: core.view.getInt32(at + 4, true),
        minor: core.view.getInt32(at + 8, true),
        permissions: permissionString(core.bytes[at + 2]!),
      });
    }
    return writes;
  }

  #load(): void {
    if (current !== this) this.#evaluate();
  }

  /**
   * Whether `access` to the device is allowed.
   *
   * @param type `c` or `b`.
   * @param access `r`, `w`, `m`, or several letters (all must be allowed, as one open asks).
   */
  allows(type: string, major: number, minor: number, access: DeviceAccess): boolean {
    const bits = accessBits(access);
    if (access === "" || bits < 0 || (type !== "b" && type !== "c")) {
      throw new RangeError(`Bad device query: ${type} ${major}:${minor} ${access}`);
    }
    this.#load();
    const answer = wasmCore().deviceAllowed(type.charCodeAt(0), major, minor, bits);
    if (answer < 0) throw new RangeError(`Device query failed: ${wasmErrorName(answer)}`);
    return answer === 1;
  }

  /** The cgroup v2 device program: eBPF instructions, 8 bytes each. */
  program(): Uint8Array<ArrayBuffer> {
    if (this.#program === undefined) {
      this.#load();
      const core = wasmCore();
      const count = core.deviceProgram();
      if (count < 0) throw new RangeError(`Device program failed: ${wasmErrorName(count)}`);
      this.#program = core.bytes.slice(DEV_PROG, DEV_PROG + count * 8);
    }
    return this.#program;
  }
}

/**
 * Evaluates a config's device rules.
 *
 * @throws {ConfigError} for a rule the devices cgroup cannot take.
 */
export function devicePolicy(rules: DeviceRules): DevicePolicy {
  checkRules(rules);
  const writes = seedWrites(rules);
  if (writes.length > DEV_MAX) {
    throw new ConfigError([{ path: "cgroups", message: `More than ${DEV_MAX - 1} device rules` }]);
  }
  return new DevicePolicy(encodeWrites(writes));
}
