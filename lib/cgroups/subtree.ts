/**
 * cgroup v2 delegation: a controller's files appear in a cgroup only when
 * its parent lists the controller in `cgroup.subtree_control`, so before a
 * container's limits are written on a v2-only host each ancestor between
 * the hierarchy's root and the container's directory enables the
 * controllers it has (`cgroup.controllers`) and does not enable yet.
 *
 * It takes the mount point and the directory as input, so tests can point
 * it at a fake tree.
 *
 * @module
 */
import { SystemError } from "../errors.ts";
import { dirname } from "../_deps/path.ts";
import { tryReadTextFile, writeFile } from "../sys/fs.ts";

/** The v2 controllers a container's config can use. */
export const V2_CONTROLLERS: readonly string[] = [
  "cpu",
  "cpuset",
  "io",
  "memory",
  "pids",
  "hugetlb",
];

/** One write to a `cgroup.subtree_control` file. */
export interface SubtreeWrite {
  /** The `cgroup.subtree_control` file. */
  file: string;
  /** What was written, such as `+cpu +memory`. */
  value: string;
}

function words(text: string | null): string[] {
  return (text ?? "").trim().split(/\s+/).filter((word) => word !== "");
}

/**
 * Enables `wanted` controllers (those each ancestor has) in the
 * `cgroup.subtree_control` of every ancestor of `dir`, from the hierarchy's
 * root down to `dir`'s parent; returns the writes made.
 *
 * @param mountpoint Where the v2 hierarchy is mounted, such as `/sys/fs/cgroup`.
 * @param dir The container's cgroup directory beneath it.
 * @throws {SystemError} naming the file when the kernel refuses (EBUSY: the parent holds processes).
 */
export function enableControllers(
  mountpoint: string,
  dir: string,
  wanted: readonly string[] = V2_CONTROLLERS,
): SubtreeWrite[] {
  const ancestors: string[] = [];
  for (let current = dirname(dir); current.startsWith(mountpoint); current = dirname(current)) {
    ancestors.unshift(current);
    if (current === mountpoint || current === "/") break;
  }
  const writes: SubtreeWrite[] = [];
  for (const ancestor of ancestors) {
    const available = new Set(words(tryReadTextFile(`${ancestor}/cgroup.controllers`)));
    const file = `${ancestor}/cgroup.subtree_control`;
    const enabled = new Set(words(tryReadTextFile(file)));
    const missing = wanted.filter((c) => available.has(c) && !enabled.has(c));
    if (missing.length === 0) continue;
    const value = missing.map((c) => `+${c}`).join(" ");
    try {
      writeFile(file, value);
    } catch (error) {
      const code = error instanceof SystemError ? error.errno : 0;
      throw new SystemError(
        "enable cgroup controllers",
        code,
        { detail: `\`${value}\` in \`${file}\`` },
        { cause: error },
      );
    }
    writes.push({ file, value });
  }
  return writes;
}
