/**
 * libcontainer for Deno: create and manage Linux containers (namespaces,
 * cgroups, capabilities, devices, mounts) from a Deno program, with only
 * `--allow-ffi`. The container's processes are started by a small static
 * helper that runs from a sealed memfd; the policy is all TypeScript.
 *
 * ```ts ignore
 * import { builtinRootfs, createFactory, defaultConfig } from "./mod.ts";
 *
 * const factory = await createFactory({ root: "/run/nsinit" });
 * const config = defaultConfig({ rootfs: builtinRootfs(factory.root) });
 * const container = await factory.create("demo", config);
 * const process = await container.start({ args: ["/bin/probe", "report"] });
 * const status = await process.wait();
 * await container.destroy();
 * ```
 *
 * Run as root: `deno run --allow-ffi your_program.ts`.
 *
 * @module
 */

export { createFactory, DEFAULT_ROOT } from "./lib/container/factory.ts";
export type { Factory, FactoryOptions } from "./lib/container/factory.ts";
export { Container } from "./lib/container/container.ts";
export type { ContainerState, ContainerStatus, StatsOptions } from "./lib/container/container.ts";
export { CgroupLimitError } from "./lib/cgroups/limits.ts";
export type { CgroupLimits } from "./lib/cgroups/limits.ts";
export type { OomEvent, OomEvents } from "./lib/cgroups/oom.ts";
export { StatsCollector } from "./lib/stats/mod.ts";
export type { CgroupMode, CollectOptions } from "./lib/stats/mod.ts";
export type {
  BlkioStatEntry,
  BlkioStats,
  CpuStats,
  CpuUsage,
  HugetlbStats,
  InterfaceStats,
  MemoryData,
  MemoryStats,
  PidsStats,
  Stats,
  ThrottlingData,
} from "./lib/stats/mod.ts";
export type { HostInterface, StateFile } from "./lib/state/state.ts";

export { ContainerProcess } from "./lib/process/process.ts";
export type { ExitStatus, ProcessOutput } from "./lib/process/process.ts";
export type { ProcessOptions } from "./lib/process/options.ts";
export type { Stdio } from "./lib/process/stdio.ts";
export { Console } from "./lib/process/console.ts";

export {
  configToJson,
  defaultConfig,
  MS,
  parseConfig,
  parseConfigJson,
  resolveRootfs,
  rootlessConfig,
  userNamespaceMappings,
  withUserNamespace,
} from "./lib/config/mod.ts";
export type {
  Cgroup,
  CgroupInput,
  Command,
  CommandInput,
  Config,
  ConfigInput,
  DefaultConfigOptions,
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
  PathKind,
  Rlimit,
  RlimitInput,
  Route,
  RouteInput,
  ValidateOptions,
} from "./lib/config/mod.ts";
export { readConfigFile, readConfigInput, writeConfigFile } from "./lib/config/file.ts";
export { DEFAULT_SECCOMP_PROFILE } from "./lib/seccomp/mod.ts";
export type {
  SeccompAction,
  SeccompArchitecture,
  SeccompArchMapEntry,
  SeccompArg,
  SeccompFlag,
  SeccompOperator,
  SeccompProfile,
  SeccompRuleFilter,
  SeccompSyscall,
} from "./lib/seccomp/mod.ts";

export { ConfigError, ContainerError, SystemError } from "./lib/errors.ts";
export type { ConfigIssue, ErrorCode } from "./lib/errors.ts";

export { builtinRootfs } from "./lib/rootfs/builtin.ts";
export { namespaceIds } from "./lib/sys/namespaces.ts";
export type { NamespaceFile } from "./lib/sys/namespaces.ts";
export { workingDirectory } from "./lib/sys/cwd.ts";
export { callerIds } from "./lib/sys/ids.ts";
export type { CallerIds } from "./lib/sys/ids.ts";
export { signalNumber } from "./lib/sys/proc.ts";
export { makeRaw } from "./lib/sys/terminal.ts";
export type { RawTerminal } from "./lib/sys/terminal.ts";
export { refuseInspectorSignal } from "./lib/sys/inspector_signal.ts";
