/**
 * The nsinit CLI as users run it: `deno run --allow-ffi cli/nsinit.ts`,
 * in a rootfs holding a container.json, with `--root` in the test's
 * temporary directory. Every test ends by checking that no state
 * directory, cgroup or process is left.
 */
import { assert, assertEquals, assertMatch, assertNotEquals } from "../_assert.ts";
import { namespaceIds, parseConfig, readConfigFile, resolveRootfs } from "../../mod.ts";
import { integration, makeRootfs, tempDir, TEST_CGROUP_PARENT } from "../_helpers.ts";
import {
  CliEnv,
  delay,
  lines,
  type Result,
  type Spawned,
  writeContainerJson,
} from "./fixtures/nsinit_env.ts";

/** A test with its own nsinit env; it must leave nothing behind. */
function cliTest(
  name: string,
  fn: (env: CliEnv) => Promise<void>,
  options: { containerJson?: boolean } = {},
): void {
  Deno.test({
    name,
    ...integration,
    async fn() {
      const env = new CliEnv(options);
      try {
        await fn(env);
        env.assertClean();
      } finally {
        await env.cleanup();
      }
    },
  });
}

/** Asserts a failure printed as exactly one `nsinit: ` line, without a stack trace. */
function assertOneLineError(result: Result, pattern: RegExp, code = 1): void {
  const shown = JSON.stringify(result);
  assertEquals(result.code, code, shown);
  const errors = lines(result.stderr);
  assertEquals(errors.length, 1, `stderr should be one line: ${shown}`);
  assertMatch(errors[0]!, /^nsinit: \S/);
  assertMatch(errors[0]!, pattern);
  assert(!/^\s+at /m.test(result.stderr), `stack trace on stderr: ${shown}`);
  assertEquals(result.stdout, "", shown);
}

function assertSuccess(result: Result): void {
  assertEquals(result.code, 0, JSON.stringify(result));
}

/** The probe's report printed by a run. */
function report(result: Result): Record<string, unknown> {
  assertSuccess(result);
  return JSON.parse(result.stdout);
}

function ns(report: Record<string, unknown>): Record<string, number> {
  return report.ns as Record<string, number>;
}

function procStatus(pid: number): Record<string, string> | null {
  try {
    const fields: Record<string, string> = {};
    for (const line of Deno.readTextFileSync(`/proc/${pid}/status`).split("\n")) {
      const at = line.indexOf(":");
      if (at > 0) fields[line.slice(0, at)] = line.slice(at + 1).trim();
    }
    return fields;
  } catch {
    return null;
  }
}

/** Whether a pid names a live process (a zombie counts as gone). */
function alive(pid: number): boolean {
  const status = procStatus(pid);
  return status !== null && !status.State?.startsWith("Z");
}

async function waitGone(pid: number, ms = 10000): Promise<void> {
  const deadline = Date.now() + ms;
  while (alive(pid)) {
    if (Date.now() > deadline) throw new Error(`Process ${pid} still alive after ${ms} ms`);
    await delay(20);
  }
}

/** Host pids of the descendants of `ancestor` whose command line matches. */
function descendants(ancestor: number, cmdline: RegExp): number[] {
  const parents = new Map<number, number>();
  const commands = new Map<number, string>();
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    const pid = Number(entry.name);
    const status = procStatus(pid);
    if (!status) continue;
    parents.set(pid, Number(status.PPid));
    try {
      commands.set(pid, Deno.readTextFileSync(`/proc/${pid}/cmdline`).replaceAll("\0", " ").trim());
    } catch {
      // exited
    }
  }
  const isDescendant = (pid: number): boolean => {
    for (let p = parents.get(pid); p !== undefined && p > 1; p = parents.get(p)) {
      if (p === ancestor) return true;
    }
    return false;
  };
  return [...commands].filter(([pid, command]) => isDescendant(pid) && cmdline.test(command))
    .map(([pid]) => pid);
}

/** Polls until a descendant of `ancestor` runs the given command line; returns its pid. */
async function waitDescendant(ancestor: number, cmdline: RegExp, ms = 10000): Promise<number> {
  const deadline = Date.now() + ms;
  for (;;) {
    const found = descendants(ancestor, cmdline);
    if (found.length === 1) return found[0]!;
    if (Date.now() > deadline) {
      throw new Error(`No single descendant of ${ancestor} runs ${cmdline}: ${found}`);
    }
    await delay(50);
  }
}

/** The container's first process, found from the outside: the descendant of nsinit that is PID 1 inside. */
function initOf(nsinit: number): number {
  const found = descendants(nsinit, /./).filter((pid) => {
    const nspid = procStatus(pid)?.NSpid?.split(/\s+/) ?? [];
    return nspid.length === 2 && nspid[1] === "1";
  });
  assertEquals(found.length, 1, `PID 1 among the descendants of ${nsinit}: ${found}`);
  return found[0]!;
}

/** TCP ports a process listens on, from its socket inodes and /proc/net/tcp{,6}. */
function listeningPorts(pid: number): number[] {
  const inodes = new Set<string>();
  for (const entry of Deno.readDirSync(`/proc/${pid}/fd`)) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(Deno.readLinkSync(`/proc/${pid}/fd/${entry.name}`));
      if (match) inodes.add(match[1]!);
    } catch {
      // closed meanwhile
    }
  }
  const ports: number[] = [];
  for (const table of [`/proc/${pid}/net/tcp`, `/proc/${pid}/net/tcp6`]) {
    for (const row of Deno.readTextFileSync(table).split("\n").slice(1)) {
      const fields = row.trim().split(/\s+/);
      if (fields.length < 10 || fields[3] !== "0A" || !inodes.has(fields[9]!)) continue;
      ports.push(parseInt(fields[1]!.split(":")[1]!, 16));
    }
  }
  return ports;
}

/** Cgroup directories of a container under the runtime's default parent `nsinit`, on every hierarchy. */
function defaultParentCgroups(env: CliEnv, id: string): void {
  for (const entry of Deno.readDirSync("/sys/fs/cgroup")) {
    if (!entry.isDirectory) continue;
    const parent = `/sys/fs/cgroup/${entry.name}/nsinit`;
    env.cgroupDirs.push(`${parent}/${id}`);
    try {
      Deno.statSync(parent);
    } catch {
      // Not there before the test: the runtime must not leave it either.
      env.sharedCgroupParents.push(parent);
    }
  }
}

// ---- exec: running a command ----------------------------------------------------

cliTest("exec runs the command in a new container and exits with its status", async (env) => {
  const result = await env.run(["exec", "sh", "-c", "exit 3"]);
  assertEquals(result, { code: 3, signal: null, stdout: "", stderr: "" });
  assertEquals((await env.run(["exec", "true"])).code, 0);
  assertEquals((await env.run(["exec", "false"])).code, 1);
});

cliTest("exec passes the container's stdout and stderr through", async (env) => {
  const result = await env.run(["exec", "sh", "-c", "echo out; echo err >&2; echo more"]);
  assertEquals(result, { code: 0, signal: null, stdout: "out\nmore\n", stderr: "err\n" });
});

cliTest("exec passes stdin through to the command", async (env) => {
  const result = await env.run(["exec", "cat"], { input: "line one\nline two\n" });
  assertEquals(result, { code: 0, signal: null, stdout: "line one\nline two\n", stderr: "" });
});

cliTest("exec --id a /bin/sh -c 'echo hi' prints hi and names the container a", async (env) => {
  const result = await env.run(["exec", "--id", "a", "/bin/sh", "-c", "echo hi"]);
  assertEquals(result, { code: 0, signal: null, stdout: "hi\n", stderr: "" });
  // The container (and so its cgroup, named after it) is `a`.
  const cgroup = await env.run(["exec", "--id", "a", "cat", "/proc/self/cgroup"]);
  assertSuccess(cgroup);
  assertMatch(cgroup.stdout, new RegExp(`^\\d+:[^:]*:/${TEST_CGROUP_PARENT}/a$`, "m"));
});

cliTest("exec hands arguments that look like options to the container untouched", async (env) => {
  const ls = await env.run(["exec", "ls", "-la", "/"]);
  assertSuccess(ls);
  assertMatch(ls.stdout, /^-\S+\s+\d+\s+root\s+root\s+\d+ .* container\.json$/m);
  assertMatch(ls.stdout, /^d\S+\s+\d+\s+root\s+root\s+\d+ .* bin$/m);
  const echo = await env.run([
    "exec",
    "--id",
    "x",
    "sh",
    "-c",
    'printf "%s|" "$@"',
    "sh",
    "--id",
    "y",
    "--tty",
    "-u",
    "--",
    "--bogus",
  ]);
  assertEquals(echo, {
    code: 0,
    signal: null,
    stdout: "--id|y|--tty|-u|--|--bogus|",
    stderr: "",
  });
});

cliTest("exec -- ends nsinit's options", async (env) => {
  const result = await env.run(["exec", "--id", "dd", "--", "sh", "-c", "echo after"]);
  assertEquals(result.stdout, "after\n", JSON.stringify(result));
});

cliTest("exec --env adds to the default environment", async (env) => {
  const result = await env.run(["exec", "--env", "A=B", "--env", "C=D E", "probe", "env"]);
  assertSuccess(result);
  const vars = lines(result.stdout);
  for (const expected of ["A=B", "C=D E", "HOSTNAME=nsinit", "TERM=xterm"]) {
    assert(vars.includes(expected), `${expected} not in ${vars.join(" ")}`);
  }
  assert(vars.some((v) => /^PATH=.*(^|:)\/bin(:|$)/.test(v)), vars.join(" "));
});

cliTest("exec --user daemon and --cwd /tmp take effect", async (env) => {
  const long = report(await env.run(["exec", "--user", "daemon", "--cwd", "/tmp", "probe"]));
  assertEquals([long.uid, long.gid, long.cwd], [1, 1, "/tmp"]);
  const short = await env.run(["exec", "-u", "daemon", "id", "-u"]);
  assertEquals(short.stdout, "1\n", JSON.stringify(short));
  const root = report(await env.run(["exec", "probe"]));
  assertEquals([root.uid, root.cwd], [0, "/"]);
});

cliTest(
  "exec --config FILE works from another directory, resolving a relative rootfs against the file's directory",
  async (env) => {
    const dir = tempDir("cli-config-");
    makeRootfs(`${dir}/box`);
    Deno.writeTextFileSync(`${dir}/box/marker`, "in box\n");
    writeContainerJson(`${dir}/box.json`, (config) => {
      config.rootfs = "box";
      config.hostname = "fromfile";
    });
    env.rootfsDirs.push(`${dir}/box`);
    const elsewhere = tempDir("cli-cwd-");
    const absolute = await env.run(
      ["exec", "--config", `${dir}/box.json`, "sh", "-c", "hostname; cat /marker"],
      { cwd: elsewhere },
    );
    assertEquals(absolute, { code: 0, signal: null, stdout: "fromfile\nin box\n", stderr: "" });
    // A relative --config is taken from the current directory; env.rootfs's
    // container.json is not in the way.
    const relative = await env.run(["exec", "--config", "box.json", "cat", "/marker"], {
      cwd: dir,
    });
    assertEquals(relative.stdout, "in box\n", JSON.stringify(relative));
    const inRootfs = await env.run(
      ["exec", "--config", `${dir}/box.json`, "cat", "/marker"],
      { cwd: env.rootfs },
    );
    assertEquals(inRootfs.stdout, "in box\n", JSON.stringify(inRootfs));
  },
);

cliTest(
  "exec without any container.json uses the template with the current directory as rootfs",
  async (env) => {
    Deno.writeTextFileSync(`${env.rootfs}/marker`, "template rootfs\n");
    const id = `tmpl-${Deno.pid}`;
    defaultParentCgroups(env, id);
    const result = await env.run([
      "exec",
      "--id",
      id,
      "sh",
      "-c",
      "hostname; cat /marker; cat /proc/self/cgroup",
    ]);
    assertSuccess(result);
    const [hostname, marker, ...cgroups] = lines(result.stdout);
    assertEquals([hostname, marker], ["nsinit", "template rootfs"]);
    assert(cgroups.some((line) => line.endsWith(`:/nsinit/${id}`)), cgroups.join("\n"));
  },
  { containerJson: false },
);

// ---- exec: create flags --------------------------------------------------------

cliTest("exec --hostname sets the container's hostname", async (env) => {
  const result = await env.run(["exec", "--hostname", "x", "hostname"]);
  assertEquals(result.stdout, "x\n", JSON.stringify(result));
});

cliTest("exec --read-only makes the root filesystem read-only", async (env) => {
  assertEquals(report(await env.run(["exec", "--read-only", "probe"])).root_is_readonly, true);
  const touch = await env.run(["exec", "--read-only", "touch", "/x"]);
  assertNotEquals(touch.code, 0);
  assertMatch(touch.stderr, /Read-only file system/);
  assertEquals(report(await env.run(["exec", "probe"])).root_is_readonly, false);
});

cliTest(
  "exec --bind src:dst:ro and src:dst bind host directories read-only and read-write",
  async (env) => {
    const ro = tempDir("cli-bind-ro-");
    const rw = tempDir("cli-bind-rw-");
    Deno.writeTextFileSync(`${ro}/file`, "from host\n");
    const result = await env.run([
      "exec",
      "--bind",
      `${ro}:/mnt:ro`,
      "--bind",
      `${rw}:/data`,
      "sh",
      "-c",
      "cat /mnt/file; touch /mnt/new 2>/dev/null && echo ro-writable; echo written > /data/out",
    ]);
    assertEquals(result, { code: 0, signal: null, stdout: "from host\n", stderr: "" });
    assertEquals([...Deno.readDirSync(ro)].map((e) => e.name), ["file"]);
    assertEquals(Deno.readTextFileSync(`${rw}/out`), "written\n");
  },
);

cliTest("exec --tmpfs /t mounts a writable tmpfs at /t", async (env) => {
  const result = await env.run([
    "exec",
    "--tmpfs",
    "/t",
    "sh",
    "-c",
    "grep ' /t ' /proc/mounts; echo x > /t/f && cat /t/f",
  ]);
  assertSuccess(result);
  const [mount, content] = lines(result.stdout);
  assertMatch(mount!, /^tmpfs \/t tmpfs rw,nosuid,nodev\b/);
  assertEquals(content, "x");
  // Nothing of it lands in the rootfs.
  assert(![...Deno.readDirSync(env.rootfs)].some((e) => e.name === "t" && !e.isDirectory));
});

cliTest("exec --net host shares the host's network namespace and interfaces", async (env) => {
  const host = namespaceIds();
  const shared = report(await env.run(["exec", "--net", "host", "probe"]));
  assertEquals(ns(shared).net, host.net);
  assertNotEquals(ns(shared).uts, host.uts);
  const own = report(await env.run(["exec", "probe"]));
  assertNotEquals(ns(own).net, host.net);
  const devices = (text: string) =>
    lines(text).slice(2).map((line) => line.trim().split(":")[0]).sort();
  const before = devices(Deno.readTextFileSync("/proc/net/dev"));
  const inside = devices((await env.run(["exec", "--net", "host", "cat", "/proc/net/dev"])).stdout);
  const after = devices(Deno.readTextFileSync("/proc/net/dev"));
  // Interfaces that other tests add or remove meanwhile do not count.
  const stable = before.filter((name) => after.includes(name));
  assert(stable.length > 1, `host interfaces: ${stable}`);
  assertEquals(stable.filter((name) => !inside.includes(name)), [], `inside: ${inside}`);
});

cliTest("exec --ipc PATH joins the ipc namespace at that path", async (env) => {
  const first = env.spawn(["exec", "--id", "ipc-a", "probe", "sleep", "0"]);
  const state = await env.waitRunning("ipc-a");
  const init = state.init_process_pid as number;
  const theirs = Deno.statSync(`/proc/${init}/ns/ipc`).ino;
  const joined = report(
    await env.run(["exec", "--id", "ipc-b", "--ipc", `/proc/${init}/ns/ipc`, "probe"]),
  );
  assertEquals(ns(joined).ipc, theirs);
  assertNotEquals(ns(joined).ipc, namespaceIds().ipc);
  assertNotEquals(ns(joined).pid, Deno.statSync(`/proc/${init}/ns/pid`).ino);
  Deno.kill(init, "SIGKILL");
  assertEquals((await first.wait()).code, 137);
});

// ---- exec: joining a running container -----------------------------------------

cliTest(
  "exec with the id of a running container joins it: ps shows the first process as PID 1",
  async (env) => {
    const first = env.spawn(["exec", "--id", "j", "probe", "sleep", "0"]);
    await env.waitRunning("j");
    const ps = await env.run(["exec", "--id", "j", "ps"]);
    assertEquals(ps.code, 0, JSON.stringify(ps));
    const rows = lines(ps.stdout);
    assertEquals(rows.length, 3, ps.stdout);
    assertMatch(rows[0]!, /^\s*PID\s+USER\s+.*COMMAND$/);
    assertMatch(rows[1]!, /^\s*1\s+root\s+.*\bprobe sleep 0$/);
    assertMatch(rows[2]!, /^\s*\d+\s+root\s+.*\bps$/);
    // The joining nsinit left; the first one and its container go on.
    await delay(200);
    assert(
      !first.exited,
      `the first nsinit exited: ${JSON.stringify(first.stdout + first.stderr)}`,
    );
    assertEquals((await env.waitRunning("j")).id, "j");
    const again = await env.run(["exec", "--id", "j", "sh", "-c", "echo $$; cat /proc/1/cmdline"]);
    assertEquals(lines(again.stdout)[1], "probe\0sleep\x000\0");
    Deno.kill(initOf(first.pid), "SIGKILL");
    assertEquals((await first.wait()).code, 137);
  },
);

cliTest(
  "state --id prints the running container's state: status running and its init's host pid",
  async (env) => {
    const first = env.spawn(["exec", "--id", "st", "probe", "sleep", "0"]);
    await env.waitRunning("st");
    const result = await env.run(["state", "--id", "st"]);
    assertEquals([result.code, result.stderr], [0, ""]);
    const state = JSON.parse(result.stdout);
    assertEquals(state.status, "running");
    assertEquals(state.id, "st");
    const init = initOf(first.pid);
    assertEquals(state.init_process_pid, init);
    assertEquals(state.config.rootfs, env.rootfs);
    Deno.kill(init, "SIGKILL");
    assertEquals((await first.wait()).code, 137);
  },
);

cliTest(
  "when the container's PID 1 is killed, its nsinit exits 137, joined processes die, and the container is removed",
  async (env) => {
    const first = env.spawn(["exec", "--id", "k", "sh", "-c", "sleep 1000; echo not reached"]);
    const state = await env.waitRunning("k");
    const init = state.init_process_pid as number;
    assertEquals(init, initOf(first.pid));
    const joined = env.spawn(["exec", "--id", "k", "sh", "-c", "echo joined; sleep 2000"]);
    await joined.waitFor(/^joined$/m);
    const joinedSleep = await waitDescendant(joined.pid, /^sleep 2000$/);
    assert(!first.exited && !joined.exited);

    Deno.kill(init, "SIGKILL");
    const firstResult = await first.wait();
    assertEquals([firstResult.code, firstResult.stdout, firstResult.stderr], [137, "", ""]);
    const joinedResult = await joined.wait();
    assertEquals(joinedResult.code, 137, JSON.stringify(joinedResult));
    await waitGone(joinedSleep);
    const gone = await env.run(["state", "--id", "k"]);
    assertOneLineError(gone, /^nsinit: Container `k` does not exist/);
  },
);

cliTest(
  "after nsinit is SIGKILLed its container dies with it, and the next exec of that id runs and cleans up",
  async (env) => {
    const first = env.spawn(["exec", "--id", "r", "probe", "sleep", "0"]);
    const state = await env.waitRunning("r");
    const init = state.init_process_pid as number;
    first.kill("SIGKILL");
    assertEquals((await first.wait()).signal, "SIGKILL");
    // minimal.json's parent_death_signal is SIGKILL.
    await waitGone(init);
    const stopped = await env.run(["state", "--id", "r"]);
    assertEquals(JSON.parse(stopped.stdout).status, "stopped", JSON.stringify(stopped));
    const again = await env.run(["exec", "--id", "r", "echo", "again"]);
    assertEquals(again, { code: 0, signal: null, stdout: "again\n", stderr: "" });
    // env.assertClean() then checks that no state directory or cgroup is left.
  },
);

// ---- config --------------------------------------------------------------------

cliTest("config prints the config exec would use as JSON that parseConfig accepts", async (env) => {
  const result = await env.run(["config"]);
  assertEquals([result.code, result.stderr], [0, ""]);
  const json = JSON.parse(result.stdout);
  const config = parseConfig(resolveRootfs(json, env.rootfs));
  assertEquals(config.rootfs, env.rootfs);
  assertEquals(config.cgroups.parent, TEST_CGROUP_PARENT);
  assertEquals(config, readConfigFile(`${env.rootfs}/container.json`));
});

cliTest("config --file writes the config to a file instead of stdout", async (env) => {
  const printed = await env.run(["config"]);
  const out = `${tempDir("cli-out-")}/out.json`;
  const written = await env.run(["config", "--file", out]);
  assertEquals(written, { code: 0, signal: null, stdout: "", stderr: "" });
  assertEquals(JSON.parse(Deno.readTextFileSync(out)), JSON.parse(printed.stdout));
  const short = await env.run(["config", "-f", "short.json"]);
  assertEquals(short.code, 0, JSON.stringify(short));
  assertEquals(
    JSON.parse(Deno.readTextFileSync(`${env.rootfs}/short.json`)),
    JSON.parse(printed.stdout),
  );
});

cliTest("config applies the create flags", async (env) => {
  const result = await env.run([
    "config",
    "--hostname",
    "x",
    "--read-only",
    "--tmpfs",
    "/t",
    "--bind",
    "/etc:/mnt:ro",
    "--net",
    "host",
    "--ipc",
    "/proc/1/ns/ipc",
    "--parent-death-signal",
    "15",
  ]);
  assertEquals([result.code, result.stderr], [0, ""]);
  const config = parseConfig(JSON.parse(result.stdout));
  assertEquals(config.hostname, "x");
  assertEquals(config.readonlyfs, true);
  assertEquals(config.parent_death_signal, 15);
  assertEquals(config.networks, []);
  const types = config.namespaces.map((n) => n.type);
  assert(!types.includes("NEWNET"), types.join(" "));
  assertEquals(config.namespaces.find((n) => n.type === "NEWIPC")?.path, "/proc/1/ns/ipc");
  const mounts = config.mounts.map((m) => `${m.device} ${m.source} ${m.destination}`);
  assert(mounts.includes("tmpfs tmpfs /t"), mounts.join("; "));
  assert(mounts.includes("bind /etc /mnt"), mounts.join("; "));
});

cliTest("config output fed back with exec --config runs that container", async (env) => {
  const printed = await env.run(["config", "--hostname", "fedback"]);
  assertSuccess(printed);
  const dir = tempDir("cli-fed-");
  Deno.writeTextFileSync(`${dir}/edited.json`, printed.stdout);
  const result = await env.run(["exec", "--config", `${dir}/edited.json`, "hostname"], {
    cwd: dir,
  });
  assertEquals(result, { code: 0, signal: null, stdout: "fedback\n", stderr: "" });
});

cliTest(
  "config without container.json prints the template with the current directory as rootfs",
  async (env) => {
    const result = await env.run(["config"]);
    assertEquals([result.code, result.stderr], [0, ""]);
    const config = parseConfig(JSON.parse(result.stdout));
    assertEquals(config.rootfs, env.rootfs);
    assertEquals(config.hostname, "nsinit");
    assertEquals(config.cgroups.parent, "nsinit");
    assertEquals(config.namespaces.map((n) => n.type).sort(), [
      "NEWIPC",
      "NEWNET",
      "NEWNS",
      "NEWPID",
      "NEWUTS",
    ]);
  },
  { containerJson: false },
);

// ---- state and demo ------------------------------------------------------------

cliTest("state of a missing id prints one line and exits 1", async (env) => {
  assertOneLineError(await env.run(["state", "--id", "nope"]), /^nsinit: Container `nope` /);
});

cliTest(
  "demo runs a container on the built-in rootfs, shows PID 1 and five own namespaces, and leaves no container",
  async (env) => {
    const demo = env.spawn(["demo"]);
    const id = `demo-${demo.pid}`;
    defaultParentCgroups(env, id);
    const result = await demo.wait(60000);
    assertEquals([result.code, result.stderr], [0, ""], result.stdout);
    const out = lines(result.stdout);
    assertMatch(
      out[0]!,
      new RegExp(`^Container ${id} on the built-in root filesystem ${env.root}/`),
    );
    assert(out.some((l) => /^\s*first pid\s+1 inside/.test(l)), result.stdout);
    for (const name of ["mnt", "uts", "ipc", "pid", "net"]) {
      assert(out.some((l) => new RegExp(`^\\s*${name}\\s+\\d+\\s+\\d+\\s+own$`).test(l)), name);
    }
    // Only the built-in rootfs (a cache) may stay under --root.
    assertEquals([...Deno.readDirSync(env.root)].map((e) => e.name), [".rootfs"]);
  },
  { containerJson: false },
);

// ---- errors --------------------------------------------------------------------

cliTest("an unknown command is one line and exit 1", async (env) => {
  assertOneLineError(await env.run(["bogus"]), /Unknown command `bogus`/);
});

cliTest("an unknown option is one line and exit 1", async (env) => {
  assertOneLineError(await env.run(["exec", "--bogus", "x"]), /Unknown option `--bogus`/);
  assertOneLineError(await env.run(["--bogus", "exec", "x"]), /Unknown option `--bogus`/);
});

cliTest("exec without a command is one line and exit 1", async (env) => {
  assertOneLineError(await env.run(["exec"]), /command/);
  assertOneLineError(await env.run(["exec", "--id", "x"]), /command/);
  assertOneLineError(await env.run(["exec", "--id"]), /--id/);
});

cliTest("an invalid config file is one line and exit 1: bad JSON, unknown key", async (env) => {
  const dir = tempDir("cli-bad-");
  Deno.writeTextFileSync(`${dir}/bad.json`, '{"rootfs": ".",');
  assertOneLineError(
    await env.run(["exec", "--config", `${dir}/bad.json`, "true"]),
    /bad\.json.*JSON|JSON.*bad\.json/,
  );
  writeContainerJson(`${dir}/unknown.json`, (config) => {
    config.bogus_key = 1;
  });
  assertOneLineError(
    await env.run(["exec", "--config", `${dir}/unknown.json`, "true"]),
    /bogus_key/,
  );
  // The same through ./container.json, and through `config`.
  Deno.writeTextFileSync(`${env.rootfs}/container.json`, "{ nope");
  assertOneLineError(await env.run(["exec", "true"]), /JSON/);
  assertOneLineError(await env.run(["config"]), /JSON/);
  assertOneLineError(
    await env.run(["exec", "--config", `${dir}/missing.json`, "true"]),
    /missing\.json/,
  );
});

cliTest("a bad create flag is one line and exit 1", async (env) => {
  assertOneLineError(await env.run(["exec", "--bind", "/a", "true"]), /--bind `\/a`/);
  assertOneLineError(
    await env.run(["exec", "--ipc", "/proc/1/ns/ipcc", "true"]),
    /\/proc\/1\/ns\/ipcc/,
  );
  assertOneLineError(await env.run(["exec", "--user", "nosuch", "true"]), /nosuch/);
});

cliTest("a missing executable exits 127 with one line", async (env) => {
  assertOneLineError(await env.run(["exec", "/no/such/program"]), /\/no\/such\/program/, 127);
  assertOneLineError(await env.run(["exec", "nosuchprogram"]), /nosuchprogram/, 127);
});

cliTest("a file that cannot be executed exits 126 with one line", async (env) => {
  Deno.writeTextFileSync(`${env.rootfs}/notexec`, "#!/bin/sh\necho ran\n", { mode: 0o644 });
  Deno.chmodSync(`${env.rootfs}/notexec`, 0o644);
  assertOneLineError(await env.run(["exec", "/notexec"]), /\/notexec/, 126);
  assertOneLineError(await env.run(["exec", "/tmp"]), /\/tmp/, 126);
});

cliTest(
  "a config asking for a freezer state at start is refused with one line naming it",
  async (env) => {
    writeContainerJson(`${env.rootfs}/container.json`, (config) => {
      (config.cgroups as Record<string, unknown>).freezer = "FROZEN";
    });
    assertOneLineError(await env.run(["exec", "true"]), /cgroups\.freezer/);
  },
);

// ---- signals -------------------------------------------------------------------

/** Starts `probe trap` and waits until it is ready. */
async function trap(env: CliEnv, signals: number[]): Promise<Spawned> {
  const process = env.spawn(["exec", "--id", "trap", "probe", "trap", ...signals.map(String)]);
  await process.waitFor(/^ready$/m);
  await delay(300);
  return process;
}

cliTest(
  "SIGUSR2 then SIGTERM sent to nsinit are forwarded to the container's process",
  async (env) => {
    const process = await trap(env, [15, 12]);
    process.kill("SIGUSR2");
    await process.waitFor(/^signal 12$/m);
    process.kill("SIGTERM");
    const result = await process.wait();
    assertEquals(lines(result.stdout), ["ready", "signal 12", "signal 15"]);
    assertEquals(result.code, 0);
  },
);

cliTest("SIGINT, SIGHUP, SIGQUIT and SIGUSR2 sent to nsinit are forwarded too", async (env) => {
  const process = await trap(env, [2, 1, 3, 12, 15]);
  for (
    const [signal, number] of [["SIGINT", 2], ["SIGHUP", 1], ["SIGQUIT", 3], [
      "SIGUSR2",
      12,
    ]] as const
  ) {
    process.kill(signal);
    await process.waitFor(new RegExp(`^signal ${number}$`, "m"));
  }
  process.kill("SIGTERM");
  const result = await process.wait();
  assertEquals(lines(result.stdout), [
    "ready",
    "signal 2",
    "signal 1",
    "signal 3",
    "signal 12",
    "signal 15",
  ]);
  assertEquals([result.code, result.stderr], [0, ""]);
});

cliTest(
  "a SIGUSR1 is ignored by nsinit: no debugger opens and it is not forwarded",
  async (env) => {
    // Deno 2.9.2+ would open a V8 inspector on SIGUSR1; nsinit ignores the
    // signal outright, early (before Deno's handler) and late (after it).
    const process = await trap(env, [15, 10]);
    process.kill("SIGUSR1");
    // Long-running containers get signals at any time: also past Deno's start-up grace period.
    await delay(1500);
    process.kill("SIGUSR1");
    await delay(500);
    const ports = listeningPorts(process.pid);
    process.kill("SIGTERM");
    const result = await process.wait();
    assertEquals(result.code, 0);
    assertEquals(
      { stdout: lines(result.stdout), stderr: result.stderr, listening: ports },
      { stdout: ["ready", "signal 15"], stderr: "", listening: [] },
      "nsinit runs as root: an inspector on SIGUSR1 lets whoever can signal it run code as root",
    );
  },
);

cliTest(
  "a signal sent to nsinit as soon as the container's process runs is forwarded, not fatal to nsinit",
  async (env) => {
    // Without a pid namespace the container's shell sees nsinit (its parent,
    // as the init is cloned with CLONE_PARENT) and signals it first thing.
    // The window is short, so try a few times: a correct nsinit never loses.
    const outcomes = [];
    for (let round = 1; round <= 5; round++) {
      const process = env.spawn([
        "exec",
        "--id",
        `early-${round}`,
        "--pid",
        "host",
        "sh",
        "-c",
        'trap "echo got INT; exit 5" INT; echo $PPID; kill -INT $PPID; sleep 2 & wait',
      ]);
      const result = await process.wait();
      const [parent, ...rest] = lines(result.stdout);
      assertEquals(parent, String(process.pid), JSON.stringify(result));
      outcomes.push({
        code: result.code,
        signal: result.signal,
        stdout: rest,
        stderr: result.stderr,
      });
    }
    const expected = { code: 5, signal: null, stdout: ["got INT"], stderr: "" };
    assertEquals(outcomes, [expected, expected, expected, expected, expected]);
  },
);
