import { assert, assertEquals, assertThrows } from "../../_assert.ts";
import {
  checkInterfaceName,
  cidrProblem,
  formatCidr,
  formatIp,
  formatMac,
  interfaceNameProblem,
  ipProblem,
  macProblem,
  maskBytes,
  parseCidr,
  parseIp,
  parseMac,
} from "../../../lib/network/address.ts";
import { ConfigError } from "../../../lib/errors.ts";

function bytes(text: string): number[] {
  return Array.from(parseIp(text).bytes);
}

Deno.test("parseIp() reads dotted IPv4 into four bytes", () => {
  assertEquals(parseIp("172.17.0.101"), { family: 4, bytes: Uint8Array.of(172, 17, 0, 101) });
  assertEquals(bytes("0.0.0.0"), [0, 0, 0, 0]);
  assertEquals(bytes("255.255.255.255"), [255, 255, 255, 255]);
});

Deno.test("parseIp() refuses malformed IPv4, leading zeros included", () => {
  for (
    const [text, why] of [
      ["1.2.3", "has 3 dot-separated parts, needs 4"],
      ["1.2.3.4.5", "has 5 dot-separated parts, needs 4"],
      ["1.2.3.256", "has a part `256` above 255"],
      ["010.0.0.1", "has a part `010` with a leading zero"],
      ["1.2.3.04", "has a part `04` with a leading zero"],
      ["1.2.3.-4", "has a part `-4` that is not a decimal number"],
      ["1.2..4", "has a part `` that is not a decimal number"],
      [" 1.2.3.4", "has a part ` 1` that is not a decimal number"],
      ["1.2.3.4 ", "has a part `4 ` that is not a decimal number"],
      ["0x1.2.3.4", "has a part `0x1` that is not a decimal number"],
      ["1.2.3.1234", "has a part `1234` that is not a decimal number"],
    ] as const
  ) {
    assertEquals(ipProblem(text), `\`${text}\` is not an IP address: it ${why}`, text);
  }
});

Deno.test("parseIp() reads IPv6 in full, compressed and with an IPv4 tail", () => {
  assertEquals(bytes("::"), new Array(16).fill(0));
  assertEquals(bytes("::1"), [...new Array(15).fill(0), 1]);
  assertEquals(bytes("fd00::2"), [0xfd, 0, ...new Array(13).fill(0), 2]);
  assertEquals(
    bytes("2001:0DB8:0000:0000:0000:ff00:0042:8329"),
    [0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0xff, 0, 0, 0x42, 0x83, 0x29],
  );
  assertEquals(bytes("2001:db8::ff00:42:8329"), bytes("2001:0db8:0:0:0:ff00:0042:8329"));
  assertEquals(bytes("::ffff:1.2.3.4"), [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 1, 2, 3, 4]);
  assertEquals(bytes("64:ff9b::192.0.2.33"), [
    0,
    0x64,
    0xff,
    0x9b,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    192,
    0,
    2,
    33,
  ]);
  assertEquals(bytes("1:2:3:4:5:6:7::"), [0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 0]);
  assertEquals(bytes("1:2:3:4:5:6:1.2.3.4"), [0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 1, 2, 3, 4]);
  assertEquals(parseIp("::ffff:1.2.3.4").family, 6);
});

Deno.test("parseIp() refuses malformed IPv6", () => {
  for (
    const [text, why] of [
      ["1::2::3", "has more than one `::`"],
      [":::", "has an empty group"],
      [":1::2", "has an empty group"],
      ["1::2:", "has an empty group"],
      ["1:2:3:4:5:6:7", "has 7 groups, needs 8 (or `::`)"],
      ["1:2:3:4:5:6:7:8:9", "has 9 groups, needs 8 (or `::`)"],
      ["1:2:3:4::5:6:7:8", "has too many groups for `::`"],
      ["12345::", "has a group `12345` that is not 1-4 hex digits"],
      ["fg::1", "has a group `fg` that is not 1-4 hex digits"],
      ["fe80::1%eth0", "has a zone, which is not allowed here"],
      ["::1.2.3.4:5", "has a group `1.2.3.4` that is not 1-4 hex digits"],
      ["::ffff:1.2.3", "has an IPv4 tail `1.2.3` that has 3 dot-separated parts, needs 4"],
      ["::ffff:01.2.3.4", "has an IPv4 tail `01.2.3.4` that has a part `01` with a leading zero"],
    ] as const
  ) {
    assertEquals(ipProblem(text), `\`${text}\` is not an IP address: it ${why}`, text);
  }
});

Deno.test("parseIp() with a family refuses the other one", () => {
  assertEquals(ipProblem("fd00::1", 4), "`fd00::1` is not an IPv4 address: it is an IPv6 address");
  assertEquals(ipProblem("10.0.0.1", 6), "`10.0.0.1` is not an IPv6 address: it has no `:`");
  assertEquals(ipProblem("", 4), 'Must be an IPv4 address, got ""');
  assertEquals(ipProblem("10.0.0.1", 4), null);
});

Deno.test("parseIp() throws a ConfigError naming the field", () => {
  assertThrows(
    () => parseIp("10.0.0.300", { field: "networks[0].gateway", family: 4 }),
    (error: unknown) => {
      assert(error instanceof ConfigError);
      assertEquals(error.issues, [{
        path: "networks[0].gateway",
        message: "`10.0.0.300` is not an IPv4 address: it has a part `300` above 255",
      }]);
      return true;
    },
  );
});

Deno.test("parseCidr() reads an address with its prefix length, host bits allowed", () => {
  assertEquals(parseCidr("172.17.0.101/16"), {
    family: 4,
    bytes: Uint8Array.of(172, 17, 0, 101),
    prefix: 16,
  });
  assertEquals(parseCidr("0.0.0.0/0").prefix, 0);
  assertEquals(parseCidr("10.0.0.1/32").prefix, 32);
  assertEquals(parseCidr("fd00::2/64").prefix, 64);
  assertEquals(parseCidr("::/0").prefix, 0);
  assertEquals(parseCidr("::1/128").prefix, 128);
  assertEquals(parseCidr("::ffff:1.2.3.4/96").family, 6);
});

Deno.test("parseCidr() refuses a missing, out-of-range or non-decimal prefix length", () => {
  const wanted = "is not an IP address with a prefix length";
  assertEquals(cidrProblem("10.0.0.1"), `\`10.0.0.1\` ${wanted}: it has no \`/\``);
  for (
    const [text, prefix, max] of [
      ["10.0.0.1/33", "33", 32],
      ["10.0.0.1/", "", 32],
      ["10.0.0.1/08", "08", 32],
      ["10.0.0.1/-1", "-1", 32],
      ["10.0.0.1/1/2", "1/2", 32],
      ["10.0.0.1/ 8", " 8", 32],
      ["fd00::/129", "129", 128],
      ["fd00::/1000", "1000", 128],
    ] as const
  ) {
    assertEquals(
      cidrProblem(text),
      `\`${text}\` ${wanted}: the prefix length \`${prefix}\` is not a number from 0 to ${max}`,
    );
  }
});

Deno.test("parseCidr() names the bad address inside a CIDR", () => {
  assertEquals(
    cidrProblem("010.0.0.1/8", { family: 4 }),
    "`010.0.0.1/8` is not an IPv4 address with a prefix length: `010.0.0.1` has a part `010` with a leading zero",
  );
  assertEquals(
    cidrProblem("fd00::1/64", { family: 4 }),
    "`fd00::1/64` is not an IPv4 address with a prefix length: `fd00::1` is an IPv6 address",
  );
  assertEquals(
    cidrProblem("", { family: 6 }),
    'Must be an IPv6 address with a prefix length, got ""',
  );
});

Deno.test("parseCidr() with network: true requires the host bits to be zero", () => {
  assertEquals(parseCidr("10.0.0.0/8", { network: true }).prefix, 8);
  assertEquals(parseCidr("0.0.0.0/0", { network: true }).prefix, 0);
  assertEquals(
    cidrProblem("10.1.2.3/8", { network: true }),
    "`10.1.2.3/8` has host bits set: the network is `10.0.0.0/8`",
  );
  assertEquals(
    cidrProblem("fd00::1/64", { network: true }),
    "`fd00::1/64` has host bits set: the network is `fd00::/64`",
  );
  assertThrows(
    () => parseCidr("10.1.2.3/8", { network: true, field: "routes[0].destination" }),
    ConfigError,
  );
});

Deno.test("maskBytes() keeps the first prefix bits", () => {
  assertEquals(Array.from(maskBytes(Uint8Array.of(255, 255, 255, 255), 20)), [255, 255, 240, 0]);
  assertEquals(Array.from(maskBytes(Uint8Array.of(10, 1, 2, 3), 0)), [0, 0, 0, 0]);
  assertEquals(Array.from(maskBytes(Uint8Array.of(10, 1, 2, 3), 32)), [10, 1, 2, 3]);
});

Deno.test("formatIp() writes IPv4 dotted and IPv6 in RFC 5952's canonical form", () => {
  const cases: [string, string][] = [
    ["10.0.0.1", "10.0.0.1"],
    ["::", "::"],
    ["::1", "::1"],
    ["1::", "1::"],
    ["2001:0DB8:0:0:0:0:0:1", "2001:db8::1"],
    ["2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"], // a single zero group stays
    ["2001:0:0:1:0:0:0:1", "2001:0:0:1::1"], // the longest run is compressed
    ["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"], // the first of equal runs
    ["::ffff:1.2.3.4", "::ffff:1.2.3.4"],
    ["fe80::fc:ff:fe00:1", "fe80::fc:ff:fe00:1"],
  ];
  for (const [input, expected] of cases) {
    assertEquals(formatIp(parseIp(input).bytes), expected, input);
  }
  assertEquals(formatCidr(parseCidr("fd00:0::2/64")), "fd00::2/64");
  assertThrows(() => formatIp(new Uint8Array(5)), RangeError);
});

Deno.test("parseMac() reads six hex pairs and refuses multicast addresses", () => {
  assertEquals(Array.from(parseMac("02:42:AC:11:00:02")), [2, 0x42, 0xac, 0x11, 0, 2]);
  assertEquals(formatMac(parseMac("02:42:AC:11:00:02")), "02:42:ac:11:00:02");
  assertEquals(
    macProblem("02:42:ac:11:00"),
    "`02:42:ac:11:00` is not a MAC address (six hex pairs separated by colons)",
  );
  assertEquals(
    macProblem("02-42-ac-11-00-02"),
    "`02-42-ac-11-00-02` is not a MAC address (six hex pairs separated by colons)",
  );
  assertEquals(
    macProblem("2:42:ac:11:0:2"),
    "`2:42:ac:11:0:2` is not a MAC address (six hex pairs separated by colons)",
  );
  assertEquals(
    macProblem("01:00:5e:00:00:01"),
    "`01:00:5e:00:00:01` is a multicast MAC address; an interface needs a unicast one",
  );
  assertThrows(
    () => parseMac("ff:ff:ff:ff:ff:ff", { field: "networks[0].mac_address" }),
    ConfigError,
  );
});

Deno.test("interfaceNameProblem() allows what the kernel allows: 1-15 bytes, no slash, colon or space", () => {
  assertEquals(interfaceNameProblem("eth0"), null);
  assertEquals(interfaceNameProblem("veth1234567abcd"), null);
  assertEquals(interfaceNameProblem(""), "Must not be empty");
  assertEquals(
    interfaceNameProblem("veth1234567abcde"),
    "`veth1234567abcde` is 16 bytes long; an interface name has at most 15",
  );
  assertEquals(
    interfaceNameProblem("éééééééé"),
    "`éééééééé` is 16 bytes long; an interface name has at most 15",
  );
  for (const bad of [".", "..", "a/b", "a b", "eth0:1", "a\tb"]) {
    assertEquals(interfaceNameProblem(bad), `\`${bad}\` is not a valid interface name`, bad);
  }
  assertThrows(() => checkInterfaceName("a/b", { field: "networks[0].name" }), ConfigError);
  assertEquals(checkInterfaceName("eth1"), "eth1");
});
