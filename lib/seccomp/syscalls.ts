/**
 * System call numbers by ABI, and the `AUDIT_ARCH_*` value the kernel puts in
 * `seccomp_data.arch` for each. The tables are generated from the kernel's
 * uapi headers (see `tables/generate.ts`).
 *
 * @module
 */
import { SYSCALLS_AARCH64, SYSCALLS_AARCH64_HIGHEST } from "./tables/aarch64.ts";
import { SYSCALLS_I386, SYSCALLS_I386_HIGHEST } from "./tables/i386.ts";
import { SYSCALLS_X86_64, SYSCALLS_X86_64_HIGHEST } from "./tables/x86_64.ts";

/** An ABI with a system call table here. */
export type SyscallAbi = "x86_64" | "i386" | "aarch64";

/** Name to number, per ABI. */
export const SYSCALL_TABLES: Readonly<Record<SyscallAbi, Readonly<Record<string, number>>>> = Object
  .freeze({
    x86_64: SYSCALLS_X86_64,
    i386: SYSCALLS_I386,
    aarch64: SYSCALLS_AARCH64,
  });

/** `AUDIT_ARCH_*` (linux/audit.h): the ELF machine with the 64-bit and little-endian bits. */
export const AUDIT_ARCH = {
  X86_64: 0xc000003e,
  I386: 0x40000003,
  AARCH64: 0xc00000b7,
  ARM: 0x40000028,
} as const;

/** The x32 ABI's marker bit in `seccomp_data.nr` on x86_64 (`__X32_SYSCALL_BIT`). */
export const X32_SYSCALL_BIT = 0x40000000;

/**
 * A system call's number on an ABI.
 *
 * @param abi The ABI.
 * @param name The system call's name, such as `openat`.
 * @returns Its number, or `undefined` when the ABI has no such call.
 */
export function syscallNumber(abi: SyscallAbi, name: string): number | undefined {
  const table = SYSCALL_TABLES[abi];
  return Object.hasOwn(table, name) ? table[name] : undefined;
}

const HIGHEST: Readonly<Record<SyscallAbi, number>> = Object.freeze({
  x86_64: SYSCALLS_X86_64_HIGHEST,
  i386: SYSCALLS_I386_HIGHEST,
  aarch64: SYSCALLS_AARCH64_HIGHEST,
});

/** The highest number in an ABI's table: calls above it are newer than the table. */
export function highestSyscall(abi: SyscallAbi): number {
  return HIGHEST[abi];
}
