/**
 * The config's security fields: `seccomp` (an OCI profile or `default`),
 * `no_new_privileges`, `oom_score_adj` and `labels_optional`.
 */
import { assert, assertEquals } from "../../_assert.ts";
import { configToJson, parseConfig } from "../../../lib/config/mod.ts";
import { DEFAULT_SECCOMP_PROFILE } from "../../../lib/seccomp/mod.ts";
import { input, issuesFor } from "./_helpers.ts";

Deno.test("parseConfig() leaves seccomp and oom_score_adj out, and no_new_privs off, by default", () => {
  const config = parseConfig(input());
  assertEquals(config.seccomp, undefined);
  assertEquals(config.oom_score_adj, undefined);
  assertEquals(config.no_new_privileges, false);
  assertEquals(config.labels_optional, false);
  const json = configToJson(config);
  assert(!("seccomp" in json) && !("oom_score_adj" in json));
});

Deno.test("parseConfig() takes `default` or an OCI profile, and copies the profile", () => {
  assertEquals(parseConfig(input({ seccomp: "default" })).seccomp, "default");
  const profile = {
    defaultAction: "SCMP_ACT_ERRNO" as const,
    defaultErrnoRet: 1,
    architectures: ["SCMP_ARCH_X86_64" as const],
    flags: ["SECCOMP_FILTER_FLAG_SPEC_ALLOW" as const],
    syscalls: [{
      names: ["read", "write"],
      action: "SCMP_ACT_ALLOW" as const,
      args: [{ index: 0, value: 1, valueTwo: 0, op: "SCMP_CMP_EQ" as const }],
    }],
  };
  const config = parseConfig(input({ seccomp: profile }));
  assertEquals(config.seccomp, profile);
  assert(config.seccomp !== profile, "a copy");
  // The whole default profile is a valid value too, and survives JSON.
  const json = JSON.parse(JSON.stringify(configToJson(parseConfig(input({
    seccomp: DEFAULT_SECCOMP_PROFILE,
  })))));
  assertEquals(parseConfig(json).seccomp, JSON.parse(JSON.stringify(DEFAULT_SECCOMP_PROFILE)));
});

Deno.test("parseConfig() reports a bad profile with the path of each bad field", () => {
  const issues = issuesFor(input({
    seccomp: {
      defaultAction: "SCMP_ACT_NOPE",
      syscalls: [
        { names: ["read"], action: "SCMP_ACT_ALLOW" },
        {
          names: [],
          action: "SCMP_ACT_ERRNO",
          errnoRet: 5000,
          args: [{ index: 7, value: -1, op: "SCMP_CMP_EQQ" }],
        },
      ],
      colour: "red",
    },
  } as never));
  assertEquals(issues.map((i) => i.path), [
    "seccomp.colour",
    "seccomp.defaultAction",
    "seccomp.syscalls[1].names",
    "seccomp.syscalls[1].errnoRet",
    "seccomp.syscalls[1].args[0].index",
    "seccomp.syscalls[1].args[0].value",
    "seccomp.syscalls[1].args[0].op",
  ]);
  assertEquals(issuesFor(input({ seccomp: "strict" } as never)), [{
    path: "seccomp",
    message: "Unknown profile `strict`: give a profile object or `default` for the built-in one",
  }]);
  assertEquals(issuesFor(input({ seccomp: null } as never)).map((i) => i.path), ["seccomp"]);
  assertEquals(issuesFor(input({ seccomp: [] } as never)).map((i) => i.path), ["seccomp"]);
});

Deno.test("parseConfig() takes oom_score_adj from -1000 to 1000", () => {
  assertEquals(parseConfig(input({ oom_score_adj: -1000 })).oom_score_adj, -1000);
  assertEquals(parseConfig(input({ oom_score_adj: 1000 })).oom_score_adj, 1000);
  assertEquals(parseConfig(input({ oom_score_adj: 0 })).oom_score_adj, 0);
  for (const bad of [-1001, 1001, 1.5, "5"]) {
    assertEquals(issuesFor(input({ oom_score_adj: bad } as never)).map((i) => i.path), [
      "oom_score_adj",
    ]);
  }
  assertEquals(configToJson(parseConfig(input({ oom_score_adj: 5 }))).oom_score_adj, 5);
});

Deno.test("parseConfig() takes booleans for no_new_privileges and labels_optional", () => {
  const config = parseConfig(input({ no_new_privileges: true, labels_optional: true }));
  assertEquals([config.no_new_privileges, config.labels_optional], [true, true]);
  assertEquals(
    issuesFor(input({ no_new_privileges: 1, labels_optional: "yes" } as never)).map((i) => i.path),
    ["labels_optional", "no_new_privileges"],
  );
});
