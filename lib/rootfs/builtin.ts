/**
 * The embedded default root filesystem: the static probe program as
 * /bin/probe, a minimal /etc, and the directories the default mounts need.
 * It is written once per content hash under the state root, so running a
 * container needs no image and no download.
 *
 * @module
 */
import * as probe from "../../ffi/probe/_embed.ts";
import { embeddedBytes } from "../../ffi/embedded.ts";
import { Errno } from "../../ffi/_errno.ts";
import { errno, sys } from "../../ffi/syscalls.ts";
import { SystemError } from "../errors.ts";
import { cstr, lstat, mkdir, mkdirAll, removeAll, writeFile } from "../sys/fs.ts";

const PASSWD = [
  "root:x:0:0:root:/root:/bin/probe",
  "daemon:x:1:1:daemon:/usr/sbin:/bin/probe",
  "nobody:x:65534:65534:nobody:/nonexistent:/bin/probe",
  "",
].join("\n");

const GROUP = ["root:x:0:", "daemon:x:1:", "tty:x:5:", "nogroup:x:65534:", ""].join("\n");

const DIRECTORIES = ["bin", "etc", "proc", "sys", "dev", "tmp", "root", "run"];

function populate(dir: string): void {
  mkdir(dir, 0o755);
  for (const name of DIRECTORIES) mkdir(`${dir}/${name}`, name === "tmp" ? 0o1777 : 0o755);
  writeFile(`${dir}/bin/probe`, embeddedBytes(probe.BASE64), { create: true, mode: 0o755 });
  writeFile(`${dir}/etc/passwd`, PASSWD, { create: true, mode: 0o644 });
  writeFile(`${dir}/etc/group`, GROUP, { create: true, mode: 0o644 });
  writeFile(`${dir}/etc/hostname`, "nsinit\n", { create: true, mode: 0o644 });
}

/**
 * Returns the path of the built-in root filesystem under `stateRoot`,
 * writing it first if this version is not there yet. Its programs: the
 * static `/bin/probe` (run `/bin/probe help` inside for its commands).
 */
export function builtinRootfs(stateRoot: string): string {
  const base = `${stateRoot}/.rootfs`; // ids never start with a dot, so no container can own it
  const dir = `${base}/builtin-${probe.SOURCES_SHA256.slice(0, 12)}`;
  if (lstat(`${dir}/bin/probe`) !== null) return dir;
  mkdirAll(base, 0o700);
  // Build aside and rename into place, so a concurrent caller never sees half a rootfs.
  const temp = `${dir}.tmp-${sys.getpid()}`;
  removeAll(temp);
  try {
    populate(temp);
    if (sys.rename(cstr(temp), cstr(dir)) < 0) {
      const code = errno();
      if (code !== Errno.EEXIST && code !== Errno.ENOTEMPTY) {
        throw new SystemError("rename", code, { detail: `\`${temp}\` to \`${dir}\`` });
      }
    }
  } finally {
    removeAll(temp);
  }
  return dir;
}
