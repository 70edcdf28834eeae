/**
 * `<root>/<id>/state.json`: what another process needs to find and manage a
 * container. Written to a temporary file and renamed, so a reader never sees
 * a torn file; the init's start time tells a live init from a recycled pid.
 *
 * @module
 */
import { Errno } from "../../ffi/_errno.ts";
import { ContainerError, SystemError } from "../errors.ts";
import { tryReadTextFile, writeFileAtomic } from "../sys/fs.ts";

/** The state file's contents (the seed's keys, plus what cleanup needs). */
export interface StateFile {
  /** Format version of this file. */
  version: 1;
  /** The container's id. */
  id: string;
  /** Host pid of the container's first process; 0 before the first start. */
  init_process_pid: number;
  /** Its start time (field 22 of /proc/<pid>/stat); "" before the first start. */
  init_process_start: string;
  /** ISO time the container was created. */
  created: string;
  /** The validated config, as JSON. */
  config: Record<string, unknown>;
  /** Cgroup directory per subsystem ("unified" for v2). */
  cgroup_paths: Record<string, string>;
  /** Cgroup directories this container created, outermost first, removed on destroy. */
  cgroup_created: string[];
  /** Namespace file per type (NEWNS, NEWUTS, ...), for all six types. */
  namespace_paths: Record<string, string>;
  /**
   * Host ends of the veth pairs the last start made, in config order:
   * destroy deletes them, and they name the interfaces whose counters
   * stats report ({@link hostInterfaceNames}). Empty without veth networks
   * (and in state files written before this field existed).
   */
  host_interfaces: HostInterface[];
}

/** The host end of one of a container's veth pairs. */
export interface HostInterface {
  /** Its name on the host, such as `veth1a2b3c4`. */
  name: string;
  /** Its interface index: a later link that takes the same name has another one. */
  index: number;
}

/**
 * The host-side names of a container's veths, in config order: the
 * interfaces whose counters are the container's network statistics (the
 * host end's tx is what the container received).
 */
export function hostInterfaceNames(state: StateFile): string[] {
  return state.host_interfaces.map((i) => i.name);
}

/** The path of the state file in a container directory. */
export function statePath(dir: string): string {
  return `${dir}/state.json`;
}

/** Writes the state file atomically. */
export function writeState(dir: string, state: StateFile): void {
  writeFileAtomic(statePath(dir), JSON.stringify(state, null, 2) + "\n", 0o600);
}

/** Reads the state file, or returns null when the container does not exist. */
export function readState(dir: string, id: string): StateFile | null {
  let text: string | null;
  try {
    text = tryReadTextFile(statePath(dir));
  } catch (error) {
    if (error instanceof SystemError && error.errno === Errno.ENOTDIR) return null;
    throw error;
  }
  if (text === null) return null;
  try {
    const state = JSON.parse(text) as StateFile;
    if (state.version !== 1 || state.id !== id) throw new Error("unexpected version or id");
    state.host_interfaces ??= []; // written before networking was wired
    return state;
  } catch (error) {
    throw new ContainerError(
      "SystemError",
      `Container \`${id}\` has a corrupt \`${statePath(dir)}\``,
      {
        cause: error,
      },
    );
  }
}
