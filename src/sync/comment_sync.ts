/**
 * Tracker notes ↔ pipeline comments, the tracker → pipeline half: a note on a synced entity
 * (project, folder, task, version) is a `comment` entity under it, whose `trackerId` is the note's
 * id. A note is matched to its comment by that id, then by the note's `ferry_comment_id` metadata
 * (the transmitter writes it on the notes it makes from pipeline comments), so a note is never
 * recorded twice. Replies (`in_reply_to`) are comments on the same entity with `data.replyTo` =
 * the pipeline id of the comment they answer. Writes carry the caller's writer (sender type
 * `tracker`), which the transmitter leaves alone.
 *
 * @module
 */
import type { Session } from "@ftrack/api";
import type { Entity, EntityInput, Writer } from "../store/entity.ts";
import type { PipelineStore } from "../store/pipeline_store.ts";
import type { Settings } from "../store/settings.ts";
import { TRACKER_SENDER_TYPE } from "../store/topics.ts";
import { chunk, queryAll, quoted } from "./tracker_project.ts";

/** The note metadata key holding the pipeline comment's id (set on notes made from pipeline comments). */
export const COMMENT_ID_METADATA = "ferry_comment_id";

/** The name every comment entity gets (comments are told apart by id; their text is `data.text`). */
export const COMMENT_NAME = "comment";

/** The settings key of tracker notes → pipeline comments (`handlers.sync-notes`). */
export const NOTES_SETTINGS_KEY = "sync-notes";

/** The pipeline entity types a note can be on. */
export const COMMENTABLE_TYPES: ReadonlySet<string> = new Set(["project", "folder", "task", "version"]);

/** What a query of notes selects (see {@linkcode noteOf}). */
export const NOTE_PROJECTION =
  "id, content, parent_id, parent_type, in_reply_to_id, author.username, author.email, metadata.key, metadata.value";

/** A tracker note as the comment sync reads it. */
export interface TrackerNote {
  id: string;
  content: string;
  parentId: string | null;
  inReplyToId: string | null;
  /** The author's email, else username, when known. */
  author: string | null;
  /** The note's metadata, key → value. */
  metadata: Record<string, string>;
}

/**
 * A tracker note out of a row selected with {@linkcode NOTE_PROJECTION}.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { noteOf } from "./comment_sync.ts";
 *
 * const note = noteOf({ id: "n1", content: "Fix the edge", parent_id: "t1", in_reply_to_id: null,
 *   author: { username: "ana", email: "" }, metadata: [{ key: "ferry_comment_id", value: "c1" }] });
 * ok(note.author === "ana" && note.metadata.ferry_comment_id === "c1");
 * ```
 */
export function noteOf(row: Record<string, unknown>): TrackerNote {
  const author = row.author as { username?: unknown; email?: unknown } | null | undefined;
  const metadata: Record<string, string> = {};
  const rows = Array.isArray(row.metadata) ? row.metadata as Array<{ key?: unknown; value?: unknown }> : [];
  for (const item of rows) if (typeof item?.key === "string") metadata[item.key] = String(item.value ?? "");
  const text = (value: unknown) => typeof value === "string" && value !== "" ? value : null;
  return {
    id: String(row.id),
    content: String(row.content ?? ""),
    parentId: text(row.parent_id),
    inReplyToId: text(row.in_reply_to_id),
    author: text(author?.email) ?? text(author?.username),
    metadata,
  };
}

/** What recording one note did. */
export type NoteOutcome =
  | { kind: "created" | "updated" | "unchanged"; comment: Entity }
  | {
    kind: "skipped";
    reason: string;
    /** Set when the note is on a tracker entity the pipeline does not have (yet): its id. */
    missingParent?: string;
  };

/** Options of {@linkcode recordTrackerNote}. */
export interface RecordNoteOptions {
  store: PipelineStore;
  /** The note as the tracker has it now. */
  note: TrackerNote;
  /** Who writes (sender type `tracker`, so the transmitter does not carry it back). */
  writer: Writer;
  /** Reads a note the comment replies to when it is not recorded yet (its parent gives the entity). */
  readNote?: (id: string) => Promise<TrackerNote | undefined>;
}

/** The comment entity a note is recorded as: by the note's id, then by its `ferry_comment_id` metadata. */
export async function commentOfNote(
  store: PipelineStore,
  note: Pick<TrackerNote, "id" | "metadata">,
): Promise<{ comment: Entity | undefined; byMetadata: boolean; metadataId: string | undefined }> {
  const byTracker = (await store.findEntities({ trackerId: note.id })).find((entity) => entity.type === "comment");
  const metadataId = note.metadata[COMMENT_ID_METADATA] || undefined;
  if (byTracker) return { comment: byTracker, byMetadata: false, metadataId };
  if (metadataId) {
    const byId = await store.getEntity(metadataId);
    if (byId?.type === "comment") return { comment: byId, byMetadata: true, metadataId };
  }
  return { comment: undefined, byMetadata: false, metadataId };
}

/**
 * Records one tracker note as a pipeline comment: created, updated (text, author, reply, the
 * note's id) or left unchanged. A note the transmitter made from a pipeline comment (matched by
 * metadata before its id was written back) only gets its id recorded: the pipeline's text stays,
 * it is the newer. Skipped, with the reason: empty notes, notes on entities the pipeline does not
 * have, and notes whose pipeline comment was deleted since (they are not brought back).
 */
export async function recordTrackerNote(options: RecordNoteOptions): Promise<NoteOutcome> {
  const { store, note, writer } = options;
  const text = note.content.trim();
  if (!text) return { kind: "skipped", reason: `note ${note.id} is empty` };
  const { comment, byMetadata, metadataId } = await commentOfNote(store, note);
  if (!comment && metadataId) {
    return { kind: "skipped", reason: `note ${note.id} comes from pipeline comment ${metadataId}, deleted since` };
  }
  if (comment && byMetadata && comment.trackerId === null) {
    const written = await store.writeEntity({ ...comment, trackerId: note.id } as EntityInput, writer);
    return { kind: written.events.length ? "updated" : "unchanged", comment: written.entity };
  }
  let parentTrackerId = note.parentId;
  let replyTo: string | null = null;
  if (note.inReplyToId) {
    const answered = (await store.findEntities({ trackerId: note.inReplyToId })).find((e) => e.type === "comment");
    if (answered) {
      replyTo = answered.id;
      if (!parentTrackerId) parentTrackerId = (await store.getEntity(answered.parentId ?? ""))?.trackerId ?? null;
    } else if (!parentTrackerId && options.readNote) {
      parentTrackerId = (await options.readNote(note.inReplyToId))?.parentId ?? null;
    }
  }
  if (!parentTrackerId) return { kind: "skipped", reason: `note ${note.id} is on nothing` };
  const target = (await store.findEntities({ trackerId: parentTrackerId })).find((e) => COMMENTABLE_TYPES.has(e.type));
  if (!target) {
    return {
      kind: "skipped",
      reason: `note ${note.id} is on tracker entity ${parentTrackerId}, not in the pipeline`,
      missingParent: parentTrackerId,
    };
  }
  const data = {
    ...(comment?.data ?? {}),
    text,
    // A comment made in the pipeline keeps its author (its note may be the service user's).
    author: (metadataId && comment ? comment.data.author as string | null : note.author) ??
      (comment?.data.author as string | null | undefined) ?? null,
    ...(replyTo ? { replyTo } : {}),
  };
  const written = await store.writeEntity({
    ...(comment ?? {}),
    type: "comment",
    project: target.project,
    parentId: target.id,
    name: comment?.name ?? COMMENT_NAME,
    trackerId: note.id,
    data,
  } as EntityInput, writer);
  if (!comment) return { kind: "created", comment: written.entity };
  return { kind: written.events.length ? "updated" : "unchanged", comment: written.entity };
}

/**
 * Deletes the pipeline comment of a note removed in the tracker; false when there was none.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { openStore } from "../store/mod.ts";
 * import { recordTrackerNote, removeTrackerNote } from "./comment_sync.ts";
 *
 * await using store = await openStore(":memory:");
 * const writer = { sender: "sync", senderType: "tracker" };
 * await store.writeEntity({ type: "project", project: "demo", name: "demo", trackerId: "p1" }, writer);
 * const note = { id: "n1", content: "Hi", parentId: "p1", inReplyToId: null, author: null, metadata: {} };
 * ok((await recordTrackerNote({ store, note, writer })).kind === "created");
 * ok(await removeTrackerNote(store, "n1", writer));
 * ```
 */
export async function removeTrackerNote(store: PipelineStore, noteId: string, writer: Writer): Promise<boolean> {
  const comment = (await store.findEntities({ trackerId: noteId })).find((entity) => entity.type === "comment");
  if (!comment) return false;
  return await store.deleteEntity(comment.id, writer);
}

/** What {@linkcode syncProjectNotes} did. */
export interface NotesSyncReport {
  created: number;
  updated: number;
  removed: number;
  skipped: number;
  unchanged: number;
  /** Why notes were skipped (notes on entities the pipeline does not have are counted, not listed). */
  reasons: string[];
}

/** Options of {@linkcode syncProjectNotes}. */
export interface SyncProjectNotesOptions {
  session: Session;
  store: PipelineStore;
  /** The project's name. */
  project: string;
  /** Written as the sender of the comments' events (their sender type is `tracker`). */
  sender: string;
  /** The project's settings: nothing is done when `handlers.sync-notes.enabled` is false. */
  settings?: Settings;
  /** Tracker entities per note query. @default {200} */
  chunkSize?: number;
}

/**
 * Syncs every note of a project's synced entities (project, folders, tasks, versions) to
 * pipeline comments: new notes become comments, changed ones update theirs, comments whose note
 * is gone from a synced entity are deleted (comments not in the tracker yet are left for the
 * transmitter). Replies are recorded after what they answer. For a full sync.
 */
export async function syncProjectNotes(options: SyncProjectNotesOptions): Promise<NotesSyncReport> {
  const { session, store, project, sender, settings, chunkSize = 200 } = options;
  const report: NotesSyncReport = { created: 0, updated: 0, removed: 0, skipped: 0, unchanged: 0, reasons: [] };
  if (settings?.handlers[NOTES_SETTINGS_KEY]?.enabled === false) return report;
  const writer: Writer = { sender, senderType: TRACKER_SENDER_TYPE };
  const entities = await store.findEntities({ project });
  const synced = entities.filter((entity) => COMMENTABLE_TYPES.has(entity.type) && entity.trackerId !== null);
  const notes: TrackerNote[] = [];
  for (const part of chunk(synced.map((entity) => entity.trackerId!), chunkSize)) {
    const rows = await queryAll(session, `select ${NOTE_PROJECTION} from Note where parent_id in (${quoted(part)})`);
    notes.push(...rows.map(noteOf));
  }
  const seen = new Set(notes.map((note) => note.id));
  // Replies after what they answer: notes in thread order.
  const byId = new Map(notes.map((note) => [note.id, note]));
  const depth = (note: TrackerNote, guard = 0): number =>
    note.inReplyToId && byId.has(note.inReplyToId) && guard < 100
      ? 1 + depth(byId.get(note.inReplyToId)!, guard + 1)
      : 0;
  const ordered = notes.map((note) => ({ note, depth: depth(note) })).sort((a, b) => a.depth - b.depth);
  for (const { note } of ordered) {
    const outcome = await recordTrackerNote({ store, note, writer, readNote: (id) => Promise.resolve(byId.get(id)) });
    if (outcome.kind === "skipped") {
      report.skipped++;
      if (!outcome.reason.endsWith("not in the pipeline")) report.reasons.push(outcome.reason);
    } else report[outcome.kind]++;
  }
  const syncedIds = new Set(synced.map((entity) => entity.id));
  const comments = (await store.findEntities({ project, type: "comment" })).filter((comment) =>
    comment.trackerId !== null && comment.parentId !== null && syncedIds.has(comment.parentId) &&
    !seen.has(comment.trackerId)
  );
  for (const comment of comments) {
    if (await store.deleteEntity(comment.id, writer)) report.removed++;
  }
  return report;
}

/** Reads one note by id (undefined when it is gone). */
export async function readTrackerNote(session: Session, id: string): Promise<TrackerNote | undefined> {
  const row = (await session.query(`select ${NOTE_PROJECTION} from Note where id is "${id.replace(/"/g, "")}"`))
    .data[0];
  return row ? noteOf(row as Record<string, unknown>) : undefined;
}

/**
 * The pipeline project of a tracker entity's project (a project, a TypedContext, an asset
 * version, found through its `link`, whose first entry is its project; an asset, through its
 * context's), when the pipeline has one: undefined when the tracker has no such entity, it is a
 * milestone (never synced) or its project is not synced. A note on an entity of a synced project
 * that the pipeline lacks is one whose entity is not recorded *yet* (a publish's version is
 * recorded after its note may come): see `handlers/sync_notes.ts`.
 */
export async function syncedProjectOf(
  session: Session,
  store: PipelineStore,
  trackerId: string,
): Promise<Entity | undefined> {
  const id = trackerId.replace(/"/g, "");
  const linkOf = async (type: string, of: string) =>
    (await session.query(`select link from ${type} where id is "${of}"`)).data[0]?.link as unknown;
  const context = (await session.query(`select link, object_type.name from TypedContext where id is "${id}"`))
    .data[0];
  // Milestones are never synced: a note on one is not waited for.
  if ((context?.object_type as { name?: unknown } | undefined)?.name === "Milestone") return undefined;
  let link = context?.link as unknown ?? await linkOf("Context", id) ?? await linkOf("AssetVersion", id);
  if (link === undefined) {
    const asset = (await session.query(`select context_id from Asset where id is "${id}"`)).data[0];
    if (typeof asset?.context_id === "string") link = await linkOf("Context", asset.context_id.replace(/"/g, ""));
  }
  const first = Array.isArray(link) ? link[0] as { id?: unknown } | undefined : undefined;
  if (typeof first?.id !== "string") return undefined;
  return (await store.findEntities({ trackerId: first.id })).find((entity) => entity.type === "project");
}
