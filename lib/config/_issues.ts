/**
 * Issue plumbing shared by the schema and the checks: field paths in the
 * `mounts[2].destination` form, values quoted for messages, and zod's issues
 * rewritten into the runtime's message style.
 *
 * @module
 */
import type { z } from "../_deps/zod.ts";
import type { ConfigIssue } from "../errors.ts";

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Joins path segments: `["mounts", 2, "destination"]` becomes `mounts[2].destination`. */
export function formatPath(segments: readonly PropertyKey[]): string {
  let out = "";
  for (const segment of segments) {
    if (typeof segment === "number") out += `[${segment}]`;
    else if (typeof segment === "string" && IDENTIFIER.test(segment)) {
      out += out ? `.${segment}` : segment;
    } else out += `[${JSON.stringify(String(segment))}]`;
  }
  return out;
}

const MAX_SHOWN = 60;

/** A value as messages quote it: strings bare, the rest as JSON, in backquotes, cut when long. */
export function show(value: unknown): string {
  let text = typeof value === "string" ? value : JSON.stringify(value) ?? String(value);
  if (text.length > MAX_SHOWN) text = `${text.slice(0, MAX_SHOWN - 3)}...`;
  return `\`${text}\``;
}

/** Backquotes each value and joins them as `a`, `b` or `c`. */
export function oneOf(values: readonly unknown[]): string {
  const shown = values.map(show);
  return shown.length < 2 ? shown.join("") : `${shown.slice(0, -1).join(", ")} or ${shown.at(-1)}`;
}

const KINDS: Record<string, string> = {
  string: "a string",
  number: "a number",
  int: "an integer",
  boolean: "a boolean",
  array: "an array",
  object: "an object",
  record: "an object",
};

function kindOf(expected: string): string {
  return KINDS[expected] ?? expected;
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return "an array";
  if (value !== null && typeof value === "object") return "an object";
  return show(value);
}

type RawIssue = z.core.$ZodRawIssue;

function boundMessage(issue: RawIssue & { code: "too_small" | "too_big" }): string {
  const small = issue.code === "too_small";
  const bound = small
    ? (issue as { minimum: number | bigint }).minimum
    : (issue as { maximum: number | bigint }).maximum;
  const origin = issue.origin;
  if (origin === "string" || origin === "array") {
    if (small && Number(bound) === 1) return "Must not be empty";
    const unit = origin === "string" ? "characters" : "entries";
    return `Must have ${small ? "at least" : "at most"} ${bound} ${unit}`;
  }
  const relation = issue.inclusive === false
    ? (small ? "greater than" : "less than")
    : (small ? "at least" : "at most");
  return `Must be ${relation} ${bound}, got ${show(issue.input)}`;
}

/**
 * The message for one zod issue, in the runtime's style. Schemas that set
 * their own `error` take precedence over this map; unknown keys get their
 * message in {@link toConfigIssues}, where each key becomes its own issue.
 */
export function issueMessage(issue: RawIssue): string {
  switch (issue.code) {
    case "invalid_type":
      return issue.input === undefined
        ? `Required: expected ${kindOf(issue.expected)}`
        : `Expected ${kindOf(issue.expected)}, got ${describe(issue.input)}`;
    case "invalid_value": {
      const expected = issue.values.length > 1
        ? `one of ${oneOf(issue.values)}`
        : oneOf(issue.values);
      return `Must be ${expected}, got ${show(issue.input)}`;
    }
    case "too_small":
    case "too_big":
      return boundMessage(issue);
    case "unrecognized_keys":
      return "Unknown key";
    default:
      return `Invalid value: got ${describe(issue.input)}`;
  }
}

/** Lower-cased with `_` dropped, so `noPivotRoot`, `NoPivotRoot` and `no_pivot_root` compare equal. */
function looseKey(key: string): string {
  return key.toLowerCase().replaceAll("_", "");
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
    }
    previous = current;
  }
  return previous[b.length]!;
}

/** The known key a misspelt one most likely meant (Go field names included), if any is close. */
export function suggestKey(key: string, known: readonly string[]): string | undefined {
  const loose = looseKey(key);
  const exact = known.find((k) => looseKey(k) === loose);
  if (exact) return exact;
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of known) {
    const distance = editDistance(loose, looseKey(candidate));
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance];
  }
  return best;
}

/**
 * Converts zod's issues into config issues. An unknown-keys issue becomes
 * one issue per key, its path ending in that key; `knownKeys` gives the
 * fields of the object that held it, to suggest the intended one.
 */
export function toConfigIssues(
  issues: readonly z.core.$ZodIssue[],
  knownKeys: (input: unknown) => readonly string[],
): ConfigIssue[] {
  return issues.flatMap((issue) => {
    if (issue.code !== "unrecognized_keys") {
      return [{ path: formatPath(issue.path), message: issue.message }];
    }
    const known = knownKeys(issue.input);
    return issue.keys.map((key) => {
      const suggestion = suggestKey(key, known);
      return {
        path: formatPath([...issue.path, key]),
        message: suggestion ? `Unknown key: did you mean \`${suggestion}\`?` : "Unknown key",
      };
    });
  });
}
