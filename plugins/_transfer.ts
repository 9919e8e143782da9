import { createHash } from "node:crypto";
import { copyFile, link, mkdir, open, rename, rm, stat } from "node:fs/promises";
import { hostname } from "node:os";
import { dirname, resolve } from "node:path";
import type { Session } from "@ftrack/api";
import { sessionTimeout } from "../src/tracker/open_session.ts";
import { type HeldContent, uploadFile, type UploadTarget, WHOLE_FILE_LIMIT } from "../src/tracker/upload_file.ts";
import { readHeldContent } from "../src/tracker/upload_files.ts";
import { PROBE_MIN_SIZE, probeFile } from "../src/tracker/content_probe.ts";
import { fingerprintFile } from "../src/fingerprint/fingerprint_file.ts";
import { mapLimit } from "../src/async/map_limit.ts";
import { pathInsideRoot } from "./_structure.ts";
import type { ByteProgress } from "./_contract.ts";

/** Where a publish puts files. */
export type TransferTarget =
  | { kind: "server" }
  | { kind: "disk"; root: string }
  | { kind: "unmanaged"; fingerprints: Record<string, string> };

/** A transferred file: its fingerprint (from the bytes read), size and the locator to record. */
export interface Transferred {
  hex: string;
  size: number;
  resourceIdentifier: string;
}

/** A `file://host/path` URI: a locator that says which machine the path is on. */
export function fileLocator(path: string): string {
  const absolute = resolve(path).replaceAll("\\", "/");
  return `file://${hostname()}${absolute.startsWith("/") ? "" : "/"}${encodeURI(absolute)}`;
}

/**
 * Places at `root/to` the file a previous version published at `root/from` (the same content):
 * a hard link where the file system allows, a copy where not (through a temporary name either
 * way). Both paths must stay inside `root`. Returns how it was placed.
 */
export async function reuseInDisk(root: string, from: string, to: string): Promise<"linked" | "copied"> {
  const source = pathInsideRoot(root, from);
  const target = pathInsideRoot(root, to);
  if (source === target) return "linked";
  await mkdir(dirname(target), { recursive: true });
  const partial = `${target}.ferry-partial`;
  await rm(partial, { force: true });
  let how: "linked" | "copied" = "linked";
  try {
    await link(source, partial);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== "EXDEV" && code !== "EPERM" && code !== "EMLINK" && code !== "ENOTSUP" && code !== "EOPNOTSUPP") {
      throw error;
    }
    await copyFile(source, partial);
    how = "copied";
  }
  await rename(partial, target);
  return how;
}

/**
 * Copies a file, hashing what it reads, into `root/relative` (atomically, through a temporary name);
 * a relative path that resolves outside `root` is refused before anything is written.
 */
async function copyHashing(
  source: string,
  root: string,
  relative: string,
  progress: ByteProgress,
): Promise<{ hex: string; size: number }> {
  const target = pathInsideRoot(root, relative);
  await mkdir(dirname(target), { recursive: true });
  const partial = `${target}.ferry-partial`;
  const input = await open(source, "r");
  const output = await open(partial, "w");
  const hash = createHash("sha1");
  let size = 0;
  try {
    const buffer = new Uint8Array(2 * 1024 * 1024);
    while (true) {
      const { bytesRead } = await input.read(buffer, 0, buffer.length, size);
      if (bytesRead === 0) break;
      const chunk = buffer.subarray(0, bytesRead);
      hash.update(chunk);
      await output.write(chunk, 0, bytesRead, size);
      size += bytesRead;
      progress.done(bytesRead);
    }
    await output.sync();
  } catch (error) {
    await output.close();
    await rm(partial, { force: true });
    throw error;
  } finally {
    await input.close();
  }
  await output.close();
  const written = await stat(partial);
  if (written.size !== size || (await stat(source)).size !== size) {
    await rm(partial, { force: true });
    throw new Error(`Cannot copy '${source}': it changed while it was copied`);
  }
  await rename(partial, target);
  return { hex: hash.digest("hex"), size };
}

/**
 * Transfers one file for a component: uploads it to `ftrack.server` (hashing while sending,
 * verified by size and ETag), copies it into a disk location (hashing while copying), or, when
 * unmanaged, records where it is. Returns what the ComponentLocation and metadata need.
 */
export async function transferFile(
  session: Session,
  target: TransferTarget,
  file: { componentId: string; path: string; fileName: string; relativePath: string; upload?: UploadTarget },
  progress: ByteProgress,
  signal: AbortSignal,
): Promise<Transferred> {
  switch (target.kind) {
    case "server": {
      const uploaded = await uploadFile(session, {
        componentId: file.componentId,
        path: file.path,
        fileName: file.fileName,
        onProgress: (bytes) => progress.done(bytes),
        signal,
        target: file.upload,
        idleTimeout: sessionTimeout(session),
      });
      return { hex: uploaded.hex, size: uploaded.size, resourceIdentifier: file.componentId };
    }
    case "disk": {
      const copied = await copyHashing(file.path, target.root, file.relativePath, progress);
      return { ...copied, resourceIdentifier: file.relativePath };
    }
    case "unmanaged": {
      const size = (await stat(file.path)).size;
      progress.done(size);
      const hex = target.fingerprints[file.path];
      if (!hex) throw new Error(`Cannot register '${file.path}': it was not fingerprinted`);
      return { hex, size, resourceIdentifier: fileLocator(file.path) };
    }
  }
}

/** One file for {@linkcode placeInDisk}. */
export interface DiskFile {
  componentId: string;
  /** The file to publish. */
  path: string;
  /** Where it goes, inside the location's root. */
  relativePath: string;
  size: number;
}

/** What became of a file placed by {@linkcode placeInDisk}. */
export interface Placed extends Transferred {
  /** A hard link (or copy) of content the location held already: nothing was written from the file. */
  reused: boolean;
  /**
   * A large file's probe, `<size>:<digest>` (see `src/tracker/content_probe.ts`): recorded as the
   * component's `ferry_probe` metadata, by which a later publish finds the same content.
   */
  probe?: string;
  /** A large file whose probe matched a file the location holds but whose SHA-1 did not: read twice. */
  falseCandidate?: boolean;
}

/** Options of {@linkcode placeInDisk}. */
export interface PlaceInDiskOptions<F extends DiskFile = DiskFile> {
  /** Files handled at once. @default {4} */
  concurrency?: number;
  progress: ByteProgress;
  signal: AbortSignal;
  /** Each file once it is in place; awaited. */
  onFile: (file: F, placed: Placed) => void | Promise<void>;
  /** Bytes of files held in memory at once (a batch). @default {67108864} (64 MiB) */
  memoryBytes?: number;
  /** Files up to this size are read whole; larger ones are found by their probe. @default {33554432} (32 MiB) */
  wholeFileLimit?: number;
}

/**
 * Places files in a disk location, storing each distinct content once where the file system
 * allows. Files up to 32 MiB are read once and hashed; one whose content the location holds
 * already (a file of any version the tracker records there with the same `ferry_fingerprint` that
 * the user may see, of the same size, or an earlier file of this call) becomes a hard link of it (a
 * copy where the file system has none), else it is written from the same buffer. Larger files are
 * asked about by their probe (size and SHA-1 of a few sampled blocks, recorded as `ferry_probe`
 * metadata of the components placed): when the location records a file with the same probe, the
 * file is hashed whole and, if its SHA-1 is that file's, becomes a hard link of it (read once);
 * otherwise (no candidate) it is copied while it is hashed, or (a false candidate, rare) copied
 * after it was hashed, the only case a file is read twice. Files published in a location are never
 * changed in place, which is what makes a recorded fingerprint stand for the file's bytes.
 */
export async function placeInDisk<F extends DiskFile>(
  session: Session,
  target: { root: string; locationId: string },
  files: ReadonlyArray<F>,
  options: PlaceInDiskOptions<F>,
): Promise<void> {
  const {
    concurrency = 4,
    progress,
    signal,
    onFile,
    memoryBytes = 64 * 1024 * 1024,
    wholeFileLimit = WHOLE_FILE_LIMIT,
  } = options;
  const { root, locationId } = target;
  const small = files.filter((file) => file.size <= wholeFileLimit);
  const large = files.filter((file) => file.size > wholeFileLimit);
  /** Contents placed by this call: SHA-1 → where. */
  const placed = new Map<string, string>();
  const link = async (file: F, held: HeldContent, from: string): Promise<boolean> => {
    const source = await stat(pathInsideRoot(root, from)).catch(() => undefined);
    if (source?.size !== held.size) return false;
    return await reuseInDisk(root, from, file.relativePath).then(() => true, () => false);
  };
  let at = 0;
  while (at < small.length) {
    signal.throwIfAborted();
    // A batch: up to 200 files, within the memory allowed (always at least one).
    const batch: F[] = [];
    let bytes = 0;
    while (at < small.length && batch.length < 200 && (batch.length === 0 || bytes + small[at]!.size <= memoryBytes)) {
      bytes += small[at]!.size;
      batch.push(small[at++]!);
    }
    const held: HeldContent[] = [];
    try {
      for (const content of await mapLimit(batch, concurrency, (file) => readHeldContent(file.path))) {
        held.push(content);
      }
      const known = await contentInLocation(session, locationId, [...new Set(held.map((content) => content.hex))]);
      // The first file of each content first, then those with the same bytes link to it.
      const firsts: number[] = [];
      const repeats: number[] = [];
      const seen = new Set<string>();
      held.forEach((content, index) => {
        if (seen.has(content.hex) || placed.has(content.hex)) repeats.push(index);
        else {
          seen.add(content.hex);
          firsts.push(index);
        }
      });
      const place = async (index: number) => {
        signal.throwIfAborted();
        const file = batch[index]!;
        const content = held[index]!;
        const from = placed.get(content.hex) ?? known.get(content.hex);
        const reused = from !== undefined && await link(file, content, from);
        if (!reused) await writeWhole(root, file.relativePath, content.buffer.subarray(0, content.size));
        placed.set(content.hex, placed.get(content.hex) ?? file.relativePath);
        progress.done(content.size);
        await onFile(file, { hex: content.hex, size: content.size, resourceIdentifier: file.relativePath, reused });
      };
      await mapLimit(firsts, concurrency, place);
      await mapLimit(repeats, concurrency, place);
    } finally {
      for (const content of held) content.release();
    }
  }
  // Large files: their probes (a few sampled blocks each), then one question for all of them.
  const probes = await mapLimit(large, concurrency, async (file) => {
    signal.throwIfAborted();
    if (file.size < PROBE_MIN_SIZE) return undefined;
    const handle = await open(file.path, "r");
    try {
      const { digest } = await probeFile(handle, file.size);
      return `${file.size}:${digest}`;
    } finally {
      await handle.close();
    }
  });
  const candidates = await contentByProbe(session, locationId, [
    ...new Set(probes.filter((probe) => probe !== undefined)),
  ]);
  await mapLimit(large.map((file, index) => ({ file, probe: probes[index] })), concurrency, async ({ file, probe }) => {
    signal.throwIfAborted();
    const found = probe === undefined ? [] : candidates.get(probe) ?? [];
    let falseCandidate = false;
    if (found.length > 0) {
      // The location holds a file of this size and probe: the whole file's SHA-1 says if it is this one.
      const { hex, size } = await fingerprintFile(file.path, { onProgress: (bytes) => progress.done(bytes), signal });
      for (const candidate of found.filter((candidate) => candidate.hex === hex)) {
        const source = await stat(pathInsideRoot(root, candidate.resource)).catch(() => undefined);
        if (source?.size !== size) continue;
        const linked = await reuseInDisk(root, candidate.resource, file.relativePath).then(() => true, () => false);
        if (!linked) continue;
        await onFile(file, {
          hex,
          size,
          resourceIdentifier: file.relativePath,
          reused: true,
          ...(probe ? { probe } : {}),
        });
        return;
      }
      falseCandidate = true;
      progress.expect(file.size);
    }
    const copied = await copyHashing(file.path, root, file.relativePath, progress);
    await onFile(file, {
      ...copied,
      resourceIdentifier: file.relativePath,
      reused: false,
      ...(probe && copied.size === file.size ? { probe } : {}),
      ...(falseCandidate ? { falseCandidate } : {}),
    });
  });
}

/**
 * Probe (`<size>:<digest>`) → SHA-1 and resource identifier of files the tracker records in a
 * location with that probe (`ferry_probe` of their components), among what the session's user may see.
 */
async function contentByProbe(
  session: Session,
  locationId: string,
  probes: readonly string[],
): Promise<Map<string, Array<{ hex: string; resource: string }>>> {
  const found = new Map<string, Array<{ hex: string; resource: string }>>();
  for (let i = 0; i < probes.length; i += 100) {
    const values = probes.slice(i, i + 100).map((probe) => `"${probe}"`).join(", ");
    const records = (await session.query(
      `select parent_id, value from Metadata where key is "ferry_probe" and value in (${values})`,
    )).data as Array<{ parent_id: string; value: string }>;
    if (records.length === 0) continue;
    const ids = [...new Set(records.map((record) => `"${record.parent_id}"`))].join(", ");
    const [fingerprints, locations] = await Promise.all([
      session.query(`select parent_id, value from Metadata where key is "ferry_fingerprint" and parent_id in (${ids})`),
      session.query(
        `select component_id, resource_identifier from ComponentLocation where location_id is "${locationId}" and component_id in (${ids})`,
      ),
    ]);
    const hexOf = new Map(
      (fingerprints.data as Array<{ parent_id: string; value: string }>).map((
        record,
      ) => [record.parent_id, record.value.replace(/^sha1:/, "")]),
    );
    const resourceOf = new Map(
      (locations.data as Array<{ component_id: string; resource_identifier: string | null }>).map((
        record,
      ) => [record.component_id, record.resource_identifier]),
    );
    for (const record of records) {
      const hex = hexOf.get(record.parent_id);
      const resource = resourceOf.get(record.parent_id);
      if (!hex || !resource) continue;
      const list = found.get(record.value) ?? [];
      if (!list.some((known) => known.hex === hex)) list.push({ hex, resource });
      found.set(record.value, list);
    }
  }
  return found;
}

/**
 * SHA-1 → resource identifier of files the tracker records in a location with these fingerprints
 * (`ferry_fingerprint` of their components), among what the session's user may see.
 */
async function contentInLocation(
  session: Session,
  locationId: string,
  hexes: readonly string[],
): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  for (let i = 0; i < hexes.length; i += 100) {
    const values = hexes.slice(i, i + 100).map((hex) => `"sha1:${hex}"`).join(", ");
    const records = (await session.query(
      `select parent_id, value from Metadata where key is "ferry_fingerprint" and value in (${values})`,
    )).data as Array<{ parent_id: string; value: string }>;
    if (records.length === 0) continue;
    const byComponent = new Map(records.map((record) => [record.parent_id, record.value.replace(/^sha1:/, "")]));
    const ids = [...byComponent.keys()].map((id) => `"${id}"`).join(", ");
    const locations = (await session.query(
      `select component_id, resource_identifier from ComponentLocation where location_id is "${locationId}" and component_id in (${ids})`,
    )).data as Array<{ component_id: string; resource_identifier: string | null }>;
    for (const record of locations) {
      const hex = byComponent.get(record.component_id);
      if (hex && record.resource_identifier && !found.has(hex)) found.set(hex, record.resource_identifier);
    }
  }
  return found;
}

/** Writes `bytes` to `root/relative` atomically (through a temporary name), synced. */
async function writeWhole(root: string, relative: string, bytes: Uint8Array): Promise<void> {
  const target = pathInsideRoot(root, relative);
  await mkdir(dirname(target), { recursive: true });
  const partial = `${target}.ferry-partial`;
  const output = await open(partial, "w");
  try {
    let written = 0;
    while (written < bytes.length) {
      written += (await output.write(bytes, written, bytes.length - written, written)).bytesWritten;
    }
    await output.sync();
  } catch (error) {
    await output.close();
    await rm(partial, { force: true });
    throw error;
  }
  await output.close();
  await rename(partial, target);
}
