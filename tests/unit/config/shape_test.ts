import { assert, assertEquals } from "../../_assert.ts";
import * as s from "../../../lib/config/_shape.ts";

/** The output of a parse that must succeed. */
function ok<S extends s.AnyShape>(shape: S, value: unknown): s.Infer<S> {
  const result = shape.parse(value);
  if (!result.ok) throw new Error(`Expected success, got ${JSON.stringify(result.issues)}`);
  return result.value;
}

/** The issues of a parse that must fail. */
function issues(shape: s.AnyShape, value: unknown): s.ShapeIssue[] {
  const result = shape.parse(value);
  if (result.ok) throw new Error(`Expected issues, got ${JSON.stringify(result.value)}`);
  return result.issues;
}

const at = (path: string, message: string) => ({ path, message });

Deno.test("string(), boolean() and number() accept their type and name the wrong one", () => {
  assertEquals(ok(s.string(), "a"), "a");
  assertEquals(ok(s.boolean(), false), false);
  assertEquals(ok(s.number(), 1.5), 1.5);
  assertEquals(issues(s.string(), 1), [at("", "Expected a string, got `1`")]);
  assertEquals(issues(s.boolean(), "yes"), [at("", "Expected a boolean, got `yes`")]);
  assertEquals(issues(s.number(), [1]), [at("", "Expected a number, got an array")]);
  assertEquals(issues(s.number(), NaN), [at("", "Expected a number, got `NaN`")]);
  assertEquals(issues(s.string(), { a: 1 }), [at("", "Expected a string, got an object")]);
  assertEquals(issues(s.string(), undefined), [at("", "Required: expected a string")]);
});

Deno.test("int() checks integrality, then each bound, with the bound in the message", () => {
  const shape = s.int(0, 64);
  assertEquals(ok(shape, 0), 0);
  assertEquals(ok(shape, 64), 64);
  assertEquals(issues(shape, 65), [at("", "Must be at most 64, got `65`")]);
  assertEquals(issues(shape, -1), [at("", "Must be at least 0, got `-1`")]);
  assertEquals(issues(shape, 1.5), [at("", "Expected an integer, got `1.5`")]);
  assertEquals(issues(shape, -1.5), [at("", "Expected an integer, got `-1.5`")]);
  assertEquals(issues(shape, "9"), [at("", "Expected an integer, got `9`")]);
  assertEquals(issues(s.int(0), 2 ** 53), [
    at("", "Must be at most 9007199254740991, got `9007199254740992`"),
  ]);
});

Deno.test("oneOf() accepts only the listed values and lists them when it refuses one", () => {
  const shape = s.oneOf(["a", "b", 3]);
  assertEquals(ok(shape, 3), 3);
  assertEquals(issues(shape, "3"), [at("", "Must be one of `a`, `b` or `3`, got `3`")]);
  assertEquals(issues(s.oneOf(["only"]), "x"), [at("", "Must be `only`, got `x`")]);
  assertEquals(issues(shape, undefined), [at("", "Required: expected one of `a`, `b` or `3`")]);
});

Deno.test("array() parses every entry into a new array and indexes the paths", () => {
  const input = ["a", "b"];
  const output = ok(s.array(s.string()), input);
  assertEquals(output, input);
  assert(output !== input);
  assertEquals(issues(s.array(s.string()), ["a", 1, null]), [
    at("[1]", "Expected a string, got `1`"),
    at("[2]", "Expected a string, got `null`"),
  ]);
  assertEquals(issues(s.array(s.string()), { 0: "a" }), [
    at("", "Expected an array, got an object"),
  ]);
});

Deno.test("record() checks every value and quotes keys that are not identifiers", () => {
  const shape = s.record(s.string());
  assertEquals(ok(shape, { "kernel.shmmni": "4096" }), { "kernel.shmmni": "4096" });
  assertEquals(issues(shape, { "kernel.shmmni": 4096, ok_key: null }), [
    at('["kernel.shmmni"]', "Expected a string, got `4096`"),
    at("ok_key", "Expected a string, got `null`"),
  ]);
  assertEquals(issues(shape, []), [at("", "Expected an object, got an array")]);
  assertEquals(issues(shape, null), [at("", "Expected an object, got `null`")]);
});

Deno.test("record() keeps a `__proto__` key as data and never as the prototype", () => {
  const output = ok(s.record(s.string()), JSON.parse('{"__proto__": "x"}'));
  assertEquals(Object.getPrototypeOf(output), Object.prototype);
  assertEquals(Object.keys(output), ["__proto__"]);
  assertEquals(Object.getOwnPropertyDescriptor(output, "__proto__")?.value, "x");
});

Deno.test("strictObject() builds its output in field order and drops nothing it knows", () => {
  const shape = s.strictObject({ b: s.int(0), a: s.string() });
  const output = ok(shape, { a: "x", b: 1 });
  assertEquals(Object.keys(output), ["b", "a"]);
  assertEquals(output, { b: 1, a: "x" });
});

Deno.test("strictObject() reports missing fields, wrong values and then unknown keys", () => {
  const shape = s.strictObject({ name: s.string(), no_pivot_root: s.boolean(), size: s.int(1) });
  assertEquals(issues(shape, { NoPivotRoot: true, size: 0, zzzzzz: 1 }), [
    at("name", "Required: expected a string"),
    at("no_pivot_root", "Required: expected a boolean"),
    at("size", "Must be at least 1, got `0`"),
    at("NoPivotRoot", "Unknown key: did you mean `no_pivot_root`?"),
    at("zzzzzz", "Unknown key"),
  ]);
  assertEquals(issues(shape, null), [at("", "Expected an object, got `null`")]);
  assertEquals(issues(shape, undefined), [at("", "Required: expected an object")]);
});

Deno.test("strictObject() paths nest through objects and arrays", () => {
  const shape = s.strictObject({
    mounts: s.array(s.strictObject({ destination: s.string() })),
    props: s.record(s.int(0)),
  });
  assertEquals(
    issues(shape, {
      mounts: [{ destination: "/a" }, {}, { destination: 1, extra: 1 }],
      props: { "a b": -1 },
    }),
    [
      at("mounts[1].destination", "Required: expected a string"),
      at("mounts[2].destination", "Expected a string, got `1`"),
      at("mounts[2].extra", "Unknown key"),
      at('props["a b"]', "Must be at least 0, got `-1`"),
    ],
  );
});

Deno.test("withDefault() parses its fallback as an input, so every list default is fresh", () => {
  const shape = s.strictObject({
    list: s.withDefault(s.array(s.string()), []),
    inner: s.withDefault(s.strictObject({ n: s.withDefault(s.int(0), 7) }), {}),
    made: s.withDefault(s.string(), () => "made"),
  });
  const first = ok(shape, {});
  const list = first.list;
  assertEquals(first, { list: [], inner: { n: 7 }, made: "made" });
  list.push("edited");
  assertEquals(ok(shape, {}).list, []);
  assertEquals(ok(shape, { list: undefined }).list, []);
  assertEquals(issues(shape, { list: null }), [at("list", "Expected an array, got `null`")]);
});

Deno.test("optional() leaves an absent field out of the output", () => {
  const shape = s.strictObject({ a: s.optional(s.string()) });
  assertEquals(ok(shape, {}), {});
  assert(!Object.hasOwn(ok(shape, {}), "a"));
  assertEquals(ok(shape, { a: "x" }), { a: "x" });
  assertEquals(issues(shape, { a: 1 }), [at("a", "Expected a string, got `1`")]);
});

Deno.test("union() takes the first option that accepts and reports one issue when none does", () => {
  const shape = s.union([s.int(0), s.oneOf(["unlimited"])], { expected: "a count or `unlimited`" });
  assertEquals(ok(shape, 5), 5);
  assertEquals(ok(shape, "unlimited"), "unlimited");
  assertEquals(issues(shape, -1), [at("", "Expected a count or `unlimited`, got `-1`")]);
  assertEquals(issues(shape, undefined), [at("", "Required: expected a count or `unlimited`")]);
  const worded = s.union([s.string()], {
    expected: "text",
    message: (value) => `Must be text, got ${typeof value}`,
  });
  assertEquals(issues(worded, 1), [at("", "Must be text, got number")]);
});

Deno.test("union() keeps the issues of options it tried out of the result", () => {
  const inner = s.union([s.strictObject({ a: s.int(0) }), s.string()], { expected: "an `a`" });
  const shape = s.strictObject({
    x: s.union([s.array(s.int(0)), inner], { expected: "anything" }),
  });
  assertEquals(ok(shape, { x: { a: 1 } }), { x: { a: 1 } });
  assertEquals(ok(shape, { x: [1, 2] }), { x: [1, 2] });
  assertEquals(issues(shape, { x: { a: -1, b: 2 } }), [
    at("x", "Expected anything, got an object"),
  ]);
});

Deno.test("transform() normalises a valid value and never sees an invalid one", () => {
  let calls = 0;
  const letter = s.transform(s.oneOf([99, 98]), (code) => {
    calls++;
    return code === 99 ? "c" : "b";
  });
  assertEquals(ok(s.array(letter), [99, 98]), ["c", "b"]);
  assertEquals(issues(letter, 100), [at("", "Must be one of `99` or `98`, got `100`")]);
  assertEquals(calls, 2);
});

Deno.test("refine() adds the message its check returns at the value's path", () => {
  const even = s.refine(s.int(0), (n) => n % 2 === 0 ? undefined : `Must be even, got \`${n}\``);
  const shape = s.strictObject({ n: even });
  assertEquals(ok(shape, { n: 4 }), { n: 4 });
  assertEquals(issues(shape, { n: 3 }), [at("n", "Must be even, got `3`")]);
  assertEquals(issues(shape, { n: -2 }), [at("n", "Must be at least 0, got `-2`")]);
});

Deno.test("parse() never throws for bad input and starts each parse with no issue", () => {
  const shape = s.strictObject({ a: s.string() });
  for (const value of [undefined, null, 0, "", [], new Map(), Symbol("x"), () => {}]) {
    assert(!shape.parse(value).ok);
  }
  const failed = issues(shape, { a: 1 });
  assertEquals(ok(shape, { a: "x" }), { a: "x" });
  assertEquals(failed, [at("a", "Expected a string, got `1`")]);
  assertEquals(issues(shape, {}), [at("a", "Required: expected a string")]);
});

Deno.test("parse() may run inside a check of another parse", () => {
  const inner = s.strictObject({ b: s.int(0) });
  const outer = s.strictObject({
    a: s.refine(s.string(), (text) => {
      const result = inner.parse(JSON.parse(text));
      return result.ok ? undefined : `Bad JSON inside: ${result.issues[0]?.message}`;
    }),
    c: s.int(0),
  });
  assertEquals(issues(outer, { a: '{"b": -1}', c: -1 }), [
    at("a", "Bad JSON inside: Must be at least 0, got `-1`"),
    at("c", "Must be at least 0, got `-1`"),
  ]);
  assertEquals(ok(outer, { a: '{"b": 1}', c: 0 }), { a: '{"b": 1}', c: 0 });
});

Deno.test("Infer and Input give the output and input types of a shape", () => {
  const shape = s.strictObject({
    name: s.string(),
    list: s.withDefault(s.array(s.int(0)), []),
    kind: s.transform(s.oneOf([1, 2]), (n) => (n === 1 ? "one" : "two")),
    note: s.optional(s.string()),
  });
  type Same<A, B> = [A] extends [B] ? [B] extends [A] ? true : false : false;
  const output: Same<
    s.Infer<typeof shape>,
    { name: string; list: number[]; kind: "one" | "two"; note?: string }
  > = true;
  const input: Same<
    s.Input<typeof shape>,
    { name: string; list?: number[]; kind: 1 | 2; note?: string }
  > = true;
  assert(output && input);
});
