import { assertEquals } from "../../_assert.ts";
import posix from "node:path/posix";
import {
  basename,
  dirname,
  isAbsolute,
  join,
  normalize,
  resolve,
} from "../../../lib/_deps/path.ts";

const PATHS = [
  "",
  ".",
  "..",
  "/",
  "//",
  "///a",
  "a",
  "a/",
  "/a",
  "/a/",
  "/a/b",
  "/a//b/",
  "a/b/c",
  "../a",
  "a/../..",
  "/a/../../b",
  "/a/./b/../c",
  ".././a",
  "a/b/../../..",
  "/proc/self/../1/ns",
  "./x/",
  "x/.",
  "/..",
  "../..//.",
];

Deno.test("normalize(), dirname(), basename() and isAbsolute() agree with node:path/posix", () => {
  for (const path of PATHS) {
    assertEquals(normalize(path), posix.normalize(path), `normalize(${JSON.stringify(path)})`);
    assertEquals(dirname(path), posix.dirname(path), `dirname(${JSON.stringify(path)})`);
    assertEquals(basename(path), posix.basename(path), `basename(${JSON.stringify(path)})`);
    assertEquals(isAbsolute(path), posix.isAbsolute(path), `isAbsolute(${JSON.stringify(path)})`);
  }
});

Deno.test("join() agrees with node:path/posix", () => {
  for (const a of PATHS) {
    for (const b of ["", "x", "/y", "../z", "w/"]) {
      assertEquals(
        join(a, b),
        posix.join(a, b),
        `join(${JSON.stringify(a)}, ${JSON.stringify(b)})`,
      );
    }
  }
});

Deno.test("resolve() agrees with node:path/posix when a segment is absolute, and uses / otherwise", () => {
  for (const a of PATHS) {
    assertEquals(
      resolve("/base", a),
      posix.resolve("/base", a),
      `resolve("/base", ${JSON.stringify(a)})`,
    );
    assertEquals(resolve(a, "/abs", "x"), posix.resolve(a, "/abs", "x"));
  }
  assertEquals(resolve("a", "b"), "/a/b");
  assertEquals(resolve(), "/");
});
