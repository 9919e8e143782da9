/**
 * Hierarchical ↔ per-object-type attribute push (`handlers.push-hierarchical-values`), ayon-ftrack's
 * `PushHierValuesToNonHierEvent`:
 *
 * - When one of `attributes` changes on an entity of `objectTypes` (Shot, Asset Build … and Task),
 *   the other custom attribute of the same key (the per-object-type one for a hierarchical change,
 *   the hierarchical one for a per-object-type change) gets the same value.
 * - A task created under, or moved to, an entity of `objectTypes` gets its per-object-type value
 *   (the Task object type's attribute of the same key) from the hierarchical value it inherits
 *   (its own, else the nearest parent's, else the attribute's default). A task with values of its
 *   own when created keeps them. `tasksOnCreate: false` turns this off.
 * - With `pushToTasks` (on by default), a hierarchical change on an entity of `objectTypes` also
 *   reaches the per-object-type value of its tasks that inherit it (no hierarchical value of
 *   their own), so a Shot's frame range and its tasks' stay the same.
 *
 * Inert without attributes. Object types match case-insensitively, spaces ignored (`Asset Build`).
 *
 * @module
 */
import { operation, type Session } from "@ftrack/api";
import { z } from "zod";
import { defineHandler } from "../define_handler.ts";

const Settings = z.looseObject({
  attributes: z.array(z.string().min(1)).default([]),
  objectTypes: z.array(z.string().min(1)).default(["Shot", "AssetBuild", "Task"]),
  tasksOnCreate: z.boolean().default(true),
  pushToTasks: z.boolean().default(true),
});

type Row = Record<string, unknown>;

/** An `ftrack.update` entry as this handler reads it. */
interface Entry {
  action?: string;
  entityId?: string;
  entity_type?: string;
  keys?: unknown;
  changes?: Record<string, { new?: unknown }>;
  parents?: Array<{ entityId: string; entity_type?: string }>;
}

const typeKey = (name: unknown) => String(name).replace(/\s+/g, "").toLowerCase();
const quote = (ids: Iterable<string>) => [...ids].map((id) => `"${id.replace(/"/g, "")}"`).join(", ");
const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

/** The own values of `configurationIds` on `entityIds`, by entity id then configuration id. */
async function ownValues(
  session: Session,
  configurationIds: string[],
  entityIds: string[],
): Promise<Map<string, Map<string, unknown>>> {
  const values = new Map<string, Map<string, unknown>>();
  if (configurationIds.length === 0 || entityIds.length === 0) return values;
  const rows = (await session.query(
    `select entity_id, configuration_id, value from CustomAttributeValue where entity_id in (${
      quote(entityIds)
    }) and configuration_id in (${quote(configurationIds)})`,
  )).data as Row[];
  for (const row of rows) {
    const id = String(row.entity_id);
    if (!values.has(id)) values.set(id, new Map());
    values.get(id)!.set(String(row.configuration_id), row.value);
  }
  return values;
}

/** The entity of an entry, then its parents up to the project. */
function chainOf(entry: Entry): string[] {
  const parents = Array.isArray(entry.parents) ? entry.parents.map((parent) => String(parent.entityId)) : [];
  return parents[0] === entry.entityId ? parents : [String(entry.entityId), ...parents];
}

/** The hierarchical value the first of `chain` has: its own, else the nearest parent's, else the default. */
function inheritedOf(hierarchical: Row, values: Map<string, Map<string, unknown>>, chain: string[]): unknown {
  const holder = chain.find((id) => values.get(id)?.has(String(hierarchical.id)));
  return (holder === undefined ? hierarchical.default : values.get(holder)!.get(String(hierarchical.id))) ?? null;
}

/** Keeps hierarchical and per-object-type values of the same key equal. */
export const pushHierarchicalValues = defineHandler({
  name: "push-hierarchical-values",
  subscription: "topic=ftrack.update",
  priority: 90,
  async handle(event, { session, settings, log }) {
    const { attributes, objectTypes, tasksOnCreate, pushToTasks } = Settings.parse(settings);
    if (attributes.length === 0) return;
    const interesting = new Set(objectTypes.map(typeKey));
    const raw = (event.data as { entities?: unknown })?.entities;
    const entries = (Array.isArray(raw) ? raw : []) as Entry[];
    const keysOf = (entry: Entry) =>
      (Array.isArray(entry.keys) ? entry.keys.map(String) : []).filter((key) => attributes.includes(key));
    const changed = entries.filter((entry) =>
      entry.action !== "remove" && keysOf(entry).length > 0 && interesting.has(typeKey(entry.entity_type))
    );
    // A task created under (or moved to) an entity of the object types: parents[1] is its direct parent.
    const placed = tasksOnCreate
      ? entries.filter((entry) =>
        entry.entity_type === "Task" && (entry.action === "add" || entry.action === "move") &&
        Array.isArray(entry.parents) && interesting.has(typeKey(entry.parents[1]?.entity_type))
      )
      : [];
    if (changed.length === 0 && placed.length === 0) return;
    const configurations = (await session.query(
      `select id, key, is_hierarchical, entity_type, object_type_id, default from CustomAttributeConfiguration where key in (${
        quote(attributes)
      })`,
    )).data as Row[];
    const hierarchicalOf = (key: string) => configurations.find((c) => c.key === key && c.is_hierarchical);
    const perTypeOf = (key: string, objectTypeId: unknown) =>
      configurations.find((c) =>
        c.key === key && !c.is_hierarchical && c.entity_type === "task" && c.object_type_id === objectTypeId
      );
    const operations: ReturnType<typeof operation.update>[] = [];
    const set = (configurationId: unknown, entityId: unknown, value: unknown) =>
      operations.push(
        operation.update("ContextCustomAttributeValue", [String(configurationId), String(entityId)], { value }),
      );

    for (const entry of changed) {
      const entity =
        (await session.query(`select id, object_type_id from TypedContext where id is "${entry.entityId}"`))
          .data[0] as Row | undefined;
      if (!entity) continue;
      const chain = chainOf(entry);
      for (const key of keysOf(entry)) {
        const hierarchical = hierarchicalOf(key);
        const perType = perTypeOf(key, entity.object_type_id);
        const value = entry.changes?.[key]?.new ?? null;
        if (!hierarchical || value === null) continue;
        const values = await ownValues(
          session,
          [String(hierarchical.id), ...(perType ? [String(perType.id)] : [])],
          chain,
        );
        const own = values.get(String(entity.id)) ?? new Map();
        if (perType) {
          if (!same(own.get(String(perType.id)), value)) set(perType.id, entity.id, value);
          // An inherited value that is already this one is not pinned on the entity.
          if (!same(inheritedOf(hierarchical, values, chain), value)) set(hierarchical.id, entity.id, value);
        }
        // The tasks under it that inherit the hierarchical value follow it.
        if (!pushToTasks || entity.__entity_type__ === "Task") continue;
        const tasks = (await session.query(`select id, object_type_id from Task where parent_id is "${entity.id}"`))
          .data as Row[];
        const taskType = tasks.length ? perTypeOf(key, tasks[0]!.object_type_id) : undefined;
        if (!taskType) continue;
        const taskValues = await ownValues(
          session,
          [String(hierarchical.id), String(taskType.id)],
          tasks.map((t) => String(t.id)),
        );
        for (const task of tasks) {
          const values = taskValues.get(String(task.id)) ?? new Map();
          if (values.has(String(hierarchical.id))) continue;
          if (!same(values.get(String(taskType.id)), value)) set(taskType.id, task.id, value);
        }
      }
    }

    for (const entry of placed) {
      const task = (await session.query(`select id, object_type_id from Task where id is "${entry.entityId}"`))
        .data[0] as Row | undefined;
      if (!task) continue;
      const chain = chainOf(entry);
      for (const key of attributes) {
        const hierarchical = hierarchicalOf(key);
        const perType = perTypeOf(key, task.object_type_id);
        if (!hierarchical || !perType) continue;
        const values = await ownValues(session, [String(hierarchical.id), String(perType.id)], chain);
        const taskValues = values.get(String(task.id)) ?? new Map();
        if (entry.action === "add" && (taskValues.has(String(hierarchical.id)) || taskValues.has(String(perType.id)))) {
          continue;
        }
        const inherited = inheritedOf(hierarchical, values, chain);
        if (inherited === null) continue;
        if (!same(taskValues.get(String(perType.id)), inherited)) {
          set(perType.id, task.id, inherited);
          log.debug("task value from its parents", { task: task.id, key, value: inherited });
        }
      }
    }
    if (operations.length) await session.call(operations);
  },
});
