/**
 * `deno task processor` as a real process: help, /health, /metrics, handler folders from
 * FERRY_HANDLER_PATH, and a graceful stop on SIGTERM.
 */
import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { zipSync } from "fflate";
import { LEECH_TOPIC, PROC_TOPIC } from "../src/store/mod.ts";
import { memoryTracker } from "./_tracker.ts";
import { sqliteSite } from "./_store.ts";

const MAIN = new URL("../services/processor/main.ts", import.meta.url).pathname;
const DEFINE = new URL("../services/processor/define_handler.ts", import.meta.url).href;

/** Reads a child's stderr lines until one matches; keeps draining afterwards. */
async function readUntil(
  stream: ReadableStream<Uint8Array<ArrayBuffer>>,
  pattern: RegExp,
  seen: string[],
): Promise<RegExpMatchArray> {
  const lines = stream.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  while (true) {
    const { value, done } = await lines.read();
    if (done) throw new Error(`The process ended before printing ${pattern}:\n${seen.join("\n")}`);
    buffer += value;
    const parts = buffer.split("\n");
    buffer = parts.pop()!;
    for (const line of parts) {
      seen.push(line);
      const match = line.match(pattern);
      if (match) {
        (async () => {
          while (!(await lines.read()).done) { /* drain */ }
        })();
        return match;
      }
    }
  }
}

Deno.test("processor main() prints its help and refuses a bad port", async () => {
  const help = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", MAIN, "--help"],
    stdout: "piped",
  }).output();
  strictEqual(help.code, 0);
  ok(new TextDecoder().decode(help.stdout).includes("Usage: deno task processor"));
  const bad = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", MAIN, "--port", "http"],
    stderr: "piped",
  })
    .output();
  strictEqual(bad.code, 2);
  ok(new TextDecoder().decode(bad.stderr).includes("--port 'http'"));
});

Deno.test({
  name: "processor main() serves /health and /metrics, loads FERRY_HANDLER_PATH, and stops gracefully on SIGTERM",
  sanitizeResources: false,
  fn: async () => {
    await using running = await memoryTracker();
    await using site = await sqliteSite();
    const handlers = await Deno.makeTempDir({ prefix: "ferry-handlers-" });
    const home = await Deno.makeTempDir({ prefix: "ferry-home-" });
    try {
      await Deno.writeTextFile(
        `${handlers}/count.ts`,
        `import { defineHandler } from "${DEFINE}";
         export default defineHandler({ name: "count", subscription: "topic=ferry.count",
           async handle(event, { store }) { await store.dispatch({ topic: "test.counted", hash: "c" + event.id }); } });`,
      );
      await Deno.writeTextFile(`${handlers}/broken.ts`, `import "./does_not_exist.ts";`);
      {
        await using store = await site.open();
        const greet = new TextEncoder().encode(
          `export const greet = { name: "archived-greet", subscription: "topic=ferry.count", handle() {} };`,
        );
        const manifest = { version: "1.0.0", handler_subfolders: ["handlers"] };
        const archive = zipSync({
          "manifest.json": new TextEncoder().encode(JSON.stringify(manifest)),
          "handlers/greet.ts": greet,
        });
        await store.addArchive({ name: "studio", variant: "dev", filename: "studio.zip", manifest }, archive);
        await store.addArchive(
          { name: "broken", variant: "dev", filename: "broken.zip", manifest },
          zipSync({ "x.ts": greet }),
        );
        for (let i = 0; i < 5; i++) {
          await store.dispatch({
            topic: LEECH_TOPIC,
            hash: `e${i}`,
            payload: { topic: "ferry.count", id: `e${i}`, data: {} },
          });
        }
      }
      const child = new Deno.Command(Deno.execPath(), {
        args: ["run", "--allow-all", MAIN, "--port", "0", "--store", site.location, "--variant", "dev"],
        env: {
          FTRACK_SERVER: running.url,
          FTRACK_API_USER: running.apiUser,
          FTRACK_API_KEY: running.apiKey,
          FERRY_HANDLER_PATH: handlers,
          FERRY_HOME: home,
        },
        stdout: "null",
        stderr: "piped",
      }).spawn();
      const seen: string[] = [];
      const [, url] = await readUntil(child.stderr, /url=(http:\/\/127\.0\.0\.1:\d+)/, seen);
      const health = await (await fetch(`${url}/health`)).json();
      strictEqual(health.status, "ok");
      strictEqual(health.variant, "dev");
      strictEqual(health.version, "0.1.0");
      ok(health.handlers.includes("count") && health.handlers.includes("reconcile-on-leecher-start"));
      ok(health.handlers.includes("archived-greet"), "the handler archive of the variant loads");
      strictEqual(health.handlerFailures.length, 2, JSON.stringify(health.handlerFailures));
      ok(health.handlerFailures.some((failure: { error: string }) => /no manifest.json/.test(failure.error)));
      ok(health.handlerFailures.some((failure: { path: string }) => failure.path.endsWith("broken.ts")));
      {
        await using store = await site.open();
        const deadline = Date.now() + 20_000;
        while ((await store.countEvents({ topic: PROC_TOPIC, status: "finished" })) < 5) {
          if (Date.now() > deadline) throw new Error(`jobs not finished:\n${seen.join("\n")}`);
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        strictEqual(await store.countEvents({ topic: "test.counted" }), 5);
      }
      const metrics = await (await fetch(`${url}/metrics`)).text();
      ok(metrics.includes("ferry_processor_events_processed_total 5"), metrics);
      ok(metrics.includes('ferry_processor_info{version="0.1.0",variant="dev"} 1'));
      ok(/ferry_processor_queue_depth \d+/.test(metrics));
      child.kill("SIGTERM");
      const status = await child.status;
      strictEqual(status.code, 0, seen.join("\n"));
      deepStrictEqual([...Deno.readDirSync(`${home}/processor/archives`)], [], "its archive folder is removed on exit");
    } finally {
      await Deno.remove(handlers, { recursive: true });
      await Deno.remove(home, { recursive: true });
    }
  },
});
