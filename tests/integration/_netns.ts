/**
 * Helpers of the netlink integration tests: throwaway network namespaces
 * (named with `ip netns add`, or held by a process made with `unshare -n`),
 * test bridges, iproute2 run as the checker, and the leftover check. Every
 * name carries this process's id so that concurrent runs never meet.
 *
 * @module
 */
import { closeFd, openFile } from "../../lib/sys/fs.ts";
import { O } from "../../ffi/constants.ts";

const decoder = new TextDecoder();
const tag = String(Deno.pid % 1000).padStart(3, "0");
let counter = 0;

/**
 * Whether /run/netns was there before these tests: `ip netns add` makes it
 * and binds it onto itself, a host mount that {@link releaseRunNetns} undoes.
 */
const runNetnsWasThere = (() => {
  try {
    Deno.statSync("/run/netns");
    return true;
  } catch {
    return false;
  }
})();

/** Removes /run/netns (unmounting its bind onto itself) when these tests made it and it is empty. */
export function releaseRunNetns(): void {
  if (runNetnsWasThere) return;
  try {
    if ([...Deno.readDirSync("/run/netns")].length > 0) return;
  } catch {
    return; // already gone
  }
  run("umount", "/run/netns");
  try {
    Deno.removeSync("/run/netns");
  } catch {
    // still mounted or in use: left as it is
  }
}

/** What a command printed and how it ended. */
export interface Output {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion. */
export function run(command: string, ...args: string[]): Output {
  const output = new Deno.Command(command, { args, stdin: "null" }).outputSync();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

/** Runs a command that must succeed; returns its standard output. */
export function must(command: string, ...args: string[]): string {
  const output = run(command, ...args);
  if (output.code !== 0) {
    throw new Error(`${command} ${args.join(" ")}: exit ${output.code}: ${output.stderr.trim()}`);
  }
  return output.stdout;
}

/** One link as `ip -j -d link show` prints it (the fields the tests read). */
export interface IpLink {
  ifindex: number;
  ifname: string;
  flags: string[];
  mtu: number;
  address?: string;
  master?: string;
  txqlen?: number;
  operstate?: string;
  linkinfo?: {
    info_kind?: string;
    info_slave_kind?: string;
    info_slave_data?: { hairpin?: boolean };
  };
}

/** One interface's addresses as `ip -j addr show` prints them. */
export interface IpAddr {
  ifname: string;
  addr_info: { family: string; local: string; prefixlen: number }[];
}

/** One route as `ip -j route show` prints it. */
export interface IpRoute {
  dst: string;
  gateway?: string;
  dev?: string;
  prefsrc?: string;
  scope?: string;
  protocol?: string;
}

/** Runs `ip -j <args>` (in `netns` when given, by name or by pid) and parses its JSON. */
export function ipJson<T>(netns: string | number | null, ...args: string[]): T[] {
  const out = netns === null
    ? must("ip", "-j", ...args)
    : typeof netns === "number"
    ? must("nsenter", "-t", String(netns), "-n", "ip", "-j", ...args)
    : must("ip", "-n", netns, "-j", ...args);
  return out.trim() === "" ? [] : JSON.parse(out);
}

/** Links of a namespace (null: the host's), with details. */
export function links(netns: string | number | null = null): IpLink[] {
  return ipJson<IpLink>(netns, "-d", "link", "show");
}

/** One link of a namespace, or undefined. */
export function findLink(name: string, netns: string | number | null = null): IpLink | undefined {
  return links(netns).find((l) => l.ifname === name);
}

/** The `address/prefix` list of an interface in a namespace. */
export function addressesOf(name: string, netns: string | number | null = null): string[] {
  const entries = ipJson<IpAddr>(netns, "addr", "show", "dev", name);
  return entries.flatMap((e) => e.addr_info.map((a) => `${a.local}/${a.prefixlen}`));
}

/** Routes of a namespace (`-6` for IPv6). */
export function routesOf(netns: string | number | null, family: "-4" | "-6" = "-4"): IpRoute[] {
  return ipJson<IpRoute>(netns, family, "route", "show");
}

/** Names of the host's veth links. */
export function hostVeths(): string[] {
  return ipJson<IpLink>(null, "link", "show", "type", "veth").map((l) => l.ifname);
}

/** A unique name for this run: `prefix` + this process's tag + a counter, at most 15 bytes. */
export function uniqueName(prefix: string): string {
  const name = `${prefix}${tag}${++counter}`;
  if (name.length > 15) throw new Error(`interface name too long: ${name}`);
  return name;
}

/** A throwaway named network namespace (`ip netns add`) and an open descriptor of it. */
export class TestNetns {
  readonly name: string;
  readonly path: string;
  #fd: number;

  constructor() {
    this.name = `nsinit-t-${Deno.pid}-${++counter}`;
    must("ip", "netns", "add", this.name);
    this.path = `/run/netns/${this.name}`;
    this.#fd = openFile(this.path, O.RDONLY);
  }

  /** An open descriptor of the namespace (close-on-exec). */
  get fd(): number {
    return this.#fd;
  }

  /** Runs a command inside the namespace. */
  exec(command: string, ...args: string[]): Output {
    return run("ip", "netns", "exec", this.name, command, ...args);
  }

  /** Deletes the namespace (and every link in it); idempotent. */
  [Symbol.dispose](): void {
    if (this.#fd >= 0) closeFd(this.#fd);
    this.#fd = -1;
    run("ip", "netns", "del", this.name);
    releaseRunNetns();
  }
}

/** A process (`unshare -n sleep`) holding a fresh network namespace, for pid-based targets. */
export class NetnsProcess {
  readonly #child: Deno.ChildProcess;

  constructor() {
    this.#child = new Deno.Command("unshare", {
      args: ["-n", "sleep", "600"],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    const own = Deno.readLinkSync("/proc/self/ns/net");
    // unshare(2) runs just after the spawn: wait until the namespace is new.
    for (let i = 0; i < 2000; i++) {
      if (Deno.readLinkSync(`/proc/${this.pid}/ns/net`) !== own) return;
      const until = performance.now() + 1;
      while (performance.now() < until) { /* a millisecond */ }
    }
    throw new Error("unshare -n did not make a network namespace");
  }

  /** The process's id. */
  get pid(): number {
    return this.#child.pid;
  }

  /** Kills the process; its namespace and every link in it die with it. */
  async [Symbol.asyncDispose](): Promise<void> {
    try {
      this.#child.kill("SIGKILL");
    } catch {
      // already gone
    }
    await this.#child.status;
  }
}

/** A test bridge `nsinit-tbr<tag><n>` on the host, up, optionally with addresses. */
export class TestBridge {
  readonly name: string;

  constructor(...addresses: string[]) {
    this.name = `nsinit-tbr${tag}${++counter % 100}`;
    must("ip", "link", "add", this.name, "type", "bridge");
    for (const address of addresses) must("ip", "addr", "add", address, "dev", this.name);
    must("ip", "link", "set", this.name, "up");
  }

  /** Names of the bridge's ports. */
  ports(): string[] {
    return ipJson<IpLink>(null, "link", "show", "master", this.name).map((l) => l.ifname);
  }

  /** Deletes the bridge; idempotent. */
  [Symbol.dispose](): void {
    run("ip", "link", "del", this.name);
  }
}

/** This run's namespaces and bridges still on the host. */
export function ownLeftovers(): { netns: string[]; bridges: string[] } {
  const netns = must("ip", "netns", "list").split("\n").map((line) => line.split(" ")[0]!)
    .filter((name) => name.startsWith(`nsinit-t-${Deno.pid}-`));
  const bridges = ipJson<IpLink>(null, "link", "show", "type", "bridge").map((l) => l.ifname)
    .filter((name) => name.startsWith(`nsinit-tbr${tag}`));
  return { netns, bridges };
}
