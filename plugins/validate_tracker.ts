/**
 * Validators against the tracker: the task belongs to the context; no publish of the same files
 * is in flight (and an abandoned one is resumed).
 *
 * @module
 */
import { createHash } from "node:crypto";
import { stat } from "node:fs/promises";
import { definePlugin } from "../publish/plugin.ts";
import { pathsOf } from "../src/files/scan_files.ts";
import { ValidatorOrder } from "../publish/orders.ts";
import { itemsOf, requestOf, sessionOf, settingsOf, trackerOf } from "./_contract.ts";

/** The context path and task resolved, and the task is a child of the context. */
export const ValidateTaskContext = definePlugin({
  kind: "context",
  name: "ValidateTaskContext",
  label: "Task belongs to the context",
  order: ValidatorOrder,
  process(context) {
    const tracker = trackerOf(context);
    if (tracker.task === undefined) throw new Error("No task was given for the publish");
    if (tracker.task.parent_id !== tracker.entity.id) {
      throw new Error(`Task '${tracker.task.name}' does not belong to '${tracker.entity.name}'`);
    }
  },
});

/** The key of one publish: where it goes and exactly which files (path, size, modification time). */
export async function publishKey(
  context: Parameters<typeof requestOf>[0],
  instance: { name: string; data: Record<string, unknown> },
): Promise<string> {
  const request = requestOf(context);
  const paths = itemsOf(instance as never).flatMap(pathsOf).sort();
  const stats = await Promise.all(paths.map(async (path) => {
    const info = await stat(path);
    return [path, info.size, info.mtimeMs];
  }));
  return createHash("sha1").update(
    JSON.stringify([request.context.path, request.context.task, instance.data.asset, instance.data.family, stats]),
  ).digest("hex");
}

/**
 * No publish of these same files to this asset is in flight: an unpublished version carrying the
 * same publish key whose heartbeat is fresh means another publish is uploading it now. One whose
 * heartbeat went stale was abandoned (killed, crashed): it is resumed instead of starting over.
 */
export const ValidateNotInFlight = definePlugin({
  kind: "instance",
  name: "ValidateNotInFlight",
  label: "No publish of the same files in flight",
  order: ValidatorOrder + 0.3,
  async process(instance, { log }) {
    const context = instance.context;
    const tracker = trackerOf(context);
    const key = await publishKey(context, instance);
    instance.data.publishKey = key;
    const found = await sessionOf(context).query(
      `select id, version, metadata from AssetVersion where asset.parent.id is "${tracker.entity.id}" and asset.name is "${
        String(instance.data.asset).replaceAll('"', '\\"')
      }" and is_published is false and metadata any (key is "ferry_publish_key" and value is "${key}")`,
    );
    for (
      const version of found.data as Array<
        { id: string; version: number; metadata: Array<{ key: string; value: string }> }
      >
    ) {
      const heartbeat = Date.parse(version.metadata.find((item) => item.key === "ferry_heartbeat")?.value ?? "");
      const age = (Date.now() - heartbeat) / 1000;
      if (Number.isFinite(age) && age < settingsOf(context).inFlightSeconds) {
        throw new Error(
          `Cannot publish '${instance.data.asset}': the same files are being published as version ${version.version} right now (last heard ${
            age.toFixed(0)
          } s ago)`,
        );
      }
      instance.data.resumeVersionId = version.id;
      log.info(`resuming the abandoned publish of version ${version.version}`);
    }
  },
});
