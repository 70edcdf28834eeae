import { assert, assertEquals, assertMatch, assertThrows } from "../../_assert.ts";
import { ConfigError } from "../../../lib/errors.ts";
import {
  configToJson,
  defaultConfig,
  parseConfig,
  parseConfigJson,
  resolveRootfs,
} from "../../../lib/config/mod.ts";
import { input, issuesOf } from "./_helpers.ts";

Deno.test("parseConfigJson() parses a JSON document into a config", () => {
  const config = parseConfigJson(
    '{"rootfs": "/srv/box", "hostname": "box", "namespaces": [{"type": "NEWUTS"}]}',
  );
  assertEquals(config.hostname, "box");
  assertEquals(config.namespaces, [{ type: "NEWUTS", path: "" }]);
});

Deno.test("parseConfigJson() turns a syntax error into a ConfigError naming line and column", () => {
  const issues = issuesOf(() => parseConfigJson('{\n  "rootfs": "/srv/box",\n  "hostname": x\n}'));
  assertEquals(issues, [{
    path: "",
    message: "Invalid JSON at line 3, column 15: unexpected `x`",
  }]);
});

Deno.test("parseConfigJson() names the position of a trailing comma, an early end and a control character", () => {
  const message = (text: string) => issuesOf(() => parseConfigJson(text))[0]?.message;
  assertEquals(message('{"rootfs": "/a",}'), "Invalid JSON at line 1, column 17: unexpected `}`");
  assertEquals(
    message('{"rootfs": '),
    "Invalid JSON at line 1, column 12: unexpected end of input",
  );
  assertEquals(message(""), "Invalid JSON at line 1, column 1: unexpected end of input");
  assertEquals(
    message('{"rootfs": "a\tb"}'),
    "Invalid JSON at line 1, column 14: unexpected control character `\\t`",
  );
  assertEquals(message('{"rootfs": "/a"} []'), "Invalid JSON at line 1, column 18: unexpected `[`");
  assertEquals(message('{"a": 01}'), "Invalid JSON at line 1, column 8: unexpected `1`");
  assertEquals(message('{"a": "\\q"}'), "Invalid JSON at line 1, column 9: unexpected `q`");
});

Deno.test("parseConfigJson() rejects a field the config does not have (the seed's TestConfigJsonFormat)", () => {
  const error = assertThrowsConfigError(() =>
    parseConfigJson('{"rootfs": "/srv/box", "Hostname": "box"}')
  );
  assertEquals(error.code, "ConfigInvalid");
  assertEquals(error.issues, [{
    path: "Hostname",
    message: "Unknown key: did you mean `hostname`?",
  }]);
  assertMatch(error.message, /^Invalid configuration: Hostname: Unknown key/);
});

function assertThrowsConfigError(fn: () => unknown): ConfigError {
  let caught: unknown;
  assertThrows(() => {
    try {
      fn();
    } catch (error) {
      caught = error;
      throw error;
    }
  }, ConfigError);
  return caught as ConfigError;
}

Deno.test("parseConfig() reports shape issues before it runs the semantic checks", () => {
  // rootfs is relative (a semantic issue) but a shape issue exists too: only the latter is reported.
  assertEquals(
    issuesOf(() => parseConfig({ rootfs: "relative", hostname: 1 })).map((i) => i.path),
    ["hostname"],
  );
});

Deno.test("parseConfig() accepts its own output unchanged", () => {
  const config = parseConfig(input({ hostname: "box", capabilities: ["KILL"] }));
  assertEquals(parseConfig(config), config);
});

Deno.test("configToJson() round-trips: parseConfig(configToJson(c)) deep-equals c", () => {
  const config = parseConfig(input({
    devices: [{
      type: 99,
      path: "/dev/null",
      major: 1,
      minor: 3,
      permissions: "rwm",
      file_mode: 0o666,
    }],
    rlimits: [{ type: "RLIMIT_CORE", hard: "unlimited", soft: 0 }],
    system_properties: { "kernel.shmmni": "4096" },
    cgroups: { memory_swap: -1, net_prio_ifpriomap: [{ interface: "eth0", priority: 5 }] },
  } as never));
  const json = configToJson(config);
  assertEquals(parseConfig(json), config);
  assertEquals(parseConfig(JSON.parse(JSON.stringify(json))), config);
});

Deno.test("configToJson() writes every field with the seed's keys and canonical values", () => {
  const json = configToJson(defaultConfig({ rootfs: "/srv/box" }));
  assertEquals(Object.keys(json).slice(0, 6), [
    "rootfs",
    "no_pivot_root",
    "pivot_dir",
    "readonlyfs",
    "privatefs",
    "parent_death_signal",
  ]);
  // 26 fields; `oom_score_adj` is left out when unset.
  assertEquals(Object.keys(json).length, 27);
  assertEquals([json.seccomp, json.no_new_privileges, json.labels_optional], [
    "default",
    true,
    false,
  ]);
  assert(!("oom_score_adj" in json));
  const devices = json.devices as { type: string }[];
  assert(devices.every((d) => d.type === "c"));
  assertEquals(json.rlimits, [{ type: 7, hard: 1024, soft: 1024 }]);
});

Deno.test("configToJson() returns a copy that shares nothing with the config", () => {
  const config = defaultConfig({ rootfs: "/srv/box" });
  const json = configToJson(config) as { mounts: { data: string }[] };
  json.mounts[0]!.data = "changed";
  assertEquals(config.mounts[0]!.data, "");
});

Deno.test("resolveRootfs() resolves a relative or empty rootfs against the config's directory", () => {
  assertEquals(resolveRootfs({ rootfs: "." }, "/srv/box"), { rootfs: "/srv/box" });
  assertEquals(resolveRootfs({ rootfs: "" }, "/srv/box/"), { rootfs: "/srv/box" });
  assertEquals(resolveRootfs({ rootfs: "rootfs", hostname: "a" }, "/srv/box"), {
    rootfs: "/srv/box/rootfs",
    hostname: "a",
  });
  assertEquals(resolveRootfs({ rootfs: "../shared/rootfs" }, "/srv/box"), {
    rootfs: "/srv/shared/rootfs",
  });
});

Deno.test("resolveRootfs() leaves an absolute rootfs, a missing one and non-objects alone", () => {
  const absolute = { rootfs: "/srv/other" };
  assert(resolveRootfs(absolute, "/srv/box") === absolute);
  assertEquals(resolveRootfs({ hostname: "a" }, "/srv/box"), { hostname: "a" });
  assertEquals(resolveRootfs(null, "/srv/box"), null);
  assertEquals(resolveRootfs([1], "/srv/box"), [1]);
  assertEquals(resolveRootfs({ rootfs: 5 }, "/srv/box"), { rootfs: 5 });
});

Deno.test("resolveRootfs() does not modify its input", () => {
  const original = { rootfs: "." };
  resolveRootfs(original, "/srv/box");
  assertEquals(original, { rootfs: "." });
});
