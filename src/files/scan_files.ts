import { stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { mapLimit } from "../async/map_limit.ts";
import type { HashAlgorithm } from "../fingerprint/algorithm.ts";
import type { Fingerprint } from "../fingerprint/fingerprint_file.ts";
import { fingerprintFiles, type FingerprintProgress } from "../fingerprint/fingerprint_files.ts";
import { assemble, type AssembleOptions } from "../sequence/assemble.ts";
import { Collection } from "../sequence/collection.ts";
import { combineMemberDigests } from "../fingerprint/fingerprint_sequence.ts";

/** An image sequence found on disk. */
export interface FoundSequence {
  kind: "sequence";
  /** The folder holding the members. */
  directory: string;
  /** The members, by file name (the head holds no folder). */
  collection: Collection;
  /** Sum of member sizes in bytes. */
  bytes: number;
  /** Each member's size, in frame order. */
  sizes: number[];
  /**
   * Each member's modification time (`mtimeMs` of `node:fs` `stat`, read with its size), in frame
   * order: with the size, the stamp a publish records to tell an unchanged file later.
   */
  mtimes?: number[];
  /** When (ms since the epoch) the sizes and modification times were read: just before. */
  statedAt?: number;
  /** The combined digest (see `fingerprintSequence`) and each member's, when asked for. */
  fingerprint?: { algorithm: HashAlgorithm; hex: string; members: Fingerprint[] };
}

/** A file in no sequence. */
export interface FoundFile {
  kind: "file";
  path: string;
  bytes: number;
  /** The file's modification time (`mtimeMs`), read with its size. */
  mtimeMs?: number;
  /** When (ms since the epoch) the size and modification time were read: just before. */
  statedAt?: number;
  fingerprint?: Fingerprint;
}

/** Options of {@linkcode scanFiles}. */
export interface ScanFilesOptions {
  /** Passed to `assemble` (per folder). @default {{ minimumItems: 2 }} */
  assemble?: AssembleOptions;
  /** Fingerprint every file with this algorithm. @default {undefined} (no fingerprints) */
  fingerprint?: HashAlgorithm;
  /** Progress of the fingerprinting. */
  onProgress?: (progress: FingerprintProgress) => void;
  /** Stops the fingerprinting. */
  signal?: AbortSignal;
}

/**
 * Groups absolute file paths into image sequences and single files, folder by folder, with
 * sizes and, on request, fingerprints. Sequences come first in folder order, then single files.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { scanFiles } from "./scan_files.ts";
 *
 * const dir = await Deno.makeTempDir();
 * for (const frame of [1, 2, 4]) await Deno.writeTextFile(`${dir}/a.000${frame}.exr`, "x");
 * const [sequence] = await scanFiles([1, 2, 4].map((f) => `${dir}/a.000${f}.exr`));
 * ok(sequence!.kind === "sequence" && sequence!.bytes === 3);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function scanFiles(
  paths: readonly string[],
  options: ScanFilesOptions = {},
): Promise<Array<FoundSequence | FoundFile>> {
  const byFolder = new Map<string, string[]>();
  for (const path of paths) {
    const folder = dirname(path);
    const names = byFolder.get(folder);
    if (names) names.push(basename(path));
    else byFolder.set(folder, [basename(path)]);
  }
  const minimumItems = options.assemble?.minimumItems ?? 2;
  const sequences: FoundSequence[] = [];
  const files: FoundFile[] = [];
  for (const [directory, names] of byFolder) {
    const { collections, remainder } = assemble(names, options.assemble);
    const { kept, loose } = withoutOverlaps(collections, minimumItems);
    for (const collection of kept) sequences.push({ kind: "sequence", directory, collection, bytes: 0, sizes: [] });
    for (const name of [...remainder, ...loose]) files.push({ kind: "file", path: join(directory, name), bytes: 0 });
  }
  const memberPaths = (sequence: FoundSequence) =>
    [...sequence.collection].map((name) => join(sequence.directory, name));
  const allPaths = [...sequences.flatMap(memberPaths), ...files.map((file) => file.path)];
  const statedAt = Date.now();
  const stats = await mapLimit(allPaths, 64, async (path) => {
    const info = await stat(path);
    return { size: info.size, mtimeMs: info.mtimeMs };
  });
  let at = 0;
  for (const sequence of sequences) {
    const members = stats.slice(at, at + sequence.collection.size);
    sequence.sizes = members.map((member) => member.size);
    sequence.mtimes = members.map((member) => member.mtimeMs);
    sequence.statedAt = statedAt;
    sequence.bytes = sequence.sizes.reduce((sum, size) => sum + size, 0);
    at += sequence.collection.size;
  }
  for (const file of files) {
    const { size, mtimeMs } = stats[at++]!;
    file.bytes = size;
    file.mtimeMs = mtimeMs;
    file.statedAt = statedAt;
  }

  if (options.fingerprint) {
    const algorithm = options.fingerprint;
    const digests = await fingerprintFiles(allPaths, {
      algorithm,
      onProgress: options.onProgress,
      signal: options.signal,
    });
    at = 0;
    for (const sequence of sequences) {
      const members = digests.slice(at, at + sequence.collection.size);
      at += members.length;
      const hex = combineMemberDigests(algorithm, [...sequence.collection], members.map((member) => member.hex));
      sequence.fingerprint = { algorithm, hex, members };
    }
    for (const file of files) file.fingerprint = digests[at++];
  }
  return [...sequences, ...files];
}

/**
 * clique lets a name belong to two collections (a padded and an unpadded one across the padding
 * boundary). A file must be published and counted once: larger collections keep their members,
 * smaller ones lose the shared names, and one left under `minimumItems` gives its names back as
 * single files. Collections keep clique's order.
 */
function withoutOverlaps(collections: Collection[], minimumItems: number): { kept: Collection[]; loose: string[] } {
  const taken = new Set<string>();
  const replaced = new Map<Collection, Collection | undefined>();
  const loose: string[] = [];
  for (const collection of [...collections].sort((a, b) => b.size - a.size)) {
    const fresh = [...collection].filter((name) => !taken.has(name));
    if (fresh.length === collection.size) {
      replaced.set(collection, collection);
    } else if (fresh.length >= Math.max(minimumItems, 1)) {
      const frames = fresh.map((name) => collection.match(name)!);
      replaced.set(
        collection,
        new Collection({ head: collection.head, tail: collection.tail, padding: collection.padding, indexes: frames }),
      );
    } else {
      replaced.set(collection, undefined);
      loose.push(...fresh);
    }
    for (const name of fresh) taken.add(name);
  }
  const kept = collections.map((collection) => replaced.get(collection)).filter((c): c is Collection =>
    c !== undefined
  );
  return { kept, loose };
}

/** Every file path of a found item: the members of a sequence in frame order, or the file itself. */
export function pathsOf(item: FoundSequence | FoundFile): string[] {
  return item.kind === "sequence" ? [...item.collection].map((name) => join(item.directory, name)) : [item.path];
}
