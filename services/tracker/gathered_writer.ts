import type { BufferPool } from "../../src/buffers/buffer_pool.ts";

/** Options of {@linkcode GatheredWriter}. */
export interface GatheredWriterOptions {
  /** Where the gather buffers come from and go back to. */
  pool: BufferPool;
  /** Bytes gathered before one write. @default {4194304} */
  bufferBytes?: number;
}

/**
 * Gathers the small pieces of a request body into large writes that run behind the reader: `push`
 * copies and returns at once, the writes run one after the other, and `pendingBytes` tells the
 * reader how far the disk is behind so that it can wait (`whenBelow`) before memory grows.
 *
 * Reading a request body must not wait for a disk write between two reads: with Deno's HTTP
 * server, a body read again only after the event loop has turned costs a copy of what the
 * connection has buffered, which made large uploads quadratic (issue 8, item 9).
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { BufferPool } from "../../src/buffers/buffer_pool.ts";
 * import { GatheredWriter } from "./gathered_writer.ts";
 *
 * const path = await Deno.makeTempFile();
 * const file = await Deno.open(path, { write: true });
 * const writer = new GatheredWriter(file, { pool: new BufferPool({ minimumBytes: 4 }), bufferBytes: 4 });
 * writer.push(new Uint8Array([1, 2, 3]));
 * writer.push(new Uint8Array([4, 5, 6]));
 * await writer.finish();
 * file.close();
 * ok((await Deno.readFile(path)).join() === "1,2,3,4,5,6");
 * await Deno.remove(path);
 * ```
 */
export class GatheredWriter {
  #file: Deno.FsFile;
  #pool: BufferPool;
  #bufferBytes: number;
  #buffer: Uint8Array<ArrayBuffer> | undefined;
  #filled = 0;
  #pending = 0;
  #chain: Promise<void> = Promise.resolve();
  #failure: unknown;
  #waiters: Array<{ below: number; wake: () => void }> = [];

  constructor(file: Deno.FsFile, options: GatheredWriterOptions) {
    const { pool, bufferBytes = 4 * 1024 * 1024 } = options;
    if (!Number.isSafeInteger(bufferBytes) || bufferBytes < 1) {
      throw new RangeError(`Cannot gather writes in '${bufferBytes}'-byte buffers: it must be a whole number ≥ 1`);
    }
    this.#file = file;
    this.#pool = pool;
    this.#bufferBytes = bufferBytes;
  }

  /** Bytes of full buffers handed to the disk and not written yet. */
  get pendingBytes(): number {
    return this.#pending;
  }

  /** Copies `chunk` for writing; throws the first write error once one has failed. */
  push(chunk: Uint8Array): void {
    if (this.#failure !== undefined) throw this.#failure;
    for (let offset = 0; offset < chunk.length;) {
      this.#buffer ??= this.#pool.take(this.#bufferBytes);
      const take = Math.min(this.#bufferBytes - this.#filled, chunk.length - offset);
      this.#buffer.set(chunk.subarray(offset, offset + take), this.#filled);
      this.#filled += take;
      offset += take;
      if (this.#filled === this.#bufferBytes) this.#flush();
    }
  }

  /** Resolves once at most `bytes` are waiting to be written (rejects with a write error). */
  async whenBelow(bytes: number): Promise<void> {
    if (this.#pending > bytes && this.#failure === undefined) {
      await new Promise<void>((wake) => this.#waiters.push({ below: bytes, wake }));
    }
    if (this.#failure !== undefined) throw this.#failure;
  }

  /** Writes what is left and waits for every write; rejects with the first write error. */
  async finish(): Promise<void> {
    if (this.#filled > 0) this.#flush();
    await this.#chain;
    if (this.#failure !== undefined) throw this.#failure;
  }

  /** Returns the buffers to the pool after a failure or once finished (idempotent). */
  async release(): Promise<void> {
    await this.#chain;
    if (this.#buffer) this.#pool.give(this.#buffer);
    this.#buffer = undefined;
    this.#filled = 0;
  }

  #flush(): void {
    const buffer = this.#buffer!;
    const length = this.#filled;
    this.#buffer = undefined;
    this.#filled = 0;
    this.#pending += length;
    this.#chain = this.#chain.then(async () => {
      try {
        if (this.#failure === undefined) {
          for (let written = 0; written < length;) {
            written += await this.#file.write(buffer.subarray(written, length));
          }
        }
      } catch (error) {
        this.#failure = error;
      } finally {
        this.#pending -= length;
        this.#pool.give(buffer);
        this.#waiters = this.#waiters.filter((waiter) => {
          if (this.#pending > waiter.below && this.#failure === undefined) return true;
          waiter.wake();
          return false;
        });
      }
    });
  }
}
