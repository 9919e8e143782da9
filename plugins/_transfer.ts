import { createHash } from "node:crypto";
import { copyFile, link, mkdir, open, rename, rm, stat } from "node:fs/promises";
import { hostname } from "node:os";
import { dirname, resolve } from "node:path";
import type { Session } from "@ftrack/api";
import { sessionTimeout } from "../src/tracker/open_session.ts";
import { uploadFile, type UploadTarget } from "../src/tracker/upload_file.ts";
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
