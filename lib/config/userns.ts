/**
 * User namespace configs: the seed's `--userns-root-uid` mappings, the id a
 * mapping gives, and the edits that make a config run without root.
 *
 * @module
 */
import type { ConfigInput, IdMap, NamespaceInput } from "./types.ts";

/** The largest id a mapping may reach: the seed mapped up to MaxInt32. */
const MAX_INT32 = 2 ** 31 - 1;

/**
 * The seed's mappings for `--userns-root-uid N`: container root is host
 * `N`; every other id maps to itself, except that container id `N` is left
 * unmapped (its host id is root's). The same list serves uids and gids.
 *
 * @param hostRoot The host id container root maps to, from 1 to 2^31 - 2.
 * @returns Three ranges: `{0 -> N, 1}`, `{1 -> 1, N - 1}`, `{N + 1 -> N + 1, MaxInt32 - N}`.
 * @throws {RangeError} when `hostRoot` is out of range.
 * @example
 * ```ts
 * const maps = userNamespaceMappings(1000);
 * const config = { rootfs: "/srv/box", uid_mappings: maps, gid_mappings: maps };
 * ```
 */
export function userNamespaceMappings(hostRoot: number): IdMap[] {
  if (!Number.isInteger(hostRoot) || hostRoot < 1 || hostRoot >= MAX_INT32) {
    throw new RangeError(
      `The host id of container root must be 1 to ${MAX_INT32 - 1}, got ${hostRoot}`,
    );
  }
  const maps: IdMap[] = [{ container_id: 0, host_id: hostRoot, size: 1 }];
  if (hostRoot > 1) maps.push({ container_id: 1, host_id: 1, size: hostRoot - 1 });
  maps.push({ container_id: hostRoot + 1, host_id: hostRoot + 1, size: MAX_INT32 - hostRoot });
  return maps;
}

/** The host id that container id `id` maps to, or undefined when no range holds it. */
export function hostIdOf(maps: readonly IdMap[], id: number): number | undefined {
  const range = maps.find((m) => id >= m.container_id && id < m.container_id + m.size);
  return range ? range.host_id + (id - range.container_id) : undefined;
}

/** Whether container id `id` is mapped. */
export function isMapped(maps: readonly IdMap[], id: number): boolean {
  return hostIdOf(maps, id) !== undefined;
}

/** The text of /proc/<pid>/uid_map or gid_map for these ranges, one line each. */
export function idMapText(maps: readonly IdMap[]): string {
  return maps.map((m) => `${m.container_id} ${m.host_id} ${m.size}\n`).join("");
}

/**
 * Adds a new user namespace with these mappings to a config (the input
 * form), replacing any `NEWUSER` entry and mappings it had.
 *
 * @param config The config to edit (it is not changed).
 * @param uidMappings The uid ranges; one must map container id 0.
 * @param gidMappings The gid ranges; one must map container id 0.
 * @returns The edited config.
 * @example
 * ```ts ignore
 * import { defaultConfig, userNamespaceMappings, withUserNamespace } from "./mod.ts";
 * const maps = userNamespaceMappings(100000);
 * const config = withUserNamespace(defaultConfig({ rootfs: "/srv/box" }), maps, maps);
 * ```
 */
export function withUserNamespace(
  config: ConfigInput,
  uidMappings: readonly IdMap[],
  gidMappings: readonly IdMap[],
): ConfigInput {
  const namespaces: NamespaceInput[] = (config.namespaces ?? []).filter((ns) =>
    ns.type !== "NEWUSER"
  );
  namespaces.push({ type: "NEWUSER" });
  return {
    ...config,
    namespaces,
    uid_mappings: [...uidMappings],
    gid_mappings: [...gidMappings],
  };
}

/** `uid=N` and `gid=N` options name ids that may be unmapped without root: drop them. */
function withoutIdOptions(data: string): string {
  return data.split(",").filter((o) => !/^[ug]id=/.test(o)).join(",");
}

/**
 * Makes a config runnable by an unprivileged user, as `runc spec --rootless`
 * does: a new user namespace that maps only the caller's own uid and gid to
 * root (the only mapping the kernel lets a user write alone), no `uid=` or
 * `gid=` mount options (the devpts `gid=5` would be unmapped) and no
 * supplementary groups. Everything else is kept: what cannot work without
 * root is refused with a clear error when the container starts.
 *
 * @param config The config to edit (it is not changed).
 * @param ids The caller's effective uid and gid on the host.
 * @returns The edited config.
 * @example
 * ```ts ignore
 * import { defaultConfig, rootlessConfig } from "./mod.ts";
 * const config = rootlessConfig(defaultConfig({ rootfs: "/home/me/rootfs" }), { uid: 1000, gid: 1000 });
 * ```
 */
export function rootlessConfig(
  config: ConfigInput,
  ids: { uid: number; gid: number },
): ConfigInput {
  const next = withUserNamespace(
    config,
    [{ container_id: 0, host_id: ids.uid, size: 1 }],
    [{ container_id: 0, host_id: ids.gid, size: 1 }],
  );
  next.mounts = (config.mounts ?? []).map((mount) =>
    mount.data ? { ...mount, data: withoutIdOptions(mount.data) } : mount
  );
  next.additional_groups = [];
  return next;
}
