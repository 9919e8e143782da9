import { deepEqual, equal, ok, throws } from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { EntityStore, type Row } from "./entity_store.ts";

async function tempFolder(): Promise<AsyncDisposable & { path: string }> {
  const path = await mkdtemp(join(tmpdir(), "ferry-entity-store-"));
  return { path, [Symbol.asyncDispose]: () => rm(path, { recursive: true, force: true }) };
}

/** The rows of a table as plain data without `__seq`, in creation order. */
function contents(store: EntityStore, table: string): Array<Record<string, unknown>> {
  return [...store.rows(table)].map(({ __seq: _seq, ...row }) => row);
}

Deno.test("EntityStore keeps inserts (many in one batch), updates, removals and a row removed and made again in one batch across a reopen", async () => {
  await using folder = await tempFolder();
  const path = join(folder.path, "tracker.sqlite");
  const first = new EntityStore(path);
  first.transaction(() => {
    for (let i = 0; i < 150; i++) first.insert("Context", `c${i}`, { __type: "Shot", id: `c${i}`, name: `sh${i}` });
  });
  first.transaction(() => {
    first.update("Context", "c3", { name: "renamed", description: "new" });
    first.remove("Context", "c4");
    // Removed and made again: it moves to the end of the creation order, and is stored once.
    first.remove("Context", "c5");
    first.insert("Context", "c5", { __type: "Sequence", id: "c5", name: "again" });
    first.insert("Context", "c150", { __type: "Shot", id: "c150", name: "sh150" });
  });
  const expected = contents(first, "Context");
  equal(expected.length, 150);
  equal(expected.at(-2)!.id, "c5");
  first.close();

  const second = new EntityStore(path);
  deepEqual(contents(second, "Context"), expected);
  deepEqual([...second.lookup("Context", "parent_id", "none") ?? []], []);
  const row = second.get("Context", "c3")!;
  equal(row.description, "new");
  // New rows made after the reopen come after every loaded one.
  second.transaction(() => second.insert("Context", "late", { __type: "Shot", id: "late", name: "late" }));
  equal([...second.rows("Context")].at(-1)!.id, "late");
  second.close();
  const third = new EntityStore(path);
  equal([...third.rows("Context")].at(-1)!.id, "late");
  equal(third.count("Context"), 151);
  third.close();
});

Deno.test("EntityStore moves a database of an earlier ferry (table 'entities') over in creation order, note labels merged", async () => {
  await using folder = await tempFolder();
  const path = join(folder.path, "tracker.sqlite");
  const old = new DatabaseSync(path);
  old.exec(`
    CREATE TABLE entities (
      tbl TEXT NOT NULL, key TEXT NOT NULL, type TEXT NOT NULL, seq INTEGER NOT NULL, data TEXT NOT NULL,
      PRIMARY KEY (tbl, key)
    );
    CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    INSERT INTO settings VALUES ('api_user', 'kept');
  `);
  const insert = old.prepare("INSERT INTO entities (tbl, key, type, seq, data) VALUES (?, ?, ?, ?, ?)");
  // Inserted out of order, with two rows sharing a seq: the order is by seq, then by insertion.
  insert.run("Context", "b", "Shot", 7, JSON.stringify({ id: "b", name: "second" }));
  insert.run("Context", "a", "Shot", 3, JSON.stringify({ id: "a", name: "first" }));
  insert.run("Context", "c", "Shot", 7, JSON.stringify({ id: "c", name: "third" }));
  insert.run("NoteCategory", "n1", "NoteCategory", 1, JSON.stringify({ id: "n1", name: "category" }));
  insert.run("NoteLabel", "n1", "NoteLabel", 2, JSON.stringify({ id: "n1", name: "duplicate of n1" }));
  insert.run("NoteLabel", "n2", "NoteLabel", 4, JSON.stringify({ id: "n2", name: "label" }));
  old.close();

  const store = new EntityStore(path);
  deepEqual(contents(store, "Context").map((row) => row.name), ["first", "second", "third"]);
  deepEqual(contents(store, "NoteCategory").map((row) => row.name), ["category", "label"]);
  equal(store.setting("api_user"), "kept");
  const seqs = [...store.rows("Context")].map((row) => row.__seq);
  equal(new Set(seqs).size, 3);
  store.transaction(() => store.update("Context", "c", { name: "changed" }));
  store.close();

  const database = new DatabaseSync(path);
  const tables = database.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all();
  deepEqual(tables.map((table) => table.name), ["entity_rows", "settings"]);
  database.close();
  const reopened = new EntityStore(path);
  deepEqual(contents(reopened, "Context").map((row) => row.name), ["first", "second", "changed"]);
  reopened.close();

  // An earlier ferry opening the moved database fails loudly at its first write rather than
  // starting on an empty table of its own.
  const earlier = new DatabaseSync(path);
  earlier.exec(`CREATE TABLE IF NOT EXISTS entities (
    tbl TEXT NOT NULL, key TEXT NOT NULL, type TEXT NOT NULL, seq INTEGER NOT NULL, data TEXT NOT NULL,
    PRIMARY KEY (tbl, key)
  )`);
  throws(
    () => earlier.exec("DELETE FROM entities WHERE tbl = 'NoteLabel'"),
    /cannot modify entities because it is a view/,
  );
  equal(earlier.prepare("SELECT count(*) AS n FROM entities WHERE tbl = 'Context'").get()?.n, 3);
  earlier.close();
});

Deno.test("EntityStore.transaction leaves memory as the database holds it when storing the batch fails", async () => {
  await using folder = await tempFolder();
  const path = join(folder.path, "tracker.sqlite");
  const store = new EntityStore(path);
  store.transaction(() =>
    store.insert("Context", "kept", { __type: "Shot", id: "kept", name: "before", parent_id: "p" })
  );
  const held: Row = store.get("Context", "kept")!;
  // The disk refuses the next write (a full disk, a read-only file).
  store.database.exec(`CREATE TRIGGER refuse BEFORE INSERT ON entity_rows BEGIN SELECT RAISE(ABORT, 'disk full'); END`);
  throws(
    () =>
      store.transaction(() => {
        store.update("Context", "kept", { name: "after", parent_id: "q" });
        store.insert("Context", "lost", { __type: "Shot", id: "lost", name: "lost" });
      }),
    /disk full/,
  );
  equal(store.get("Context", "lost"), undefined);
  equal(store.get("Context", "kept"), held);
  equal(held.name, "before");
  deepEqual([...store.lookup("Context", "parent_id", "p")!].map((row) => row.id), ["kept"]);
  equal(store.lookup("Context", "parent_id", "q")!.size, 0);
  store.database.exec("DROP TRIGGER refuse");
  store.transaction(() => store.insert("Context", "next", { __type: "Shot", id: "next", name: "next" }));
  store.close();
  const reopened = new EntityStore(path);
  deepEqual(contents(reopened, "Context").map((row) => [row.id, row.name]), [["kept", "before"], ["next", "next"]]);
  ok(reopened.get("Context", "lost") === undefined);
  reopened.close();
});
