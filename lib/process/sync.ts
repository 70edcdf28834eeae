/**
 * The sync protocol with the helper, the TypeScript side of
 * `ffi/helper/sync.h` (a unit test checks that both agree):
 *
 * ```text
 *   Deno                          helper (H)                 init (C)
 *   ---- plan (one message) ---->
 *   <--- SYNC_READY {arg=tag} ---  (OP_SYNC before the clone: cgroups, user namespaces)
 *   ---- SYNC_GO {arg=tag} ----->
 *                                 setns, clone(CLONE_PARENT)
 *   <--- SYNC_PID {arg=pid} -----
 *                                                            setup ops
 *   <--- SYNC_CONSOLE {fd via SCM_RIGHTS} -------------------  (terminal only)
 *   <--- SYNC_READY {arg=tag} -------------------------------  (OP_SYNC only;
 *        Deno writes /proc/<pid>/uid_map and gid_map at tag 2)
 *   ---- SYNC_GO {arg=tag} --------------------------------->
 *   <--- EOF: execve succeeded (the socket is close-on-exec) -
 *   <--- SYNC_ERROR {op, err, arg} from H or C at any point
 * ```
 *
 * @module
 */
import { Errno } from "../../ffi/_errno.ts";
import { SystemError } from "../errors.ts";
import { SeqpacketSocket } from "../sys/socket.ts";

/** Record types, as in sync.h. */
export const SYNC = { PID: 1, ERROR: 2, CONSOLE: 3, READY: 4, GO: 5 } as const;

/** The name of a record type, for messages. */
export type SyncType = keyof typeof SYNC;

/** Size of one record. */
export const SYNC_RECORD_SIZE = 16;

/** One fixed-size record; `fd` is set when the record carried a descriptor. */
export interface SyncRecord {
  type: number;
  op: number;
  err: number;
  arg: number;
  fd?: number;
}

/** The record arrived but was not one the parent could accept at this point. */
export class UnexpectedRecordError extends Error {
  override name = "UnexpectedRecordError";
}

function typeName(type: number): string {
  return Object.entries(SYNC).find(([, v]) => v === type)?.[0] ?? `type ${type}`;
}

/** The parent's end of the sync socket. */
export class SyncChannel {
  #socket: SeqpacketSocket;

  constructor(socket: SeqpacketSocket) {
    this.#socket = socket;
  }

  /** Makes room in the send buffer for one message of `bytes`. */
  ensureSendBuffer(bytes: number): void {
    this.#socket.ensureSendBuffer(bytes);
  }

  /** Sends the encoded plan as one message. */
  sendPlan(plan: Uint8Array): void {
    this.#socket.send(plan);
  }

  /** Sends a record; false when the other side is gone (its end of stream tells the rest). */
  send(type: number, arg = 0): boolean {
    const record = new Uint8Array(SYNC_RECORD_SIZE);
    const view = new DataView(record.buffer);
    view.setUint32(0, type, true);
    view.setInt32(4, -1, true);
    view.setInt32(12, arg, true);
    try {
      this.#socket.send(record);
      return true;
    } catch (error) {
      if (
        error instanceof SystemError &&
        (error.errno === Errno.EPIPE || error.errno === Errno.ECONNRESET)
      ) {
        return false;
      }
      throw error;
    }
  }

  /** Waits for the next record; null when the other side closed (exec succeeded or it died). */
  async receive(): Promise<SyncRecord | null> {
    const message = await this.#socket.receive(SYNC_RECORD_SIZE);
    if (message === null) return null;
    if (message.bytes.length !== SYNC_RECORD_SIZE) {
      message.fds.forEach((fd) => this.#socket.closeReceived(fd));
      throw new UnexpectedRecordError(`Sync record of ${message.bytes.length} bytes`);
    }
    const view = new DataView(message.bytes.buffer, message.bytes.byteOffset);
    const record: SyncRecord = {
      type: view.getUint32(0, true),
      op: view.getInt32(4, true),
      err: view.getInt32(8, true),
      arg: view.getInt32(12, true),
    };
    if (message.fds.length > 0) record.fd = message.fds[0]!;
    message.fds.slice(1).forEach((fd) => this.#socket.closeReceived(fd));
    return record;
  }

  /** Waits for a record of one of the `expected` types; an ERROR record is returned as is. */
  async expect(...expected: SyncType[]): Promise<SyncRecord | null> {
    const record = await this.receive();
    if (record === null || record.type === SYNC.ERROR) return record;
    if (!expected.some((name) => SYNC[name] === record.type)) {
      if (record.fd !== undefined) this.#socket.closeReceived(record.fd);
      throw new UnexpectedRecordError(
        `Expected ${expected.join(" or ")} from the helper, got ${typeName(record.type)}`,
      );
    }
    return record;
  }

  /** Tells the other side no more records will come: one waiting at a sync point exits. */
  shutdown(): void {
    this.#socket.shutdownWrite();
  }

  /** Closes the parent's end. */
  close(): void {
    this.#socket.close();
  }
}
