import type { Session } from "@ftrack/api";
import type { Entity, EntityInput } from "../store/entity.ts";
import type { ProjectSync } from "./project_sync.ts";
import { chunk, queryAll, quoted } from "./tracker_project.ts";
import { pipelineIdOf } from "./pipeline_id.ts";

/** A tracker list (AssetVersionList or TypedContextList) with its items' tracker ids, in order. */
export interface TrackerList {
  id: string;
  name: string;
  listType: "version" | "context";
  category: string | null;
  open: boolean;
  items: string[];
}

type Row = Record<string, unknown>;

/** Reads a project's lists (`by.projectId`) or some lists (`by.ids`), with items from `items` and ListObjects. */
export async function readTrackerLists(
  session: Session,
  by: { projectId: string } | { ids: string[] },
): Promise<TrackerList[]> {
  const conditions = "projectId" in by
    ? [`project_id is "${by.projectId}"`]
    : chunk([...new Set(by.ids)], 200).map((part) => `id in (${quoted(part)})`);
  const lists: TrackerList[] = [];
  for (const condition of conditions) {
    const [versionLists, contextLists] = await Promise.all([
      queryAll(session, `select id, name, is_open, category.name, items from AssetVersionList where ${condition}`),
      queryAll(session, `select id, name, is_open, category.name, items from TypedContextList where ${condition}`),
    ]);
    const rows: Array<[Row, TrackerList["listType"]]> = [
      ...versionLists.map((row) => [row, "version"] as [Row, TrackerList["listType"]]),
      ...contextLists.map((row) => [row, "context"] as [Row, TrackerList["listType"]]),
    ];
    const ids = rows.map(([row]) => String(row.id));
    const objects = new Map<string, string[]>();
    for (const part of chunk(ids, 200)) {
      for (
        const row of await queryAll(
          session,
          `select list_id, entity_id from ListObject where list_id in (${quoted(part)})`,
        )
      ) {
        const list = objects.get(String(row.list_id)) ?? [];
        list.push(String(row.entity_id));
        objects.set(String(row.list_id), list);
      }
    }
    for (const [row, listType] of rows) {
      const items = (Array.isArray(row.items) ? row.items as Row[] : []).map((item) => String(item.id));
      for (const id of objects.get(String(row.id)) ?? []) if (!items.includes(id)) items.push(id);
      const category = (row.category as Row | null | undefined)?.name;
      lists.push({
        id: String(row.id),
        name: String(row.name ?? ""),
        listType,
        category: typeof category === "string" && category !== "" ? category : null,
        open: row.is_open !== false,
        items,
      });
    }
  }
  return lists.sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
}

/**
 * Syncs tracker lists into pipeline `list` entities (at the top of the project): name, type,
 * category, open, and items as pipeline ids (versions for a version list, folders and tasks for
 * a context list); an item not synced is left out and reported. Matched by tracker id, then by
 * name among lists made in the pipeline.
 */
export async function syncLists(sync: ProjectSync, lists: TrackerList[]): Promise<void> {
  const project = sync.report.project;
  const pipelineLists = await sync.store.findEntities({ project, type: "list" });
  for (const list of lists) {
    const name = list.name || list.id;
    let existing: Entity | undefined = pipelineLists.find((entity) => entity.trackerId === list.id);
    existing ??= pipelineLists.find((entity) =>
      entity.trackerId === null && entity.name.toLowerCase() === name.toLowerCase()
    );
    const items: string[] = [];
    for (const trackerId of list.items) {
      const item = await sync.index.byTrackerId(trackerId);
      const fits = item !== undefined &&
        (list.listType === "version" ? item.type === "version" : item.type === "folder" || item.type === "task");
      if (!fits) {
        sync.skip(
          "list",
          trackerId,
          `list '${name}'`,
          item === undefined
            ? `its item ${trackerId} is not synced`
            : `its item '${item.name}' is a ${item.type}, not what a ${list.listType} list holds`,
        );
        continue;
      }
      if (!items.includes(item.id)) items.push(item.id);
    }
    const written = await sync.writeIn(
      "lists",
      {
        ...(existing ?? {}),
        type: "list",
        id: existing?.id ?? pipelineIdOf(list.id),
        project,
        parentId: existing?.parentId ?? null,
        name,
        trackerId: list.id,
        data: {
          ...(existing?.data ?? {}),
          listType: list.listType,
          category: list.category,
          items,
          open: list.open,
        },
      } as EntityInput,
      existing,
      name,
    );
    if (!existing) pipelineLists.push(written);
  }
}

/** Removes the pipeline lists of tracker lists that are gone. */
export async function removeLists(sync: ProjectSync, trackerIds: string[]): Promise<void> {
  const gone = new Set(trackerIds);
  if (gone.size === 0) return;
  for (const entity of await sync.store.findEntities({ project: sync.report.project, type: "list" })) {
    if (entity.trackerId !== null && gone.has(entity.trackerId)) await sync.deleteIn("lists", entity, entity.name);
  }
}

/**
 * Takes the entities a sync deleted out of the project's lists' items (a list item's entity
 * removed in the tracker comes with no event of its list).
 */
export async function pruneListItems(sync: ProjectSync): Promise<void> {
  if (sync.deleted.size === 0) return;
  for (const list of await sync.store.findEntities({ project: sync.report.project, type: "list" })) {
    const items = Array.isArray(list.data.items) ? list.data.items as string[] : [];
    const kept = items.filter((id) => !sync.deleted.has(id));
    if (kept.length === items.length) continue;
    await sync.writeIn("lists", { ...list, data: { ...list.data, items: kept } } as EntityInput, list, list.name);
  }
}
