/**
 * `nsinit state --id ID`: prints a container's state file and its status.
 *
 * @module
 */
import { createFactory } from "../../mod.ts";
import { optionHelp, type OptionSpecs, parseOptions, splitOptions, UsageError } from "../_args.ts";
import type { Command } from "./_context.ts";

const OPTIONS: OptionSpecs = {
  id: { type: "string", value: "ID", help: "container id (default nsinit)" },
};

export const state: Command = {
  summary: "print a container's state as JSON",
  usage: "nsinit [global options] state [--id ID]",
  help: () => optionHelp(OPTIONS),
  async run(context, args) {
    const { options, rest } = splitOptions(args, OPTIONS);
    if (rest.length > 0) throw new UsageError(`state takes no arguments, got \`${rest[0]}\``);
    const values = parseOptions(options, OPTIONS, "state");
    const factory = await createFactory({ root: context.root });
    const container = await factory.load(typeof values.id === "string" ? values.id : "nsinit");
    console.log(JSON.stringify({ status: container.status(), ...container.state() }, null, 2));
    return 0;
  },
};
