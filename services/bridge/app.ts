import { OpenAPIHono } from "@hono/zod-openapi";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { join } from "node:path";
import type { Discovery } from "../../publish/discover.ts";
import type { BridgeLog } from "./bridge_log.ts";
import { BridgeError, invalidRequest } from "./errors.ts";
import type { JobRunner } from "./job_runner.ts";
import type { JobStore } from "./job_store.ts";
import { addBlenderAddonRoute } from "./routes/blender_addon.ts";
import { addContextsRoute } from "./routes/contexts.ts";
import { addHealthRoute } from "./routes/health.ts";
import { addJobRoutes } from "./routes/jobs.ts";
import { addPluginsRoute } from "./routes/plugins.ts";
import { addPublishRoute } from "./routes/publish.ts";
import type { ContextInfo } from "./schemas.ts";
import {
  MAX_BODY_BYTES,
  requireAllowedOrigin,
  requireJsonBody,
  requireLoopbackHost,
  requireToken,
} from "./security.ts";

/** What the bridge's routes need. */
export interface BridgeAppOptions {
  /** The bearer token every route but `/health` needs. */
  token: string;
  /** Browser origins allowed to call the bridge. @default {[]} */
  allowedOrigins?: readonly string[];
  /** ferry's version, for `/health` and the OpenAPI document. */
  version: string;
  /** @default {Deno.pid} */
  pid?: number;
  store: JobStore;
  runner: JobRunner;
  /** The plugins of a host (`GET /v1/plugins`). */
  plugins: (host: string) => Promise<Discovery>;
  /** Projects, or the children of a context (`GET /v1/contexts`). */
  contexts: (parent: string | undefined) => Promise<ContextInfo[]>;
  /** @default {1 MiB} */
  maxBodyBytes?: number;
  /** Aborted when the bridge stops: open event streams end. */
  signal?: AbortSignal;
  log?: BridgeLog;
  /**
   * The folder holding `hosts/` (the Blender add-on and the Python client) for `GET /v1/hosts/blender/addon.zip`.
   * @default {the folder two levels above this module: the checkout, or what `deno compile` embedded}
   */
  hostsRoot?: string;
}

const HTTP_CODES: Record<number, string> = {
  400: "invalid_request",
  401: "unauthorized",
  403: "forbidden",
  404: "not_found",
  405: "method_not_allowed",
  413: "payload_too_large",
  415: "unsupported_media_type",
};

/**
 * The bridge's Hono app: security first (loopback `Host`, allowed `Origin`, bearer token, JSON
 * bodies of bounded size), then the `/v1` routes, with `/openapi.json` generated from the same zod
 * schemas the routes validate with; one `onError` shapes every error body.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { mkdtemp, rm } from "node:fs/promises";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 * import { createBridgeApp } from "./app.ts";
 * import { JobRunner } from "./job_runner.ts";
 * import { JobStore } from "./job_store.ts";
 *
 * const folder = await mkdtemp(join(tmpdir(), "ferry-app-"));
 * const store = await JobStore.open({ folder });
 * const plugins = () => Promise.resolve({ plugins: [], skipped: [] });
 * const runner = new JobRunner({ store, plugins, session: () => Promise.reject(new Error("no tracker")) });
 * const app = createBridgeApp({ token: "t".repeat(32), version: "0.1.0", store, runner, plugins, contexts: async () => [] });
 * ok((await app.request("/health")).status === 200);
 * ok((await app.request("/v1/jobs")).status === 401);
 * ok((await app.request("/v1/jobs", { headers: { authorization: `Bearer ${"t".repeat(32)}` } })).status === 200);
 * await rm(folder, { recursive: true });
 * ```
 */
export function createBridgeApp(options: BridgeAppOptions): OpenAPIHono {
  const { token, allowedOrigins = [], version, pid = Deno.pid, log } = options;
  const app = new OpenAPIHono({
    defaultHook: (result) => {
      if (!result.success) {
        const where = result.target === "json" ? "request body" : `${result.target}`;
        // The validator passes the value it was given as `data` (not in its types).
        throw invalidRequest(where, (result as { data?: unknown }).data, result.error.issues);
      }
    },
  });
  app.use(async (c, next) => {
    const start = performance.now();
    await next();
    log?.info("request", {
      method: c.req.method,
      path: c.req.path,
      status: c.res.status,
      ms: Math.round((performance.now() - start) * 100) / 100,
    });
  });
  app.use(requireLoopbackHost());
  app.use(requireAllowedOrigin(allowedOrigins));
  app.use(requireToken(token, { except: ["/health"] }));
  app.use(requireJsonBody(options.maxBodyBytes ?? MAX_BODY_BYTES));

  addHealthRoute(app, { version, pid });
  addPluginsRoute(app, { plugins: options.plugins });
  addContextsRoute(app, { contexts: options.contexts });
  addPublishRoute(app, { runner: options.runner });
  addJobRoutes(app, { store: options.store, runner: options.runner, signal: options.signal });
  addBlenderAddonRoute(app, { root: options.hostsRoot ?? join(import.meta.dirname ?? ".", "..", ".."), version });
  app.doc31("/openapi.json", {
    openapi: "3.1.0",
    info: {
      title: "ferry bridge",
      version,
      description:
        "The local HTTP bridge DCC hosts publish through. Every route but /health needs `Authorization: Bearer <token>` (the token is in $FERRY_HOME/bridge.json).",
    },
    servers: [{ url: "/" }],
    security: [{ bearer: [] }],
  });
  app.openAPIRegistry.registerComponent("securitySchemes", "bearer", { type: "http", scheme: "bearer" });

  app.notFound((c) => {
    throw new BridgeError(
      404,
      "not_found",
      `No route '${c.req.method} ${c.req.path}' on the bridge (see /openapi.json)`,
    );
  });
  app.onError((error, c) => {
    let shaped: BridgeError;
    if (error instanceof BridgeError) shaped = error;
    else if (error instanceof HTTPException) {
      const message = error.status === 400 && /JSON/i.test(error.message)
        ? `The request body is not valid JSON: ${error.message}`
        : error.message || `HTTP ${error.status}`;
      shaped = new BridgeError(
        error.status as BridgeError["status"],
        HTTP_CODES[error.status] ?? "http_error",
        message,
        error.status === 400 ? { issues: [{ path: "", message, value: null }] } : {},
      );
    } else {
      log?.error("internal error", { path: c.req.path, error: String(error), stack: (error as Error).stack });
      shaped = new BridgeError(
        500,
        "internal_error",
        `The bridge failed: ${(error as Error).message ?? String(error)}`,
      );
    }
    return c.json(
      { error: { code: shaped.code, message: shaped.message, ...(shaped.issues ? { issues: shaped.issues } : {}) } },
      shaped.status as ContentfulStatusCode,
    );
  });
  return app;
}
