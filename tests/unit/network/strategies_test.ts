import { assertEquals, assertMatch } from "../../_assert.ts";
import {
  networkIssues,
  randomInterfaceName,
  routeIssues,
  vethIssues,
} from "../../../lib/network/strategies.ts";
import type { Network, Route } from "../../../lib/config/mod.ts";

function veth(overrides: Partial<Network> = {}): Network {
  return {
    type: "veth",
    name: "eth0",
    bridge: "docker0",
    mac_address: "",
    address: "172.17.0.101/16",
    gateway: "172.17.42.1",
    ipv6_address: "",
    ipv6_gateway: "",
    mtu: 1500,
    txqueuelen: 0,
    host_interface_name: "",
    hairpin_mode: false,
    ...overrides,
  };
}

function route(overrides: Partial<Route> = {}): Route {
  return { destination: "", source: "", gateway: "", interface_name: "", ...overrides };
}

Deno.test("randomInterfaceName() is veth and 7 hex digits, as the seed named host ends", () => {
  const names = new Set(Array.from({ length: 20 }, () => randomInterfaceName()));
  for (const name of names) assertMatch(name, /^veth[0-9a-f]{7}$/);
  assertEquals(names.size > 1, true);
});

Deno.test("vethIssues() accepts the seed's attach_to_bridge network", () => {
  assertEquals(vethIssues(veth({ host_interface_name: "vethnsinit" }), "networks[1]"), []);
});

Deno.test("vethIssues() names every bad field with its path", () => {
  const issues = vethIssues(
    veth({
      bridge: "",
      name: "a/b",
      host_interface_name: "veth-name-too-long",
      mac_address: "01:00:5e:00:00:01",
      address: "172.17.0.101",
      gateway: "fd00::1",
      ipv6_address: "10.0.0.1/8",
      ipv6_gateway: "10.0.0.1",
      mtu: -1,
      txqueuelen: 1.5,
    }),
    "networks[1]",
  );
  assertEquals(issues.map((i) => i.path), [
    "networks[1].bridge",
    "networks[1].name",
    "networks[1].host_interface_name",
    "networks[1].mac_address",
    "networks[1].address",
    "networks[1].ipv6_address",
    "networks[1].gateway",
    "networks[1].ipv6_gateway",
    "networks[1].mtu",
    "networks[1].txqueuelen",
  ]);
  assertEquals(
    issues[4]!.message,
    "`172.17.0.101` is not an IPv4 address with a prefix length: it has no `/`",
  );
});

Deno.test("routeIssues() needs a destination or a gateway and one family", () => {
  assertEquals(
    routeIssues(route({ destination: "10.1.0.0/16", interface_name: "eth0" }), "routes[0]"),
    [],
  );
  assertEquals(routeIssues(route({ gateway: "fd00::1" })), []);
  assertEquals(routeIssues(route({ source: "10.0.0.2" }), "routes[0]"), [
    { path: "routes[0]", message: "A route needs a destination or a gateway" },
  ]);
  assertEquals(
    routeIssues(route({ destination: "10.1.0.0/16", gateway: "fd00::1" }), "routes[2]"),
    [
      { path: "routes[2]", message: "Mixes IPv4 and IPv6 addresses" },
    ],
  );
  assertEquals(routeIssues(route({ destination: "10.1.0.1/16" }), "routes[0]"), [
    {
      path: "routes[0].destination",
      message: "`10.1.0.1/16` has host bits set: the network is `10.1.0.0/16`",
    },
  ]);
});

Deno.test("networkIssues() checks veths and routes and refuses unknown types", () => {
  const issues = networkIssues(
    [{ ...veth(), type: "loopback" }, veth({ bridge: "" }), {
      ...veth(),
      type: "macvlan" as "veth",
    }],
    [route({ gateway: "10.0.0.300" })],
  );
  assertEquals(issues.map((i) => i.path), [
    "networks[1].bridge",
    "networks[2].type",
    "routes[0].gateway",
  ]);
  assertEquals(issues[1]!.message, "Unknown network type `macvlan` (loopback or veth)");
});
