/**
 * `nsinit oom --id ID`: prints a line for each out-of-memory event of a
 * container until its cgroup is removed (or nsinit is interrupted).
 *
 * @module
 */
import { optionHelp } from "../_args.ts";
import { ID_OPTION, loadById } from "./_by_id.ts";
import type { Command } from "./_context.ts";

export const oom: Command = {
  summary: "print a line for each out-of-memory event of a container",
  usage: "nsinit [global options] oom [--id ID]",
  help: () => optionHelp(ID_OPTION),
  async run(context, args) {
    const { container } = await loadById(context, args, "oom");
    const events = container.notifyOOM();
    // Interrupted, it stops listening and exits 0, as the end of the container does.
    const stop = () => void events.close();
    Deno.addSignalListener("SIGINT", stop);
    Deno.addSignalListener("SIGTERM", stop);
    try {
      for await (const event of events) {
        const kills = event.kills === null ? "" : `, ${event.kills} killed`;
        console.log(`OOM notification received (${event.count} event(s)${kills})`);
      }
    } finally {
      Deno.removeSignalListener("SIGINT", stop);
      Deno.removeSignalListener("SIGTERM", stop);
      await events.close();
    }
    return 0;
  },
};
