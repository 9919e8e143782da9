/**
 * Task status → parent status (`handlers.task-to-parent-status`): `all` rules (every task of the
 * parent has one of `statuses` → the parent gets `parent`), then `any` rules (one task has one of
 * them). `parentObjectTypes` limits the parents to those object types (`["Shot", "Asset Build"]`,
 * case-insensitive, spaces ignored), as ayon-ftrack's `parent_object_types`; empty for any parent.
 * A status the parent's workflow does not offer is not set. Inert without rules.
 *
 * @module
 */
import { z } from "zod";
import { defineHandler } from "../define_handler.ts";
import { entriesOf, firstAllowed, STATUS_KEYS } from "./_update_entries.ts";

const Rule = z.object({ statuses: z.array(z.string().min(1)).min(1), parent: z.string().min(1) });
const Settings = z.looseObject({
  all: z.array(Rule).default([]),
  any: z.array(Rule).default([]),
  parentObjectTypes: z.array(z.string().min(1)).default([]),
});
const typeKey = (name: unknown) => String(name).replace(/\s+/g, "").toLowerCase();

/** Sets a task's parent status from its tasks' statuses. */
export const taskToParentStatus = defineHandler({
  name: "task-to-parent-status",
  subscription: "topic=ftrack.update",
  priority: 60,
  async handle(event, { session, settings, log }) {
    const { all, any, parentObjectTypes } = Settings.parse(settings);
    const parentTypes = new Set(parentObjectTypes.map(typeKey));
    if (all.length + any.length === 0) return;
    const entries = entriesOf(event, "Task", STATUS_KEYS);
    if (entries.length === 0) return;
    const parents = new Set<string>();
    for (const entry of entries) {
      const task = (await session.query(`select parent_id from Task where id is "${entry.entityId}"`)).data[0];
      if (task?.parent_id) parents.add(task.parent_id);
    }
    for (const parentId of parents) {
      const parent =
        (await session.query(`select id, status_id, object_type.name from TypedContext where id is "${parentId}"`))
          .data[0];
      if (!parent || parent.__entity_type__ === "Project") continue;
      if (parentTypes.size > 0 && !parentTypes.has(typeKey(parent.object_type?.name))) continue;
      const taskStatuses = (await session.query(`select status.name from Task where parent_id is "${parentId}"`)).data
        .map((task) => String(task.status?.name ?? "").toLowerCase());
      const matches = (rule: z.infer<typeof Rule>, every: boolean) => {
        const names = rule.statuses.map((s) => s.toLowerCase());
        return every ? taskStatuses.every((s) => names.includes(s)) : taskStatuses.some((s) => names.includes(s));
      };
      const rule = all.find((r) => taskStatuses.length > 0 && matches(r, true)) ?? any.find((r) => matches(r, false));
      const status = rule ? await firstAllowed(session, parentId, [rule.parent], log) : undefined;
      if (status && parent.status_id !== status.id) {
        await session.update(String(parent.__entity_type__), [parentId], { status_id: status.id });
      }
    }
  },
});
