import { assertEquals } from "../../_assert.ts";
import { MAX_ID, parseGroup, parseId, parsePasswd } from "../../../lib/user/passwd.ts";

Deno.test("parseId() reads decimal ids from 0 to 4294967294", () => {
  assertEquals(parseId("0"), 0);
  assertEquals(parseId("1000"), 1000);
  assertEquals(parseId("007"), 7);
  assertEquals(parseId("4294967294"), MAX_ID);
});

Deno.test("parseId() refuses signs, spaces, other bases and out-of-range values", () => {
  for (
    const text of [
      "",
      "-1",
      "+1",
      " 1",
      "1 ",
      "0x10",
      "1e3",
      "1.0",
      "4294967295",
      "99999999999999999999",
      "abc",
    ]
  ) {
    assertEquals(parseId(text), null, text);
  }
});

Deno.test("parsePasswd() reads every field of each entry in file order", () => {
  const text = [
    "root:x:0:0:root:/root:/bin/bash",
    "bob:*:1000:100:Bob Smith,,,:/home/bob:/bin/sh",
  ].join("\n");
  assertEquals(parsePasswd(text), [
    {
      name: "root",
      password: "x",
      uid: 0,
      gid: 0,
      gecos: "root",
      home: "/root",
      shell: "/bin/bash",
    },
    {
      name: "bob",
      password: "*",
      uid: 1000,
      gid: 100,
      gecos: "Bob Smith,,,",
      home: "/home/bob",
      shell: "/bin/sh",
    },
  ]);
});

Deno.test("parsePasswd() keeps empty fields", () => {
  assertEquals(parsePasswd("nobody::65534:65534:::"), [
    { name: "nobody", password: "", uid: 65534, gid: 65534, gecos: "", home: "", shell: "" },
  ]);
});

Deno.test("parsePasswd() skips blank lines, comments and CRLF endings", () => {
  const text =
    "\n   \n# root:x:0:0:root:/root:/bin/sh\n  #indented comment\r\nbob:x:1:2::/b:/s\r\n\n";
  assertEquals(parsePasswd(text), [
    { name: "bob", password: "x", uid: 1, gid: 2, gecos: "", home: "/b", shell: "/s" },
  ]);
});

Deno.test("parsePasswd() skips lines with the wrong field count", () => {
  const text = [
    "short:x:1:1:/home:/bin/sh",
    "long:x:2:2::/home:/bin/sh:extra",
    "ok:x:3:3::/home/ok:/bin/sh",
    "just-a-name",
  ].join("\n");
  assertEquals(parsePasswd(text).map((e) => e.name), ["ok"]);
});

Deno.test("parsePasswd() skips lines whose ids are not valid", () => {
  const text = [
    "neg:x:-1:0::/:/bin/sh",
    "big:x:4294967295:0::/:/bin/sh",
    "word:x:abc:0::/:/bin/sh",
    "empty:x::0::/:/bin/sh",
    "badgid:x:5:x::/:/bin/sh",
    "+::::::",
    "max:x:4294967294:4294967294::/:/bin/sh",
  ].join("\n");
  assertEquals(parsePasswd(text).map((e) => e.name), ["max"]);
});

Deno.test("parsePasswd() keeps duplicate names and uids in file order", () => {
  const text = "a:x:1:1::/1:/s\na:x:2:2::/2:/s\nb:x:1:3::/3:/s";
  assertEquals(parsePasswd(text).map((e) => [e.name, e.uid]), [["a", 1], ["a", 2], ["b", 1]]);
});

Deno.test("parsePasswd() returns nothing for an empty file", () => {
  assertEquals(parsePasswd(""), []);
});

Deno.test("parseGroup() reads every field and splits the member list", () => {
  const text = "root:x:0:\nwheel:x:10:root,bob\nusers:*:100:alice";
  assertEquals(parseGroup(text), [
    { name: "root", password: "x", gid: 0, members: [] },
    { name: "wheel", password: "x", gid: 10, members: ["root", "bob"] },
    { name: "users", password: "*", gid: 100, members: ["alice"] },
  ]);
});

Deno.test("parseGroup() drops empty member items and spaces around members", () => {
  assertEquals(parseGroup("g:x:5:a,, b ,c,")[0]?.members, ["a", "b", "c"]);
});

Deno.test("parseGroup() skips blank lines, comments and malformed lines", () => {
  const text = [
    "",
    "# wheel:x:10:root",
    "short:x:1",
    "long:x:2:a:b",
    "neg:x:-1:a",
    "big:x:4294967295:a",
    "word:x:ten:a",
    "ok:x:4294967294:a\r",
  ].join("\n");
  assertEquals(parseGroup(text), [{ name: "ok", password: "x", gid: MAX_ID, members: ["a"] }]);
});

Deno.test("parseGroup() returns nothing for an empty file", () => {
  assertEquals(parseGroup(""), []);
});
