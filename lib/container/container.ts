/**
 * A container: a root filesystem, namespaces and cgroups around a first
 * process, recorded in `<root>/<id>/state.json` so that any process can
 * manage it.
 *
 * @module
 */
import type { Config } from "../config/mod.ts";
import { ContainerError } from "../errors.ts";
import { cgroupPids } from "../cgroups/manager.ts";
import type { ProcessOptions } from "../process/options.ts";
import type { ContainerProcess } from "../process/process.ts";
import { readState, type StateFile } from "../state/state.ts";
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
