import { assert, assertEquals, assertThrows } from "../../_assert.ts";
import {
  deleteAddressRequest,
  deleteLinkRequest,
  deleteRouteRequest,
  dumpAddressesRequest,
  dumpLinksRequest,
  dumpRoutesRequest,
  encodeRequest,
  getLinkRequest,
  newAddressRequest,
  newBridgeRequest,
  newRouteRequest,
  newVethRequest,
  parseAck,
  parseAddress,
  parseDone,
  parseLink,
  parseRoute,
  type Request,
  requestName,
  setHairpinRequest,
  setLinkRequest,
} from "../../../lib/network/messages.ts";
import { type Attr, attr, encodeMessage, parseMessages } from "../../../lib/network/_wire.ts";
import { parseCidr, parseIp } from "../../../lib/network/address.ts";
import { SystemError } from "../../../lib/errors.ts";

/** The bytes of a request encoded with sequence number `seq`. */
function bytesOf(request: Request, seq = 1): number[] {
  return Array.from(encodeRequest(request, seq));
}

/** An nlmsghdr as bytes: little-endian length, type, flags, seq, pid 0. */
function header(length: number, type: number, flags: number, seq = 1): number[] {
  return [
    length & 0xff,
    length >> 8,
    0,
    0,
    type,
    0,
    flags & 0xff,
    flags >> 8,
    seq,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
  ];
}

const REQUEST_ACK = 0x005; // NLM_F_REQUEST | NLM_F_ACK
const CREATE = 0x605; // ... | NLM_F_CREATE | NLM_F_EXCL
const DUMP = 0x301; // NLM_F_REQUEST | NLM_F_DUMP

// ---- requests -----------------------------------------------------------------

Deno.test("getLinkRequest() selects a link by name with IFLA_IFNAME and index 0", () => {
  const request = getLinkRequest("eth0");
  assertEquals(requestName(request), "RTM_GETLINK");
  assertEquals(bytesOf(request), [
    ...header(44, 18, 0x001),
    ...[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], // ifinfomsg: AF_UNSPEC, index 0
    ...[9, 0, 3, 0, 0x65, 0x74, 0x68, 0x30, 0, 0, 0, 0], // IFLA_IFNAME "eth0\0"
  ]);
});

Deno.test("dumpLinksRequest() is an RTM_GETLINK with NLM_F_DUMP and an empty ifinfomsg", () => {
  assertEquals(bytesOf(dumpLinksRequest(), 9), [
    ...header(32, 18, DUMP, 9),
    ...new Array(16).fill(0),
  ]);
});

Deno.test("setLinkRequest() brings a link up by index with ifi_flags and ifi_change", () => {
  const request = setLinkRequest(7, { up: true });
  assertEquals(request.detail, "index 7 up");
  assertEquals(bytesOf(request, 2), [
    ...header(32, 19, REQUEST_ACK, 2),
    ...[0, 0, 0, 0, 7, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0], // index 7, IFF_UP in flags and change
  ]);
});

Deno.test("setLinkRequest() brings a link down by clearing IFF_UP under the change mask", () => {
  assertEquals(bytesOf(setLinkRequest(7, { up: false })).slice(16), [
    ...[0, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0],
  ]);
});

Deno.test("setLinkRequest() sets the MTU of a link named by IFLA_IFNAME", () => {
  const request = setLinkRequest("eth0", { mtu: 1400 });
  assertEquals(request.detail, "`eth0` mtu=1400");
  assertEquals(bytesOf(request), [
    ...header(52, 19, REQUEST_ACK),
    ...new Array(16).fill(0),
    ...[9, 0, 3, 0, 0x65, 0x74, 0x68, 0x30, 0, 0, 0, 0], // IFLA_IFNAME
    ...[8, 0, 4, 0, 0x78, 0x05, 0, 0], // IFLA_MTU 1400
  ]);
});

Deno.test("setLinkRequest() renames, sets the MAC, queue length, master and namespace in one request", () => {
  const request = setLinkRequest(4, {
    name: "eth1",
    mac: Uint8Array.of(2, 0x42, 0xac, 0x11, 0, 2),
    txqueuelen: 500,
    master: 3,
    netns: { fd: 12 },
  });
  assertEquals(
    request.detail,
    "index 4 netns=fd:12 address=02:42:ac:11:00:02 name=eth1 master=index:3 txqueuelen=500",
  );
  assertEquals(bytesOf(request), [
    ...header(80, 19, REQUEST_ACK),
    ...[0, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    ...[8, 0, 28, 0, 12, 0, 0, 0], // IFLA_NET_NS_FD
    ...[10, 0, 1, 0, 2, 0x42, 0xac, 0x11, 0, 2, 0, 0], // IFLA_ADDRESS, 6 bytes padded
    ...[9, 0, 3, 0, 0x65, 0x74, 0x68, 0x31, 0, 0, 0, 0], // IFLA_IFNAME "eth1"
    ...[8, 0, 10, 0, 3, 0, 0, 0], // IFLA_MASTER
    ...[8, 0, 13, 0, 0xf4, 0x01, 0, 0], // IFLA_TXQLEN 500
  ]);
});

Deno.test("setLinkRequest() detaches from the master with IFLA_MASTER 0 and moves by pid", () => {
  const request = setLinkRequest(4, { master: 0, netns: { pid: 0x1234 } });
  assertEquals(request.detail, "index 4 netns=pid:4660 nomaster");
  assertEquals(bytesOf(request).slice(32), [
    ...[8, 0, 19, 0, 0x34, 0x12, 0, 0], // IFLA_NET_NS_PID
    ...[8, 0, 10, 0, 0, 0, 0, 0], // IFLA_MASTER 0
  ]);
});

Deno.test("setLinkRequest() refuses a rename of a link given by name, which the name would select", () => {
  assertThrows(() => setLinkRequest("eth0", { name: "eth1" }), TypeError);
});

Deno.test("newVethRequest() nests the peer's ifinfomsg and attributes in IFLA_LINKINFO", () => {
  const request = newVethRequest(
    { name: "veth0", mtu: 1500, master: 3, up: true },
    { name: "ceth0", netns: { pid: 1234 } },
  );
  assertEquals(requestName(request), "RTM_NEWLINK");
  assertEquals(request.detail, "veth `veth0`");
  assertEquals(bytesOf(request), [
    ...header(120, 16, CREATE),
    ...[0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0], // created up
    ...[10, 0, 3, 0, 0x76, 0x65, 0x74, 0x68, 0x30, 0, 0, 0], // IFLA_IFNAME "veth0\0"
    ...[8, 0, 4, 0, 0xdc, 0x05, 0, 0], // IFLA_MTU 1500
    ...[8, 0, 10, 0, 3, 0, 0, 0], // IFLA_MASTER 3
    ...[60, 0, 18, 0], // IFLA_LINKINFO
    ...[9, 0, 1, 0, 0x76, 0x65, 0x74, 0x68, 0, 0, 0, 0], //   IFLA_INFO_KIND "veth\0"
    ...[44, 0, 2, 0], //   IFLA_INFO_DATA
    ...[40, 0, 1, 0], //     VETH_INFO_PEER
    ...new Array(16).fill(0), //       the peer's ifinfomsg
    ...[10, 0, 3, 0, 0x63, 0x65, 0x74, 0x68, 0x30, 0, 0, 0], //       IFLA_IFNAME "ceth0\0"
    ...[8, 0, 19, 0, 0xd2, 0x04, 0, 0], //       IFLA_NET_NS_PID 1234
  ]);
});

Deno.test("newVethRequest() carries queue length and MAC of each end, and a peer namespace by fd", () => {
  const request = newVethRequest(
    { name: "a", txqueuelen: 100 },
    { name: "b", mac: Uint8Array.of(2, 0, 0, 0, 0, 1), mtu: 9000, netns: { fd: 5 } },
  );
  const bytes = bytesOf(request);
  assertEquals(bytes.slice(32, 48), [
    ...[6, 0, 3, 0, 0x61, 0, 0, 0], // IFLA_IFNAME "a\0"
    ...[8, 0, 13, 0, 100, 0, 0, 0], // IFLA_TXQLEN
  ]);
  // The peer's attributes follow its ifinfomsg: name, MTU, MAC, then the namespace.
  assertEquals(bytes.slice(bytes.length - 36), [
    ...[6, 0, 3, 0, 0x62, 0, 0, 0],
    ...[8, 0, 4, 0, 0x28, 0x23, 0, 0], // 9000
    ...[10, 0, 1, 0, 2, 0, 0, 0, 0, 1, 0, 0],
    ...[8, 0, 28, 0, 5, 0, 0, 0], // IFLA_NET_NS_FD
  ]);
});

Deno.test("newBridgeRequest() creates a link of kind bridge", () => {
  assertEquals(bytesOf(newBridgeRequest({ name: "br0" })), [
    ...header(56, 16, CREATE),
    ...new Array(16).fill(0),
    ...[8, 0, 3, 0, 0x62, 0x72, 0x30, 0], // IFLA_IFNAME "br0\0"
    ...[16, 0, 18, 0], // IFLA_LINKINFO
    ...[11, 0, 1, 0, 0x62, 0x72, 0x69, 0x64, 0x67, 0x65, 0, 0], // IFLA_INFO_KIND "bridge\0"
  ]);
});

Deno.test("deleteLinkRequest() deletes by index", () => {
  assertEquals(bytesOf(deleteLinkRequest(5)), [
    ...header(32, 17, REQUEST_ACK),
    ...[0, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
  ]);
});

Deno.test("setHairpinRequest() is an AF_BRIDGE RTM_SETLINK with a nested IFLA_PROTINFO", () => {
  const request = setHairpinRequest({ index: 9, name: "veth0" }, true);
  assertEquals(request.detail, "`veth0` hairpin=on");
  assertEquals(bytesOf(request), [
    ...header(44, 19, REQUEST_ACK),
    ...[7, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], // AF_BRIDGE, index 9
    ...[12, 0, 0x0c, 0x80], // IFLA_PROTINFO | NLA_F_NESTED
    ...[5, 0, 4, 0, 1, 0, 0, 0], // IFLA_BRPORT_MODE 1 (hairpin)
  ]);
  assertEquals(bytesOf(setHairpinRequest(9, false)).slice(36, 41), [5, 0, 4, 0, 0]);
});

Deno.test("newAddressRequest() adds an IPv4 address with its subnet's broadcast", () => {
  const request = newAddressRequest({ index: 2, name: "eth0" }, parseCidr("10.0.0.2/24"));
  assertEquals(request.detail, "`eth0` address=10.0.0.2/24");
  assertEquals(bytesOf(request), [
    ...header(48, 20, CREATE),
    ...[2, 24, 0, 0, 2, 0, 0, 0], // ifaddrmsg: AF_INET, /24, no flags, universe, index 2
    ...[8, 0, 2, 0, 10, 0, 0, 2], // IFA_LOCAL
    ...[8, 0, 1, 0, 10, 0, 0, 2], // IFA_ADDRESS
    ...[8, 0, 4, 0, 10, 0, 0, 255], // IFA_BROADCAST
  ]);
});

Deno.test("newAddressRequest() leaves out the broadcast of a /31 and /32", () => {
  assertEquals(bytesOf(newAddressRequest(2, parseCidr("10.0.0.2/31"))).length, 16 + 8 + 16);
});

Deno.test("newAddressRequest() adds an IPv6 address, without DAD when asked", () => {
  const fd00 = [0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2];
  assertEquals(bytesOf(newAddressRequest(3, parseCidr("fd00::2/64"), { nodad: true })), [
    ...header(64, 20, CREATE),
    ...[10, 64, 2, 0, 3, 0, 0, 0], // AF_INET6, /64, IFA_F_NODAD
    ...[20, 0, 2, 0, ...fd00],
    ...[20, 0, 1, 0, ...fd00],
  ]);
});

Deno.test("deleteAddressRequest() names the address without a broadcast", () => {
  assertEquals(bytesOf(deleteAddressRequest(2, parseCidr("10.0.0.2/24"))), [
    ...header(40, 21, REQUEST_ACK),
    ...[2, 24, 0, 0, 2, 0, 0, 0],
    ...[8, 0, 2, 0, 10, 0, 0, 2],
    ...[8, 0, 1, 0, 10, 0, 0, 2],
  ]);
});

Deno.test("dumpAddressesRequest() and dumpRoutesRequest() ask for one family or all", () => {
  assertEquals(bytesOf(dumpAddressesRequest(6)), [
    ...header(24, 22, DUMP),
    10,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
  ]);
  assertEquals(bytesOf(dumpRoutesRequest()), [...header(28, 26, DUMP), ...new Array(12).fill(0)]);
  assertEquals(bytesOf(dumpRoutesRequest(4))[16], 2);
});

Deno.test("newRouteRequest() adds a default route via a gateway out of an interface", () => {
  const request = newRouteRequest(
    { family: 4, gateway: parseIp("10.0.0.1"), interfaceIndex: 2 },
    "`eth0`",
  );
  assertEquals(request.detail, "route dst=default via=10.0.0.1 dev=`eth0`");
  assertEquals(bytesOf(request), [
    ...header(44, 24, CREATE),
    ...[2, 0, 0, 0, 254, 3, 0, 1, 0, 0, 0, 0], // rtmsg: AF_INET, /0, main, boot, universe, unicast
    ...[8, 0, 5, 0, 10, 0, 0, 1], // RTA_GATEWAY
    ...[8, 0, 4, 0, 2, 0, 0, 0], // RTA_OIF
  ]);
});

Deno.test("newRouteRequest() gives a route without a gateway link scope", () => {
  const request = newRouteRequest({
    family: 4,
    destination: parseCidr("192.168.0.0/16"),
    source: parseIp("10.0.0.2"),
  });
  assertEquals(request.detail, "route dst=192.168.0.0/16 src=10.0.0.2");
  assertEquals(bytesOf(request), [
    ...header(44, 24, CREATE),
    ...[2, 16, 0, 0, 254, 3, 253, 1, 0, 0, 0, 0],
    ...[8, 0, 1, 0, 192, 168, 0, 0], // RTA_DST
    ...[8, 0, 7, 0, 10, 0, 0, 2], // RTA_PREFSRC
  ]);
});

Deno.test("newRouteRequest() adds an IPv6 default route and puts a table above 255 in RTA_TABLE", () => {
  const gateway = [0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
  assertEquals(bytesOf(newRouteRequest({ family: 6, gateway: parseIp("fd00::1"), table: 1000 })), [
    ...header(56, 24, CREATE),
    ...[10, 0, 0, 0, 0, 3, 0, 1, 0, 0, 0, 0],
    ...[20, 0, 5, 0, ...gateway],
    ...[8, 0, 15, 0, 0xe8, 0x03, 0, 0], // RTA_TABLE 1000
  ]);
});

Deno.test("deleteRouteRequest() matches any scope and origin", () => {
  const bytes = bytesOf(deleteRouteRequest({ family: 4, destination: parseCidr("10.1.0.0/16") }));
  assertEquals(bytes.slice(0, 28), [
    ...header(36, 25, REQUEST_ACK),
    ...[2, 16, 0, 0, 254, 0, 255, 1, 0, 0, 0, 0],
  ]);
});

// ---- replies ------------------------------------------------------------------

function message(
  type: number,
  fixed: Uint8Array,
  attrs: readonly Attr[],
  flags = 0,
) {
  return parseMessages(encodeMessage({ type, flags, seq: 3 }, { fixed, attrs }))[0]!;
}

function ifinfo(index: number, flags: number): Uint8Array {
  const bytes = new Uint8Array(16);
  new DataView(bytes.buffer).setInt32(4, index, true);
  new DataView(bytes.buffer).setUint32(8, flags, true);
  return bytes;
}

Deno.test("parseLink() reads name, MTU, MAC, master, peer, kind, queue length, hairpin and 64-bit counters", () => {
  const stats = new Uint8Array(200);
  const view = new DataView(stats.buffer);
  [10, 20, 2 ** 40, 4000, 1, 2, 3, 4].forEach((n, i) => view.setBigUint64(8 * i, BigInt(n), true));
  const link = parseLink(message(16, ifinfo(9, 0x11043), [
    attr.str(3, "veth0"),
    attr.u32(4, 1500),
    attr.bytes(1, Uint8Array.of(2, 0x42, 0xac, 0x11, 0, 2)),
    attr.u32(10, 3),
    attr.u32(5, 41),
    attr.u32(13, 1000),
    attr.bytes(23, stats),
    attr.nest(18, [
      attr.str(1, "veth"),
      attr.str(4, "bridge"),
      attr.nest(5, [attr.u8(1, 3), attr.u8(4, 1)]),
    ]),
  ]));
  assertEquals(link, {
    index: 9,
    name: "veth0",
    flags: 0x11043,
    up: true,
    mtu: 1500,
    mac: "02:42:ac:11:00:02",
    master: 3,
    peer: 41,
    kind: "veth",
    txqueuelen: 1000,
    hairpin: true,
    stats: {
      rxPackets: 10,
      txPackets: 20,
      rxBytes: 2 ** 40,
      txBytes: 4000,
      rxErrors: 1,
      txErrors: 2,
      rxDropped: 3,
      txDropped: 4,
    },
  });
});

Deno.test("parseLink() reports no master, peer, kind or hairpin for a plain link", () => {
  const link = parseLink(message(16, ifinfo(1, 0x8), [attr.str(3, "lo"), attr.u32(4, 65536)]));
  assertEquals([link.up, link.master, link.peer, link.kind, link.hairpin, link.stats, link.mac], [
    false,
    null,
    null,
    null,
    null,
    null,
    null,
  ]);
});

Deno.test("parseLink() refuses a payload too short for its ifinfomsg", () => {
  const broken = message(16, new Uint8Array(8), []);
  assertThrows(() => parseLink(broken), (error: unknown) => {
    assert(error instanceof SystemError);
    assertEquals(
      error.message,
      "netlink RTM_NEWLINK reply: payload of 8 bytes is too short for a 16-byte header: EBADMSG",
    );
    return true;
  });
});

Deno.test("parseLink() refuses a reply of another type", () => {
  assertThrows(() => parseLink(message(20, new Uint8Array(16), [])), /got RTM_NEWADDR instead/);
});

Deno.test("parseLink() refuses counters shorter than rtnl_link_stats64's first eight fields", () => {
  const broken = message(16, ifinfo(2, 0), [attr.bytes(23, new Uint8Array(40))]);
  assertThrows(() => parseLink(broken), /attribute 23 has 40 bytes, needs 64/);
});

Deno.test("parseAddress() reads an IPv4 and an IPv6 address", () => {
  const v4 = parseAddress(message(20, Uint8Array.of(2, 24, 0x80, 0, 4, 0, 0, 0), [
    attr.bytes(1, Uint8Array.of(10, 0, 0, 2)),
    attr.bytes(2, Uint8Array.of(10, 0, 0, 2)),
    attr.str(3, "eth0"),
  ]));
  assertEquals(v4, {
    index: 4,
    family: 4,
    address: "10.0.0.2",
    prefix: 24,
    cidr: "10.0.0.2/24",
    scope: 0,
    flags: 0x80,
    label: "eth0",
  });
  const address = new Uint8Array(16);
  address.set([0xfe, 0x80], 0);
  address[15] = 1;
  const v6 = parseAddress(message(20, Uint8Array.of(10, 64, 0, 253, 4, 0, 0, 0), [
    attr.bytes(1, address),
    attr.u32(8, 0x280),
  ]));
  assertEquals([v6?.cidr, v6?.scope, v6?.flags, v6?.label], ["fe80::1/64", 253, 0x280, null]);
});

Deno.test("parseAddress() refuses an address of the wrong size", () => {
  const broken = message(20, Uint8Array.of(2, 24, 0, 0, 4, 0, 0, 0), [
    attr.bytes(2, Uint8Array.of(10, 0, 0)),
  ]);
  assertThrows(() => parseAddress(broken), /no 4-byte IFA_LOCAL or IFA_ADDRESS/);
});

Deno.test("parseRoute() reads destination, gateway, source, interface and table", () => {
  const route = parseRoute(message(24, Uint8Array.of(2, 16, 0, 0, 254, 3, 0, 1, 0, 0, 0, 0), [
    attr.u32(15, 254),
    attr.bytes(1, Uint8Array.of(192, 168, 0, 0)),
    attr.bytes(5, Uint8Array.of(10, 0, 0, 1)),
    attr.bytes(7, Uint8Array.of(10, 0, 0, 2)),
    attr.u32(4, 2),
    attr.u32(6, 100),
  ]));
  assertEquals(route, {
    family: 4,
    destination: "192.168.0.0/16",
    gateway: "10.0.0.1",
    source: "10.0.0.2",
    interfaceIndex: 2,
    table: 254,
    protocol: 3,
    scope: 0,
    type: 1,
    metric: 100,
  });
  const fallback = parseRoute(
    message(24, Uint8Array.of(10, 0, 0, 0, 254, 2, 0, 1, 0, 0, 0, 0), []),
  );
  assertEquals([fallback?.family, fallback?.destination, fallback?.gateway], [6, "default", null]);
});

Deno.test("parseAck() reads the errno and the kernel's extended message", () => {
  const payload = new Uint8Array(4 + 16);
  const view = new DataView(payload.buffer);
  view.setInt32(0, -17, true);
  view.setUint32(4, 120, true); // the echoed request was 120 bytes, capped to its header
  view.setUint32(12, 42, true); // its sequence number
  const ack = parseAck(message(2, payload, [attr.str(1, "Link already exists")], 0x300));
  assertEquals(ack, { errno: 17, seq: 42, message: "Link already exists" });
  assertEquals(parseAck(message(2, new Uint8Array(20), [])), { errno: 0, seq: 0 });
});

Deno.test("parseAck() skips an uncapped echoed request to find the extended message", () => {
  const payload = new Uint8Array(4 + 24);
  const view = new DataView(payload.buffer);
  view.setInt32(0, -22, true);
  view.setUint32(4, 24, true); // echoed request: header and 8 bytes of body
  const ack = parseAck(message(2, payload, [attr.str(1, "bad")], 0x200));
  assertEquals(ack.message, "bad");
});

Deno.test("parseAck() refuses an error message too short for the echoed header", () => {
  assertThrows(() => parseAck(message(2, new Uint8Array(8), [])), /too short for a 20-byte header/);
});

Deno.test("parseDone() reads the error a failed dump ends with", () => {
  assertEquals(parseDone(message(3, Uint8Array.of(0xf0, 0xff, 0xff, 0xff), [])), 16);
  assertEquals(parseDone(message(3, new Uint8Array(4), [])), 0);
});
