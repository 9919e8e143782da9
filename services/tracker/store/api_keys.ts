/**
 * The tracker's API keys and administrators. Keys are stored as SHA-256 hashes only (a key is
 * shown once, when it is made) and compared in constant time; the API user's start-up key lives
 * in memory only, for as long as the tracker runs.
 *
 * @module
 */
import { createHash, randomUUID, timingSafeEqual } from "node:crypto";
import type { DatabaseSync, StatementSync } from "node:sqlite";

function hashOf(key: string): Buffer {
  return createHash("sha256").update(key, "utf8").digest();
}

/**
 * Users' API keys (hashed) and who administers the tracker, in the tracker's SQLite database.
 * Opening it migrates a database that still holds plain keys: they are hashed and the plain
 * text is wiped from the file.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { DatabaseSync } from "node:sqlite";
 * import { ApiKeys } from "./api_keys.ts";
 *
 * const keys = new ApiKeys(new DatabaseSync(":memory:"));
 * const key = keys.issue("user-1");
 * ok(keys.matches("user-1", key));
 * ok(!keys.matches("user-1", "guess"));
 * ```
 */
export class ApiKeys {
  #db: DatabaseSync;
  #session = new Map<string, Buffer[]>();
  #hashesOf: StatementSync;

  constructor(db: DatabaseSync) {
    this.#db = db;
    db.exec(`
      CREATE TABLE IF NOT EXISTS api_key_hashes (hash BLOB PRIMARY KEY, user_id TEXT NOT NULL);
      CREATE INDEX IF NOT EXISTS api_key_hashes_user ON api_key_hashes (user_id);
      CREATE TABLE IF NOT EXISTS administrators (user_id TEXT PRIMARY KEY);
    `);
    this.#migratePlainKeys();
    // Authentication runs on every request: its statement is prepared once.
    this.#hashesOf = db.prepare("SELECT hash FROM api_key_hashes WHERE user_id = ?");
  }

  /** Stores the hash of `key` for the user (a key given on the command line, say). */
  add(userId: string, key: string): void {
    this.#db.prepare("INSERT OR REPLACE INTO api_key_hashes (hash, user_id) VALUES (?, ?)").run(hashOf(key), userId);
  }

  /** Makes a new key for the user, stores its hash and returns it: the only time it is seen. */
  issue(userId: string): string {
    const key = randomUUID();
    this.add(userId, key);
    return key;
  }

  /** Replaces every stored key of the user with a new one (`reset_remote`); returns it. */
  reset(userId: string): string {
    this.#db.prepare("DELETE FROM api_key_hashes WHERE user_id = ?").run(userId);
    return this.issue(userId);
  }

  /** Makes a key that is valid until this process ends and is never stored; returns it. */
  issueForSession(userId: string): string {
    const key = randomUUID();
    const hashes = this.#session.get(userId) ?? [];
    hashes.push(hashOf(key));
    this.#session.set(userId, hashes);
    return key;
  }

  /** Whether `key` is one of the user's keys (constant-time comparison of hashes). */
  matches(userId: string, key: string): boolean {
    const presented = hashOf(key);
    const stored = (this.#hashesOf.all(userId) as Array<{ hash: Uint8Array }>).map((row) => row.hash);
    let found = false;
    for (const hash of [...stored, ...(this.#session.get(userId) ?? [])]) {
      if (hash.byteLength === presented.byteLength && timingSafeEqual(hash, presented)) found = true;
    }
    return found;
  }

  /** Whether the user has any stored key. */
  hasStoredKey(userId: string): boolean {
    return this.#db.prepare("SELECT 1 FROM api_key_hashes WHERE user_id = ? LIMIT 1").get(userId) !== undefined;
  }

  /** Forgets a user that is gone: its keys and its role. */
  forget(userId: string): void {
    this.#db.prepare("DELETE FROM api_key_hashes WHERE user_id = ?").run(userId);
    this.setAdministrator(userId, false);
    this.#session.delete(userId);
  }

  /** Grants or withdraws administration. */
  setAdministrator(userId: string, administrator: boolean): void {
    if (administrator) this.#db.prepare("INSERT OR IGNORE INTO administrators (user_id) VALUES (?)").run(userId);
    else this.#db.prepare("DELETE FROM administrators WHERE user_id = ?").run(userId);
  }

  /** Whether the user administers the tracker. */
  isAdministrator(userId: string): boolean {
    return this.#db.prepare("SELECT 1 FROM administrators WHERE user_id = ?").get(userId) !== undefined;
  }

  /** Hashes the keys of a database made before keys were hashed, and wipes their plain text. */
  #migratePlainKeys(): void {
    const legacy = this.#db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'api_keys'").get();
    if (legacy === undefined) return;
    const rows = this.#db.prepare("SELECT api_key, user_id FROM api_keys").all() as Array<
      { api_key: string; user_id: string }
    >;
    this.#db.exec("PRAGMA secure_delete = ON; BEGIN");
    try {
      for (const row of rows) this.add(row.user_id, row.api_key);
      this.#db.exec("DROP TABLE api_keys; COMMIT");
    } catch (error) {
      this.#db.exec("ROLLBACK");
      throw error;
    }
    // Freed pages are zeroed (secure_delete), the file rebuilt, and the write-ahead log emptied.
    this.#db.exec("VACUUM; PRAGMA wal_checkpoint(TRUNCATE); PRAGMA secure_delete = OFF");
  }
}
