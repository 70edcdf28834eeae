/**
 * Checks a seccomp profile of unknown shape and reports every problem with
 * the path of its field (`seccomp.syscalls[3].args[0].op`), so the config
 * validator can add the issues to its own. Nothing here throws for bad input.
 *
 * @module
 */
import type { ConfigIssue } from "../errors.ts";
import { isCapabilityName } from "../config/capabilities.ts";
import { formatPath, listOf, show, suggestKey } from "../config/_issues.ts";
import {
  ACTIONS,
  ACTIONS_WITH_DATA,
  ARCHITECTURES,
  FLAGS,
  MAX_ERRNO,
  OPERATORS,
  RULE_ARCHES,
  UNSUPPORTED_ACTIONS,
} from "./profile.ts";

const PROFILE_KEYS = [
  "defaultAction",
  "defaultErrnoRet",
  "architectures",
  "archMap",
  "flags",
  "syscalls",
  "listenerPath",
  "listenerMetadata",
];
const RULE_KEYS = ["names", "action", "errnoRet", "args", "includes", "excludes", "comment"];
const ARG_KEYS = ["index", "value", "valueTwo", "op"];
const FILTER_KEYS = ["caps", "arches", "minKernel"];
const ARCH_MAP_KEYS = ["architecture", "subArchitectures"];

const MAX_U64 = (1n << 64n) - 1n;
const SYSCALL_NAME = /^[A-Za-z0-9_]+$/;
/** `major.minor` or `major.minor.patch`, as `minKernel` is written. */
export const KERNEL_VERSION = /^(\d+)\.(\d+)(?:\.(\d+))?$/;

type Segment = string | number;
type Obj = Record<string, unknown>;

const isObject = (value: unknown): value is Obj =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** Arrays and objects by kind, other values quoted. */
function describe(value: unknown): string {
  if (Array.isArray(value)) return "an array";
  if (isObject(value)) return "an object";
  if (typeof value === "bigint") return show(`${value}n`);
  return show(value);
}

/** Whether `value` is an unsigned 64-bit integer: a safe integer number or a bigint. */
export function isUint64(value: unknown): value is number | bigint {
  if (typeof value === "bigint") return value >= 0n && value <= MAX_U64;
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}

class Walker {
  readonly issues: ConfigIssue[] = [];
  constructor(readonly base: string) {}

  path(segments: readonly Segment[]): string {
    const rest = formatPath(segments);
    if (!this.base) return rest;
    if (!rest) return this.base;
    return rest.startsWith("[") ? this.base + rest : `${this.base}.${rest}`;
  }

  add(segments: readonly Segment[], message: string): void {
    this.issues.push({ path: this.path(segments), message });
  }

  /** Unknown keys, each with the known key it most likely meant. */
  keys(value: Obj, known: readonly string[], at: readonly Segment[]): void {
    for (const key of Object.keys(value)) {
      if (known.includes(key)) continue;
      const suggestion = suggestKey(key, known);
      this.add(
        [...at, key],
        suggestion ? `Unknown key: did you mean \`${suggestion}\`?` : "Unknown key",
      );
    }
  }

  /** An optional array (absent or null is fine); returns its items or undefined. */
  array(value: unknown, at: readonly Segment[]): readonly unknown[] | undefined {
    if (value === undefined || value === null) return undefined;
    if (Array.isArray(value)) return value;
    this.add(at, `Expected an array, got ${describe(value)}`);
    return undefined;
  }

  /** A string from `allowed`; `what` names the kind for the message (`action`). */
  oneOf(
    value: unknown,
    allowed: readonly string[] | ReadonlySet<string>,
    at: readonly Segment[],
    what: string,
  ): value is string {
    if (typeof value !== "string") {
      const expected = `${/^[aeiou]/.test(what) ? "an" : "a"} ${what}`;
      this.add(
        at,
        value === undefined
          ? `Required: expected ${expected}`
          : `Expected ${expected}, got ${describe(value)}`,
      );
      return false;
    }
    const known = allowed instanceof Set
      ? allowed.has(value)
      : (allowed as string[]).includes(value);
    if (known) return true;
    const list = [...allowed];
    const suggestion = suggestKey(value, list);
    this.add(
      at,
      `Unknown ${what} ${show(value)}` +
        (suggestion ? `: did you mean \`${suggestion}\`?` : `: expected one of ${listOf(list)}`),
    );
    return false;
  }

  action(value: unknown, at: readonly Segment[]): value is keyof typeof ACTIONS {
    if (typeof value === "string" && Object.hasOwn(UNSUPPORTED_ACTIONS, value)) {
      this.add(at, `Not supported: ${show(value)} ${UNSUPPORTED_ACTIONS[value]}`);
      return false;
    }
    return this.oneOf(value, Object.keys(ACTIONS), at, "action");
  }

  /** `errnoRet`/`defaultErrnoRet` for the action it goes with. */
  data(value: unknown, action: unknown, at: readonly Segment[]): void {
    if (value === undefined || value === null) return;
    if (typeof action === "string" && !ACTIONS_WITH_DATA.has(action)) {
      this.add(at, `Only for \`SCMP_ACT_ERRNO\` or \`SCMP_ACT_TRACE\`, not ${show(action)}`);
      return;
    }
    const max = action === "SCMP_ACT_TRACE" ? 0xffff : MAX_ERRNO;
    if (typeof value !== "number" || !Number.isInteger(value)) {
      this.add(at, `Expected an integer, got ${describe(value)}`);
    } else if (value < 0 || value > max) {
      const what = action === "SCMP_ACT_TRACE" ? "a trace value" : "an errno";
      this.add(at, `Must be ${what} from 0 to ${max}, got ${show(value)}`);
    }
  }

  filter(value: unknown, at: readonly Segment[]): void {
    if (value === undefined || value === null) return;
    if (!isObject(value)) {
      this.add(at, `Expected an object, got ${describe(value)}`);
      return;
    }
    this.keys(value, FILTER_KEYS, at);
    const caps = this.array(value.caps, [...at, "caps"]);
    caps?.forEach((cap, i) => {
      const where = [...at, "caps", i];
      if (typeof cap !== "string") {
        this.add(where, `Expected a capability name, got ${describe(cap)}`);
      } else if (!isCapabilityName(cap.replace(/^CAP_/, ""))) {
        this.add(where, `Unknown capability ${show(cap)}`);
      }
    });
    const arches = this.array(value.arches, [...at, "arches"]);
    arches?.forEach((arch, i) =>
      this.oneOf(arch, RULE_ARCHES, [...at, "arches", i], "architecture")
    );
    const minKernel = value.minKernel;
    if (minKernel !== undefined && minKernel !== null) {
      if (typeof minKernel !== "string" || !KERNEL_VERSION.test(minKernel)) {
        this.add(
          [...at, "minKernel"],
          `Expected a kernel version such as \`5.10\`, got ${describe(minKernel)}`,
        );
      }
    }
  }

  arg(value: unknown, at: readonly Segment[]): void {
    if (!isObject(value)) {
      this.add(at, `Expected an object, got ${describe(value)}`);
      return;
    }
    this.keys(value, ARG_KEYS, at);
    const index = value.index;
    if (typeof index !== "number" || !Number.isInteger(index)) {
      this.add(
        [...at, "index"],
        index === undefined
          ? "Required: expected an argument index from 0 to 5"
          : `Expected an integer, got ${describe(index)}`,
      );
    } else if (index < 0 || index > 5) {
      this.add(
        [...at, "index"],
        `Must be 0 to 5 (a system call has six arguments), got ${show(index)}`,
      );
    }
    for (const key of ["value", "valueTwo"] as const) {
      const v = value[key];
      if ((v === undefined || v === null) && key === "valueTwo") continue;
      if (!isUint64(v)) {
        this.add(
          [...at, key],
          v === undefined
            ? "Required: expected an unsigned 64-bit integer"
            : typeof v === "number" && Number.isInteger(v) && v > 0
            ? `Above 2^53, where JSON numbers lose precision: give it as a bigint, got ${show(v)}`
            : `Expected an unsigned 64-bit integer, got ${describe(v)}`,
        );
      }
    }
    this.oneOf(value.op, OPERATORS, [...at, "op"], "operator");
  }

  rule(value: unknown, at: readonly Segment[]): void {
    if (!isObject(value)) {
      this.add(at, `Expected an object, got ${describe(value)}`);
      return;
    }
    this.keys(value, RULE_KEYS, at);
    const names = value.names;
    if (!Array.isArray(names)) {
      this.add(
        [...at, "names"],
        names === undefined
          ? "Required: expected an array of system call names"
          : `Expected an array, got ${describe(names)}`,
      );
    } else if (names.length === 0) {
      this.add([...at, "names"], "Must name at least one system call");
    } else {
      names.forEach((name, i) => {
        if (typeof name !== "string" || !SYSCALL_NAME.test(name)) {
          this.add([...at, "names", i], `Expected a system call name, got ${describe(name)}`);
        }
      });
    }
    const action = value.action;
    this.action(action, [...at, "action"]);
    this.data(value.errnoRet, action, [...at, "errnoRet"]);
    const args = this.array(value.args, [...at, "args"]);
    args?.forEach((arg, i) => this.arg(arg, [...at, "args", i]));
    this.filter(value.includes, [...at, "includes"]);
    this.filter(value.excludes, [...at, "excludes"]);
    if (value.comment !== undefined && typeof value.comment !== "string") {
      this.add([...at, "comment"], `Expected a string, got ${describe(value.comment)}`);
    }
  }

  profile(value: unknown): void {
    if (!isObject(value)) {
      this.add([], `Expected an object, got ${describe(value)}`);
      return;
    }
    this.keys(value, PROFILE_KEYS, []);
    this.action(value.defaultAction, ["defaultAction"]);
    this.data(value.defaultErrnoRet, value.defaultAction, ["defaultErrnoRet"]);
    const arches = this.array(value.architectures, ["architectures"]);
    arches?.forEach((arch, i) =>
      this.oneOf(arch, ARCHITECTURES, ["architectures", i], "architecture")
    );
    const archMap = this.array(value.archMap, ["archMap"]);
    archMap?.forEach((entry, i) => {
      const at = ["archMap", i];
      if (!isObject(entry)) {
        this.add(at, `Expected an object, got ${describe(entry)}`);
        return;
      }
      this.keys(entry, ARCH_MAP_KEYS, at);
      this.oneOf(entry.architecture, ARCHITECTURES, [...at, "architecture"], "architecture");
      const subs = this.array(entry.subArchitectures, [...at, "subArchitectures"]);
      subs?.forEach((arch, j) =>
        this.oneOf(arch, ARCHITECTURES, [...at, "subArchitectures", j], "architecture")
      );
    });
    if (arches?.length && archMap?.length) {
      this.add(["archMap"], "Give either `architectures` or `archMap`, not both");
    }
    const flags = this.array(value.flags, ["flags"]);
    flags?.forEach((flag, i) => this.oneOf(flag, Object.keys(FLAGS), ["flags", i], "flag"));
    for (const key of ["listenerPath", "listenerMetadata"]) {
      const v = value[key];
      if (v === undefined || v === null || v === "") continue;
      this.add(
        [key],
        typeof v === "string"
          ? "Not supported: this runtime runs no seccomp user-notification listener"
          : `Expected a string, got ${describe(v)}`,
      );
    }
    const rules = this.array(value.syscalls, ["syscalls"]);
    rules?.forEach((rule, i) => this.rule(rule, ["syscalls", i]));
  }
}

/**
 * Checks a seccomp profile (OCI `linux.seccomp`, with moby's `includes`,
 * `excludes` and `archMap`).
 *
 * @param profile The profile, of unknown shape.
 * @param path Where the profile sits in the config; issues' paths start with it.
 * @returns Every problem found, in document order; empty when the profile is good.
 */
export function validateSeccomp(profile: unknown, path = "seccomp"): ConfigIssue[] {
  const walker = new Walker(path);
  walker.profile(profile);
  return walker.issues;
}
