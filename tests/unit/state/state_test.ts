/**
 * The state file: the host ends of a container's veths, and state files
 * written before they were recorded.
 */
import { assertEquals } from "../../_assert.ts";
import {
  hostInterfaceNames,
  readState,
  type StateFile,
  statePath,
  writeState,
} from "../../../lib/state/state.ts";

function withDir(fn: (dir: string) => void): void {
  const dir = Deno.makeTempDirSync({ prefix: "nsinit-state-" });
  try {
    fn(dir);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
}

const STATE: StateFile = {
  version: 1,
  id: "box",
  init_process_pid: 0,
  init_process_start: "",
  created: "2026-01-01T00:00:00.000Z",
  config: {},
  cgroup_paths: {},
  cgroup_created: [],
  namespace_paths: {},
  host_interfaces: [],
};

Deno.test("readState() loads a state file written before host_interfaces existed", () => {
  withDir((dir) => {
    const { host_interfaces: _, ...old } = STATE;
    Deno.writeTextFileSync(statePath(dir), JSON.stringify(old));
    const state = readState(dir, "box")!;
    assertEquals(state.host_interfaces, []);
    assertEquals(hostInterfaceNames(state), []);
  });
});

Deno.test("hostInterfaceNames() gives the recorded host ends in config order", () => {
  withDir((dir) => {
    writeState(dir, {
      ...STATE,
      host_interfaces: [{ name: "veth1a2b3c4", index: 41 }, { name: "vethnsinit", index: 7 }],
    });
    assertEquals(hostInterfaceNames(readState(dir, "box")!), ["veth1a2b3c4", "vethnsinit"]);
  });
});
