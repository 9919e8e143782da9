/**
 * Next task update (`handlers.next-task-update`): when a task reaches one of `doneStatuses`, the
 * sibling tasks of the next task type in `order` whose status is in `from` get `to`. Task types
 * are matched case-insensitively; `ignoredStatuses` keep their status. Inert without an order.
 *
 * @module
 */
import { z } from "zod";
import { defineHandler } from "../define_handler.ts";
import { entriesOf, STATUS_KEYS, statusesByName } from "./_update_entries.ts";

const Settings = z.looseObject({
  order: z.array(z.string().min(1)).default([]),
  doneStatuses: z.array(z.string().min(1)).default(["Approved", "Completed"]),
  from: z.array(z.string().min(1)).default(["Not started"]),
  to: z.string().min(1).default("Ready to start"),
  ignoredStatuses: z.array(z.string().min(1)).default(["Omitted"]),
});

/** Moves the next task(s) on when a task is done. */
export const nextTaskUpdate = defineHandler({
  name: "next-task-update",
  subscription: "topic=ftrack.update",
  priority: 70,
  async handle(event, { session, settings }) {
    const config = Settings.parse(settings);
    if (config.order.length === 0) return;
    const entries = entriesOf(event, "Task", STATUS_KEYS);
    if (entries.length === 0) return;
    const statuses = await statusesByName(session);
    const target = statuses.get(config.to.toLowerCase());
    if (!target) throw new TypeError(`handlers.next-task-update.to '${config.to}' is not a tracker status`);
    const lower = (list: string[]) => list.map((s) => s.toLowerCase());
    const done = lower(config.doneStatuses);
    const from = lower(config.from);
    const ignored = lower(config.ignoredStatuses);
    const order = lower(config.order);
    for (const entry of entries) {
      const task =
        (await session.query(`select parent_id, status.name, type.name from Task where id is "${entry.entityId}"`))
          .data[0];
      if (!task || !done.includes(String(task.status?.name).toLowerCase())) continue;
      const position = order.indexOf(String(task.type?.name).toLowerCase());
      if (position < 0) continue;
      const siblings =
        (await session.query(`select id, status.name, type.name from Task where parent_id is "${task.parent_id}"`))
          .data;
      for (const nextType of order.slice(position + 1)) {
        const next = siblings.filter((s) => String(s.type?.name).toLowerCase() === nextType);
        if (next.length === 0) continue;
        for (const sibling of next) {
          const status = String(sibling.status?.name).toLowerCase();
          if (from.includes(status) && !ignored.includes(status)) {
            await session.update("Task", [sibling.id], { status_id: target.id });
          }
        }
        break;
      }
    }
  },
});
