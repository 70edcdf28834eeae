/**
 * What a caller asks `Container.start()` to run.
 *
 * @module
 */
import type { Stdio } from "./stdio.ts";

/** The process to run in a container. */
export interface ProcessOptions {
  /** The program and its arguments; a program without `/` is looked up in the PATH of `env`. */
  args: string[];
  /** Environment as `NAME=value` strings; when several define a name, the last wins. HOME is added from passwd. */
  env?: string[];
  /** Working directory inside the container (default `/`). */
  cwd?: string;
  /** `name`, `uid`, `name:group` or `uid:gid`, looked up in the container's /etc/passwd and /etc/group (default root). */
  user?: string;
  /** Extra supplementary groups (numbers or names), added to the config's additional_groups. */
  additionalGroups?: (number | string)[];
  /** Capability names for this process, replacing the config's. */
  capabilities?: string[];
  /** Give the process a new terminal inside the container; read it through `process.console`. */
  terminal?: boolean;
  /** The terminal's size from the start (with `terminal`); resize later with `process.console.resize()`. */
  consoleSize?: { columns: number; rows: number };
  /** Standard input (default "inherit"); ignored with `terminal`. */
  stdin?: Stdio;
  /** Standard output (default "inherit"); ignored with `terminal`. */
  stdout?: Stdio;
  /** Standard error (default "inherit"); ignored with `terminal`. */
  stderr?: Stdio;
  /** Descriptors passed on as fd 3, 4, ... in the order given. */
  extraFiles?: number[];
}
