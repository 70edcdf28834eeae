import { assertEquals } from "../../_assert.ts";
import { Errno } from "../../../ffi/_errno.ts";
import { errno, sys } from "../../../ffi/syscalls.ts";

const encoder = new TextEncoder();
const cstr = (value: string) => encoder.encode(value + "\0");

Deno.test("a successful system call returns the kernel's result", () => {
  assertEquals(sys.getpid(), Deno.pid);
});

Deno.test("a failed system call returns -1 and keeps its error for errno()", () => {
  assertEquals(sys.mkdir(cstr("/"), 0o700), -1);
  assertEquals(errno(), Errno.EEXIST);
});

Deno.test("errno() is not changed by the runtime's own failing file operations", () => {
  assertEquals(sys.mkdir(cstr("/"), 0o700), -1);
  for (let i = 0; i < 3; i++) {
    try {
      Deno.lstatSync("/nonexistent-nsinit-path"); // fails with ENOENT inside Deno
    } catch {
      // expected
    }
  }
  assertEquals(errno(), Errno.EEXIST);
});
