/** Options of {@linkcode BufferPool}. */
export interface BufferPoolOptions {
  /** Smallest buffer made; larger requests get the next power of two. @default {1048576} */
  minimumBytes?: number;
  /** How many returned buffers are kept for reuse. @default {16} */
  keep?: number;
}

/**
 * Reusable byte buffers for hot I/O loops (uploads sent, uploads received): a fresh large buffer
 * costs page faults and zeroing on every use, a returned one costs nothing. Buffers come in powers
 * of two from `minimumBytes`, so one buffer serves requests of many sizes.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { BufferPool } from "./buffer_pool.ts";
 *
 * const pool = new BufferPool({ minimumBytes: 1024 });
 * const first = pool.take(1500);
 * ok(first.length === 2048);
 * pool.give(first);
 * ok(pool.take(700) === first);
 * ```
 */
export class BufferPool {
  #spare: Uint8Array<ArrayBuffer>[] = [];
  #minimumBytes: number;
  #keep: number;

  constructor(options: BufferPoolOptions = {}) {
    const { minimumBytes = 1024 * 1024, keep = 16 } = options;
    if (!Number.isSafeInteger(minimumBytes) || minimumBytes < 1) {
      throw new RangeError(
        `Cannot make a buffer pool of '${minimumBytes}'-byte buffers: it must be a whole number ≥ 1`,
      );
    }
    this.#minimumBytes = minimumBytes;
    this.#keep = keep;
  }

  /** A buffer of at least `bytes` bytes (its contents are whatever was left in it). */
  take(bytes: number): Uint8Array<ArrayBuffer> {
    const at = this.#spare.findIndex((buffer) => buffer.length >= bytes);
    if (at >= 0) return this.#spare.splice(at, 1)[0]!;
    let capacity = this.#minimumBytes;
    while (capacity < bytes) capacity *= 2;
    return new Uint8Array(capacity);
  }

  /** Returns a buffer taken from this pool; it must no longer be used by the giver. */
  give(buffer: Uint8Array<ArrayBuffer>): void {
    if (this.#spare.length < this.#keep) this.#spare.push(buffer);
  }
}
