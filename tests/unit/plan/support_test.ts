/**
 * Features the runtime cannot carry out yet are refused with the field
 * named, never silently ignored.
 */
import { assert, assertEquals } from "../../_assert.ts";
import { type Config, defaultConfig, MS } from "../../../lib/config/mod.ts";
import { hostLsms, type LsmState, unsupportedFeatures } from "../../../lib/plan/support.ts";

const NO_LSM: LsmState = { apparmor: false, selinux: false };
const ALL_LSM: LsmState = { apparmor: true, selinux: true };

function config(edit: (config: Config) => void = () => {}): Config {
  const value = defaultConfig({ rootfs: "/r" });
  edit(value);
  return value;
}

function paths(value: Config, lsm = NO_LSM): string[] {
  return unsupportedFeatures(value, lsm).map((issue) => issue.path);
}

Deno.test("unsupportedFeatures() finds nothing in the default config", () => {
  assertEquals(unsupportedFeatures(config(), NO_LSM), []);
  assertEquals(unsupportedFeatures(config(), ALL_LSM), []);
});

Deno.test("unsupportedFeatures() takes resource limits, but refuses a freezer state at start", () => {
  const limited = config((c) => {
    c.cgroups.memory = 1 << 20;
    c.cgroups.memory_swap = -1;
    c.cgroups.cpu_shares = 512;
    c.cgroups.cpuset_cpus = "0-1";
    c.cgroups.oom_kill_disable = true;
    c.cgroups.pids_limit = 10;
    c.cgroups.blkio_weight_device = "8:0 100";
    c.cgroups.net_prio_ifpriomap = [{ interface: "eth0", priority: 1 }];
  });
  assertEquals(paths(limited), []);
  assertEquals(unsupportedFeatures(config((c) => c.cgroups.freezer = "FROZEN"), NO_LSM), [{
    path: "cgroups.freezer",
    message: "Cannot be set at start: pause() or set() a running container instead",
  }]);
});

Deno.test("unsupportedFeatures() accepts a user namespace and its id mappings", () => {
  const issues = unsupportedFeatures(
    config((c) => {
      c.namespaces.push({ type: "NEWUSER", path: "" });
      c.uid_mappings = [{ container_id: 0, host_id: 1000, size: 1 }];
      c.gid_mappings = [{ container_id: 0, host_id: 1000, size: 1 }];
    }),
    NO_LSM,
  );
  assertEquals(issues, []);
});

Deno.test("unsupportedFeatures() accepts veth networks and routes", () => {
  const issues = unsupportedFeatures(
    config((c) => {
      c.networks.push({
        type: "veth",
        name: "eth0",
        bridge: "docker0",
        mac_address: "",
        address: "172.17.0.2/16",
        gateway: "172.17.0.1",
        ipv6_address: "",
        ipv6_gateway: "",
        mtu: 1500,
        txqueuelen: 0,
        host_interface_name: "veth0",
        hairpin_mode: false,
      });
      c.routes = [{
        destination: "0.0.0.0/0",
        source: "",
        gateway: "10.0.0.1",
        interface_name: "eth0",
      }];
    }),
    NO_LSM,
  );
  assertEquals(issues, []);
});

Deno.test("unsupportedFeatures() takes cgroup mounts and names relabelled mounts", () => {
  const issues = unsupportedFeatures(
    config((c) => {
      c.mounts.push(
        {
          source: "cgroup",
          destination: "/sys/fs/cgroup",
          device: "cgroup",
          flags: MS.MS_NOSUID,
          data: "",
          relabel: "",
          premount_cmds: [],
          postmount_cmds: [],
        },
        {
          source: "/srv",
          destination: "/srv",
          device: "bind",
          flags: MS.MS_BIND,
          data: "",
          relabel: "Z",
          premount_cmds: [],
          postmount_cmds: [],
        },
      );
    }),
    ALL_LSM,
  );
  assertEquals(issues, [
    { path: "mounts[7].relabel", message: "SELinux relabels are not supported yet" },
  ]);
});

Deno.test("unsupportedFeatures() refuses a label whose LSM is off, unless labels are optional", () => {
  const labelled = config((c) => {
    c.apparmor_profile = "docker-default";
    c.process_label = "system_u:system_r:svirt_lxc_net_t:s0";
    c.mount_label = "system_u:object_r:svirt_sandbox_file_t:s0";
  });
  const off = (name: string) =>
    `${name} is not enabled on this host: remove the label, or set \`labels_optional\` to run without it`;
  assertEquals(unsupportedFeatures(labelled, NO_LSM), [
    { path: "apparmor_profile", message: off("AppArmor") },
    { path: "process_label", message: off("SELinux") },
    { path: "mount_label", message: off("SELinux") },
  ]);
  // With the LSM enabled, the label is applied.
  assertEquals(unsupportedFeatures(labelled, ALL_LSM), []);
  assertEquals(paths(labelled, { apparmor: true, selinux: false }), [
    "process_label",
    "mount_label",
  ]);
  assertEquals(paths(labelled, { apparmor: false, selinux: true }), ["apparmor_profile"]);
  labelled.labels_optional = true;
  assertEquals(unsupportedFeatures(labelled, NO_LSM), []);
});

Deno.test({
  name: "hostLsms() reports two booleans",
  // It reads /sys through libc; the unit run grants only --allow-read.
  ignore: Deno.permissions.querySync({ name: "ffi" }).state !== "granted",
  fn() {
    const lsm = hostLsms();
    assertEquals(Object.keys(lsm).sort(), ["apparmor", "selinux"]);
    assert(typeof lsm.apparmor === "boolean" && typeof lsm.selinux === "boolean");
  },
});
