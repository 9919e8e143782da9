/**
 * The memory layer of tracker reads: lookups (entities by id, context paths, asset types,
 * locations, statuses) remembered for a bounded age, dropped when a write through ferry or an
 * `ftrack.update` event names what they hold. Layers stack: a per-event layer in front of a
 * per-process one.
 *
 * @module
 */

/** What an entry depends on: entity ids and entity type groups (see {@linkcode typeGroup}). */
export interface CacheTags {
  ids?: Iterable<string>;
  types?: Iterable<string>;
}

/** Options of {@linkcode TrackerCache}. */
export interface TrackerCacheOptions {
  /**
   * The oldest an entry may be, in milliseconds: a lookup never returns data loaded longer ago.
   * @default {30000}
   */
  maxAgeMs?: number;
  /** The clock (milliseconds). @default {Date.now} */
  now?: () => number;
  /** The layer behind this one: misses here are asked there, invalidations here reach it. */
  parent?: TrackerCache;
  /** Most entries kept; the oldest go first. @default {10000} */
  maxEntries?: number;
}

/** Hits and misses of one layer. */
export interface CacheStats {
  hits: number;
  misses: number;
  invalidated: number;
}

interface Entry {
  at: number;
  value: Promise<unknown>;
  ids: Set<string>;
  types: Set<string>;
}

/** Entity types whose rows are not contexts (a write to them leaves context lookups alone). */
const NOT_CONTEXT = new Set([
  "asset",
  "assetversion",
  "assettype",
  "component",
  "filecomponent",
  "sequencecomponent",
  "containercomponent",
  "componentlocation",
  "location",
  "metadata",
  "meta",
  "note",
  "status",
  "user",
  "appointment",
  "timelog",
  "list",
  "listobject",
  "customattributevalue",
  "contextcustomattributevalue",
  "assetversionlink",
  "typedcontextlink",
  "review",
  "reviewsession",
  "reviewsessionobject",
  "priority",
  "type",
  "objecttype",
  "projectschema",
  "dependency",
  "typedcontextdependency",
  "event",
  "job",
]);

/**
 * The group an entity type's changes invalidate: `context` for projects and every typed context
 * (`Project`, `Shot`, `Task`, a studio's own types, and the legacy event names `show` and
 * `task`), the lower-cased type otherwise (`FileComponent` → `component`, `Meta` → `metadata`).
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { typeGroup } from "./tracker_cache.ts";
 *
 * ok(typeGroup("Shot") === "context" && typeGroup("show") === "context");
 * ok(typeGroup("AssetType") === "assettype" && typeGroup("SequenceComponent") === "component");
 * ```
 */
export function typeGroup(type: string): string {
  const lower = type.toLowerCase();
  if (lower.endsWith("component")) return "component";
  if (lower === "meta") return "metadata";
  return NOT_CONTEXT.has(lower) ? lower : "context";
}

/**
 * A layer of remembered tracker reads. `get(key, load, tags)` returns the remembered value while
 * it is younger than `maxAgeMs` and nothing it depends on changed, else loads it (concurrent
 * lookups of one key share one load; a failed load is not remembered). `invalidate()` drops the
 * entries naming an id or type group; `written()` does so for write operations; `updated()` for
 * the entries of an `ftrack.update` event.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { TrackerCache } from "./tracker_cache.ts";
 *
 * let now = 0;
 * const cache = new TrackerCache({ maxAgeMs: 1000, now: () => now });
 * let loads = 0;
 * const load = () => Promise.resolve(++loads);
 * await cache.get("status:Approved", load, { types: ["status"] });
 * ok((await cache.get("status:Approved", load, { types: ["status"] })) === 1);
 * now = 1001; // older than the bound: loaded again
 * ok((await cache.get("status:Approved", load, { types: ["status"] })) === 2);
 * cache.written([{ action: "update", entity_type: "Status", entity_key: ["s1"] }]);
 * ok((await cache.get("status:Approved", load, { types: ["status"] })) === 3);
 * ```
 */
export class TrackerCache implements Disposable {
  readonly maxAgeMs: number;
  readonly stats: CacheStats = { hits: 0, misses: 0, invalidated: 0 };
  readonly #now: () => number;
  readonly #parent: TrackerCache | undefined;
  readonly #maxEntries: number;
  readonly #entries = new Map<string, Entry>();
  readonly #children = new Set<TrackerCache>();
  #unsubscribe: (() => void) | undefined;

  constructor(options: TrackerCacheOptions = {}) {
    const { maxAgeMs = 30_000, now = Date.now, parent, maxEntries = 10_000 } = options;
    if (!(maxAgeMs >= 0)) {
      throw new RangeError(`Cannot make a tracker cache with maxAgeMs '${maxAgeMs}': it must be 0 or more`);
    }
    if (!(maxEntries >= 1)) {
      throw new RangeError(`Cannot make a tracker cache with maxEntries '${maxEntries}': it must be 1 or more`);
    }
    this.maxAgeMs = maxAgeMs;
    this.#now = now;
    this.#parent = parent;
    this.#maxEntries = maxEntries;
    if (parent) parent.#children.add(this);
  }

  /** A layer in front of this one (per event, per job), detached when disposed. */
  layer(options: Omit<TrackerCacheOptions, "parent"> = {}): TrackerCache {
    return new TrackerCache({ maxAgeMs: this.maxAgeMs, now: this.#now, ...options, parent: this });
  }

  /** How many entries this layer holds. */
  get size(): number {
    return this.#entries.size;
  }

  /**
   * The value of `key`: remembered, from the layer behind, or loaded (then remembered with `tags`,
   * which may be given as a function: only called on a miss).
   */
  get<T>(key: string, load: () => Promise<T>, tags: CacheTags | (() => CacheTags) = {}): Promise<T> {
    return this.#lookup(key, load, tags).value as Promise<T>;
  }

  /** The entry of `key`, with when its data was loaded (a layer in front keeps that time). */
  #lookup(key: string, load: () => Promise<unknown>, given: CacheTags | (() => CacheTags)): Entry {
    const found = this.#entries.get(key);
    const now = this.#now();
    if (found && now - found.at <= this.maxAgeMs) {
      this.stats.hits++;
      return found;
    }
    if (found) this.#entries.delete(key);
    this.stats.misses++;
    const tags = typeof given === "function" ? given() : given;
    const behind = this.#parent ? this.#parent.#lookup(key, load, tags) : undefined;
    const value = behind ? behind.value : load();
    const entry: Entry = { at: behind ? behind.at : now, value, ids: new Set(tags.ids), types: new Set(tags.types) };
    this.#entries.set(key, entry);
    value.catch(() => {
      if (this.#entries.get(key) === entry) this.#entries.delete(key);
    });
    if (this.#entries.size > this.#maxEntries) {
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#entries.delete(oldest);
    }
    return entry;
  }

  /** Adds ids an entry depends on once its value is known (the ids of the rows it found). */
  tag(key: string, tags: CacheTags): void {
    const entry = this.#entries.get(key);
    if (entry) {
      for (const id of tags.ids ?? []) entry.ids.add(id);
      for (const type of tags.types ?? []) entry.types.add(type);
    }
    this.#parent?.tag(key, tags);
  }

  /** Drops the entry of `key`, here and behind (an answer not worth keeping, such as "none"). */
  forget(key: string): void {
    this.#entries.delete(key);
    this.#parent?.forget(key);
  }

  /** Drops the entries naming one of `ids` or type groups `types`, here, behind and in front. */
  invalidate(tags: CacheTags): void {
    const ids = new Set(tags.ids);
    const types = new Set(tags.types);
    if (ids.size === 0 && types.size === 0) return;
    this.#root().#drop(ids, types);
  }

  #root(): TrackerCache {
    return this.#parent ? this.#parent.#root() : this;
  }

  #drop(ids: Set<string>, types: Set<string>): void {
    for (const [key, entry] of this.#entries) {
      let hit = false;
      for (const id of entry.ids) if (ids.has(id)) hit = true;
      for (const type of entry.types) if (types.has(type)) hit = true;
      if (hit) {
        this.#entries.delete(key);
        this.stats.invalidated++;
      }
    }
    for (const child of this.#children) child.#drop(ids, types);
  }

  /** Forgets everything (this layer and the ones in front). */
  clear(): void {
    this.#entries.clear();
    for (const child of this.#children) child.clear();
  }

  /** Invalidates what write operations (`create`/`update`/`delete` of the API) touch. */
  written(operations: ReadonlyArray<unknown>): void {
    const ids: string[] = [];
    const types: string[] = [];
    for (const operation of operations) {
      if (operation === null || typeof operation !== "object") continue;
      const { action, entity_type: type, entity_key: key, entity_data: data } = operation as Record<string, unknown>;
      if (action !== "create" && action !== "update" && action !== "delete") continue;
      if (typeof type === "string") types.push(typeGroup(type));
      for (const part of Array.isArray(key) ? key : key === undefined ? [] : [key]) ids.push(String(part));
      const record = (data ?? {}) as Record<string, unknown>;
      for (const name of ["id", "parent_id", "context_id", "project_id", "asset_id", "version_id"]) {
        if (typeof record[name] === "string") ids.push(record[name] as string);
      }
    }
    this.invalidate({ ids, types });
  }

  /** Invalidates what an `ftrack.update` event's entries name (their ids, parents and type groups). */
  updated(event: { topic?: string; data?: unknown }): void {
    if (event.topic !== undefined && event.topic !== "ftrack.update") return;
    const entities = (event.data as { entities?: unknown } | undefined)?.entities;
    if (!Array.isArray(entities)) return;
    const ids: string[] = [];
    const types: string[] = [];
    for (const entry of entities) {
      if (entry === null || typeof entry !== "object") continue;
      const { entityId, parentId, entityType, entity_type: modern } = entry as Record<string, unknown>;
      if (typeof entityId === "string") ids.push(entityId);
      if (typeof parentId === "string") ids.push(parentId);
      if (typeof entityType === "string") types.push(typeGroup(entityType));
      if (typeof modern === "string") types.push(typeGroup(modern));
    }
    this.invalidate({ ids, types });
  }

  /**
   * Listens to `ftrack.update` on an event hub (the official client's), invalidating what other
   * clients change. Returns how to stop; disposing the cache stops too.
   */
  listen(hub: HubLike): () => void {
    this.#unsubscribe?.();
    const id = hub.subscribe("topic=ftrack.update", (event) => {
      const data = typeof event.getData === "function" ? event.getData() : event;
      this.updated(data as { topic?: string; data?: unknown });
    });
    const stop = () => {
      if (this.#unsubscribe !== stop) return;
      this.#unsubscribe = undefined;
      try {
        hub.unsubscribe(id);
      } catch {
        // the hub is gone already
      }
    };
    this.#unsubscribe = stop;
    return stop;
  }

  /** Detaches this layer from the one behind and stops listening. */
  [Symbol.dispose](): void {
    this.#unsubscribe?.();
    if (this.#parent) this.#parent.#children.delete(this);
    this.#entries.clear();
  }
}

/** The part of the official client's event hub the cache listens with. */
export interface HubLike {
  subscribe(subscription: string, callback: (event: { getData?: () => unknown }) => unknown): string;
  unsubscribe(id: string): unknown;
}
