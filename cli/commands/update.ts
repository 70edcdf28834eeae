/**
 * `nsinit update --id ID [limit flags]`: changes the resource limits of a
 * running container; when the kernel refuses one, the old limits stay.
 *
 * @module
 */
import { optionHelp, type OptionSpecs, UsageError } from "../_args.ts";
import { limitOptions, limitsFromFlags, UPDATE_LIMITS } from "../_create_flags.ts";
import { ID_OPTION, loadById } from "./_by_id.ts";
import type { Command } from "./_context.ts";

const OPTIONS: OptionSpecs = { ...ID_OPTION, ...limitOptions(UPDATE_LIMITS) };

export const update: Command = {
  summary: "change the resource limits of a running container",
  usage: "nsinit [global options] update [--id ID] LIMIT FLAGS...",
  help: () => optionHelp(OPTIONS),
  async run(context, args) {
    const { container, values } = await loadById(context, args, "update", OPTIONS);
    const limits = limitsFromFlags(values, UPDATE_LIMITS);
    if (Object.keys(limits).length === 0) {
      throw new UsageError("update needs at least one limit flag; run `nsinit help update`");
    }
    await container.set(limits);
    return 0;
  },
};
