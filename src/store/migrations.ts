import type { SqlDriver } from "./_sql_driver.ts";
import { StoreVersionError } from "./store_version_error.ts";

/** One schema step. `{serial}`, `{blob}` are replaced per dialect. */
interface Migration {
  version: number;
  description: string;
  statements: string[];
}

/** Every schema step, in order. Append only: a released step never changes. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: "event log and enroll cursors",
    statements: [
      `CREATE TABLE events (
        seq {serial},
        id TEXT NOT NULL UNIQUE,
        topic TEXT NOT NULL,
        hash TEXT NOT NULL UNIQUE,
        sender TEXT,
        sender_type TEXT,
        project TEXT,
        depends_on TEXT,
        source_seq BIGINT,
        status TEXT NOT NULL CHECK (status IN ('pending', 'in_progress', 'finished', 'failed')),
        retries INTEGER NOT NULL DEFAULT 0,
        payload TEXT NOT NULL,
        description TEXT NOT NULL DEFAULT '',
        error TEXT,
        holder TEXT,
        lease_until BIGINT,
        available_at BIGINT,
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL
      )`,
      "CREATE INDEX events_topic_seq ON events (topic, seq)",
      "CREATE INDEX events_depends_on ON events (depends_on)",
      "CREATE INDEX events_open ON events (topic, source_seq) WHERE status <> 'finished'",
      "CREATE INDEX events_unfinished ON events (status, seq) WHERE status <> 'finished'",
      "CREATE TABLE enroll_cursors (target_topic TEXT PRIMARY KEY, seq BIGINT NOT NULL)",
    ],
  },
  {
    version: 2,
    description: "entities and settings",
    statements: [
      `CREATE TABLE entities (
        id TEXT PRIMARY KEY,
        type TEXT NOT NULL,
        project TEXT NOT NULL,
        parent_id TEXT,
        name TEXT NOT NULL,
        status TEXT,
        assignees TEXT NOT NULL,
        attributes TEXT NOT NULL,
        tracker_id TEXT,
        data TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL
      )`,
      "CREATE INDEX entities_project_type ON entities (project, type)",
      "CREATE INDEX entities_parent ON entities (parent_id)",
      "CREATE INDEX entities_tracker ON entities (tracker_id)",
      `CREATE TABLE settings (
        variant TEXT NOT NULL,
        project TEXT NOT NULL,
        document TEXT NOT NULL,
        updated_at BIGINT NOT NULL,
        PRIMARY KEY (variant, project)
      )`,
    ],
  },
  {
    version: 3,
    description: "custom handler archives",
    statements: [
      `CREATE TABLE handler_archives (
        variant TEXT NOT NULL,
        name TEXT NOT NULL,
        filename TEXT NOT NULL,
        manifest TEXT NOT NULL,
        bytes {blob} NOT NULL,
        size BIGINT NOT NULL,
        added_at BIGINT NOT NULL,
        PRIMARY KEY (variant, name)
      )`,
    ],
  },
  {
    version: 4,
    description: "users",
    statements: [
      `CREATE TABLE users (
        id TEXT PRIMARY KEY,
        username TEXT NOT NULL,
        username_key TEXT NOT NULL UNIQUE,
        email TEXT,
        email_key TEXT,
        first_name TEXT,
        last_name TEXT,
        active INTEGER NOT NULL,
        tracker_id TEXT,
        data TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL
      )`,
      "CREATE INDEX users_email ON users (email_key)",
      "CREATE INDEX users_tracker ON users (tracker_id)",
    ],
  },
];

/** The newest schema version this ferry knows. */
export const SCHEMA_VERSION: number = MIGRATIONS[MIGRATIONS.length - 1]!.version;

/**
 * Brings a store to `target` (the newest version by default), one transaction per step; a store
 * of a newer version is refused with a {@linkcode StoreVersionError}. Resolves to the version.
 */
export async function migrate(driver: SqlDriver, options: { target?: number } = {}): Promise<number> {
  const { target = SCHEMA_VERSION } = options;
  const words = driver.dialect === "sqlite"
    ? { serial: "INTEGER PRIMARY KEY AUTOINCREMENT", blob: "BLOB" }
    : { serial: "BIGSERIAL PRIMARY KEY", blob: "BYTEA" };
  return await driver.transaction(async (tx) => {
    await tx.run("CREATE TABLE IF NOT EXISTS ferry_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)");
    const rows = await tx.all("SELECT value FROM ferry_meta WHERE key = 'schema_version'");
    let version = rows.length === 0 ? 0 : Number(rows[0]!.value);
    if (version > SCHEMA_VERSION) throw new StoreVersionError(driver.location, version, SCHEMA_VERSION);
    for (const migration of MIGRATIONS) {
      if (migration.version <= version || migration.version > target) continue;
      for (const statement of migration.statements) {
        await tx.run(statement.replaceAll("{serial}", words.serial).replaceAll("{blob}", words.blob));
      }
      version = migration.version;
      await tx.run(
        "INSERT INTO ferry_meta (key, value) VALUES ('schema_version', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [String(version)],
      );
    }
    return version;
  }, { locks: ["ferry.migrate"] });
}
