import { join } from "node:path";
import process from "node:process";
import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { createMiddleware } from "hono/factory";
import { bodyLimit } from "hono/body-limit";
import { errorObject, Tracker, type TrackerOpenOptions } from "./tracker.ts";
import { TrackerError } from "./schema/catalog.ts";
import { LOCATION_IDS } from "./schema/definitions.ts";
import { type ComponentCatalog, UploadError } from "./file_store.ts";
import { ThumbnailError, thumbnailSize } from "./thumbnails.ts";
import { PartError } from "./multipart_uploads.ts";
import { checkWebUrl } from "./widget_url.ts";
import { corsOrigin, corsOrigins } from "./cors_origins.ts";
import { claimLockFile, databaseProblem, type HeldLock, openDataFolder } from "./data_folder.ts";
import { EXIT } from "../../src/cli/exit_codes.ts";
import type { Row } from "./store/entity_store.ts";
import { SHA1_HEADER } from "../../src/tracker/upload_file.ts";

/** Options of {@linkcode startTracker}. */
export interface StartTrackerOptions extends Partial<TrackerOpenOptions> {
  /** Port; 0 picks a free one. @default {8070} */
  port?: number;
  /** Address to listen on. @default {"127.0.0.1"} */
  hostname?: string;
  /**
   * The largest `POST /api` body in bytes; larger ones get a 413 with an error object. Uploads to
   * signed URLs are not limited by it. @default {DEFAULT_MAX_REQUEST_SIZE}
   */
  maxRequestSize?: number;
  /**
   * Origins (`scheme://host[:port]`) whose browser pages may call the tracker (CORS, with
   * credentials); no other origin, and never `null`, is allowed. @default {[]}
   */
  corsOrigins?: readonly string[];
}

/** The largest `POST /api` body a tracker accepts unless told otherwise: 32 MiB. */
export const DEFAULT_MAX_REQUEST_SIZE = 32 * 1024 * 1024;

/** Options of {@linkcode trackerApp}. */
export interface TrackerAppOptions {
  /** The largest `POST /api` body in bytes. @default {DEFAULT_MAX_REQUEST_SIZE} */
  maxRequestSize?: number;
  /** See {@linkcode StartTrackerOptions.corsOrigins}. @default {[]} */
  corsOrigins?: readonly string[];
}

/** The 413 answer to an API request over the size limit, as an ftrack error object. */
function requestSizeLimit(maxRequestSize: number) {
  if (!Number.isSafeInteger(maxRequestSize) || maxRequestSize < 1) {
    throw new RangeError(`Cannot limit requests to ${maxRequestSize} bytes: give a whole number of bytes above 0`);
  }
  return bodyLimit({
    maxSize: maxRequestSize,
    onError: (c) =>
      c.json({
        exception: "ValidationError",
        content: `The request body is larger than the tracker's limit of ${maxRequestSize} bytes: ` +
          "send fewer operations per call, or start the tracker with a larger --max-request-size.",
        error_code: null,
      }, 413),
  });
}

/** A running tracker: its URL and credentials; close it (or `await using` it) when done. */
export interface RunningTracker extends AsyncDisposable {
  url: string;
  apiUser: string;
  apiKey: string;
  tracker: Tracker;
  close(): Promise<void>;
}

const ALLOWED_HEADERS = [
  "content-type",
  "accept",
  "content-md5",
  "ftrack-user",
  "ftrack-api-key",
  "ftrack-strict-api",
  "ftrack-clienttoken",
  "ftrack-pushtoken",
  "ftrack-api-options",
].join(", ");

/**
 * The tracker's HTTP routes: `POST /api`, signed uploads (`PUT /upload/<token>`), component data
 * (`/component/get|remove|thumbnail`), the event hub's handshake (`/socket.io/1/`), and CORS for
 * browser clients. Every route but the signed upload needs credentials (headers `ftrack-user` /
 * `ftrack-api-key`, or `username` / `apiKey` / `api_user` / `api_key` query parameters).
 */
export function trackerApp(
  tracker: Tracker,
  baseUrl: () => string,
  options: TrackerAppOptions = {},
): Hono<{ Variables: { user: Row } }> {
  const { maxRequestSize = DEFAULT_MAX_REQUEST_SIZE } = options;
  const limitRequestSize = requestSizeLimit(maxRequestSize);
  const app = new Hono<{ Variables: { user: Row } }>();
  const allowed = corsOrigins(options.corsOrigins ?? []);
  tracker.files.catalog = componentCatalog(tracker);

  app.use("*", async (c, next) => {
    // Only configured origins get CORS headers; a browser then refuses every other page's calls.
    const origin = corsOrigin(c.req.header("origin"), allowed);
    if (c.req.method === "OPTIONS") {
      if (origin === undefined) return c.body(null, 204, { vary: "Origin" });
      return c.body(null, 204, {
        "access-control-allow-origin": origin,
        "access-control-allow-credentials": "true",
        "access-control-allow-methods": "GET, POST, PUT, OPTIONS",
        "access-control-allow-headers": ALLOWED_HEADERS,
        "access-control-max-age": "600",
        vary: "Origin",
      });
    }
    await next();
    c.res.headers.append("vary", "Origin");
    if (origin) {
      c.res.headers.set("access-control-allow-origin", origin);
      c.res.headers.set("access-control-allow-credentials", "true");
      c.res.headers.set("access-control-expose-headers", `ETag, ${SHA1_HEADER}`);
    }
    return undefined;
  });

  const authenticate = (
    c: { req: { header(name: string): string | undefined; query(name: string): string | undefined } },
  ) => {
    const username = c.req.header("ftrack-user") ?? c.req.query("username") ?? c.req.query("api_user");
    const apiKey = c.req.header("ftrack-api-key") ?? c.req.query("apiKey") ?? c.req.query("api_key");
    return tracker.authenticate(username, apiKey);
  };

  const requireUser = createMiddleware<{ Variables: { user: Row } }>(async (c, next) => {
    const user = authenticate(c);
    if (user === undefined) {
      throw new TrackerError("FTAuthenticationError", "The supplied API key is not valid for that user.");
    }
    c.set("user", user);
    await next();
  });

  app.get("/", requireUser, (c) => c.json({ name: "ferry embedded tracker", api: `${baseUrl()}/api` }));

  app.post("/api", requireUser, limitRequestSize, async (c) => {
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      throw new TrackerError("ValidationError", "The request body is not valid JSON.");
    }
    const result = await tracker.handle(body, {
      user: c.get("user"),
      clientToken: c.req.header("ftrack-clienttoken"),
      pushToken: c.req.header("ftrack-pushtoken"),
      baseUrl: baseUrl(),
    });
    const failed = !Array.isArray(result);
    const strict = c.req.header("ftrack-strict-api") === "true";
    return c.json(result as object, failed && strict ? 400 : 200);
  });

  // One part of a multi-part upload: 200 with its MD5 as ETag, which the client sends back on completion.
  app.put("/upload/:upload/part/:number", async (c) => {
    try {
      const md5 = await tracker.multipart.receive(
        c.req.param("upload"),
        Number(c.req.param("number")),
        c.req.raw.body,
        { fixedLength: c.req.header("content-length") !== undefined },
      );
      return c.body(null, 200, { ETag: `"${md5}"` });
    } catch (error) {
      if (error instanceof PartError) {
        return c.json({ exception: "UploadError", content: error.message, error_code: null }, error.status);
      }
      throw error;
    }
  });

  app.put("/upload/:token", async (c) => {
    try {
      const digests = await tracker.files.receive(c.req.param("token"), c.req.raw.body, c.req.header("content-md5"), {
        fixedLength: c.req.header("content-length") !== undefined,
      });
      // Like S3, the ETag is the MD5 when one was asked for; the SHA-1 always comes in its own header.
      return c.body(null, 200, { ETag: `"${digests.md5 ?? digests.sha1}"`, [SHA1_HEADER]: digests.sha1 });
    } catch (error) {
      if (error instanceof UploadError) {
        return c.json({ exception: "UploadError", content: error.message, error_code: null }, error.status);
      }
      throw error;
    }
  });

  // Component data: for the credentials' user, or the user a signed URL (ComponentLocation.url)
  // was made for, and only what that user may see (private projects). `size` scales a thumbnail.
  const sendComponent = async (
    c: { req: { url: string; query(name: string): string | undefined; header(name: string): string | undefined } },
    thumbnail: boolean,
  ) => {
    const id = c.req.query("id");
    const signed = c.req.query("signature") === undefined
      ? undefined
      : tracker.signedUser(new URL(c.req.url).searchParams);
    const user = signed ?? authenticate(c);
    if (user === undefined) {
      throw new TrackerError("FTAuthenticationError", "The supplied API key or URL signature is not valid.");
    }
    const component = id ? tracker.graph.byKey("Component", id) : undefined;
    if (!id || !tracker.files.has(id) || (component !== undefined && !tracker.sees(user, component))) {
      return new Response("No data is stored for this component.", { status: 404 });
    }
    const info = tracker.files.info(id)!;
    const size = c.req.query("size");
    if (thumbnail && size !== undefined) {
      try {
        const scaled = await tracker.thumbnails.scaled({
          componentId: id,
          path: tracker.files.path(id),
          sha1: info.sha1 ?? info.md5 ?? id,
          fileType: String(component?.file_type ?? ""),
        }, thumbnailSize(size));
        const file = await Deno.open(scaled.path);
        return new Response(file.readable, { headers: { "content-type": scaled.contentType } });
      } catch (error) {
        // A bad size is the caller's; data ffmpeg cannot read (or no ffmpeg) is served as it is.
        if (!(error instanceof ThumbnailError)) throw error;
        if (error.status === 400) return new Response(error.message, { status: 400 });
      }
    }
    const file = await Deno.open(tracker.files.path(id)).catch((error) => {
      if (error instanceof Deno.errors.NotFound) return undefined;
      throw error;
    });
    if (file === undefined) return new Response("The data of this component is missing on disk.", { status: 404 });
    return new Response(file.readable, {
      headers: {
        "content-type": "application/octet-stream",
        "content-length": String(info.size),
        etag: `"${info.md5 ?? info.sha1 ?? id}"`,
        ...(info.sha1 ? { [SHA1_HEADER]: info.sha1 } : {}),
      },
    });
  };

  app.get("/component/get", (c) => sendComponent(c, false));
  app.get("/component/thumbnail", (c) => sendComponent(c, true));
  // Data and its location record go together: removing the data deletes its ftrack.server
  // ComponentLocation in the same step. Administrators may remove any data; other users only data
  // they stored that no location records yet.
  app.get("/component/remove", requireUser, async (c) => {
    const id = c.req.query("id");
    if (!id || !tracker.files.has(id)) return c.text("No data is stored for this component.", 404);
    const user = c.get("user");
    const records = locationRecords(tracker, id);
    if (!tracker.keys.isAdministrator(String(user.id))) {
      if (records.length > 0 || tracker.files.storedBy(id) !== String(user.id)) {
        throw new TrackerError(
          "PermissionError",
          `Permission denied: only administrators may remove the stored data of component '${id}'.`,
        );
      }
    }
    if (records.length > 0) {
      tracker.writeAsServer((writer) => {
        for (const record of records) writer.delete("ComponentLocation", String(record.id));
      });
    }
    await tracker.files.remove(id);
    return c.text("removed");
  });

  app.get("/socket.io/1/", requireUser, (c) => {
    const user = c.get("user");
    return c.text(tracker.hub.handshake({ id: String(user.id), username: String(user.username) }));
  });

  app.onError((error, c) => {
    if (error instanceof TrackerError) {
      const status = { FTAuthenticationError: 401, PermissionError: 403 }[error.exception] ?? 400;
      return c.json(errorObject(error), status as 400 | 401 | 403);
    }
    if (error instanceof HTTPException) return error.getResponse();
    return c.json({
      exception: "ServerError",
      content: `Internal error: ${error.message.replaceAll(/[{}]/g, "")}`,
      error_code: null,
    }, 500);
  });
  app.notFound((c) =>
    c.json({ exception: "NotFound", content: `No route for ${c.req.method} ${c.req.path}`, error_code: null }, 404)
  );
  return app;
}

/**
 * Starts the embedded tracker on 127.0.0.1 (in-process), seeding it on first start.
 *
 * @example
 * ```ts ignore
 * import { startTracker } from "./server.ts";
 *
 * await using running = await startTracker({ port: 0, data: ":memory:" });
 * console.log(running.url, running.apiUser, running.apiKey);
 * ```
 */
export async function startTracker(options: StartTrackerOptions = {}): Promise<RunningTracker> {
  const {
    port = 8070,
    hostname = "127.0.0.1",
    data = ":memory:",
    apiUser,
    apiKey,
    mediaTools,
    maxRequestSize,
    webUrl,
    contentReuse,
  } = options;
  requestSizeLimit(maxRequestSize ?? DEFAULT_MAX_REQUEST_SIZE);
  if (webUrl !== undefined) checkWebUrl(webUrl);
  const origins = corsOrigins(options.corsOrigins ?? []);
  // Taken atomically before the database is opened: of two trackers starting at once on a folder, one runs.
  let held: HeldLock | undefined;
  if (data !== ":memory:") {
    await openDataFolder(data);
    const starting: TrackerLock = { pid: Deno.pid, url: STARTING, apiUser: "", apiKey: "" };
    const claimed = await claimLockFile(join(data, LOCK_FILE), starting);
    if ("holder" in claimed) throw new TrackerInUseError(data, claimed.holder as TrackerLock);
    held = claimed.lock;
  }
  const tracker = await Tracker.open({ data, apiUser, apiKey, mediaTools, webUrl, contentReuse }).catch(
    async (error) => {
      await held?.release();
      throw databaseProblem(data, error);
    },
  );
  let url = "";
  const app = trackerApp(tracker, () => url, { maxRequestSize, corsOrigins: [...origins] });
  // Data no location records (never committed, or its record deleted) goes after an upload URL's life.
  let sweeping: Promise<unknown> = Promise.resolve();
  const sweep = () => {
    sweeping = sweeping.then(() => tracker.files.sweep())
      .catch((error) => console.error(`tracker: could not remove unrecorded data: ${error}`));
  };
  sweep();
  const sweeper = setInterval(sweep, 10 * 60_000);
  Deno.unrefTimer(sweeper);
  let server: Deno.HttpServer<Deno.NetAddr>;
  try {
    server = serve();
  } catch (error) {
    clearInterval(sweeper);
    await sweeping;
    await tracker.close();
    await held?.release();
    throw listenError(hostname, port, error);
  }
  function serve(): Deno.HttpServer<Deno.NetAddr> {
    return Deno.serve({ port, hostname, onListen: () => {} }, (request) => {
      const path = new URL(request.url).pathname;
      const socketMatch = /^\/socket\.io\/1\/websocket\/([^/]+)$/.exec(path);
      if (socketMatch) {
        const user = tracker.hub.claim(socketMatch[1]!);
        if (user === undefined) return new Response("Unknown or expired session; handshake first.", { status: 401 });
        const { socket, response } = Deno.upgradeWebSocket(request);
        tracker.hub.accept(socket, user);
        return response;
      }
      return app.fetch(request);
    });
  }
  const address = server.addr;
  url = `http://${address.hostname.includes(":") ? `[${address.hostname}]` : address.hostname}:${address.port}`;
  if (held) {
    const info: TrackerLock = { pid: Deno.pid, url, apiUser: tracker.apiUser, apiKey: tracker.apiKey };
    await held.update(info);
  }
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    clearInterval(sweeper);
    await sweeping;
    tracker.hub.close();
    await server.shutdown();
    await tracker.close();
    await held?.release();
  };
  return { url, apiUser: tracker.apiUser, apiKey: tracker.apiKey, tracker, close, [Symbol.asyncDispose]: close };
}

/** The lock file a running tracker keeps in its data folder (readable by its owner only). */
export const LOCK_FILE = "tracker.json";

/** The lock file's URL while its tracker starts (the lock is taken before the tracker listens). */
const STARTING = "(starting)";

/** What the lock file says: who runs the tracker and how to reach it. */
export interface TrackerLock {
  pid: number;
  url: string;
  apiUser: string;
  apiKey: string;
}

/** The tracker process running on a data folder, when one is alive; stale lock files are ignored. */
export async function runningTrackerOf(data: string): Promise<TrackerLock | undefined> {
  let lock: TrackerLock;
  try {
    lock = JSON.parse(await Deno.readTextFile(join(data, LOCK_FILE)));
  } catch {
    return undefined;
  }
  if (lock.pid === Deno.pid || lock.url === STARTING) return undefined;
  try {
    process.kill(lock.pid, 0);
    return lock;
  } catch {
    return undefined;
  }
}

/** Another live tracker process uses the data folder (exit code 3). */
export class TrackerInUseError extends Error {
  readonly exitCode = EXIT.ENVIRONMENT;
  readonly holder: TrackerLock;

  constructor(data: string, holder: TrackerLock) {
    super(
      `Cannot start a tracker on '${data}': the tracker of process ${holder.pid} uses it at ${holder.url}; use that one (FTRACK_SERVER=${holder.url}) or another data folder`,
    );
    this.name = "TrackerInUseError";
    this.holder = holder;
  }
}

/** The tracker cannot listen where asked (exit code 3): the message names the address. */
export class ListenError extends Error {
  readonly exitCode = EXIT.ENVIRONMENT;

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ListenError";
  }
}

function listenError(hostname: string, port: number, error: unknown): Error {
  const where = `${hostname}:${port}`;
  const because = { cause: error };
  if (error instanceof Deno.errors.AddrInUse) {
    return new ListenError(`Cannot listen on ${where}: the port is in use; choose another with --port`, because);
  }
  if (error instanceof Deno.errors.AddrNotAvailable) {
    return new ListenError(`Cannot listen on '${hostname}': it is not an address of this machine`, because);
  }
  if (error instanceof Deno.errors.PermissionDenied) {
    return new ListenError(`Cannot listen on ${where}: permission denied (ports below 1024 need privileges)`, because);
  }
  if (error instanceof URIError || /lookup address|invalid host/i.test((error as Error).message)) {
    return new ListenError(`Cannot listen on '${hostname}': it is not a valid or known host name or address`, because);
  }
  return error as Error;
}

/** The ComponentLocations that record a component's data in the tracker's own storage. */
function locationRecords(tracker: Tracker, componentId: string): Row[] {
  const stored: string[] = [LOCATION_IDS["ftrack.server"], LOCATION_IDS["ftrack.review"]];
  return (tracker.graph.lookup("ComponentLocation", "component_id", componentId) ?? [])
    .filter((record) => stored.includes(String(record.location_id)));
}

/** What the file store asks about entities, answered from the tracker's graph and keys. */
function componentCatalog(tracker: Tracker): ComponentCatalog {
  return {
    exists: (componentId) => tracker.graph.byKey("Component", componentId) !== undefined,
    registered: (componentId) => locationRecords(tracker, componentId).length > 0,
    isAdministrator: (userId) => tracker.keys.isAdministrator(userId),
  };
}
