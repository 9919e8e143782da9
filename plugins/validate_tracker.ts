/**
 * Validators against the tracker: the task belongs to the context; no publish of the same files
 * is in flight (and an abandoned one is resumed).
 *
 * @module
 */
import { createHash } from "node:crypto";
import { stat } from "node:fs/promises";
import { resolve } from "node:path";
import process from "node:process";
import { definePlugin } from "../publish/plugin.ts";
import { pathsOf } from "../src/files/scan_files.ts";
import { ValidatorOrder } from "../publish/orders.ts";
import { itemsOf, requestOf, sessionOf, settingsOf, trackerOf } from "./_contract.ts";
import { parsePublisher, publisherAlive, THIS_PUBLISHER } from "./_publisher.ts";
import { trackerAge } from "../src/tracker/tracker_clock.ts";

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
 * What one publish is for, whatever the files hold: where it goes and the paths or patterns asked
 * for (as given, made absolute). A publish that failed because a file changed, or whose frames
 * changed since, is taken up again by the next run of the same command.
 */
export function publishTarget(
  context: Parameters<typeof requestOf>[0],
  instance: { name: string; data: Record<string, unknown> },
): string {
  const request = requestOf(context);
  const asked = request.instances.find((wanted) => wanted.name === instance.name)?.files;
  const inputs = asked
    ? asked.map((input) => resolve(request.cwd ?? process.cwd(), input)).sort()
    : itemsOf(instance as never).flatMap(pathsOf).sort();
  return createHash("sha1").update(
    JSON.stringify([request.context.path, request.context.task, instance.data.asset, instance.data.family, inputs]),
  ).digest("hex");
}

/** A version a publish may have to take up: its number, publication and ferry metadata. */
interface Candidate {
  id: string;
  version: number;
  is_published: boolean;
  metadata: Array<{ key: string; value: string }>;
}

/** How a version found in flight is taken up: its id and its ferry metadata (key → value). */
export interface Resume {
  versionId: string;
  version: number;
  /** Published already: only the steps after publication (the event) are left. */
  published: boolean;
  metadata: Record<string, string>;
}

/**
 * No publish of these same files to this asset is in flight. An unfinished version of the same
 * paths (or a published one whose event was not sent yet) is taken up when its publisher is gone:
 * on this machine its process is checked (a killed publish is resumed at once); a publisher on
 * another machine counts as gone once its heartbeat is older than `inFlightSeconds` (both read on
 * the tracker's clock, see `trackerNow`, so clock skew between machines does not count). A live one is
 * refused, saying who publishes it and how long to wait.
 */
export const ValidateNotInFlight = definePlugin({
  kind: "instance",
  name: "ValidateNotInFlight",
  label: "No publish of the same files in flight",
  order: ValidatorOrder + 0.3,
  async process(instance, { log }) {
    const context = instance.context;
    const tracker = trackerOf(context);
    const session = sessionOf(context);
    const key = await publishKey(context, instance);
    const target = publishTarget(context, instance);
    instance.data.publishKey = key;
    instance.data.publishTarget = target;
    const asset = String(instance.data.asset).replaceAll("\\", "\\\\").replaceAll('"', '\\"');
    const where = `asset.parent.id is "${tracker.entity.id}" and asset.name is "${asset}"`;
    const found = new Map<string, Candidate>();
    for (const [name, value] of [["ferry_publish_target", target], ["ferry_publish_key", key]]) {
      const answer = await session.query(
        `select id, version, is_published, metadata from AssetVersion where ${where} and metadata any (key is "${name}" and value is "${value}")`,
      );
      for (const version of answer.data as Candidate[]) found.set(version.id, version);
    }
    const candidates = [...found.values()].map((version) => ({
      ...version,
      meta: Object.fromEntries(version.metadata.map((item) => [item.key, item.value])) as Record<string, string>,
    })).filter((version) =>
      // Unfinished; or published, with the event still to send, of exactly these files.
      !version.is_published || (version.meta.ferry_state === "published" && version.meta.ferry_publish_key === key)
    ).sort((a, b) => b.version - a.version);
    const inFlightSeconds = settingsOf(context).inFlightSeconds;
    for (const version of candidates) {
      // Heartbeats are written on the tracker's clock: their age is read on it too.
      const age = await trackerAge(session, version.meta.ferry_heartbeat, { debug: log.debug });
      const publisher = parsePublisher(version.meta.ferry_publisher);
      const alive = publisher ? publisherAlive(publisher, version.id) : undefined;
      const name = instance.data.asset;
      if (alive === true) {
        const who = publisher!.pid === THIS_PUBLISHER.pid
          ? "this process"
          : `process ${publisher!.pid} on this machine`;
        throw new Error(
          `Cannot publish '${name}': the same files are being published as version ${version.version} right now by ${who} (last heard ${
            age.toFixed(0)
          } s ago); wait for it to finish${
            publisher!.pid === THIS_PUBLISHER.pid ? "" : `, or stop it (kill ${publisher!.pid}) and run this again`
          }`,
        );
      }
      if (alive === undefined && age < inFlightSeconds) {
        const by = publisher ? ` by process ${publisher.pid} on '${publisher.host}'` : "";
        throw new Error(
          `Cannot publish '${name}': the same files are being published as version ${version.version} right now${by} (last heard ${
            age.toFixed(0)
          } s ago); if that publish was stopped, run this again in ${
            Math.ceil(inFlightSeconds - age)
          } s and it will be resumed`,
        );
      }
    }
    const chosen = candidates[0];
    if (chosen) {
      const resume: Resume = {
        versionId: chosen.id,
        version: chosen.version,
        published: chosen.is_published,
        metadata: chosen.meta,
      };
      instance.data.resume = resume;
      instance.data.resumeVersionId = chosen.id;
      log.info(
        chosen.is_published
          ? `finishing the publish of version ${chosen.version}: it is published, its event was not sent`
          : `resuming the abandoned publish of version ${chosen.version}`,
      );
    }
  },
});
