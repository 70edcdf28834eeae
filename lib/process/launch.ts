/**
 * Running a plan: spawn the helper, send it the plan (which puts it in the
 * container's cgroups), learn the new process's pid, then wait until it has exec'd (the
 * sync socket closes) or failed (an error record names the op). On failure
 * every process it started is killed and reaped before the error is thrown.
 *
 * @module
 */
import { SIGNALS } from "../../ffi/constants.ts";
import { ContainerError, SystemError } from "../errors.ts";
import { encodePlan } from "../plan/encode.ts";
import { planFailure } from "../plan/describe.ts";
import type { PlanOp } from "../plan/ops.ts";
import { SeqpacketSocket } from "../sys/socket.ts";
import { closeFd } from "../sys/fs.ts";
import { closePidfd, kill, pidfdOpen, pidfdSignal, reapNow, waitPidfd } from "../sys/proc.ts";
import { Console } from "./console.ts";
import { spawnHelper } from "./spawn.ts";
import { SYNC, SyncChannel, type SyncRecord, UnexpectedRecordError } from "./sync.ts";

/** What to launch. */
export interface LaunchRequest {
  /** Builds the plan once the helper's descriptor numbers are known. */
  plan: (layout: { joinFds: number[] }) => PlanOp[];
  stdio: readonly [number, number, number];
  extraFiles: readonly number[];
  /** Host descriptors the helper inherits after the sync socket (namespace files, an init pidfd). */
  joins: readonly number[];
  /** Called with the new process's pid as soon as it is known (to record state). */
  onPid?: (pid: number) => void;
  /** Called when the process reaches a SYNC op; it continues once this resolves. */
  onReady?: (tag: number) => Promise<void> | void;
}

/** A process that has exec'd its program. */
export interface Launched {
  pid: number;
  /** A pidfd of the process; the caller owns it. */
  pidfd: number;
  /** The terminal master, when the plan made one. */
  console: Console | null;
}

/** The same layout the helper will see, computed before the spawn. */
function helperJoinFds(extraFiles: readonly number[], joins: readonly number[]): number[] {
  const syncFd = 3 + extraFiles.length;
  return joins.map((_, i) => syncFd + 1 + i);
}

function failure(plan: readonly PlanOp[], record: SyncRecord): SystemError {
  return planFailure(plan, record.op, record.err, record.arg);
}

function helperDied(code: number): ContainerError {
  return new ContainerError(
    "SystemError",
    `The nsinit helper exited (status ${code}) before it started the process`,
  );
}

/** Spawns the helper and runs the plan; resolves once the process has exec'd. */
export async function launch(request: LaunchRequest): Promise<Launched> {
  const plan = request.plan({ joinFds: helperJoinFds(request.extraFiles, request.joins) });
  const message = encodePlan(plan);
  const [parent, child] = SeqpacketSocket.pair();
  const channel = new SyncChannel(parent);
  let helperPid = 0;
  let pid = 0;
  let pidfd = -1;
  let consoleFd = -1;
  try {
    try {
      helperPid = spawnHelper({
        stdio: request.stdio,
        extraFiles: request.extraFiles,
        sync: child.fd,
        joins: request.joins,
      }).pid;
    } finally {
      child.close();
    }
    parent.ensureSendBuffer(message.length);
    channel.sendPlan(message);

    // The helper reports the pid while the new process already runs the plan,
    // so records of both may come in either order; the end of stream means
    // both are done: exec'd, or exited after an error record.
    let failed: SystemError | undefined;
    for (let record = await channel.receive(); record !== null; record = await channel.receive()) {
      if (record.type === SYNC.PID) {
        pid = record.arg;
        reapNow(helperPid); // it exits right after reporting the pid
        helperPid = 0;
        pidfd = pidfdOpen(pid);
        request.onPid?.(pid);
      } else if (record.type === SYNC.CONSOLE && record.fd !== undefined) {
        consoleFd = record.fd;
      } else if (record.type === SYNC.READY) {
        await request.onReady?.(record.arg);
        channel.send(SYNC.GO, record.arg);
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
    if (pid === 0) {
      const status = reapNow(helperPid);
      helperPid = 0;
      throw helperDied(status.code);
    }
    const console = consoleFd >= 0 ? new Console(consoleFd) : null;
    return { pid, pidfd, console };
  } catch (error) {
    if (consoleFd >= 0) closeFd(consoleFd);
    if (pidfd >= 0) {
      try {
        pidfdSignal(pidfd, SIGNALS.SIGKILL!);
      } catch {
        // it may have exited already; the wait below reaps it either way
      }
      await waitPidfd(pidfd);
      closePidfd(pidfd);
    }
    if (helperPid > 0) {
      kill(helperPid, SIGNALS.SIGKILL!);
      reapNow(helperPid);
    }
    throw error;
  } finally {
    channel.close();
  }
}
