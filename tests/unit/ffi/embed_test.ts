import { assertEquals } from "../../_assert.ts";
import { ARTIFACTS, sourcesDigest } from "../../../ffi/build.ts";
import * as helper from "../../../ffi/helper/_embed.ts";
import * as probe from "../../../ffi/probe/_embed.ts";
import * as syscall from "../../../ffi/syscall/_embed.ts";

const EMBEDS: Record<string, { SOURCES_SHA256: string; BASE64: string; SIZE: number }> = {
  helper,
  probe,
  syscall,
};

for (const artifact of ARTIFACTS) {
  Deno.test(`the embedded ${artifact.name} binary was built from the current sources`, async () => {
    const embed = EMBEDS[artifact.name]!;
    assertEquals(embed.SOURCES_SHA256, await sourcesDigest(artifact), "run `deno task build`");
    assertEquals(atob(embed.BASE64).length, embed.SIZE);
  });
}

Deno.test("the CLI bundle was built from the current sources", async () => {
  const { bundleDigest, bundledDigest } = await import("../../../cli/bundle.ts");
  assertEquals(await bundledDigest(), await bundleDigest(), "run `deno task build`");
});
