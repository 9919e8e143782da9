/**
 * One pipeline change applied to the tracker: the transmitter's dispatch by entity type, and the
 * project, folder and task changes.
 *
 * @module
 */
import { operation, type Session } from "@ftrack/api";
import { randomUUID } from "node:crypto";
import { z } from "zod";
import type { Entity, Writer } from "../../src/store/entity.ts";
import type { StoredEvent } from "../../src/store/event_record.ts";
import type { PipelineStore } from "../../src/store/pipeline_store.ts";
import type { Settings } from "../../src/store/settings.ts";
import { TRACKER_SENDER_TYPE } from "../../src/store/topics.ts";
import { syncSettingsOf } from "../../src/sync/sync_settings.ts";
import { allowedStatusId, AttributeLookup, one, q, userIds } from "./_lookups.ts";
import { applyComment } from "./apply_comment.ts";
import { applyLinks, linksChanged } from "./apply_links.ts";
import { applyList } from "./apply_list.ts";
import { applyThumbnail, thumbnailChanged } from "./apply_thumbnail.ts";
import { applyVersion } from "./apply_version.ts";
import type { ChangeContext } from "./change_context.ts";
import { UnappliableChange } from "./unappliable_change.ts";

export { UnappliableChange };

/** The settings key of the transmitter (`handlers.transmitter`). */
export const TRANSMITTER_SETTINGS_KEY = "transmitter";

/** The transmitter's settings: on/off, and whether pipeline creations and deletions reach the tracker. */
export const TransmitterSettingsSchema = z.object({
  enabled: z.boolean().default(true),
  /** Entities created or deleted in the pipeline are created or deleted in the tracker. */
  createDeleted: z.boolean().default(true),
});

type Row = Record<string, unknown>;
const NATIVE: Record<string, string> = { startDate: "start_date", endDate: "end_date", description: "description" };

interface Payload {
  entityId: string;
  entityType: string;
  parentId: string | null;
  old: unknown;
  new: unknown;
}

/** What applying one pipeline change did, for the job's description. */
export interface Applied {
  summary: string;
}

const trackerType = (entity: Pick<Entity, "type">) => entity.type === "project" ? "Project" : "TypedContext";

/**
 * Applies one pipeline `entity.*` event to the tracker. Projects, folders and tasks here:
 * attributes (dates and description to the native fields, mapped ones to custom attributes),
 * status (by name among those the entity's workflow allows, case-insensitively), assignees (by
 * email, then username), name and parent, task type, thumbnail, links (`data.links` ↔
 * TypedContextLink); creations and deletions when the
 * settings allow. Comments go to {@linkcode applyComment}, lists to {@linkcode applyList},
 * products and versions to {@linkcode applyVersion}. Throws {@linkcode UnappliableChange} with
 * the reason when it cannot be applied (also for an entity type the transmitter does not carry).
 */
export async function applyChange(options: {
  session: Session;
  store: PipelineStore;
  event: StoredEvent;
  settings: Settings;
  sender: string;
}): Promise<Applied> {
  const { session, store, event } = options;
  const change = event.topic.split(".").pop()!;
  const payload = event.payload as Payload;
  const transmitter = TransmitterSettingsSchema.parse(options.settings.handlers[TRANSMITTER_SETTINGS_KEY] ?? {});
  const sync = syncSettingsOf(options.settings);
  const attributes = new AttributeLookup(session, sync.attributes);
  const context: ChangeContext = {
    session,
    store,
    change,
    payload,
    sender: options.sender,
    createDeleted: transmitter.createDeleted,
    attributes,
  };
  switch (payload.entityType) {
    case "comment":
      return await applyComment(context);
    case "list":
      return await applyList(context);
    case "product":
    case "version":
      return await applyVersion(context);
    case "project":
    case "folder":
    case "task":
      break;
    default:
      throw new UnappliableChange(`the transmitter does not carry ${payload.entityType} changes to the tracker`);
  }
  if (change === "deleted") {
    const old = payload.old as Entity;
    if (!transmitter.createDeleted) return { summary: "deletion not carried (handlers.transmitter.createDeleted off)" };
    if (!old?.trackerId || old.type === "project") return { summary: `nothing to delete in the tracker` };
    const exists = await one(session, `select id from TypedContext where id is "${old.trackerId}"`);
    if (exists) await session.delete("TypedContext", [old.trackerId]);
    return { summary: `deleted tracker entity ${old.trackerId}` };
  }
  const entity = await store.getEntity(payload.entityId);
  if (!entity) return { summary: `the pipeline entity ${payload.entityId} is gone since` };
  if (change === "tracker_id_changed") return { summary: "tracker id recorded" };
  if (change === "created" || entity.trackerId === null) {
    if (entity.trackerId !== null) return { summary: `already in the tracker as ${entity.trackerId}` };
    if (!transmitter.createDeleted) return { summary: "creation not carried (handlers.transmitter.createDeleted off)" };
    const created = await create(session, store, entity, sync.idAttribute, options.sender, attributes);
    // Its links too (a link made before the entity reached the tracker comes as this data_changed).
    const fresh = await store.getEntity(entity.id);
    const before = change === "data_changed" ? payload.old : {};
    const after = change === "data_changed" ? payload.new : fresh?.data;
    if (!fresh?.trackerId || !linksChanged(before, after)) return created;
    const links = await applyLinks({ session, store, entity: fresh, before, after, sender: options.sender });
    return { summary: `${created.summary}; ${links.summary}` };
  }
  return await applyRecorded(
    session,
    store,
    change,
    payload,
    recorded(change, entity, payload),
    attributes,
    options.sender,
  );
}

/**
 * The entity as the event recorded it: the change's new value over the stored entity, so a
 * later overwrite (a sync of an older tracker event) does not undo the change being carried.
 */
function recorded(change: string, entity: Entity, payload: Payload): Entity {
  const value = payload.new;
  switch (change) {
    case "renamed":
      return typeof value === "string" ? { ...entity, name: value } : entity;
    case "moved":
      return value === null || typeof value === "string" ? { ...entity, parentId: value } : entity;
    case "status_changed":
      return value === null || typeof value === "string" ? { ...entity, status: value } : entity;
    case "assignees_changed":
      return Array.isArray(value) ? { ...entity, assignees: value.map(String) } : entity;
    case "attrib_changed":
      return value && typeof value === "object"
        ? { ...entity, attributes: { ...entity.attributes, ...(value as Record<string, unknown>) } }
        : entity;
    default:
      return entity;
  }
}

async function applyRecorded(
  session: Session,
  store: PipelineStore,
  change: string,
  payload: Payload,
  entity: Entity,
  attributes: AttributeLookup,
  sender: string,
): Promise<Applied> {
  const trackerId = entity.trackerId!;
  const type = trackerType(entity);
  switch (change) {
    case "renamed":
      await session.update(type, [trackerId], { name: entity.name });
      return { summary: `renamed to '${entity.name}'` };
    case "moved": {
      const parentTrackerId = await parentTracker(store, entity);
      await session.update(type, [trackerId], { parent_id: parentTrackerId });
      return { summary: `moved under ${parentTrackerId}` };
    }
    case "status_changed":
      return await applyStatus(session, entity, trackerId);
    case "assignees_changed":
      return await applyAssignees(session, entity, trackerId);
    case "attrib_changed":
      return await applyAttributes(
        session,
        entity,
        trackerId,
        Object.keys((payload.new ?? {}) as Record<string, unknown>),
        attributes,
      );
    case "data_changed": {
      const done: string[] = [];
      const before = (payload.old ?? {}) as Record<string, unknown>;
      const after = (payload.new ?? {}) as Record<string, unknown>;
      if (entity.type === "task" && before.taskType !== after.taskType) {
        const taskType = String(entity.data.taskType);
        const found = await one(session, `select id from Type where name is "${q(taskType)}"`);
        if (!found) throw new UnappliableChange(`the tracker has no task type '${taskType}'`);
        await session.update("Task", [trackerId], { type_id: found.id });
        done.push(`task type '${taskType}'`);
      }
      if (entity.type !== "project" && thumbnailChanged(before, after)) {
        done.push((await applyThumbnail(session, entity, "TypedContext")).summary);
      }
      if (entity.type !== "project" && linksChanged(before, after)) {
        done.push((await applyLinks({ session, store, entity, before, after, sender })).summary);
      }
      return { summary: done.join("; ") || "data kept in the pipeline" };
    }
    default:
      return { summary: `${change}: nothing to apply` };
  }
}

async function parentTracker(store: PipelineStore, entity: Entity): Promise<string> {
  if (entity.parentId !== null) {
    const parent = await store.getEntity(entity.parentId);
    if (!parent?.trackerId) {
      throw new UnappliableChange(`its pipeline parent '${parent?.name ?? entity.parentId}' is not in the tracker yet`);
    }
    return parent.trackerId;
  }
  const project = (await store.findEntities({ type: "project", project: entity.project }))[0];
  if (!project?.trackerId) throw new UnappliableChange(`project '${entity.project}' is not in the tracker`);
  return project.trackerId;
}

async function create(
  session: Session,
  store: PipelineStore,
  entity: Entity,
  idAttribute: string,
  sender: string,
  attributes: AttributeLookup,
): Promise<Applied> {
  if (entity.type === "project") throw new UnappliableChange("projects are created in the tracker, then synced");
  const parentId = await parentTracker(store, entity);
  const existing = await one(
    session,
    `select id from TypedContext where parent_id is "${parentId}" and name is "${entity.name.replace(/"/g, "")}"`,
  );
  let trackerId: string;
  if (existing) trackerId = String(existing.id);
  else {
    const objectTypeName = entity.type === "task" ? "Task" : String(entity.data.folderType ?? "Folder");
    const objectType =
      await one(session, `select id, name from ObjectType where name is "${objectTypeName.replace(/"/g, "")}"`) ??
        await one(session, `select id, name from ObjectType where name is "Folder"`);
    if (!objectType) throw new UnappliableChange(`the tracker has no object type '${objectTypeName}'`);
    const data: Row = { id: randomUUID(), name: entity.name, parent_id: parentId };
    if (entity.type === "task") {
      const taskType = await one(
        session,
        `select id from Type where name is "${String(entity.data.taskType).replace(/"/g, "")}"`,
      );
      if (taskType) data.type_id = taskType.id;
    }
    const configuration = await attributes.hierarchicalId(idAttribute);
    trackerId = String(data.id);
    await session.call([
      operation.create(String(objectType.name), data),
      ...(configuration
        ? [operation.update("ContextCustomAttributeValue", [configuration, trackerId], { value: entity.id })]
        : []),
    ]);
  }
  const applied: string[] = [];
  if (!existing) {
    if (entity.status) applied.push((await applyStatus(session, entity, trackerId)).summary);
    if (entity.assignees.length) applied.push((await applyAssignees(session, entity, trackerId)).summary);
    const keys = Object.keys(entity.attributes).filter((key) => entity.attributes[key] !== null);
    // The entity is made: attributes with no configuration for its object type are reported, not failed.
    if (keys.length) {
      applied.push((await applyAttributes(session, entity, trackerId, keys, attributes, { lenient: true })).summary);
    }
    if (typeof entity.data.thumbnail === "string") {
      applied.push((await applyThumbnail(session, { ...entity, trackerId }, "TypedContext")).summary);
    }
  }
  const writer: Writer = { sender, senderType: TRACKER_SENDER_TYPE };
  const current = await store.getEntity(entity.id);
  if (current && current.trackerId === null) {
    await store.writeEntity({ ...current, trackerId } as Parameters<PipelineStore["writeEntity"]>[0], writer);
  }
  return { summary: [`${existing ? "matched" : "created"} tracker entity ${trackerId}`, ...applied].join("; ") };
}

async function applyStatus(session: Session, entity: Entity, trackerId: string): Promise<Applied> {
  if (entity.status === null) return { summary: "status cleared in the pipeline: left as is in the tracker" };
  const statusId = await allowedStatusId(session, trackerId, entity.status);
  await session.update(trackerType(entity), [trackerId], { status_id: statusId });
  return { summary: `status '${entity.status}'` };
}

async function applyAssignees(session: Session, entity: Entity, trackerId: string): Promise<Applied> {
  const users = await userIds(session, entity.assignees);
  const current = (await session.query(
    `select id, resource_id from Appointment where context_id is "${trackerId}" and type is "assignment"`,
  )).data as Row[];
  const wanted = new Set(users.values());
  const operations = [
    ...current.filter((row) => !wanted.has(String(row.resource_id))).map((row) =>
      operation.delete("Appointment", [String(row.id)])
    ),
    ...[...wanted].filter((id) => !current.some((row) => row.resource_id === id)).map((id) =>
      operation.create("Appointment", { context_id: trackerId, resource_id: id, type: "assignment" })
    ),
  ];
  if (operations.length) await session.call(operations);
  return { summary: `assignees ${entity.assignees.join(", ") || "(none)"}` };
}

async function applyAttributes(
  session: Session,
  entity: Entity,
  trackerId: string,
  keys: string[],
  attributes: AttributeLookup,
  options: { lenient?: boolean } = {},
): Promise<Applied> {
  const native: Record<string, unknown> = {};
  const operations = [];
  const applied: string[] = [];
  const notMapped: string[] = [];
  const unwritten: string[] = [];
  const holder = entity.type === "project" ? "Project" : "TypedContext";
  for (const key of keys) {
    const value = entity.attributes[key] ?? null;
    if (NATIVE[key]) {
      native[NATIVE[key]] = value;
      applied.push(key);
      continue;
    }
    let configuration: string | undefined;
    try {
      configuration = await attributes.configurationId(key, trackerId, holder);
    } catch (error) {
      // Lenient (a creation's attributes): reported in the summary, the others still written.
      if (!options.lenient || !(error instanceof UnappliableChange)) throw error;
      unwritten.push(error.message);
      continue;
    }
    if (!configuration) {
      notMapped.push(key);
      continue;
    }
    operations.push(operation.update("ContextCustomAttributeValue", [configuration, trackerId], { value }));
    applied.push(key);
  }
  if (Object.keys(native).length) operations.push(operation.update(trackerType(entity), [trackerId], native));
  if (operations.length) await session.call(operations);
  return {
    summary: `attributes ${applied.join(", ") || "(none)"}${
      notMapped.length ? `; not mapped: ${notMapped.join(", ")}` : ""
    }${unwritten.length ? `; not written: ${unwritten.join("; ")}` : ""}`,
  };
}
