import { assert, assertEquals, assertThrows } from "../../_assert.ts";
import { ConfigError } from "../../../lib/errors.ts";
import { DEFAULT_ALLOWED_DEVICES } from "../../../lib/config/defaults.ts";
import {
  DevicePolicy,
  devicePolicy,
  type DeviceRule,
  type DeviceRules,
  type DeviceWrite,
  deviceWriteText,
  encodeWrites,
  seedWrites,
} from "../../../lib/devices/rules.ts";
import { bits, checkProgram, model, runProgram } from "./_reference.ts";

function rule(text: string): DeviceRule {
  const [type, numbers, permissions] = text.split(" ");
  const [major, minor] = (numbers ?? "*:*").split(":").map((n) => n === "*" ? -1 : Number(n));
  return { type: type!, major: major!, minor: minor!, permissions: permissions ?? "" };
}

function texts(writes: readonly DeviceWrite[]): string[] {
  return writes.map((w) =>
    `${w.file === "devices.allow" ? "allow" : "deny"} ${deviceWriteText(w)}`
  );
}

const BPF_TYPE: Record<string, number> = { b: 1, c: 2 };

/** Every query of a small domain around the rules: their numbers, and numbers no rule names. */
function* queries(writes: readonly DeviceWrite[]): Iterable<[string, number, number, number]> {
  const majors = new Set([99, ...writes.map((w) => w.major).filter((n) => n >= 0)]);
  const minors = new Set([77, ...writes.map((w) => w.minor).filter((n) => n >= 0)]);
  for (const type of ["b", "c"]) {
    for (const major of majors) {
      for (const minor of minors) {
        for (let access = 1; access <= 7; access++) yield [type, major, minor, access];
      }
    }
  }
}

const LETTERS = ["", "m", "r", "rm", "w", "wm", "rw", "rwm"];

/** Checks a policy against the kernel model of `seed`: v1 writes, answers and the program agree. */
function assertDecidesLike(policy: DevicePolicy, seed: readonly DeviceWrite[]): void {
  const expected = model(seed);
  const minimal = model(policy.writes);
  const program = policy.program();
  checkProgram(program);
  for (const [type, major, minor, access] of queries(seed)) {
    const want = expected.allowed(type, major, minor, access);
    const what = `${type} ${major}:${minor} ${LETTERS[access]} after ${texts(seed).join(", ")}`;
    assertEquals(minimal.allowed(type, major, minor, access), want, `v1 writes: ${what}`);
    assertEquals(policy.allows(type, major, minor, LETTERS[access]!), want, `allows(): ${what}`);
    const verdict = runProgram(program, BPF_TYPE[type]! | (access << 16), major, minor);
    assertEquals(verdict, want ? 1 : 0, `program: ${what}`);
  }
}

/** The writes are minimal: `a` first, then distinct exceptions to the other file, none removable. */
function assertMinimal(policy: DevicePolicy): void {
  const [first, ...rest] = policy.writes;
  assertEquals(first!.type, "a");
  const keys = new Set<string>();
  for (const write of rest) {
    assert(write.type !== "a" && write.file !== first!.file, texts(policy.writes).join(", "));
    const key = `${write.type} ${write.major}:${write.minor}`;
    assert(!keys.has(key), `${key} written twice`);
    keys.add(key);
  }
  const full = model(policy.writes);
  rest.forEach((_, i) => {
    const without = model(policy.writes.filter((_, j) => j !== i + 1));
    const differs = [...queries(policy.writes)].some(([t, major, minor, access]) =>
      without.allowed(t, major, minor, access) !== full.allowed(t, major, minor, access)
    );
    assert(differs, `${deviceWriteText(rest[i]!)} decides nothing in ${texts(policy.writes)}`);
  });
}

Deno.test("seedWrites() is the seed's sequence: deny everything, then allow each rule", () => {
  const rules: DeviceRules = {
    allowAll: false,
    allowed: [rule("c 1:3 rw"), rule("b 8:* ")],
    denied: [rule("c 1:5 rwm")],
  };
  assertEquals(texts(seedWrites(rules)), ["deny a", "allow c 1:3 rw", "allow b 8:* rwm"]);
  assertEquals(texts(seedWrites({ ...rules, allowAll: true })), ["allow a", "deny c 1:5 rwm"]);
});

Deno.test("the default allow list needs every one of its writes", () => {
  const rules = { allowAll: false, allowed: DEFAULT_ALLOWED_DEVICES, denied: [] };
  const policy = devicePolicy(rules);
  assertEquals(policy.writes.length, DEFAULT_ALLOWED_DEVICES.length + 1);
  assertEquals(policy.allowByDefault, false);
  assert(policy.allows("c", 1, 3, "rw"));
  assert(policy.allows("c", 4, 4, "m"), "mknod of any char device");
  assert(!policy.allows("c", 4, 4, "r"));
  assert(!policy.allows("b", 8, 0, "r"));
  assertDecidesLike(policy, seedWrites(rules));
  assertMinimal(policy);
});

Deno.test("rules that allow everything become one `a` write to devices.allow", () => {
  for (
    const rules of [
      { allowAll: false, allowed: [rule("c *:* rwm"), rule("b *:* rwm")], denied: [] },
      { allowAll: true, allowed: [], denied: [] },
      { allowAll: false, allowed: [rule("c 1:3 rw"), rule("a *:* rwm")], denied: [] },
    ]
  ) {
    assertEquals(texts(devicePolicy(rules).writes), ["allow a"]);
  }
});

Deno.test("rules that deny everything become one `a` write to devices.deny", () => {
  for (
    const rules of [
      { allowAll: false, allowed: [], denied: [] },
      { allowAll: true, allowed: [], denied: [rule("b *:* rwm"), rule("c *:* rwm")] },
      { allowAll: true, allowed: [], denied: [rule("c 1:3 r"), rule("a 1:3 r")] },
    ]
  ) {
    assertEquals(texts(devicePolicy(rules).writes), ["deny a"]);
  }
});

Deno.test("a rule of type `a` resets the list whatever its numbers, as the kernel reads only the letter", () => {
  const rules = { allowAll: false, allowed: [rule("c 1:3 rw"), rule("a 5:1 r")], denied: [] };
  assertEquals(texts(devicePolicy(rules).writes), ["allow a"]);
  assertDecidesLike(devicePolicy(rules), seedWrites(rules));
});

Deno.test("rules for the same device are merged into one write", () => {
  const rules = { allowAll: false, allowed: [rule("c 1:3 r"), rule("c 1:3 w")], denied: [] };
  assertEquals(texts(devicePolicy(rules).writes), ["deny a", "allow c 1:3 rw"]);
});

Deno.test("a rule that a wider rule already grants is dropped", () => {
  const rules = { allowAll: false, allowed: [rule("c 1:3 r"), rule("c 1:* rw")], denied: [] };
  assertEquals(texts(devicePolicy(rules).writes), ["deny a", "allow c 1:* rw"]);
  const denied = { allowAll: true, allowed: [], denied: [rule("c 1:3 r"), rule("c *:3 rw")] };
  assertEquals(texts(devicePolicy(denied).writes), ["allow a", "deny c *:3 rw"]);
});

Deno.test("a device granted only by several rules together keeps its own rule", () => {
  // open(O_RDWR) asks for rw at once: under a deny default one exception must hold both.
  const rules = {
    allowAll: false,
    allowed: [rule("c *:* r"), rule("c 1:* w"), rule("c 1:3 rw")],
    denied: [],
  };
  const policy = devicePolicy(rules);
  assertEquals(policy.writes.length, 4);
  assert(policy.allows("c", 1, 3, "rw"));
  assert(!policy.allows("c", 1, 4, "rw"));
  assert(policy.allows("c", 1, 4, "w") && policy.allows("c", 1, 4, "r"));
  assertDecidesLike(policy, seedWrites(rules));
});

Deno.test("the other default is taken when it needs fewer writes", () => {
  const rules = { allowAll: false, allowed: [rule("c *:* rwm"), rule("b *:* rw")], denied: [] };
  assertEquals(texts(devicePolicy(rules).writes), ["allow a", "deny b *:* m"]);
  assertDecidesLike(devicePolicy(rules), seedWrites(rules));
});

Deno.test("the v2 program of deny-all and of allow-all is two instructions", () => {
  for (const allowAll of [true, false]) {
    const policy = devicePolicy({ allowAll, allowed: [], denied: [] });
    const program = policy.program();
    assertEquals(program.length, 16);
    checkProgram(program);
    assertEquals(runProgram(program, 2 | (2 << 16), 1, 3), allowAll ? 1 : 0);
  }
});

Deno.test("allows() refuses a bad question and devicePolicy() a bad rule", () => {
  const policy = devicePolicy({ allowAll: true, allowed: [], denied: [] });
  assertThrows(() => policy.allows("a", 1, 3, "r"), RangeError);
  assertThrows(() => policy.allows("c", 1, 3, ""), RangeError);
  assertThrows(() => policy.allows("c", 1, 3, "x"), RangeError);
  let error: unknown;
  try {
    devicePolicy({ allowAll: false, allowed: [rule("p 1:3 rw"), rule("c 1:-2 q")], denied: [] });
  } catch (caught) {
    error = caught;
  }
  assert(error instanceof ConfigError);
  assertEquals(error.issues.map((i) => i.path), [
    "cgroups.allowed_devices[0].type",
    "cgroups.allowed_devices[1].minor",
    "cgroups.allowed_devices[1].permissions",
  ]);
});

Deno.test("two policies answer for themselves in turn (the core holds one at a time)", () => {
  const open = devicePolicy({ allowAll: true, allowed: [], denied: [] });
  const closed = devicePolicy({ allowAll: false, allowed: [], denied: [] });
  assert(open.allows("c", 1, 3, "r"));
  assert(!closed.allows("c", 1, 3, "r"));
  assert(open.allows("c", 1, 3, "r"));
});

/** A small deterministic PRNG (mulberry32). */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomRule(next: () => number): DeviceRule {
  const pick = <T>(items: readonly T[]) => items[Math.floor(next() * items.length)]!;
  return {
    type: next() < 0.03 ? "a" : pick(["b", "c", "c"]),
    major: pick([-1, -1, 1, 5, 8]),
    minor: pick([-1, -1, 0, 3, 5]),
    permissions: pick(LETTERS),
  };
}

Deno.test("fuzzed rule sets: minimal writes, answers and program all decide as the seed's writes", () => {
  const next = random(7);
  for (let run = 0; run < 400; run++) {
    const list = Array.from({ length: Math.floor(next() * 10) }, () => randomRule(next));
    const rules = { allowAll: next() < 0.5, allowed: list, denied: list };
    const policy = devicePolicy(rules);
    const seed = seedWrites(rules);
    assertDecidesLike(policy, seed);
    assertMinimal(policy);
    assert(policy.writes.length <= seed.length, texts(seed).join(", "));
  }
});

Deno.test("fuzzed write sequences mixing both files decide as the kernel model", () => {
  const next = random(11);
  for (let run = 0; run < 300; run++) {
    const writes: DeviceWrite[] = Array.from({ length: Math.floor(next() * 14) }, () => {
      const r = randomRule(next);
      return {
        file: next() < 0.5 ? "devices.allow" : "devices.deny",
        type: r.type,
        major: r.major,
        minor: r.minor,
        permissions: r.permissions || "rwm",
      };
    });
    const policy = new DevicePolicy(encodeWrites(writes));
    assertDecidesLike(policy, writes);
    assertMinimal(policy);
  }
});

Deno.test("the access bits of the model are the kernel's (m 1, r 2, w 4)", () => {
  assertEquals([bits("m"), bits("r"), bits("w"), bits("rwm")], [1, 2, 4, 7]);
});
