/**
 * The tracker's API keys, security roles and access to private projects. Keys are stored as SHA-256 hashes only (a key is
 * shown once, when it is made) and compared in constant time; the API user's start-up key lives
 * in memory only, for as long as the tracker runs.
 *
 * @module
 */
import { createHash, randomUUID, timingSafeEqual } from "node:crypto";
import type { DatabaseSync, StatementSync } from "node:sqlite";

/** A user's security role: administrator, normal user, or read-only API user. */
export type SecurityRole = "administrator" | "user" | "read_only";

/** How many times the roles or project access kept in each database changed (by this process). */
const roleGenerations = new WeakMap<DatabaseSync, number>();

/**
 * A number that changes whenever a security role or a private-project access kept in `db` changes
 * through {@linkcode ApiKeys} in this process: what is derived from them can be kept until it moves.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { DatabaseSync } from "node:sqlite";
 * import { ApiKeys, roleGeneration } from "./api_keys.ts";
 *
 * const db = new DatabaseSync(":memory:");
 * const keys = new ApiKeys(db);
 * const before = roleGeneration(db);
 * keys.setRole("user-1", "administrator");
 * ok(roleGeneration(db) !== before);
 * ```
 */
export function roleGeneration(db: DatabaseSync): number {
  return roleGenerations.get(db) ?? 0;
}

function changedRoles(db: DatabaseSync): void {
  roleGenerations.set(db, roleGeneration(db) + 1);
}

/** Every role other than `user` (the default) by user id, and every private-project access, as stored. */
export interface RoleAssignments {
  roles: Map<string, Exclude<SecurityRole, "user">>;
  /** Project ids by user id. */
  projects: Map<string, string[]>;
}

/**
 * Reads the roles and private-project accesses {@linkcode ApiKeys} keeps in `db` (nothing when
 * its tables are not made yet).
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { DatabaseSync } from "node:sqlite";
 * import { ApiKeys, readRoleAssignments } from "./api_keys.ts";
 *
 * const db = new DatabaseSync(":memory:");
 * const keys = new ApiKeys(db);
 * keys.setRole("u1", "read_only");
 * keys.setProjectAccess("p1", "u1", true);
 * const read = readRoleAssignments(db);
 * ok(read.roles.get("u1") === "read_only" && read.projects.get("u1")?.[0] === "p1");
 * ```
 */
export function readRoleAssignments(db: DatabaseSync): RoleAssignments {
  const found: RoleAssignments = { roles: new Map(), projects: new Map() };
  const made = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'project_access'").get();
  if (made === undefined) return found;
  for (const row of db.prepare("SELECT user_id FROM read_only_users").all() as Array<{ user_id: string }>) {
    found.roles.set(row.user_id, "read_only");
  }
  for (const row of db.prepare("SELECT user_id FROM administrators").all() as Array<{ user_id: string }>) {
    found.roles.set(row.user_id, "administrator");
  }
  const access = db.prepare("SELECT project_id, user_id FROM project_access ORDER BY rowid").all() as Array<
    { project_id: string; user_id: string }
  >;
  for (const row of access) {
    const projects = found.projects.get(row.user_id) ?? [];
    projects.push(row.project_id);
    found.projects.set(row.user_id, projects);
  }
  return found;
}

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
  /** Statements by their SQL, prepared once: roles and keys are read on every request. */
  #statements = new Map<string, StatementSync>();

  constructor(db: DatabaseSync) {
    this.#db = db;
    db.exec(`
      CREATE TABLE IF NOT EXISTS api_key_hashes (hash BLOB PRIMARY KEY, user_id TEXT NOT NULL);
      CREATE INDEX IF NOT EXISTS api_key_hashes_user ON api_key_hashes (user_id);
      CREATE TABLE IF NOT EXISTS administrators (user_id TEXT PRIMARY KEY);
      CREATE TABLE IF NOT EXISTS read_only_users (user_id TEXT PRIMARY KEY);
      CREATE TABLE IF NOT EXISTS project_access (
        project_id TEXT NOT NULL, user_id TEXT NOT NULL, PRIMARY KEY (project_id, user_id)
      );
      CREATE INDEX IF NOT EXISTS project_access_user ON project_access (user_id);
    `);
    this.#migratePlainKeys();
  }

  #prepared(sql: string): StatementSync {
    let statement = this.#statements.get(sql);
    if (statement === undefined) this.#statements.set(sql, statement = this.#db.prepare(sql));
    return statement;
  }

  /** Stores the hash of `key` for the user (a key given on the command line, say). */
  add(userId: string, key: string): void {
    this.#prepared("INSERT OR REPLACE INTO api_key_hashes (hash, user_id) VALUES (?, ?)").run(hashOf(key), userId);
  }

  /** Makes a new key for the user, stores its hash and returns it: the only time it is seen. */
  issue(userId: string): string {
    const key = randomUUID();
    this.add(userId, key);
    return key;
  }

  /** Replaces every stored key of the user with a new one (`reset_remote`); returns it. */
  reset(userId: string): string {
    this.#prepared("DELETE FROM api_key_hashes WHERE user_id = ?").run(userId);
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
    const stored =
      (this.#prepared("SELECT hash FROM api_key_hashes WHERE user_id = ?").all(userId) as Array<{ hash: Uint8Array }>)
        .map((row) => row.hash);
    let found = false;
    for (const hash of [...stored, ...(this.#session.get(userId) ?? [])]) {
      if (hash.byteLength === presented.byteLength && timingSafeEqual(hash, presented)) found = true;
    }
    return found;
  }

  /** Whether the user has any stored key. */
  hasStoredKey(userId: string): boolean {
    return this.#prepared("SELECT 1 FROM api_key_hashes WHERE user_id = ? LIMIT 1").get(userId) !== undefined;
  }

  /** Forgets a user that is gone: its keys, its role and its access to private projects. */
  forget(userId: string): void {
    this.#prepared("DELETE FROM api_key_hashes WHERE user_id = ?").run(userId);
    this.setRole(userId, "user");
    this.#prepared("DELETE FROM project_access WHERE user_id = ?").run(userId);
    this.#session.delete(userId);
    changedRoles(this.#db);
  }

  /** Grants or withdraws administration (withdrawn, the user is a normal user). */
  setAdministrator(userId: string, administrator: boolean): void {
    if (administrator) this.setRole(userId, "administrator");
    else if (this.isAdministrator(userId)) this.setRole(userId, "user");
  }

  /**
   * Gives the user a security role: `administrator` (everything, every project), `user` (reads
   * and writes what their projects hold) or `read_only` (an API user that may only read).
   */
  setRole(userId: string, role: SecurityRole): void {
    this.#prepared("DELETE FROM administrators WHERE user_id = ?").run(userId);
    this.#prepared("DELETE FROM read_only_users WHERE user_id = ?").run(userId);
    if (role === "administrator") this.#prepared("INSERT INTO administrators (user_id) VALUES (?)").run(userId);
    if (role === "read_only") this.#prepared("INSERT INTO read_only_users (user_id) VALUES (?)").run(userId);
    changedRoles(this.#db);
  }

  /** The user's security role (see {@linkcode setRole}). */
  role(userId: string): SecurityRole {
    if (this.isAdministrator(userId)) return "administrator";
    const readOnly = this.#prepared("SELECT 1 FROM read_only_users WHERE user_id = ?").get(userId);
    return readOnly === undefined ? "user" : "read_only";
  }

  /** Gives or takes a user's access to a private project. */
  setProjectAccess(projectId: string, userId: string, access: boolean): void {
    if (access) {
      this.#prepared("INSERT OR IGNORE INTO project_access (project_id, user_id) VALUES (?, ?)").run(
        projectId,
        userId,
      );
    } else this.#prepared("DELETE FROM project_access WHERE project_id = ? AND user_id = ?").run(projectId, userId);
    changedRoles(this.#db);
  }

  /** The projects the user was given access to. */
  projectsOf(userId: string): Set<string> {
    const rows = this.#prepared("SELECT project_id FROM project_access WHERE user_id = ?").all(userId) as Array<
      { project_id: string }
    >;
    return new Set(rows.map((row) => row.project_id));
  }

  /** Whether the user administers the tracker. */
  isAdministrator(userId: string): boolean {
    return this.#prepared("SELECT 1 FROM administrators WHERE user_id = ?").get(userId) !== undefined;
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
