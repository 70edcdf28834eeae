import { assert, assertEquals } from "../../_assert.ts";
import {
  AUDIT_ARCH,
  BPF_MAXINSNS,
  DEFAULT_SECCOMP_PROFILE,
  syscallNumber,
  validateSeccomp,
} from "../../../lib/seccomp/mod.ts";
import { compile, context } from "./_helpers.ts";

/** Docker's default capabilities (moby `daemon/pkg/oci/caps/defaults.go`). */
const DOCKER_CAPS = [
  "CHOWN",
  "DAC_OVERRIDE",
  "FSETID",
  "FOWNER",
  "MKNOD",
  "NET_RAW",
  "SETGID",
  "SETUID",
  "SETFCAP",
  "SETPCAP",
  "NET_BIND_SERVICE",
  "SYS_CHROOT",
  "KILL",
  "AUDIT_WRITE",
];

const CLONE_NEWUSER = 0x10000000;
const CLONE_NEWNS = 0x00020000;
const CLONE_NEWNET = 0x40000000;
/** What glibc's pthread_create passes to clone. */
const THREAD_FLAGS = 0x003d0f00;
const SIGCHLD = 17;
const AF_INET = 2;
const AF_ALG = 38;
const AF_VSOCK = 40;

const docker = () => compile(DEFAULT_SECCOMP_PROFILE, context({ capabilities: DOCKER_CAPS }));
const admin = () =>
  compile(DEFAULT_SECCOMP_PROFILE, context({ capabilities: [...DOCKER_CAPS, "SYS_ADMIN"] }));

Deno.test("DEFAULT_SECCOMP_PROFILE validates with no issue and is frozen", () => {
  assertEquals(validateSeccomp(DEFAULT_SECCOMP_PROFILE), []);
  assert(Object.isFrozen(DEFAULT_SECCOMP_PROFILE));
  assert(Object.isFrozen(DEFAULT_SECCOMP_PROFILE.syscalls![0]!.names));
});

Deno.test("DEFAULT_SECCOMP_PROFILE allows Docker's 361 unconditional calls, each once", () => {
  const names = DEFAULT_SECCOMP_PROFILE.syscalls![0]!.names;
  assertEquals(names.length, 361);
  assertEquals(new Set(names).size, 361);
  assertEquals(DEFAULT_SECCOMP_PROFILE.syscalls![0]!.action, "SCMP_ACT_ALLOW");
  for (const name of ["mount", "unshare", "setns", "clone", "clone3", "socket", "personality"]) {
    assert(!names.includes(name), name);
  }
});

Deno.test("the default program stays far under the kernel's 4096 instructions", () => {
  for (const capabilities of [[], DOCKER_CAPS, [...DOCKER_CAPS, "SYS_ADMIN", "SYS_PTRACE"]]) {
    for (const arch of ["x86_64", "aarch64"] as const) {
      const { compiled } = compile(DEFAULT_SECCOMP_PROFILE, context({ arch, capabilities }));
      assert(compiled.instructions.length < 400, `${arch}: ${compiled.instructions.length}`);
      assert(compiled.instructions.length <= BPF_MAXINSNS);
    }
  }
});

Deno.test("the default profile allows read, write, exit and the like", () => {
  const { call } = docker();
  for (const name of ["read", "write", "exit", "exit_group", "openat", "mmap", "futex", "execve"]) {
    assertEquals(call(name), "ALLOW", name);
  }
  for (const name of ["read", "write", "exit", "socketcall", "mmap2"]) {
    assertEquals(call(name, [], "i386"), "ALLOW", `i386 ${name}`);
  }
});

Deno.test("the default profile refuses unshare, mount and setns with EPERM without CAP_SYS_ADMIN", () => {
  const { call } = docker();
  for (const abi of ["x86_64", "i386"] as const) {
    assertEquals(call("unshare", [CLONE_NEWUSER], abi), "ERRNO(1)", abi);
    assertEquals(call("mount", [], abi), "ERRNO(1)", abi);
    assertEquals(call("umount2", [], abi), "ERRNO(1)", abi);
    assertEquals(call("setns", [], abi), "ERRNO(1)", abi);
    assertEquals(call("open_tree", [], abi), "ERRNO(1)", abi);
    assertEquals(call("bpf", [], abi), "ERRNO(1)", abi);
    assertEquals(call("keyctl", [], abi), "ERRNO(1)", abi);
    assertEquals(call("io_uring_setup", [], abi), "ERRNO(1)", abi);
    assertEquals(call("kexec_load", [], abi), "ERRNO(1)", abi);
  }
  assertEquals(call("iopl"), "ERRNO(1)");
});

Deno.test("the default profile allows mount and unshare with CAP_SYS_ADMIN", () => {
  const { call } = admin();
  for (const abi of ["x86_64", "i386"] as const) {
    assertEquals(call("mount", [], abi), "ALLOW", abi);
    assertEquals(call("unshare", [CLONE_NEWUSER], abi), "ALLOW", abi);
    assertEquals(call("setns", [], abi), "ALLOW", abi);
  }
  // Capabilities the container does not hold still gate their own calls.
  assertEquals(call("reboot"), "ERRNO(1)");
  assertEquals(call("init_module"), "ERRNO(1)");
});

Deno.test("the default profile allows plain clone and refuses clone with namespace flags", () => {
  const { call } = docker();
  for (const abi of ["x86_64", "i386"] as const) {
    assertEquals(call("clone", [SIGCHLD], abi), "ALLOW", `fork ${abi}`);
    assertEquals(call("clone", [THREAD_FLAGS], abi), "ALLOW", `thread ${abi}`);
    assertEquals(call("clone", [CLONE_NEWUSER | SIGCHLD], abi), "ERRNO(1)", `NEWUSER ${abi}`);
    assertEquals(call("clone", [CLONE_NEWNS | SIGCHLD], abi), "ERRNO(1)", `NEWNS ${abi}`);
    assertEquals(call("clone", [CLONE_NEWNET], abi), "ERRNO(1)", `NEWNET ${abi}`);
  }
  // High bits hide no namespace flag: the mask is 64 bits wide.
  assertEquals(call("clone", [0xffffffff_00000000n | BigInt(CLONE_NEWUSER)]), "ERRNO(1)");
  assertEquals(admin().call("clone", [CLONE_NEWUSER | SIGCHLD]), "ALLOW");
});

Deno.test("the default profile answers clone3 with ENOSYS so libc falls back to clone", () => {
  const { call } = docker();
  assertEquals(call("clone3"), "ERRNO(38)");
  assertEquals(call("clone3", [], "i386"), "ERRNO(38)");
  assertEquals(admin().call("clone3"), "ALLOW");
});

Deno.test("the default profile refuses AF_VSOCK and AF_ALG sockets, whatever the high bits", () => {
  const { call } = docker();
  for (const abi of ["x86_64", "i386"] as const) {
    assertEquals(call("socket", [AF_VSOCK, 1, 0], abi), "ERRNO(1)", abi);
    assertEquals(call("socket", [AF_ALG, 5, 0], abi), "ERRNO(1)", abi);
    assertEquals(call("socket", [AF_INET, 1, 0], abi), "ALLOW", abi);
    // socket takes an int: the kernel would see AF_VSOCK here.
    assertEquals(call("socket", [0x00000001_00000028n], abi), "ERRNO(1)", abi);
  }
  assertEquals(call("socketpair", [1, 1, 0]), "ALLOW");
});

Deno.test("the default profile allows only the harmless personalities", () => {
  const { call } = docker();
  for (const abi of ["x86_64", "i386"] as const) {
    for (const persona of [0, 8, 0x20000, 0x20008, 0xffffffff]) {
      assertEquals(call("personality", [persona], abi), "ALLOW", `${abi} ${persona}`);
    }
    for (const persona of [1, 0x0400000, 0x0040000]) {
      assertEquals(call("personality", [persona], abi), "ERRNO(1)", `${abi} ${persona}`);
    }
  }
  assertEquals(call("personality", [0x00000001_00000008n]), "ERRNO(1)");
});

Deno.test("the default profile gates ptrace on the kernel version and CAP_SYS_PTRACE", () => {
  assertEquals(docker().call("ptrace"), "ALLOW");
  assertEquals(docker().call("kcmp"), "ERRNO(1)");
  const old = compile(
    DEFAULT_SECCOMP_PROFILE,
    context({ capabilities: DOCKER_CAPS, kernelVersion: "4.4.0" }),
  );
  assertEquals(old.call("ptrace"), "ERRNO(1)");
  const tracer = compile(
    DEFAULT_SECCOMP_PROFILE,
    context({ capabilities: ["SYS_PTRACE"], kernelVersion: "4.4.0" }),
  );
  assertEquals(tracer.call("ptrace"), "ALLOW");
  assertEquals(tracer.call("kcmp"), "ALLOW");
});

Deno.test("the default profile kills x32 and foreign architectures on x86_64", () => {
  const { raw, compiled } = docker();
  assertEquals(raw(0x40000000, AUDIT_ARCH.X86_64), "KILL_PROCESS"); // x32 read
  assertEquals(raw(0x40000000 | 272, AUDIT_ARCH.X86_64), "KILL_PROCESS"); // x32 unshare
  assertEquals(raw(0, AUDIT_ARCH.AARCH64), "KILL_PROCESS");
  assertEquals(compiled.architectures, ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"]);
  assertEquals(compiled.refused.map((r) => r.architecture), ["SCMP_ARCH_X32"]);
});

Deno.test("the default profile gives ENOSYS to calls newer than the tables", () => {
  const { raw } = docker();
  assertEquals(raw(452, AUDIT_ARCH.X86_64), "ERRNO(38)"); // fchmodat2 (6.6)
  assertEquals(raw(452, AUDIT_ARCH.I386), "ERRNO(38)");
});

Deno.test("the default profile on aarch64 uses its numbers and kills 32-bit ARM", () => {
  const { call, raw, compiled } = compile(
    DEFAULT_SECCOMP_PROFILE,
    context({ arch: "aarch64", capabilities: DOCKER_CAPS }),
  );
  assertEquals(syscallNumber("aarch64", "openat"), 56);
  assertEquals(call("openat"), "ALLOW");
  assertEquals(call("renameat"), "ALLOW");
  assertEquals(call("mount"), "ERRNO(1)");
  assertEquals(call("unshare", [CLONE_NEWUSER]), "ERRNO(1)");
  assertEquals(call("clone", [CLONE_NEWUSER | SIGCHLD]), "ERRNO(1)");
  assertEquals(call("clone", [SIGCHLD]), "ALLOW");
  assertEquals(call("clone3"), "ERRNO(38)");
  assertEquals(call("socket", [AF_VSOCK]), "ERRNO(1)");
  assertEquals(call("personality", [0x20008]), "ALLOW");
  assertEquals(call("personality", [1]), "ERRNO(1)");
  assertEquals(raw(3, AUDIT_ARCH.ARM), "KILL_PROCESS");
  assertEquals(raw(0, AUDIT_ARCH.X86_64), "KILL_PROCESS");
  assertEquals(compiled.refused.map((r) => r.architecture), ["SCMP_ARCH_ARM"]);
  assertEquals(call("arch_prctl", [], "x86_64"), "KILL_PROCESS");
});
