/**
 * Plain TypeScript reference parsers, for the tests only: they decode the
 * bytes to text and follow the grammar with splits and regular expressions,
 * independently of the WASM core, whose results must equal theirs.
 *
 * @module
 */

/** The WASM core's value for `max`. */
export const MAX = -1;
const U64_MAX = (1n << 64n) - 1n;

/** A result: the values, or the error code the core must return. */
export type Result<T> = { ok: true; value: T } | { ok: false; code: number };

const SYNTAX = { ok: false, code: -1 } as const;

/** One number token: digits (saturating at 2^64 - 1), minus and digits (0), or `max`. */
export function refNumber(token: string): number | null {
  if (token === "max") return MAX;
  if (/^-[0-9]+$/.test(token)) return 0;
  if (!/^[0-9]+$/.test(token)) return null;
  const value = BigInt(token);
  return Number(value > U64_MAX ? U64_MAX : value);
}

/** Only spaces and tabs. */
function blank(text: string): boolean {
  return /^[ \t]*$/.test(text);
}

/** The text before the first space or tab, and what follows it. */
function firstToken(text: string): [string, string] {
  const match = /^([^ \t]*)(.*)$/s.exec(text)!;
  return [match[1]!, match[2]!];
}

function lines(text: string): string[] {
  return text.split("\n").map((line) => line.replace(/^[ \t]+/, "")).filter((l) => l !== "");
}

export function refScalar(text: string): Result<number> {
  const tokens = text.split(/[ \t\n]+/).filter((t) => t !== "");
  if (tokens.length !== 1) return SYNTAX;
  const value = refNumber(tokens[0]!);
  return value === null ? SYNTAX : { ok: true, value };
}

export function refList(text: string): Result<number[]> {
  const values: number[] = [];
  for (const token of text.split(/[ \t\n]+/).filter((t) => t !== "")) {
    const value = refNumber(token);
    if (value === null) return SYNTAX;
    if (values.length === 8192) return { ok: false, code: -3 };
    values.push(value);
  }
  return { ok: true, value: values };
}

/** What a keyed parse gives: a value (or undefined when absent) per wanted key, and the unknown-key line count. */
export interface Keyed {
  values: (number | undefined)[];
  unknown: number;
}

export function refKeyed(keys: readonly string[], text: string): Result<Keyed> {
  const values: (number | undefined)[] = keys.map(() => undefined);
  let unknown = 0;
  for (const line of lines(text)) {
    const [key, rest] = firstToken(line);
    const index = keys.indexOf(key);
    if (index < 0) {
      unknown++;
      continue;
    }
    if (!/^[ \t]/.test(rest)) return SYNTAX;
    const [token, after] = firstToken(rest.replace(/^[ \t]+/, ""));
    const value = refNumber(token);
    if (value === null || !blank(after)) return SYNTAX;
    values[index] = value;
  }
  return { ok: true, value: { values, unknown } };
}

/** A blkio line: op is the word, "" when the line has none. */
export interface BlkioLine {
  major: number;
  minor: number;
  op: string;
  value: number;
}

function u32(digits: string): number | null {
  const value = BigInt(digits);
  return value > 0xffffffffn ? null : Number(value);
}

export function refBlkio(text: string): Result<BlkioLine[]> {
  const out: BlkioLine[] = [];
  for (const line of lines(text)) {
    if (/^[A-Za-z]/.test(line)) {
      const match = /^([A-Za-z]+)([ \t].*)$/s.exec(line);
      if (!match || match[1] !== "Total") return SYNTAX;
      const [token, after] = firstToken(match[2]!.replace(/^[ \t]+/, ""));
      if (refNumber(token) === null || !blank(after)) return SYNTAX;
      continue;
    }
    const device = /^([0-9]+):([0-9]+)([ \t].*)$/s.exec(line);
    if (!device) return SYNTAX;
    const major = u32(device[1]!);
    const minor = u32(device[2]!);
    if (major === null || minor === null) return SYNTAX;
    let rest = device[3]!.replace(/^[ \t]+/, "");
    let op = "";
    if (/^[A-Za-z]/.test(rest)) {
      const word = /^([A-Za-z]+)([ \t].*)$/s.exec(rest);
      if (!word) return SYNTAX;
      op = word[1]!;
      rest = word[2]!.replace(/^[ \t]+/, "");
    }
    const [token, after] = firstToken(rest);
    const value = refNumber(token);
    if (value === null || !blank(after)) return SYNTAX;
    out.push({ major, minor, op, value });
  }
  return { ok: true, value: out };
}

/** An io.stat line: the six counters in the core's order. */
export interface IoStatLine {
  major: number;
  minor: number;
  values: number[];
}

const IO_KEYS = ["rbytes", "wbytes", "rios", "wios", "dbytes", "dios"];

export function refIoStat(text: string): Result<IoStatLine[]> {
  const out: IoStatLine[] = [];
  for (const line of lines(text)) {
    const device = /^([0-9]+):([0-9]+)(([ \t].*)?)$/s.exec(line);
    if (!device) return SYNTAX;
    const major = u32(device[1]!);
    const minor = u32(device[2]!);
    if (major === null || minor === null) return SYNTAX;
    const values = [0, 0, 0, 0, 0, 0];
    for (const field of device[3]!.split(/[ \t]+/).filter((f) => f !== "")) {
      const equals = field.indexOf("=");
      if (equals <= 0) return SYNTAX;
      const slot = IO_KEYS.indexOf(field.slice(0, equals));
      if (slot < 0) continue;
      const value = refNumber(field.slice(equals + 1));
      if (value === null) return SYNTAX;
      values[slot] = value;
    }
    out.push({ major, minor, values });
  }
  return { ok: true, value: out };
}
