/**
 * The WASM core's linear memory, shared by both sides: the AssemblyScript
 * sources (wasm/assembly/) import this file, and so does the host
 * (wasm/mod.ts, lib/stats, lib/devices). Every region has a fixed offset; the
 * module's own static data starts at {@link LAYOUT_END} (asc `memoryBase`),
 * so nothing the compiler places can overlap them.
 *
 * Plain `const` numbers only: this file must compile as AssemblyScript
 * (where they become `i32` globals folded at compile time) and as
 * TypeScript.
 *
 * @module
 */

// ---- status -------------------------------------------------------------

/** i32 slots the functions fill besides their return value. */
export const STATUS = 1024;
/** i32: on a syntax error, the byte offset (from `ptr`) of the line that failed; the record index for device rules. */
export const STATUS_ERROR_AT = STATUS;

// ---- key sets (flat keyed files) ----------------------------------------

/** u8 per key of the last parsed set: 1 when the file had the key. */
export const SEEN = 2048;
/** The most keys one set may hold (the hash table has twice as many slots). */
export const KEYS_PER_SET = 240;
/** Key sets: {first key index u32, key count u32, bucket table offset u32, reserved u32}. */
export const KEYSETS = 4096;
/** Bytes of one key set record. */
export const KEYSET_RECORD = 16;
/** How many key sets may be defined before {@link KEYSETS} is full. */
export const KEYSET_MAX = 64;
/** Keys of every set: {bytes offset u32, length u32, FNV-1a hash u32, reserved u32}. */
export const KEY_ENTRIES = 8192;
/** Bytes of one key entry. */
export const KEY_RECORD = 16;
/** How many keys all sets together may hold. */
export const KEY_MAX = 4096;
/** The bytes of every key, back to back. */
export const KEY_BYTES = 73728;
/** Size of {@link KEY_BYTES}. */
export const KEY_BYTES_SIZE = 65536;
/** Open-addressing tables, one per set: {@link KEY_SLOTS} u16 slots holding key index + 1 (0 is empty). */
export const KEY_BUCKETS = 139264;
/** Slots of one set's table (a power of two, more than {@link KEYS_PER_SET}). */
export const KEY_SLOTS = 512;

// ---- results --------------------------------------------------------------

/** f64 results: the scalar, the list, or one value per key of the set, in the set's order. */
export const VALUES = 204800;
/** How many f64 values fit in {@link VALUES}. */
export const VALUES_CAP = 8192;
/** Records of blkio (v1) or io.stat (v2) files. */
export const RECORDS = 270336;
/** Size of {@link RECORDS}. */
export const RECORDS_SIZE = 1048576;

/**
 * A blkio v1 record: major u32 (+0), minor u32 (+4), op u16 (+8, one of
 * `OP_*`), op length u16 (+10) and op offset u32 (+12, from the input's
 * `ptr`, to name an `OP_OTHER`), value f64 (+16).
 */
export const BLKIO_RECORD = 24;
/** An io.stat (v2) record: major u32 (+0), minor u32 (+4), then f64 rbytes, wbytes, rios, wios, dbytes, dios (+8 .. +48). */
export const IOSTAT_RECORD = 56;

/** blkio op codes. A line without an op has {@link OP_NONE}. */
export const OP_NONE = 0;
/** `Read`. */
export const OP_READ = 1;
/** `Write`. */
export const OP_WRITE = 2;
/** `Sync`. */
export const OP_SYNC = 3;
/** `Async`. */
export const OP_ASYNC = 4;
/** `Discard`. */
export const OP_DISCARD = 5;
/** `Total` (per device; the file's last, device-less total line is skipped). */
export const OP_TOTAL = 6;
/** Any other word: its bytes are at the record's op offset and length. */
export const OP_OTHER = 7;

/** The value a parser stores for the word `max` (cgroup v2 "no limit"); parsed numbers are never negative. */
export const MAX_SENTINEL = -1;

// ---- device rules -----------------------------------------------------------

/**
 * A device rule write (input, state and output alike): file u8 (+0, one of
 * `DEV_FILE_*`), type u8 (+1, `a` 97, `b` 98 or `c` 99), access u8 (+2, bits
 * of `DEV_ACC_*`), zero u8 (+3), major i32 (+4), minor i32 (+8); -1 is `*`.
 */
export const DEVICE_RECORD = 12;
/** The write goes to `devices.allow`. */
export const DEV_FILE_ALLOW = 1;
/** The write goes to `devices.deny`. */
export const DEV_FILE_DENY = 2;
/** mknod. */
export const DEV_ACC_MKNOD = 1;
/** read. */
export const DEV_ACC_READ = 2;
/** write. */
export const DEV_ACC_WRITE = 4;
/** The most writes one rule set may have. */
export const DEV_MAX = 4096;
/** The exceptions of the evaluated rule set. */
export const DEV_STATE = 1318912;
/** The minimal v1 writes of the evaluated rule set. */
export const DEV_WRITES = 1368064;
/** The cgroup v2 device program: 8-byte eBPF instructions. */
export const DEV_PROG = 1421312;
/** Instructions {@link DEV_PROG} can hold: header, exits and at most 4 per rule plus 1 per type. */
export const DEV_PROG_CAP = 16400;

// ---- input ------------------------------------------------------------------

/** Where the host puts the bytes to parse (file contents, keys, device rules). */
export const INPUT = 1572864;
/** Size of {@link INPUT}: the largest file the parsers take. */
export const INPUT_SIZE = 1048576;

/** The end of the regions; the module's static data starts here. */
export const LAYOUT_END = 2621440;

// ---- error codes ----------------------------------------------------------

/** The input is not in the file's format. */
export const E_SYNTAX = -1;
/** `ptr`/`len` are not inside {@link INPUT}. */
export const E_RANGE = -2;
/** More results than their region holds. */
export const E_TOO_MANY = -3;
/** The key tables are full. */
export const E_KEYS_FULL = -4;
/** No such key set, or a bad key list. */
export const E_BAD_KEYS = -5;
/** A device rule with a bad file, type, access or number. */
export const E_BAD_RULE = -6;
/** A device query before any rule set was evaluated, or with a bad type or access. */
export const E_BAD_QUERY = -7;
