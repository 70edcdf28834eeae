/**
 * nsinit's commands: global options, the COMMANDS table, and one line on
 * stderr for any failure. Built only on the library in mod.ts; run through
 * cli/nsinit.ts.
 *
 * @module
 */
import { ContainerError, DEFAULT_ROOT, refuseInspectorSignal, SystemError } from "../mod.ts";
import { optionHelp, type OptionSpecs, parseOptions, splitOptions, UsageError } from "./_args.ts";
import type { Command, GlobalContext } from "./commands/_context.ts";
import { config } from "./commands/config.ts";
import { demo } from "./commands/demo.ts";
import { exec } from "./commands/exec.ts";
import { oom } from "./commands/oom.ts";
import { pause } from "./commands/pause.ts";
import { state } from "./commands/state.ts";
import { stats } from "./commands/stats.ts";
import { unpause } from "./commands/unpause.ts";
import { update } from "./commands/update.ts";

const VERSION = "0.1.0";

const GLOBAL_OPTIONS: OptionSpecs = {
  root: { type: "string", value: "DIR", help: `state root (default ${DEFAULT_ROOT})` },
  debug: { type: "boolean", help: "print the causes of an error" },
  help: { type: "boolean", short: "h", help: "show this help" },
  version: { type: "boolean", short: "v", help: "print the version" },
};

/** Every command, by name. */
const COMMANDS: Readonly<Record<string, Command>> = {
  exec,
  config,
  state,
  pause,
  unpause,
  update,
  stats,
  oom,
  demo,
};

function usage(): string {
  return [
    "nsinit: run containers with libcontainer for Deno",
    "",
    "Usage: nsinit [global options] COMMAND [options] [ARGS...]",
    "",
    "Commands:",
    ...Object.entries(COMMANDS).map(([name, command]) => `  ${name.padEnd(8)} ${command.summary}`),
    "  help     show help for a command",
    "",
    "Global options:",
    ...optionHelp(GLOBAL_OPTIONS),
  ].join("\n");
}

function commandUsage(command: Command): string {
  const options = command.help();
  return [
    `Usage: ${command.usage}`,
    "",
    command.summary,
    ...(options.length ? ["", "Options:", ...options] : []),
  ]
    .join("\n");
}

function describe(error: unknown, debug: boolean): string {
  if (!(error instanceof Error)) return String(error);
  if (!debug) return error.message;
  const lines = [error.stack ?? error.message];
  for (let cause = error.cause; cause instanceof Error; cause = cause.cause) {
    lines.push(`caused by: ${cause.stack}`);
  }
  if (error instanceof ContainerError) {
    for (const cleanup of error.cleanupErrors) lines.push(`while cleaning up: ${String(cleanup)}`);
  }
  return lines.join("\n");
}

/** Exit status for a failure: 127 and 126 for a command that is missing or cannot be run, as shells do. */
function exitCodeOf(error: unknown): number {
  if (error instanceof SystemError && error.op === "exec") {
    if (error.errnoName === "ENOENT") return 127;
    if (["EACCES", "ENOEXEC", "EPERM"].includes(error.errnoName)) return 126;
  }
  return 1;
}

/** Runs nsinit with the given arguments; returns the exit status. */
export async function main(args: string[]): Promise<number> {
  // nsinit runs as root: a SIGUSR1 must never open Deno's inspector.
  refuseInspectorSignal();
  let debug = false;
  try {
    const { options, rest } = splitOptions(args, GLOBAL_OPTIONS);
    const values = parseOptions(options, GLOBAL_OPTIONS, "nsinit");
    debug = values.debug === true;
    if (values.version) {
      console.log(`nsinit ${VERSION}`);
      return 0;
    }
    const [name, ...commandArgs] = rest;
    if (values.help || name === undefined) {
      console.log(usage());
      return name === undefined && !values.help ? 1 : 0;
    }
    if (name === "help") {
      const command = COMMANDS[commandArgs[0] ?? ""];
      console.log(command ? commandUsage(command) : usage());
      return 0;
    }
    const command = COMMANDS[name];
    if (!command) throw new UsageError(`Unknown command \`${name}\`; run \`nsinit help\``);
    if (commandArgs[0] === "--help" || commandArgs[0] === "-h") {
      console.log(commandUsage(command));
      return 0;
    }
    const context: GlobalContext = {
      root: typeof values.root === "string" ? values.root : DEFAULT_ROOT,
      debug,
    };
    return await command.run(context, commandArgs);
  } catch (error) {
    console.error(`nsinit: ${describe(error, debug)}`);
    return exitCodeOf(error);
  }
}
