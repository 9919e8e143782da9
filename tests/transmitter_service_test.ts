/**
 * `deno task transmitter` as a real process: --help, a bad variant, /health on a free port, a
 * pipeline change carried to the tracker, a clean stop on SIGTERM.
 */
import { ok, strictEqual } from "node:assert/strict";
import { fullSync } from "../src/sync/sync_from_tracker.ts";
import { SyncSettingsSchema } from "../src/sync/sync_settings.ts";
import { makeShot, memoryTracker, openSession } from "./_tracker.ts";
import { sqliteSite } from "./_store.ts";
import { waitFor } from "./_sync.ts";

const MAIN = new URL("../services/transmitter/main.ts", import.meta.url).pathname;

Deno.test("transmitter main() answers --help and refuses a bad variant by name", async () => {
  const help = await new Deno.Command(Deno.execPath(), { args: ["run", "-A", MAIN, "--help"], stdout: "piped" })
    .output();
  strictEqual(help.code, 0);
  ok(new TextDecoder().decode(help.stdout).includes("Usage: deno task transmitter"));
  const bad = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, "--variant", "nightly"],
    stderr: "piped",
  }).output();
  strictEqual(bad.code, 2);
  ok(new TextDecoder().decode(bad.stderr).includes("--variant 'nightly' must be production, staging or dev"));
});

Deno.test({
  name: "transmitter main() serves /health, applies a pipeline rename, and stops on SIGTERM",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    await using running = await memoryTracker();
    await using site = await sqliteSite();
    await using store = await site.open();
    const session = await openSession(running);
    const { shot } = await makeShot(session, "svc");
    await fullSync({ session, store, project: "svc", settings: SyncSettingsSchema.parse({}), sender: "sync" });
    const home = await Deno.makeTempDir({ prefix: "ferry-home-" });
    try {
      const child = new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", MAIN, "--port", "0", "--store", site.location, "--variant", "staging", "--json-log"],
        env: {
          FTRACK_SERVER: running.url,
          FTRACK_API_USER: running.apiUser,
          FTRACK_API_KEY: running.apiKey,
          FERRY_HOME: home,
        },
        stdout: "null",
        stderr: "piped",
      }).spawn();
      const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
      let text = "";
      let url: string | undefined;
      while (url === undefined) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`the transmitter ended:\n${text}`);
        text += value;
        url = text.match(/"url":"(http:\/\/127\.0\.0\.1:\d+)"/)?.[1];
      }
      (async () => {
        while (!(await reader.read()).done) { /* drain */ }
      })();
      const health = await (await fetch(`${url}/health`)).json();
      strictEqual(health.status, "ok");
      strictEqual(health.variant, "staging");
      strictEqual(health.store.kind, "sqlite");
      const entity = (await store.findEntities({ trackerId: shot.id }))[0]!;
      await store.writeEntity({ ...entity, name: "sh010_tx" }, { sender: "tool", senderType: "user" });
      await waitFor(
        async () =>
          (await session.query(`select name from Shot where id is "${shot.id}"`)).data[0]!.name === "sh010_tx",
        "the rename in the tracker",
      );
      child.kill("SIGTERM");
      strictEqual((await child.status).code, 0);
    } finally {
      await Deno.remove(home, { recursive: true });
    }
  },
});
