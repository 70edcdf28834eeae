/**
 * Device rules on this machine's real cgroups: the cgroup v2 device program
 * (on the hybrid layout's /sys/fs/cgroup/unified, where device programs work
 * although the controllers are v1) and the minimal v1 writes, checked by a
 * shell that moves itself into the test cgroup and opens devices.
 *
 * @module
 */
import { assert, assertEquals, assertMatch } from "../_assert.ts";
import { childProcesses, isRoot } from "../_helpers.ts";
import { SystemError } from "../../lib/errors.ts";
import { Errno } from "../../ffi/_errno.ts";
import { attachDeviceProgram, loadDeviceProgram } from "../../lib/devices/bpf.ts";
import { applyDeviceRulesV1 } from "../../lib/devices/v1.ts";
import { closeFd } from "../../lib/sys/fs.ts";
import { devicePolicy, type DeviceRules } from "../../lib/devices/rules.ts";

const UNIFIED = "/sys/fs/cgroup/unified";
const DEVICES = "/sys/fs/cgroup/devices";
const NAME = `nsinit-test-bpf-${Deno.pid}`;

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

const hasUnified = exists(`${UNIFIED}/cgroup.procs`);
const hasDevices = exists(`${DEVICES}/devices.allow`);

const DEVICE_NODES: Record<string, [number, number]> = {
  "/dev/null": [1, 3],
  "/dev/zero": [1, 5],
  "/dev/full": [1, 7],
};

/**
 * Runs a shell that joins the cgroup (`enter` is the file to write its pid
 * to) and tries to open each device for reading and for writing; returns
 * the outcome per device and access, `ok` or the shell's error text.
 */
async function probeDevices(enter: string): Promise<Record<string, string>> {
  const tries = Object.keys(DEVICE_NODES).flatMap((path) => [
    `(exec 3<${path}) 2>&1 && echo "${path} r ok"`,
    `(exec 3>${path}) 2>&1 && echo "${path} w ok"`,
  ]);
  // The shell writes its pid before it opens anything; only then are its opens checked.
  const script = `echo $$ > ${enter} || exit 9\n${tries.join("\n")}\nexit 0\n`;
  const output = await new Deno.Command("/bin/sh", {
    args: ["-c", script],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(output.stdout);
  assertEquals(output.code, 0, new TextDecoder().decode(output.stderr) + text);
  const outcome: Record<string, string> = {};
  for (const path of Object.keys(DEVICE_NODES)) {
    for (const access of ["r", "w"]) {
      const ok = text.includes(`${path} ${access} ok`);
      const denied = text.split("\n").some((line) =>
        line.includes(
          `cannot ${access === "r" ? "open" : "create"} ${path}: Operation not permitted`,
        )
      );
      outcome[`${path} ${access}`] = ok ? "ok" : denied ? "EPERM" : `? ${text}`;
    }
  }
  return outcome;
}

/** What the policy says about the same opens. */
function expectedOutcome(rules: DeviceRules): Record<string, string> {
  const policy = devicePolicy(rules);
  const outcome: Record<string, string> = {};
  for (const [path, [major, minor]] of Object.entries(DEVICE_NODES)) {
    for (const access of ["r", "w"]) {
      outcome[`${path} ${access}`] = policy.allows("c", major, minor, access) ? "ok" : "EPERM";
    }
  }
  return outcome;
}

function assertNothingLeft(): void {
  assertEquals(
    [UNIFIED, DEVICES].map((root) => `${root}/${NAME}`).filter(exists),
    [],
    "test cgroups left behind",
  );
  assertEquals(childProcesses(), [], "child processes left behind");
}

/** Runs `test` with a fresh test cgroup under `root`, removed afterwards whatever happens. */
async function withCgroup(root: string, test: (dir: string) => Promise<void>): Promise<void> {
  const dir = `${root}/${NAME}`;
  Deno.mkdirSync(dir);
  try {
    await test(dir);
  } finally {
    Deno.removeSync(dir);
  }
  assertNothingLeft();
}

const NULL_ONLY: DeviceRules = {
  allowAll: false,
  allowed: [{ type: "c", major: 1, minor: 3, permissions: "rw" }],
  denied: [{ type: "c", major: 1, minor: 5, permissions: "rwm" }],
};
const ALL_BUT_ZERO: DeviceRules = { ...NULL_ONLY, allowAll: true };

Deno.test({
  name: "a v2 device program allowing only /dev/null makes /dev/zero fail with EPERM",
  ignore: !isRoot || !hasUnified,
  fn: () =>
    withCgroup(UNIFIED, async (dir) => {
      const attached = attachDeviceProgram(dir, NULL_ONLY);
      try {
        assertEquals(await probeDevices(`${dir}/cgroup.procs`), {
          "/dev/null r": "ok",
          "/dev/null w": "ok",
          "/dev/zero r": "EPERM",
          "/dev/zero w": "EPERM",
          "/dev/full r": "EPERM",
          "/dev/full w": "EPERM",
        });
      } finally {
        attached.detach();
      }
    }),
});

Deno.test({
  name: "a v2 device program denying /dev/zero leaves every other device open",
  ignore: !isRoot || !hasUnified,
  fn: () =>
    withCgroup(UNIFIED, async (dir) => {
      const attached = attachDeviceProgram(dir, ALL_BUT_ZERO);
      try {
        assertEquals(await probeDevices(`${dir}/cgroup.procs`), expectedOutcome(ALL_BUT_ZERO));
        assertEquals((await probeDevices(`${dir}/cgroup.procs`))["/dev/zero r"], "EPERM");
      } finally {
        attached.detach();
      }
      attached.detach(); // idempotent
      const after = await probeDevices(`${dir}/cgroup.procs`);
      assertEquals(after["/dev/zero r"], "ok", "detached: nothing is checked any more");
    }),
});

Deno.test({
  name: "the minimal v1 writes decide the kernel's v1 checks as the policy says",
  ignore: !isRoot || !hasDevices,
  fn: async () => {
    for (const rules of [NULL_ONLY, ALL_BUT_ZERO]) {
      await withCgroup(DEVICES, async (dir) => {
        applyDeviceRulesV1(dir, rules);
        const list = Deno.readTextFileSync(`${dir}/devices.list`).trim().split("\n");
        assertEquals(list, rules.allowAll ? ["a *:* rwm"] : ["c 1:3 rw"]);
        assertEquals(await probeDevices(`${dir}/tasks`), expectedOutcome(rules));
      });
    }
  },
});

Deno.test({
  name: "the v1 writes and the v2 program agree on the default container device list",
  ignore: !isRoot || !hasDevices || !hasUnified,
  fn: async () => {
    const { DEFAULT_ALLOWED_DEVICES } = await import("../../lib/config/defaults.ts");
    const rules = { allowAll: false, allowed: DEFAULT_ALLOWED_DEVICES, denied: [] };
    let v1: Record<string, string> = {};
    await withCgroup(DEVICES, async (dir) => {
      applyDeviceRulesV1(dir, rules);
      v1 = await probeDevices(`${dir}/tasks`);
    });
    await withCgroup(UNIFIED, async (dir) => {
      using attached = attachDeviceProgram(dir, rules);
      assertEquals(await probeDevices(`${dir}/cgroup.procs`), v1);
      attached.detach();
    });
    assertEquals(v1, expectedOutcome(rules));
  },
});

Deno.test({
  name: "a program the verifier refuses is a SystemError carrying the verifier's last line",
  ignore: !isRoot,
  fn: () => {
    // `exit` without setting r0.
    const program = new Uint8Array([0x95, 0, 0, 0, 0, 0, 0, 0]);
    let error: unknown;
    try {
      closeFd(loadDeviceProgram(program));
    } catch (caught) {
      error = caught;
    }
    assert(error instanceof SystemError);
    assertEquals(error.op, "bpf BPF_PROG_LOAD");
    assertEquals(error.errno, Errno.EACCES);
    assertMatch(error.message, /verifier: .*R0 !read_ok/);
  },
});

Deno.test({
  name: "attaching to a directory that is not a cgroup fails naming the step",
  ignore: !isRoot,
  fn: () => {
    const dir = Deno.makeTempDirSync({ prefix: "nsinit-test-bpf-" });
    try {
      let error: unknown;
      try {
        attachDeviceProgram(dir, NULL_ONLY);
      } catch (caught) {
        error = caught;
      }
      assert(error instanceof SystemError);
      assertEquals(error.op, "bpf BPF_PROG_ATTACH");
      assertMatch(error.message, /^bpf BPF_PROG_ATTACH `.*`: E[A-Z]+$/);
    } finally {
      Deno.removeSync(dir);
    }
  },
});
