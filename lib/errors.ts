/**
 * Errors are values with a stable kind. Every error the runtime throws is a
 * {@link ContainerError} whose `code` is one of the seed's error codes;
 * {@link ConfigError} carries the path of each bad field and
 * {@link SystemError} the failed operation and its errno name.
 *
 * @module
 */
import { errnoName } from "../ffi/_errno.ts";

/** The kinds of failure, as the 2015 libcontainer named them. */
export type ErrorCode =
  | "IdInUse"
  | "InvalidIdFormat"
  | "ContainerNotExists"
  | "ContainerPaused"
  | "ContainerNotStopped"
  | "ContainerNotRunning"
  | "ContainerBusy"
  | "ProcessNotExecuted"
  | "ConfigInvalid"
  | "SystemError";

/** Base class of every error the runtime throws; `code` tells the kind. */
export class ContainerError extends Error {
  /** Always `ContainerError` for this class (subclasses set their own). */
  override name = "ContainerError";
  /** The stable kind of this error. */
  readonly code: ErrorCode;
  /** Errors met while undoing a failed operation; they never replace the original. */
  cleanupErrors: unknown[] = [];

  /** Creates an error of the given kind; `options.cause` keeps the underlying error. */
  constructor(code: ErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}

/** One problem found in a configuration: where it is and what is wrong. */
export interface ConfigIssue {
  /** Dotted path of the field, such as `mounts[2].destination`; empty for the whole config. */
  path: string;
  /** What is wrong, without the path. */
  message: string;
}

/** A configuration that failed validation; every issue names its field. */
export class ConfigError extends ContainerError {
  /** Always `ConfigError`. */
  override name = "ConfigError";
  /** Every problem found, in document order. */
  readonly issues: readonly ConfigIssue[];

  /** Creates the error from every issue found; the message lists them all. */
  constructor(issues: readonly ConfigIssue[], options?: ErrorOptions) {
    const detail = issues.map((i) => i.path ? `${i.path}: ${i.message}` : i.message).join("; ");
    super("ConfigInvalid", `Invalid configuration: ${detail}`, options);
    this.issues = issues;
  }
}

/** Where a failed system call was aimed, for the message. */
export interface SystemErrorDetail {
  /** The path, file or object the call acted on. */
  target?: string;
  /** Extra `key=value` detail, such as `src=/a dst=/b flags=MS_BIND`. */
  detail?: string;
}

/** A system call or kernel interface failed; the message names the step and the errno. */
export class SystemError extends ContainerError {
  /** Always `SystemError`. */
  override name = "SystemError";
  /** The operation that failed, such as `mount` or `pivot_root`. */
  readonly op: string;
  /** The errno value (0 when the failure was not a system call). */
  readonly errno: number;
  /** The errno name, such as `ENOENT`. */
  readonly errnoName: string;
  /** What the operation acted on, when there is one. */
  readonly target: string | undefined;

  /** Creates the error for `op` failing with `errno` (0 when no system call failed). */
  constructor(op: string, errno: number, where: SystemErrorDetail = {}, options?: ErrorOptions) {
    const name = errnoName(errno);
    const what = where.detail ?? (where.target === undefined ? "" : `\`${where.target}\``);
    const reason = errno === 0 ? "" : `: ${name}`;
    super("SystemError", `${op}${what ? " " + what : ""}${reason}`, options);
    this.op = op;
    this.errno = errno;
    this.errnoName = name;
    this.target = where.target;
  }
}

/** Shorthand for throwing the seed's state errors with a readable message. */
export function containerError(code: ErrorCode, message: string): ContainerError {
  return new ContainerError(code, message);
}
