/**
 * The config's network strategies (`networks[i].type`) and routes, knowing
 * nothing of containers: they get the target network namespace as a process
 * living in it or an open namespace descriptor ({@link NetnsRef}).
 *
 * - `loopback`: bring `lo` up inside.
 * - `veth`: a pair whose host end joins a bridge and whose peer is created
 *   directly in the target namespace (under a temporary name, so it never
 *   shows on the host), then renamed, addressed, brought up and given its
 *   default routes there.
 *
 * Everything is checked before the first change (a bad address, MAC or
 * name is a {@link ConfigError} naming its field), and a failure after the
 * pair exists deletes the host end, which takes the peer with it: nothing
 * is left on the host.
 *
 * @module
 */
import type { Network, Route } from "../config/mod.ts";
import { ConfigError, type ConfigIssue, ContainerError, SystemError } from "../errors.ts";
import { Errno } from "../../ffi/_errno.ts";
import type { NetnsRef } from "./messages.ts";
import type { InterfaceStats } from "../stats/types.ts";
import { Netlink, type RouteOptions } from "./netlink.ts";
import { type Cidr, parseCidr, parseMac } from "./address.ts";
import { fieldPath, networkIssues, routeIssues, vethIssues } from "./issues.ts";

export type { NetnsRef } from "./messages.ts";
export { networkIssues, routeIssues, vethIssues };

/** The container end's name when the config gives none. */
export const DEFAULT_INTERFACE_NAME = "eth0";

/** What a veth setup made: the names that destroy and stats need. */
export interface VethInterface {
  /** The host end, a port of the bridge; deleting it deletes the pair. */
  hostInterfaceName: string;
  /**
   * The host end's interface index: with the name, it tells this pair from
   * a later link that took the same name (see {@link deleteHostInterface}).
   */
  hostInterfaceIndex: number;
  /** The container end, inside the target namespace. */
  containerInterfaceName: string;
  /** The bridge the host end joined. */
  bridge: string;
}

/** A name of `prefix` and 7 random hex digits, as the seed named veths: `veth1a2b3c4`. */
export function randomInterfaceName(prefix = "veth"): string {
  const bytes = crypto.getRandomValues(new Uint8Array(4));
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  return prefix + hex.slice(0, 7);
}

function throwIssues(issues: ConfigIssue[]): void {
  if (issues.length > 0) throw new ConfigError(issues);
}

// ---- the strategies, on open sockets ----------------------------------------

/** A Netlink on the host and one in the target namespace, opened when first needed. */
class Sockets {
  #host: Netlink | undefined;
  #inside: Netlink | undefined;
  readonly #netns: NetnsRef;

  constructor(netns: NetnsRef) {
    this.#netns = netns;
  }

  get host(): Netlink {
    return this.#host ??= Netlink.open();
  }

  get inside(): Netlink {
    return this.#inside ??= Netlink.openInNetns(this.#netns);
  }

  get netns(): NetnsRef {
    return this.#netns;
  }

  [Symbol.dispose](): void {
    this.#host?.close();
    this.#inside?.close();
  }
}

/** Runs `undo` after a failure, attaching its own failure to the original error. */
function undoing(error: unknown, undo: () => void): never {
  try {
    undo();
  } catch (cleanupError) {
    if (error instanceof ContainerError) error.cleanupErrors.push(cleanupError);
  }
  throw error;
}

function vethOnSockets(network: Network, field: string, sockets: Sockets): VethInterface {
  throwIssues(vethIssues(network, field));
  const name = network.name || DEFAULT_INTERFACE_NAME;
  const mac = network.mac_address ? parseMac(network.mac_address) : undefined;
  const v4: Cidr | undefined = network.address
    ? parseCidr(network.address, { family: 4 })
    : undefined;
  const v6: Cidr | undefined = network.ipv6_address
    ? parseCidr(network.ipv6_address, { family: 6 })
    : undefined;

  const host = sockets.host;
  const bridge = host.findLink(network.bridge);
  if (bridge === null || bridge.kind !== "bridge") {
    const what = bridge === null
      ? "does not exist"
      : `is a ${bridge.kind ?? "device"}, not a bridge`;
    throw new ConfigError([{
      path: fieldPath(field, "bridge"),
      message: `The host bridge \`${network.bridge}\` ${what}`,
    }]);
  }
  const hostName = network.host_interface_name || randomInterfaceName();
  const peerName = randomInterfaceName();
  const mtu = network.mtu || bridge.mtu;
  try {
    host.createVeth(
      {
        name: hostName,
        mtu,
        txqueuelen: network.txqueuelen,
        master: bridge.index,
        up: true,
      },
      { name: peerName, mtu, netns: sockets.netns },
    );
  } catch (error) {
    const taken = error instanceof SystemError && error.errno === Errno.EEXIST &&
      network.host_interface_name !== "" && host.findLink(hostName) !== null;
    if (!taken) throw error;
    throw new ConfigError([{
      path: fieldPath(field, "host_interface_name"),
      message: `The host already has an interface \`${hostName}\``,
    }], { cause: error });
  }
  let hostIndex = 0;
  try {
    if (network.hairpin_mode) host.setHairpin(hostName, true);
    const inside = sockets.inside;
    const peer = inside.link(peerName); // its index, in that namespace
    // For a veth, IFLA_LINK is the other end's index (here, the host's).
    hostIndex = peer.peer ?? host.linkIndex(hostName);
    inside.setLink(peer, { name, ...(mac ? { mac } : {}), up: true });
    const renamed = { index: peer.index, name };
    if (v4) inside.addAddress(renamed, v4);
    // No duplicate address detection: the address is the operator's to give,
    // and the container's first process may use it at once.
    if (v6) inside.addAddress(renamed, v6, { nodad: true });
    if (network.gateway) {
      inside.addRoute({ gateway: network.gateway, interface: renamed, field });
    }
    if (network.ipv6_gateway) {
      inside.addRoute({ gateway: network.ipv6_gateway, interface: renamed, field });
    }
  } catch (error) {
    undoing(error, () => host.deleteLink(hostName));
  }
  return {
    hostInterfaceName: hostName,
    hostInterfaceIndex: hostIndex,
    containerInterfaceName: name,
    bridge: network.bridge,
  };
}

function routesOnSocket(routes: readonly Route[], inside: () => Netlink): void {
  routes.forEach((route, i) => {
    const options: RouteOptions = { field: `routes[${i}]` };
    if (route.destination) options.destination = route.destination;
    if (route.gateway) options.gateway = route.gateway;
    if (route.source) options.source = route.source;
    if (route.interface_name) options.interface = route.interface_name;
    inside().addRoute(options);
  });
}

// ---- the strategies, one call each ------------------------------------------

/**
 * Brings the loopback interface up in the target namespace.
 *
 * @throws {SystemError} when the namespace cannot be entered or `lo` brought up
 */
export function setupLoopback(netns: NetnsRef): void {
  using netlink = Netlink.openInNetns(netns);
  netlink.setUp("lo");
}

/**
 * Sets up one veth network: on the host, the pair with its host end on the
 * bridge (MTU from the config or the bridge's, queue length, hairpin mode,
 * up) and its peer created in the target namespace; inside, the peer
 * renamed to `name` (default `eth0`), its MAC, IPv4 and IPv6 addresses, up,
 * and default routes via `gateway` and `ipv6_gateway`.
 *
 * @param network the config entry (type `veth`)
 * @param netns the target namespace: a process in it or an open descriptor
 * @param options `field`, the entry's config path for error messages (such as `networks[1]`)
 * @returns the host and container interface names
 * @throws {ConfigError} for a bad field or a missing bridge, before any change
 * @throws {SystemError} when the kernel refuses a step; the pair is deleted first
 */
export function setupVeth(
  network: Network,
  netns: NetnsRef,
  options: { field?: string } = {},
): VethInterface {
  using sockets = new Sockets(netns);
  return vethOnSockets(network, options.field ?? "", sockets);
}

/**
 * Adds the config's routes (`destination`, `source` as the preferred
 * source, `gateway`, `interface_name`) in the target namespace.
 *
 * @throws {ConfigError} for a bad route, before any change
 * @throws {SystemError} when the kernel refuses a route
 */
export function addRoutes(routes: readonly Route[], netns: NetnsRef): void {
  const issues: ConfigIssue[] = [];
  routes.forEach((route, i) => issues.push(...routeIssues(route, `routes[${i}]`)));
  throwIssues(issues);
  if (routes.length === 0) return;
  using netlink = Netlink.openInNetns(netns);
  routesOnSocket(routes, () => netlink);
}

/** Options of {@link setupNetworks}. */
export interface SetupNetworksOptions {
  /**
   * Whether a `loopback` entry brings `lo` up here (default true). A
   * container runtime whose init brings `lo` up itself passes false.
   */
  loopback?: boolean;
}

/**
 * Sets up every network of a config, in order, then its routes, sharing
 * one socket on the host and one in the target namespace. Everything is
 * validated first; on a failure every veth made so far is deleted.
 *
 * @returns the veths made, in config order (loopback entries make none)
 * @throws {ConfigError} for a bad entry or a missing bridge, before any change
 * @throws {SystemError} when the kernel refuses a step
 */
export function setupNetworks(
  networks: readonly Network[],
  routes: readonly Route[],
  netns: NetnsRef,
  options: SetupNetworksOptions = {},
): VethInterface[] {
  throwIssues(networkIssues(networks, routes));
  using sockets = new Sockets(netns);
  const made: VethInterface[] = [];
  try {
    networks.forEach((network, i) => {
      if (network.type !== "loopback") {
        made.push(vethOnSockets(network, `networks[${i}]`, sockets));
      } else if (options.loopback ?? true) sockets.inside.setUp("lo");
    });
    routesOnSocket(routes, () => sockets.inside);
    return made;
  } catch (error) {
    return undoing(error, () => {
      for (const veth of made.reverse()) {
        deleteHostInterfaceOn(sockets.host, veth.hostInterfaceName, veth.hostInterfaceIndex);
      }
    });
  }
}

function deleteHostInterfaceOn(host: Netlink, name: string, index?: number): boolean {
  const link = host.findLink(name);
  if (link === null || link.kind !== "veth") return false;
  if (index !== undefined && link.index !== index) return false; // another link took the name
  try {
    host.deleteLink(link.index);
    return true;
  } catch (error) {
    // Gone meanwhile (its peer's namespace died): that is the goal.
    if (error instanceof SystemError && error.errno === Errno.ENODEV) return false;
    throw error;
  }
}

/**
 * Deletes the host end of a veth (and with it the pair), in the calling
 * thread's network namespace. Idempotent: a name that is gone (as when
 * the container's namespace died and took the pair with it) or that is not
 * a veth is left alone, and so is one whose index is not `options.index`
 * (the pair died and a later veth took its name).
 *
 * @returns true when a veth was deleted
 * @throws {SystemError} when the kernel refuses the deletion
 */
export function deleteHostInterface(name: string, options: { index?: number } = {}): boolean {
  using host = Netlink.open();
  return deleteHostInterfaceOn(host, name, options.index);
}

/**
 * Counters of interfaces read from inside the target namespace
 * (IFLA_STATS64): the container's own view, so `rx_bytes` is what the
 * container received.
 *
 * @param netns the namespace: a process in it or an open descriptor
 * @param names the interfaces wanted, in that order; default every one but `lo`.
 *   A name that is not there is left out.
 * @throws {SystemError} when the namespace cannot be entered
 */
export function interfaceStats(netns: NetnsRef, names?: readonly string[]): InterfaceStats[] {
  using netlink = Netlink.openInNetns(netns);
  const links = netlink.links();
  const wanted = names ?? links.filter((l) => l.name !== "lo").map((l) => l.name);
  const stats: InterfaceStats[] = [];
  for (const name of wanted) {
    const link = links.find((l) => l.name === name);
    const counters = link?.stats;
    if (!counters) continue;
    stats.push({
      name,
      rx_bytes: counters.rxBytes,
      rx_packets: counters.rxPackets,
      rx_errors: counters.rxErrors,
      rx_dropped: counters.rxDropped,
      tx_bytes: counters.txBytes,
      tx_packets: counters.txPackets,
      tx_errors: counters.txErrors,
      tx_dropped: counters.txDropped,
    });
  }
  return stats;
}
