/**
 * What every command gets: the global options.
 *
 * @module
 */

/** Global options of nsinit. */
export interface GlobalContext {
  /** State root (--root). */
  root: string;
  /** Print error causes and stacks (--debug). */
  debug: boolean;
}

/** A command: parses its own arguments, calls the library, returns the exit code. */
export interface Command {
  summary: string;
  usage: string;
  run(context: GlobalContext, args: string[]): Promise<number>;
  help(): string[];
}
