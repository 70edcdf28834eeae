/**
 * Argument splitting for nsinit: options come before the command and before
 * the container's command line; everything from the first positional on is
 * passed to the container untouched. Options themselves are parsed by
 * `node:util` parseArgs (the stand-in for `@std/cli`), behind this module.
 *
 * @module
 */
import { parseArgs } from "node:util";

/** One option: its value type, an optional one-letter alias, and whether it repeats. */
export interface OptionSpec {
  type: "string" | "boolean";
  short?: string;
  multiple?: boolean;
  /** One line for the help text. */
  help: string;
  /** The value's name in the help text. */
  value?: string;
}

/** Options by long name. */
export type OptionSpecs = Readonly<Record<string, OptionSpec>>;

/** Parsed option values. */
export type OptionValues = Record<string, string | boolean | string[] | undefined>;

/** An argument the command line got wrong; printed as one line. */
export class UsageError extends Error {
  override name = "UsageError";
}

function takesValue(token: string, specs: OptionSpecs): boolean {
  if (token.startsWith("--")) {
    if (token.includes("=")) return false;
    return specs[token.slice(2)]?.type === "string";
  }
  const letter = token.slice(1, 2);
  if (token.length > 2) return false; // -uroot
  return Object.values(specs).some((spec) => spec.short === letter && spec.type === "string");
}

/** Splits tokens into the leading options and the rest (from the first positional, or after `--`). */
export function splitOptions(
  tokens: readonly string[],
  specs: OptionSpecs,
): { options: string[]; rest: string[] } {
  let i = 0;
  while (i < tokens.length) {
    const token = tokens[i]!;
    if (token === "--") return { options: tokens.slice(0, i), rest: tokens.slice(i + 1) };
    if (!token.startsWith("-") || token === "-") break;
    i += takesValue(token, specs) ? 2 : 1;
  }
  return { options: tokens.slice(0, Math.min(i, tokens.length)), rest: tokens.slice(i) };
}

/** Parses option tokens strictly; an unknown option or a missing value is a {@link UsageError}. */
export function parseOptions(
  tokens: readonly string[],
  specs: OptionSpecs,
  where: string,
): OptionValues {
  const options: Record<
    string,
    { type: "string" | "boolean"; short?: string; multiple?: boolean }
  > = {};
  for (const [name, spec] of Object.entries(specs)) {
    options[name] = {
      type: spec.type,
      ...(spec.short ? { short: spec.short } : {}),
      ...(spec.multiple ? { multiple: true } : {}),
    };
  }
  try {
    return parseArgs({ args: [...tokens], options, strict: true, allowPositionals: false })
      .values as OptionValues;
  } catch (error) {
    const message = (error as Error).message;
    const unknown = /Unknown option '([^']+)'/.exec(message);
    if (unknown) throw new UsageError(`Unknown option \`${unknown[1]}\` for ${where}`);
    const missing = /Option '([^']+)'.* argument missing/.exec(message);
    if (missing) {
      throw new UsageError(`Option \`${missing[1]!.split(" ")[0]}\` of ${where} needs a value`);
    }
    throw new UsageError(`${message.split(".")[0]} (${where})`);
  }
}

/** The help lines of a set of options. */
export function optionHelp(specs: OptionSpecs): string[] {
  return Object.entries(specs).map(([name, spec]) => {
    const flag = `${spec.short ? `-${spec.short}, ` : "    "}--${name}${
      spec.type === "string" ? ` ${spec.value ?? "VALUE"}` : ""
    }`;
    return `  ${flag.padEnd(34)} ${spec.help}`;
  });
}
