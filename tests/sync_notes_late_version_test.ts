/**
 * The `sync-notes` handler on a note that comes before its version is in the pipeline (a
 * publish's note, the version recorded afterwards by the publish plugin): the job is retried
 * until the version is there, then the note is one comment; a note on an unsynced project's
 * version is skipped without a retry. Embedded tracker, leecher and processor, store on SQLite.
 */
import { ok, strictEqual } from "node:assert/strict";
import { type PipelineStore, PROC_TOPIC } from "../src/store/mod.ts";
import { pipelineIdOf } from "../src/sync/pipeline_id.ts";
import { makeShot } from "./_tracker.ts";
import { autoSyncOn, makeVersion, settle, startServices, trackerAndStore, waitFor } from "./_sync.ts";

const byTracker = async (store: PipelineStore, trackerId: string) => (await store.findEntities({ trackerId }))[0];
const comments = async (store: PipelineStore, noteId: string) =>
  (await store.findEntities({ trackerId: noteId })).filter((entity) => entity.type === "comment");

Deno.test({
  name: "syncNotes records a note made before its version is in the pipeline once the version is, exactly once",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    await using fixture = await trackerAndStore();
    const { running, store, session } = fixture;
    // Versions are recorded by the publish (below), not by the version sync; retries come quickly.
    await store.setSettings("production", {
      processor: { retryBackoffMs: 100, retryBackoffMaxMs: 400, maxRetries: 20 },
      handlers: { "sync-from-tracker": { syncVersions: false } },
    });
    await using _services = await startServices(running, store);
    const { project, shot, task } = await makeShot(session, "late");
    await autoSyncOn({ session, store }, project.id, task.id);
    await settle(store, "the full sync to settle");

    const { assetId, versionId } = await makeVersion(session, { contextId: shot.id, taskId: task.id });
    const note = (await session.create("Note", {
      content: "Published: first look",
      parent_id: versionId,
      parent_type: "AssetVersion",
    })).data;
    await waitFor(
      async () => (await store.countEvents({ topic: PROC_TOPIC, status: "failed" })) > 0,
      "the note's job to fail for want of the version",
      10_000,
    );
    strictEqual((await comments(store, note.id)).length, 0, "no comment while the version is missing");

    // What the publish plugin writes: the product (the Asset) and the version, by tracker id.
    const writer = { sender: "publish@test", senderType: "pipeline" };
    const folder = (await byTracker(store, shot.id))!;
    const product = (await store.writeEntity({
      id: pipelineIdOf(assetId),
      type: "product",
      project: folder.project,
      parentId: folder.id,
      name: "beauty",
      trackerId: assetId,
      data: { productType: "render" },
    }, writer)).entity;
    const version = (await store.writeEntity({
      id: pipelineIdOf(versionId),
      type: "version",
      project: folder.project,
      parentId: product.id,
      name: "v001",
      trackerId: versionId,
      data: { version: 1 },
    }, writer)).entity;

    await waitFor(async () => (await comments(store, note.id)).length > 0, "the note's comment", 15_000);
    await settle(store);
    const recorded = await comments(store, note.id);
    strictEqual(recorded.length, 1, "one comment for the note");
    strictEqual(recorded[0]!.parentId, version.id, "on the version");
    strictEqual(recorded[0]!.data.text, "Published: first look");
    strictEqual((await store.findEntities({ project: folder.project, type: "comment" })).length, 1);
  },
});

Deno.test({
  name:
    "syncNotes skips a note on a version of a project the pipeline does not sync, or on a synced project's milestone, without a retry",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    await using fixture = await trackerAndStore();
    const { running, store, session } = fixture;
    await using _services = await startServices(running, store);
    const { shot, task } = await makeShot(session, "elsewhere");
    const { versionId } = await makeVersion(session, { contextId: shot.id, taskId: task.id });
    const note = (await session.create("Note", {
      content: "Looks fine",
      parent_id: versionId,
      parent_type: "AssetVersion",
    })).data;
    const synced = await makeShot(session, "kept");
    await autoSyncOn({ session, store }, synced.project.id, synced.task.id);
    const milestone = (await session.create("Milestone", { name: "delivery", parent_id: synced.project.id })).data;
    const onMilestone = (await session.create("Note", {
      content: "Due Friday",
      parent_id: milestone.id,
      parent_type: "TypedContext",
    })).data;
    await settle(store);
    strictEqual((await comments(store, note.id)).length, 0);
    strictEqual((await comments(store, onMilestone.id)).length, 0);
    strictEqual(await store.countEvents({ topic: PROC_TOPIC, status: "failed" }), 0, "no job failed");
    ok((await store.countEvents({ topic: PROC_TOPIC, status: "finished" })) > 0);
  },
});
