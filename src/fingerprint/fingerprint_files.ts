import { availableParallelism } from "node:os";
import { stat } from "node:fs/promises";
import { checkAlgorithm, type HashAlgorithm } from "./algorithm.ts";
import { FingerprintError } from "./fingerprint_error.ts";
import { DEFAULT_CHUNK_SIZE, type Fingerprint, fingerprintFile } from "./fingerprint_file.ts";
import { HashPool } from "./hash_pool.ts";
import { SYNC_CHUNK_SIZE } from "./_hash_file_sync.ts";
import { mapLimit } from "../async/map_limit.ts";

/** Progress of {@linkcode fingerprintFiles}. */
export interface FingerprintProgress {
  /** Bytes hashed so far. */
  bytes: number;
  /** Bytes to hash in all. */
  totalBytes: number;
  /** Files finished so far. */
  files: number;
  /** Files in all. */
  totalFiles: number;
}

/** Options of {@linkcode fingerprintFiles}. */
export interface FingerprintFilesOptions {
  /** @default {"sha1"} */
  algorithm?: HashAlgorithm;
  /** Files hashed at once. @default {os.availableParallelism()} */
  concurrency?: number;
  /**
   * Hash on worker threads, one core each. `"auto"` uses them when `concurrency` > 1 and there is
   * enough work (at least 2 files and 64 MiB) to repay starting them.
   * @default {"auto"}
   */
  threads?: boolean | "auto";
  /** Bytes per read. @default {2097152} on the calling thread, 262144 on worker threads */
  chunkSize?: number;
  /** Called as bytes are hashed and files finish. */
  onProgress?: (progress: FingerprintProgress) => void;
  /**
   * Stops the work: the promise rejects with the signal's reason (an `AbortError`), or with a
   * `FingerprintError` whose problem is `aborted` for the file being read.
   */
  signal?: AbortSignal;
  /**
   * Worker threads to hash on, kept by the caller across calls (a long-running process saves the
   * thread start-up). Without it, threads are started for the call and stopped after it.
   */
  workers?: HashPool;
}

const THREAD_THRESHOLD_BYTES = 64 * 1024 * 1024;

/**
 * Fingerprints many files with bounded concurrency, on worker threads when that pays, and returns
 * the digests in the order of `paths`. Sizes are read first, so progress knows the total. The first
 * failure stops the rest and rejects with its {@linkcode FingerprintError}.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { fingerprintFiles } from "./mod.ts";
 *
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/a.txt`, "abc");
 * await Deno.writeTextFile(`${dir}/b.txt`, "");
 * const [a, b] = await fingerprintFiles([`${dir}/a.txt`, `${dir}/b.txt`]);
 * ok(a!.hex === "a9993e364706816aba3e25717850c26c9cd0d89d");
 * ok(b!.hex === "da39a3ee5e6b4b0d3255bfef95601890afd80709");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function fingerprintFiles(
  paths: readonly string[],
  options: FingerprintFilesOptions = {},
): Promise<Fingerprint[]> {
  const {
    algorithm = "sha1",
    concurrency = availableParallelism(),
    threads = "auto",
    chunkSize = DEFAULT_CHUNK_SIZE,
    onProgress,
    signal,
  } = options;
  checkAlgorithm(algorithm);
  if (!Number.isSafeInteger(concurrency) || concurrency < 1) {
    throw new RangeError(`Cannot fingerprint with concurrency '${concurrency}': it must be a whole number ≥ 1`);
  }
  signal?.throwIfAborted();
  const sizes = await mapLimit(paths, 64, async (path) => {
    try {
      const info = await stat(path);
      if (!info.isFile()) throw new FingerprintError(path, "not-a-file", "it is not a regular file");
      return info.size;
    } catch (error) {
      throw FingerprintError.fromSystemError(path, error);
    }
  });
  const progress: FingerprintProgress = {
    bytes: 0,
    totalBytes: sizes.reduce((sum, size) => sum + size, 0),
    files: 0,
    totalFiles: paths.length,
  };
  const addBytes = (bytes: number) => {
    progress.bytes += bytes;
    onProgress?.({ ...progress });
  };
  const fileDone = () => {
    progress.files++;
    onProgress?.({ ...progress });
  };

  const useThreads = threads === "auto"
    ? concurrency > 1 && paths.length > 1 && progress.totalBytes >= THREAD_THRESHOLD_BYTES
    : threads && concurrency > 1;
  if (!useThreads) {
    return await mapLimit(paths, concurrency, async (path) => {
      const result = await fingerprintFile(path, { algorithm, chunkSize, onProgress: addBytes, signal });
      fileDone();
      return result;
    });
  }

  const pool = options.workers ?? new HashPool({ size: Math.min(concurrency, paths.length) });
  const jobOptions = { algorithm, chunkSize: options.chunkSize ?? SYNC_CHUNK_SIZE, onProgress: addBytes };
  const aborted = new Promise<never>((_, reject) => {
    const onAbort = () => reject(FingerprintError.fromSystemError(paths[0] ?? "", signal?.reason));
    if (signal?.aborted) onAbort();
    signal?.addEventListener("abort", onAbort, { once: true });
  });
  aborted.catch(() => undefined);
  try {
    const work = mapLimit(paths, Math.min(concurrency, pool.size), async (path) => {
      signal?.throwIfAborted();
      const result = await pool.hash(path, jobOptions);
      fileDone();
      return result;
    });
    return await (signal ? Promise.race([work, aborted]) : work);
  } finally {
    if (options.workers === undefined) await pool.close();
  }
}
