/**
 * Task status → the status of the task's latest versions (`handlers.task-to-version-status`):
 * `mapping` from a task status to a version status. Changes made by the service's own user are
 * skipped (a loop with version → task status could start there). `assetTypes` filters the
 * versions by asset type as in version → task status (ayon-ftrack's `asset_types_to_skip` is
 * `{ mode: "deny", names: [...] }`). Inert without a mapping.
 *
 * @module
 */
import { z } from "zod";
import { defineHandler } from "../define_handler.ts";
import {
  AssetTypeFilter,
  assetTypePasses,
  causedByService,
  entriesOf,
  firstAllowed,
  lookup,
  STATUS_KEYS,
} from "./_update_entries.ts";

const Settings = z.looseObject({
  mapping: z.record(z.string(), z.string()).default({}),
  assetTypes: AssetTypeFilter.optional(),
});

/** Sets the latest versions' status from their task's new status. */
export const taskToVersionStatus = defineHandler({
  name: "task-to-version-status",
  subscription: "topic=ftrack.update",
  priority: 50,
  async handle(event, { session, settings, log }) {
    const { mapping, assetTypes } = Settings.parse(settings);
    if (Object.keys(mapping).length === 0) return;
    const entries = entriesOf(event, "Task", STATUS_KEYS);
    if (entries.length === 0) return;
    if (causedByService(event, session)) {
      log.debug("skipped: the service's own change", { event: event.id });
      return;
    }
    for (const entry of entries) {
      const task = (await session.query(`select status.name from Task where id is "${entry.entityId}"`)).data[0];
      const wanted = lookup(mapping, task?.status?.name);
      if (!wanted) continue;
      const versions = (await session.query(
        `select id, status_id, asset.type.name, asset.type.short from AssetVersion where task_id is "${entry.entityId}" and is_latest_version is true`,
      )).data;
      for (const version of versions) {
        if (!assetTypePasses(assetTypes, version.asset?.type)) continue;
        const status = await firstAllowed(session, version.id, [wanted], log);
        if (status && version.status_id !== status.id) {
          await session.update("AssetVersion", [version.id], { status_id: status.id });
        }
      }
    }
  },
});
