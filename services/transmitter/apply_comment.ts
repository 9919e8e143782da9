/**
 * Pipeline comments → tracker notes: a created comment becomes a note on its entity's tracker
 * entity (with `ferry_comment_id` metadata, by the author's tracker user when one matches, as a
 * reply when the comment answers one), its note's id written back on the tracker's behalf; an edit
 * updates the note's text; a deletion deletes the note.
 *
 * @module
 */
import { operation, type Session } from "@ftrack/api";
import type { ChangeContext } from "./change_context.ts";
import { randomUUID } from "node:crypto";
import type { Entity, EntityInput, Writer } from "../../src/store/entity.ts";
import type { PipelineStore } from "../../src/store/pipeline_store.ts";
import { TRACKER_SENDER_TYPE } from "../../src/store/topics.ts";
import { COMMENT_ID_METADATA } from "../../src/sync/comment_sync.ts";
import { findUserId, one, q, trackerTypeOf } from "./_lookups.ts";
import { UnappliableChange } from "./unappliable_change.ts";

/** The note made from a comment earlier (a retried job after the write-back failed), by its metadata. */
async function noteByMetadata(session: Session, commentId: string): Promise<string | undefined> {
  const found = await one(
    session,
    `select parent_id from Metadata where key is "${COMMENT_ID_METADATA}" and value is "${
      q(commentId)
    }" and parent_type is "Note"`,
  );
  return found ? String(found.parent_id) : undefined;
}

async function noteExists(session: Session, id: string): Promise<boolean> {
  return (await one(session, `select id from Note where id is "${q(id)}"`)) !== undefined;
}

/** Records a comment's note id on its entity, on the tracker's behalf. */
async function writeBack(
  store: PipelineStore,
  id: string,
  noteId: string,
  sender: string,
): Promise<Entity | undefined> {
  const current = await store.getEntity(id);
  if (!current || current.trackerId !== null) return current;
  const writer: Writer = { sender, senderType: TRACKER_SENDER_TYPE };
  return (await store.writeEntity({ ...current, trackerId: noteId } as EntityInput, writer)).entity;
}

/** Applies one `entity.comment.*` change. */
export async function applyComment(context: ChangeContext): Promise<{ summary: string }> {
  const { session, store, change, payload, sender } = context;
  switch (change) {
    case "created":
      return await createNote(session, store, payload.entityId, sender);
    case "data_changed": {
      const text = String((payload.new as { text?: unknown } | null)?.text ?? "");
      const before = String((payload.old as { text?: unknown } | null)?.text ?? "");
      if (text === before) return { summary: "the text is unchanged: nothing to apply" };
      const comment = await store.getEntity(payload.entityId);
      if (!comment) return { summary: `comment ${payload.entityId} is gone since` };
      const noteId = comment.trackerId ?? await noteByMetadata(session, comment.id);
      if (!noteId) return { summary: "not a note yet: its note is made with the current text" };
      if (!(await noteExists(session, noteId))) {
        throw new UnappliableChange(`the note ${noteId} of comment ${comment.id} is gone from the tracker`);
      }
      await session.update("Note", [noteId], { content: text });
      return { summary: `note ${noteId} text updated` };
    }
    case "deleted": {
      const old = payload.old as Entity | null;
      const noteId = old?.trackerId ?? await noteByMetadata(session, payload.entityId);
      if (!noteId) return { summary: "the comment had no note" };
      if (!(await noteExists(session, noteId))) return { summary: `note ${noteId} was gone already` };
      await session.delete("Note", [noteId]);
      return { summary: `deleted note ${noteId}` };
    }
    default:
      return { summary: `comment ${change}: nothing to apply` };
  }
}

async function createNote(
  session: Session,
  store: PipelineStore,
  id: string,
  sender: string,
): Promise<{ summary: string }> {
  const comment = await store.getEntity(id);
  if (!comment) return { summary: `comment ${id} is gone since` };
  if (comment.trackerId !== null) return { summary: `already note ${comment.trackerId}` };
  const earlier = await noteByMetadata(session, comment.id);
  if (earlier) {
    await writeBack(store, comment.id, earlier, sender);
    return { summary: `note ${earlier} made earlier; its id recorded` };
  }
  const on = comment.parentId ? await store.getEntity(comment.parentId) : undefined;
  if (!on) throw new UnappliableChange(`the commented pipeline entity ${comment.parentId} is gone`);
  if (!on.trackerId) throw new UnappliableChange(`${on.type} '${on.name}' is not in the tracker yet`);
  const parentType = await trackerTypeOf(session, on.trackerId);
  if (!parentType) throw new UnappliableChange(`tracker entity ${on.trackerId} of ${on.type} '${on.name}' is gone`);
  let inReplyTo: string | undefined;
  const replyTo = comment.data.replyTo;
  if (typeof replyTo === "string" && replyTo) {
    const answered = await store.getEntity(replyTo);
    if (!answered) throw new UnappliableChange(`the comment it answers (${replyTo}) is gone`);
    inReplyTo = answered.trackerId ?? await noteByMetadata(session, answered.id);
    if (!inReplyTo) throw new UnappliableChange(`the comment it answers (${replyTo}) is not a note yet`);
  }
  const author = typeof comment.data.author === "string" ? comment.data.author : null;
  const authorId = author ? await findUserId(session, author) : undefined;
  const userId = authorId ?? String(session.serverInformation?.user_information?.id ?? "");
  const noteId = randomUUID();
  const text = String(comment.data.text);
  await session.call([
    operation.create("Note", {
      id: noteId,
      content: text,
      parent_id: on.trackerId,
      parent_type: parentType,
      ...(userId ? { user_id: userId } : {}),
      ...(inReplyTo ? { in_reply_to_id: inReplyTo } : {}),
    }),
    operation.create("Metadata", {
      parent_id: noteId,
      parent_type: "Note",
      key: COMMENT_ID_METADATA,
      value: comment.id,
    }),
  ]);
  const written = await writeBack(store, comment.id, noteId, sender);
  if (!written) {
    // Deleted while its note was being made (the deletion's job found no note): no orphan note.
    await session.delete("Note", [noteId]);
    return { summary: `comment ${comment.id} was deleted meanwhile: its note ${noteId} deleted too` };
  }
  // An edit made while the note was being made (its job found no note yet) is carried now.
  const latest = String(written.data.text);
  if (latest !== text) await session.update("Note", [noteId], { content: latest });
  const by = author ? (authorId ? ` by ${author}` : ` by the service user (no tracker user '${author}')`) : "";
  return {
    summary: `note ${noteId} on ${parentType} ${on.trackerId}${by}${inReplyTo ? ` in reply to ${inReplyTo}` : ""}`,
  };
}
