import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import type { ContextInfo } from "../schemas.ts";
import { ContextListSchema, ContextsQuerySchema } from "../schemas.ts";
import { errorResponses } from "./_responses.ts";

/** `GET /v1/contexts?parent=<id|path>`. */
export const contextsRoute = createRoute({
  method: "get",
  path: "/v1/contexts",
  summary: "Projects (no parent), or the contexts and tasks below a parent given by id or path",
  request: { query: ContextsQuerySchema },
  responses: {
    200: { description: "The contexts", content: { "application/json": { schema: ContextListSchema } } },
    ...errorResponses(400, 401, 403, 404, 503),
  },
});

/** Adds `GET /v1/contexts`. */
export function addContextsRoute(
  app: OpenAPIHono,
  options: { contexts: (parent: string | undefined) => Promise<ContextInfo[]> },
): void {
  app.openapi(contextsRoute, async (c) => {
    const { parent } = c.req.valid("query");
    return c.json({ contexts: await options.contexts(parent) }, 200);
  });
}
