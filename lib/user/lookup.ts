/**
 * Turns a user spec (`bob`, `1000`, `bob:wheel`, `1000:10`) into the ids and
 * home directory a container process runs with, using the container's own
 * `/etc/passwd` and `/etc/group`, never the host's.
 *
 * The rule that matters for security: a part made only of digits is always
 * an id, never a name. Otherwise a passwd entry named `1000` with uid 0
 * would turn `-u 1000` into root (CVE-2016-3697).
 *
 * @module
 */
import { ConfigError } from "../errors.ts";
import {
  type GroupEntry,
  MAX_ID,
  parseGroup,
  parseId,
  parsePasswd,
  type PasswdEntry,
} from "./passwd.ts";

/** The identity a process is started with. */
export interface ExecUser {
  /** User id. */
  uid: number;
  /** Primary group id. */
  gid: number;
  /** Supplementary group ids: membership groups, then additional groups, without repeats. */
  additionalGids: number[];
  /** Home directory, for `HOME`; `/` when the user has none in passwd. */
  home: string;
}

/** The text of the container's user databases; `null` means the file is absent. */
export interface UserSources {
  /** Contents of the container's `/etc/passwd`, or `null` when it has none. */
  passwd: string | null;
  /** Contents of the container's `/etc/group`, or `null` when it has none. */
  group: string | null;
}

/** Options of {@link resolveUser}. */
export interface ResolveUserOptions {
  /** Extra groups by gid or name (the config's `additional_groups`, or a process's). */
  additionalGroups?: readonly (number | string)[];
  /** Path reported in the error's issue; defaults to `user`. */
  field?: string;
}

/** A spec part (user or group) after syntax checks: an id or a name to look up. */
type Part = { id: number } | { name: string };

/** Sign and digits: anything shaped like a number is an id or an error, never a name. */
const NUMERIC = /^[+-]?[0-9]+$/;
const RANGE = `must be a number from 0 to ${MAX_ID}`;

/**
 * Resolves a user spec against the container's passwd and group text, the
 * way runc's `GetExecUser` does.
 *
 * - `""` means root: uid 0, looked up like `0`.
 * - A user name must exist in passwd. A uid need not: an unknown uid runs
 *   with gid 0 and home `/`; a known one takes its gid and home from passwd.
 * - With a group part, a group name must exist in group and a gid is used as
 *   is; membership groups are then not added. Without one, the gid comes
 *   from passwd and every group listing the user's name as a member (when
 *   the user is in passwd) becomes a supplementary group.
 * - `additionalGroups` are appended after the membership groups; numbers are
 *   used as is and names must exist in group.
 *
 * Needs no permissions: the caller reads the files from the container's root.
 *
 * @param spec `name`, `uid`, `name:group`, `uid:gid`, `name:gid`, `uid:group` or `""`.
 * @param sources The container's `/etc/passwd` and `/etc/group` text.
 * @param options Additional groups, and the field path for errors.
 * @returns The uid, gid, supplementary gids and home directory.
 * @throws {ConfigError} With one issue at `options.field ?? "user"` when the
 * spec is malformed, an id is out of range, a name is unknown or the file
 * needed to look it up is absent.
 *
 * @example Resolving a name
 * ```ts
 * import { resolveUser } from "./lookup.ts";
 * const user = resolveUser("bob", {
 *   passwd: "bob:x:1000:1000::/home/bob:/bin/sh\n",
 *   group: "wheel:x:10:bob\n",
 * });
 * // { uid: 1000, gid: 1000, additionalGids: [10], home: "/home/bob" }
 * ```
 */
export function resolveUser(
  spec: string,
  sources: UserSources,
  options: ResolveUserOptions = {},
): ExecUser {
  const field = options.field ?? "user";
  function fail(message: string): never {
    throw new ConfigError([{ path: field, message }]);
  }

  const parts = spec === "" ? ["0"] : spec.split(":");
  if (parts.length > 2 || parts.some((part) => part === "")) {
    fail(`Invalid user \`${spec}\`: expected name, uid, name:group or uid:gid`);
  }
  function readPart(text: string, what: "uid" | "gid"): Part {
    if (!NUMERIC.test(text)) return { name: text };
    return { id: parseId(text) ?? fail(`Invalid user \`${spec}\`: ${what} ${RANGE}`) };
  }
  const userPart = readPart(parts[0]!, "uid");
  const groupPart = parts[1] === undefined ? undefined : readPart(parts[1], "gid");

  // Groups are parsed at most once, and only when something needs them.
  let groups: GroupEntry[] | undefined;
  function groupEntries(name: string, context: string): GroupEntry[] {
    if (sources.group === null) {
      fail(`The container has no /etc/group to look up group \`${name}\`${context}`);
    }
    return groups ??= parseGroup(sources.group);
  }
  function groupByName(name: string, context: string): number {
    const entry = groupEntries(name, context).find((g) => g.name === name);
    return entry?.gid ?? fail(`No group \`${name}\` in the container's /etc/group${context}`);
  }

  // The user: defaults, then whatever passwd says about the matched entry.
  const result: ExecUser = { uid: 0, gid: 0, additionalGids: [], home: "/" };
  let matched: PasswdEntry | undefined;
  if ("name" in userPart) {
    const { name } = userPart;
    if (sources.passwd === null) {
      fail(`The container has no /etc/passwd to look up user \`${name}\``);
    }
    matched = parsePasswd(sources.passwd).find((u) => u.name === name) ??
      fail(`No user \`${name}\` in the container's /etc/passwd`);
  } else {
    result.uid = userPart.id;
    if (sources.passwd !== null) {
      matched = parsePasswd(sources.passwd).find((u) => u.uid === userPart.id);
    }
  }
  if (matched !== undefined) {
    result.uid = matched.uid;
    result.gid = matched.gid;
    if (matched.home !== "") result.home = matched.home;
  }

  // The primary group, or the groups the user is a member of.
  const gids: number[] = [];
  if (groupPart !== undefined) {
    result.gid = "id" in groupPart ? groupPart.id : groupByName(groupPart.name, "");
  } else if (matched !== undefined && sources.group !== null) {
    const userName = matched.name;
    for (const g of groupEntries(userName, "")) {
      if (g.members.includes(userName)) gids.push(g.gid);
    }
  }

  for (const item of options.additionalGroups ?? []) {
    gids.push(additionalGid(item, fail, groupByName));
  }
  result.additionalGids = [...new Set(gids)];
  return result;
}

/** One entry of the additional groups as a gid: a number, a numeric string or a group name. */
function additionalGid(
  item: number | string,
  fail: (message: string) => never,
  groupByName: (name: string, context: string) => number,
): number {
  const invalid = () => fail(`Invalid additional group \`${item}\`: gid ${RANGE}`);
  if (typeof item === "number") {
    return Number.isInteger(item) && item >= 0 && item <= MAX_ID ? item : invalid();
  }
  if (item === "") fail("Invalid additional group ``: expected a group name or gid");
  if (NUMERIC.test(item)) return parseId(item) ?? invalid();
  return groupByName(item, ", named in the additional groups");
}
