/**
 * Flat keyed files (`key value` lines: memory.stat, cpu.stat, ...). The host
 * defines the keys it wants once, as bytes, and gets a set id; each parse of
 * a file then fills one value per key of the set, in the set's order, with
 * no strings crossing the boundary. Keys are found by their FNV-1a hash in a
 * small open-addressing table, after a first guess that the file lists them
 * in the set's order (cgroup files do).
 */
import {
  E_BAD_KEYS,
  E_KEYS_FULL,
  E_SYNTAX,
  KEY_BUCKETS,
  KEY_BYTES,
  KEY_BYTES_SIZE,
  KEY_ENTRIES,
  KEY_MAX,
  KEY_RECORD,
  KEY_SLOTS,
  KEYS_PER_SET,
  KEYSET_MAX,
  KEYSET_RECORD,
  KEYSETS,
  SEEN,
  VALUES,
} from "../_layout";
import {
  BAD,
  failAt,
  inInput,
  isBlank,
  isSpace,
  nextLine,
  NL,
  number,
  rangeError,
  readNumber,
  skipBlanks,
} from "./scan";

const FNV_OFFSET: u32 = 0x811c9dc5;
const FNV_PRIME: u32 = 0x01000193;

let setCount: u32 = 0;
let keyCount: u32 = 0;
let keyBytesUsed: u32 = 0;

/** Forgets every key set (the host redefines what it needs). */
export function resetKeys(): void {
  setCount = 0;
  keyCount = 0;
  keyBytesUsed = 0;
}

/** True when the key of entry `index` is the `n` bytes at `p`. */
function keyEquals(index: u32, p: u32, n: u32, hash: u32): bool {
  const entry = <u32> KEY_ENTRIES + index * <u32> KEY_RECORD;
  if (load<u32>(entry + 8) !== hash || load<u32>(entry + 4) !== n) return false;
  return memory.compare(load<u32>(entry), p, n) === 0;
}

/** The index in `set` of the `n` key bytes at `p`, or -1; `guess` is tried first. */
function findKey(set: u32, p: u32, n: u32, hash: u32, guess: u32): i32 {
  const record = <u32> KEYSETS + set * <u32> KEYSET_RECORD;
  const first = load<u32>(record);
  const count = load<u32>(record + 4);
  if (guess < count && keyEquals(first + guess, p, n, hash)) return <i32> guess;
  const buckets = load<u32>(record + 8);
  let slot = hash & (<u32> KEY_SLOTS - 1);
  // The table is never full (KEYS_PER_SET < KEY_SLOTS): an empty slot ends every probe.
  let held = <u32> load<u16>(buckets + (slot << 1));
  while (held !== 0) {
    if (keyEquals(first + held - 1, p, n, hash)) return <i32> (held - 1);
    slot = (slot + 1) & (<u32> KEY_SLOTS - 1);
    held = <u32> load<u16>(buckets + (slot << 1));
  }
  return -1;
}

/**
 * Defines a key set from keys separated by line feeds (no blanks inside a
 * key). Returns the set's id, or E_BAD_KEYS (an empty key, more than
 * KEYS_PER_SET keys, a duplicate) or E_KEYS_FULL.
 */
export function defineKeys(ptr: u32, len: u32): i32 {
  if (!inInput(ptr, len)) return rangeError();
  if (setCount === <u32> KEYSET_MAX) return E_KEYS_FULL;
  const end = ptr + len;
  const set = setCount;
  const first = keyCount;
  const buckets = <u32> KEY_BUCKETS + set * (<u32> KEY_SLOTS << 1);
  memory.fill(buckets, 0, <u32> KEY_SLOTS << 1);
  const record = <u32> KEYSETS + set * <u32> KEYSET_RECORD;
  store<u32>(record, first);
  store<u32>(record + 4, 0);
  store<u32>(record + 8, buckets);
  let count: u32 = 0;
  let used = keyBytesUsed;
  let p = ptr;
  while (p < end) {
    const start = p;
    let hash = FNV_OFFSET;
    while (p < end && <u32> load<u8>(p) !== NL) {
      const c = <u32> load<u8>(p);
      if (isBlank(c)) return failAt(E_BAD_KEYS, start, ptr);
      hash = (hash ^ c) * FNV_PRIME;
      p++;
    }
    const n = p - start;
    p++;
    if (n === 0) return failAt(E_BAD_KEYS, start, ptr);
    if (count === <u32> KEYS_PER_SET) return failAt(E_BAD_KEYS, start, ptr);
    if (first + count === <u32> KEY_MAX || used + n > <u32> KEY_BYTES_SIZE) return E_KEYS_FULL;
    store<u32>(record + 4, count);
    if (findKey(set, start, n, hash, count) >= 0) return failAt(E_BAD_KEYS, start, ptr);
    const bytes = <u32> KEY_BYTES + used;
    memory.copy(bytes, start, n);
    const entry = <u32> KEY_ENTRIES + (first + count) * <u32> KEY_RECORD;
    store<u32>(entry, bytes);
    store<u32>(entry + 4, n);
    store<u32>(entry + 8, hash);
    let slot = hash & (<u32> KEY_SLOTS - 1);
    while (load<u16>(buckets + (slot << 1)) !== 0) slot = (slot + 1) & (<u32> KEY_SLOTS - 1);
    store<u16>(buckets + (slot << 1), <u16> (count + 1));
    used += n;
    count++;
  }
  store<u32>(record + 4, count);
  keyCount = first + count;
  keyBytesUsed = used;
  setCount = set + 1;
  return <i32> set;
}

/**
 * Parses `key value` lines for the keys of `set`: VALUES[i] gets the value of
 * key i (0 when absent) and SEEN[i] is 1 when the file has it. A line whose
 * key is not in the set is skipped unread. Returns how many lines had such
 * an unknown key, or a negative error.
 */
export function parseKeyed(set: u32, ptr: u32, len: u32): i32 {
  if (!inInput(ptr, len)) return rangeError();
  if (set >= setCount) return E_BAD_KEYS;
  const count = load<u32>(<u32> KEYSETS + set * <u32> KEYSET_RECORD + 4);
  memory.fill(<u32> VALUES, 0, count << 3);
  memory.fill(<u32> SEEN, 0, count);
  const end = ptr + len;
  let unknown: u32 = 0;
  let guess: u32 = 0;
  let p = ptr;
  while (p < end) {
    p = skipBlanks(p, end);
    if (p === end) break;
    if (<u32> load<u8>(p) === NL) {
      p++;
      continue;
    }
    const line = p;
    let hash = FNV_OFFSET;
    while (p < end) {
      const c = <u32> load<u8>(p);
      if (isSpace(c)) break;
      hash = (hash ^ c) * FNV_PRIME;
      p++;
    }
    const index = findKey(set, line, p - line, hash, guess);
    if (index < 0) {
      unknown++;
      p = nextLine(p, end);
      continue;
    }
    if (p === end || !isBlank(<u32> load<u8>(p))) return failAt(E_SYNTAX, line, ptr);
    const q = readNumber(skipBlanks(p, end), end);
    if (q === BAD) return failAt(E_SYNTAX, line, ptr);
    p = skipBlanks(q, end);
    if (p < end && <u32> load<u8>(p) !== NL) return failAt(E_SYNTAX, line, ptr);
    store<f64>(<u32> VALUES + (<u32> index << 3), number);
    store<u8>(<u32> SEEN + <u32> index, 1);
    guess = <u32> index + 1;
  }
  return <i32> unknown;
}
