/**
 * `nsinit exec [options] COMMAND [ARGS...]`: runs a command in the
 * container `--id`, creating it first when it does not exist, and joining it
 * when it runs. The exit status is the command's.
 *
 * @module
 */
import { type Container, ContainerError, type ContainerProcess, createFactory } from "../../mod.ts";
import { optionHelp, type OptionSpecs, parseOptions, splitOptions, UsageError } from "../_args.ts";
import { CREATE_FLAGS } from "../_create_flags.ts";
import { configFromOptions } from "./_config_source.ts";
import type { Command, GlobalContext } from "./_context.ts";
import { hostConsoleSize, runAttached, SignalForwarder } from "../_attach.ts";

const OPTIONS: OptionSpecs = {
  tty: { type: "boolean", short: "t", help: "give the command a terminal" },
  id: { type: "string", value: "ID", help: "container id (default nsinit)" },
  config: {
    type: "string",
    value: "FILE",
    help: "config file (default: ./container.json, else the template)",
  },
  user: {
    type: "string",
    short: "u",
    value: "USER",
    help: "user[:group] to run as (default root)",
  },
  cwd: { type: "string", value: "DIR", help: "working directory inside the container" },
  env: { type: "string", multiple: true, value: "NAME=VALUE", help: "add to the environment" },
  ...CREATE_FLAGS,
};

const DEFAULT_ENV = [
  "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
  "TERM=xterm",
];

async function openContainer(
  context: GlobalContext,
  id: string,
  values: Record<string, unknown>,
): Promise<Container> {
  const factory = await createFactory({ root: context.root });
  try {
    return await factory.load(id);
  } catch (error) {
    if (!(error instanceof ContainerError) || error.code !== "ContainerNotExists") throw error;
  }
  try {
    return await factory.create(id, configFromOptions(values as never));
  } catch (error) {
    // Another nsinit created it meanwhile: join it.
    if (!(error instanceof ContainerError) || error.code !== "IdInUse") throw error;
    return await factory.load(id);
  }
}

export const exec: Command = {
  summary: "run a command in a container, creating or joining it",
  usage: "nsinit [global options] exec [options] COMMAND [ARGS...]",
  help: () => optionHelp(OPTIONS),
  async run(context: GlobalContext, args: string[]): Promise<number> {
    const { options, rest } = splitOptions(args, OPTIONS);
    const values = parseOptions(options, OPTIONS, "exec");
    if (rest.length === 0) {
      throw new UsageError("exec needs a command to run, as in `nsinit exec /bin/sh`");
    }
    const id = typeof values.id === "string" ? values.id : "nsinit";
    const container = await openContainer(context, id, values);
    // Whoever starts the first process owns the container and destroys it after
    // (start() decides under the container's lock: several nsinit may race here).
    const stopped = container.status() !== "running";
    const hostname = container.config.hostname || "nsinit";
    const terminal = values.tty === true;
    const signals = new SignalForwarder(terminal);
    let process: ContainerProcess;
    try {
      const consoleSize = terminal ? hostConsoleSize() : undefined;
      process = await container.start({
        args: rest,
        env: [
          ...DEFAULT_ENV,
          `HOSTNAME=${hostname}`,
          ...((values.env as string[] | undefined) ?? []),
        ],
        ...(typeof values.user === "string" ? { user: values.user } : {}),
        ...(typeof values.cwd === "string" ? { cwd: values.cwd } : {}),
        terminal,
        ...(consoleSize ? { consoleSize } : {}),
      });
    } catch (error) {
      signals.close();
      if (stopped) await container.destroy().catch(() => {});
      throw error;
    }
    const owner = container.state().init_process_pid === process.pid;
    const status = await runAttached(process, signals);
    if (owner) await container.destroy();
    return status.code;
  },
};
