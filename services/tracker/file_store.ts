import { createHash, randomBytes } from "node:crypto";
import { mkdir, mkdtemp, rename, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { DatabaseSync } from "node:sqlite";
import { BufferPool } from "../../src/buffers/buffer_pool.ts";

/** A signed upload URL's promise: which component, how many bytes, which MD5 (when known). */
interface UploadGrant {
  componentId: string;
  size: number;
  md5Base64: string | undefined;
  expires: number;
}

/** Digests of data received: the SHA-1 always, the MD5 when the upload asked for it. */
export interface StoredDigests {
  sha1: string;
  md5?: string | undefined;
}

/** Why an upload was refused: the HTTP status and a message naming the problem. */
export class UploadError extends Error {
  readonly status: 400 | 403 | 404 | 409;

  constructor(status: 400 | 403 | 404 | 409, message: string) {
    super(message);
    this.name = "UploadError";
    this.status = status;
  }
}

/** Size of the buffers that gather the small pieces of a request body into large writes. */
const GATHER_BYTES = 4 * 1024 * 1024;

/** How long a signed upload URL stays valid. */
export const UPLOAD_TTL_MS = 60 * 60 * 1000;

/**
 * Component data of the `ftrack.server` location: files under the tracker's data folder, written
 * through single-use signed upload URLs that check size and MD5, read and removed by component id.
 */
export class FileStore {
  #db: DatabaseSync;
  #dir: string;
  #grants = new Map<string, UploadGrant>();
  #nextSweep = 0;
  /** Gather buffers of finished uploads, reused by the next ones. */
  #buffers = new BufferPool({ minimumBytes: GATHER_BYTES });
  #temporary: boolean;

  private constructor(db: DatabaseSync, dir: string, temporary: boolean) {
    this.#db = db;
    this.#dir = dir;
    this.#temporary = temporary;
    db.exec(`CREATE TABLE IF NOT EXISTS files (
      component_id TEXT PRIMARY KEY, size INTEGER NOT NULL, md5 TEXT NOT NULL, stored_at TEXT NOT NULL
    )`);
    const columns = db.prepare("PRAGMA table_info(files)").all() as Array<{ name: string }>;
    if (!columns.some((column) => column.name === "sha1")) db.exec("ALTER TABLE files ADD COLUMN sha1 TEXT");
  }

  /** Opens the store in `dir`, or in a temporary folder (removed by `close()`) when `dir` is undefined. */
  static async open(db: DatabaseSync, dir: string | undefined): Promise<FileStore> {
    const folder = dir ?? await mkdtemp(join(tmpdir(), "ferry-tracker-files-"));
    await mkdir(folder, { recursive: true });
    return new FileStore(db, folder, dir === undefined);
  }

  /** Grants one upload of `size` bytes for a component; returns the token of the signed URL. */
  grant(componentId: string, size: number, md5Base64?: string, ttlMs: number = UPLOAD_TTL_MS): string {
    const now = Date.now();
    if (now >= this.#nextSweep) {
      for (const [other, grant] of this.#grants) if (grant.expires < now) this.#grants.delete(other);
      this.#nextSweep = now + 60_000;
    }
    const token = randomBytes(24).toString("base64url");
    this.#grants.set(token, { componentId, size, md5Base64, expires: now + ttlMs });
    return token;
  }

  /**
   * Receives an upload for a token: the token works once and until it expires; the bytes must
   * match the granted size, and the granted MD5 or a `Content-MD5` sent with them (the MD5 is only
   * computed when one of them asks for it). The SHA-1 of the bytes stored is always computed and
   * returned, so the uploader can check them against its own fingerprint. Nothing is kept from a
   * refused upload.
   */
  async receive(
    token: string,
    body: ReadableStream<Uint8Array> | null,
    contentMd5: string | undefined,
  ): Promise<StoredDigests> {
    const grant = this.#grants.get(token);
    if (grant === undefined) throw new UploadError(404, "This upload URL is unknown or was already used.");
    this.#grants.delete(token);
    if (grant.expires < Date.now()) throw new UploadError(403, "This upload URL has expired; ask for a new one.");
    const final = this.path(grant.componentId);
    const partial = `${final}.${token.slice(0, 8)}.part`;
    const sha1 = createHash("sha1");
    const md5 = grant.md5Base64 || contentMd5 ? createHash("md5") : undefined;
    let size = 0;
    const options = { write: true, create: true, truncate: true };
    const out = await Deno.open(partial, options).catch(async (error) => {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
      await mkdir(join(final, ".."), { recursive: true });
      return await Deno.open(partial, options);
    });
    // Request bodies arrive in small pieces: gather them into large writes.
    const buffer = this.#buffers.take(GATHER_BYTES);
    let buffered = 0;
    const drain = async () => {
      for (let written = 0; written < buffered;) written += await out.write(buffer.subarray(written, buffered));
      buffered = 0;
    };
    try {
      if (body) {
        for await (const chunk of body) {
          size += chunk.length;
          if (size > grant.size) {
            throw new UploadError(400, `The upload is larger than the ${grant.size} bytes announced.`);
          }
          sha1.update(chunk);
          md5?.update(chunk);
          if (buffered + chunk.length > buffer.length) await drain();
          if (chunk.length > buffer.length) {
            for (let written = 0; written < chunk.length;) written += await out.write(chunk.subarray(written));
          } else {
            buffer.set(chunk, buffered);
            buffered += chunk.length;
          }
        }
      }
      await drain();
      out.close();
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
      await rename(partial, final);
      const digests = { sha1: sha1.digest("hex"), md5: md5Digest?.toString("hex") };
      this.#record(grant.componentId, size, digests);
      return digests;
    } catch (error) {
      try {
        out.close();
      } catch {
        // already closed
      }
      await rm(partial, { force: true });
      throw error;
    } finally {
      this.#buffers.give(buffer);
    }
  }

  #record(componentId: string, size: number, digests: StoredDigests): void {
    this.#db.prepare(
      "INSERT OR REPLACE INTO files (component_id, size, md5, sha1, stored_at) VALUES (?, ?, ?, ?, ?)",
    ).run(componentId, size, digests.md5 ?? "", digests.sha1, new Date().toISOString());
  }

  /** Stores bytes for a component directly (the tracker's own outputs, e.g. encoded media). */
  async write(componentId: string, bytes: Uint8Array): Promise<void> {
    const final = this.path(componentId);
    await mkdir(join(final, ".."), { recursive: true });
    await Deno.writeFile(final, bytes);
    this.#record(componentId, bytes.length, {
      sha1: createHash("sha1").update(bytes).digest("hex"),
      md5: createHash("md5").update(bytes).digest("hex"),
    });
  }

  /** Whether data is stored for the component. */
  has(componentId: string): boolean {
    return this.#db.prepare("SELECT 1 AS found FROM files WHERE component_id = ?").get(componentId) !== undefined;
  }

  /** The stored size and digests of a component's data (the MD5 only when it was computed). */
  info(componentId: string): { size: number; sha1?: string; md5?: string } | undefined {
    const row = this.#db.prepare("SELECT size, md5, sha1 FROM files WHERE component_id = ?").get(componentId) as
      | { size: number; md5: string; sha1: string | null }
      | undefined;
    if (row === undefined) return undefined;
    return {
      size: row.size,
      ...(row.sha1 ? { sha1: row.sha1 } : {}),
      ...(row.md5 ? { md5: row.md5 } : {}),
    };
  }

  /** Where a component's data lives. */
  path(componentId: string): string {
    const safe = componentId.replace(/[^A-Za-z0-9_-]/g, "_");
    return join(this.#dir, safe.slice(0, 2) || "__", safe);
  }

  /** Removes a component's data; returns whether there was any. */
  async remove(componentId: string): Promise<boolean> {
    const existed = this.has(componentId);
    this.#db.prepare("DELETE FROM files WHERE component_id = ?").run(componentId);
    await rm(this.path(componentId), { force: true });
    return existed;
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
}
