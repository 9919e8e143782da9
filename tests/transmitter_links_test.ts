/**
 * Links both ways with every service running: links made and removed with `deno task pipeline
 * link|unlink` and the pipeline API become and stop being tracker TypedContextLinks (the tracker
 * id written back, no duplicate when the sync sees the new tracker link); links made and removed
 * in the tracker reach `data.links`; nothing echoes (the event count settles).
 */
import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import type { EntityInput, PipelineStore } from "../src/store/mod.ts";
import { linksOf } from "../src/sync/link_sync.ts";
import { pipelineApi } from "../services/transmitter/pipeline_api.ts";
import { main as pipeline } from "../scripts/pipeline.ts";
import { makeShot } from "./_tracker.ts";
import { settle, setValue, startServices, trackerAndStore, waitFor } from "./_sync.ts";
import { transmitted, transmitter } from "./_transmit.ts";

const byTracker = async (store: PipelineStore, trackerId: string) => (await store.findEntities({ trackerId }))[0]!;

Deno.test({
  name: "transmitter carries pipeline links to tracker TypedContextLinks and back, without echoes",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    await using fixture = await trackerAndStore();
    const { running, place, store, session } = fixture;
    await using _services = await startServices(running, store);
    await using _transmitter = await transmitter(running, store);
    const { project, sequence, shot, task } = await makeShot(session, "links");
    const layout = (await session.create("Shot", { name: "sh020", parent_id: sequence.id })).data;
    const comp = (await session.create("Task", { name: "comp", parent_id: shot.id })).data;
    await setValue(session, "ferry_auto_sync", project.id, true);
    await waitFor(async () => (await store.findEntities({ trackerId: comp.id })).length === 1, "the full sync");
    await settle(store);
    const trackerLinks = async () =>
      (await session.query("select id, from_id, to_id from TypedContextLink")).data as Array<
        { id: string; from_id: string; to_id: string }
      >;

    // Pipeline → tracker, with the command: sh010 → sh020.
    const out: string[] = [];
    const run = (...args: string[]) => pipeline([...args, "--store", place.location], (text) => out.push(text));
    strictEqual(await run("link", "links", "/sq010/sh010", "/sq010/sh020"), 0, out.join("\n"));
    strictEqual(await run("link", "links", "/sq010/sh010", "/sq010/sh020"), 1, "a link made twice is refused");
    strictEqual(await run("link", "links", "/sq010/nowhere", "/sq010/sh020"), 1, "an unknown path is refused");
    await waitFor(async () => (await trackerLinks()).length === 1, "the tracker link");
    const [made] = await trackerLinks();
    deepStrictEqual([made!.from_id, made!.to_id], [shot.id, layout.id]);
    await waitFor(
      async () => linksOf(await byTracker(store, layout.id))[0]?.trackerId === made!.id,
      "the id written back",
    );
    await transmitted(store);
    await settle(store);
    const sh010 = await byTracker(store, shot.id);
    deepStrictEqual(linksOf(await byTracker(store, layout.id)), [{
      from: sh010.id,
      type: "dependency",
      trackerId: made!.id,
    }]);
    strictEqual((await trackerLinks()).length, 1, "one tracker link: nothing echoed");

    // The pipeline API: lighting → comp (tasks), listed, then removed by the command.
    const app = pipelineApi({ store, token: "t".repeat(24) });
    const headers = {
      authorization: `Bearer ${"t".repeat(24)}`,
      "content-type": "application/json",
      host: "127.0.0.1",
    };
    const posted = await app.request("/projects/links/links", {
      method: "POST",
      headers,
      body: JSON.stringify({ from: "/sq010/sh010/lighting", to: "/sq010/sh010/comp" }),
    });
    strictEqual(posted.status, 201, await posted.clone().text());
    const refused = await app.request("/projects/links/links", {
      method: "POST",
      headers,
      body: JSON.stringify({ from: "/sq010/sh010", to: "/sq010/sh010" }),
    });
    strictEqual(refused.status, 400);
    ok(((await refused.json()) as { message: string }).message.includes("cannot be linked to itself"));
    await waitFor(async () => (await trackerLinks()).some((link) => link.to_id === comp.id), "the task link");
    await transmitted(store);
    await settle(store);
    const listed = await (await app.request("/projects/links/links?path=/sq010/sh010/comp", { headers })).json();
    strictEqual(listed.length, 1);
    strictEqual(listed[0].type, "dependency");
    ok(listed[0].trackerId, "one link, with the tracker's id, whichever wrote first: the transmitter or the sync");

    strictEqual(await run("unlink", "links", "/sq010/sh010/lighting", "/sq010/sh010/comp"), 0, out.join("\n"));
    strictEqual(await run("unlink", "links", "/sq010/sh010/lighting", "/sq010/sh010/comp"), 1, "not linked any more");
    await waitFor(async () => !(await trackerLinks()).some((link) => link.to_id === comp.id), "the task link gone");
    const gone = await app.request("/projects/links/links?from=/sq010/sh010&to=/sq010/sh020", {
      method: "DELETE",
      headers,
    });
    strictEqual(gone.status, 200);
    await waitFor(async () => (await trackerLinks()).length === 0, "the shot link gone");

    // Tracker → pipeline: a link made and removed in the tracker.
    const link = (await session.create("TypedContextLink", { from_id: task.id, to_id: comp.id })).data;
    const lighting = await byTracker(store, task.id);
    await waitFor(
      async () =>
        linksOf(await byTracker(store, comp.id)).some((l) => l.trackerId === link.id && l.from === lighting.id),
      "the tracker link in the pipeline",
    );
    await transmitted(store);
    await settle(store);
    strictEqual((await trackerLinks()).length, 1, "the synced link is not sent back");
    await session.delete("TypedContextLink", [link.id]);
    await waitFor(async () => linksOf(await byTracker(store, comp.id)).length === 0, "the link gone from the pipeline");
    await transmitted(store);

    // A pipeline link the tracker then has too (made there before the transmitter wrote its id back): one link.
    const compEntity = await byTracker(store, comp.id);
    await store.writeEntity({
      ...compEntity,
      data: { ...compEntity.data, links: [{ from: lighting.id, type: "dependency", trackerId: null }] },
    } as EntityInput, { sender: "test", senderType: "tracker" }); // as if its transmitter job had not run yet
    const again = (await session.create("TypedContextLink", { from_id: task.id, to_id: comp.id })).data;
    await waitFor(
      async () => linksOf(await byTracker(store, comp.id))[0]?.trackerId === again.id,
      "the pipeline link matched to the tracker's",
    );
    deepStrictEqual(linksOf(await byTracker(store, comp.id)), [{
      from: lighting.id,
      type: "dependency",
      trackerId: again.id,
    }]);
    await session.delete("TypedContextLink", [again.id]);
    await waitFor(async () => linksOf(await byTracker(store, comp.id)).length === 0, "that link gone too");
    await transmitted(store);
    const count = await settle(store);
    await new Promise((resolve) => setTimeout(resolve, 300));
    strictEqual(await settle(store), count, "the event count settles");
    deepStrictEqual(await trackerLinks(), []);
  },
});
