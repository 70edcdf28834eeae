/**
 * The rtnetlink client and the network strategies on the real kernel, in
 * throwaway namespaces and on test bridges, checked with iproute2 (`ip -j`,
 * `bridge -j`) from the host or inside, and with pings between namespaces.
 * Every namespace, bridge and veth made here is deleted, and the last test
 * checks that none is left.
 */
import { assert, assertEquals, assertMatch, assertThrows } from "../_assert.ts";
import { integration } from "../_helpers.ts";
import {
  addressesOf,
  findLink,
  hostVeths,
  ipJson,
  type IpLink,
  links,
  must,
  NetnsProcess,
  ownLeftovers,
  routesOf,
  run,
  TestBridge,
  TestNetns,
  uniqueName,
} from "./_netns.ts";
import {
  deleteHostInterface,
  interfaceStats,
  Netlink,
  setupLoopback,
  setupNetworks,
  setupVeth,
} from "../../lib/network/mod.ts";
import type { Network, Route } from "../../lib/config/mod.ts";
import { ConfigError, SystemError } from "../../lib/errors.ts";
import { readLink } from "../../lib/sys/fs.ts";

// ---- helpers of this file ------------------------------------------------

/** Host veths made by these tests under random names, checked at the end. */
const madeVeths = new Set<string>();

function veth(overrides: Partial<Network> = {}): Network {
  return {
    type: "veth",
    name: "eth0",
    bridge: "",
    mac_address: "",
    address: "",
    gateway: "",
    ipv6_address: "",
    ipv6_gateway: "",
    mtu: 0,
    txqueuelen: 0,
    host_interface_name: "",
    hairpin_mode: false,
    ...overrides,
  };
}

function route(overrides: Partial<Route>): Route {
  return { destination: "", source: "", gateway: "", interface_name: "", ...overrides };
}

function threadNetns(): string {
  return readLink("/proc/thread-self/ns/net");
}

/** Asserts that `fn` throws a SystemError whose message is exactly `message`. */
function assertSystemError(fn: () => unknown, message: string | RegExp): SystemError {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  assert(caught instanceof SystemError, `expected a SystemError, got ${caught}`);
  if (typeof message === "string") assertEquals(caught.message, message);
  else assertMatch(caught.message, message);
  return caught;
}

/** Asserts that `fn` throws a ConfigError with exactly these issues. */
function assertConfigError(fn: () => unknown, issues: { path: string; message: string }[]): void {
  assertThrows(fn, (error: unknown) => {
    assert(error instanceof ConfigError, `expected a ConfigError, got ${error}`);
    assertEquals(error.issues, issues);
    return true;
  });
}

function ping(ns: TestNetns, address: string): boolean {
  const family = address.includes(":") ? ["-6"] : [];
  return ns.exec("busybox", "ping", ...family, "-c1", "-W2", address).code === 0;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

const hostNetns = threadNetns();

// ---- the client ------------------------------------------------------------

Deno.test({
  name: "Netlink.open() lists the host's links as `ip link` shows them",
  ...integration,
  fn() {
    using netlink = Netlink.open();
    const ours = netlink.links().map((l) => [l.index, l.name, l.mtu, l.mac, l.up, l.txqueuelen]);
    const theirs = links().map((l) => [
      l.ifindex,
      l.ifname,
      l.mtu,
      l.address ?? null,
      l.flags.includes("UP"),
      l.txqlen ?? 0,
    ]);
    assertEquals(ours, theirs);
    assertEquals(netlink.link("lo").index, 1);
    assertEquals(netlink.linkIndex("lo"), 1);
    netlink.close();
    netlink.close(); // idempotent
    assertEquals(netlink.fd, -1);
  },
});

Deno.test({
  name: "Netlink.openIn() works inside another namespace and leaves the calling thread in its own",
  ...integration,
  fn() {
    using ns = new TestNetns();
    using inside = Netlink.openIn(ns.fd);
    assertEquals(threadNetns(), hostNetns);
    assertEquals(inside.links().map((l) => [l.name, l.up]), [["lo", false]]);
    inside.setUp("lo");
    assertEquals(threadNetns(), hostNetns);
    assert(findLink("lo", ns.name)!.flags.includes("UP"));
    // The host's socket still sees the host.
    using host = Netlink.open();
    assert(host.links().length > 1 || host.links()[0]!.up);
    assertEquals(host.link("lo").up, true);
  },
});

Deno.test({
  name: "Netlink.openInPid() and openInPath() open the socket in a process's or a named namespace",
  ...integration,
  async fn() {
    await using holder = new NetnsProcess();
    using ns = new TestNetns();
    using byPid = Netlink.openInPid(holder.pid);
    using byPath = Netlink.openInPath(ns.path);
    byPid.createBridge({ name: "br-pid", up: true });
    byPath.createBridge("br-path");
    assertEquals(threadNetns(), hostNetns);
    assertEquals(findLink("br-pid", holder.pid)?.linkinfo?.info_kind, "bridge");
    assertEquals(findLink("br-path", ns.name)?.linkinfo?.info_kind, "bridge");
    assertEquals(findLink("br-pid"), undefined);
    assertSystemError(
      () => Netlink.openInPid(2 ** 22 + 1),
      /^open `\/proc\/\d+\/ns\/net`: ENOENT$/,
    );
  },
});

Deno.test({
  name: "bridges and veths are created, configured, renamed and deleted as `ip link` shows",
  ...integration,
  fn() {
    using ns = new TestNetns();
    using netlink = Netlink.openIn(ns.fd);
    netlink.createBridge({ name: "br0", mtu: 1400 });
    netlink.createVeth("va", "vb");
    assertEquals(findLink("br0", ns.name)?.mtu, 1400);
    assertEquals(findLink("va", ns.name)?.linkinfo?.info_kind, "veth");

    netlink.setMaster("va", "br0");
    netlink.setMtu("va", 1300);
    netlink.setMac("va", "02:00:00:00:00:0a");
    netlink.setTxQueueLen("va", 123);
    netlink.setUp("va");
    let va = findLink("va", ns.name)!;
    assertEquals([va.master, va.mtu, va.address, va.txqlen], [
      "br0",
      1300,
      "02:00:00:00:00:0a",
      123,
    ]);
    assert(va.flags.includes("UP"));
    const link = netlink.link("va");
    assertEquals([link.master, link.mtu, link.mac, link.txqueuelen, link.up, link.kind], [
      netlink.linkIndex("br0"),
      1300,
      "02:00:00:00:00:0a",
      123,
      true,
      "veth",
    ]);

    netlink.rename("vb", "vc");
    assertEquals(findLink("vb", ns.name), undefined);
    assertEquals(findLink("vc", ns.name)?.linkinfo?.info_kind, "veth");

    netlink.setDown("va");
    netlink.setNoMaster("va");
    va = findLink("va", ns.name)!;
    assertEquals([va.master, va.flags.includes("UP")], [undefined, false]);

    netlink.deleteLink("vc"); // either end deletes the pair
    netlink.deleteLink(netlink.linkIndex("br0"));
    assertEquals(links(ns.name).map((l) => l.ifname), ["lo"]);
  },
});

Deno.test({
  name: "createVeth() places the peer in another namespace at creation, by descriptor and by pid",
  ...integration,
  async fn() {
    using a = new TestNetns();
    using b = new TestNetns();
    await using holder = new NetnsProcess();
    using netlink = Netlink.openIn(a.fd);
    netlink.createVeth({ name: "v-fd", up: true }, {
      name: "peer-fd",
      netns: { fd: b.fd },
      mtu: 1280,
    });
    netlink.createVeth("v-pid", { name: "peer-pid", netns: { pid: holder.pid } });
    assertEquals(links(a.name).map((l) => l.ifname).sort(), ["lo", "v-fd", "v-pid"]);
    assertEquals(findLink("peer-fd", b.name)?.mtu, 1280);
    assertEquals(findLink("peer-pid", holder.pid)?.linkinfo?.info_kind, "veth");
    assertEquals(netlink.findLink("peer-fd"), null);
  },
});

Deno.test({
  name: "moveToNetns() moves a link into another namespace by descriptor and by pid",
  ...integration,
  async fn() {
    using a = new TestNetns();
    using b = new TestNetns();
    await using holder = new NetnsProcess();
    using netlink = Netlink.openIn(a.fd);
    netlink.createVeth("m1", "m2");
    netlink.moveToNetns("m1", { fd: b.fd });
    netlink.moveToNetns(netlink.linkIndex("m2"), { pid: holder.pid });
    assertEquals(links(a.name).map((l) => l.ifname), ["lo"]);
    assertEquals(findLink("m1", b.name)?.linkinfo?.info_kind, "veth");
    assertEquals(findLink("m2", holder.pid)?.linkinfo?.info_kind, "veth");
  },
});

Deno.test({
  name:
    "setHairpin() turns a bridge port's hairpin mode on and off, as `ip -d link` and `bridge link` show",
  ...integration,
  fn() {
    using ns = new TestNetns();
    using netlink = Netlink.openIn(ns.fd);
    netlink.createBridge("br0");
    netlink.createVeth({ name: "hp0", master: netlink.linkIndex("br0") }, "hp1");
    assertEquals(netlink.hairpin("hp0"), false);
    assertEquals(netlink.hairpin("hp1"), null); // not a bridge port

    netlink.setHairpin("hp0", true);
    assertEquals(netlink.hairpin("hp0"), true);
    assertEquals(findLink("hp0", ns.name)?.linkinfo?.info_slave_data?.hairpin, true);
    const bridgeView = JSON.parse(must("bridge", "-n", ns.name, "-j", "-d", "link", "show"));
    assertEquals(bridgeView.find((p: { ifname: string }) => p.ifname === "hp0")?.hairpin, true);

    netlink.setHairpin("hp0", false);
    assertEquals(netlink.hairpin("hp0"), false);
    assertEquals(findLink("hp0", ns.name)?.linkinfo?.info_slave_data?.hairpin, false);
    assertSystemError(
      () => netlink.setHairpin("hp1", true),
      /^netlink RTM_SETLINK `hp1` hairpin=on( \(.*\))?: E[A-Z]+$/,
    );
  },
});

Deno.test({
  name: "addAddress() and deleteAddress() handle IPv4 and IPv6, and addresses() lists them",
  ...integration,
  fn() {
    using ns = new TestNetns();
    using netlink = Netlink.openIn(ns.fd);
    netlink.createBridge({ name: "br0", up: true });
    netlink.addAddress("br0", "10.77.0.1/24");
    netlink.addAddress("br0", "10.78.0.1/16");
    netlink.addAddress("br0", "fd77::1/64", { nodad: true });
    assertEquals(addressesOf("br0", ns.name).filter((a) => !a.startsWith("fe80")), [
      "10.77.0.1/24",
      "10.78.0.1/16",
      "fd77::1/64",
    ]);
    const brd = ipJson<{ addr_info: { local: string; broadcast?: string }[] }>(
      ns.name,
      "-4",
      "addr",
      "show",
      "dev",
      "br0",
    );
    assertEquals(brd[0]!.addr_info.map((a) => a.broadcast), ["10.77.0.255", "10.78.255.255"]);
    const listed = netlink.addresses({ link: "br0" }).filter((a) => a.scope === 0);
    assertEquals(listed.map((a) => [a.family, a.cidr]), [
      [4, "10.77.0.1/24"],
      [4, "10.78.0.1/16"],
      [6, "fd77::1/64"],
    ]);
    assertEquals(netlink.addresses({ family: 4, link: 1 }).map((a) => a.cidr), []);

    netlink.deleteAddress("br0", "10.78.0.1/16");
    netlink.deleteAddress("br0", "fd77::1/64");
    assertEquals(addressesOf("br0", ns.name).filter((a) => !a.startsWith("fe80")), [
      "10.77.0.1/24",
    ]);
    assertSystemError(
      () => netlink.addAddress("br0", "10.77.0.1/24"),
      /^netlink RTM_NEWADDR `br0` address=10\.77\.0\.1\/24( \(.*\))?: EEXIST$/,
    );
    assertSystemError(
      () => netlink.deleteAddress("br0", "10.99.0.1/24"),
      /^netlink RTM_DELADDR `br0` address=10\.99\.0\.1\/24( \(.*\))?: EADDRNOTAVAIL$/,
    );
  },
});

Deno.test({
  name: "addRoute() adds default and explicit routes, and routes() lists them",
  ...integration,
  fn() {
    using ns = new TestNetns();
    using netlink = Netlink.openIn(ns.fd);
    netlink.createBridge({ name: "br0", up: true });
    netlink.addAddress("br0", "10.77.0.2/24");
    netlink.addAddress("br0", "fd77::2/64", { nodad: true });
    netlink.addDefaultRoute("10.77.0.1", { interface: "br0" });
    netlink.addRoute({ destination: "10.200.0.0/16", gateway: "10.77.0.254" });
    netlink.addRoute({ destination: "10.201.0.0/16", interface: "br0", source: "10.77.0.2" });
    netlink.addDefaultRoute("fd77::1");
    netlink.addRoute({ destination: "fd78::/64", interface: "br0" });

    const v4 = routesOf(ns.name, "-4").map((r) => [r.dst, r.gateway, r.dev, r.prefsrc, r.scope]);
    assertEquals(v4, [
      ["default", "10.77.0.1", "br0", undefined, undefined],
      ["10.77.0.0/24", undefined, "br0", "10.77.0.2", "link"],
      ["10.200.0.0/16", "10.77.0.254", "br0", undefined, undefined],
      ["10.201.0.0/16", undefined, "br0", "10.77.0.2", "link"],
    ]);
    const v6 = routesOf(ns.name, "-6").map((r) => [r.dst, r.gateway ?? null]);
    assert(v6.some(([dst, via]) => dst === "default" && via === "fd77::1"), JSON.stringify(v6));
    assert(v6.some(([dst]) => dst === "fd78::/64"), JSON.stringify(v6));

    const listed = netlink.routes({ family: 4 }).map((r) => [r.destination, r.gateway, r.source]);
    assertEquals(listed, [
      ["default", "10.77.0.1", null],
      ["10.77.0.0/24", null, "10.77.0.2"],
      ["10.200.0.0/16", "10.77.0.254", null],
      ["10.201.0.0/16", null, "10.77.0.2"],
    ]);
    assert(netlink.routes({ family: 6 }).some((r) => r.destination === "default"));
    assert(netlink.routes({ table: "all" }).some((r) => r.table === 255)); // the local table

    netlink.deleteRoute({ destination: "10.200.0.0/16", gateway: "10.77.0.254" });
    assertEquals(routesOf(ns.name).some((r) => r.dst === "10.200.0.0/16"), false);
    assertSystemError(
      () => netlink.addRoute({ destination: "10.202.0.0/16", gateway: "10.99.0.1" }),
      /^netlink RTM_NEWROUTE route dst=10\.202\.0\.0\/16 via=10\.99\.0\.1( \(.*\))?: ENETUNREACH$/,
    );
    assertConfigError(() => netlink.addRoute({ destination: "10.0.0.0/8", gateway: "fd77::1" }), [
      { path: "gateway", message: "Must be an IPv4 address like the rest of the route" },
    ]);
    assertConfigError(() => netlink.addRoute({ source: "" }), [
      { path: "", message: "A route needs a destination, a gateway or a source" },
    ]);
  },
});

Deno.test({
  name: "links() reports 64-bit counters that match `ip -s link`",
  ...integration,
  fn() {
    using ns = new TestNetns();
    using netlink = Netlink.openIn(ns.fd);
    netlink.setUp("lo");
    assert(ping(ns, "127.0.0.1"));
    const ours = netlink.link("lo").stats!;
    const theirs = ipJson<{ stats64: { rx: Record<string, number>; tx: Record<string, number> } }>(
      ns.name,
      "-s",
      "link",
      "show",
      "lo",
    )[0]!.stats64;
    assert(ours.rxPackets >= 2, JSON.stringify(ours));
    assertEquals(
      [ours.rxBytes, ours.rxPackets, ours.txBytes, ours.txPackets, ours.rxDropped, ours.txErrors],
      [
        theirs.rx.bytes,
        theirs.rx.packets,
        theirs.tx.bytes,
        theirs.tx.packets,
        theirs.rx.dropped,
        theirs.tx.errors,
      ],
    );
  },
});

Deno.test({
  name: "a refused request names the request, its target, the kernel's reason and the errno",
  ...integration,
  fn() {
    using ns = new TestNetns();
    using netlink = Netlink.openIn(ns.fd);
    netlink.createVeth("vx0", "vx1");
    assertSystemError(
      () => netlink.createVeth("vx0", "vx2"),
      "netlink RTM_NEWLINK veth `vx0`: EEXIST",
    );
    assertSystemError(() => netlink.deleteLink("nope0"), "netlink RTM_DELLINK `nope0`: ENODEV");
    assertSystemError(() => netlink.link("nope0"), "netlink RTM_GETLINK `nope0`: ENODEV");
    assertEquals(netlink.findLink("nope0"), null);
    assertSystemError(() => netlink.setUp("nope0"), "netlink RTM_SETLINK `nope0` up: ENODEV");
    // The kernel explains some refusals (extended ACK).
    const error = assertSystemError(
      () => netlink.setMtu("vx0", 10),
      /^netlink RTM_SETLINK `vx0` mtu=10 \(.+\): EINVAL$/,
    );
    assertEquals(error.op, "netlink RTM_SETLINK");
    assertEquals(error.errnoName, "EINVAL");
    assertSystemError(
      () => netlink.setMaster("vx0", "vx1"),
      /^netlink RTM_SETLINK `vx0` master=index:\d+.*: E[A-Z]+$/,
    );
    assertConfigError(() => netlink.addAddress("vx0", "10.0.0.300/24"), [
      {
        path: "",
        message:
          "`10.0.0.300/24` is not an IP address with a prefix length: `10.0.0.300` has a part `300` above 255",
      },
    ]);
    assertConfigError(() => netlink.setMac("vx0", "ff:ff:ff:ff:ff:ff"), [
      {
        path: "",
        message: "`ff:ff:ff:ff:ff:ff` is a multicast MAC address; an interface needs a unicast one",
      },
    ]);
    netlink.close();
    assertSystemError(() => netlink.links(), "netlink RTM_GETLINK links (socket closed): EBADF");
  },
});

// ---- the strategies ------------------------------------------------------

Deno.test({
  name: "setupVeth() joins two namespaces on a test bridge and they ping each other and the bridge",
  ...integration,
  fn() {
    using bridge = new TestBridge("10.88.0.1/24");
    must("ip", "addr", "add", "fd88::1/64", "dev", bridge.name, "nodad");
    using a = new TestNetns();
    using b = new TestNetns();
    const hostA = uniqueName("nsv");
    const hostB = uniqueName("nsv");
    try {
      // b first, taking the bridge's MTU (1500); a then asks for 1400, which
      // also lowers the bridge's (a bridge's MTU is its smallest port's).
      setupVeth(
        veth({
          bridge: bridge.name,
          host_interface_name: hostB,
          name: "net1",
          address: "10.88.0.3/24",
        }),
        { fd: b.fd },
      );
      const made = setupVeth(
        veth({
          bridge: bridge.name,
          host_interface_name: hostA,
          mac_address: "02:42:0a:58:00:02",
          address: "10.88.0.2/24",
          gateway: "10.88.0.1",
          ipv6_address: "fd88::2/64",
          ipv6_gateway: "fd88::1",
          mtu: 1400,
          txqueuelen: 321,
          hairpin_mode: true,
        }),
        { fd: a.fd },
        { field: "networks[0]" },
      );
      assertEquals(made, {
        hostInterfaceName: hostA,
        hostInterfaceIndex: findLink(hostA)!.ifindex,
        containerInterfaceName: "eth0",
        bridge: bridge.name,
      });
      assertEquals(threadNetns(), hostNetns);

      // The host side: on the bridge, up, with the MTU, queue length and hairpin asked for.
      const host = findLink(hostA)!;
      assertEquals(
        [host.master, host.mtu, host.txqlen, host.flags.includes("UP"), host.linkinfo?.info_kind],
        [bridge.name, 1400, 321, true, "veth"],
      );
      assertEquals(host.linkinfo?.info_slave_data?.hairpin, true);
      const ports = JSON.parse(must("bridge", "-j", "-d", "link", "show", "dev", hostA));
      assertEquals(ports[0]?.hairpin, true);
      assertEquals(findLink(hostB)?.linkinfo?.info_slave_data?.hairpin, false);
      assertEquals(bridge.ports().sort(), [hostA, hostB].sort());

      // Inside: renamed, MAC, MTU, addresses, up, default routes; no temporary name left.
      const inside = findLink("eth0", a.name)!;
      assertEquals(
        [inside.address, inside.mtu, inside.flags.includes("UP")],
        ["02:42:0a:58:00:02", 1400, true],
      );
      assertEquals(links(a.name).map((l) => l.ifname), ["lo", "eth0"]);
      assertEquals(addressesOf("eth0", a.name).filter((x) => !x.startsWith("fe80")), [
        "10.88.0.2/24",
        "fd88::2/64",
      ]);
      assertEquals(routesOf(a.name).find((r) => r.dst === "default")?.gateway, "10.88.0.1");
      assertEquals(routesOf(a.name, "-6").find((r) => r.dst === "default")?.gateway, "fd88::1");
      assertEquals(findLink("net1", b.name)?.mtu, 1500); // the bridge's

      assert(ping(a, "10.88.0.3"), "a cannot ping b");
      assert(ping(b, "10.88.0.2"), "b cannot ping a");
      assert(ping(a, "10.88.0.1"), "a cannot ping the bridge");
      assert(ping(a, "fd88::1"), "a cannot ping the bridge over IPv6");
    } finally {
      deleteHostInterface(hostA);
      deleteHostInterface(hostB);
    }
    assertEquals(bridge.ports(), []);
    assertEquals(links(a.name).map((l) => l.ifname), ["lo"]);
  },
});

Deno.test({
  name:
    "setupNetworks() sets up loopback, a veth with IPv6 and the config's routes in a process's namespace",
  ...integration,
  async fn() {
    using bridge = new TestBridge("10.89.0.1/24");
    await using holder = new NetnsProcess();
    const made = setupNetworks(
      [
        { ...veth(), type: "loopback" },
        veth({
          bridge: bridge.name,
          address: "10.89.0.2/24",
          gateway: "10.89.0.1",
          ipv6_address: "fd89::2/64",
        }),
      ],
      [
        route({ destination: "10.210.0.0/16", gateway: "10.89.0.254" }),
        route({ destination: "10.211.0.0/16", interface_name: "eth0", source: "10.89.0.2" }),
        route({ destination: "fd90::/64", interface_name: "eth0" }),
      ],
      { pid: holder.pid },
    );
    madeVeths.add(made[0]!.hostInterfaceName);
    assertEquals(made.length, 1);
    assertMatch(made[0]!.hostInterfaceName, /^veth[0-9a-f]{7}$/);
    assertEquals(made[0]!.containerInterfaceName, "eth0");
    assert(findLink("lo", holder.pid)!.flags.includes("UP"));
    assertEquals(
      routesOf(holder.pid).map((r) => [r.dst, r.gateway, r.prefsrc]),
      [
        ["default", "10.89.0.1", undefined],
        ["10.89.0.0/24", undefined, "10.89.0.2"],
        ["10.210.0.0/16", "10.89.0.254", undefined],
        ["10.211.0.0/16", undefined, "10.89.0.2"],
      ],
    );
    assert(routesOf(holder.pid, "-6").some((r) => r.dst === "fd90::/64" && r.dev === "eth0"));
    assertEquals(bridge.ports(), [made[0]!.hostInterfaceName]);
    // Stats through the pid: the container's own interface.
    assertEquals(interfaceStats({ pid: holder.pid }).map((s) => s.name), ["eth0"]);
    // A name whose index is not the one recorded is another link's: left alone.
    const { hostInterfaceName: name, hostInterfaceIndex: index } = made[0]!;
    assertEquals(findLink(name)?.ifindex, index);
    assertEquals(deleteHostInterface(name, { index: index + 100000 }), false);
    assert(findLink(name), "a link of another index was deleted");
    assertEquals(deleteHostInterface(name, { index }), true);
    assertEquals(links(holder.pid).map((l) => l.ifname), ["lo"]);
  },
});

Deno.test({
  name: "setupVeth() without names or MTU uses eth0, a random veth name and the bridge's MTU",
  ...integration,
  fn() {
    using bridge = new TestBridge();
    must("ip", "link", "set", bridge.name, "mtu", "1450");
    using ns = new TestNetns();
    const made = setupVeth(veth({ bridge: bridge.name, name: "" }), { fd: ns.fd });
    madeVeths.add(made.hostInterfaceName);
    try {
      assertMatch(made.hostInterfaceName, /^veth[0-9a-f]{7}$/);
      assertEquals(made.containerInterfaceName, "eth0");
      assertEquals(findLink(made.hostInterfaceName)?.mtu, 1450);
      assertEquals(findLink("eth0", ns.name)?.mtu, 1450);
      assertEquals(addressesOf("eth0", ns.name).filter((x) => !x.startsWith("fe80")), []);
    } finally {
      deleteHostInterface(made.hostInterfaceName);
    }
  },
});

Deno.test({
  name:
    "setupVeth() refuses a missing bridge or a link that is not one, naming networks[i].bridge, and makes nothing",
  ...integration,
  fn() {
    using ns = new TestNetns();
    const before = hostVeths();
    const missing = `nsinit-tbr${Deno.pid % 1000}x`;
    assertConfigError(
      () =>
        setupVeth(veth({ bridge: missing, address: "10.0.0.2/24" }), { fd: ns.fd }, {
          field: "networks[1]",
        }),
      [{ path: "networks[1].bridge", message: `The host bridge \`${missing}\` does not exist` }],
    );
    assertConfigError(
      () => setupVeth(veth({ bridge: "lo" }), { fd: ns.fd }, { field: "networks[0]" }),
      [{ path: "networks[0].bridge", message: "The host bridge `lo` is a device, not a bridge" }],
    );
    assertEquals(hostVeths(), before);
    assertEquals(links(ns.name).map((l) => l.ifname), ["lo"]);
  },
});

Deno.test({
  name: "setupVeth() refuses a bad address, MAC or name before making anything",
  ...integration,
  fn() {
    using bridge = new TestBridge();
    using ns = new TestNetns();
    const before = hostVeths();
    assertConfigError(
      () =>
        setupVeth(
          veth({
            bridge: bridge.name,
            address: "10.0.0.256/24",
            ipv6_address: "fd00::1",
            mac_address: "zz:00:00:00:00:01",
            host_interface_name: "a-name-too-long-for-linux",
          }),
          { fd: ns.fd },
          { field: "networks[0]" },
        ),
      [
        {
          path: "networks[0].host_interface_name",
          message: "`a-name-too-long-for-linux` is 25 bytes long; an interface name has at most 15",
        },
        {
          path: "networks[0].mac_address",
          message: "`zz:00:00:00:00:01` is not a MAC address (six hex pairs separated by colons)",
        },
        {
          path: "networks[0].address",
          message:
            "`10.0.0.256/24` is not an IPv4 address with a prefix length: `10.0.0.256` has a part `256` above 255",
        },
        {
          path: "networks[0].ipv6_address",
          message: "`fd00::1` is not an IPv6 address with a prefix length: it has no `/`",
        },
      ],
    );
    assertEquals(hostVeths(), before);
    assertEquals(bridge.ports(), []);
    assertEquals(links(ns.name).map((l) => l.ifname), ["lo"]);
  },
});

Deno.test({
  name: "setupVeth() with a host name already taken names the field and leaves that link alone",
  ...integration,
  fn() {
    using bridge = new TestBridge();
    using ns = new TestNetns();
    const taken = uniqueName("nsv");
    must("ip", "link", "add", taken, "type", "bridge");
    try {
      const before = hostVeths();
      let error: unknown;
      try {
        setupVeth(veth({ bridge: bridge.name, host_interface_name: taken }), { fd: ns.fd }, {
          field: "networks[1]",
        });
      } catch (caught) {
        error = caught;
      }
      assert(error instanceof ConfigError, String(error));
      assertEquals(error.issues.map((i) => i.path), ["networks[1].host_interface_name"]);
      assertMatch(error.message, new RegExp(`already has an interface \`${taken}\``));
      assert(error.cause instanceof SystemError && error.cause.errnoName === "EEXIST");
      assertEquals(findLink(taken)?.linkinfo?.info_kind, "bridge");
      assertEquals(hostVeths(), before);
      assertEquals(links(ns.name).map((l) => l.ifname), ["lo"]);
    } finally {
      run("ip", "link", "del", taken);
    }
  },
});

Deno.test({
  name: "setupVeth() that fails inside the namespace deletes the pair, leaving no link on the host",
  ...integration,
  fn() {
    using bridge = new TestBridge("10.90.0.1/24");
    using ns = new TestNetns();
    must("ip", "-n", ns.name, "link", "add", "eth0", "type", "bridge");
    const before = hostVeths();
    const host = uniqueName("nsv");
    const error = assertSystemError(
      () => setupVeth(veth({ bridge: bridge.name, host_interface_name: host }), { fd: ns.fd }),
      /^netlink RTM_SETLINK `veth[0-9a-f]{7}` name=eth0 up: EEXIST$/,
    );
    assertEquals(error.cleanupErrors, []);
    assertEquals(hostVeths(), before);
    assertEquals(bridge.ports(), []);
    assertEquals(links(ns.name).map((l) => l.ifname), ["lo", "eth0"]);

    // A gateway the kernel cannot reach fails late, with the same cleanup.
    using other = new TestNetns();
    assertSystemError(
      () =>
        setupVeth(
          veth({
            bridge: bridge.name,
            host_interface_name: host,
            address: "10.90.0.2/24",
            gateway: "10.91.0.1",
          }),
          { fd: other.fd },
        ),
      /^netlink RTM_NEWROUTE route dst=default via=10\.91\.0\.1 dev=`eth0`( \(.*\))?: ENETUNREACH$/,
    );
    assertEquals(hostVeths(), before);
    assertEquals(links(other.name).map((l) => l.ifname), ["lo"]);
  },
});

Deno.test({
  name: "setupNetworks() that fails on its second veth deletes the first",
  ...integration,
  fn() {
    using bridge = new TestBridge();
    using ns = new TestNetns();
    const before = hostVeths();
    const first = uniqueName("nsv");
    assertSystemError(
      () =>
        setupNetworks(
          [
            veth({ bridge: bridge.name, host_interface_name: first }),
            veth({ bridge: bridge.name, name: "eth0" }), // the first took eth0
          ],
          [],
          { fd: ns.fd },
        ),
      /^netlink RTM_SETLINK `veth[0-9a-f]{7}` name=eth0 up: EEXIST$/,
    );
    assertEquals(hostVeths(), before);
    assertEquals(links(ns.name).map((l) => l.ifname), ["lo"]);
    assertConfigError(
      () =>
        setupNetworks([veth({ bridge: bridge.name })], [route({ gateway: "x" })], { fd: ns.fd }),
      [{
        path: "routes[0].gateway",
        message: "`x` is not an IP address: it has 1 dot-separated parts, needs 4",
      }],
    );
    assertEquals(hostVeths(), before);
  },
});

Deno.test({
  name:
    "deleteHostInterface() deletes the pair once, then finds it gone; a dead namespace takes the pair with it",
  ...integration,
  async fn() {
    using bridge = new TestBridge();
    const name = uniqueName("nsv");
    {
      using ns = new TestNetns();
      setupVeth(veth({ bridge: bridge.name, host_interface_name: name }), { fd: ns.fd });
      assertEquals(deleteHostInterface(name), true);
      assertEquals(links(ns.name).map((l) => l.ifname), ["lo"]);
      assertEquals(deleteHostInterface(name), false);
    }
    {
      const holder = new NetnsProcess();
      setupVeth(veth({ bridge: bridge.name, host_interface_name: name }), { pid: holder.pid });
      assert(findLink(name) !== undefined);
      await holder[Symbol.asyncDispose]();
      // The namespace is cleaned up asynchronously after its last process dies.
      for (let i = 0; i < 200 && findLink(name) !== undefined; i++) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      assertEquals(findLink(name), undefined);
      assertEquals(deleteHostInterface(name), false);
    }
    // A name that is not a veth is left alone.
    assertEquals(deleteHostInterface(bridge.name), false);
    assertEquals(findLink(bridge.name)?.linkinfo?.info_kind, "bridge");
  },
});

Deno.test({
  name: "interfaceStats() reads the container's own view: its rx is what it received",
  ...integration,
  fn() {
    using bridge = new TestBridge("10.92.0.1/24");
    using ns = new TestNetns();
    const host = uniqueName("nsv");
    try {
      setupVeth(veth({ bridge: bridge.name, host_interface_name: host, address: "10.92.0.2/24" }), {
        fd: ns.fd,
      });
      // Sends big echo requests so the direction is clear in the byte counts.
      assertEquals(
        ns.exec("busybox", "ping", "-c3", "-i0.2", "-s1000", "-W2", "10.92.0.1").code,
        0,
      );
      const [stats] = interfaceStats({ fd: ns.fd }, ["eth0", "missing0"]);
      assertEquals(interfaceStats({ fd: ns.fd }).map((s) => s.name), ["eth0"]);
      assert(stats !== undefined);
      assertEquals(stats.name, "eth0");
      assert(stats.tx_packets >= 3 && stats.rx_packets >= 3, JSON.stringify(stats));
      assert(stats.tx_bytes >= 3000 && stats.rx_bytes >= 3000, JSON.stringify(stats));
      // The host end counts the same packets the other way round, and `ip` the
      // same as we do. Unsolicited traffic (IPv6 neighbour discovery) may pass
      // between the reads, so each figure must lie between ours before and after.
      using netlink = Netlink.open();
      const hostStats = netlink.link(host).stats!;
      const theirs = ipJson<{ stats64: { rx: { bytes: number }; tx: { bytes: number } } }>(
        ns.name,
        "-s",
        "link",
        "show",
        "eth0",
      )[0]!.stats64;
      const [after] = interfaceStats({ fd: ns.fd }, ["eth0"]);
      const within = (what: string, before: number, seen: number, later: number) =>
        assert(before <= seen && seen <= later, `${what}: ${before} <= ${seen} <= ${later}`);
      within("host rx packets", stats.tx_packets, hostStats.rxPackets, after!.tx_packets);
      within("host tx packets", stats.rx_packets, hostStats.txPackets, after!.rx_packets);
      within("host rx bytes", stats.tx_bytes, hostStats.rxBytes, after!.tx_bytes);
      within("host tx bytes", stats.rx_bytes, hostStats.txBytes, after!.rx_bytes);
      within("ip rx bytes", stats.rx_bytes, theirs.rx.bytes, after!.rx_bytes);
      within("ip tx bytes", stats.tx_bytes, theirs.tx.bytes, after!.tx_bytes);
    } finally {
      deleteHostInterface(host);
    }
  },
});

Deno.test({
  name: "the time to set up and to delete one veth on a bridge is measured (median of 50, printed)",
  ...integration,
  fn() {
    using bridge = new TestBridge("10.93.0.1/24");
    using ns = new TestNetns();
    const rounds = 50;
    const warmup = 5;
    const network = (i: number) =>
      veth({
        bridge: bridge.name,
        name: `e${i}`,
        address: `10.93.${1 + i}.2/24`,
        gateway: i === 0 ? "10.93.1.1" : "",
        host_interface_name: `nsv${String(Deno.pid % 1000).padStart(3, "0")}m${i}`,
      });
    const time = (fn: () => unknown) => {
      const start = performance.now();
      fn();
      return (performance.now() - start) * 1000;
    };
    const loopback: number[] = [];
    const setup: number[] = [];
    const teardown: number[] = [];
    try {
      // All set up first, then all deleted: a deletion leaves the kernel busy
      // for a while (RCU callbacks), which would slow the next setup.
      for (let i = 0; i < warmup + rounds; i++) {
        const lo = time(() => setupLoopback({ fd: ns.fd }));
        const up = time(() => setupVeth(network(i), { fd: ns.fd }));
        if (i >= warmup) {
          loopback.push(lo);
          setup.push(up);
        }
      }
      assertEquals(bridge.ports().length, warmup + rounds);
    } finally {
      for (let i = 0; i < warmup + rounds; i++) {
        const down = time(() => deleteHostInterface(network(i).host_interface_name));
        if (i >= warmup) teardown.push(down);
      }
    }
    const report = {
      loopbackUs: Math.round(median(loopback)),
      vethSetupUs: Math.round(median(setup)),
      vethDeleteUs: Math.round(median(teardown)),
    };
    console.log(`median of ${rounds}: ${JSON.stringify(report)}`);
    assert(report.vethSetupUs < 20_000, JSON.stringify(report)); // sanity only: this VM drifts
    assertEquals(bridge.ports(), []);
    assertEquals(links(ns.name).map((l) => l.ifname), ["lo"]);
  },
});

Deno.test({
  name: "the netlink tests leave no namespace, bridge or veth of theirs behind",
  ...integration,
  fn() {
    assertEquals(ownLeftovers(), { netns: [], bridges: [] });
    const veths = hostVeths();
    const tag = String(Deno.pid % 1000).padStart(3, "0");
    assertEquals(veths.filter((name) => name.startsWith(`nsv${tag}`) || madeVeths.has(name)), []);
    assertEquals(threadNetns(), hostNetns);
    const named = ipJson<IpLink>(null, "link", "show").map((l) => l.ifname);
    assertEquals(named.filter((name) => name.startsWith(`nsv${tag}`)), []);
  },
});
