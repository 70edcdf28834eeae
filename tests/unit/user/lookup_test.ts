import { assert, assertEquals, assertThrows } from "../../_assert.ts";
import { ConfigError } from "../../../lib/errors.ts";
import { resolveUser, type UserSources } from "../../../lib/user/lookup.ts";

const PASSWD = [
  "root:x:0:0:root:/root:/bin/sh",
  "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin",
  "bob:x:1000:1000:Bob:/home/bob:/bin/sh",
  "alice:x:1001:100:Alice:/home/alice:/bin/sh",
  "bob:x:2000:2000:Second bob:/home/bob2:/bin/sh",
  "nohome:x:1500:1500:::/bin/sh",
].join("\n");

const GROUP = [
  "root:x:0:root",
  "wheel:x:10:root,bob",
  "users:x:100:alice,bob",
  "bob:x:1000:",
  "audio:x:29:alice",
  "video:x:44:bob",
].join("\n");

const SOURCES: UserSources = { passwd: PASSWD, group: GROUP };

/** Asserts that `fn` throws a ConfigError with exactly one issue at `path` saying `message`. */
function assertUserError(fn: () => unknown, message: string, path = "user"): void {
  assertThrows(fn, (error: unknown) => {
    assert(error instanceof ConfigError, `expected a ConfigError, got ${error}`);
    assertEquals(error.code, "ConfigInvalid");
    assertEquals(error.issues, [{ path, message }]);
    return true;
  });
}

Deno.test("resolveUser() runs an empty spec as root with defaults when passwd is absent", () => {
  assertEquals(resolveUser("", { passwd: null, group: null }), {
    uid: 0,
    gid: 0,
    additionalGids: [],
    home: "/",
  });
});

Deno.test("resolveUser() looks an empty spec up as uid 0", () => {
  assertEquals(resolveUser("", SOURCES), {
    uid: 0,
    gid: 0,
    additionalGids: [0, 10],
    home: "/root",
  });
});

Deno.test("resolveUser() gives root HOME=/root when passwd says so (TestProcessEnv)", () => {
  const user = resolveUser("root", {
    passwd: "root:x:0:0:root:/root:/bin/bash\n",
    group: "root:x:0:\n",
  });
  assertEquals(user.home, "/root");
  assertEquals(user.uid, 0);
  assertEquals(user.gid, 0);
});

Deno.test("resolveUser() takes uid, gid and home of a named user from passwd", () => {
  assertEquals(resolveUser("alice", SOURCES), {
    uid: 1001,
    gid: 100,
    additionalGids: [100, 29],
    home: "/home/alice",
  });
});

Deno.test("resolveUser() uses the first passwd entry with the name", () => {
  const user = resolveUser("bob", SOURCES);
  assertEquals(user.uid, 1000);
  assertEquals(user.home, "/home/bob");
});

Deno.test("resolveUser() adds every group listing the user as a member, in file order", () => {
  assertEquals(resolveUser("bob", SOURCES).additionalGids, [10, 100, 44]);
});

Deno.test("resolveUser() lists a membership gid once when two groups share it", () => {
  const group = "a:x:7:bob\nb:x:8:bob\nc:x:7:bob";
  assertEquals(resolveUser("bob", { passwd: PASSWD, group }).additionalGids, [7, 8]);
});

Deno.test("resolveUser() keeps the primary gid among membership groups", () => {
  const group = "bob:x:1000:bob";
  assertEquals(resolveUser("bob", { passwd: PASSWD, group }).additionalGids, [1000]);
});

Deno.test("resolveUser() fills gid, home and membership groups of a known numeric uid", () => {
  assertEquals(resolveUser("1000", SOURCES), {
    uid: 1000,
    gid: 1000,
    additionalGids: [10, 100, 44],
    home: "/home/bob",
  });
});

Deno.test("resolveUser() matches a numeric uid to the first entry with that uid", () => {
  const passwd = "first:x:42:1::/first:/s\nsecond:x:42:2::/second:/s";
  const group = "g1:x:50:first\ng2:x:51:second";
  assertEquals(resolveUser("42", { passwd, group }), {
    uid: 42,
    gid: 1,
    additionalGids: [50],
    home: "/first",
  });
});

Deno.test("resolveUser() runs an unknown numeric uid with gid 0, home / and no groups", () => {
  assertEquals(resolveUser("4242", SOURCES), { uid: 4242, gid: 0, additionalGids: [], home: "/" });
});

Deno.test("resolveUser() accepts the largest uid", () => {
  assertEquals(resolveUser("4294967294", SOURCES).uid, 4294967294);
});

Deno.test("resolveUser() treats a numeric spec as a uid even when a user is named so", () => {
  // CVE-2016-3697: an entry named 1000 with uid 0 must not make `-u 1000` root.
  const passwd = "1000:x:0:0:evil:/root:/bin/sh\nroot:x:0:0:root:/root:/bin/sh";
  assertEquals(resolveUser("1000", { passwd, group: "wheel:x:10:1000" }), {
    uid: 1000,
    gid: 0,
    additionalGids: [],
    home: "/",
  });
});

Deno.test("resolveUser() takes details from the uid match, not the name match, for a numeric spec", () => {
  const passwd = "1000:x:0:0:evil:/root:/bin/sh\nreal:x:1000:1000::/home/real:/bin/sh";
  assertEquals(resolveUser("1000", { passwd, group: "g:x:5:real\nh:x:6:1000" }), {
    uid: 1000,
    gid: 1000,
    additionalGids: [5],
    home: "/home/real",
  });
});

Deno.test("resolveUser() treats a numeric group part as a gid even when a group is named so", () => {
  const group = "10:x:0:\nwheel:x:10:";
  assertEquals(resolveUser("0:10", { passwd: PASSWD, group }).gid, 10);
  assertEquals(resolveUser("bob:0", { passwd: PASSWD, group: "0:x:999:" }).gid, 0);
});

Deno.test("resolveUser() treats a numeric additional group as a gid even when a group is named so", () => {
  const group = "10:x:0:";
  assertEquals(resolveUser("4242", { passwd: PASSWD, group }, { additionalGroups: ["10"] }), {
    uid: 4242,
    gid: 0,
    additionalGids: [10],
    home: "/",
  });
});

Deno.test("resolveUser() resolves name:group", () => {
  assertEquals(resolveUser("bob:audio", SOURCES), {
    uid: 1000,
    gid: 29,
    additionalGids: [],
    home: "/home/bob",
  });
});

Deno.test("resolveUser() resolves name:gid", () => {
  assertEquals(resolveUser("alice:4000", SOURCES), {
    uid: 1001,
    gid: 4000,
    additionalGids: [],
    home: "/home/alice",
  });
});

Deno.test("resolveUser() resolves uid:gid with passwd details for a known uid", () => {
  assertEquals(resolveUser("1000:29", SOURCES), {
    uid: 1000,
    gid: 29,
    additionalGids: [],
    home: "/home/bob",
  });
});

Deno.test("resolveUser() resolves uid:gid for ids in neither file", () => {
  assertEquals(resolveUser("5000:6000", SOURCES), {
    uid: 5000,
    gid: 6000,
    additionalGids: [],
    home: "/",
  });
});

Deno.test("resolveUser() resolves uid:group", () => {
  assertEquals(resolveUser("5000:wheel", SOURCES), {
    uid: 5000,
    gid: 10,
    additionalGids: [],
    home: "/",
  });
});

Deno.test("resolveUser() uses the first group entry with the name", () => {
  const group = "dup:x:7:\ndup:x:8:";
  assertEquals(resolveUser("0:dup", { passwd: null, group }).gid, 7);
});

Deno.test("resolveUser() adds no membership groups when a group is given", () => {
  assertEquals(resolveUser("bob:users", SOURCES).additionalGids, []);
  assertEquals(resolveUser("bob:100", SOURCES).additionalGids, []);
});

Deno.test("resolveUser() falls back to / when the passwd home is empty", () => {
  assertEquals(resolveUser("nohome", SOURCES).home, "/");
});

Deno.test("resolveUser() appends additional groups by number and name after membership groups", () => {
  const user = resolveUser("alice", SOURCES, { additionalGroups: [5, "wheel", "7", 0] });
  assertEquals(user.additionalGids, [100, 29, 5, 10, 7, 0]);
});

Deno.test("resolveUser() drops repeated additional gids, keeping first-seen order", () => {
  const user = resolveUser("alice", SOURCES, {
    additionalGroups: [29, "users", 5, "5", "audio", 100, 0, 0],
  });
  assertEquals(user.additionalGids, [100, 29, 5, 0]);
});

Deno.test("resolveUser() keeps additional groups when a group part is given", () => {
  const user = resolveUser("bob:audio", SOURCES, { additionalGroups: ["video", 29] });
  assertEquals(user, { uid: 1000, gid: 29, additionalGids: [44, 29], home: "/home/bob" });
});

Deno.test("resolveUser() keeps additional groups for a uid missing from passwd", () => {
  const user = resolveUser("4242", SOURCES, { additionalGroups: [3, "audio"] });
  assertEquals(user.additionalGids, [3, 29]);
});

Deno.test("resolveUser() needs no files for numeric ids only", () => {
  const none = { passwd: null, group: null };
  assertEquals(resolveUser("1000:1000", none, { additionalGroups: [4, "5"] }), {
    uid: 1000,
    gid: 1000,
    additionalGids: [4, 5],
    home: "/",
  });
  assertEquals(resolveUser("1000", none), { uid: 1000, gid: 0, additionalGids: [], home: "/" });
});

Deno.test("resolveUser() adds no membership groups when group is absent", () => {
  assertEquals(resolveUser("bob", { passwd: PASSWD, group: null }), {
    uid: 1000,
    gid: 1000,
    additionalGids: [],
    home: "/home/bob",
  });
});

Deno.test("resolveUser() fails for a name when passwd is absent", () => {
  assertUserError(
    () => resolveUser("bob", { passwd: null, group: GROUP }),
    "The container has no /etc/passwd to look up user `bob`",
  );
});

Deno.test("resolveUser() fails for a group name when group is absent", () => {
  assertUserError(
    () => resolveUser("bob:wheel", { passwd: PASSWD, group: null }),
    "The container has no /etc/group to look up group `wheel`",
  );
});

Deno.test("resolveUser() fails for an additional group name when group is absent", () => {
  assertUserError(
    () => resolveUser("bob", { passwd: PASSWD, group: null }, { additionalGroups: [1, "wheel"] }),
    "The container has no /etc/group to look up group `wheel`, named in the additional groups",
  );
});

Deno.test("resolveUser() fails for a user missing from passwd", () => {
  assertUserError(
    () => resolveUser("carol", SOURCES),
    "No user `carol` in the container's /etc/passwd",
  );
  assertUserError(
    () => resolveUser("carol:10", SOURCES),
    "No user `carol` in the container's /etc/passwd",
  );
});

Deno.test("resolveUser() does not match a user name against a malformed passwd line", () => {
  const passwd = "carol:x:1:1:/home:/bin/sh";
  assertUserError(
    () => resolveUser("carol", { passwd, group: null }),
    "No user `carol` in the container's /etc/passwd",
  );
});

Deno.test("resolveUser() fails for a group missing from group", () => {
  assertUserError(
    () => resolveUser("bob:staff", SOURCES),
    "No group `staff` in the container's /etc/group",
  );
  assertUserError(
    () => resolveUser("0:staff", SOURCES),
    "No group `staff` in the container's /etc/group",
  );
});

Deno.test("resolveUser() fails for an additional group missing from group", () => {
  assertUserError(
    () => resolveUser("bob", SOURCES, { additionalGroups: ["wheel", "staff"] }),
    "No group `staff` in the container's /etc/group, named in the additional groups",
  );
});

Deno.test("resolveUser() refuses a spec that is not name, uid, name:group or uid:gid", () => {
  for (const spec of ["1:2:3", ":", "a:", ":0", ":wheel", "bob::", "::"]) {
    assertUserError(
      () => resolveUser(spec, SOURCES),
      `Invalid user \`${spec}\`: expected name, uid, name:group or uid:gid`,
    );
  }
});

Deno.test("resolveUser() refuses a uid out of range or with a sign", () => {
  for (const spec of ["-1", "+0", "4294967295", "18446744073709551616", "-1:0"]) {
    assertUserError(
      () => resolveUser(spec, SOURCES),
      `Invalid user \`${spec}\`: uid must be a number from 0 to 4294967294`,
    );
  }
});

Deno.test("resolveUser() refuses a uid of -1 even when a user is named so", () => {
  const passwd = "-1:x:1000:1000::/home/x:/bin/sh";
  assertUserError(
    () => resolveUser("-1", { passwd, group: null }),
    "Invalid user `-1`: uid must be a number from 0 to 4294967294",
  );
});

Deno.test("resolveUser() refuses a gid out of range or with a sign", () => {
  for (const spec of ["0:-1", "bob:4294967295", "bob:+5"]) {
    assertUserError(
      () => resolveUser(spec, SOURCES),
      `Invalid user \`${spec}\`: gid must be a number from 0 to 4294967294`,
    );
  }
});

Deno.test("resolveUser() refuses additional gids out of range, fractional or with a sign", () => {
  for (const item of [-1, 4294967295, 1.5, NaN, Infinity, "-1", "+1", "4294967295"]) {
    assertUserError(
      () => resolveUser("0", SOURCES, { additionalGroups: [item] }),
      `Invalid additional group \`${item}\`: gid must be a number from 0 to 4294967294`,
    );
  }
});

Deno.test("resolveUser() refuses an empty additional group name", () => {
  assertUserError(
    () => resolveUser("0", SOURCES, { additionalGroups: [""] }),
    "Invalid additional group ``: expected a group name or gid",
  );
});

Deno.test("resolveUser() checks the spec's syntax before needing any file", () => {
  const none = { passwd: null, group: null };
  assertUserError(
    () => resolveUser("bob:-1", none),
    "Invalid user `bob:-1`: gid must be a number from 0 to 4294967294",
  );
  assertUserError(
    () => resolveUser("a:b:c", none),
    "Invalid user `a:b:c`: expected name, uid, name:group or uid:gid",
  );
});

Deno.test("resolveUser() reports errors at options.field", () => {
  assertUserError(
    () => resolveUser("carol", SOURCES, { field: "process.user" }),
    "No user `carol` in the container's /etc/passwd",
    "process.user",
  );
  assertUserError(
    () => resolveUser("0", SOURCES, { field: "additional_groups", additionalGroups: ["staff"] }),
    "No group `staff` in the container's /etc/group, named in the additional groups",
    "additional_groups",
  );
});

Deno.test("resolveUser() errors read as configuration errors", () => {
  assertThrows(
    () => resolveUser("carol", SOURCES),
    {
      name: "ConfigError",
      message: "Invalid configuration: user: No user `carol` in the container's /etc/passwd",
    },
  );
});

Deno.test("resolveUser() returns a fresh additionalGids array on each call", () => {
  const a = resolveUser("bob", SOURCES);
  a.additionalGids.push(99);
  assertEquals(resolveUser("bob", SOURCES).additionalGids, [10, 100, 44]);
});
