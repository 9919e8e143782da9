import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { HealthSchema } from "../schemas.ts";
import { errorResponses } from "./_responses.ts";

/** `GET /health`: answers without a token, so that hosts can tell a bridge is up. */
export const healthRoute = createRoute({
  method: "get",
  path: "/health",
  summary: "Whether the bridge is up (no token needed)",
  security: [],
  responses: {
    200: { description: "The bridge is up", content: { "application/json": { schema: HealthSchema } } },
    ...errorResponses(403),
  },
});

/** Adds `GET /health`. */
export function addHealthRoute(app: OpenAPIHono, options: { version: string; pid: number }): void {
  app.openapi(healthRoute, (c) => c.json({ ok: true as const, service: "bridge" as const, ...options }, 200));
}
