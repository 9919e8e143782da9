import { z } from "zod";
import type { Settings } from "../store/settings.ts";

/** The settings key of the tracker → pipeline sync (`handlers.sync-from-tracker`). */
export const SYNC_SETTINGS_KEY = "sync-from-tracker";

/**
 * One mapped attribute: the pipeline attribute's name, the tracker custom attribute's key, and
 * which of the tracker's configurations of that key it means:
 *
 * - `kind: "hierarchical"`: the hierarchical attribute (inherited from the parents, dense);
 * - `kind: "standard"`: the per-object-type attribute of the entity's own object type (Shot,
 *   Asset Build, Task …; `show` for the project, `assetversion` for versions);
 * - no `kind` (the `{tracker, pipeline}` of earlier settings): the hierarchical attribute when the
 *   key has one, else the entity's per-object-type one; read, the hierarchical value wins when it
 *   is set, else the per-object-type value is taken (ayon-ftrack's rule).
 *
 * `objectTypes` limits the mapping to entities of those object types (names matched
 * case-insensitively, spaces ignored: `Asset Build` = `assetbuild`; `Project` for the project,
 * `AssetVersion` for versions). Several mappings may name one pipeline attribute (`fstart` on
 * Shot, `ab_fstart` on Asset Build …): the first that applies to an entity and has a value is
 * read, the first that applies is written.
 */
export const AttributeMappingSchema = z.strictObject({
  pipeline: z.string().trim().min(1, "is empty"),
  tracker: z.string().trim().min(1, "is empty"),
  kind: z.enum(["hierarchical", "standard"], { error: 'is neither "hierarchical" nor "standard"' }).optional(),
  objectTypes: z.array(z.string().trim().min(1, "is empty")).min(1, "is empty: leave it out to map every object type")
    .optional(),
}, {
  error: (issue) =>
    issue.code === "unrecognized_keys" && issue.keys.some((key) => key === "attr_type" || key === "name")
      ? `is ayon-ftrack's attributes_mapping shape: write {"pipeline": name, "tracker": key, "kind": attr_type}, one entry per standard key`
      : undefined,
});

/** One mapped attribute, validated (see {@linkcode AttributeMappingSchema}). */
export type AttributeMapping = z.output<typeof AttributeMappingSchema>;

/** The attributes mapped when the settings name none (ayon-ftrack's defaults). */
export const DEFAULT_ATTRIBUTE_MAPPING: AttributeMapping[] = [
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
  return parseSyncSettings(settings.handlers[SYNC_SETTINGS_KEY] ?? {});
}

/**
 * The sync's own settings (`handlers.sync-from-tracker`, as a handler gets them); a bad value is a
 * `TypeError` naming the field and the value.
 *
 * @example
 * ```ts
 * import { ok, throws } from "node:assert/strict";
 * import { parseSyncSettings } from "./sync_settings.ts";
 *
 * ok(parseSyncSettings({ writeBack: false }).writeBack === false);
 * throws(() => parseSyncSettings({ writeBack: "no" }), /handlers.sync-from-tracker.writeBack "no"/);
 * ```
 */
export function parseSyncSettings(raw: unknown): SyncSettings {
  const parsed = SyncSettingsSchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => {
    let value: unknown = raw;
    for (const key of issue.path) value = (value as Record<PropertyKey, unknown> | undefined)?.[key as PropertyKey];
    return `handlers.${SYNC_SETTINGS_KEY}.${issue.path.join(".")} ${JSON.stringify(value)}: ${issue.message}`;
  });
  throw new TypeError(`Invalid sync settings: ${problems.join("; ")}`);
}
