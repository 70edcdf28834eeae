/**
 * What the commands that act on one existing container share: the `--id`
 * option, and loading the container it names.
 *
 * @module
 */
import { type Container, createFactory } from "../../mod.ts";
import {
  type OptionSpecs,
  type OptionValues,
  parseOptions,
  splitOptions,
  UsageError,
} from "../_args.ts";
import type { GlobalContext } from "./_context.ts";

/** The `--id` option. */
export const ID_OPTION: OptionSpecs = {
  id: { type: "string", value: "ID", help: "container id (default nsinit)" },
};

/** Parses a command's options (no positional arguments) and loads the container `--id` names. */
export async function loadById(
  context: GlobalContext,
  args: string[],
  command: string,
  specs: OptionSpecs = ID_OPTION,
): Promise<{ container: Container; values: OptionValues }> {
  const { options, rest } = splitOptions(args, specs);
  if (rest.length > 0) throw new UsageError(`${command} takes no arguments, got \`${rest[0]}\``);
  const values = parseOptions(options, specs, command);
  const factory = await createFactory({ root: context.root });
  const container = await factory.load(typeof values.id === "string" ? values.id : "nsinit");
  return { container, values };
}
