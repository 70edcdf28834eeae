import { assertEquals } from "../../_assert.ts";
import { validateSeccomp } from "../../../lib/seccomp/mod.ts";

const good = {
  defaultAction: "SCMP_ACT_ERRNO",
  defaultErrnoRet: 1,
  architectures: ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
  flags: ["SECCOMP_FILTER_FLAG_LOG"],
  syscalls: [
    { names: ["read", "write"], action: "SCMP_ACT_ALLOW" },
    {
      names: ["clone"],
      action: "SCMP_ACT_ALLOW",
      args: [{ index: 0, value: 0x7e020000, valueTwo: 0, op: "SCMP_CMP_MASKED_EQ" }],
      excludes: { caps: ["CAP_SYS_ADMIN"], arches: ["s390x"] },
      comment: "no namespaces",
    },
    { names: ["ptrace"], action: "SCMP_ACT_ALLOW", includes: { minKernel: "4.8" } },
    { names: ["clone3"], action: "SCMP_ACT_ERRNO", errnoRet: 38 },
    { names: ["ioctl"], action: "SCMP_ACT_TRACE", errnoRet: 60000 },
    {
      names: ["mmap"],
      action: "SCMP_ACT_ALLOW",
      args: [{ index: 5, value: 0xffffffff_ffffffffn, op: "SCMP_CMP_LE" }],
    },
  ],
};

const issues = (profile: unknown, path?: string) => validateSeccomp(profile, path);
const rule = (more: Record<string, unknown>) => ({
  defaultAction: "SCMP_ACT_ALLOW",
  syscalls: [{ names: ["read"], action: "SCMP_ACT_ERRNO" }, { names: ["write"], ...more }],
});

Deno.test("validateSeccomp() finds nothing wrong in a good profile", () => {
  assertEquals(issues(good), []);
  assertEquals(issues({ defaultAction: "SCMP_ACT_KILL_PROCESS" }), []);
  assertEquals(
    issues({ defaultAction: "SCMP_ACT_ALLOW", syscalls: null, architectures: null }),
    [],
  );
});

Deno.test("validateSeccomp() names the path of an unknown operator", () => {
  const profile = {
    defaultAction: "SCMP_ACT_ERRNO",
    syscalls: [
      { names: ["a"], action: "SCMP_ACT_ALLOW" },
      { names: ["b"], action: "SCMP_ACT_ALLOW" },
      { names: ["c"], action: "SCMP_ACT_ALLOW" },
      {
        names: ["d"],
        action: "SCMP_ACT_ALLOW",
        args: [{ index: 0, value: 1, op: "SCMP_CMP_EQUAL" }],
      },
    ],
  };
  assertEquals(issues(profile), [{
    path: "seccomp.syscalls[3].args[0].op",
    message: "Unknown operator `SCMP_CMP_EQUAL`: expected one of `SCMP_CMP_NE`, `SCMP_CMP_LT`, " +
      "`SCMP_CMP_LE`, `SCMP_CMP_EQ`, `SCMP_CMP_GE`, `SCMP_CMP_GT` or `SCMP_CMP_MASKED_EQ`",
  }]);
  const masked = structuredClone(profile);
  masked.syscalls[3]!.args![0]!.op = "SCMP_CMP_MASKEDEQ";
  assertEquals(
    issues(masked)[0]!.message,
    "Unknown operator `SCMP_CMP_MASKEDEQ`: did you mean `SCMP_CMP_MASKED_EQ`?",
  );
  assertEquals(issues(profile, "linux.seccomp")[0]!.path, "linux.seccomp.syscalls[3].args[0].op");
});

Deno.test("validateSeccomp() refuses unknown actions, and SCMP_ACT_NOTIFY as unsupported", () => {
  assertEquals(issues({ defaultAction: "SCMP_ACT_DENY" }), [{
    path: "seccomp.defaultAction",
    message:
      "Unknown action `SCMP_ACT_DENY`: expected one of `SCMP_ACT_ALLOW`, `SCMP_ACT_ERRNO`, " +
      "`SCMP_ACT_KILL`, `SCMP_ACT_KILL_PROCESS`, `SCMP_ACT_KILL_THREAD`, `SCMP_ACT_TRAP`, " +
      "`SCMP_ACT_LOG` or `SCMP_ACT_TRACE`",
  }]);
  assertEquals(issues({}), [{
    path: "seccomp.defaultAction",
    message: "Required: expected an action",
  }]);
  assertEquals(issues(rule({ action: "SCMP_ACT_NOTIFY" })), [{
    path: "seccomp.syscalls[1].action",
    message: "Not supported: `SCMP_ACT_NOTIFY` needs a seccomp user-notification listener, " +
      "which this runtime does not run",
  }]);
  assertEquals(issues(rule({ action: "SCMP_ACT_KILLPROCESS" })), [{
    path: "seccomp.syscalls[1].action",
    message: "Unknown action `SCMP_ACT_KILLPROCESS`: did you mean `SCMP_ACT_KILL_PROCESS`?",
  }]);
});

Deno.test("validateSeccomp() refuses an argument index above 5 and bad values", () => {
  assertEquals(
    issues(rule({ action: "SCMP_ACT_ALLOW", args: [{ index: 6, value: 1, op: "SCMP_CMP_EQ" }] })),
    [{
      path: "seccomp.syscalls[1].args[0].index",
      message: "Must be 0 to 5 (a system call has six arguments), got `6`",
    }],
  );
  assertEquals(
    issues(rule({
      action: "SCMP_ACT_ALLOW",
      args: [
        { index: 1.5, value: -1, op: "SCMP_CMP_EQ" },
        { index: 0, value: 2 ** 60, valueTwo: 1n << 64n, op: "SCMP_CMP_MASKED_EQ" },
        { index: 0, op: "SCMP_CMP_EQ" },
        { index: 0, value: 1, op: "SCMP_CMP_EQ", vaule: 2 },
      ],
    })).map((i) => `${i.path}: ${i.message}`),
    [
      "seccomp.syscalls[1].args[0].index: Expected an integer, got `1.5`",
      "seccomp.syscalls[1].args[0].value: Expected an unsigned 64-bit integer, got `-1`",
      "seccomp.syscalls[1].args[1].value: Above 2^53, where JSON numbers lose precision: " +
      "give it as a bigint, got `1152921504606847000`",
      "seccomp.syscalls[1].args[1].valueTwo: Expected an unsigned 64-bit integer, " +
      "got `18446744073709551616n`",
      "seccomp.syscalls[1].args[2].value: Required: expected an unsigned 64-bit integer",
      "seccomp.syscalls[1].args[3].vaule: Unknown key: did you mean `value`?",
    ],
  );
});

Deno.test("validateSeccomp() checks errnoRet against its action", () => {
  const list = (more: Record<string, unknown>) =>
    issues(rule(more)).map((i) => `${i.path}: ${i.message}`);
  assertEquals(list({ action: "SCMP_ACT_ALLOW", errnoRet: 1 }), [
    "seccomp.syscalls[1].errnoRet: Only for `SCMP_ACT_ERRNO` or `SCMP_ACT_TRACE`, not `SCMP_ACT_ALLOW`",
  ]);
  assertEquals(list({ action: "SCMP_ACT_ERRNO", errnoRet: 4096 }), [
    "seccomp.syscalls[1].errnoRet: Must be an errno from 0 to 4095, got `4096`",
  ]);
  assertEquals(list({ action: "SCMP_ACT_TRACE", errnoRet: 65536 }), [
    "seccomp.syscalls[1].errnoRet: Must be a trace value from 0 to 65535, got `65536`",
  ]);
  assertEquals(list({ action: "SCMP_ACT_ERRNO", errnoRet: "EPERM" }), [
    "seccomp.syscalls[1].errnoRet: Expected an integer, got `EPERM`",
  ]);
  assertEquals(issues({ defaultAction: "SCMP_ACT_KILL", defaultErrnoRet: 1 }), [{
    path: "seccomp.defaultErrnoRet",
    message: "Only for `SCMP_ACT_ERRNO` or `SCMP_ACT_TRACE`, not `SCMP_ACT_KILL`",
  }]);
});

Deno.test("validateSeccomp() checks names, architectures and flags", () => {
  assertEquals(
    issues({
      defaultAction: "SCMP_ACT_ERRNO",
      architectures: ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86-64", 7],
      flags: ["SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_NEW_LISTENER"],
      syscalls: [
        { names: [], action: "SCMP_ACT_ALLOW" },
        { names: ["read", "", "bad name"], action: "SCMP_ACT_ALLOW" },
        { name: "read", action: "SCMP_ACT_ALLOW" },
        "read",
      ],
    }).map((i) => `${i.path}: ${i.message}`),
    [
      "seccomp.architectures[1]: Unknown architecture `SCMP_ARCH_X86-64`: did you mean " +
      "`SCMP_ARCH_X86_64`?",
      "seccomp.architectures[2]: Expected an architecture, got `7`",
      "seccomp.flags[1]: Unknown flag `SECCOMP_FILTER_FLAG_NEW_LISTENER`: expected one of " +
      "`SECCOMP_FILTER_FLAG_TSYNC`, `SECCOMP_FILTER_FLAG_LOG`, `SECCOMP_FILTER_FLAG_SPEC_ALLOW` " +
      "or `SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV`",
      "seccomp.syscalls[0].names: Must name at least one system call",
      "seccomp.syscalls[1].names[1]: Expected a system call name, got ``",
      "seccomp.syscalls[1].names[2]: Expected a system call name, got `bad name`",
      "seccomp.syscalls[2].name: Unknown key: did you mean `names`?",
      "seccomp.syscalls[2].names: Required: expected an array of system call names",
      "seccomp.syscalls[3]: Expected an object, got `read`",
    ],
  );
});

Deno.test("validateSeccomp() checks includes and excludes", () => {
  assertEquals(
    issues(rule({
      action: "SCMP_ACT_ALLOW",
      includes: { caps: ["CAP_SYS_ADMIN", "SYS_PTRACE", "CAP_FLY"], minKernel: "4" },
      excludes: { arches: ["amd64", "sparc"], kernel: "5.1" },
    })).map((i) => `${i.path}: ${i.message}`),
    [
      "seccomp.syscalls[1].includes.caps[2]: Unknown capability `CAP_FLY`",
      "seccomp.syscalls[1].includes.minKernel: Expected a kernel version such as `5.10`, got `4`",
      "seccomp.syscalls[1].excludes.kernel: Unknown key",
      "seccomp.syscalls[1].excludes.arches[1]: Unknown architecture `sparc`: expected one of " +
      "`386`, `amd64`, `arm`, `arm64`, `aarch64`, `loong64`, `mips`, `mips64`, `mips64le`, " +
      "`mips64n32`, `mipsel64n32`, `mipsle`, `ppc`, `ppc64`, `ppc64le`, `riscv64`, `s390`, " +
      "`s390x`, `x32`, `x86` or `x86_64`",
    ],
  );
});

Deno.test("validateSeccomp() refuses a listener, both architecture forms and a non-object", () => {
  assertEquals(
    issues({
      defaultAction: "SCMP_ACT_ERRNO",
      architectures: ["SCMP_ARCH_X86_64"],
      archMap: [{ architecture: "SCMP_ARCH_X86_64", subArchitectures: ["SCMP_ARCH_X86"] }],
      listenerPath: "/run/notify.sock",
      defaultAktion: 1,
    }).map((i) => `${i.path}: ${i.message}`),
    [
      "seccomp.defaultAktion: Unknown key: did you mean `defaultAction`?",
      "seccomp.archMap: Give either `architectures` or `archMap`, not both",
      "seccomp.listenerPath: Not supported: this runtime runs no seccomp user-notification listener",
    ],
  );
  assertEquals(issues([]), [{ path: "seccomp", message: "Expected an object, got an array" }]);
  assertEquals(issues(null, ""), [{ path: "", message: "Expected an object, got `null`" }]);
});
