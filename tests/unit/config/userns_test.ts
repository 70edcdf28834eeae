import { assertEquals, assertThrows } from "../../_assert.ts";
import {
  defaultConfig,
  hostIdOf,
  idMapText,
  parseConfig,
  rootlessConfig,
  userNamespaceMappings,
  withUserNamespace,
} from "../../../lib/config/mod.ts";
import { input, issuesFor } from "./_helpers.ts";

const userNs = [...input().namespaces!, { type: "NEWUSER" as const }];
const ROOT_ONLY = [{ container_id: 0, host_id: 1000, size: 1 }];

Deno.test("userNamespaceMappings() gives the seed's three ranges for --userns-root-uid", () => {
  assertEquals(userNamespaceMappings(1000), [
    { container_id: 0, host_id: 1000, size: 1 },
    { container_id: 1, host_id: 1, size: 999 },
    { container_id: 1001, host_id: 1001, size: 2147482647 },
  ]);
  // The sample config holds the same maps.
  const sample = JSON.parse(
    Deno.readTextFileSync(new URL("../../../sample_configs/userns.json", import.meta.url)),
  );
  assertEquals(sample.uid_mappings, userNamespaceMappings(1000));
  assertEquals(userNamespaceMappings(1).length, 2);
  assertThrows(() => userNamespaceMappings(0), RangeError);
  assertThrows(() => userNamespaceMappings(2 ** 31 - 1), RangeError);
});

Deno.test("hostIdOf() and idMapText() read and write ranges as the kernel does", () => {
  const maps = userNamespaceMappings(1000);
  assertEquals(hostIdOf(maps, 0), 1000);
  assertEquals(hostIdOf(maps, 5), 5);
  assertEquals(hostIdOf(maps, 1000), undefined);
  assertEquals(hostIdOf(maps, 1001), 1001);
  assertEquals(idMapText(maps), "0 1000 1\n1 1 999\n1001 1001 2147482647\n");
});

Deno.test("rootlessConfig() maps only the caller's ids and drops unmappable mount options", () => {
  const config = parseConfig(
    rootlessConfig(defaultConfig({ rootfs: "/srv/box" }), { uid: 1000, gid: 100 }),
  );
  assertEquals(config.namespaces.filter((ns) => ns.type === "NEWUSER").length, 1);
  assertEquals(config.uid_mappings, ROOT_ONLY);
  assertEquals(config.gid_mappings, [{ container_id: 0, host_id: 100, size: 1 }]);
  const devpts = config.mounts.find((m) => m.device === "devpts")!;
  assertEquals(devpts.data, "newinstance,ptmxmode=0666,mode=0620");
});

Deno.test("withUserNamespace() replaces an existing NEWUSER entry instead of listing it twice", () => {
  const once = withUserNamespace(input({ namespaces: userNs }), ROOT_ONLY, ROOT_ONLY);
  assertEquals(once.namespaces!.filter((ns) => ns.type === "NEWUSER").length, 1);
});

Deno.test("mapped-ids check refuses unmapped devpts ids and additional groups", () => {
  const issues = issuesFor(input({
    namespaces: userNs,
    uid_mappings: ROOT_ONLY,
    gid_mappings: ROOT_ONLY,
    additional_groups: [5],
    mounts: [{ source: "devpts", destination: "/dev/pts", device: "devpts", data: "gid=5,uid=0" }],
  }));
  assertEquals(issues, [
    { path: "additional_groups[0]", message: "Gid 5 is not mapped by `gid_mappings`" },
    {
      path: "mounts[0].data",
      message: "`gid=5` names an id that `gid_mappings` does not map: map it or drop the option",
    },
  ]);
});

Deno.test("id mappings must be empty for a joined user namespace, and at most 340 ranges", () => {
  const joined = [...input().namespaces!, { type: "NEWUSER" as const, path: "/proc/1/ns/user" }];
  assertEquals(
    issuesFor(input({ namespaces: joined, uid_mappings: ROOT_ONLY, gid_mappings: ROOT_ONLY })),
    [
      {
        path: "uid_mappings",
        message: "Must be empty when the user namespace is joined by `path`",
      },
      {
        path: "gid_mappings",
        message: "Must be empty when the user namespace is joined by `path`",
      },
    ],
  );
  const many = Array.from({ length: 341 }, (_, i) => ({
    container_id: i,
    host_id: 5000 + i,
    size: 1,
  }));
  assertEquals(
    issuesFor(input({ namespaces: userNs, uid_mappings: many, gid_mappings: ROOT_ONLY })),
    [{ path: "uid_mappings", message: "Too many ranges: the kernel takes at most 340, got 341" }],
  );
});
