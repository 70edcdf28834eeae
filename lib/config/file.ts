/**
 * Config files: read (a relative rootfs is taken from the file's directory,
 * as nsinit users keep container.json inside the rootfs) and written.
 *
 * @module
 */
import { dirname, isAbsolute, resolve } from "../_deps/path.ts";
import { ConfigError } from "../errors.ts";
import { readTextFile, writeFile } from "../sys/fs.ts";
import { workingDirectory } from "../sys/cwd.ts";
import type { Config, ConfigInput } from "./types.ts";
import { configToJson, parseConfig, resolveRootfs, type ValidateOptions } from "./mod.ts";
import { parseJsonInput } from "./parse.ts";

/**
 * Reads a JSON config file without validating it (`Factory.create` does),
 * with a relative (or empty) `rootfs` resolved against the file's directory.
 *
 * @throws {ConfigError} when the file is not JSON, or not a JSON object; the message names the file.
 * @throws {SystemError} when the file cannot be read.
 */
export function readConfigInput(path: string): ConfigInput {
  const file = isAbsolute(path) ? path : resolve(workingDirectory(), path);
  let input: unknown;
  try {
    input = parseJsonInput(readTextFile(file));
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    throw new ConfigError(
      error.issues.map((issue) => ({ ...issue, message: `\`${file}\`: ${issue.message}` })),
      {
        cause: error,
      },
    );
  }
  if (input === null || typeof input !== "object" || Array.isArray(input)) {
    throw new ConfigError([{ path: "", message: `\`${file}\` does not hold a JSON object` }]);
  }
  return resolveRootfs(input as ConfigInput, dirname(file));
}

/**
 * Reads and validates a JSON config file (see {@link readConfigInput}).
 *
 * @throws {ConfigError} when the file is not valid JSON or not a valid config; the path names the field.
 * @throws {SystemError} when the file cannot be read.
 */
export function readConfigFile(path: string, options: ValidateOptions = {}): Config {
  return parseConfig(readConfigInput(path), options);
}

/** Writes a config as JSON (the seed's keys, every field present). */
export function writeConfigFile(path: string, config: Config): void {
  writeFile(path, JSON.stringify(configToJson(config), null, 2) + "\n", {
    create: true,
    mode: 0o644,
  });
}
