/**
 * Run by userns_test.ts as an unprivileged user (setpriv): creates a
 * rootless container from argv and runs one command in it, then prints
 * `{ code, stdout, stderr }` or `{ error }` as JSON.
 *
 * Usage: _rootless_child.ts STATE_ROOT ROOTFS CGROUP_PARENT CONFIG_EXTRA_JSON [--join] CMD...
 *
 * With `--join`, CMD runs in a second process that joins a running first one.
 */
import { callerIds, createFactory, defaultConfig, rootlessConfig } from "../../mod.ts";

const [root, rootfs, cgroupParent, extra, ...rest] = Deno.args;
const join = rest[0] === "--join";
const args = join ? rest.slice(1) : rest;
const base = defaultConfig({ rootfs: rootfs! });
const config = {
  ...rootlessConfig({ ...base, cgroups: { ...base.cgroups, parent: cgroupParent! } }, callerIds()),
  ...JSON.parse(extra!),
};
const factory = await createFactory({ root: root! });
const container = await factory.create(`rootless-${Deno.pid}`, config);
try {
  const first = join
    ? await container.start({ args: ["/bin/sleep", "1000"], stdin: "null", stdout: "null" })
    : undefined;
  const process = await container.start({ args, stdin: "null", stdout: "piped", stderr: "piped" });
  const output = await process.output();
  if (first) {
    first.signal("SIGKILL");
    await first.wait();
  }
  const text = new TextDecoder();
  console.log(JSON.stringify({
    code: output.code,
    stdout: text.decode(output.stdout),
    stderr: text.decode(output.stderr),
  }));
} catch (error) {
  console.log(JSON.stringify({ error: (error as Error).message }));
} finally {
  await container.destroy();
}
