/**
 * Starting a process in a container: the first one creates the container's
 * namespaces, cgroups and root filesystem (init); later ones, while the init
 * lives, join them. Each side effect registers its undo, released only on
 * success.
 *
 * @module
 */
import type { Config } from "../config/mod.ts";
import { ConfigError, ContainerError } from "../errors.ts";
import {
  type CgroupDir,
  cgroupDirs,
  cgroupPathsRecord,
  cgroupPlacement,
  dirsFromRecord,
} from "../cgroups/paths.ts";
import { cgroupLayout } from "../cgroups/hierarchies.ts";
import { createCgroups, removeCgroups } from "../cgroups/manager.ts";
import { killAll } from "../cgroups/freezer.ts";
import { applyLimits } from "../cgroups/limits.ts";
import { cgroupMode } from "../cgroups/mode.ts";
import { enableControllers } from "../cgroups/subtree.ts";
import { applyDeviceRulesV1, attachDeviceProgram, devicePolicy } from "../devices/mod.ts";
import {
  buildInitPlan,
  buildJoinPlan,
  needsNetworkSetup,
  type PlanProcess,
  SYNC_TAG,
} from "../plan/build.ts";
import { DEFAULT_PATH } from "../plan/exec.ts";
import type { CgroupMountSource, SourceKind } from "../plan/mounts.ts";
import { hostLsms, unsupportedFeatures } from "../plan/support.ts";
import { hostFacts, seccompProgram } from "../plan/security.ts";
import { Launch, launch } from "../process/launch.ts";
import type { ProcessOptions } from "../process/options.ts";
import { ContainerProcess } from "../process/process.ts";
import { type PreparedStdio, prepareStdio, releaseStdio, stdioStreams } from "../process/stdio.ts";
import { type HostInterface, readState, type StateFile, writeState } from "../state/state.ts";
import { deleteHostInterface, setupNetworks } from "../network/strategies.ts";
import { closeFd, lstat, readDir, readFileInRoot, stat } from "../sys/fs.ts";
import { dirname } from "../_deps/path.ts";
import { closePidfd, pidfdOpen, processStat } from "../sys/proc.ts";
import { resolveUser } from "../user/lookup.ts";
import type { ExecUser } from "../user/lookup.ts";
import { closeNamespaces, NAMESPACE_FILES, openNamespaces } from "./namespaces.ts";
import { rootlessIssues } from "../plan/userns.ts";
import { callerIds } from "../sys/ids.ts";
import {
  checkUserMapped,
  checkUserNamespaceHost,
  setgroupsAllowed,
  writableCgroupDirs,
  writeIdMaps,
} from "./userns.ts";

const DEFAULT_ENV = [`PATH=${DEFAULT_PATH}`];

/** A container as the start functions see it. */
export interface StartTarget {
  id: string;
  dir: string;
  config: Config;
}

/** Undo steps run in reverse order when a start fails; errors during undo are attached, not thrown. */
class Undo {
  #steps: (() => unknown)[] = [];

  push(step: () => unknown): void {
    this.#steps.push(step);
  }

  async run(error: unknown): Promise<never> {
    for (const step of this.#steps.reverse()) {
      try {
        await step();
      } catch (cleanupError) {
        if (error instanceof ContainerError) error.cleanupErrors.push(cleanupError);
      }
    }
    throw error;
  }
}

function planProcess(options: ProcessOptions): PlanProcess {
  if (!Array.isArray(options.args) || options.args.length === 0 || options.args[0] === "") {
    throw new ConfigError([{ path: "process.args", message: "Must name a program to run" }]);
  }
  return {
    args: options.args,
    env: options.env ?? DEFAULT_ENV,
    cwd: options.cwd ?? "/",
    terminal: options.terminal ?? false,
    ...(options.consoleSize ? { consoleSize: options.consoleSize } : {}),
    ...(options.capabilities ? { capabilities: options.capabilities } : {}),
  };
}

/** Looks the user up in the container's own /etc/passwd and /etc/group. */
function lookupUser(root: string, config: Config, options: ProcessOptions): ExecUser {
  return resolveUser(
    options.user ?? "",
    { passwd: readFileInRoot(root, "/etc/passwd"), group: readFileInRoot(root, "/etc/group") },
    {
      additionalGroups: [...config.additional_groups, ...(options.additionalGroups ?? [])],
      field: "process.user",
    },
  );
}

/** Whether each bind source is a file or a directory, and that it exists. */
function bindSourceKinds(config: Config): Map<number, SourceKind> {
  const kinds = new Map<number, SourceKind>();
  config.mounts.forEach((mount, index) => {
    if (mount.device !== "bind") return;
    const info = stat(mount.source);
    if (info === null) {
      throw new ConfigError([{
        path: `mounts[${index}].source`,
        message: `\`${mount.source}\` does not exist`,
      }]);
    }
    kinds.set(index, info.kind === "directory" ? "directory" : "file");
  });
  return kinds;
}

function streams(options: ProcessOptions): PreparedStdio {
  if (options.terminal) return prepareStdio(["null", "null", "null"]);
  return prepareStdio([
    options.stdin ?? "inherit",
    options.stdout ?? "inherit",
    options.stderr ?? "inherit",
  ]);
}

function processFrom(
  launched: { pid: number; pidfd: number; console: ContainerProcess["console"] },
  stdio: PreparedStdio,
  terminal: boolean,
  onExit?: () => Promise<void> | void,
): ContainerProcess {
  const piped = terminal ? { stdin: null, stdout: null, stderr: null } : stdioStreams(stdio);
  return new ContainerProcess({ ...launched, ...piped, ...(onExit ? { onExit } : {}) });
}

/** The container's cgroup directories as a `cgroup` mount shows them, one per hierarchy. */
function cgroupMountSources(dirs: readonly CgroupDir[]): CgroupMountSource[] {
  return dirs.map(({ hierarchy, path }) => {
    const name = hierarchy.version === 2 && dirs.length === 1
      ? ""
      : hierarchy.mountpoint.slice(hierarchy.mountpoint.lastIndexOf("/") + 1);
    const links = hierarchy.subsystems.filter((s) => s !== name && !s.includes("="));
    return { name, path, links: name.includes(",") ? links : [] };
  });
}

/** Cgroup directories that other containers under the same state root created. */
function cgroupDirsOfOthers(target: StartTarget): Set<string> {
  const root = dirname(target.dir);
  const dirs = new Set<string>();
  for (const entry of readDir(root)) {
    if (entry.name.startsWith(".") || entry.name === target.id) continue;
    try {
      readState(`${root}/${entry.name}`, entry.name)?.cgroup_created.forEach((path) =>
        dirs.add(path)
      );
    } catch {
      // a corrupt or vanishing neighbour only means less sharing
    }
  }
  return dirs;
}

/** The directories (leaves and parents) of `dirs` that do not exist yet, outermost first. */
function missingCgroupDirs(dirs: readonly CgroupDir[]): string[] {
  const missing: string[] = [];
  for (const dir of dirs) {
    const parts = dir.path.slice(dir.hierarchy.mountpoint.length).split("/").filter(Boolean);
    let current = dir.hierarchy.mountpoint;
    for (const part of parts) {
      current = `${current}/${part}`;
      if (lstat(current) === null) missing.push(current);
    }
  }
  return missing;
}

/**
 * Kills whatever is left in the container's cgroup (when it shares the
 * host's pid namespace): cgroup.kill, or freeze, SIGKILL each, thaw.
 */
export async function killCgroupProcesses(state: StateFile): Promise<void> {
  await killAll(state.cgroup_paths);
}

/**
 * Deletes the host ends of a container's veths that are still there (the
 * kernel tears a dead network namespace down in the background, so they
 * may outlive the init for a while); one gone or taken by a newer link
 * is skipped.
 */
export function deleteHostInterfaces(interfaces: readonly HostInterface[]): void {
  for (const { name, index } of interfaces) deleteHostInterface(name, { index });
}

/**
 * The init's network, set up from the parent while the init runs its plan:
 * the veths (host end on the bridge, container end made in the init's
 * namespace) and the routes, over netlink. `lo` is not touched here: the
 * init brings it up itself (the plan's IFUP op). A failure is kept for the
 * init's sync point, so that an error of the init's own, which would take
 * its namespace away, is the one reported.
 */
class NetworkSetup {
  #error: unknown;
  made: HostInterface[] = [];

  constructor(readonly config: Config) {}

  /** Sets everything up in the namespace of `pid`; returns the sync tags it made ready. */
  run(pid: number): number[] {
    try {
      const veths = setupNetworks(this.config.networks, this.config.routes, { pid }, {
        loopback: false,
      });
      this.made = veths.map((v) => ({ name: v.hostInterfaceName, index: v.hostInterfaceIndex }));
      return [SYNC_TAG.NETWORK];
    } catch (error) {
      this.#error = error;
      return [];
    }
  }

  /** The init reached its network sync point unanswered: the setup failed. */
  failed(): never {
    throw this.#error ?? new ContainerError("SystemError", "The network setup did not run");
  }
}

/** Starts the container's first process, creating everything the config asks for. */
export async function startInit(
  target: StartTarget,
  state: StateFile,
  options: ProcessOptions,
): Promise<ContainerProcess> {
  const { config } = target;
  const caller = callerIds();
  const unprivileged = caller.uid !== 0;
  // An unnamed cgroup takes the container's id, so two containers never share one.
  const cgroup = { parent: config.cgroups.parent, name: config.cgroups.name || target.id };
  const { hierarchies, initPaths } = cgroupLayout();
  const allDirs = cgroupDirs(hierarchies, initPaths, cgroup);
  // Without root, only cgroups delegated to the caller are used; the others are not touched.
  const dirs = unprivileged ? writableCgroupDirs(allDirs, caller) : allDirs;
  const issues = [
    ...(unprivileged
      ? rootlessIssues(config, { ...caller, cgroupsWritable: dirs.length === allDirs.length })
      : []),
    ...unsupportedFeatures(config, hostLsms()),
  ];
  if (issues.length > 0) throw new ConfigError(issues);
  checkUserNamespaceHost(config);
  const process = planProcess(options);
  // Compiled (and cached) before anything is made, so a profile that cannot compile leaves nothing.
  seccompProgram(config, process.capabilities ?? config.capabilities, hostFacts());
  // A restart: the last run's veths may not be torn down yet, and a fixed
  // host_interface_name would clash with them.
  if (state.host_interfaces.length > 0) deleteHostInterfaces(state.host_interfaces);

  const undo = new Undo();
  try {
    const namespaces = openNamespaces(config);
    undo.push(() => closeNamespaces(namespaces));
    const stdio = streams(options);
    undo.push(() => releaseStdio(stdio));
    // Spawned first, the helper starts up while the plan is prepared.
    const helper = Launch.spawn({
      stdio: stdio.childFds,
      extraFiles: options.extraFiles ?? [],
      joins: namespaces.map((ns) => ns.fd),
    });
    let planSent = false;
    undo.push(() => planSent ? undefined : helper.abort());

    const createsMountNs = config.namespaces.some((ns) => ns.type === "NEWNS" && ns.path === "");
    const user = lookupUser(createsMountNs ? config.rootfs : "/", config, options);
    checkUserMapped(config, user);
    const bindSources = bindSourceKinds(config);

    // A parent that already exists was made by the runtime if this container
    // made it on an earlier start, or another container did (read only when needed).
    let shared: Set<string> | undefined;
    const madeByRuntime = (path: string) =>
      state.cgroup_created.includes(path) || (shared ??= cgroupDirsOfOthers(target)).has(path);
    // Recorded before anything is made: when the creator dies in the middle of
    // start(), destroy() finds the leaves and the parents that this start
    // makes (parents are removed only when empty).
    const paths = cgroupPathsRecord(dirs);
    writeState(target.dir, {
      ...state,
      cgroup_paths: paths,
      cgroup_created: [...new Set([...state.cgroup_created, ...missingCgroupDirs(dirs)])],
    });
    undo.push(() => writeState(target.dir, state));
    const created: string[] = [];
    const makeCgroups = (some: CgroupDir[]) => {
      const made = createCgroups(some, { madeByRuntime }).created;
      created.push(...made);
      undo.push(() => removeCgroups(some.map((d) => d.path), made));
    };
    const policy = devicePolicy({
      allowAll: config.cgroups.allow_all_devices,
      allowed: config.cgroups.allowed_devices,
      denied: config.cgroups.denied_devices,
    });
    // The v2 directory must exist before the clone (the init is born in it);
    // the v1 ones are made while the helper clones, and the init enters them
    // once they are ready (SYNC_TAG.CGROUPS).
    const unified = dirs.find((d) => d.hierarchy.version === 2);
    makeCgroups(unified ? [unified] : []);
    let deviceProgram: { close(): void } | undefined;
    if (unified && cgroupMode(hierarchies) === "v2") {
      // Every controller lives here: delegate them, guard devices with a
      // program and set the limits, all before the init is born in it.
      enableControllers(unified.hierarchy.mountpoint, unified.path);
      const attached = attachDeviceProgram(unified.path, policy);
      undo.push(() => attached.detach());
      deviceProgram = attached;
      applyLimits(paths, config.cgroups, { rollback: false });
    }
    const makeV1Cgroups = () => {
      const v1 = dirs.filter((d) => d.hierarchy.version === 1);
      if (v1.length === 0) return [];
      makeCgroups(v1);
      const devices = v1.find((d) => d.hierarchy.subsystems.includes("devices"));
      if (devices) applyDeviceRulesV1(devices.path, policy);
      // A refused limit fails the start here, naming the field; the undo removes the cgroups.
      applyLimits(paths, config.cgroups, { rollback: false });
      // Answered only when the plan waits for it: a go-ahead nobody reads would be taken for the next one.
      const waits = plan.some((op) => op.op === "SYNC" && op.tag === SYNC_TAG.CGROUPS);
      return waits ? [SYNC_TAG.CGROUPS] : [];
    };

    const plan = buildInitPlan({
      config,
      process,
      user,
      bindSources,
      joins: namespaces.map((ns, i) => ({ type: ns.type, path: ns.path, fd: helper.joinFds[i]! })),
      cgroups: cgroupPlacement(dirs.map((d) => ({ path: d.path, version: d.hierarchy.version }))),
      unprivileged,
      cgroupMounts: cgroupMountSources(dirs),
    });
    const started: StateFile = {
      ...state,
      cgroup_paths: paths,
      cgroup_created: created,
      host_interfaces: [],
    };
    const network = needsNetworkSetup(config) ? new NetworkSetup(config) : null;
    planSent = true; // from here on, run() stops and reaps whatever it started
    const launched = await helper.run(plan, {
      whileCloning: makeV1Cgroups,
      onPid: (pid) => {
        const ready = network?.run(pid) ?? [];
        if (network && network.made.length > 0) {
          const made = network.made;
          undo.push(() => deleteHostInterfaces(made));
          started.host_interfaces = made;
        }
        started.init_process_pid = pid;
        started.init_process_start = processStat(pid)?.start ?? "";
        started.namespace_paths = Object.fromEntries(
          Object.entries(NAMESPACE_FILES).map(([type, file]) => [type, `/proc/${pid}/ns/${file}`]),
        );
        writeState(target.dir, started);
        undo.push(() => writeState(target.dir, state));
        return ready;
      },
      onReady: (tag) => {
        if (tag === SYNC_TAG.USERMAP) writeIdMaps(started.init_process_pid, config, unprivileged);
        if (tag === SYNC_TAG.NETWORK) network?.failed();
      },
    });
    closeNamespaces(namespaces);
    // The cgroup holds the program now; its descriptors are no longer needed.
    deviceProgram?.close();
    stdio.closeAfterSpawn.forEach(closeFd);
    const sharesPidNs = !config.namespaces.some((ns) => ns.type === "NEWPID");
    // Without its own pid namespace, the init's exit does not take the others with it.
    const onExit = sharesPidNs ? () => killCgroupProcesses(started) : undefined;
    return processFrom(launched, stdio, process.terminal, onExit);
  } catch (error) {
    return await undo.run(error);
  }
}

/** Starts a process inside a running container's namespaces and cgroups. */
export async function startJoined(
  target: StartTarget,
  state: StateFile,
  options: ProcessOptions,
): Promise<ContainerProcess> {
  const process = planProcess(options);
  const initPid = state.init_process_pid;
  const pidfd = pidfdOpen(initPid);
  const undo = new Undo();
  undo.push(() => closePidfd(pidfd));
  try {
    // Opened first, checked second: if the start time still matches, the pidfd is the init.
    if (processStat(initPid)?.start !== state.init_process_start) {
      throw new ContainerError("ContainerNotRunning", `Container \`${target.id}\` is not running`);
    }
    const user = lookupUser(`/proc/${initPid}/root`, target.config, options);
    const stdio = streams(options);
    undo.push(() => releaseStdio(stdio));
    const launched = await launch({
      plan: ({ joinFds }) =>
        buildJoinPlan({
          config: target.config,
          process,
          user,
          initPidfd: joinFds[0]!,
          initPid,
          cgroups: cgroupPlacement(dirsFromRecord(state.cgroup_paths)),
          setgroups: setgroupsAllowed(initPid),
        }),
      stdio: stdio.childFds,
      extraFiles: options.extraFiles ?? [],
      joins: [pidfd],
    });
    closePidfd(pidfd);
    stdio.closeAfterSpawn.forEach(closeFd);
    return processFrom(launched, stdio, process.terminal);
  } catch (error) {
    return await undo.run(error);
  }
}
