/**
 * The plan's wire format, read back byte by byte with the rules of
 * ffi/helper/plan.h: a 16-byte header, 72-byte records, then a blob of
 * strings that records reference by (offset, length).
 */
import { assert, assertEquals, assertThrows } from "../../_assert.ts";
import { CLONE } from "../../../ffi/constants.ts";
import { MS } from "../../../lib/config/mod.ts";
import {
  encodePlan,
  OP_LAYOUT,
  PF,
  PLAN_HEADER_SIZE,
  PLAN_MAGIC,
  PLAN_MAX_BYTES,
  PLAN_OP_SIZE,
  PLAN_VERSION,
} from "../../../lib/plan/encode.ts";
import { makedev } from "../../../lib/plan/mounts.ts";
import type { OpName, PlanOp } from "../../../lib/plan/ops.ts";

const decoder = new TextDecoder("utf-8", { fatal: true });

interface OpRecord {
  code: number;
  flags: number;
  num: bigint[];
  refs: { off: number; len: number }[];
}

interface Decoded {
  magic: number;
  version: number;
  count: number;
  blobLength: number;
  records: OpRecord[];
  blob: Uint8Array;
  /** Where the blob starts in the message. */
  blobAt: number;
}

function decode(message: Uint8Array): Decoded {
  const view = new DataView(message.buffer, message.byteOffset, message.byteLength);
  const count = view.getUint32(8, true);
  const blobLength = view.getUint32(12, true);
  const blobAt = PLAN_HEADER_SIZE + count * PLAN_OP_SIZE;
  assertEquals(message.length, blobAt + blobLength, "the sizes add up");
  const records: OpRecord[] = [];
  for (let i = 0; i < count; i++) {
    const at = PLAN_HEADER_SIZE + i * PLAN_OP_SIZE;
    records.push({
      code: view.getUint32(at, true),
      flags: view.getUint32(at + 4, true),
      num: [0, 1, 2, 3].map((k) => view.getBigInt64(at + 8 + k * 8, true)),
      refs: [0, 1, 2, 3].map((k) => ({
        off: view.getUint32(at + 40 + k * 8, true),
        len: view.getUint32(at + 44 + k * 8, true),
      })),
    });
  }
  return {
    magic: view.getUint32(0, true),
    version: view.getUint32(4, true),
    count,
    blobLength,
    records,
    blob: message.subarray(blobAt),
    blobAt,
  };
}

/** An S slot as the helper checks it: NUL just past the string, none inside. */
function str(plan: Decoded, index: number, slot: number): string {
  const { off, len } = plan.records[index]!.refs[slot]!;
  assert(off + len < plan.blob.length, `S slot ${slot} of op ${index} runs past the blob`);
  assertEquals(plan.blob[off + len], 0, `S slot ${slot} of op ${index} is not NUL-terminated`);
  const bytes = plan.blob.subarray(off, off + len);
  assert(!bytes.includes(0), `S slot ${slot} of op ${index} has a NUL inside`);
  return decoder.decode(bytes);
}

/** An L slot as the helper checks it: exactly num[slot] NUL-terminated strings filling the range. */
function list(plan: Decoded, index: number, slot: number): string[] {
  const record = plan.records[index]!;
  const { off, len } = record.refs[slot]!;
  const count = Number(record.num[slot]);
  assert(off + len <= plan.blob.length, `L slot ${slot} of op ${index} runs past the blob`);
  const bytes = plan.blob.subarray(off, off + len);
  if (count === 0) {
    assertEquals(len, 0);
    return [];
  }
  assertEquals(bytes.at(-1), 0, `L slot ${slot} of op ${index} does not end with a NUL`);
  const items = decoder.decode(bytes.subarray(0, -1)).split("\0");
  assertEquals(items.length, count, `L slot ${slot} of op ${index}: count vs NULs`);
  return items;
}

/** A U slot: num[slot] uint32 values, 4-byte aligned in the message. */
function u32s(plan: Decoded, index: number, slot: number): number[] {
  const record = plan.records[index]!;
  const { off, len } = record.refs[slot]!;
  const count = Number(record.num[slot]);
  assertEquals(len, 4 * count);
  assertEquals((plan.blobAt + off) % 4, 0, "U slot is 4-byte aligned in the message");
  const view = new DataView(plan.blob.buffer, plan.blob.byteOffset + off, len);
  return Array.from({ length: count }, (_, i) => view.getUint32(i * 4, true));
}

/** An F slot: num[slot] 8-byte records, 8-byte aligned in the message. */
function filterBytes(plan: Decoded, index: number, slot: number): Uint8Array {
  const record = plan.records[index]!;
  const { off, len } = record.refs[slot]!;
  const count = Number(record.num[slot]);
  assert(count >= 1 && count <= 4096, `F slot count ${count}`);
  assertEquals(len, 8 * count);
  assertEquals((plan.blobAt + off) % 8, 0, "F slot is 8-byte aligned in the message");
  return plan.blob.subarray(off, off + len);
}

/** Checks every slot of every record against its kind in OP_LAYOUT. */
function checkSlots(plan: Decoded): void {
  const byCode = new Map(Object.entries(OP_LAYOUT).map(([name, l]) => [l.code, { name, ...l }]));
  plan.records.forEach((record, index) => {
    const layout = byCode.get(record.code);
    assert(layout, `op ${index} has unknown code ${record.code}`);
    [...layout.slots].forEach((kind, slot) => {
      const ref = record.refs[slot]!;
      if (kind === "N") assertEquals(ref, { off: 0, len: 0 }, `${layout.name} slot ${slot}`);
      if (kind === "S") str(plan, index, slot);
      if (kind === "L") list(plan, index, slot);
      if (kind === "U") u32s(plan, index, slot);
      if (kind === "F") filterBytes(plan, index, slot);
    });
  });
}

const EXEC: PlanOp = {
  op: "EXEC",
  candidates: ["/usr/bin/sh", "/bin/sh"],
  args: ["sh", "-c", "echo hi"],
  env: ["PATH=/usr/bin:/bin", "HOME=/root"],
};

/** One op of every kind, so the encoder's slots can be checked against OP_LAYOUT. */
const SAMPLES: { [N in OpName]: Extract<PlanOp, { op: N }> } = {
  SETNS: { op: "SETNS", fd: 5, nstype: CLONE.NEWNET | CLONE.NEWIPC, label: "/proc/1/ns/net" },
  CGROUP_ENTER: { op: "CGROUP_ENTER", path: "/sys/fs/cgroup/pids/c/tasks", content: "0" },
  CLONE: { op: "CLONE", flags: CLONE.PARENT | CLONE.NEWNS, cgroup: "/sys/fs/cgroup/c" },
  UMASK: { op: "UMASK", mask: 0o22 },
  MOUNT: {
    op: "MOUNT",
    source: "proc",
    target: "/proc",
    fstype: "proc",
    data: "hidepid=2",
    flags: MS.MS_NOSUID,
    noSymlinks: true,
  },
  ROOTFS: { op: "ROOTFS", rootfs: "/var/lib/r" },
  MKDIR: { op: "MKDIR", path: "/dev/pts", mode: 0o755 },
  MKFILE: { op: "MKFILE", path: "/etc/hosts", mode: 0o644 },
  BIND: {
    op: "BIND",
    source: "/srv",
    target: "/srv",
    recursive: true,
    attrSet: 1,
    propagation: MS.MS_SLAVE,
    sourceInRoot: true,
  },
  MKNOD: { op: "MKNOD", path: "/dev/null", mode: 0o020666, dev: makedev(1, 3), uid: 1, gid: 2 },
  SYMLINK: { op: "SYMLINK", target: "/proc/self/fd", path: "/dev/fd" },
  MASK: { op: "MASK", path: "/proc/kcore", devNull: "/dev/null" },
  READONLY: { op: "READONLY", path: "/proc/sys" },
  WRITE: { op: "WRITE", dir: "/proc", file: "sys/kernel/shmmni", content: "8192", procfs: true },
  PIVOT: { op: "PIVOT", noPivot: true },
  ROOT_READONLY: { op: "ROOT_READONLY" },
  HOSTNAME: { op: "HOSTNAME", hostname: "box" },
  IFUP: { op: "IFUP", name: "lo" },
  RLIMIT: { op: "RLIMIT", resource: 7, soft: 1024n, hard: -1n },
  RUN: { op: "RUN", candidates: ["/bin/hook"], args: ["hook", "a"], env: ["X=1"], dir: "/tmp" },
  CONSOLE: {
    op: "CONSOLE",
    ptmx: "/dev/pts/ptmx",
    console: "/dev/console",
    bindConsole: true,
    uid: 0,
    gid: 5,
    rows: 0,
    columns: 0,
  },
  SYNC: { op: "SYNC", tag: 1 },
  BOUNDING: { op: "BOUNDING", keep: 0xa80425fbn },
  IDENTITY: { op: "IDENTITY", uid: 1000, gid: 100, groups: [5, 4294967294] },
  SETID: { op: "SETID", uid: 0, gid: 4294967294 },
  DUMPABLE: { op: "DUMPABLE", dumpable: true },
  CAPS: { op: "CAPS", effective: 1n, permitted: 3n, inheritable: 0n, ambient: 1n << 40n },
  PDEATHSIG: { op: "PDEATHSIG", signal: 9 },
  CHDIR: { op: "CHDIR", path: "/home/u" },
  EXEC: EXEC as Extract<PlanOp, { op: "EXEC" }>,
  NO_NEW_PRIVS: { op: "NO_NEW_PRIVS" },
  SECCOMP: {
    op: "SECCOMP",
    filter: Uint8Array.from({ length: 24 }, (_, i) => i + 1),
    flags: 4,
  },
};

Deno.test("encodePlan() writes the header: magic, version, op count and blob length", () => {
  const message = encodePlan([{ op: "CLONE", flags: CLONE.PARENT, cgroup: "" }, EXEC]);
  const plan = decode(message);
  assertEquals(plan.magic, PLAN_MAGIC);
  assertEquals(PLAN_MAGIC, 0x5049534e);
  assertEquals([...message.subarray(0, 4)], [0x4e, 0x53, 0x49, 0x50]); // "NSIP" little-endian
  assertEquals(plan.version, PLAN_VERSION);
  assertEquals(plan.count, 2);
  assertEquals(PLAN_HEADER_SIZE, 16);
  assertEquals(PLAN_OP_SIZE, 72);
  assertEquals(message.length, 16 + 2 * 72 + plan.blobLength);
  assertEquals(plan.records.map((r) => r.code), [OP_LAYOUT.CLONE.code, OP_LAYOUT.EXEC.code]);
  assertEquals(plan.records[0]!.num[0], BigInt(CLONE.PARENT));
  checkSlots(plan);
});

Deno.test("encodePlan() encodes every op kind with the slot kinds OP_LAYOUT declares", () => {
  const ops = Object.values(SAMPLES) as PlanOp[];
  const plan = decode(encodePlan(ops));
  assertEquals(plan.count, ops.length);
  assertEquals(plan.records.map((r) => r.code), ops.map((op) => OP_LAYOUT[op.op].code));
  checkSlots(plan);
  // Codes are distinct.
  const codes = Object.values(OP_LAYOUT).map((l) => l.code);
  assertEquals(new Set(codes).size, codes.length);
});

Deno.test("encodePlan() stores strings NUL-terminated, their length without the NUL", () => {
  const ops = Object.values(SAMPLES) as PlanOp[];
  const plan = decode(encodePlan(ops));
  const at = (name: OpName) => ops.findIndex((op) => op.op === name);
  const mount = at("MOUNT");
  assertEquals([0, 1, 2, 3].map((slot) => str(plan, mount, slot)), [
    "proc",
    "/proc",
    "proc",
    "hidepid=2",
  ]);
  assertEquals(plan.records[mount]!.refs[0]!.len, 4);
  assertEquals(str(plan, at("CLONE"), 0), "/sys/fs/cgroup/c");
  assertEquals([str(plan, at("CGROUP_ENTER"), 0), str(plan, at("CGROUP_ENTER"), 1)], [
    "/sys/fs/cgroup/pids/c/tasks",
    "0",
  ]);
  assertEquals([str(plan, at("SYMLINK"), 0), str(plan, at("SYMLINK"), 1)], [
    "/proc/self/fd",
    "/dev/fd",
  ]);
  assertEquals([str(plan, at("WRITE"), 0), str(plan, at("WRITE"), 1), str(plan, at("WRITE"), 2)], [
    "/proc",
    "sys/kernel/shmmni",
    "8192",
  ]);
  assertEquals(list(plan, at("RUN"), 0), ["/bin/hook"]);
  assertEquals(str(plan, at("RUN"), 3), "/tmp");
  assertEquals(str(plan, at("HOSTNAME"), 0), "box");
});

Deno.test("encodePlan() counts UTF-8 bytes and encodes empty strings as a lone NUL", () => {
  const plan = decode(encodePlan([
    { op: "CLONE", flags: 0, cgroup: "" },
    { op: "HOSTNAME", hostname: "héllo" },
    EXEC,
  ]));
  assertEquals(plan.records[0]!.refs[0]!.len, 0);
  assertEquals(str(plan, 0, 0), "");
  assertEquals(plan.records[1]!.refs[0]!.len, 6);
  assertEquals(str(plan, 1, 0), "héllo");
});

Deno.test("encodePlan() concatenates list slots and puts their counts in num[slot]", () => {
  const ops: PlanOp[] = [
    { op: "CLONE", flags: 0, cgroup: "" },
    SAMPLES.RUN,
    { op: "EXEC", candidates: ["/bin/true"], args: ["true", "", "x"], env: [] },
  ];
  const plan = decode(encodePlan(ops));
  const run = plan.records[1]!;
  assertEquals(run.num.slice(1, 3), [2n, 1n]);
  assertEquals(list(plan, 1, 1), ["hook", "a"]);
  assertEquals(list(plan, 1, 2), ["X=1"]);
  const exec = plan.records[2]!;
  assertEquals(exec.num.slice(0, 3), [1n, 3n, 0n]);
  assertEquals(list(plan, 2, 0), ["/bin/true"]);
  assertEquals(list(plan, 2, 1), ["true", "", "x"]);
  assertEquals(exec.refs[1]!.len, "true\0\0x\0".length);
  assertEquals(list(plan, 2, 2), []);
  assertEquals(exec.refs[2]!.len, 0);
  checkSlots(plan);
});

Deno.test("encodePlan() lays IDENTITY's groups out as an aligned uint32 array", () => {
  // Odd string lengths before the groups force padding.
  const ops: PlanOp[] = [
    { op: "CLONE", flags: 0, cgroup: "abc" },
    { op: "HOSTNAME", hostname: "x" },
    { op: "IDENTITY", uid: 1000, gid: 1001, groups: [0, 5, 65534, 4294967294] },
    { op: "IDENTITY", uid: 0, gid: 0, groups: [] },
    EXEC,
  ];
  const plan = decode(encodePlan(ops));
  const identity = plan.records[2]!;
  assertEquals(identity.num.slice(0, 3), [1000n, 1001n, 4n]);
  assertEquals(u32s(plan, 2, 2), [0, 5, 65534, 4294967294]);
  assertEquals(identity.refs[0], { off: 0, len: 0 });
  assertEquals(identity.refs[1], { off: 0, len: 0 });
  assertEquals(identity.refs[3], { off: 0, len: 0 });
  assertEquals(plan.records[3]!.num[2], 0n);
  assertEquals(u32s(plan, 3, 2), []);
  checkSlots(plan);
});

Deno.test("encodePlan() writes bigint numbers as 64-bit two's complement", () => {
  const message = encodePlan([
    { op: "CLONE", flags: 0, cgroup: "" },
    { op: "RLIMIT", resource: 7, soft: -1n, hard: 4096n },
    SAMPLES.MKNOD,
    {
      op: "MKNOD",
      path: "/dev/big",
      mode: 0o060600,
      dev: makedev(0xffffffff, 0xffffffff),
      uid: 0,
      gid: 0,
    },
    SAMPLES.CAPS,
    EXEC,
  ]);
  const plan = decode(message);
  const rlimitAt = PLAN_HEADER_SIZE + PLAN_OP_SIZE;
  assertEquals([...message.subarray(rlimitAt + 16, rlimitAt + 24)], new Array(8).fill(0xff));
  assertEquals(plan.records[1]!.num.slice(0, 3), [7n, -1n, 4096n]);
  assertEquals(plan.records[2]!.num, [0o020666n, 259n, 1n, 2n]);
  assertEquals(BigInt.asUintN(64, plan.records[3]!.num[1]!), 0xffff_ffff_ffff_ffffn);
  assertEquals(plan.records[4]!.num, [1n, 3n, 0n, 1n << 40n]);
});

Deno.test("encodePlan() sets each op flag from its option", () => {
  const plan = decode(encodePlan([
    { op: "CLONE", flags: 0, cgroup: "" },
    { ...SAMPLES.MOUNT, hostPath: true, noSymlinks: true },
    { ...SAMPLES.MOUNT, noSymlinks: false },
    { ...SAMPLES.MKDIR, noSymlinks: true },
    { ...SAMPLES.BIND, recursive: true, sourceInRoot: true, noSymlinks: true },
    { ...SAMPLES.BIND, recursive: false, sourceInRoot: false },
    SAMPLES.WRITE,
    { ...SAMPLES.WRITE, procfs: false },
    SAMPLES.PIVOT,
    { op: "PIVOT", noPivot: false },
    SAMPLES.CONSOLE,
    { ...SAMPLES.CONSOLE, bindConsole: false },
    EXEC,
  ]));
  assertEquals(plan.records.map((r) => r.flags), [
    0,
    PF.HOST_PATH | PF.NO_SYMLINKS,
    0,
    PF.NO_SYMLINKS,
    PF.RECURSIVE | PF.SRC_IN_ROOT | PF.NO_SYMLINKS,
    0,
    PF.PROCFS,
    0,
    PF.NO_PIVOT,
    0,
    PF.BIND_CONSOLE,
    0,
    0,
  ]);
  // The numbers of the flagged ops.
  assertEquals(plan.records[1]!.num[0], BigInt(MS.MS_NOSUID));
  assertEquals(plan.records[4]!.num.slice(0, 2), [1n, BigInt(MS.MS_SLAVE)]);
  assertEquals(plan.records[10]!.num.slice(0, 2), [0n, 5n]);
});

Deno.test("encodePlan() rejects a string with a NUL inside", () => {
  assertThrows(
    () =>
      encodePlan([
        { op: "CLONE", flags: 0, cgroup: "" },
        { op: "HOSTNAME", hostname: "a\0b" },
        EXEC,
      ]),
    (error: unknown) => error instanceof TypeError && /NUL/.test(error.message),
  );
  assertThrows(
    () =>
      encodePlan([{ op: "CLONE", flags: 0, cgroup: "" }, { ...SAMPLES.EXEC, env: ["A=1\0B=2"] }]),
    TypeError,
  );
  assertThrows(
    () => encodePlan([{ op: "CLONE", flags: 0, cgroup: "" }, { ...SAMPLES.EXEC, args: ["\0"] }]),
    TypeError,
  );
});

Deno.test("encodePlan() accepts a plan of exactly 1 MiB and rejects one byte more", () => {
  const plan = (size: number): PlanOp[] => [
    { op: "CLONE", flags: 0, cgroup: "" },
    { op: "HOSTNAME", hostname: "x".repeat(size) },
    EXEC,
  ];
  const base = encodePlan(plan(0)).length;
  const fits = encodePlan(plan(PLAN_MAX_BYTES - base));
  assertEquals(fits.length, PLAN_MAX_BYTES);
  assertEquals(PLAN_MAX_BYTES, 1 << 20);
  assertThrows(
    () => encodePlan(plan(PLAN_MAX_BYTES - base + 1)),
    (error: unknown) => error instanceof RangeError && /1048577/.test(error.message),
  );
  assertThrows(
    () =>
      encodePlan([{ op: "CLONE", flags: 0, cgroup: "" }, {
        ...SAMPLES.EXEC,
        env: new Array(200_000).fill("ABCDEF=1"),
      }]),
    RangeError,
  );
});

/** A limit of the helper's decoder, read from plan.h so the test follows it. */
async function helperLimit(pattern: RegExp): Promise<number> {
  const text = await Deno.readTextFile(new URL("../../../ffi/helper/plan.h", import.meta.url));
  const match = text.match(pattern);
  assert(match, `no ${pattern} in plan.h`);
  return Number(match[1]);
}

Deno.test("encodePlan() refuses more ops than the helper decodes (PLAN_MAX_OPS)", async () => {
  const max = await helperLimit(/#define PLAN_MAX_OPS (\d+)/);
  const plan = (count: number): PlanOp[] => [
    { op: "CLONE", flags: 0, cgroup: "" },
    ...new Array<PlanOp>(count - 2).fill({ op: "UMASK", mask: 0 }),
    EXEC,
  ];
  assertEquals(decode(encodePlan(plan(max))).count, max);
  // Otherwise the helper refuses it as a whole: "helper (before the plan ran): EINVAL".
  assertThrows(() => encodePlan(plan(max + 1)), RangeError);
});

Deno.test("encodePlan() refuses more list entries than the helper can point to (PLAN_MAX_POINTERS)", async () => {
  const max = await helperLimit(/#define PLAN_MAX_POINTERS (\d+)/);
  // Each list takes its entries plus a NULL: candidates 2 + 1, args 3 + 1, env count + 1.
  const plan = (envCount: number): PlanOp[] => [
    { op: "CLONE", flags: 0, cgroup: "" },
    { ...EXEC, env: new Array(envCount).fill("A=1") } as PlanOp,
  ];
  const fits = max - 3 - 4 - 1;
  assertEquals(decode(encodePlan(plan(fits))).records[1]!.num[2], BigInt(fits));
  // Otherwise the helper refuses the EXEC: "exec `sh`: EINVAL", which misleads.
  assertThrows(() => encodePlan(plan(fits + 1)), RangeError);
});
