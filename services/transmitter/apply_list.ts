/**
 * Pipeline lists → tracker lists: an `AssetVersionList` (listType `version`) or a
 * `TypedContextList` (`context`) in the project, in the list category named by `data.category`
 * (created when the tracker has none of that name; `Default` when unnamed), its name, `is_open`
 * and items (`ListObject`s added and removed to match `data.items`); the list's id written back on
 * the tracker's behalf. A deleted list deletes its tracker list.
 *
 * @module
 */
import { operation } from "@ftrack/api";
import { randomUUID } from "node:crypto";
import type { Entity, EntityInput, Writer } from "../../src/store/entity.ts";
import { TRACKER_SENDER_TYPE } from "../../src/store/topics.ts";
import type { ChangeContext } from "./change_context.ts";
import { one, q, type Row } from "./_lookups.ts";
import { UnappliableChange } from "./unappliable_change.ts";

/** The category a list without one goes in (the tracker's seeded category). */
export const DEFAULT_LIST_CATEGORY = "Default";

const listEntity = (entity: Entity) => entity.data.listType === "context" ? "TypedContextList" : "AssetVersionList";

/** Applies one `entity.list.*` change. */
export async function applyList(context: ChangeContext): Promise<{ summary: string }> {
  const { session, store, change, payload, createDeleted } = context;
  if (change === "deleted") {
    const old = payload.old as Entity | null;
    if (!createDeleted) return { summary: "deletion not carried (handlers.transmitter.createDeleted off)" };
    if (!old?.trackerId) return { summary: "the list was not in the tracker" };
    if (!(await one(session, `select id from List where id is "${q(old.trackerId)}"`))) {
      return { summary: `tracker list ${old.trackerId} was gone already` };
    }
    await session.delete("List", [old.trackerId]);
    return { summary: `deleted tracker list ${old.trackerId}` };
  }
  const list = await store.getEntity(payload.entityId);
  if (!list) return { summary: `list ${payload.entityId} is gone since` };
  const type = listEntity(list);
  const project = (await store.findEntities({ type: "project", project: list.project }))[0];
  if (!project?.trackerId) throw new UnappliableChange(`project '${list.project}' is not in the tracker`);
  const categoryName = typeof list.data.category === "string" ? list.data.category : DEFAULT_LIST_CATEGORY;
  const categoryId = await categoryOf(context, categoryName);
  const itemIds = await trackerItems(context, list);
  let trackerId = list.trackerId;
  let made = "updated";
  if (trackerId && !(await one(session, `select id from List where id is "${q(trackerId)}"`))) {
    throw new UnappliableChange(`tracker list ${trackerId} of list '${list.name}' is gone`);
  }
  if (!trackerId) {
    const byName = await one(
      session,
      `select id from ${type} where project_id is "${project.trackerId}" and name is "${q(list.name)}"`,
    );
    if (byName) {
      trackerId = String(byName.id);
      made = "matched";
    } else {
      if (!createDeleted) return { summary: "creation not carried (handlers.transmitter.createDeleted off)" };
      trackerId = randomUUID();
      await session.create(type, {
        id: trackerId,
        name: list.name,
        project_id: project.trackerId,
        category_id: categoryId,
        is_open: list.data.open !== false,
      });
      made = "created";
    }
    const writer: Writer = { sender: context.sender, senderType: TRACKER_SENDER_TYPE };
    const current = await store.getEntity(list.id);
    if (current && current.trackerId === null) {
      await store.writeEntity({ ...current, trackerId } as EntityInput, writer);
    }
  }
  const row = await one(
    session,
    `select name, is_open, category_id, items from ${type} where id is "${trackerId}"`,
  ) as Row;
  const fields: Row = {};
  if (row.name !== list.name) fields.name = list.name;
  if (Boolean(row.is_open) !== (list.data.open !== false)) fields.is_open = list.data.open !== false;
  if (row.category_id !== categoryId) fields.category_id = categoryId;
  // The list's items as the tracker holds them: its `items` and its ListObject rows (one and the same
  // on ftrack; kept apart by some servers).
  const objects = (await session.query(`select id, entity_id from ListObject where list_id is "${trackerId}"`))
    .data as Row[];
  const held = [
    ...((row.items ?? []) as Row[]).map((item) => String(item.id)),
    ...objects.map((item) => String(item.entity_id)),
  ];
  const have = new Set(held);
  const wanted = new Set(itemIds.map((item) => item.id));
  const same = itemIds.length === have.size && itemIds.every((item) => have.has(item.id));
  if (!same) fields.items = itemIds;
  const operations = [
    ...objects.filter((item) => !wanted.has(String(item.entity_id))).map((item) =>
      operation.delete("ListObject", [String(item.id)])
    ),
    ...(Object.keys(fields).length ? [operation.update(type, [trackerId], fields)] : []),
  ];
  if (operations.length) await session.call(operations);
  const added = itemIds.filter((item) => !have.has(item.id)).length;
  const removed = [...have].filter((id) => !wanted.has(id)).length;
  return {
    summary: `${made} ${type} ${trackerId} '${list.name}' in '${categoryName}'${
      added || removed ? `; items +${added} -${removed}` : ""
    }`,
  };
}

/** The list category's id by name (case-insensitively), created when the tracker has none. */
async function categoryOf(context: ChangeContext, name: string): Promise<string> {
  const { session } = context;
  const categories = (await session.query("select id, name from ListCategory")).data as Row[];
  const found = categories.find((category) => String(category.name).toLowerCase() === name.toLowerCase());
  if (found) return String(found.id);
  try {
    return String((await session.create("ListCategory", { name })).data.id);
  } catch (error) {
    throw new UnappliableChange(
      `the tracker has no list category '${name}' and cannot make one: ${(error as Error).message}`,
      { cause: error },
    );
  }
}

/** A list's items as tracker references (type and id): versions for a version list, folders and tasks for a context list. */
async function trackerItems(
  context: ChangeContext,
  list: Entity,
): Promise<Array<{ __entity_type__: string; id: string }>> {
  const items = Array.isArray(list.data.items) ? list.data.items.map(String) : [];
  const allowed = list.data.listType === "context" ? ["folder", "task"] : ["version"];
  const ids: string[] = [];
  for (const id of items) {
    const item = await context.store.getEntity(id);
    if (!item) throw new UnappliableChange(`list '${list.name}' holds ${id}, which the pipeline does not have`);
    if (!allowed.includes(item.type)) {
      throw new UnappliableChange(
        `list '${list.name}' (${list.data.listType}) cannot hold the ${item.type} '${item.name}': only ${
          allowed.join(" and ")
        }s`,
      );
    }
    if (!item.trackerId) {
      throw new UnappliableChange(`${item.type} '${item.name}' of list '${list.name}' is not in the tracker yet`);
    }
    if (!ids.includes(item.trackerId)) ids.push(item.trackerId);
  }
  if (ids.length === 0) return [];
  const kind = list.data.listType === "context" ? "TypedContext" : "AssetVersion";
  const types = new Map<string, string>();
  for (let i = 0; i < ids.length; i += 200) {
    const part = ids.slice(i, i + 200).map((id) => `"${q(id)}"`).join(", ");
    for (const row of (await context.session.query(`select id from ${kind} where id in (${part})`)).data as Row[]) {
      types.set(String(row.id), String(row.__entity_type__ ?? kind));
    }
  }
  const missing = ids.find((id) => !types.has(id));
  if (missing) throw new UnappliableChange(`list '${list.name}' holds tracker entity ${missing}, which is gone`);
  return ids.map((id) => ({ __entity_type__: types.get(id)!, id }));
}
