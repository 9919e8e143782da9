import type { Session } from "@ftrack/api";
import type { PipelineStore } from "../store/pipeline_store.ts";
import type { Settings } from "../store/settings.ts";
import { NOTES_SETTINGS_KEY, syncProjectNotes } from "./comment_sync.ts";
import { readLinksTo, readProjectLinks, syncLinks } from "./link_sync.ts";
import { pruneListItems, readTrackerLists, removeLists, syncLists } from "./list_sync.ts";
import { unknownObjectTypes } from "./attribute_mapping.ts";
import type { PipelineIndex } from "./pipeline_index.ts";
import { ProjectSync, type SyncReport } from "./project_sync.ts";
import { readProjectVersions, readVersions, versionsOfComponents } from "./tracker_versions.ts";
import { projectWork, type UpdateScope, updateScope } from "./update_scope.ts";
import { syncUsers, type UserSyncReport } from "./user_sync.ts";
import { VersionSync } from "./version_sync.ts";
import type { SyncSettings } from "./sync_settings.ts";
import { queryAll, quoted, readProjectAndNodes, readTrackerProject, type TrackerNode } from "./tracker_project.ts";

/** Options of {@linkcode fullSync} and {@linkcode syncTrackerUpdate}. */
export interface SyncOptions {
  session: Session;
  store: PipelineStore;
  /** The project's name. */
  project: string;
  settings: SyncSettings;
  /** Written as the sender of the pipeline's `entity.*` events (their sender type is `tracker`). */
  sender: string;
  /**
   * The project's resolved settings, for what other handlers' settings switch (notes → comments
   * runs unless `handlers.sync-notes.enabled` is false). @default {none: notes are synced}
   */
  projectSettings?: Settings;
}

/**
 * Tracker entities ordered parents first (by name among siblings).
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { parentsFirst } from "./sync_from_tracker.ts";
 *
 * const node = (id: string, parentId: string) => ({ id, name: id, parentId, kind: "folder" as const,
 *   objectType: "Folder", type: null, status: null, description: null, startDate: null, endDate: null,
 *   values: {}, ownFerryId: null, assignees: [] });
 * ok(parentsFirst([node("shot", "seq"), node("seq", "project")]).map((n) => n.id).join() === "seq,shot");
 * ```
 */
export function parentsFirst(nodes: TrackerNode[]): TrackerNode[] {
  const ids = new Set(nodes.map((node) => node.id));
  const children = new Map<string, TrackerNode[]>();
  for (const node of nodes) {
    const key = ids.has(node.parentId) ? node.parentId : "";
    children.set(key, [...(children.get(key) ?? []), node]);
  }
  const ordered: TrackerNode[] = [];
  const queue = [...(children.get("") ?? [])].sort((a, b) => a.name.localeCompare(b.name));
  while (queue.length) {
    const node = queue.shift()!;
    ordered.push(node);
    queue.push(...(children.get(node.id) ?? []).sort((a, b) => a.name.localeCompare(b.name)));
  }
  return ordered;
}

/**
 * A full sync of a tracker project into the pipeline store: types and statuses, the whole
 * hierarchy (created, renamed, moved, removed), mapped attributes, statuses, assignees; then
 * (each switched by the settings) products, versions and representations, links, lists, users
 * and notes as comments; and the pipeline ids written back. Throws a `RangeError` when the
 * tracker has no such project.
 */
export async function fullSync(options: SyncOptions): Promise<SyncReport> {
  const started = performance.now();
  const { session, settings } = options;
  const tracker = await readTrackerProject(session, options.project, { idAttribute: settings.idAttribute });
  const sync = new ProjectSync({ ...options, mode: "full" });
  await sync.index.preload();
  await sync.syncProject(tracker);
  // A mapping limited to an object type the tracker does not have (a typo) maps nothing: said in the report.
  const known = [...tracker.objectTypes, "Task", "Milestone", "Project", "AssetVersion"];
  for (const { pipeline, objectType } of unknownObjectTypes(settings.attributes, known)) {
    sync.skip(
      "attribute",
      tracker.id,
      "/",
      `the mapping of pipeline attribute '${pipeline}' names object type '${objectType}', which the tracker does not have (${
        tracker.objectTypes.join(", ")
      }, Task)`,
    );
  }
  const trackerIds = new Set(tracker.nodes.map((node) => node.id));
  await sync.syncNodes(parentsFirst(tracker.nodes), { staleTrackerIds: (id) => !trackerIds.has(id) });
  if (settings.syncVersions) {
    // Custom attribute values of versions are read only when a mapping can apply to versions.
    const read = await readProjectVersions(session, tracker.id, { mappings: settings.attributes, fresh: true });
    const live = new Set([
      ...read.assets.map((asset) => asset.id),
      ...read.versions.map((version) => version.id),
      ...read.components.map((component) => component.id),
    ]);
    const versions = new VersionSync(sync);
    await versions.mergeDuplicates();
    await versions.sync(read, { stale: (id) => !live.has(id) });
    await versions.remove(
      sync.index.all().filter((entity) =>
        (entity.type === "product" || entity.type === "version" || entity.type === "representation") &&
        entity.trackerId !== null && !live.has(entity.trackerId)
      ).map((entity) => entity.trackerId!),
    );
  }
  const gone = sync.index.all().filter((entity) =>
    (entity.type === "folder" || entity.type === "task") && entity.trackerId !== null &&
    !trackerIds.has(entity.trackerId)
  );
  await sync.removeTrackerIds(gone.map((entity) => entity.trackerId!));
  if (settings.syncLinks) {
    const links = await readProjectLinks(session, tracker.id);
    const targets = sync.index.all().filter((entity) =>
      (entity.type === "folder" || entity.type === "task") && entity.trackerId !== null
    ).map((entity) => entity.trackerId!);
    await syncLinks(sync, [...targets, ...links.map((link) => link.toId)], links);
  }
  if (settings.syncLists) {
    const lists = await readTrackerLists(session, { projectId: tracker.id });
    await syncLists(sync, lists);
    const live = new Set(lists.map((list) => list.id));
    const pipelineLists = await options.store.findEntities({ project: options.project, type: "list" });
    await removeLists(
      sync,
      pipelineLists.filter((list) => list.trackerId !== null && !live.has(list.trackerId)).map((list) =>
        list.trackerId!
      ),
    );
  }
  await pruneListItems(sync);
  if (settings.syncUsers) mergeUsers(sync.report, await syncUsers(options));
  if (options.projectSettings?.handlers[NOTES_SETTINGS_KEY]?.enabled !== false) {
    sync.report.comments = await syncProjectNotes({
      session,
      store: options.store,
      project: options.project,
      sender: options.sender,
      settings: options.projectSettings,
    });
  }
  await sync.writeBack();
  sync.report.durationMs = Math.round(performance.now() - started);
  return sync.report;
}

/** Adds a user sync's outcome to a project's report. */
export function mergeUsers(report: SyncReport, users: UserSyncReport): void {
  report.users.created.push(...users.created);
  report.users.updated.push(...users.updated);
  report.users.removed.push(...users.removed);
  report.skipped.push(...users.skipped);
}

/**
 * Whether a tracker project has auto-sync on (its auto-sync custom attribute is true).
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { autoSyncOn } from "./sync_from_tracker.ts";
 * import { SyncSettingsSchema } from "./sync_settings.ts";
 *
 * ok(autoSyncOn({ ferry_auto_sync: true }, SyncSettingsSchema.parse({})));
 * ok(!autoSyncOn({}, SyncSettingsSchema.parse({})));
 * ```
 */
export function autoSyncOn(values: Record<string, unknown>, settings: SyncSettings): boolean {
  const value = values[settings.autoSyncAttribute];
  return value === true || value === "true" || value === 1;
}

/** The tracker ids of the synced folders and tasks below some tracker entities (the project: all of them). */
async function inheritingTrackerIds(index: PipelineIndex, trackerIds: Iterable<string>): Promise<Set<string>> {
  const found = new Set<string>();
  const below = async (parentId: string | null): Promise<void> => {
    for (const child of await index.children(parentId)) {
      if (child.type !== "folder" && child.type !== "task") continue;
      if (child.trackerId !== null) found.add(child.trackerId);
      if (child.type === "folder") await below(child.id);
    }
  };
  for (const trackerId of trackerIds) {
    const entity = await index.byTrackerId(trackerId);
    if (entity?.type === "project") await below(null);
    else if (entity?.type === "folder") await below(entity.id);
  }
  return found;
}

/**
 * An incremental sync from one `ftrack.update` event for a project with auto-sync on: the
 * hierarchy entities it adds, changes, moves or removes (and their assignees and attributes),
 * then (as the settings switch them) the assets, versions and components, links and lists it
 * touches. Turning auto-sync on runs a full sync. Undefined when the project has auto-sync off,
 * the tracker has no such project, or nothing in the event concerns the project's pipeline.
 * Users are studio-wide: see {@linkcode syncUsers}.
 */
export async function syncTrackerUpdate(
  options: SyncOptions & { data: unknown; scope?: UpdateScope },
): Promise<SyncReport | undefined> {
  const started = performance.now();
  const { session, settings } = options;
  const scope = options.scope ?? updateScope(options.data, settings);
  if (!projectWork(scope)) return undefined;
  const sync = new ProjectSync({ ...options, mode: "incremental" });
  // Parents are read only when the pipeline lacks them (events can come before their parents').
  const ids = new Set(scope.changed);
  for (const id of scope.ancestors) {
    if (!ids.has(id) && (await sync.index.byTrackerId(id)) === undefined) ids.add(id);
  }
  // A hierarchical value changed: the synced entities below, which may inherit it, are read again.
  for (const id of await inheritingTrackerIds(sync.index, scope.inherited)) ids.add(id);
  // The project (is auto-sync on?) and the entities in one round trip.
  const { project, projectValues, nodes } = await readProjectAndNodes(session, options.project, [...ids], {
    idAttribute: settings.idAttribute,
  });
  if (project === undefined) return undefined;
  const { values, sources } = projectValues;
  if (!autoSyncOn(values, settings)) return undefined;
  if (scope.turnedOn) return await fullSync(options);
  const ownId = values[settings.idAttribute];
  await sync.syncProject({
    id: String(project.id),
    name: String(project.name),
    fullName: String(project.full_name ?? project.name),
    values,
    sources,
    ownFerryId: typeof ownId === "string" && ownId !== "" ? ownId : null,
  });
  const found = new Set(nodes.map((node) => node.id));
  await sync.syncNodes(parentsFirst(nodes.filter((node) => node.parentId !== undefined)));
  if (settings.syncVersions && scope.assets.size + scope.versions.size + scope.components.size > 0) {
    const versionIds = new Set(scope.versions);
    if (scope.components.size > 0) {
      const components = [...scope.components];
      for (const id of await versionsOfComponents(session, components)) versionIds.add(id);
      // Components gone from the tracker: their representation's version is looked at again.
      for (const id of components) {
        const representation = await sync.index.byTrackerId(id);
        if (representation?.type !== "representation" || !representation.parentId) continue;
        const version = await sync.index.get(representation.parentId);
        if (version?.trackerId) versionIds.add(version.trackerId);
      }
    }
    const read = await readVersions(session, { assetIds: [...scope.assets], versionIds: [...versionIds] }, {
      mappings: settings.attributes,
    });
    const versions = new VersionSync(sync);
    await versions.sync(read);
    const live = new Set([...read.assets.map((asset) => asset.id), ...read.versions.map((version) => version.id)]);
    await versions.remove([...scope.assets, ...versionIds].filter((id) => !live.has(id)));
  }
  await sync.removeTrackerIds([...scope.removed].filter((id) => !found.has(id)));
  if (settings.syncLinks && scope.linkTargets.size + scope.links.size > 0) {
    const targets = new Set(scope.linkTargets);
    if (scope.links.size > 0) {
      const rows = (await session.query(`select to_id from TypedContextLink where id in (${quoted([...scope.links])})`))
        .data as Array<{ to_id: string }>;
      for (const row of rows) targets.add(String(row.to_id));
    }
    await syncLinks(sync, [...targets], await readLinksTo(session, [...targets]));
  }
  if (settings.syncLists && scope.lists.size > 0) {
    const lists = await readTrackerLists(session, { ids: [...scope.lists] });
    await syncLists(sync, lists);
    const live = new Set(lists.map((list) => list.id));
    await removeLists(sync, [...scope.lists].filter((id) => !live.has(id)));
  }
  await pruneListItems(sync);
  await sync.writeBack();
  sync.report.durationMs = Math.round(performance.now() - started);
  return sync.report;
}

/** The names of the tracker's active projects with auto-sync on. */
export async function autoSyncProjects(session: Session, settings: SyncSettings): Promise<string[]> {
  const projects = await queryAll(session, "select id, name, status, custom_attributes from Project");
  return projects.filter((project) => {
    if (project.status !== undefined && project.status !== null && project.status !== "active") return false;
    const values: Record<string, unknown> = {};
    for (const value of (project.custom_attributes ?? []) as Array<{ key: string; value: unknown }>) {
      values[value.key] = value.value;
    }
    return autoSyncOn(values, settings);
  }).map((project) => String(project.name)).sort();
}
