/**
 * Leecher and processor together on the embedded tracker: events made by `@ftrack/api` writes
 * reach handlers; failures are failures, retried, then left failed and run again on request.
 */
import { Event } from "@ftrack/api";
import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { createLogger } from "../src/cli/service_log.ts";
import type { HubEvent } from "../src/events/event.ts";
import { LEECH_TOPIC, PROC_TOPIC, RECONCILE_TOPIC, type StoredEvent } from "../src/store/mod.ts";
import { startLeecher } from "../services/leecher/leecher.ts";
import { discoverHandlers } from "../services/processor/discover_handlers.ts";
import { startProcessor } from "../services/processor/processor.ts";
import { BUILTIN_HANDLERS } from "../services/processor/main.ts";
import { makeShot, memoryTracker, openSession } from "./_tracker.ts";
import { sqliteSite } from "./_store.ts";

const quiet = (name: string) => createLogger({ name, level: "error" });
const DEFINE = new URL("../services/processor/define_handler.ts", import.meta.url).href;

async function waitFor(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** A handler folder: recorders, a flaky one, a disabled one, a private and a broken module. */
async function handlerFolder(): Promise<{ path: string } & AsyncDisposable> {
  const path = await Deno.makeTempDir({ prefix: "ferry-handlers-" });
  const record = (name: string, subscription: string, priority: number) => `
    defineHandler({
      name: "${name}",
      subscription: "${subscription}",
      priority: ${priority},
      async handle(event, { store, cache, project }) {
        cache.set("${name}", true);
        await store.dispatch({ topic: "test.handled", payload: { handler: "${name}", eventId: event.id, topic: event.topic,
          project, sawEarlier: [...cache.keys()] } });
      },
    })`;
  await Deno.writeTextFile(
    `${path}/recorders.ts`,
    `import { defineHandler } from "${DEFINE}";
     export const updates = ${record("updates", "topic=ftrack.update", 100)};
     export const ordered = [${record("second", "topic=ferry.order", 20)}, ${record("first", "topic=ferry.order", 10)}];
     export const disabled = ${record("disabled", "topic=ferry.order", 30)};`,
  );
  await Deno.writeTextFile(
    `${path}/flaky.ts`,
    `import { defineHandler } from "${DEFINE}";
     export default defineHandler({
       name: "flaky",
       subscription: "topic=ferry.fail",
       handle(event, { settings }) {
         if (settings.failing !== false) throw new Error("boom on " + event.data.n);
       },
     });
     // a plain object works too
     export const plain = { name: "plain", subscription: "topic=ferry.fail", priority: 1, handle() {} };`,
  );
  await Deno.writeTextFile(`${path}/_private.ts`, `throw new Error("never imported");`);
  await Deno.writeTextFile(`${path}/broken.ts`, `export const x = ;`);
  return { path, [Symbol.asyncDispose]: () => Deno.remove(path, { recursive: true }) };
}

const handled = async (store: { listEvents: (f: object) => Promise<StoredEvent[]> }) =>
  (await store.listEvents({ topic: "test.handled", limit: 1000 })).map((event) =>
    event.payload as { handler: string; eventId: string; topic: string; project: string | null; sawEarlier: string[] }
  );

Deno.test({
  name:
    "processor runs matching handlers on leeched tracker events in priority order; failures are retried, kept, and run again on request",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    await using running = await memoryTracker();
    await using site = await sqliteSite();
    await using store = await site.open();
    await using folder = await handlerFolder();
    await store.setSettings("staging", {
      processor: { maxRetries: 1, retryBackoffMs: 50, leaseMs: 2_000 },
      handlers: { disabled: { enabled: false } },
    });
    const credentials = { server: running.url, apiUser: running.apiUser, apiKey: running.apiKey };
    let connects = 0;
    await using _leecher = await startLeecher({
      store,
      credentials,
      log: quiet("leecher"),
      onConnect: (n) => (connects = n),
    });
    await waitFor(() => connects === 1, "the leecher");
    await new Promise((resolve) => setTimeout(resolve, 200));

    const { handlers, failures } = await discoverHandlers([BUILTIN_HANDLERS, folder.path]);
    deepStrictEqual(handlers.map((handler) => handler.name).sort(), [
      "disabled",
      "discover-actions",
      "first",
      "first-version-status",
      "flaky",
      "next-task-update",
      "plain",
      "push-hierarchical-values",
      "reconcile-on-leecher-start",
      "second",
      "sync-action",
      "sync-from-tracker",
      "sync-notes",
      "sync-on-reconcile",
      "sync-requested",
      "sync-users-action",
      "task-to-parent-status",
      "task-to-version-status",
      "thumbnail-updates",
      "updates",
      "version-to-task-status",
    ]);
    strictEqual(failures.length, 1, "the broken module is reported");
    ok(failures[0]!.path.endsWith("broken.ts"));
    const session = await openSession(running);
    const outcomes: string[] = [];
    await using processor = await startProcessor({
      store,
      session,
      handlers,
      variant: "staging",
      log: quiet("processor"),
      settingsRefreshMs: 50,
      onJob: (_job, outcome) => outcomes.push(outcome),
    });

    const writer = await openSession(running);
    const { task } = await makeShot(writer, "proc");
    const hub = await openSession(running, { eventHub: true });
    try {
      await hub.eventHub.publish(new Event("ferry.order", {}));
      await hub.eventHub.publish(new Event("ferry.fail", { n: 7 }));

      await waitFor(async () => (await handled(store)).some((h) => h.topic === "ferry.order"), "the ordered handlers");
      await waitFor(async () =>
        (await handled(store)).some((h) => h.handler === "updates" && h.project === "proc") &&
        (await store.countEvents({ topic: PROC_TOPIC, status: "failed" })) === 1 &&
        (await store.listEvents({ topic: PROC_TOPIC, status: "failed" }))[0]!.retries === 1, "events to be handled");

      const records = await handled(store);
      const order = records.filter((h) => h.topic === "ferry.order");
      deepStrictEqual(
        order.map((h) => h.handler),
        ["first", "second"],
        "lower priority first; the disabled one skipped",
      );
      deepStrictEqual(
        order[1]!.sawEarlier,
        ["first", "second"],
        "the per-event cache is shared by the event's handlers",
      );
      const updates = records.filter((h) => h.handler === "updates");
      ok(updates.length >= 4, "project, sequence, shot and task creations");
      ok(updates.every((h) => h.project === "proc"));
      const leeched = await store.listEvents({ topic: LEECH_TOPIC, limit: 1000 });
      ok(
        leeched.some((event) =>
          ((event.payload as HubEvent).data as { entities?: Array<{ entityId: string }> }).entities?.[0]?.entityId ===
            task.id
        ),
      );

      const [failed] = await store.listEvents({ topic: PROC_TOPIC, status: "failed" });
      strictEqual(failed!.retries, 1, "retried up to maxRetries");
      ok(failed!.error!.message.includes("flaky: boom on 7"), failed!.error!.message);
      ok(failed!.error!.stack!.includes("[flaky] Error: boom on 7"), "the stack is kept");
      deepStrictEqual((failed!.payload as { succeeded: string[] }).succeeded, ["plain"]);
      strictEqual(outcomes.filter((o) => o === "failed").length, 2);
      ok(processor.metrics.failed === 2 && processor.metrics.handlerErrors === 2);

      const reconcile = await store.listEvents({ topic: RECONCILE_TOPIC });
      strictEqual(reconcile.length, 1, "the leecher's start asked for a reconciliation");

      // The cause is fixed; a person retries the job with `deno task events retry`.
      await store.setSettings("staging", {
        processor: { maxRetries: 1, retryBackoffMs: 50, leaseMs: 2_000 },
        handlers: { disabled: { enabled: false }, flaky: { failing: false } },
      });
      await new Promise((resolve) => setTimeout(resolve, 100));
      const cli = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "--allow-all",
          new URL("../scripts/events.ts", import.meta.url).pathname,
          "retry",
          failed!.dependsOn!,
          "--store",
          site.location,
        ],
        stdout: "piped",
        stderr: "piped",
      }).output();
      strictEqual(cli.code, 0, new TextDecoder().decode(cli.stderr));
      ok(new TextDecoder().decode(cli.stdout).includes(`Job ${failed!.id} is pending again`));
      await waitFor(async () => (await store.getEvent(failed!.id))!.status === "finished", "the retried job to finish");
      deepStrictEqual(
        (await store.getEvent(failed!.id))!.payload,
        { succeeded: ["plain", "flaky"] },
        "plain did not run twice",
      );
    } finally {
      hub.eventHub.disconnect();
    }
  },
});

Deno.test("events main() lists failed jobs, shows one with its source, and refuses unknown ids and missing stores", async () => {
  await using site = await sqliteSite();
  {
    await using store = await site.open();
    await store.dispatch({
      topic: LEECH_TOPIC,
      hash: "h1",
      project: "demo",
      payload: { topic: "ftrack.update", id: "h1" },
    });
    const job = await store.enroll(LEECH_TOPIC, PROC_TOPIC, { sender: "p", sequential: true, maxRetries: 0 });
    await store.failJob(job!.event.id, "p", {
      error: { message: "handler x: it broke", stack: "Error: it broke\n at x" },
    });
  }
  const { main } = await import("../scripts/events.ts");
  const out: string[] = [];
  strictEqual(await main(["list", "--status", "failed", "--store", site.location], (text) => out.push(text)), 0);
  ok(out.join("\n").includes("failed") && out.join("\n").includes("error: handler x: it broke"), out.join("\n"));
  const json: string[] = [];
  strictEqual(
    await main(["list", "--status", "failed", "--json", "--store", site.location], (text) => json.push(text)),
    0,
  );
  const [job] = JSON.parse(json.join(""));
  const shown: string[] = [];
  strictEqual(await main(["show", job.id, "--json", "--store", site.location], (text) => shown.push(text)), 0);
  strictEqual(JSON.parse(shown.join("")).source.hash, "h1");
  strictEqual(await main(["show", "nope", "--store", site.location], () => {}), 1);
  strictEqual(await main(["list", "--status", "broken", "--store", site.location], () => {}), 2);
  strictEqual(await main(["list", "--store", `${site.location}.missing`], () => {}), 3, "a missing store is not made");
});
