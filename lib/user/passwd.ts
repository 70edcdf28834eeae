/**
 * Parsers for the container's `/etc/passwd` and `/etc/group`. They take the
 * text, never a path: the caller reads the files from the container's root,
 * so this module touches no filesystem.
 *
 * Parsing is lenient, as the C library's is: blank lines, comments and
 * malformed lines (wrong field count, an id that is not a decimal number
 * from 0 to {@link MAX_ID}) are skipped rather than failing the whole file.
 *
 * @module
 */

/**
 * The largest valid user or group id. 4294967295 is `(uid_t)-1`, which
 * `setresuid` and `chown` read as "leave unchanged", so it is never an id.
 */
export const MAX_ID = 4294967294;

/** One line of `/etc/passwd`. */
export interface PasswdEntry {
  /** Login name. */
  name: string;
  /** Password field, usually `x`. */
  password: string;
  /** User id. */
  uid: number;
  /** Primary group id. */
  gid: number;
  /** Comment field (full name and the like). */
  gecos: string;
  /** Home directory. */
  home: string;
  /** Login shell. */
  shell: string;
}

/** One line of `/etc/group`. */
export interface GroupEntry {
  /** Group name. */
  name: string;
  /** Password field, usually `x`. */
  password: string;
  /** Group id. */
  gid: number;
  /** Names of the users listed as members, in file order. */
  members: string[];
}

/**
 * Reads a decimal id: digits only, from 0 to {@link MAX_ID}.
 *
 * No sign, no spaces, no hexadecimal; leading zeros are allowed (`007` is 7).
 *
 * @param text The text to read.
 * @returns The id, or `null` when `text` is not a valid id.
 *
 * @example Reading ids
 * ```ts
 * import { parseId } from "./passwd.ts";
 * parseId("1000"); // 1000
 * parseId("-1"); // null
 * parseId("4294967295"); // null
 * ```
 */
export function parseId(text: string): number | null {
  if (!/^[0-9]+$/.test(text)) return null;
  const id = Number(text);
  return id <= MAX_ID ? id : null;
}

type PasswdFields = [string, string, string, string, string, string, string];
type GroupFields = [string, string, string, string];

/**
 * The meaningful lines of a colon-separated database, split into fields;
 * lines with another field count are skipped, so the tuple type holds.
 */
function* records<T extends string[]>(text: string, fieldCount: T["length"]): Iterable<T> {
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const fields = line.split(":");
    if (fields.length === fieldCount) yield fields as T;
  }
}

/**
 * Parses the text of an `/etc/passwd` file.
 *
 * @param text The whole file.
 * @returns Every well-formed entry, in file order (duplicates kept).
 *
 * @example Parsing a passwd file
 * ```ts
 * import { parsePasswd } from "./passwd.ts";
 * const [root] = parsePasswd("root:x:0:0:root:/root:/bin/sh\n");
 * root?.home; // "/root"
 * ```
 */
export function parsePasswd(text: string): PasswdEntry[] {
  const entries: PasswdEntry[] = [];
  for (const fields of records<PasswdFields>(text, 7)) {
    const [name, password, uidText, gidText, gecos, home, shell] = fields;
    const uid = parseId(uidText);
    const gid = parseId(gidText);
    if (uid === null || gid === null) continue;
    entries.push({ name, password, uid, gid, gecos, home, shell });
  }
  return entries;
}

/**
 * Parses the text of an `/etc/group` file.
 *
 * @param text The whole file.
 * @returns Every well-formed entry, in file order (duplicates kept). Empty
 * items of a member list (`a,,b`, a trailing comma) are dropped.
 *
 * @example Parsing a group file
 * ```ts
 * import { parseGroup } from "./passwd.ts";
 * const [wheel] = parseGroup("wheel:x:10:root,alice\n");
 * wheel?.members; // ["root", "alice"]
 * ```
 */
export function parseGroup(text: string): GroupEntry[] {
  const entries: GroupEntry[] = [];
  for (const [name, password, gidText, memberText] of records<GroupFields>(text, 4)) {
    const gid = parseId(gidText);
    if (gid === null) continue;
    const members = memberText.split(",").map((m) => m.trim()).filter((m) => m !== "");
    entries.push({ name: name!, password: password!, gid, members });
  }
  return entries;
}
