/**
 * The factory creates containers under a state root and loads them back,
 * from this process or any other.
 *
 * @module
 */
import { type Config, type ConfigInput, parseConfig } from "../config/mod.ts";
import { ContainerError } from "../errors.ts";
import { Errno } from "../../ffi/_errno.ts";
import { lstat, mkdir, mkdirAll, removeAll } from "../sys/fs.ts";
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

class FsFactory implements Factory {
  readonly root: string;

  constructor(root: string) {
    this.root = root;
  }

  create(id: string, input: ConfigInput | Config): Promise<Container> {
    try {
      validateId(id);
      const config = parseConfig(input, { inspectPath });
      mkdirAll(this.root, 0o700);
      const dir = `${this.root}/${id}`;
      if (!mkdir(dir, 0o700)) {
        throw new ContainerError("IdInUse", `Container id \`${id}\` is already in use`);
      }
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
      try {
        writeState(dir, state);
      } catch (error) {
        removeAll(dir);
        throw error;
      }
      return Promise.resolve(new Container(id, dir, config));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  load(id: string): Promise<Container> {
    try {
      validateId(id);
      const dir = `${this.root}/${id}`;
      const state = readState(dir, id);
      if (state === null) {
        throw new ContainerError(
          "ContainerNotExists",
          `Container \`${id}\` does not exist in \`${this.root}\``,
        );
      }
      return Promise.resolve(new Container(id, dir, parseConfig(state.config)));
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
