/**
 * The leecher against the embedded tracker, through the official client's event hub.
 */
import { Event } from "@ftrack/api";
import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import type { HubEvent } from "../src/events/event.ts";
import { createLogger } from "../src/cli/service_log.ts";
import { LEECH_TOPIC, LEECHER_STARTED_TOPIC, startLeecher } from "../services/leecher/leecher.ts";
import { startTracker } from "../services/tracker/server.ts";
import { makeShot, memoryTracker, openSession } from "./_tracker.ts";
import { sqliteSite, storeKinds } from "./_store.ts";

const quiet = createLogger({ name: "leecher", level: "error" });

async function waitFor(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

for (const { kind, site: storeSite, ignore } of await storeKinds()) {
  Deno.test({
    name:
      `startLeecher() stores each tracker event once (two leechers, ${kind} store), drops meta and social events, records its start`,
    ignore,
    sanitizeOps: false,
    sanitizeResources: false,
    fn: async () => {
      await using running = await memoryTracker();
      await using site = await storeSite();
      await using store = await site.open();
      const seen: HubEvent[] = [];
      running.tracker.hub.listeners.add((event) => seen.push(event));
      const credentials = { server: running.url, apiUser: running.apiUser, apiKey: running.apiKey };
      let connects = 0;
      await using first = await startLeecher({
        store,
        credentials,
        sender: "leecher@one",
        log: quiet,
        onConnect: (n) => (connects = n),
      });
      const other = running.tracker.addUser({ username: "leecher2" });
      await using second = await startLeecher({
        store,
        credentials: { ...credentials, apiUser: String(other.user.username), apiKey: other.apiKey },
        sender: "leecher@two",
        log: quiet,
      });
      await waitFor(
        () => connects === 1 && second.stats.connects === 1 && running.tracker.hub.connectionCount >= 2,
        "both leechers",
      );
      await new Promise((resolve) => setTimeout(resolve, 200)); // the hub takes the subscriptions

      const writer = await openSession(running);
      const { project, task } = await makeShot(writer, "leechdemo");
      const publisher = await openSession(running, { eventHub: true });
      try {
        await publisher.eventHub.publish(new Event("ferry.custom", { n: 1 }));
        await publisher.eventHub.publish(
          new Event("ftrack.update", { entities: [{ entityType: "socialfeed", entityId: "x" }] }),
        );
        const wanted = () =>
          seen.filter((event) =>
            !event.topic.startsWith("ftrack.meta.") && !(event.topic === "ftrack.update" &&
              (event.data as { entities?: Array<{ entityType: string }> }).entities?.every((e) =>
                e.entityType === "socialfeed"
              ))
          );
        await waitFor(async () => {
          const ids = new Set((await store.listEvents({ topic: LEECH_TOPIC, limit: 1000 })).map((event) => event.hash));
          return seen.some((event) => event.topic === "ferry.custom") && wanted().every((event) => ids.has(event.id));
        }, "every event stored");
        await first.drain();
        await second.drain();
        const stored = await store.listEvents({ topic: LEECH_TOPIC, limit: 1000 });
        const fromTracker = stored.filter((event) => (event.payload as HubEvent).topic !== LEECHER_STARTED_TOPIC);
        deepStrictEqual(fromTracker.map((event) => event.hash).sort(), wanted().map((event) => event.id).sort());
        strictEqual(new Set(stored.map((event) => event.hash)).size, stored.length, "no event twice");
        strictEqual(first.stats.stored + second.stats.stored, fromTracker.length);
        strictEqual(
          first.stats.duplicates + second.stats.duplicates,
          fromTracker.length,
          "the other leecher's copy was a duplicate",
        );
        ok(first.stats.dropped >= 1 && second.stats.dropped >= 1, "the social event was dropped");

        const update = fromTracker.find((event) =>
          (event.payload as HubEvent).topic === "ftrack.update" &&
          ((event.payload as HubEvent).data as { entities: Array<{ entityId: string }> }).entities[0]?.entityId ===
            task.id
        )!;
        ok(update, "the task's creation is stored");
        strictEqual(update.project, "leechdemo", "the project's name, read from the tracker");
        strictEqual(update.senderType, "tracker");
        ok(update.description.startsWith("Leeched ftrack.update by "));
        strictEqual(update.status, "finished");
        strictEqual(fromTracker.find((event) => (event.payload as HubEvent).topic === "ferry.custom")?.project, null);
        ok(project.id);

        const started = stored.filter((event) => (event.payload as HubEvent).topic === LEECHER_STARTED_TOPIC);
        deepStrictEqual(started.map((event) => event.sender).sort(), ["leecher@one", "leecher@two"]);
      } finally {
        publisher.eventHub.disconnect();
      }
    },
  });
}

Deno.test({
  name: "startLeecher() reconnects after the tracker restarts and records a leecher-started event again",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const apiKey = "reconnect-key-123456";
    let running = await startTracker({ port: 0, data: ":memory:", apiUser: "ferry", apiKey });
    const port = Number(new URL(running.url).port);
    await using site = await sqliteSite();
    await using store = await site.open();
    let connects = 0;
    const leecher = await startLeecher({
      store,
      credentials: { server: running.url, apiUser: "ferry", apiKey },
      log: quiet,
      onConnect: (n) => (connects = n),
    });
    try {
      await waitFor(() => connects === 1, "the first connection");
      await running.close();
      await waitFor(() => !leecher.connected, "the leecher to notice");
      running = await startTracker({ port, data: ":memory:", apiUser: "ferry", apiKey });
      await waitFor(() => connects === 2, "the reconnection", 30_000);
      await new Promise((resolve) => setTimeout(resolve, 200));
      const writer = await openSession(running);
      await makeShot(writer, "after");
      await waitFor(
        async () =>
          (await store.listEvents({ topic: LEECH_TOPIC, limit: 1000 })).some((event) => event.project === "after"),
        "an event after the reconnection",
      );
      const started = (await store.listEvents({ topic: LEECH_TOPIC, limit: 1000 }))
        .filter((event) => (event.payload as HubEvent).topic === LEECHER_STARTED_TOPIC);
      deepStrictEqual(started.map((event) => ((event.payload as HubEvent).data as { connects: number }).connects), [
        1,
        2,
      ]);
    } finally {
      await leecher.close();
      await running.close();
    }
  },
});

Deno.test("leecher main() prints its help and refuses a bad variant with exit code 2", async () => {
  const run = (...args: string[]) =>
    new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-all", new URL("../services/leecher/main.ts", import.meta.url).pathname, ...args],
      stdout: "piped",
      stderr: "piped",
    }).output();
  const help = await run("--help");
  strictEqual(help.code, 0);
  ok(new TextDecoder().decode(help.stdout).includes("Usage: deno task leecher"));
  const bad = await run("--variant", "nightly");
  strictEqual(bad.code, 2);
  ok(new TextDecoder().decode(bad.stderr).includes("--variant 'nightly' must be production, staging or dev"));
});

Deno.test("leecher main() waits for an unreachable FTRACK_SERVER with backoff and stops on SIGTERM", async () => {
  await using site = await sqliteSite();
  // A port nobody listens on.
  const listener = Deno.listen({ port: 0, hostname: "127.0.0.1" });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-all",
      new URL("../services/leecher/main.ts", import.meta.url).pathname,
      "--store",
      site.location,
    ],
    env: { FTRACK_SERVER: `http://127.0.0.1:${port}`, FTRACK_API_USER: "ferry", FTRACK_API_KEY: "k" },
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let output = "";
  while ((output.match(/trying again in/g) ?? []).length < 2) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`the leecher ended early:\n${output}`);
    output += value;
  }
  ok(output.includes("trying again in 1 s") && output.includes("trying again in 2 s"), output);
  child.kill("SIGTERM");
  (async () => {
    while (!(await reader.read()).done) { /* drain */ }
  })();
  strictEqual((await child.status).code, 0);
});
