/**
 * Containers on the network: veths on a test bridge (addresses, MAC, MTU,
 * gateways, IPv6, hairpin) seen from inside with busybox and from the host
 * with iproute2 and sysfs; traffic to the host and between two containers;
 * loopback-only containers; joining a network namespace by path; the
 * counters' direction; bad input; and after every test, no veth of its
 * containers left on the host. The last test checks that no bridge,
 * namespace or veth of this file is left.
 */
import { assert, assertEquals, assertMatch, assertNotEquals } from "../_assert.ts";
import {
  assertNoLeftovers,
  integration,
  startSleeper,
  TEST_CGROUP_PARENT,
  testConfig,
  testFactory,
  testRootfs,
  uniqueId,
} from "../_helpers.ts";
import {
  findLink,
  hostVeths,
  must,
  ownLeftovers,
  run,
  TestBridge,
  TestNetns,
  uniqueName,
} from "./_netns.ts";
import { CliEnv, lines } from "./fixtures/nsinit_env.ts";
import {
  ConfigError,
  type ConfigInput,
  type Container,
  type HostInterface,
  type ProcessOptions,
  readConfigFile,
  SystemError,
  withUserNamespace,
} from "../../mod.ts";
import type { NetworkInput } from "../../lib/config/types.ts";
import { interfaceStats } from "../../lib/network/mod.ts";
import { hostInterfaceNames, readState } from "../../lib/state/state.ts";
import { collectStats } from "../../lib/stats/collect.ts";

// ---- helpers of this file ------------------------------------------------

/** Every host end a container of this file had, checked at the end. */
const seenVeths = new Set<string>();

const decoder = new TextDecoder();

/** A bridge with an IPv4 and an IPv6 address (the IPv6 one without DAD, so usable at once). */
function bridgeWith(v4: string, v6?: string): TestBridge {
  const bridge = new TestBridge(v4);
  if (v6) must("ip", "addr", "add", v6, "dev", bridge.name, "nodad");
  return bridge;
}

function veth(bridge: string, overrides: Partial<NetworkInput> = {}): NetworkInput {
  return { type: "veth", name: "eth0", bridge, ...overrides };
}

/** The test config with loopback and these veths. */
function netConfig(...veths: NetworkInput[]): ConfigInput {
  return testConfig({ networks: [{ type: "loopback" }, ...veths] });
}

/** The container's host ends, remembered for the final check. */
function hostEnds(container: Container): HostInterface[] {
  const ends = container.state().host_interfaces;
  ends.forEach((end) => seenVeths.add(end.name));
  return ends;
}

function assertGone(ends: readonly HostInterface[]): void {
  for (const { name } of ends) {
    assertEquals(findLink(name), undefined, `host veth ${name} is still there`);
  }
}

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
  ends: HostInterface[];
}

/** Runs one process in a new container to completion, destroys it, and checks its veths are gone. */
async function runOnce(config: ConfigInput, args: string[]): Promise<Ran> {
  const factory = await testFactory();
  const container = await factory.create(uniqueId("net"), config);
  let ends: HostInterface[] = [];
  try {
    const process = await container.start({
      args,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    });
    ends = hostEnds(container);
    const output = await process.output();
    return {
      code: output.code,
      stdout: decoder.decode(output.stdout),
      stderr: decoder.decode(output.stderr),
      ends,
    };
  } finally {
    await container.destroy();
    assertGone(ends);
  }
}

/** Runs a shell script in a new container; it must exit 0. */
async function sh(config: ConfigInput, script: string): Promise<Ran> {
  const ran = await runOnce(config, ["sh", "-c", script]);
  assertEquals(ran.code, 0, `${script}\n${ran.stdout}\n${ran.stderr}`);
  return ran;
}

/** What start() or create() rejects with. */
async function failure(
  config: ConfigInput,
  process: Partial<ProcessOptions> = {},
): Promise<unknown> {
  const factory = await testFactory();
  let container: Container | undefined;
  try {
    container = await factory.create(uniqueId("bad"), config);
    const started = await container.start({ args: ["true"], stdin: "null", ...process });
    await started.wait();
  } catch (error) {
    return error;
  } finally {
    await container?.destroy();
  }
  throw new Error("expected a failure");
}

/** `ip -o link` as busybox prints it, one `name flags` per link. */
function linksSeen(stdout: string): string[] {
  return lines(stdout).filter((line) => /^\d+: /.test(line)).map((line) => {
    const [, name, flags] = /^\d+: ([^:@]+)(?:@\S+)?: <([^>]*)>/.exec(line) ?? [];
    return `${name} ${flags}`;
  });
}

function networkTest(name: string, fn: () => Promise<void>): void {
  Deno.test({
    name,
    ...integration,
    async fn() {
      await fn();
      assertNoLeftovers();
    },
  });
}

// ---- the tests ---------------------------------------------------------------

networkTest(
  "sample_configs/attach_to_bridge.json runs with eth0 on the bridge, its address, MTU and gateway",
  async () => {
    using bridge = bridgeWith("172.17.42.1/16");
    const hostName = uniqueName("vethns");
    const sample = readConfigFile(
      new URL("../../sample_configs/attach_to_bridge.json", import.meta.url).pathname,
    );
    const config: ConfigInput = {
      ...sample,
      rootfs: testRootfs(),
      cgroups: { ...sample.cgroups, name: "", parent: TEST_CGROUP_PARENT },
      networks: sample.networks.map((n) =>
        n.type === "veth" ? { ...n, bridge: bridge.name, host_interface_name: hostName } : n
      ),
    };
    const ran = await sh(
      config,
      [
        "hostname",
        "ip -o -4 addr show dev eth0",
        "ip route",
        "cat /sys/class/net/eth0/mtu",
        "ping -c 1 -W 5 172.17.42.1 >/dev/null && echo ping-ok",
      ].join("; "),
    );
    const out = lines(ran.stdout);
    assertEquals(out[0], "koye");
    assertMatch(out[1]!, /^\d+: eth0\s+inet 172\.17\.0\.101\/16 /);
    assert(out.includes("default via 172.17.42.1 dev eth0 "), ran.stdout);
    assertEquals(out.at(-2), "1500");
    assertEquals(out.at(-1), "ping-ok");
    assertEquals(ran.ends.map((e) => e.name), [hostName]);
  },
);

networkTest(
  "start() gives eth0 its IPv4 and IPv6 addresses, MAC, MTU and gateways, and the host end joins the bridge with hairpin on",
  async () => {
    using bridge = bridgeWith("10.61.0.1/24", "fd61::1/64");
    const config = netConfig(veth(bridge.name, {
      address: "10.61.0.2/24",
      gateway: "10.61.0.1",
      ipv6_address: "fd61::2/64",
      ipv6_gateway: "fd61::1",
      mac_address: "02:42:0a:3d:00:02",
      mtu: 1400,
      txqueuelen: 500,
      hairpin_mode: true,
    }));
    const sleeper = await startSleeper(config);
    let ends: HostInterface[] = [];
    try {
      ends = hostEnds(sleeper.container);
      assertEquals(ends.length, 1);
      const host = findLink(ends[0]!.name);
      assert(host, `no host end ${ends[0]!.name}`);
      assertEquals(host.ifindex, ends[0]!.index);
      assertEquals(host.master, bridge.name);
      assertEquals(host.mtu, 1400);
      assertEquals(host.txqlen, 500);
      assert(host.flags.includes("UP"), host.flags.join(","));
      assertEquals(
        Deno.readTextFileSync(`/sys/class/net/${host.ifname}/brport/hairpin_mode`).trim(),
        "1",
      );
      assertEquals(bridge.ports(), [host.ifname]);

      // Inside, through the sleeper's namespaces (nsenter runs the host's iproute2 there).
      const pid = String(sleeper.pid);
      const inside = (...args: string[]) => must("nsenter", "-t", pid, "-n", ...args);
      // (sysfs there would still be the host's: netlink only.)
      const seen = JSON.parse(inside("ip", "-j", "link", "show")).map((
        l: { ifname: string; mtu: number; address: string; flags: string[] },
      ) => [l.ifname, l.mtu, l.address, l.flags.includes("UP")]);
      assertEquals(seen, [
        ["lo", 65536, "00:00:00:00:00:00", true],
        ["eth0", 1400, "02:42:0a:3d:00:02", true],
      ]);
      const addrs = JSON.parse(inside("ip", "-j", "addr", "show", "dev", "eth0"))[0].addr_info
        .filter((a: { scope: string }) => a.scope === "global")
        .map((a: { local: string; prefixlen: number }) => `${a.local}/${a.prefixlen}`);
      assertEquals(addrs, ["10.61.0.2/24", "fd61::2/64"]);
      const v4 = JSON.parse(inside("ip", "-j", "-4", "route", "show", "default"));
      assertEquals(v4.map((r: { gateway: string; dev: string }) => [r.gateway, r.dev]), [[
        "10.61.0.1",
        "eth0",
      ]]);
      const v6 = JSON.parse(inside("ip", "-j", "-6", "route", "show", "default"));
      assertEquals(v6.map((r: { gateway: string; dev: string }) => [r.gateway, r.dev]), [[
        "fd61::1",
        "eth0",
      ]]);
    } finally {
      await sleeper.stop();
    }
    assertGone(ends);

    // And what busybox sees inside, pinging the host over IPv4 and IPv6.
    const ran = await sh(
      config,
      [
        "ip addr show dev eth0",
        "ip route",
        "cat /sys/class/net/eth0/mtu /sys/class/net/eth0/address",
        "ping -c 1 -W 5 10.61.0.1 >/dev/null && echo ping4-ok",
        "ping -6 -c 1 -W 5 fd61::1 >/dev/null && echo ping6-ok",
      ].join("; "),
    );
    assertMatch(ran.stdout, /inet 10\.61\.0\.2\/24 /);
    assertMatch(ran.stdout, /inet6 fd61::2\/64 /);
    assertMatch(ran.stdout, /link\/ether 02:42:0a:3d:00:02 /);
    assertMatch(ran.stdout, /^default via 10\.61\.0\.1 dev eth0/m);
    assertMatch(ran.stdout, /^1400\n02:42:0a:3d:00:02$/m);
    assertMatch(ran.stdout, /^ping4-ok$/m);
    assertMatch(ran.stdout, /^ping6-ok$/m);
  },
);

networkTest(
  "two containers on one bridge reach each other (ping, TCP) and their counters are the containers' own view",
  async () => {
    using bridge = bridgeWith("10.62.0.1/24");
    const payload = 300_000;
    // The server sends the payload to its first client, then stays.
    const server = await startSleeper(
      netConfig(veth(bridge.name, { address: "10.62.0.2/24", gateway: "10.62.0.1" })),
      ["sh", "-c", `head -c ${payload} /dev/zero | nc -l -p 5000; sleep 1000`],
    );
    let ends: HostInterface[] = [];
    try {
      ends = hostEnds(server.container);
      const ran = await sh(
        netConfig(veth(bridge.name, { address: "10.62.0.3/24" })),
        [
          "ping -c 1 -W 5 10.62.0.2 >/dev/null && echo ping-ok",
          // busybox nc quits at the end of its input: give it one that never ends.
          "mkfifo /dev/shm/in && exec 3<>/dev/shm/in",
          // The server may not listen yet: retry until something arrives.
          "for i in $(seq 100); do n=$(nc -w 5 10.62.0.2 5000 <&3 | wc -c); " +
          '[ "$n" -gt 0 ] && echo "received $n" && exit 0; sleep 0.1; done; exit 1',
        ].join("; "),
      );
      assertEquals(lines(ran.stdout), ["ping-ok", `received ${payload}`]);

      // The server sent the payload: tx on its side, both as the container
      // counts it and as stats report it from the host end.
      const inside = interfaceStats({ pid: server.pid }, ["eth0"])[0]!;
      assert(inside.tx_bytes >= payload, JSON.stringify(inside));
      assert(inside.rx_bytes < payload / 2, JSON.stringify(inside));
      const state = readState(
        `${(await testFactory()).root}/${server.container.id}`,
        server.container.id,
      )!;
      assertEquals(hostInterfaceNames(state), ends.map((e) => e.name));
      const stats = collectStats(state.cgroup_paths, { interfaces: hostInterfaceNames(state) });
      assertEquals(stats.interfaces.map((i) => i.name), hostInterfaceNames(state));
      const fromHost = stats.interfaces[0]!;
      assert(fromHost.tx_bytes >= payload, JSON.stringify(fromHost));
      assert(fromHost.rx_bytes < payload / 2, JSON.stringify(fromHost));
      // The host end's own sysfs counters run the other way round.
      const hostRx = Number(
        Deno.readTextFileSync(`/sys/class/net/${ends[0]!.name}/statistics/rx_bytes`),
      );
      assert(hostRx >= payload, `host end rx_bytes ${hostRx}`);
    } finally {
      await server.stop();
    }
    assertGone(ends);
  },
);

networkTest("a loopback-only container has lo up and nothing else", async () => {
  const before = hostVeths();
  const ran = await sh(testConfig(), "ip -o link");
  assertEquals(linksSeen(ran.stdout), ["lo LOOPBACK,UP,LOWER_UP"]);
  assertEquals(ran.ends, []);
  assertEquals(hostVeths().filter((name) => !before.includes(name)), []);
});

networkTest(
  "a veth in a container with its own user namespace: id maps and network set up in plan order",
  async () => {
    using bridge = bridgeWith("10.67.0.1/24");
    const maps = [{ container_id: 0, host_id: 0, size: 1000 }];
    const config = withUserNamespace(
      netConfig(veth(bridge.name, { address: "10.67.0.2/24", gateway: "10.67.0.1" })),
      maps,
      maps,
    );
    const ran = await sh(
      config,
      "cat /proc/self/uid_map; ping -c1 -W2 10.67.0.1 >/dev/null && echo ping-ok",
    );
    assertEquals(ran.code, 0, ran.stderr);
    assertEquals(lines(ran.stdout).map((l) => l.trim().split(/\s+/).join(" ")), [
      "0 0 1000",
      "ping-ok",
    ]);
    assertEquals(ran.ends.length, 1);
  },
);

networkTest(
  "start() joins a network namespace by path and shares it, adding no veth",
  async () => {
    using ns = new TestNetns();
    must("ip", "-n", ns.name, "link", "add", "tlink0", "type", "bridge");
    must("ip", "-n", ns.name, "addr", "add", "10.63.0.9/24", "dev", "tlink0");
    const base = testConfig();
    const config = testConfig({
      namespaces: base.namespaces!.map((n) => n.type === "NEWNET" ? { ...n, path: ns.path } : n),
    });
    const ran = await sh(config, "readlink /proc/self/ns/net; ip -o -4 addr show dev tlink0");
    const [inode] = lines(ran.stdout);
    assertEquals(inode, `net:[${Deno.statSync(ns.path).ino}]`);
    assertMatch(ran.stdout, /inet 10\.63\.0\.9\/24/);
    assertEquals(ran.ends, []);
    // Still there, as it was.
    assertEquals(run("ip", "-n", ns.name, "-o", "link", "show", "tlink0").code, 0);
  },
);

networkTest(
  "a second container joins a running container's network namespace and sees its eth0",
  async () => {
    using bridge = bridgeWith("10.64.0.1/24");
    const first = await startSleeper(netConfig(veth(bridge.name, { address: "10.64.0.2/24" })));
    let ends: HostInterface[] = [];
    try {
      ends = hostEnds(first.container);
      const base = testConfig();
      const joined = testConfig({
        namespaces: base.namespaces!.map((n) =>
          n.type === "NEWNET" ? { ...n, path: `/proc/${first.pid}/ns/net` } : n
        ),
      });
      const ran = await sh(joined, "ip -o -4 addr show dev eth0");
      assertMatch(ran.stdout, /inet 10\.64\.0\.2\/24/);
      assertEquals(ran.ends, []);
      // The second one's destroy left the first one's veth alone.
      assert(findLink(ends[0]!.name), "the first container's veth is gone");
    } finally {
      await first.stop();
    }
    assertGone(ends);
  },
);

networkTest("config routes are added inside, with gateway, source and interface", async () => {
  using bridge = bridgeWith("10.65.0.1/24");
  const config: ConfigInput = {
    ...netConfig(veth(bridge.name, { address: "10.65.0.2/24" })),
    routes: [
      { destination: "10.165.0.0/16", gateway: "10.65.0.1", interface_name: "eth0" },
      { destination: "10.166.0.0/16", source: "10.65.0.2", interface_name: "eth0" },
    ],
  };
  const ran = await sh(config, "ip route");
  assertMatch(ran.stdout, /^10\.165\.0\.0\/16 via 10\.65\.0\.1 dev eth0/m);
  assertMatch(ran.stdout, /^10\.166\.0\.0\/16 dev eth0 .*src 10\.65\.0\.2/m);
});

networkTest(
  "a container with a fixed host interface name starts again after its first process exits",
  async () => {
    using bridge = bridgeWith("10.66.0.1/24");
    const hostName = uniqueName("vethfx");
    const factory = await testFactory();
    const container = await factory.create(
      uniqueId("restart"),
      netConfig(veth(bridge.name, { address: "10.66.0.2/24", host_interface_name: hostName })),
    );
    try {
      for (let round = 0; round < 2; round++) {
        const process = await container.start({ args: ["true"], stdin: "null" });
        assertEquals(hostEnds(container).map((e) => e.name), [hostName]);
        assertEquals((await process.wait()).code, 0);
      }
    } finally {
      await container.destroy();
    }
    assertEquals(findLink(hostName), undefined);
  },
);

networkTest("bad network input is refused naming the field, and no link is left", async () => {
  using bridge = bridgeWith("10.67.0.1/24");
  const before = hostVeths();
  const cases: [NetworkInput, string, RegExp][] = [
    [veth("nsinit-nobr"), "networks[1].bridge", /`nsinit-nobr` does not exist/],
    [veth(bridge.name, { address: "10.67.0.300/24" }), "networks[1].address", /10\.67\.0\.300/],
    [veth(bridge.name, { address: "10.67.0.2" }), "networks[1].address", /prefix/],
    [veth(bridge.name, { mac_address: "02:42:zz:00:00:01" }), "networks[1].mac_address", /MAC/],
    [veth(bridge.name, { ipv6_address: "10.67.0.2/24" }), "networks[1].ipv6_address", /IPv6/],
    [veth(bridge.name, { name: "a-name-too-long-x" }), "networks[1].name", /15/],
    [veth(bridge.name, { gateway: "fd00::1" }), "networks[1].gateway", /IPv4/],
  ];
  for (const [network, field, message] of cases) {
    const error = await failure(netConfig(network));
    assert(error instanceof ConfigError, `${field}: ${error}`);
    assertEquals(error.issues.map((i) => i.path), [field], error.message);
    assertMatch(error.message, message);
  }

  // A host name that is taken: that link stays as it was.
  const taken = uniqueName("tkn");
  must("ip", "link", "add", taken, "type", "bridge");
  try {
    const error = await failure(netConfig(veth(bridge.name, { host_interface_name: taken })));
    assert(error instanceof ConfigError, String(error));
    assertEquals(error.issues.map((i) => i.path), ["networks[1].host_interface_name"]);
    assertMatch(error.message, new RegExp(`already has an interface \`${taken}\``));
    assertEquals(findLink(taken)?.linkinfo?.info_kind, "bridge");
  } finally {
    run("ip", "link", "del", taken);
  }

  // A veth in a namespace joined by path.
  using ns = new TestNetns();
  const base = netConfig(veth(bridge.name));
  const joined = {
    ...base,
    namespaces: base.namespaces!.map((n) => n.type === "NEWNET" ? { ...n, path: ns.path } : n),
  };
  const error = await failure(joined);
  assert(error instanceof ConfigError, String(error));
  assertEquals(error.issues.map((i) => i.path), ["networks[1].type"]);

  // The init fails after its network was set up: the veth goes with it.
  const late = await failure(netConfig(veth(bridge.name, { address: "10.67.0.2/24" })), {
    args: ["/no/such/program"],
  });
  assert(late instanceof SystemError, String(late));
  assertMatch(late.message, /ENOENT/);
  // The init fails while the parent sets its network up (a bad mount): its
  // own error is the one reported, whatever became of the network setup.
  const withVeth = netConfig(veth(bridge.name, { address: "10.67.0.2/24" }));
  const early = await failure({
    ...withVeth,
    mounts: [...withVeth.mounts!, {
      source: "tmpfs",
      destination: "/tmp",
      device: "tmpfs",
      data: "size=nonsense",
    }],
  });
  assert(early instanceof SystemError, String(early));
  assertMatch(early.message, /^mount .*tmpfs.*: EINVAL/);

  assertEquals(hostVeths().filter((name) => !before.includes(name)), []);
  assertEquals(bridge.ports(), []);
});

Deno.test({
  name: "nsinit exec --veth-bridge/--veth-address/--veth-gateway/--veth-mtu adds a veth eth0",
  ...integration,
  async fn() {
    using bridge = bridgeWith("10.68.0.1/24");
    const env = new CliEnv();
    try {
      const result = await env.run([
        "exec",
        "--veth-bridge",
        bridge.name,
        "--veth-address",
        "10.68.0.2/24",
        "--veth-gateway",
        "10.68.0.1",
        "--veth-mtu",
        "1280",
        "sh",
        "-c",
        "cat /sys/class/net/eth0/mtu; ip -o -4 addr show dev eth0; ip route; ping -c 1 -W 5 10.68.0.1 >/dev/null && echo ping-ok",
      ]);
      assertEquals(result.code, 0, JSON.stringify(result));
      const out = lines(result.stdout);
      assertEquals(out[0], "1280");
      assertMatch(out[1]!, /inet 10\.68\.0\.2\/24/);
      assertMatch(result.stdout, /^default via 10\.68\.0\.1 dev eth0/m);
      assertEquals(out.at(-1), "ping-ok");
      assertEquals(bridge.ports(), []);
      const stray = await env.run(["exec", "--veth-mtu", "1280", "true"]);
      assertNotEquals(stray.code, 0);
      assertMatch(stray.stderr, /^nsinit: --veth-mtu needs --veth-bridge$/m);
      env.assertClean();
    } finally {
      await env.cleanup();
    }
  },
});

Deno.test({
  name: "the network tests leave no bridge, namespace or container veth behind",
  ...integration,
  fn() {
    assertEquals(ownLeftovers(), { netns: [], bridges: [] });
    const host = hostVeths();
    assertEquals([...seenVeths].filter((name) => host.includes(name)), []);
    assert(seenVeths.size >= 6, `only ${seenVeths.size} veths were checked`);
  },
});
