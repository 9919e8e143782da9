/**
 * `deno task web` as a process: --help, --version, usage errors, and a start on a fresh FERRY_HOME
 * that prints its address once, keeps it in web.json (0600) and stops cleanly on SIGTERM.
 */
import { match, ok, strictEqual } from "node:assert/strict";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

const MAIN = new URL("../services/web/main.ts", import.meta.url).pathname;
const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

function web(args: string[], env: Record<string, string> = {}) {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", MAIN, ...args],
    env: { PATH: Deno.env.get("PATH") ?? "", HOME: Deno.env.get("HOME") ?? "/tmp", ...env },
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  });
}

Deno.test("web main() prints its help and version, and names a bad flag's value", async () => {
  const help = await web(["--help"]).output();
  strictEqual(help.code, 0);
  match(decode(help.stdout), /Usage: deno task web \[--port 8072\]/);
  match(decode(help.stdout), /Publishes/);
  const version = await web(["--version"]).output();
  strictEqual(version.code, 0);
  match(decode(version.stdout), /^ferry web \d+\.\d+\.\d+/);
  const port = await web(["--port", "http"]).output();
  strictEqual(port.code, 2);
  match(decode(port.stderr), /port/);
  match(decode(port.stderr), /http/);
  const host = await web(["--host", "evil.example"]).output();
  strictEqual(host.code, 2);
  match(decode(host.stderr), /loopback/);
  const variant = await web(["--port", "0"], { FERRY_VARIANT: "qa" }).output();
  strictEqual(variant.code, 2);
  match(decode(variant.stderr), /FERRY_VARIANT 'qa' must be production, staging or dev/);
  const extra = await web(["serve"]).output();
  strictEqual(extra.code, 2);
  match(decode(extra.stderr), /Unexpected argument 'serve'/);
});

Deno.test({
  name: "web main() serves a fresh FERRY_HOME: the address with its token once, web.json 0600, a clean stop",
  sanitizeResources: false,
  fn: async () => {
    const home = await mkdtemp(join(tmpdir(), "ferry-web-process-"));
    try {
      const child = web(["--port", "0"], { FERRY_HOME: home }).spawn();
      const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
      let out = "";
      while (!out.includes("\n")) {
        const { value, done } = await reader.read();
        if (done) break;
        out += value;
      }
      const loginUrl = out.trim();
      match(loginUrl, /^http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]{43}$/);
      const info = JSON.parse(await readFile(join(home, "web.json"), "utf8"));
      strictEqual(`${info.url}/?token=${info.token}`, loginUrl);
      strictEqual((await stat(join(home, "web.json"))).mode & 0o777, 0o600);

      const login = await fetch(loginUrl, { redirect: "manual" });
      await login.body?.cancel();
      strictEqual(login.status, 303);
      const cookie = login.headers.get("set-cookie")!.split(";")[0]!;
      const front = await fetch(info.url, { headers: { cookie } });
      strictEqual(front.status, 200);
      match(await front.text(), /No projects yet: run <code>deno task demo<\/code>/);
      const events = await fetch(`${info.url}/events`, { headers: { cookie } });
      match(await events.text(), /No pipeline store at/);
      const refused = await fetch(info.url);
      strictEqual(refused.status, 401);
      await refused.body?.cancel();

      child.kill("SIGTERM");
      const status = await child.status;
      await reader.cancel().catch(() => {});
      const stderr = decode(await new Response(child.stderr).arrayBuffer().then((b) => new Uint8Array(b)));
      strictEqual(status.code, 0, stderr);
      match(stderr, /web: stopping/);
      ok(!stderr.includes(info.token), "the token is printed once, on stdout");
      await stat(join(home, "web.json")).then(
        () => ok(false, "web.json is removed on exit"),
        (error) => strictEqual(error.code, "ENOENT"),
      );
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  },
});
