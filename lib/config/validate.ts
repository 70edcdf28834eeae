/**
 * Semantic checks: rules that relate fields to one another, run on a config
 * whose shape the schema has already checked. They are an ordered list of
 * named checks, each yielding issues; all issues are collected, so one run
 * reports every problem.
 *
 * Single-value rules live in the schema instead: known enum values (mount
 * kinds, relabel, namespace and network types, freezer states), integer
 * ranges (`parent_death_signal` 0 to 64, non-negative `additional_groups`,
 * ids within 32 bits) and strict keys.
 *
 * @module
 */
import { isAbsolute, normalize } from "../_deps/path.ts";
import type { ConfigIssue } from "../errors.ts";
import { networkIssues } from "../network/issues.ts";
import { isCapabilityName } from "./capabilities.ts";
import { rlimitName } from "./rlimits.ts";
import { formatPath, show } from "./_issues.ts";
import type { Config, IdMap, Mount, NamespaceType } from "./types.ts";
import { isMapped } from "./userns.ts";

/** What a path on the host is, as `lstat` would tell; `symlink` is never followed. */
export type PathKind = "directory" | "symlink" | "missing" | "other";

/** Options of the semantic checks: the seams in front of the host. */
export interface ValidateOptions {
  /**
   * Looks up a host path without following a symlink. The only filesystem
   * access validation makes; without it the filesystem checks are skipped.
   */
  inspectPath?: (path: string) => PathKind;
  /** Whether this host can create user namespaces; `false` refuses `NEWUSER`. */
  userNamespacesAvailable?: boolean;
}

/** One named semantic check. */
export interface Check {
  /** Short name, for tests and debugging. */
  name: string;
  /** Yields every issue found; yields nothing for a good config. */
  run(config: Config, options: ValidateOptions): Iterable<ConfigIssue>;
}

const issue = (path: readonly PropertyKey[], message: string): ConfigIssue => ({
  path: formatPath(path),
  message,
});

const has = (config: Config, type: NamespaceType) =>
  config.namespaces.some((ns) => ns.type === type);

const needs = (type: NamespaceType) =>
  `Requires the \`${type}\` namespace: add it to \`namespaces\``;

function* absolute(path: readonly PropertyKey[], value: string): Iterable<ConfigIssue> {
  if (!isAbsolute(value)) yield issue(path, `Must be an absolute path, got ${show(value)}`);
}

/** Letters of `rwm`, each at most once. */
function* permissions(
  path: readonly PropertyKey[],
  value: string,
  required: boolean,
): Iterable<ConfigIssue> {
  if (required && value === "") yield issue(path, "Must not be empty: give letters of `rwm`");
  else if (!/^[rwm]*$/.test(value) || new Set(value).size !== value.length) {
    yield issue(path, `Must be letters of \`rwm\`, each at most once, got ${show(value)}`);
  }
}

function* rootfs(config: Config, options: ValidateOptions): Iterable<ConfigIssue> {
  if (config.rootfs === "") {
    yield issue(["rootfs"], "Must not be empty: give the container's root directory");
    return;
  }
  if (!isAbsolute(config.rootfs)) {
    yield* absolute(["rootfs"], config.rootfs);
    return;
  }
  // Looked up without following links: a symlinked rootfs could be
  // re-pointed anywhere between this check and its use.
  const shown = show(config.rootfs);
  switch (options.inspectPath?.(config.rootfs)) {
    case "missing":
      yield issue(["rootfs"], `Does not exist: ${shown}`);
      break;
    case "symlink":
      yield issue(["rootfs"], `Must not be a symlink: ${shown}`);
      break;
    case "other":
      yield issue(["rootfs"], `Must be a directory: ${shown}`);
      break;
  }
}

function* namespaces(config: Config, options: ValidateOptions): Iterable<ConfigIssue> {
  const seen = new Set<NamespaceType>();
  for (const [i, ns] of config.namespaces.entries()) {
    if (seen.has(ns.type)) yield issue(["namespaces", i, "type"], `Listed twice: ${show(ns.type)}`);
    seen.add(ns.type);
    if (ns.path !== "") yield* absolute(["namespaces", i, "path"], ns.path);
    if (ns.type === "NEWUSER" && options.userNamespacesAvailable === false) {
      yield issue(["namespaces", i, "type"], "User namespaces are not available on this host");
    }
  }
}

function* namespaceNeeds(config: Config): Iterable<ConfigIssue> {
  if (config.hostname !== "" && !has(config, "NEWUTS")) yield issue(["hostname"], needs("NEWUTS"));
  const lists = [
    ["networks", "NEWNET"],
    ["routes", "NEWNET"],
    ["mask_paths", "NEWNS"],
    ["readonly_paths", "NEWNS"],
    ["uid_mappings", "NEWUSER"],
    ["gid_mappings", "NEWUSER"],
  ] as const;
  for (const [field, type] of lists) {
    if (config[field].length > 0 && !has(config, type)) yield issue([field], needs(type));
  }
  // A new user namespace without a mapping for root would leave the init unmapped.
  const userNs = config.namespaces.find((ns) => ns.type === "NEWUSER");
  if (userNs === undefined) return;
  for (const field of ["uid_mappings", "gid_mappings"] as const) {
    if (userNs.path !== "") {
      if (config[field].length > 0) {
        yield issue([field], "Must be empty when the user namespace is joined by `path`");
      }
    } else if (!config[field].some((m) => m.container_id === 0)) {
      yield issue([field], "Must map container id 0 when a `NEWUSER` namespace is created");
    }
  }
}

/** The kernel's limit on the lines of one uid_map or gid_map. */
const MAX_ID_MAP_RANGES = 340;

/** Ids the config names inside the container must be mapped, or the kernel refuses them. */
function* mappedIds(config: Config): Iterable<ConfigIssue> {
  if (!config.namespaces.some((ns) => ns.type === "NEWUSER" && ns.path === "")) return;
  for (const [i, gid] of config.additional_groups.entries()) {
    if (!isMapped(config.gid_mappings, gid)) {
      yield issue(["additional_groups", i], `Gid ${gid} is not mapped by \`gid_mappings\``);
    }
  }
  for (const [i, mount] of config.mounts.entries()) {
    for (const option of mount.data.split(",")) {
      const match = /^([ug]id)=(\d+)$/.exec(option);
      if (!match) continue;
      const field = match[1] === "uid" ? "uid_mappings" : "gid_mappings";
      if (!isMapped(config[field], Number(match[2]))) {
        yield issue(
          ["mounts", i, "data"],
          `\`${option}\` names an id that \`${field}\` does not map: map it or drop the option`,
        );
      }
    }
  }
}

/** Kernel rule: ranges fit in 32 bits and overlap neither inside nor outside. */
function* idMappings(config: Config): Iterable<ConfigIssue> {
  const end = (start: number, m: IdMap) => start + m.size;
  for (const field of ["uid_mappings", "gid_mappings"] as const) {
    const maps = config[field];
    if (maps.length > MAX_ID_MAP_RANGES) {
      yield issue(
        [field],
        `Too many ranges: the kernel takes at most ${MAX_ID_MAP_RANGES}, got ${maps.length}`,
      );
    }
    for (const [i, m] of maps.entries()) {
      if (end(m.container_id, m) > 2 ** 32 || end(m.host_id, m) > 2 ** 32) {
        yield issue(
          [field, i, "size"],
          `Too large: the range must end within 32 bits, got ${show(m.size)}`,
        );
      }
      for (const [j, other] of maps.slice(0, i).entries()) {
        const overlaps = (key: "container_id" | "host_id") =>
          m[key] < end(other[key], other) && other[key] < end(m[key], m);
        if (overlaps("container_id")) {
          yield issue([field, i], `Container ids overlap those of \`${field}[${j}]\``);
        }
        if (overlaps("host_id")) {
          yield issue([field, i], `Host ids overlap those of \`${field}[${j}]\``);
        }
      }
    }
  }
}

function isUnder(path: string, dir: string): boolean {
  return path === dir || path.startsWith(`${dir}/`);
}

/** Where a mount may not go: `/` itself, and anything in /proc but proc on /proc. */
function* mountDestination(path: readonly PropertyKey[], mount: Mount): Iterable<ConfigIssue> {
  if (!isAbsolute(mount.destination)) return yield* absolute(path, mount.destination);
  const destination = normalize(mount.destination);
  if (destination === "/") {
    yield issue(path, "Must not be `/`: that is the rootfs itself");
  } else if (
    isUnder(destination, "/proc") && !(mount.device === "proc" && destination === "/proc")
  ) {
    // A mount over /proc/* can hide or redirect files the runtime relies on (CVE-2019-16884).
    const got = show(mount.destination);
    yield issue(path, `Must not be in /proc: only a \`proc\` mount may go on /proc, got ${got}`);
  }
}

function* mounts(config: Config): Iterable<ConfigIssue> {
  for (const [i, mount] of config.mounts.entries()) {
    const at = ["mounts", i];
    yield* mountDestination([...at, "destination"], mount);
    if (mount.device === "bind" && mount.source === "") {
      yield issue([...at, "source"], "Must not be empty: a bind mount needs a source");
    }
    for (const key of ["premount_cmds", "postmount_cmds"] as const) {
      for (const [j, command] of mount[key].entries()) {
        if (command.path === "") {
          yield issue([...at, key, j, "path"], "Must not be empty: give the program to run");
        }
      }
    }
  }
}

function* deviceNodes(config: Config): Iterable<ConfigIssue> {
  const paths = new Set<string>();
  for (const [i, device] of config.devices.entries()) {
    const at = ["devices", i];
    if (device.type === "a") {
      yield issue(
        [...at, "type"],
        "Must be `c`, `b` or `p` for a node: `a` only belongs in cgroup rules",
      );
    }
    const path = normalize(device.path);
    if (!isAbsolute(device.path)) yield* absolute([...at, "path"], device.path);
    else if (!path.startsWith("/dev/")) {
      yield issue([...at, "path"], `Must be under /dev, got ${show(device.path)}`);
    } else if (paths.has(path)) yield issue([...at, "path"], `Listed twice: ${show(device.path)}`);
    paths.add(path);
    for (const key of ["major", "minor"] as const) {
      if (device[key] < 0) {
        yield issue([...at, key], "Must not be -1: wildcards only belong in cgroup rules");
      }
    }
    yield* permissions([...at, "permissions"], device.permissions, false);
    if (device.file_mode > 0o7777) {
      yield issue(
        [...at, "file_mode"],
        `Must be permission bits within 0o7777, got 0o${device.file_mode.toString(8)}`,
      );
    }
  }
}

function* cgroupDeviceRules(config: Config): Iterable<ConfigIssue> {
  for (const key of ["allowed_devices", "denied_devices"] as const) {
    for (const [i, rule] of config.cgroups[key].entries()) {
      const at = ["cgroups", key, i];
      if (rule.type === "p") {
        yield issue(
          [...at, "type"],
          "Must be `a`, `c` or `b`: the devices cgroup has no fifo rules",
        );
      }
      yield* permissions([...at, "permissions"], rule.permissions, true);
    }
  }
}

function* capabilities(config: Config): Iterable<ConfigIssue> {
  const seen = new Set<string>();
  for (const [i, name] of config.capabilities.entries()) {
    if (seen.has(name)) yield issue(["capabilities", i], `Listed twice: ${show(name)}`);
    seen.add(name);
    if (isCapabilityName(name)) continue;
    const prefixed = /^CAP_/i.test(name);
    const meant = name.replace(/^CAP_/i, "").toUpperCase();
    let hint = "";
    if (isCapabilityName(meant)) {
      hint = prefixed
        ? `: write ${show(meant)}, without the \`CAP_\` prefix`
        : `: names are upper case, write ${show(meant)}`;
    }
    yield issue(["capabilities", i], `Unknown capability ${show(name)}${hint}`);
  }
}

function* rlimits(config: Config): Iterable<ConfigIssue> {
  const seen = new Set<number>();
  for (const [i, limit] of config.rlimits.entries()) {
    const name = rlimitName(limit.type);
    if (name === undefined) {
      yield issue(
        ["rlimits", i, "type"],
        `Unknown resource limit: ${show(limit.type)} is not an \`RLIMIT_*\` number`,
      );
    } else if (seen.has(limit.type)) {
      yield issue(["rlimits", i, "type"], `Listed twice: ${show(name)}`);
    }
    seen.add(limit.type);
    // -1 is RLIM_INFINITY, larger than any number.
    const rank = (value: number) => value < 0 ? Infinity : value;
    if (rank(limit.soft) > rank(limit.hard)) {
      yield issue(
        ["rlimits", i, "soft"],
        `Must not exceed the hard limit ${show(limit.hard)}, got ${show(limit.soft)}`,
      );
    }
  }
}

function* maskedAndReadonlyPaths(config: Config): Iterable<ConfigIssue> {
  for (const key of ["mask_paths", "readonly_paths"] as const) {
    for (const [i, path] of config[key].entries()) yield* absolute([key, i], path);
  }
}

const IPC_SYSCTLS = new Set([
  "kernel.msgmax",
  "kernel.msgmnb",
  "kernel.msgmni",
  "kernel.sem",
  "kernel.shmall",
  "kernel.shmmax",
  "kernel.shmmni",
  "kernel.shm_rmid_forced",
]);

const SYSCTL_NAME = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;

/** The namespace that isolates a sysctl, or `undefined` when it is global to the host. */
function sysctlNamespace(key: string): NamespaceType | undefined {
  if (IPC_SYSCTLS.has(key) || key.startsWith("fs.mqueue.")) return "NEWIPC";
  if (key.startsWith("net.")) return "NEWNET";
  if (key === "kernel.hostname" || key === "kernel.domainname") return "NEWUTS";
  return undefined;
}

/** Only sysctls a namespace isolates are allowed; the rest would change the host (as runc decides). */
function* systemProperties(config: Config): Iterable<ConfigIssue> {
  for (const key of Object.keys(config.system_properties)) {
    const at = ["system_properties", key];
    if (!SYSCTL_NAME.test(key)) {
      yield issue(
        at,
        "Invalid sysctl name: expected dot-separated parts of letters, digits, `_` and `-`",
      );
      continue;
    }
    const type = sysctlNamespace(key);
    if (type === undefined) yield issue(at, "Not namespaced: it would change the host");
    else if (!has(config, type)) yield issue(at, needs(type));
    else if (key === "kernel.hostname" && config.hostname !== "") {
      yield issue(at, "Conflicts with `hostname`: set only one of them");
    }
  }
}

function* cgroupPath(config: Config): Iterable<ConfigIssue> {
  const { name, parent } = config.cgroups;
  // The cgroup path is joined under each hierarchy's root; `..` would escape it.
  if (name.includes("/")) {
    yield issue(["cgroups", "name"], `Must not contain \`/\`, got ${show(name)}`);
  } else if (name === "." || name === "..") {
    yield issue(["cgroups", "name"], `Must not be ${show(name)}`);
  }
  if (parent.split("/").includes("..")) {
    yield issue(["cgroups", "parent"], `Must not contain \`..\` components, got ${show(parent)}`);
  }
}

/**
 * Addresses, MAC, interface names, MTU and routes, with the parsers the
 * network setup itself uses; and no veth or route in a network namespace
 * joined by path (it belongs to someone else: nothing is set up there).
 */
function* networks(config: Config): Iterable<ConfigIssue> {
  yield* networkIssues(config.networks, config.routes);
  const joined = config.namespaces.find((ns) => ns.type === "NEWNET" && ns.path !== "");
  if (joined === undefined) return;
  const why = `Needs a network namespace of the container's own, not one joined by path (${
    show(joined.path)
  })`;
  for (const [i, network] of config.networks.entries()) {
    if (network.type !== "loopback") yield issue(["networks", i, "type"], why);
  }
  if (config.routes.length > 0) yield issue(["routes"], why);
}

/** The semantic checks, in the order they run and report. */
export const CHECKS: readonly Check[] = Object.freeze([
  { name: "rootfs", run: rootfs },
  { name: "namespaces", run: namespaces },
  { name: "namespace-needs", run: namespaceNeeds },
  { name: "id-mappings", run: idMappings },
  { name: "mapped-ids", run: mappedIds },
  { name: "mounts", run: mounts },
  { name: "device-nodes", run: deviceNodes },
  { name: "cgroup-device-rules", run: cgroupDeviceRules },
  { name: "capabilities", run: capabilities },
  { name: "rlimits", run: rlimits },
  { name: "masked-and-readonly-paths", run: maskedAndReadonlyPaths },
  { name: "system-properties", run: systemProperties },
  { name: "cgroup-path", run: cgroupPath },
  { name: "networks", run: networks },
]);

/**
 * Runs every semantic check on a config whose shape is already valid.
 *
 * @returns Every issue found, in check order; empty when the config is good.
 */
export function validateConfig(config: Config, options: ValidateOptions = {}): ConfigIssue[] {
  return CHECKS.flatMap((check) => [...check.run(config, options)]);
}
