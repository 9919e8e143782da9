import { createHash } from "node:crypto";
import { open, stat } from "node:fs/promises";
import type { Session } from "@ftrack/api";
import type { HashAlgorithm } from "../fingerprint/algorithm.ts";
import { giveReadBuffer, takeReadBuffer, WHOLE_FILE_LIMIT } from "./_read_buffers.ts";

/** Files up to this size (32 MiB) are read into memory whole and sent as one body; larger ones stream. */
export { WHOLE_FILE_LIMIT };
import { putStream, putStreamReaches } from "./put_stream.ts";
import { TrackerConnectionError } from "./tracker_connection_error.ts";

/** What an upload sent and how it was checked. */
export interface UploadedFile {
  /** The file's fingerprint, computed from the bytes as they were sent. */
  hex: string;
  algorithm: HashAlgorithm;
  /**
   * MD5 of the bytes sent, compared with the server's ETag when it is one; only computed when the
   * storage does not return the SHA-1 of what it stored (see {@linkcode SHA1_HEADER}).
   */
  md5?: string;
  size: number;
}

/** An upload failed or could not be verified; the message names the file and the problem. */
export class UploadError extends Error {
  readonly path: string;

  constructor(path: string, reason: string, options?: ErrorOptions) {
    super(`Cannot upload '${path}': ${reason}`, options);
    this.name = "UploadError";
    this.path = path;
  }
}

/** Options of {@linkcode uploadFile}. */
export interface UploadFileOptions {
  /** The component the data belongs to (it may not be committed yet). */
  componentId: string;
  /** Local file. */
  path: string;
  /** Name with extension given to the server. */
  fileName: string;
  /** @default {"sha1"} */
  algorithm?: HashAlgorithm;
  /** Bytes per read. @default {2097152} */
  chunkSize?: number;
  /** Bytes sent so far are reported here as they go. */
  onProgress?: (bytes: number) => void;
  signal?: AbortSignal;
  /** The signed URL and headers, when already asked for (see {@linkcode uploadTargets}); else asked here. */
  target?: UploadTarget;
  /**
   * Milliseconds the upload may go without progress (no byte taken for sending) before it fails
   * naming the storage; a long upload that keeps moving never times out. After the last byte is
   * taken (what is still in buffers drains unseen), the answer may take this long plus the longest
   * of: the sending so far, the drain at the recent pace, the whole file at 1 MiB/s. A file sent as one buffer (up to 32 MiB), whose progress cannot
   * be seen, may take this long plus its size at 256 KiB/s. @default {none}
   */
  idleTimeout?: number;
  /**
   * The file's bytes, read and fingerprinted already (see `uploadFiles`): sent from this buffer,
   * the file is not read again.
   */
  content?: HeldContent;
  /** How files are opened (a test may count what is read). @default {node:fs/promises `open`} */
  openFile?: OpenFile;
}

/** A file opened for reading: the part of `node:fs/promises`' `FileHandle` the uploader uses. */
export interface ReadableFile {
  stat(): Promise<{ size: number; mtimeMs: number }>;
  read(buffer: Uint8Array, offset: number, length: number, position: number): Promise<{ bytesRead: number }>;
  close(): Promise<void>;
}

/** Opens a file for reading. */
export type OpenFile = (path: string) => Promise<ReadableFile>;

/** Opens with `node:fs/promises`. */
export const openForReading: OpenFile = (path) => open(path, "r");

/** A whole file held in memory, with the fingerprint of these bytes and the file's state when read. */
export interface HeldContent {
  /** The bytes (the first `size` of the buffer). */
  buffer: Uint8Array<ArrayBuffer>;
  size: number;
  /** The fingerprint of the bytes, in the upload's algorithm. */
  hex: string;
  /** The file's modification time when it was read: the upload fails if the file changes before it is stored. */
  mtimeMs: number;
  /** Called once the buffer is no longer read (the request has taken its body). */
  release(): void;
}

/**
 * The response header in which ferry's embedded tracker returns the SHA-1 of the bytes it stored.
 * Its `get_upload_metadata` answer names the header in `sha1_header`; an uploader that
 * fingerprints with SHA-1 then checks the stored bytes without computing an MD5 for the ETag.
 */
export const SHA1_HEADER = "x-ferry-sha1";

/**
 * Where one file's bytes go: a signed URL and the headers to send with them, and (from ferry's
 * embedded tracker) the response header that will carry the SHA-1 of what was stored.
 */
export interface UploadTarget {
  url: string;
  headers?: Record<string, string>;
  sha1_header?: string;
}

/**
 * Signed upload URLs for many files in one call, keyed by component id: one round trip instead of
 * one per file when publishing long sequences.
 */
export async function uploadTargets(
  session: Session,
  files: ReadonlyArray<{ componentId: string; fileName: string; size: number }>,
): Promise<Map<string, UploadTarget>> {
  const targets = new Map<string, UploadTarget>();
  for (let i = 0; i < files.length; i += 200) {
    const batch = files.slice(i, i + 200);
    const answers = await session.call<UploadTarget>(
      batch.map((file) => ({
        action: "get_upload_metadata",
        component_id: file.componentId,
        file_name: file.fileName,
        file_size: file.size,
      })) as never[],
    );
    batch.forEach((file, at) => targets.set(file.componentId, answers[at]!));
  }
  return targets;
}

/**
 * Uploads a file to the tracker's `ftrack.server` storage, reading it once: the bytes feed the
 * fingerprint as they are sent. The upload counts as verified only when every byte of the file was
 * sent, the file did not change meanwhile, and the storage confirms the bytes it holds: by
 * returning their SHA-1 (ferry's embedded tracker, see {@linkcode SHA1_HEADER}), or else by an
 * ETag that is a plain MD5 and equals the MD5 of what was sent (S3-style storage). Files up to
 * 32 MiB go as one buffer; larger ones stream in `chunkSize` pieces with a `Content-Length`
 * (see {@linkcode putStream}), so the storage can serve others meanwhile. Given `content` (a file
 * read and fingerprinted already, see `uploadFiles`), it sends that buffer and reads nothing; the
 * file must still be unchanged once the storage answers.
 */
export async function uploadFile(session: Session, options: UploadFileOptions): Promise<UploadedFile> {
  const {
    componentId,
    path,
    fileName,
    algorithm = "sha1",
    chunkSize = 2 * 1024 * 1024,
    onProgress,
    idleTimeout,
    content,
    openFile = openForReading,
  } = options;
  // Without progress for idleTimeout ms, the transfer is aborted (the timer restarts at every chunk).
  const idle = new AbortController();
  let idleTimer: ReturnType<typeof setTimeout> | undefined;
  const stillMoving = (extra = 0) => {
    if (idleTimeout === undefined) return;
    clearTimeout(idleTimer);
    idleTimer = setTimeout(() => idle.abort(), idleTimeout + extra);
  };
  const signal = options.signal ? AbortSignal.any([options.signal, idle.signal]) : idle.signal;
  let released = false;
  const release = () => {
    if (!released) content?.release();
    released = true;
  };
  const file = content ? undefined : await openFile(path).catch((error: NodeJS.ErrnoException) => {
    throw new UploadError(path, error.code === "ENOENT" ? "it does not exist" : error.message, { cause: error });
  });
  try {
    const before = file ? await file.stat() : { size: content!.size, mtimeMs: content!.mtimeMs };
    const size = content?.size ?? before!.size;
    const metadata = options.target ?? (await session.call<UploadTarget>([
      { action: "get_upload_metadata", component_id: componentId, file_name: fileName, file_size: size } as never,
    ]))[0];
    if (!metadata?.url) throw new UploadError(path, "the tracker gave no upload URL");
    const sha1Header = algorithm === "sha1" ? metadata.sha1_header : undefined;
    // Held content was fingerprinted when it was read: its bytes are not hashed again.
    const fingerprint = content ? undefined : createHash(algorithm);
    const md5 = sha1Header ? undefined : createHash("md5");
    let sent = 0;
    const take = (piece: Uint8Array) => {
      fingerprint?.update(piece);
      md5?.update(piece);
      sent += piece.length;
      onProgress?.(piece.length);
    };
    let body: BodyInit;
    let sendingSince = performance.now();
    /** (time, bytes taken) of the pulls of the last 2 s: the recent pace of the network. */
    const recent: Array<[number, number]> = [];
    let buffer: Uint8Array<ArrayBuffer> | undefined;
    if (content) {
      const whole = content.buffer.subarray(0, size);
      take(whole);
      body = whole;
    } else if (size <= WHOLE_FILE_LIMIT) {
      buffer = takeReadBuffer(size);
      let filled = 0;
      while (filled < size) {
        const { bytesRead } = await file!.read(buffer, filled, size - filled, filled);
        if (bytesRead === 0) break;
        filled += bytesRead;
      }
      const whole = buffer.subarray(0, filled);
      take(whole);
      body = whole;
    } else {
      body = new ReadableStream<Uint8Array>({
        async pull(controller) {
          const chunk = new Uint8Array(Math.min(chunkSize, Math.max(size - sent, 1)));
          const { bytesRead } = sent >= size ? { bytesRead: 0 } : await file!.read(chunk, 0, chunk.length, sent);
          const now = performance.now();
          if (bytesRead === 0) {
            // The bytes still in socket and client buffers (tens of MB on a fast link) drain
            // unseen: the answer may take the limit plus the longest of the sending so far, the
            // drain at the recent pace, and the whole file at 1 MiB/s.
            const elapsed = now - sendingSince;
            const [since, bytesThen] = recent[0] ?? [sendingSince, 0];
            const pace = now - since > 200 ? (sent - bytesThen) / (now - since) : 0;
            const drain = pace > 0 ? sent / pace - elapsed : 0;
            stillMoving(Math.max(elapsed, drain, (size / (1024 * 1024)) * 1000));
            controller.close();
            return;
          }
          recent.push([now, sent]);
          while (recent.length > 1 && now - recent[0]![0] > 2_000) recent.shift();
          const piece = bytesRead === chunk.length ? chunk : chunk.subarray(0, bytesRead);
          stillMoving();
          take(piece);
          controller.enqueue(piece);
        },
      });
    }
    const headers = new Headers(metadata.headers ?? {});
    headers.set("content-length", String(size));
    let response: Response;
    sendingSince = performance.now();
    // A whole buffer's progress cannot be seen: it may take the limit plus its size at 256 KiB/s.
    stillMoving(buffer || content ? (size / (256 * 1024)) * 1000 : 0);
    try {
      // A stream goes with its length (fetch would send it chunked, see putStream) where putStream can.
      const sending = body instanceof ReadableStream && putStreamReaches(metadata.url)
        ? putStream({ url: metadata.url, headers, body, contentLength: size, signal })
        : fetch(metadata.url, { method: "PUT", headers, body, signal, duplex: "half" } as RequestInit);
      if (buffer) giveReadBuffer(buffer);
      release();
      response = await sending;
    } catch (error) {
      if (idle.signal.aborted) throw stalled(path, metadata.url, idleTimeout!, error);
      if (error instanceof TypeError && !options.signal?.aborted) {
        // fetch's network failures (refused, reset, unresolvable): a connection problem, not the file's.
        const cause = (error as { cause?: unknown }).cause;
        throw new TrackerConnectionError(
          new URL(metadata.url).origin,
          "unreachable",
          `the upload of '${path}' failed: ${cause instanceof Error ? cause.message : error.message}`,
          { cause: error },
        );
      }
      if (error instanceof RangeError) throw new UploadError(path, `it changed during the upload (${error.message})`);
      throw new UploadError(path, `the transfer failed: ${(error as Error).message}`, { cause: error });
    }
    const answer = await response.text().catch((error) => {
      if (idle.signal.aborted) throw stalled(path, metadata.url, idleTimeout!, error);
      throw error;
    });
    clearTimeout(idleTimer);
    if (!response.ok) throw new UploadError(path, `the storage answered ${response.status}: ${answer.slice(0, 200)}`);
    const after = file ? await file.stat() : await stat(path).catch(() => ({ size: -1, mtimeMs: -1 }));
    if (sent !== size || after.size !== size || after.mtimeMs !== before.mtimeMs) {
      throw new UploadError(
        path,
        `it changed during the upload (${size} bytes expected, ${sent} sent, ${after.size} now)`,
      );
    }
    const hex = content?.hex ?? fingerprint!.digest("hex");
    if (sha1Header) {
      const stored = response.headers.get(sha1Header);
      if (stored?.toLowerCase() !== hex) {
        throw new UploadError(path, `the storage holds different bytes (stored SHA-1 ${stored}, sent SHA-1 ${hex})`);
      }
      return { hex, algorithm, size };
    }
    const digest = md5!.digest("hex");
    const etag = (response.headers.get("etag") ?? "").replaceAll('"', "");
    if (/^[0-9a-f]{32}$/i.test(etag) && etag.toLowerCase() !== digest) {
      throw new UploadError(path, `the storage holds different bytes (ETag ${etag}, sent MD5 ${digest})`);
    }
    return { hex, algorithm, md5: digest, size };
  } finally {
    clearTimeout(idleTimer);
    release();
    await file?.close();
  }
}

/** An upload without progress for `idleTimeout` ms: a connection problem naming the storage. */
function stalled(path: string, url: string, idleTimeout: number, cause: unknown): TrackerConnectionError {
  return new TrackerConnectionError(
    new URL(url).origin,
    "timeout",
    `the upload of '${path}' made no progress for ${
      idleTimeout / 1000
    } s (change the limit with --timeout <seconds> or FERRY_TRACKER_TIMEOUT)`,
    { cause },
  );
}
