import type { Session } from "@ftrack/api";
import type { PipelineStore } from "../store/pipeline_store.ts";
import { ProjectSync, type SyncReport } from "./project_sync.ts";
import type { SyncSettings } from "./sync_settings.ts";
import {
  findTrackerProject,
  queryAll,
  readTrackerNodes,
  readTrackerProject,
  type TrackerNode,
} from "./tracker_project.ts";

/** Options of {@linkcode fullSync} and {@linkcode syncTrackerUpdate}. */
export interface SyncOptions {
  session: Session;
  store: PipelineStore;
  /** The project's name. */
  project: string;
  settings: SyncSettings;
  /** Written as the sender of the pipeline's `entity.*` events (their sender type is `tracker`). */
  sender: string;
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
 * hierarchy (created, renamed, moved, removed), mapped attributes, statuses, assignees, and the
 * pipeline ids written back. Throws a `RangeError` when the tracker has no such project.
 */
export async function fullSync(options: SyncOptions): Promise<SyncReport> {
  const started = performance.now();
  const tracker = await readTrackerProject(options.session, options.project, {
    idAttribute: options.settings.idAttribute,
  });
  const sync = new ProjectSync({ ...options, mode: "full" });
  await sync.index.preload();
  await sync.syncProject(tracker);
  const trackerIds = new Set(tracker.nodes.map((node) => node.id));
  await sync.syncNodes(parentsFirst(tracker.nodes), { staleTrackerIds: (id) => !trackerIds.has(id) });
  const gone = sync.index.all().filter((entity) =>
    (entity.type === "folder" || entity.type === "task") && entity.trackerId !== null &&
    !trackerIds.has(entity.trackerId)
  );
  await sync.removeTrackerIds(gone.map((entity) => entity.trackerId!));
  await sync.writeBack();
  sync.report.durationMs = Math.round(performance.now() - started);
  return sync.report;
}

/** Keys of a tracker change that never matter to the pipeline. */
const IGNORED_KEYS = new Set(["thumbid", "thumbnail_id", "priorityid", "priority_id"]);

interface UpdateEntry {
  action?: string;
  entityId?: string;
  entityType?: string;
  entity_type?: string;
  parentId?: string | null;
  keys?: string[];
  changes?: Record<string, { old?: unknown; new?: unknown }>;
  parents?: Array<{ entityId?: string; entityType?: string }>;
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

/**
 * An incremental sync from one `ftrack.update` event for a project with auto-sync on: the
 * hierarchy entities it adds, changes, moves or removes (and their assignees and attributes).
 * Turning auto-sync on runs a full sync. Undefined when the project has auto-sync off, the
 * tracker has no such project, or nothing in the event concerns the pipeline.
 */
export async function syncTrackerUpdate(
  options: SyncOptions & { data: unknown },
): Promise<SyncReport | undefined> {
  const started = performance.now();
  const entries = ((options.data as { entities?: unknown } | null)?.entities ?? []) as UpdateEntry[];
  if (!Array.isArray(entries) || entries.length === 0) return undefined;
  const changed = new Set<string>();
  const removed = new Set<string>();
  let turnedOn = false;
  for (const entry of entries) {
    if (typeof entry?.entityId !== "string") continue;
    const keys = Array.isArray(entry.keys) ? entry.keys : [];
    if (keys.length > 0 && keys.every((key) => IGNORED_KEYS.has(key))) continue;
    if (entry.entityType === "show") {
      const change = entry.changes?.[options.settings.autoSyncAttribute];
      if (change && (change.new === true || change.new === "true") && change.old !== true) turnedOn = true;
      continue;
    }
    if (entry.entity_type === "Appointment") {
      if (typeof entry.parentId === "string") changed.add(entry.parentId);
      const context = entry.changes?.context_id;
      if (typeof context?.old === "string") changed.add(context.old);
      continue;
    }
    if (entry.entityType !== "task") continue;
    if (entry.action === "remove") {
      removed.add(entry.entityId);
      continue;
    }
    changed.add(entry.entityId);
    for (const parent of entry.parents ?? []) {
      if (parent.entityType === "task" && typeof parent.entityId === "string") changed.add(parent.entityId);
    }
  }
  if (!turnedOn && changed.size === 0 && removed.size === 0) return undefined;
  const project = await findTrackerProject(options.session, { name: options.project });
  if (project === undefined) return undefined;
  const values: Record<string, unknown> = {};
  for (const value of (project.custom_attributes ?? []) as Array<{ key: string; value: unknown }>) {
    values[value.key] = value.value;
  }
  if (!autoSyncOn(values, options.settings)) return undefined;
  if (turnedOn) return await fullSync(options);
  const sync = new ProjectSync({ ...options, mode: "incremental" });
  const ownId = values[options.settings.idAttribute];
  await sync.syncProject({
    id: String(project.id),
    name: String(project.name),
    fullName: String(project.full_name ?? project.name),
    values,
    ownFerryId: typeof ownId === "string" && ownId !== "" ? ownId : null,
  });
  const nodes = changed.size
    ? await readTrackerNodes(options.session, [...changed], { idAttribute: options.settings.idAttribute })
    : [];
  const found = new Set(nodes.map((node) => node.id));
  await sync.syncNodes(parentsFirst(nodes.filter((node) => node.parentId !== undefined)));
  await sync.removeTrackerIds([...removed].filter((id) => !found.has(id)));
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
