/**
 * The problems of a config's `networks` and `routes` that can be seen
 * without the host: names, MAC, addresses, gateways, MTU and queue length,
 * each naming its field (`networks[1].address`). Pure: config validation
 * uses these too, so a bad value is refused before anything is created.
 *
 * @module
 */
import type { Network, Route } from "../config/types.ts";
import type { ConfigIssue } from "../errors.ts";
import { cidrProblem, interfaceNameProblem, ipProblem, macProblem } from "./address.ts";

/** `key` under the config path `field` (`networks[1]` + `bridge`), or `key` alone. */
export function fieldPath(field: string, key: string): string {
  return field ? `${field}.${key}` : key;
}

/**
 * The problems of a veth network entry that can be seen without the host:
 * names, MAC, addresses and gateways, MTU and queue length. `field` is its
 * config path, such as `networks[1]`. Config validation may call this.
 */
export function vethIssues(network: Network, field = ""): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const add = (key: string, problem: string | null) => {
    if (problem !== null) issues.push({ path: fieldPath(field, key), message: problem });
  };
  if (network.bridge === "") add("bridge", "Must name the host bridge the veth joins");
  else add("bridge", interfaceNameProblem(network.bridge));
  if (network.name !== "") add("name", interfaceNameProblem(network.name));
  if (network.host_interface_name !== "") {
    add("host_interface_name", interfaceNameProblem(network.host_interface_name));
  }
  if (network.mac_address !== "") add("mac_address", macProblem(network.mac_address));
  if (network.address !== "") add("address", cidrProblem(network.address, { family: 4 }));
  if (network.ipv6_address !== "") {
    add("ipv6_address", cidrProblem(network.ipv6_address, { family: 6 }));
  }
  if (network.gateway !== "") add("gateway", ipProblem(network.gateway, 4));
  if (network.ipv6_gateway !== "") add("ipv6_gateway", ipProblem(network.ipv6_gateway, 6));
  if (!Number.isInteger(network.mtu) || network.mtu < 0 || network.mtu > 0xffff) {
    add("mtu", `Must be 0 (the bridge's) or an MTU up to 65535, got ${network.mtu}`);
  }
  if (!Number.isInteger(network.txqueuelen) || network.txqueuelen < 0) {
    add("txqueuelen", `Must be 0 (the default) or a queue length, got ${network.txqueuelen}`);
  }
  return issues;
}

/** The problems of a route entry (`field` such as `routes[0]`). Config validation may call this. */
export function routeIssues(route: Route, field = ""): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const add = (key: string, problem: string | null) => {
    if (problem !== null) issues.push({ path: fieldPath(field, key), message: problem });
  };
  if (route.destination === "" && route.gateway === "") {
    issues.push({ path: field, message: "A route needs a destination or a gateway" });
  }
  if (route.destination !== "") {
    add("destination", cidrProblem(route.destination, { network: true }));
  }
  if (route.gateway !== "") add("gateway", ipProblem(route.gateway));
  if (route.source !== "") add("source", ipProblem(route.source));
  if (route.interface_name !== "") {
    add("interface_name", interfaceNameProblem(route.interface_name));
  }
  if (issues.length === 0) {
    const families = [route.destination.split("/")[0]!, route.gateway, route.source]
      .filter((text) => text !== "")
      .map((text) => text.includes(":") ? 6 : 4);
    if (new Set(families).size > 1) {
      issues.push({ path: field, message: "Mixes IPv4 and IPv6 addresses" });
    }
  }
  return issues;
}

/** Every problem of the networks and routes, by field path. */
export function networkIssues(
  networks: readonly Network[],
  routes: readonly Route[] = [],
): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  networks.forEach((network, i) => {
    const field = `networks[${i}]`;
    if (network.type === "veth") issues.push(...vethIssues(network, field));
    else if (network.type !== "loopback") {
      issues.push({
        path: `${field}.type`,
        message: `Unknown network type \`${network.type}\` (loopback or veth)`,
      });
    }
  });
  routes.forEach((route, i) => issues.push(...routeIssues(route, `routes[${i}]`)));
  return issues;
}
