/**
 * The factory creates containers under a state root and loads them back,
 * from this process or any other.
 *
 * @module
 */
import { type Config, type ConfigInput, parseConfig } from "../config/mod.ts";
import { ContainerError } from "../errors.ts";
import { Errno } from "../../ffi/_errno.ts";
import { lstat, mkdir, mkdirAll, removeAll, renameNoReplace } from "../sys/fs.ts";
import { sys } from "../../ffi/syscalls.ts";
import { SystemError } from "../errors.ts";
import { readState, type StateFile, writeState } from "../state/state.ts";
import { Container } from "./container.ts";
import { validateId } from "./ids.ts";

/** Options of {@link createFactory}. */
export interface FactoryOptions {
  /** Directory holding one state directory per container (default `/run/nsinit`). */
  root?: string;
}

/** Creates and loads containers under one state root. */
export interface Factory {
  /** The state root. */
  readonly root: string;
  /** Creates a container: validates the id and the config, then reserves the id. */
  create(id: string, config: ConfigInput | Config): Promise<Container>;
  /** Loads a container that this or another process created. */
  load(id: string): Promise<Container>;
}

/** The default state root, as nsinit uses it. */
export const DEFAULT_ROOT = "/run/nsinit";

function inspectPath(path: string): "directory" | "symlink" | "missing" | "other" {
  const info = lstat(path);
  if (info === null) return "missing";
  return info.kind === "directory" ? "directory" : info.kind === "symlink" ? "symlink" : "other";
}

function idInUse(id: string): ContainerError {
  return new ContainerError("IdInUse", `Container id \`${id}\` is already in use`);
}

class FsFactory implements Factory {
  readonly root: string;

  constructor(root: string) {
    this.root = root;
  }

  create(id: string, input: ConfigInput | Config): Promise<Container> {
    try {
      validateId(id);
      const config = parseConfig(input, {
        inspectPath,
        // As the seed checked: a kernel without user namespaces has no /proc/self/ns/user.
        userNamespacesAvailable: lstat("/proc/self/ns/user") !== null,
      });
      mkdirAll(this.root, 0o700);
      const dir = `${this.root}/${id}`;
      if (lstat(dir) !== null) throw idInUse(id);
      const state: StateFile = {
        version: 1,
        id,
        init_process_pid: 0,
        init_process_start: "",
        created: new Date().toISOString(),
        config: config as unknown as Record<string, unknown>,
        cgroup_paths: {},
        cgroup_created: [],
        namespace_paths: {},
        host_interfaces: [],
      };
      // The directory is filled under a name of its own, then renamed into
      // place unless the id is taken: the rename reserves the id, and nobody
      // ever sees a container directory without its state file.
      const staging = `${this.root}/.new-${sys.getpid()}-${
        Math.random().toString(36).slice(2, 10)
      }`;
      mkdir(staging, 0o700);
      let ino: bigint;
      try {
        writeState(staging, state);
        ino = lstat(staging)!.ino;
        if (!renameNoReplace(staging, dir)) throw idInUse(id);
      } catch (error) {
        removeAll(staging);
        throw error;
      }
      return Promise.resolve(new Container(id, dir, config, ino));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  load(id: string): Promise<Container> {
    try {
      validateId(id);
      const dir = `${this.root}/${id}`;
      const ino = lstat(dir)?.ino;
      const state = readState(dir, id);
      if (state === null) {
        throw new ContainerError(
          "ContainerNotExists",
          `Container \`${id}\` does not exist in \`${this.root}\``,
        );
      }
      return Promise.resolve(new Container(id, dir, parseConfig(state.config), ino));
    } catch (error) {
      return Promise.reject(error);
    }
  }
}

/**
 * Opens a factory on a state root; the root is created on the first `create`.
 *
 * @throws {SystemError} when the root exists and is not a directory.
 */
export function createFactory(options: FactoryOptions = {}): Promise<Factory> {
  const root = (options.root ?? DEFAULT_ROOT).replace(/\/+$/, "") || "/";
  const info = lstat(root);
  if (info !== null && info.kind !== "directory") {
    return Promise.reject(new SystemError("open state root", Errno.ENOTDIR, { target: root }));
  }
  return Promise.resolve(new FsFactory(root));
}
