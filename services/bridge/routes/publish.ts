import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import type { JobRunner } from "../job_runner.ts";
import { toJob } from "../job_view.ts";
import { BridgePublishRequestSchema, JobEnvelopeSchema } from "../schemas.ts";
import { errorResponses } from "./_responses.ts";

/** `POST /v1/publish`. */
export const publishRoute = createRoute({
  method: "post",
  path: "/v1/publish",
  summary: "Queues a publish request (dryRun: collect and validate only); answers at once with the job",
  request: {
    body: { required: true, content: { "application/json": { schema: BridgePublishRequestSchema } } },
  },
  responses: {
    202: { description: "The job, queued", content: { "application/json": { schema: JobEnvelopeSchema } } },
    ...errorResponses(400, 401, 403, 413, 415, 503),
  },
});

/** Adds `POST /v1/publish`. */
export function addPublishRoute(app: OpenAPIHono, options: { runner: JobRunner }): void {
  app.openapi(publishRoute, (c) => {
    const job = options.runner.submit(c.req.valid("json"));
    c.header("Location", `/v1/jobs/${job.id}`);
    return c.json({ job: toJob(job) }, 202);
  });
}
