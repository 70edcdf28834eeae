/**
 * POSIX path helpers, the few the runtime needs. They stand in for
 * `@std/path` (on JSR, out of reach here); they are written out rather than
 * taken from `node:path` because importing any `node:` module starts Deno's
 * Node compatibility layer, which costs every nsinit invocation several
 * milliseconds. Tests check them against `node:path/posix`.
 *
 * @module
 */

/** True for a path starting with `/`. */
export function isAbsolute(path: string): boolean {
  return path.startsWith("/");
}

/** Resolves `.`, `..` and repeated slashes lexically; keeps a trailing slash, as node:path does. */
export function normalize(path: string): string {
  if (path === "") return ".";
  const absolute = isAbsolute(path);
  const trailing = path.endsWith("/");
  const parts: string[] = [];
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") {
      if (parts.length > 0 && parts[parts.length - 1] !== "..") parts.pop();
      else if (!absolute) parts.push("..");
    } else {
      parts.push(part);
    }
  }
  let result = (absolute ? "/" : "") + parts.join("/");
  if (result === "") return absolute ? "/" : ".";
  if (trailing && result !== "/") result += "/";
  return result;
}

/** Joins segments with `/` and normalises the result. */
export function join(...segments: string[]): string {
  const joined = segments.filter((s) => s !== "").join("/");
  return joined === "" ? "." : normalize(joined);
}

/**
 * Resolves segments right to left into an absolute path. Unlike node:path
 * it never consults the current directory: when no segment is absolute, the
 * result is taken from `/`.
 */
export function resolve(...segments: string[]): string {
  let path = "";
  for (let i = segments.length - 1; i >= 0 && !isAbsolute(path); i--) {
    const segment = segments[i]!;
    if (segment !== "") path = path === "" ? segment : `${segment}/${path}`;
  }
  const result = normalize(isAbsolute(path) ? path : `/${path}`);
  return result.length > 1 && result.endsWith("/") ? result.slice(0, -1) : result;
}

/** The directory part of a path. */
export function dirname(path: string): string {
  if (path === "") return ".";
  let end = path.length;
  while (end > 1 && path[end - 1] === "/") end--;
  const slash = path.lastIndexOf("/", end - 1);
  if (slash === -1) return ".";
  return slash === 0 ? "/" : path.slice(0, slash);
}

/** The last component of a path. */
export function basename(path: string): string {
  let end = path.length;
  while (end > 1 && path[end - 1] === "/") end--;
  const trimmed = path.slice(0, end);
  if (trimmed === "/") return "";
  return trimmed.slice(trimmed.lastIndexOf("/") + 1);
}
