import { z } from "zod";

/** Where published files go. */
export const LocationSchema = z.union([
  z.literal("server"),
  z.literal("unmanaged"),
  z.object({ disk: z.string().min(1, "needs the root folder") }),
], { error: "must be 'server', 'unmanaged' or { disk: '<root>' }" });

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
