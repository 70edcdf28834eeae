/**
 * The helper runs from a sealed memfd holding the embedded static binary:
 * no file on disk, nothing a container can rewrite (write, grow, shrink and
 * seal seals; exec seal where the kernel has it), created once per process.
 *
 * @module
 */
import { errno, sys } from "../../ffi/syscalls.ts";
import { F, MFD } from "../../ffi/constants.ts";
import { Errno } from "../../ffi/_errno.ts";
import * as embedded from "../../ffi/helper/_embed.ts";
import { embeddedBytes } from "../../ffi/embedded.ts";
import { SystemError } from "../errors.ts";
import { check, cstr, writeAll } from "../sys/fs.ts";

let memfd: number | undefined;

function createSealed(bytes: Uint8Array): number {
  const name = cstr("nsinit-helper");
  let fd = sys.memfd_create(name, MFD.CLOEXEC | MFD.ALLOW_SEALING | MFD.EXEC);
  if (fd < 0 && errno() === Errno.EINVAL) {
    fd = sys.memfd_create(name, MFD.CLOEXEC | MFD.ALLOW_SEALING); // kernels before 6.3
  }
  check(fd, "memfd_create", "nsinit-helper");
  writeAll(fd, bytes, "helper memfd");
  const seals = F.SEAL_SEAL | F.SEAL_SHRINK | F.SEAL_GROW | F.SEAL_WRITE;
  if (sys.fcntl(fd, F.ADD_SEALS, seals | F.SEAL_EXEC) < 0) {
    check(sys.fcntl(fd, F.ADD_SEALS, seals), "fcntl F_ADD_SEALS", "helper memfd");
  }
  return fd;
}

/** The descriptor of the sealed helper memfd, created on first use. */
export function helperFd(): number {
  if (memfd === undefined) {
    if (embedded.ARCH !== Deno.build.arch) {
      throw new SystemError("load helper", Errno.ENOEXEC, {
        detail:
          `(embedded for ${embedded.ARCH}, this is ${Deno.build.arch}; run \`deno task build\`)`,
      });
    }
    memfd = createSealed(embeddedBytes(embedded.BASE64));
  }
  return memfd;
}
