/**
 * Tracker notes → pipeline comments (`handlers.sync-notes`): a note added to, edited on or
 * removed from a synced project, folder, task or version creates, updates or deletes a `comment`
 * entity under the pipeline entity, written on the tracker's behalf (sender type `tracker`) so
 * the transmitter does not carry it back. Notes are matched to comments by the note's id, then by
 * its `ferry_comment_id` metadata (notes the transmitter made from pipeline comments), so nothing
 * is recorded twice; replies are comments on the same entity with `data.replyTo`.
 *
 * @module
 */
import { readTrackerNote, recordTrackerNote, removeTrackerNote } from "../../../src/sync/comment_sync.ts";
import { TRACKER_SENDER_TYPE } from "../../../src/store/topics.ts";
import { defineHandler } from "../define_handler.ts";
import { entriesOf } from "./_update_entries.ts";

/** Records tracker notes as pipeline comments. */
export const syncNotes = defineHandler({
  name: "sync-notes",
  subscription: "topic=ftrack.update",
  priority: 40,
  async handle(event, { session, store, job, log }) {
    const writer = { sender: job.event.sender ?? "processor", senderType: TRACKER_SENDER_TYPE };
    for (const entry of entriesOf(event, "Note")) {
      if (entry.action === "remove") {
        if (await removeTrackerNote(store, entry.entityId, writer)) {
          log.debug("comment deleted", { note: entry.entityId });
        }
        continue;
      }
      if (entry.action !== "add" && entry.action !== "update") continue;
      const note = await readTrackerNote(session, entry.entityId);
      if (!note) continue;
      const outcome = await recordTrackerNote({
        store,
        note,
        writer,
        readNote: (id) => readTrackerNote(session, id),
      });
      log.debug(`note ${outcome.kind}`, {
        note: note.id,
        ...(outcome.kind === "skipped" ? { reason: outcome.reason } : {}),
      });
    }
  },
});
