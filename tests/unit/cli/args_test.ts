/**
 * nsinit's argument handling without a kernel: splitting the options from
 * the container's command line, strict option parsing and its messages, and
 * the create flags as edits of a config.
 */
import { assert, assertEquals, assertThrows } from "../../_assert.ts";
import { type OptionSpecs, parseOptions, splitOptions, UsageError } from "../../../cli/_args.ts";
import { applyCreateFlags, CREATE_FLAGS } from "../../../cli/_create_flags.ts";
import { type ConfigInput, configToJson, defaultConfig, MS, parseConfig } from "../../../mod.ts";

/** The options of `nsinit exec`, as cli/commands/exec.ts declares them. */
const EXEC: OptionSpecs = {
  tty: { type: "boolean", short: "t", help: "" },
  id: { type: "string", help: "" },
  config: { type: "string", help: "" },
  user: { type: "string", short: "u", help: "" },
  cwd: { type: "string", help: "" },
  env: { type: "string", multiple: true, help: "" },
  ...CREATE_FLAGS,
};

/** Parses the create flags the way `exec` does: split, then parse. */
function flags(...tokens: string[]) {
  const { options, rest } = splitOptions(tokens, EXEC);
  assertEquals(rest, [], `${tokens.join(" ")} left ${rest.join(" ")}`);
  return parseOptions(options, EXEC, "exec");
}

/** The template nsinit starts from, as the JSON input the flags edit. */
function template(): ConfigInput {
  return configToJson(defaultConfig({ rootfs: "/srv/box" })) as ConfigInput;
}

/** Asserts that `fn` throws a UsageError whose message is exactly `message` (a string) or matches it. */
function assertUsageError(fn: () => unknown, message: string | RegExp): void {
  assertThrows(fn, (error: unknown) => {
    assert(error instanceof UsageError, `expected a UsageError, got ${String(error)}`);
    if (typeof message === "string") assertEquals(error.message, message);
    else assert(message.test(error.message), `${JSON.stringify(error.message)} !~ ${message}`);
    assert(!error.message.includes("\n"), `message spans lines: ${JSON.stringify(error.message)}`);
    return true;
  });
}

// ---- splitOptions ------------------------------------------------------------

Deno.test("splitOptions() takes options before the command and leaves the command line untouched", () => {
  assertEquals(splitOptions(["--id", "a", "/bin/sh", "-c", "echo hi"], EXEC), {
    options: ["--id", "a"],
    rest: ["/bin/sh", "-c", "echo hi"],
  });
});

Deno.test("splitOptions() passes arguments that look like options to the container", () => {
  assertEquals(splitOptions(["ls", "-la", "/"], EXEC), { options: [], rest: ["ls", "-la", "/"] });
  assertEquals(splitOptions(["--tty", "sh", "--id", "x", "-t"], EXEC), {
    options: ["--tty"],
    rest: ["sh", "--id", "x", "-t"],
  });
});

Deno.test("splitOptions() ends the options at `--` and drops it", () => {
  assertEquals(splitOptions(["--id", "a", "--", "-x", "--id"], EXEC), {
    options: ["--id", "a"],
    rest: ["-x", "--id"],
  });
  assertEquals(splitOptions(["--", "sh"], EXEC), { options: [], rest: ["sh"] });
});

Deno.test("splitOptions() keeps a `--` that comes after the command", () => {
  assertEquals(splitOptions(["sh", "--", "x"], EXEC), { options: [], rest: ["sh", "--", "x"] });
});

Deno.test("splitOptions() takes the value of a string option even when it looks like a command", () => {
  assertEquals(splitOptions(["--cwd", "/tmp", "-u", "root", "id"], EXEC), {
    options: ["--cwd", "/tmp", "-u", "root"],
    rest: ["id"],
  });
  assertEquals(splitOptions(["--user=root", "-uroot", "-t", "id"], EXEC), {
    options: ["--user=root", "-uroot", "-t"],
    rest: ["id"],
  });
  // A boolean option takes no value: what follows it is the command.
  assertEquals(splitOptions(["--read-only", "true"], EXEC), {
    options: ["--read-only"],
    rest: ["true"],
  });
});

Deno.test("splitOptions() treats a lone `-` as the first positional", () => {
  assertEquals(splitOptions(["-", "x"], EXEC), { options: [], rest: ["-", "x"] });
});

Deno.test("splitOptions() keeps a string option that lacks its value for the parser to report", () => {
  assertEquals(splitOptions(["--id"], EXEC), { options: ["--id"], rest: [] });
  assertEquals(splitOptions([], EXEC), { options: [], rest: [] });
});

// ---- parseOptions ------------------------------------------------------------

Deno.test("parseOptions() accepts `-u root`, `-uroot`, `--user root` and `--user=root`", () => {
  for (const tokens of [["-u", "root"], ["-uroot"], ["--user", "root"], ["--user=root"]]) {
    assertEquals(parseOptions(tokens, EXEC, "exec").user, "root", tokens.join(" "));
  }
});

Deno.test("parseOptions() collects a repeated --env in order", () => {
  const values = parseOptions(["--env", "A=B", "--env=C=D", "--env", "A=E"], EXEC, "exec");
  assertEquals(values.env, ["A=B", "C=D", "A=E"]);
});

Deno.test("parseOptions() reads booleans, short and long", () => {
  assertEquals(parseOptions(["-t"], EXEC, "exec").tty, true);
  assertEquals(parseOptions(["--tty", "--read-only"], EXEC, "exec")["read-only"], true);
  assertEquals(parseOptions([], EXEC, "exec").tty, undefined);
});

Deno.test("parseOptions() names an unknown option and where it was given", () => {
  assertUsageError(
    () => parseOptions(["--bogus"], EXEC, "exec"),
    "Unknown option `--bogus` for exec",
  );
  assertUsageError(() => parseOptions(["-z"], EXEC, "exec"), "Unknown option `-z` for exec");
  assertUsageError(
    () => parseOptions(["--bogus=1"], { root: { type: "string", help: "" } }, "nsinit"),
    /^Unknown option `--bogus(=1)?` for nsinit$/,
  );
});

Deno.test("parseOptions() says which long option needs a value", () => {
  assertUsageError(
    () => parseOptions(["--id"], EXEC, "exec"),
    "Option `--id` of exec needs a value",
  );
  assertUsageError(
    () => parseOptions(["--tty", "--cwd"], EXEC, "exec"),
    "Option `--cwd` of exec needs a value",
  );
});

Deno.test("parseOptions() says which short option needs a value, naming a real option", () => {
  // `nsinit exec -u`: the name shown must be one the user can type, not `-u,`.
  assertUsageError(
    () => parseOptions(["-u"], EXEC, "exec"),
    /^Option `(-u|--user)` of exec needs a value$/,
  );
});

Deno.test("parseOptions() refuses a value given to a boolean option with one line", () => {
  assertUsageError(() => parseOptions(["--tty=yes"], EXEC, "exec"), /--tty/);
});

Deno.test("parseOptions() takes the token after a string option as its value, as getopt does", () => {
  // splitOptions() has already paired them the same way.
  assertEquals(splitOptions(["--id", "--tty", "sh"], EXEC), {
    options: ["--id", "--tty"],
    rest: ["sh"],
  });
  assertEquals(parseOptions(["--id", "--tty"], EXEC, "exec"), { id: "--tty" });
  assertEquals(parseOptions(["--parent-death-signal", "-1"], EXEC, "exec"), {
    "parent-death-signal": "-1",
  });
});

Deno.test("UsageError is an Error named UsageError", () => {
  const error = new UsageError("x");
  assert(error instanceof Error);
  assertEquals(error.name, "UsageError");
});

// ---- applyCreateFlags --------------------------------------------------------

Deno.test("applyCreateFlags() with no flags leaves the config as it was", () => {
  const base = template();
  assertEquals(applyCreateFlags(base, flags()), base);
});

Deno.test("applyCreateFlags() does not modify the config it is given", () => {
  const base = template();
  const copy = structuredClone(base);
  applyCreateFlags(
    base,
    flags("--bind", "/a:/b", "--tmpfs", "/t", "--net", "host", "--ipc", "/proc/1/ns/ipc"),
  );
  assertEquals(base, copy);
});

Deno.test("applyCreateFlags() parses --bind SRC:DST as a read-write recursive bind", () => {
  const config = applyCreateFlags(template(), flags("--bind", "/host/a:/in/a"));
  assertEquals(config.mounts!.at(-1), {
    source: "/host/a",
    destination: "/in/a",
    device: "bind",
    flags: MS.MS_BIND | MS.MS_REC,
  });
  assertEquals(config.mounts!.length, template().mounts!.length + 1);
});

Deno.test("applyCreateFlags() parses the :ro and :rw suffixes of --bind", () => {
  const config = applyCreateFlags(
    template(),
    flags("--bind", "/a:/x:ro", "--bind", "/b:/y:rw"),
  );
  const [ro, rw] = config.mounts!.slice(-2);
  assertEquals(ro, {
    source: "/a",
    destination: "/x",
    device: "bind",
    flags: MS.MS_BIND | MS.MS_REC | MS.MS_RDONLY,
  });
  assertEquals(rw, {
    source: "/b",
    destination: "/y",
    device: "bind",
    flags: MS.MS_BIND | MS.MS_REC,
  });
});

Deno.test("applyCreateFlags() refuses a bad --bind spec, quoting it", () => {
  for (const spec of ["/a", "/a:", ":/b", "/a:/b:xx", "/a:/b:ro:rw", "", "::"]) {
    assertUsageError(
      () => applyCreateFlags(template(), flags("--bind", spec)),
      `Invalid --bind \`${spec}\`: expected SRC:DST[:ro|rw]`,
    );
  }
});

Deno.test("applyCreateFlags() adds a nosuid,nodev tmpfs per --tmpfs", () => {
  const config = applyCreateFlags(template(), flags("--tmpfs", "/t", "--tmpfs", "/u"));
  assertEquals(config.mounts!.slice(-2), [
    { source: "tmpfs", destination: "/t", device: "tmpfs", flags: MS.MS_NOSUID | MS.MS_NODEV },
    { source: "tmpfs", destination: "/u", device: "tmpfs", flags: MS.MS_NOSUID | MS.MS_NODEV },
  ]);
});

Deno.test("applyCreateFlags() keeps the flags' mounts in order after the config's own", () => {
  const config = applyCreateFlags(template(), flags("--tmpfs", "/t", "--bind", "/a:/b"));
  const destinations = config.mounts!.map((m) => m.destination);
  assertEquals(destinations.slice(0, -2), template().mounts!.map((m) => m.destination));
  assertEquals(destinations.slice(-2).sort(), ["/b", "/t"]);
});

Deno.test("applyCreateFlags() --read-only sets readonlyfs", () => {
  assertEquals(applyCreateFlags(template(), flags("--read-only")).readonlyfs, true);
  assertEquals(applyCreateFlags(template(), flags()).readonlyfs, template().readonlyfs);
});

Deno.test("applyCreateFlags() takes a relative --rootfs from the current directory", () => {
  const config = applyCreateFlags(template(), flags("--rootfs", "rfs"));
  assertEquals(config.rootfs, `${Deno.cwd()}/rfs`);
});

Deno.test("applyCreateFlags() --hostname and --rootfs replace the config's", () => {
  const config = applyCreateFlags(template(), flags("--hostname", "x", "--rootfs", "/other"));
  assertEquals(config.hostname, "x");
  assertEquals(config.rootfs, "/other");
});

Deno.test("applyCreateFlags() takes --parent-death-signal as a number", () => {
  assertEquals(
    applyCreateFlags(template(), flags("--parent-death-signal", "15")).parent_death_signal,
    15,
  );
  assertEquals(
    applyCreateFlags(template(), flags("--parent-death-signal", "0")).parent_death_signal,
    0,
  );
});

Deno.test("applyCreateFlags() takes --parent-death-signal as a name, with or without SIG", () => {
  for (const [name, number] of [["SIGKILL", 9], ["TERM", 15], ["sigint", 2], ["hup", 1]] as const) {
    assertEquals(
      applyCreateFlags(template(), flags("--parent-death-signal", name)).parent_death_signal,
      number,
      name,
    );
  }
});

Deno.test("applyCreateFlags() knows every standard signal name for --parent-death-signal", () => {
  const names = [
    ["SIGUSR1", 10],
    ["SIGUSR2", 12],
    ["SIGALRM", 14],
    ["SIGCHLD", 17],
    ["SIGCONT", 18],
    ["SIGWINCH", 28],
  ] as const;
  const refused: string[] = [];
  for (const [name, number] of names) {
    try {
      const config = applyCreateFlags(template(), flags("--parent-death-signal", name));
      assertEquals(config.parent_death_signal, number, name);
    } catch (error) {
      if (!(error instanceof UsageError)) throw error;
      refused.push(name);
    }
  }
  assertEquals(refused, [], `refused: ${refused.join(", ")}`);
});

Deno.test("applyCreateFlags() refuses an unknown --parent-death-signal", () => {
  for (const value of ["SIGBOGUS", "nine", "-1", "65"]) {
    assertUsageError(
      () => applyCreateFlags(template(), flags(`--parent-death-signal=${value}`)),
      new RegExp(`^Invalid --parent-death-signal \`${value}\``),
    );
  }
});

Deno.test("applyCreateFlags() leaves parent_death_signal alone without the flag", () => {
  const base = { ...template(), parent_death_signal: 9 };
  assertEquals(applyCreateFlags(base, flags("--hostname", "x")).parent_death_signal, 9);
});

const NAMESPACE_FLAGS = [
  ["net", "NEWNET"],
  ["ipc", "NEWIPC"],
  ["pid", "NEWPID"],
  ["uts", "NEWUTS"],
  ["mnt", "NEWNS"],
] as const;

const types = (config: ConfigInput) => (config.namespaces ?? []).map((ns) => ns.type);

Deno.test("applyCreateFlags() --<ns> host removes the namespace", () => {
  for (const [flag, type] of NAMESPACE_FLAGS) {
    const config = applyCreateFlags(template(), flags(`--${flag}`, "host"));
    assert(!types(config).includes(type), `--${flag} host kept ${type}`);
    assertEquals(types(config).length, types(template()).length - 1, flag);
  }
});

Deno.test("applyCreateFlags() --net host drops the networks and --uts host the hostname", () => {
  const net = applyCreateFlags(template(), flags("--net", "host"));
  assertEquals(net.networks, []);
  const uts = applyCreateFlags(template(), flags("--uts", "host"));
  assertEquals(uts.hostname, "");
  // What the flags make must still be a valid config.
  parseConfig(net);
  parseConfig(uts);
});

Deno.test("applyCreateFlags() --<ns> private and --<ns> '' add the namespace once", () => {
  for (const value of ["private", ""]) {
    for (const [flag, type] of NAMESPACE_FLAGS) {
      const base = template();
      base.namespaces = base.namespaces!.filter((ns) => ns.type !== type);
      const config = applyCreateFlags(base, flags(`--${flag}`, value));
      assertEquals(types(config).filter((t) => t === type).length, 1, `--${flag} '${value}'`);
      const added = config.namespaces!.find((ns) => ns.type === type)!;
      assert(!added.path, `--${flag} '${value}' gave path ${added.path}`);
      // Already there: still once.
      const again = applyCreateFlags(template(), flags(`--${flag}`, value));
      assertEquals(types(again).filter((t) => t === type).length, 1);
    }
  }
});

Deno.test("applyCreateFlags() --net private brings up loopback and --uts private a hostname", () => {
  const base = template();
  base.namespaces = base.namespaces!.filter((ns) => ns.type !== "NEWNET" && ns.type !== "NEWUTS");
  base.networks = [];
  base.hostname = "";
  const config = applyCreateFlags(base, flags("--net", "private", "--uts", "private"));
  assertEquals(config.networks, [{ type: "loopback" }]);
  assertEquals(config.hostname, "nsinit");
  parseConfig(config);
});

Deno.test("applyCreateFlags() --<ns> PATH joins the namespace at that path", () => {
  for (const [flag, type] of NAMESPACE_FLAGS) {
    const path = `/proc/123/ns/${flag}`;
    const config = applyCreateFlags(template(), flags(`--${flag}`, path));
    const matching = config.namespaces!.filter((ns) => ns.type === type);
    assertEquals(matching, [{ type, path }], flag);
  }
});

Deno.test("applyCreateFlags() results pass validation for a typical command line", () => {
  const config = applyCreateFlags(
    template(),
    flags(
      "--hostname",
      "box",
      "--read-only",
      "--bind",
      "/etc:/mnt:ro",
      "--tmpfs",
      "/t",
      "--ipc",
      "/proc/1/ns/ipc",
      "--parent-death-signal",
      "SIGTERM",
    ),
  );
  const parsed = parseConfig(config);
  assertEquals(parsed.hostname, "box");
  assertEquals(parsed.readonlyfs, true);
  assertEquals(parsed.parent_death_signal, 15);
  assertEquals(parsed.namespaces.find((ns) => ns.type === "NEWIPC")?.path, "/proc/1/ns/ipc");
});

Deno.test("applyCreateFlags() --userns-root-uid N adds NEWUSER with the seed's maps for uids and gids", () => {
  const parsed = parseConfig(applyCreateFlags(template(), flags("--userns-root-uid", "1000")));
  assertEquals(parsed.namespaces.filter((ns) => ns.type === "NEWUSER"), [
    { type: "NEWUSER", path: "" },
  ]);
  const maps = [
    { container_id: 0, host_id: 1000, size: 1 },
    { container_id: 1, host_id: 1, size: 999 },
    { container_id: 1001, host_id: 1001, size: 2147482647 },
  ];
  assertEquals([parsed.uid_mappings, parsed.gid_mappings], [maps, maps]);
  assertUsageError(
    () => applyCreateFlags(template(), flags("--userns-root-uid", "root")),
    /--userns-root-uid `root`/,
  );
  assertUsageError(
    () => applyCreateFlags(template(), flags("--userns-root-uid", "0")),
    /--userns-root-uid `0`/,
  );
  assertUsageError(
    () => applyCreateFlags(template(), flags("--userns-root-uid", "5", "--rootless")),
    /not both/,
  );
});

Deno.test("applyCreateFlags() --rootless maps only the caller's own ids", () => {
  const parsed = parseConfig(applyCreateFlags(template(), flags("--rootless")));
  const status = Deno.readTextFileSync("/proc/self/status");
  const uid = Number(/^Uid:\s+\d+\s+(\d+)/m.exec(status)![1]);
  assertEquals(parsed.uid_mappings, [{ container_id: 0, host_id: uid, size: 1 }]);
  assertEquals(parsed.namespaces.some((ns) => ns.type === "NEWUSER"), true);
});

Deno.test("applyCreateFlags() --veth-* add the seed's veth eth0 after loopback", () => {
  const config = applyCreateFlags(
    template(),
    flags(
      "--veth-bridge",
      "br0",
      "--veth-address",
      "10.9.0.2/24",
      "--veth-gateway",
      "10.9.0.1",
      "--veth-mtu",
      "1400",
    ),
  );
  assertEquals(config.networks!.slice(1), [{
    type: "veth",
    name: "eth0",
    bridge: "br0",
    address: "10.9.0.2/24",
    gateway: "10.9.0.1",
    mtu: 1400,
  }]);
  assertEquals(config.networks![0]!.type, "loopback");
  parseConfig(config);
  // With --net private from a template without networks, lo still comes first.
  const base = template();
  base.networks = [];
  const both = applyCreateFlags(base, flags("--net", "private", "--veth-bridge", "br0"));
  assertEquals(both.networks!.map((n) => n.type), ["loopback", "veth"]);
});

Deno.test("applyCreateFlags() refuses --veth-* details without --veth-bridge and a bad --veth-mtu", () => {
  assertThrows(() => applyCreateFlags(template(), flags("--veth-address", "10.9.0.2/24")), {
    name: "UsageError",
    message: "--veth-address needs --veth-bridge",
  });
  assertThrows(
    () => applyCreateFlags(template(), flags("--veth-bridge", "br0", "--veth-mtu", "x")),
    {
      name: "UsageError",
      message: "Invalid --veth-mtu `x`: give a number of bytes",
    },
  );
  // A bad address is the config's to refuse, naming the field.
  const bad = applyCreateFlags(
    template(),
    flags("--veth-bridge", "br0", "--veth-address", "10.9.0.300/24"),
  );
  assertThrows(() => parseConfig(bad), /networks\[1\]\.address/);
});
