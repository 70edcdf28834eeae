/**
 * Creating, entering and removing a container's cgroups on every mounted
 * hierarchy. It knows nothing of containers: it gets directories and pids.
 *
 * @module
 */
import { Errno } from "../../ffi/_errno.ts";
import { SystemError } from "../errors.ts";
import { dirname } from "../_deps/path.ts";
import { mkdir, readTextFile, rmdir, writeFile } from "../sys/fs.ts";
import type { CgroupDir } from "./paths.ts";

/** What {@link createCgroups} made, so that removal undoes exactly that. */
export interface CreatedCgroups {
  /** Every directory created, outermost first (the container's own ones included). */
  created: string[];
}

function isCpuset(dir: CgroupDir): boolean {
  return dir.hierarchy.version === 1 && dir.hierarchy.subsystems.includes("cpuset");
}

/** A new v1 cpuset cgroup starts empty and accepts no task; copy the parent's sets. */
function inheritCpuset(path: string): void {
  for (const file of ["cpuset.cpus", "cpuset.mems"]) {
    if (readTextFile(`${path}/${file}`).trim() !== "") continue;
    writeFile(`${path}/${file}`, readTextFile(`${dirname(path)}/${file}`).trim() || "\n");
  }
}

/** Options of {@link createCgroups}. */
export interface CreateCgroupsOptions {
  /**
   * Whether an existing parent directory was made by this runtime for another
   * container; if so this container shares the duty to remove it when empty,
   * so the last one out cleans up whichever container came first.
   */
  madeByRuntime?: (path: string) => boolean;
}

/**
 * Creates the container's directory (and missing parents) on every hierarchy.
 *
 * @throws {SystemError} `EBUSY` when the container's directory exists and holds processes.
 */
export function createCgroups(
  dirs: readonly CgroupDir[],
  options: CreateCgroupsOptions = {},
): CreatedCgroups {
  const created: string[] = [];
  try {
    for (const dir of dirs) {
      const mountpoint = dir.hierarchy.mountpoint;
      const parts = dir.path.slice(mountpoint.length).split("/").filter((p) => p !== "");
      let current = mountpoint;
      for (const part of parts) {
        current = `${current}/${part}`;
        const isNew = mkdir(current, 0o755);
        if (isNew && isCpuset(dir)) inheritCpuset(current);
        if (isNew || (current !== dir.path && options.madeByRuntime?.(current))) {
          created.push(current);
        }
      }
      if (created.includes(dir.path)) continue;
      // A directory left by a crash is taken over; one with processes belongs to someone else.
      if (cgroupPids(dir.path).length > 0) {
        throw new SystemError("create cgroup", Errno.EBUSY, {
          detail: `\`${dir.path}\` already holds processes`,
        });
      }
      created.push(dir.path);
    }
  } catch (error) {
    removeDirs(created);
    throw error;
  }
  return { created };
}

/** The pids in a cgroup directory; none when it is gone. */
export function cgroupPids(path: string | undefined): number[] {
  if (path === undefined) return [];
  let text: string;
  try {
    text = readTextFile(`${path}/cgroup.procs`);
  } catch (error) {
    if (error instanceof SystemError && error.errno === Errno.ENOENT) return [];
    throw error;
  }
  return text.split("\n").filter((l) => l !== "").map(Number);
}

function removeDirs(paths: readonly string[]): void {
  for (const path of [...paths].reverse()) {
    try {
      rmdir(path);
    } catch (error) {
      const busy = error instanceof SystemError &&
        (error.errno === Errno.EBUSY || error.errno === Errno.ENOTEMPTY);
      if (!busy) throw error;
    }
  }
}

/**
 * Removes the container's directories, then the parents it created when they
 * are empty. A cgroup stays busy until its last task is reaped, so removal is
 * retried a few times with a growing delay, as the seed did.
 */
export async function removeCgroups(
  leafPaths: Iterable<string>,
  created: readonly string[],
): Promise<void> {
  const leaves = new Set(leafPaths);
  for (const leaf of leaves) {
    for (let attempt = 0, delay = 10;; attempt++, delay *= 2) {
      try {
        rmdir(leaf);
        break;
      } catch (error) {
        if (!(error instanceof SystemError) || error.errno !== Errno.EBUSY || attempt >= 5) {
          throw error;
        }
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }
  removeDirs(created.filter((path) => !leaves.has(path)));
}
