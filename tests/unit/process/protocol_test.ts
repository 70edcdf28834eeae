/**
 * The two sides of each wire format are written by hand, once in C and once
 * in TypeScript; these tests hold them together.
 */
import { assertEquals } from "../../_assert.ts";
import { SYNC, SYNC_RECORD_SIZE } from "../../../lib/process/sync.ts";
import {
  OP_LAYOUT,
  PF,
  PLAN_HEADER_SIZE,
  PLAN_MAGIC,
  PLAN_MAX_BYTES,
  PLAN_MAX_FILTER,
  PLAN_MAX_OPS,
  PLAN_MAX_POINTERS,
  PLAN_OP_SIZE,
  PLAN_VERSION,
} from "../../../lib/plan/encode.ts";
import { DETAIL } from "../../../lib/plan/describe.ts";

const helperDir = new URL("../../../ffi/helper/", import.meta.url);

/** The value of a C constant expression of the forms used in the headers: 16, 0x1fu, (1 << 20). */
function cValue(expression: string): number {
  const text = expression.replace(/[()\s]/g, "").replace(/u$/i, "");
  const [base, shift] = text.split("<<");
  return Number(base) * 2 ** Number(shift ?? 0);
}

async function defines(file: string, prefix: string): Promise<Record<string, number>> {
  const text = await Deno.readTextFile(new URL(file, helperDir));
  const found: Record<string, number> = {};
  for (
    const match of text.matchAll(
      new RegExp(`#define ${prefix}(\\w+)\\s+(\\([^)]*\\)|[0-9a-fA-Fxu]+)`, "g"),
    )
  ) {
    found[match[1]!] = cValue(match[2]!);
  }
  return found;
}

Deno.test("sync.h and sync.ts agree on record types and size", async () => {
  const c = await defines("sync.h", "SYNC_");
  const { RECORD_SIZE, ...types } = c;
  assertEquals(types, { ...SYNC });
  assertEquals(RECORD_SIZE, SYNC_RECORD_SIZE);
});

Deno.test("plan.h and encode.ts agree on op codes and slot kinds", async () => {
  const text = await Deno.readTextFile(new URL("plan.h", helperDir));
  const ops: Record<string, { code: number; slots: string }> = {};
  for (
    const match of text.matchAll(/X\((\w+), (\d+), ([NSLUF]), ([NSLUF]), ([NSLUF]), ([NSLUF])\)/g)
  ) {
    ops[match[1]!] = { code: Number(match[2]), slots: match.slice(3, 7).join("") };
  }
  assertEquals(ops, { ...OP_LAYOUT });
});

Deno.test("plan.h and encode.ts agree on layout constants and op flags", async () => {
  const plan = await defines("plan.h", "PLAN_");
  assertEquals(plan.MAGIC, PLAN_MAGIC);
  assertEquals(plan.VERSION, PLAN_VERSION);
  assertEquals(plan.HEADER_SIZE, PLAN_HEADER_SIZE);
  assertEquals(plan.OP_SIZE, PLAN_OP_SIZE);
  assertEquals(plan.MAX_BYTES, PLAN_MAX_BYTES);
  assertEquals(plan.MAX_OPS, PLAN_MAX_OPS);
  assertEquals(plan.MAX_POINTERS, PLAN_MAX_POINTERS);
  assertEquals(plan.MAX_FILTER, PLAN_MAX_FILTER);
  assertEquals(await defines("plan.h", "PF_"), { ...PF });
});

Deno.test("ops.h and describe.ts agree on failure detail codes", async () => {
  assertEquals(await defines("ops.h", "DETAIL_"), { ...DETAIL });
});
