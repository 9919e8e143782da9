/**
 * Thumbnail propagation (`handlers.thumbnail-updates`): a version's new thumbnail is set on its
 * task and on `levels` levels of its asset's hierarchy, counted as ayon-ftrack counts them: level 1
 * is the entity the asset is under (the Shot or Asset Build), level 2 its parent, and so on
 * (default 1; 0 sets the task only).
 *
 * @module
 */
import { z } from "zod";
import { defineHandler } from "../define_handler.ts";
import { entriesOf } from "./_update_entries.ts";

const Settings = z.looseObject({ levels: z.number().int().min(0).max(20).default(1) });

/** Sets a version's thumbnail on its task and parents. */
export const thumbnailUpdates = defineHandler({
  name: "thumbnail-updates",
  subscription: "topic=ftrack.update",
  priority: 80,
  async handle(event, { session, settings }) {
    const { levels } = Settings.parse(settings);
    for (const entry of entriesOf(event, "AssetVersion", ["thumbid", "thumbnail_id"])) {
      const version = (await session.query(
        `select thumbnail_id, task_id, asset.context_id from AssetVersion where id is "${entry.entityId}"`,
      )).data[0];
      if (!version?.thumbnail_id) continue;
      const targets: string[] = version.task_id ? [String(version.task_id)] : [];
      let current: string | null = version.asset?.context_id ?? null;
      for (let level = 1; current && level <= levels; level++) {
        const row = (await session.query(`select id, parent_id from TypedContext where id is "${current}"`)).data[0];
        if (!row) break; // the project: not a TypedContext
        if (!targets.includes(String(row.id))) targets.push(String(row.id));
        current = row.parent_id ?? null;
      }
      for (const id of targets) {
        const row = (await session.query(`select id, thumbnail_id from TypedContext where id is "${id}"`)).data[0];
        if (row && row.thumbnail_id !== version.thumbnail_id) {
          await session.update(String(row.__entity_type__), [row.id], { thumbnail_id: version.thumbnail_id });
        }
      }
    }
  },
});
