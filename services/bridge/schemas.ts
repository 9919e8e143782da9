/**
 * The zod schemas of the bridge's HTTP API: the routes validate with them and /openapi.json is
 * generated from them, so the document and the behaviour cannot drift apart.
 *
 * @module
 */
import { isAbsolute } from "node:path";
import { z } from "@hono/zod-openapi";
import { PublishRequestSchema } from "../../publish/request.ts";

/** One bad field of a request: where, why, and the value that was sent (null when absent). */
export const IssueSchema = z.object({
  path: z.string().openapi({ example: "instances.0.files" }),
  message: z.string(),
  value: z.unknown(),
}).openapi("Issue");

/** Every non-2xx answer. */
export const ErrorSchema = z.object({
  error: z.object({
    code: z.string().openapi({ example: "invalid_request" }),
    message: z.string(),
    issues: z.array(IssueSchema).optional(),
  }),
}).openapi("Error");

/** `GET /health`. */
export const HealthSchema = z.object({
  ok: z.literal(true),
  service: z.literal("bridge"),
  version: z.string(),
  pid: z.number().int(),
}).openapi("Health");

/** A publish request as the bridge takes it: ferry's publish request plus `dryRun`. */
export const BridgePublishRequestSchema = PublishRequestSchema.extend({
  /** Collect and validate only. */
  dryRun: z.boolean().default(false),
}).superRefine((request, context) => {
  // The bridge's working folder means nothing to the host that sent the request.
  if (request.cwd !== undefined && isAbsolute(request.cwd)) return;
  for (const [i, instance] of request.instances.entries()) {
    for (const [j, file] of instance.files.entries()) {
      if (isAbsolute(file)) continue;
      context.addIssue({
        code: "custom",
        path: ["instances", i, "files", j],
        message: "is a relative path: give an absolute path, or the folder it is relative to as 'cwd'",
      });
    }
  }
}).openapi("PublishRequest");

/** A bridge publish request after validation. */
export type BridgePublishRequest = z.infer<typeof BridgePublishRequestSchema>;

/** The states of a job; the last three are final. */
export const JobStateSchema = z.enum(["queued", "running", "succeeded", "failed", "cancelled"]).openapi("JobState");
/** A job's state. */
export type JobState = z.infer<typeof JobStateSchema>;
/** States a job does not leave. */
export const FINAL_STATES: readonly JobState[] = ["succeeded", "failed", "cancelled"];

const LevelSchema = z.enum(["debug", "info", "warning", "error"]);

/**
 * Changes a failed validator proposes (plugins/_repair.ts): `set` gives scene facts their values
 * (publish/request.ts `SceneFactsSchema` keys, nested ones dotted), `save` saves the scene. The
 * host applies what it understands and shows the rest.
 */
export const RepairSchema = z.object({
  action: z.string().openapi({ example: "Repair" }),
  label: z.string().openapi({ example: "Set the shot's frame range" }),
  set: z.record(z.string(), z.unknown()).optional().openapi({ example: { frameStart: 1001, frameEnd: 1100 } }),
  save: z.boolean().optional(),
}).openapi("Repair");

/** One plugin's outcome on one instance (or the context). */
export const JobResultSchema = z.object({
  plugin: z.string(),
  instance: z.string().nullable(),
  success: z.boolean(),
  error: z.object({ message: z.string(), stack: z.string().optional() }).nullable(),
  records: z.array(z.object({ level: LevelSchema, message: z.string() })),
  duration: z.number(),
  /** What would fix a failed validation, when its plugin can say (absent otherwise). */
  repairs: z.array(RepairSchema).optional(),
}).openapi("Result");
/** A result as jobs and events carry it. */
export type JobResult = z.infer<typeof JobResultSchema>;

/** Bytes hashed and transferred so far, and expected. */
export const ProgressSchema = z.object({ bytes: z.number(), totalBytes: z.number() }).openapi("Progress");

/** A publish job. */
export const JobSchema = z.object({
  id: z.uuid(),
  state: JobStateSchema,
  host: z.string(),
  dryRun: z.boolean(),
  request: PublishRequestSchema,
  createdAt: z.string(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
  progress: ProgressSchema,
  results: z.array(JobResultSchema),
  versionIds: z.array(z.string()),
  /** publish/report.ts `PublishReport`, once finished. */
  report: z.record(z.string(), z.unknown()).nullable(),
  error: z.string().nullable(),
}).openapi("Job");
/** A job as the API shows it. */
export type Job = z.infer<typeof JobSchema>;

/** `{ job }` answers. */
export const JobEnvelopeSchema = z.object({ job: JobSchema }).openapi("JobEnvelope");
/** `GET /v1/jobs`. */
export const JobListSchema = z.object({ jobs: z.array(JobSchema) }).openapi("JobList");

/** The job id in paths. */
export const JobParamsSchema = z.object({
  id: z.uuid({ error: "must be a job id (a UUID)" }).openapi({ param: { name: "id", in: "path" } }),
});

/** Payloads of the job event types. */
export const JobEventDataSchema = {
  state: z.object({ state: JobStateSchema, resumed: z.boolean().optional(), error: z.string().nullable().optional() }),
  result: JobResultSchema,
  progress: ProgressSchema,
  log: z.object({ level: LevelSchema, message: z.string(), plugin: z.string().optional() }),
} as const;

/** One event of a job's stream. `id` counts 1, 2, 3… per job. */
export const JobEventSchema = z.discriminatedUnion("type", [
  z.object({ id: z.number().int(), type: z.literal("state"), data: JobEventDataSchema.state }),
  z.object({ id: z.number().int(), type: z.literal("result"), data: JobEventDataSchema.result }),
  z.object({ id: z.number().int(), type: z.literal("progress"), data: JobEventDataSchema.progress }),
  z.object({ id: z.number().int(), type: z.literal("log"), data: JobEventDataSchema.log }),
]).openapi("JobEvent");
/** A job event. */
export type JobEvent = z.infer<typeof JobEventSchema>;
/** A job event before it is numbered. */
export type JobEventInput = JobEvent extends infer E ? E extends { id: number } ? Omit<E, "id"> : never : never;

/** `GET /v1/plugins` query. */
export const PluginsQuerySchema = z.object({
  host: z.string().min(1, "needs a host name such as 'blender'").default("shell").openapi({ example: "blender" }),
});

/** A plugin as host UIs show it. */
export const PluginInfoSchema = z.object({
  name: z.string(),
  label: z.string(),
  order: z.number(),
  families: z.array(z.string()),
  hosts: z.array(z.string()),
  optional: z.boolean(),
  actions: z.array(z.object({ name: z.string(), label: z.string() })),
}).openapi("Plugin");
/** `GET /v1/plugins`. */
export const PluginListSchema = z.object({ plugins: z.array(PluginInfoSchema) }).openapi("PluginList");

/** `GET /v1/contexts` query. */
export const ContextsQuerySchema = z.object({
  parent: z.string().min(1, "must be a context id or a path such as 'demo/sq010'").optional().openapi({
    example: "demo/sq010/sh010",
  }),
});

/** A project, a context below it or a task. */
export const ContextInfoSchema = z.object({
  id: z.string(),
  name: z.string(),
  type: z.string().openapi({ example: "Shot" }),
  path: z.string().openapi({ example: "demo/sq010/sh010" }),
  parentId: z.string().nullable(),
  hasChildren: z.boolean(),
}).openapi("Context");
/** `GET /v1/contexts`. */
export const ContextListSchema = z.object({ contexts: z.array(ContextInfoSchema) }).openapi("ContextList");
/** A context as the picker shows it. */
export type ContextInfo = z.infer<typeof ContextInfoSchema>;
