/**
 * rtnetlink requests and replies as data: each request kind is built by a
 * pure function (so unit tests compare its bytes with hand-computed ones)
 * and each reply kind is parsed into a plain object. The socket that sends
 * them is {@link Netlink} in netlink.ts.
 *
 * @module
 */
import {
  AF_BRIDGE,
  AF_INET,
  AF_INET6,
  AF_UNSPEC,
  IFA,
  IFA_F,
  IFADDRMSG_LEN,
  IFF_UP,
  IFINFOMSG_LEN,
  IFLA,
  IFLA_BRPORT,
  IFLA_INFO,
  messageTypeName,
  NLA_F_NESTED,
  NLM_F,
  NLMSG,
  NLMSG_HDRLEN,
  NLMSGERR_ATTR_MSG,
  RT_SCOPE,
  RT_TABLE_MAIN,
  RTA,
  RTM,
  RTMSG_LEN,
  RTN_UNICAST,
  RTPROT_BOOT,
  VETH_INFO_PEER,
} from "./_constants.ts";
import {
  type Attr,
  attr,
  type Attributes,
  attributesAfter,
  encodeMessage,
  fixedHeader,
  malformed,
  type NetlinkMessage,
  replyName,
} from "./_wire.ts";
import { type Cidr, formatCidr, formatIp, formatMac, type IpAddress } from "./address.ts";

/**
 * A link given by name, by interface index, or by both (as a {@link Link}
 * is): the index selects it, the name reads better in error messages.
 */
export type LinkRef = string | number | { index: number; name: string };

/** A link given by index, with or without its name (for messages). */
export type IndexedLink = Exclude<LinkRef, string>;

function indexOf(link: IndexedLink): number {
  return typeof link === "number" ? link : link.index;
}

/** A network namespace given by a process living in it or by an open namespace descriptor. */
export type NetnsRef = { pid: number } | { fd: number };

/** A request ready to encode: header fields, fixed header, attributes and how to name it. */
export interface Request {
  /** Message type, such as RTM_NEWLINK. */
  type: number;
  /** NLM_F_* flags, NLM_F_REQUEST included. */
  flags: number;
  /** The fixed header (ifinfomsg, ifaddrmsg or rtmsg). */
  fixed: Uint8Array;
  /** The attributes. */
  attrs: Attr[];
  /** What the request acts on, for error messages: ``veth `veth1234567` ``. */
  detail: string;
}

/** Encodes a request with a sequence number. */
export function encodeRequest(request: Request, seq: number): Uint8Array<ArrayBuffer> {
  return encodeMessage(
    { type: request.type, flags: request.flags, seq },
    { fixed: request.fixed, attrs: request.attrs },
  );
}

/** The kernel name of a request's type, such as `RTM_NEWLINK`. */
export function requestName(request: Request): string {
  return messageTypeName(request.type);
}

const ACK = NLM_F.REQUEST | NLM_F.ACK;
const CREATE = ACK | NLM_F.CREATE | NLM_F.EXCL;
const DUMP = NLM_F.REQUEST | NLM_F.DUMP;

// ---- fixed headers --------------------------------------------------------

/** The fields of struct ifinfomsg (its type field is always 0 in requests). */
export interface IfinfomsgFields {
  family: number;
  index?: number;
  flags?: number;
  change?: number;
}

/** struct ifinfomsg: family, type, index, flags, change. */
export function ifinfomsg(fields: IfinfomsgFields): Uint8Array {
  const bytes = new Uint8Array(IFINFOMSG_LEN);
  const view = new DataView(bytes.buffer);
  view.setUint8(0, fields.family);
  view.setInt32(4, fields.index ?? 0, true);
  view.setUint32(8, fields.flags ?? 0, true);
  view.setUint32(12, fields.change ?? 0, true);
  return bytes;
}

/** The fields of struct ifaddrmsg. */
export interface IfaddrmsgFields {
  family: number;
  prefix?: number;
  flags?: number;
  scope?: number;
  index?: number;
}

/** struct ifaddrmsg: family, prefix length, flags, scope, index. */
export function ifaddrmsg(fields: IfaddrmsgFields): Uint8Array {
  const bytes = new Uint8Array(IFADDRMSG_LEN);
  const view = new DataView(bytes.buffer);
  bytes.set([fields.family, fields.prefix ?? 0, fields.flags ?? 0, fields.scope ?? 0]);
  view.setUint32(4, fields.index ?? 0, true);
  return bytes;
}

/** The fields of struct rtmsg. */
export interface RtmsgFields {
  family: number;
  dstLen?: number;
  srcLen?: number;
  tos?: number;
  table?: number;
  protocol?: number;
  scope?: number;
  type?: number;
  flags?: number;
}

/** struct rtmsg. */
export function rtmsg(fields: RtmsgFields): Uint8Array {
  const bytes = new Uint8Array(RTMSG_LEN);
  const view = new DataView(bytes.buffer);
  bytes.set([
    fields.family,
    fields.dstLen ?? 0,
    fields.srcLen ?? 0,
    fields.tos ?? 0,
    fields.table ?? 0,
    fields.protocol ?? 0,
    fields.scope ?? 0,
    fields.type ?? 0,
  ]);
  view.setUint32(8, fields.flags ?? 0, true);
  return bytes;
}

function af(family: 4 | 6): number {
  return family === 4 ? AF_INET : AF_INET6;
}

// ---- links ----------------------------------------------------------------

/** How a link appears in messages: `` `eth0` `` or `index 4`. */
export function linkLabel(link: LinkRef): string {
  if (typeof link === "number") return `index ${link}`;
  return `\`${typeof link === "string" ? link : link.name}\``;
}

/** The ifinfomsg index and the IFLA_IFNAME attribute that select a link. */
function select(link: LinkRef): { index: number; attrs: Attr[] } {
  if (typeof link === "string") return { index: 0, attrs: [attr.str(IFLA.IFNAME, link)] };
  return { index: typeof link === "number" ? link : link.index, attrs: [] };
}

function netnsAttr(netns: NetnsRef): Attr {
  return "pid" in netns ? attr.u32(IFLA.NET_NS_PID, netns.pid) : attr.u32(IFLA.NET_NS_FD, netns.fd);
}

function netnsLabel(netns: NetnsRef): string {
  return "pid" in netns ? `netns=pid:${netns.pid}` : `netns=fd:${netns.fd}`;
}

/** RTM_GETLINK for one link; the reply is one RTM_NEWLINK. */
export function getLinkRequest(link: LinkRef): Request {
  const { index, attrs } = select(link);
  return {
    type: RTM.GETLINK,
    flags: NLM_F.REQUEST,
    fixed: ifinfomsg({ family: AF_UNSPEC, index }),
    attrs,
    detail: linkLabel(link),
  };
}

/** RTM_GETLINK dump of every link in the namespace. */
export function dumpLinksRequest(): Request {
  return {
    type: RTM.GETLINK,
    flags: DUMP,
    fixed: ifinfomsg({ family: AF_UNSPEC }),
    attrs: [],
    detail: "links",
  };
}

/** Settings of one end of a new veth pair. */
export interface VethEnd {
  /** Interface name. */
  name: string;
  /** MTU; 0 or absent for the kernel's default. */
  mtu?: number;
  /** Transmit queue length; 0 or absent for the kernel's default. */
  txqueuelen?: number;
  /** MAC address bytes; absent for a random one. */
  mac?: Uint8Array;
  /** Bring the interface up as it is created. */
  up?: boolean;
}

/** The host end of a new veth pair: an end that may also join a bridge. */
export interface VethHost extends VethEnd {
  /** Index of the bridge (or other master) the end joins at creation. */
  master?: number;
}

/** The peer end of a new veth pair: an end that may be created in another namespace. */
export interface VethPeer extends VethEnd {
  /** Create the peer in this network namespace instead of the caller's. */
  netns?: NetnsRef;
}

function endAttrs(end: VethEnd): Attr[] {
  const attrs = [attr.str(IFLA.IFNAME, end.name)];
  if (end.mtu) attrs.push(attr.u32(IFLA.MTU, end.mtu));
  if (end.txqueuelen) attrs.push(attr.u32(IFLA.TXQLEN, end.txqueuelen));
  if (end.mac) attrs.push(attr.bytes(IFLA.ADDRESS, end.mac));
  return attrs;
}

function upFlags(up: boolean | undefined): { flags: number; change: number } {
  return up ? { flags: IFF_UP, change: IFF_UP } : { flags: 0, change: 0 };
}

/**
 * RTM_NEWLINK creating a veth pair (NLM_F_CREATE|NLM_F_EXCL: an existing
 * name is EEXIST). The peer's settings travel in IFLA_LINKINFO >
 * IFLA_INFO_DATA > VETH_INFO_PEER, which opens with its own ifinfomsg.
 */
export function newVethRequest(host: VethHost, peer: VethPeer): Request {
  const attrs = endAttrs(host);
  if (host.master) attrs.push(attr.u32(IFLA.MASTER, host.master));
  const peerAttrs = endAttrs(peer);
  if (peer.netns) peerAttrs.push(netnsAttr(peer.netns));
  attrs.push(
    attr.nest(IFLA.LINKINFO, [
      attr.str(IFLA_INFO.KIND, "veth"),
      attr.nest(IFLA_INFO.DATA, [
        attr.nest(VETH_INFO_PEER, peerAttrs, {
          opening: ifinfomsg({ family: AF_UNSPEC, ...upFlags(peer.up) }),
        }),
      ]),
    ]),
  );
  return {
    type: RTM.NEWLINK,
    flags: CREATE,
    fixed: ifinfomsg({ family: AF_UNSPEC, ...upFlags(host.up) }),
    attrs,
    detail: `veth \`${host.name}\``,
  };
}

/** RTM_NEWLINK creating a bridge. */
export function newBridgeRequest(bridge: VethEnd): Request {
  return {
    type: RTM.NEWLINK,
    flags: CREATE,
    fixed: ifinfomsg({ family: AF_UNSPEC, ...upFlags(bridge.up) }),
    attrs: [
      ...endAttrs(bridge),
      attr.nest(IFLA.LINKINFO, [attr.str(IFLA_INFO.KIND, "bridge")]),
    ],
    detail: `bridge \`${bridge.name}\``,
  };
}

/** RTM_DELLINK (deleting one end of a veth pair deletes both). */
export function deleteLinkRequest(link: LinkRef): Request {
  const { index, attrs } = select(link);
  return {
    type: RTM.DELLINK,
    flags: ACK,
    fixed: ifinfomsg({ family: AF_UNSPEC, index }),
    attrs,
    detail: linkLabel(link),
  };
}

/** Changes RTM_SETLINK makes to a link; each absent field is left as it is. */
export interface LinkChanges {
  /** Bring the link up (true) or down (false). */
  up?: boolean;
  /** New MTU. */
  mtu?: number;
  /** New MAC address bytes. */
  mac?: Uint8Array;
  /** New transmit queue length. */
  txqueuelen?: number;
  /** Index of the new master (a bridge); 0 detaches the link from its master. */
  master?: number;
  /** New name; the link must be given by index and be down (or go up in the same request). */
  name?: string;
  /** Move the link into this network namespace. */
  netns?: NetnsRef;
}

/**
 * RTM_SETLINK applying `changes`. The kernel applies them in a fixed order:
 * namespace, MAC, MTU, name, master, up/down, queue length; so a rename and
 * bringing the link up can share one request.
 */
export function setLinkRequest(link: LinkRef, changes: LinkChanges): Request {
  if (changes.name !== undefined && typeof link === "string") {
    throw new TypeError("A rename needs the link's index: its name selects the link");
  }
  const { index, attrs } = select(link);
  const parts: string[] = [];
  if (changes.netns !== undefined) {
    attrs.push(netnsAttr(changes.netns));
    parts.push(netnsLabel(changes.netns));
  }
  if (changes.mac !== undefined) {
    attrs.push(attr.bytes(IFLA.ADDRESS, changes.mac));
    parts.push(`address=${formatMac(changes.mac)}`);
  }
  if (changes.mtu !== undefined) {
    attrs.push(attr.u32(IFLA.MTU, changes.mtu));
    parts.push(`mtu=${changes.mtu}`);
  }
  if (changes.name !== undefined) {
    attrs.push(attr.str(IFLA.IFNAME, changes.name));
    parts.push(`name=${changes.name}`);
  }
  if (changes.master !== undefined) {
    attrs.push(attr.u32(IFLA.MASTER, changes.master));
    parts.push(changes.master === 0 ? "nomaster" : `master=index:${changes.master}`);
  }
  if (changes.txqueuelen !== undefined) {
    attrs.push(attr.u32(IFLA.TXQLEN, changes.txqueuelen));
    parts.push(`txqueuelen=${changes.txqueuelen}`);
  }
  if (changes.up !== undefined) parts.push(changes.up ? "up" : "down");
  return {
    type: RTM.SETLINK,
    flags: ACK,
    fixed: ifinfomsg({
      family: AF_UNSPEC,
      index,
      flags: changes.up ? IFF_UP : 0,
      change: changes.up === undefined ? 0 : IFF_UP,
    }),
    attrs,
    detail: [linkLabel(link), ...parts].join(" "),
  };
}

/**
 * RTM_SETLINK of family AF_BRIDGE setting a bridge port's hairpin mode
 * (IFLA_PROTINFO, nested, with IFLA_BRPORT_MODE), as `bridge link set
 * hairpin` does. The kernel finds the port by index only.
 */
export function setHairpinRequest(link: IndexedLink, on: boolean): Request {
  return {
    type: RTM.SETLINK,
    flags: ACK,
    fixed: ifinfomsg({ family: AF_BRIDGE, index: indexOf(link) }),
    attrs: [attr.nest(IFLA.PROTINFO | NLA_F_NESTED, [attr.u8(IFLA_BRPORT.MODE, on ? 1 : 0)])],
    detail: `${linkLabel(link)} hairpin=${on ? "on" : "off"}`,
  };
}

// ---- addresses ------------------------------------------------------------

/** Options of {@link newAddressRequest}. */
export interface AddressOptions {
  /** Skip IPv6 duplicate address detection: the address is usable at once. */
  nodad?: boolean;
}

function broadcast(cidr: Cidr): Uint8Array {
  const out = new Uint8Array(cidr.bytes);
  for (let bit = cidr.prefix; bit < 32; bit++) out[bit >> 3] = out[bit >> 3]! | (0x80 >> (bit & 7));
  return out;
}

function addressAttrs(cidr: Cidr): Attr[] {
  return [attr.bytes(IFA.LOCAL, cidr.bytes), attr.bytes(IFA.ADDRESS, cidr.bytes)];
}

/**
 * RTM_NEWADDR adding an address to a link (IFA_LOCAL and IFA_ADDRESS, and
 * for IPv4 with room for one the subnet's broadcast).
 */
export function newAddressRequest(
  link: IndexedLink,
  cidr: Cidr,
  options: AddressOptions = {},
): Request {
  const attrs = addressAttrs(cidr);
  if (cidr.family === 4 && cidr.prefix < 31) attrs.push(attr.bytes(IFA.BROADCAST, broadcast(cidr)));
  return {
    type: RTM.NEWADDR,
    flags: CREATE,
    fixed: ifaddrmsg({
      family: af(cidr.family),
      prefix: cidr.prefix,
      flags: options.nodad ? IFA_F.NODAD : 0,
      scope: RT_SCOPE.UNIVERSE,
      index: indexOf(link),
    }),
    attrs,
    detail: `${linkLabel(link)} address=${formatCidr(cidr)}`,
  };
}

/** RTM_DELADDR removing an address from a link. */
export function deleteAddressRequest(link: IndexedLink, cidr: Cidr): Request {
  return {
    type: RTM.DELADDR,
    flags: ACK,
    fixed: ifaddrmsg({ family: af(cidr.family), prefix: cidr.prefix, index: indexOf(link) }),
    attrs: addressAttrs(cidr),
    detail: `${linkLabel(link)} address=${formatCidr(cidr)}`,
  };
}

/** RTM_GETADDR dump of the addresses of one family (or both). */
export function dumpAddressesRequest(family?: 4 | 6): Request {
  return {
    type: RTM.GETADDR,
    flags: DUMP,
    fixed: ifaddrmsg({ family: family === undefined ? AF_UNSPEC : af(family) }),
    attrs: [],
    detail: "addresses",
  };
}

// ---- routes ---------------------------------------------------------------

/** A route to add, with its addresses already parsed. */
export interface RouteSpec {
  /** 4 or 6; every address given must be of this family. */
  family: 4 | 6;
  /** Destination network; absent for the default route. */
  destination?: Cidr;
  /** Next hop. */
  gateway?: IpAddress;
  /** Preferred source address (RTA_PREFSRC). */
  source?: IpAddress;
  /** Index of the interface the route goes out of. */
  interfaceIndex?: number;
  /** Routing table; default main. */
  table?: number;
  /** Route metric (RTA_PRIORITY). */
  metric?: number;
}

function routeLabel(route: RouteSpec, interfaceLabel?: string): string {
  const parts = [`dst=${route.destination ? formatCidr(route.destination) : "default"}`];
  if (route.gateway) parts.push(`via=${formatIp(route.gateway.bytes)}`);
  if (route.source) parts.push(`src=${formatIp(route.source.bytes)}`);
  if (route.interfaceIndex !== undefined) {
    parts.push(`dev=${interfaceLabel ?? `index:${route.interfaceIndex}`}`);
  }
  return `route ${parts.join(" ")}`;
}

function routeBody(
  route: RouteSpec,
  scope: number,
  protocol: number,
): Pick<Request, "fixed" | "attrs"> {
  const attrs: Attr[] = [];
  if (route.destination && route.destination.prefix > 0) {
    attrs.push(attr.bytes(RTA.DST, route.destination.bytes));
  }
  if (route.source) attrs.push(attr.bytes(RTA.PREFSRC, route.source.bytes));
  if (route.gateway) attrs.push(attr.bytes(RTA.GATEWAY, route.gateway.bytes));
  if (route.interfaceIndex !== undefined) attrs.push(attr.u32(RTA.OIF, route.interfaceIndex));
  if (route.metric !== undefined) attrs.push(attr.u32(RTA.PRIORITY, route.metric));
  const table = route.table ?? RT_TABLE_MAIN;
  if (table > 255) attrs.push(attr.u32(RTA.TABLE, table));
  return {
    fixed: rtmsg({
      family: af(route.family),
      dstLen: route.destination?.prefix ?? 0,
      table: table > 255 ? 0 : table,
      protocol,
      scope,
      type: RTN_UNICAST,
    }),
    attrs,
  };
}

/**
 * RTM_NEWROUTE adding a unicast route to the main table. A route without a
 * gateway has link scope (the destination is on the link), as with
 * `ip route add 10.1.0.0/16 dev eth0`.
 */
export function newRouteRequest(route: RouteSpec, interfaceLabel?: string): Request {
  const scope = route.gateway ? RT_SCOPE.UNIVERSE : RT_SCOPE.LINK;
  return {
    type: RTM.NEWROUTE,
    flags: CREATE,
    ...routeBody(route, scope, RTPROT_BOOT),
    detail: routeLabel(route, interfaceLabel),
  };
}

/** RTM_DELROUTE removing a route (any scope and origin, as `ip route del`). */
export function deleteRouteRequest(route: RouteSpec, interfaceLabel?: string): Request {
  return {
    type: RTM.DELROUTE,
    flags: ACK,
    ...routeBody(route, 255, /* RT_SCOPE_NOWHERE: any */ 0),
    detail: routeLabel(route, interfaceLabel),
  };
}

/** RTM_GETROUTE dump of the routes of one family (or both). */
export function dumpRoutesRequest(family?: 4 | 6): Request {
  return {
    type: RTM.GETROUTE,
    flags: DUMP,
    fixed: rtmsg({ family: family === undefined ? AF_UNSPEC : af(family) }),
    attrs: [],
    detail: "routes",
  };
}

// ---- replies --------------------------------------------------------------

/** The kernel's answer to a request with NLM_F_ACK, from an NLMSG_ERROR message. */
export interface Ack {
  /** 0 for success, else the errno value (positive). */
  errno: number;
  /** Sequence number of the request it answers (from the echoed header). */
  seq: number;
  /** The kernel's explanation (extended ACK, NLMSGERR_ATTR_MSG), when it gave one. */
  message?: string;
}

/**
 * Parses an NLMSG_ERROR payload: the negative errno, the echoed request
 * header (and its payload unless NLM_F_CAPPED), then extended ACK
 * attributes when NLM_F_ACK_TLVS is set.
 */
export function parseAck(message: NetlinkMessage): Ack {
  const what = "NLMSG_ERROR";
  const view = fixedHeader(message.payload, 4 + NLMSG_HDRLEN, what);
  const error = view.getInt32(0, true);
  const echoedLength = view.getUint32(4, true);
  const ack: Ack = { errno: error < 0 ? -error : error, seq: view.getUint32(12, true) };
  if (message.flags & NLM_F.ACK_TLVS) {
    const skip = 4 + (message.flags & NLM_F.CAPPED ? NLMSG_HDRLEN : echoedLength);
    if (skip > message.payload.length) {
      throw malformed(what, `echoed request of ${echoedLength} bytes overruns the message`);
    }
    const tlvs = attributesAfter(message.payload.subarray(skip), 0, what);
    const text = tlvs.str(NLMSGERR_ATTR_MSG);
    if (text) ack.message = text;
  }
  return ack;
}

/** The error code NLMSG_DONE carries (0, or the negative errno of a failed dump). */
export function parseDone(message: NetlinkMessage): number {
  if (message.payload.length < 4) return 0;
  const error = new DataView(message.payload.buffer, message.payload.byteOffset, 4).getInt32(
    0,
    true,
  );
  return error < 0 ? -error : error;
}

/** A link's 64-bit counters (IFLA_STATS64) as this namespace sees them. */
export interface LinkStats {
  /** Packets received. */
  rxPackets: number;
  /** Packets sent. */
  txPackets: number;
  /** Bytes received. */
  rxBytes: number;
  /** Bytes sent. */
  txBytes: number;
  /** Receive errors. */
  rxErrors: number;
  /** Transmit errors. */
  txErrors: number;
  /** Received packets dropped. */
  rxDropped: number;
  /** Packets dropped on the way out. */
  txDropped: number;
}

/** A link as RTM_NEWLINK describes it. */
export interface Link {
  /** Interface index (unique in its namespace). */
  index: number;
  /** Interface name. */
  name: string;
  /** IFF_* flags. */
  flags: number;
  /** Administratively up (IFF_UP). */
  up: boolean;
  /** MTU. */
  mtu: number;
  /** MAC address, or null for a link without one. */
  mac: string | null;
  /** Index of the master (a bridge), or null. */
  master: number | null;
  /**
   * IFLA_LINK: for a veth, its peer's index (in the peer's namespace); for
   * a VLAN, its parent's; null when the kernel sends none.
   */
  peer: number | null;
  /** The link kind (`veth`, `bridge`...), or null for a physical or loopback link. */
  kind: string | null;
  /** Transmit queue length. */
  txqueuelen: number;
  /** For a bridge port, whether hairpin mode is on; null for other links. */
  hairpin: boolean | null;
  /** Counters, or null when the kernel sent none. */
  stats: LinkStats | null;
}

function u64(view: DataView, offset: number): number {
  return Number(view.getBigUint64(offset, true));
}

function parseStats(attrs: Attributes): LinkStats | null {
  const wide = attrs.view(IFLA.STATS64, 64);
  if (wide !== undefined) {
    return {
      rxPackets: u64(wide, 0),
      txPackets: u64(wide, 8),
      rxBytes: u64(wide, 16),
      txBytes: u64(wide, 24),
      rxErrors: u64(wide, 32),
      txErrors: u64(wide, 40),
      rxDropped: u64(wide, 48),
      txDropped: u64(wide, 56),
    };
  }
  const narrow = attrs.view(IFLA.STATS, 32);
  if (narrow === undefined) return null;
  const at = (i: number) => narrow.getUint32(4 * i, true);
  return {
    rxPackets: at(0),
    txPackets: at(1),
    rxBytes: at(2),
    txBytes: at(3),
    rxErrors: at(4),
    txErrors: at(5),
    rxDropped: at(6),
    txDropped: at(7),
  };
}

function expectType(message: NetlinkMessage, type: number): void {
  if (message.type !== type) {
    throw malformed(replyName(type), `got ${messageTypeName(message.type)} instead`);
  }
}

/** Parses an RTM_NEWLINK reply. */
export function parseLink(message: NetlinkMessage): Link {
  expectType(message, RTM.NEWLINK);
  const what = replyName(RTM.NEWLINK);
  const view = fixedHeader(message.payload, IFINFOMSG_LEN, what);
  const attrs = attributesAfter(message.payload, IFINFOMSG_LEN, what);
  const flags = view.getUint32(8, true);
  const info = attrs.nested(IFLA.LINKINFO);
  const slaveKind = info?.str(IFLA_INFO.SLAVE_KIND);
  const mode = slaveKind === "bridge"
    ? info?.nested(IFLA_INFO.SLAVE_DATA)?.u8(IFLA_BRPORT.MODE)
    : undefined;
  const mac = attrs.bytes(IFLA.ADDRESS);
  const master = attrs.u32(IFLA.MASTER);
  const peer = attrs.u32(IFLA.LINK);
  return {
    index: view.getInt32(4, true),
    name: attrs.str(IFLA.IFNAME) ?? "",
    flags,
    up: (flags & IFF_UP) !== 0,
    mtu: attrs.u32(IFLA.MTU) ?? 0,
    mac: mac === undefined || mac.length === 0 ? null : formatMac(mac),
    master: master ? master : null,
    peer: peer ? peer : null,
    kind: info?.str(IFLA_INFO.KIND) ?? null,
    txqueuelen: attrs.u32(IFLA.TXQLEN) ?? 0,
    hairpin: mode === undefined ? null : mode !== 0,
    stats: parseStats(attrs),
  };
}

/** An address as RTM_NEWADDR describes it. */
export interface AddressInfo {
  /** Index of the interface that holds it. */
  index: number;
  /** 4 or 6. */
  family: 4 | 6;
  /** The address, formatted. */
  address: string;
  /** Prefix length. */
  prefix: number;
  /** `address/prefix`. */
  cidr: string;
  /** Scope (0 universe, 253 link, 254 host). */
  scope: number;
  /** IFA_F_* flags. */
  flags: number;
  /** The IPv4 label (usually the interface name), when present. */
  label: string | null;
}

/** Parses an RTM_NEWADDR reply; null for a family other than IPv4 and IPv6. */
export function parseAddress(message: NetlinkMessage): AddressInfo | null {
  expectType(message, RTM.NEWADDR);
  const what = replyName(RTM.NEWADDR);
  const view = fixedHeader(message.payload, IFADDRMSG_LEN, what);
  const familyCode = view.getUint8(0);
  if (familyCode !== AF_INET && familyCode !== AF_INET6) return null;
  const family = familyCode === AF_INET ? 4 : 6;
  const attrs = attributesAfter(message.payload, IFADDRMSG_LEN, what);
  const bytes = attrs.bytes(IFA.LOCAL) ?? attrs.bytes(IFA.ADDRESS);
  const size = family === 4 ? 4 : 16;
  if (bytes === undefined || bytes.length !== size) {
    throw malformed(what, `no ${size}-byte IFA_LOCAL or IFA_ADDRESS`);
  }
  const prefix = view.getUint8(1);
  const address = formatIp(bytes);
  return {
    index: view.getUint32(4, true),
    family,
    address,
    prefix,
    cidr: `${address}/${prefix}`,
    scope: view.getUint8(3),
    flags: attrs.u32(IFA.FLAGS) ?? view.getUint8(2),
    label: attrs.str(IFA.LABEL) ?? null,
  };
}

/** A route as RTM_NEWROUTE describes it. */
export interface RouteInfo {
  /** 4 or 6. */
  family: 4 | 6;
  /** `default` or the destination network as `address/prefix`. */
  destination: string;
  /** Next hop, or null for a route on the link. */
  gateway: string | null;
  /** Preferred source address, or null. */
  source: string | null;
  /** Outgoing interface index, or null. */
  interfaceIndex: number | null;
  /** Routing table. */
  table: number;
  /** Origin (2 kernel, 3 boot, 4 static...). */
  protocol: number;
  /** Scope (0 universe, 253 link, 254 host). */
  scope: number;
  /** Route type (1 unicast, 2 local...). */
  type: number;
  /** Metric, or null. */
  metric: number | null;
}

/** Parses an RTM_NEWROUTE reply; null for a family other than IPv4 and IPv6. */
export function parseRoute(message: NetlinkMessage): RouteInfo | null {
  expectType(message, RTM.NEWROUTE);
  const what = replyName(RTM.NEWROUTE);
  const view = fixedHeader(message.payload, RTMSG_LEN, what);
  const familyCode = view.getUint8(0);
  if (familyCode !== AF_INET && familyCode !== AF_INET6) return null;
  const family = familyCode === AF_INET ? 4 : 6;
  const size = family === 4 ? 4 : 16;
  const attrs = attributesAfter(message.payload, RTMSG_LEN, what);
  const address = (type: number): string | null => {
    const bytes = attrs.bytes(type);
    if (bytes === undefined) return null;
    if (bytes.length !== size) throw malformed(what, `attribute ${type} has ${bytes.length} bytes`);
    return formatIp(bytes);
  };
  const dstLen = view.getUint8(1);
  const dst = address(RTA.DST);
  return {
    family,
    destination: dstLen === 0 ? "default" : `${dst ?? formatIp(new Uint8Array(size))}/${dstLen}`,
    gateway: address(RTA.GATEWAY),
    source: address(RTA.PREFSRC),
    interfaceIndex: attrs.u32(RTA.OIF) ?? null,
    table: attrs.u32(RTA.TABLE) ?? view.getUint8(4),
    protocol: view.getUint8(5),
    scope: view.getUint8(6),
    type: view.getUint8(7),
    metric: attrs.u32(RTA.PRIORITY) ?? null,
  };
}

/** Whether a message ends a dump or reports an error (control messages below 16). */
export function isControl(message: NetlinkMessage): boolean {
  return message.type === NLMSG.ERROR || message.type === NLMSG.DONE ||
    message.type === NLMSG.NOOP || message.type === NLMSG.OVERRUN;
}
