import { z } from "zod";
import type { Settings } from "../store/settings.ts";

/** The settings key of the tracker → pipeline sync (`handlers.sync-from-tracker`). */
export const SYNC_SETTINGS_KEY = "sync-from-tracker";

/** One mapped attribute: the tracker custom attribute's key and the pipeline attribute's name. */
export const AttributeMappingSchema = z.object({
  tracker: z.string().min(1, "is empty"),
  pipeline: z.string().min(1, "is empty"),
});

/** The attributes mapped when the settings name none (ayon-ftrack's defaults). */
export const DEFAULT_ATTRIBUTE_MAPPING: Array<z.infer<typeof AttributeMappingSchema>> = [
  "fps",
  "frameStart",
  "frameEnd",
  "handleStart",
  "handleEnd",
  "resolutionWidth",
  "resolutionHeight",
  "pixelAspect",
  "clipIn",
  "clipOut",
].map((name) => ({ tracker: name, pipeline: name }));

/**
 * The sync's settings (`handlers.sync-from-tracker`, per project overridable): which tracker
 * custom attributes hold the pipeline's id, path, failure flag and the project's auto-sync
 * switch; the attribute mapping; the defaults a project gets for attributes the tracker leaves
 * empty.
 */
export const SyncSettingsSchema = z.object({
  enabled: z.boolean().default(true),
  /** Project custom attribute turning incremental sync on. */
  autoSyncAttribute: z.string().min(1).default("ferry_auto_sync"),
  /** Tracker custom attributes the pipeline's id and path are written to. */
  idAttribute: z.string().min(1).default("ferry_id"),
  pathAttribute: z.string().min(1).default("ferry_path"),
  failedAttribute: z.string().min(1).default("ferry_sync_failed"),
  /** Write the pipeline ids back to the tracker. */
  writeBack: z.boolean().default(true),
  attributes: z.array(AttributeMappingSchema).default(DEFAULT_ATTRIBUTE_MAPPING),
  /**
   * Sync the tracker's assets, asset versions and components into products, versions and
   * representations (ayon-ftrack's `sync_versions`).
   */
  syncVersions: z.boolean().default(true),
  /** Sync the tracker's links between shots and tasks (TypedContextLink) into `data.links`. */
  syncLinks: z.boolean().default(true),
  /** The pipeline link type a tracker link becomes (ayon-ftrack's `sync_link_type`). */
  linkType: z.string().trim().min(1, "is empty").default("dependency"),
  /** Sync the tracker's lists (of versions, of shots and tasks) into pipeline lists. */
  syncLists: z.boolean().default(true),
  /** Sync the tracker's users into the pipeline's users (studio-wide). */
  syncUsers: z.boolean().default(true),
  /** Project attribute values used when the tracker has none. */
  defaults: z.record(z.string(), z.unknown()).default({
    fps: 25,
    frameStart: 1001,
    frameEnd: 1100,
    handleStart: 0,
    handleEnd: 0,
    resolutionWidth: 1920,
    resolutionHeight: 1080,
    pixelAspect: 1,
  }),
});

/** The sync's resolved settings. */
export type SyncSettings = z.output<typeof SyncSettingsSchema>;

/**
 * The sync's settings out of a resolved settings document; a bad value is a `TypeError` naming
 * the field and the value.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { parseSettings } from "../store/settings.ts";
 * import { syncSettingsOf } from "./sync_settings.ts";
 *
 * const settings = syncSettingsOf(parseSettings({ handlers: { "sync-from-tracker": { idAttribute: "pipe_id" } } }, "t"));
 * ok(settings.idAttribute === "pipe_id" && settings.attributes.some((a) => a.pipeline === "fps"));
 * ```
 */
export function syncSettingsOf(settings: Settings): SyncSettings {
  const raw = settings.handlers[SYNC_SETTINGS_KEY] ?? {};
  const parsed = SyncSettingsSchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => {
    let value: unknown = raw;
    for (const key of issue.path) value = (value as Record<PropertyKey, unknown> | undefined)?.[key as PropertyKey];
    return `handlers.${SYNC_SETTINGS_KEY}.${issue.path.join(".")} ${JSON.stringify(value)}: ${issue.message}`;
  });
  throw new TypeError(`Invalid sync settings: ${problems.join("; ")}`);
}
