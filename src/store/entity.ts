import { z } from "zod";

/** The entity types the pipeline keeps. */
export const EntityTypeSchema = z.enum([
  "project",
  "folder",
  "task",
  "product",
  "version",
  "representation",
  "comment",
  "list",
]);

/** The entity types the pipeline keeps. */
export type EntityType = z.infer<typeof EntityTypeSchema>;

const common = {
  /** Unique id; a new uuid when left out. */
  id: z.string().min(1).optional(),
  /** The project's name (a project's own name for a project). */
  project: z.string().min(1, "is empty"),
  /** The parent entity's id: null for projects and top folders. */
  parentId: z.string().min(1).nullable().default(null),
  name: z.string().min(1, "is empty").max(255),
  status: z.string().min(1).nullable().default(null),
  /** User names. */
  assignees: z.array(z.string().min(1)).default([]),
  attributes: z.record(z.string(), z.unknown()).default({}),
  /** The id of the tracker entity this one maps to (ftrack's id). */
  trackerId: z.string().min(1).nullable().default(null),
};

/** An entity as written: the type decides what `data` holds. */
export const EntityInputSchema = z.discriminatedUnion("type", [
  z.object({ ...common, type: z.literal("project"), data: z.looseObject({}).default({}) }),
  z.object({
    ...common,
    type: z.literal("folder"),
    data: z.looseObject({ folderType: z.string().min(1).default("Folder") }).default({ folderType: "Folder" }),
  }),
  z.object({
    ...common,
    type: z.literal("task"),
    data: z.looseObject({ taskType: z.string().min(1).default("Generic") }).default({ taskType: "Generic" }),
  }),
  z.object({
    ...common,
    type: z.literal("product"),
    data: z.looseObject({ productType: z.string().min(1) }),
  }),
  z.object({
    ...common,
    type: z.literal("version"),
    data: z.looseObject({ version: z.number().int().min(0), taskId: z.string().min(1).nullable().default(null) }),
  }),
  z.object({
    ...common,
    type: z.literal("representation"),
    data: z.looseObject({
      files: z.array(
        z.object({ path: z.string().min(1), size: z.number().int().min(0).optional(), hash: z.string().optional() }),
      )
        .default([]),
    }).default({ files: [] }),
  }),
  z.object({
    ...common,
    /** A comment on its parent entity (a tracker note when synced; its trackerId is the note's id). */
    type: z.literal("comment"),
    data: z.looseObject({
      text: z.string().trim().min(1, "is empty"),
      /** The author's username or email, when known. */
      author: z.string().min(1).nullable().default(null),
    }),
  }),
  z.object({
    ...common,
    /**
     * A list of entities (a tracker List: versions for review, or shots and tasks), at the top of
     * its project (parentId null) or under a folder.
     */
    type: z.literal("list"),
    data: z.looseObject({
      /** `version`: an AssetVersionList; `context`: a TypedContextList (folders and tasks). */
      listType: z.enum(["version", "context"]).default("version"),
      /** The tracker list category's name. */
      category: z.string().min(1).nullable().default(null),
      /** The pipeline ids of the listed entities, in order. */
      items: z.array(z.string().min(1)).default([]),
      /** Whether the list is open (ftrack's `is_open`). */
      open: z.boolean().default(true),
    }).default({ listType: "version", category: null, items: [], open: true }),
  }),
]);

/** An entity as written. */
export type EntityInput = z.input<typeof EntityInputSchema>;

/** An entity as stored. Times are milliseconds since the epoch. */
export type Entity = z.output<typeof EntityInputSchema> & { id: string; createdAt: number; updatedAt: number };

/** Who writes: recorded on the `entity.*` events, so services can ignore their own writes. */
export interface Writer {
  sender: string;
  senderType?: string | null;
}

/**
 * The `entity.<type>.<change>` events an entity write makes: `created`, `deleted`, or one per kind
 * of change (`renamed`, `moved`, `status_changed`, `assignees_changed`, `attrib_changed`,
 * `tracker_id_changed`, `data_changed`). A write that changes nothing makes none.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { type Entity, entityChanges } from "./entity.ts";
 *
 * const base = { id: "1", type: "task", project: "demo", parentId: "f", name: "lighting", status: null, assignees: [],
 *   attributes: { fps: 24 }, trackerId: null, data: { taskType: "Lighting" }, createdAt: 0, updatedAt: 0 } satisfies Entity;
 * const changes = entityChanges(base, { ...base, status: "WIP", attributes: { fps: 25 } });
 * ok(changes.map((c) => c.change).join() === "status_changed,attrib_changed");
 * ```
 */
export function entityChanges(
  before: Entity | undefined,
  after: Entity | undefined,
): Array<{ change: string; old: unknown; new: unknown }> {
  if (before === undefined && after !== undefined) return [{ change: "created", old: null, new: after }];
  if (after === undefined && before !== undefined) return [{ change: "deleted", old: before, new: null }];
  if (before === undefined || after === undefined) return [];
  const changes: Array<{ change: string; old: unknown; new: unknown }> = [];
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
  if (before.name !== after.name) changes.push({ change: "renamed", old: before.name, new: after.name });
  if (before.parentId !== after.parentId) changes.push({ change: "moved", old: before.parentId, new: after.parentId });
  if (before.status !== after.status) changes.push({ change: "status_changed", old: before.status, new: after.status });
  if (!same(before.assignees, after.assignees)) {
    changes.push({ change: "assignees_changed", old: before.assignees, new: after.assignees });
  }
  const keys = new Set([...Object.keys(before.attributes), ...Object.keys(after.attributes)]);
  const oldAttributes: Record<string, unknown> = {};
  const newAttributes: Record<string, unknown> = {};
  for (const key of keys) {
    if (!same(before.attributes[key], after.attributes[key])) {
      oldAttributes[key] = before.attributes[key] ?? null;
      newAttributes[key] = after.attributes[key] ?? null;
    }
  }
  if (Object.keys(newAttributes).length > 0) {
    changes.push({ change: "attrib_changed", old: oldAttributes, new: newAttributes });
  }
  if (before.trackerId !== after.trackerId) {
    changes.push({ change: "tracker_id_changed", old: before.trackerId, new: after.trackerId });
  }
  if (!same(before.data, after.data)) changes.push({ change: "data_changed", old: before.data, new: after.data });
  return changes;
}
