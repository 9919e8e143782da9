import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { SYNC_CHUNK_SIZE } from "./_hash_file_sync.ts";
import type { HashAlgorithm } from "./algorithm.ts";
import { FingerprintError, type FingerprintProblem } from "./fingerprint_error.ts";
import type { Fingerprint } from "./fingerprint_file.ts";
import type { HashRequest, HashResponse } from "./_hash_messages.ts";

/** The worker module next to this one, with this module's own extension (.ts from source, .js when built). */
function defaultWorkerUrl(): URL {
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
  id: number;
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
 * import { ok } from "node:assert/strict";
 * import { fingerprintFiles, HashPool } from "./mod.ts";
 *
 * await using workers = new HashPool({ size: 2 });
 * const path = await Deno.makeTempFile();
 * const [digest] = await fingerprintFiles([path], { workers });
 * ok(digest!.size === 0);
 * await Deno.remove(path);
 * ```
 */
export class HashPool implements AsyncDisposable {
  #workers = new Set<Worker>();
  #idle: Worker[] = [];
  #queue: Job[] = [];
  /** The job each busy worker runs. */
  #running = new Map<Worker, Job>();
  #nextId = 1;
  #closed = false;
  #workerUrl: URL;

  /**
   * Starts `size` worker threads (default: one per core). A worker that crashes fails only the
   * file it was hashing and is replaced. `workerUrl` points at the worker module when a build puts
   * it elsewhere.
   */
  constructor(options: { size?: number; workerUrl?: URL } = {}) {
    const { size = availableParallelism(), workerUrl = defaultWorkerUrl() } = options;
    if (!Number.isSafeInteger(size) || size < 1) {
      throw new RangeError(`Cannot start a hash pool of '${size}' threads: it must be a whole number ≥ 1`);
    }
    this.size = size;
    this.#workerUrl = workerUrl;
    for (let i = 0; i < size; i++) this.#idle.push(this.#start());
  }

  #start(): Worker {
    const worker = new Worker(this.#workerUrl);
    let failed = false;
    const fail = (error: Error) => {
      if (failed || !this.#workers.has(worker)) return;
      failed = true;
      this.#replace(worker, error);
    };
    worker.on("message", (message: HashResponse) => this.#receive(worker, message));
    worker.on("error", fail);
    worker.on("exit", (code: number) => fail(new Error(`it exited with code ${code}`)));
    this.#workers.add(worker);
    return worker;
  }

  /** Fails the file a dead worker was hashing, and starts another worker in its place. */
  #replace(worker: Worker, error: Error): void {
    this.#workers.delete(worker);
    this.#idle = this.#idle.filter((other) => other !== worker);
    const job = this.#running.get(worker);
    this.#running.delete(worker);
    void worker.terminate();
    job?.reject(
      new FingerprintError(job.path, "failed", `the hash worker crashed: ${error.message}`, { cause: error }),
    );
    if (this.#closed) return;
    this.#idle.push(this.#start());
    this.#dispatch();
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
    const workers = [...this.#workers];
    this.#workers.clear();
    this.#idle = [];
    await Promise.all(workers.map((worker) => worker.terminate()));
  }

  #dispatch(): void {
    while (this.#idle.length > 0 && this.#queue.length > 0) {
      const worker = this.#idle.pop()!;
      const job = this.#queue.shift()!;
      this.#running.set(worker, job);
      const request: HashRequest = { id: job.id, path: job.path, algorithm: job.algorithm, chunkSize: job.chunkSize };
      worker.postMessage(request);
    }
  }

  #receive(worker: Worker, message: HashResponse): void {
    const running = this.#running.get(worker);
    const job = running?.id === message.id ? running : undefined;
    if (message.kind === "progress") {
      job?.onProgress?.(message.bytes);
      return;
    }
    if (message.unreported > 0) job?.onProgress?.(message.unreported);
    this.#running.delete(worker);
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
}
