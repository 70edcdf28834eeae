/**
 * File operations over libc. The runtime needs only `--allow-ffi`, so it
 * reads and writes files (state, cgroups, /proc) through these instead of
 * `Deno.*` APIs. Every failure is a {@link SystemError} naming the step,
 * the path and the errno.
 *
 * @module
 */
import { errno, sys } from "../../ffi/syscalls.ts";
import { AT, AT_FDCWD, O, S } from "../../ffi/constants.ts";
import { Errno } from "../../ffi/_errno.ts";
import { SystemError } from "../errors.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Encodes a string as a NUL-terminated C string. */
export function cstr(value: string): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(value.length * 3 + 1);
  const { written } = encoder.encodeInto(value, bytes);
  return bytes.subarray(0, written + 1);
}

/** Throws a {@link SystemError} for `op` on `target` when `rc` is negative; returns `rc`. */
export function check<T extends number | bigint>(rc: T, op: string, target?: string): T {
  if (rc < 0) throw new SystemError(op, errno(), target === undefined ? {} : { target });
  return rc;
}

/** Opens `path`; the descriptor is always close-on-exec. */
export function openFile(path: string, flags: number, mode = 0o644): number {
  return check(sys.open(cstr(path), flags | O.CLOEXEC, mode), "open", path);
}

/** Closes a descriptor, ignoring errors (close never fails usefully on Linux). */
export function closeFd(fd: number): void {
  if (fd >= 0) sys.close(fd);
}

/** Reads a descriptor to its end. */
export function readAll(fd: number, what = `fd ${fd}`, sizeHint = 4096): Uint8Array {
  let buffer = new Uint8Array(sizeHint);
  let length = 0;
  for (;;) {
    if (length === buffer.length) {
      const bigger = new Uint8Array(buffer.length * 2);
      bigger.set(buffer);
      buffer = bigger;
    }
    const n = sys.read(fd, buffer.subarray(length), buffer.length - length);
    if (n < 0) {
      const code = errno();
      if (code === Errno.EINTR) continue;
      throw new SystemError("read", code, { target: what });
    }
    if (n === 0) return buffer.subarray(0, length);
    length += n;
  }
}

/** Writes all of `data` to a descriptor. */
export function writeAll(fd: number, data: Uint8Array, what = `fd ${fd}`): void {
  let offset = 0;
  while (offset < data.length) {
    const chunk = data.subarray(offset) as Uint8Array<ArrayBuffer>;
    const n = sys.write(fd, chunk, chunk.length);
    if (n < 0) {
      const code = errno();
      if (code === Errno.EINTR) continue;
      throw new SystemError("write", code, { target: what });
    }
    offset += n;
  }
}

/** Reads a whole file. */
export function readFile(path: string, sizeHint?: number): Uint8Array {
  const fd = openFile(path, O.RDONLY);
  try {
    return readAll(fd, path, sizeHint);
  } finally {
    closeFd(fd);
  }
}

/** Reads a whole file as UTF-8 text. */
export function readTextFile(path: string): string {
  return decoder.decode(readFile(path));
}

/** Reads a file as text, or returns null when it does not exist. */
export function tryReadTextFile(path: string): string | null {
  try {
    return readTextFile(path);
  } catch (error) {
    if (error instanceof SystemError && error.errno === Errno.ENOENT) return null;
    throw error;
  }
}

/** Options of {@link writeFile}. */
export interface WriteFileOptions {
  /** Create the file when missing (and truncate it). Default false, as for kernel files. */
  create?: boolean;
  /** Mode of a created file. */
  mode?: number;
}

/** Writes `data` to `path` in one write, as kernel files (cgroup, /proc) expect. */
export function writeFile(
  path: string,
  data: string | Uint8Array,
  options: WriteFileOptions = {},
): void {
  const flags = O.WRONLY | (options.create ? O.CREAT | O.TRUNC : 0);
  const fd = openFile(path, flags, options.mode ?? 0o644);
  try {
    writeAll(fd, typeof data === "string" ? encoder.encode(data) : data, path);
  } finally {
    closeFd(fd);
  }
}

/**
 * Replaces a file atomically: a temporary file in the same directory, then
 * rename, so a reader sees the old or the new content, never a mix. No
 * fsync: state files live on /run (tmpfs) and need not survive a reboot.
 */
export function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o600): void {
  const temp = `${path}.tmp-${sys.getpid()}-${Math.random().toString(36).slice(2, 10)}`;
  const fd = openFile(temp, O.WRONLY | O.CREAT | O.EXCL, mode);
  try {
    writeAll(fd, typeof data === "string" ? encoder.encode(data) : data, temp);
  } catch (error) {
    closeFd(fd);
    sys.unlink(cstr(temp));
    throw error;
  }
  closeFd(fd);
  if (sys.rename(cstr(temp), cstr(path)) < 0) {
    const code = errno();
    sys.unlink(cstr(temp));
    throw new SystemError("rename", code, { detail: `\`${temp}\` to \`${path}\`` });
  }
}

/** Creates a directory; returns false when it already existed. */
export function mkdir(path: string, mode = 0o755): boolean {
  if (sys.mkdir(cstr(path), mode) === 0) return true;
  const code = errno();
  if (code === Errno.EEXIST) return false;
  throw new SystemError("mkdir", code, { target: path });
}

/** Creates a directory and its missing parents; returns the directories it created, outermost first. */
export function mkdirAll(path: string, mode = 0o755): string[] {
  const created: string[] = [];
  const parts = path.split("/").filter((p) => p !== "");
  let current = "";
  for (const part of parts) {
    current += "/" + part;
    if (mkdir(current, mode)) created.push(current);
  }
  return created;
}

/** Renames `from` to `to` unless `to` exists (RENAME_NOREPLACE); returns false when it does. */
export function renameNoReplace(from: string, to: string): boolean {
  if (sys.renameNoReplace(cstr(from), cstr(to)) === 0) return true;
  const code = errno();
  if (code === Errno.EEXIST || code === Errno.ENOTEMPTY) return false;
  throw new SystemError("rename", code, { detail: `\`${from}\` to \`${to}\`` });
}

/** Removes an empty directory; returns false when it did not exist. */
export function rmdir(path: string): boolean {
  if (sys.rmdir(cstr(path)) === 0) return true;
  const code = errno();
  if (code === Errno.ENOENT) return false;
  throw new SystemError("rmdir", code, { target: path });
}

/** Removes a file; returns false when it did not exist. */
export function unlink(path: string): boolean {
  if (sys.unlink(cstr(path)) === 0) return true;
  const code = errno();
  if (code === Errno.ENOENT) return false;
  throw new SystemError("unlink", code, { target: path });
}

/** What {@link lstat} reports. */
export interface FileInfo {
  kind: "file" | "directory" | "symlink" | "char" | "block" | "fifo" | "socket";
  mode: number;
  uid: number;
  gid: number;
  size: number;
  rdevMajor: number;
  rdevMinor: number;
  devMajor: number;
  devMinor: number;
  ino: bigint;
}

const KINDS: Record<number, FileInfo["kind"]> = {
  [S.IFREG]: "file",
  [S.IFDIR]: "directory",
  [S.IFLNK]: "symlink",
  [S.IFCHR]: "char",
  [S.IFBLK]: "block",
  [S.IFIFO]: "fifo",
  [S.IFSOCK]: "socket",
};

const STATX_BASIC_STATS = 0x7ff;

function statxAt(dirfd: number, path: string, flags: number): FileInfo | null {
  const buffer = new Uint8Array(256);
  if (sys.statx(dirfd, cstr(path), flags, STATX_BASIC_STATS, buffer) < 0) {
    const code = errno();
    if (code === Errno.ENOENT || code === Errno.ENOTDIR) return null;
    throw new SystemError("statx", code, { target: path });
  }
  const view = new DataView(buffer.buffer);
  const mode = view.getUint16(28, true);
  return {
    kind: KINDS[mode & S.IFMT] ?? "file",
    mode: mode & 0o7777,
    uid: view.getUint32(20, true),
    gid: view.getUint32(24, true),
    size: Number(view.getBigUint64(40, true)),
    ino: view.getBigUint64(32, true),
    rdevMajor: view.getUint32(128, true),
    rdevMinor: view.getUint32(132, true),
    devMajor: view.getUint32(136, true),
    devMinor: view.getUint32(140, true),
  };
}

/** Describes `path` without following a final symlink, or null when it does not exist. */
export function lstat(path: string): FileInfo | null {
  return statxAt(AT_FDCWD, path, AT.SYMLINK_NOFOLLOW);
}

/** Describes `path`, following symlinks, or null when it does not exist. */
export function stat(path: string): FileInfo | null {
  return statxAt(AT_FDCWD, path, 0);
}

/** Describes an open descriptor. */
export function fstat(fd: number): FileInfo {
  const info = statxAt(fd, "", AT.EMPTY_PATH);
  if (info === null) throw new SystemError("statx", Errno.EBADF, { target: `fd ${fd}` });
  return info;
}

/** One directory entry. */
export interface DirEntry {
  name: string;
  /** d_type: 4 directory, 8 file, 10 symlink, 0 unknown. */
  type: number;
}

/** Lists a directory (without `.` and `..`). */
export function readDir(path: string): DirEntry[] {
  const fd = openFile(path, O.RDONLY | O.DIRECTORY);
  const entries: DirEntry[] = [];
  const buffer = new Uint8Array(32768);
  const view = new DataView(buffer.buffer);
  try {
    for (;;) {
      const n = check(sys.getdents64(fd, buffer), "getdents64", path);
      if (n === 0) return entries;
      for (let offset = 0; offset < n;) {
        const recordLength = view.getUint16(offset + 16, true);
        const type = buffer[offset + 18]!;
        let end = offset + 19;
        while (buffer[end] !== 0) end++;
        const name = decoder.decode(buffer.subarray(offset + 19, end));
        if (name !== "." && name !== "..") entries.push({ name, type });
        offset += recordLength;
      }
    }
  } finally {
    closeFd(fd);
  }
}

/** Reads a symlink's target. */
export function readLink(path: string): string {
  const buffer = new Uint8Array(4096);
  const n = check(sys.readlink(cstr(path), buffer), "readlink", path);
  return decoder.decode(buffer.subarray(0, n));
}

/** Removes a directory tree that the runtime made itself (state directories). */
export function removeAll(path: string): void {
  const info = lstat(path);
  if (info === null) return;
  if (info.kind === "directory") {
    for (const entry of readDir(path)) removeAll(`${path}/${entry.name}`);
    rmdir(path);
  } else {
    unlink(path);
  }
}

/** openat2(2) RESOLVE_* flags. */
export const RESOLVE = {
  NO_XDEV: 1,
  NO_MAGICLINKS: 2,
  NO_SYMLINKS: 4,
  BENEATH: 8,
  IN_ROOT: 16,
} as const;

/**
 * Opens `path` relative to the directory `dirfd` as if it were the root:
 * symlinks and `..` never lead outside it (openat2 RESOLVE_IN_ROOT).
 */
export function openInRoot(dirfd: number, path: string, flags: number): number {
  const how = new BigUint64Array([
    BigInt(flags | O.CLOEXEC),
    0n,
    BigInt(RESOLVE.IN_ROOT | RESOLVE.NO_MAGICLINKS),
  ]);
  const fd = sys.openat2(dirfd, cstr(path), new Uint8Array(how.buffer));
  return check(fd, "openat2", path);
}

/** Reads a file inside a root directory (a rootfs) without leaving it; null when absent. */
export function readFileInRoot(root: string, path: string): string | null {
  const rootFd = openFile(root, O.PATH | O.DIRECTORY);
  try {
    const fd = openInRoot(rootFd, path, O.RDONLY);
    try {
      return decoder.decode(readAll(fd, `${root}${path}`));
    } finally {
      closeFd(fd);
    }
  } catch (error) {
    if (
      error instanceof SystemError &&
      (error.errno === Errno.ENOENT || error.errno === Errno.ENOTDIR)
    ) return null;
    throw error;
  } finally {
    closeFd(rootFd);
  }
}
