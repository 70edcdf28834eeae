import { assert, assertEquals, assertThrows } from "../../_assert.ts";
import {
  align4,
  attr,
  Attributes,
  encodeMessage,
  parseMessages,
} from "../../../lib/network/_wire.ts";
import { SystemError } from "../../../lib/errors.ts";

/** A SystemError with EBADMSG whose message mentions `text`. */
function badMessage(text: string | RegExp) {
  return (error: unknown) => {
    assert(error instanceof SystemError, String(error));
    assertEquals(error.errnoName, "EBADMSG");
    assert(
      typeof text === "string" ? error.message.includes(text) : text.test(error.message),
      error.message,
    );
    return true;
  };
}

Deno.test("align4() rounds lengths up to netlink's 4-byte alignment", () => {
  assertEquals([0, 1, 2, 3, 4, 5, 8, 9].map(align4), [0, 4, 4, 4, 4, 8, 8, 12]);
});

Deno.test("encodeMessage() writes the header, pads the fixed part and every attribute", () => {
  const bytes = encodeMessage({ type: 0x1234, flags: 0x0305, seq: 0x01020304, pid: 7 }, {
    fixed: Uint8Array.of(0xaa, 0xbb, 0xcc), // 3 bytes: padded to 4
    attrs: [attr.u8(1, 0x11), attr.u32(2, 0x01020304), attr.str(3, "ab")],
  });
  assertEquals(
    Array.from(bytes),
    [
      ...[44, 0, 0, 0, 0x34, 0x12, 0x05, 0x03, 4, 3, 2, 1, 7, 0, 0, 0], // nlmsghdr
      ...[0xaa, 0xbb, 0xcc, 0], // fixed part, padded
      ...[5, 0, 1, 0, 0x11, 0, 0, 0], // u8: rta_len 5, padded to 8
      ...[8, 0, 2, 0, 4, 3, 2, 1], // u32, host order
      ...[7, 0, 3, 0, 0x61, 0x62, 0, 0], // "ab\0": rta_len 7, padded to 8
    ],
  );
});

Deno.test("a nest's length covers its opening structure and its padded children", () => {
  const bytes = encodeMessage({ type: 1, flags: 0, seq: 0 }, {
    attrs: [
      attr.nest(9, [attr.u8(1, 1), attr.nest(2, [attr.str(3, "x")])], {
        opening: Uint8Array.of(0xee),
      }),
    ],
  });
  assertEquals(
    Array.from(bytes.subarray(16)),
    [
      ...[28, 0, 9, 0], // outer nest: 4 + 4 (0xee padded) + 8 + 12
      ...[0xee, 0, 0, 0],
      ...[5, 0, 1, 0, 1, 0, 0, 0],
      ...[12, 0, 2, 0], // inner nest: 4 + 8
      ...[6, 0, 3, 0, 0x78, 0, 0, 0],
    ],
  );
  assertEquals(new DataView(bytes.buffer).getUint32(0, true), 16 + 28);
});

Deno.test("parseMessages() splits a datagram and skips the padding between messages", () => {
  const one = encodeMessage({ type: 16, flags: 2, seq: 5 }, {
    fixed: Uint8Array.of(1, 2, 3, 4, 5),
  });
  const two = encodeMessage({ type: 3, flags: 2, seq: 5 }, { fixed: Uint8Array.of(0, 0, 0, 0) });
  // The first declares 21 bytes (16 + 5) but occupies 24.
  new DataView(one.buffer).setUint32(0, 21, true);
  const messages = parseMessages(new Uint8Array([...one, ...two]));
  assertEquals(messages.map((m) => [m.type, m.flags, m.seq, Array.from(m.payload)]), [
    [16, 2, 5, [1, 2, 3, 4, 5]],
    [3, 2, 5, [0, 0, 0, 0]],
  ]);
});

Deno.test("parseMessages() refuses a truncated header", () => {
  const message = encodeMessage({ type: 16, flags: 0, seq: 1 }, { fixed: new Uint8Array(4) });
  assertThrows(
    () => parseMessages(new Uint8Array([...message, 1, 2, 3, 4, 5, 6, 7, 8])),
    badMessage("8 bytes at offset 20 are too few for a message header"),
  );
});

Deno.test("parseMessages() refuses a message longer than the datagram", () => {
  const message = encodeMessage({ type: 16, flags: 0, seq: 1 }, { fixed: new Uint8Array(16) });
  assertThrows(
    () => parseMessages(message.subarray(0, 24)),
    badMessage("message at offset 0 claims 32 bytes, 24 left"),
  );
});

Deno.test("parseMessages() refuses a length below the header's, which would loop forever", () => {
  const message = encodeMessage({ type: 16, flags: 0, seq: 1 }, { fixed: new Uint8Array(0) });
  new DataView(message.buffer).setUint32(0, 0, true);
  assertThrows(() => parseMessages(message), badMessage("has length 0, below the header's"));
});

Deno.test("Attributes.parse() reads each type, masks the nest flag and ignores trailing padding", () => {
  const bytes = new Uint8Array([
    ...[8, 0, 4, 0, 0xdc, 0x05, 0, 0], // 4: u32 1500
    ...[9, 0, 3, 0, 0x65, 0x74, 0x68, 0x30, 0, 0, 0, 0], // 3: "eth0\0"
    ...[12, 0, 0x12, 0x80, 8, 0, 1, 0, 7, 0, 0, 0], // 18 | NLA_F_NESTED: { 1: u32 7 }
    ...[0, 0], // fewer than 4 trailing bytes: padding
  ]);
  const attrs = Attributes.parse(bytes, "test");
  assertEquals(attrs.types(), [4, 3, 18]);
  assertEquals(attrs.u32(4), 1500);
  assertEquals(attrs.str(3), "eth0");
  assertEquals(attrs.nested(18)?.u32(1), 7);
  assertEquals(attrs.u32(99), undefined);
});

Deno.test("Attributes.parse() refuses an attribute that runs past the end", () => {
  const bytes = new Uint8Array([8, 0, 4, 0, 1, 0, 0, 0, 20, 0, 3, 0, 0x65, 0x74, 0x68, 0x30]);
  assertThrows(
    () => Attributes.parse(bytes, "RTM_NEWLINK reply"),
    badMessage("RTM_NEWLINK reply: attribute 3 at offset 8 claims 20 bytes, 8 left"),
  );
});

Deno.test("Attributes.parse() refuses an attribute shorter than its own header", () => {
  assertThrows(
    () => Attributes.parse(new Uint8Array([2, 0, 4, 0, 0, 0, 0, 0]), "x"),
    badMessage("attribute 4 at offset 0 has length 2"),
  );
});

Deno.test("an integer attribute too short for its type fails instead of reading its neighbour", () => {
  const attrs = Attributes.parse(
    new Uint8Array([6, 0, 4, 0, 1, 2, 0, 0, 8, 0, 5, 0, 9, 9, 9, 9]),
    "x",
  );
  assertThrows(() => attrs.u32(4), badMessage("attribute 4 has 2 bytes, needs 4"));
  assertEquals(attrs.u32(5), 0x09090909);
});

Deno.test("a nested attribute's own contents are bounds-checked too", () => {
  const attrs = Attributes.parse(new Uint8Array([12, 0, 18, 0, 40, 0, 1, 0, 0, 0, 0, 0]), "x");
  assertThrows(
    () => attrs.nested(18),
    badMessage("x > 18: attribute 1 at offset 0 claims 40 bytes"),
  );
});
