/**
 * mod.ts must work when imported from a URL: no file of the repository may
 * be read at run time (the helper and the probe are embedded), and
 * `--allow-ffi` stays the only permission besides the import itself.
 */
import { assertEquals, assertMatch } from "../_assert.ts";
import { integration, tempDir } from "../_helpers.ts";

const repo = new URL("../../", import.meta.url).pathname;

function contentType(path: string): string {
  return path.endsWith(".ts") ? "application/typescript" : "application/octet-stream";
}

Deno.test({
  name: "mod.ts imported over HTTP runs a container on the built-in rootfs",
  ...integration,
  async fn() {
    const controller = new AbortController();
    const server = Deno.serve({
      port: 0,
      hostname: "127.0.0.1",
      signal: controller.signal,
      onListen() {},
    }, (req) => {
      const path = decodeURIComponent(new URL(req.url).pathname);
      if (path.includes("..")) return new Response("no", { status: 403 });
      try {
        return new Response(Deno.readFileSync(`${repo}${path}`), {
          headers: { "content-type": contentType(path) },
        });
      } catch {
        return new Response("not found", { status: 404 });
      }
    });
    const host = `127.0.0.1:${server.addr.port}`;
    const dir = tempDir("url-");
    const script = `${dir}/main.ts`;
    Deno.writeTextFileSync(
      script,
      `import { builtinRootfs, createFactory, defaultConfig } from "http://${host}/mod.ts";
const factory = await createFactory({ root: "${dir}/state" });
const config = { ...defaultConfig({ rootfs: builtinRootfs(factory.root) }), hostname: "from-url" };
config.cgroups = { ...config.cgroups, name: "", parent: "nsinit-test-url-${Deno.pid}" };
const container = await factory.create("url", config);
const process = await container.start({ args: ["/bin/probe", "report"], stdout: "piped" });
const output = await process.output();
await container.destroy();
const report = JSON.parse(new TextDecoder().decode(output.stdout));
console.log(report.hostname, report.pid);
`,
    );
    try {
      const result = await new Deno.Command(Deno.execPath(), {
        args: ["run", "--quiet", "--allow-ffi", `--allow-import=${host}`, "--reload", script],
        stdout: "piped",
        stderr: "piped",
      }).output();
      const stderr = new TextDecoder().decode(result.stderr);
      assertEquals(result.code, 0, stderr);
      assertMatch(new TextDecoder().decode(result.stdout), /^from-url 1\n$/);
    } finally {
      controller.abort();
      await server.finished;
    }
  },
});
