/**
 * Parsers for the numeric cgroup and sysfs files: one number, a list of
 * numbers, blkio v1 lines and io.stat v2 lines. Each takes the input's
 * pointer and length, writes its results at the layout's fixed offsets and
 * returns a count, or a negative error code.
 */
import {
  BLKIO_RECORD,
  E_SYNTAX,
  E_TOO_MANY,
  IOSTAT_RECORD,
  OP_ASYNC,
  OP_DISCARD,
  OP_NONE,
  OP_OTHER,
  OP_READ,
  OP_SYNC,
  OP_TOTAL,
  OP_WRITE,
  RECORDS,
  RECORDS_SIZE,
  VALUES,
  VALUES_CAP,
} from "../_layout";
import {
  atTokenEnd,
  BAD,
  failAt,
  inInput,
  integer,
  isBlank,
  NL,
  number,
  rangeError,
  readNumber,
  readU32,
  skipBlanks,
  skipSpace,
} from "./scan";

/** One number (`max` included), surrounded by any white space: the value goes to VALUES[0]; returns 1. */
export function parseScalar(ptr: u32, len: u32): i32 {
  if (!inInput(ptr, len)) return rangeError();
  const end = ptr + len;
  let p = skipSpace(ptr, end);
  const q = readNumber(p, end);
  if (q === BAD) return failAt(E_SYNTAX, p, ptr);
  p = skipSpace(q, end);
  if (p !== end) return failAt(E_SYNTAX, p, ptr);
  store<f64>(<u32> VALUES, number);
  return 1;
}

/** Numbers separated by any white space (cpuacct.usage_percpu): values go to VALUES; returns how many. */
export function parseList(ptr: u32, len: u32): i32 {
  if (!inInput(ptr, len)) return rangeError();
  const end = ptr + len;
  let count: u32 = 0;
  let p = skipSpace(ptr, end);
  while (p < end) {
    const q = readNumber(p, end);
    if (q === BAD) return failAt(E_SYNTAX, p, ptr);
    if (count === <u32> VALUES_CAP) return failAt(E_TOO_MANY, p, ptr);
    store<f64>(<u32> VALUES + (count << 3), number);
    count++;
    p = skipSpace(q, end);
  }
  return <i32> count;
}

/** The op code of the word at `[p, p + n)`. */
function opCode(p: u32, n: u32): u32 {
  const c = <u32> load<u8>(p);
  if (n === 4 && c === 0x52 && load<u32>(p) === 0x64616552) return OP_READ; // "Read"
  if (n === 5 && c === 0x57 && load<u32>(p) === 0x74697257 && <u32> load<u8>(p + 4) === 0x65) {
    return OP_WRITE; // "Write"
  }
  if (n === 4 && c === 0x53 && load<u32>(p) === 0x636e7953) return OP_SYNC; // "Sync"
  if (n === 5 && c === 0x41 && load<u32>(p) === 0x6e797341 && <u32> load<u8>(p + 4) === 0x63) {
    return OP_ASYNC; // "Async"
  }
  if (n === 5 && c === 0x54 && load<u32>(p) === 0x61746f54 && <u32> load<u8>(p + 4) === 0x6c) {
    return OP_TOTAL; // "Total"
  }
  if (n === 7 && c === 0x44 && load<u32>(p) === 0x63736944 && load<u32>(p + 3) === 0x64726163) {
    return OP_DISCARD; // "Discard"
  }
  return OP_OTHER;
}

/** An ASCII letter. */
function isLetter(c: u32): bool {
  return (c | 0x20) - 0x61 < 26;
}

/**
 * blkio v1 lines `major:minor [Op] value`; the device-less `Total value`
 * line is skipped. Records (BLKIO_RECORD bytes each) go to RECORDS; returns
 * how many.
 */
export function parseBlkio(ptr: u32, len: u32): i32 {
  if (!inInput(ptr, len)) return rangeError();
  const end = ptr + len;
  let count: u32 = 0;
  let p = ptr;
  while (p < end) {
    p = skipBlanks(p, end);
    if (p === end) break;
    if (<u32> load<u8>(p) === NL) {
      p++;
      continue;
    }
    const line = p;
    let major: u32 = 0;
    let minor: u32 = 0;
    let op: u32 = OP_NONE;
    let opStart: u32 = 0;
    let opLength: u32 = 0;
    if (isLetter(<u32> load<u8>(p))) {
      // Only the total line starts with a word.
      let q = p;
      while (q < end && isLetter(<u32> load<u8>(q))) q++;
      if (q - p !== 5 || opCode(p, 5) !== OP_TOTAL || q === end || !isBlank(<u32> load<u8>(q))) {
        return failAt(E_SYNTAX, line, ptr);
      }
      q = readNumber(skipBlanks(q, end), end);
      if (q === BAD) return failAt(E_SYNTAX, line, ptr);
      p = skipBlanks(q, end);
      if (p < end && <u32> load<u8>(p) !== NL) return failAt(E_SYNTAX, line, ptr);
      continue;
    }
    let q = readU32(p, end);
    if (q === BAD || q === end || <u32> load<u8>(q) !== 0x3a) return failAt(E_SYNTAX, line, ptr);
    major = integer;
    q = readU32(q + 1, end);
    if (q === BAD || q === end || !isBlank(<u32> load<u8>(q))) return failAt(E_SYNTAX, line, ptr);
    minor = integer;
    p = skipBlanks(q, end);
    if (p < end && isLetter(<u32> load<u8>(p))) {
      q = p;
      while (q < end && isLetter(<u32> load<u8>(q))) q++;
      if (q === end || !isBlank(<u32> load<u8>(q))) return failAt(E_SYNTAX, line, ptr);
      opStart = p - ptr;
      opLength = q - p;
      op = opCode(p, opLength);
      p = skipBlanks(q, end);
    }
    q = readNumber(p, end);
    if (q === BAD) return failAt(E_SYNTAX, line, ptr);
    p = skipBlanks(q, end);
    if (p < end && <u32> load<u8>(p) !== NL) return failAt(E_SYNTAX, line, ptr);
    if ((count + 1) * <u32> BLKIO_RECORD > <u32> RECORDS_SIZE) return failAt(E_TOO_MANY, line, ptr);
    const r = <u32> RECORDS + count * <u32> BLKIO_RECORD;
    store<u32>(r, major);
    store<u32>(r + 4, minor);
    store<u16>(r + 8, <u16> op);
    store<u16>(r + 10, <u16> (opLength > 0xffff ? 0xffff : opLength));
    store<u32>(r + 12, opStart);
    store<f64>(r + 16, number);
    count++;
  }
  return <i32> count;
}

/** The io.stat slot (0..5) of the key at `[p, p + n)`, or -1. */
function ioKey(p: u32, n: u32): i32 {
  if (n === 6) {
    const head = load<u32>(p);
    const tail = <u32> load<u16>(p + 4);
    if (tail !== 0x7365) return -1; // "es"
    if (head === 0x74796272) return 0; // "rbyt"
    if (head === 0x74796277) return 1; // "wbyt"
    if (head === 0x74796264) return 4; // "dbyt"
    return -1;
  }
  if (n === 4) {
    const word = load<u32>(p);
    if (word === 0x736f6972) return 2; // "rios"
    if (word === 0x736f6977) return 3; // "wios"
    if (word === 0x736f6964) return 5; // "dios"
  }
  return -1;
}

/**
 * io.stat v2 lines `major:minor key=value ...`. The six counters rbytes,
 * wbytes, rios, wios, dbytes and dios go into one IOSTAT_RECORD per line
 * (0 when absent); other keys are skipped. Returns how many records.
 */
export function parseIoStat(ptr: u32, len: u32): i32 {
  if (!inInput(ptr, len)) return rangeError();
  const end = ptr + len;
  let count: u32 = 0;
  let p = ptr;
  while (p < end) {
    p = skipBlanks(p, end);
    if (p === end) break;
    if (<u32> load<u8>(p) === NL) {
      p++;
      continue;
    }
    const line = p;
    let q = readU32(p, end);
    if (q === BAD || q === end || <u32> load<u8>(q) !== 0x3a) return failAt(E_SYNTAX, line, ptr);
    const major = integer;
    q = readU32(q + 1, end);
    if (q === BAD || !atTokenEnd(q, end)) return failAt(E_SYNTAX, line, ptr);
    const minor = integer;
    if ((count + 1) * <u32> IOSTAT_RECORD > <u32> RECORDS_SIZE) {
      return failAt(E_TOO_MANY, line, ptr);
    }
    const r = <u32> RECORDS + count * <u32> IOSTAT_RECORD;
    store<u32>(r, major);
    store<u32>(r + 4, minor);
    memory.fill(r + 8, 0, 48);
    p = skipBlanks(q, end);
    while (p < end && <u32> load<u8>(p) !== NL) {
      const key = p;
      while (p < end && <u32> load<u8>(p) !== 0x3d && !atTokenEnd(p, end)) p++;
      if (p === end || <u32> load<u8>(p) !== 0x3d || p === key) return failAt(E_SYNTAX, line, ptr);
      const slot = ioKey(key, p - key);
      p++;
      if (slot < 0) {
        while (!atTokenEnd(p, end)) p++;
      } else {
        q = readNumber(p, end);
        if (q === BAD) return failAt(E_SYNTAX, line, ptr);
        store<f64>(r + 8 + (<u32> slot << 3), number);
        p = q;
      }
      p = skipBlanks(p, end);
    }
    count++;
  }
  return <i32> count;
}
