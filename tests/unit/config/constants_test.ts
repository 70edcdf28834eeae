import { assertEquals, assertThrows } from "../../_assert.ts";
import {
  CAPABILITIES,
  capabilityNumber,
  isCapabilityName,
  MS,
  rlimitName,
  rlimitNumber,
  RLIMITS,
} from "../../../lib/config/mod.ts";

Deno.test("CAPABILITIES numbers all 41 capabilities from CHOWN=0 to CHECKPOINT_RESTORE=40", () => {
  const numbers = Object.values(CAPABILITIES);
  assertEquals(numbers, Array.from({ length: 41 }, (_, i) => i));
  assertEquals(CAPABILITIES.CHOWN, 0);
  assertEquals(CAPABILITIES.SYS_ADMIN, 21);
  assertEquals(CAPABILITIES.CHECKPOINT_RESTORE, 40);
});

Deno.test("capabilityNumber() looks a name up and throws for an unknown one", () => {
  assertEquals(capabilityNumber("NET_ADMIN"), 12);
  assertThrows(() => capabilityNumber("CAP_NET_ADMIN"), RangeError);
  assertEquals(isCapabilityName("KILL"), true);
  assertEquals(isCapabilityName("toString"), false);
});

Deno.test("RLIMITS numbers the 16 resources from RLIMIT_CPU=0 to RLIMIT_RTTIME=15", () => {
  assertEquals(Object.values(RLIMITS), Array.from({ length: 16 }, (_, i) => i));
  assertEquals(RLIMITS.RLIMIT_NOFILE, 7);
  assertEquals(rlimitNumber("RLIMIT_RTTIME"), 15);
  assertEquals(rlimitNumber("NOFILE"), 7);
  assertEquals(rlimitNumber("nofile"), undefined);
  assertEquals(rlimitName(7), "RLIMIT_NOFILE");
  assertEquals(rlimitName(16), undefined);
});

Deno.test("MS holds mount(2)'s flag values", () => {
  assertEquals(MS.MS_RDONLY | MS.MS_NOSUID | MS.MS_NODEV | MS.MS_NOEXEC, 15);
  assertEquals(MS.MS_BIND | MS.MS_REC, 0x5000);
  assertEquals(MS.MS_PRIVATE, 0x40000);
  assertEquals(MS.MS_STRICTATIME, 0x1000000);
});
