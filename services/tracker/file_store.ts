import { createHash, randomBytes } from "node:crypto";
import { chmod, copyFile, link, mkdir, readdir, rename, rm, rmdir, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { DatabaseSync, StatementSync } from "node:sqlite";
import { mapLimit } from "../../src/async/map_limit.ts";
import { BufferPool } from "../../src/buffers/buffer_pool.ts";
import { PROBE_MIN_SIZE, ProbeHasher } from "../../src/tracker/content_probe.ts";
import { ContentStore } from "./content_store.ts";
import { PRIVATE_FILE_MODE, PRIVATE_FOLDER_MODE } from "./data_folder.ts";
import { abandonUpload } from "./abandon_upload.ts";
import { GatheredWriter } from "./gathered_writer.ts";
import { ownedTempFolder } from "./owned_temp_folder.ts";
import { TrackerError } from "./schema/catalog.ts";

/** A signed upload URL's promise: which component, how many bytes, which MD5 (when known), for whom. */
interface UploadGrant {
  componentId: string;
  size: number;
  md5Base64: string | undefined;
  expires: number;
  userId: string | undefined;
}

/** Options of {@linkcode FileStore.grant}. */
export interface GrantOptions {
  /** The MD5 (base64) the bytes must have, as the Python client sends it. */
  md5Base64?: string | undefined;
  /** How long the URL stays valid. @default {UPLOAD_TTL_MS} */
  ttlMs?: number;
  /**
   * Who asks: only they (or an administrator) may replace data they stored that no location
   * records yet. Undefined when the tracker itself asks.
   */
  userId?: string;
}

/**
 * What the file store needs to know about the tracker's entities to keep data and records
 * together; the HTTP layer gives it (see `trackerApp`). Without one, no stored data is ever
 * replaced and nothing is swept.
 */
export interface ComponentCatalog {
  /** Whether the component exists (committed). */
  exists(componentId: string): boolean;
  /** Whether a ComponentLocation of `ftrack.server` records the component's data. */
  registered(componentId: string): boolean;
  /** Whether the user administers the tracker. */
  isAdministrator(userId: string): boolean;
}

/** Digests of data received: the SHA-1 always, the MD5 when the upload asked for it. */
export interface StoredDigests {
  sha1: string;
  md5?: string | undefined;
}

/** Why an upload was refused: the HTTP status and a message naming the problem. */
export class UploadError extends Error {
  readonly status: 400 | 403 | 404 | 408 | 409;

  constructor(status: 400 | 403 | 404 | 408 | 409, message: string) {
    super(message);
    this.name = "UploadError";
    this.status = status;
  }
}

/** Size of the buffers that gather the small pieces of a request body into large writes. */
const GATHER_BYTES = 4 * 1024 * 1024;
/** At most this much of one upload waits in memory for the disk before the body is read further. */
const BEHIND_BYTES = 32 * 1024 * 1024;

/**
 * After this many bytes of an upload of announced length, other requests get their turn: a body
 * whose bytes are already buffered is otherwise read on and on while other clients wait hundreds of
 * milliseconds. Not for chunked bodies: with Deno's HTTP server, a chunked body that is not read
 * again at once costs a copy of what is buffered each time, which makes the upload quadratic
 * (measured: 256 MiB from Deno's fetch in 51 s instead of 2 s).
 */
const YIELD_BYTES = 4 * 1024 * 1024;

/** Options of {@linkcode FileStore.receive}. */
export interface ReceiveOptions {
  /**
   * The body's length was announced (`Content-Length`, not chunked): it is safe to let other
   * requests in every few MiB. @default {false}
   */
  fixedLength?: boolean;
}

/** How long a signed upload URL stays valid. */
export const UPLOAD_TTL_MS = 60 * 60 * 1000;

/** Folder (inside the store) of uploads being received; emptied when the store opens. */
const PARTIAL_FOLDER = ".partial";
/**
 * Layout version: 2 names files by the SHA-256 of the component id, private modes; 3 makes each
 * such file a hard link of its content's file in `objects/` (see {@linkcode ContentStore}), so
 * that a content is stored once however many components hold it; 4 records the probe of each
 * content from `PROBE_MIN_SIZE` (computed once for contents stored before).
 */
const LAYOUT = 4;

/** The file name of a component's data: the SHA-256 of its id, so that no two ids share a file. */
function fileNameOf(componentId: string): string {
  const hex = createHash("sha256").update(componentId, "utf8").digest("hex");
  return join(hex.slice(0, 2), hex);
}

/** Layout 1's file name: punctuation folded to `_` (`collide.1` and `collide_1` shared one file). */
function layout1NameOf(componentId: string): string {
  const safe = componentId.replace(/[^A-Za-z0-9_-]/g, "_");
  return join(safe.slice(0, 2) || "__", safe);
}

/**
 * Component data of the `ftrack.server` location: files under the tracker's data folder (0600 in
 * 0700 folders), written once per component through single-use signed upload URLs that check size
 * and MD5, read and removed by component id. Data stored for a component that no location records
 * can be replaced by its uploader or an administrator (a resumed publish), and is swept when it
 * stays unrecorded longer than an upload URL lives.
 */
export class FileStore {
  #db: DatabaseSync;
  #dir: string;
  #grants = new Map<string, UploadGrant>();
  #receiving = new Set<string>();
  #nextSweep = 0;
  /** Gather buffers of finished uploads, reused by the next ones. */
  #buffers = new BufferPool({ minimumBytes: GATHER_BYTES });
  #temporary: boolean;
  #contents: ContentStore;
  /** See {@linkcode ComponentCatalog}; set by the HTTP layer. */
  catalog: ComponentCatalog | undefined;
  /**
   * An upload that sends nothing for this long is abandoned and its partial file removed.
   * @default {300000}
   */
  receiveIdleMs = 5 * 60_000;
  /** Bytes of upload bodies taken in since the store opened (what clients sent, reused content not counted). */
  receivedBytes = 0;

  private constructor(db: DatabaseSync, dir: string, temporary: boolean) {
    this.#db = db;
    this.#dir = dir;
    this.#temporary = temporary;
    this.#contents = new ContentStore(db, dir);
    db.exec(`CREATE TABLE IF NOT EXISTS files (
      component_id TEXT PRIMARY KEY, size INTEGER NOT NULL, md5 TEXT NOT NULL, stored_at TEXT NOT NULL
    )`);
    const columns = db.prepare("PRAGMA table_info(files)").all() as Array<{ name: string }>;
    if (!columns.some((column) => column.name === "sha1")) db.exec("ALTER TABLE files ADD COLUMN sha1 TEXT");
    if (!columns.some((column) => column.name === "stored_by")) db.exec("ALTER TABLE files ADD COLUMN stored_by TEXT");
    db.exec("CREATE INDEX IF NOT EXISTS files_by_sha1 ON files (sha1)");
    db.exec("CREATE TABLE IF NOT EXISTS file_layout (version INTEGER NOT NULL)");
  }

  /** Prepared statements, compiled once per SQL text. */
  readonly #statements = new Map<string, StatementSync>();

  #prepare(sql: string): StatementSync {
    let statement = this.#statements.get(sql);
    if (statement === undefined) this.#statements.set(sql, statement = this.#db.prepare(sql));
    return statement;
  }

  /**
   * Opens the store in `dir`, or in a temporary folder (removed by `close()`) when `dir` is
   * undefined (named after this process; those of processes that are gone are removed). Partial
   * uploads left by a tracker that was killed are removed, and data stored by
   * an older layout is moved to its current name.
   */
  static async open(db: DatabaseSync, dir: string | undefined): Promise<FileStore> {
    const folder = dir ?? await ownedTempFolder("ferry-tracker-files-");
    await mkdir(folder, { recursive: true, mode: PRIVATE_FOLDER_MODE });
    await chmod(folder, PRIVATE_FOLDER_MODE);
    const store = new FileStore(db, folder, dir === undefined);
    await rm(join(folder, PARTIAL_FOLDER), { recursive: true, force: true });
    await mkdir(join(folder, PARTIAL_FOLDER), { mode: PRIVATE_FOLDER_MODE });
    await store.#migrate();
    return store;
  }

  /**
   * Grants one upload of `size` bytes for a component; returns the token of the signed URL.
   * Refused (`ValidationError`) when data recorded in a location is stored for the component
   * already: stored data is written once, and replacing it needs its removal first.
   */
  grant(componentId: string, size: number, md5Base64?: string, options: number | GrantOptions = {}): string {
    const { ttlMs = UPLOAD_TTL_MS, userId } = typeof options === "number" ? { ttlMs: options } : options;
    const now = Date.now();
    if (now >= this.#nextSweep) {
      for (const [other, grant] of this.#grants) if (grant.expires < now) this.#grants.delete(other);
      this.#nextSweep = now + 60_000;
    }
    this.#refuseReplacing(componentId, userId, (message) => new TrackerError("ValidationError", message));
    const token = randomBytes(24).toString("base64url");
    this.#grants.set(token, { componentId, size, md5Base64, expires: now + ttlMs, userId });
    return token;
  }

  /** Throws when `userId` may not (re)store data for the component. */
  #refuseReplacing(componentId: string, userId: string | undefined, error: (message: string) => Error): void {
    const stored = this.#row(componentId);
    if (stored === undefined) return;
    const catalog = this.catalog;
    if (catalog === undefined || catalog.registered(componentId)) {
      throw error(
        `Cannot upload data for component '${componentId}': its data is already stored in ftrack.server (written once); an administrator must remove it first (GET /component/remove).`,
      );
    }
    // No user: the tracker itself (its own jobs and tests) asks.
    const own = userId === undefined || userId === stored.stored_by;
    if (!own && !catalog.isAdministrator(userId)) {
      throw error(
        `Cannot upload data for component '${componentId}': another user stored its data; only they or an administrator may replace it.`,
      );
    }
  }

  /**
   * Receives an upload for a token: the token works once and until it expires; the bytes must
   * match the granted size, and the granted MD5 or a `Content-MD5` sent with them (the MD5 is only
   * computed when one of them asks for it). The SHA-1 of the bytes stored is always computed and
   * returned, so the uploader can check them against its own fingerprint. Nothing is kept from a
   * refused upload. The body is read without waiting for the disk (see {@linkcode GatheredWriter}),
   * so the time taken grows linearly with the size and other requests are answered meanwhile.
   */
  async receive(
    token: string,
    body: ReadableStream<Uint8Array> | null,
    contentMd5: string | undefined,
    options: ReceiveOptions = {},
  ): Promise<StoredDigests> {
    const { fixedLength = false } = options;
    const grant = this.#grants.get(token);
    if (grant === undefined) throw new UploadError(404, "This upload URL is unknown or was already used.");
    this.#grants.delete(token);
    if (grant.expires < Date.now()) throw new UploadError(403, "This upload URL has expired; ask for a new one.");
    const { componentId } = grant;
    this.#refuseReplacing(componentId, grant.userId, (message) => new UploadError(409, message));
    if (this.#receiving.has(componentId)) {
      throw new UploadError(409, `Another upload for component '${componentId}' is in progress.`);
    }
    this.#receiving.add(componentId);
    const partial = join(this.#dir, PARTIAL_FOLDER, `${token.slice(0, 16)}.part`);
    const sha1 = createHash("sha1");
    const md5 = grant.md5Base64 || contentMd5 ? createHash("md5") : undefined;
    // The probe of a large content, taken as its bytes arrive (see `ContentStore.withProbe`).
    const probe = grant.size >= PROBE_MIN_SIZE ? new ProbeHasher(grant.size) : undefined;
    let size = 0;
    let nextYield = fixedLength ? YIELD_BYTES : Infinity;
    let out: Deno.FsFile | undefined;
    let writer: GatheredWriter | undefined;
    const reader = body?.getReader();
    let lastData = Date.now();
    let abandoned = false;
    const watchdog = setInterval(() => {
      if (Date.now() - lastData <= this.receiveIdleMs) return;
      abandoned = true;
      reader?.cancel().catch(() => {});
    }, Math.max(10, Math.min(this.receiveIdleMs / 2, 5_000)));
    try {
      out = await Deno.open(partial, { write: true, createNew: true, mode: PRIVATE_FILE_MODE });
      writer = new GatheredWriter(out, { pool: this.#buffers, bufferBytes: GATHER_BYTES });
      while (reader) {
        const { done, value } = await reader.read();
        if (abandoned) {
          throw new UploadError(408, `No data arrived for ${this.receiveIdleMs / 1000} s: the upload was abandoned.`);
        }
        if (done) break;
        lastData = Date.now();
        size += value.length;
        this.receivedBytes += value.length;
        if (size > grant.size) {
          throw new UploadError(400, `The upload is larger than the ${grant.size} bytes announced.`);
        }
        sha1.update(value);
        md5?.update(value);
        probe?.update(value, size - value.length);
        writer.push(value);
        if (writer.pendingBytes > BEHIND_BYTES) await writer.whenBelow(BEHIND_BYTES / 2);
        if (size >= nextYield) {
          nextYield = size + YIELD_BYTES;
          await new Promise((resolve) => setTimeout(resolve, 0));
        }
      }
      await writer.finish();
      out.close();
      out = undefined;
      if (size !== grant.size) {
        throw new UploadError(400, `The upload has ${size} bytes, but ${grant.size} were announced.`);
      }
      const md5Digest = md5?.digest();
      for (const expected of [grant.md5Base64, contentMd5]) {
        if (expected && expected !== md5Digest?.toString("base64")) {
          throw new UploadError(
            400,
            `The upload's MD5 ${md5Digest?.toString("base64")} does not match the expected ${expected}.`,
          );
        }
      }
      // Recorded (possibly meanwhile) in a location, or replaced by someone else: refuse now.
      this.#refuseReplacing(componentId, grant.userId, (message) => new UploadError(409, message));
      const digests = { sha1: sha1.digest("hex"), md5: md5Digest?.toString("hex") };
      await this.#place(componentId, partial, digests.sha1, size, probe?.digest());
      this.#record(componentId, size, digests, grant.userId);
      return digests;
    } catch (error) {
      await abandonUpload({ reader, writer, file: out, partial });
      throw error;
    } finally {
      clearInterval(watchdog);
      this.#receiving.delete(componentId);
      await writer?.release();
    }
  }

  /**
   * Makes `file` (verified to hold `sha1`) the component's data: its content is stored once (the
   * file moved there, or dropped when the content is stored already) and the component's file is a
   * hard link of it (a copy where the file system has no hard links).
   */
  async #place(componentId: string, file: string, sha1: string, size: number, probe?: string): Promise<void> {
    const final = this.path(componentId);
    await mkdir(dirname(final), { recursive: true, mode: PRIVATE_FOLDER_MODE });
    await this.#contents.adopt(componentId, file, { sha1, size, probe });
    await rm(final, { force: true });
    await linkOrCopy(this.#contents.objectPath(sha1), final);
  }

  /**
   * Gives a component the data of a content stored already, nothing sent (ferry's uploader asks
   * this before sending a file whose fingerprint it knows). False when no such content is stored;
   * refused like an upload when the component's data may not be replaced by `userId`.
   */
  async reuse(componentId: string, sha1: string, userId?: string): Promise<boolean> {
    this.#refuseReplacing(componentId, userId, (message) => new UploadError(409, message));
    const hex = String(sha1).toLowerCase();
    const stored = this.#prepare("SELECT size, md5 FROM files WHERE sha1 = ? LIMIT 1").get(hex) as
      | { size: number; md5: string }
      | undefined;
    if (stored === undefined || !(await this.#contents.link(componentId, hex))) return false;
    const final = this.path(componentId);
    await mkdir(dirname(final), { recursive: true, mode: PRIVATE_FOLDER_MODE });
    await rm(final, { force: true });
    await linkOrCopy(this.#contents.objectPath(hex), final);
    this.#record(componentId, Number(stored.size), { sha1: hex, md5: stored.md5 || undefined }, userId);
    return true;
  }

  /**
   * {@linkcode reuse} for many components at once (one database transaction, folders made once):
   * answers in order whether each was given stored data. Refused as a whole, before anything
   * changes, when any component's data may not be replaced by `userId`.
   */
  async reuseMany(
    requests: ReadonlyArray<{ componentId: string; sha1: string }>,
    userId?: string,
  ): Promise<boolean[]> {
    for (const request of requests) {
      this.#refuseReplacing(request.componentId, userId, (message) => new UploadError(409, message));
    }
    const lookup = this.#prepare("SELECT size, md5 FROM files WHERE sha1 = ? LIMIT 1");
    const known = new Map<string, { size: number; md5: string } | undefined>();
    const candidates: Array<{ index: number; componentId: string; sha1: string; size: number; md5: string }> = [];
    requests.forEach((request, index) => {
      const hex = String(request.sha1).toLowerCase();
      if (!known.has(hex)) known.set(hex, lookup.get(hex) as { size: number; md5: string } | undefined);
      const stored = known.get(hex);
      if (stored !== undefined) {
        candidates.push({
          index,
          componentId: request.componentId,
          sha1: hex,
          size: Number(stored.size),
          md5: stored.md5,
        });
      }
    });
    const answers: boolean[] = new Array(requests.length).fill(false);
    const linked = await this.#contents.linkMany(candidates);
    const placed = candidates.filter((_, i) => linked[i]);
    const folders = new Set(placed.map((candidate) => dirname(this.path(candidate.componentId))));
    await mapLimit([...folders], 16, (folder) => mkdir(folder, { recursive: true, mode: PRIVATE_FOLDER_MODE }));
    await mapLimit(placed, 16, async (candidate) => {
      const final = this.path(candidate.componentId);
      const source = this.#contents.objectPath(candidate.sha1);
      try {
        await link(source, final);
      } catch {
        await rm(final, { force: true });
        await linkOrCopy(source, final);
      }
    });
    this.#db.exec("BEGIN IMMEDIATE");
    try {
      for (const candidate of placed) {
        const md5 = candidate.md5 || undefined;
        this.#record(candidate.componentId, candidate.size, { sha1: candidate.sha1, md5 }, userId);
        answers[candidate.index] = true;
      }
      this.#db.exec("COMMIT");
    } catch (error) {
      this.#db.exec("ROLLBACK");
      throw error;
    }
    return answers;
  }

  /**
   * The components whose data is the content `sha1`, and who stored each (undefined: the tracker
   * itself).
   */
  holders(sha1: string): Array<{ componentId: string; storedBy: string | undefined }> {
    const rows = this.#prepare("SELECT component_id, stored_by FROM files WHERE sha1 = ?").all(
      String(sha1).toLowerCase(),
    ) as Array<{ component_id: string; stored_by: string | null }>;
    return rows.map((row) => ({ componentId: row.component_id, storedBy: row.stored_by ?? undefined }));
  }

  /**
   * The SHA-1s of stored contents of `size` bytes with this probe digest: possibly the same content
   * as a large file the uploader has not read whole (see `ContentStore.withProbe`).
   */
  candidates(size: number, probe: string): Promise<string[]> {
    return this.#contents.withProbe(size, probe);
  }

  /** The probe digest recorded for a stored content (from `PROBE_MIN_SIZE`). */
  probeOf(sha1: string): string | undefined {
    return /^[0-9a-f]{40}$/i.test(sha1) ? this.#contents.content(sha1)?.probe : undefined;
  }

  /** Whether a content is stored (by its SHA-1), and its size. */
  stored(sha1: string): { size: number } | undefined {
    const found = /^[0-9a-f]{40}$/i.test(sha1) ? this.#contents.content(sha1) : undefined;
    return found ? { size: found.size } : undefined;
  }

  #record(componentId: string, size: number, digests: StoredDigests, storedBy: string | undefined): void {
    this.#prepare(
      "INSERT OR REPLACE INTO files (component_id, size, md5, sha1, stored_at, stored_by) VALUES (?, ?, ?, ?, ?, ?)",
    ).run(componentId, size, digests.md5 ?? "", digests.sha1, new Date().toISOString(), storedBy ?? null);
  }

  #row(componentId: string): { stored_at: string; stored_by: string | null } | undefined {
    return this.#prepare("SELECT stored_at, stored_by FROM files WHERE component_id = ?").get(componentId) as
      | { stored_at: string; stored_by: string | null }
      | undefined;
  }

  /** Stores bytes for a component directly (the tracker's own outputs, e.g. encoded media). */
  async write(componentId: string, bytes: Uint8Array): Promise<void> {
    const partial = join(this.#dir, PARTIAL_FOLDER, `${randomBytes(12).toString("hex")}.part`);
    await Deno.writeFile(partial, bytes, { mode: PRIVATE_FILE_MODE });
    const digests = {
      sha1: createHash("sha1").update(bytes).digest("hex"),
      md5: createHash("md5").update(bytes).digest("hex"),
    };
    try {
      await this.#place(componentId, partial, digests.sha1, bytes.length);
    } catch (error) {
      await rm(partial, { force: true });
      throw error;
    }
    this.#record(componentId, bytes.length, digests, undefined);
  }

  /** The user who stored the component's data (undefined: the tracker itself, or no data). */
  storedBy(componentId: string): string | undefined {
    return this.#row(componentId)?.stored_by ?? undefined;
  }

  /** Whether data is stored for the component. */
  has(componentId: string): boolean {
    return this.#row(componentId) !== undefined;
  }

  /** The stored size and digests of a component's data (the MD5 only when it was computed). */
  info(componentId: string): { size: number; sha1?: string; md5?: string } | undefined {
    const row = this.#prepare("SELECT size, md5, sha1 FROM files WHERE component_id = ?").get(componentId) as
      | { size: number; md5: string; sha1: string | null }
      | undefined;
    if (row === undefined) return undefined;
    return {
      size: row.size,
      ...(row.sha1 ? { sha1: row.sha1 } : {}),
      ...(row.md5 ? { md5: row.md5 } : {}),
    };
  }

  /** Where a component's data lives (a name derived from the SHA-256 of its id). */
  path(componentId: string): string {
    return join(this.#dir, fileNameOf(componentId));
  }

  /** Removes a component's data; returns whether there was any. */
  async remove(componentId: string): Promise<boolean> {
    const existed = this.has(componentId);
    this.#prepare("DELETE FROM files WHERE component_id = ?").run(componentId);
    await rm(this.path(componentId), { force: true });
    // The content's own file goes with the last component holding it.
    await this.#contents.release(componentId);
    return existed;
  }

  /**
   * Removes data that no location records and that is older than an upload URL lives (data of a
   * component that was never committed, or whose `ftrack.server` location record was deleted);
   * returns the component ids swept. Needs a {@linkcode catalog}.
   */
  async sweep(now: number = Date.now()): Promise<string[]> {
    const catalog = this.catalog;
    if (catalog === undefined) return [];
    const cutoff = new Date(now - UPLOAD_TTL_MS).toISOString();
    const rows = this.#db.prepare("SELECT component_id FROM files WHERE stored_at < ?").all(cutoff) as Array<
      { component_id: string }
    >;
    const swept: string[] = [];
    for (const { component_id: id } of rows) {
      if (this.#receiving.has(id) || catalog.registered(id)) continue;
      await this.remove(id);
      swept.push(id);
    }
    return swept;
  }

  /** Size on disk of a component's data, or undefined. */
  async size(componentId: string): Promise<number | undefined> {
    if (!this.has(componentId)) return undefined;
    return (await stat(this.path(componentId)).catch(() => undefined))?.size;
  }

  /** Releases the store (a temporary folder is deleted). */
  async close(): Promise<void> {
    if (this.#temporary) await rm(this.#dir, { recursive: true, force: true });
  }

  /**
   * Moves data stored by layout 1 (names with punctuation folded to `_`) to its current name and
   * makes every file private. Where two components shared a layout-1 file, the file goes to the
   * one whose recorded SHA-1 it matches; the other's data was overwritten then, and its record goes.
   */
  async #migrate(): Promise<void> {
    const found = this.#db.prepare("SELECT version FROM file_layout").get() as { version: number } | undefined;
    if (found !== undefined && found.version >= LAYOUT) return;
    if (found === undefined || found.version < 2) await this.#migrateLayout1();
    if (found === undefined || found.version < 3) await this.#migrateToContents();
    // Layout 3 → 4: the probes of contents stored before they were kept (1 MiB read of each).
    const missing = this.#contents.missingProbes();
    if (missing > 0) {
      console.warn(`tracker: recording the probes of ${missing} large content(s) stored by an earlier ferry (once) …`);
    }
    await this.#contents.fillProbes();
    this.#db.exec("DELETE FROM file_layout");
    this.#db.prepare("INSERT INTO file_layout (version) VALUES (?)").run(LAYOUT);
  }

  /**
   * Layout 2 → 3: every component's file becomes a hard link of its content's file; duplicates
   * stored per component so far are stored once.
   */
  async #migrateToContents(): Promise<void> {
    const rows = this.#db.prepare("SELECT component_id, size, sha1 FROM files").all() as Array<
      { component_id: string; size: number; sha1: string | null }
    >;
    for (const row of rows) {
      if (this.#contents.sha1Of(row.component_id) !== undefined) continue;
      const path = this.path(row.component_id);
      if (!(await stat(path).then((info) => info.isFile(), () => false))) continue;
      const hex = row.sha1 ?? await sha1Of(path);
      if (row.sha1 === null) {
        this.#db.prepare("UPDATE files SET sha1 = ? WHERE component_id = ?").run(hex, row.component_id);
      }
      await this.#place(row.component_id, path, hex, Number(row.size));
    }
  }

  async #migrateLayout1(): Promise<void> {
    const rows = this.#db.prepare("SELECT component_id, sha1 FROM files").all() as Array<
      { component_id: string; sha1: string | null }
    >;
    const byOldName = new Map<string, Array<{ component_id: string; sha1: string | null }>>();
    for (const row of rows) {
      const name = layout1NameOf(row.component_id);
      byOldName.set(name, [...(byOldName.get(name) ?? []), row]);
    }
    const lost: string[] = [];
    for (const [name, owners] of byOldName) {
      const old = join(this.#dir, name);
      const exists = await stat(old).then((info) => info.isFile(), () => false);
      let owner = owners.length === 1 ? owners[0] : undefined;
      if (exists && owners.length > 1) {
        const hex = await sha1Of(old);
        owner = owners.find((candidate) => candidate.sha1 === hex);
      }
      for (const row of owners) {
        const target = this.path(row.component_id);
        if (row === owner && exists) {
          await mkdir(dirname(target), { recursive: true, mode: PRIVATE_FOLDER_MODE });
          await rename(old, target);
        } else if (!(await stat(target).then(() => true, () => false))) {
          lost.push(row.component_id);
          this.#db.prepare("DELETE FROM files WHERE component_id = ?").run(row.component_id);
          await this.#contents.release(row.component_id);
        }
      }
      if (exists && owner === undefined) await rm(old, { force: true });
    }
    if (lost.length > 0) {
      console.warn(
        `tracker: the data of ${lost.length} component(s) was overwritten by an older ferry and is lost: ${
          lost.slice(0, 10).join(", ")
        }${lost.length > 10 ? ", …" : ""}`,
      );
    }
    await this.#tighten(this.#dir);
  }

  /** Folders 0700 and files 0600 below `folder`; stale `.part` files and empty folders removed. */
  async #tighten(folder: string): Promise<void> {
    for (const entry of await readdir(folder, { withFileTypes: true })) {
      const path = join(folder, entry.name);
      if (entry.isDirectory()) {
        await chmod(path, PRIVATE_FOLDER_MODE);
        await this.#tighten(path);
        if (path !== join(this.#dir, PARTIAL_FOLDER)) await rmdir(path).catch(() => {});
      } else if (entry.name.endsWith(".part")) {
        await rm(path, { force: true });
      } else {
        await chmod(path, PRIVATE_FILE_MODE);
      }
    }
  }
}

async function sha1Of(path: string): Promise<string> {
  const hash = createHash("sha1");
  const file = await Deno.open(path);
  for await (const chunk of file.readable) hash.update(chunk);
  return hash.digest("hex");
}

/** A hard link of `source` at `target`, or a copy where the file system has none. */
async function linkOrCopy(source: string, target: string): Promise<void> {
  try {
    await link(source, target);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== "EXDEV" && code !== "EPERM" && code !== "EMLINK" && code !== "ENOTSUP" && code !== "EOPNOTSUPP") {
      throw error;
    }
    await copyFile(source, target);
  }
}
