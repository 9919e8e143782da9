import { z } from "zod";

/** Where published files go. */
export const LocationSchema = z.union([
  z.literal("server"),
  z.literal("unmanaged"),
  z.object({ disk: z.string().min(1, "needs the root folder") }),
], { error: "must be 'server', 'unmanaged' or { disk: '<root>' }" });

/**
 * What a DCC knows about its scene, sent so that ferry's validators can check it against the
 * tracker's context (custom attributes `fps`, `frameStart`…) and the studio settings. Every field
 * is optional: a host sends what it has, and a check whose fact is missing is skipped. Sent on the
 * request's `context.scene` (the whole scene) and on an instance's `scene` (what differs for that
 * instance); an instance's facts override the context's.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { SceneFactsSchema } from "./request.ts";
 *
 * const facts = SceneFactsSchema.parse({ frameStart: 1001, frameEnd: 1100, fps: 23.976, camera: null });
 * ok(facts.fps === 23.976 && facts.camera === null);
 * ok(!SceneFactsSchema.safeParse({ frameStart: 1100, frameEnd: 1001 }).success);
 * ```
 */
export const SceneFactsSchema = z.object({
  /** The first frame of the scene's working range, without handles. */
  frameStart: z.number().int().optional(),
  /** The last frame of the scene's working range, without handles. */
  frameEnd: z.number().int().optional(),
  /** Frames before `frameStart` the scene holds as handles. */
  handleStart: z.number().int().min(0).optional(),
  /** Frames after `frameEnd` the scene holds as handles. */
  handleEnd: z.number().int().min(0).optional(),
  /** Frames per second (23.976 as 23.976, i.e. fps / fps_base in Blender). */
  fps: z.number().positive().optional(),
  /** The render width in pixels (before any preview percentage). */
  resolutionWidth: z.number().int().positive().optional(),
  /** The render height in pixels (before any preview percentage). */
  resolutionHeight: z.number().int().positive().optional(),
  /** The render's preview scale in percent (Blender's resolution_percentage); informative. */
  resolutionPercentage: z.number().positive().optional(),
  /** Pixel aspect ratio (width / height of one pixel). */
  pixelAspect: z.number().positive().optional(),
  /** The name of the camera the scene renders through; null when it has none. */
  camera: z.string().nullable().optional(),
  /** Colour management: the view transform, the working (scene linear / sequencer) space, the display. */
  colorManagement: z.object({
    viewTransform: z.string().optional(),
    look: z.string().optional(),
    workingSpace: z.string().optional(),
    display: z.string().optional(),
  }).optional(),
  /** Scene units: the system (`METRIC`, `IMPERIAL`, `NONE`), the scale and the length unit. */
  units: z.object({
    system: z.string().optional(),
    scaleLength: z.number().positive().optional(),
    length: z.string().optional(),
  }).optional(),
  /** Whether the scene has changes that are not saved. */
  unsavedChanges: z.boolean().optional(),
  /** The scene file's path; empty or absent when it was never saved. */
  filePath: z.string().optional(),
  /** The DCC: its name (`blender`, `maya`…) and version (`4.2.1`). */
  dcc: z.object({ name: z.string().optional(), version: z.string().optional() }).optional(),
}).refine(
  (value) => value.frameStart === undefined || value.frameEnd === undefined || value.frameStart <= value.frameEnd,
  { message: "frameStart must not be after frameEnd", path: ["frameEnd"] },
);

/** Scene facts a host sends (see {@linkcode SceneFactsSchema}). */
export type SceneFacts = z.infer<typeof SceneFactsSchema>;

/** One thing to publish. */
export const PublishInstanceSchema = z.object({
  /** Main family, e.g. `render`, `plate`, `model`. */
  family: z.string().min(1),
  /** More families (e.g. `review` to make a review movie). */
  families: z.array(z.string().min(1)).default([]),
  /** The asset name. */
  name: z.string().min(1),
  /** Files, folders or patterns (`beauty.####.exr`, `*.exr`); image sequences are detected. */
  files: z.array(z.string().min(1)).min(1, "needs at least one file"),
  frameStart: z.number().int().optional(),
  frameEnd: z.number().int().optional(),
  /** Family-specific options, passed through to plugins. */
  options: z.record(z.string(), z.unknown()).default({}),
  /** Scene facts of this instance, over the context's (`context.scene`). */
  scene: SceneFactsSchema.optional(),
}).refine(
  (value) => value.frameStart === undefined || value.frameEnd === undefined || value.frameStart <= value.frameEnd,
  {
    message: "frameStart must not be after frameEnd",
    path: ["frameEnd"],
  },
);

/**
 * A publish request, the same from the shell and from a DCC over the bridge: the host, the tracker
 * context (`project/…/shot` and a task), the instances, a comment and who publishes.
 */
export const PublishRequestSchema = z.object({
  host: z.string().min(1).default("shell"),
  context: z.object({
    path: z.string().min(1, "needs a context such as 'demo/sq010/sh010'"),
    task: z.string().min(1, "needs a task name"),
    /** Scene facts of the whole scene (see {@linkcode SceneFactsSchema}). */
    scene: SceneFactsSchema.optional(),
  }),
  instances: z.array(PublishInstanceSchema).min(1, "needs at least one instance"),
  comment: z.string().default(""),
  user: z.string().min(1).optional(),
  location: LocationSchema.default("server"),
  /** Working folder relative file paths are read from. */
  cwd: z.string().optional(),
});

/** A validated publish request. */
export type PublishRequest = z.infer<typeof PublishRequestSchema>;
/** One validated instance of a request. */
export type PublishInstanceRequest = z.infer<typeof PublishInstanceSchema>;

/** A request is invalid: one problem per bad field, each naming the field and the value. */
export class PublishRequestError extends Error {
  readonly problems: string[];

  constructor(problems: string[]) {
    super(`Invalid publish request:\n  ${problems.join("\n  ")}`);
    this.name = "PublishRequestError";
    this.problems = problems;
  }
}

/**
 * Validates a publish request from outside (CLI flags, a bridge request body).
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { parsePublishRequest } from "./request.ts";
 *
 * const request = parsePublishRequest({
 *   context: { path: "demo/sq010/sh010", task: "lighting" },
 *   instances: [{ family: "render", name: "beauty", files: ["renders/beauty.####.exr"] }],
 * });
 * ok(request.host === "shell" && request.location === "server");
 * ```
 */
export function parsePublishRequest(input: unknown): PublishRequest {
  const result = PublishRequestSchema.safeParse(input);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const field = issue.path.join(".") || "request";
    let value: unknown = input;
    for (const key of issue.path) value = (value as Record<PropertyKey, unknown> | undefined)?.[key as PropertyKey];
    const shown = value === undefined ? "" : ` (got ${JSON.stringify(value)?.slice(0, 80)})`;
    return `'${field}': ${issue.message}${shown}`;
  });
  throw new PublishRequestError(problems);
}
