/**
 * IP addresses, CIDR prefixes, MAC addresses and interface names: parsed and
 * validated here, before anything is sent to the kernel, so that config
 * validation and the network strategies give the same clear messages.
 *
 * The `parse*` functions throw a {@link ConfigError} whose issue carries the
 * field path given in `options.field` (such as `networks[0].address`); the
 * `*Problem` functions return the message instead, for validators that
 * collect issues.
 *
 * Accepted: IPv4 as four decimal parts 0-255 without leading zeros (`010`
 * would mean 8 to some parsers and 10 to others); IPv6 as eight groups of 1-4
 * hex digits with at most one `::` and an optional dotted IPv4 tail
 * (`::ffff:1.2.3.4`); no zone (`%eth0`); a prefix length in decimal without
 * leading zeros, up to 32 or 128.
 *
 * @module
 */
import { ConfigError } from "../errors.ts";
import { IFNAMSIZ_MAX } from "./_constants.ts";

/** An IP address: its family and its bytes in network order (4 or 16). */
export interface IpAddress {
  /** 4 or 6. */
  family: 4 | 6;
  /** The address in network byte order: 4 bytes for IPv4, 16 for IPv6. */
  bytes: Uint8Array;
}

/** An address with a prefix length, as `10.0.0.2/24` or `fd00::2/64`. */
export interface Cidr extends IpAddress {
  /** The prefix length: 0-32 for IPv4, 0-128 for IPv6. */
  prefix: number;
}

/** Options of the parsers. */
export interface ParseOptions {
  /** The config field the text came from, for the error's path (default: none). */
  field?: string;
  /** Accept only this family. */
  family?: 4 | 6;
}

/** Options of {@link parseCidr}. */
export interface CidrOptions extends ParseOptions {
  /** Require the host bits to be zero, as in a route's destination (`10.0.0.0/8`). */
  network?: boolean;
}

type Parsed<T> = T | { problem: string };

const DECIMAL = /^(0|[1-9][0-9]{0,2})$/;
const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;

function show(text: string): string {
  return `\`${text}\``;
}

function familyName(family?: 4 | 6): string {
  return family === 4 ? "an IPv4 address" : family === 6 ? "an IPv6 address" : "an IP address";
}

function parseV4(text: string): Uint8Array | string {
  const parts = text.split(".");
  if (parts.length !== 4) return `has ${parts.length} dot-separated parts, needs 4`;
  const bytes = new Uint8Array(4);
  for (const [i, part] of parts.entries()) {
    if (!DECIMAL.test(part)) {
      return /^0[0-9]+$/.test(part)
        ? `has a part ${show(part)} with a leading zero`
        : `has a part ${show(part)} that is not a decimal number`;
    }
    const value = Number(part);
    if (value > 255) return `has a part ${show(part)} above 255`;
    bytes[i] = value;
  }
  return bytes;
}

function parseGroups(text: string, allowV4Tail: boolean): number[] | string {
  if (text === "") return [];
  const parts = text.split(":");
  const groups: number[] = [];
  for (const [i, part] of parts.entries()) {
    if (allowV4Tail && i === parts.length - 1 && part.includes(".")) {
      const v4 = parseV4(part);
      if (typeof v4 === "string") return `has an IPv4 tail ${show(part)} that ${v4}`;
      groups.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
    } else if (HEX_GROUP.test(part)) {
      groups.push(parseInt(part, 16));
    } else {
      return part === ""
        ? "has an empty group"
        : `has a group ${show(part)} that is not 1-4 hex digits`;
    }
  }
  return groups;
}

function parseV6(text: string): Uint8Array | string {
  if (text.includes("%")) return "has a zone, which is not allowed here";
  const halves = text.split("::");
  if (halves.length > 2) return "has more than one `::`";
  let groups: number[];
  if (halves.length === 2) {
    const head = parseGroups(halves[0]!, false);
    if (typeof head === "string") return head;
    const tail = parseGroups(halves[1]!, true);
    if (typeof tail === "string") return tail;
    if (head.length + tail.length > 7) return "has too many groups for `::`";
    groups = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  } else {
    const all = parseGroups(text, true);
    if (typeof all === "string") return all;
    if (all.length !== 8) return `has ${all.length} groups, needs 8 (or \`::\`)`;
    groups = all;
  }
  const bytes = new Uint8Array(16);
  groups.forEach((group, i) => {
    bytes[2 * i] = group >> 8;
    bytes[2 * i + 1] = group & 0xff;
  });
  return bytes;
}

/** The address, or the reason it is not one (a phrase completing "it ..."). */
function ipOrReason(text: string, family?: 4 | 6): IpAddress | string {
  const isV6 = text.includes(":");
  if (family === 4 && isV6) return "is an IPv6 address";
  if (family === 6 && !isV6) return "has no `:`";
  const bytes = isV6 ? parseV6(text) : parseV4(text);
  return typeof bytes === "string" ? bytes : { family: isV6 ? 6 : 4, bytes };
}

function tryParseIp(text: string, family?: 4 | 6): Parsed<IpAddress> {
  const wanted = familyName(family);
  if (typeof text !== "string" || text === "") return { problem: `Must be ${wanted}, got ""` };
  const address = ipOrReason(text, family);
  if (typeof address === "string") {
    return { problem: `${show(text)} is not ${wanted}: it ${address}` };
  }
  return address;
}

function tryParseCidr(text: string, options: CidrOptions): Parsed<Cidr> {
  const wanted = `${familyName(options.family)} with a prefix length`;
  if (typeof text !== "string" || text === "") return { problem: `Must be ${wanted}, got ""` };
  const slash = text.indexOf("/");
  if (slash < 0) return { problem: `${show(text)} is not ${wanted}: it has no \`/\`` };
  const addressText = text.slice(0, slash);
  const address = ipOrReason(addressText, options.family);
  if (typeof address === "string") {
    return { problem: `${show(text)} is not ${wanted}: ${show(addressText)} ${address}` };
  }
  const prefixText = text.slice(slash + 1);
  const max = address.family === 4 ? 32 : 128;
  if (!DECIMAL.test(prefixText) || Number(prefixText) > max) {
    return {
      problem: `${show(text)} is not ${wanted}: the prefix length ${
        show(prefixText)
      } is not a number from 0 to ${max}`,
    };
  }
  const prefix = Number(prefixText);
  if (options.network && !hostBitsZero(address.bytes, prefix)) {
    const network = formatCidr({ ...address, bytes: maskBytes(address.bytes, prefix), prefix });
    return { problem: `${show(text)} has host bits set: the network is ${show(network)}` };
  }
  return { ...address, prefix };
}

function fail(field: string | undefined, problem: string): never {
  throw new ConfigError([{ path: field ?? "", message: problem }]);
}

/**
 * Parses an IPv4 or IPv6 address.
 *
 * @param text the address, such as `10.0.0.1`, `fd00::1` or `::ffff:1.2.3.4`
 * @param options `field` for the error's path, `family` to accept only one family
 * @returns the family and the address bytes in network order
 * @throws {ConfigError} when the text is not an address (of that family)
 */
export function parseIp(text: string, options: ParseOptions = {}): IpAddress {
  const parsed = tryParseIp(text, options.family);
  if ("problem" in parsed) fail(options.field, parsed.problem);
  return parsed;
}

/**
 * Parses an address with a prefix length, such as `172.17.0.101/16` or
 * `fd00::2/64`.
 *
 * @param text the CIDR text
 * @param options `field` for the error's path, `family` to accept only one
 *   family, `network` to require zero host bits
 * @returns the family, the address bytes in network order and the prefix length
 * @throws {ConfigError} when the text is not such an address
 */
export function parseCidr(text: string, options: CidrOptions = {}): Cidr {
  const parsed = tryParseCidr(text, options);
  if ("problem" in parsed) fail(options.field, parsed.problem);
  return parsed;
}

/** What is wrong with `text` as an IP address (of `family`), or null when it is one. */
export function ipProblem(text: string, family?: 4 | 6): string | null {
  const parsed = tryParseIp(text, family);
  return "problem" in parsed ? parsed.problem : null;
}

/** What is wrong with `text` as a CIDR address, or null when it is one. */
export function cidrProblem(text: string, options: Omit<CidrOptions, "field"> = {}): string | null {
  const parsed = tryParseCidr(text, options);
  return "problem" in parsed ? parsed.problem : null;
}

function hostBitsZero(bytes: Uint8Array, prefix: number): boolean {
  const masked = maskBytes(bytes, prefix);
  return masked.every((b, i) => b === bytes[i]);
}

/** The address with every bit after the first `prefix` cleared. */
export function maskBytes(bytes: Uint8Array, prefix: number): Uint8Array {
  const out = new Uint8Array(bytes);
  for (let i = 0; i < out.length; i++) {
    const keep = Math.max(0, Math.min(8, prefix - 8 * i));
    out[i] = out[i]! & ((0xff << (8 - keep)) & 0xff);
  }
  return out;
}

/**
 * Formats address bytes: dotted IPv4, or IPv6 in the RFC 5952 form (lower
 * case, the longest run of two or more zero groups as `::`, IPv4-mapped
 * addresses as `::ffff:a.b.c.d`).
 */
export function formatIp(bytes: Uint8Array): string {
  if (bytes.length === 4) return Array.from(bytes).join(".");
  if (bytes.length !== 16) {
    throw new RangeError(`An IP address has 4 or 16 bytes, not ${bytes.length}`);
  }
  if (bytes.subarray(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff) {
    return `::ffff:${Array.from(bytes.subarray(12)).join(".")}`;
  }
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push((bytes[2 * i]! << 8) | bytes[2 * i + 1]!);
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = (list: number[]) => list.map((g) => g.toString(16)).join(":");
  if (bestStart < 0) return hex(groups);
  return `${hex(groups.slice(0, bestStart))}::${hex(groups.slice(bestStart + bestLength))}`;
}

/** Formats an address with its prefix length, such as `10.0.0.2/24`. */
export function formatCidr(cidr: Cidr): string {
  return `${formatIp(cidr.bytes)}/${cidr.prefix}`;
}

/**
 * Parses a MAC address written as six pairs of hex digits separated by
 * colons (`02:42:ac:11:00:02`). A multicast address (lowest bit of the first
 * byte set) is refused: no interface can take one.
 *
 * @throws {ConfigError} when the text is not a unicast MAC address
 */
export function parseMac(text: string, options: { field?: string } = {}): Uint8Array {
  const problem = macProblem(text);
  if (problem !== null) fail(options.field, problem);
  return Uint8Array.from(text.split(":"), (part) => parseInt(part, 16));
}

/** What is wrong with `text` as a unicast MAC address, or null when it is one. */
export function macProblem(text: string): string | null {
  if (!/^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/.test(text)) {
    return `${show(text)} is not a MAC address (six hex pairs separated by colons)`;
  }
  if (parseInt(text.slice(0, 2), 16) & 1) {
    return `${show(text)} is a multicast MAC address; an interface needs a unicast one`;
  }
  return null;
}

/** Formats a MAC address as lower-case hex pairs separated by colons. */
export function formatMac(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(":");
}

/**
 * What is wrong with `name` as a network interface name, or null when the
 * kernel would take it: 1-15 bytes, no `/`, `:` or white space, not `.` or `..`.
 */
export function interfaceNameProblem(name: string): string | null {
  if (typeof name !== "string" || name === "") return "Must not be empty";
  const bytes = new TextEncoder().encode(name).length;
  if (bytes > IFNAMSIZ_MAX) {
    return `${show(name)} is ${bytes} bytes long; an interface name has at most ${IFNAMSIZ_MAX}`;
  }
  if (name === "." || name === ".." || /[\s/:]/.test(name)) {
    return `${show(name)} is not a valid interface name`;
  }
  return null;
}

/**
 * Checks an interface name.
 *
 * @throws {ConfigError} naming `options.field` when the kernel would refuse it
 */
export function checkInterfaceName(name: string, options: { field?: string } = {}): string {
  const problem = interfaceNameProblem(name);
  if (problem !== null) fail(options.field, problem);
  return name;
}
