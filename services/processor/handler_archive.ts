import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join, relative, sep } from "node:path";
import { gunzipSync, gzipSync, unzipSync, zipSync } from "fflate";
import { z } from "zod";
import { readTar, writeTar } from "./_tar.ts";

/** The manifest version this ferry reads (ayon-ftrack's custom handler archives). */
export const MANIFEST_VERSION = "1.0.0";

/** A handler archive that cannot be used, and why (the message names the archive). */
export class HandlerArchiveError extends Error {
  constructor(archive: string, reason: string) {
    super(`Cannot use handler archive '${archive}': ${reason}`);
    this.name = "HandlerArchiveError";
  }
}

const RelativePath = z.string().min(1, "is empty");

/** `manifest.json` at the archive's root. */
export const ManifestSchema = z.looseObject({
  version: z.string().regex(/^\d+\.\d+\.\d+$/, "must be a version like 1.0.0"),
  /** Folders of handler modules. */
  handler_subfolders: z.array(RelativePath).min(1, "must name at least one folder"),
  /** Folders of shared modules the handlers import (relatively); not searched for handlers. */
  module_path_subfolders: z.array(RelativePath).default([]),
});

/** A handler archive's manifest. */
export type Manifest = z.output<typeof ManifestSchema>;

/** The archive formats accepted. */
export type ArchiveFormat = "zip" | "tar.gz";

const compareVersions = (a: string, b: string) => {
  const [x, y] = [a.split(".").map(Number), b.split(".").map(Number)];
  for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return 0;
};

/**
 * Checks an archive path: relative, forward slashes, no `..`, no drive. Returns it without `./`.
 *
 * @example
 * ```ts
 * import { ok, throws } from "node:assert/strict";
 * import { safeArchivePath } from "./handler_archive.ts";
 *
 * ok(safeArchivePath("./handlers/notes.ts", "a.zip") === "handlers/notes.ts");
 * throws(() => safeArchivePath("../../etc/passwd", "a.zip"), /escapes the archive/);
 * ```
 */
export function safeArchivePath(path: string, archive: string): string {
  const cleaned = path.replace(/^(\.\/)+/, "");
  const parts = cleaned.split("/");
  if (
    path.startsWith("/") || path.includes("\\") || /^[A-Za-z]:/.test(path) || path.includes("\0") ||
    parts.some((part) => part === "..")
  ) {
    throw new HandlerArchiveError(archive, `the path '${path}' escapes the archive`);
  }
  return parts.filter((part) => part !== "" && part !== ".").join("/");
}

/** The format of an archive, from its name or else its first bytes. */
export function archiveFormat(name: string, bytes: Uint8Array): ArchiveFormat {
  if (/\.zip$/i.test(name)) return "zip";
  if (/\.(tar\.gz|tgz)$/i.test(name)) return "tar.gz";
  if (bytes[0] === 0x50 && bytes[1] === 0x4b) return "zip";
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) return "tar.gz";
  throw new HandlerArchiveError(name, "it is neither a .zip nor a .tar.gz archive");
}

/** An archive read and checked in memory. */
export interface ReadArchive {
  manifest: Manifest;
  /** Path → bytes (files only). */
  files: Map<string, Uint8Array>;
}

/**
 * Reads and checks a handler archive: a `.zip` or `.tar.gz` with `manifest.json` at its root,
 * a manifest version not above 1.0.0, subfolders that exist, and no path escaping the archive
 * (nor links). Throws a {@linkcode HandlerArchiveError} saying which rule it breaks.
 *
 * @example
 * ```ts
 * import { ok, throws } from "node:assert/strict";
 * import { zipSync } from "fflate";
 * import { readHandlerArchive } from "./handler_archive.ts";
 *
 * const text = (value: string) => new TextEncoder().encode(value);
 * const manifest = text(JSON.stringify({ version: "1.0.0", handler_subfolders: ["handlers"] }));
 * const archive = readHandlerArchive("studio.zip", zipSync({ "manifest.json": manifest, "handlers/notes.js": text("") }));
 * ok(archive.files.has("handlers/notes.js"));
 * throws(() => readHandlerArchive("empty.zip", zipSync({ "handlers/notes.js": text("") })), /no manifest.json/);
 * ```
 */
export function readHandlerArchive(name: string, bytes: Uint8Array): ReadArchive {
  const format = archiveFormat(name, bytes);
  const files = new Map<string, Uint8Array>();
  try {
    if (format === "zip") {
      for (const [path, data] of Object.entries(unzipSync(bytes))) {
        if (path.endsWith("/")) continue;
        files.set(safeArchivePath(path, name), data);
      }
    } else {
      for (const entry of readTar(gunzipSync(bytes))) {
        if (entry.kind === "link") {
          throw new HandlerArchiveError(name, `'${entry.path}' is a link, which archives may not hold`);
        }
        const path = safeArchivePath(entry.path, name);
        if (entry.kind === "file" && path !== "") files.set(path, entry.data);
      }
    }
  } catch (error) {
    if (error instanceof HandlerArchiveError) throw error;
    throw new HandlerArchiveError(name, `it cannot be read as ${format}: ${(error as Error).message}`);
  }
  const manifestBytes = files.get("manifest.json");
  if (manifestBytes === undefined) throw new HandlerArchiveError(name, "it has no manifest.json at its root");
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(manifestBytes));
  } catch (error) {
    throw new HandlerArchiveError(name, `manifest.json is not JSON: ${(error as Error).message}`);
  }
  const parsed = ManifestSchema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join(".") || "manifest"}: ${issue.message}`);
    throw new HandlerArchiveError(name, `manifest.json is invalid: ${problems.join("; ")}`);
  }
  const manifest = parsed.data;
  if (compareVersions(manifest.version, MANIFEST_VERSION) > 0) {
    throw new HandlerArchiveError(
      name,
      `its manifest version ${manifest.version} is newer than ${MANIFEST_VERSION}, the one this ferry reads`,
    );
  }
  for (const folder of [...manifest.handler_subfolders, ...manifest.module_path_subfolders]) {
    const path = safeArchivePath(folder, name);
    const prefix = path === "" ? "" : `${path}/`;
    if (![...files.keys()].some((file) => file.startsWith(prefix))) {
      throw new HandlerArchiveError(name, `the manifest names the folder '${folder}', which the archive does not hold`);
    }
  }
  return { manifest, files };
}

/** Writes a read archive's files under `folder`; returns the absolute handler and module folders. */
export async function extractHandlerArchive(
  archive: ReadArchive,
  folder: string,
): Promise<{ handlerFolders: string[]; moduleFolders: string[] }> {
  for (const [path, data] of archive.files) {
    const target = join(folder, ...path.split("/"));
    const inside = relative(folder, target);
    if (inside.startsWith("..") || inside.split(sep).includes("..")) throw new Error(`refusing to write '${path}'`);
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, data);
  }
  const resolveAll = (folders: string[]) => folders.map((sub) => join(folder, ...safeArchivePath(sub, "").split("/")));
  return {
    handlerFolders: resolveAll(archive.manifest.handler_subfolders),
    moduleFolders: resolveAll(archive.manifest.module_path_subfolders),
  };
}

/**
 * Packs a folder as a handler archive (`.zip` or `.tar.gz`). Its `manifest.json` is used when
 * present (and checked); otherwise one is written: `handler_subfolders` = `["handlers"]` when that
 * folder exists, else `["."]`; `module_path_subfolders` = `["lib"]` when that exists. Dot files
 * and `node_modules` are left out.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { packageHandlerFolder } from "./handler_archive.ts";
 *
 * const folder = await Deno.makeTempDir();
 * await Deno.mkdir(`${folder}/handlers`);
 * await Deno.writeTextFile(`${folder}/handlers/notes.js`, "export const x = 1;");
 * const { bytes, manifest } = await packageHandlerFolder(folder, { format: "tar.gz" });
 * ok(manifest.handler_subfolders.join() === "handlers" && bytes.length > 0);
 * await Deno.remove(folder, { recursive: true });
 * ```
 */
export async function packageHandlerFolder(
  folder: string,
  options: { format?: ArchiveFormat; handlerSubfolders?: string[]; moduleSubfolders?: string[] } = {},
): Promise<{ bytes: Uint8Array; manifest: Manifest }> {
  const { format = "zip" } = options;
  const files: Array<[string, Uint8Array]> = [];
  const walk = async (dir: string) => {
    for (const entry of (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
      if (entry.name.startsWith(".") || entry.name === "node_modules") continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (entry.isFile()) files.push([relative(folder, path).split(sep).join("/"), await readFile(path)]);
    }
  };
  await walk(folder);
  const names = new Set(files.map(([path]) => path));
  let manifest: Manifest;
  if (names.has("manifest.json")) {
    manifest = readManifestOf(folder, files);
  } else {
    const has = (sub: string) => files.some(([path]) => path.startsWith(`${sub}/`));
    manifest = {
      version: MANIFEST_VERSION,
      handler_subfolders: options.handlerSubfolders ?? (has("handlers") ? ["handlers"] : ["."]),
      module_path_subfolders: options.moduleSubfolders ?? (has("lib") ? ["lib"] : []),
    };
    files.unshift(["manifest.json", new TextEncoder().encode(`${JSON.stringify(manifest, null, 2)}\n`)]);
  }
  const bytes = format === "zip"
    ? zipSync(Object.fromEntries(files.map(([path, data]) => [path, data])))
    : gzipSync(writeTar(files));
  // The archive must read back (paths, manifest, folders).
  readHandlerArchive(`${folder}.${format}`, bytes);
  return { bytes, manifest };
}

function readManifestOf(folder: string, files: Array<[string, Uint8Array]>): Manifest {
  const data = files.find(([path]) => path === "manifest.json")![1];
  const parsed = ManifestSchema.safeParse(JSON.parse(new TextDecoder().decode(data)));
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join(".") || "manifest"}: ${issue.message}`);
    throw new HandlerArchiveError(folder, `manifest.json is invalid: ${problems.join("; ")}`);
  }
  return parsed.data;
}
