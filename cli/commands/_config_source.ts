/**
 * Where `exec` and `config` take a config from: --config FILE, else a
 * container.json in the current directory, else the template; the create
 * flags are applied on top. Nothing is validated here: `create` does it,
 * once.
 *
 * @module
 */
import {
  type ConfigInput,
  defaultConfig,
  readConfigInput,
  SystemError,
  workingDirectory,
} from "../../mod.ts";
import type { OptionValues } from "../_args.ts";
import { applyCreateFlags } from "../_create_flags.ts";

function fromFile(path: string, required: boolean): ConfigInput | null {
  try {
    return readConfigInput(path);
  } catch (error) {
    if (!required && error instanceof SystemError && error.errnoName === "ENOENT") return null;
    throw error;
  }
}

/** The config an `exec` or `config` invocation asks for, before validation. */
export function configFromOptions(values: OptionValues): ConfigInput {
  const file = typeof values.config === "string"
    ? fromFile(values.config, true)
    : fromFile("container.json", false);
  if (file) return applyCreateFlags(file, values);
  const template = defaultConfig({ rootfs: workingDirectory() });
  // An unnamed cgroup takes the container's id.
  return applyCreateFlags({ ...template, cgroups: { ...template.cgroups, name: "" } }, values);
}
