/**
 * Pipeline thumbnails → tracker thumbnails: the image at `data.thumbnail` (a path the transmitter
 * can read, set by `deno task pipeline thumbnail`) is uploaded to the tracker's server location as
 * a `thumbnail` component (the way publishes upload theirs) and made the entity's `thumbnail_id`.
 *
 * @module
 */
import { operation, type Session } from "@ftrack/api";
import { randomUUID } from "node:crypto";
import { stat } from "node:fs/promises";
import { basename, extname } from "node:path";
import type { Entity } from "../../src/store/entity.ts";
import { uploadFile } from "../../src/tracker/upload_file.ts";
import { UnappliableChange } from "./unappliable_change.ts";

/** The tracker's server location (`ftrack.server`), where the web player and thumbnails read from. */
export const SERVER_LOCATION_ID = "3a372bde-05bc-11e4-8908-20c9d081909b";

/**
 * Whether a `data_changed` payload changes the thumbnail (its path, or the time it was set).
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { thumbnailChanged } from "./apply_thumbnail.ts";
 *
 * ok(thumbnailChanged({ taskType: "Comp" }, { taskType: "Comp", thumbnail: "/shots/sh010.png" }));
 * ok(!thumbnailChanged({ thumbnail: "/a.png", taskType: "Comp" }, { thumbnail: "/a.png", taskType: "FX" }));
 * ```
 */
export function thumbnailChanged(old: unknown, next: unknown): boolean {
  const pick = (data: unknown) => {
    const value = (data ?? {}) as { thumbnail?: unknown; thumbnailSetAt?: unknown };
    return JSON.stringify([value.thumbnail ?? null, value.thumbnailSetAt ?? null]);
  };
  return pick(old) !== pick(next);
}

/**
 * Uploads an entity's thumbnail and sets it on its tracker entity (`trackerType`: `TypedContext`
 * or `AssetVersion`). Throws an {@linkcode UnappliableChange} naming the file when it cannot be read.
 */
export async function applyThumbnail(
  session: Session,
  entity: Entity,
  trackerType: "TypedContext" | "AssetVersion",
): Promise<{ summary: string }> {
  const path = entity.data.thumbnail;
  if (typeof path !== "string" || path === "") return { summary: "thumbnail cleared: left as is in the tracker" };
  const found = await stat(path).catch((error: Error) => error);
  if (found instanceof Error || !found.isFile()) {
    throw new UnappliableChange(
      `cannot read the thumbnail '${path}' of ${entity.type} '${entity.name}'${
        found instanceof Error ? `: ${found.message}` : ": not a file"
      }`,
    );
  }
  const componentId = randomUUID();
  const ext = extname(path).toLowerCase();
  await session.create("FileComponent", {
    id: componentId,
    name: "thumbnail",
    file_type: ext,
    size: found.size,
    ...(trackerType === "AssetVersion" ? { version_id: entity.trackerId } : {}),
  });
  await uploadFile(session, { componentId, path, fileName: `thumbnail${ext}` });
  await session.call([
    operation.create("ComponentLocation", {
      component_id: componentId,
      location_id: SERVER_LOCATION_ID,
      resource_identifier: componentId,
    }),
    operation.update(trackerType, [entity.trackerId!], { thumbnail_id: componentId }),
  ]);
  return { summary: `thumbnail '${basename(path)}' uploaded as component ${componentId}` };
}
