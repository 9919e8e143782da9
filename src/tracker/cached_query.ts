import type { Session } from "@ftrack/api";
import { type CacheTags, TrackerCache, typeGroup } from "./tracker_cache.ts";

const caches = new WeakMap<object, TrackerCache>();

/**
 * Gives `session` the cache its lookups go through (the bridge gives every job's view of its
 * session the process's cache; the processor a per-event layer). Returns the cache.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import type { Session } from "@ftrack/api";
 * import { trackerCacheOf, useTrackerCache } from "./cached_query.ts";
 * import { TrackerCache } from "./tracker_cache.ts";
 *
 * const session = {} as Session;
 * const cache = useTrackerCache(session, new TrackerCache());
 * ok(trackerCacheOf(session) === cache);
 * ```
 */
export function useTrackerCache(session: Session, cache: TrackerCache): TrackerCache {
  caches.set(session, cache);
  return cache;
}

/**
 * The cache of `session`'s lookups: the one given with {@linkcode useTrackerCache}, else one made
 * for the session at first use (it lives as long as the session; it listens to `ftrack.update`
 * when the session's event hub is connected then).
 */
export function trackerCacheOf(session: Session): TrackerCache {
  let cache = caches.get(session);
  if (!cache) {
    cache = new TrackerCache();
    caches.set(session, cache);
    const hub = (session as { eventHub?: Session["eventHub"] }).eventHub;
    if (hub?.isConnected?.()) cache.listen(hub as never);
  }
  return cache;
}

/** The cache of `session` if it has one (writes through the session invalidate it). */
export function knownTrackerCache(session: object): TrackerCache | undefined {
  return caches.get(session);
}

/** The ids of rows and of the entities they hold one level down (`object_type`, `status`…). */
function idsOf(rows: unknown[]): string[] {
  const ids: string[] = [];
  for (const row of rows) {
    if (row === null || typeof row !== "object") continue;
    for (const [name, value] of Object.entries(row)) {
      if (name === "id" || name.endsWith("_id")) {
        if (typeof value === "string") ids.push(value);
      } else if (value !== null && typeof value === "object" && typeof (value as { id?: unknown }).id === "string") {
        ids.push((value as { id: string }).id);
      }
    }
  }
  return ids;
}

/** Options of {@linkcode cachedQuery}. */
export interface CachedQueryOptions {
  /** Further type groups the answer depends on (the queried type's is always one). */
  types?: string[];
  /** The cache to use. @default {trackerCacheOf(session)} */
  cache?: TrackerCache;
}

/**
 * The rows of a query through the session's cache: remembered (bounded age; dropped when a write
 * through ferry or an `ftrack.update` names the queried type's group or a row's id), else asked.
 * An empty answer is not remembered. Each call gets its own copies of the rows.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import type { Session } from "@ftrack/api";
 * import { cachedQuery } from "./cached_query.ts";
 *
 * let asked = 0;
 * const session = {
 *   query: () => (asked++, Promise.resolve({ data: [{ id: "t1", short: "render" }], metadata: {} })),
 * } as unknown as Session;
 * await cachedQuery(session, 'select id from AssetType where short is "render"');
 * const [row] = await cachedQuery(session, 'select id from AssetType where short is "render"');
 * ok(asked === 1 && row?.id === "t1");
 * ```
 */
export async function cachedQuery<T extends Record<string, unknown> = Record<string, unknown>>(
  session: Session,
  expression: string,
  options: CachedQueryOptions = {},
): Promise<T[]> {
  const cache = options.cache ?? trackerCacheOf(session);
  const tags = (): CacheTags => {
    const type = /\bfrom\s+([A-Za-z_][A-Za-z0-9_]*)/i.exec(expression)?.[1];
    return { types: [...(type ? [typeGroup(type)] : []), ...(options.types ?? [])] };
  };
  const key = `query:${expression}`;
  const rows = await cache.get(key, async () => {
    const data = (await session.query(expression)).data as T[];
    // "Nothing" is not kept: another client may create it any moment, with no id to announce.
    if (data.length === 0) cache.forget(key);
    else cache.tag(key, { ids: idsOf(data) });
    return data;
  }, tags);
  return rows.map((row) => ({ ...row }));
}
