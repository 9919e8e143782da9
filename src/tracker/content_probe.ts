/**
 * The probe of a large file's content: its size and the SHA-1 of a few sampled blocks, a cheap
 * way to find stored content that may be the same before reading a whole file (see `uploadFiles`).
 *
 * Why these blocks: the start holds a file's header (an EXR header and its offset table, a
 * movie's first atoms), the end what is written last (a movie's index, an EXR's last tiles), and
 * two blocks evenly between sample the image data, which frames of one shot do not share even when
 * their headers and black borders match (start and end alone would find many false candidates in
 * a plate). 256 KiB each keeps the cost at 1 MiB per file (about 1.5 % of a 64 MiB frame) where
 * reading is what costs (network storage); the size, part of the probe, tells most other files
 * apart already. A probe only says which file is worth hashing whole: the SHA-1 decides.
 *
 * @module
 */
import { createHash, type Hash } from "node:crypto";

/** Bytes of each sampled block. */
export const PROBE_BLOCK = 256 * 1024;

/** Blocks sampled: the first, the last, and two evenly between them. */
export const PROBE_BLOCKS = 4;

/**
 * Contents smaller than this have no probe (they are read whole to be hashed and sent anyway):
 * the tracker records probes from this size, and the uploader asks by probe from it.
 */
export const PROBE_MIN_SIZE = 2 * 1024 * 1024;

/** A file's probe, as the uploader sends it (`ferry_probe` on `get_upload_metadata`). */
export interface ContentProbe {
  size: number;
  /** SHA-1 (hex) of the version tag, the size and the sampled blocks' own SHA-1s. */
  digest: string;
}

/** The byte ranges `[start, end)` a probe of a `size`-byte file samples, in order (they may overlap in small files). */
export function probeRanges(size: number): Array<[number, number]> {
  if (!Number.isSafeInteger(size) || size < 0) {
    throw new RangeError(`Cannot probe a file of size '${size}': it must be a whole number ≥ 0`);
  }
  const block = Math.min(PROBE_BLOCK, size);
  const ranges: Array<[number, number]> = [];
  for (let i = 0; i < PROBE_BLOCKS; i++) {
    const start = Math.floor(i * (size - block) / (PROBE_BLOCKS - 1));
    ranges.push([start, start + block]);
  }
  return ranges;
}

/**
 * Computes a probe from bytes given at their positions in the file: in one sequential pass (the
 * tracker as an upload arrives) or block by block (the uploader reading only the sampled ranges).
 * Bytes outside the ranges, and bytes a range has had already, are ignored.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { ProbeHasher } from "./content_probe.ts";
 *
 * const bytes = new Uint8Array(3 * 1024 * 1024).fill(7);
 * const streamed = new ProbeHasher(bytes.length);
 * for (let at = 0; at < bytes.length; at += 65536) streamed.update(bytes.subarray(at, at + 65536), at);
 * const sampled = new ProbeHasher(bytes.length);
 * for (const [start, end] of sampled.ranges) sampled.update(bytes.subarray(start, end), start);
 * ok(streamed.digest() === sampled.digest());
 * ```
 */
export class ProbeHasher {
  readonly size: number;
  readonly ranges: ReadonlyArray<readonly [number, number]>;
  #hashes: Hash[];
  /** The next position each range waits for. */
  #next: number[];

  constructor(size: number) {
    this.size = size;
    this.ranges = probeRanges(size);
    this.#hashes = this.ranges.map(() => createHash("sha1"));
    this.#next = this.ranges.map(([start]) => start);
  }

  /** Bytes of the file starting at `position`. */
  update(chunk: Uint8Array, position: number): void {
    const end = position + chunk.length;
    this.ranges.forEach(([, rangeEnd], i) => {
      const next = this.#next[i]!;
      if (next >= rangeEnd || next < position || next >= end) return;
      const until = Math.min(rangeEnd, end);
      this.#hashes[i]!.update(chunk.subarray(next - position, until - position));
      this.#next[i] = until;
    });
  }

  /** Whether every sampled byte was given. */
  get complete(): boolean {
    return this.ranges.every(([, end], i) => this.#next[i]! >= end);
  }

  /** The probe's digest; throws when a sampled range was not given whole. */
  digest(): string {
    if (!this.complete) {
      throw new RangeError(`Cannot take the probe of a ${this.size}-byte file: its sampled blocks were not all given`);
    }
    const outer = createHash("sha1").update(`ferry-probe-1\n${this.size}\n`);
    for (const hash of this.#hashes) outer.update(hash.digest());
    return outer.digest("hex");
  }
}

/** A file open for positioned reads (the part of `node:fs/promises`' `FileHandle` used here). */
export interface PositionedReader {
  read(buffer: Uint8Array, offset: number, length: number, position: number): Promise<{ bytesRead: number }>;
}

/**
 * Reads a file's sampled blocks (`PROBE_BLOCKS` × `PROBE_BLOCK` bytes at most) and returns its
 * probe. `size` is the file's size as stat'ed; a file shorter than that is an error.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { open } from "node:fs/promises";
 * import { probeFile } from "./content_probe.ts";
 *
 * const path = await Deno.makeTempFile();
 * await Deno.writeFile(path, new Uint8Array(4 * 1024 * 1024));
 * const handle = await open(path);
 * const probe = await probeFile(handle, 4 * 1024 * 1024);
 * await handle.close();
 * ok(probe.size === 4 * 1024 * 1024 && /^[0-9a-f]{40}$/.test(probe.digest));
 * await Deno.remove(path);
 * ```
 */
export async function probeFile(file: PositionedReader, size: number): Promise<ContentProbe> {
  const hasher = new ProbeHasher(size);
  const buffer = new Uint8Array(Math.min(PROBE_BLOCK, size));
  for (const [start, end] of hasher.ranges) {
    let filled = 0;
    while (filled < end - start) {
      const { bytesRead } = await file.read(buffer, filled, end - start - filled, start + filled);
      if (bytesRead === 0) {
        throw new RangeError(`Cannot probe a file of ${size} bytes: it ended at ${start + filled}`);
      }
      filled += bytesRead;
    }
    hasher.update(buffer.subarray(0, end - start), start);
  }
  return { size, digest: hasher.digest() };
}
