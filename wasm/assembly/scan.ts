/**
 * Byte scanning shared by the parsers: blanks, numbers, status slots. Input
 * is read with `load<u8>` from the host's input region; nothing is allocated.
 */
import { E_RANGE, INPUT, INPUT_SIZE, MAX_SENTINEL, STATUS_ERROR_AT } from "../_layout";

/** Returned by the readers for a malformed token. */
export const BAD: u32 = 0xffffffff;

const SPACE: u32 = 0x20;
const TAB: u32 = 0x09;
/** Line feed. */
export const NL: u32 = 0x0a;
const MINUS: u32 = 0x2d;

/** The value of the last number read by {@link readNumber}. */
export let number: f64 = 0;
/** The value of the last integer read by {@link readU32}. */
export let integer: u32 = 0;

/** True when `[ptr, ptr + len)` lies inside the input region. */
export function inInput(ptr: u32, len: u32): bool {
  return ptr >= <u32> INPUT && len <= <u32> INPUT_SIZE &&
    ptr - <u32> INPUT <= <u32> INPUT_SIZE - len;
}

/** The error for a range outside the input region. */
export function rangeError(): i32 {
  store<i32>(<u32> STATUS_ERROR_AT, 0);
  return E_RANGE;
}

/** Records where a syntax error was found (offset from the input's start) and returns `code`. */
export function failAt(code: i32, at: u32, ptr: u32): i32 {
  store<i32>(<u32> STATUS_ERROR_AT, <i32> (at - ptr));
  return code;
}

/** A space or a tab. */
export function isBlank(c: u32): bool {
  return c === SPACE || c === TAB;
}

/** A space, a tab or a line feed. */
export function isSpace(c: u32): bool {
  return c === SPACE || c === TAB || c === NL;
}

/** Skips spaces and tabs. */
export function skipBlanks(p: u32, end: u32): u32 {
  while (p < end && isBlank(<u32> load<u8>(p))) p++;
  return p;
}

/** Skips spaces, tabs and line feeds. */
export function skipSpace(p: u32, end: u32): u32 {
  while (p < end && isSpace(<u32> load<u8>(p))) p++;
  return p;
}

/** Skips to just after the next line feed (or to the end). */
export function nextLine(p: u32, end: u32): u32 {
  while (p < end) {
    if (<u32> load<u8>(p) === NL) return p + 1;
    p++;
  }
  return end;
}

/** True at the end, a blank or a line feed: where a token may stop. */
export function atTokenEnd(p: u32, end: u32): bool {
  return p >= end || isSpace(<u32> load<u8>(p));
}

const U64_TENTH: u64 = 1844674407370955161; // floor((2^64 - 1) / 10)

/**
 * Reads a number token at `p`: decimal digits (saturating at 2^64 - 1), a
 * minus sign and digits (read as 0: the seed's rule for negative values), or
 * the word `max` ({@link MAX_SENTINEL}). The token must end at a blank, a line
 * feed or the end. Sets {@link number}; returns the position after the token,
 * or {@link BAD}.
 */
export function readNumber(p: u32, end: u32): u32 {
  if (p >= end) return BAD;
  const c = <u32> load<u8>(p);
  if (c === 0x6d) {
    if (
      end - p >= 3 && <u32> load<u8>(p + 1) === 0x61 && <u32> load<u8>(p + 2) === 0x78 &&
      atTokenEnd(p + 3, end)
    ) {
      number = <f64> MAX_SENTINEL;
      return p + 3;
    }
    return BAD;
  }
  let negative = false;
  if (c === MINUS) {
    negative = true;
    p++;
  }
  const start = p;
  let value: u64 = 0;
  let saturated = false;
  while (p < end) {
    const digit = <u32> load<u8>(p) - 0x30;
    if (digit > 9) break;
    if (value > U64_TENTH || (value === U64_TENTH && digit > 5)) saturated = true;
    else value = value * 10 + <u64> digit;
    p++;
  }
  if (p === start || !atTokenEnd(p, end)) return BAD;
  number = negative ? 0 : saturated ? <f64> U64.MAX_VALUE : <f64> value;
  return p;
}

/** Reads decimal digits that fit in a u32 into {@link integer}; returns the position after them or {@link BAD}. */
export function readU32(p: u32, end: u32): u32 {
  const start = p;
  let value: u64 = 0;
  while (p < end) {
    const digit = <u32> load<u8>(p) - 0x30;
    if (digit > 9) break;
    value = value * 10 + <u64> digit;
    if (value > 0xffffffff) return BAD;
    p++;
  }
  if (p === start) return BAD;
  integer = <u32> value;
  return p;
}
