/**
 * An rtnetlink client: one `AF_NETLINK`/`NETLINK_ROUTE` socket, bound to the
 * network namespace it was opened in, sending one request at a time and
 * waiting for the kernel's answer with a blocking receive. These are quick
 * kernel round trips (tens of microseconds), so the calls are synchronous:
 * no other JavaScript runs between a request and its answer.
 *
 * Every request that changes something asks for an ACK (NLM_F_ACK) and a
 * refusal becomes a {@link SystemError} naming the request, such as
 * ``netlink RTM_NEWLINK veth `veth1a2b3c4`: EEXIST``; the kernel's own
 * explanation (extended ACK), when it gives one, is added in parentheses.
 *
 * @example
 * ```ts
 * using netlink = Netlink.openInPid(pid);
 * netlink.setUp("lo");
 * ```
 *
 * @module
 */
import { errno, sys } from "../../ffi/syscalls.ts";
import { CLONE, MSG, O, SOCK, SOL_SOCKET } from "../../ffi/constants.ts";
import { Errno } from "../../ffi/_errno.ts";
import { ConfigError, SystemError } from "../errors.ts";
import { closeFd, openFile } from "../sys/fs.ts";
import {
  AF_NETLINK,
  NETLINK_CAP_ACK,
  NETLINK_EXT_ACK,
  NETLINK_ROUTE,
  NLM_F,
  NLMSG,
  RT_TABLE_MAIN,
  SO_RCVTIMEO,
  SOCK_RAW,
  SOL_NETLINK,
} from "./_constants.ts";
import { type NetlinkMessage, parseMessages } from "./_wire.ts";
import {
  type AddressInfo,
  type AddressOptions,
  deleteAddressRequest,
  deleteLinkRequest,
  deleteRouteRequest,
  dumpAddressesRequest,
  dumpLinksRequest,
  dumpRoutesRequest,
  encodeRequest,
  getLinkRequest,
  type IndexedLink,
  type Link,
  type LinkChanges,
  linkLabel,
  type LinkRef,
  type NetnsRef,
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
  type RouteInfo,
  type RouteSpec,
  setHairpinRequest,
  setLinkRequest,
  type VethEnd,
  type VethHost,
  type VethPeer,
} from "./messages.ts";
import { type Cidr, type IpAddress, parseCidr, parseIp, parseMac } from "./address.ts";

/** A route given as text, as in a config. */
export interface RouteOptions {
  /** Destination network in CIDR form (host bits zero); absent, empty or `default` for the default route. */
  destination?: string;
  /** Next hop. */
  gateway?: string;
  /** Preferred source address. */
  source?: string;
  /** Interface the route goes out of. */
  interface?: LinkRef;
  /** Route metric. */
  metric?: number;
  /** Routing table (default main). */
  table?: number;
  /** Config path of the route, such as `routes[2]`, for error messages. */
  field?: string;
}

/** Options of {@link Netlink.routes}. */
export interface RouteListOptions {
  /** Only this family. */
  family?: 4 | 6;
  /** Only this table (default main), or every table. */
  table?: number | "all";
}

/** Options of {@link Netlink.addresses}. */
export interface AddressListOptions {
  /** Only the addresses of this link. */
  link?: LinkRef;
  /** Only this family. */
  family?: 4 | 6;
}

const RECEIVE_TIMEOUT_SECONDS = 5;
const DUMP_ATTEMPTS = 5;

// Every call is synchronous, so one receive buffer serves every socket. The
// kernel sizes dump datagrams to at most 32 KiB unless one object needs more.
let receiveBuffer: Uint8Array<ArrayBuffer> | undefined;

function setIntOption(fd: number, level: number, name: number, value: number): void {
  sys.setsockopt(fd, level, name, new Uint8Array(new Int32Array([value]).buffer));
}

function netnsFdError(op: string, code: number, detail: string): SystemError {
  return new SystemError(op, code, { detail });
}

/** A route's addresses parsed, their families checked against each other. */
function routeSpec(route: RouteOptions): Omit<RouteSpec, "interfaceIndex"> {
  const at = (name: string) => route.field ? `${route.field}.${name}` : name;
  const destination: Cidr | undefined = route.destination && route.destination !== "default"
    ? parseCidr(route.destination, { field: at("destination"), network: true })
    : undefined;
  const gateway: IpAddress | undefined = route.gateway
    ? parseIp(route.gateway, { field: at("gateway") })
    : undefined;
  const source: IpAddress | undefined = route.source
    ? parseIp(route.source, { field: at("source") })
    : undefined;
  const family = destination?.family ?? gateway?.family ?? source?.family;
  if (family === undefined) {
    throw new ConfigError([{
      path: route.field ?? "",
      message: "A route needs a destination, a gateway or a source",
    }]);
  }
  const issues = ([["gateway", gateway], ["source", source]] as const)
    .filter(([, address]) => address !== undefined && address.family !== family)
    .map(([name]) => ({
      path: at(name),
      message: `Must be an IPv${family} address like the rest of the route`,
    }));
  if (issues.length > 0) throw new ConfigError(issues);
  return {
    family,
    ...(destination ? { destination } : {}),
    ...(gateway ? { gateway } : {}),
    ...(source ? { source } : {}),
    ...(route.metric !== undefined ? { metric: route.metric } : {}),
    ...(route.table !== undefined ? { table: route.table } : {}),
  };
}

/**
 * An rtnetlink socket in one network namespace. Open it with
 * {@link Netlink.open} (the calling thread's namespace),
 * {@link Netlink.openIn} (a namespace descriptor) or
 * {@link Netlink.openInPid} (a process's namespace); it stays bound to that
 * namespace until closed. Needs CAP_NET_ADMIN there for changes (and
 * CAP_SYS_ADMIN to enter another namespace).
 */
export class Netlink {
  #fd: number;
  #seq: number;

  private constructor(fd: number) {
    this.#fd = fd;
    this.#seq = (Date.now() & 0x7fffffff) >>> 0;
  }

  /** Wraps a new socket: extended ACKs on, echoed requests capped, a receive timeout. */
  static #wrap(fd: number): Netlink {
    // Both options are best effort: an older kernel simply lacks them.
    setIntOption(fd, SOL_NETLINK, NETLINK_EXT_ACK, 1);
    setIntOption(fd, SOL_NETLINK, NETLINK_CAP_ACK, 1);
    // A kernel that never answers (it always does) must not hang the process.
    const timeout = new BigInt64Array([BigInt(RECEIVE_TIMEOUT_SECONDS), 0n]);
    sys.setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, new Uint8Array(timeout.buffer));
    return new Netlink(fd);
  }

  static #socket(): number {
    return sys.socket(AF_NETLINK, SOCK_RAW | SOCK.CLOEXEC, NETLINK_ROUTE);
  }

  /**
   * Opens a socket in the calling thread's network namespace.
   *
   * @throws {SystemError} when the socket cannot be created
   */
  static open(): Netlink {
    const fd = Netlink.#socket();
    if (fd < 0) throw new SystemError("socket", errno(), { detail: "AF_NETLINK NETLINK_ROUTE" });
    return Netlink.#wrap(fd);
  }

  /**
   * Opens a socket in the network namespace of `netnsFd` (an open
   * /proc/<pid>/ns/net or /run/netns/<name>). The calling thread enters
   * that namespace, creates the socket and returns to its own namespace,
   * all synchronously: no JavaScript runs in between, and only this thread
   * moves (allowed for network namespaces in a threaded process). The
   * socket stays bound to the target namespace.
   *
   * @throws {SystemError} when the namespace cannot be entered or the socket created
   */
  static openIn(netnsFd: number): Netlink {
    const own = openFile("/proc/thread-self/ns/net", O.RDONLY);
    try {
      if (sys.setns(netnsFd, CLONE.NEWNET) < 0) {
        throw netnsFdError("setns", errno(), `fd ${netnsFd} CLONE_NEWNET`);
      }
      const fd = Netlink.#socket();
      const socketErrno = fd < 0 ? errno() : 0;
      if (sys.setns(own, CLONE.NEWNET) < 0) {
        const code = errno();
        closeFd(fd);
        throw netnsFdError("setns", code, "back to the thread's own network namespace");
      }
      if (fd < 0) {
        throw new SystemError("socket", socketErrno, {
          detail: `AF_NETLINK NETLINK_ROUTE in netns fd ${netnsFd}`,
        });
      }
      return Netlink.#wrap(fd);
    } finally {
      closeFd(own);
    }
  }

  /**
   * Opens a socket in the network namespace of process `pid`
   * (/proc/<pid>/ns/net).
   *
   * @throws {SystemError} when the process is gone or the namespace cannot be entered
   */
  static openInPid(pid: number): Netlink {
    return Netlink.openInPath(`/proc/${pid}/ns/net`);
  }

  /**
   * Opens a socket in the network namespace that `path` names, such as
   * `/run/netns/blue`.
   *
   * @throws {SystemError} when the file cannot be opened or the namespace entered
   */
  static openInPath(path: string): Netlink {
    const fd = openFile(path, O.RDONLY);
    try {
      return Netlink.openIn(fd);
    } finally {
      closeFd(fd);
    }
  }

  /** Opens a socket in the namespace `netns` names (a pid or a descriptor). */
  static openInNetns(netns: NetnsRef): Netlink {
    return "pid" in netns ? Netlink.openInPid(netns.pid) : Netlink.openIn(netns.fd);
  }

  /** The socket's descriptor (-1 once closed). */
  get fd(): number {
    return this.#fd;
  }

  /** Closes the socket; idempotent. */
  close(): void {
    if (this.#fd >= 0) closeFd(this.#fd);
    this.#fd = -1;
  }

  /** Closes the socket. */
  [Symbol.dispose](): void {
    this.close();
  }

  // ---- the exchange -------------------------------------------------------

  #failure(request: Request, code: number, kernelMessage?: string): SystemError {
    const detail = kernelMessage ? `${request.detail} (${kernelMessage})` : request.detail;
    return new SystemError(`netlink ${requestName(request)}`, code, { detail });
  }

  #send(request: Request): number {
    if (this.#fd < 0) throw this.#failure(request, Errno.EBADF, "socket closed");
    this.#seq = (this.#seq + 1) >>> 0 || 1;
    const bytes = encodeRequest(request, this.#seq);
    for (;;) {
      const n = sys.sendto(this.#fd, bytes, 0, null);
      if (n === bytes.length) return this.#seq;
      const code = n < 0 ? errno() : Errno.EMSGSIZE;
      if (code === Errno.EINTR) continue;
      throw this.#failure(request, code, "send");
    }
  }

  /** Receives one datagram and splits it into messages (views of a shared buffer). */
  #receive(request: Request): NetlinkMessage[] {
    receiveBuffer ??= new Uint8Array(65536);
    for (;;) {
      const n = sys.recvfrom(this.#fd, receiveBuffer, MSG.TRUNC);
      if (n < 0) {
        const code = errno();
        if (code === Errno.EINTR) continue;
        const why = code === Errno.EAGAIN ? "no answer from the kernel" : "receive";
        throw this.#failure(request, code, why);
      }
      if (n > receiveBuffer.length) {
        throw this.#failure(request, Errno.EMSGSIZE, `a reply of ${n} bytes was truncated`);
      }
      return parseMessages(receiveBuffer.subarray(0, n), `${requestName(request)} reply`);
    }
  }

  /**
   * Sends a request that changes something and waits for its ACK.
   *
   * @throws {SystemError} naming the request when the kernel refuses it
   */
  execute(request: Request): void {
    const seq = this.#send(request);
    for (;;) {
      for (const message of this.#receive(request)) {
        if (message.seq !== seq || message.type !== NLMSG.ERROR) continue;
        const ack = parseAck(message);
        if (ack.errno !== 0) throw this.#failure(request, ack.errno, ack.message);
        return;
      }
    }
  }

  /**
   * Sends a request answered by one message (a GET of one object) and
   * returns that message.
   *
   * @throws {SystemError} naming the request when the kernel refuses it
   */
  query(request: Request): NetlinkMessage {
    const seq = this.#send(request);
    for (;;) {
      for (const message of this.#receive(request)) {
        if (message.seq !== seq) continue;
        if (message.type === NLMSG.ERROR) {
          const ack = parseAck(message);
          throw this.#failure(request, ack.errno || Errno.EIO, ack.message);
        }
        return { ...message, payload: message.payload.slice() };
      }
    }
  }

  /**
   * Sends a dump request (NLM_F_DUMP) and returns every message up to
   * NLMSG_DONE. A dump the kernel marks inconsistent (NLM_F_DUMP_INTR: the
   * table changed meanwhile) is run again.
   *
   * @throws {SystemError} naming the request when the kernel refuses it
   */
  dump(request: Request): NetlinkMessage[] {
    for (let attempt = 1;; attempt++) {
      const seq = this.#send(request);
      const messages: NetlinkMessage[] = [];
      let interrupted = false;
      let done = false;
      while (!done) {
        for (const message of this.#receive(request)) {
          if (message.seq !== seq) continue;
          if (message.flags & NLM_F.DUMP_INTR) interrupted = true;
          if (message.type === NLMSG.DONE) {
            const code = parseDone(message);
            if (code !== 0) throw this.#failure(request, code);
            done = true;
            break;
          }
          if (message.type === NLMSG.ERROR) {
            const ack = parseAck(message);
            if (ack.errno !== 0) throw this.#failure(request, ack.errno, ack.message);
            continue;
          }
          if (message.type === NLMSG.NOOP) continue;
          messages.push({ ...message, payload: message.payload.slice() });
        }
      }
      if (!interrupted) return messages;
      if (attempt === DUMP_ATTEMPTS) {
        throw this.#failure(request, Errno.EINTR, "dump kept changing");
      }
    }
  }

  // ---- links --------------------------------------------------------------

  /**
   * Describes one link.
   *
   * @throws {SystemError} (ENODEV) when there is no such link
   */
  link(link: LinkRef): Link {
    return parseLink(this.query(getLinkRequest(link)));
  }

  /** Describes one link, or returns null when there is no such link. */
  findLink(link: LinkRef): Link | null {
    try {
      return this.link(link);
    } catch (error) {
      if (error instanceof SystemError && error.errno === Errno.ENODEV) return null;
      throw error;
    }
  }

  /** Every link of the namespace, in index order. */
  links(): Link[] {
    return this.dump(dumpLinksRequest()).map(parseLink);
  }

  /**
   * The interface index of a link.
   *
   * @throws {SystemError} (ENODEV) when there is no such link
   */
  linkIndex(link: LinkRef): number {
    if (typeof link === "number") return link;
    return typeof link === "string" ? this.link(link).index : link.index;
  }

  /** The link with its index resolved, keeping its name for messages. */
  #indexed(link: LinkRef): IndexedLink {
    return typeof link === "string" ? { index: this.linkIndex(link), name: link } : link;
  }

  /**
   * Creates a veth pair. The host end may join a bridge (`master`) and come
   * up at creation; the peer may be created directly in another network
   * namespace (`netns`), so it never appears in this one.
   *
   * @throws {SystemError} such as ``netlink RTM_NEWLINK veth `veth0`: EEXIST``
   */
  createVeth(host: VethHost | string, peer: VethPeer | string): void {
    this.execute(
      newVethRequest(
        typeof host === "string" ? { name: host } : host,
        typeof peer === "string" ? { name: peer } : peer,
      ),
    );
  }

  /** Creates a bridge. */
  createBridge(bridge: VethEnd | string): void {
    this.execute(newBridgeRequest(typeof bridge === "string" ? { name: bridge } : bridge));
  }

  /**
   * Deletes a link (deleting either end of a veth pair deletes both).
   *
   * @throws {SystemError} (ENODEV) when there is no such link
   */
  deleteLink(link: LinkRef): void {
    this.execute(deleteLinkRequest(link));
  }

  /**
   * Applies several link changes in one request (see {@link LinkChanges}).
   * A rename resolves the link's index first when given only a name.
   */
  setLink(link: LinkRef, changes: LinkChanges): void {
    const target = changes.name !== undefined && typeof link === "string"
      ? { index: this.linkIndex(link), name: link }
      : link;
    this.execute(setLinkRequest(target, changes));
  }

  /** Brings a link up. */
  setUp(link: LinkRef): void {
    this.setLink(link, { up: true });
  }

  /** Brings a link down. */
  setDown(link: LinkRef): void {
    this.setLink(link, { up: false });
  }

  /** Sets a link's MTU. */
  setMtu(link: LinkRef, mtu: number): void {
    this.setLink(link, { mtu });
  }

  /**
   * Sets a link's MAC address (`02:42:ac:11:00:02`).
   *
   * @throws {ConfigError} when the text is not a unicast MAC address
   */
  setMac(link: LinkRef, mac: string): void {
    this.setLink(link, { mac: parseMac(mac) });
  }

  /** Sets a link's transmit queue length. */
  setTxQueueLen(link: LinkRef, length: number): void {
    this.setLink(link, { txqueuelen: length });
  }

  /** Attaches a link to a master (a bridge). */
  setMaster(link: LinkRef, master: LinkRef): void {
    this.setLink(link, { master: this.linkIndex(master) });
  }

  /** Detaches a link from its master. */
  setNoMaster(link: LinkRef): void {
    this.setLink(link, { master: 0 });
  }

  /** Moves a link into another network namespace (by a process in it or a descriptor). */
  moveToNetns(link: LinkRef, netns: NetnsRef): void {
    this.setLink(link, { netns });
  }

  /** Renames a link (it must be down). */
  rename(link: LinkRef, name: string): void {
    this.setLink(link, { name });
  }

  /** Turns hairpin mode of a bridge port on or off. */
  setHairpin(link: LinkRef, on: boolean): void {
    this.execute(setHairpinRequest(this.#indexed(link), on));
  }

  /** Whether hairpin mode of a bridge port is on; null when the link is not a bridge port. */
  hairpin(link: LinkRef): boolean | null {
    return this.link(link).hairpin;
  }

  // ---- addresses ----------------------------------------------------------

  /**
   * Adds an IPv4 or IPv6 address (`10.0.0.2/24`, `fd00::2/64`) to a link.
   *
   * @throws {ConfigError} when the address does not parse
   * @throws {SystemError} when the kernel refuses it (EEXIST if present)
   */
  addAddress(link: LinkRef, cidr: string | Cidr, options: AddressOptions = {}): void {
    const parsed = typeof cidr === "string" ? parseCidr(cidr) : cidr;
    this.execute(
      newAddressRequest(this.#indexed(link), parsed, options),
    );
  }

  /** Removes an address from a link. */
  deleteAddress(link: LinkRef, cidr: string | Cidr): void {
    const parsed = typeof cidr === "string" ? parseCidr(cidr) : cidr;
    this.execute(deleteAddressRequest(this.#indexed(link), parsed));
  }

  /** The IPv4 and IPv6 addresses of the namespace, or of one link. */
  addresses(options: AddressListOptions = {}): AddressInfo[] {
    const index = options.link === undefined ? undefined : this.linkIndex(options.link);
    return this.dump(dumpAddressesRequest(options.family))
      .map(parseAddress)
      .filter((a): a is AddressInfo =>
        a !== null && (index === undefined || a.index === index) &&
        (options.family === undefined || a.family === options.family)
      );
  }

  // ---- routes -------------------------------------------------------------

  #routeSpec(route: RouteOptions): { spec: RouteSpec; label?: string } {
    const spec: RouteSpec = routeSpec(route);
    if (route.interface === undefined || route.interface === "") return { spec };
    spec.interfaceIndex = this.linkIndex(route.interface);
    return { spec, label: linkLabel(route.interface) };
  }

  /**
   * Adds a route to the main table: a destination network (absent for the
   * default route), a gateway, a preferred source, an interface; at least
   * a destination or a gateway.
   *
   * @throws {ConfigError} when an address does not parse or the families differ
   * @throws {SystemError} when the kernel refuses the route
   */
  addRoute(route: RouteOptions): void {
    const { spec, label } = this.#routeSpec(route);
    this.execute(newRouteRequest(spec, label));
  }

  /** Adds a default route via `gateway` (IPv4 or IPv6), optionally out of one interface. */
  addDefaultRoute(gateway: string, options: { interface?: LinkRef; field?: string } = {}): void {
    this.addRoute({ gateway, ...options });
  }

  /** Removes a route. */
  deleteRoute(route: RouteOptions): void {
    const { spec, label } = this.#routeSpec(route);
    this.execute(deleteRouteRequest(spec, label));
  }

  /** The routes of the main table (or of `options.table`, or of all tables). */
  routes(options: RouteListOptions = {}): RouteInfo[] {
    const table = options.table ?? RT_TABLE_MAIN;
    return this.dump(dumpRoutesRequest(options.family))
      .map(parseRoute)
      .filter((r): r is RouteInfo =>
        r !== null && (table === "all" || r.table === table) &&
        (options.family === undefined || r.family === options.family)
      );
  }
}
