/**
 * `nsinit config [options]`: prints the config that `exec` would use (the
 * template, or container.json, with the create flags applied), for editing
 * and passing back with `--config`.
 *
 * @module
 */
import { configToJson, parseConfig, writeConfigFile } from "../../mod.ts";
import { optionHelp, type OptionSpecs, parseOptions, splitOptions, UsageError } from "../_args.ts";
import { CREATE_FLAGS } from "../_create_flags.ts";
import { configFromOptions } from "./_config_source.ts";
import type { Command } from "./_context.ts";

const OPTIONS: OptionSpecs = {
  file: { type: "string", short: "f", value: "FILE", help: "write to FILE instead of stdout" },
  config: { type: "string", value: "FILE", help: "start from this config instead of the template" },
  ...CREATE_FLAGS,
};

export const config: Command = {
  summary: "print the container config (template plus flags)",
  usage: "nsinit [global options] config [options]",
  help: () => optionHelp(OPTIONS),
  run(_context, args) {
    const { options, rest } = splitOptions(args, OPTIONS);
    if (rest.length > 0) throw new UsageError(`config takes no arguments, got \`${rest[0]}\``);
    const values = parseOptions(options, OPTIONS, "config");
    const validated = parseConfig(configFromOptions(values));
    if (typeof values.file === "string") {
      writeConfigFile(values.file, validated);
    } else {
      console.log(JSON.stringify(configToJson(validated), null, 2));
    }
    return Promise.resolve(0);
  },
};
