import { assert, assertEquals } from "../../_assert.ts";
import { configToJson, parseConfig, resolveRootfs } from "../../../lib/config/mod.ts";

const DIR = new URL("../../../sample_configs/", import.meta.url);
const NAMES = ["minimal", "host-pid", "userns", "apparmor", "selinux", "attach_to_bridge"];

function readSample(name: string): Record<string, unknown> {
  return JSON.parse(Deno.readTextFileSync(new URL(`${name}.json`, DIR)));
}

for (const name of NAMES) {
  Deno.test(`sample_configs/${name}.json is valid once its rootfs is resolved`, () => {
    const config = parseConfig(resolveRootfs(readSample(name), "/srv/box"));
    assertEquals(config.rootfs, "/srv/box");
    // An empty cgroup name takes the container's id, so two containers of one sample never share a cgroup.
    assertEquals(config.cgroups.name, "");
    assertEquals(config.cgroups.parent, "nsinit");
  });

  Deno.test(`sample_configs/${name}.json is written out in full, in canonical form`, () => {
    const sample = readSample(name);
    assertEquals(configToJson(parseConfig(resolveRootfs(sample, "/srv/box"))), {
      ...sample,
      rootfs: "/srv/box",
    });
  });
}

Deno.test("sample_configs holds exactly the documented samples", () => {
  const files = [...Deno.readDirSync(DIR)].map((entry) => entry.name).filter((n) =>
    n.endsWith(".json")
  ).sort();
  assertEquals(files, NAMES.map((n) => `${n}.json`).sort());
});

Deno.test("each sample shows what its name says", () => {
  const parse = (name: string) => parseConfig(resolveRootfs(readSample(name), "/srv/box"));
  const types = (name: string) => parse(name).namespaces.map((ns) => ns.type);
  assertEquals(types("minimal"), ["NEWNS", "NEWUTS", "NEWIPC", "NEWPID", "NEWNET"]);
  assert(!types("host-pid").includes("NEWPID"));
  const userns = parse("userns");
  assert(types("userns").includes("NEWUSER"));
  assertEquals(userns.uid_mappings.slice(0, 2), [
    { container_id: 0, host_id: 1000, size: 1 },
    { container_id: 1, host_id: 1, size: 999 },
  ]);
  assertEquals(userns.gid_mappings, userns.uid_mappings);
  assertEquals(parse("apparmor").apparmor_profile, "docker-default");
  const selinux = parse("selinux");
  assertEquals(selinux.process_label, "system_u:system_r:svirt_lxc_net_t:s0:c164,c475");
  assertEquals(selinux.mount_label, "system_u:object_r:svirt_sandbox_file_t:s0:c164,c475");
  const bridge = parse("attach_to_bridge");
  assertEquals(bridge.hostname, "koye");
  const veth = bridge.networks[1]!;
  assertEquals(
    [
      veth.type,
      veth.name,
      veth.bridge,
      veth.address,
      veth.gateway,
      veth.mtu,
      veth.host_interface_name,
    ],
    ["veth", "eth0", "docker0", "172.17.0.101/16", "172.17.42.1", 1500, "vethnsinit"],
  );
});
