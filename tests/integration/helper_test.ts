/**
 * The real helper binary, driven by this test as its parent (as runc's
 * nsenter_test drives nsexec): crafted plan messages go in over the sync
 * socket, and what comes back must be exactly what the protocol promises.
 * A malformed plan is refused with one ERROR record naming the op, and
 * nothing is started; a fuzz loop checks the decoder never hangs, crashes
 * or leaves a process behind. Needs root (the helper clones and setns).
 *
 * Only the plumbing is used here: spawnHelper, SeqpacketSocket,
 * SyncChannel and process reaping; no container API.
 */
import { assert, assertEquals } from "../_assert.ts";
import { CLONE, O, POLL, SIGNALS } from "../../ffi/constants.ts";
import { Errno, errnoName } from "../../ffi/_errno.ts";
import {
  encodePlan,
  OP_LAYOUT,
  PLAN_HEADER_SIZE,
  PLAN_MAGIC,
  PLAN_MAX_BYTES,
  PLAN_MAX_POINTERS,
  PLAN_OP_SIZE,
  PLAN_VERSION,
} from "../../lib/plan/encode.ts";
import type { PlanOp } from "../../lib/plan/ops.ts";
import { spawnHelper } from "../../lib/process/spawn.ts";
import { SYNC, SyncChannel, type SyncRecord } from "../../lib/process/sync.ts";
import { closeFd, openFile } from "../../lib/sys/fs.ts";
import { waitFor } from "../../lib/sys/poll.ts";
import {
  closePidfd,
  type ExitStatus,
  kill,
  pidfdOpen,
  pidfdSignal,
  reapNow,
  waitPidfd,
} from "../../lib/sys/proc.ts";
import { SeqpacketSocket } from "../../lib/sys/socket.ts";

const TRUE = "/bin/true";
/** Not in Errno: only the helper's sync op uses it. */
const EPROTO = 71;
const FALSE = "/bin/false";

function exists(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

const isRoot = Deno.uid() === 0;
const ready: { ignore: boolean } = { ignore: !isRoot || !exists(TRUE) };
if (ready.ignore) {
  console.warn(`helper tests skipped: ${!isRoot ? "not root" : `no ${TRUE}`}`);
}

/** With no extra files and no joins, the helper sees stdio, the sync socket as 3, and nothing else. */
const SYNC_FD = 3;
const FD_LIMIT = 4;

// ---------------------------------------------------------------------------
// Running the helper

/** Everything the helper and its init did with one message. */
interface Outcome {
  records: SyncRecord[];
  helper: ExitStatus;
  /** The init's pid and how it ended, when the helper reported one. */
  init: { pid: number; parent: number; status: ExitStatus } | null;
  /** The run did not end within the time limit (everything was killed). */
  timedOut: boolean;
}

/** The parent pid of a live or zombie process. */
function parentOf(pid: number): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
}

/** Children of this test process, running or zombie. */
function childProcesses(): string[] {
  const children: string[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const stat = Deno.readTextFileSync(`/proc/${entry.name}/stat`);
      if (Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) === Deno.pid) {
        children.push(stat.slice(0, stat.lastIndexOf(")") + 1));
      }
    } catch {
      // exited while listing
    }
  }
  return children;
}

/** Reaps a child through a pidfd, killing it when it has not ended within `ms`. */
async function reapWithin(pid: number, ms: number): Promise<{ status: ExitStatus; late: boolean }> {
  const pidfd = pidfdOpen(pid);
  try {
    const late = await waitFor(pidfd, POLL.IN, ms) === 0;
    if (late) pidfdSignal(pidfd, SIGNALS.SIGKILL!);
    return { status: await waitPidfd(pidfd), late };
  } finally {
    closePidfd(pidfd);
  }
}

/**
 * Spawns the helper, sends `message` as the plan, collects every record
 * until the end of stream (answering READY with GO, or with `go`), then
 * reaps the helper and the init. Never hangs: past `timeoutMs` both are
 * killed and the outcome says so.
 */
async function runHelper(
  message: Uint8Array | null,
  { timeoutMs = 5000, go }: { timeoutMs?: number; go?: (tag: number) => number } = {},
): Promise<Outcome> {
  const [parent, child] = SeqpacketSocket.pair();
  const channel = new SyncChannel(parent);
  const records: SyncRecord[] = [];
  let helperPid = 0;
  let init: { pid: number; parent: number } | null = null;
  let timedOut = false;
  let failure: unknown;
  try {
    const devNull = openFile("/dev/null", O.RDWR);
    try {
      helperPid = spawnHelper({
        stdio: [devNull, devNull, devNull],
        extraFiles: [],
        sync: child.fd,
        joins: [],
      }).pid;
    } finally {
      closeFd(devNull);
      child.close();
    }
    if (message !== null) {
      parent.ensureSendBuffer(message.length);
      channel.sendPlan(message);
    } else {
      parent.shutdownWrite();
    }
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const left = deadline - Date.now();
      if (left <= 0 || await waitFor(parent.fd, POLL.IN, left) === 0) {
        timedOut = true;
        break;
      }
      const record = await channel.receive();
      if (record === null) break;
      if (record.fd !== undefined) closeFd(record.fd);
      records.push(record);
      if (record.type === SYNC.PID && init === null) {
        init = { pid: record.arg, parent: parentOf(record.arg) };
      }
      if (record.type === SYNC.READY) channel.send(SYNC.GO, go ? go(record.arg) : record.arg);
    }
  } catch (error) {
    failure = error;
  } finally {
    channel.close();
  }
  if (timedOut || failure !== undefined) {
    if (helperPid > 0) kill(helperPid, SIGNALS.SIGKILL!);
    if (init) kill(init.pid, SIGNALS.SIGKILL!);
  }
  if (helperPid === 0) throw failure;
  // The end of stream means the helper closed the socket by exiting (or was killed): reap it now.
  const helper = reapNow(helperPid);
  let reaped: Outcome["init"] = null;
  if (init) {
    const { status, late } = await reapWithin(init.pid, 2000);
    timedOut ||= late;
    reaped = { ...init, status };
  }
  if (failure !== undefined) throw failure;
  return { records, helper, init: reaped, timedOut };
}

function describe(outcome: Outcome): string {
  const records = outcome.records.map((r) =>
    r.type === SYNC.ERROR
      ? `ERROR{op=${r.op} err=${errnoName(r.err)} arg=${r.arg}}`
      : `${
        Object.entries(SYNC).find(([, v]) => v === r.type)?.[0] ?? r.type
      }{op=${r.op} arg=${r.arg}}`
  );
  return `records [${records.join(", ")}], helper exit ${outcome.helper.code}` +
    (outcome.init ? `, init exit ${outcome.init.status.code}` : ", no init") +
    (outcome.timedOut ? ", TIMED OUT" : "");
}

/** The helper refused the plan: one ERROR record, nothing started, the helper exited. */
async function assertRefused(
  message: Uint8Array,
  op: number,
  err: number = Errno.EINVAL,
): Promise<void> {
  const outcome = await runHelper(message);
  const summary = describe(outcome);
  assertEquals(outcome.timedOut, false, summary);
  assertEquals(
    outcome.records.map((r) => ({ ...r })),
    [{ type: SYNC.ERROR, op, err, arg: 0 }],
    summary,
  );
  assertEquals(outcome.init, null, summary);
  assertEquals(outcome.helper.code, 255, summary);
  assertEquals(childProcesses(), []);
}

// ---------------------------------------------------------------------------
// Crafting messages

function view(message: Uint8Array): DataView {
  return new DataView(message.buffer, message.byteOffset, message.byteLength);
}

function recordAt(index: number): number {
  return PLAN_HEADER_SIZE + index * PLAN_OP_SIZE;
}

function blobAt(message: Uint8Array): number {
  return PLAN_HEADER_SIZE + view(message).getUint32(8, true) * PLAN_OP_SIZE;
}

function setCode(message: Uint8Array, index: number, code: number): Uint8Array {
  view(message).setUint32(recordAt(index), code >>> 0, true);
  return message;
}

function setNum(message: Uint8Array, index: number, k: number, value: bigint): Uint8Array {
  view(message).setBigInt64(recordAt(index) + 8 + k * 8, BigInt.asIntN(64, value), true);
  return message;
}

function ref(message: Uint8Array, index: number, slot: number): { off: number; len: number } {
  const at = recordAt(index) + 40 + slot * 8;
  return { off: view(message).getUint32(at, true), len: view(message).getUint32(at + 4, true) };
}

function setRef(
  message: Uint8Array,
  index: number,
  slot: number,
  off: number,
  len: number,
): Uint8Array {
  const at = recordAt(index) + 40 + slot * 8;
  view(message).setUint32(at, off >>> 0, true);
  view(message).setUint32(at + 4, len >>> 0, true);
  return message;
}

/** A copy with `extra` unreferenced bytes added to the blob (the header says so). */
function padBlob(message: Uint8Array, extra: number): Uint8Array {
  const padded = new Uint8Array(message.length + extra);
  padded.set(message);
  view(padded).setUint32(12, view(message).getUint32(12, true) + extra, true);
  return padded;
}

/** A copy with record `index` duplicated in place (refs are blob-relative, so they stay valid). */
function insertRecord(message: Uint8Array, index: number): Uint8Array {
  const at = recordAt(index);
  const longer = new Uint8Array(message.length + PLAN_OP_SIZE);
  longer.set(message.subarray(0, at + PLAN_OP_SIZE));
  longer.set(message.subarray(at), at + PLAN_OP_SIZE);
  view(longer).setUint32(8, view(message).getUint32(8, true) + 1, true);
  return longer;
}

const clone = (flags: number = CLONE.PARENT): PlanOp => ({ op: "CLONE", flags, cgroup: "" });
const exec = (path = TRUE, args = ["true"]): PlanOp => ({
  op: "EXEC",
  candidates: [path],
  args,
  env: ["A=1"],
});

/**
 * The base plan for crafted faults: each op harmless even if it ran, and
 * run in the init only (nothing before the clone, no namespaces).
 */
const BASE: PlanOp[] = [
  clone(),
  { op: "UMASK", mask: 0o022 },
  { op: "IDENTITY", uid: 0, gid: 0, groups: [0] },
  { op: "CHDIR", path: "/" },
  exec(),
];
const [I_CLONE, I_UMASK, I_IDENTITY, I_CHDIR, I_EXEC] = [0, 1, 2, 3, 4];

function base(): Uint8Array {
  return encodePlan(BASE);
}

// ---------------------------------------------------------------------------
// Valid plans

Deno.test({
  name: "helper: a valid plan reports the init's pid, then the stream ends when it execs",
  ...ready,
  async fn() {
    assertEquals(childProcesses(), []);
    const outcome = await runHelper(encodePlan([clone(), exec()]));
    const summary = describe(outcome);
    assertEquals(outcome.timedOut, false, summary);
    assertEquals(outcome.records.length, 1, summary);
    const [pid] = outcome.records;
    assertEquals(pid!.type, SYNC.PID);
    assertEquals(pid!.op, 0, "the PID record names the CLONE op");
    assertEquals(pid!.err, 0);
    assert(pid!.arg > 0);
    // CLONE_PARENT: the init is this process's child, not the helper's.
    assertEquals(outcome.init?.pid, pid!.arg);
    assertEquals(outcome.init?.parent, Deno.pid);
    assertEquals(outcome.helper.code, 0, summary);
    assertEquals(outcome.init?.status.code, 0, summary);
    assertEquals(childProcesses(), []);
  },
});

Deno.test({
  name: "helper: the init runs the plan's program (exit status of /bin/false)",
  ignore: ready.ignore || !exists(FALSE),
  async fn() {
    const outcome = await runHelper(encodePlan(BASE.slice(0, -1).concat(exec(FALSE, ["false"]))));
    const summary = describe(outcome);
    assertEquals(outcome.records.map((r) => r.type), [SYNC.PID], summary);
    assertEquals(outcome.init?.status.code, 1, summary);
    assertEquals(outcome.helper.code, 0, summary);
    assertEquals(childProcesses(), []);
  },
});

Deno.test({
  name: "helper: an op that fails in the init is reported by index and errno after the pid",
  ...ready,
  async fn() {
    const plan = BASE.slice(0, -1).concat(exec("/nonexistent/nsinit-test", ["x"]));
    const outcome = await runHelper(encodePlan(plan));
    const summary = describe(outcome);
    assertEquals(outcome.timedOut, false, summary);
    // The helper's PID and the init's ERROR come from two processes, in either order.
    const sorted = outcome.records.map((r) => ({ type: r.type, op: r.op, err: r.err }))
      .sort((a, b) => a.type - b.type);
    assertEquals(sorted, [
      { type: SYNC.PID, op: I_CLONE, err: 0 },
      { type: SYNC.ERROR, op: I_EXEC, err: Errno.ENOENT },
    ], summary);
    assertEquals(outcome.helper.code, 0, summary);
    assertEquals(outcome.init?.status.code, 255, summary);
    assertEquals(childProcesses(), []);
  },
});

Deno.test({
  name: "helper: an init at a SYNC op waits for GO with the same tag",
  ...ready,
  async fn() {
    const plan: PlanOp[] = [clone(), { op: "SYNC", tag: 7 }, exec()];
    const outcome = await runHelper(encodePlan(plan));
    const summary = describe(outcome);
    const ready = outcome.records.find((r) => r.type === SYNC.READY);
    assertEquals(ready && { op: ready.op, arg: ready.arg }, { op: 1, arg: 7 }, summary);
    assertEquals(outcome.records.length, 2, summary);
    assertEquals(outcome.init?.status.code, 0, summary);

    const wrong = await runHelper(encodePlan(plan), { go: (tag) => tag + 1 });
    const error = wrong.records.find((r) => r.type === SYNC.ERROR);
    assertEquals(
      error && { op: error.op, err: error.err },
      { op: 1, err: EPROTO },
      describe(wrong),
    );
    assertEquals(wrong.init?.status.code, 255);
    assertEquals(childProcesses(), []);
  },
});

Deno.test({
  name: "helper: a parent that closes without sending a plan ends the helper quietly",
  ...ready,
  async fn() {
    const outcome = await runHelper(null);
    assertEquals(outcome.records, [], describe(outcome));
    assertEquals(outcome.helper.code, 0);
    assertEquals(outcome.init, null);
    assertEquals(childProcesses(), []);
  },
});

Deno.test({
  name: "helper: 4096 ops and a message of exactly 1 MiB are accepted",
  ...ready,
  async fn() {
    const many: PlanOp[] = [clone()];
    while (many.length < 4095) many.push({ op: "UMASK", mask: 0o022 });
    many.push(exec());
    const outcome = await runHelper(encodePlan(many));
    assertEquals(outcome.records.map((r) => r.type), [SYNC.PID], describe(outcome));
    assertEquals(outcome.init?.status.code, 0);

    const message = base();
    const full = padBlob(message, PLAN_MAX_BYTES - message.length);
    assertEquals(full.length, PLAN_MAX_BYTES);
    const big = await runHelper(full);
    assertEquals(big.records.map((r) => r.type), [SYNC.PID], describe(big));
    assertEquals(big.init?.status.code, 0);
    assertEquals(childProcesses(), []);
  },
});

Deno.test({
  name:
    "helper: list entries up to its pointer table and 65536 groups are accepted, one more is not",
  ...ready,
  async fn() {
    // Each list takes its entries plus a NULL from the helper's table: EXEC's
    // candidates (1) and args (1) leave PLAN_MAX_POINTERS - 2 - 2 - 1 for the env.
    // One more is refused by encodePlan() already (the unit tests check that).
    const withEnv = (count: number): PlanOp[] => [
      clone(),
      { op: "EXEC", candidates: [TRUE], args: ["true"], env: new Array(count).fill("A=1") },
    ];
    const fits = await runHelper(encodePlan(withEnv(PLAN_MAX_POINTERS - 5)));
    assertEquals(fits.records.map((r) => r.type), [SYNC.PID], describe(fits));
    assertEquals(fits.init?.status.code, 0);

    const withGroups = (count: number): PlanOp[] => [
      clone(),
      { op: "IDENTITY", uid: 0, gid: 0, groups: Array.from({ length: count }, (_, i) => i) },
      exec(),
    ];
    const groups = await runHelper(encodePlan(withGroups(65536)));
    assertEquals(groups.records.map((r) => r.type), [SYNC.PID], describe(groups));
    assertEquals(groups.init?.status.code, 0);
    await assertRefused(encodePlan(withGroups(65537)), 1);
    assertEquals(childProcesses(), []);
  },
});

// ---------------------------------------------------------------------------
// Malformed plans: one ERROR record, EINVAL, the right op index, nothing started

Deno.test({
  name: "helper: refuses a wrong magic or version before any op (index -1)",
  ...ready,
  async fn() {
    const magic = base();
    view(magic).setUint32(0, PLAN_MAGIC ^ 0x01000000, true);
    await assertRefused(magic, -1);
    for (const version of [0, PLAN_VERSION + 1, 0xffffffff]) {
      const message = base();
      view(message).setUint32(4, version, true);
      await assertRefused(message, -1);
    }
  },
});

Deno.test({
  name: "helper: refuses an op count of 0 or above 4096 (index -1)",
  ...ready,
  async fn() {
    const empty = new Uint8Array(PLAN_HEADER_SIZE);
    view(empty).setUint32(0, PLAN_MAGIC, true);
    view(empty).setUint32(4, PLAN_VERSION, true);
    await assertRefused(empty, -1);
    // The sizes of an otherwise fine 4097-op plan add up; only the count is wrong.
    const many: PlanOp[] = [clone()];
    while (many.length < 4095) many.push({ op: "UMASK", mask: 0o022 });
    many.push(exec());
    const message = insertRecord(encodePlan(many), 1);
    assertEquals(view(message).getUint32(8, true), 4097);
    await assertRefused(message, -1);
  },
});

Deno.test({
  name: "helper: refuses a message whose sizes do not add up (index -1)",
  ...ready,
  async fn() {
    const message = base();
    await assertRefused(message.slice(0, message.length - 1), -1);
    await assertRefused(message.slice(0, PLAN_HEADER_SIZE + PLAN_OP_SIZE), -1);
    await assertRefused(message.slice(0, 8), -1);
    await assertRefused(message.slice(0, 1), -1);
    const longer = new Uint8Array(message.length + 1);
    longer.set(message);
    await assertRefused(longer, -1);
    const blob = base();
    view(blob).setUint32(12, view(blob).getUint32(12, true) + 1, true);
    await assertRefused(blob, -1);
    const count = base();
    view(count).setUint32(8, BASE.length - 1, true);
    await assertRefused(count, -1);
    // A count whose records alone would overflow 32 bits.
    const huge = base();
    view(huge).setUint32(8, 0xffffffff, true);
    await assertRefused(huge, -1);
  },
});

Deno.test({
  name: "helper: refuses a message above 1 MiB with EMSGSIZE (index -1)",
  ...ready,
  async fn() {
    const message = base();
    await assertRefused(padBlob(message, PLAN_MAX_BYTES - message.length + 1), -1, Errno.EMSGSIZE);
    await assertRefused(padBlob(message, 2 * PLAN_MAX_BYTES), -1, Errno.EMSGSIZE);
  },
});

Deno.test({
  name: "helper: refuses a string reference that points past the blob",
  ...ready,
  async fn() {
    const blobLength = view(base()).getUint32(12, true);
    const { len } = ref(base(), I_CHDIR, 0);
    await assertRefused(setRef(base(), I_CHDIR, 0, blobLength, 0), I_CHDIR);
    await assertRefused(setRef(base(), I_CHDIR, 0, blobLength - len, len), I_CHDIR);
    await assertRefused(setRef(base(), I_CHDIR, 0, 0xffffffff, len), I_CHDIR);
    await assertRefused(setRef(base(), I_CHDIR, 0, 1, 0xffffffff), I_CHDIR);
    await assertRefused(setRef(base(), I_CHDIR, 0, 0, blobLength), I_CHDIR);
    // A list and the CLONE's string too.
    await assertRefused(setRef(base(), I_EXEC, 1, blobLength - 1, 2), I_EXEC);
    await assertRefused(setRef(base(), I_CLONE, 0, blobLength + 1, 0), I_CLONE);
  },
});

Deno.test({
  name: "helper: refuses a string without its NUL, or with a NUL inside",
  ...ready,
  async fn() {
    // CHDIR "/": overwrite the NUL after it.
    const noNul = base();
    const chdir = ref(noNul, I_CHDIR, 0);
    noNul[blobAt(noNul) + chdir.off + chdir.len] = 0x78;
    await assertRefused(noNul, I_CHDIR);
    // A length one short leaves a non-NUL byte past the string.
    const short = encodePlan(BASE.map((op) => op.op === "CHDIR" ? { ...op, path: "/tmp" } : op));
    const tmp = ref(short, I_CHDIR, 0);
    await assertRefused(setRef(short, I_CHDIR, 0, tmp.off, tmp.len - 1), I_CHDIR);
    // "/a_b" with its '_' made a NUL.
    const inner = encodePlan(BASE.map((op) => op.op === "CHDIR" ? { ...op, path: "/a_b" } : op));
    const at = ref(inner, I_CHDIR, 0);
    inner[blobAt(inner) + at.off + 2] = 0;
    await assertRefused(inner, I_CHDIR);
  },
});

Deno.test({
  name: "helper: refuses a list whose count does not match its strings",
  ...ready,
  async fn() {
    // args ["true"]: one string.
    await assertRefused(setNum(base(), I_EXEC, 1, 2n), I_EXEC);
    await assertRefused(setNum(base(), I_EXEC, 1, 0n), I_EXEC);
    await assertRefused(setNum(base(), I_EXEC, 1, -1n), I_EXEC);
    await assertRefused(setNum(base(), I_EXEC, 1, 1n << 40n), I_EXEC);
    const two = encodePlan(BASE.map((op) => op.op === "EXEC" ? exec(TRUE, ["true", "x"]) : op));
    await assertRefused(setNum(two, I_EXEC, 1, 1n), I_EXEC);
    // The range cut so it does not end with a NUL.
    const args = ref(base(), I_EXEC, 1);
    await assertRefused(setRef(base(), I_EXEC, 1, args.off, args.len - 1), I_EXEC);
    // An empty range with a count.
    await assertRefused(setRef(base(), I_EXEC, 2, 0, 0), I_EXEC);
  },
});

Deno.test({
  name: "helper: refuses an unknown op code",
  ...ready,
  async fn() {
    const past = Math.max(...Object.values(OP_LAYOUT).map((l) => l.code)) + 1;
    for (const code of [0, past, 255, 0x10000 + OP_LAYOUT.UMASK.code, 0xffffffff]) {
      await assertRefused(setCode(base(), I_UMASK, code), I_UMASK);
    }
  },
});

Deno.test({
  name: "helper: refuses an unused slot that is not empty",
  ...ready,
  async fn() {
    await assertRefused(setRef(base(), I_UMASK, 0, 0, 1), I_UMASK);
    await assertRefused(setRef(base(), I_UMASK, 3, 1, 0), I_UMASK);
    await assertRefused(setRef(base(), I_EXEC, 3, 0, 1), I_EXEC);
  },
});

Deno.test({
  name: "helper: refuses a SETNS whose fd is outside the sync range",
  ...ready,
  async fn() {
    for (const fd of [0n, 2n, BigInt(FD_LIMIT), 1000n, -1n, 1n << 33n]) {
      const plan: PlanOp[] = [{ op: "SETNS", fd: SYNC_FD, nstype: CLONE.NEWNET }, ...BASE];
      await assertRefused(setNum(encodePlan(plan), 0, 0, fd), 0);
    }
  },
});

Deno.test({
  name: "helper: refuses a SETNS after the CLONE",
  ...ready,
  async fn() {
    const plan: PlanOp[] = [
      clone(),
      { op: "UMASK", mask: 0 },
      { op: "SETNS", fd: SYNC_FD, nstype: CLONE.NEWNET },
      exec(),
    ];
    await assertRefused(encodePlan(plan), 2);
  },
});

Deno.test({
  name: "helper: refuses a second CLONE at its index",
  ...ready,
  async fn() {
    await assertRefused(encodePlan([clone(), { op: "UMASK", mask: 0 }, clone(), exec()]), 2);
  },
});

Deno.test({
  name: "helper: refuses a plan without a CLONE",
  ...ready,
  async fn() {
    // An op that belongs in the init, before any clone: that op is the fault.
    await assertRefused(encodePlan([{ op: "UMASK", mask: 0 }, exec()]), 0);
    await assertRefused(encodePlan([exec()]), 0);
    // Only joins: nothing is wrong until the end.
    await assertRefused(encodePlan([{ op: "SETNS", fd: SYNC_FD, nstype: CLONE.NEWNET }]), -1);
  },
});

Deno.test({
  name: "helper: refuses a plan that does not end with EXEC",
  ...ready,
  async fn() {
    await assertRefused(encodePlan([clone(), { op: "UMASK", mask: 0 }]), -1);
    await assertRefused(encodePlan([clone()]), -1);
  },
});

Deno.test({
  name: "helper: refuses a uint32 slot whose length is not 4 * count",
  ...ready,
  async fn() {
    // groups [0]: count 1, 4 bytes.
    await assertRefused(setNum(base(), I_IDENTITY, 2, 2n), I_IDENTITY);
    await assertRefused(setNum(base(), I_IDENTITY, 2, 0n), I_IDENTITY);
    await assertRefused(setNum(base(), I_IDENTITY, 2, -1n), I_IDENTITY);
    await assertRefused(setNum(base(), I_IDENTITY, 2, (1n << 62n) + 1n), I_IDENTITY);
    const groups = ref(base(), I_IDENTITY, 2);
    await assertRefused(setRef(base(), I_IDENTITY, 2, groups.off, 3), I_IDENTITY);
    await assertRefused(setRef(base(), I_IDENTITY, 2, groups.off, 8), I_IDENTITY);
  },
});

// ---------------------------------------------------------------------------
// Security ops: the seccomp program slot, no_new_privs, writes to the own procfs

/** x86_64's execve, for a filter that refuses only it. */
const NR_EXECVE = 59;

/** A filter: execve gets `errno`, everything else is allowed (x86_64 numbers). */
function refuseExecve(errno: number): Uint8Array {
  const insns = [
    [0x20, 0, 0, 0], // A = seccomp_data.nr
    [0x15, 0, 1, NR_EXECVE], // A == execve ? next : skip one
    [0x06, 0, 0, 0x00050000 | errno], // ret ERRNO(errno)
    [0x06, 0, 0, 0x7fff0000], // ret ALLOW
  ];
  const bytes = new Uint8Array(insns.length * 8);
  const v = new DataView(bytes.buffer);
  insns.forEach(([code, jt, jf, k], i) => {
    v.setUint16(i * 8, code!, true);
    v.setUint8(i * 8 + 2, jt!);
    v.setUint8(i * 8 + 3, jf!);
    v.setUint32(i * 8 + 4, k!, true);
  });
  return bytes;
}

const x86 = Deno.build.arch === "x86_64";

Deno.test({
  name: "helper: SECCOMP installs the plan's program before exec (execve refused with its errno)",
  ignore: ready.ignore || !x86,
  async fn() {
    const plan: PlanOp[] = [
      clone(),
      { op: "NO_NEW_PRIVS" },
      { op: "SECCOMP", filter: refuseExecve(77), flags: 0 },
      exec(),
    ];
    const outcome = await runHelper(encodePlan(plan));
    const summary = describe(outcome);
    const error = outcome.records.find((r) => r.type === SYNC.ERROR);
    assertEquals(error && { op: error.op, err: error.err }, { op: 3, err: 77 }, summary);
    assertEquals(outcome.init?.status.code, 255, summary);
    // Without no_new_privs a root process with CAP_SYS_ADMIN may install it too.
    const root = await runHelper(encodePlan([plan[0]!, plan[2]!, plan[3]!]));
    const refused = root.records.find((r) => r.type === SYNC.ERROR);
    assertEquals(refused && refused.err, 77, describe(root));
    assertEquals(childProcesses(), []);
  },
});

Deno.test({
  name: "helper: refuses a seccomp program slot with a bad count, length or alignment",
  ...ready,
  async fn() {
    const message = () =>
      encodePlan([clone(), { op: "SECCOMP", filter: refuseExecve(1), flags: 0 }, exec()]);
    const slot = ref(message(), 1, 0);
    assertEquals([slot.off % 8, slot.len], [0, 32]);
    for (const count of [0n, 3n, 5n, 4097n, -1n, 1n << 40n]) {
      await assertRefused(setNum(message(), 1, 0, count), 1);
    }
    await assertRefused(setRef(message(), 1, 0, slot.off, 24), 1);
    await assertRefused(setRef(message(), 1, 0, slot.off + 4, 32), 1);
    await assertRefused(setRef(message(), 1, 0, 0xfffffff8, 32), 1);
  },
});

/** A WRITE of the process's own oom_score_adj beneath /proc. */
function oomWrite(value: number, hostPath: boolean): PlanOp {
  return {
    op: "WRITE",
    dir: "/proc",
    file: "oom_score_adj",
    content: String(value),
    procfs: true,
    self: true,
    hostPath,
  };
}

const checkOom = (value: number) =>
  exec("/bin/sh", ["sh", "-c", `read v < /proc/self/oom_score_adj; test "$v" = ${value}`]);

Deno.test({
  name: "helper: a WRITE to the own procfs works before the clone (host path) and after it",
  ignore: ready.ignore || !exists("/bin/sh"),
  async fn() {
    const before = await runHelper(encodePlan([oomWrite(321, true), clone(), checkOom(321)]));
    assertEquals(before.init?.status.code, 0, describe(before));
    const after = await runHelper(encodePlan([clone(), oomWrite(123, false), checkOom(123)]));
    assertEquals(after.init?.status.code, 0, describe(after));
    const wrong = await runHelper(encodePlan([clone(), oomWrite(5, false), checkOom(6)]));
    assertEquals(wrong.init?.status.code, 1, describe(wrong));
    assertEquals(childProcesses(), []);
  },
});

Deno.test({
  name: "helper: refuses a host-path WRITE after the CLONE and an in-root one before it",
  ...ready,
  async fn() {
    await assertRefused(encodePlan([clone(), oomWrite(1, true), exec()]), 1);
    await assertRefused(encodePlan([oomWrite(1, false), clone(), exec()]), 0);
  },
});

// ---------------------------------------------------------------------------
// Fuzzing

/** A small seeded generator (mulberry32), so a failing run can be replayed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const KNOWN_CODES = new Set(Object.values(OP_LAYOUT).map((l) => l.code));
/**
 * Ops that act only on the init itself (or, SETNS, on fd 3, the sync
 * socket, which no setns accepts). Anything else (mounts, files, hostname,
 * hooks, cgroup writes) would touch the host, as these plans make no mount
 * namespace: a mutation that produces one is turned into one of these.
 */
const SAFE_CODES = [
  "SETNS",
  "CLONE",
  "UMASK",
  "RLIMIT",
  "SYNC",
  "BOUNDING",
  "IDENTITY",
  "CAPS",
  "PDEATHSIG",
  "CHDIR",
  "EXEC",
].map((name) => OP_LAYOUT[name as keyof typeof OP_LAYOUT].code);
const RLIMIT_NOFILE = 7;

/**
 * Keeps a mutated message harmless whatever the helper makes of it: every
 * record the helper could read has a safe or an unknown code, every CLONE
 * makes no namespace and no thread, and every RLIMIT is about open files
 * (no core dumps, no starving the exec).
 */
function sanitize(message: Uint8Array, next: () => number): void {
  if (message.length < PLAN_HEADER_SIZE) return;
  const count = Math.min(view(message).getUint32(8, true), 4096);
  for (let i = 0; i < count && recordAt(i) + PLAN_OP_SIZE <= message.length; i++) {
    const code = view(message).getUint32(recordAt(i), true);
    // Small codes the plan does not know may be ops a newer helper has: never send those.
    if (!SAFE_CODES.includes(code) && (KNOWN_CODES.has(code) || (code > 0 && code < 0x100))) {
      const r = next();
      setCode(
        message,
        i,
        r < 0.8 ? SAFE_CODES[Math.floor(r / 0.8 * SAFE_CODES.length)]! : 0x100 + code,
      );
    }
    const now = view(message).getUint32(recordAt(i), true);
    if (now === OP_LAYOUT.CLONE.code) setNum(message, i, 0, BigInt(CLONE.PARENT));
    if (now === OP_LAYOUT.RLIMIT.code) setNum(message, i, 0, BigInt(RLIMIT_NOFILE));
  }
}

const INTERESTING = [
  0,
  1,
  2,
  3,
  4,
  7,
  8,
  0x7f,
  0x80,
  0xff,
  0x100,
  0x7fffffff,
  0x80000000,
  0xffffffff,
];

/** One random mutation of the header and records (the blob's strings are left as they are). */
function mutate(original: Uint8Array, next: () => number): { message: Uint8Array; how: string } {
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)]!;
  let message = original.slice();
  const region = blobAt(original);
  const hows: string[] = [];
  const rounds = 1 + int(3);
  for (let round = 0; round < rounds; round++) {
    const kind = int(6);
    if (kind === 0) {
      const flips = 1 + int(4);
      for (let f = 0; f < flips; f++) {
        const at = int(Math.min(region, message.length));
        const bit = int(8);
        message[at]! ^= 1 << bit;
        hows.push(`flip byte ${at} bit ${bit}`);
      }
    } else if (kind === 1) {
      // Never to 0 bytes: an empty message reads as the parent giving up.
      const length = 1 + int(message.length - 1);
      message = message.slice(0, length);
      hows.push(`truncate to ${length}`);
    } else if (kind === 2) {
      const extra = 1 + int(200);
      const longer = new Uint8Array(message.length + extra);
      longer.set(message);
      for (let i = message.length; i < longer.length; i++) longer[i] = int(256);
      message = longer;
      hows.push(`append ${extra} random bytes`);
    } else if (kind === 3 && message.length >= PLAN_HEADER_SIZE) {
      const field = int(4);
      const value = next() < 0.5 ? pick(INTERESTING) : int(0x100000000);
      view(message).setUint32(field * 4, value, true);
      hows.push(`header field ${field} = ${value}`);
    } else {
      const records = Math.floor(
        (Math.min(region, message.length) - PLAN_HEADER_SIZE) / PLAN_OP_SIZE,
      );
      if (records <= 0) continue;
      const index = int(records);
      const at = recordAt(index);
      const offset = pick([0, 4, 8, 16, 24, 32, 40, 44, 48, 52, 56, 60, 64, 68]);
      const blobLength = message.length - region;
      const value = pick([
        pick(INTERESTING),
        int(0x100000000),
        blobLength,
        blobLength - 1,
        blobLength + 1,
        int(blobLength + 1),
        pick([...KNOWN_CODES]),
      ]);
      if (offset >= 8 && offset < 40 && next() < 0.5) {
        const wide = pick([-1n, 1n << 32n, 1n << 62n, -(1n << 63n), BigInt(value)]);
        view(message).setBigInt64(at + offset, wide, true);
        hows.push(`op ${index} num@${offset} = ${wide}`);
      } else {
        view(message).setUint32(at + offset, value >>> 0, true);
        hows.push(`op ${index} @${offset} = ${value >>> 0}`);
      }
    }
  }
  sanitize(message, next);
  return { message, how: hows.join("; ") };
}

Deno.test({
  name:
    "helper: 300 random mutations of a plan each end in EOF after a PID or an ERROR, never a hang",
  ...ready,
  async fn() {
    const seed = Number(Deno.env.get("NSINIT_FUZZ_SEED") ?? 0x5eed2015);
    const next = random(seed);
    const original = encodePlan([
      clone(),
      { op: "UMASK", mask: 0o022 },
      { op: "RLIMIT", resource: RLIMIT_NOFILE, soft: 1024n, hard: 1024n },
      { op: "BOUNDING", keep: (1n << 41n) - 1n },
      { op: "IDENTITY", uid: 0, gid: 0, groups: [0, 1] },
      { op: "CAPS", effective: 1n, permitted: 1n, inheritable: 0n, ambient: 0n },
      { op: "PDEATHSIG", signal: 9 },
      { op: "CHDIR", path: "/" },
      { op: "EXEC", candidates: ["/nonexistent/true", TRUE], args: ["true"], env: ["A=1"] },
    ]);
    const runs = Number(Deno.env.get("NSINIT_FUZZ_RUNS") ?? 300);
    const tally = { started: 0, refused: 0, failedInInit: 0 };
    for (let run = 0; run < runs; run++) {
      const { message, how } = mutate(original, next);
      const outcome = await runHelper(message, { timeoutMs: 5000 });
      const context = `run ${run} (seed ${seed}): ${how}: ${describe(outcome)}`;
      assertEquals(outcome.timedOut, false, context);
      const types = outcome.records.map((r) => r.type);
      for (const type of types) {
        assert([SYNC.PID, SYNC.ERROR, SYNC.READY].includes(type as 1 | 2 | 4), context);
      }
      const pids = types.filter((t) => t === SYNC.PID).length;
      const errors = outcome.records.filter((r) => r.type === SYNC.ERROR);
      assert(pids <= 1 && errors.length <= 1, context);
      if (pids === 0) {
        // Refused, or the clone failed: the helper said why and exited.
        assertEquals(errors.length, 1, context);
        assertEquals(outcome.helper.code, 255, context);
        assertEquals(outcome.init, null, context);
        assert(errors[0]!.op >= -1 && errors[0]!.op < 4096, context);
        tally.refused++;
      } else {
        assertEquals(outcome.helper.code, 0, context);
        assert(outcome.init !== null, context);
        if (errors.length === 1) {
          assertEquals(outcome.init.status.code, 255, context);
          tally.failedInInit++;
        } else {
          tally.started++;
        }
      }
      assertEquals(childProcesses(), [], context);
    }
    // The mutations reach both sides of the decoder.
    assert(tally.refused > 0 && tally.started + tally.failedInInit > 0, JSON.stringify(tally));
    console.log(`fuzz (seed ${seed}): ${JSON.stringify(tally)}`);
  },
});

// CVE-2021-43784 (runc: a uint16 length overflowed in the bootstrap message,
// so attacker bytes were parsed as config): lengths are 32-bit and checked.
Deno.test({
  name: "CVE-2021-43784: a string above 65535 bytes arrives whole, and every truncation is refused",
  ...ready,
  async fn() {
    const long = "x".repeat(70000);
    const plan: PlanOp[] = [
      clone(),
      {
        op: "EXEC",
        candidates: ["/bin/sh"],
        args: ["sh", "-c", `[ "\${#A}" -eq ${long.length} ] && [ "$B" = after ]`],
        env: [`A=${long}`, "B=after"],
      },
    ];
    const outcome = await runHelper(encodePlan(plan));
    assertEquals(outcome.init?.status.code, 0, describe(outcome));
    const message = base();
    for (let length = 1; length < message.length; length++) {
      await assertRefused(message.slice(0, length), -1);
    }
  },
});
