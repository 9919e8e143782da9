/**
 * Pipeline products and versions → tracker Assets and AssetVersions: a product's name and folder
 * (the Asset's name and context); a version's status (among those the version workflow allows),
 * task, product, comment (`comment` or `description` attribute), mapped custom attributes and
 * thumbnail. Created products and versions are matched first (an Asset by name in its context, an
 * AssetVersion by number in its Asset), created only when missing and `createDeleted` is on; an
 * entity that has a tracker id is never created again (ferry's publishes make their tracker
 * records themselves). Deleted ones are deleted when `createDeleted` is on.
 *
 * @module
 */
import { operation } from "@ftrack/api";
import { randomUUID } from "node:crypto";
import type { Entity, EntityInput, Writer } from "../../src/store/entity.ts";
import { TRACKER_SENDER_TYPE } from "../../src/store/topics.ts";
import type { ChangeContext } from "./change_context.ts";
import { allowedStatusId, one, q, type Row } from "./_lookups.ts";
import { applyThumbnail, thumbnailChanged } from "./apply_thumbnail.ts";
import { UnappliableChange } from "./unappliable_change.ts";

/** The version attributes that are the AssetVersion's own `comment`. */
const COMMENT_KEYS = new Set(["comment", "description"]);

async function writeBack(context: ChangeContext, id: string, trackerId: string): Promise<void> {
  const writer: Writer = { sender: context.sender, senderType: TRACKER_SENDER_TYPE };
  const current = await context.store.getEntity(id);
  if (current && current.trackerId === null) {
    await context.store.writeEntity({ ...current, trackerId } as EntityInput, writer);
  }
}

/** The tracker id of a pipeline entity's parent (or of another entity it names), or a reason it has none. */
async function trackerIdOf(context: ChangeContext, id: string | null, what: string): Promise<string> {
  const entity = id ? await context.store.getEntity(id) : undefined;
  if (!entity) throw new UnappliableChange(`its ${what} ${id} is not in the pipeline`);
  if (!entity.trackerId) throw new UnappliableChange(`its ${what} '${entity.name}' is not in the tracker yet`);
  return entity.trackerId;
}

/** Applies one `entity.product.*` or `entity.version.*` change. */
export async function applyVersion(context: ChangeContext): Promise<{ summary: string }> {
  const { session, store, change, payload, createDeleted } = context;
  const table = payload.entityType === "product" ? "Asset" : "AssetVersion";
  if (change === "deleted") {
    const old = payload.old as Entity | null;
    if (!createDeleted) return { summary: "deletion not carried (handlers.transmitter.createDeleted off)" };
    if (!old?.trackerId) return { summary: "nothing to delete in the tracker" };
    if (!(await one(session, `select id from ${table} where id is "${q(old.trackerId)}"`))) {
      return { summary: `tracker ${table} ${old.trackerId} was gone already` };
    }
    await session.delete(table, [old.trackerId]);
    return { summary: `deleted tracker ${table} ${old.trackerId}` };
  }
  const entity = await store.getEntity(payload.entityId);
  if (!entity) return { summary: `the pipeline ${payload.entityType} ${payload.entityId} is gone since` };
  if (change === "created" || entity.trackerId === null) {
    if (entity.trackerId !== null) return { summary: `already in the tracker as ${table} ${entity.trackerId}` };
    return entity.type === "product" ? await createAsset(context, entity) : await createVersion(context, entity);
  }
  const trackerId = entity.trackerId;
  if (!(await one(session, `select id from ${table} where id is "${q(trackerId)}"`))) {
    throw new UnappliableChange(`tracker ${table} ${trackerId} of ${entity.type} '${entity.name}' is gone`);
  }
  if (entity.type === "product") {
    switch (change) {
      case "renamed":
        await session.update("Asset", [trackerId], { name: String(payload.new) });
        return { summary: `Asset renamed to '${payload.new}'` };
      case "moved": {
        const contextId = await trackerIdOf(context, payload.new as string | null, "folder");
        await session.update("Asset", [trackerId], { context_id: contextId });
        return { summary: `Asset moved to ${contextId}` };
      }
      default:
        return { summary: `product ${change}: nothing the tracker's Asset holds` };
    }
  }
  switch (change) {
    case "status_changed": {
      if (payload.new === null) return { summary: "status cleared in the pipeline: left as is in the tracker" };
      const statusId = await allowedStatusId(session, trackerId, String(payload.new));
      await session.update("AssetVersion", [trackerId], { status_id: statusId });
      return { summary: `status '${payload.new}'` };
    }
    case "moved": {
      const assetId = await trackerIdOf(context, payload.new as string | null, "product");
      await session.update("AssetVersion", [trackerId], { asset_id: assetId });
      return { summary: `moved to Asset ${assetId}` };
    }
    case "attrib_changed":
      return await versionAttributes(context, trackerId, (payload.new ?? {}) as Record<string, unknown>);
    case "data_changed": {
      const done: string[] = [];
      const oldTask = (payload.old as { taskId?: unknown } | null)?.taskId ?? null;
      const newTask = (payload.new as { taskId?: unknown } | null)?.taskId ?? null;
      if (oldTask !== newTask) {
        const taskId = newTask === null ? null : await trackerIdOf(context, String(newTask), "task");
        await session.update("AssetVersion", [trackerId], { task_id: taskId });
        done.push(`task ${taskId ?? "(none)"}`);
      }
      if (thumbnailChanged(payload.old, payload.new)) {
        done.push((await applyThumbnail(session, entity, "AssetVersion")).summary);
      }
      return { summary: done.join("; ") || "data kept in the pipeline" };
    }
    default:
      return { summary: `version ${change}: nothing the tracker's AssetVersion holds` };
  }
}

async function versionAttributes(
  context: ChangeContext,
  trackerId: string,
  values: Record<string, unknown>,
): Promise<{ summary: string }> {
  const fields: Row = {};
  const operations = [];
  const applied: string[] = [];
  const skipped: string[] = [];
  for (const [key, value] of Object.entries(values)) {
    if (COMMENT_KEYS.has(key)) {
      fields.comment = value === null ? "" : String(value);
      applied.push(key);
      continue;
    }
    const configuration = await context.attributes.configurationId(key, trackerId, "AssetVersion");
    if (!configuration) {
      skipped.push(key);
      continue;
    }
    operations.push(operation.update("CustomAttributeValue", [configuration, trackerId], { value }));
    applied.push(key);
  }
  if (Object.keys(fields).length) operations.push(operation.update("AssetVersion", [trackerId], fields));
  if (operations.length) await context.session.call(operations);
  return {
    summary: `attributes ${applied.join(", ") || "(none)"}${
      skipped.length ? `; kept in the pipeline (no tracker version attribute): ${skipped.join(", ")}` : ""
    }`,
  };
}

async function createAsset(context: ChangeContext, product: Entity): Promise<{ summary: string }> {
  const { session, store } = context;
  const contextId = await trackerIdOf(context, product.parentId, "folder");
  // A product whose versions are in the tracker is their Asset (a publish made it), whatever its name now.
  let existing: Row | undefined;
  for (const version of await store.findEntities({ parentId: product.id, type: "version" })) {
    if (!version.trackerId) continue;
    const row = await one(session, `select asset_id from AssetVersion where id is "${q(version.trackerId)}"`);
    if (row?.asset_id) {
      existing = await one(session, `select id, name, context_id from Asset where id is "${q(row.asset_id)}"`);
      if (existing) break;
    }
  }
  existing ??= await one(
    session,
    `select id, name, context_id from Asset where context_id is "${contextId}" and name is "${q(product.name)}"`,
  );
  if (existing) {
    const fields: Row = {};
    if (existing.name !== product.name) fields.name = product.name;
    if (existing.context_id !== contextId) fields.context_id = contextId;
    if (Object.keys(fields).length) await session.update("Asset", [String(existing.id)], fields);
    await writeBack(context, product.id, String(existing.id));
    return {
      summary: `matched Asset ${existing.id}${
        Object.keys(fields).length ? `; set ${Object.keys(fields).join(", ")}` : ""
      }`,
    };
  }
  if (!context.createDeleted) return { summary: "creation not carried (handlers.transmitter.createDeleted off)" };
  const productType = String(product.data.productType ?? "");
  const assetType = await one(session, `select id from AssetType where short is "${q(productType)}"`) ??
    await one(session, `select id from AssetType where name is "${q(productType)}"`);
  if (!assetType) throw new UnappliableChange(`the tracker has no asset type '${productType}' (by short or name)`);
  const id = randomUUID();
  await session.create("Asset", { id, name: product.name, context_id: contextId, type_id: assetType.id });
  await writeBack(context, product.id, id);
  return { summary: `created Asset ${id}` };
}

async function createVersion(context: ChangeContext, version: Entity): Promise<{ summary: string }> {
  const { session, store } = context;
  // A product without a tracker id (a re-publish records it without one) is matched first, never
  // made here: its own job makes it (two jobs at once could make two).
  const product = version.parentId ? await store.getEntity(version.parentId) : undefined;
  if (product?.type === "product" && product.trackerId === null) {
    await createAsset({ ...context, createDeleted: false }, product);
  }
  const assetId = await trackerIdOf(context, version.parentId, "product");
  const number = Number(version.data.version);
  const existing = await one(
    session,
    `select id from AssetVersion where asset_id is "${assetId}" and version is ${number}`,
  );
  if (existing) {
    await writeBack(context, version.id, String(existing.id));
    return { summary: `matched AssetVersion ${existing.id}` };
  }
  if (!context.createDeleted) return { summary: "creation not carried (handlers.transmitter.createDeleted off)" };
  const taskId = version.data.taskId ? await trackerIdOf(context, String(version.data.taskId), "task") : null;
  const id = randomUUID();
  const comment = version.attributes.comment ?? version.attributes.description;
  await session.create("AssetVersion", {
    id,
    asset_id: assetId,
    version: number,
    ...(taskId ? { task_id: taskId } : {}),
    ...(comment !== undefined && comment !== null ? { comment: String(comment) } : {}),
  });
  const done = [`created AssetVersion ${id}`];
  const created = { ...version, trackerId: id };
  if (version.status) {
    await session.update("AssetVersion", [id], { status_id: await allowedStatusId(session, id, version.status) });
    done.push(`status '${version.status}'`);
  }
  await writeBack(context, version.id, id);
  if (typeof version.data.thumbnail === "string") {
    done.push((await applyThumbnail(session, created, "AssetVersion")).summary);
  }
  return { summary: done.join("; ") };
}
