/**
 * Reading /proc/<pid>/mountinfo in tests: what is mounted where, with which
 * options and propagation.
 *
 * @module
 */
import { assert } from "./_assert.ts";

/** One line of a mountinfo file. */
export interface MountEntry {
  mountPoint: string;
  /** Per-mount options (`rw,nosuid,...`). */
  options: string[];
  /** Optional fields: `shared:N`, `master:N`, `propagate_from:N`, `unbindable`. */
  optional: string[];
  fstype: string;
  source: string;
  /** Superblock options (`rw,size=1024k,mode=700`). */
  superOptions: string[];
}

function unescape(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, octal) => String.fromCharCode(parseInt(octal, 8)));
}

/** Parses mountinfo text. */
export function parseMountinfo(text: string): MountEntry[] {
  return text.split("\n").filter((line) => line !== "").map((line) => {
    const [left = "", right = ""] = line.split(" - ");
    const fields = left.split(" ");
    const [fstype = "", source = "", superOptions = ""] = right.split(" ");
    return {
      mountPoint: unescape(fields[4] ?? ""),
      options: (fields[5] ?? "").split(","),
      optional: fields.slice(6),
      fstype,
      source: unescape(source),
      superOptions: superOptions.split(","),
    };
  });
}

/** The mount on top at `path`. */
export function mountAt(entries: MountEntry[], path: string): MountEntry {
  const found = entries.findLast((entry) => entry.mountPoint === path);
  assert(found, `no mount on ${path} in:\n${entries.map((e) => e.mountPoint).join("\n")}`);
  return found;
}
