/**
 * A container: a root filesystem, namespaces and cgroups around a first
 * process, recorded in `<root>/<id>/state.json` so that any process can
 * manage it.
 *
 * @module
 */
import { type Config, parseConfig } from "../config/mod.ts";
import { ConfigError, ContainerError } from "../errors.ts";
import { freeze, thaw } from "../cgroups/freezer.ts";
import { cgroupLayout } from "../cgroups/hierarchies.ts";
import { type CgroupLimits, LIMIT_FIELDS, setLimits } from "../cgroups/limits.ts";
import { cgroupPids } from "../cgroups/manager.ts";
import { cgroupMode } from "../cgroups/mode.ts";
import { notifyOom, type OomEvents } from "../cgroups/oom.ts";
import { collectStats, type Stats, StatsCollector } from "../stats/mod.ts";
import type { ProcessOptions } from "../process/options.ts";
import type { ContainerProcess } from "../process/process.ts";
import { hostInterfaceNames, readState, type StateFile, writeState } from "../state/state.ts";
import {
  type ContainerLock,
  lockContainer,
  lockContainerNow,
  type LockMode,
} from "../state/lock.ts";
import { closePidfd, pidfdOpen, pidfdSignal, signalNumber } from "../sys/proc.ts";
import { destroyContainer } from "./destroy.ts";
import { startInit, startJoined } from "./start.ts";
import { type ContainerStatus, initAlive, statusOf } from "./status.ts";

export type { ContainerStatus };

/** A snapshot of a container's state file (the seed's State, plus cleanup records). */
export type ContainerState = Readonly<StateFile>;

/** Options of {@link Container.stats}. */
export interface StatsOptions {
  /**
   * Host-side names of the container's network interfaces (veth peers)
   * whose counters to report; by default those the container's state
   * records ({@link hostInterfaceNames}).
   */
  interfaces?: readonly string[];
}

/** The fields `set()` takes. */
const SETTABLE: ReadonlySet<string> = new Set(LIMIT_FIELDS);

/** True for a limit value that leaves the kernel's value (0, "", false, []). */
function isUnset(value: unknown): boolean {
  return value === 0 || value === "" || value === false || value === undefined ||
    (Array.isArray(value) && value.length === 0);
}

/** A container created or loaded by a {@link Factory}. */
export class Container {
  #id: string;
  #dir: string;
  #config: Config;
  #ino: bigint | undefined;

  /** @internal Use `Factory.create()` or `Factory.load()`. */
  constructor(id: string, dir: string, config: Config, ino?: bigint) {
    this.#id = id;
    this.#dir = dir;
    this.#config = config;
    this.#ino = ino;
  }

  /** Locks the state directory for one operation (see lib/state/lock.ts). */
  #lock(mode: LockMode): Promise<ContainerLock> {
    return lockContainer(this.#dir, this.#id, mode, this.#ino);
  }

  /** The container's id. */
  get id(): string {
    return this.#id;
  }

  /** The validated configuration the container was created with. */
  get config(): Config {
    return this.#config;
  }

  #readState(): StateFile {
    const state = readState(this.#dir, this.#id);
    if (state === null) {
      throw new ContainerError("ContainerNotExists", `Container \`${this.#id}\` does not exist`);
    }
    return state;
  }

  /**
   * The container's current state, as recorded in its state file.
   *
   * @throws {ContainerError} `ContainerNotExists` after it was destroyed.
   */
  state(): ContainerState {
    return this.#readState();
  }

  #notRunning(): ContainerError {
    return new ContainerError("ContainerNotRunning", `Container \`${this.#id}\` is not running`);
  }

  /** The state of a container whose processes run (or are paused), else `ContainerNotRunning`. */
  #liveState(): StateFile {
    const state = this.#readState();
    const status = statusOf(state);
    if (status !== "running" && status !== "paused") throw this.#notRunning();
    return state;
  }

  /** The container's status right now: `stopped`, `running`, `paused` or `destroyed`. */
  status(): ContainerStatus {
    return statusOf(readState(this.#dir, this.#id));
  }

  /**
   * The host pids of every process in the container's cgroup.
   *
   * @throws {ContainerError} `ContainerNotExists` after it was destroyed.
   */
  processes(): number[] {
    const paths = this.#readState().cgroup_paths;
    return cgroupPids(paths["devices"] ?? Object.values(paths)[0]);
  }

  /**
   * Pauses every process of the container (the cgroup freezer) and waits
   * until they are all frozen; `status()` then reports `paused`.
   *
   * @throws {ContainerError} `ContainerPaused` when already paused, `ContainerNotRunning` when
   * not running, `SystemError` when the freezer does not reach FROZEN (the processes are thawed).
   */
  async pause(): Promise<void> {
    using _lock = await this.#lock("exclusive");
    const state = this.#readState();
    const status = statusOf(state);
    if (status === "paused") {
      throw new ContainerError("ContainerPaused", `Container \`${this.#id}\` is already paused`);
    }
    if (status !== "running") throw this.#notRunning();
    await freeze(state.cgroup_paths);
  }

  /**
   * Resumes the processes of a paused container.
   *
   * @throws {ContainerError} `ContainerNotRunning` when the container is not paused, `SystemError`
   * when the freezer does not reach THAWED.
   */
  async resume(): Promise<void> {
    using _lock = await this.#lock("exclusive");
    const state = this.#readState();
    if (statusOf(state) !== "paused") {
      throw new ContainerError("ContainerNotRunning", `Container \`${this.#id}\` is not paused`);
    }
    await thaw(state.cgroup_paths);
  }

  /**
   * Changes the resource limits of a running (or paused) container and
   * records them in its config (in its state file): the fields given are
   * set, the others are left as they are. When the kernel refuses one, the
   * limits in force before the call stay in force and the record is not
   * changed. `freezer` pauses or resumes, and is not recorded.
   *
   * @param limits Limit fields of the config's `cgroups` (`memory`, `cpu_shares`, `cpuset_cpus`,
   * `pids_limit`...); 0 or "" leaves a limit as it is, -1 lifts memory, quota and pids limits.
   * @throws {ConfigError} for a field that is not a limit, a bad value, or one the host cannot carry out.
   * @throws {SystemError} (a `CgroupLimitError`) when the kernel refuses a value, naming the field
   * and the errno.
   * @throws {ContainerError} `ContainerNotRunning` when the container is not running.
   *
   * @example
   * ```ts ignore
   * await container.set({ memory: 64 * 1024 * 1024, cpu_shares: 512 });
   * ```
   */
  async set(limits: CgroupLimits): Promise<void> {
    const unknown = Object.keys(limits).filter((key) => !SETTABLE.has(key));
    if (unknown.length > 0) {
      throw new ConfigError(unknown.map((key) => ({
        path: `cgroups.${key}`,
        message: "Is not a resource limit: set() changes limits only",
      })));
    }
    using _lock = await this.#lock("exclusive");
    const state = this.#liveState();
    // Checked as part of the whole config, so each value gets the config's own checks.
    const checked = parseConfig({
      ...this.#config,
      cgroups: { ...this.#config.cgroups, ...limits },
    }).cgroups as unknown as Record<string, unknown>;
    const given: Record<string, unknown> = {};
    for (const key of Object.keys(limits)) given[key] = checked[key];
    await setLimits(state.cgroup_paths, given as CgroupLimits);
    // Unset fields left the kernel's values, so the record keeps its own; the freezer is
    // the container's state, not its config (a restart must not start frozen).
    const cgroups = { ...this.#config.cgroups } as unknown as Record<string, unknown>;
    for (const [key, value] of Object.entries(given)) {
      if (key !== "freezer" && !isUnset(value)) cgroups[key] = value;
    }
    const recorded: Config = { ...this.#config, cgroups: cgroups as unknown as Config["cgroups"] };
    writeState(this.#dir, {
      ...this.#readState(),
      config: recorded as unknown as Record<string, unknown>,
    });
    this.#config = recorded;
  }

  /**
   * The container's resource usage: CPU, memory, block I/O, huge pages and
   * pids from its cgroups, and its network interfaces' counters. Each call
   * opens, reads and closes every file; to poll, use {@link Container.statsCollector}.
   *
   * @throws {ContainerError} `ContainerNotExists` after it was destroyed, `ContainerNotRunning`
   * before its first start (it has no cgroups then).
   * @throws {SystemError} when a statistics file exists but cannot be read.
   */
  stats(options: StatsOptions = {}): Stats {
    const state = this.#readState();
    if (Object.keys(state.cgroup_paths).length === 0) throw this.#notRunning();
    return collectStats(state.cgroup_paths, {
      mode: cgroupMode(cgroupLayout().hierarchies),
      interfaces: options.interfaces ?? hostInterfaceNames(state),
    });
  }

  /**
   * A collector of the container's statistics for polling: it keeps the
   * statistics files open, so each `collect()` is one pread per file (a
   * fraction of what {@link Container.stats} costs). Close it, or declare
   * it with `using`. Once the container is destroyed it reads zeros.
   *
   * @throws {ContainerError} `ContainerNotExists` after it was destroyed, `ContainerNotRunning`
   * before its first start.
   *
   * @example
   * ```ts ignore
   * using collector = container.statsCollector();
   * const { memory_stats } = collector.collect();
   * ```
   */
  statsCollector(options: StatsOptions = {}): StatsCollector {
    const state = this.#readState();
    if (Object.keys(state.cgroup_paths).length === 0) throw this.#notRunning();
    return new StatsCollector(state.cgroup_paths, {
      mode: cgroupMode(cgroupLayout().hierarchies),
      interfaces: options.interfaces ?? hostInterfaceNames(state),
      keepOpen: true,
    });
  }

  /**
   * Out-of-memory events of the container's memory cgroup, from this call
   * on: iterate with `for await`; the iteration ends when the container's
   * cgroup is removed. Close it (or `await using`) when not iterated to the end.
   *
   * @throws {ContainerError} `ContainerNotRunning` when the container is not running,
   * `SystemError` when it has no memory cgroup.
   *
   * @example
   * ```ts ignore
   * for await (const event of container.notifyOOM()) console.log("OOM", event.count);
   * ```
   */
  notifyOOM(): OomEvents {
    return notifyOom(this.#liveState().cgroup_paths);
  }

  /**
   * Starts a process. The first start (or a start after the first process
   * exited) creates the container's namespaces, cgroups and root filesystem
   * around it; while that process runs, a start joins them instead.
   *
   * @throws {ConfigError} for a bad process (no args, unknown user), a config feature that cannot be carried out, or a veth whose bridge does not exist or whose host interface name is taken.
   * @throws {SystemError} naming the step that failed (mount, pivot_root, exec...) and its errno.
   * @throws {ContainerError} `ContainerPaused` while the container is paused.
   */
  async start(process: ProcessOptions): Promise<ContainerProcess> {
    // Joining needs the container only to stay as it is; creating the init
    // needs it alone, and another process may have created one meanwhile.
    for (const mode of ["shared", "exclusive"] as const) {
      using _lock = await this.#lock(mode);
      const state = this.#readState();
      const target = { id: this.#id, dir: this.#dir, config: this.#config };
      switch (statusOf(state)) {
        case "running":
          return await startJoined(target, state, process);
        case "paused":
          throw new ContainerError("ContainerPaused", `Container \`${this.#id}\` is paused`);
        default:
          if (mode === "exclusive") return await startInit(target, state, process);
      }
    }
    throw new Error("unreachable");
  }

  /**
   * Sends a signal to the container's first process (in its own pid
   * namespace, SIGKILL to it ends every process of the container).
   *
   * It waits while another process starts or destroys the container.
   *
   * @throws {ContainerError} `ContainerNotRunning` when it is not running;
   *   `ContainerBusy` while this process's own start() or destroy() of it is unfinished.
   */
  signal(signal: Deno.Signal | number): void {
    using _lock = lockContainerNow(this.#dir, this.#id, "shared", this.#ino);
    const state = this.#readState();
    const notRunning = () =>
      new ContainerError("ContainerNotRunning", `Container \`${this.#id}\` is not running`);
    if (state.init_process_pid <= 0) throw notRunning();
    // A pidfd opened first and the start time checked second: the signal cannot reach a recycled pid.
    let pidfd: number;
    try {
      pidfd = pidfdOpen(state.init_process_pid);
    } catch {
      throw notRunning();
    }
    try {
      if (!initAlive(state)) throw notRunning();
      pidfdSignal(pidfd, signalNumber(signal));
    } finally {
      closePidfd(pidfd);
    }
  }

  /**
   * Removes the container: leftover processes, its cgroups and its state
   * directory. A destroyed container cannot be started again.
   *
   * @throws {ContainerError} `ContainerNotStopped` while its first process runs.
   */
  async destroy(): Promise<void> {
    let lock: ContainerLock;
    try {
      lock = await this.#lock("exclusive");
    } catch (error) {
      if (error instanceof ContainerError && error.code === "ContainerNotExists") return;
      throw error;
    }
    using _lock = lock;
    const state = readState(this.#dir, this.#id);
    if (state === null) return;
    const status = statusOf(state);
    if (status === "running" || status === "paused") {
      throw new ContainerError("ContainerNotStopped", `Container \`${this.#id}\` is still running`);
    }
    await destroyContainer(this.#dir, state);
  }
}
