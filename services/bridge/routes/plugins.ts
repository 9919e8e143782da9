import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import type { Discovery } from "../../../publish/discover.ts";
import { PluginListSchema, PluginsQuerySchema } from "../schemas.ts";
import { errorResponses } from "./_responses.ts";

/** `GET /v1/plugins?host=blender`. */
export const pluginsRoute = createRoute({
  method: "get",
  path: "/v1/plugins",
  summary: "The plugins a publish from this host runs, with their actions",
  request: { query: PluginsQuerySchema },
  responses: {
    200: {
      description: "The plugins, in the order they run",
      content: { "application/json": { schema: PluginListSchema } },
    },
    ...errorResponses(400, 401, 403),
  },
});

/** Adds `GET /v1/plugins`. */
export function addPluginsRoute(app: OpenAPIHono, options: { plugins: (host: string) => Promise<Discovery> }): void {
  app.openapi(pluginsRoute, async (c) => {
    const { host } = c.req.valid("query");
    const { plugins } = await options.plugins(host);
    return c.json({
      plugins: plugins.map((plugin) => ({
        name: plugin.name,
        label: plugin.label ?? plugin.name,
        order: plugin.order,
        families: plugin.families,
        hosts: plugin.hosts,
        optional: plugin.optional,
        actions: (plugin.actions ?? []).map((action) => ({ name: action.name, label: action.label ?? action.name })),
      })),
    }, 200);
  });
}
