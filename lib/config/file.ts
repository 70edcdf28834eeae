/**
 * Config files: read (a relative rootfs is taken from the file's directory,
 * as nsinit users keep container.json inside the rootfs) and written.
 *
 * @module
 */
import { dirname, isAbsolute, resolve } from "../_deps/path.ts";
import { ConfigError, SystemError } from "../errors.ts";
import { readTextFile, writeFile } from "../sys/fs.ts";
import { workingDirectory } from "../sys/cwd.ts";
import type { Config } from "./types.ts";
import { configToJson, parseConfig, resolveRootfs, type ValidateOptions } from "./mod.ts";

/**
 * Reads and validates a JSON config file. A relative (or empty) `rootfs`
 * is resolved against the directory holding the file.
 *
 * @throws {ConfigError} when the file is not valid JSON or not a valid config; the path names the field.
 * @throws {SystemError} when the file cannot be read.
 */
export function readConfigFile(path: string, options: ValidateOptions = {}): Config {
  const file = isAbsolute(path) ? path : resolve(workingDirectory(), path);
  let input: unknown;
  try {
    input = JSON.parse(readTextFile(file));
  } catch (error) {
    if (error instanceof SystemError) throw error;
    throw new ConfigError([{
      path: "",
      message: `\`${file}\` is not valid JSON: ${(error as Error).message}`,
    }]);
  }
  return parseConfig(resolveRootfs(input, dirname(file)), options);
}

/** Writes a config as JSON (the seed's keys, every field present). */
export function writeConfigFile(path: string, config: Config): void {
  writeFile(path, JSON.stringify(configToJson(config), null, 2) + "\n", {
    create: true,
    mode: 0o644,
  });
}
