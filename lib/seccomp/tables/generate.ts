/**
 * Generates the system call tables (`x86_64.ts`, `i386.ts`, `aarch64.ts`
 * beside this file) from the kernel's uapi headers that Debian's
 * linux-libc-dev installs, and checks that the committed tables are current.
 *
 * ```sh
 * deno run --allow-read --allow-write lib/seccomp/tables/generate.ts          # write
 * deno run --allow-read lib/seccomp/tables/generate.ts --check                # compare
 * deno run --allow-read --allow-write lib/seccomp/tables/generate.ts --include /tmp/usr/include
 * ```
 *
 * - x86_64 and i386 come from `asm/unistd_64.h` and `asm/unistd_32.h`, which
 *   are flat lists of `#define __NR_<name> <number>`.
 * - aarch64 has no such list in an amd64 package: its numbers are those of
 *   `asm-generic/unistd.h`, read through a small preprocessor that evaluates
 *   the header's `#if`s the way arm64's `asm/unistd.h` includes it: a 64-bit
 *   native build (`__BITS_PER_LONG` 64, no `__SYSCALL_COMPAT`) with the
 *   `__ARCH_WANT_*` macros arm64 defines before the include (`RENAMEAT`,
 *   `NEW_STAT`, `SET_GET_RLIMIT`, `TIME32_SYSCALLS`, `SYS_CLONE3`,
 *   `MEMFD_SECRET`, as in Linux 6.1's `arch/arm64/include/uapi/asm/unistd.h`);
 *   `__ARCH_WANT_SYNC_FILE_RANGE2` and `__ARCH_NOMMU` stay undefined. The
 *   `__NR3264_*` slots take their 64-bit names (`fcntl`, `fstatfs`, `lseek`,
 *   `mmap`, `newfstatat`, ...), as the header's own tail maps them.
 *
 * Each table records its source file, the package version (from dpkg's
 * status file) and the file's sha256; `--check` and the unit test regenerate
 * from the same file and compare. A dev script: it uses Deno's file APIs.
 *
 * @module
 */

const HERE = new URL(".", import.meta.url);

/** One table to generate. */
interface TableSpec {
  /** Output file name beside this script. */
  file: string;
  /** Exported constant. */
  constant: string;
  /** Architecture, for the doc comment. */
  arch: string;
  /** Header path relative to the include root. */
  header: string;
  /** How the header is read. */
  read: (text: string) => Map<string, number>;
  /** Extra lines for the doc comment: how the numbers were derived. */
  how: string[];
}

/** The macros arm64's uapi `asm/unistd.h` defines before it includes the generic table. */
export const ARM64_WANTS = [
  "__ARCH_WANT_RENAMEAT",
  "__ARCH_WANT_NEW_STAT",
  "__ARCH_WANT_SET_GET_RLIMIT",
  "__ARCH_WANT_TIME32_SYSCALLS",
  "__ARCH_WANT_SYS_CLONE3",
  "__ARCH_WANT_MEMFD_SECRET",
] as const;

/** The tables, in the order they are written. */
export const TABLES: readonly TableSpec[] = [
  {
    file: "x86_64.ts",
    constant: "SYSCALLS_X86_64",
    arch: "x86_64",
    header: "x86_64-linux-gnu/asm/unistd_64.h",
    read: readFlatList,
    how: ["Every `#define __NR_<name> <number>` of the file."],
  },
  {
    file: "i386.ts",
    constant: "SYSCALLS_I386",
    arch: "i386",
    header: "x86_64-linux-gnu/asm/unistd_32.h",
    read: readFlatList,
    how: [
      "Every `#define __NR_<name> <number>` of the file. An x86_64 kernel runs",
      "this ABI too (`int 0x80`), with `seccomp_data.arch` AUDIT_ARCH_I386.",
    ],
  },
  {
    file: "aarch64.ts",
    constant: "SYSCALLS_AARCH64",
    arch: "aarch64",
    header: "asm-generic/unistd.h",
    read: (text) => readGenericTable(text, ARM64_WANTS),
    how: [
      "The generic table read as arm64 includes it: `__BITS_PER_LONG` 64, no",
      "`__SYSCALL_COMPAT`, and the `__ARCH_WANT_*` macros arm64 defines (Linux 6.1",
      "`arch/arm64/include/uapi/asm/unistd.h`), by suffix: " +
      ARM64_WANTS.slice(0, 3).map((w) => w.slice(12)).join(", ") + ",",
      ARM64_WANTS.slice(3).map((w) => w.slice(12)).join(", ") +
      " (so `renameat`, `getrlimit`, `setrlimit`, `newfstatat`,",
      "`fstat`, `clone3` and `memfd_secret` exist); `__NR3264_*` slots under their",
      "64-bit names.",
    ],
  },
];

/** Reads a flat `#define __NR_<name> <number>` list (unistd_64.h, unistd_32.h). */
export function readFlatList(text: string): Map<string, number> {
  const table = new Map<string, number>();
  for (const match of text.matchAll(/^#define __NR_([A-Za-z0-9_]+)\s+(\d+)\s*$/gm)) {
    table.set(match[1]!, Number(match[2]));
  }
  return table;
}

/**
 * Reads asm-generic/unistd.h as a C preprocessor would with `wants` defined:
 * `#if`/`#ifdef`/`#ifndef`/`#else`/`#endif` are evaluated (`defined`, `!`,
 * `&&`, `||`, `==`, `!=`, integers and object-like macros), object-like
 * `#define`s and `#undef`s are tracked, and every defined `__NR_<name>` whose
 * value resolves to a number becomes an entry, `__NR_syscalls` excepted.
 */
export function readGenericTable(text: string, wants: readonly string[]): Map<string, number> {
  const macros = new Map<string, string>([["__BITS_PER_LONG", "64"]]);
  for (const want of wants) macros.set(want, "");
  // Per open #if: is this branch live, was a branch of the group taken, is the enclosing one live.
  const stack: { live: boolean; taken: boolean; outer: boolean }[] = [];
  const live = () => stack.length === 0 || stack[stack.length - 1]!.live;
  const lines = text.replace(/\\\n/g, " ").split("\n");
  for (const raw of lines) {
    const line = raw.replace(/\/\*.*?\*\//g, " ").trim();
    const directive = /^#\s*(\w+)\s*(.*)$/.exec(line);
    if (!directive) continue;
    const [, name, rest] = directive as unknown as [string, string, string];
    switch (name) {
      case "if":
      case "ifdef":
      case "ifndef": {
        const outer = live();
        const value = name === "if"
          ? evaluate(rest, macros)
          : macros.has(rest.trim()) === (name === "ifdef");
        stack.push({ live: outer && value, taken: value, outer });
        break;
      }
      case "elif": {
        const frame = stack[stack.length - 1]!;
        const value = !frame.taken && evaluate(rest, macros);
        frame.live = frame.outer && value;
        frame.taken ||= value;
        break;
      }
      case "else": {
        const frame = stack[stack.length - 1]!;
        frame.live = frame.outer && !frame.taken;
        frame.taken = true;
        break;
      }
      case "endif":
        stack.pop();
        break;
      case "define": {
        if (!live()) break;
        const define = /^(\w+)(\(?)\s*(.*)$/.exec(rest);
        if (!define) throw new Error(`Cannot read \`#define ${rest}\``);
        // Function-like macros (`__SYSCALL(x, y)`) only need to count as defined.
        macros.set(define[1]!, define[2] ? "" : define[3]!.trim());
        break;
      }
      case "undef":
        if (live()) macros.delete(rest.trim());
        break;
      case "include":
      case "error":
      case "warning":
        break;
      default:
        throw new Error(`Unexpected directive \`#${name}\``);
    }
  }
  if (stack.length !== 0) throw new Error("Unbalanced `#if` in the generic table");
  const table = new Map<string, number>();
  for (const [macro] of macros) {
    const name = /^__NR_(\w+)$/.exec(macro)?.[1];
    if (!name || name === "syscalls") continue;
    const value = resolve(macro, macros);
    if (value !== undefined) table.set(name, value);
  }
  return new Map([...table].sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : 1)));
}

/** Follows object-like macros to a decimal number, if they reach one. */
function resolve(macro: string, macros: Map<string, string>): number | undefined {
  let value = macros.get(macro);
  for (let hops = 0; value !== undefined && hops < 8; hops++) {
    if (/^\d+$/.test(value)) return Number(value);
    value = macros.get(value);
  }
  return undefined;
}

/** Evaluates a preprocessor condition (the subset asm-generic/unistd.h uses). */
function evaluate(expression: string, macros: Map<string, string>): boolean {
  const tokens = expression.match(/defined|\w+|&&|\|\||==|!=|[!()]/g) ?? [];
  let at = 0;
  const peek = () => tokens[at];
  const take = (expected?: string) => {
    const token = tokens[at++];
    if (token === undefined || (expected !== undefined && token !== expected)) {
      throw new Error(`Cannot evaluate \`#if ${expression}\``);
    }
    return token;
  };
  const primary = (): number => {
    const token = take();
    if (token === "!") return primary() ? 0 : 1;
    if (token === "(") {
      const value = or();
      take(")");
      return value;
    }
    if (token === "defined") {
      const paren = peek() === "(";
      if (paren) take("(");
      const name = take();
      if (paren) take(")");
      return macros.has(name) ? 1 : 0;
    }
    if (/^\d+$/.test(token)) return Number(token);
    // An identifier: its value when it is a number, else 0 (as the preprocessor does).
    return resolve(token, macros) ?? 0;
  };
  const equality = (): number => {
    let value = primary();
    while (peek() === "==" || peek() === "!=") {
      const op = take();
      const right = primary();
      value = (op === "==") === (value === right) ? 1 : 0;
    }
    return value;
  };
  const and = (): number => {
    let value = equality();
    while (peek() === "&&") {
      take();
      const right = equality();
      value = value && right ? 1 : 0;
    }
    return value;
  };
  const or = (): number => {
    let value = and();
    while (peek() === "||") {
      take();
      const right = and();
      value = value || right ? 1 : 0;
    }
    return value;
  };
  const value = or();
  if (at !== tokens.length) throw new Error(`Cannot evaluate \`#if ${expression}\``);
  return value !== 0;
}

/** The version of the dpkg package that owns `path`, or `unknown`. */
export function packageOf(path: string): { name: string; version: string } {
  const info = "/var/lib/dpkg/info";
  try {
    for (const entry of Deno.readDirSync(info)) {
      if (!entry.name.endsWith(".list")) continue;
      const list = Deno.readTextFileSync(`${info}/${entry.name}`);
      if (!list.split("\n").includes(path)) continue;
      const name = entry.name.slice(0, -".list".length).replace(/:.*$/, "");
      const status = Deno.readTextFileSync("/var/lib/dpkg/status");
      for (const stanza of status.split("\n\n")) {
        if (!new RegExp(`^Package: ${name}$`, "m").test(stanza)) continue;
        const version = /^Version: (.+)$/m.exec(stanza)?.[1];
        if (version) return { name, version };
      }
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return { name: "unknown", version: "unknown" };
}

async function sha256(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The source a table was generated from, as its doc comment records it. */
export interface TableSource {
  /** Absolute path of the header. */
  path: string;
  /** The dpkg package and version that installed it. */
  package: { name: string; version: string };
  /** sha256 of the header's bytes. */
  sha256: string;
}

/** Renders one table module. */
export function render(spec: TableSpec, table: Map<string, number>, source: TableSource): string {
  const numbers = [...table.values()];
  const lines = [
    "// deno-fmt-ignore-file",
    "/**",
    ` * System call numbers of ${spec.arch}: name to number.`,
    " *",
    " * Generated by `lib/seccomp/tables/generate.ts`; do not edit.",
    ` * Source: \`${source.path}\`,`,
    ` * installed by ${source.package.name} ${source.package.version} (Debian),`,
    ` * sha256 ${source.sha256}.`,
    ...spec.how.map((line) => ` * ${line}`),
    ` * ${table.size} system calls, numbered ${Math.min(...numbers)} to ${Math.max(...numbers)}.`,
    " *",
    " * @module",
    " */",
    "",
    `/** ${spec.arch} system call numbers by name; look names up with \`Object.hasOwn\`. */`,
    `export const ${spec.constant}: Readonly<Record<string, number>> = Object.freeze({`,
  ];
  let line = " ";
  for (const [name, number] of table) {
    const entry = ` ${name}: ${number},`;
    if (line.length + entry.length > 100) {
      lines.push(line);
      line = " ";
    }
    line += entry;
  }
  if (line.trim()) lines.push(line);
  lines.push(
    "});",
    "",
    "/** The highest number above: a call numbered higher is newer than this table. */",
    `export const ${spec.constant}_HIGHEST = ${Math.max(...numbers)};`,
    "",
  );
  return lines.join("\n");
}

/** Generates every table from the headers under `include`. */
export async function generate(include = "/usr/include"): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const spec of TABLES) {
    const path = `${include}/${spec.header}`;
    const bytes = Deno.readFileSync(path);
    const table = spec.read(new TextDecoder().decode(bytes));
    if (table.size < 200) throw new Error(`Only ${table.size} system calls read from \`${path}\``);
    const source = { path, package: packageOf(path), sha256: await sha256(bytes) };
    out.set(spec.file, render(spec, table, source));
  }
  return out;
}

/** The sha256 a committed table records for its source, and the source path. */
export function recordedSource(text: string): { path: string; sha256: string } | undefined {
  const path = /Source: `([^`]+)`/.exec(text)?.[1];
  const sha = /sha256 ([0-9a-f]{64})/.exec(text)?.[1];
  return path && sha ? { path, sha256: sha } : undefined;
}

if (import.meta.main) {
  const check = Deno.args.includes("--check");
  const includeAt = Deno.args.indexOf("--include");
  const include = includeAt >= 0 ? Deno.args[includeAt + 1] : undefined;
  const tables = await generate(include);
  let stale = 0;
  for (const [file, text] of tables) {
    const url = new URL(file, HERE);
    let current = "";
    try {
      current = Deno.readTextFileSync(url);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
    if (current === text) {
      console.log(`${file}: current`);
    } else if (check) {
      console.error(`${file}: stale; run lib/seccomp/tables/generate.ts`);
      stale++;
    } else {
      Deno.writeTextFileSync(url, text);
      console.log(`${file}: written`);
    }
  }
  if (stale) Deno.exit(1);
}
