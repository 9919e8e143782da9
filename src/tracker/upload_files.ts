import { createHash } from "node:crypto";
import type { Session } from "@ftrack/api";
import { mapLimit } from "../async/map_limit.ts";
import { HashPool } from "../fingerprint/hash_pool.ts";
import { giveReadBuffer, takeReadBuffer, WHOLE_FILE_LIMIT } from "./_read_buffers.ts";
import { type ContentProbe, PROBE_MIN_SIZE, probeFile } from "./content_probe.ts";
import { offersContentReuse } from "./reuse_content.ts";
import {
  type HeldContent,
  type OpenFile,
  openForReading,
  UploadError,
  uploadFile,
  type UploadTarget,
  uploadTargets,
} from "./upload_file.ts";

/** One file for {@linkcode uploadFiles}. */
export interface UploadFilesItem {
  /** The component the data belongs to (created before the upload). */
  componentId: string;
  /** Local file. */
  path: string;
  /** Name with extension given to the server. */
  fileName: string;
  /** Its size in bytes, as planned (the upload checks the file's own). */
  size: number;
  /**
   * The SHA-1 of the file's bytes when known without reading it (a fingerprint taken earlier, or
   * the one recorded for the same unchanged file by the last version): asked about first.
   */
  sha1?: string;
}

/** What became of one file. */
export type UploadOutcome =
  | {
    kind: "uploaded";
    hex: string;
    size: number;
    /**
     * A large file whose probe matched stored content that its SHA-1 then did not (a false
     * candidate): read twice, hashed then sent.
     */
    probed?: true;
  }
  | {
    kind: "reused";
    hex: string;
    size: number;
    /** Found by reading and hashing the file (else by the SHA-1 it came with). */
    hashed: boolean;
    /** A large file found by its probe, then hashed whole (see {@linkcode uploadFiles}). */
    probed?: true;
  };

/** Options of {@linkcode uploadFiles}. */
export interface UploadFilesOptions {
  /** Uploads in flight at once. @default {4} */
  concurrency?: number;
  /**
   * Bytes of files read ahead and held in memory while the tracker is asked about them (at least
   * one file is always held). @default {134217728} (128 MiB)
   */
  memoryBytes?: number;
  /**
   * Files up to this size are read into memory whole: hashed once, asked about, and sent from the
   * same buffer. Larger files (from `PROBE_MIN_SIZE`, 2 MiB) are asked about by their probe (size
   * and a few sampled blocks), hashed whole only when the tracker has a candidate, else streamed.
   * @default {33554432} (32 MiB)
   */
  wholeFileLimit?: number;
  /**
   * Where large files found as candidates by their probe are hashed: a given pool of worker
   * threads; `"workers"`: a pool of up to `concurrency` threads started at the first candidate and
   * closed at the end; `"this-thread"`: read through `openFile` on this thread (a test counting
   * reads). @default {"workers"}
   */
  hashLarge?: HashPool | "workers" | "this-thread";
  /** Most files asked about in one call. @default {200} */
  askBatch?: number;
  /**
   * Bytes that will be transferred, told once the files with a known SHA-1 were asked about (those
   * the tracker holds are not counted); told again with a large file's size when it must be sent
   * after it was hashed whole (a false candidate, read twice).
   */
  onExpect?: (bytes: number) => void;
  /**
   * Bytes done as they go: sent, hashed (a large file found as a candidate), or found held by the
   * tracker after the file was read (bytes counted in `onExpect` that need no sending).
   */
  onProgress?: (bytes: number) => void;
  /** Each file once it is stored, uploaded or reused; awaited before that lane goes on. */
  onFile?: (file: UploadFilesItem, outcome: UploadOutcome) => void | Promise<void>;
  signal?: AbortSignal;
  /** See `UploadFileOptions.idleTimeout`. */
  idleTimeout?: number;
  /** How files are opened (a test may count what is read). @default {node:fs/promises `open`} */
  openFile?: OpenFile;
}

/** A file on its way: what is known of it, and its grant once asked. */
interface Pending {
  file: UploadFilesItem;
  content?: HeldContent;
  target?: UploadTarget;
  /** A large file's probe, asked about instead of a SHA-1. */
  probe?: ContentProbe;
  /** The tracker has a candidate for the probe: the file is to be hashed whole and asked again. */
  candidate?: boolean;
  /** The SHA-1 of a large file hashed whole (after its probe found a candidate). */
  hex?: string;
}

/** `get_upload_metadata`'s answer from a tracker that holds the content (see `ferry_sha1`, `ferry_probe`). */
interface Granted extends Partial<UploadTarget> {
  ferry_reused?: boolean;
  ferry_candidate?: boolean;
}

/**
 * Uploads many files to the tracker's `ftrack.server` storage, sending only what it does not hold.
 *
 * On a tracker that offers content reuse (ferry's embedded tracker: `ferry_content_reuse` in its
 * server information), the upload grant is asked with the SHA-1 of the bytes (`get_upload_metadata`
 * with `ferry_sha1`), and a tracker that holds that content, readable by the caller, links the
 * component to it and answers `ferry_reused` instead of a URL: nothing is sent. Files with a known
 * SHA-1 are asked about first, without being read. Other files up to `wholeFileLimit` are read once
 * into memory (at most `memoryBytes` at a time), hashed, asked about in batches, and sent from the
 * same buffer when not held. Larger files are not read whole just to ask: they are asked about by
 * their probe (`ferry_probe`: the size and the SHA-1 of four sampled 256 KiB blocks, see
 * `content_probe.ts`), and stream as usual when the tracker has no content of that size and probe
 * readable by the caller. When it has (a candidate), the file is hashed whole (on worker threads,
 * see `hashLarge`) and asked about by its SHA-1: held, it is linked and read once; not held (a false
 * candidate: same size and sampled blocks, other bytes elsewhere, which is rare) it is sent, the
 * only case a file is read twice.
 *
 * On any other tracker (an ftrack site), the grants are asked in batches and every file is
 * uploaded, exactly as {@linkcode uploadFile} does one.
 *
 * Each file is verified as {@linkcode uploadFile} verifies it. The first failure stops new work
 * and is thrown once the uploads in flight have settled.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { uploadFiles } from "./upload_files.ts";
 * import type { Session } from "@ftrack/api";
 *
 * // Nothing to upload: nothing is asked.
 * const done = await uploadFiles({} as Session, []);
 * ok(done.size === 0);
 * ```
 */
export async function uploadFiles(
  session: Session,
  files: ReadonlyArray<UploadFilesItem>,
  options: UploadFilesOptions = {},
): Promise<Map<string, UploadOutcome>> {
  const {
    concurrency = 4,
    memoryBytes = 128 * 1024 * 1024,
    wholeFileLimit = WHOLE_FILE_LIMIT,
    askBatch = 200,
    onExpect,
    onProgress,
    onFile,
    signal,
    idleTimeout,
    openFile = openForReading,
    hashLarge = "workers",
  } = options;
  for (const [name, value] of [["concurrency", concurrency], ["askBatch", askBatch]] as const) {
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new RangeError(`Cannot upload files with ${name} '${value}': it must be a whole number ≥ 1`);
    }
  }
  if (!(memoryBytes >= 0) || !(wholeFileLimit >= 0)) {
    throw new RangeError(
      `Cannot upload files with memoryBytes '${memoryBytes}' and wholeFileLimit '${wholeFileLimit}': they must be ≥ 0`,
    );
  }
  const outcomes = new Map<string, UploadOutcome>();
  if (files.length === 0) return outcomes;
  const finish = async (file: UploadFilesItem, outcome: UploadOutcome) => {
    outcomes.set(file.componentId, outcome);
    await onFile?.(file, outcome);
  };
  let startedPool: HashPool | undefined;
  /** The SHA-1 of a whole large file, hashed as `hashLarge` says; its bytes are counted as done. */
  const hashWhole = async (file: UploadFilesItem): Promise<string> => {
    if (hashLarge === "this-thread") return await hashThroughOpener(file, { openFile, onProgress, signal });
    const pool = hashLarge === "workers"
      ? (startedPool ??= new HashPool({ size: Math.min(concurrency, 2) }))
      : hashLarge;
    const hashing = pool.hash(file.path, { algorithm: "sha1", chunkSize: 2 * 1024 * 1024, onProgress });
    // An abort does not wait for a large file's hashing to end (a pool started here is closed then).
    let stop: (() => void) | undefined;
    const aborted = signal === undefined ? undefined : new Promise<never>((_, reject) => {
      stop = () => reject(signal.reason);
      if (signal.aborted) stop();
      else signal.addEventListener("abort", stop, { once: true });
    });
    aborted?.catch(() => {});
    hashing.catch(() => {});
    let digest;
    try {
      digest = await (aborted === undefined ? hashing : Promise.race([hashing, aborted]));
    } finally {
      if (stop !== undefined) signal?.removeEventListener("abort", stop);
    }
    if (digest.size !== file.size) {
      throw new UploadError(
        file.path,
        `it changed while it was hashed (${file.size} bytes expected, ${digest.size} read)`,
      );
    }
    return digest.hex;
  };
  /** Uploads `file` (from its held `content` when there is one) to `target`, then records it. */
  const send = async ({ file, target, content }: Pick<Pending, "file" | "target" | "content">, probed: boolean) => {
    const uploaded = await uploadFile(session, {
      componentId: file.componentId,
      path: file.path,
      fileName: file.fileName,
      onProgress,
      signal,
      target,
      idleTimeout,
      content,
      openFile,
    });
    await finish(file, { kind: "uploaded", hex: uploaded.hex, size: uploaded.size, ...(probed ? { probed } : {}) });
  };
  const upload = async (item: Pending) => {
    signal?.throwIfAborted();
    if (item.candidate) {
      // The tracker holds content of this size and probe: the whole file's SHA-1 says if it is this one.
      const hex = await hashWhole(item.file);
      signal?.throwIfAborted();
      const [toSend] = await ask([{ file: item.file, hex }], true);
      if (toSend === undefined) return;
      onExpect?.(item.file.size);
      await send({ file: item.file, target: toSend.target }, true);
      return;
    }
    await send(item, false);
  };

  if (!offersContentReuse(session)) {
    onExpect?.(files.reduce((sum, file) => sum + file.size, 0));
    const targets = await uploadTargets(session, files);
    await mapLimit(files, concurrency, (file) => upload({ file, target: targets.get(file.componentId) }));
    return outcomes;
  }

  /**
   * Asks for the grants of `items` (with their SHA-1 where known, else their probe); returns those
   * still to send, and those whose probe found a candidate (`candidate`, no grant).
   */
  const ask = async (items: Pending[], hashed: boolean): Promise<Pending[]> => {
    const answers = await session.call<Granted>(items.map((item) => {
      const sha1 = item.content?.hex ?? item.hex ?? item.file.sha1;
      return {
        action: "get_upload_metadata",
        component_id: item.file.componentId,
        file_name: item.file.fileName,
        file_size: item.content?.size ?? item.file.size,
        ...(sha1 ? { ferry_sha1: sha1 } : item.probe ? { ferry_probe: item.probe } : {}),
      };
    }) as never[]);
    const toSend: Pending[] = [];
    try {
      for (const [at, item] of items.entries()) {
        const answer = answers[at];
        const sha1 = item.content?.hex ?? item.hex ?? item.file.sha1;
        if (answer?.ferry_reused === true && sha1) {
          const size = item.content?.size ?? item.file.size;
          item.content?.release();
          // A large file hashed whole had its bytes counted as it was hashed.
          if (hashed && item.hex === undefined) onProgress?.(size);
          await finish(item.file, {
            kind: "reused",
            hex: sha1,
            size,
            hashed,
            ...(item.hex !== undefined ? { probed: true } : {}),
          });
        } else if (answer?.ferry_candidate === true && !sha1 && item.probe) {
          toSend.push({ ...item, candidate: true });
        } else {
          if (!answer?.url) {
            item.content?.release();
            throw new UploadError(item.file.path, "the tracker gave no upload URL");
          }
          toSend.push({ ...item, target: answer as UploadTarget });
        }
      }
    } catch (error) {
      // Nothing of this batch is sent: its memory goes back.
      for (const item of items) item.content?.release();
      throw error;
    }
    return toSend;
  };

  // Files whose SHA-1 is known: asked about without reading them.
  const known = files.filter((file) => file.sha1 !== undefined);
  const rest = files.filter((file) => file.sha1 === undefined);
  const granted: Pending[] = [];
  for (let i = 0; i < known.length; i += askBatch) {
    signal?.throwIfAborted();
    granted.push(...await ask(known.slice(i, i + askBatch).map((file) => ({ file })), false));
  }
  onExpect?.([...granted.map((item) => item.file), ...rest].reduce((sum, file) => sum + file.size, 0));
  try {
    await new ReadAhead(rest, granted, { concurrency, memoryBytes, wholeFileLimit, askBatch, signal, openFile })
      .run((items) => ask(items, true), upload);
  } finally {
    await startedPool?.close();
  }
  return outcomes;
}

/** What files of one content share in a run: the SHA-1 of bytes held, else a large file's probe. */
function keyOf(item: Pending): string | undefined {
  if (item.content !== undefined) return item.content.hex;
  return item.probe === undefined ? undefined : `probe:${item.probe.size}:${item.probe.digest}`;
}

/** The SHA-1 of a whole file read through `openFile` on this thread, checked not to change meanwhile. */
async function hashThroughOpener(
  file: UploadFilesItem,
  options: { openFile: OpenFile; onProgress?: ((bytes: number) => void) | undefined; signal?: AbortSignal | undefined },
): Promise<string> {
  const { openFile, onProgress, signal } = options;
  const handle = await openFile(file.path).catch((error: NodeJS.ErrnoException) => {
    throw new UploadError(file.path, error.code === "ENOENT" ? "it does not exist" : error.message, { cause: error });
  });
  try {
    const before = await handle.stat();
    const hash = createHash("sha1");
    const buffer = new Uint8Array(Math.min(2 * 1024 * 1024, Math.max(before.size, 1)));
    let position = 0;
    while (position < before.size) {
      signal?.throwIfAborted();
      const { bytesRead } = await handle.read(buffer, 0, Math.min(buffer.length, before.size - position), position);
      if (bytesRead === 0) break;
      hash.update(buffer.subarray(0, bytesRead));
      position += bytesRead;
      onProgress?.(bytesRead);
    }
    const after = await handle.stat();
    if (position !== file.size || after.size !== before.size || after.mtimeMs !== before.mtimeMs) {
      throw new UploadError(
        file.path,
        `it changed while it was hashed (${file.size} bytes expected, ${position} read, ${after.size} now)`,
      );
    }
    return hash.digest("hex");
  } finally {
    await handle.close();
  }
}

/** A large file's probe (its sampled blocks read through `openFile`), checked against its planned size. */
async function probeOf(file: UploadFilesItem, openFile: OpenFile): Promise<ContentProbe> {
  const handle = await openFile(file.path).catch((error: NodeJS.ErrnoException) => {
    throw new UploadError(file.path, error.code === "ENOENT" ? "it does not exist" : error.message, { cause: error });
  });
  try {
    const { size } = await handle.stat();
    if (size !== file.size) {
      throw new UploadError(file.path, `it changed since it was planned (${file.size} bytes expected, ${size} now)`);
    }
    return await probeFile(handle, size);
  } finally {
    await handle.close();
  }
}

interface ReadAheadOptions {
  concurrency: number;
  memoryBytes: number;
  wholeFileLimit: number;
  askBatch: number;
  signal: AbortSignal | undefined;
  openFile: OpenFile;
}

/**
 * The pipeline of {@linkcode uploadFiles} for files without a known SHA-1: a reader fills a batch
 * (small files read whole and hashed; large ones as they are), the batch is asked about when it is
 * full, when memory is, or when the uploaders are about to run dry, and upload lanes send what the
 * tracker does not hold.
 */
class ReadAhead {
  #files: ReadonlyArray<UploadFilesItem>;
  #ready: Pending[];
  #options: ReadAheadOptions;
  #batch: Pending[] = [];
  /**
   * Contents (by SHA-1, or by probe for large files) met in this run and not yet stored: later
   * files with the same bytes (the black frames of a plate, a movie given twice) wait here until
   * the first is, then are asked about again and linked.
   */
  #duplicates = new Map<string, Pending[]>();
  #held = 0;
  #reading = true;
  #failure: { error: unknown } | undefined;
  /** Woken when something changes: memory freed, files ready, reading done, a failure. */
  #waiters: Array<() => void> = [];

  constructor(files: ReadonlyArray<UploadFilesItem>, ready: Pending[], options: ReadAheadOptions) {
    this.#files = files;
    this.#ready = [...ready];
    this.#options = options;
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }

  #changed(): Promise<void> {
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  #fail(error: unknown): void {
    this.#failure ??= { error };
    this.#wake();
  }

  #check(): void {
    if (this.#failure) throw this.#failure.error;
    this.#options.signal?.throwIfAborted();
  }

  async run(ask: (items: Pending[]) => Promise<Pending[]>, upload: (item: Pending) => Promise<void>): Promise<void> {
    /** Asks about `items`; the first of each content is asked now, its duplicates once it is stored. */
    const askNow = async (items: Pending[]) => {
      const first: Pending[] = [];
      for (const item of items) {
        const hex = keyOf(item);
        const waiting = hex === undefined ? undefined : this.#duplicates.get(hex);
        if (waiting) waiting.push(item);
        else {
          if (hex !== undefined) this.#duplicates.set(hex, []);
          first.push(item);
        }
      }
      const toSend = await ask(first);
      this.#ready.push(...toSend);
      this.#wake();
      // Contents the tracker holds already: their duplicates are asked about at once.
      const sending = new Set(toSend.map(keyOf));
      for (const item of first) {
        const hex = keyOf(item);
        if (hex !== undefined && !sending.has(hex)) await stored(hex);
      }
    };
    /** A content is stored: the files waiting with the same bytes are asked about (and linked). */
    const stored = async (hex: string) => {
      const waiting = this.#duplicates.get(hex);
      this.#duplicates.delete(hex);
      if (waiting !== undefined && waiting.length > 0) await askNow(waiting);
    };
    // Batches are asked about while the reader goes on (at most two at once): the tracker's answer
    // may take a while when it is busy receiving the uploads in flight.
    const asking = new Set<Promise<void>>();
    const flush = () => {
      if (this.#batch.length === 0) return;
      const batch = this.#batch;
      this.#batch = [];
      const asked: Promise<void> = askNow(batch).catch((error) => this.#fail(error)).finally(() => {
        asking.delete(asked);
        this.#wake();
      });
      asking.add(asked);
    };
    let busy = 0;
    const reader = async () => {
      const { memoryBytes, wholeFileLimit, askBatch, concurrency } = this.#options;
      try {
        for (const file of this.#files) {
          this.#check();
          if (file.size <= wholeFileLimit) {
            // Room for it: what is read is asked about, then the uploads (or links) free memory.
            if (this.#held > 0 && this.#held + file.size > memoryBytes) {
              // Memory is full: read on once half of it is free, so that batches stay large (few
              // calls) rather than one file per buffer freed.
              flush();
              while (this.#held > 0 && this.#held + file.size > memoryBytes / 2) {
                await this.#changed();
                this.#check();
              }
            }
            const content = await this.#read(file);
            this.#batch.push({ file, content });
          } else if (file.size >= PROBE_MIN_SIZE) {
            // Asked about by its probe (a few sampled blocks), not read whole just to ask.
            this.#batch.push({ file, probe: await probeOf(file, this.#options.openFile) });
          } else {
            this.#batch.push({ file });
          }
          while (this.#batch.length >= askBatch && asking.size >= 2) {
            await this.#changed();
            this.#check();
          }
          // A full batch goes; a partial one when nothing is asked and the uploaders run dry.
          const hungry = asking.size === 0 && this.#ready.length + busy < concurrency;
          if (this.#batch.length >= askBatch || hungry) flush();
        }
        flush();
      } catch (error) {
        this.#fail(error);
      } finally {
        // Answers still on their way are taken in (a failure is kept by #fail) before lanes may stop.
        while (asking.size > 0) await Promise.all([...asking]);
        this.#reading = false;
        this.#wake();
      }
    };
    const lane = async () => {
      try {
        while (true) {
          if (this.#failure) return;
          const item = this.#ready.shift();
          if (item === undefined) {
            if (!this.#reading) return;
            await this.#changed();
            continue;
          }
          busy++;
          try {
            await upload(item);
            const key = keyOf(item);
            if (key !== undefined) await stored(key);
          } finally {
            busy--;
          }
        }
      } catch (error) {
        this.#fail(error);
      }
    };
    await Promise.all([reader(), ...Array.from({ length: this.#options.concurrency }, lane)]);
    // What was read but not sent (a failure) gives its memory back.
    for (const item of [...this.#batch, ...this.#ready, ...[...this.#duplicates.values()].flat()]) {
      item.content?.release();
    }
    if (this.#failure) throw this.#failure.error;
  }

  /** {@linkcode readHeldContent}, counted in the memory held until released. */
  async #read(file: UploadFilesItem): Promise<HeldContent> {
    const content = await readHeldContent(file.path, { openFile: this.#options.openFile });
    const cost = content.buffer.length;
    this.#held += cost;
    let released = false;
    return {
      ...content,
      release: () => {
        if (released) return;
        released = true;
        this.#held -= cost;
        content.release();
        this.#wake();
      },
    };
  }
}

/**
 * Reads a whole file into a pooled buffer (one read) and takes its SHA-1, checking that it did not
 * change meanwhile; `release()` gives the buffer back. For files up to the uploader's whole-file
 * limit (32 MiB): larger ones are better streamed.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { readHeldContent } from "./upload_files.ts";
 *
 * const path = await Deno.makeTempFile();
 * await Deno.writeTextFile(path, "abc");
 * const held = await readHeldContent(path);
 * ok(held.size === 3 && held.hex === "a9993e364706816aba3e25717850c26c9cd0d89d");
 * held.release();
 * await Deno.remove(path);
 * ```
 */
export async function readHeldContent(path: string, options: { openFile?: OpenFile } = {}): Promise<HeldContent> {
  const { openFile = openForReading } = options;
  const handle = await openFile(path).catch((error: NodeJS.ErrnoException) => {
    throw new UploadError(path, error.code === "ENOENT" ? "it does not exist" : error.message, { cause: error });
  });
  let buffer: Uint8Array<ArrayBuffer> | undefined;
  try {
    const before = await handle.stat();
    const size = before.size;
    buffer = takeReadBuffer(size);
    let filled = 0;
    while (filled < size) {
      const { bytesRead } = await handle.read(buffer, filled, size - filled, filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    const after = await handle.stat();
    if (filled !== size || after.size !== size || after.mtimeMs !== before.mtimeMs) {
      throw new UploadError(
        path,
        `it changed while it was read (${size} bytes expected, ${filled} read, ${after.size} now)`,
      );
    }
    const hex = createHash("sha1").update(buffer.subarray(0, size)).digest("hex");
    const held = buffer;
    buffer = undefined;
    let released = false;
    return {
      buffer: held,
      size,
      hex,
      mtimeMs: before.mtimeMs,
      release: () => {
        if (!released) giveReadBuffer(held);
        released = true;
      },
    };
  } finally {
    if (buffer) giveReadBuffer(buffer);
    await handle.close();
  }
}
