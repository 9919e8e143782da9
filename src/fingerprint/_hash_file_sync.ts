import { createHash } from "node:crypto";
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import type { HashAlgorithm } from "./algorithm.ts";
import { FingerprintError } from "./fingerprint_error.ts";
import type { Fingerprint } from "./fingerprint_file.ts";

/** Read size of the worker loop: small enough that each chunk is hashed while still in the CPU cache. */
export const SYNC_CHUNK_SIZE = 256 * 1024;

/**
 * Reads and hashes a file with blocking reads on the calling thread: the fastest loop when the
 * thread has nothing else to do (a hash worker), as it spends no time on a second thread copying
 * data. Same checks and errors as `fingerprintFile`.
 */
export function hashFileSync(
  path: string,
  algorithm: HashAlgorithm,
  chunkSize: number,
  onProgress?: (bytes: number) => void,
): Fingerprint {
  const hash = createHash(algorithm);
  let fd: number | undefined;
  try {
    fd = openSync(path, "r");
    const before = fstatSync(fd);
    if (!before.isFile()) throw new FingerprintError(path, "not-a-file", "it is not a regular file");
    const buffer = new Uint8Array(chunkSize);
    let position = 0;
    // Bounded by the size at open, so a file that keeps growing cannot be read forever.
    while (position < before.size) {
      const bytesRead = readSync(fd, buffer, 0, Math.min(chunkSize, before.size - position), position);
      if (bytesRead === 0) break;
      hash.update(bytesRead === chunkSize ? buffer : buffer.subarray(0, bytesRead));
      position += bytesRead;
      onProgress?.(bytesRead);
    }
    const after = fstatSync(fd);
    if (after.size !== before.size || after.mtimeMs !== before.mtimeMs || position !== before.size) {
      throw new FingerprintError(
        path,
        "changed",
        `it changed while it was being read (size ${before.size} → ${after.size}, ${position} bytes read)`,
      );
    }
    return { algorithm, hex: hash.digest("hex"), size: position };
  } catch (error) {
    throw FingerprintError.fromSystemError(path, error);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
