import { Buffer } from "node:buffer";
import postgres from "postgres";
import type { Row, SqlDriver, SqlTx } from "./_sql_driver.ts";
import { SqlStore } from "./_sql_store.ts";
import { migrate } from "./migrations.ts";

type Sql = postgres.Sql<Record<string, never>>;
type Tx = postgres.TransactionSql<Record<string, never>>;

/** `?` placeholders → `$1 … $n` (the store's SQL has no `?` inside literals). */
const numbered = (sql: string): string => {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
};

const toParam = (value: unknown): postgres.ParameterOrJSON<never> => {
  if (value === undefined) return null;
  if (value instanceof Uint8Array && !Buffer.isBuffer(value)) {
    return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  }
  return value as postgres.ParameterOrJSON<never>;
};

function wrap(tx: Sql | Tx): SqlTx {
  return {
    all: async (sql, params = []) => [...await tx.unsafe(numbered(sql), params.map(toParam))] as Row[],
    run: async (sql, params = []) => (await tx.unsafe(numbered(sql), params.map(toParam))).count,
  };
}

class PostgresDriver implements SqlDriver {
  readonly dialect = "postgres" as const;
  readonly location: string;
  readonly #sql: Sql;
  readonly #transactions = new WeakMap<SqlTx, Tx>();

  constructor(sql: Sql, location: string) {
    this.#sql = sql;
    this.location = location;
  }

  async transaction<T>(fn: (tx: SqlTx) => Promise<T>, options: { locks?: string[] } = {}): Promise<T> {
    return await this.#sql.begin(async (tx) => {
      const wrapped = wrap(tx);
      this.#transactions.set(wrapped, tx);
      for (const name of options.locks ?? []) await this.lock(wrapped, name);
      return await fn(wrapped);
    }) as T;
  }

  async lock(tx: SqlTx, name: string): Promise<void> {
    await tx.all("SELECT pg_advisory_xact_lock(hashtextextended(?, 0))", [name]);
  }

  read<T>(fn: (tx: SqlTx) => Promise<T>): Promise<T> {
    return fn(wrap(this.#sql));
  }

  async close(): Promise<void> {
    await this.#sql.end({ timeout: 5 });
  }
}

/** Options of {@linkcode openPostgresStore}. */
export interface PostgresStoreOptions {
  /** The schema (namespace) holding ferry's tables; also `?schema=` in the URL. @default {"public"} */
  schema?: string;
  /** Connections in the pool. @default {4} */
  max?: number;
  /** Migrate only up to this schema version (tests of migrations). @default {the newest} */
  migrateTo?: number;
}

/**
 * Opens a pipeline store in a PostgreSQL database (`postgres://user[:password]@host[:port]/db`),
 * for services on several machines, and brings its schema up to date. Enroll serialises on
 * advisory locks, so processors on different machines never hold one job at once and keep order.
 *
 * @example
 * ```ts ignore
 * import { openPostgresStore } from "./postgres_store.ts";
 *
 * await using store = await openPostgresStore("postgres://postgres@127.0.0.1:5432/test?schema=ferry");
 * console.log(await store.schemaVersion());
 * ```
 */
export async function openPostgresStore(url: string, options: PostgresStoreOptions = {}): Promise<SqlStore> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new TypeError(`Cannot open the pipeline store '${url}': not a postgres:// URL`);
  }
  if (parsed.protocol !== "postgres:" && parsed.protocol !== "postgresql:") {
    throw new TypeError(`Cannot open the pipeline store '${url}': not a postgres:// URL`);
  }
  const schema = options.schema ?? parsed.searchParams.get("schema") ?? "public";
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(schema)) {
    throw new TypeError(`Cannot open the pipeline store '${url}': schema '${schema}' is not a plain SQL name`);
  }
  parsed.searchParams.delete("schema");
  const shown = new URL(parsed.href);
  shown.password = "";
  const location = `${shown.href}${schema === "public" ? "" : `${shown.search ? "&" : "?"}schema=${schema}`}`;
  const sql = postgres(parsed.href, {
    max: options.max ?? 4,
    onnotice: () => {},
    connection: { search_path: schema },
    connect_timeout: 5,
  }) as unknown as Sql;
  try {
    if (schema !== "public") await sql.unsafe(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
    const driver = new PostgresDriver(sql, location);
    await migrate(driver, { target: options.migrateTo });
    return new SqlStore(driver);
  } catch (error) {
    await sql.end({ timeout: 1 });
    if ((error as { name?: string }).name === "StoreVersionError") throw error;
    throw new Error(`Cannot open the pipeline store at '${location}': ${(error as Error).message}`, { cause: error });
  }
}
