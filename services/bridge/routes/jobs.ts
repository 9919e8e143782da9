import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { BridgeError } from "../errors.ts";
import type { JobRunner } from "../job_runner.ts";
import type { JobStore } from "../job_store.ts";
import { toJob } from "../job_view.ts";
import { JobEnvelopeSchema, JobEventSchema, JobListSchema, JobParamsSchema } from "../schemas.ts";
import { sendEvents } from "../sse.ts";
import { errorResponses } from "./_responses.ts";
import { z } from "@hono/zod-openapi";

/** `GET /v1/jobs`. */
export const listJobsRoute = createRoute({
  method: "get",
  path: "/v1/jobs",
  summary: "Every job this bridge (and the ones before it on this FERRY_HOME) took, newest first",
  responses: {
    200: { description: "The jobs", content: { "application/json": { schema: JobListSchema } } },
    ...errorResponses(401, 403),
  },
});

/** `GET /v1/jobs/{id}`. */
export const getJobRoute = createRoute({
  method: "get",
  path: "/v1/jobs/{id}",
  summary: "A job: state, plugin results so far, created version ids, the report",
  request: { params: JobParamsSchema },
  responses: {
    200: { description: "The job", content: { "application/json": { schema: JobEnvelopeSchema } } },
    ...errorResponses(400, 401, 403, 404),
  },
});

/** `POST /v1/jobs/{id}/cancel`. */
export const cancelJobRoute = createRoute({
  method: "post",
  path: "/v1/jobs/{id}/cancel",
  summary: "Stops a job at its next safe point; the version is never shown as published",
  request: { params: JobParamsSchema },
  responses: {
    200: {
      description: "The job (cancelled, or being cancelled)",
      content: { "application/json": { schema: JobEnvelopeSchema } },
    },
    ...errorResponses(400, 401, 403, 404, 413, 415),
  },
});

/** `GET /v1/jobs/{id}/events`. */
export const jobEventsRoute = createRoute({
  method: "get",
  path: "/v1/jobs/{id}/events",
  summary: "Server-Sent Events of the job: state, result, progress, log; ends after a final state",
  request: {
    params: JobParamsSchema,
    headers: z.object({
      "last-event-id": z.coerce.number().int().min(0, "must be an event id (0 or more)").optional(),
    }),
  },
  responses: {
    200: {
      description:
        "`id: <n>`, `event: <type>`, `data: <JSON>` per event; `Last-Event-ID: n` replays every event after n",
      content: { "text/event-stream": { schema: JobEventSchema } },
    },
    ...errorResponses(400, 401, 403, 404),
  },
});

function jobOf(store: JobStore, id: string) {
  const job = store.get(id);
  if (!job) throw new BridgeError(404, "job_not_found", `No job '${id}' on this bridge`);
  return job;
}

/** Adds the `/v1/jobs` routes. */
export function addJobRoutes(
  app: OpenAPIHono,
  options: { store: JobStore; runner: JobRunner; signal?: AbortSignal },
): void {
  const { store, runner } = options;
  app.openapi(listJobsRoute, (c) => c.json({ jobs: store.list().map(toJob) }, 200));
  app.openapi(getJobRoute, (c) => c.json({ job: toJob(jobOf(store, c.req.valid("param").id)) }, 200));
  app.openapi(cancelJobRoute, (c) => c.json({ job: toJob(runner.cancel(c.req.valid("param").id)) }, 200));
  app.openapi(jobEventsRoute, (c) => {
    const { id } = c.req.valid("param");
    jobOf(store, id);
    const after = c.req.valid("header")["last-event-id"] ?? 0;
    return sendEvents(c, (signal) => {
      const stop = options.signal ? AbortSignal.any([signal, options.signal]) : signal;
      return store.follow(id, after, stop);
    }) as never;
  });
}
