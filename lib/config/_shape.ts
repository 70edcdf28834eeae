/**
 * A small validation kit: shapes that check an unknown value, fill in
 * defaults, normalise, and collect every problem as an issue with a path.
 *
 * It replaces zod here because the config is validated on every container
 * start: zod's import, schema building and first parse cost tens of
 * milliseconds on each `nsinit` run, and this kit needs none of its
 * generality. A shape is an object with a `run` method; parsing walks the
 * value once, allocates only the output (and the issues, when there are
 * any), and never throws for bad input.
 *
 * @example
 * ```ts
 * const point = strictObject({ x: int(0, 100), label: withDefault(string(), "") });
 * const result = point.parse({ x: 5 });
 * if (result.ok) result.value.label; // ""
 * else result.issues; // [{ path: "x", message: "..." }]
 * ```
 *
 * @module
 */
import { formatPath, listOf, show, suggestKey } from "./_issues.ts";

/** One problem found while parsing: where it is and what is wrong. */
export interface ShapeIssue {
  /** The field path, such as `mounts[2].destination`; empty for the value itself. */
  path: string;
  /** What is wrong, capitalised, without the path. */
  message: string;
}

/** What {@link Shape.parse} returns: the output, or every issue found. */
export type ParseResult<T> =
  | { ok: true; value: T }
  | { ok: false; issues: ShapeIssue[] };

/** Returned by `run` in place of an output; the issue is already recorded. */
export const INVALID: unique symbol = Symbol("invalid");
/** The type of the marker a failed `run` returns. */
export type Invalid = typeof INVALID;

/**
 * The state of one parse: the key path to the current value (a stack, so
 * descending allocates nothing) and the issues so far. `probing` counts the
 * unions trying an option: a failure there is only a signal, so no
 * message is built for it.
 */
export class Context {
  /** The keys from the root to the current value; only `keys[0..depth)` is live. */
  readonly keys: (string | number)[] = [];
  /** How many of `keys` are in use. */
  depth = 0;
  /** Every issue recorded so far. */
  issues: ShapeIssue[] = [];
  /** How many unions are trying an option. */
  probing = 0;

  /** Records `message` at the current path and returns {@link INVALID}. */
  fail(message: string): Invalid {
    if (this.probing === 0) {
      this.issues.push({ path: formatPath(this.keys.slice(0, this.depth)), message });
    }
    return INVALID;
  }

  /** Records that `value` is not of the `expected` kind (or is missing). */
  wrongType(expected: string, value: unknown): Invalid {
    if (this.probing > 0) return INVALID;
    return this.fail(
      value === undefined
        ? `Required: expected ${expected}`
        : `Expected ${expected}, got ${describe(value)}`,
    );
  }
}

/** Arrays and objects by kind, other values quoted, for "got ..." in messages. */
function describe(value: unknown): string {
  if (Array.isArray(value)) return "an array";
  if (value !== null && typeof value === "object") return "an object";
  return show(value);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

// One context is kept between parses, so a parse that finds no issue
// allocates nothing but its output. A parse started inside another (from a
// refinement, say) finds it taken and makes its own.
let spare: Context | undefined;

/**
 * Checks a value and produces the parsed output. `Out` is what parsing
 * returns, `In` what it accepts; they differ where a shape fills in a
 * default or normalises.
 */
export abstract class Shape<Out, In = Out> {
  /** Type only: the parsed output; see {@link Infer}. */
  declare readonly output: Out;
  /** Type only: the accepted input; see {@link Input}. */
  declare readonly input: In;
  /** What the shape accepts, for messages: `a string`, `one of \`a\` or \`b\``. */
  abstract readonly expected: string;

  /**
   * Checks `value` at the context's current path: returns the output, or
   * {@link INVALID} after recording at least one issue.
   */
  abstract run(value: unknown, context: Context): Out | Invalid;

  /**
   * Parses a value. Never throws for bad input.
   *
   * @returns The output when there is no issue, otherwise every issue found.
   */
  parse(value: unknown): ParseResult<Out> {
    const context = spare ?? new Context();
    spare = undefined;
    const output = this.run(value, context);
    const issues = context.issues;
    const failed = output === INVALID || issues.length > 0;
    // The issues go to the caller, so the kept context gets a new list.
    if (failed) context.issues = [];
    context.depth = 0;
    context.probing = 0;
    spare = context;
    return failed ? { ok: false, issues } : { ok: true, value: output };
  }
}

/** Any shape, whatever it parses (a shape is covariant in both its types). */
export type AnyShape = Shape<unknown, unknown>;
/** What a shape parses to. */
export type Infer<S extends AnyShape> = S["output"];
/** What a shape accepts. */
export type Input<S extends AnyShape> = S["input"];

class StringShape extends Shape<string> {
  readonly expected = "a string";
  run(value: unknown, context: Context): string | Invalid {
    return typeof value === "string" ? value : context.wrongType(this.expected, value);
  }
}

/** A string. */
export function string(): Shape<string> {
  return new StringShape();
}

class BooleanShape extends Shape<boolean> {
  readonly expected = "a boolean";
  run(value: unknown, context: Context): boolean | Invalid {
    return typeof value === "boolean" ? value : context.wrongType(this.expected, value);
  }
}

/** `true` or `false`. */
export function boolean(): Shape<boolean> {
  return new BooleanShape();
}

class NumberShape extends Shape<number> {
  readonly expected = "a number";
  run(value: unknown, context: Context): number | Invalid {
    // NaN and the infinities cannot come from JSON, and no field means them.
    return typeof value === "number" && Number.isFinite(value)
      ? value
      : context.wrongType(this.expected, value);
  }
}

/** A finite number. */
export function number(): Shape<number> {
  return new NumberShape();
}

class IntShape extends Shape<number> {
  readonly expected = "an integer";
  constructor(readonly min: number, readonly max: number) {
    super();
  }
  run(value: unknown, context: Context): number | Invalid {
    if (typeof value !== "number" || !Number.isInteger(value)) {
      return context.wrongType(this.expected, value);
    }
    if (value < this.min) {
      return context.probing
        ? INVALID
        : context.fail(`Must be at least ${this.min}, got ${show(value)}`);
    }
    if (value > this.max) {
      return context.probing
        ? INVALID
        : context.fail(`Must be at most ${this.max}, got ${show(value)}`);
    }
    return value;
  }
}

/**
 * An integer from `min` to `max`, both included.
 *
 * @param min The smallest value allowed.
 * @param max The largest value allowed; the largest safe integer when left out.
 */
export function int(min: number, max: number = Number.MAX_SAFE_INTEGER): Shape<number> {
  return new IntShape(min, max);
}

class OneOfShape<T extends string | number> extends Shape<T> {
  readonly expected: string;
  readonly #allowed: string;
  constructor(readonly values: readonly T[]) {
    super();
    this.#allowed = values.length > 1 ? `one of ${listOf(values)}` : listOf(values);
    this.expected = this.#allowed;
  }
  run(value: unknown, context: Context): T | Invalid {
    // A linear scan: the lists are short, and it needs no Set per shape.
    const values = this.values;
    for (let i = 0; i < values.length; i++) if (values[i] === value) return value as T;
    if (context.probing) return INVALID;
    if (value === undefined) return context.wrongType(this.expected, value);
    return context.fail(`Must be ${this.#allowed}, got ${show(value)}`);
  }
}

/**
 * One of the given strings or numbers.
 *
 * @param values The allowed values, compared with `===`.
 */
export function oneOf<const T extends readonly (string | number)[]>(
  values: T,
): Shape<T[number]> {
  return new OneOfShape<T[number]>(values);
}

class ArrayShape<Out, In> extends Shape<Out[], In[]> {
  readonly expected = "an array";
  constructor(readonly item: Shape<Out, In>) {
    super();
  }
  run(value: unknown, context: Context): Out[] | Invalid {
    if (!Array.isArray(value)) return context.wrongType(this.expected, value);
    const item = this.item;
    const out: Out[] = new Array(value.length);
    let failed = false;
    // The path is a stack: this entry's key goes at `depth` (see Context).
    const depth = context.depth++;
    for (let i = 0; i < value.length; i++) {
      context.keys[depth] = i;
      const parsed = item.run(value[i], context);
      if (parsed === INVALID) {
        failed = true;
        if (context.probing) break;
      } else out[i] = parsed;
    }
    context.depth = depth;
    return failed ? INVALID : out;
  }
}

/** An array whose every entry has the `item` shape; the output is a new array. */
export function array<Out, In>(item: Shape<Out, In>): Shape<Out[], In[]> {
  return new ArrayShape(item);
}

/**
 * Sets `key` on `target` as an own data property, even `__proto__`, which
 * plain assignment would take as the prototype.
 */
function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === "__proto__") {
    Object.defineProperty(target, key, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  } else target[key] = value;
}

class RecordShape<Out, In> extends Shape<Record<string, Out>, Record<string, In>> {
  readonly expected = "an object";
  constructor(readonly item: Shape<Out, In>) {
    super();
  }
  run(value: unknown, context: Context): Record<string, Out> | Invalid {
    if (!isPlainObject(value)) return context.wrongType(this.expected, value);
    const item = this.item;
    const out: Record<string, Out> = {};
    let failed = false;
    const depth = context.depth++;
    for (const key in value) {
      if (!Object.hasOwn(value, key)) continue;
      context.keys[depth] = key;
      const parsed = item.run(value[key], context);
      if (parsed === INVALID) {
        failed = true;
        if (context.probing) break;
      } else setOwn(out, key, parsed);
    }
    context.depth = depth;
    return failed ? INVALID : out;
  }
}

/** An object used as a map: any string keys, every value of the `item` shape. */
export function record<Out, In>(
  item: Shape<Out, In>,
): Shape<Record<string, Out>, Record<string, In>> {
  return new RecordShape(item);
}

/** Marks a field with no default, in {@link ObjectShape}'s per-field list. */
const NO_FALLBACK: unique symbol = Symbol("no fallback");

/** The input a default stands for: the value, or what its function returns. */
function fallbackInput(fallback: unknown): unknown {
  return typeof fallback === "function" ? fallback() : fallback;
}

class DefaultShape<Out, In> extends Shape<Out, In | undefined> {
  readonly expected: string;
  constructor(readonly inner: Shape<Out, In>, readonly fallback: In | (() => In)) {
    super();
    this.expected = inner.expected;
  }
  run(value: unknown, context: Context): Out | Invalid {
    return this.inner.run(value === undefined ? fallbackInput(this.fallback) : value, context);
  }
}

/**
 * `shape`, or when the value is missing (`undefined`), `fallback`. The
 * fallback is an input: it goes through `shape` like one, so its defaults
 * are filled in and a list default is a fresh array every time.
 *
 * @param fallback The input to use, or a function returning it.
 */
export function withDefault<Out, In>(
  shape: Shape<Out, In>,
  fallback: In | (() => In),
): Shape<Out, In | undefined> {
  return new DefaultShape(shape, fallback);
}

/** The fields of a {@link strictObject}: key to shape. */
export type Fields = Record<string, AnyShape>;

/** Keys whose `W` type (output or input) admits `undefined`: they become optional. */
type OptionalKeys<F extends Fields, W extends "output" | "input"> = {
  [K in keyof F]: undefined extends F[K][W] ? K : never;
}[keyof F];

/** Spells an intersection out as one object type, so it reads (and compares) as written. */
type Flat<T> = { [K in keyof T]: T[K] };

/** The object type a {@link strictObject} parses to (`W` = `output`) or accepts (`input`). */
export type ObjectOf<F extends Fields, W extends "output" | "input"> = Flat<
  & { [K in Exclude<keyof F, OptionalKeys<F, W>>]: F[K][W] }
  & { [K in OptionalKeys<F, W>]?: F[K][W] }
>;

/** A {@link strictObject}, which also lists its field names. */
export class ObjectShape<F extends Fields>
  extends Shape<ObjectOf<F, "output">, ObjectOf<F, "input">> {
  readonly expected = "an object";
  /** The field names, in order: the output's key order. */
  readonly keys: readonly string[];
  // Per field, in `keys` order: the shape to run (a default unwrapped, so
  // the loop below fills it in without a further call) and its fallback.
  readonly #shapes: readonly AnyShape[];
  readonly #fallbacks: readonly unknown[];
  readonly #known: Record<string, true>;

  /** Creates the shape; use {@link strictObject}. */
  constructor(readonly fields: F) {
    super();
    this.keys = Object.keys(fields);
    const shapes: AnyShape[] = [];
    const fallbacks: unknown[] = [];
    for (const shape of Object.values(fields)) {
      const defaulted = shape instanceof DefaultShape;
      shapes.push(defaulted ? shape.inner : shape);
      fallbacks.push(defaulted ? shape.fallback : NO_FALLBACK);
    }
    this.#shapes = shapes;
    this.#fallbacks = fallbacks;
    // A null-prototype map: `constructor` or `toString` in the input are unknown keys.
    this.#known = Object.create(null);
    for (const key of this.keys) this.#known[key] = true;
  }

  run(value: unknown, context: Context): ObjectOf<F, "output"> | Invalid {
    if (!isPlainObject(value)) return context.wrongType(this.expected, value);
    const keys = this.keys;
    const shapes = this.#shapes;
    const fallbacks = this.#fallbacks;
    const out: Record<string, unknown> = {};
    let failed = false;
    const depth = context.depth++;
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]!;
      context.keys[depth] = key;
      let input = value[key];
      if (input === undefined && fallbacks[i] !== NO_FALLBACK) input = fallbackInput(fallbacks[i]);
      const parsed = shapes[i]!.run(input, context);
      if (parsed === INVALID) {
        failed = true;
        if (context.probing) break;
      } else if (parsed !== undefined) out[key] = parsed;
    }
    context.depth = depth;
    if (failed && context.probing) return INVALID;
    // Unknown keys come after the fields' issues, in the input's order. A
    // misspelt key is an error, not a setting silently ignored.
    const known = this.#known;
    for (const key in value) {
      if (known[key] === true || !Object.hasOwn(value, key)) continue;
      failed = true;
      if (context.probing) return INVALID;
      const suggestion = suggestKey(key, keys);
      context.keys[depth] = key;
      context.depth = depth + 1;
      context.fail(suggestion ? `Unknown key: did you mean \`${suggestion}\`?` : "Unknown key");
      context.depth = depth;
    }
    return failed ? INVALID : out as ObjectOf<F, "output">;
  }
}

/**
 * An object with exactly the given fields: a missing field is reported
 * unless its shape has a default or is optional, and every key not listed
 * is reported as unknown, with the closest field name as a suggestion. The
 * output has the fields in the order given.
 */
export function strictObject<F extends Fields>(fields: F): ObjectShape<F> {
  return new ObjectShape(fields);
}

class OptionalShape<Out, In> extends Shape<Out | undefined, In | undefined> {
  readonly expected: string;
  constructor(readonly inner: Shape<Out, In>) {
    super();
    this.expected = inner.expected;
  }
  run(value: unknown, context: Context): Out | undefined | Invalid {
    return value === undefined ? undefined : this.inner.run(value, context);
  }
}

/** `shape`, or missing: an optional field is left out of the output when absent. */
export function optional<Out, In>(shape: Shape<Out, In>): Shape<Out | undefined, In | undefined> {
  return new OptionalShape(shape);
}

/** How a {@link union} describes itself. */
export interface UnionOptions {
  /** What the union accepts, such as `a number or \`unlimited\``. */
  expected: string;
  /** The message when no option accepts a present value; `Expected <expected>, got ...` by default. */
  message?: (value: unknown) => string;
}

class UnionShape<Out, In> extends Shape<Out, In> {
  readonly expected: string;
  constructor(readonly options: readonly Shape<Out, In>[], readonly spec: UnionOptions) {
    super();
    this.expected = spec.expected;
  }
  run(value: unknown, context: Context): Out | Invalid {
    const options = this.options;
    context.probing++;
    let result: Out | Invalid = INVALID;
    for (let i = 0; i < options.length && result === INVALID; i++) {
      result = options[i]!.run(value, context);
    }
    context.probing--;
    if (result !== INVALID || context.probing) return result;
    const message = this.spec.message;
    if (value === undefined || !message) return context.wrongType(this.expected, value);
    return context.fail(message(value));
  }
}

/** The output of any of the shapes in a tuple. */
type OutputOf<T extends readonly AnyShape[]> = T[number]["output"];
/** The input of any of the shapes in a tuple. */
type InputOf<T extends readonly AnyShape[]> = T[number]["input"];

/**
 * The first of `options` that accepts the value. When none does, one issue
 * is reported at the value's path (the options' own issues would only say
 * what each alternative wanted).
 */
export function union<const T extends readonly AnyShape[]>(
  options: T,
  spec: UnionOptions,
): Shape<OutputOf<T>, InputOf<T>> {
  return new UnionShape<OutputOf<T>, InputOf<T>>(options, spec);
}

class TransformShape<From, Out, In> extends Shape<Out, In> {
  readonly expected: string;
  constructor(readonly inner: Shape<From, In>, readonly fn: (value: From) => Out) {
    super();
    this.expected = inner.expected;
  }
  run(value: unknown, context: Context): Out | Invalid {
    const parsed = this.inner.run(value, context);
    return parsed === INVALID ? INVALID : this.fn(parsed);
  }
}

/** `shape`, with its output passed through `fn`; `fn` runs only on a valid value. */
export function transform<From, Out, In>(
  shape: Shape<From, In>,
  fn: (value: From) => Out,
): Shape<Out, In> {
  return new TransformShape(shape, fn);
}

class RefineShape<Out, In> extends Shape<Out, In> {
  readonly expected: string;
  constructor(readonly inner: Shape<Out, In>, readonly check: (value: Out) => string | undefined) {
    super();
    this.expected = inner.expected;
  }
  run(value: unknown, context: Context): Out | Invalid {
    const parsed = this.inner.run(value, context);
    if (parsed === INVALID) return INVALID;
    const message = this.check(parsed);
    return message === undefined ? parsed : context.fail(message);
  }
}

/**
 * `shape`, with a further rule: `check` gets the parsed value and returns
 * the message of the issue, or `undefined` when the value is good.
 */
export function refine<Out, In>(
  shape: Shape<Out, In>,
  check: (value: Out) => string | undefined,
): Shape<Out, In> {
  return new RefineShape(shape, check);
}
