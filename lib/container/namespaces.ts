/**
 * Namespaces a config joins by path are opened (and their type checked)
 * before anything else happens, so a bad path fails the start with nothing
 * to undo.
 *
 * @module
 */
import { sys } from "../../ffi/syscalls.ts";
import { O } from "../../ffi/constants.ts";
import type { Config, NamespaceType } from "../config/mod.ts";
import { ConfigError, SystemError } from "../errors.ts";
import { NAMESPACE_FLAGS } from "../plan/build.ts";
import { closeFd, openFile } from "../sys/fs.ts";

/** ioctl(2) request that returns a namespace file's CLONE_NEW* type. */
const NS_GET_NSTYPE = 0xb703;

/** The /proc/<pid>/ns file name of each namespace type. */
export const NAMESPACE_FILES: Readonly<Record<NamespaceType, string>> = {
  NEWNS: "mnt",
  NEWUTS: "uts",
  NEWIPC: "ipc",
  NEWPID: "pid",
  NEWNET: "net",
  NEWUSER: "user",
};

/** An opened namespace file to join. */
export interface OpenedNamespace {
  type: NamespaceType;
  path: string;
  fd: number;
}

function typeOf(fd: number): NamespaceType | undefined {
  const nstype = sys.ioctl(fd, NS_GET_NSTYPE, null);
  return (Object.keys(NAMESPACE_FLAGS) as NamespaceType[]).find((t) =>
    NAMESPACE_FLAGS[t] === nstype
  );
}

/**
 * Opens every namespace the config joins by path, checking each is a
 * namespace of the configured type.
 *
 * @throws {ConfigError} naming `namespaces[i].path` when one cannot be opened or is of another type.
 */
export function openNamespaces(config: Config): OpenedNamespace[] {
  const opened: OpenedNamespace[] = [];
  try {
    config.namespaces.forEach((ns, index) => {
      if (ns.path === "") return;
      const field = `namespaces[${index}].path`;
      let fd: number;
      try {
        fd = openFile(ns.path, O.RDONLY);
      } catch (error) {
        const reason = error instanceof SystemError ? error.errnoName : String(error);
        throw new ConfigError([{ path: field, message: `Cannot open \`${ns.path}\`: ${reason}` }], {
          cause: error,
        });
      }
      opened.push({ type: ns.type, path: ns.path, fd });
      const actual = typeOf(fd);
      if (actual !== ns.type) {
        const what = actual ? `a ${NAMESPACE_FILES[actual]} namespace` : "not a namespace file";
        throw new ConfigError([{
          path: field,
          message: `\`${ns.path}\` is ${what}, not ${ns.type}`,
        }]);
      }
    });
  } catch (error) {
    closeNamespaces(opened);
    throw error;
  }
  return opened;
}

/** Closes opened namespace files. */
export function closeNamespaces(opened: readonly OpenedNamespace[]): void {
  opened.forEach((ns) => closeFd(ns.fd));
}
