/**
 * Tracker notes → pipeline comments (`handlers.sync-notes`): a note added to, edited on or
 * removed from a synced project, folder, task or version creates, updates or deletes a `comment`
 * entity under the pipeline entity, written on the tracker's behalf (sender type `tracker`) so
 * the transmitter does not carry it back. Notes are matched to comments by the note's id, then by
 * its `ferry_comment_id` metadata (notes the transmitter made from pipeline comments), so nothing
 * is recorded twice; replies are comments on the same entity with `data.replyTo`.
 *
 * A note can come before its entity is in the pipeline: a publish makes the AssetVersion and its
 * note in the tracker, then records the version in the pipeline store (the publish plugin, or the
 * version sync of the AssetVersion's own event). So a note on an entity the pipeline lacks, of a
 * project the pipeline has (its `project` entity is there), fails the job with an error naming
 * the note and the entity: the processor retries it with backoff (`processor.maxRetries`,
 * `processor.retryBackoffMs`) and the note is recorded once the entity is there; the other
 * notes of the event are recorded first (a retry leaves them unchanged). A note on an entity of a
 * project the pipeline does not sync is skipped quietly. An entity that never comes within the
 * retries (a version the pipeline does not record) leaves the job `failed` with that reason; the
 * next full sync of the project records the note if the entity is there by then. Retrying the
 * event rather than syncing a version's notes where versions are recorded keeps one place (this
 * handler) that turns live notes into comments, whoever records the version.
 *
 * @module
 */
import {
  readTrackerNote,
  recordTrackerNote,
  removeTrackerNote,
  syncedProjectOf,
} from "../../../src/sync/comment_sync.ts";
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
    const waiting: string[] = [];
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
      if (outcome.kind === "skipped" && outcome.missingParent !== undefined) {
        const project = await syncedProjectOf(session, store, outcome.missingParent);
        if (project !== undefined) {
          waiting.push(
            `note ${note.id} is on tracker entity ${outcome.missingParent} of synced project '${project.project}', which the pipeline does not have yet`,
          );
          continue;
        }
      }
      log.debug(`note ${outcome.kind}`, {
        note: note.id,
        ...(outcome.kind === "skipped" ? { reason: outcome.reason } : {}),
      });
    }
    if (waiting.length > 0) throw new Error(`${waiting.join("; ")}: retried until it is recorded`);
  },
});
