/**
 * A failure the helper reports as (op index, errno, detail) becomes an error
 * message that names the step, its target and the errno.
 */
import { assert, assertEquals } from "../../_assert.ts";
import { CLONE } from "../../../ffi/constants.ts";
import { Errno } from "../../../ffi/_errno.ts";
import { MS } from "../../../lib/config/mod.ts";
import { ContainerError, SystemError } from "../../../lib/errors.ts";
import { DETAIL, planFailure } from "../../../lib/plan/describe.ts";
import { makedev } from "../../../lib/plan/mounts.ts";
import type { OpName, PlanOp } from "../../../lib/plan/ops.ts";

function failure(op: PlanOp, errno: number, detail = 0): SystemError {
  return planFailure([{ op: "CLONE", flags: CLONE.PARENT, cgroup: "" }, op], 1, errno, detail);
}

Deno.test("planFailure() names a mount by source, target, type and flags", () => {
  const error = failure({
    op: "MOUNT",
    source: "proc",
    target: "/proc",
    fstype: "proc",
    data: "",
    flags: MS.MS_NOSUID | MS.MS_NODEV | MS.MS_NOEXEC,
    noSymlinks: true,
  }, Errno.EPERM);
  assert(error instanceof SystemError);
  assert(error instanceof ContainerError);
  assertEquals(error.code, "SystemError");
  assertEquals(
    error.message,
    "mount src=proc dst=/proc type=proc flags=MS_NOSUID|MS_NODEV|MS_NOEXEC: EPERM",
  );
  assertEquals(error.op, "mount");
  assertEquals(error.errno, Errno.EPERM);
  assertEquals(error.errnoName, "EPERM");
});

Deno.test("planFailure() shows a propagation change and mount data", () => {
  assertEquals(
    failure({
      op: "MOUNT",
      source: "",
      target: "/",
      fstype: "",
      data: "",
      flags: MS.MS_REC | MS.MS_SLAVE,
      hostPath: true,
    }, Errno.EINVAL).message,
    "mount src=none dst=/ type=none flags=MS_REC|MS_SLAVE: EINVAL",
  );
  assertEquals(
    failure({
      op: "MOUNT",
      source: "tmpfs",
      target: "/dev",
      fstype: "tmpfs",
      data: "mode=755,size=65536k",
      flags: 0,
    }, Errno.ENOMEM).message,
    "mount src=tmpfs dst=/dev type=tmpfs flags=0 data=mode=755,size=65536k: ENOMEM",
  );
});

Deno.test("planFailure() names the program an exec could not start", () => {
  const exec: PlanOp = { op: "EXEC", candidates: ["/bin/x", "/usr/bin/x"], args: ["x"], env: [] };
  assertEquals(failure(exec, Errno.ENOENT).message, "exec `x`: ENOENT");
  assertEquals(failure(exec, Errno.EACCES).message, "exec `x`: EACCES");
});

Deno.test("planFailure() reports how a hook ended when it ran but failed", () => {
  const hook: PlanOp = {
    op: "RUN",
    candidates: ["/bin/hook"],
    args: ["/bin/hook"],
    env: [],
    dir: "",
  };
  const exited = failure(hook, 0, 3 << 8);
  assertEquals(exited.message, "run hook `/bin/hook` ended with exit status 3");
  assertEquals(exited.errno, 0);
  assertEquals(
    failure(hook, 0, 127 << 8).message,
    "run hook `/bin/hook` ended with exit status 127",
  );
  assertEquals(failure(hook, 0, 9).message, "run hook `/bin/hook` ended with signal 9");
  // A core dump sets 0x80 on top of the signal.
  assertEquals(failure(hook, 0, 0x80 | 11).message, "run hook `/bin/hook` ended with signal 11");
  // A hook that could not be started at all is a system call failure.
  assertEquals(failure(hook, Errno.EAGAIN).message, "run hook `/bin/hook`: EAGAIN");
});

Deno.test("planFailure() explains the helper's detail codes", () => {
  assertEquals(
    failure(
      { op: "MASK", path: "/proc/kcore", devNull: "/dev/null" },
      Errno.EPERM,
      DETAIL.NOT_NULL_DEVICE,
    )
      .message,
    "mask `/proc/kcore`: `/dev/null` in the container is not the null device: EPERM",
  );
  assertEquals(
    failure(
      { op: "WRITE", dir: "/proc", file: "sys/kernel/shmmni", content: "1", procfs: true },
      Errno.EXDEV,
      DETAIL.NOT_PROCFS,
    ).message,
    "write `/proc/sys/kernel/shmmni`: the directory is not procfs: EXDEV",
  );
  assertEquals(
    failure(
      {
        op: "CONSOLE",
        ptmx: "/dev/pts/ptmx",
        console: "/dev/console",
        bindConsole: true,
        uid: 0,
        gid: 0,
        rows: 0,
        columns: 0,
      },
      Errno.EXDEV,
      DETAIL.NOT_DEVPTS,
    ).message,
    "create console `/dev/pts/ptmx`: the ptmx is not on devpts: EXDEV",
  );
  assertEquals(
    failure({ op: "CHDIR", path: "/work" }, Errno.ENOENT, DETAIL.UNREACHABLE_CWD).message,
    "chdir `/work`: the directory lies outside the container: ENOENT",
  );
  // An unknown detail adds nothing.
  assertEquals(
    failure({ op: "CHDIR", path: "/work" }, Errno.ENOENT, 99).message,
    "chdir `/work`: ENOENT",
  );
});

Deno.test("planFailure() blames the helper itself for index -1 and indexes past the plan", () => {
  const plan: PlanOp[] = [{ op: "CLONE", flags: 0, cgroup: "" }];
  const early = planFailure(plan, -1, Errno.EINVAL, 0);
  assert(early instanceof SystemError);
  assertEquals(early.message, "helper (before the plan ran): EINVAL");
  assertEquals(
    planFailure(plan, -1, Errno.EMSGSIZE, 0).message,
    "helper (before the plan ran): EMSGSIZE",
  );
  assertEquals(planFailure(plan, 7, Errno.EINVAL, 0).message, "helper op 7: EINVAL");
});

Deno.test("planFailure() names joined and created namespaces", () => {
  assertEquals(
    failure({ op: "SETNS", fd: 4, nstype: CLONE.NEWNET, label: "/proc/1/ns/net" }, Errno.EINVAL)
      .message,
    "setns `/proc/1/ns/net` (NEWNET): EINVAL",
  );
  assertEquals(
    failure({ op: "SETNS", fd: 4, nstype: CLONE.NEWPID | CLONE.NEWNS }, Errno.EPERM).message,
    "setns NEWNS|NEWPID: EPERM",
  );
  assertEquals(
    planFailure(
      [{ op: "CLONE", flags: CLONE.PARENT | CLONE.NEWUSER | CLONE.NEWNS, cgroup: "" }],
      0,
      Errno.ENOSPC,
      0,
    )
      .message,
    "clone flags=NEWNS|NEWUSER: ENOSPC",
  );
  assertEquals(
    planFailure(
      [{ op: "CLONE", flags: CLONE.PARENT, cgroup: "/sys/fs/cgroup/c" }],
      0,
      Errno.EBUSY,
      0,
    )
      .message,
    "clone flags=0 into `/sys/fs/cgroup/c`: EBUSY",
  );
});

Deno.test("planFailure() gives every op kind a message that names the step", () => {
  const ops: { [N in OpName]: Extract<PlanOp, { op: N }> } = {
    SETNS: { op: "SETNS", fd: 4, nstype: CLONE.NEWNET },
    CGROUP_ENTER: { op: "CGROUP_ENTER", path: "/sys/fs/cgroup/pids/c/tasks", content: "0" },
    CLONE: { op: "CLONE", flags: CLONE.NEWNS, cgroup: "" },
    UMASK: { op: "UMASK", mask: 0 },
    MOUNT: { op: "MOUNT", source: "a", target: "/b", fstype: "tmpfs", data: "", flags: 0 },
    ROOTFS: { op: "ROOTFS", rootfs: "/r" },
    MKDIR: { op: "MKDIR", path: "/d", mode: 0o755 },
    MKFILE: { op: "MKFILE", path: "/f", mode: 0o644 },
    BIND: {
      op: "BIND",
      source: "/s",
      target: "/t",
      recursive: false,
      attrSet: 0,
      propagation: 0,
    },
    MKNOD: { op: "MKNOD", path: "/dev/null", mode: 0o20666, dev: makedev(1, 3), uid: 0, gid: 0 },
    SYMLINK: { op: "SYMLINK", target: "pts/ptmx", path: "/dev/ptmx" },
    MASK: { op: "MASK", path: "/proc/kcore", devNull: "/dev/null" },
    READONLY: { op: "READONLY", path: "/proc/sys" },
    WRITE: { op: "WRITE", dir: "/proc", file: "sys/a", content: "1", procfs: true },
    PIVOT: { op: "PIVOT", noPivot: false },
    ROOT_READONLY: { op: "ROOT_READONLY" },
    HOSTNAME: { op: "HOSTNAME", hostname: "h" },
    IFUP: { op: "IFUP", name: "lo" },
    RLIMIT: { op: "RLIMIT", resource: 7, soft: 1n, hard: 1n },
    RUN: { op: "RUN", candidates: ["/bin/h"], args: ["/bin/h"], env: [], dir: "" },
    CONSOLE: {
      op: "CONSOLE",
      ptmx: "/dev/pts/ptmx",
      console: "",
      bindConsole: false,
      uid: 0,
      gid: 0,
      rows: 0,
      columns: 0,
    },
    SYNC: { op: "SYNC", tag: 1 },
    BOUNDING: { op: "BOUNDING", keep: 0n },
    IDENTITY: { op: "IDENTITY", uid: 1, gid: 2, groups: [] },
    SETID: { op: "SETID", uid: 0, gid: 0 },
    DUMPABLE: { op: "DUMPABLE", dumpable: true },
    CAPS: { op: "CAPS", effective: 0n, permitted: 0n, inheritable: 0n, ambient: 0n },
    PDEATHSIG: { op: "PDEATHSIG", signal: 9 },
    CHDIR: { op: "CHDIR", path: "/" },
    EXEC: { op: "EXEC", candidates: ["/x"], args: ["x"], env: [] },
    NO_NEW_PRIVS: { op: "NO_NEW_PRIVS" },
    SECCOMP: { op: "SECCOMP", filter: new Uint8Array(16), flags: 0 },
  };
  const expected: Record<OpName, string> = {
    SETNS: "setns NEWNET: EPERM",
    CGROUP_ENTER: "enter cgroup `/sys/fs/cgroup/pids/c/tasks`: EPERM",
    CLONE: "clone flags=NEWNS: EPERM",
    UMASK: "umask: EPERM",
    MOUNT: "mount src=a dst=/b type=tmpfs flags=0: EPERM",
    ROOTFS: "bind rootfs `/r`: EPERM",
    MKDIR: "mkdir `/d`: EPERM",
    MKFILE: "mkfile `/f`: EPERM",
    BIND: "bind mount src=/s dst=/t: EPERM",
    MKNOD: "mknod `/dev/null`: EPERM",
    SYMLINK: "symlink `/dev/ptmx` -> `pts/ptmx`: EPERM",
    MASK: "mask `/proc/kcore`: EPERM",
    READONLY: "readonly `/proc/sys`: EPERM",
    WRITE: "write `/proc/sys/a`: EPERM",
    PIVOT: "pivot_root: EPERM",
    ROOT_READONLY: "remount root read-only: EPERM",
    HOSTNAME: "sethostname `h`: EPERM",
    IFUP: "bring up interface `lo`: EPERM",
    RLIMIT: "setrlimit resource=7: EPERM",
    RUN: "run hook `/bin/h`: EPERM",
    CONSOLE: "create console `/dev/pts/ptmx`: EPERM",
    SYNC: "sync tag=1: EPERM",
    BOUNDING: "drop bounding capabilities: EPERM",
    IDENTITY: "set user uid=1 gid=2: EPERM",
    SETID: "set user uid=0 gid=0 (no groups): EPERM",
    DUMPABLE: "set dumpable true: EPERM",
    CAPS: "set capabilities: EPERM",
    PDEATHSIG: "set parent death signal 9: EPERM",
    CHDIR: "chdir `/`: EPERM",
    EXEC: "exec `x`: EPERM",
    NO_NEW_PRIVS: "set no_new_privs: EPERM",
    SECCOMP: "install seccomp filter (2 instructions): EPERM",
  };
  for (const [name, op] of Object.entries(ops)) {
    const message = planFailure([op as PlanOp], 0, Errno.EPERM, 0).message;
    assertEquals(message, expected[name as OpName], name);
  }
  assertEquals(
    planFailure([{ op: "PIVOT", noPivot: true }], 0, Errno.EINVAL, 0).message,
    "move root (no_pivot_root): EINVAL",
  );
  const oom: PlanOp = {
    op: "WRITE",
    dir: "/proc",
    file: "oom_score_adj",
    content: "-500",
    procfs: true,
    self: true,
    hostPath: true,
  };
  assertEquals(
    planFailure([oom], 0, Errno.EACCES, 0).message,
    "write `/proc/self/oom_score_adj` (-500): lowering oom_score_adj needs CAP_SYS_RESOURCE: EACCES",
  );
});
