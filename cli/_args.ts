/**
 * Argument splitting for nsinit: options come before the command and before
 * the container's command line; everything from the first positional on is
 * passed to the container untouched. The parser is written out rather than
 * taken from `node:util` (parseArgs): importing any `node:` module starts
 * Deno's Node compatibility layer, which would cost every nsinit start
 * several milliseconds.
 *
 * @module
 */

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

function findSpec(token: string, specs: OptionSpecs): [string, OptionSpec] | undefined {
  if (token.startsWith("--")) {
    const name = token.slice(2).split("=")[0]!;
    const spec = specs[name];
    return spec ? [name, spec] : undefined;
  }
  const letter = token.slice(1, 2);
  return Object.entries(specs).find(([, spec]) => spec.short === letter);
}

/** Parses option tokens strictly; an unknown option or a missing value is a {@link UsageError}. */
export function parseOptions(
  tokens: readonly string[],
  specs: OptionSpecs,
  where: string,
): OptionValues {
  const values: OptionValues = {};
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    const found = findSpec(token, specs);
    if (!found || !token.startsWith("-") || token === "-" || token === "--") {
      throw new UsageError(`Unknown option \`${token}\` for ${where}`);
    }
    const [name, spec] = found;
    const shown = token.startsWith("--") ? `--${name}` : `-${spec.short}`;
    let value: string | undefined;
    if (token.startsWith("--") && token.includes("=")) value = token.slice(token.indexOf("=") + 1);
    else if (!token.startsWith("--") && token.length > 2) value = token.slice(2);
    if (spec.type === "boolean") {
      if (value !== undefined) {
        throw new UsageError(`Option \`${shown}\` of ${where} takes no value`);
      }
      values[name] = true;
      continue;
    }
    if (value === undefined) {
      if (i + 1 >= tokens.length) {
        throw new UsageError(`Option \`${shown}\` of ${where} needs a value`);
      }
      value = tokens[++i]!;
    }
    if (spec.multiple) values[name] = [...((values[name] as string[] | undefined) ?? []), value];
    else values[name] = value;
  }
  return values;
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
