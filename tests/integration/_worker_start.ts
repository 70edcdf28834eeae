/**
 * Fixture of escape_test.ts: a Worker that creates a container and starts
 * its init, then posts the init's pid; the test terminates the worker.
 *
 * @module
 */
import { createFactory } from "../../mod.ts";

const scope = self as unknown as {
  onmessage: ((event: MessageEvent) => void) | null;
  postMessage(message: unknown): void;
};

scope.onmessage = async (event: MessageEvent) => {
  const { root, id, config } = event.data;
  const factory = await createFactory({ root });
  const container = await factory.create(id, config);
  const process = await container.start({
    args: ["/bin/probe", "sleep", "0"],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  });
  scope.postMessage({ pid: process.pid });
};
