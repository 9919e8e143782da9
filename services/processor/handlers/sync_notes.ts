/**
 * Tracker notes → pipeline comments (`handlers.sync-notes`): a note added to (or edited on) a
 * synced task, folder or project is recorded as an `entity.comment.created` (or `.changed`)
 * event on the pipeline entity, written on the tracker's behalf so the transmitter does not send
 * it back. Notes the transmitter made from pipeline comments carry `ferry_comment_id` metadata
 * and are not recorded again; a note is recorded once (hash `tracker-note:<id>`).
 *
 * @module
 */
import { createHash } from "node:crypto";
import { TRACKER_SENDER_TYPE } from "../../../src/store/topics.ts";
import { defineHandler } from "../define_handler.ts";
import { entriesOf } from "./_update_entries.ts";

/** Records tracker notes as pipeline comments. */
export const syncNotes = defineHandler({
  name: "sync-notes",
  subscription: "topic=ftrack.update",
  priority: 40,
  async handle(event, { session, store, project, job }) {
    const entries = entriesOf(event, "Note").filter((entry) => entry.action === "add" || entry.action === "update");
    for (const entry of entries) {
      const note = (await session.query(
        `select id, content, parent_id, author.username, author.email, metadata from Note where id is "${entry.entityId}"`,
      )).data[0];
      if (!note) continue;
      const metadata = (note.metadata ?? []) as Array<{ key: string; value: string }>;
      if (metadata.some((m) => m.key === "ferry_comment_id")) continue;
      const target = (await store.findEntities({ trackerId: String(note.parent_id) }))[0];
      if (!target) continue;
      const text = String(note.content ?? "");
      const digest = createHash("sha1").update(text).digest("hex").slice(0, 12);
      const added = entry.action === "add";
      await store.dispatch({
        topic: added ? "entity.comment.created" : "entity.comment.changed",
        hash: added ? `tracker-note:${note.id}` : `tracker-note:${note.id}:${digest}`,
        sender: job.event.sender,
        senderType: TRACKER_SENDER_TYPE,
        project: project ?? target.project,
        payload: {
          entityId: target.id,
          entityType: target.type,
          commentId: note.id,
          trackerNoteId: note.id,
          text,
          author: note.author?.email || note.author?.username || null,
          old: null,
          new: text,
        },
        description: `note on ${target.type} '${target.name}' by ${note.author?.username ?? "?"}`,
      });
    }
  },
});
