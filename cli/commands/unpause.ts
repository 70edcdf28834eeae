/**
 * `nsinit unpause --id ID`: resumes the processes of a paused container.
 *
 * @module
 */
import { optionHelp } from "../_args.ts";
import { ID_OPTION, loadById } from "./_by_id.ts";
import type { Command } from "./_context.ts";

export const unpause: Command = {
  summary: "resume the processes of a paused container",
  usage: "nsinit [global options] unpause [--id ID]",
  help: () => optionHelp(ID_OPTION),
  async run(context, args) {
    const { container } = await loadById(context, args, "unpause");
    await container.resume();
    return 0;
  },
};
