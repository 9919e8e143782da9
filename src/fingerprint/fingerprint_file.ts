import { createHash, type Hash } from "node:crypto";
import { open } from "node:fs/promises";
import { checkAlgorithm, type HashAlgorithm } from "./algorithm.ts";
import { FingerprintError } from "./fingerprint_error.ts";

/** A file's digest. */
export interface Fingerprint {
  /** The algorithm used. */
  algorithm: HashAlgorithm;
  /** The digest, lower-case hexadecimal. */
  hex: string;
  /** The number of bytes hashed: the file's size. */
  size: number;
}

/** Options of {@linkcode fingerprintFile}. */
export interface FingerprintFileOptions {
  /** @default {"sha1"} */
  algorithm?: HashAlgorithm;
  /** Bytes per read; two buffers of this size are used so that reading overlaps hashing. @default {2097152} */
  chunkSize?: number;
  /** Called after each chunk with the number of bytes just hashed. */
  onProgress?: (bytes: number) => void;
  /** Stops the work; the promise rejects with a `FingerprintError` whose problem is `aborted`. */
  signal?: AbortSignal;
  /**
   * Also fed every chunk, in order, e.g. to upload while hashing so that each byte is read once.
   * Awaited before the next chunk is fed; the chunk's memory is reused afterwards.
   */
  onChunk?: (chunk: Uint8Array) => void | Promise<void>;
}

/** The default read size: large reads keep the per-call overhead far below the hashing cost. */
export const DEFAULT_CHUNK_SIZE = 2 * 1024 * 1024;

/**
 * Streams a file through a digest with large reads and never holds more than two chunks in
 * memory. The file is checked after reading: if its size or modification time changed while it was
 * read, the result would be a digest of no version of the file, so it fails instead.
 *
 * Throws {@linkcode FingerprintError} naming the path for a missing, unreadable or changing file.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { fingerprintFile } from "./mod.ts";
 *
 * const path = await Deno.makeTempFile();
 * await Deno.writeTextFile(path, "abc");
 * const { hex, size } = await fingerprintFile(path);
 * ok(hex === "a9993e364706816aba3e25717850c26c9cd0d89d" && size === 3);
 * await Deno.remove(path);
 * ```
 */
export async function fingerprintFile(path: string, options: FingerprintFileOptions = {}): Promise<Fingerprint> {
  const { algorithm = "sha1", chunkSize = DEFAULT_CHUNK_SIZE, onProgress, signal, onChunk } = options;
  checkAlgorithm(algorithm);
  if (!Number.isSafeInteger(chunkSize) || chunkSize < 4096) {
    throw new RangeError(`Cannot fingerprint with chunkSize '${chunkSize}': it must be a whole number ≥ 4096`);
  }
  const hash = createHash(algorithm);
  let size: number;
  try {
    size = await hashInto(hash, path, chunkSize, onProgress, signal, onChunk);
  } catch (error) {
    throw FingerprintError.fromSystemError(path, error);
  }
  return { algorithm, hex: hash.digest("hex"), size };
}

async function hashInto(
  hash: Hash,
  path: string,
  chunkSize: number,
  onProgress: ((bytes: number) => void) | undefined,
  signal: AbortSignal | undefined,
  onChunk: ((chunk: Uint8Array) => void | Promise<void>) | undefined,
): Promise<number> {
  signal?.throwIfAborted();
  const file = await open(path, "r");
  try {
    const before = await file.stat();
    if (!before.isFile()) throw new FingerprintError(path, "not-a-file", "it is not a regular file");
    // Never read past the size measured at open: a file that keeps growing (a render still being
    // written) would otherwise be read forever. The check after the loop reports the change.
    const expected = before.size;
    let buffers = [new Uint8Array(chunkSize), new Uint8Array(chunkSize)] as const;
    let position = 0;
    const readNext = (into: Uint8Array, at: number) =>
      at >= expected ? Promise.resolve({ bytesRead: 0 }) : file.read(into, 0, Math.min(chunkSize, expected - at), at);
    let pending = readNext(buffers[0], position);
    while (true) {
      const { bytesRead } = await pending;
      if (bytesRead === 0) break;
      const current = buffers[0];
      position += bytesRead;
      buffers = [buffers[1], buffers[0]];
      // Read the next chunk while this one is hashed.
      pending = readNext(buffers[0], position);
      const chunk = bytesRead === chunkSize ? current : current.subarray(0, bytesRead);
      hash.update(chunk);
      if (onChunk) await onChunk(chunk);
      onProgress?.(bytesRead);
      if (signal?.aborted) {
        await pending.catch(() => undefined);
        signal.throwIfAborted();
      }
    }
    const after = await file.stat();
    if (after.size !== expected || after.mtimeMs !== before.mtimeMs || position !== expected) {
      throw new FingerprintError(
        path,
        "changed",
        `it changed while it was being read (size ${before.size} → ${after.size}, ${position} bytes read)`,
      );
    }
    return position;
  } finally {
    await file.close();
  }
}
