/**
 * Container configuration: the shape checks, the semantic checks, the nsinit
 * template and the kernel constants configs name.
 *
 * A config is validated once, up front: {@link parseConfig} either returns a
 * `Config` with every default filled in, or throws a `ConfigError` listing
 * every problem with its field path. Nothing here touches the filesystem;
 * the one host check (the rootfs) goes through `ValidateOptions.inspectPath`.
 *
 * @module
 */
export { configToJson, parseConfig, parseConfigJson } from "./parse.ts";
// Config files carry a relative rootfs, usually `.`: the CLI resolves it
// against the directory holding the file (nsinit users keep container.json
// next to or inside the rootfs), so the same file works wherever it is
// unpacked. The caller knows that directory; this module never looks it up.
export { resolveRootfs } from "./parse.ts";
export { CHECKS, validateConfig } from "./validate.ts";
export type { Check, PathKind, ValidateOptions } from "./validate.ts";
export type { ConfigIssue } from "../errors.ts";
export {
  DEFAULT_ALLOWED_DEVICES,
  DEFAULT_AUTO_CREATED_DEVICES,
  DEFAULT_MASKED_PATHS,
  DEFAULT_MOUNTS,
  DEFAULT_READONLY_PATHS,
  DEFAULT_SIMPLE_DEVICES,
  defaultConfig,
} from "./defaults.ts";
export type { DefaultConfigOptions } from "./defaults.ts";
export { CAPABILITIES, capabilityNumber, isCapabilityName } from "./capabilities.ts";
export type { CapabilityName } from "./capabilities.ts";
export { rlimitName, rlimitNumber, RLIMITS } from "./rlimits.ts";
export type { RlimitName } from "./rlimits.ts";
export { MS } from "./mount_flags.ts";
export {
  hostIdOf,
  idMapText,
  isMapped,
  rootlessConfig,
  userNamespaceMappings,
  withUserNamespace,
} from "./userns.ts";
export { MOUNT_DEVICES, NAMESPACE_TYPES } from "./schema.ts";
export type {
  Cgroup,
  CgroupInput,
  Command,
  CommandInput,
  Config,
  ConfigInput,
  Device,
  DeviceInput,
  DeviceType,
  DeviceTypeCode,
  IdMap,
  IfPriority,
  Mount,
  MountDevice,
  MountInput,
  Namespace,
  NamespaceInput,
  NamespaceType,
  Network,
  NetworkInput,
  Rlimit,
  RlimitInput,
  Route,
  RouteInput,
} from "./types.ts";
