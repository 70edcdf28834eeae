/**
 * POSIX path helpers. Deno's `node:path` stands in for `@std/path`, which
 * lives on JSR; keeping it behind this module makes the switch one file.
 *
 * @module
 */
import posixPath from "node:path/posix";

export const { basename, dirname, isAbsolute, join, normalize, relative, resolve } = posixPath;
