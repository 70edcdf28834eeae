/**
 * Mount policy as data: configured mounts, device nodes, /dev symlinks,
 * sysctls and protected paths become plan ops.
 */
import { assertEquals } from "../../_assert.ts";
import { defaultConfig, type Device, type Mount, MS } from "../../../lib/config/mod.ts";
import {
  cgroupMountOps,
  cleanPath,
  deviceOps,
  devSymlinkOps,
  makedev,
  MOUNT_ATTR,
  mountAttributes,
  mountOps,
  protectOps,
  sysctlOps,
} from "../../../lib/plan/mounts.ts";

function mount(overrides: Partial<Mount>): Mount {
  return {
    source: "",
    destination: "/mnt",
    device: "tmpfs",
    flags: 0,
    data: "",
    relabel: "",
    premount_cmds: [],
    postmount_cmds: [],
    ...overrides,
  };
}

function device(overrides: Partial<Device>): Device {
  return {
    type: "c",
    path: "/dev/x",
    major: 1,
    minor: 3,
    permissions: "rwm",
    file_mode: 0o666,
    uid: 0,
    gid: 0,
    ...overrides,
  };
}

Deno.test("makedev() encodes dev_t as glibc does, big majors and minors included", () => {
  assertEquals(makedev(1, 3), 259n);
  assertEquals(makedev(0, 0), 0n);
  assertEquals(makedev(5, 1), 0x501n);
  assertEquals(makedev(10, 229), 0xae5n);
  assertEquals(makedev(136, 255), 0x88ffn);
  // Minor 256 spills into bits 20 and up; major 4096 into bits 44 and up.
  assertEquals(makedev(0, 256), 0x100000n);
  assertEquals(makedev(4096, 0), 0x1000_0000_0000n);
  assertEquals(makedev(0xfff, 0xff), 0xfffffn);
  // The widest values: 32-bit major and minor (gnu_dev_makedev).
  assertEquals(makedev(0xffffffff, 0xffffffff), 0xffff_ffff_ffff_ffffn);
  // Both halves of both numbers at once.
  assertEquals(makedev(0x12345, 0x6789a), 0x0001_2000_6783_459an);
  assertEquals(makedev(0x12345, 0x6789a), makedev(0x12345, 0) | makedev(0, 0x6789a));
});

Deno.test("makedev() agrees with the host's /dev/null and /dev/zero", () => {
  for (const [path, major, minor] of [["/dev/null", 1, 3], ["/dev/zero", 1, 5]] as const) {
    let rdev: number | null = null;
    try {
      rdev = Deno.statSync(path).rdev;
    } catch {
      continue; // no such node on this host
    }
    assertEquals(makedev(major, minor), BigInt(rdev!));
  }
});

Deno.test("mountAttributes() maps each MS flag onto its MOUNT_ATTR and ignores the rest", () => {
  const pairs: [number, number][] = [
    [MS.MS_RDONLY, MOUNT_ATTR.RDONLY],
    [MS.MS_NOSUID, MOUNT_ATTR.NOSUID],
    [MS.MS_NODEV, MOUNT_ATTR.NODEV],
    [MS.MS_NOEXEC, MOUNT_ATTR.NOEXEC],
    [MS.MS_NOATIME, MOUNT_ATTR.NOATIME],
    [MS.MS_STRICTATIME, MOUNT_ATTR.STRICTATIME],
    [MS.MS_NODIRATIME, MOUNT_ATTR.NODIRATIME],
  ];
  for (const [flag, attr] of pairs) assertEquals(mountAttributes(flag), attr);
  assertEquals(
    mountAttributes(MS.MS_BIND | MS.MS_REC | MS.MS_RDONLY | MS.MS_NOSUID),
    MOUNT_ATTR.RDONLY | MOUNT_ATTR.NOSUID,
  );
  assertEquals(
    mountAttributes(MS.MS_BIND | MS.MS_REC | MS.MS_PRIVATE | MS.MS_SHARED | MS.MS_REMOUNT),
    0,
  );
  // The kernel's values (linux/mount.h).
  assertEquals(MOUNT_ATTR, {
    RDONLY: 0x1,
    NOSUID: 0x2,
    NODEV: 0x4,
    NOEXEC: 0x8,
    NOATIME: 0x10,
    STRICTATIME: 0x20,
    NODIRATIME: 0x80,
  });
});

Deno.test("cleanPath() makes paths absolute and removes . and .. without escaping /", () => {
  const cases: [string, string][] = [
    ["/a/b", "/a/b"],
    ["a/b", "/a/b"],
    ["/a/b/", "/a/b"],
    ["//a//b", "/a/b"],
    ["/a/./b", "/a/b"],
    ["/a/../b", "/b"],
    ["/../../etc", "/etc"],
    ["../..", "/"],
    ["/", "/"],
    ["", "/"],
    [".", "/"],
  ];
  for (const [input, expected] of cases) assertEquals(cleanPath(input), expected, input);
});

Deno.test("mountOps() resolves /proc and /sys without following symlinks", () => {
  for (const [device, destination] of [["proc", "/proc"], ["sysfs", "/sys"]] as const) {
    const ops = mountOps(mount({ device, destination, flags: MS.MS_NOSUID }), undefined);
    assertEquals(ops, [
      { op: "MKDIR", path: destination, mode: 0o755, noSymlinks: true },
      {
        op: "MOUNT",
        source: device,
        target: destination,
        fstype: device,
        data: "",
        flags: MS.MS_NOSUID,
        noSymlinks: true,
      },
    ]);
  }
  const tmpfs = mountOps(
    mount({ device: "tmpfs", source: "shm", destination: "/dev/shm" }),
    undefined,
  );
  assertEquals(tmpfs[1], {
    op: "MOUNT",
    source: "shm",
    target: "/dev/shm",
    fstype: "tmpfs",
    data: "",
    flags: 0,
    noSymlinks: false,
  });
});

Deno.test("mountOps() never passes MS_BIND or propagation to a filesystem mount", () => {
  const ops = mountOps(
    mount({ flags: MS.MS_BIND | MS.MS_NODEV | MS.MS_SHARED, data: "size=1k" }),
    undefined,
  );
  assertEquals(ops.slice(1), [
    {
      op: "MOUNT",
      source: "tmpfs",
      target: "/mnt",
      fstype: "tmpfs",
      data: "size=1k",
      flags: MS.MS_NODEV,
      noSymlinks: false,
    },
    {
      op: "MOUNT",
      source: "",
      target: "/mnt",
      fstype: "",
      data: "",
      flags: MS.MS_SHARED,
      noSymlinks: false,
    },
  ]);
  for (const flag of [MS.MS_PRIVATE, MS.MS_SLAVE, MS.MS_UNBINDABLE]) {
    const second = mountOps(mount({ flags: flag | MS.MS_REC }), undefined)[2];
    assertEquals(second, {
      op: "MOUNT",
      source: "",
      target: "/mnt",
      fstype: "",
      data: "",
      flags: flag | MS.MS_REC,
      noSymlinks: false,
    });
  }
});

Deno.test("mountOps() binds with attributes, keeping the source as given", () => {
  const flags = MS.MS_BIND | MS.MS_REC | MS.MS_RDONLY | MS.MS_NOSUID | MS.MS_PRIVATE;
  assertEquals(
    mountOps(mount({ device: "bind", source: "/host/dir/", destination: "/in/./x/" }), "directory")
      .concat(
        mountOps(mount({ device: "bind", source: "/host/f", destination: "f", flags }), "file"),
      ),
    [
      { op: "MKDIR", path: "/in/x", mode: 0o755 },
      {
        op: "BIND",
        source: "/host/dir/",
        target: "/in/x",
        recursive: false,
        attrSet: 0,
        propagation: 0,
      },
      { op: "MKFILE", path: "/f", mode: 0o644 },
      {
        op: "BIND",
        source: "/host/f",
        target: "/f",
        recursive: true,
        attrSet: MOUNT_ATTR.RDONLY | MOUNT_ATTR.NOSUID,
        propagation: MS.MS_PRIVATE,
      },
    ],
  );
});

Deno.test("mountOps() runs hooks as the seed did: path first in argv, then args, path looked up in PATH", () => {
  const ops = mountOps(
    mount({
      premount_cmds: [{ path: "/bin/a", args: [], env: ["X=1"], dir: "/" }],
      postmount_cmds: [{ path: "touch", args: ["--now"], env: ["PATH=/usr/bin:/bin"], dir: "" }],
    }),
    undefined,
  );
  assertEquals(ops.map((op) => op.op), ["RUN", "MKDIR", "MOUNT", "RUN"]);
  assertEquals(ops[0], {
    op: "RUN",
    candidates: ["/bin/a"],
    args: ["/bin/a"],
    env: ["X=1"],
    dir: "/",
  });
  assertEquals(ops[3], {
    op: "RUN",
    candidates: ["/usr/bin/touch", "/bin/touch"],
    args: ["touch", "--now"],
    env: ["PATH=/usr/bin:/bin"],
    dir: "",
  });
});

Deno.test("deviceOps() sets the file type, masks the mode and keeps the owner", () => {
  assertEquals(
    deviceOps([
      device({ type: "c", path: "/dev/null", major: 1, minor: 3, file_mode: 0o666 }),
      device({ type: "b", path: "dev/sda", major: 8, minor: 0, file_mode: 0o660, gid: 6 }),
      device({ type: "p", path: "/dev/fifo", major: 0, minor: 0, file_mode: 0o100644, uid: 5 }),
      device({ type: "c", path: "/dev/../dev/big", major: 4096, minor: 256, file_mode: 0o4755 }),
    ]),
    [
      { op: "MKNOD", path: "/dev/null", mode: 0o020666, dev: 259n, uid: 0, gid: 0 },
      { op: "MKNOD", path: "/dev/sda", mode: 0o060660, dev: 0x800n, uid: 0, gid: 6 },
      { op: "MKNOD", path: "/dev/fifo", mode: 0o010644, dev: 0n, uid: 5, gid: 0 },
      {
        op: "MKNOD",
        path: "/dev/big",
        mode: 0o024755,
        dev: 0x1000_0010_0000n,
        uid: 0,
        gid: 0,
      },
    ],
  );
});

Deno.test("devSymlinkOps() makes the standard /dev links", () => {
  assertEquals(devSymlinkOps(), [
    { op: "SYMLINK", target: "/proc/self/fd", path: "/dev/fd" },
    { op: "SYMLINK", target: "/proc/self/fd/0", path: "/dev/stdin" },
    { op: "SYMLINK", target: "/proc/self/fd/1", path: "/dev/stdout" },
    { op: "SYMLINK", target: "/proc/self/fd/2", path: "/dev/stderr" },
    { op: "SYMLINK", target: "pts/ptmx", path: "/dev/ptmx" },
  ]);
});

Deno.test("sysctlOps() writes each key as a path beneath /proc/sys, never above it", () => {
  assertEquals(sysctlOps({ "kernel.shmmni": "8192", "net.core.somaxconn": "1024" }), [
    { op: "WRITE", dir: "/proc", file: "sys/kernel/shmmni", content: "8192", procfs: true },
    { op: "WRITE", dir: "/proc", file: "sys/net/core/somaxconn", content: "1024", procfs: true },
  ]);
  // Dots become slashes, so a key cannot spell "..".
  const [escape] = sysctlOps({ "..kernel..x": "1" });
  assertEquals(escape?.op === "WRITE" && escape.file.split("/").includes(".."), false);
  assertEquals(sysctlOps({}), []);
});

Deno.test("protectOps() makes paths read-only, then masks, with clean paths", () => {
  const config = defaultConfig({ rootfs: "/r" });
  config.readonly_paths = ["/proc/sys", "proc/bus/"];
  config.mask_paths = ["/proc/kcore", "/proc/../proc/timer_list"];
  assertEquals(protectOps(config), [
    { op: "READONLY", path: "/proc/sys" },
    { op: "READONLY", path: "/proc/bus" },
    { op: "MASK", path: "/proc/kcore", devNull: "/dev/null" },
    { op: "MASK", path: "/proc/timer_list", devNull: "/dev/null" },
  ]);
});

Deno.test("cgroupMountOps() makes a tmpfs of read-only binds of the container's own cgroups", () => {
  const flags = MS.MS_NOSUID | MS.MS_NODEV | MS.MS_NOEXEC | MS.MS_RDONLY;
  const ro = MOUNT_ATTR.RDONLY | MOUNT_ATTR.NOSUID | MOUNT_ATTR.NODEV | MOUNT_ATTR.NOEXEC;
  const ops = cgroupMountOps(
    mount({ source: "cgroup", destination: "/sys/fs/cgroup/", device: "cgroup", flags }),
    [
      { name: "memory", path: "/sys/fs/cgroup/memory/p/c", links: [] },
      { name: "cpu,cpuacct", path: "/sys/fs/cgroup/cpu,cpuacct/p/c", links: ["cpu", "cpuacct"] },
    ],
  );
  const tmpfsFlags = MS.MS_NOSUID | MS.MS_NODEV | MS.MS_NOEXEC;
  const bind = (source: string, target: string) => ({
    op: "BIND",
    source,
    target,
    recursive: false,
    attrSet: ro,
    propagation: 0,
  });
  assertEquals(ops, [
    { op: "MKDIR", path: "/sys/fs/cgroup", mode: 0o755 },
    {
      op: "MOUNT",
      source: "tmpfs",
      target: "/sys/fs/cgroup",
      fstype: "tmpfs",
      data: "mode=755",
      flags: tmpfsFlags,
    },
    { op: "MKDIR", path: "/sys/fs/cgroup/memory", mode: 0o755 },
    { op: "MKDIR", path: "/sys/fs/cgroup/cpu,cpuacct", mode: 0o755 },
    { op: "SYMLINK", target: "cpu,cpuacct", path: "/sys/fs/cgroup/cpu" },
    { op: "SYMLINK", target: "cpu,cpuacct", path: "/sys/fs/cgroup/cpuacct" },
    {
      op: "MOUNT",
      source: "",
      target: "/sys/fs/cgroup",
      fstype: "",
      data: "",
      flags: MS.MS_REMOUNT | MS.MS_RDONLY | tmpfsFlags,
    },
    bind("/sys/fs/cgroup/memory/p/c", "/sys/fs/cgroup/memory"),
    bind("/sys/fs/cgroup/cpu,cpuacct/p/c", "/sys/fs/cgroup/cpu,cpuacct"),
  ]);
});

Deno.test("cgroupMountOps() on a v2-only host binds the container's one directory itself", () => {
  const ops = cgroupMountOps(
    mount({ source: "cgroup", destination: "/sys/fs/cgroup", device: "cgroup" }),
    [{ name: "", path: "/sys/fs/cgroup/p/c", links: [] }],
  );
  assertEquals(ops.map((op) => op.op), ["MKDIR", "BIND"]);
  assertEquals(ops[1], {
    op: "BIND",
    source: "/sys/fs/cgroup/p/c",
    target: "/sys/fs/cgroup",
    recursive: false,
    attrSet: MOUNT_ATTR.RDONLY | MOUNT_ATTR.NOSUID | MOUNT_ATTR.NODEV | MOUNT_ATTR.NOEXEC,
    propagation: 0,
  });
});
