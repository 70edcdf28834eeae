/**
 * Container networking over rtnetlink, knowing nothing of containers: a
 * netlink client ({@link Netlink}), the address parsers config validation
 * shares, and the config's network strategies (loopback, veth), routes,
 * host-side cleanup and interface counters.
 *
 * @module
 */
export { Netlink } from "./netlink.ts";
export type { AddressListOptions, RouteListOptions, RouteOptions } from "./netlink.ts";
export type {
  Ack,
  AddressInfo,
  AddressOptions,
  Link,
  LinkChanges,
  LinkRef,
  LinkStats,
  NetnsRef,
  Request,
  RouteInfo,
  VethEnd,
  VethHost,
  VethPeer,
} from "./messages.ts";
export {
  checkInterfaceName,
  cidrProblem,
  formatCidr,
  formatIp,
  formatMac,
  interfaceNameProblem,
  ipProblem,
  macProblem,
  parseCidr,
  parseIp,
  parseMac,
} from "./address.ts";
export type { Cidr, CidrOptions, IpAddress, ParseOptions } from "./address.ts";
export {
  addRoutes,
  DEFAULT_INTERFACE_NAME,
  deleteHostInterface,
  interfaceStats,
  networkIssues,
  randomInterfaceName,
  routeIssues,
  setupLoopback,
  setupNetworks,
  setupVeth,
  vethIssues,
} from "./strategies.ts";
export type { SetupNetworksOptions, VethInterface } from "./strategies.ts";
export type { InterfaceStats } from "../stats/types.ts";
export type { Attr, NetlinkMessage } from "./_wire.ts";
export type { ConfigIssue, Network, Route } from "../config/mod.ts";
