import { operation, type Session } from "@ftrack/api";
import { type Entity, entityChanges, type EntityInput, EntityInputSchema, type Writer } from "../store/entity.ts";
import type { PipelineStore } from "../store/pipeline_store.ts";
import { TRACKER_SENDER_TYPE } from "../store/topics.ts";
import type { NotesSyncReport } from "./comment_sync.ts";
import { PipelineIndex } from "./pipeline_index.ts";
import type { SyncSettings } from "./sync_settings.ts";
import { chunk, queryAll, quoted, type TrackerNode } from "./tracker_project.ts";
import { type AttributeSources, mappedAttributes } from "./attribute_mapping.ts";
import { pipelineIdOf } from "./pipeline_id.ts";

/** What a sync did to one kind of thing: labels of what was created, updated and removed. */
export interface SectionReport {
  created: string[];
  updated: string[];
  removed: string[];
}

/** The kinds of things a sync reports on beside the hierarchy. */
export const REPORT_SECTIONS = ["products", "versions", "representations", "links", "lists", "users"] as const;

/** One of {@linkcode REPORT_SECTIONS}. */
export type ReportSection = typeof REPORT_SECTIONS[number];

/** Something a sync could not do, and why. */
export interface SkippedItem {
  trackerId: string;
  path: string;
  reason: string;
  /** What it was: the hierarchy when left out. */
  kind?: "hierarchy" | "version" | "link" | "list" | "user" | "attribute";
}

/**
 * What a sync did: the hierarchy's paths created, updated and removed; products, versions,
 * representations, links, lists and users likewise; what it skipped and why.
 */
export interface SyncReport extends Record<ReportSection, SectionReport> {
  project: string;
  mode: "full" | "incremental";
  created: string[];
  updated: string[];
  removed: string[];
  skipped: SkippedItem[];
  /** What the notes → comments sync did (a full sync, when it ran). */
  comments?: NotesSyncReport;
  /** Tracker entities whose pipeline id or path was written back. */
  writtenBack: number;
  unchanged: number;
  durationMs: number;
}

/** A new, empty report. */
export function emptyReport(project: string, mode: SyncReport["mode"]): SyncReport {
  const section = (): SectionReport => ({ created: [], updated: [], removed: [] });
  return {
    project,
    mode,
    created: [],
    updated: [],
    removed: [],
    products: section(),
    versions: section(),
    representations: section(),
    links: section(),
    lists: section(),
    users: section(),
    skipped: [],
    writtenBack: 0,
    unchanged: 0,
    durationMs: 0,
  };
}

/**
 * Whether a report holds any change or skip (hierarchy or any section).
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { emptyReport, reportChanged } from "./project_sync.ts";
 *
 * const report = emptyReport("demo", "incremental");
 * ok(!reportChanged(report));
 * report.lists.created.push("dailies");
 * ok(reportChanged(report));
 * ```
 */
export function reportChanged(report: SyncReport): boolean {
  if (report.created.length + report.updated.length + report.removed.length + report.skipped.length > 0) return true;
  return REPORT_SECTIONS.some((name) => {
    const section = report[name];
    return section.created.length + section.updated.length + section.removed.length > 0;
  });
}

/**
 * A report's counts in one line: `3 created, 1 updated, …; versions 2 created; links 1 removed`.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { emptyReport, reportSummary } from "./project_sync.ts";
 *
 * const report = emptyReport("demo", "full");
 * report.created.push("/sq010");
 * report.versions.created.push("/sq010/sh010/beauty/v001");
 * ok(reportSummary(report) === "1 created, 0 updated, 0 removed, 0 skipped; versions 1 created");
 * ```
 */
export function reportSummary(report: SyncReport): string {
  const parts = [
    `${report.created.length} created, ${report.updated.length} updated, ${report.removed.length} removed, ${report.skipped.length} skipped`,
  ];
  for (const name of REPORT_SECTIONS) {
    const section = report[name];
    const counts = (["created", "updated", "removed"] as const).filter((key) => section[key].length > 0)
      .map((key) => `${section[key].length} ${key}`);
    if (counts.length > 0) parts.push(`${name} ${counts.join(", ")}`);
  }
  return parts.join("; ");
}

/** A name list extended with new names, matched case-insensitively (the first spelling stays). */
export function mergeNames(existing: unknown, incoming: string[]): string[] {
  const names = Array.isArray(existing) ? existing.map(String) : [];
  const seen = new Set(names.map((name) => name.toLowerCase()));
  for (const name of incoming) {
    if (!seen.has(name.toLowerCase())) {
      seen.add(name.toLowerCase());
      names.push(name);
    }
  }
  return names;
}

const canonical = (names: string[], name: string | null): string | null =>
  name === null ? null : names.find((candidate) => candidate.toLowerCase() === name.toLowerCase()) ?? name;

/**
 * Whether writing `input` over `before` would change nothing (the store would record no event):
 * a sync then skips the write and its transaction.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import type { Entity } from "../store/entity.ts";
 * import { unchanged } from "./project_sync.ts";
 *
 * const before: Entity = { id: "f1", type: "folder", project: "demo", parentId: null, name: "sq010", status: null,
 *   assignees: [], attributes: {}, trackerId: "t1", data: { folderType: "Sequence" }, createdAt: 0, updatedAt: 0 };
 * ok(unchanged({ ...before, data: { folderType: "Sequence" } }, before));
 * ok(!unchanged({ ...before, name: "sq020" }, before));
 * ```
 */
export function unchanged(input: EntityInput, before: Entity | undefined): boolean {
  if (before === undefined || input.type !== before.type || (input.id !== undefined && input.id !== before.id)) {
    return false;
  }
  const parsed = EntityInputSchema.safeParse(input);
  if (!parsed.success) return false;
  return entityChanges(
    before,
    { ...parsed.data, id: before.id, createdAt: before.createdAt, updatedAt: before.updatedAt } as Entity,
  )
    .length === 0;
}

/** Custom attribute configurations by session and keys, looked up at most once a minute (an incremental sync's write-back). */
const CONFIGURATIONS = new WeakMap<Session, Map<string, { at: number; rows: Promise<Record<string, unknown>[]> }>>();

function configurationsOf(session: Session, keys: string[]): Promise<Record<string, unknown>[]> {
  const cache = CONFIGURATIONS.get(session) ?? new Map();
  CONFIGURATIONS.set(session, cache);
  const key = keys.join("\u0000");
  const known = cache.get(key);
  if (known && Date.now() - known.at < 60_000) return known.rows;
  const rows = queryAll(
    session,
    `select id, key, is_hierarchical from CustomAttributeConfiguration where key in (${quoted(keys)})`,
  );
  cache.set(key, { at: Date.now(), rows });
  // Not remembered when it failed or lacks a key (it may be made any moment).
  rows.then((found) => found.length < keys.length && cache.delete(key), () => cache.delete(key));
  return rows;
}

/**
 * One project's sync from the tracker to the pipeline store: the project entity (types and
 * statuses merged case-insensitively), folders and tasks matched by tracker id, then by the
 * tracker's own pipeline id (a copy-paste's duplicate is not taken), then by name under the same
 * parent; created, renamed, moved, removed (a folder with products is neither renamed, moved nor
 * removed: the reason is reported); mapped attributes, status, assignees; pipeline ids and paths
 * written back to the tracker.
 */
export class ProjectSync {
  readonly index: PipelineIndex;
  readonly report: SyncReport;
  /** The pipeline ids this sync deleted (lists naming them are pruned at the end). */
  readonly deleted = new Set<string>();
  readonly #store: PipelineStore;
  readonly #session: Session;
  readonly #settings: SyncSettings;
  readonly #writer: Writer;
  #project: Entity | undefined;
  #trackerProjectId: string | undefined;
  readonly #writeBack: Array<{ trackerId: string; id: string; path: string }> = [];

  constructor(options: {
    store: PipelineStore;
    session: Session;
    project: string;
    settings: SyncSettings;
    sender: string;
    mode: SyncReport["mode"];
  }) {
    this.#store = options.store;
    this.#session = options.session;
    this.#settings = options.settings;
    this.#writer = { sender: options.sender, senderType: TRACKER_SENDER_TYPE };
    this.index = new PipelineIndex(options.store, options.project);
    this.report = emptyReport(options.project, options.mode);
  }

  get projectEntity(): Entity | undefined {
    return this.#project;
  }

  /** The tracker project's id (known once the project is synced). */
  get trackerProjectId(): string | undefined {
    return this.#trackerProjectId;
  }

  get store(): PipelineStore {
    return this.#store;
  }

  get session(): Session {
    return this.#session;
  }

  get settings(): SyncSettings {
    return this.#settings;
  }

  /** Who the sync writes as (sender type `tracker`). */
  get writer(): Writer {
    return this.#writer;
  }

  /** A status name as the project spells it (case-insensitively matched), or the name as given. */
  statusName(name: string | null): string | null {
    const data = (this.#project?.data ?? {}) as Record<string, unknown>;
    return canonical(Array.isArray(data.statuses) ? data.statuses.map(String) : [], name);
  }

  /** Records something not synced, with the reason. */
  skip(kind: NonNullable<SkippedItem["kind"]>, trackerId: string, path: string, reason: string): void {
    this.report.skipped.push({ trackerId, path, reason, kind });
  }

  /** Writes an entity of a report section (products, versions …), counted there under `label`. */
  async writeIn(
    section: ReportSection,
    input: EntityInput,
    before: Entity | undefined,
    label: string,
  ): Promise<Entity> {
    return await this.#writeTo(this.report[section], input, before, label);
  }

  /** Deletes an entity of a report section, counted there under `label`. */
  async deleteIn(section: ReportSection, entity: Entity, label: string): Promise<void> {
    if (await this.#store.deleteEntity(entity.id, this.#writer)) this.report[section].removed.push(label);
    this.index.drop(entity.id);
    this.deleted.add(entity.id);
  }

  async #write(input: EntityInput, before: Entity | undefined, path: string): Promise<Entity> {
    return await this.#writeTo(this.report, input, before, path);
  }

  /** Writes `input` unless it changes nothing of `before`, listing `label` in `lists`' created or updated. */
  async #writeTo(
    lists: { created: string[]; updated: string[] },
    input: EntityInput,
    before: Entity | undefined,
    label: string,
  ): Promise<Entity> {
    if (unchanged(input, before)) {
      this.report.unchanged++;
      return before!;
    }
    const { entity, events } = await this.#store.writeEntity(input, this.#writer);
    this.index.put(entity);
    if (events.length === 0) this.report.unchanged++;
    else if (before === undefined) lists.created.push(label);
    else lists.updated.push(label);
    return entity;
  }

  /**
   * The mapped attributes of a tracker entity (each mapping reading the configuration it names for
   * the entity's object type); the project gets the defaults for those the tracker leaves empty.
   */
  #mapped(
    entity: { objectType: string; values: Record<string, unknown>; sources?: AttributeSources },
    defaults: boolean,
  ): Record<string, unknown> {
    const attributes = mappedAttributes(this.#settings.attributes, entity);
    if (defaults) {
      for (const { pipeline } of this.#settings.attributes) {
        if (attributes[pipeline] === undefined && this.#settings.defaults[pipeline] !== undefined) {
          attributes[pipeline] = this.#settings.defaults[pipeline];
        }
      }
    }
    return attributes;
  }

  /** The project entity: found by tracker id or name, created when missing; types and statuses merged. */
  async syncProject(tracker: {
    id: string;
    name: string;
    fullName: string;
    values: Record<string, unknown>;
    /** The values split by configuration (hierarchical, `show`); absent: read by key whatever the configuration. */
    sources?: AttributeSources;
    ownFerryId: string | null;
    statuses?: string[];
    objectTypes?: string[];
    taskTypes?: string[];
  }): Promise<Entity> {
    this.#trackerProjectId = tracker.id;
    const before = (await this.#store.findEntities({ type: "project", project: tracker.name }))[0];
    const data = { ...(before?.data ?? {}) } as Record<string, unknown>;
    data.fullName = tracker.fullName;
    if (tracker.statuses) data.statuses = mergeNames(data.statuses, tracker.statuses);
    if (tracker.objectTypes) data.folderTypes = mergeNames(data.folderTypes, tracker.objectTypes);
    if (tracker.taskTypes) data.taskTypes = mergeNames(data.taskTypes, tracker.taskTypes);
    const attributes = { ...(before?.attributes ?? {}), ...this.#mapped({ ...tracker, objectType: "Project" }, true) };
    const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
    // Unchanged (most incremental events): no write, not even a transaction.
    const entity = before !== undefined && before.trackerId === tracker.id && same(before.attributes, attributes) &&
        same(before.data, data)
      ? (this.report.unchanged++, before)
      : await this.#write(
        {
          type: "project",
          id: before?.id,
          project: tracker.name,
          name: tracker.name,
          parentId: null,
          status: before?.status ?? null,
          assignees: before?.assignees ?? [],
          attributes,
          trackerId: tracker.id,
          data,
        },
        before,
        "/",
      );
    this.#project = entity;
    if (tracker.ownFerryId !== entity.id) this.#writeBack.push({ trackerId: tracker.id, id: entity.id, path: "/" });
    return entity;
  }

  /** Syncs tracker entities whose parents come first (or are synced already). */
  async syncNodes(nodes: TrackerNode[], options: { staleTrackerIds?: (id: string) => boolean } = {}): Promise<void> {
    for (const node of nodes) await this.#syncNode(node, options.staleTrackerIds ?? (() => false));
  }

  async #syncNode(node: TrackerNode, stale: (id: string) => boolean): Promise<void> {
    const project = this.#project!;
    const data = project.data as Record<string, unknown>;
    const skip = (reason: string, path = `/${node.name}`) =>
      void this.report.skipped.push({ trackerId: node.id, path, reason });
    if (node.kind === "milestone") return skip("a milestone is not synced");
    const underProject = node.parentId === this.#trackerProjectId;
    if (node.kind === "task" && underProject) return skip("a task directly under the project has no folder to go in");
    let parent: Entity | undefined;
    if (!underProject) {
      parent = await this.index.byTrackerId(node.parentId);
      if (parent === undefined) return skip(`its tracker parent ${node.parentId} is not synced`);
      if (parent.type !== "folder") return skip(`its parent '${parent.name}' is a ${parent.type}, not a folder`);
    }
    const parentId = parent?.id ?? null;
    const type = node.kind === "task" ? "task" : "folder";
    const parentPath = parent ? await this.index.pathOf(parent) : "";
    const path = `${parentPath === "/" ? "" : parentPath}/${node.name}`;

    let existing = await this.index.byTrackerId(node.id);
    if (existing === undefined && node.ownFerryId) {
      const claimed = await this.index.get(node.ownFerryId);
      if (claimed && claimed.project === project.name && claimed.type === type) {
        if (claimed.trackerId === null || stale(claimed.trackerId)) existing = claimed;
        else if (claimed.trackerId !== node.id) {
          skip(
            `its ${this.#settings.idAttribute} was copied from tracker entity ${claimed.trackerId}: a new id is written`,
            path,
          );
        }
      }
    }
    if (existing === undefined) {
      existing = (await this.index.children(parentId)).find((sibling) =>
        sibling.type === type && sibling.trackerId === null && sibling.name.toLowerCase() === node.name.toLowerCase()
      );
    }

    let name = node.name;
    let newParentId = parentId;
    if (existing && type === "folder" && (existing.name !== name || existing.parentId !== parentId)) {
      if (await this.index.hasProducts(existing)) {
        skip(
          `'${await this.index.pathOf(existing)}' has published products: not ${
            existing.name !== name ? "renamed" : "moved"
          }`,
          path,
        );
        name = existing.name;
        newParentId = existing.parentId;
      }
    }
    const statuses = Array.isArray(data.statuses) ? data.statuses.map(String) : [];
    const folderTypes = Array.isArray(data.folderTypes) ? data.folderTypes.map(String) : [];
    const taskTypes = Array.isArray(data.taskTypes) ? data.taskTypes.map(String) : [];
    const attributes = {
      ...(existing?.attributes ?? {}),
      ...this.#mapped(node, false),
      startDate: node.startDate,
      endDate: node.endDate,
      description: node.description,
    };
    const base = {
      id: existing?.id ?? pipelineIdOf(node.id),
      project: project.name,
      parentId: newParentId,
      name,
      status: canonical(statuses, node.status),
      assignees: node.assignees,
      attributes,
      trackerId: node.id,
    };
    const input: EntityInput = type === "task"
      ? { ...base, type, data: { ...(existing?.data ?? {}), taskType: canonical(taskTypes, node.type) ?? "Generic" } }
      : {
        ...base,
        type,
        data: { ...(existing?.data ?? {}), folderType: canonical(folderTypes, node.objectType) ?? "Folder" },
      };
    const entity = await this.#write(input, existing, path);
    const writtenPath = await this.index.pathOf(entity);
    if (node.ownFerryId !== entity.id || node.values[this.#settings.pathAttribute] !== writtenPath) {
      this.#writeBack.push({ trackerId: node.id, id: entity.id, path: writtenPath });
    }
  }

  /** Removes the pipeline entities of tracker entities that are gone (deepest first); those with products stay. */
  async removeTrackerIds(trackerIds: string[]): Promise<void> {
    const roots: Entity[] = [];
    for (const trackerId of trackerIds) {
      const entity = await this.index.byTrackerId(trackerId);
      if (entity && (entity.type === "folder" || entity.type === "task")) roots.push(entity);
    }
    for (const root of roots) await this.#removeTree(root);
  }

  async #removeTree(entity: Entity): Promise<boolean> {
    if (!(await this.index.get(entity.id))) return true;
    const path = await this.index.pathOf(entity);
    let clear = true;
    for (const child of await this.index.children(entity.id)) {
      if (child.type === "folder" || child.type === "task") {
        if (child.trackerId === null) {
          clear = false;
          continue;
        }
        if (!(await this.#removeTree(child))) clear = false;
      } else clear = false;
    }
    if (!clear) {
      const { entity: kept } = await this.#store.writeEntity(
        { ...entity, trackerId: null, data: { ...entity.data, trackerRemoved: true } } as EntityInput,
        this.#writer,
      );
      this.index.put(kept);
      this.report.skipped.push({
        trackerId: entity.trackerId ?? "",
        path,
        reason: "removed in the tracker, kept: published products or pipeline-only entities are below it",
      });
      return false;
    }
    await this.#store.deleteEntity(entity.id, this.#writer);
    this.index.drop(entity.id);
    this.deleted.add(entity.id);
    this.report.removed.push(path);
    return true;
  }

  /** Writes the pipeline ids and paths back to the tracker (batched); returns how many entities. */
  async writeBack(): Promise<number> {
    if (!this.#settings.writeBack || this.#writeBack.length === 0) return 0;
    const keys = [this.#settings.idAttribute, this.#settings.pathAttribute];
    const configurations = await configurationsOf(this.#session, keys);
    const idConfig = configurations.find((row) => row.key === this.#settings.idAttribute && row.is_hierarchical);
    const pathConfig = configurations.find((row) => row.key === this.#settings.pathAttribute && row.is_hierarchical);
    if (!idConfig) {
      this.report.skipped.push({
        trackerId: this.#trackerProjectId ?? "",
        path: "/",
        reason:
          `the tracker has no hierarchical custom attribute '${this.#settings.idAttribute}': ids not written back`,
      });
      return 0;
    }
    const operations = this.#writeBack.flatMap(({ trackerId, id, path }) => [
      operation.update("ContextCustomAttributeValue", [String(idConfig.id), trackerId], { value: id }),
      ...(pathConfig
        ? [operation.update("ContextCustomAttributeValue", [String(pathConfig.id), trackerId], { value: path })]
        : []),
    ]);
    for (const part of chunk(operations, 500)) await this.#session.call(part);
    const count = this.#writeBack.length;
    this.#writeBack.length = 0;
    this.report.writtenBack += count;
    return count;
  }
}
