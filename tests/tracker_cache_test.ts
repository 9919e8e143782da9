import { deepStrictEqual, ok, rejects, strictEqual } from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Event } from "@ftrack/api";
import { openSession } from "../src/tracker/open_session.ts";
import { ContextNotFoundError, resolveContext } from "../src/tracker/resolve_context.ts";
import { cachedQuery, trackerCacheOf, useTrackerCache } from "../src/tracker/cached_query.ts";
import { TrackerCache } from "../src/tracker/tracker_cache.ts";
import { makeShot, memoryTracker, openSession as openPlainSession } from "./_tracker.ts";

async function waitFor(condition: () => boolean | Promise<boolean>, what: string, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

Deno.test("TrackerCache never returns an entry older than maxAgeMs, in any layer", async () => {
  let now = 1_000;
  const process = new TrackerCache({ maxAgeMs: 500, now: () => now });
  let loads = 0;
  const load = () => Promise.resolve(++loads);
  strictEqual(await process.get("k", load), 1);
  now += 400;
  using event = process.layer();
  strictEqual(await event.get("k", load), 1, "the per-event layer takes the process layer's entry");
  now += 100;
  strictEqual(await event.get("k", load), 1, "exactly at the bound it is still served");
  now += 1;
  strictEqual(await event.get("k", load), 2, "the per-event layer keeps the age of the data, not its own");
  strictEqual(await process.get("k", load), 2, "and the process layer got the fresh value");
  deepStrictEqual([process.stats.hits, process.stats.misses], [2, 2]);
});

Deno.test("TrackerCache.invalidate() drops entries by id or type group in every layer; failed loads are not kept", async () => {
  const process = new TrackerCache({ maxAgeMs: 60_000 });
  using event = process.layer();
  let loads = 0;
  const load = () => Promise.resolve(++loads);
  await event.get("shot", load, { ids: ["sh1"], types: ["context"] });
  await event.get("type", load, { types: ["assettype"] });
  event.invalidate({ ids: ["sh1"] });
  strictEqual(process.size, 1);
  strictEqual(event.size, 1);
  strictEqual(await event.get("shot", load), 3);
  process.updated({ topic: "ftrack.update", data: { entities: [{ entityType: "assettype", entityId: "x" }] } });
  strictEqual(await event.get("type", load), 4);
  await rejects(process.get("bad", () => Promise.reject(new Error("down"))), /down/);
  strictEqual(await process.get("bad", () => Promise.resolve("up")), "up");
  strictEqual(new TrackerCache().layer().maxAgeMs, 30_000);
  try {
    new TrackerCache({ maxAgeMs: -1 });
    ok(false);
  } catch (error) {
    ok(error instanceof RangeError && /maxAgeMs '-1'/.test(error.message));
  }
});

Deno.test({
  name: "resolveContext() and cachedQuery() answer from the cache, and afresh after a write through ferry",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    await using running = await memoryTracker();
    const session = await openSession({ server: running.url, apiUser: running.apiUser, apiKey: running.apiKey });
    const { shot, task } = await makeShot(session);
    const cache = useTrackerCache(session, new TrackerCache({ maxAgeMs: 3_600_000, now: () => 0 }));

    const first = await resolveContext(session, "demo/sq010/sh010", "lighting");
    const misses = cache.stats.misses;
    const again = await resolveContext(session, "demo/sq010/sh010", "lighting");
    strictEqual(cache.stats.misses, misses, "the second resolve asked nothing");
    strictEqual(again.task?.id, task.id);
    again.entity.name = "changed by a caller";
    strictEqual((await resolveContext(session, "demo/sq010/sh010")).entity.name, "sh010", "callers get copies");
    strictEqual(first.entity.id, shot.id);

    // A rename through ferry's session: the old path is gone, the new one found at once.
    await session.update("Shot", [shot.id], { name: "sh020" });
    await rejects(resolveContext(session, "demo/sq010/sh010"), ContextNotFoundError);
    strictEqual((await resolveContext(session, "demo/sq010/sh020", "lighting")).entity.id, shot.id);

    // A new asset type made through ferry is seen by the next lookup.
    const lookup = 'select id, short from AssetType where short is "ferrytest"';
    deepStrictEqual(await cachedQuery(session, lookup), []);
    await session.create("AssetType", { name: "Ferry test", short: "ferrytest" });
    strictEqual((await cachedQuery(session, lookup)).length, 1);
    strictEqual(trackerCacheOf(session), cache);
  },
});

Deno.test({
  name: "TrackerCache.listen() drops what an ftrack.update from another client names",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    await using running = await memoryTracker();
    const ferry = await openSession(
      { server: running.url, apiUser: running.apiUser, apiKey: running.apiKey },
      { eventHub: true },
    );
    const { user, apiKey } = running.tracker.addUser({ username: "artist" });
    const other = await openPlainSession(running, { eventHub: true, apiUser: String(user.username), apiKey });
    const cache = useTrackerCache(ferry, new TrackerCache({ maxAgeMs: 3_600_000, now: () => 0 }));
    try {
      const { task } = await makeShot(ferry);
      await waitFor(() => ferry.eventHub.isConnected() && other.eventHub.isConnected(), "the event hubs");
      // A fixed clock and an hour's bound: only the event can make the entry go.
      cache.listen(ferry.eventHub as never);
      // Subscriptions of one hub are registered in order: once a later one receives, so does the cache's.
      let probed = false;
      ferry.eventHub.subscribe("topic=ftrack.update", () => void (probed = true));
      await waitFor(async () => {
        await other.eventHub.publish(new Event("ftrack.update", { entities: [] }));
        return probed;
      }, "the cache's subscription");

      const lookup = `select id, name, status.name from Task where id is "${task.id}"`;
      strictEqual((await cachedQuery(ferry, lookup))[0]?.name, "lighting");
      strictEqual((await resolveContext(ferry, "demo/sq010/sh010", "lighting")).task?.id, task.id);
      await other.update("Task", [task.id], { name: "comp" });
      await waitFor(async () => (await cachedQuery(ferry, lookup))[0]?.name === "comp", "the renamed task");
      strictEqual((await resolveContext(ferry, "demo/sq010/sh010", "comp")).task?.id, task.id);
      ok(cache.stats.invalidated > 0);
    } finally {
      // The client sends the unsubscription asynchronously: let it go before disconnecting.
      cache[Symbol.dispose]();
      await new Promise((resolve) => setTimeout(resolve, 50));
      ferry.eventHub.disconnect();
      other.eventHub.disconnect();
    }
  },
});

Deno.test({
  name: "openSession() with a schemaCache reads the schemas of a known schema hash from the folder",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    await using running = await memoryTracker();
    const folder = await mkdtemp(join(tmpdir(), "ferry-schemas-"));
    try {
      const credentials = { server: running.url, apiUser: running.apiUser, apiKey: running.apiKey };
      const first = await openSession(credentials, { schemaCache: folder });
      const hash = String((first.serverInformation as { schema_hash?: string }).schema_hash);
      deepStrictEqual(await readdir(folder), [`${hash}.json`]);
      const kept = JSON.parse(await readFile(join(folder, `${hash}.json`), "utf8")) as Array<{ id: string }>;
      deepStrictEqual(kept.map((schema) => schema.id), (first.schemas as Array<{ id: string }>).map((s) => s.id));
      // A marker only the file holds: the next session's schemas come from the folder.
      await writeFile(join(folder, `${hash}.json`), JSON.stringify([...kept, { id: "FerryMarker", properties: {} }]));
      const second = await openSession(credentials, { schemaCache: folder });
      ok((second.schemas as Array<{ id: string }>).some((schema) => schema.id === "FerryMarker"));
      // A different hash (the server's schemas changed) is downloaded.
      await rm(join(folder, `${hash}.json`));
      await writeFile(join(folder, "stale.json"), JSON.stringify([{ id: "FerryMarker" }]));
      const third = await openSession(credentials, { schemaCache: folder });
      ok(!(third.schemas as Array<{ id: string }>).some((schema) => schema.id === "FerryMarker"));
      strictEqual((await third.query("select id from Project")).data.length, 0);
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  },
});
