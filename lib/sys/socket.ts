/**
 * A SOCK_SEQPACKET unix socket over libc: whole messages, optional
 * descriptors (SCM_RIGHTS), close-on-exec on both ends and on every
 * received descriptor.
 *
 * @module
 */
import { errno, sys } from "../../ffi/syscalls.ts";
import {
  AF_UNIX,
  MSG,
  SCM_RIGHTS,
  SO_SNDBUF,
  SO_SNDBUFFORCE,
  SOCK,
  SOL_SOCKET,
} from "../../ffi/constants.ts";
import { Errno } from "../../ffi/_errno.ts";
import { SystemError } from "../errors.ts";
import { closeFd } from "./fs.ts";
import { waitFor } from "./poll.ts";

const MSGHDR_SIZE = 56;
const CMSG_HEADER = 16;

/** A received message and the descriptors that came with it (close-on-exec). */
export interface Message {
  bytes: Uint8Array;
  fds: number[];
}

function address(buffer: Uint8Array): bigint {
  return BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(buffer as Uint8Array<ArrayBuffer>)));
}

/** One end of a SOCK_SEQPACKET socket. */
export class SeqpacketSocket {
  #fd: number;

  constructor(fd: number) {
    this.#fd = fd;
  }

  /** The raw descriptor. */
  get fd(): number {
    return this.#fd;
  }

  /** Creates a connected pair; both ends are close-on-exec. */
  static pair(): [SeqpacketSocket, SeqpacketSocket] {
    const fds = new Int32Array(2);
    const rc = sys.socketpair(
      AF_UNIX,
      SOCK.SEQPACKET | SOCK.CLOEXEC,
      0,
      new Uint8Array(fds.buffer),
    );
    if (rc < 0) throw new SystemError("socketpair", errno());
    return [new SeqpacketSocket(fds[0]!), new SeqpacketSocket(fds[1]!)];
  }

  /** Raises the send buffer so that one message of `bytes` fits. */
  ensureSendBuffer(bytes: number): void {
    const value = new Int32Array([bytes + 4096]);
    const raw = new Uint8Array(value.buffer);
    if (sys.setsockopt(this.#fd, SOL_SOCKET, SO_SNDBUFFORCE, raw) < 0) {
      sys.setsockopt(this.#fd, SOL_SOCKET, SO_SNDBUF, raw);
    }
  }

  /** Sends one message; fails if it cannot be sent whole right now. */
  send(bytes: Uint8Array): void {
    const iov = new BigUint64Array([address(bytes), BigInt(bytes.length)]);
    const header = new Uint8Array(MSGHDR_SIZE);
    const view = new DataView(header.buffer);
    view.setBigUint64(16, address(new Uint8Array(iov.buffer)), true);
    view.setBigUint64(24, 1n, true);
    for (;;) {
      const n = sys.sendmsg(this.#fd, header, MSG.NOSIGNAL | MSG.DONTWAIT);
      if (n === bytes.length) return;
      const code = n < 0 ? errno() : Errno.EMSGSIZE;
      if (code === Errno.EINTR) continue;
      throw new SystemError("sendmsg", code, { target: "sync socket" });
    }
  }

  /** Receives one message, waiting without blocking the event loop; null at end of stream. */
  async receive(maxBytes: number): Promise<Message | null> {
    for (;;) {
      const message = this.tryReceive(maxBytes);
      if (message !== "again") return message;
      await waitFor(this.#fd);
    }
  }

  /** Receives one message if one is ready; "again" when none is. */
  tryReceive(maxBytes: number): Message | null | "again" {
    const data = new Uint8Array(maxBytes);
    const control = new Uint8Array(64);
    const iov = new BigUint64Array([address(data), BigInt(data.length)]);
    const header = new Uint8Array(MSGHDR_SIZE);
    const view = new DataView(header.buffer);
    view.setBigUint64(16, address(new Uint8Array(iov.buffer)), true);
    view.setBigUint64(24, 1n, true);
    view.setBigUint64(32, address(control), true);
    view.setBigUint64(40, BigInt(control.length), true);
    for (;;) {
      const n = sys.recvmsg(this.#fd, header, MSG.DONTWAIT | MSG.CMSG_CLOEXEC);
      if (n < 0) {
        const code = errno();
        // ECONNRESET says the peer closed with our messages unread; it is
        // reported once, before the records the peer sent, so read on.
        if (code === Errno.EINTR || code === Errno.ECONNRESET) continue;
        if (code === Errno.EAGAIN) return "again";
        throw new SystemError("recvmsg", code, { target: "sync socket" });
      }
      const fds = readRights(control, Number(view.getBigUint64(40, true)));
      if (n === 0 && fds.length === 0) return null;
      if (view.getInt32(48, true) & MSG.TRUNC) {
        fds.forEach(closeFd);
        throw new SystemError("recvmsg", Errno.EMSGSIZE, { target: "sync socket" });
      }
      return { bytes: data.subarray(0, n), fds };
    }
  }

  /** Ends sending: the peer's next receive returns end of stream. */
  shutdownWrite(): void {
    if (this.#fd >= 0) sys.shutdown(this.#fd, 1 /* SHUT_WR */);
  }

  /** Closes a descriptor that arrived with a message and will not be used. */
  closeReceived(fd: number): void {
    closeFd(fd);
  }

  /** Closes this end; idempotent. */
  close(): void {
    if (this.#fd >= 0) closeFd(this.#fd);
    this.#fd = -1;
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

function readRights(control: Uint8Array, length: number): number[] {
  const view = new DataView(control.buffer);
  const fds: number[] = [];
  let at = 0;
  while (at + CMSG_HEADER <= length) {
    const cmsgLength = Number(view.getBigUint64(at, true));
    if (cmsgLength < CMSG_HEADER) break;
    if (view.getInt32(at + 8, true) === SOL_SOCKET && view.getInt32(at + 12, true) === SCM_RIGHTS) {
      for (let p = at + CMSG_HEADER; p + 4 <= at + cmsgLength; p += 4) {
        fds.push(view.getInt32(p, true));
      }
    }
    at += (cmsgLength + 7) & ~7;
  }
  return fds;
}
