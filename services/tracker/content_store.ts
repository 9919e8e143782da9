/**
 * Component data stored once per distinct content: files named by their SHA-1 under `objects/`,
 * each component linked to one, with a count of the components referring to it. A content's file
 * is removed only when the last component referring to it is released. Contents from
 * `PROBE_MIN_SIZE` also keep their probe (see `src/tracker/content_probe.ts`), by which an uploader
 * finds a large file's possible twin without reading the whole file.
 *
 * @module
 */
import { mkdir, open, rename, rm, stat } from "node:fs/promises";
import type { DatabaseSync, StatementSync } from "node:sqlite";
import { join } from "node:path";
import { PROBE_MIN_SIZE, probeFile } from "../../src/tracker/content_probe.ts";

const SHA1 = /^[0-9a-f]{40}$/;

/** A content the store holds. */
export interface StoredContent {
  sha1: string;
  size: number;
  /** How many components refer to it. */
  refs: number;
  /** Its probe's digest (contents from `PROBE_MIN_SIZE`; undefined until computed). */
  probe?: string;
}

/** What {@linkcode ContentStore.adopt} did with a file. */
export interface Adopted {
  sha1: string;
  size: number;
  /** The content was there already: the given file was removed, nothing more is stored. */
  reused: boolean;
}

function checkSha1(sha1: string): string {
  const hex = String(sha1).toLowerCase();
  if (!SHA1.test(hex)) throw new TypeError(`Cannot use content '${sha1}': it is not a SHA-1 (40 hex digits)`);
  return hex;
}

/**
 * The content-addressed part of the embedded tracker's storage, its records in the tracker's
 * SQLite database (`contents`: sha1, size, refs, probe; `content_links`: component → sha1).
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { createHash } from "node:crypto";
 * import { mkdtemp, rm, writeFile } from "node:fs/promises";
 * import { DatabaseSync } from "node:sqlite";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 * import { ContentStore } from "./content_store.ts";
 *
 * const folder = await mkdtemp(join(tmpdir(), "contents-"));
 * const store = new ContentStore(new DatabaseSync(":memory:"), folder);
 * await writeFile(join(folder, "upload"), "frame");
 * const sha1 = createHash("sha1").update("frame").digest("hex");
 * await store.adopt("c1", join(folder, "upload"), { sha1, size: 5 });
 * ok(await store.link("c2", sha1)); // a second component, nothing sent
 * await store.release("c1");
 * ok(store.pathOf("c2") !== undefined && store.content(sha1)?.refs === 1);
 * await rm(folder, { recursive: true });
 * ```
 */
export class ContentStore {
  readonly #db: DatabaseSync;
  readonly #dir: string;
  /** Adoptions and releases of one content, one after the other (a release's file removal and an adoption's rename must not cross). */
  readonly #locks = new Map<string, Promise<unknown>>();

  constructor(db: DatabaseSync, dir: string) {
    this.#db = db;
    this.#dir = dir;
    db.exec(`CREATE TABLE IF NOT EXISTS contents (
      sha1 TEXT PRIMARY KEY, size INTEGER NOT NULL, refs INTEGER NOT NULL
    )`);
    db.exec(`CREATE TABLE IF NOT EXISTS content_links (
      component_id TEXT PRIMARY KEY, sha1 TEXT NOT NULL REFERENCES contents (sha1)
    )`);
    const columns = db.prepare("PRAGMA table_info(contents)").all() as Array<{ name: string }>;
    if (!columns.some((column) => column.name === "probe")) db.exec("ALTER TABLE contents ADD COLUMN probe TEXT");
    db.exec("CREATE INDEX IF NOT EXISTS contents_by_probe ON contents (size, probe)");
  }

  /** Prepared statements, compiled once per SQL text. */
  readonly #statements = new Map<string, StatementSync>();

  #prepare(sql: string): StatementSync {
    let statement = this.#statements.get(sql);
    if (statement === undefined) this.#statements.set(sql, statement = this.#db.prepare(sql));
    return statement;
  }

  async #exclusive<T>(sha1: string, work: () => Promise<T>): Promise<T> {
    const before = this.#locks.get(sha1) ?? Promise.resolve();
    const mine = before.catch(() => {}).then(work);
    this.#locks.set(sha1, mine);
    try {
      return await mine;
    } finally {
      if (this.#locks.get(sha1) === mine) this.#locks.delete(sha1);
    }
  }

  /** The file of a content (whether or not it is stored). */
  objectPath(sha1: string): string {
    const hex = checkSha1(sha1);
    return join(this.#dir, "objects", hex.slice(0, 2), hex.slice(2));
  }

  /** The content with this SHA-1, if stored. */
  content(sha1: string): StoredContent | undefined {
    const row = this.#prepare("SELECT sha1, size, refs, probe FROM contents WHERE sha1 = ?").get(checkSha1(sha1)) as
      | { sha1: string; size: number; refs: number; probe: string | null }
      | undefined;
    return row
      ? {
        sha1: row.sha1,
        size: Number(row.size),
        refs: Number(row.refs),
        ...(row.probe !== null ? { probe: row.probe } : {}),
      }
      : undefined;
  }

  /**
   * The SHA-1s of stored contents of `size` bytes whose probe is `digest` (candidates: the same
   * size and sampled blocks; only the whole file's SHA-1 says whether one is the same content).
   * Contents of that size stored without a probe (before probes were kept) get theirs first.
   */
  async withProbe(size: number, digest: string): Promise<string[]> {
    if (size < PROBE_MIN_SIZE) return [];
    const missing = this.#prepare("SELECT sha1 FROM contents WHERE size = ? AND probe IS NULL").all(size) as Array<
      { sha1: string }
    >;
    for (const { sha1 } of missing) await this.#fillProbe(sha1, size);
    const rows = this.#prepare("SELECT sha1 FROM contents WHERE size = ? AND probe = ?").all(
      size,
      String(digest).toLowerCase(),
    ) as Array<{ sha1: string }>;
    return rows.map((row) => row.sha1);
  }

  /** How many contents from `PROBE_MIN_SIZE` have no probe yet (see {@linkcode fillProbes}). */
  missingProbes(): number {
    const row = this.#prepare("SELECT count(*) AS n FROM contents WHERE size >= ? AND probe IS NULL").get(
      PROBE_MIN_SIZE,
    ) as { n: number };
    return Number(row.n);
  }

  /**
   * Computes the probes of all contents from `PROBE_MIN_SIZE` stored without one (contents stored
   * before probes were kept); returns how many. Run once by the data folder's layout step.
   */
  async fillProbes(): Promise<number> {
    const rows = this.#prepare("SELECT sha1, size FROM contents WHERE size >= ? AND probe IS NULL").all(
      PROBE_MIN_SIZE,
    ) as Array<{ sha1: string; size: number }>;
    let filled = 0;
    for (const row of rows) if (await this.#fillProbe(row.sha1, Number(row.size))) filled++;
    return filled;
  }

  /** Reads a stored content's sampled blocks and records its probe; false when its file is gone. */
  async #fillProbe(sha1: string, size: number): Promise<boolean> {
    const probe = await probeOfFile(this.objectPath(sha1), size);
    if (probe === undefined) return false;
    this.#prepare("UPDATE contents SET probe = ? WHERE sha1 = ? AND probe IS NULL").run(probe, sha1);
    return true;
  }

  /** The SHA-1 a component's data is, if linked. */
  sha1Of(componentId: string): string | undefined {
    const row = this.#prepare("SELECT sha1 FROM content_links WHERE component_id = ?").get(componentId) as
      | { sha1: string }
      | undefined;
    return row?.sha1;
  }

  /** The file holding a component's data, if linked. */
  pathOf(componentId: string): string | undefined {
    const sha1 = this.sha1Of(componentId);
    return sha1 === undefined ? undefined : this.objectPath(sha1);
  }

  /**
   * Links `componentId` to a content already stored (nothing is sent). False when the store does
   * not hold it. A component linked before is moved to the new content (the old one released).
   */
  async link(componentId: string, sha1: string): Promise<boolean> {
    const hex = checkSha1(sha1);
    const linked = await this.#exclusive(hex, () => Promise.resolve(this.#linkNow(componentId, hex)));
    if (linked === false) return false;
    await this.#releaseFile(linked.released);
    return true;
  }

  /** Removes the file of a content a relink left without references. */
  async #releaseFile(sha1: string | undefined): Promise<void> {
    if (sha1 !== undefined) await this.#exclusive(sha1, () => this.#removeIfUnused(sha1));
  }

  /**
   * Links many components at once, as {@linkcode link} does each: one transaction for all whose
   * content no adoption or release is busy with (the others wait for it, one by one). Answers
   * whether each was linked, in order.
   */
  async linkMany(links: ReadonlyArray<{ componentId: string; sha1: string }>): Promise<boolean[]> {
    const hexes = links.map((item) => checkSha1(item.sha1));
    const answers: boolean[] = new Array(links.length).fill(false);
    const released: string[] = [];
    const busy: number[] = [];
    const db = this.#db;
    db.exec("BEGIN IMMEDIATE");
    try {
      for (let i = 0; i < links.length; i++) {
        // Nothing runs between this check and the commit (no await): no adoption or release crosses.
        if (this.#locks.has(hexes[i]!)) {
          busy.push(i);
          continue;
        }
        const linked = this.#linkIn(links[i]!.componentId, hexes[i]!);
        answers[i] = linked !== false;
        if (linked !== false && linked.released !== undefined) released.push(linked.released);
      }
      db.exec("COMMIT");
    } catch (error) {
      db.exec("ROLLBACK");
      throw error;
    }
    for (const i of busy) answers[i] = await this.link(links[i]!.componentId, hexes[i]!);
    for (const sha1 of released) await this.#releaseFile(sha1);
    return answers;
  }

  /** Links in one transaction; the content a relinked component leaves is released. */
  #linkNow(componentId: string, hex: string): false | { released?: string } {
    const db = this.#db;
    db.exec("BEGIN IMMEDIATE");
    try {
      const linked = this.#linkIn(componentId, hex);
      db.exec(linked === false ? "ROLLBACK" : "COMMIT");
      return linked;
    } catch (error) {
      db.exec("ROLLBACK");
      throw error;
    }
  }

  /** The work of {@linkcode #linkNow}, inside the caller's transaction. */
  #linkIn(componentId: string, hex: string): false | { released?: string } {
    if (this.content(hex) === undefined) return false;
    const previous = this.sha1Of(componentId);
    if (previous !== hex) {
      this.#prepare("INSERT OR REPLACE INTO content_links (component_id, sha1) VALUES (?, ?)").run(componentId, hex);
      this.#prepare("UPDATE contents SET refs = refs + 1 WHERE sha1 = ?").run(hex);
      if (previous !== undefined && this.#unref(previous)) return { released: previous };
    }
    return {};
  }

  /** Removes a content's file unless it was stored again meanwhile. */
  async #removeIfUnused(sha1: string): Promise<void> {
    if (this.content(sha1) === undefined) await rm(this.objectPath(sha1), { force: true });
  }

  /**
   * Stores a received file (verified to have `digests`) as `componentId`'s data: moved to its
   * content's name, or removed when that content is stored already. The probe (contents from
   * `PROBE_MIN_SIZE`) is the one computed as the bytes arrived, or read from the file when not given.
   */
  async adopt(
    componentId: string,
    file: string,
    digests: { sha1: string; size: number; probe?: string | undefined },
  ): Promise<Adopted> {
    const hex = checkSha1(digests.sha1);
    const target = this.objectPath(hex);
    let released: string | undefined;
    const adopted = await this.#exclusive(hex, async () => {
      const linked = this.#linkNow(componentId, hex);
      if (linked !== false) {
        released = linked.released;
        await rm(file, { force: true });
        return { sha1: hex, size: digests.size, reused: true };
      }
      const probe = digests.size < PROBE_MIN_SIZE ? undefined : digests.probe ?? await probeOfFile(file, digests.size);
      await mkdir(join(target, ".."), { recursive: true, mode: 0o700 });
      await rename(file, target);
      this.#prepare("INSERT OR IGNORE INTO contents (sha1, size, refs, probe) VALUES (?, ?, 0, ?)").run(
        hex,
        digests.size,
        probe ?? null,
      );
      const relinked = this.#linkNow(componentId, hex);
      if (relinked !== false) released = relinked.released;
      return { sha1: hex, size: digests.size, reused: false };
    });
    await this.#releaseFile(released);
    return adopted;
  }

  /**
   * Drops a component's link; the content's file is removed when nothing refers to it any more.
   * True when the component was linked.
   */
  async release(componentId: string): Promise<boolean> {
    const sha1 = this.sha1Of(componentId);
    if (sha1 === undefined) return false;
    return await this.#exclusive(sha1, async () => {
      const db = this.#db;
      db.exec("BEGIN IMMEDIATE");
      try {
        if (this.sha1Of(componentId) !== sha1) {
          db.exec("ROLLBACK");
          return false;
        }
        this.#prepare("DELETE FROM content_links WHERE component_id = ?").run(componentId);
        this.#unref(sha1);
        db.exec("COMMIT");
      } catch (error) {
        db.exec("ROLLBACK");
        throw error;
      }
      await this.#removeIfUnused(sha1);
      return true;
    });
  }

  /** One reference fewer; the record goes at zero (true then: its file must go). */
  #unref(sha1: string): boolean {
    this.#prepare("UPDATE contents SET refs = refs - 1 WHERE sha1 = ?").run(sha1);
    const left = this.content(sha1);
    if (left && left.refs <= 0) {
      this.#prepare("DELETE FROM contents WHERE sha1 = ?").run(sha1);
      return true;
    }
    return false;
  }

  /**
   * Moves data stored one file per component (the earlier layout) into the content store:
   * `files` gives each component's file and SHA-1 (computed by the caller when unknown). A second
   * file of a content already stored is removed. Returns the bytes no longer stored twice.
   */
  async migrate(files: Iterable<{ componentId: string; path: string; sha1: string }>): Promise<number> {
    let saved = 0;
    for (const { componentId, path, sha1 } of files) {
      const info = await stat(path).catch(() => undefined);
      if (!info) continue;
      const done = await this.adopt(componentId, path, { sha1, size: info.size });
      if (done.reused) saved += info.size;
    }
    return saved;
  }
}

/** The probe digest of a file of `size` bytes, or undefined when it cannot be read (gone, shorter). */
async function probeOfFile(path: string, size: number): Promise<string | undefined> {
  const handle = await open(path, "r").catch(() => undefined);
  if (handle === undefined) return undefined;
  try {
    return (await probeFile(handle, size)).digest;
  } catch {
    return undefined;
  } finally {
    await handle.close();
  }
}
