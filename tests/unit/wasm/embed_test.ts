import { assert, assertEquals } from "../../_assert.ts";
import { sourcesDigest } from "../../../wasm/build.ts";
import * as embed from "../../../wasm/_embed.ts";
import * as layout from "../../../wasm/_layout.ts";
import { wasmCore } from "../../../wasm/mod.ts";

Deno.test("the embedded WASM core was built from the current sources", async () => {
  assertEquals(embed.SOURCES_SHA256, await sourcesDigest(), "run `deno task build`");
  assertEquals(atob(embed.BASE64).length, embed.SIZE);
});

Deno.test("the WASM core imports nothing and its memory holds the whole layout", () => {
  const module = new WebAssembly.Module(
    Uint8Array.from(atob(embed.BASE64), (c) => c.charCodeAt(0)),
  );
  assertEquals(WebAssembly.Module.imports(module), []);
  assert(wasmCore().memory.buffer.byteLength >= layout.LAYOUT_END);
  assertEquals(wasmCore(), wasmCore(), "instantiated once");
});

Deno.test("the layout's regions do not overlap", () => {
  const regions: [string, number, number][] = [
    ["STATUS", layout.STATUS, 16],
    ["SEEN", layout.SEEN, layout.KEYS_PER_SET],
    ["KEYSETS", layout.KEYSETS, layout.KEYSET_MAX * layout.KEYSET_RECORD],
    ["KEY_ENTRIES", layout.KEY_ENTRIES, layout.KEY_MAX * layout.KEY_RECORD],
    ["KEY_BYTES", layout.KEY_BYTES, layout.KEY_BYTES_SIZE],
    ["KEY_BUCKETS", layout.KEY_BUCKETS, layout.KEYSET_MAX * layout.KEY_SLOTS * 2],
    ["VALUES", layout.VALUES, layout.VALUES_CAP * 8],
    ["RECORDS", layout.RECORDS, layout.RECORDS_SIZE],
    ["DEV_STATE", layout.DEV_STATE, layout.DEV_MAX * layout.DEVICE_RECORD],
    ["DEV_WRITES", layout.DEV_WRITES, (layout.DEV_MAX + 1) * layout.DEVICE_RECORD],
    ["DEV_PROG", layout.DEV_PROG, layout.DEV_PROG_CAP * 8],
    ["INPUT", layout.INPUT, layout.INPUT_SIZE],
  ];
  regions.sort((a, b) => a[1] - b[1]);
  for (let i = 1; i < regions.length; i++) {
    const [name, start, size] = regions[i - 1]!;
    assert(start + size <= regions[i]![1], `${name} overlaps ${regions[i]![0]}`);
    assertEquals(regions[i]![1] % 8, 0, `${regions[i]![0]} is 8-byte aligned`);
  }
  const [, lastStart, lastSize] = regions.at(-1)!;
  assert(lastStart + lastSize <= layout.LAYOUT_END);
  assert(layout.KEYS_PER_SET < layout.KEY_SLOTS, "a probe always meets an empty slot");
  // Header, two type tests, four instructions per rule at most, two exits of two.
  assert(6 + 2 + 4 * layout.DEV_MAX + 4 <= layout.DEV_PROG_CAP);
});
