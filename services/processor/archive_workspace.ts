import { randomUUID } from "node:crypto";
import { mkdir, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import process from "node:process";
import type { Logger } from "../../src/cli/service_log.ts";
import type { PipelineStore } from "../../src/store/pipeline_store.ts";
import type { Variant } from "../../src/store/settings.ts";
import { extractHandlerArchive, readHandlerArchive } from "./handler_archive.ts";

/** The handler archives a processor took from the store, extracted in a folder of its own. */
export interface ArchiveWorkspace extends AsyncDisposable {
  folder: string;
  /** Folders to discover handlers in. */
  handlerFolders: string[];
  /** Archives refused (the others still load). */
  failures: Array<{ path: string; error: string }>;
  /** Removes the folder. */
  close(): Promise<void>;
}

const OWNER = "owner.json";
/** A folder whose owner has not shown life for this long is left over from a crash. */
const STALE_MS = 60 * 60 * 1000;
const TOUCH_MS = 60 * 1000;

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as { code?: string }).code === "EPERM";
  }
}

/**
 * Takes the handler archives of a variant from the store into `<root>/<id>/<archive name>/`,
 * after removing the folders of processors that are gone (same machine and process dead, or not
 * touched for an hour). A broken archive is reported in `failures` and skipped.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { openStore } from "../../src/store/mod.ts";
 * import { takeHandlerArchives } from "./archive_workspace.ts";
 *
 * await using store = await openStore(":memory:");
 * const root = await Deno.makeTempDir();
 * const workspace = await takeHandlerArchives({ store, variant: "production", root });
 * ok(workspace.handlerFolders.length === 0 && workspace.failures.length === 0);
 * await workspace.close();
 * await Deno.remove(root, { recursive: true });
 * ```
 */
export async function takeHandlerArchives(options: {
  store: PipelineStore;
  variant: Variant;
  root: string;
  log?: Logger;
}): Promise<ArchiveWorkspace> {
  const { store, variant, root, log } = options;
  await mkdir(root, { recursive: true });
  const host = hostname();
  for (const entry of await readdir(root, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const path = join(root, entry.name);
    let stale: boolean;
    try {
      const owner = JSON.parse(await readFile(join(path, OWNER), "utf8")) as {
        host: string;
        pid: number;
        touchedAt: number;
      };
      stale = (owner.host === host && !pidAlive(owner.pid)) || Date.now() - owner.touchedAt > STALE_MS;
    } catch {
      stale = Date.now() - (await stat(path)).mtimeMs > TOUCH_MS;
    }
    if (stale) {
      await rm(path, { recursive: true, force: true });
      log?.info("removed the handler folder of a processor that is gone", { folder: path });
    }
  }
  const folder = join(root, randomUUID());
  await mkdir(folder, { recursive: true });
  const touch = () =>
    writeFile(join(folder, OWNER), JSON.stringify({ host, pid: process.pid, touchedAt: Date.now() })).catch(() => {});
  await touch();
  const timer = setInterval(touch, TOUCH_MS);
  Deno.unrefTimer(timer);
  const handlerFolders: string[] = [];
  const failures: Array<{ path: string; error: string }> = [];
  for (const archive of await store.listArchives(variant)) {
    const label = `archive '${archive.name}' (${archive.filename})`;
    try {
      const bytes = await store.readArchive(archive.name, variant);
      if (bytes === undefined) continue;
      const read = readHandlerArchive(archive.filename, bytes);
      const extracted = await extractHandlerArchive(read, join(folder, archive.name));
      handlerFolders.push(...extracted.handlerFolders);
    } catch (error) {
      failures.push({ path: label, error: (error as Error).message });
    }
  }
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    clearInterval(timer);
    await rm(folder, { recursive: true, force: true });
  };
  return { folder, handlerFolders, failures, close, [Symbol.asyncDispose]: close };
}
