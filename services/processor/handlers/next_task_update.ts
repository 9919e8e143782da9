/**
 * Next task update (`handlers.next-task-update`): when a task reaches one of `doneStatuses` (by
 * default any status whose state is Done, as in ayon-ftrack), the next task(s) of its parent move
 * on, from a status in `from` to `to` (or by `mapping`, from → to). Task types follow `order` (names, case-insensitive) or, with `order: "tracker"`, the
 * tracker's task type order (`Type.sort`), as ayon-ftrack does. Inert without an order.
 *
 * - By type (the default): once every task of the done task's type is done (tasks with one of
 *   `ignoredStatuses` count as done), every task of the next type that is not all done yet moves on.
 * - With `nameSorting`: tasks are ordered by type, then by name (numbers in names compare as
 *   numbers: `comp2` before `comp10`), one by one: the task after the done one (skipping tasks
 *   with an ignored status) moves on, so `comp_a` done readies `comp_b` of the same type.
 *
 * A next task that is already done, has an ignored status, or has a status the mapping does not
 * name is left alone, and so is one whose workflow does not offer the new status.
 *
 * @module
 */
import type { Session } from "@ftrack/api";
import { z } from "zod";
import { defineHandler } from "../define_handler.ts";
import { entriesOf, firstAllowed, STATUS_KEYS, statusesByName } from "./_update_entries.ts";

const Settings = z.looseObject({
  order: z.union([z.literal("tracker"), z.array(z.string().min(1))]).default([]),
  doneStatuses: z.array(z.string().min(1)).optional(),
  from: z.array(z.string().min(1)).default(["Not started"]),
  to: z.string().min(1).default("Ready to start"),
  mapping: z.record(z.string().min(1), z.string().min(1)).optional(),
  ignoredStatuses: z.array(z.string().min(1)).default(["Omitted"]),
  nameSorting: z.boolean().default(false),
});

/** A sibling task as the handler reads it. */
interface TaskRow {
  id: string;
  name: string;
  type: string;
  status: string;
}

const byName = new Intl.Collator("en", { numeric: true, sensitivity: "base" });

/** Task type names, lower-case, in the order the settings give (or the tracker's `Type.sort`). */
async function typeOrder(session: Session, order: "tracker" | string[]): Promise<string[]> {
  if (order !== "tracker") return order.map((name) => name.toLowerCase());
  const types = (await session.query("select name, sort from Type")).data as Array<{ name: string; sort: number }>;
  return types.sort((a, b) => (a.sort ?? 0) - (b.sort ?? 0)).map((type) => type.name.toLowerCase());
}

/** The lower-case names of the statuses whose state is Done. */
async function doneByState(session: Session): Promise<string[]> {
  const rows = (await session.query("select name, state.name from Status")).data as Array<
    { name: string; state?: { name?: string } }
  >;
  return rows.filter((row) => row.state?.name?.toLowerCase() === "done").map((row) => row.name.toLowerCase());
}

/**
 * The tasks to move on after `doneId`, among `tasks` (already in type order, then by name when
 * sorting by name). `isDone` says whether a status counts as done; `ignored` lists the ignored ones.
 */
function nextTasks(
  tasks: TaskRow[],
  doneId: string,
  options: { order: string[]; nameSorting: boolean; isDone: (status: string) => boolean; ignored: string[] },
): TaskRow[] {
  const { order, nameSorting, isDone, ignored } = options;
  const index = tasks.findIndex((task) => task.id === doneId);
  if (index < 0) return [];
  if (nameSorting) {
    const next = tasks.slice(index + 1).find((task) => !ignored.includes(task.status));
    return next ? [next] : [];
  }
  const batchDone = (batch: TaskRow[]) => batch.every((task) => ignored.includes(task.status) || isDone(task.status));
  const ofType = (type: string) => tasks.filter((task) => task.type === type);
  const position = order.indexOf(tasks[index]!.type);
  if (!batchDone(ofType(tasks[index]!.type))) return [];
  for (const type of order.slice(position + 1)) {
    const batch = ofType(type);
    if (batch.length === 0 || batchDone(batch)) continue;
    return batch;
  }
  return [];
}

/** Moves the next task(s) on when a task is done. */
export const nextTaskUpdate = defineHandler({
  name: "next-task-update",
  subscription: "topic=ftrack.update",
  priority: 70,
  async handle(event, { session, settings, log }) {
    const config = Settings.parse(settings);
    if (config.order !== "tracker" && config.order.length === 0) return;
    const entries = entriesOf(event, "Task", STATUS_KEYS);
    if (entries.length === 0) return;
    const statuses = await statusesByName(session);
    const lower = (list: string[]) => list.map((s) => s.toLowerCase());
    const mapping = new Map(
      config.mapping
        ? Object.entries(config.mapping).map(([from, to]) => [from.toLowerCase(), to])
        : lower(config.from).map((from) => [from, config.to]),
    );
    for (const to of new Set(mapping.values())) {
      if (!statuses.has(to.toLowerCase())) {
        throw new TypeError(`handlers.next-task-update: '${to}' is not a tracker status`);
      }
    }
    const done = config.doneStatuses ? lower(config.doneStatuses) : await doneByState(session);
    const ignored = lower(config.ignoredStatuses);
    const order = await typeOrder(session, config.order);
    const isDone = (status: string) => done.includes(status);
    const rank = (task: TaskRow) => order.indexOf(task.type);
    for (const entry of entries) {
      const task = (await session.query(`select parent_id, status.name from Task where id is "${entry.entityId}"`))
        .data[0];
      if (!task?.parent_id || !isDone(String(task.status?.name).toLowerCase())) continue;
      const siblings = (await session.query(
        `select id, name, status.name, type.name from Task where parent_id is "${task.parent_id}"`,
      )).data
        .map((row): TaskRow => ({
          id: String(row.id),
          name: String(row.name),
          type: String(row.type?.name ?? "").toLowerCase(),
          status: String(row.status?.name ?? "").toLowerCase(),
        }))
        .filter((row) => rank(row) >= 0)
        .sort((a, b) => rank(a) - rank(b) || (config.nameSorting ? byName.compare(a.name, b.name) : 0));
      const next = nextTasks(siblings, entry.entityId, {
        order,
        nameSorting: config.nameSorting,
        isDone,
        ignored,
      });
      for (const sibling of next) {
        if (isDone(sibling.status) || ignored.includes(sibling.status)) continue;
        const to = mapping.get(sibling.status);
        const target = to === undefined ? undefined : await firstAllowed(session, sibling.id, [to], log);
        if (!target) continue;
        await session.update("Task", [sibling.id], { status_id: target.id });
        log.info("next task moved on", { task: sibling.name, status: target.name, after: entry.entityId });
      }
    }
  },
});
