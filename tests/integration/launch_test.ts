/**
 * launch() and its hooks on the real helper: the order in which a plan's
 * parent work runs, whatever order the helper's and the init's records
 * arrive in.
 */
import { assertEquals } from "../_assert.ts";
import { assertNoLeftovers, integration } from "../_helpers.ts";
import { CLONE } from "../../ffi/constants.ts";
import { launch } from "../../lib/process/launch.ts";
import { closePidfd, waitPidfd } from "../../lib/sys/proc.ts";

Deno.test({
  name: "launch() calls onPid before onReady even when the init reaches its sync point first",
  ...integration,
  async fn() {
    // A sync point right after the clone: the init's READY often comes in
    // before the helper's PID record (two processes, one socket).
    for (let round = 0; round < 100; round++) {
      const events: string[] = [];
      const launched = await launch({
        plan: () => [
          { op: "CLONE", flags: CLONE.PARENT, cgroup: "" },
          { op: "SYNC", tag: 7 },
          { op: "EXEC", candidates: ["/bin/true"], args: ["true"], env: [] },
        ],
        stdio: [0, 1, 2],
        extraFiles: [],
        joins: [],
        onPid: (pid) => {
          events.push(isOwnChild(pid) ? "pid" : "bad pid");
        },
        onReady: (tag) => {
          events.push(`ready ${tag}`);
        },
      });
      const status = await waitPidfd(launched.pidfd);
      closePidfd(launched.pidfd);
      assertEquals(status.code, 0);
      assertEquals(events, ["pid", "ready 7"], `round ${round}`);
    }

    // A tag onPid answers is not asked of onReady.
    const events: string[] = [];
    const launched = await launch({
      plan: () => [
        { op: "CLONE", flags: CLONE.PARENT, cgroup: "" },
        { op: "SYNC", tag: 7 },
        { op: "SYNC", tag: 8 },
        { op: "EXEC", candidates: ["/bin/true"], args: ["true"], env: [] },
      ],
      stdio: [0, 1, 2],
      extraFiles: [],
      joins: [],
      onPid: () => {
        events.push("pid");
        return [7];
      },
      onReady: (tag) => {
        events.push(`ready ${tag}`);
      },
    });
    assertEquals((await waitPidfd(launched.pidfd)).code, 0);
    closePidfd(launched.pidfd);
    assertEquals(events, ["pid", "ready 8"]);
    assertNoLeftovers();
  },
});

/** Whether `pid` is a child of this process (as the init is, cloned with CLONE_PARENT). */
function isOwnChild(pid: number): boolean {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) === Deno.pid;
}
