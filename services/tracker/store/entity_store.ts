import { DatabaseSync, type StatementSync } from "node:sqlite";
import { indexedColumns } from "../schema/catalog.ts";
import { ENTITY_TYPES } from "../schema/definitions.ts";

/** A stored entity: its concrete type, creation order and attribute values. */
export interface Row {
  __type: string;
  __seq: number;
  [attribute: string]: unknown;
}

/** The key of a row from its primary-key values. */
export function rowKey(values: readonly unknown[]): string {
  return values.length === 1 ? String(values[0]) : JSON.stringify(values.map((value) => String(value)));
}

/** One table's rows and indexes. */
class Table {
  readonly rows = new Map<string, Row>();
  readonly indexes = new Map<string, Map<unknown, Set<Row>>>();

  constructor(columns: string[]) {
    for (const column of columns) this.indexes.set(column, new Map());
  }

  index(row: Row): void {
    for (const [column, index] of this.indexes) {
      const value = row[column];
      if (value === undefined || value === null) continue;
      let set = index.get(value);
      if (set === undefined) index.set(value, set = new Set());
      set.add(row);
    }
  }

  unindex(row: Row): void {
    for (const [column, index] of this.indexes) {
      const value = row[column];
      if (value === undefined || value === null) continue;
      const set = index.get(value);
      set?.delete(row);
      if (set?.size === 0) index.delete(value);
    }
  }
}

/** The rows a transaction touched, in the order of their first change, and what each was before. */
interface Undo {
  touched: Array<{ table: string; key: string; before: Row | undefined }>;
  seen: Map<Table, Set<string>>;
}

/** What a committed batch changed, row by row, for `ftrack.update` events. */
export interface RowChange {
  table: string;
  key: string;
  before: Row | undefined;
  after: Row | undefined;
}

/**
 * The embedded tracker's entities: every row in memory (fast queries, indexed by foreign keys and
 * names), each committed batch journalled to SQLite in one transaction, so the state survives
 * restarts and a failed batch leaves nothing behind.
 */
export class EntityStore {
  #tables = new Map<string, Table>();
  #db: DatabaseSync;
  #seq = 0;
  /** The rows a running transaction touched, first touch first, with what they were before it. */
  #undo: Undo | undefined;
  #upsert: StatementSync;
  #delete: StatementSync;

  /** Opens (or creates) the store at `path`; `:memory:` keeps nothing on disk. */
  constructor(path: string) {
    this.#db = new DatabaseSync(path);
    this.#db.exec(`
      PRAGMA journal_mode = WAL;
      PRAGMA synchronous = NORMAL;
      CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    `);
    for (const type of ENTITY_TYPES.values()) {
      if (!this.#tables.has(type.table)) this.#tables.set(type.table, new Table(indexedColumns(type.table)));
    }
    this.#migrate();
    this.#guardAgainstOlderFerry();
    const load = this.#db.prepare("SELECT seq, tbl, key, type, data FROM entity_rows ORDER BY seq");
    for (
      const record of load.iterate() as Iterable<{ tbl: string; key: string; type: string; seq: number; data: string }>
    ) {
      const row: Row = { ...JSON.parse(record.data), __type: record.type, __seq: record.seq };
      const table = this.#table(record.tbl);
      table.rows.set(record.key, row);
      table.index(row);
      this.#seq = Math.max(this.#seq, record.seq);
    }
    this.#upsert = this.#db.prepare(
      "INSERT OR REPLACE INTO entity_rows (seq, tbl, key, type, data) VALUES (?, ?, ?, ?, ?)",
    );
    this.#delete = this.#db.prepare("DELETE FROM entity_rows WHERE seq = ?");
  }

  /**
   * Rows live in `entity_rows`, keyed by their creation order (`seq`, the rowid) alone: the memory
   * knows each row's `seq`, so a write never looks a row up by its key, and new rows are appended
   * instead of landing at random places of a key index (whose pages a batch of random ids would
   * all dirty). A database of an earlier ferry (table `entities`, keyed by table and key) is
   * moved over once, in creation order.
   */
  #migrate(): void {
    const has = (name: string) =>
      this.#db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !== undefined;
    if (has("entity_rows")) return;
    this.#db.exec("BEGIN");
    try {
      this.#db.exec(`CREATE TABLE entity_rows (
        seq INTEGER PRIMARY KEY, tbl TEXT NOT NULL, key TEXT NOT NULL, type TEXT NOT NULL, data TEXT NOT NULL
      )`);
      if (has("entities")) {
        // Note labels share the note categories' table (as on ftrack) since ferry 0.x stored them apart.
        this.#db.exec(`
          DELETE FROM entities WHERE tbl = 'NoteLabel' AND key IN (SELECT key FROM entities WHERE tbl = 'NoteCategory');
          UPDATE entities SET tbl = 'NoteCategory' WHERE tbl = 'NoteLabel';
          INSERT INTO entity_rows (seq, tbl, key, type, data)
            SELECT ROW_NUMBER() OVER (ORDER BY seq, rowid), tbl, key, type, data FROM entities;
          DROP TABLE entities;
        `);
      }
      this.#db.exec("COMMIT");
    } catch (error) {
      this.#db.exec("ROLLBACK");
      throw error;
    }
  }

  /**
   * An earlier ferry keeps its rows in a table `entities` and would make it anew, empty, beside
   * `entity_rows`: a tracker that has lost everything. A read-only view of that name holds it off:
   * its `CREATE TABLE IF NOT EXISTS entities` does nothing, and its first write at start fails
   * loudly ("cannot modify entities because it is a view") instead.
   */
  #guardAgainstOlderFerry(): void {
    this.#db.exec("CREATE VIEW IF NOT EXISTS entities AS SELECT tbl, key, type, seq, data FROM entity_rows");
  }

  /** The underlying database, for the tracker's own small tables (users' keys, files). */
  get database(): DatabaseSync {
    return this.#db;
  }

  /** A stored setting, or undefined. */
  setting(key: string): string | undefined {
    const found = this.#db.prepare("SELECT value FROM settings WHERE key = ?").get(key) as
      | { value: string }
      | undefined;
    return found?.value;
  }

  /** Stores a setting. */
  setSetting(key: string, value: string): void {
    this.#db.prepare("INSERT OR REPLACE INTO settings (key, value) VALUES (?, ?)").run(key, value);
  }

  /** The row of `table` with this key. */
  get(table: string, key: string): Row | undefined {
    return this.#table(table).rows.get(key);
  }

  /** Every row of a table, in creation order. */
  rows(table: string): Iterable<Row> {
    return this.#table(table).rows.values();
  }

  /** How many rows a table has. */
  count(table: string): number {
    return this.#table(table).rows.size;
  }

  /** The rows whose indexed `column` equals `value`, or undefined when the column is not indexed. */
  lookup(table: string, column: string, value: unknown): Set<Row> | undefined {
    const index = this.#table(table).indexes.get(column);
    if (index === undefined) return undefined;
    return index.get(value) ?? new Set();
  }

  /** Whether `column` of `table` is indexed. */
  isIndexed(table: string, column: string): boolean {
    return this.#table(table).indexes.has(column);
  }

  /** Adds a row; its `__seq` orders it after every existing row. */
  insert(table: string, key: string, row: Omit<Row, "__seq">): Row {
    const target = this.#table(table);
    this.#remember(table, target, key);
    const existing = target.rows.get(key);
    const stored: Row = { ...row, __seq: existing?.__seq ?? ++this.#seq } as Row;
    if (existing) target.unindex(existing);
    target.rows.set(key, stored);
    target.index(stored);
    return stored;
  }

  /** Changes attributes of a row in place (keeping its identity for callers holding it). */
  update(table: string, key: string, changes: Record<string, unknown>): Row {
    const target = this.#table(table);
    const row = target.rows.get(key);
    if (row === undefined) throw new Error(`No row '${key}' in '${table}'`);
    this.#remember(table, target, key);
    target.unindex(row);
    for (const [attribute, value] of Object.entries(changes)) {
      if (value === undefined) delete row[attribute];
      else row[attribute] = value;
    }
    target.index(row);
    return row;
  }

  /** Removes a row. */
  remove(table: string, key: string): void {
    const target = this.#table(table);
    const row = target.rows.get(key);
    if (row === undefined) return;
    this.#remember(table, target, key);
    target.unindex(row);
    target.rows.delete(key);
  }

  /**
   * Runs `work` atomically: if it throws, every row it touched is restored and the error
   * rethrown; otherwise the changed rows are written to SQLite in one transaction and returned.
   * Batches do not nest.
   */
  transaction<T>(work: () => T): { result: T; changes: RowChange[] } {
    if (this.#undo !== undefined) throw new Error("Cannot nest store transactions");
    this.#undo = { touched: [], seen: new Map() };
    let result: T;
    try {
      result = work();
    } catch (error) {
      this.#rollback();
      throw error;
    }
    const undo = this.#undo;
    const changes: RowChange[] = [];
    for (const { table, key, before } of undo.touched) {
      const after = this.#table(table).rows.get(key);
      if (before === undefined && after === undefined) continue;
      changes.push({ table, key, before, after: after ? { ...after } : undefined });
    }
    try {
      this.#persist(changes);
    } catch (error) {
      // Nothing was stored: the memory goes back to what the database holds.
      this.#rollback();
      throw error;
    }
    this.#undo = undefined;
    return { result, changes };
  }

  /** Closes the database. */
  close(): void {
    this.#db.close();
  }

  /**
   * Writes a batch's changes in one SQLite transaction. A row is stored under its `seq`: a row
   * removed and made again in one batch has a new one, so its old record goes.
   */
  #persist(changes: RowChange[]): void {
    if (changes.length === 0) return;
    this.#db.exec("BEGIN");
    try {
      for (const { table, key, before, after } of changes) {
        if (before !== undefined && before.__seq !== after?.__seq) this.#delete.run(before.__seq);
        if (after !== undefined) {
          const { __type, __seq, ...data } = after;
          this.#upsert.run(__seq, table, key, __type, JSON.stringify(data));
        }
      }
      this.#db.exec("COMMIT");
    } catch (error) {
      this.#db.exec("ROLLBACK");
      throw error;
    }
  }

  #remember(table: string, target: Table, key: string): void {
    if (this.#undo === undefined) throw new Error("Store changes must happen inside transaction()");
    // Keys by table rather than joined with it: a key already hashed (it found the row) is not hashed again.
    let seen = this.#undo.seen.get(target);
    if (seen === undefined) this.#undo.seen.set(target, seen = new Set());
    if (seen.has(key)) return;
    seen.add(key);
    const row = target.rows.get(key);
    this.#undo.touched.push({ table, key, before: row ? { ...row } : undefined });
  }

  #rollback(): void {
    const undo = this.#undo!;
    this.#undo = undefined;
    for (const { table, key, before } of undo.touched) {
      const target = this.#table(table);
      const current = target.rows.get(key);
      if (current) target.unindex(current);
      if (before === undefined) {
        target.rows.delete(key);
      } else if (current) {
        // Restore in place, so objects held elsewhere see the old values again.
        for (const attribute of Object.keys(current)) delete current[attribute];
        Object.assign(current, before);
        target.index(current);
      } else {
        const restored = { ...before };
        target.rows.set(key, restored);
        target.index(restored);
      }
    }
  }

  #table(name: string): Table {
    const table = this.#tables.get(name);
    if (table === undefined) throw new Error(`Unknown table '${name}'`);
    return table;
  }
}
