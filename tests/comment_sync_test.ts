/**
 * Tracker notes → pipeline comments on the embedded tracker with the store on SQLite: the full
 * sync of a project's notes (created, updated, removed, replies, notes made from pipeline
 * comments matched by metadata, nothing twice), and the processor's `sync-notes` handler on
 * live note additions, edits and removals.
 */
import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import type { PipelineStore } from "../src/store/mod.ts";
import { COMMENT_ID_METADATA, syncProjectNotes } from "../src/sync/comment_sync.ts";
import { fullSync } from "../src/sync/sync_from_tracker.ts";
import { SyncSettingsSchema } from "../src/sync/sync_settings.ts";
import { makeShot } from "./_tracker.ts";
import { autoSyncOn, settle, startServices, storeKindsTest, trackerAndStore, waitFor } from "./_sync.ts";

const byTracker = async (store: PipelineStore, trackerId: string) => (await store.findEntities({ trackerId }))[0];

await storeKindsTest(
  "syncProjectNotes() records a project's notes as comments once, with replies, edits and removals",
  async ({ running, store, session }) => {
    const { project, shot, task } = await makeShot(session, "notes");
    await fullSync({ session, store, project: "notes", settings: SyncSettingsSchema.parse({}), sender: "sync" });
    const note = (await session.create("Note", { content: "Too dark", parent_id: task.id, parent_type: "Task" })).data;
    const reply = (await session.create("Note", {
      content: "Brightened in v002",
      parent_id: task.id,
      parent_type: "Task",
      in_reply_to_id: note.id,
    })).data;
    await session.create("Note", { content: "Project kickoff", parent_id: project.id, parent_type: "Project" });
    // A note the transmitter made from a pipeline comment: matched by its metadata, not doubled.
    const pipelineShot = (await byTracker(store, shot.id))!;
    const { entity: made } = await store.writeEntity({
      type: "comment",
      project: "notes",
      parentId: pipelineShot.id,
      name: "comment",
      data: { text: "From the pipeline", author: null },
    }, { sender: "tool", senderType: "user" });
    const madeNote = (await session.create("Note", {
      content: "From the pipeline",
      parent_id: shot.id,
      parent_type: "Shot",
    })).data;
    await session.create("Metadata", {
      parent_id: madeNote.id,
      parent_type: "Note",
      key: COMMENT_ID_METADATA,
      value: made.id,
    });

    const first = await syncProjectNotes({ session, store, project: "notes", sender: "sync" });
    deepStrictEqual(
      { created: first.created, updated: first.updated, removed: first.removed },
      { created: 3, updated: 1, removed: 0 },
    );
    const comments = await store.findEntities({ project: "notes", type: "comment" });
    strictEqual(comments.length, 4, "one comment per note, the pipeline's own not doubled");
    const pipelineTask = (await byTracker(store, task.id))!;
    const question = (await byTracker(store, note.id))!;
    const answer = (await byTracker(store, reply.id))!;
    strictEqual(question.parentId, pipelineTask.id);
    strictEqual(question.data.text, "Too dark");
    strictEqual(answer.parentId, pipelineTask.id, "a reply is on the same entity");
    strictEqual(answer.data.replyTo, question.id);
    strictEqual((await store.getEntity(made.id))!.trackerId, madeNote.id, "matched by ferry_comment_id");
    const me = (await session.query(`select email, username from User where username is "${running.apiUser}"`))
      .data[0]!;
    strictEqual(question.data.author, me.email || me.username, "the author's email, else username");
    strictEqual((await store.getEntity(made.id))!.data.author, null, "the pipeline comment keeps its own data");

    const again = await syncProjectNotes({ session, store, project: "notes", sender: "sync" });
    deepStrictEqual({ created: again.created, updated: again.updated, unchanged: again.unchanged }, {
      created: 0,
      updated: 0,
      unchanged: 4,
    });

    await session.update("Note", [note.id], { content: "Much too dark" });
    await session.delete("Note", [reply.id]);
    const third = await syncProjectNotes({ session, store, project: "notes", sender: "sync" });
    deepStrictEqual({ updated: third.updated, removed: third.removed }, { updated: 1, removed: 1 });
    strictEqual((await byTracker(store, note.id))!.data.text, "Much too dark");
    strictEqual(await byTracker(store, reply.id), undefined);
    const events = await store.listEvents({ topic: "entity.comment.created", limit: 100 });
    ok(events.filter((e) => e.senderType === "tracker").length === 3, "written on the tracker's behalf");

    await store.setSettings("production", { handlers: { "sync-notes": { enabled: false } } });
    await session.create("Note", { content: "Not synced", parent_id: task.id, parent_type: "Task" });
    const off = await syncProjectNotes({
      session,
      store,
      project: "notes",
      sender: "sync",
      settings: await store.getSettings("production", { project: "notes" }),
    });
    strictEqual(off.created, 0, "handlers.sync-notes off: nothing synced");
  },
);

Deno.test({
  name: "sync-notes handler creates, updates and deletes comments from live tracker notes, never twice",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    await using fixture = await trackerAndStore();
    const { running, store, session } = fixture;
    await using _services = await startServices(running, store);
    const { project, task } = await makeShot(session, "live");
    await autoSyncOn({ session, store }, project.id, task.id);
    const note = (await session.create("Note", { content: "Check the edge", parent_id: task.id, parent_type: "Task" }))
      .data;
    await waitFor(async () => (await byTracker(store, note.id)) !== undefined, "the comment");
    const reply = (await session.create("Note", {
      content: "Fixed",
      parent_id: task.id,
      parent_type: "Task",
      in_reply_to_id: note.id,
    })).data;
    await waitFor(async () => (await byTracker(store, reply.id)) !== undefined, "the reply");
    strictEqual((await byTracker(store, reply.id))!.data.replyTo, (await byTracker(store, note.id))!.id);
    await session.update("Note", [note.id], { content: "Check the left edge" });
    await waitFor(async () => (await byTracker(store, note.id))?.data.text === "Check the left edge", "the edit");
    await session.delete("Note", [reply.id]);
    await waitFor(async () => (await byTracker(store, reply.id)) === undefined, "the removal");
    await settle(store);
    strictEqual((await store.findEntities({ project: "live", type: "comment" })).length, 1);
    strictEqual(await store.countEvents({ topic: "entity.comment.created" }), 2, "each note recorded once");
  },
});
