/**
 * Version status → task status (`handlers.version-to-task-status`): `mapping` from a version
 * status to the task statuses to try in order (the first the task's workflow allows); `assetTypes` filters by asset type
 * (`{ mode: "allow" | "deny", names: [...] }`, names or short names). With `sameName`, the
 * version's own status name is tried last (a version "Approved" → its task "Approved"), as
 * ayon-ftrack always does. Inert without a mapping or `sameName`.
 *
 * @module
 */
import { z } from "zod";
import { defineHandler } from "../define_handler.ts";
import { AssetTypeFilter, assetTypePasses, entriesOf, firstAllowed, lookup, STATUS_KEYS } from "./_update_entries.ts";

const Settings = z.looseObject({
  mapping: z.record(z.string(), z.union([z.string(), z.array(z.string())])).default({}),
  assetTypes: AssetTypeFilter.optional(),
  sameName: z.boolean().default(false),
});

/** Sets a version's task status from the version's new status. */
export const versionToTaskStatus = defineHandler({
  name: "version-to-task-status",
  subscription: "topic=ftrack.update",
  priority: 50,
  async handle(event, { session, settings, log }) {
    const { mapping, assetTypes, sameName } = Settings.parse(settings);
    if (Object.keys(mapping).length === 0 && !sameName) return;
    const entries = entriesOf(event, "AssetVersion", STATUS_KEYS);
    if (entries.length === 0) return;
    for (const entry of entries) {
      const version = (await session.query(
        `select status.name, task_id, task.status_id, asset.type.name, asset.type.short from AssetVersion where id is "${entry.entityId}"`,
      )).data[0];
      if (!version?.task_id || !version.status) continue;
      if (!assetTypePasses(assetTypes, version.asset?.type)) continue;
      const wanted = lookup(mapping, version.status.name);
      const candidates = [
        ...(wanted === undefined ? [] : Array.isArray(wanted) ? wanted : [wanted]),
        ...(sameName ? [String(version.status.name)] : []),
      ];
      const status = await firstAllowed(session, version.task_id, candidates, log);
      if (status && version.task?.status_id !== status.id) {
        await session.update("Task", [version.task_id], { status_id: status.id });
      }
    }
  },
});
