/**
 * Device rules on cgroup v2: the rules' device program is loaded with
 * bpf(BPF_PROG_LOAD) and attached to the cgroup directory with
 * bpf(BPF_PROG_ATTACH, BPF_CGROUP_DEVICE).
 *
 * Attached with BPF_F_ALLOW_MULTI: programs of parent cgroups (systemd's)
 * keep running and an access needs every one of them to allow it, so a
 * container can never get more than its parent grants; replacing a
 * container's rules attaches the new program before the old one is
 * detached, so there is no moment without rules.
 *
 * @module
 */
import { errno, sys } from "../../ffi/syscalls.ts";
import { O } from "../../ffi/constants.ts";
import { Errno } from "../../ffi/_errno.ts";
import { SystemError } from "../errors.ts";
import { closeFd, openFile } from "../sys/fs.ts";
import { type DevicePolicy, devicePolicy, type DeviceRules } from "./rules.ts";

/** bpf(2) commands. */
export const BPF_PROG_LOAD = 5;
export const BPF_PROG_ATTACH = 8;
export const BPF_PROG_DETACH = 9;
/** The program type of a cgroup device program. */
export const BPF_PROG_TYPE_CGROUP_DEVICE = 15;
/** The attach type of a cgroup device program. */
export const BPF_CGROUP_DEVICE = 6;
/** Attach flag: run together with other programs of this cgroup and its ancestors. */
export const BPF_F_ALLOW_MULTI = 2;

/** The program's license: it calls no helper, so any license loads. */
const LICENSE = new TextEncoder().encode("Apache-2.0\0");
const NAME = new TextEncoder().encode("nsinit_devices");
const LOG_SIZE = 1 << 16;

function address(buffer: Uint8Array<ArrayBuffer>): bigint {
  return BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(buffer)));
}

/** The verifier log's last line that says something: the statistics lines it ends with are skipped. */
export function lastLogLine(log: Uint8Array): string {
  const end = log.indexOf(0);
  const text = new TextDecoder().decode(end < 0 ? log : log.subarray(0, end));
  const lines = text.split("\n").map((line) => line.trim()).filter((line) =>
    line !== "" && !/^processed \d+ insns/.test(line) && !/^verification time/.test(line)
  );
  return lines.at(-1) ?? "";
}

/**
 * Loads a cgroup device program and returns its descriptor. When the
 * verifier refuses it, the load is retried with a log and the log's last
 * line goes into the error.
 *
 * @throws {SystemError} `bpf BPF_PROG_LOAD` with the errno (and the verifier's word).
 */
export function loadDeviceProgram(instructions: Uint8Array<ArrayBuffer>): number {
  const count = instructions.length / 8;
  const attr = new Uint8Array(128);
  const view = new DataView(attr.buffer);
  view.setUint32(0, BPF_PROG_TYPE_CGROUP_DEVICE, true);
  view.setUint32(4, count, true);
  view.setBigUint64(8, address(instructions), true);
  view.setBigUint64(16, address(LICENSE), true);
  attr.set(NAME.subarray(0, 15), 48);
  let fd = sys.bpf(BPF_PROG_LOAD, attr);
  if (fd >= 0) return fd;
  let code = errno();
  let verifier = "";
  if (code !== Errno.EPERM && code !== Errno.ENOSYS) {
    const log = new Uint8Array(LOG_SIZE);
    view.setUint32(24, 1, true); // log_level
    view.setUint32(28, LOG_SIZE, true);
    view.setBigUint64(32, address(log), true);
    fd = sys.bpf(BPF_PROG_LOAD, attr);
    if (fd >= 0) return fd;
    code = errno();
    verifier = lastLogLine(log);
  }
  throw new SystemError("bpf BPF_PROG_LOAD", code, {
    detail: `cgroup device program of ${count} instructions` +
      (verifier ? `, verifier: ${verifier}` : ""),
  });
}

function attachAttr(cgroupFd: number, programFd: number, flags: number): Uint8Array {
  const attr = new Uint8Array(24);
  const view = new DataView(attr.buffer);
  view.setUint32(0, cgroupFd, true);
  view.setUint32(4, programFd, true);
  view.setUint32(8, BPF_CGROUP_DEVICE, true);
  view.setUint32(12, flags, true);
  return attr;
}

/** A device program attached to a cgroup v2 directory; {@link detach} undoes it. */
export class DeviceProgramAttachment {
  /** The cgroup directory. */
  readonly path: string;
  #cgroupFd: number;
  #programFd: number;

  /** Takes ownership of both descriptors. */
  constructor(path: string, cgroupFd: number, programFd: number) {
    this.path = path;
    this.#cgroupFd = cgroupFd;
    this.#programFd = programFd;
  }

  /**
   * Detaches the program and closes its descriptors; idempotent. A cgroup
   * that is already gone took its programs with it and is not an error.
   *
   * @throws {SystemError} `bpf BPF_PROG_DETACH` with the errno.
   */
  detach(): void {
    if (this.#programFd < 0) return;
    const rc = sys.bpf(BPF_PROG_DETACH, attachAttr(this.#cgroupFd, this.#programFd, 0));
    const code = rc < 0 ? errno() : 0;
    this.close();
    if (rc < 0 && code !== Errno.ENOENT) {
      throw new SystemError("bpf BPF_PROG_DETACH", code, { target: this.path });
    }
  }

  /** Closes the descriptors and leaves the program attached (the cgroup holds it); idempotent. */
  close(): void {
    closeFd(this.#programFd);
    closeFd(this.#cgroupFd);
    this.#programFd = -1;
    this.#cgroupFd = -1;
  }

  /** Same as {@link close}. */
  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * Loads the rules' device program and attaches it to a cgroup v2 directory
 * (BPF_CGROUP_DEVICE, BPF_F_ALLOW_MULTI).
 *
 * @throws {SystemError} `open`, `bpf BPF_PROG_LOAD` or `bpf BPF_PROG_ATTACH`, with the errno.
 * @throws {ConfigError} for a rule the devices cgroup cannot take.
 */
export function attachDeviceProgram(
  path: string,
  rules: DeviceRules | DevicePolicy,
): DeviceProgramAttachment {
  const policy = "writes" in rules ? rules : devicePolicy(rules);
  const cgroupFd = openFile(path, O.RDONLY | O.DIRECTORY);
  let programFd = -1;
  try {
    programFd = loadDeviceProgram(policy.program());
    if (sys.bpf(BPF_PROG_ATTACH, attachAttr(cgroupFd, programFd, BPF_F_ALLOW_MULTI)) < 0) {
      throw new SystemError("bpf BPF_PROG_ATTACH", errno(), { target: path });
    }
  } catch (error) {
    closeFd(programFd);
    closeFd(cgroupFd);
    throw error;
  }
  return new DeviceProgramAttachment(path, cgroupFd, programFd);
}
