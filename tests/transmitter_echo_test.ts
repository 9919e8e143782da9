/**
 * Every service at once (leecher, processor with ferry's handlers and auto-sync on, transmitter)
 * on the embedded tracker with the store on SQLite: lists, products, versions, comments and
 * thumbnails made in the pipeline reach the tracker, come back through the sync as the same
 * pipeline entities (no duplicates on either side), and the event counts settle.
 */
import { deepStrictEqual, strictEqual } from "node:assert/strict";
import type { EntityInput, PipelineStore } from "../src/store/mod.ts";
import { PipelineOps } from "../src/sync/pipeline_ops.ts";
import { makeShot } from "./_tracker.ts";
import { settle, setValue, startServices, trackerAndStore, waitFor } from "./_sync.ts";
import { ids, transmitted, transmitter, USER_WRITER, writePng } from "./_transmit.ts";
import { tempFolder } from "./_publish.ts";

const byTracker = async (store: PipelineStore, trackerId: string) => (await store.findEntities({ trackerId }))[0];
const count = async (store: PipelineStore, project: string, type: "product" | "version" | "list" | "comment") =>
  (await store.findEntities({ project, type })).length;

Deno.test({
  name: "transmitter with the sync running: pipeline lists, versions, comments and thumbnails come back once",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    await using fixture = await trackerAndStore();
    const { running, store, session } = fixture;
    await using images = await tempFolder("ferry-echo-");
    await using _services = await startServices(running, store);
    await using _transmitter = await transmitter(running, store);
    const { project, shot, task } = await makeShot(session, "echo");
    await setValue(session, "ferry_auto_sync", project.id, true);
    await waitFor(async () => (await byTracker(store, task.id)) !== undefined, "the full sync");
    const pipelineShot = (await byTracker(store, shot.id))!;
    const pipelineTask = (await byTracker(store, task.id))!;

    const write = async (input: EntityInput) => (await store.writeEntity(input, USER_WRITER)).entity;
    const product = await write({
      type: "product",
      project: "echo",
      parentId: pipelineShot.id,
      name: "plate",
      data: { productType: "render" },
    });
    const version = await write({
      type: "version",
      project: "echo",
      parentId: product.id,
      name: "v001",
      data: { version: 1, taskId: pipelineTask.id },
    });
    await waitFor(async () => (await store.getEntity(version.id))!.trackerId !== null, "the version in the tracker");
    const list = await write({
      type: "list",
      project: "echo",
      name: "dailies",
      data: { listType: "version", items: [version.id] },
    });
    const ops = new PipelineOps(store, USER_WRITER);
    await ops.comment("echo", "/sq010/sh010/plate/v001", "Looks good");
    await ops.setThumbnail("echo", "/sq010/sh010/plate/v001", await writePng(images.path, "v001", [9, 99, 199]));
    await waitFor(async () => (await store.getEntity(list.id))!.trackerId !== null, "the list in the tracker");

    await transmitted(store);
    const events = await settle(store);
    await transmitted(store);
    await new Promise((resolve) => setTimeout(resolve, 700));
    strictEqual(await settle(store), events, "the tracker event count settles");
    await transmitted(store);
    deepStrictEqual(
      [
        await count(store, "echo", "product"),
        await count(store, "echo", "version"),
        await count(store, "echo", "list"),
        await count(store, "echo", "comment"),
      ],
      [1, 1, 1, 1],
      "each came back as itself",
    );
    const versionId = (await store.getEntity(version.id))!.trackerId!;
    strictEqual((await ids(session, `select id from Asset where context_id is "${shot.id}"`)).length, 1);
    strictEqual((await ids(session, `select id from AssetVersion where asset.context_id is "${shot.id}"`)).length, 1);
    strictEqual((await ids(session, `select id from List where project_id is "${project.id}"`)).length, 1);
    strictEqual((await ids(session, `select id from Note where parent_id is "${versionId}"`)).length, 1);
    deepStrictEqual((await store.getEntity(list.id))!.data.items, [version.id], "the list still holds the version");
  },
});
