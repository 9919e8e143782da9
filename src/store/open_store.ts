import { existsSync } from "node:fs";
import { join } from "node:path";
import type { PipelineStore } from "./pipeline_store.ts";
import { openPostgresStore } from "./postgres_store.ts";
import { openSqliteStore } from "./sqlite_store.ts";

/** Options of {@linkcode openStore}. */
export interface OpenStoreOptions {
  /** Migrate only up to this schema version (tests of migrations). @default {the newest} */
  migrateTo?: number;
  /** Make a SQLite store that does not exist yet; when false, a missing file is an error. @default {true} */
  create?: boolean;
}

/**
 * The store location services use: `FERRY_STORE` when set, else `<ferryHome>/store.db`.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { storeLocation } from "./open_store.ts";
 *
 * ok(storeLocation({}, "/srv/ferry") === "/srv/ferry/store.db");
 * ok(storeLocation({ FERRY_STORE: "postgres://db/ferry" }, "/srv/ferry") === "postgres://db/ferry");
 * ```
 */
export function storeLocation(env: Record<string, string | undefined>, home: string): string {
  return env.FERRY_STORE || join(home, "store.db");
}

/**
 * Opens the pipeline store at a location: a `postgres://` URL (PostgreSQL), or a file path or
 * `:memory:` (SQLite).
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { openStore } from "./open_store.ts";
 *
 * await using store = await openStore(":memory:");
 * ok(store.kind === "sqlite");
 * ```
 */
export function openStore(location: string, options: OpenStoreOptions = {}): Promise<PipelineStore> {
  if (!location) throw new TypeError("Cannot open the pipeline store: no location given");
  if (/^postgres(ql)?:\/\//.test(location)) return openPostgresStore(location, options);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(location)) {
    throw new TypeError(`Cannot open the pipeline store '${location}': use a postgres:// URL or a file path`);
  }
  if (options.create === false && location !== ":memory:" && !existsSync(location)) {
    return Promise.reject(new Error(`There is no pipeline store at '${location}' (give --store or FERRY_STORE)`));
  }
  return openSqliteStore(location, options);
}
