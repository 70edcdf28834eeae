/**
 * `nsinit demo`: runs a container on the built-in root filesystem and shows
 * what makes it one: its own hostname, its first process as PID 1, and its
 * own mount, uts, ipc, pid and net namespaces.
 *
 * @module
 */
import { builtinRootfs, createFactory, defaultConfig, namespaceIds } from "../../mod.ts";
import { UsageError } from "../_args.ts";
import type { Command } from "./_context.ts";

interface ProbeReport {
  pid: number;
  hostname: string;
  uid: number;
  ns: Record<string, number | null>;
}

const SHOWN = ["mnt", "uts", "ipc", "pid", "net"] as const;

export const demo: Command = {
  summary: "run a container on the built-in root filesystem and show it is one",
  usage: "nsinit [global options] demo",
  help: () => [],
  async run(context, args) {
    if (args.length > 0) throw new UsageError(`demo takes no arguments, got \`${args[0]}\``);
    const rootfs = builtinRootfs(context.root);
    const id = `demo-${Deno.pid}`;
    const config = {
      ...defaultConfig({ rootfs, name: id }),
      hostname: "nsinit-demo",
      readonlyfs: true,
    };
    const factory = await createFactory({ root: context.root });
    const container = await factory.create(id, config);
    let report: ProbeReport;
    let hostPid: number;
    try {
      const process = await container.start({ args: ["/bin/probe", "report"], stdout: "piped" });
      hostPid = process.pid;
      const output = await process.output();
      if (!output.success) throw new Error(`The probe exited with status ${output.code}`);
      report = JSON.parse(new TextDecoder().decode(output.stdout));
    } finally {
      await container.destroy();
    }
    const host = namespaceIds();
    const lines = [
      `Container ${id} on the built-in root filesystem ${rootfs}`,
      `  hostname   ${report.hostname}`,
      `  first pid  ${report.pid} inside (pid ${hostPid} on the host)`,
      `  user       uid ${report.uid}`,
      "",
      `  namespace  ${"container".padEnd(12)} ${"host".padEnd(12)}`,
      ...SHOWN.map((name) => {
        const inside = report.ns[name];
        const outside = host[name];
        const verdict = inside === outside ? "shared" : "own";
        return `  ${name.padEnd(9)}  ${String(inside).padEnd(12)} ${
          String(outside).padEnd(12)
        } ${verdict}`;
      }),
    ];
    console.log(lines.join("\n"));
    const isolated = report.pid === 1 && SHOWN.every((name) => report.ns[name] !== host[name]);
    return isolated ? 0 : 1;
  },
};
