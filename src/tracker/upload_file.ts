import { createHash } from "node:crypto";
import { open } from "node:fs/promises";
import type { Session } from "@ftrack/api";
import type { HashAlgorithm } from "../fingerprint/algorithm.ts";

/** What an upload sent and how it was checked. */
export interface UploadedFile {
  /** The file's fingerprint, computed from the bytes as they were sent. */
  hex: string;
  algorithm: HashAlgorithm;
  /** MD5 of the bytes sent, compared with the server's ETag when it is one. */
  md5: string;
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
}

/** Where one file's bytes go: a signed URL and the headers to send with them. */
export interface UploadTarget {
  url: string;
  headers?: Record<string, string>;
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
 * Uploads a file to the tracker's `ftrack.server` storage, reading it once: each chunk feeds the
 * fingerprint and an MD5 while it streams to the signed URL. The upload counts as verified only
 * when every byte of the file was sent, the file did not change meanwhile, and the server's ETag
 * (when it is a plain MD5) equals the MD5 of what was sent.
 */
export async function uploadFile(session: Session, options: UploadFileOptions): Promise<UploadedFile> {
  const { componentId, path, fileName, algorithm = "sha1", chunkSize = 2 * 1024 * 1024, onProgress, signal } = options;
  const file = await open(path, "r").catch((error: NodeJS.ErrnoException) => {
    throw new UploadError(path, error.code === "ENOENT" ? "it does not exist" : error.message, { cause: error });
  });
  try {
    const before = await file.stat();
    const size = before.size;
    const metadata = options.target ?? (await session.call<UploadTarget>([
      { action: "get_upload_metadata", component_id: componentId, file_name: fileName, file_size: size } as never,
    ]))[0];
    if (!metadata?.url) throw new UploadError(path, "the tracker gave no upload URL");
    const fingerprint = createHash(algorithm);
    const md5 = createHash("md5");
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        const chunk = new Uint8Array(Math.min(chunkSize, Math.max(size - sent, 1)));
        const { bytesRead } = sent >= size ? { bytesRead: 0 } : await file.read(chunk, 0, chunk.length, sent);
        if (bytesRead === 0) {
          controller.close();
          return;
        }
        const piece = bytesRead === chunk.length ? chunk : chunk.subarray(0, bytesRead);
        fingerprint.update(piece);
        md5.update(piece);
        sent += bytesRead;
        onProgress?.(bytesRead);
        controller.enqueue(piece);
      },
    });
    const headers = new Headers(metadata.headers ?? {});
    headers.set("content-length", String(size));
    let response: Response;
    try {
      response = await fetch(metadata.url, { method: "PUT", headers, body, signal, duplex: "half" } as RequestInit);
    } catch (error) {
      throw new UploadError(path, `the transfer failed: ${(error as Error).message}`, { cause: error });
    }
    const answer = await response.text();
    if (!response.ok) throw new UploadError(path, `the storage answered ${response.status}: ${answer.slice(0, 200)}`);
    const after = await file.stat();
    if (sent !== size || after.size !== size || after.mtimeMs !== before.mtimeMs) {
      throw new UploadError(
        path,
        `it changed during the upload (${size} bytes expected, ${sent} sent, ${after.size} now)`,
      );
    }
    const digest = md5.digest("hex");
    const etag = (response.headers.get("etag") ?? "").replaceAll('"', "");
    if (/^[0-9a-f]{32}$/i.test(etag) && etag.toLowerCase() !== digest) {
      throw new UploadError(path, `the storage holds different bytes (ETag ${etag}, sent MD5 ${digest})`);
    }
    return { hex: fingerprint.digest("hex"), algorithm, md5: digest, size };
  } finally {
    await file.close();
  }
}
