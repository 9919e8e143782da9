import type { Session } from "@ftrack/api";
import type { PipelineStore } from "../store/pipeline_store.ts";
import type { SyncSettings } from "./sync_settings.ts";
import { quoted } from "./tracker_project.ts";
import { versionsOfComponents } from "./tracker_versions.ts";

/** Keys of a tracker change that never matter to the pipeline. */
const IGNORED_KEYS = ["thumbid", "thumbnail_id", "priorityid", "priority_id"];

/** `ftrack.update`'s `entity_type` of components. */
const COMPONENT_TYPES = new Set(["Component", "FileComponent", "SequenceComponent", "ContainerComponent"]);
/** `ftrack.update`'s `entity_type` of lists. */
const LIST_TYPES = new Set(["List", "AssetVersionList", "TypedContextList"]);

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

/** What one `ftrack.update` event asks a sync to look at, by tracker id. */
export interface UpdateScope {
  /** The project's auto-sync was switched on. */
  turnedOn: boolean;
  /** Folders and tasks added or changed, and those removed. */
  changed: Set<string>;
  removed: Set<string>;
  /**
   * The project, folders and tasks whose value of a key a hierarchical mapping (or one without a
   * kind) reads changed: their descendants, which may inherit it, are read again too.
   */
  inherited: Set<string>;
  /** The tracker parents of changed folders and tasks (synced too when the pipeline lacks them). */
  ancestors: Set<string>;
  assets: Set<string>;
  versions: Set<string>;
  components: Set<string>;
  /** Entities whose incoming links changed, and links whose ends are to be looked up. */
  linkTargets: Set<string>;
  links: Set<string>;
  lists: Set<string>;
  users: Set<string>;
}

const both = (change: { old?: unknown; new?: unknown } | undefined): string[] =>
  [change?.old, change?.new].filter((value): value is string => typeof value === "string" && value !== "");

/**
 * Sorts the entries of an `ftrack.update` event into what a sync looks at: hierarchy changes and
 * removals, assets, versions, components (a location or metadata change counts for its
 * component), link targets, lists (a ListObject for its list), users; the project and the
 * entities whose hierarchically mapped values changed (their descendants may inherit them). Changes of only ignored
 * keys (thumbnail, priority, the pipeline's own id, path and failure flag written back) are left
 * out.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { updateScope } from "./update_scope.ts";
 * import { SyncSettingsSchema } from "./sync_settings.ts";
 *
 * const scope = updateScope({ entities: [
 *   { action: "add", entityId: "l1", entityType: "dependency", entity_type: "TypedContextLink",
 *     changes: { to_id: { new: "t2" }, from_id: { new: "t1" } } },
 *   { action: "add", entityId: "o1", entityType: "listobject", entity_type: "ListObject",
 *     changes: { list_id: { new: "list1" } } },
 * ] }, SyncSettingsSchema.parse({}));
 * ok(scope.linkTargets.has("t2") && scope.lists.has("list1"));
 * ```
 */
export function updateScope(data: unknown, settings: SyncSettings): UpdateScope {
  const scope: UpdateScope = {
    turnedOn: false,
    changed: new Set(),
    removed: new Set(),
    inherited: new Set(),
    ancestors: new Set(),
    assets: new Set(),
    versions: new Set(),
    components: new Set(),
    linkTargets: new Set(),
    links: new Set(),
    lists: new Set(),
    users: new Set(),
  };
  const entries = (data as { entities?: unknown } | null)?.entities ?? [];
  if (!Array.isArray(entries)) return scope;
  const ignored = new Set([...IGNORED_KEYS, settings.idAttribute, settings.pathAttribute, settings.failedAttribute]);
  const inheritable = new Set(settings.attributes.filter((m) => m.kind !== "standard").map((m) => m.tracker));
  for (const entry of entries as UpdateEntry[]) {
    if (typeof entry?.entityId !== "string") continue;
    const keys = Array.isArray(entry.keys) ? entry.keys : [];
    if (keys.length > 0 && keys.every((key) => ignored.has(key))) continue;
    const type = entry.entity_type ?? "";
    const changes = entry.changes ?? {};
    if (entry.entityType === "show") {
      const change = changes[settings.autoSyncAttribute];
      if (change && (change.new === true || change.new === "true") && change.old !== true) scope.turnedOn = true;
      if (keys.some((key) => inheritable.has(key))) scope.inherited.add(entry.entityId);
      continue;
    }
    if (type === "Appointment") {
      if (typeof entry.parentId === "string") scope.changed.add(entry.parentId);
      for (const id of both(changes.context_id)) scope.changed.add(id);
    } else if (type === "Asset") scope.assets.add(entry.entityId);
    else if (type === "AssetVersion") scope.versions.add(entry.entityId);
    else if (COMPONENT_TYPES.has(type)) {
      scope.components.add(entry.entityId);
      for (const id of both(changes.version_id)) scope.versions.add(id);
      for (const id of both(changes.container_id)) scope.components.add(id);
    } else if (type === "ComponentLocation") {
      for (const id of both(changes.component_id)) scope.components.add(id);
    } else if (type === "Metadata") {
      if (typeof entry.parentId === "string") scope.components.add(entry.parentId);
      for (const id of both(changes.parent_id)) scope.components.add(id);
    } else if (type === "TypedContextLink") {
      const ends = both(changes.to_id);
      for (const id of ends) scope.linkTargets.add(id);
      if (ends.length === 0) scope.links.add(entry.entityId);
    } else if (LIST_TYPES.has(type)) scope.lists.add(entry.entityId);
    else if (type === "ListObject") { for (const id of both(changes.list_id)) scope.lists.add(id); }
    else if (type === "User") scope.users.add(entry.entityId);
    else if (entry.entityType === "task") {
      if (entry.action === "remove") {
        scope.removed.add(entry.entityId);
        continue;
      }
      scope.changed.add(entry.entityId);
      if (keys.some((key) => inheritable.has(key))) scope.inherited.add(entry.entityId);
      for (const parent of entry.parents ?? []) {
        if (parent.entityType === "task" && typeof parent.entityId === "string" && parent.entityId !== entry.entityId) {
          scope.ancestors.add(parent.entityId);
        }
      }
    }
  }
  return scope;
}

/**
 * Whether a scope holds anything for a project's sync (users aside: they are studio-wide).
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { projectWork, updateScope } from "./update_scope.ts";
 * import { SyncSettingsSchema } from "./sync_settings.ts";
 *
 * const scope = updateScope({ entities: [{ entityId: "u1", entity_type: "User", entityType: "user" }] }, SyncSettingsSchema.parse({}));
 * ok(scope.users.has("u1") && !projectWork(scope));
 * ```
 */
export function projectWork(scope: UpdateScope): boolean {
  return scope.turnedOn ||
    [
      scope.changed,
      scope.inherited,
      scope.removed,
      scope.assets,
      scope.versions,
      scope.components,
      scope.linkTargets,
      scope.links,
      scope.lists,
    ].some((set) => set.size > 0);
}

type Row = Record<string, unknown>;
const nested = (row: Row, path: string[]): unknown =>
  path.reduce<unknown>((value, key) => (value as Row | null | undefined)?.[key], row);

/**
 * The name of the tracker project an `ftrack.update` event's entities are in, when the event
 * does not say (lists, list items, links, component locations and metadata come without their
 * project): asked of the tracker, then of the pipeline store for entities already gone.
 */
export async function projectOfUpdate(
  session: Session,
  store: PipelineStore,
  scope: UpdateScope,
): Promise<string | undefined> {
  const first = async (expression: string, ids: Iterable<string>, path: string[]) => {
    const some = [...ids].slice(0, 50);
    if (some.length === 0) return undefined;
    for (const row of (await session.query(`${expression} (${quoted(some)})`)).data as Row[]) {
      const name = nested(row, path);
      if (typeof name === "string" && name !== "") return name;
    }
    return undefined;
  };
  const versions = [...scope.versions, ...await versionsOfComponents(session, [...scope.components].slice(0, 50))];
  const found = await first("select project.name from List where id in", scope.lists, ["project", "name"]) ??
    await first("select project.name from TypedContext where id in", [...scope.linkTargets, ...scope.changed], [
      "project",
      "name",
    ]) ??
    await first("select to.project.name from TypedContextLink where id in", scope.links, ["to", "project", "name"]) ??
    await first("select asset.parent.project.name from AssetVersion where id in", versions, [
      "asset",
      "parent",
      "project",
      "name",
    ]) ??
    await first("select parent.project.name from Asset where id in", scope.assets, ["parent", "project", "name"]);
  if (found) return found;
  for (const id of [...scope.lists, ...scope.linkTargets, ...scope.versions, ...scope.components, ...scope.assets]) {
    const entity = (await store.findEntities({ trackerId: id }))[0];
    if (entity) return entity.project;
  }
  return undefined;
}
