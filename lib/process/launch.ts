/**
 * Running a plan: spawn the helper, send it the plan, do the parent's share
 * of the work while the helper clones (`whileCloning`), answer its sync
 * points, learn the new process's pid, and wait until the process has
 * exec'd (the sync socket closes) or failed (an error record names the op).
 * On any failure every process it started is killed and reaped before the
 * error is thrown.
 *
 * @module
 */
import { SIGNALS } from "../../ffi/constants.ts";
import { ContainerError, type SystemError } from "../errors.ts";
import { encodePlan } from "../plan/encode.ts";
import { planFailure } from "../plan/describe.ts";
import type { PlanOp } from "../plan/ops.ts";
import { SeqpacketSocket } from "../sys/socket.ts";
import { closeFd } from "../sys/fs.ts";
import { closePidfd, kill, pidfdOpen, pidfdSignal, reapNow, waitPidfd } from "../sys/proc.ts";
import { Console } from "./console.ts";
import { spawnHelper } from "./spawn.ts";
import { SYNC, SyncChannel, type SyncRecord, UnexpectedRecordError } from "./sync.ts";

/** What to launch, all at once. */
export interface LaunchRequest extends LaunchFds, LaunchHooks {
  /** Builds the plan once the helper's descriptor numbers are known. */
  plan: (layout: { joinFds: number[] }) => PlanOp[];
}

/** A process that has exec'd its program. */
export interface Launched {
  pid: number;
  /** A pidfd of the process; the caller owns it. */
  pidfd: number;
  /** The terminal master, when the plan made one. */
  console: Console | null;
}

/** The processes a launch has started so far. */
interface Started {
  helperPid: number;
  pid: number;
  pidfd: number;
  consoleFd: number;
}

function failure(plan: readonly PlanOp[], record: SyncRecord): SystemError {
  return planFailure(plan, record.op, record.err, record.arg);
}

/** Records the new process: the helper exits right after reporting it, so reap the helper. */
function adopt(started: Started, pid: number): void {
  started.pid = pid;
  reapNow(started.helperPid);
  started.helperPid = 0;
  started.pidfd = pidfdOpen(pid);
}

/**
 * Stops everything a failed launch started. Closing our side of the socket
 * makes a process waiting at a sync point exit; the helper still reports the
 * pid it cloned, so the stream is drained to the end and all are reaped.
 */
async function abort(channel: SyncChannel, started: Started): Promise<void> {
  channel.shutdown();
  for (;;) {
    if (started.pidfd >= 0) {
      try {
        pidfdSignal(started.pidfd, SIGNALS.SIGKILL!);
      } catch {
        // it has exited already; the wait below reaps it either way
      }
    }
    const record = await channel.receive().catch(() => null);
    if (record === null) break;
    if (record.fd !== undefined) closeFd(record.fd);
    if (record.type === SYNC.PID && started.pid === 0) adopt(started, record.arg);
  }
  if (started.helperPid > 0) {
    kill(started.helperPid, SIGNALS.SIGKILL!);
    reapNow(started.helperPid);
  }
  if (started.pidfd >= 0) {
    await waitPidfd(started.pidfd);
    closePidfd(started.pidfd);
  }
  if (started.consoleFd >= 0) closeFd(started.consoleFd);
}

/** The descriptors the helper starts with. */
export interface LaunchFds {
  stdio: readonly [number, number, number];
  extraFiles: readonly number[];
  /** Host descriptors the helper inherits after the sync socket (namespace files, an init pidfd). */
  joins: readonly number[];
}

/** What a running plan asks of its parent. */
export interface LaunchHooks {
  /**
   * Work done while the helper clones. It returns the sync tags that work
   * has made ready: those are answered at once (in plan order), so the
   * process finds its go-ahead waiting instead of paying a round trip.
   */
  whileCloning?: () => readonly number[];
  /**
   * Called with the new process's pid as soon as it is known (to record
   * state, or to work on the process while it runs its plan). It may return
   * sync tags that work has made ready, answered as soon as every sync
   * point before them in the plan is.
   */
  onPid?: (pid: number) => readonly number[] | void;
  /**
   * Called when the process reaches a SYNC op; it continues once this
   * resolves. Always called after `onPid`: a sync point reported before the
   * pid is held until the pid comes, so a SYNC the helper reaches before its
   * clone must be one `whileCloning` answers.
   */
  onReady?: (tag: number) => Promise<void> | void;
}

/**
 * The go-aheads of a plan's sync points. The helper, then the new process,
 * waits at each SYNC op in plan order and takes the next go-ahead as the
 * answer to it, so one made ready early (by `whileCloning` or `onPid`, to
 * save a round trip) is held back until every sync point before it has
 * had its own.
 */
class GoAheads {
  readonly #channel: SyncChannel;
  readonly #order: number[];
  readonly #ready = new Set<number>();
  #next = 0;

  constructor(channel: SyncChannel, plan: readonly PlanOp[]) {
    this.#channel = channel;
    this.#order = plan.flatMap((op) => op.op === "SYNC" ? [op.tag] : []);
  }

  /** Whether `tag` is answered (or will be as soon as those before it are). */
  isPrepared(tag: number): boolean {
    return this.#ready.has(tag);
  }

  /** Marks sync points as answered and sends every go-ahead now in turn. */
  prepared(tags: readonly number[]): void {
    for (const tag of tags) this.#ready.add(tag);
    while (this.#next < this.#order.length && this.#ready.has(this.#order[this.#next]!)) {
      this.#channel.send(SYNC.GO, this.#order[this.#next++]!);
    }
  }
}

/**
 * A helper spawned ahead of its plan, so that its start-up overlaps the
 * parent's remaining preparation; `run()` sends the plan, `abort()` lets it
 * go (it reads end of stream, exits, and is reaped).
 */
export class Launch {
  #channel: SyncChannel;
  #started: Started;
  #joinFds: number[];

  private constructor(channel: SyncChannel, started: Started, joinFds: number[]) {
    this.#channel = channel;
    this.#started = started;
    this.#joinFds = joinFds;
  }

  /** Spawns the helper with these descriptors. */
  static spawn(fds: LaunchFds): Launch {
    const [parent, child] = SeqpacketSocket.pair();
    try {
      const { pid, joinFds } = spawnHelper({
        stdio: fds.stdio,
        extraFiles: fds.extraFiles,
        sync: child.fd,
        joins: fds.joins,
      });
      return new Launch(new SyncChannel(parent), {
        helperPid: pid,
        pid: 0,
        pidfd: -1,
        consoleFd: -1,
      }, joinFds);
    } catch (error) {
      parent.close();
      throw error;
    } finally {
      child.close();
    }
  }

  /** Where the joined descriptors sit in the helper, for the plan's SETNS ops. */
  get joinFds(): number[] {
    return this.#joinFds;
  }

  /** Sends the plan and runs it; resolves once the process has exec'd. */
  async run(plan: readonly PlanOp[], hooks: LaunchHooks = {}): Promise<Launched> {
    const channel = this.#channel;
    const started = this.#started;
    try {
      const message = encodePlan(plan);
      channel.ensureSendBuffer(message.length);
      channel.sendPlan(message);
      const go = new GoAheads(channel, plan);
      go.prepared(hooks.whileCloning?.() ?? []);

      // The helper reports the pid while the new process already runs the plan,
      // so records of both may come in either order; the end of stream means
      // both are done: exec'd, or exited after an error record.
      let failed: SystemError | undefined;
      const held: number[] = [];
      const ready = async (tag: number) => {
        await hooks.onReady?.(tag);
        go.prepared([tag]);
      };
      for (
        let record = await channel.receive();
        record !== null;
        record = await channel.receive()
      ) {
        if (record.type === SYNC.PID) {
          adopt(started, record.arg);
          go.prepared(hooks.onPid?.(record.arg) ?? []);
          for (const tag of held.splice(0)) {
            if (!go.isPrepared(tag)) await ready(tag);
          }
        } else if (record.type === SYNC.CONSOLE && record.fd !== undefined) {
          started.consoleFd = record.fd;
        } else if (record.type === SYNC.READY) {
          if (failed) throw failed;
          if (go.isPrepared(record.arg)) continue;
          if (started.pid === 0) held.push(record.arg);
          else await ready(record.arg);
        } else if (record.type === SYNC.ERROR) {
          failed ??= failure(plan, record);
        } else {
          if (record.fd !== undefined) closeFd(record.fd);
          throw new UnexpectedRecordError(
            `Unexpected sync record of type ${record.type} from the helper`,
          );
        }
      }
      if (failed) throw failed;
      if (started.pid === 0) {
        const status = reapNow(started.helperPid);
        started.helperPid = 0;
        throw new ContainerError(
          "SystemError",
          `The nsinit helper exited (status ${status.code}) before it started the process`,
        );
      }
      const console = started.consoleFd >= 0 ? new Console(started.consoleFd) : null;
      return { pid: started.pid, pidfd: started.pidfd, console };
    } catch (error) {
      await abort(channel, started);
      throw error;
    } finally {
      channel.close();
    }
  }

  /** Gives up before `run()`: stops and reaps the helper. */
  async abort(): Promise<void> {
    await abort(this.#channel, this.#started);
    this.#channel.close();
  }
}

/** Spawns the helper and runs the plan; resolves once the process has exec'd. */
export function launch(request: LaunchRequest): Promise<Launched> {
  const helper = Launch.spawn(request);
  return helper.run(request.plan({ joinFds: helper.joinFds }), request);
}
