/**
 * Container ids become directory names under the factory root, so only a
 * safe alphabet is accepted.
 */
import { assertEquals, assertThrows } from "../../_assert.ts";
import { ContainerError } from "../../../lib/errors.ts";
import { validateId } from "../../../lib/container/ids.ts";

function rejects(id: unknown): ContainerError {
  let caught: unknown;
  assertThrows(() => validateId(id as string), (error: unknown) => {
    caught = error;
    return true;
  });
  if (!(caught instanceof ContainerError)) {
    throw new Error(`validateId(${String(id)}) threw ${String(caught)}, not a ContainerError`);
  }
  assertEquals(caught.code, "InvalidIdFormat", `validateId(${JSON.stringify(String(id))})`);
  return caught;
}

Deno.test("validateId() accepts letters, digits, _ + . - up to 255 characters (a file name's limit)", () => {
  for (
    const id of [
      "a",
      "Z",
      "0",
      "_",
      "+",
      "-",
      "abc",
      "my_container-1.0+build",
      "a.b.c",
      "a..b",
      "trailing.",
      "x".repeat(255),
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_+.-",
    ]
  ) {
    validateId(id);
  }
});

Deno.test("validateId() rejects empty, dot and dot-dot, and a leading dot", () => {
  for (const id of ["", ".", "..", ".hidden", "./a"]) rejects(id);
});

Deno.test("validateId() rejects separators, NULs, spaces and other characters", () => {
  for (
    const id of [
      "a/b",
      "/a",
      "a\0b",
      "a b",
      " a",
      "a\n",
      "\na",
      "a\tb",
      "a,b",
      "a:b",
      "a*",
      "a\\b",
      "é",
      "a\u200bb",
      "ａ",
    ]
  ) {
    rejects(id);
  }
});

Deno.test("validateId() rejects 1025 characters", () => {
  rejects("x".repeat(1025));
  rejects("x".repeat(100_000));
});

Deno.test("validateId() rejects values that are not strings", () => {
  for (const id of [undefined, null, 42, 0, true, {}, ["a"], Symbol("a"), 1n]) rejects(id);
});

Deno.test("validateId() keeps a long bad id out of its message", () => {
  const error = rejects("/".repeat(5000));
  assertEquals(error.message.length < 300, true, error.message);
  assertEquals(error.name, "ContainerError");
});
