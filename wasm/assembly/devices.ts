/**
 * Device access rules. The input is a sequence of writes to a v1 devices
 * cgroup (`devices.allow` / `devices.deny`, DEVICE_RECORD bytes each), as the
 * seed made them. This file replays them with the kernel's semantics
 * (security/device_cgroup.c: a default behaviour plus exceptions merged by
 * type and numbers; `a` resets both), keeps the smallest set of exceptions
 * that decides every access the same way, and from that state answers single
 * access questions, lists the minimal v1 writes and emits a cgroup v2 device
 * program (eBPF, BPF_PROG_TYPE_CGROUP_DEVICE).
 *
 * Decisions, as the v1 kernel makes them for an access mask: with the
 * default "deny", allowed when one exception has all the asked bits; with
 * the default "allow", denied when any exception has any of them.
 */
import {
  DEV_ACC_MKNOD,
  DEV_ACC_READ,
  DEV_ACC_WRITE,
  DEV_FILE_ALLOW,
  DEV_FILE_DENY,
  DEV_MAX,
  DEV_PROG,
  DEV_STATE,
  DEV_WRITES,
  DEVICE_RECORD,
  E_BAD_QUERY,
  E_BAD_RULE,
  STATUS_ERROR_AT,
} from "../_layout";
import { inInput, rangeError } from "./scan";

const TYPE_ALL: u32 = 0x61; // 'a'
const TYPE_BLOCK: u32 = 0x62; // 'b'
const TYPE_CHAR: u32 = 0x63; // 'c'
const ALL_ACCESS: u32 = DEV_ACC_MKNOD | DEV_ACC_READ | DEV_ACC_WRITE;

/** The default behaviour: DEV_FILE_ALLOW or DEV_FILE_DENY (the file "a" was written to). */
let behavior: u32 = DEV_FILE_ALLOW;
/** Exceptions in DEV_STATE. */
let count: u32 = 0;
/** Whether DEV_STATE holds an evaluated rule set. */
let loaded = false;

function at(i: u32): u32 {
  return <u32> DEV_STATE + i * <u32> DEVICE_RECORD;
}

function typeOf(r: u32): u32 {
  return <u32> load<u8>(r + 1);
}

function accessOf(r: u32): u32 {
  return <u32> load<u8>(r + 2);
}

function majorOf(r: u32): i32 {
  return load<i32>(r + 4);
}

function minorOf(r: u32): i32 {
  return load<i32>(r + 8);
}

function setRecord(r: u32, file: u32, type: u32, access: u32, major: i32, minor: i32): void {
  store<u8>(r, <u8> file);
  store<u8>(r + 1, <u8> type);
  store<u8>(r + 2, <u8> access);
  store<u8>(r + 3, 0);
  store<i32>(r + 4, major);
  store<i32>(r + 8, minor);
}

function ruleError(index: u32): i32 {
  store<i32>(<u32> STATUS_ERROR_AT, <i32> index);
  return E_BAD_RULE;
}

/** The exception with exactly this type and these numbers, or -1. */
function findException(type: u32, major: i32, minor: i32): i32 {
  for (let i: u32 = 0; i < count; i++) {
    const r = at(i);
    if (typeOf(r) === type && majorOf(r) === major && minorOf(r) === minor) return <i32> i;
  }
  return -1;
}

/** Whether exception `outer` matches every device exception `inner` matches. */
function covers(outer: u32, inner: u32): bool {
  const major = majorOf(outer);
  const minor = minorOf(outer);
  return typeOf(outer) === typeOf(inner) && (major === -1 || major === majorOf(inner)) &&
    (minor === -1 || minor === minorOf(inner));
}

/** Drops every exception that decides nothing another one does not already decide. */
function minimize(): void {
  // Mark with byte +0 (unused in the state): 1 keep, 0 drop. Keys are unique, so
  // "covers" between two distinct exceptions is strict, and dropping every
  // dominated one at once keeps the maximal ones, which decide the same.
  for (let i: u32 = 0; i < count; i++) {
    const r = at(i);
    const access = accessOf(r);
    let keep = access !== 0;
    let union: u32 = 0;
    for (let j: u32 = 0; keep && j < count; j++) {
      if (j === i || !covers(at(j), r)) continue;
      const other = accessOf(at(j));
      if (behavior === DEV_FILE_DENY) keep = (other & access) !== access;
      else union |= other;
    }
    if (behavior === DEV_FILE_ALLOW && (access & ~union) === 0) keep = false;
    store<u8>(r, keep ? 1 : 0);
  }
  let kept: u32 = 0;
  for (let i: u32 = 0; i < count; i++) {
    if (load<u8>(at(i)) === 0) continue;
    if (kept !== i) memory.copy(at(kept), at(i), <u32> DEVICE_RECORD);
    kept++;
  }
  count = kept;
}

/**
 * When only `t *:*` exceptions are left, the opposite default with the
 * complementary bits decides the same; take it when it needs fewer writes
 * (`a` alone when everything is allowed or denied).
 */
function flipIfShorter(): void {
  let charBits: u32 = 0;
  let blockBits: u32 = 0;
  for (let i: u32 = 0; i < count; i++) {
    const r = at(i);
    if (majorOf(r) !== -1 || minorOf(r) !== -1) return;
    if (typeOf(r) === TYPE_CHAR) charBits = accessOf(r);
    else blockBits = accessOf(r);
  }
  const otherChar = ALL_ACCESS & ~charBits;
  const otherBlock = ALL_ACCESS & ~blockBits;
  const now = <u32> (charBits !== 0) + <u32> (blockBits !== 0);
  const flipped = <u32> (otherChar !== 0) + <u32> (otherBlock !== 0);
  if (flipped >= now) return;
  behavior = behavior === DEV_FILE_ALLOW ? DEV_FILE_DENY : DEV_FILE_ALLOW;
  count = 0;
  if (otherChar !== 0) setRecord(at(count++), 1, TYPE_CHAR, otherChar, -1, -1);
  if (otherBlock !== 0) setRecord(at(count++), 1, TYPE_BLOCK, otherBlock, -1, -1);
}

/**
 * Evaluates a sequence of v1 writes (DEVICE_RECORD each, starting from a new
 * cgroup under an allow-all parent) and keeps the result for
 * {@link deviceAllowed} and {@link deviceProgram}. Writes the minimal
 * equivalent writes to DEV_WRITES (`a` to one file first, then exceptions to
 * the other) and returns how many, or E_BAD_RULE with the record's index in
 * STATUS_ERROR_AT.
 */
export function deviceRules(ptr: u32, len: u32): i32 {
  if (!inInput(ptr, len)) return rangeError();
  loaded = false;
  const n = len / <u32> DEVICE_RECORD;
  if (n * <u32> DEVICE_RECORD !== len || n > <u32> DEV_MAX) return ruleError(n);
  behavior = DEV_FILE_ALLOW;
  count = 0;
  for (let i: u32 = 0; i < n; i++) {
    const r = ptr + i * <u32> DEVICE_RECORD;
    const file = <u32> load<u8>(r);
    const type = typeOf(r);
    const access = accessOf(r);
    const major = majorOf(r);
    const minor = minorOf(r);
    if ((file !== DEV_FILE_ALLOW && file !== DEV_FILE_DENY) || access > ALL_ACCESS) {
      return ruleError(i);
    }
    if (load<u8>(r + 3) !== 0) return ruleError(i);
    if (type === TYPE_ALL) {
      // The kernel reads only the letter: "a" switches the default and drops every exception.
      behavior = file;
      count = 0;
      continue;
    }
    if ((type !== TYPE_BLOCK && type !== TYPE_CHAR) || major < -1 || minor < -1) {
      return ruleError(i);
    }
    const found = findException(type, major, minor);
    if (file !== behavior) {
      // An exception to the default: merged with one of the same type and numbers.
      if (found >= 0) {
        const e = at(<u32> found);
        store<u8>(e + 2, <u8> (accessOf(e) | access));
      } else {
        setRecord(at(count++), 1, type, access, major, minor);
      }
    } else if (found >= 0) {
      // Writing to the default's own file takes bits away from an identical exception only.
      const e = at(<u32> found);
      const left = accessOf(e) & ~access;
      if (left !== 0) {
        store<u8>(e + 2, <u8> left);
      } else {
        count--;
        for (let j = <u32> found; j < count; j++) {
          memory.copy(at(j), at(j + 1), <u32> DEVICE_RECORD);
        }
      }
    }
  }
  minimize();
  flipIfShorter();
  const exceptionFile = behavior === DEV_FILE_ALLOW ? DEV_FILE_DENY : DEV_FILE_ALLOW;
  setRecord(<u32> DEV_WRITES, behavior, TYPE_ALL, ALL_ACCESS, -1, -1);
  for (let i: u32 = 0; i < count; i++) {
    const r = at(i);
    const w = <u32> DEV_WRITES + (i + 1) * <u32> DEVICE_RECORD;
    setRecord(w, exceptionFile, typeOf(r), accessOf(r), majorOf(r), minorOf(r));
  }
  loaded = true;
  return <i32> (count + 1);
}

/**
 * Whether the last evaluated rule set allows `access` (DEV_ACC_* bits) to
 * the device of `type` (`b` 98 or `c` 99) and numbers: 1 or 0, or
 * E_BAD_QUERY.
 */
export function deviceAllowed(type: u32, major: i32, minor: i32, access: u32): i32 {
  if (
    !loaded || (type !== TYPE_BLOCK && type !== TYPE_CHAR) || access === 0 || access > ALL_ACCESS
  ) {
    return E_BAD_QUERY;
  }
  for (let i: u32 = 0; i < count; i++) {
    const r = at(i);
    if (typeOf(r) !== type) continue;
    if (majorOf(r) !== -1 && majorOf(r) !== major) continue;
    if (minorOf(r) !== -1 && minorOf(r) !== minor) continue;
    if (behavior === DEV_FILE_DENY) {
      if ((access & ~accessOf(r)) === 0) return 1;
    } else if ((access & accessOf(r)) !== 0) {
      return 0;
    }
  }
  return behavior === DEV_FILE_DENY ? 0 : 1;
}

// eBPF opcodes and registers (include/uapi/linux/bpf.h).
const LDX_MEM_W: u32 = 0x61;
const ALU_AND_K: u32 = 0x54;
const ALU_RSH_K: u32 = 0x74;
const ALU64_MOV_X: u32 = 0xbf;
const ALU64_MOV_K: u32 = 0xb7;
const JMP_JA: u32 = 0x05;
const JMP_JNE_K: u32 = 0x55;
const JMP_JSET_K: u32 = 0x45;
const JMP_EXIT: u32 = 0x95;
/** bpf_cgroup_dev_ctx type values. */
const BPF_DEVCG_DEV_BLOCK: i32 = 1;
const BPF_DEVCG_DEV_CHAR: i32 = 2;
/** Instructions before the first rule. */
const HEADER: u32 = 6;

let pc: u32 = 0;

function emit(code: u32, dst: u32, src: u32, off: i32, imm: i32): void {
  const p = <u32> DEV_PROG + (pc << 3);
  store<u8>(p, <u8> code);
  store<u8>(p + 1, <u8> ((src << 4) | dst));
  store<i16>(p + 2, <i16> off);
  store<i32>(p + 4, imm);
  pc++;
}

/** Instructions of one exception's test. */
function ruleSize(r: u32): u32 {
  let size = <u32> (majorOf(r) !== -1) + <u32> (minorOf(r) !== -1) + 1;
  if (behavior === DEV_FILE_DENY && accessOf(r) !== ALL_ACCESS) size++;
  return size;
}

/** True for `t *:* rwm` under a deny default: it allows the whole type, later ones are unreachable. */
function endsGroup(r: u32): bool {
  return behavior === DEV_FILE_DENY && majorOf(r) === -1 && minorOf(r) === -1 &&
    accessOf(r) === ALL_ACCESS;
}

/** Instructions of the tests of every exception of `type`, or 0 when it has none. */
function groupSize(type: u32): u32 {
  let size: u32 = 0;
  for (let i: u32 = 0; i < count; i++) {
    const r = at(i);
    if (typeOf(r) !== type) continue;
    size += ruleSize(r);
    if (endsGroup(r)) break;
  }
  return size;
}

function emitGroup(type: u32, size: u32, other: u32): void {
  const groupEnd = pc + 1 + size;
  const code = type === TYPE_CHAR ? BPF_DEVCG_DEV_CHAR : BPF_DEVCG_DEV_BLOCK;
  emit(JMP_JNE_K, 2, 0, <i32> (groupEnd - pc - 1), code);
  for (let i: u32 = 0; i < count; i++) {
    const r = at(i);
    if (typeOf(r) !== type) continue;
    const next = pc + ruleSize(r);
    if (majorOf(r) !== -1) emit(JMP_JNE_K, 4, 0, <i32> (next - pc - 1), majorOf(r));
    if (minorOf(r) !== -1) emit(JMP_JNE_K, 5, 0, <i32> (next - pc - 1), minorOf(r));
    if (behavior === DEV_FILE_DENY) {
      const missing = ALL_ACCESS & ~accessOf(r);
      if (missing !== 0) emit(JMP_JSET_K, 3, 0, <i32> (next - pc - 1), <i32> missing);
      emit(JMP_JA, 0, 0, <i32> (other - pc - 1), 0);
      if (endsGroup(r)) break;
    } else {
      emit(JMP_JSET_K, 3, 0, <i32> (other - pc - 1), <i32> accessOf(r));
    }
  }
}

/**
 * Emits the cgroup v2 device program of the last evaluated rule set at
 * DEV_PROG and returns its instruction count (or E_BAD_QUERY). It returns 1
 * (allow) or 0 (deny) exactly as {@link deviceAllowed} answers, for the
 * context `{u32 access_type (type | access << 16), u32 major, u32 minor}`.
 */
export function deviceProgram(): i32 {
  if (!loaded) return E_BAD_QUERY;
  const allowByDefault: i32 = behavior === DEV_FILE_ALLOW ? 1 : 0;
  pc = 0;
  if (count === 0) {
    emit(ALU64_MOV_K, 0, 0, 0, allowByDefault);
    emit(JMP_EXIT, 0, 0, 0, 0);
    return <i32> pc;
  }
  const chars = groupSize(TYPE_CHAR);
  const blocks = groupSize(TYPE_BLOCK);
  const total = HEADER + (chars > 0 ? chars + 1 : 0) + (blocks > 0 ? blocks + 1 : 0) + 4;
  const other = total - 2;
  emit(LDX_MEM_W, 2, 1, 0, 0); // r2 = ctx->access_type
  emit(ALU64_MOV_X, 3, 2, 0, 0); // r3 = r2
  emit(ALU_AND_K, 2, 0, 0, 0xffff); // r2 = type
  emit(ALU_RSH_K, 3, 0, 0, 16); // r3 = access
  emit(LDX_MEM_W, 4, 1, 4, 0); // r4 = ctx->major
  emit(LDX_MEM_W, 5, 1, 8, 0); // r5 = ctx->minor
  if (chars > 0) emitGroup(TYPE_CHAR, chars, other);
  if (blocks > 0) emitGroup(TYPE_BLOCK, blocks, other);
  emit(ALU64_MOV_K, 0, 0, 0, allowByDefault);
  emit(JMP_EXIT, 0, 0, 0, 0);
  emit(ALU64_MOV_K, 0, 0, 0, 1 - allowByDefault);
  emit(JMP_EXIT, 0, 0, 0, 0);
  return <i32> pc;
}
