/**
 * Comments both ways on the embedded tracker with the store on SQLite (and PostgreSQL): pipeline
 * comments become tracker notes (author mapped, replies threaded, edits and deletions carried),
 * tracker notes become comments, and nothing is duplicated or echoed (the event counts settle);
 * a comment on an entity not in the tracker fails with the reason.
 */
import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import type { PipelineStore } from "../src/store/mod.ts";
import { PipelineOps } from "../src/sync/pipeline_ops.ts";
import { TRANSMIT_TOPIC } from "../services/transmitter/transmitter.ts";
import { makeShot, openSession } from "./_tracker.ts";
import { settle, storeKindsTest, waitFor } from "./_sync.ts";
import { jobFor, mirrorShot, notesServices, transmitted, transmitter, USER_WRITER } from "./_transmit.ts";

const note = async (session: Awaited<ReturnType<typeof openSession>>, id: string) =>
  (await session.query(
    `select id, content, parent_id, in_reply_to_id, author.username, metadata.key, metadata.value from Note where id is "${id}"`,
  )).data[0];
const byTracker = async (store: PipelineStore, trackerId: string) => (await store.findEntities({ trackerId }))[0];

await storeKindsTest(
  "transmitter carries comments to notes and back, edits and deletions included, never twice",
  async ({ running, store, session }) => {
    await store.setSettings("production", { processor: { maxRetries: 0, retryBackoffMs: 10 } });
    running.tracker.addUser({ username: "ana", email: "ana@studio.example" });
    const made = await makeShot(session, "talk");
    const mirrored = await mirrorShot(store, made);
    await using _services = await notesServices(running, store);
    await using _transmitter = await transmitter(running, store);
    const ops = new PipelineOps(store, USER_WRITER);

    // Pipeline → tracker: a note by the mapped author, with the comment's id in its metadata.
    const comment = await ops.comment("talk", "/sq010/sh010/lighting", "Rim light too hot", {
      author: "ana@studio.example",
    });
    await waitFor(async () => (await store.getEntity(comment.id))!.trackerId !== null, "the note's id");
    const noteId = (await store.getEntity(comment.id))!.trackerId!;
    const made1 = await note(session, noteId);
    strictEqual(made1!.content, "Rim light too hot");
    strictEqual(made1!.parent_id, made.task.id);
    strictEqual(made1!.author.username, "ana", "the author mapped by email");
    deepStrictEqual(
      made1!.metadata.map((m: { key: string; value: string }) => [m.key, m.value]),
      [["ferry_comment_id", comment.id]],
    );
    // A reply, by someone the tracker does not know: the service's user writes it.
    const reply = await ops.comment("talk", "/sq010/sh010/lighting", "Toned down", {
      author: "ghost",
      replyTo: comment.id,
    });
    await waitFor(async () => (await store.getEntity(reply.id))!.trackerId !== null, "the reply's note");
    const replyNote = await note(session, (await store.getEntity(reply.id))!.trackerId!);
    strictEqual(replyNote!.in_reply_to_id, noteId);
    strictEqual(replyNote!.author.username, running.apiUser);
    ok((await jobFor(store, "entity.comment.created", reply.id))!.description.includes("no tracker user 'ghost'"));

    // Edited and deleted in the pipeline: the note follows.
    await ops.editComment("talk", comment.id, "Rim light still too hot");
    await waitFor(async () => (await note(session, noteId))!.content === "Rim light still too hot", "the edit");
    await ops.deleteComment("talk", reply.id);
    const replyNoteId = replyNote!.id;
    await waitFor(async () => (await note(session, replyNoteId)) === undefined, "the note's deletion");

    // Tracker → pipeline: a note on the shot, edited, then removed.
    const trackerNote = (await session.create("Note", {
      content: "Extend the shot by 8 frames",
      parent_id: made.shot.id,
      parent_type: "Shot",
    })).data;
    await waitFor(async () => (await byTracker(store, trackerNote.id)) !== undefined, "the tracker note's comment");
    const fromTracker = (await byTracker(store, trackerNote.id))!;
    strictEqual(fromTracker.parentId, mirrored.shot.id);
    strictEqual(fromTracker.data.text, "Extend the shot by 8 frames");
    await session.update("Note", [trackerNote.id], { content: "Extend the shot by 12 frames" });
    await waitFor(
      async () => (await byTracker(store, trackerNote.id))?.data.text === "Extend the shot by 12 frames",
      "the tracker edit",
    );

    // Versions: a pipeline comment is a note on the AssetVersion, and a note there a comment.
    const asset = (await session.create("Asset", { name: "plate", context_id: made.shot.id })).data;
    const assetVersion = (await session.create("AssetVersion", { asset_id: asset.id, version: 1 })).data;
    const { entity: product } = await store.writeEntity({
      type: "product",
      project: "talk",
      parentId: mirrored.shot.id,
      name: "plate",
      trackerId: asset.id,
      data: { productType: "render" },
    }, { sender: "sync", senderType: "tracker" });
    const { entity: version } = await store.writeEntity({
      type: "version",
      project: "talk",
      parentId: product.id,
      name: "v001",
      trackerId: assetVersion.id,
      data: { version: 1 },
    }, { sender: "sync", senderType: "tracker" });
    const onVersion = await ops.comment("talk", "/sq010/sh010/plate/v001", "Approved for comp");
    await waitFor(async () => (await store.getEntity(onVersion.id))!.trackerId !== null, "the version note");
    const versionNote = (await session.query(
      `select parent_id, parent_type from Note where id is "${(await store.getEntity(onVersion.id))!.trackerId}"`,
    )).data[0]!;
    deepStrictEqual([versionNote.parent_id, versionNote.parent_type], [assetVersion.id, "AssetVersion"]);
    const reviewNote = (await session.create("Note", {
      content: "Client likes it",
      parent_id: assetVersion.id,
      parent_type: "AssetVersion",
    })).data;
    await waitFor(async () => (await byTracker(store, reviewNote.id))?.parentId === version.id, "the review note");

    // Nothing echoes: queues empty, counts settle, each note and comment once.
    await transmitted(store);
    const events = await settle(store);
    await transmitted(store);
    await new Promise((resolve) => setTimeout(resolve, 500));
    strictEqual(await settle(store), events, "the tracker event count settles");
    const comments = await store.findEntities({ project: "talk", type: "comment" });
    deepStrictEqual(
      comments.map((c) => c.data.text).sort(),
      ["Approved for comp", "Client likes it", "Extend the shot by 12 frames", "Rim light still too hot"],
    );
    strictEqual((await session.query(`select id from Note where parent_id is "${assetVersion.id}"`)).data.length, 2);
    strictEqual((await session.query(`select id from Note where parent_id is "${made.task.id}"`)).data.length, 1);
    strictEqual((await session.query(`select id from Note where parent_id is "${made.shot.id}"`)).data.length, 1);
    strictEqual(await store.countEvents({ topic: "entity.comment.created" }), 5, "each comment created once");
    const jobs = await store.listEvents({ topic: TRANSMIT_TOPIC, limit: 1000 });
    strictEqual(
      jobs.filter((job) => job.description.includes("entity.comment.")).length,
      5,
      "the transmitter carried the pipeline's 5 comment changes and none of the tracker's",
    );
    await session.delete("Note", [trackerNote.id]);
    await waitFor(async () => (await byTracker(store, trackerNote.id)) === undefined, "the tracker removal");

    // A comment on a folder the tracker does not have yet fails with the reason.
    const { entity: local } = await store.writeEntity({
      type: "folder",
      project: "talk",
      parentId: mirrored.sequence.id,
      name: "sh999",
    }, { sender: "sync", senderType: "tracker" });
    const orphan = await ops.comment("talk", local.id, "Too early");
    await transmitted(store);
    const failed = await jobFor(store, "entity.comment.created", orphan.id);
    strictEqual(failed!.status, "failed");
    ok(/folder 'sh999' is not in the tracker yet/.test(failed!.error!.message), failed!.error!.message);
  },
);
