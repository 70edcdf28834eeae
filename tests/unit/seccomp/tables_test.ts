import { assert, assertEquals } from "../../_assert.ts";
import {
  highestSyscall,
  SYSCALL_TABLES,
  type SyscallAbi,
  syscallNumber,
} from "../../../lib/seccomp/mod.ts";
import {
  ARM64_WANTS,
  generate,
  readGenericTable,
  recordedSource,
} from "../../../lib/seccomp/tables/generate.ts";

const TABLE_FILES: Record<SyscallAbi, string> = {
  x86_64: "x86_64.ts",
  i386: "i386.ts",
  aarch64: "aarch64.ts",
};
const tablesDir = new URL("../../../lib/seccomp/tables/", import.meta.url);

async function sha256(path: string): Promise<string | undefined> {
  try {
    const bytes = await Deno.readFile(path);
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
    return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
}

Deno.test("the committed tables are what the generator makes from their recorded headers", async (t) => {
  const committed = Object.fromEntries(
    await Promise.all(
      Object.values(TABLE_FILES).map(async (file) =>
        [file, await Deno.readTextFile(new URL(file, tablesDir))] as const
      ),
    ),
  );
  // Only where this machine has the very headers the tables record.
  for (const [file, text] of Object.entries(committed)) {
    const source = recordedSource(text);
    assert(source, `${file} records no source`);
    if ((await sha256(source.path)) !== source.sha256) {
      await t.step({
        name: `${file}: source header differs here, not compared`,
        ignore: true,
        fn() {},
      });
      return;
    }
  }
  const generated = await generate();
  for (const [file, text] of Object.entries(committed)) {
    assertEquals(generated.get(file), text, file);
  }
});

Deno.test("the tables hold the well-known numbers", () => {
  const cases: [SyscallAbi, string, number | undefined][] = [
    ["x86_64", "read", 0],
    ["x86_64", "socket", 41],
    ["x86_64", "clone", 56],
    ["x86_64", "unshare", 272],
    ["x86_64", "clone3", 435],
    ["x86_64", "socketcall", undefined],
    ["i386", "read", 3],
    ["i386", "socketcall", 102],
    ["i386", "socket", 359],
    ["i386", "clone", 120],
    ["i386", "mmap2", 192],
    ["i386", "clone3", 435],
    ["aarch64", "io_setup", 0],
    ["aarch64", "openat", 56],
    ["aarch64", "renameat", 38],
    ["aarch64", "getrlimit", 163],
    ["aarch64", "newfstatat", 79],
    ["aarch64", "fstat", 80],
    ["aarch64", "fcntl", 25],
    ["aarch64", "lseek", 62],
    ["aarch64", "mmap", 222],
    ["aarch64", "clone", 220],
    ["aarch64", "clone3", 435],
    ["aarch64", "memfd_secret", 447],
    ["aarch64", "sync_file_range", 84],
    ["aarch64", "sync_file_range2", undefined],
    ["aarch64", "open", undefined],
    ["aarch64", "clock_gettime64", undefined],
    ["aarch64", "fcntl64", undefined],
  ];
  for (const [abi, name, nr] of cases) assertEquals(syscallNumber(abi, name), nr, `${abi} ${name}`);
  // Names are looked up as own keys only.
  assertEquals(syscallNumber("x86_64", "toString"), undefined);
  assertEquals(syscallNumber("x86_64", "__proto__"), undefined);
  for (const abi of ["x86_64", "i386", "aarch64"] as const) {
    assertEquals(highestSyscall(abi), Math.max(...Object.values(SYSCALL_TABLES[abi])));
    assertEquals(
      new Set(Object.values(SYSCALL_TABLES[abi])).size,
      Object.keys(SYSCALL_TABLES[abi]).length,
      `${abi}: one name per number`,
    );
  }
});

Deno.test("the tables agree with the numbers ffi/syscalls.ts calls by", async () => {
  const source = await Deno.readTextFile(new URL("../../../ffi/syscalls.ts", import.meta.url));
  let checked = 0;
  for (const m of source.matchAll(/^\s+(\w+): ARM64 \? (\d+) : (\d+),$/gm)) {
    assertEquals(syscallNumber("aarch64", m[1]!), Number(m[2]), `aarch64 ${m[1]}`);
    assertEquals(syscallNumber("x86_64", m[1]!), Number(m[3]), `x86_64 ${m[1]}`);
    checked++;
  }
  for (const m of source.matchAll(/^\s+(\w+): (\d+),$/gm)) {
    assertEquals(syscallNumber("aarch64", m[1]!), Number(m[2]), `aarch64 ${m[1]}`);
    assertEquals(syscallNumber("x86_64", m[1]!), Number(m[2]), `x86_64 ${m[1]}`);
    checked++;
  }
  assert(checked > 30, `only ${checked} numbers found in ffi/syscalls.ts`);
});

Deno.test("readGenericTable() evaluates the header's conditions as the arch sets them", () => {
  const header = [
    "#include <asm/bitsperlong.h>",
    "#ifndef __SYSCALL",
    "#define __SYSCALL(x, y)",
    "#endif",
    "#define __NR_a 0",
    "#ifdef __ARCH_WANT_RENAMEAT",
    "#define __NR_renameat 1",
    "#endif",
    "#if defined(__ARCH_WANT_X) || __BITS_PER_LONG != 32",
    "#define __NR3264_lseek 2",
    "#else",
    "#define __NR_never 3",
    "#endif",
    "#if __BITS_PER_LONG == 32 || defined(__SYSCALL_COMPAT)",
    "#define __NR_compat 4",
    "#elif !defined(__ARCH_NOMMU) && (1 == 1)",
    "#define __NR_mmu 5",
    "#endif",
    "#define __NR_multi \\",
    "  6",
    "#undef __NR_syscalls",
    "#define __NR_syscalls 7",
    "#if __BITS_PER_LONG == 64 && !defined(__SYSCALL_COMPAT)",
    "#define __NR_lseek __NR3264_lseek",
    "#endif",
  ].join("\n");
  assertEquals(
    Object.fromEntries(readGenericTable(header, ARM64_WANTS)),
    { a: 0, renameat: 1, lseek: 2, mmu: 5, multi: 6 },
  );
  assertEquals(Object.fromEntries(readGenericTable(header, [])), {
    a: 0,
    lseek: 2,
    mmu: 5,
    multi: 6,
  });
});
