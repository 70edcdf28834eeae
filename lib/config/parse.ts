/**
 * Parsing: JSON text or a value through the schema, then the semantic
 * checks; and back to canonical JSON.
 *
 * @module
 */
import { isAbsolute, join } from "../_deps/path.ts";
import { ConfigError } from "../errors.ts";
import { configSchema } from "./schema.ts";
import type { Config } from "./types.ts";
import { validateConfig, type ValidateOptions } from "./validate.ts";
import { show } from "./_issues.ts";
import { jsonErrorPosition } from "./_json.ts";

/**
 * Checks the shape and fills in defaults; no semantic checks. The result is
 * a fresh value that shares no object with the input.
 *
 * @throws {ConfigError} listing every shape issue.
 */
export function parseShape(input: unknown): Config {
  const result = configSchema.parse(input);
  if (result.ok) return result.value;
  throw new ConfigError(result.issues);
}

/**
 * Validates a config given as a value: its shape (every object strict, so
 * an unknown key is an error), then the semantic checks.
 *
 * @param input A config object, such as the result of `JSON.parse`, or a {@link Config}.
 * @param options Seams for the checks that look at the host.
 * @returns The config with every default filled in.
 * @throws {ConfigError} listing every issue, each with its field path such as `mounts[2].destination`.
 * @example
 * ```ts
 * const config = parseConfig({ rootfs: "/srv/box", namespaces: [{ type: "NEWPID" }] });
 * ```
 */
export function parseConfig(input: unknown, options: ValidateOptions = {}): Config {
  const config = parseShape(input);
  const issues = validateConfig(config, options);
  if (issues.length > 0) throw new ConfigError(issues);
  return config;
}

function unexpected(text: string, offset: number): string {
  const char = text[offset];
  if (char === undefined) return "unexpected end of input";
  // A control character is shown escaped, as it would be written in JSON.
  if (char < " ") return `unexpected control character ${show(JSON.stringify(char).slice(1, -1))}`;
  return `unexpected ${show(char)}`;
}

/**
 * Validates a config given as JSON text.
 *
 * @param text The JSON document.
 * @param options Seams for the checks that look at the host.
 * @returns The config with every default filled in.
 * @throws {ConfigError} when the text is not JSON (path `""`, the message names line and column) or the config is invalid.
 */
export function parseConfigJson(text: string, options: ValidateOptions = {}): Config {
  return parseConfig(parseJsonInput(text), options);
}

/**
 * Parses JSON text into a config input, not yet validated.
 *
 * @throws {ConfigError} with the line and column of a syntax error.
 */
export function parseJsonInput(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    const at = jsonErrorPosition(text);
    const message = at
      ? `Invalid JSON at line ${at.line}, column ${at.column}: ${unexpected(text, at.offset)}`
      : `Invalid JSON: ${(error as Error).message}`;
    throw new ConfigError([{ path: "", message }], { cause: error });
  }
}

/**
 * The canonical JSON object of a config: the seed's keys in schema order,
 * every default written out, device types as letters, unlimited rlimits as
 * -1. `parseConfig(configToJson(config))` deep-equals `config`.
 *
 * @throws {ConfigError} when the value does not have a config's shape (only possible by bypassing the types).
 */
export function configToJson(config: Config): Record<string, unknown> {
  // Parsing again copies every object and orders keys as the schema does.
  return { ...parseShape(config) };
}

/**
 * Makes a relative (or empty) `rootfs` absolute by resolving it against the
 * directory holding the config file; anything else is returned unchanged.
 * The input is not modified.
 *
 * @param input A config object as read from a file, before validation.
 * @param configFileDir The absolute directory of the config file.
 * @returns The input, or a shallow copy with an absolute `rootfs`.
 * @example
 * ```ts
 * resolveRootfs({ rootfs: "." }, "/srv/box"); // { rootfs: "/srv/box" }
 * ```
 */
export function resolveRootfs<T>(input: T, configFileDir: string): T {
  if (input === null || typeof input !== "object" || Array.isArray(input)) return input;
  const rootfs = (input as Record<string, unknown>).rootfs;
  if (typeof rootfs !== "string" || isAbsolute(rootfs)) return input;
  const resolved = join(configFileDir, rootfs).replace(/(.)\/+$/, "$1");
  return { ...input, rootfs: resolved };
}
