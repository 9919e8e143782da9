import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { SYNC_CHUNK_SIZE } from "./_hash_file_sync.ts";
import type { HashAlgorithm } from "./algorithm.ts";
import { FingerprintError, type FingerprintProblem } from "./fingerprint_error.ts";
import type { Fingerprint } from "./fingerprint_file.ts";
import type { HashRequest, HashResponse } from "./_hash_messages.ts";

/** The worker module next to this one, with this module's own extension (.ts from source, .js when built). */
function workerUrl(): URL {
  const extension = import.meta.url.endsWith(".ts") ? ".ts" : ".js";
  return new URL(`./_hash_worker${extension}`, import.meta.url);
}

/** Options of one {@linkcode HashPool.hash} call. */
export interface HashJobOptions {
  /** @default {"sha1"} */
  algorithm?: HashAlgorithm;
  /** @default {262144} */
  chunkSize?: number;
  /** Bytes hashed, reported in steps. */
  onProgress?: (bytes: number) => void;
}

interface Job {
  path: string;
  algorithm: HashAlgorithm;
  chunkSize: number;
  onProgress: ((bytes: number) => void) | undefined;
  resolve: (value: Fingerprint) => void;
  reject: (error: FingerprintError) => void;
}

/**
 * Worker threads that hash files in parallel, one file per worker at a time. Each worker reads and
 * hashes on its own core; the main thread only dispatches and counts progress.
 *
 * Starting the threads costs about a tenth of a second; a long-running process (the bridge, a farm
 * service) creates one pool and passes it to every `fingerprintFiles` call as `workers`.
 * Close it when done (`await using` does).
 *
 * @example
 * ```ts
 * import { fingerprintFiles, HashPool } from "./mod.ts";
 *
 * await using workers = new HashPool({ size: 2 });
 * const path = await Deno.makeTempFile();
 * const [digest] = await fingerprintFiles([path], { workers });
 * console.assert(digest!.size === 0);
 * await Deno.remove(path);
 * ```
 */
export class HashPool implements AsyncDisposable {
  #workers: Worker[] = [];
  #idle: Worker[] = [];
  #queue: Array<{ id: number } & Job> = [];
  #running = new Map<number, Job>();
  #nextId = 1;
  #closed = false;

  /** Starts `size` worker threads (default: one per core). */
  constructor(options: { size?: number } = {}) {
    const { size = availableParallelism() } = options;
    if (!Number.isSafeInteger(size) || size < 1) {
      throw new RangeError(`Cannot start a hash pool of '${size}' threads: it must be a whole number ≥ 1`);
    }
    this.size = size;
    for (let i = 0; i < size; i++) {
      const worker = new Worker(workerUrl());
      worker.on("message", (message: HashResponse) => this.#receive(worker, message));
      worker.on("error", (error: Error) => this.#failAll(error));
      this.#workers.push(worker);
      this.#idle.push(worker);
    }
  }

  /** How many threads the pool has. */
  readonly size: number;

  /**
   * Hashes one file on the next free worker with blocking reads of `chunkSize` bytes;
   * `onProgress` gets byte counts about every 16 MiB and at the end.
   */
  hash(path: string, options: HashJobOptions = {}): Promise<Fingerprint> {
    const { algorithm = "sha1", chunkSize = SYNC_CHUNK_SIZE, onProgress } = options;
    if (this.#closed) return Promise.reject(new FingerprintError(path, "aborted", "the hash pool is closed"));
    return new Promise((resolve, reject) => {
      this.#queue.push({ id: this.#nextId++, path, algorithm, chunkSize, onProgress, resolve, reject });
      this.#dispatch();
    });
  }

  /** Same as `close()`, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** Stops every worker; queued and running files reject as aborted. */
  async close(): Promise<void> {
    this.#closed = true;
    const aborted = (job: Job) => job.reject(new FingerprintError(job.path, "aborted", "the hash pool was closed"));
    for (const job of this.#queue) aborted(job);
    for (const job of this.#running.values()) aborted(job);
    this.#queue = [];
    this.#running.clear();
    await Promise.all(this.#workers.map((worker) => worker.terminate()));
  }

  #dispatch(): void {
    while (this.#idle.length > 0 && this.#queue.length > 0) {
      const worker = this.#idle.pop()!;
      const job = this.#queue.shift()!;
      this.#running.set(job.id, job);
      const request: HashRequest = { id: job.id, path: job.path, algorithm: job.algorithm, chunkSize: job.chunkSize };
      worker.postMessage(request);
    }
  }

  #receive(worker: Worker, message: HashResponse): void {
    const job = this.#running.get(message.id);
    if (message.kind === "progress") {
      job?.onProgress?.(message.bytes);
      return;
    }
    if (message.unreported > 0) job?.onProgress?.(message.unreported);
    this.#running.delete(message.id);
    this.#idle.push(worker);
    if (job !== undefined) {
      if (message.kind === "done") {
        job.resolve({ algorithm: job.algorithm, hex: message.hex, size: message.size });
      } else {
        const problem = message.problem as FingerprintProblem;
        const reason = message.message.replace(`Cannot fingerprint '${message.path}': `, "");
        job.reject(new FingerprintError(message.path, problem, reason));
      }
    }
    this.#dispatch();
  }

  #failAll(error: Error): void {
    for (const job of [...this.#running.values(), ...this.#queue]) {
      job.reject(
        new FingerprintError(job.path, "failed", `the hash worker crashed: ${error.message}`, { cause: error }),
      );
    }
    this.#queue = [];
    this.#running.clear();
  }
}
