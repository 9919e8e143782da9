import { Hono } from "hono";
import { bearerAuth } from "hono/bearer-auth";
import { bodyLimit } from "hono/body-limit";
import { zValidator } from "@hono/zod-validator";
import { z } from "zod";
import { isLoopbackHost } from "../../src/net/loopback_host.ts";
import type { PipelineStore } from "../../src/store/pipeline_store.ts";
import { PipelineOpError, PipelineOps } from "../../src/sync/pipeline_ops.ts";

/** Options of {@linkcode pipelineApi}. */
export interface PipelineApiOptions {
  store: PipelineStore;
  /** Every route but `/health` needs `Authorization: Bearer <token>`. */
  token: string;
  /** Written as the sender of the changes (sender type `user`). @default {"pipeline-api"} */
  sender?: string;
  /** Answer only to loopback `Host` names. @default {true} */
  loopbackOnly?: boolean;
}

const Path = z.string().min(1, "is empty").default("/");
const Text = z.string().trim().min(1, "is empty").max(100_000);
const Name = z.string().min(1, "is empty").max(255).regex(/^[^/]+$/, "may not hold '/'");

const hook = (result: { success: boolean; error?: { issues: Array<{ path: PropertyKey[]; message: string }> } }, c: {
  json: (body: unknown, status: 400) => Response;
}) => {
  if (!result.success) {
    const problems = result.error!.issues.map((issue) =>
      `${issue.path.map(String).join(".") || "body"}: ${issue.message}`
    );
    return c.json({ error: "bad_request", message: `Bad request: ${problems.join("; ")}` }, 400);
  }
  return undefined;
};

/**
 * A small HTTP API on the pipeline store for studio tools: read entities by path, set attributes
 * and status, assign users, create folders and tasks, add, edit, delete and list comments, set
 * thumbnails (an image path the service can read), link and unlink folders and tasks, make and
 * change lists. The changes are recorded as
 * `entity.*` events (sender type `user`) the transmitter carries to the tracker.
 * Token-protected like the bridge, loopback `Host` only unless told otherwise.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { openStore } from "../../src/store/mod.ts";
 * import { pipelineApi } from "./pipeline_api.ts";
 *
 * await using store = await openStore(":memory:");
 * await store.writeEntity({ type: "project", project: "demo", name: "demo" }, { sender: "setup" });
 * const app = pipelineApi({ store, token: "s3cret" });
 * const headers = { authorization: "Bearer s3cret", "content-type": "application/json", host: "127.0.0.1" };
 * const made = await app.request("/projects/demo/folders", { method: "POST", headers, body: JSON.stringify({ parent: "/", name: "sq010" }) });
 * ok(made.status === 201);
 * ok((await app.request("/projects/demo/entity?path=/sq010", { headers: { host: "127.0.0.1" } })).status === 401);
 * ```
 */
export function pipelineApi(options: PipelineApiOptions): Hono {
  const { store, token, sender = "pipeline-api", loopbackOnly = true } = options;
  if (!token) throw new TypeError("The pipeline API needs a token");
  const ops = new PipelineOps(store, { sender, senderType: "user" });
  const app = new Hono();
  app.onError((error, c) => {
    if (error instanceof PipelineOpError) {
      return c.json(
        { error: error.status === 404 ? "not_found" : "bad_request", message: error.message },
        error.status,
      );
    }
    if (error instanceof TypeError || error instanceof RangeError) {
      return c.json({ error: "bad_request", message: error.message }, 400);
    }
    if (typeof (error as { getResponse?: unknown }).getResponse === "function") {
      return (error as unknown as { getResponse(): Response }).getResponse();
    }
    return c.json({ error: "internal", message: error.message }, 500);
  });
  if (loopbackOnly) {
    app.use(async (c, next) => {
      const host = c.req.header("host") ?? new URL(c.req.url).host;
      if (!isLoopbackHost(host)) {
        return c.json({
          error: "forbidden_host",
          message: `Refused Host '${host}': the pipeline API answers only to loopback names`,
        }, 403);
      }
      return await next();
    });
  }
  app.get("/health", (c) => c.json({ status: "ok", store: { kind: store.kind, location: store.location } }));
  app.use("/projects/*", bearerAuth({ token }));
  app.use("/projects/*", bodyLimit({ maxSize: 1024 * 1024 }));
  app.get(
    "/projects/:project/entity",
    zValidator("query", z.object({ path: Path }), hook),
    async (c) => c.json(await ops.get(c.req.param("project"), c.req.valid("query").path)),
  );
  app.get(
    "/projects/:project/children",
    zValidator("query", z.object({ path: Path }), hook),
    async (c) => c.json(await ops.list(c.req.param("project"), c.req.valid("query").path)),
  );
  app.patch(
    "/projects/:project/entity",
    zValidator(
      "json",
      z.object({
        path: z.string().min(1),
        attributes: z.record(z.string(), z.unknown()).optional(),
        status: z.string().min(1).optional(),
        assignees: z.array(z.string().min(1)).optional(),
      }).strict(),
      hook,
    ),
    async (c) => {
      const body = c.req.valid("json");
      const project = c.req.param("project");
      let entity = await ops.get(project, body.path);
      if (body.attributes) entity = await ops.setAttributes(project, entity.id, body.attributes);
      if (body.status) entity = await ops.setStatus(project, entity.id, body.status);
      if (body.assignees) entity = await ops.assign(project, entity.id, body.assignees, { replace: true });
      return c.json(entity);
    },
  );
  app.post(
    "/projects/:project/folders",
    zValidator("json", z.object({ parent: Path, name: Name, folderType: z.string().min(1).optional() }).strict(), hook),
    async (c) => {
      const body = c.req.valid("json");
      return c.json(await ops.createFolder(c.req.param("project"), body.parent, body.name, body.folderType), 201);
    },
  );
  app.post(
    "/projects/:project/tasks",
    zValidator(
      "json",
      z.object({ parent: z.string().min(1), name: Name, taskType: z.string().min(1).optional() }).strict(),
      hook,
    ),
    async (c) => {
      const body = c.req.valid("json");
      return c.json(await ops.createTask(c.req.param("project"), body.parent, body.name, body.taskType), 201);
    },
  );
  app.get(
    "/projects/:project/comments",
    zValidator("query", z.object({ path: Path }), hook),
    async (c) => c.json(await ops.listComments(c.req.param("project"), c.req.valid("query").path)),
  );
  app.post(
    "/projects/:project/comments",
    zValidator(
      "json",
      z.object({
        path: z.string().min(1, "is empty"),
        text: Text,
        author: z.string().min(1, "is empty").optional(),
        replyTo: z.string().min(1, "is empty").optional(),
      }).strict(),
      hook,
    ),
    async (c) => {
      const body = c.req.valid("json");
      const comment = await ops.comment(c.req.param("project"), body.path, body.text, {
        author: body.author,
        replyTo: body.replyTo,
      });
      return c.json({ ...comment, entityId: comment.parentId }, 201);
    },
  );
  app.patch(
    "/projects/:project/comments/:id",
    zValidator("json", z.object({ text: Text }).strict(), hook),
    async (c) => c.json(await ops.editComment(c.req.param("project"), c.req.param("id"), c.req.valid("json").text)),
  );
  app.delete(
    "/projects/:project/comments/:id",
    async (c) => c.json(await ops.deleteComment(c.req.param("project"), c.req.param("id"))),
  );
  app.put(
    "/projects/:project/thumbnail",
    zValidator(
      "json",
      z.object({ path: z.string().min(1, "is empty"), image: z.string().min(1, "is empty") }).strict(),
      hook,
    ),
    async (c) => {
      const body = c.req.valid("json");
      return c.json(await ops.setThumbnail(c.req.param("project"), body.path, body.image));
    },
  );
  app.get(
    "/projects/:project/links",
    zValidator("query", z.object({ path: z.string().min(1, "is empty") }), hook),
    async (c) => c.json(await ops.links(c.req.param("project"), c.req.valid("query").path)),
  );
  app.post(
    "/projects/:project/links",
    zValidator(
      "json",
      z.object({
        from: z.string().min(1, "is empty"),
        to: z.string().min(1, "is empty"),
      }).strict(),
      hook,
    ),
    async (c) => {
      const body = c.req.valid("json");
      return c.json(await ops.link(c.req.param("project"), body.from, body.to), 201);
    },
  );
  app.delete(
    "/projects/:project/links",
    zValidator("query", z.object({ from: z.string().min(1, "is empty"), to: z.string().min(1, "is empty") }), hook),
    async (c) => {
      const query = c.req.valid("query");
      return c.json(await ops.unlink(c.req.param("project"), query.from, query.to));
    },
  );
  app.get("/projects/:project/lists", async (c) => c.json(await ops.lists(c.req.param("project"))));
  app.post(
    "/projects/:project/lists",
    zValidator(
      "json",
      z.object({
        name: Name,
        listType: z.enum(["version", "context"]).optional(),
        category: z.string().min(1, "is empty").nullable().optional(),
        items: z.array(z.string().min(1, "is empty")).optional(),
      }).strict(),
      hook,
    ),
    async (c) => {
      const body = c.req.valid("json");
      return c.json(await ops.createList(c.req.param("project"), body.name, body), 201);
    },
  );
  app.patch(
    "/projects/:project/lists/:list",
    zValidator(
      "json",
      z.object({
        name: Name.optional(),
        open: z.boolean().optional(),
        category: z.string().min(1, "is empty").nullable().optional(),
        add: z.array(z.string().min(1, "is empty")).optional(),
        remove: z.array(z.string().min(1, "is empty")).optional(),
      }).strict(),
      hook,
    ),
    async (c) => c.json(await ops.changeList(c.req.param("project"), c.req.param("list"), c.req.valid("json"))),
  );
  app.delete(
    "/projects/:project/lists/:list",
    async (c) => c.json(await ops.deleteList(c.req.param("project"), c.req.param("list"))),
  );
  app.notFound((c) => c.json({ error: "not_found", message: `No route ${c.req.method} ${c.req.path}` }, 404));
  return app;
}
