import { z } from "zod";

const isRegExp = (value: string) => {
  try {
    new RegExp(value);
    return true;
  } catch {
    return false;
  }
};

/**
 * What ferry's scene validators (`plugins/validate_scene_*.ts`) require of the facts a DCC sends,
 * besides the tracker's values. Every field has a default that asks nothing.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { SceneSettingsSchema } from "./settings.ts";
 *
 * const scene = SceneSettingsSchema.parse({ allowedCameras: ["^CAM_"] });
 * ok(scene.allowedCameras.length === 1 && scene.requireSaved === false && scene.fileNamePattern === null);
 * ok(!SceneSettingsSchema.safeParse({ allowedCameras: ["("] }).success);
 * ```
 */
export const SceneSettingsSchema = z.object({
  /** Regular expressions; the scene's camera must match one. Empty: any camera. */
  allowedCameras: z.array(z.string().refine(isRegExp, "must be a valid regular expression")).default([]),
  /** The colour management the scene must use; a missing field is not checked. */
  colorSpace: z.object({
    viewTransform: z.string().min(1).optional(),
    workingSpace: z.string().min(1).optional(),
    display: z.string().min(1).optional(),
  }).default({}),
  /**
   * A regular expression the scene file's name must match, with `{project}`, `{context}` (the
   * shot's or asset build's name) and `{task}` replaced by those names; null: not checked.
   */
  fileNamePattern: z.string().nullable().default(null).refine(
    (value) => value === null || isRegExp(value.replaceAll(/\{(project|context|task)\}/g, "x")),
    "must be a valid regular expression",
  ),
  /** Refuse a publish from a scene with unsaved changes (the repair saves it). */
  requireSaved: z.boolean().default(false),
  /** How far the scene's fps may be from the tracker's. */
  fpsTolerance: z.number().min(0).default(0.001),
});

/** Validated scene settings. */
export type SceneSettings = z.infer<typeof SceneSettingsSchema>;

/** Placeholders allowed in the disk-location structure template. */
export const STRUCTURE_FIELDS = ["project", "context", "asset", "version", "component", "frame", "ext"] as const;

/**
 * Studio settings of ferry's publish plugins; every field has a default, so `{}` is valid.
 * `structure` places files in a disk location (a StandardStructure-like template):
 * `{project}/{context}/{asset}/v{version}/{component}{frame}{ext}` gives
 * `demo/sq010/sh010/beauty/v003/exr.1001.exr`.
 */
export const PublishSettingsSchema = z.object({
  assetNamePattern: z.string().default("^[A-Za-z][A-Za-z0-9_-]*$").refine((value) => {
    try {
      new RegExp(value);
      return true;
    } catch {
      return false;
    }
  }, "must be a valid regular expression"),
  /** Task status set after a publish (when the task's workflow has it); null leaves it. */
  taskStatusAfterPublish: z.string().nullable().default("Pending Review"),
  /** Status of new versions; null uses the workflow's default. */
  versionStatus: z.string().nullable().default(null),
  /** Files uploaded at once. */
  uploadConcurrency: z.number().int().min(1).max(64).default(8),
  structure: z.string().default("{project}/{context}/{asset}/v{version}/{component}{frame}{ext}").refine(
    (value) =>
      [...value.matchAll(/\{(\w+)\}/g)].every((match) => (STRUCTURE_FIELDS as readonly string[]).includes(match[1]!)),
    `may use only ${STRUCTURE_FIELDS.map((field) => `{${field}}`).join(" ")}`,
  ),
  /** The tracker Location of disk publishes. */
  diskLocationName: z.string().min(1).default("ferry.disk"),
  /** Frame rate of review movies made from image sequences. */
  reviewFrameRate: z.number().positive().default(24),
  /** The media tools of ExtractReview: names on PATH or full paths. */
  tools: z.object({
    ffmpeg: z.string().min(1).default("ffmpeg"),
    ffprobe: z.string().min(1).default("ffprobe"),
    oiiotool: z.string().min(1).default("oiiotool"),
  }).default({ ffmpeg: "ffmpeg", ffprobe: "ffprobe", oiiotool: "oiiotool" }),
  /** Asset type (its `short`) per family; other families use their own name when such a type exists, else `upload`. */
  assetTypes: z.record(z.string(), z.string()).default({
    render: "render",
    plate: "plate",
    image: "img",
    model: "geo",
    geometry: "geo",
    camera: "cam",
    movie: "mov",
    review: "review",
    workfile: "workfile",
    scene: "scene",
  }),
  /**
   * A publish of the same files by a process on another machine whose heartbeat is younger than
   * this many seconds is in flight (a publisher on this machine is checked by its process). The
   * heartbeat beats every quarter of it, at most every 5 s.
   */
  inFlightSeconds: z.number().positive().default(20),
  /** Rules of the scene validators (camera, colour space, scene file name, saved scene). */
  scene: SceneSettingsSchema.prefault({}),
});

/** Validated settings. */
export type PublishSettings = z.infer<typeof PublishSettingsSchema>;

/**
 * Validates settings (from a file or a service's settings variant); a `TypeError` names every
 * bad field.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { parsePublishSettings } from "./settings.ts";
 *
 * ok(parsePublishSettings({}).uploadConcurrency === 8);
 * ```
 */
export function parsePublishSettings(input: unknown): PublishSettings {
  const result = PublishSettingsSchema.safeParse(input ?? {});
  if (result.success) return result.data;
  throw new TypeError(
    `Invalid publish settings: ${
      result.error.issues.map((issue) => `'${issue.path.join(".")}' ${issue.message}`).join("; ")
    }`,
  );
}
