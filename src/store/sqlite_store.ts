import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { DatabaseSync, type SQLInputValue } from "node:sqlite";
import type { Row, SqlDriver, SqlTx } from "./_sql_driver.ts";
import { SqlStore } from "./_sql_store.ts";
import { migrate } from "./migrations.ts";

const toParam = (value: unknown): SQLInputValue => {
  if (value === undefined) return null;
  if (typeof value === "boolean") return value ? 1 : 0;
  return value as SQLInputValue;
};

/**
 * Work queues by file: node:sqlite is synchronous, so two connections of one process to one file
 * must take turns in JavaScript (a connection waiting for the other's write lock would block the
 * thread the other needs to finish). Other processes wait on SQLite's own lock.
 */
const queues = new Map<string, { tail: Promise<unknown>; users: number }>();

/** The SQLite driver: one connection, WAL, every statement in turn (node:sqlite is synchronous). */
class SqliteDriver implements SqlDriver {
  readonly dialect = "sqlite" as const;
  readonly location: string;
  readonly #db: DatabaseSync;
  readonly #queue: { tail: Promise<unknown>; users: number };
  readonly #statements = new Map<string, ReturnType<DatabaseSync["prepare"]>>();
  readonly #tx: SqlTx;

  constructor(path: string, busyTimeoutMs: number) {
    this.location = path;
    if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
    this.#db = new DatabaseSync(path);
    const key = path === ":memory:" ? Symbol() as unknown as string : path;
    this.#queue = queues.get(key) ?? { tail: Promise.resolve(), users: 0 };
    this.#queue.users++;
    if (path !== ":memory:") queues.set(key, this.#queue);
    this.#db.exec(`PRAGMA busy_timeout = ${busyTimeoutMs}`);
    if (path !== ":memory:") this.#db.exec("PRAGMA journal_mode = WAL");
    this.#db.exec("PRAGMA synchronous = NORMAL");
    // Checkpoints (which sync the file) every ~40 MB of log rather than every 4 MB: the event log
    // commits often and small; the log file is cut back to 64 MB after each.
    this.#db.exec("PRAGMA wal_autocheckpoint = 10000");
    this.#db.exec("PRAGMA journal_size_limit = 67108864");
    const prepare = (sql: string) => {
      let statement = this.#statements.get(sql);
      if (statement === undefined) {
        statement = this.#db.prepare(sql);
        if (this.#statements.size > 500) this.#statements.clear();
        this.#statements.set(sql, statement);
      }
      return statement;
    };
    this.#tx = {
      all: (sql, params = []) => Promise.resolve(prepare(sql).all(...params.map(toParam)) as Row[]),
      run: (sql, params = []) => Promise.resolve(Number(prepare(sql).run(...params.map(toParam)).changes)),
    };
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.#queue.tail.then(fn);
    this.#queue.tail = result.catch(() => {});
    return result;
  }

  transaction<T>(fn: (tx: SqlTx) => Promise<T>): Promise<T> {
    return this.#serial(async () => {
      this.#db.exec("BEGIN IMMEDIATE");
      try {
        const result = await fn(this.#tx);
        this.#db.exec("COMMIT");
        return result;
      } catch (error) {
        if (this.#db.isTransaction) this.#db.exec("ROLLBACK");
        throw error;
      }
    });
  }

  lock(): Promise<void> {
    return Promise.resolve();
  }

  read<T>(fn: (tx: SqlTx) => Promise<T>): Promise<T> {
    return this.#serial(() => fn(this.#tx));
  }

  close(): Promise<void> {
    return this.#serial(() => {
      if (this.#db.isOpen) {
        this.#db.close();
        if (--this.#queue.users === 0) queues.delete(this.location);
      }
      return Promise.resolve();
    });
  }
}

/** Options of {@linkcode openSqliteStore}. */
export interface SqliteStoreOptions {
  /** Milliseconds a write waits for another process's write lock. @default {10000} */
  busyTimeoutMs?: number;
  /** Migrate only up to this schema version (tests of migrations). @default {the newest} */
  migrateTo?: number;
}

/**
 * Opens (creating it when missing) a pipeline store in a SQLite file, in WAL mode so several
 * processes on one machine share it, and brings its schema up to date.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { openSqliteStore } from "./sqlite_store.ts";
 *
 * await using store = await openSqliteStore(":memory:");
 * const first = await store.dispatch({ topic: "tracker.leech", hash: "event-1", payload: { n: 1 } });
 * const again = await store.dispatch({ topic: "tracker.leech", hash: "event-1" });
 * ok(!first.duplicate && again.duplicate && again.event.id === first.event.id);
 * ```
 */
export async function openSqliteStore(path: string, options: SqliteStoreOptions = {}): Promise<SqlStore> {
  const { busyTimeoutMs = 10_000, migrateTo } = options;
  const driver = new SqliteDriver(path, busyTimeoutMs);
  try {
    await migrate(driver, { target: migrateTo });
  } catch (error) {
    await driver.close();
    throw error;
  }
  return new SqlStore(driver);
}
