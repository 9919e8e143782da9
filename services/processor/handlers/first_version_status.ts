/**
 * First version status (`handlers.first-version-status`): the first version of an asset on a
 * task gets the status mapped from the task's name (`tasks`, e.g. `{ "compositing": "On hold" }`),
 * else from its type (`taskTypes`; `"*"` for any other type), case-insensitively: ayon-ftrack's
 * `task_status_map` with its `task` and `task_type` keys, wired to settings (inert in ayon-ftrack).
 * Inert without a mapping.
 *
 * @module
 */
import { z } from "zod";
import { defineHandler } from "../define_handler.ts";
import { entriesOf, firstAllowed, lookup } from "./_update_entries.ts";

const Settings = z.looseObject({
  tasks: z.record(z.string(), z.string()).default({}),
  taskTypes: z.record(z.string(), z.string()).default({}),
});

/** Sets the status of a task's first version of an asset. */
export const firstVersionStatus = defineHandler({
  name: "first-version-status",
  subscription: "topic=ftrack.update",
  priority: 200,
  async handle(event, { session, settings, log }) {
    const { tasks, taskTypes } = Settings.parse(settings);
    if (Object.keys(tasks).length + Object.keys(taskTypes).length === 0) return;
    const added = entriesOf(event, "AssetVersion").filter((entry) => entry.action === "add");
    if (added.length === 0) return;
    for (const entry of added) {
      const version = (await session.query(
        `select id, asset_id, task_id, task.name, task.type.name, status_id from AssetVersion where id is "${entry.entityId}"`,
      )).data[0];
      if (!version?.task_id) continue;
      // Handled late (a processor catching up), the version may have had its status changed by
      // someone since it was made: that change stands.
      const created = (entry.changes?.statusid ?? entry.changes?.status_id)?.new;
      if (typeof created === "string" && created !== version.status_id) {
        log.info(`version ${version.id}: its status changed since it was made; left as it is`);
        continue;
      }
      const others = (await session.query(
        `select id from AssetVersion where asset_id is "${version.asset_id}" and task_id is "${version.task_id}"`,
      )).data.filter((other) => other.id !== version.id);
      if (others.length > 0) continue;
      const name = lookup(tasks, version.task?.name) ?? lookup(taskTypes, version.task?.type?.name) ?? taskTypes["*"];
      const status = name ? await firstAllowed(session, version.id, [name], log) : undefined;
      if (status && version.status_id !== status.id) {
        await session.update("AssetVersion", [version.id], { status_id: status.id });
      }
    }
  },
});
