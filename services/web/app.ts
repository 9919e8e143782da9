import type { Session } from "@ftrack/api";
import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { html } from "hono/html";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { z } from "zod";
import { EventStatusSchema, PROC_TOPIC, type Variant } from "../../src/store/mod.ts";
import type { TrackerCredentials } from "../../src/tracker/tracker_credentials.ts";
import { cancelJob, type FindBridge, getJob, jobEvents, listJobs } from "./bridge_link.ts";
import { type FindStore, queueFigures } from "./event_log.ts";
import { page } from "./html_page.ts";
import { proxyComponent } from "./media_proxy.ts";
import { processorStatus } from "./processor_link.ts";
import { contextPage, projectsPage, searchPage } from "./pages/browse_pages.ts";
import { eventPage, eventsPage, noStorePage } from "./pages/events_pages.ts";
import { jobPage, noBridge, publishesPage } from "./pages/publishes_pages.ts";
import { versionPage } from "./pages/version_page.ts";
import { componentFileType, contextDetail, listProjects, searchByName, versionDetail } from "./tracker_view.ts";
import { WebError } from "./web_error.ts";
import { webSecurity } from "./web_security.ts";

/** A file the view serves under `/assets/`. */
export interface Asset {
  body: string | Uint8Array;
  type: string;
}

/** What the view's routes need. */
export interface WebAppOptions {
  /** The token of the printed URL. */
  token: string;
  /** ferry's version, for `/health`. */
  version: string;
  /** The tracker to browse: a session and the credentials media is read with. */
  tracker: { session: Session; credentials: TrackerCredentials };
  /** The bridge whose jobs the Publishes page shows. */
  bridge: FindBridge;
  /** The pipeline store the Events page shows. */
  store: FindStore;
  /** FERRY_HOME, for messages. */
  home: string;
  /** Where the store is, for messages. */
  storeLocation: string;
  /** `/assets/<name>`: the page script and the stylesheet. */
  assets: Readonly<Record<string, Asset>>;
  /** Where a processor answers `/health` and `/metrics` (the Events page shows its figures); none when undefined. */
  processorUrl?: string;
  /** The services' variant, for the processor's settings (queue depth). @default {"production"} */
  variant?: Variant;
  /** @default {Deno.pid} */
  pid?: number;
}

const Id = z.string().regex(/^[0-9a-zA-Z_-]{1,64}$/, "must be an id such as a UUID");

function idParam(value: string | undefined, what: string): string {
  const parsed = Id.safeParse(value);
  if (!parsed.success) throw new WebError(404, `${what}_not_found`, `No ${what.replaceAll("_", " ")} '${value}'`);
  return parsed.data;
}

const EventQuerySchema = z.object({
  topic: z.string().trim().max(255).optional().transform((value) => value || undefined),
  status: z.union([z.literal(""), EventStatusSchema]).optional().transform((value) => value || undefined),
  project: z.string().trim().max(255).optional().transform((value) => value || undefined),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

const SECURITY_HEADERS = {
  "content-security-policy":
    "default-src 'self'; img-src 'self' data:; media-src 'self'; style-src 'self' 'unsafe-inline'; script-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  "referrer-policy": "same-origin",
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
};

function wantsHtml(path: string, accept: string | undefined): boolean {
  if (path.startsWith("/api/") || path.startsWith("/media/") || path.startsWith("/assets/")) return false;
  return accept === undefined || accept.includes("text/html") || accept.includes("*/*");
}

/**
 * The web view's Hono app: the token rules first (loopback `Host`, own `Origin`, the token by
 * `?token=` then cookie), then the pages (Browse, version, search, Publishes, Events), the media
 * proxy, the bridge proxy (`/api/jobs…`, so that the browser never sees the bridge's token) and
 * the retry action; one `onError` shapes every error (a page for browsers, JSON for scripts).
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import type { Session } from "@ftrack/api";
 * import { createWebApp } from "./app.ts";
 *
 * const app = createWebApp({
 *   token: "a".repeat(43),
 *   version: "0.1.0",
 *   tracker: { session: {} as Session, credentials: { server: "http://127.0.0.1:8070", apiUser: "u", apiKey: "k" } },
 *   bridge: () => Promise.resolve(undefined),
 *   store: () => Promise.resolve(undefined),
 *   home: "/tmp/ferry",
 *   storeLocation: "/tmp/ferry/store.db",
 *   assets: {},
 * });
 * const health = await app.request("/health", { headers: { host: "127.0.0.1:8072" } });
 * ok((await health.json()).service === "web");
 * const page = await app.request("/", { headers: { host: "127.0.0.1:8072" } });
 * ok(page.status === 401);
 * ```
 */
export function createWebApp(options: WebAppOptions): Hono {
  const { token, version, tracker, home, assets, pid = Deno.pid } = options;
  const { session, credentials } = tracker;
  const app = new Hono();

  app.use(async (c, next) => {
    await next();
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) {
      if (!c.res.headers.has(name)) c.res.headers.set(name, value);
    }
    // Pages show live data: never from a cache (media and assets say their own).
    if (!c.res.headers.has("cache-control")) c.res.headers.set("cache-control", "no-store");
  });
  app.use(webSecurity({ token }));

  app.get("/health", (c) => c.json({ ok: true, service: "web", version, pid }));
  app.get("/assets/:name", (c) => {
    const asset = assets[c.req.param("name")];
    if (!asset) throw new WebError(404, "not_found", `No asset '${c.req.param("name")}'`);
    return c.body(asset.body as string, 200, { "content-type": asset.type, "cache-control": "no-cache" });
  });

  // Browse
  // Components do not change their file type: the version page's answer saves a query per media request.
  const fileTypes = new Map<string, string>();
  const remember = (id: string, fileType: string) => {
    if (fileTypes.size >= 10_000) fileTypes.delete(fileTypes.keys().next().value!);
    fileTypes.set(id, fileType);
  };
  app.get("/", async (c) => {
    const where = credentials.server;
    return c.html(projectsPage(await listProjects(session), where));
  });
  app.get(
    "/browse/:id",
    async (c) => c.html(contextPage(await contextDetail(session, idParam(c.req.param("id"), "context")))),
  );
  app.get(
    "/version/:id",
    async (c) => {
      const version = await versionDetail(session, idParam(c.req.param("id"), "version"));
      for (const component of version.components) remember(component.id, component.fileType);
      return c.html(versionPage(version));
    },
  );
  app.get("/search", async (c) => {
    const term = (c.req.query("q") ?? "").trim().slice(0, 200);
    return c.html(searchPage(term, term ? await searchByName(session, term) : undefined));
  });
  app.get("/media/:id", async (c) => {
    const id = idParam(c.req.param("id"), "component");
    const fileType = fileTypes.get(id) ?? await componentFileType(session, id);
    if (fileType === undefined) throw new WebError(404, "component_not_found", `No component '${id}' on the tracker`);
    remember(id, fileType);
    return await proxyComponent(credentials, id, {
      route: c.req.query("as") === "thumbnail" ? "thumbnail" : "get",
      range: c.req.header("range"),
      fileType,
    });
  });

  // Publishes
  app.get("/publishes", async (c) => {
    const bridge = await options.bridge();
    return c.html(publishesPage(bridge ? await listJobs(bridge) : undefined, home));
  });
  app.get("/publishes/:id", async (c) => {
    const bridge = await options.bridge();
    if (!bridge) return c.html(page({ title: "Publish", section: "publishes" }, noBridge(home)), 503);
    return c.html(jobPage(await getJob(bridge, idParam(c.req.param("id"), "job"))));
  });
  const requireBridge = async () => {
    const bridge = await options.bridge();
    if (!bridge) {
      throw new WebError(503, "no_bridge", `No bridge runs for FERRY_HOME '${home}': start one with deno task bridge`);
    }
    return bridge;
  };
  app.post("/publishes/:id/cancel", async (c) => {
    const job = await cancelJob(await requireBridge(), idParam(c.req.param("id"), "job"));
    if (c.req.header("accept")?.includes("application/json")) return c.json({ job });
    return c.redirect(`/publishes/${encodeURIComponent(job.id)}`, 303);
  });
  app.get("/api/jobs", async (c) => c.json({ jobs: await listJobs(await requireBridge()) }));
  app.get(
    "/api/jobs/:id",
    async (c) => c.json({ job: await getJob(await requireBridge(), idParam(c.req.param("id"), "job")) }),
  );
  app.get(
    "/api/jobs/:id/events",
    async (c) =>
      await jobEvents(await requireBridge(), idParam(c.req.param("id"), "job"), {
        lastEventId: c.req.header("last-event-id"),
      }),
  );

  // Events
  app.get("/events", async (c) => {
    const parsed = EventQuerySchema.safeParse(c.req.query());
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const key = String(issue.path[0] ?? "");
      throw new WebError(400, "invalid_filter", `Invalid filter '${key}' = '${c.req.query(key)}': ${issue.message}`);
    }
    const store = await options.store();
    if (!store) return c.html(noStorePage(options.storeLocation));
    const filters = parsed.data;
    const [events, queue, processor] = await Promise.all([
      store.listEvents({ ...filters, newestFirst: true }),
      queueFigures(store, { variant: options.variant }),
      options.processorUrl ? processorStatus(options.processorUrl) : undefined,
    ]);
    return c.html(eventsPage(events, { filters, queue, where: store.location, processor }));
  });
  const findEvent = async (raw: string | undefined) => {
    const id = idParam(raw, "event");
    const store = await options.store();
    if (!store) throw new WebError(404, "event_not_found", `No event '${id}': there is no pipeline store yet`);
    const event = await store.getEvent(id);
    if (!event) throw new WebError(404, "event_not_found", `No event '${id}' in the store at ${store.location}`);
    return { store, event };
  };
  app.get("/events/:id", async (c) => {
    const { store, event } = await findEvent(c.req.param("id"));
    const [source, jobs] = await Promise.all([
      event.dependsOn ? store.getEvent(event.dependsOn) : undefined,
      store.listEvents({ dependsOn: event.id, limit: 100 }),
    ]);
    return c.html(eventPage(event, { source, jobs, retried: c.req.query("retried") === "1" }));
  });
  app.get("/api/events/:id", async (c) => c.json({ event: (await findEvent(c.req.param("id"))).event }));
  app.post("/events/:id/retry", async (c) => {
    const { store, event } = await findEvent(c.req.param("id"));
    let job;
    try {
      job = await store.retryJob(event.id, event.dependsOn ? undefined : PROC_TOPIC);
    } catch (error) {
      if (error instanceof RangeError) throw new WebError(409, "cannot_retry", error.message);
      throw error;
    }
    if (c.req.header("accept")?.includes("application/json")) return c.json({ event: job });
    return c.redirect(`/events/${encodeURIComponent(job.id)}?retried=1`, 303);
  });

  app.notFound((c) => {
    throw new WebError(404, "not_found", `No page '${c.req.method} ${c.req.path}' in the web view`);
  });
  app.onError((error, c) => {
    let shaped: WebError;
    if (error instanceof WebError) shaped = error;
    else if (error instanceof HTTPException) {
      shaped = new WebError(error.status as WebError["status"], "http_error", error.message || `HTTP ${error.status}`);
    } else {
      console.error(`web: ${c.req.method} ${c.req.path} failed:`, error);
      shaped = new WebError(500, "internal_error", `The web view failed: ${(error as Error)?.message ?? error}`);
    }
    const status = shaped.status as ContentfulStatusCode;
    if (wantsHtml(c.req.path, c.req.header("accept"))) {
      return c.html(
        page(
          { title: `Error ${shaped.status}` },
          html`
            <h1>${shaped.status === 404 ? "Not found" : `Error ${shaped.status}`}</h1>
            <p class="error" data-code="${shaped.code}">${shaped.message}</p>
          `,
        ),
        status,
      );
    }
    return c.json({ error: { code: shaped.code, message: shaped.message } }, status);
  });
  return app;
}
