/**
 * Multi-part uploads, as the official clients make them for large files: `get_upload_metadata`
 * with `parts` answers an upload id and one signed URL per part; each part is a `PUT` answered 200
 * with its MD5 as `ETag` (as S3 does); `complete_multipart_upload` names the parts and their ETags,
 * and the parts are joined into the component's data.
 *
 * @module
 */
import { createHash, randomBytes } from "node:crypto";
import type { FileHandle } from "node:fs/promises";
import { mkdir, open, readdir, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { BufferPool } from "../../src/buffers/buffer_pool.ts";
import { PRIVATE_FILE_MODE, PRIVATE_FOLDER_MODE } from "./data_folder.ts";
import type { ReceiveOptions } from "./file_store.ts";
import { abandonUpload } from "./abandon_upload.ts";
import { GatheredWriter } from "./gathered_writer.ts";
import { ownedTempFolder } from "./owned_temp_folder.ts";
import { TrackerError } from "./schema/catalog.ts";

/** The most parts one upload may have (as S3 and both clients allow). */
export const MAX_PARTS = 10_000;

/** Size of the buffers that gather the small pieces of a part into large writes. */
const GATHER_BYTES = 4 * 1024 * 1024;
/** At most this much of one part waits in memory for the disk before the body is read further. */
const BEHIND_BYTES = 32 * 1024 * 1024;
/** After this many bytes of a part of announced length, other requests get their turn (see file_store.ts). */
const YIELD_BYTES = 4 * 1024 * 1024;

/** Bytes read and written at a time when parts are joined. */
const JOIN_BUFFER_BYTES = 4 * 1024 * 1024;

/** How long a multi-part upload may take from its start to its completion. */
export const MULTIPART_TTL_MS = 24 * 60 * 60 * 1000;

/** Why a part was refused: the HTTP status and a message naming the problem. */
export class PartError extends Error {
  readonly status: 400 | 404 | 409;

  constructor(status: 400 | 404 | 409, message: string) {
    super(message);
    this.name = "PartError";
    this.status = status;
  }
}

interface Upload {
  id: string;
  componentId: string;
  /** The whole file's MD5 (base64), when the client sent one (the Python client's `checksum`). */
  md5Base64: string | undefined;
  size: number;
  parts: number;
  userId: string;
  expires: number;
  /** Part number → its size and MD5 (hex), once received. */
  received: Map<number, { size: number; md5: string }>;
  receiving: Set<number>;
}

/** A completed upload: its parts joined in order, to be stored as the component's data. */
export interface JoinedUpload {
  componentId: string;
  userId: string;
  /** The MD5 (base64) the joined data must have, when the client sent one. */
  md5Base64: string | undefined;
  size: number;
  stream: ReadableStream<Uint8Array>;
}

/**
 * The multi-part uploads in progress, their parts in a private folder until they are joined.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { MultipartUploads } from "./multipart_uploads.ts";
 *
 * await using uploads = await MultipartUploads.open(undefined);
 * const started = uploads.start({ componentId: "c", size: 3, parts: 2, userId: "u", baseUrl: "http://t" });
 * ok(started.urls.length === 2 && started.urls[1]!.part_number === 2);
 * await uploads.receive(started.upload_id, 1, new Blob(["ab"]).stream());
 * await uploads.receive(started.upload_id, 2, new Blob(["c"]).stream());
 * const joined = uploads.join(started.upload_id, { componentId: "c", userId: "u", parts: undefined });
 * ok(joined.size === 3 && (await new Response(joined.stream).text()) === "abc");
 * ```
 */
export class MultipartUploads implements AsyncDisposable {
  #dir: string;
  #temporary: boolean;
  #uploads = new Map<string, Upload>();
  #buffers = new BufferPool({ minimumBytes: GATHER_BYTES });

  private constructor(dir: string, temporary: boolean) {
    this.#dir = dir;
    this.#temporary = temporary;
  }

  /** Opens the uploads' folder (`dir`, or a temporary one); parts left by a stopped tracker are removed. */
  static async open(dir: string | undefined): Promise<MultipartUploads> {
    const folder = dir ?? await ownedTempFolder("ferry-multipart-");
    await rm(folder, { recursive: true, force: true });
    await mkdir(folder, { recursive: true, mode: PRIVATE_FOLDER_MODE });
    return new MultipartUploads(folder, dir === undefined);
  }

  /**
   * Starts an upload of `size` bytes in `parts` parts for a component; answers as ftrack does:
   * `{component_id, upload_id, urls: [{signed_url, part_number}]}`.
   */
  start(request: {
    componentId: string;
    size: number;
    parts: number;
    userId: string;
    baseUrl: string;
    md5Base64?: string | undefined;
  }): {
    component_id: string;
    upload_id: string;
    urls: Array<{ signed_url: string; part_number: number }>;
  } {
    const { componentId, size, parts, userId, baseUrl } = request;
    if (!Number.isSafeInteger(parts) || parts < 1 || parts > MAX_PARTS || parts > Math.max(size, 1)) {
      throw new TrackerError(
        "ValidationError",
        `Cannot upload ${size} bytes in ${parts} parts: give from 1 to ${MAX_PARTS} parts, no more than bytes.`,
      );
    }
    this.#expire();
    const id = randomBytes(24).toString("base64url");
    this.#uploads.set(id, {
      id,
      componentId,
      md5Base64: request.md5Base64,
      size,
      parts,
      userId,
      expires: Date.now() + MULTIPART_TTL_MS,
      received: new Map(),
      receiving: new Set(),
    });
    const urls = Array.from({ length: parts }, (_, i) => ({
      signed_url: `${baseUrl}/upload/${id}/part/${i + 1}`,
      part_number: i + 1,
    }));
    return { component_id: componentId, upload_id: id, urls };
  }

  /** Receives one part (again, when a client retries it); returns its MD5 (hex), the part's ETag. */
  async receive(
    uploadId: string,
    partNumber: number,
    body: ReadableStream<Uint8Array> | null,
    options: ReceiveOptions = {},
  ): Promise<string> {
    const { fixedLength = false } = options;
    const upload = this.#uploads.get(uploadId);
    if (upload === undefined || upload.expires < Date.now()) {
      throw new PartError(404, "This upload is unknown, finished or expired; start it again.");
    }
    if (!Number.isSafeInteger(partNumber) || partNumber < 1 || partNumber > upload.parts) {
      throw new PartError(400, `Part ${partNumber} is not one of this upload's parts 1 to ${upload.parts}.`);
    }
    if (upload.receiving.has(partNumber)) throw new PartError(409, `Part ${partNumber} is being received already.`);
    upload.receiving.add(partNumber);
    const folder = join(this.#dir, uploadId);
    const partial = join(folder, `${partNumber}.receiving`);
    const md5 = createHash("md5");
    let size = 0;
    let nextYield = fixedLength ? YIELD_BYTES : Infinity;
    let file: Deno.FsFile | undefined;
    let writer: GatheredWriter | undefined;
    const reader = body?.getReader();
    try {
      await mkdir(folder, { recursive: true, mode: PRIVATE_FOLDER_MODE });
      file = await Deno.open(partial, { write: true, create: true, truncate: true, mode: PRIVATE_FILE_MODE });
      writer = new GatheredWriter(file, { pool: this.#buffers, bufferBytes: GATHER_BYTES });
      const others = [...upload.received].reduce((sum, [n, part]) => sum + (n === partNumber ? 0 : part.size), 0);
      // The body is read on without waiting for the disk (see GatheredWriter): with Deno's HTTP
      // server, a chunked body read again only after a disk write costs a copy of what is buffered.
      while (reader) {
        const { done, value } = await reader.read();
        if (done) break;
        size += value.length;
        if (others + size > upload.size) {
          throw new PartError(400, `The parts hold more than the ${upload.size} bytes announced.`);
        }
        md5.update(value);
        writer.push(value);
        if (writer.pendingBytes > BEHIND_BYTES) await writer.whenBelow(BEHIND_BYTES / 2);
        if (size >= nextYield) {
          nextYield = size + YIELD_BYTES;
          await new Promise((resolve) => setTimeout(resolve, 0));
        }
      }
      await writer.finish();
      file.close();
      file = undefined;
      await rename(partial, join(folder, `${partNumber}.part`));
      const digest = md5.digest("hex");
      upload.received.set(partNumber, { size, md5: digest });
      return digest;
    } catch (error) {
      await abandonUpload({ reader, writer, file: file, partial });
      throw error;
    } finally {
      upload.receiving.delete(partNumber);
      await writer?.release();
    }
  }

  /**
   * Joins an upload's parts, in order, into one stream; `ValidationError` naming what is missing or
   * wrong (an unknown upload, another component or user, a part not received, an ETag that does not
   * match, a size that is not the one announced). `parts` are the client's `{part_number, e_tag}`,
   * checked when given. The upload is over once joined.
   */
  join(
    uploadId: string,
    request: {
      componentId: string;
      userId: string;
      administrator?: boolean;
      parts: ReadonlyArray<{ part_number: number; e_tag: string }> | undefined;
    },
  ): JoinedUpload {
    const upload = this.#uploads.get(uploadId);
    const refuse = (why: string) =>
      new TrackerError("ValidationError", `Cannot complete upload '${uploadId}': ${why}.`);
    if (upload === undefined || upload.expires < Date.now()) throw refuse("it is unknown, finished or expired");
    if (upload.componentId !== request.componentId) {
      throw refuse(`it is for component '${upload.componentId}', not '${request.componentId}'`);
    }
    if (upload.userId !== request.userId && !request.administrator) throw refuse("another user started it");
    if (upload.receiving.size > 0) throw refuse(`part ${[...upload.receiving][0]} is still being received`);
    for (let n = 1; n <= upload.parts; n++) {
      if (!upload.received.has(n)) throw refuse(`part ${n} of ${upload.parts} was not received`);
    }
    for (const part of request.parts ?? []) {
      const received = upload.received.get(part.part_number);
      if (received === undefined) throw refuse(`part ${part.part_number} is not one of its parts`);
      if (part.e_tag.replaceAll('"', "") !== received.md5) {
        throw refuse(`part ${part.part_number} has ETag ${received.md5}, not ${part.e_tag}`);
      }
    }
    const total = [...upload.received.values()].reduce((sum, part) => sum + part.size, 0);
    if (total !== upload.size) throw refuse(`its parts hold ${total} bytes, but ${upload.size} were announced`);
    this.#uploads.delete(uploadId);
    const folder = join(this.#dir, uploadId);
    let part = 0;
    let file: FileHandle | undefined;
    const done = async () => {
      await file?.close().catch(() => {});
      file = undefined;
      await rm(folder, { recursive: true, force: true });
    };
    // The parts in order, read as they are needed; their folder goes once read (or abandoned).
    const stream = new ReadableStream<Uint8Array>({
      async pull(controller) {
        try {
          for (;;) {
            if (file === undefined) {
              if (part === upload.parts) {
                await done();
                controller.close();
                return;
              }
              file = await open(join(folder, `${++part}.part`), "r");
            }
            const buffer = new Uint8Array(JOIN_BUFFER_BYTES);
            const { bytesRead } = await file.read(buffer, 0, buffer.length, null);
            if (bytesRead > 0) {
              controller.enqueue(buffer.subarray(0, bytesRead));
              return;
            }
            await file.close();
            file = undefined;
          }
        } catch (error) {
          await done();
          controller.error(error);
        }
      },
      cancel: done,
    });
    return { componentId: upload.componentId, userId: upload.userId, md5Base64: upload.md5Base64, size: total, stream };
  }

  /** Drops uploads older than {@linkcode MULTIPART_TTL_MS} with their parts. */
  #expire(): void {
    const now = Date.now();
    for (const [id, upload] of this.#uploads) {
      if (upload.expires >= now || upload.receiving.size > 0) continue;
      this.#uploads.delete(id);
      void rm(join(this.#dir, id), { recursive: true, force: true });
    }
  }

  /** How many bytes of parts are held (for tests and diagnostics). */
  async heldBytes(): Promise<number> {
    let total = 0;
    for (const entry of await readdir(this.#dir, { recursive: true })) {
      const info = await stat(join(this.#dir, entry)).catch(() => undefined);
      if (info?.isFile()) total += info.size;
    }
    return total;
  }

  /** Forgets every upload; a temporary folder is removed. */
  async close(): Promise<void> {
    this.#uploads.clear();
    if (this.#temporary) await rm(this.#dir, { recursive: true, force: true });
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
