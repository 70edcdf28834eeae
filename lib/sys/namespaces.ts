/**
 * Namespace identities: the inode of /proc/<pid>/ns/<type>, which is equal
 * for two processes exactly when they share that namespace.
 *
 * @module
 */
import { readLink } from "./fs.ts";
import { SystemError } from "../errors.ts";

/** A namespace file name under /proc/<pid>/ns. */
export type NamespaceFile = "mnt" | "uts" | "ipc" | "pid" | "net" | "user" | "cgroup";

const FILES: readonly NamespaceFile[] = ["mnt", "uts", "ipc", "pid", "net", "user", "cgroup"];

/**
 * The namespace inodes of a process (default: this one), by /proc/<pid>/ns
 * file name; a type the kernel lacks is left out.
 */
export function namespaceIds(
  pid: number | "self" = "self",
): Partial<Record<NamespaceFile, number>> {
  const ids: Partial<Record<NamespaceFile, number>> = {};
  for (const file of FILES) {
    try {
      const link = readLink(`/proc/${pid}/ns/${file}`); // "net:[4026531840]"
      ids[file] = Number(/\[(\d+)\]/.exec(link)?.[1]);
    } catch (error) {
      if (!(error instanceof SystemError)) throw error;
    }
  }
  return ids;
}
