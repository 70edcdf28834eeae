/**
 * The netlink wire format: messages (nlmsghdr + a fixed header + attributes)
 * and attributes (rtattr: length, type, payload, each padded to 4 bytes,
 * possibly nested). Encoding is exact; parsing checks every length against
 * what is left, so a truncated or oversized reply fails with EBADMSG instead
 * of reading past its end.
 *
 * Host byte order (little-endian on every architecture the runtime runs on)
 * for header fields and integer attributes, network order for addresses, as
 * the kernel expects.
 *
 * @module
 */
import { SystemError } from "../errors.ts";
import { messageTypeName, NLA_TYPE_MASK, NLMSG_HDRLEN, RTATTR_HDRLEN } from "./_constants.ts";

const EBADMSG = 74;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Rounds a length up to netlink's 4-byte alignment. */
export function align4(length: number): number {
  return (length + 3) & ~3;
}

/** The error thrown for a message that does not parse. */
export function malformed(what: string, problem: string): SystemError {
  return new SystemError("netlink", EBADMSG, { detail: `${what}: ${problem}` });
}

// ---- encoding -------------------------------------------------------------

/**
 * An attribute to encode. A leaf has `data`; a nest has `children` (and may
 * start with `data`, as VETH_INFO_PEER starts with an ifinfomsg).
 */
export interface Attr {
  /** The attribute type, flags (NLA_F_NESTED) included. */
  type: number;
  /** The payload of a leaf, or the fixed part that opens a nest. */
  data?: Uint8Array;
  /** Nested attributes. */
  children?: readonly Attr[];
}

/** Builders of common attribute payloads. */
export const attr = {
  /** An attribute with raw bytes. */
  bytes: (type: number, data: Uint8Array): Attr => ({ type, data }),
  /** An unsigned 8-bit attribute. */
  u8: (type: number, value: number): Attr => ({ type, data: Uint8Array.of(value & 0xff) }),
  /** An unsigned 32-bit attribute in host byte order. */
  u32: (type: number, value: number): Attr => {
    const data = new Uint8Array(4);
    new DataView(data.buffer).setUint32(0, value >>> 0, true);
    return { type, data };
  },
  /** A NUL-terminated string attribute. */
  str: (type: number, value: string): Attr => {
    const bytes = encoder.encode(value);
    const data = new Uint8Array(bytes.length + 1);
    data.set(bytes);
    return { type, data };
  },
  /** A nest of attributes, optionally opened by a fixed structure (`opening`). */
  nest: (type: number, children: readonly Attr[], options: { opening?: Uint8Array } = {}): Attr =>
    options.opening === undefined ? { type, children } : { type, data: options.opening, children },
};

/** The value of an attribute's rta_len field. */
function attrLength(a: Attr): number {
  if (a.children === undefined) return RTATTR_HDRLEN + (a.data?.length ?? 0);
  let length = RTATTR_HDRLEN + align4(a.data?.length ?? 0);
  for (const child of a.children) length += align4(attrLength(child));
  return length;
}

function writeAttr(view: DataView, bytes: Uint8Array, at: number, a: Attr): number {
  const length = attrLength(a);
  if (length > 0xffff) throw new RangeError(`netlink attribute ${a.type} is too long: ${length}`);
  view.setUint16(at, length, true);
  view.setUint16(at + 2, a.type, true);
  let offset = at + RTATTR_HDRLEN;
  if (a.data !== undefined) {
    bytes.set(a.data, offset);
    offset += a.data.length;
  }
  if (a.children !== undefined) {
    offset = at + RTATTR_HDRLEN + align4(a.data?.length ?? 0);
    for (const child of a.children) offset = writeAttr(view, bytes, offset, child);
  }
  return at + align4(length);
}

/** The fields of an nlmsghdr other than its length. */
export interface MessageHeader {
  /** Message type, such as RTM_NEWLINK. */
  type: number;
  /** NLM_F_* flags. */
  flags: number;
  /** Sequence number, echoed by the kernel in its replies. */
  seq: number;
  /** Sender port id; 0 lets the kernel fill it in. */
  pid?: number;
}

/** The body of a message: a fixed header and attributes. */
export interface MessageBody {
  /** The fixed header (ifinfomsg, ifaddrmsg, rtmsg...); none when absent. */
  fixed?: Uint8Array;
  /** The attributes after it. */
  attrs?: readonly Attr[];
}

/**
 * Encodes one message: the nlmsghdr, then the fixed header padded to 4
 * bytes, then each attribute padded to 4 bytes.
 */
export function encodeMessage(
  header: MessageHeader,
  body: MessageBody = {},
): Uint8Array<ArrayBuffer> {
  const fixed = body.fixed ?? new Uint8Array(0);
  const attrs = body.attrs ?? [];
  let length = NLMSG_HDRLEN + align4(fixed.length);
  for (const a of attrs) length += align4(attrLength(a));
  const bytes = new Uint8Array(length);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, length, true);
  view.setUint16(4, header.type, true);
  view.setUint16(6, header.flags, true);
  view.setUint32(8, header.seq >>> 0, true);
  view.setUint32(12, header.pid ?? 0, true);
  bytes.set(fixed, NLMSG_HDRLEN);
  let offset = NLMSG_HDRLEN + align4(fixed.length);
  for (const a of attrs) offset = writeAttr(view, bytes, offset, a);
  return bytes;
}

/** Changes the sequence number of an encoded message in place. */
export function setSequence(message: Uint8Array, seq: number): void {
  new DataView(message.buffer, message.byteOffset, message.byteLength).setUint32(8, seq, true);
}

// ---- decoding -------------------------------------------------------------

/** One received message; `payload` is everything after the nlmsghdr. */
export interface NetlinkMessage {
  /** Message type. */
  type: number;
  /** NLM_F_* flags. */
  flags: number;
  /** Sequence number of the request it answers. */
  seq: number;
  /** Port id of the sender (0 for the kernel). */
  pid: number;
  /** The bytes after the header, exactly nlmsg_len - 16 of them. */
  payload: Uint8Array;
}

/**
 * Splits a datagram into messages. Every nlmsg_len must cover at least the
 * header and fit in what is left; padding after a message is skipped.
 */
export function parseMessages(buffer: Uint8Array, what = "netlink reply"): NetlinkMessage[] {
  const view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  const messages: NetlinkMessage[] = [];
  let offset = 0;
  while (offset < buffer.length) {
    const left = buffer.length - offset;
    if (left < NLMSG_HDRLEN) {
      throw malformed(what, `${left} bytes at offset ${offset} are too few for a message header`);
    }
    const length = view.getUint32(offset, true);
    if (length < NLMSG_HDRLEN) {
      throw malformed(what, `message at offset ${offset} has length ${length}, below the header's`);
    }
    if (length > left) {
      throw malformed(what, `message at offset ${offset} claims ${length} bytes, ${left} left`);
    }
    messages.push({
      type: view.getUint16(offset + 4, true),
      flags: view.getUint16(offset + 6, true),
      seq: view.getUint32(offset + 8, true),
      pid: view.getUint32(offset + 12, true),
      payload: buffer.subarray(offset + NLMSG_HDRLEN, offset + length),
    });
    offset += align4(length);
  }
  return messages;
}

/**
 * The attributes of one level, by type (flags masked off; a repeated type
 * keeps its last value, as the kernel's nla_parse does). Accessors check the
 * payload's size and name the attribute when it is wrong.
 */
export class Attributes {
  readonly #values: Map<number, Uint8Array>;
  readonly #what: string;

  private constructor(values: Map<number, Uint8Array>, what: string) {
    this.#values = values;
    this.#what = what;
  }

  /**
   * Parses the attributes in `bytes`. Each rta_len must cover its header and
   * fit in what is left; fewer than 4 trailing bytes are padding.
   */
  static parse(bytes: Uint8Array, what: string): Attributes {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const values = new Map<number, Uint8Array>();
    let offset = 0;
    while (bytes.length - offset >= RTATTR_HDRLEN) {
      const length = view.getUint16(offset, true);
      const type = view.getUint16(offset + 2, true) & NLA_TYPE_MASK;
      if (length < RTATTR_HDRLEN) {
        throw malformed(what, `attribute ${type} at offset ${offset} has length ${length}`);
      }
      if (length > bytes.length - offset) {
        throw malformed(
          what,
          `attribute ${type} at offset ${offset} claims ${length} bytes, ${
            bytes.length - offset
          } left`,
        );
      }
      values.set(type, bytes.subarray(offset + RTATTR_HDRLEN, offset + length));
      offset += align4(length);
    }
    return new Attributes(values, what);
  }

  /** Whether the attribute is present. */
  has(type: number): boolean {
    return this.#values.has(type);
  }

  /** The attribute types present, in order of first appearance. */
  types(): number[] {
    return [...this.#values.keys()];
  }

  /** The raw payload, or undefined. */
  bytes(type: number): Uint8Array | undefined {
    return this.#values.get(type);
  }

  #sized(type: number, size: number): DataView | undefined {
    const value = this.#values.get(type);
    if (value === undefined) return undefined;
    if (value.length < size) {
      throw malformed(this.#what, `attribute ${type} has ${value.length} bytes, needs ${size}`);
    }
    return new DataView(value.buffer, value.byteOffset, value.byteLength);
  }

  /** An unsigned 8-bit attribute, or undefined. */
  u8(type: number): number | undefined {
    return this.#sized(type, 1)?.getUint8(0);
  }

  /** An unsigned 32-bit attribute, or undefined. */
  u32(type: number): number | undefined {
    return this.#sized(type, 4)?.getUint32(0, true);
  }

  /** A NUL-terminated (or unterminated) string attribute, or undefined. */
  str(type: number): string | undefined {
    const value = this.#values.get(type);
    if (value === undefined) return undefined;
    const end = value.indexOf(0);
    return decoder.decode(end < 0 ? value : value.subarray(0, end));
  }

  /** The attributes nested in an attribute, or undefined. */
  nested(type: number): Attributes | undefined {
    const value = this.#values.get(type);
    return value === undefined ? undefined : Attributes.parse(value, `${this.#what} > ${type}`);
  }

  /** A view of an attribute that must be at least `size` bytes, or undefined. */
  view(type: number, size: number): DataView | undefined {
    return this.#sized(type, size);
  }
}

/** Checks that a payload holds a fixed header of `size` bytes; returns a view of it. */
export function fixedHeader(payload: Uint8Array, size: number, what: string): DataView {
  if (payload.length < size) {
    throw malformed(
      what,
      `payload of ${payload.length} bytes is too short for a ${size}-byte header`,
    );
  }
  return new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
}

/** Parses the attributes that follow a fixed header of `size` bytes. */
export function attributesAfter(payload: Uint8Array, size: number, what: string): Attributes {
  fixedHeader(payload, size, what);
  return Attributes.parse(payload.subarray(Math.min(align4(size), payload.length)), what);
}

/** Names a reply for messages: `RTM_NEWLINK reply`. */
export function replyName(type: number): string {
  return `${messageTypeName(type)} reply`;
}
