/**
 * The process's security settings on a real kernel: the seccomp filter (the
 * default profile and custom ones), no_new_privs, oom_score_adj, LSM labels
 * on a host without an LSM, the capability sets seen from outside and
 * inside, and the default masked and read-only paths.
 */
import { assert, assertEquals, assertMatch } from "../_assert.ts";
import { type ConfigInput, ContainerError } from "../../mod.ts";
import { capabilityNumber } from "../../lib/config/mod.ts";
import { ConfigError } from "../../lib/errors.ts";
import type { SeccompProfile } from "../../lib/seccomp/mod.ts";
import {
  assertNoLeftovers,
  integration,
  probeReport,
  runContainer,
  startSleeper,
  testConfig,
  testFactory,
  testStateDirs,
  uniqueId,
} from "../_helpers.ts";

/** Fields of /proc/<pid>/status. */
function status(pid: number | "self"): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const line of Deno.readTextFileSync(`/proc/${pid}/status`).split("\n")) {
    const colon = line.indexOf(":");
    if (colon > 0) fields[line.slice(0, colon)] = line.slice(colon + 1).trim();
  }
  return fields;
}

/** The error `fn` rejects with; fails when it resolves or rejects with another kind. */
async function caught<E extends Error>(
  fn: () => Promise<unknown>,
  kind: new (...args: never[]) => E,
): Promise<E> {
  try {
    await fn();
  } catch (error) {
    assert(error instanceof kind, `expected a ${kind.name}, got ${error}`);
    return error;
  }
  throw new Error(`expected a ${kind.name}, but it succeeded`);
}

const sh = (config: ConfigInput, script: string) =>
  runContainer(config, { args: ["sh", "-c", script] });

/** Runs `fn` with a sleeping container and its init's pid; stops it after. */
async function withSleeper(
  config: ConfigInput,
  fn: (pid: number, container: Awaited<ReturnType<typeof startSleeper>>) => Promise<void> | void,
): Promise<void> {
  const sleeper = await startSleeper(config);
  try {
    await fn(sleeper.pid, sleeper);
  } finally {
    await sleeper.stop();
  }
}

// ---- seccomp: the default profile ------------------------------------------------

Deno.test({
  name: "start() installs the default seccomp profile: unshare and mount fail with EPERM",
  ...integration,
  async fn() {
    const result = await sh(
      testConfig(),
      "unshare -U true; echo unshare=$?; unshare -m true; echo unshare_mnt=$?; " +
        "mount -t tmpfs none /mnt; echo mount=$?; echo ok > /tmp/x; echo write=$?",
    );
    assertEquals(result.code, 0, result.stderr);
    assertEquals(result.stdout, "unshare=1\nunshare_mnt=1\nmount=1\nwrite=0\n");
    assertMatch(result.stderr, /unshare\(0x10000000\): Operation not permitted/);
    assertMatch(result.stderr, /unshare\(0x20000\): Operation not permitted/);
    assertNoLeftovers();
  },
});

Deno.test({
  name: "start() with the default profile lets SYS_ADMIN unshare, as Docker's profile does",
  ...integration,
  async fn() {
    const config = testConfig();
    const result = await sh(
      { ...config, capabilities: [...config.capabilities!, "SYS_ADMIN"] },
      "unshare -m true; echo unshare_mnt=$?",
    );
    assertEquals(result.stdout, "unshare_mnt=0\n", result.stderr);
    assertNoLeftovers();
  },
});

Deno.test({
  name:
    "start() shows Seccomp: 2 and NoNewPrivs: 1 from outside, for the init and a joined process",
  ...integration,
  async fn() {
    await withSleeper(testConfig(), async (pid, { container }) => {
      const init = status(pid);
      assertEquals([init.Seccomp, init.NoNewPrivs, init.Seccomp_filters], ["2", "1", "1"]);
      const joined = await container.start({
        args: ["/bin/probe", "sleep", "0"],
        stdin: "null",
        stdout: "null",
        stderr: "null",
      });
      try {
        const fields = status(joined.pid);
        assertEquals([fields.Seccomp, fields.NoNewPrivs, fields.Seccomp_filters], ["2", "1", "1"]);
      } finally {
        joined.signal("SIGKILL");
        await joined.wait();
      }
    });
    assertNoLeftovers();
  },
});

Deno.test({
  name: "start() without seccomp or no_new_privileges leaves both off",
  ...integration,
  async fn() {
    const config = { ...testConfig(), no_new_privileges: false };
    delete config.seccomp;
    await withSleeper(config, (pid) => {
      const fields = status(pid);
      assertEquals([fields.Seccomp, fields.NoNewPrivs], ["0", "0"]);
    });
    assertNoLeftovers();
  },
});

Deno.test({
  name: "start() sets no_new_privs alone when asked, and a filter needs it only without SYS_ADMIN",
  ...integration,
  async fn() {
    const base = testConfig();
    const nnpOnly = { ...base, no_new_privileges: true };
    delete nnpOnly.seccomp;
    await withSleeper(nnpOnly, (pid) => {
      assertEquals([status(pid).Seccomp, status(pid).NoNewPrivs], ["0", "1"]);
    });
    // A process that keeps SYS_ADMIN may install its filter without no_new_privs.
    const admin = {
      ...base,
      no_new_privileges: false,
      capabilities: [...base.capabilities!, "SYS_ADMIN"],
    };
    await withSleeper(admin, (pid) => {
      assertEquals([status(pid).Seccomp, status(pid).NoNewPrivs], ["2", "0"]);
    });
    // Without SYS_ADMIN the kernel requires no_new_privs, so it is set whatever the config says.
    await withSleeper({ ...base, no_new_privileges: false }, (pid) => {
      assertEquals([status(pid).Seccomp, status(pid).NoNewPrivs], ["2", "1"]);
    });
    assertNoLeftovers();
  },
});

Deno.test({
  name: "start() with no_new_privs keeps a setuid-root program's euid at the user's",
  ...integration,
  async fn() {
    // A setuid-root probe in a private rootfs, run as uid 1000 (busybox would drop it itself).
    const { makeRootfs, tempDir } = await import("../_helpers.ts");
    const rootfs = makeRootfs(tempDir("rootfs-"));
    Deno.chmodSync(rootfs, 0o755);
    Deno.copyFileSync(`${rootfs}/bin/probe`, `${rootfs}/bin/probe-suid`);
    Deno.chmodSync(`${rootfs}/bin/probe-suid`, 0o4755);
    const euid = async (config: ConfigInput) => {
      const report = await probeReport(config, { args: ["/bin/probe-suid"], user: "1000" });
      return [report.uid, report.euid];
    };
    assertEquals(await euid(testConfig({ rootfs })), [1000, 1000]);
    // The default profile alone sets no_new_privs too (the process lacks SYS_ADMIN).
    assertEquals(await euid({ ...testConfig({ rootfs }), no_new_privileges: false }), [1000, 1000]);
    // With neither, the setuid bit takes effect: the check above can tell.
    const open = { ...testConfig({ rootfs }), no_new_privileges: false };
    delete open.seccomp;
    assertEquals(await euid(open), [1000, 0]);
    assertNoLeftovers();
  },
});

// ---- seccomp: custom profiles -----------------------------------------------------

/** ftruncate's length (argument 1) is refused with ENOSPC when exactly 2^32 + 1. */
const LENGTH_PROFILE: SeccompProfile = {
  defaultAction: "SCMP_ACT_ALLOW",
  syscalls: [
    {
      names: ["ftruncate", "truncate"],
      action: "SCMP_ACT_ERRNO",
      errnoRet: 28,
      args: [{ index: 1, value: 2 ** 32 + 1, op: "SCMP_CMP_EQ" }],
    },
    { names: ["mkdir", "mkdirat"], action: "SCMP_ACT_ERRNO", errnoRet: 95 },
  ],
};

Deno.test({
  name:
    "start() applies a custom profile: errnoRet, and an argument compared on both 32-bit halves",
  ...integration,
  async fn() {
    const result = await sh(
      { ...testConfig(), seccomp: LENGTH_PROFILE },
      // 4294967297 = high 1, low 1: refused. 1 (low half equal) and 8589934593 (high 2) pass.
      "for n in 4294967297 1 8589934593; do truncate -s $n /tmp/f$n; echo $n=$?; done; " +
        "rm -f /tmp/f*; mkdir /tmp/d; echo mkdir=$?",
    );
    assertEquals(result.stdout, "4294967297=1\n1=0\n8589934593=0\nmkdir=1\n", result.stderr);
    assertMatch(result.stderr, /No space left on device/);
    assertMatch(result.stderr, /not supported/i);
    assertNoLeftovers();
  },
});

Deno.test({
  name: "start() with a SCMP_ACT_KILL rule: the process dies of SIGSYS on that call",
  ...integration,
  async fn() {
    const profile: SeccompProfile = {
      defaultAction: "SCMP_ACT_ALLOW",
      syscalls: [{ names: ["mkdir", "mkdirat"], action: "SCMP_ACT_KILL" }],
    };
    const killed = await runContainer({ ...testConfig(), seccomp: profile }, {
      args: ["mkdir", "/tmp/never"],
    });
    assertEquals(killed.code, 128 + 31, killed.stderr);
    // Other calls are untouched.
    const fine = await runContainer({ ...testConfig(), seccomp: profile }, {
      args: ["/bin/probe", "exit", "7"],
    });
    assertEquals(fine.code, 7, fine.stderr);
    assertNoLeftovers();
  },
});

Deno.test({
  name: "create() refuses a bad seccomp profile with the field's path, and makes nothing",
  ...integration,
  async fn() {
    const factory = await testFactory();
    const bad = async (seccomp: unknown, path: string, message: RegExp) => {
      const error = await caught(
        () => factory.create(uniqueId("bad"), { ...testConfig(), seccomp } as ConfigInput),
        ConfigError,
      );
      const issue = error.issues.find((i) => i.path === path);
      assert(issue, `no issue at ${path}: ${error.message}`);
      assertMatch(issue.message, message);
    };
    await bad({ defaultAction: "SCMP_ACT_ALOW" }, "seccomp.defaultAction", /SCMP_ACT_ALLOW/);
    await bad(
      {
        defaultAction: "SCMP_ACT_ERRNO",
        syscalls: [{ names: ["read"], action: "SCMP_ACT_ALLOW" }, {
          names: ["write"],
          action: "SCMP_ACT_ERRNO",
          args: [{ index: 6, value: 1, op: "SCMP_CMP_EQ" }],
        }],
      },
      "seccomp.syscalls[1].args[0].index",
      /0 to 5/,
    );
    await bad(
      { defaultAction: "SCMP_ACT_ALLOW", architectures: ["SCMP_ARCH_X86_65"] },
      "seccomp.architectures[0]",
      /SCMP_ARCH_X86_64/,
    );
    await bad("strict", "seccomp", /`default`/);
    await bad({ defaultAction: "SCMP_ACT_ALLOW", sycalls: [] }, "seccomp.sycalls", /syscalls/);
    assertEquals(testStateDirs(), []);
    assertNoLeftovers();
  },
});

// ---- oom_score_adj ----------------------------------------------------------------

/** Whether this process may lower an oom_score_adj (CAP_SYS_RESOURCE, bit 24). */
const canLower = (BigInt(`0x${status("self").CapEff}`) & (1n << 24n)) !== 0n;

Deno.test({
  name: "start() sets oom_score_adj, seen from outside, for the init and a joined process",
  ...integration,
  async fn() {
    await withSleeper({ ...testConfig(), oom_score_adj: 512 }, async (pid, { container }) => {
      assertEquals(Deno.readTextFileSync(`/proc/${pid}/oom_score_adj`).trim(), "512");
      const joined = await container.start({
        args: ["cat", "/proc/self/oom_score_adj"],
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      });
      const output = await joined.output();
      assertEquals(new TextDecoder().decode(output.stdout), "512\n");
    });
    // Left out, the process has the runtime's own value.
    await withSleeper(testConfig(), (pid) => {
      assertEquals(
        Deno.readTextFileSync(`/proc/${pid}/oom_score_adj`),
        Deno.readTextFileSync("/proc/self/oom_score_adj"),
      );
    });
    assertNoLeftovers();
  },
});

Deno.test({
  name: "start() with a lower oom_score_adj than CAP_SYS_RESOURCE allows fails clearly",
  ...integration,
  ignore: integration.ignore || canLower,
  async fn() {
    const factory = await testFactory();
    const container = await factory.create(uniqueId("oom"), {
      ...testConfig(),
      oom_score_adj: -500,
    });
    try {
      const error = await caught(() => container.start({ args: ["true"] }), Error);
      assertEquals(
        error.message,
        "write `/proc/self/oom_score_adj` (-500): lowering oom_score_adj needs CAP_SYS_RESOURCE: EACCES",
      );
    } finally {
      await container.destroy();
    }
    assertNoLeftovers();
  },
});

// ---- LSM labels ---------------------------------------------------------------------

const lsms = {
  apparmor: (() => {
    try {
      return Deno.readTextFileSync("/sys/module/apparmor/parameters/enabled").trim() === "Y";
    } catch {
      return false;
    }
  })(),
  selinux: (() => {
    try {
      Deno.statSync("/sys/fs/selinux/enforce");
      return true;
    } catch {
      return false;
    }
  })(),
};

for (
  const [field, value, lsm] of [
    ["apparmor_profile", "docker-default", "apparmor"],
    ["process_label", "system_u:system_r:svirt_lxc_net_t:s0:c1,c2", "selinux"],
    ["mount_label", "system_u:object_r:svirt_sandbox_file_t:s0:c1,c2", "selinux"],
  ] as const
) {
  Deno.test({
    name:
      `start() with ${field} on a host without its LSM fails naming the field, and leaves nothing`,
    ...integration,
    ignore: integration.ignore || lsms[lsm],
    async fn() {
      const factory = await testFactory();
      const container = await factory.create(uniqueId("lsm"), { ...testConfig(), [field]: value });
      try {
        const error = await caught(() => container.start({ args: ["true"] }), ConfigError);
        assertEquals(error.issues.map((i) => i.path), [field]);
        assertMatch(error.message, /is not enabled on this host/);
        assertMatch(error.message, /labels_optional/);
      } finally {
        await container.destroy();
      }
      assertNoLeftovers();
    },
  });
}

Deno.test({
  name: "start() with labels_optional runs without the labels this host cannot apply",
  ...integration,
  ignore: integration.ignore || lsms.apparmor || lsms.selinux,
  async fn() {
    const result = await runContainer({
      ...testConfig(),
      apparmor_profile: "docker-default",
      process_label: "system_u:system_r:svirt_lxc_net_t:s0:c1,c2",
      mount_label: "system_u:object_r:svirt_sandbox_file_t:s0:c1,c2",
      labels_optional: true,
    }, { args: ["sh", "-c", "echo ran; grep -c context= /proc/self/mountinfo"] });
    // It ran, and no mount carries an SELinux context.
    assertEquals(result.stdout, "ran\n0\n", result.stderr);
    assertNoLeftovers();
  },
});

// ---- capabilities (the seed's TestProcessCaps, from outside and inside) -------------

const CAP_FIELDS = ["CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"] as const;

function capsOf(fields: Record<string, string>): Record<string, bigint> {
  return Object.fromEntries(CAP_FIELDS.map((k) => [k, BigInt(`0x${fields[k]}`)]));
}

function mask(names: readonly string[]): bigint {
  return names.reduce((m, name) => m | (1n << BigInt(capabilityNumber(name))), 0n);
}

Deno.test({
  name:
    "TestProcessCaps: a process's capabilities replace the config's, seen from outside and inside",
  ...integration,
  async fn() {
    const config = testConfig();
    const configured = mask(config.capabilities!);
    const withNetAdmin = [...config.capabilities!, "NET_ADMIN"];
    await withSleeper(config, async (pid, { container }) => {
      assertEquals(capsOf(status(pid)), {
        CapInh: 0n,
        CapPrm: configured,
        CapEff: configured,
        CapBnd: configured,
        CapAmb: 0n,
      });
      // A joined process with its own set: NET_ADMIN added.
      const joined = await container.start({
        args: ["/bin/probe", "sleep", "0"],
        capabilities: withNetAdmin,
        stdin: "null",
        stdout: "null",
        stderr: "null",
      });
      try {
        const expected = mask(withNetAdmin);
        assertEquals(capsOf(status(joined.pid)), {
          CapInh: 0n,
          CapPrm: expected,
          CapEff: expected,
          CapBnd: expected,
          CapAmb: 0n,
        });
      } finally {
        joined.signal("SIGKILL");
        await joined.wait();
      }
    });
    // Inside: the container's own /proc/self/status says the same; the newest capability works too.
    const inside = await sh(
      { ...config, capabilities: ["NET_ADMIN", "CHECKPOINT_RESTORE"] },
      "grep ^Cap /proc/self/status",
    );
    const fields = Object.fromEntries(
      inside.stdout.trim().split("\n").map((l) => l.split(":\t") as [string, string]),
    );
    const expected = mask(["NET_ADMIN", "CHECKPOINT_RESTORE"]);
    assertEquals(capsOf(fields), {
      CapInh: 0n,
      CapPrm: expected,
      CapEff: expected,
      CapBnd: expected,
      CapAmb: 0n,
    });
    assertNoLeftovers();
  },
});

// ---- default masked and read-only paths ----------------------------------------------

const hostHas = (path: string) => {
  try {
    Deno.lstatSync(path);
    return true;
  } catch {
    return false;
  }
};

Deno.test({
  name: "start() masks the default paths and makes /proc's knobs and /sys read-only",
  ...integration,
  async fn() {
    const files = ["/proc/interrupts", "/proc/keys", "/proc/timer_list", "/proc/kcore"]
      .filter(hostHas);
    const dirs = ["/proc/acpi", "/sys/firmware", "/proc/scsi"].filter(hostHas);
    assert(files.length > 0 && dirs.length > 0, "this host has masked files and directories");
    const script = [
      ...files.map((f) => `echo "${f}=$(wc -c < ${f})"`),
      ...dirs.map((d) => `echo "${d}=$(ls -A ${d} | wc -l)"; touch ${d}/x 2>/dev/null; echo $?`),
      "echo 1 > /proc/sys/kernel/shmmni 2>/dev/null; echo sys=$?",
      "touch /sys/nsinit-test 2>/dev/null; echo sysfs=$?",
      "grep -E ' /proc/(bus|fs|irq|sys) ' /proc/self/mountinfo | grep -c ' ro,'",
      "umount /proc/keys 2>/dev/null; echo umount=$?",
    ].join("; ");
    const result = await sh(testConfig(), script);
    const expected = [
      ...files.map((f) => `${f}=0`),
      ...dirs.flatMap((d) => [`${d}=0`, "1"]),
      "sys=1",
      "sysfs=1",
      String(["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys"].filter(hostHas).length),
      "umount=1",
    ];
    assertEquals(result.stdout.trim().split("\n"), expected, result.stderr);
    // From outside: the host's files are still there and readable.
    for (const file of files) assert(hostHas(file));
    assertNoLeftovers();
  },
});

Deno.test({
  name: "start() reports a failed start as an error, not a container left running",
  ...integration,
  async fn() {
    // A profile that refuses execve: the start fails at exec with the profile's errno.
    const factory = await testFactory();
    const container = await factory.create(uniqueId("noexec"), {
      ...testConfig(),
      seccomp: {
        defaultAction: "SCMP_ACT_ALLOW",
        syscalls: [{ names: ["execve", "execveat"], action: "SCMP_ACT_ERRNO", errnoRet: 13 }],
      },
    });
    try {
      const error = await caught(() => container.start({ args: ["true"] }), ContainerError);
      assertMatch(error.message, /^exec `true`: EACCES/);
    } finally {
      await container.destroy();
    }
    assertNoLeftovers();
  },
});
