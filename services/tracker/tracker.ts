import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { z } from "zod";
import type { HubEvent } from "../../src/events/event.ts";
import { SHA1_HEADER } from "../../src/tracker/upload_file.ts";
import { encodeCollections, encodeEntity, encodeScalars, projectionTree } from "./encode_entity.ts";
import { EventHub, type HubUser } from "./event_hub.ts";
import { FileStore } from "./file_store.ts";
import { openDataFolder } from "./data_folder.ts";
import { Graph, type UrlBuilder } from "./graph.ts";
import { SIGNED_URL_TTL_MS, UrlSigner } from "./signed_urls.ts";
import { parseQuery } from "./query/parse_query.ts";
import { runQuery } from "./query/run_query.ts";
import { allSchemas, entityType, isA, legacyName, TrackerError } from "./schema/catalog.ts";
import { ENTITY_TYPES } from "./schema/definitions.ts";
import { seedTracker } from "./seed.ts";
import { ApiKeys } from "./store/api_keys.ts";
import { EntityStore, type Row, type RowChange } from "./store/entity_store.ts";
import { readEntityKey, Writer } from "./writer.ts";
import { checkWebUrl, widgetUrl } from "./widget_url.ts";
import { searchFilter } from "./search.ts";
import { Access, privateProjectIds } from "./access.ts";
import { Thumbnails } from "./thumbnails.ts";
import { MultipartUploads } from "./multipart_uploads.ts";
import type { SecurityRole } from "./store/api_keys.ts";
import { DEFAULT_MEDIA_TOOLS, encodeMedia, type MediaTools, plannedOutputs } from "./encode_media.ts";

/** The server version reported to clients (Python needs ≥ 3.3.11 or a non-numeric one). */
export const SERVER_VERSION = "4.13.0";

/** Options of {@linkcode Tracker.open}. */
export interface TrackerOpenOptions {
  /** Data folder, or `:memory:` for a tracker that keeps nothing. */
  data: string;
  /** The API user, an administrator: created on first start (default `ferry`). */
  apiUser?: string;
  /**
   * A lasting key of the API user (stored hashed). Without it, the tracker makes a key valid until
   * it stops ({@linkcode Tracker.apiKey}).
   */
  apiKey?: string;
  /** ffmpeg and ffprobe for `encode_media`. @default {{ ffmpeg: "ffmpeg", ffprobe: "ffprobe" }} (from PATH) */
  mediaTools?: MediaTools;
  /**
   * The web view's address (`deno task web`, e.g. `http://127.0.0.1:8072/?token=…`): `get_widget_url`
   * answers with its pages. Without it, `get_widget_url` says there is no web view.
   */
  webUrl?: string;
  /**
   * Offer ferry's content reuse (`ferry_content_reuse` in `query_server_information`,
   * `ferry_reuse_component_data`, `ferry_sha1` and `ferry_probe` on `get_upload_metadata`). Off, the tracker answers
   * as an ftrack site does: every file is uploaded. @default {true}
   */
  contentReuse?: boolean;
}

/** One write batch's context for `ftrack.update`: who wrote and the tokens web clients use. */
export interface CallContext {
  user: Row;
  clientToken?: string;
  pushToken?: string;
  /** The server's own URL, for signed upload URLs. */
  baseUrl: string;
}

/**
 * Attribute values, passed on as sent: a rebuilt record would turn a `__proto__` key into a
 * prototype instead of an unknown attribute.
 */
const EntityData = z.custom<Record<string, unknown>>(
  (value) => value !== null && typeof value === "object" && !Array.isArray(value),
  "expected an object of attribute values",
);

const OperationSchema = z.looseObject({ action: z.string({ error: "every operation needs an 'action' string" }) });
const schemas = {
  query: z.object({ action: z.literal("query"), expression: z.string() }),
  create: z.object({
    action: z.literal("create"),
    entity_type: z.string(),
    entity_data: EntityData,
    entity_key: z.unknown().optional(),
  }),
  update: z.object({
    action: z.literal("update"),
    entity_type: z.string(),
    entity_key: z.union([z.string(), z.array(z.union([z.string(), z.number()]))]),
    entity_data: EntityData,
  }),
  delete: z.object({
    action: z.literal("delete"),
    entity_type: z.string(),
    entity_key: z.union([z.string(), z.array(z.union([z.string(), z.number()]))]),
  }),
  ferry_reuse_component_data: z.object({
    action: z.literal("ferry_reuse_component_data"),
    component_id: z.string().min(1),
    sha1: z.string().regex(/^[0-9a-fA-F]{40}$/, "must be a SHA-1 (40 hex digits)"),
  }),
  get_upload_metadata: z.object({
    action: z.literal("get_upload_metadata"),
    component_id: z.string().min(1),
    file_name: z.string(),
    file_size: z.number().int().min(0),
    checksum: z.string().nullish(),
    parts: z.number().int().nullish(),
    // ferry's extension: the SHA-1 of the bytes the uploader holds (see `#reuseContents`).
    ferry_sha1: z.string().regex(/^[0-9a-fA-F]{40}$/, "must be a SHA-1 (40 hex digits)").nullish(),
    // ferry's extension: the probe of a large file (size and sampled blocks, see `#reuseContents`).
    ferry_probe: z.object({
      size: z.number().int().min(0),
      digest: z.string().regex(/^[0-9a-fA-F]{40}$/, "must be a SHA-1 (40 hex digits)"),
    }).nullish(),
  }),
  complete_multipart_upload: z.object({
    action: z.literal("complete_multipart_upload"),
    upload_id: z.string().min(1),
    component_id: z.string().min(1),
    parts: z.array(z.object({ part_number: z.number().int(), e_tag: z.string() })).optional(),
  }),
  encode_media: z.object({
    action: z.literal("encode_media"),
    component_id: z.string().min(1),
    version_id: z.string().nullish(),
    keep_original: z.boolean().optional(),
  }),
  search: z.object({
    action: z.literal("search"),
    expression: z.string(),
    entity_type: z.string(),
    terms: z.array(z.string()).default([]),
    context_id: z.string().nullish(),
    object_type_ids: z.array(z.string()).nullish(),
  }),
  ferry_set_security_role: z.object({
    action: z.literal("ferry_set_security_role"),
    username: z.string().min(1),
    role: z.enum(["administrator", "user", "read_only"]),
  }),
  ferry_set_project_access: z.object({
    action: z.literal("ferry_set_project_access"),
    project: z.string().min(1),
    username: z.string().min(1),
    access: z.boolean(),
  }),
  get_widget_url: z.object({
    action: z.literal("get_widget_url"),
    name: z.string().min(1),
    theme: z.string().nullish(),
    entity_type: z.string().optional(),
    entity_key: z.union([z.string(), z.array(z.union([z.string(), z.number()]))]).optional(),
  }),
  reset_remote: z.object({
    action: z.literal("reset_remote"),
    reset_type: z.string(),
    // Without an entity (the Python client's `reset_remote("api_key")`): the calling user.
    entity_type: z.string().default("User"),
    entity_key: z.union([z.string(), z.array(z.string())]).optional(),
  }),
};

function validated<T extends z.ZodType>(schema: T, operation: unknown): z.infer<T> {
  const result = schema.safeParse(operation);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `'${issue.path.join(".") || "operation"}': ${issue.message}`);
    throw new TrackerError("ValidationError", `Invalid operation: ${problems.join("; ")}.`);
  }
  return result.data;
}

/**
 * The embedded ftrack-compatible tracker without its HTTP layer: authentication, the batch
 * protocol (atomic, one error object for a failed batch), every action the official clients send,
 * component files, and the event hub with an `ftrack.update` after each successful write batch.
 */
export class Tracker {
  readonly store: EntityStore;
  readonly graph: Graph;
  readonly files: FileStore;
  /** Multi-part uploads in progress (`get_upload_metadata` with `parts`). */
  readonly multipart: MultipartUploads;
  /** The private projects' ids, read again after a write that changes a project. */
  #privateProjects: Set<string> | undefined;
  /** Multi-part uploads joined and stored, by upload id: what `complete_multipart_upload` answers. */
  #completed = new Map<string, string>();
  /**
   * Answers of `ferry_reuse_component_data` operations and of `get_upload_metadata` operations
   * with a `ferry_sha1`, linked before their batch runs.
   */
  #reused = new WeakMap<object, boolean>();
  /**
   * `get_upload_metadata` operations with a `ferry_probe` (and no `ferry_sha1`) for which a stored
   * content readable by the caller has the same size and probe, found before their batch runs.
   */
  #probed = new WeakMap<object, boolean>();
  /** Multi-part uploads being joined, by upload id. */
  #completing = new Map<string, Promise<void>>();
  readonly hub = new EventHub();
  readonly apiUser: string;
  readonly dataDir: string | undefined;
  readonly keys: ApiKeys;
  #apiKey = "";
  #apiKeyLasts: "stored" | "this run" = "this run";
  mediaTools: MediaTools = DEFAULT_MEDIA_TOOLS;
  /** Signs the component URLs of answers (`ComponentLocation.url`, `thumbnail_url`). */
  readonly signer: UrlSigner;
  /** Thumbnails scaled for `/component/thumbnail?size=N`, with {@linkcode mediaTools}' ffmpeg. */
  readonly thumbnails = new Thumbnails(() => this.mediaTools);
  /** See {@linkcode TrackerOpenOptions.webUrl}. */
  webUrl: string | undefined;
  /** See {@linkcode TrackerOpenOptions.contentReuse}; may be changed while the tracker runs. */
  contentReuse = true;
  #jobs = new Set<Promise<void>>();

  private constructor(
    store: EntityStore,
    files: FileStore,
    multipart: MultipartUploads,
    apiUser: string,
    dataDir: string | undefined,
  ) {
    this.store = store;
    this.multipart = multipart;
    this.graph = new Graph(store);
    this.files = files;
    this.apiUser = apiUser;
    this.dataDir = dataDir;
    this.keys = new ApiKeys(store.database);
    let secret = store.setting("url_secret");
    if (secret === undefined) store.setSetting("url_secret", secret = UrlSigner.secret());
    this.signer = new UrlSigner(secret);
  }

  /**
   * URLs of component data and thumbnails that the user can open directly: absolute, signed for
   * them, valid for a day (rounded up to the hour, so answers stay the same within it).
   */
  #urlsFor(context: CallContext): UrlBuilder {
    const hour = 60 * 60 * 1000;
    const expires = Math.ceil((Date.now() + SIGNED_URL_TTL_MS) / hour) * hour;
    const userId = String(context.user.id);
    const base = context.baseUrl;
    if (!base) return this.graph.urls;
    return {
      componentUrl: (id) => this.signer.sign(`${base}/component/get`, { componentId: id, userId, expires }),
      thumbnailUrl: (id) =>
        id
          ? this.signer.sign(`${base}/component/thumbnail`, { componentId: id, userId, expires })
          : `${base}/img/thumbnail2.png`,
    };
  }

  /**
   * Opens a tracker, seeding it on first start and making sure the API user exists and
   * administers it. Its key ({@linkcode Tracker.apiKey}) is the one given, else one made for this run.
   */
  static async open(options: TrackerOpenOptions): Promise<Tracker> {
    const memory = options.data === ":memory:";
    if (!memory) await openDataFolder(options.data);
    const store = new EntityStore(memory ? ":memory:" : join(options.data, "tracker.sqlite"));
    const files = await FileStore.open(store.database, memory ? undefined : join(options.data, "files"));
    const apiUser = options.apiUser ?? store.setting("api_user") ?? "ferry";
    const multipart = await MultipartUploads.open(memory ? undefined : join(options.data, "multipart"));
    const tracker = new Tracker(store, files, multipart, apiUser, memory ? undefined : options.data);
    if (options.mediaTools) tracker.mediaTools = options.mediaTools;
    if (options.webUrl !== undefined) tracker.webUrl = checkWebUrl(options.webUrl);
    if (options.contentReuse !== undefined) tracker.contentReuse = options.contentReuse;
    if (store.count("Location") === 0) {
      store.transaction(() => {
        const writer = new Writer(tracker.graph, { userId: "" });
        seedTracker(writer);
        writer.finish();
      });
    }
    tracker.#upgrade();
    let user = tracker.graph.lookup("User", "username", apiUser)?.[0];
    if (user === undefined) user = tracker.#createUser({ username: apiUser, first_name: "ferry", last_name: "API" });
    const userId = String(user.id);
    tracker.keys.setAdministrator(userId, true);
    // Whoever starts the tracker owns its API user: a deactivated one is active again.
    if (user.is_active === false) store.transaction(() => store.update("User", userId, { is_active: true }));
    if (options.apiKey !== undefined) {
      if (!tracker.keys.matches(userId, options.apiKey)) tracker.keys.add(userId, options.apiKey);
      tracker.#apiKey = options.apiKey;
      tracker.#apiKeyLasts = "stored";
    } else tracker.#apiKey = tracker.keys.issueForSession(userId);
    store.setSetting("api_user", apiUser);
    return tracker;
  }

  /**
   * Datetimes stored by an older ferry with milliseconds get the six-digit fraction of today's
   * stored form, so they compare with new ones as text (once per data folder).
   */
  #microsecondDates(): void {
    if (this.store.setting("datetime_fraction") === "6") return;
    const millisecond = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}$/;
    this.store.transaction(() => {
      for (const type of ENTITY_TYPES.values()) {
        if (type.abstract) continue;
        const names = Object.entries(type.attributes)
          .filter(([, attribute]) => attribute.kind === "scalar" && attribute.format === "date-time")
          .map(([name]) => name);
        if (names.length === 0) continue;
        for (const row of this.graph.rowsOf(type.id)) {
          if (row.__type !== type.id) continue;
          const changes = Object.fromEntries(
            names.filter((name) => typeof row[name] === "string" && millisecond.test(row[name] as string))
              .map((name) => [name, `${row[name]}000`]),
          );
          if (Object.keys(changes).length > 0) this.store.update(type.table, this.graph.keyOf(row), changes);
        }
      }
    });
    this.store.setSetting("datetime_fraction", "6");
  }

  /** Brings data stored by an older ferry in line: object-type Schemas without their `type_id`. */
  #upgrade(): void {
    this.#microsecondDates();
    const stale = [...this.graph.rowsOf("Schema")].filter((row) => row.type_id == null && row.object_type_id != null);
    if (stale.length === 0) return;
    this.store.transaction(() => {
      for (const row of stale) this.store.update("Schema", String(row.id), { type_id: row.object_type_id });
    });
  }

  /**
   * The API user's key for this run: the `apiKey` it was opened with, else a key made at start-up
   * that is never stored and stops working when the tracker stops (see {@linkcode apiKeyLasts}).
   */
  get apiKey(): string {
    return this.#apiKey;
  }

  /** Whether {@linkcode apiKey} is stored (`"stored"`) or valid only while this tracker runs. */
  get apiKeyLasts(): "stored" | "this run" {
    return this.#apiKeyLasts;
  }

  /**
   * Creates a user with an API key, shown here only (the tracker keeps its hash);
   * `DuplicateEntryError` when the username is taken. Users are not administrators unless asked.
   */
  addUser(
    data: { username: string; first_name?: string; last_name?: string; email?: string },
    options: { administrator?: boolean; role?: SecurityRole } = {},
  ): { user: Row; apiKey: string } {
    const user = this.#createUser(data);
    const role = options.role ?? (options.administrator ? "administrator" : "user");
    this.keys.setRole(String(user.id), role);
    return { user, apiKey: this.keys.issue(String(user.id)) };
  }

  /**
   * Gives or takes a user's access to a private project (`Project.is_private`), named by id or
   * name; `ValidationError` naming the project or user that does not exist.
   */
  setProjectAccess(project: string, username: string, access: boolean): void {
    this.keys.setProjectAccess(String(this.#projectNamed(project).id), String(this.#userNamed(username).id), access);
  }

  /** Gives a user a security role; `ValidationError` naming a user that does not exist. */
  setRole(username: string, role: SecurityRole): void {
    this.keys.setRole(String(this.#userNamed(username).id), role);
  }

  #userNamed(username: string): Row {
    const user = this.graph.lookup("User", "username", username)?.[0];
    if (user === undefined) throw new TrackerError("ValidationError", `There is no user '${username}'.`);
    return user;
  }

  /** A project by id, else by name. */
  #projectNamed(project: string): Row {
    const found = this.graph.byKey("Project", project) ??
      (this.graph.lookup("Context", "name", project) ?? []).find((row) => row.__type === "Project");
    if (found === undefined) throw new TrackerError("ValidationError", `There is no project '${project}'.`);
    return found;
  }

  /**
   * The user a signed component URL (its `id`, `user`, `expires` and `signature` parameters) was
   * made for, when the signature holds, it has not expired and the user is still active; undefined
   * otherwise.
   */
  signedUser(params: URLSearchParams): Row | undefined {
    const grant = this.signer.verify(params);
    if (grant === undefined) return undefined;
    const user = this.graph.byKey("User", grant.userId);
    return user === undefined || user.is_active === false ? undefined : user;
  }

  /** Forgets the private projects' ids when a change touched a project. */
  #forgetPrivateProjects(changes: readonly RowChange[]): void {
    if (changes.some((change) => (change.after ?? change.before)?.__type === "Project")) {
      this.#privateProjects = undefined;
    }
  }

  /** What a user may see and change now. */
  #access(userId: string): Access {
    this.#privateProjects ??= privateProjectIds(this.graph);
    return new Access(this.graph, this.keys, userId, this.#privateProjects);
  }

  /** Whether the user may see the row (it is in no private project they lack access to). */
  sees(user: Row, row: Row): boolean {
    return this.#access(String(user.id)).sees(row);
  }

  #createUser(data: { username: string; first_name?: string; last_name?: string; email?: string }): Row {
    const defined = Object.fromEntries(Object.entries(data).filter(([, value]) => value !== undefined));
    return this.store.transaction(() => {
      const writer = new Writer(this.graph, { userId: "", administrator: true });
      const row = writer.create("User", { ...defined, is_active: true });
      writer.finish();
      return row;
    }).result;
  }

  /** The user with this username and key, or undefined. */
  authenticate(username: string | null | undefined, apiKey: string | null | undefined): Row | undefined {
    if (!username || !apiKey) return undefined;
    const user = this.graph.lookup("User", "username", username)?.[0];
    if (user === undefined || user.is_active === false) return undefined;
    return this.keys.matches(String(user.id), apiKey) ? user : undefined;
  }

  /**
   * Runs one `POST /api` body: a list of operations, all applied or none. Returns the list of
   * results, or one error object `{exception, content, error_code}`.
   */
  call(body: unknown, context: CallContext): unknown {
    if (!Array.isArray(body)) {
      return errorObject(new TrackerError("ValidationError", "The request body must be a JSON list of operations."));
    }
    const userId = String(context.user.id);
    const access = this.#access(userId);
    const writer = new Writer(this.graph, { userId, administrator: access.role === "administrator", access });
    const after: Array<() => void> = [];
    let outcome: { result: unknown[]; changes: RowChange[] };
    const urls = this.graph.urls;
    this.graph.urls = this.#urlsFor(context);
    try {
      outcome = this.store.transaction(() => {
        const results = body.map((operation) => this.#operation(operation, writer, context, after, access));
        writer.finish();
        return results;
      });
    } catch (error) {
      if (error instanceof TrackerError) return errorObject(error);
      return errorObject(new TrackerError("ServerError", `The batch failed: ${(error as Error).message}`));
    } finally {
      this.graph.urls = urls;
    }
    this.#forgetPrivateProjects(outcome.changes);
    for (const task of after) task();
    for (const change of outcome.changes) {
      // A deleted user's keys and role go with it.
      if (change.table === "User" && change.after === undefined) this.keys.forget(change.key);
      // Who makes a project private (or makes a private project) keeps access to it.
      const project = change.after;
      if (
        project?.__type === "Project" && project.is_private === true && change.before?.is_private !== true &&
        access.role !== "administrator"
      ) this.keys.setProjectAccess(String(project.id), userId, true);
    }
    if (outcome.changes.length > 0) this.#announce(outcome.changes, context);
    return outcome.result;
  }

  /**
   * Runs one `POST /api` body as {@linkcode call} does, first joining and storing the multi-part
   * uploads its `complete_multipart_upload` operations complete (which needs the disk). A failed
   * join answers the error object, and the batch is not run.
   */
  async handle(body: unknown, context: CallContext): Promise<unknown> {
    if (Array.isArray(body)) {
      try {
        await this.#reuseContents(body, context);
      } catch (error) {
        if (error instanceof TrackerError) return errorObject(error);
        return errorObject(new TrackerError("ValidationError", (error as Error).message));
      }
      for (const operation of body) {
        if ((operation as { action?: unknown } | null)?.action !== "complete_multipart_upload") continue;
        try {
          await this.#completeUpload(validated(schemas.complete_multipart_upload, operation), context.user);
        } catch (error) {
          if (error instanceof TrackerError) return errorObject(error);
          return errorObject(new TrackerError("ServerError", `The upload failed: ${(error as Error).message}`));
        }
      }
    }
    return this.call(body, context);
  }

  /**
   * ferry's extension of the upload grant, run before the batch (it needs the disk): each
   * `ferry_reuse_component_data`, and each `get_upload_metadata` with a `ferry_sha1`, whose content
   * the tracker holds and the caller may read is linked to it (nothing is sent); the answers are
   * kept for {@linkcode #operation}. One pass for the whole batch (see `FileStore.reuseMany`).
   *
   * The rule: a SHA-1 stands for bytes the caller holds (ferry's uploader computes it from the
   * bytes it read, which is its proof of possession), and content is reused only when the caller
   * could read it anyway: some component holding it is in no private project hidden from them, or
   * they stored it themselves. Anything else is answered "not held" and uploaded as usual (stored
   * once all the same), so a SHA-1 alone neither gives nor reveals content of a private project.
   *
   * A `get_upload_metadata` with a `ferry_probe` instead (a large file's size and the digest of a
   * few sampled blocks, see `src/tracker/content_probe.ts`) is answered `ferry_candidate: true`,
   * without an upload URL, when a stored content readable by the caller (same rule) has that size
   * and probe: the uploader then hashes the whole file and asks again with its `ferry_sha1`.
   */
  async #reuseContents(body: unknown[], context: CallContext): Promise<void> {
    if (!this.contentReuse) return;
    const operations: object[] = [];
    const requests: Array<{ componentId: string; sha1: string }> = [];
    const probes: Array<{ operation: object; componentId: string; size: number; digest: string }> = [];
    for (const operation of body) {
      const action = (operation as { action?: unknown } | null)?.action;
      if (action === "ferry_reuse_component_data") {
        const request = validated(schemas.ferry_reuse_component_data, operation);
        operations.push(operation as object);
        requests.push({ componentId: request.component_id, sha1: request.sha1.toLowerCase() });
      } else if (action === "get_upload_metadata" && (operation as { ferry_sha1?: unknown }).ferry_sha1 != null) {
        const request = validated(schemas.get_upload_metadata, operation);
        operations.push(operation as object);
        requests.push({ componentId: request.component_id, sha1: request.ferry_sha1!.toLowerCase() });
      } else if (action === "get_upload_metadata" && (operation as { ferry_probe?: unknown }).ferry_probe != null) {
        const request = validated(schemas.get_upload_metadata, operation);
        const probe = request.ferry_probe!;
        if (probe.size !== request.file_size) {
          throw new TrackerError(
            "ValidationError",
            `Cannot probe component '${request.component_id}': ferry_probe.size ${probe.size} is not its file_size ${request.file_size}`,
          );
        }
        probes.push({
          operation: operation as object,
          componentId: request.component_id,
          size: probe.size,
          digest: probe.digest.toLowerCase(),
        });
      }
    }
    if (requests.length === 0 && probes.length === 0) return;
    const userId = String(context.user.id);
    const access = this.#access(userId);
    access.mayWrite(String((operations[0] as { action?: string } | undefined)?.action ?? "get_upload_metadata"));
    for (const request of [...requests, ...probes]) {
      this.#mayChangeComponent(access, request.componentId, "upload data for");
    }
    const readable = new Map<string, boolean>();
    for (const probe of probes) {
      let found = false;
      for (const sha1 of await this.files.candidates(probe.size, probe.digest)) {
        if (!readable.has(sha1)) readable.set(sha1, this.#mayReadContent(access, sha1));
        if ((found = readable.get(sha1)!)) break;
      }
      this.#probed.set(probe.operation, found);
    }
    if (requests.length === 0) return;
    const allowed: number[] = [];
    requests.forEach((request, index) => {
      if (!readable.has(request.sha1)) readable.set(request.sha1, this.#mayReadContent(access, request.sha1));
      if (readable.get(request.sha1)) allowed.push(index);
      else this.#reused.set(operations[index]!, false);
    });
    const answers = allowed.length === 0 ? [] : await this.files.reuseMany(allowed.map((i) => requests[i]!), userId);
    answers.forEach((answer, at) => this.#reused.set(operations[allowed[at]!]!, answer));
  }

  /**
   * Whether the user may read the stored content `sha1` (see {@linkcode #reuseContents}): a
   * component holding it is visible to them, or they stored it (data of a component not committed
   * yet). Users who see every project may read every content.
   */
  #mayReadContent(access: Access, sha1: string): boolean {
    if (access.seesAll) return true;
    for (const holder of this.files.holders(sha1)) {
      if (holder.storedBy === access.userId) return true;
      const component = this.graph.byKey("Component", holder.componentId);
      if (component !== undefined && access.sees(component)) return true;
    }
    return false;
  }

  /** Joins and stores an upload once: a completion sent again while the first is joined waits for it. */
  async #completeUpload(request: z.infer<typeof schemas.complete_multipart_upload>, user: Row): Promise<void> {
    if (this.#completed.get(request.upload_id) === request.component_id) return;
    const running = this.#completing.get(request.upload_id);
    if (running !== undefined) return await running;
    const completing = this.#joinUpload(request, user).finally(() => this.#completing.delete(request.upload_id));
    this.#completing.set(request.upload_id, completing);
    await completing;
  }

  async #joinUpload(request: z.infer<typeof schemas.complete_multipart_upload>, user: Row): Promise<void> {
    const userId = String(user.id);
    this.#access(userId).mayWrite("complete_multipart_upload");
    const joined = this.multipart.join(request.upload_id, {
      componentId: request.component_id,
      userId,
      administrator: this.keys.isAdministrator(userId),
      parts: request.parts,
    });
    try {
      // The file store checks the size, and the whole file's MD5 when the client sent one.
      const token = this.files.grant(joined.componentId, joined.size, joined.md5Base64, { userId: joined.userId });
      await this.files.receive(token, joined.stream, undefined);
    } catch (error) {
      await joined.stream.cancel().catch(() => {});
      if (error instanceof Error && "status" in error) throw new TrackerError("ValidationError", error.message);
      throw error;
    }
    this.#completed.set(request.upload_id, request.component_id);
    // Remembered for a client that sends its completion again; the oldest are forgotten.
    if (this.#completed.size > MAX_COMPLETED_UPLOADS) this.#completed.delete(this.#completed.keys().next().value!);
  }

  /** Waits for background jobs (media encoding) to finish. */
  async settle(): Promise<void> {
    while (this.#jobs.size > 0) await Promise.all([...this.#jobs]);
  }

  /** Publishes an event from the server itself (`tailor`: see {@linkcode EventHub.publish}). */
  publish(
    event: Omit<HubEvent, "id" | "source" | "target" | "inReplyToEvent" | "sent"> & Partial<HubEvent>,
    tailor?: (user: HubUser, event: HubEvent) => HubEvent | undefined,
  ): void {
    this.hub.publish({
      id: randomUUID(),
      source: { id: "ferry.tracker", user: { username: this.apiUser } },
      target: "",
      inReplyToEvent: null,
      sent: null,
      ...event,
    }, tailor);
  }

  /** Stops the hub, waits for jobs and closes storage. */
  async close(): Promise<void> {
    this.hub.close();
    await this.settle();
    await this.thumbnails.close();
    await this.multipart.close();
    await this.files.close();
    this.store.close();
  }

  #operation(
    operation: unknown,
    writer: Writer,
    context: CallContext,
    after: Array<() => void>,
    access: Access,
  ): unknown {
    const { action } = validated(OperationSchema, operation);
    if (WRITES.has(action)) access.mayWrite(action);
    switch (action) {
      case "query_server_information":
        return {
          version: SERVER_VERSION,
          schema_hash: allSchemas().hash,
          is_timezone_support_enabled: true,
          // ferry's uploader may ask for content the tracker holds before sending a file (not on ftrack sites).
          ...(this.contentReuse ? { ferry_content_reuse: true } : {}),
          storage_scenario: { scenario: "ftrack.automatic", data: {} },
          user_information: { id: context.user.id, username: context.user.username },
          product: "ferry embedded tracker",
        };
      case "query_schemas":
        return allSchemas().schemas;
      case "query": {
        const { expression } = validated(schemas.query, operation);
        const query = parseQuery(expression);
        const page = runQuery(this.graph, query, expression, { visible: access.filter });
        const tree = query.select ? projectionTree(query.select) : undefined;
        return {
          action: "query",
          data: page.rows.map((row) => encodeEntity(this.graph, row, tree, access.filter)),
          metadata: { next: { offset: page.next } },
        };
      }
      case "search": {
        const request = validated(schemas.search, operation);
        const query = parseQuery(request.expression);
        if (!isA(query.type, request.entity_type)) {
          throw new TrackerError(
            "ValidationError",
            `Cannot search '${request.entity_type}' with '${request.expression}': its query is of '${query.type}'.`,
          );
        }
        const accept = searchFilter(this.graph, {
          entityType: request.entity_type,
          terms: request.terms,
          contextId: request.context_id,
          objectTypeIds: request.object_type_ids,
        });
        const page = runQuery(this.graph, query, request.expression, { accept, visible: access.filter });
        const tree = query.select ? projectionTree(query.select) : undefined;
        return {
          action: "search",
          data: page.rows.map((row) => encodeEntity(this.graph, row, tree, access.filter)),
          metadata: { next: { offset: page.next } },
        };
      }
      case "create": {
        const { entity_type, entity_data } = validated(schemas.create, operation);
        const row = writer.create(entity_type, entity_data);
        return { action: "create", data: encodeScalars(this.graph, row) };
      }
      case "update": {
        const { entity_type, entity_key, entity_data } = validated(schemas.update, operation);
        const { row, changed } = writer.update(entity_type, entity_key, entity_data);
        const answer = { action: "update", data: encodeScalars(this.graph, row, changed) };
        // Collections set are echoed as references once the whole batch is in (members may come later in it).
        after.push(() => {
          const stored = this.graph.byKey(row.__type, this.graph.keyOf(row)) ?? row;
          Object.assign(answer.data, encodeCollections(this.graph, stored, changed));
        });
        return answer;
      }
      case "delete": {
        const { entity_type, entity_key } = validated(schemas.delete, operation);
        const row = this.graph.byKey(entity_type, readEntityKey(entityType(entity_type), entity_key));
        writer.delete(entity_type, entity_key);
        if (row && isA(row.__type, "Component")) after.push(() => void this.files.remove(String(row.id)));
        return { action: "delete", data: true };
      }
      case "ferry_reuse_component_data": {
        // Not offered: the tracker answers as an ftrack site does.
        if (!this.contentReuse) throw new TrackerError("ServerError", `Invalid action u'${action}'`);
        const request = validated(schemas.ferry_reuse_component_data, operation);
        const reused = this.#reused.get(operation as object);
        if (reused === undefined) {
          throw new TrackerError("ValidationError", "ferry_reuse_component_data is answered through POST /api only.");
        }
        return { action: request.action, component_id: request.component_id, reused };
      }
      case "get_upload_metadata": {
        const request = validated(schemas.get_upload_metadata, operation);
        this.#mayChangeComponent(access, request.component_id, "upload data for");
        if (request.ferry_sha1 != null && this.#reused.get(operation as object) === true) {
          // The tracker holds this content and linked the component to it: nothing to send.
          return { action: "get_upload_metadata", component_id: request.component_id, ferry_reused: true };
        }
        if (
          request.ferry_sha1 == null && request.ferry_probe != null && this.#probed.get(operation as object) === true
        ) {
          // A stored content the caller may read has this size and probe: the uploader hashes the
          // whole file and asks again with its SHA-1 (no upload URL now).
          return { action: "get_upload_metadata", component_id: request.component_id, ferry_candidate: true };
        }
        if (request.parts != null && request.parts > 1) {
          // Refused now when the component's data is stored already (the grant itself is not used).
          this.files.grant(request.component_id, request.file_size, undefined, { userId: String(context.user.id) });
          return this.multipart.start({
            componentId: request.component_id,
            size: request.file_size,
            parts: request.parts,
            userId: String(context.user.id),
            baseUrl: context.baseUrl,
            md5Base64: request.checksum ?? undefined,
          });
        }
        const token = this.files.grant(request.component_id, request.file_size, request.checksum ?? undefined, {
          userId: String(context.user.id),
        });
        const headers: Record<string, string> = { "Content-Type": "application/octet-stream" };
        if (request.checksum) headers["Content-MD5"] = request.checksum;
        return {
          url: `${context.baseUrl}/upload/${token}`,
          headers,
          component_id: request.component_id,
          sha1_header: SHA1_HEADER,
        };
      }
      case "complete_multipart_upload": {
        const request = validated(schemas.complete_multipart_upload, operation);
        if (this.#completed.get(request.upload_id) !== request.component_id) {
          throw new TrackerError(
            "ValidationError",
            `Cannot complete upload '${request.upload_id}' of component '${request.component_id}': ` +
              "it is unknown, or was not joined (send it through POST /api).",
          );
        }
        return {
          action: "complete_multipart_upload",
          component_id: request.component_id,
          url: this.graph.urls.componentUrl(request.component_id),
        };
      }
      case "encode_media": {
        const request = validated(schemas.encode_media, operation);
        this.#mayChangeComponent(access, request.component_id, "encode");
        const outputIds = { movie: randomUUID(), image: randomUUID() };
        const job = writer.create("Job", {
          status: "running",
          type: "api_job",
          data: JSON.stringify({
            description: "Encode media",
            source_component_id: request.component_id,
            keep_original: request.keep_original ?? false,
            output: plannedOutputs(outputIds),
          }),
        });
        after.push(() =>
          this.#track(
            encodeMedia(this, {
              jobId: String(job.id),
              componentId: request.component_id,
              versionId: request.version_id ?? undefined,
              userId: String(context.user.id),
              outputIds,
            }),
          )
        );
        return { job_id: job.id };
      }
      case "get_widget_url": {
        const request = validated(schemas.get_widget_url, operation);
        const entityKey = request.entity_type !== undefined && request.entity_key !== undefined
          ? readEntityKey(entityType(request.entity_type), request.entity_key)
          : undefined;
        const entity = entityKey === undefined ? undefined : this.graph.byKey(request.entity_type!, entityKey);
        if (entity !== undefined && !access.sees(entity)) {
          throw new TrackerError(
            "ValidationError",
            `Cannot give the URL of widget '${request.name}': ${request.entity_type} '${entityKey}' does not exist.`,
          );
        }
        const url = widgetUrl(this.graph, this.webUrl, {
          name: request.name,
          theme: request.theme,
          entityType: request.entity_type,
          entityKey,
        });
        return { action: "get_widget_url", widget_url: url };
      }
      case "reset_remote": {
        const request = validated(schemas.reset_remote, operation);
        if (request.reset_type !== "api_key" || request.entity_type !== "User") {
          throw new TrackerError(
            "ValidationError",
            `Cannot reset '${request.reset_type}' of '${request.entity_type}': only the api_key of a User can be reset.`,
          );
        }
        const key = request.entity_key ?? String(context.user.id);
        const userId = Array.isArray(key) ? key[0]! : key;
        const target = this.graph.byKey("User", userId);
        if (target === undefined) {
          throw new TrackerError("NotFoundError", `Cannot reset the API key of user '${userId}': it does not exist.`);
        }
        if (userId !== String(context.user.id) && !this.keys.isAdministrator(String(context.user.id))) {
          throw new TrackerError(
            "PermissionError",
            `Permission denied: only administrators may reset the API key of another user ('${target.username}').`,
          );
        }
        // Made when the batch has applied, so a failed batch changes no key; shown once, here.
        const answer = { action: "reset_remote", data: { api_key: "" } };
        after.push(() => void (answer.data.api_key = this.keys.reset(userId)));
        return answer;
      }
      case "ferry_set_security_role":
      case "ferry_set_project_access": {
        // ferry's own: what an ftrack site's administrators do in its web pages (see `deno task tracker --help`).
        if (access.role !== "administrator") {
          throw new TrackerError("PermissionError", `Permission denied: only administrators may use '${action}'.`);
        }
        if (action === "ferry_set_security_role") {
          const request = validated(schemas.ferry_set_security_role, operation);
          const user = this.#userNamed(request.username);
          after.push(() => this.keys.setRole(String(user.id), request.role));
          return { action, username: request.username, role: request.role };
        }
        const request = validated(schemas.ferry_set_project_access, operation);
        const project = this.#projectNamed(request.project);
        const user = this.#userNamed(request.username);
        after.push(() => this.keys.setProjectAccess(String(project.id), String(user.id), request.access));
        return { action, project_id: project.id, username: request.username, access: request.access };
      }
      case "send_user_invite":
      case "send_review_session_invite":
        return { sent: true };
      default:
        throw new TrackerError("ServerError", `Invalid action u'${action}'`);
    }
  }

  /** `PermissionError` when the component exists in a private project the user has no access to. */
  #mayChangeComponent(access: Access, componentId: string, what: string): void {
    const component = this.graph.byKey("Component", componentId);
    if (component !== undefined) access.mayChange(component, what);
  }

  #track(job: Promise<void>): void {
    const tracked = job.finally(() => this.#jobs.delete(tracked));
    this.#jobs.add(tracked);
  }

  /** Runs writes of the tracker itself (jobs) as one batch, announced like any other. */
  writeAsServer<T>(work: (writer: Writer) => T): T {
    const user = this.graph.lookup("User", "username", this.apiUser)![0]!;
    const writer = new Writer(this.graph, { userId: String(user.id), administrator: true });
    const { result, changes } = this.store.transaction(() => {
      const value = work(writer);
      writer.finish();
      return value;
    });
    this.#forgetPrivateProjects(changes);
    if (changes.length > 0) this.#announce(changes, { user, baseUrl: "" });
    return result;
  }

  #announce(changes: RowChange[], context: CallContext): void {
    // Describing every changed row costs on each write batch: only when someone can receive it.
    if (!this.hub.hasAudience) return;
    const described = changes.flatMap((change) =>
      this.#describe(change).map((entity) => ({ entity, row: change.after ?? change.before! }))
    );
    if (described.length === 0) return;
    const data = (entities: Array<Record<string, unknown>>) => ({
      entities,
      parents: [
        ...new Set(
          entities.flatMap((entity) => (entity.parents as Array<{ entityId: string }>).map((p) => p.entityId)),
        ),
      ],
      user: {
        userid: context.user.id,
        name: `${context.user.first_name ?? ""} ${context.user.last_name ?? ""}`.trim() || context.user.username,
      },
      clientToken: context.clientToken ?? null,
      pushToken: context.pushToken ?? null,
    });
    // Private projects deleted by this batch: no longer found, but still not everyone's news.
    const deletedPrivate = new Set(
      changes.filter((change) =>
        change.after === undefined && change.before?.__type === "Project" && change.before.is_private === true
      ).map((change) => String(change.before!.id)),
    );
    // Each connection hears only of what its user may see (private projects).
    const tailor = (user: HubUser, event: HubEvent): HubEvent | undefined => {
      const access = this.#access(user.id);
      const granted = deletedPrivate.size > 0 && access.role !== "administrator"
        ? this.keys.projectsOf(user.id)
        : undefined;
      const gone = (row: Row) => {
        const project = access.projectIdOf(row);
        return granted !== undefined && project !== null && deletedPrivate.has(project) && !granted.has(project);
      };
      if (access.seesAll && granted === undefined) return event;
      const visible = described.filter(({ row }) =>
        access.sees(row) && !gone(row) && !this.#lostToPrivate(row, access)
      );
      if (visible.length === 0) return undefined;
      return visible.length === described.length ? event : { ...event, data: data(visible.map((d) => d.entity)) };
    };
    this.publish({
      topic: "ftrack.update",
      data: data(described.map((d) => d.entity)),
      source: { id: "ferry.tracker", user: { username: String(context.user.username), id: String(context.user.id) } },
    }, tailor);
  }

  /**
   * Whether a removed row's project can no longer be found (its parents went in the same batch)
   * while it may have been in a private project: told only to users who see every project.
   */
  #lostToPrivate(row: Row, access: Access): boolean {
    if (access.projectIdOf(row) !== null) return false;
    return ["Context", "Asset", "AssetVersion", "Component", "ComponentLocation", "Note", "Metadata"].includes(
      this.graph.typeOf(row).table,
    ) && this.graph.store.get(this.graph.typeOf(row).table, this.graph.keyOf(row)) === undefined;
  }

  /** One `ftrack.update` entry per changed row, in the legacy shape event handlers read. */
  #describe(change: RowChange): Record<string, unknown>[] {
    const row = change.after ?? change.before!;
    if (change.table === "CustomAttributeValue") {
      const owner = this.#ownerOf(String(row.entity_id));
      if (owner === undefined) return [];
      const key = String(row.key);
      return [
        this.#entry(owner, "update", [key], {
          [key]: { old: change.before?.value ?? null, new: change.after?.value ?? null },
        }),
      ];
    }
    const type = this.graph.typeOf(row);
    if (change.before === undefined || change.after === undefined) {
      const action = change.before === undefined ? "add" : "remove";
      const keys = Object.keys(row).filter((name) =>
        !name.startsWith("__") && type.attributes[name]?.kind === "scalar"
      );
      const changes = Object.fromEntries(keys.map((name) => [legacyName(type, name), {
        old: action === "add" ? null : row[name] ?? null,
        new: action === "add" ? row[name] ?? null : null,
      }]));
      return [this.#entry(row, action, keys.map((name) => legacyName(type, name)), changes)];
    }
    const keys = Object.keys({ ...change.before, ...change.after }).filter((name) =>
      !name.startsWith("__") && JSON.stringify(change.before![name]) !== JSON.stringify(change.after![name])
    );
    if (keys.length === 0) return [];
    const changes = Object.fromEntries(
      keys.map((
        name,
      ) => [legacyName(type, name), { old: change.before![name] ?? null, new: change.after![name] ?? null }]),
    );
    const action = keys.includes("parent_id") && type.table === "Context" ? "move" : "update";
    return [this.#entry(change.after, action, keys.map((name) => legacyName(type, name)), changes)];
  }

  #entry(row: Row, action: string, keys: string[], changes: Record<string, unknown>): Record<string, unknown> {
    const type = this.graph.typeOf(row);
    const describe = (entity: Row) => ({
      entityId: entity.id,
      entityType: this.graph.typeOf(entity).legacy,
      entity_type: entity.__type,
      parentId: entity.parent_id ?? entity.context_id ?? entity.asset_id ?? null,
    });
    // Concatenated, not pushed as arguments: a hierarchy can be deeper than the call stack allows arguments.
    let chain: Row[] = [row];
    if (type.table === "Context") chain = chain.concat(this.graph.parents(row));
    else if (row.__type === "AssetVersion" || row.__type === "Asset") {
      const asset = row.__type === "Asset" ? row : this.graph.byKey("Asset", String(row.asset_id));
      if (asset && row !== asset) chain.push(asset);
      const context = asset ? this.graph.byKey("Context", String(asset.context_id)) : undefined;
      if (context) chain = chain.concat([context], this.graph.parents(context));
    }
    return {
      action,
      entityId: row.id ?? this.graph.keyOf(row),
      entityType: type.legacy,
      entity_type: row.__type,
      objectTypeId: row.object_type_id ?? null,
      parentId: row.parent_id ?? row.context_id ?? row.asset_id ?? row.version_id ?? null,
      keys,
      changes,
      parents: chain.map(describe),
    };
  }

  #ownerOf(id: string): Row | undefined {
    for (const typeId of ["Context", "AssetVersion", "Asset", "User", "List"]) {
      const row = this.graph.byKey(typeId, id);
      if (row) return row;
    }
    return undefined;
  }
}

/** How many completed multi-part uploads a tracker remembers (their completions may be sent again). */
const MAX_COMPLETED_UPLOADS = 10_000;

/** Actions that change data: refused to read-only users. */
const WRITES: ReadonlySet<string> = new Set([
  "create",
  "update",
  "delete",
  "get_upload_metadata",
  "ferry_reuse_component_data",
  "complete_multipart_upload",
  "encode_media",
]);

/** The error object of a failed call. */
export function errorObject(error: TrackerError): { exception: string; content: string; error_code: null } {
  return { exception: error.exception, content: error.message, error_code: null };
}
