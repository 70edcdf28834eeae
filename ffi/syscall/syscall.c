/*
 * nsinit_syscall: a raw system call that returns the kernel's result as is,
 * -errno on failure, instead of libc's -1 plus a thread-local errno.
 *
 * Reading errno is a second FFI call, and the runtime may run code of its
 * own on the JS thread between the two calls; a failing file operation there
 * replaces the errno we came to read. With the error in the return value
 * there is nothing to lose. Built as a tiny shared object with no libc, and
 * loaded from a memfd (ffi/syscalls.ts).
 */

long nsinit_syscall(long nr, long a, long b, long c, long d, long e, long f)
{
#if defined(__x86_64__)
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	register long r9 __asm__("r9") = f;
	long ret;
	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
#elif defined(__aarch64__)
	register long x8 __asm__("x8") = nr;
	register long x0 __asm__("x0") = a;
	register long x1 __asm__("x1") = b;
	register long x2 __asm__("x2") = c;
	register long x3 __asm__("x3") = d;
	register long x4 __asm__("x4") = e;
	register long x5 __asm__("x5") = f;
	__asm__ volatile("svc 0"
			 : "+r"(x0)
			 : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5)
			 : "memory");
	return x0;
#else
#error "nsinit_syscall: unsupported architecture"
#endif
}
