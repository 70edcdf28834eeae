/**
 * `nsinit pause --id ID`: freezes every process of a running container.
 *
 * @module
 */
import { optionHelp } from "../_args.ts";
import { ID_OPTION, loadById } from "./_by_id.ts";
import type { Command } from "./_context.ts";

export const pause: Command = {
  summary: "pause every process of a container",
  usage: "nsinit [global options] pause [--id ID]",
  help: () => optionHelp(ID_OPTION),
  async run(context, args) {
    const { container } = await loadById(context, args, "pause");
    await container.pause();
    return 0;
  },
};
