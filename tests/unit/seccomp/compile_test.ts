import {
  assert,
  assertEquals,
  assertMatch,
  assertStrictEquals,
  assertThrows,
} from "../../_assert.ts";
import { ConfigError } from "../../../lib/errors.ts";
import {
  AUDIT_ARCH,
  BPF,
  clearSeccompCache,
  compileSeccomp,
  encodeFilter,
  type SeccompArg,
  type SeccompProfile,
  type SeccompSyscall,
  SYSCALL_TABLES,
} from "../../../lib/seccomp/mod.ts";
import { checkFilter } from "./_bpf.ts";
import { compile, context } from "./_helpers.ts";

const profile = (
  syscalls: SeccompSyscall[],
  more: Partial<SeccompProfile> = {},
): SeccompProfile => ({ defaultAction: "SCMP_ACT_ERRNO", syscalls, ...more });
const allow = (names: string[], more: Partial<SeccompSyscall> = {}): SeccompSyscall => ({
  names,
  action: "SCMP_ACT_ALLOW",
  ...more,
});
const arg = (index: number, op: SeccompArg["op"], value: number | bigint, valueTwo?: bigint) => ({
  index,
  op,
  value,
  ...(valueTwo === undefined ? {} : { valueTwo }),
});

Deno.test("compileSeccomp() allows the listed calls and gives the default to the rest", () => {
  const { call } = compile(profile([allow(["read", "write", "exit_group"])]));
  assertEquals(call("read"), "ALLOW");
  assertEquals(call("write"), "ALLOW");
  assertEquals(call("exit_group"), "ALLOW");
  assertEquals(call("openat"), "ERRNO(1)");
  assertEquals(call("mount"), "ERRNO(1)");
});

Deno.test("compileSeccomp() gives each action its kernel return value", () => {
  const cases: [SeccompSyscall["action"], number | undefined, string][] = [
    ["SCMP_ACT_ALLOW", undefined, "ALLOW"],
    ["SCMP_ACT_ERRNO", undefined, "ERRNO(1)"],
    ["SCMP_ACT_ERRNO", 13, "ERRNO(13)"],
    ["SCMP_ACT_KILL", undefined, "KILL_THREAD"],
    ["SCMP_ACT_KILL_THREAD", undefined, "KILL_THREAD"],
    ["SCMP_ACT_KILL_PROCESS", undefined, "KILL_PROCESS"],
    ["SCMP_ACT_TRAP", undefined, "TRAP(0)"],
    ["SCMP_ACT_LOG", undefined, "LOG"],
    ["SCMP_ACT_TRACE", 4660, "TRACE(4660)"],
    ["SCMP_ACT_TRACE", undefined, "TRACE(1)"],
  ];
  for (const [action, errnoRet, expected] of cases) {
    const { call } = compile(
      profile([{ names: ["getpid"], action, errnoRet }], { defaultAction: "SCMP_ACT_ALLOW" }),
    );
    assertEquals(call("getpid"), expected, action);
    assertEquals(call("getppid"), "ALLOW");
  }
});

Deno.test("compileSeccomp() uses defaultErrnoRet for a default SCMP_ACT_ERRNO", () => {
  const { call, compiled } = compile(profile([allow(["read"])], { defaultErrnoRet: 38 }));
  assertEquals(call("write"), "ERRNO(38)");
  assertEquals(compiled.defaultReturn, 0x00050026);
  assertEquals(compile(profile([allow(["read"])])).call("write"), "ERRNO(1)");
});

Deno.test("compileSeccomp() loads seccomp_data.arch first and refuses a foreign architecture", () => {
  const { compiled, raw } = compile(
    profile([allow(["read"])], { defaultAction: "SCMP_ACT_ALLOW" }),
  );
  assertEquals(compiled.instructions[0], { code: BPF.LD_W_ABS, jt: 0, jf: 0, k: 4 });
  // Even with an allowing default, an arch without a section is killed, not let through.
  assertEquals(raw(0, AUDIT_ARCH.AARCH64), "KILL_PROCESS");
  assertEquals(raw(0, AUDIT_ARCH.ARM), "KILL_PROCESS");
  assertEquals(raw(0, 0x12345678), "KILL_PROCESS");
  // i386 is refused when the profile does not list SCMP_ARCH_X86.
  assertEquals(raw(3, AUDIT_ARCH.I386), "KILL_PROCESS");
  assertEquals(compiled.architectures, ["SCMP_ARCH_X86_64"]);
});

Deno.test("compileSeccomp() filters i386 with i386 numbers when SCMP_ARCH_X86 is listed", () => {
  const p = profile([allow(["read", "socketcall"])], {
    architectures: ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
  });
  const { call, raw, compiled } = compile(p);
  assertEquals(compiled.architectures, ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"]);
  assertEquals(call("read", [], "i386"), "ALLOW"); // 3 on i386
  assertEquals(call("read"), "ALLOW"); // 0 on x86_64
  // i386's 0 is restart_syscall and x86_64's 3 is close: each arch uses its own numbers.
  assertEquals(raw(0, AUDIT_ARCH.I386), "ERRNO(1)");
  assertEquals(raw(3, AUDIT_ARCH.X86_64), "ERRNO(1)");
  assertEquals(call("socketcall", [], "i386"), "ALLOW");
  // socketcall has no x86_64 number: skipped there, and recorded.
  assertEquals(compiled.skipped, [{ architecture: "SCMP_ARCH_X86_64", names: ["socketcall"] }]);
});

Deno.test("compileSeccomp() takes the architectures from moby's archMap", () => {
  const p = profile([allow(["read"])], {
    archMap: [
      { architecture: "SCMP_ARCH_X86_64", subArchitectures: ["SCMP_ARCH_X86", "SCMP_ARCH_X32"] },
      { architecture: "SCMP_ARCH_AARCH64", subArchitectures: ["SCMP_ARCH_ARM"] },
    ],
  });
  const x86 = compile(p).compiled;
  assertEquals(x86.architectures, ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"]);
  assertEquals(x86.refused.map((r) => r.architecture), ["SCMP_ARCH_X32"]);
  const arm = compile(p, context({ arch: "aarch64" })).compiled;
  assertEquals(arm.architectures, ["SCMP_ARCH_AARCH64"]);
  assertEquals(arm.refused.map((r) => r.architecture), ["SCMP_ARCH_ARM"]);
});

Deno.test("compileSeccomp() kills x32 calls even when SCMP_ARCH_X32 is listed", () => {
  const p = profile([allow(["read", "write"])], {
    defaultAction: "SCMP_ACT_ALLOW",
    architectures: ["SCMP_ARCH_X86_64", "SCMP_ARCH_X32"],
  });
  const { raw, compiled } = compile(p);
  assertEquals(raw(0x40000000, AUDIT_ARCH.X86_64), "KILL_PROCESS"); // x32 read
  assertEquals(raw(0x40000000 | 165, AUDIT_ARCH.X86_64), "KILL_PROCESS"); // x32 mount
  assertEquals(raw(0x80000000, AUDIT_ARCH.X86_64), "KILL_PROCESS");
  assertEquals(raw(165, AUDIT_ARCH.X86_64), "ALLOW");
  // -1 is no x32 call: it goes on like any unknown number.
  assertEquals(raw(-1, AUDIT_ARCH.X86_64), "ALLOW");
  assertEquals(compiled.refused.length, 1);
});

Deno.test("compileSeccomp() gives ENOSYS to calls newer than its table when the default denies", () => {
  const p = profile([allow(["read"])]);
  const { raw } = compile(p);
  assertEquals(raw(451, AUDIT_ARCH.X86_64), "ERRNO(38)");
  assertEquals(raw(1000, AUDIT_ARCH.X86_64), "ERRNO(38)");
  assertEquals(raw(-1, AUDIT_ARCH.X86_64), "ERRNO(38)");
  assertEquals(raw(440, AUDIT_ARCH.X86_64), "ERRNO(1)"); // known to the table: the default
  assertEquals(
    compile(p, context({ newerSyscalls: "default" })).raw(451, AUDIT_ARCH.X86_64),
    "ERRNO(1)",
  );
  const allowing = profile([{ names: ["read"], action: "SCMP_ACT_ERRNO" }], {
    defaultAction: "SCMP_ACT_ALLOW",
  });
  assertEquals(compile(allowing).raw(451, AUDIT_ARCH.X86_64), "ALLOW");
});

// Values whose high halves differ from those of the arguments tried, so that
// a comparison of the low halves alone would give wrong answers.
const V = 0x00000002_00000005n;

Deno.test("compileSeccomp() compares 64-bit arguments in both halves for every operator", () => {
  const probes = [
    0n,
    5n,
    0x00000001_00000005n,
    0x00000002_00000004n,
    V,
    0x00000002_00000006n,
    0x00000003_00000000n,
    0x00000003_00000005n,
    0xffffffff_ffffffffn,
  ];
  const ops: [SeccompArg["op"], (a: bigint) => boolean][] = [
    ["SCMP_CMP_EQ", (a) => a === V],
    ["SCMP_CMP_NE", (a) => a !== V],
    ["SCMP_CMP_LT", (a) => a < V],
    ["SCMP_CMP_LE", (a) => a <= V],
    ["SCMP_CMP_GT", (a) => a > V],
    ["SCMP_CMP_GE", (a) => a >= V],
  ];
  for (const [op, expected] of ops) {
    const { call } = compile(profile([allow(["ioctl"], { args: [arg(1, op, V)] })]));
    for (const probe of probes) {
      assertEquals(
        call("ioctl", [0n, probe]),
        expected(probe) ? "ALLOW" : "ERRNO(1)",
        `${op} ${probe}`,
      );
    }
  }
});

Deno.test("compileSeccomp() orders arguments as unsigned 64-bit numbers at the extremes", () => {
  const top = 0xffffffff_ffffffffn;
  const cases: [SeccompArg["op"], bigint, bigint, boolean][] = [
    ["SCMP_CMP_GT", 0xffffffffn, 0x1_00000000n, true],
    ["SCMP_CMP_GT", 0xffffffff_00000000n, top, true],
    ["SCMP_CMP_LT", 0xffffffff_00000000n, 0xfffffffe_ffffffffn, true],
    ["SCMP_CMP_LT", 0xffffffff_00000000n, 0xffffffff_00000000n, false],
    ["SCMP_CMP_LE", top, top, true],
    ["SCMP_CMP_GE", 0n, 0n, true],
    ["SCMP_CMP_LT", 0n, 0n, false],
    ["SCMP_CMP_GT", top, top, false],
    ["SCMP_CMP_GE", 0x1_00000000n, 0xffffffffn, false],
    ["SCMP_CMP_LE", 0xffffffffn, 0x1_00000000n, false],
  ];
  for (const [op, value, argument, expected] of cases) {
    const { call } = compile(profile([allow(["ioctl"], { args: [arg(2, op, value)] })]));
    assertEquals(
      call("ioctl", [0n, 0n, argument]),
      expected ? "ALLOW" : "ERRNO(1)",
      `${op} ${value} ${argument}`,
    );
  }
});

Deno.test("compileSeccomp() applies SCMP_CMP_MASKED_EQ to both halves", () => {
  const mask = 0x00000010_0000ff00n;
  const want = 0x00000010_00001200n;
  const { call } = compile(
    profile([allow(["ioctl"], { args: [arg(0, "SCMP_CMP_MASKED_EQ", mask, want)] })]),
  );
  assertEquals(call("ioctl", [0x00000010_00001200n]), "ALLOW");
  assertEquals(call("ioctl", [0xffffff1f_ffff12ffn]), "ALLOW"); // bits outside the mask ignored
  assertEquals(call("ioctl", [0x00000000_00001200n]), "ERRNO(1)"); // high half differs
  assertEquals(call("ioctl", [0x00000010_00001300n]), "ERRNO(1)"); // low half differs
  // A mask of 0 always matches a zero value; a value outside the mask never matches.
  assertEquals(
    compile(profile([allow(["ioctl"], { args: [arg(0, "SCMP_CMP_MASKED_EQ", 0n, 0n)] })])).call(
      "ioctl",
      [7n],
    ),
    "ALLOW",
  );
  assertEquals(
    compile(profile([allow(["ioctl"], { args: [arg(0, "SCMP_CMP_MASKED_EQ", 0xf0n, 0x0fn)] })]))
      .call("ioctl", [0x0fn]),
    "ERRNO(1)",
  );
});

Deno.test("compileSeccomp() compares only the low 32 bits on i386", () => {
  const p = profile([
    allow(["personality"], { args: [arg(0, "SCMP_CMP_EQ", 8)] }),
    {
      names: ["socket"],
      action: "SCMP_ACT_ERRNO",
      errnoRet: 97,
      args: [arg(0, "SCMP_CMP_EQ", 40)],
    },
    allow(["socket"]),
    allow(["ioctl"], { args: [arg(1, "SCMP_CMP_GT", 0x1_00000000n)] }),
  ], { architectures: ["SCMP_ARCH_X86"] });
  const { call } = compile(p);
  // Stale high bits do not hide the value the i386 call sees.
  assertEquals(call("socket", [0xdead0000_00000028n], "i386"), "ERRNO(97)");
  assertEquals(call("socket", [40], "i386"), "ERRNO(97)");
  assertEquals(call("socket", [2], "i386"), "ALLOW");
  assertEquals(call("personality", [0xffffffff_00000008n], "i386"), "ALLOW");
  // No 32-bit value exceeds 2^32: the rule can never match on i386.
  assertEquals(call("ioctl", [0n, 0xffffffff_ffffffffn], "i386"), "ERRNO(1)");
  // On x86_64 the same values compare in 64 bits.
  assertEquals(call("socket", [0xdead0000_00000028n]), "ALLOW");
  assertEquals(call("ioctl", [0n, 0xffffffff_ffffffffn]), "ALLOW");
});

Deno.test("compileSeccomp() ANDs the comparisons of one rule", () => {
  const { call } = compile(profile([
    allow(["mmap"], {
      args: [
        arg(0, "SCMP_CMP_EQ", 0),
        arg(2, "SCMP_CMP_MASKED_EQ", 4, 0n),
        arg(3, "SCMP_CMP_NE", 0x20),
      ],
    }),
  ]));
  assertEquals(call("mmap", [0, 4096, 3, 0x22]), "ALLOW");
  assertEquals(call("mmap", [1, 4096, 3, 0x22]), "ERRNO(1)");
  assertEquals(call("mmap", [0, 4096, 7, 0x22]), "ERRNO(1)");
  assertEquals(call("mmap", [0, 4096, 3, 0x20]), "ERRNO(1)");
  // Two comparisons on one argument are ANDed too (a range).
  const range = compile(profile([
    allow(["ioctl"], { args: [arg(1, "SCMP_CMP_GE", 0x5400), arg(1, "SCMP_CMP_LE", 0x54ff)] }),
  ])).call;
  assertEquals(range("ioctl", [0, 0x5413]), "ALLOW");
  assertEquals(range("ioctl", [0, 0x5500]), "ERRNO(1)");
  assertEquals(range("ioctl", [0, 0x53ff]), "ERRNO(1)");
});

Deno.test("compileSeccomp() ORs several rules for one call", () => {
  const { call } = compile(profile([
    allow(["personality"], { args: [arg(0, "SCMP_CMP_EQ", 0)] }),
    allow(["personality"], { args: [arg(0, "SCMP_CMP_EQ", 8)] }),
    allow(["personality", "getpid"], { args: [arg(0, "SCMP_CMP_EQ", 0x20008)] }),
  ]));
  assertEquals(call("personality", [0]), "ALLOW");
  assertEquals(call("personality", [8]), "ALLOW");
  assertEquals(call("personality", [0x20008]), "ALLOW");
  assertEquals(call("personality", [1]), "ERRNO(1)");
  assertEquals(call("getpid", [0x20008]), "ALLOW");
  assertEquals(call("getpid", [8]), "ERRNO(1)");
});

Deno.test("compileSeccomp() lets the action of higher precedence win, then the earlier rule", () => {
  const { call } = compile(profile([
    allow(["socket"]),
    {
      names: ["socket"],
      action: "SCMP_ACT_ERRNO",
      errnoRet: 97,
      args: [arg(0, "SCMP_CMP_EQ", 40)],
    },
    {
      names: ["socket"],
      action: "SCMP_ACT_ERRNO",
      errnoRet: 13,
      args: [arg(0, "SCMP_CMP_GE", 38)],
    },
    { names: ["socket"], action: "SCMP_ACT_KILL_PROCESS", args: [arg(0, "SCMP_CMP_EQ", 1000)] },
  ]));
  assertEquals(call("socket", [2]), "ALLOW");
  assertEquals(call("socket", [40]), "ERRNO(97)"); // both errno rules match: the first wins
  assertEquals(call("socket", [39]), "ERRNO(13)");
  assertEquals(call("socket", [1000]), "KILL_PROCESS");
});

Deno.test("compileSeccomp() keeps a rule equal to the default when dropping it would change an outcome", () => {
  // The errno rule gives what the default gives, but without it the allow rule would match.
  const p = profile([
    allow(["socket"]),
    { names: ["socket"], action: "SCMP_ACT_ERRNO", args: [arg(0, "SCMP_CMP_EQ", 40)] },
  ]);
  const { call } = compile(p);
  assertEquals(call("socket", [40]), "ERRNO(1)");
  assertEquals(call("socket", [2]), "ALLOW");
  // Where it decides nothing (no other rule for the call), it costs no instruction.
  const plain = compile(profile([allow(["read"])])).compiled.instructions.length;
  const same = compile(profile([
    allow(["read"]),
    { names: ["write"], action: "SCMP_ACT_ERRNO", args: [arg(0, "SCMP_CMP_EQ", 1)] },
  ])).compiled.instructions.length;
  assertEquals(same, plain);
});

Deno.test("compileSeccomp() emits the chain of rules once for calls that share it", () => {
  const rules = { args: [arg(0, "SCMP_CMP_EQ", 0x1_00000001n)] };
  const one = compile(profile([allow(["ioctl"], rules)]));
  const two = compile(profile([allow(["ioctl", "fcntl"], rules)]));
  // fcntl costs only its place in the dispatch (a range and the gap after it).
  const extra = two.compiled.instructions.length - one.compiled.instructions.length;
  assert(extra <= 2, `${extra} more instructions`);
  assertEquals(two.call("fcntl", [0x1_00000001n]), "ALLOW");
  assertEquals(two.call("fcntl", [1]), "ERRNO(1)");
});

Deno.test("compileSeccomp() applies includes and excludes on capabilities", () => {
  const p = profile([
    allow(["mount", "umount2"], { includes: { caps: ["CAP_SYS_ADMIN"] } }),
    allow(["ptrace"], { includes: { caps: ["CAP_SYS_PTRACE", "CAP_SYS_ADMIN"] } }),
    allow(["clone"], {
      excludes: { caps: ["CAP_SYS_ADMIN"] },
      args: [arg(0, "SCMP_CMP_MASKED_EQ", 0x10000000, 0n)],
    }),
  ]);
  const none = compile(p).call;
  assertEquals(none("mount"), "ERRNO(1)");
  assertEquals(none("ptrace"), "ERRNO(1)");
  assertEquals(none("clone", [0x11]), "ALLOW");
  assertEquals(none("clone", [0x10000011]), "ERRNO(1)");
  const admin = compile(p, context({ capabilities: ["SYS_ADMIN"] }));
  assertEquals(admin.call("mount"), "ALLOW");
  assertEquals(admin.call("ptrace"), "ERRNO(1)"); // needs both
  assertEquals(admin.call("clone", [0x11]), "ERRNO(1)"); // the excluded rule is gone
  assertEquals(admin.compiled.excludedRules, [1, 2]);
  const both = compile(p, context({ capabilities: ["CAP_SYS_ADMIN", "CAP_SYS_PTRACE"] })).call;
  assertEquals(both("ptrace"), "ALLOW");
});

Deno.test("compileSeccomp() applies includes and excludes on the machine's architecture", () => {
  const p = profile([
    allow(["arch_prctl"], { includes: { arches: ["amd64", "x32"] } }),
    allow(["getpid"], { includes: { arches: ["arm64"] } }),
    allow(["gettid"], { excludes: { arches: ["amd64"] } }),
  ]);
  const x86 = compile(p).call;
  assertEquals(x86("arch_prctl"), "ALLOW");
  assertEquals(x86("getpid"), "ERRNO(1)");
  assertEquals(x86("gettid"), "ERRNO(1)");
  const arm = compile(p, context({ arch: "aarch64" })).call;
  assertEquals(arm("getpid"), "ALLOW");
  assertEquals(arm("gettid"), "ALLOW");
});

Deno.test("compileSeccomp() applies minKernel in includes and excludes", () => {
  const p = profile([
    allow(["ptrace"], { includes: { minKernel: "4.8" } }),
    allow(["getpid"], { excludes: { minKernel: "5.10" } }),
  ]);
  const old = compile(p, context({ kernelVersion: "4.4.0-210-generic" })).call;
  assertEquals(old("ptrace"), "ERRNO(1)");
  assertEquals(old("getpid"), "ALLOW");
  const exact = compile(p, context({ kernelVersion: "4.8" })).call;
  assertEquals(exact("ptrace"), "ALLOW");
  const recent = compile(p, context({ kernelVersion: "6.18.44-fc-v669" })).call;
  assertEquals(recent("ptrace"), "ALLOW");
  assertEquals(recent("getpid"), "ERRNO(1)");
  assertEquals(compile(p, context({ kernelVersion: "5.9.16" })).call("getpid"), "ALLOW");
});

Deno.test("compileSeccomp() skips names an architecture lacks and records them", () => {
  const p = profile([allow(["read", "no_such_call", "arch_prctl", "open"])], {
    architectures: ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
  });
  const { call, compiled } = compile(p);
  assertEquals(call("read"), "ALLOW");
  assertEquals(compiled.skipped, [
    { architecture: "SCMP_ARCH_X86_64", names: ["no_such_call"] },
    { architecture: "SCMP_ARCH_X86", names: ["no_such_call"] },
  ]);
  const arm = compile(p, context({ arch: "aarch64" })).compiled;
  assertEquals(arm.skipped, [
    { architecture: "SCMP_ARCH_AARCH64", names: ["no_such_call", "arch_prctl", "open"] },
  ]);
  assertEquals(arm.ignored, ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"]);
});

Deno.test("compileSeccomp() puts trampolines where a jump cannot reach and stays correct", () => {
  // Each of 120 calls gets its own argument rule, so most chains lie more
  // than 255 instructions past the dispatch that jumps to them.
  const names = Object.keys(SYSCALL_TABLES.x86_64).slice(0, 120);
  const syscalls = names.map((name, i) =>
    allow([name], { args: [arg(i % 6, "SCMP_CMP_GT", (BigInt(i) << 32n) | 7n)] })
  );
  const { compiled, call } = compile(profile(syscalls));
  assert(compiled.instructions.length > 600, `${compiled.instructions.length}`);
  names.forEach((name, i) => {
    const args = [0n, 0n, 0n, 0n, 0n, 0n];
    args[i % 6] = (BigInt(i) << 32n) | 8n;
    assertEquals(call(name, args), "ALLOW", name);
    args[i % 6] = (BigInt(i) << 32n) | 7n;
    assertEquals(call(name, args), "ERRNO(1)", name);
  });
  // Trampolines: unconditional jumps, or returns copied next to the jumps that need them.
  const jumps = compiled.instructions.filter((insn) => insn.code === BPF.JMP_JA).length;
  const rets = compiled.instructions.filter((insn) => insn.code === BPF.RET_K).length;
  assert(jumps + rets > 10, `${jumps} ja, ${rets} ret`);
});

Deno.test("compileSeccomp() refuses a profile that compiles past 4096 instructions", () => {
  // Every x86_64 call with eight 64-bit comparisons of its own (identical
  // chains would be shared): about 15000 instructions.
  const syscalls = Object.keys(SYSCALL_TABLES.x86_64).map((name, n) =>
    allow([name], {
      args: [0, 1, 2, 3, 4, 5, 0, 1].map((i, j) =>
        arg(i, "SCMP_CMP_LT", ((BigInt(j) + 2n) << 32n) | BigInt(n))
      ),
    })
  );
  const error = assertThrowsConfig(() => compileSeccomp(profile(syscalls), context()));
  assertEquals(error.issues[0]!.path, "seccomp");
  assertMatch(error.issues[0]!.message, /over the kernel's limit of 4096/);
});

function assertThrowsConfig(fn: () => unknown): ConfigError {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  assert(caught instanceof ConfigError, `expected a ConfigError, got ${caught}`);
  return caught;
}

Deno.test("compileSeccomp() throws a ConfigError with paths for an invalid profile", () => {
  const bad = {
    defaultAction: "SCMP_ACT_MAYBE",
    syscalls: [{
      names: ["read"],
      action: "SCMP_ACT_ALLOW",
      args: [{ index: 6, value: 0, op: "SCMP_CMP_EQ" }],
    }],
  };
  const error = assertThrowsConfig(() =>
    compileSeccomp(bad as unknown as SeccompProfile, context())
  );
  assertEquals(error.issues.map((i) => i.path), [
    "seccomp.defaultAction",
    "seccomp.syscalls[0].args[0].index",
  ]);
});

Deno.test("compileSeccomp() refuses an unusable context", () => {
  const p = profile([allow(["read"])]);
  assertThrows(() => compileSeccomp(p, context({ kernelVersion: "unknown" })), RangeError);
  assertThrows(() => compileSeccomp(p, context({ capabilities: ["CAP_FLY"] })), RangeError);
  assertThrows(
    () => compileSeccomp(p, { ...context(), arch: "riscv64" as unknown as "x86_64" }),
    RangeError,
  );
});

Deno.test("compileSeccomp() records the profile's flags as seccomp(2) flag bits", () => {
  const { compiled } = compile(profile([allow(["read"])], {
    flags: [
      "SECCOMP_FILTER_FLAG_LOG",
      "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
      "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
    ],
  }));
  assertEquals(compiled.flags, 2 | 4);
  assertEquals(compiled.flagNames, [
    "SECCOMP_FILTER_FLAG_LOG",
    "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
    "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
  ]);
  assertEquals(compile(profile([allow(["read"])])).compiled.flags, 0);
});

Deno.test("compileSeccomp() returns the cached program for the same profile and context", () => {
  clearSeccompCache();
  const p = () => profile([allow(["read"], { args: [arg(0, "SCMP_CMP_EQ", 3)] })]);
  const first = compileSeccomp(p(), context({ capabilities: ["KILL", "CHOWN"] }));
  // Equal by value (a new object, capabilities in another order and spelling): the same result.
  const again = compileSeccomp(p(), context({ capabilities: ["CAP_CHOWN", "KILL"] }));
  assertStrictEquals(again, first);
  assert(Object.isFrozen(first) && Object.isFrozen(first.instructions));
  assert(Object.isFrozen(first.instructions[0]));
  const other = compileSeccomp(p(), context({ capabilities: ["KILL"] }));
  assert(other !== first);
  const bigint = compileSeccomp(
    profile([allow(["read"], { args: [arg(0, "SCMP_CMP_EQ", 3n)] })]),
    context({ capabilities: ["KILL", "CHOWN"] }),
  );
  assertEquals(bigint.instructions, first.instructions);
});

Deno.test("encodeFilter() writes 8 little-endian bytes per instruction", () => {
  const bytes = encodeFilter([
    { code: BPF.LD_W_ABS, jt: 0, jf: 0, k: 4 },
    { code: BPF.JMP_JEQ_K, jt: 1, jf: 2, k: 0xc000003e },
    { code: BPF.RET_K, jt: 0, jf: 0, k: 0x7fff0000 },
  ]);
  assertEquals(
    [...bytes],
    [
      [0x20, 0, 0, 0, 4, 0, 0, 0],
      [0x15, 0, 1, 2, 0x3e, 0, 0, 0xc0],
      [0x06, 0, 0, 0, 0, 0, 0xff, 0x7f],
    ].flat(),
  );
});

Deno.test("compileSeccomp() output passes the kernel's checks for several profiles", () => {
  for (const arch of ["x86_64", "aarch64"] as const) {
    const { compiled } = compile(
      profile([allow(["read"])], { architectures: ["SCMP_ARCH_X86", "SCMP_ARCH_ARM"] }),
      context({ arch }),
    );
    checkFilter(compiled.instructions);
  }
});
