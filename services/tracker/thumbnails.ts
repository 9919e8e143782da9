/**
 * `/component/thumbnail?size=N`: a component's image scaled to N pixels wide with ffmpeg (the
 * tracker's configured one, as for `encode_media`), kept in a cache folder per stored data.
 *
 * @module
 */
import { rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { lastLine, type MediaTools, runTool } from "../../src/media/run_tool.ts";
import { ownedTempFolder } from "./owned_temp_folder.ts";

/** The widest thumbnail made. */
export const MAX_THUMBNAIL_SIZE = 4096;

/** Why a thumbnail cannot be made: the HTTP status and a message naming the problem. */
export class ThumbnailError extends Error {
  readonly status: 400 | 500;

  constructor(status: 400 | 500, message: string) {
    super(message);
    this.name = "ThumbnailError";
    this.status = status;
  }
}

/** Reads `?size=`: a whole number of pixels from 1 to {@linkcode MAX_THUMBNAIL_SIZE}. */
export function thumbnailSize(text: string): number {
  const size = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(size) || size < 1 || size > MAX_THUMBNAIL_SIZE) {
    throw new ThumbnailError(
      400,
      `Cannot scale a thumbnail to size '${text}': give a width in pixels from 1 to ${MAX_THUMBNAIL_SIZE}.`,
    );
  }
  return size;
}

/** What a scaled thumbnail is made from. */
export interface ThumbnailSource {
  componentId: string;
  /** The stored data. */
  path: string;
  /** The data's SHA-1 (new data, new thumbnails). */
  sha1: string;
  /** The component's file type (`.png` stays PNG; anything else becomes JPEG). */
  fileType: string;
}

/** Options of {@linkcode Thumbnails}. */
export interface ThumbnailsOptions {
  /** Where the cache folder goes. @default {os.tmpdir()} */
  tempParent?: string;
}

/**
 * Scaled thumbnails, made once per component data and width in a private temporary folder
 * (`ferry-thumbnails-<pid>-…`, see `ownedTempFolder`: those of processes that are gone are removed).
 *
 * @example
 * ```ts ignore
 * const thumbnails = new Thumbnails(() => ({ ffmpeg: "ffmpeg", ffprobe: "ffprobe" }));
 * const { path, contentType } = await thumbnails.scaled(source, 300);
 * ```
 */
export class Thumbnails {
  #tools: () => MediaTools;
  #dir: Promise<string> | undefined;
  #making = new Map<string, Promise<string>>();
  #tempParent: string | undefined;

  constructor(tools: () => MediaTools, options: ThumbnailsOptions = {}) {
    this.#tools = tools;
    this.#tempParent = options.tempParent;
  }

  /** The thumbnail `width` pixels wide (height keeps the aspect); `ThumbnailError` when ffmpeg fails. */
  async scaled(source: ThumbnailSource, width: number): Promise<{ path: string; contentType: string }> {
    const png = source.fileType.toLowerCase() === ".png";
    const name = `${source.sha1}-${width}.${png ? "png" : "jpg"}`;
    const contentType = png ? "image/png" : "image/jpeg";
    this.#dir ??= ownedTempFolder("ferry-thumbnails-", { parent: this.#tempParent });
    const path = join(await this.#dir, name);
    if (await stat(path).then(() => true, () => false)) return { path, contentType };
    let making = this.#making.get(name);
    if (making === undefined) {
      making = this.#make(source, width, path).finally(() => this.#making.delete(name));
      this.#making.set(name, making);
    }
    return { path: await making, contentType };
  }

  async #make(source: ThumbnailSource, width: number, path: string): Promise<string> {
    const partial = `${path}.part.${png(path) ? "png" : "jpg"}`;
    const run = await runTool(this.#tools().ffmpeg, [
      "-y",
      "-v",
      "error",
      "-i",
      source.path,
      "-frames:v",
      "1",
      "-vf",
      `scale=${width}:-1`,
      partial,
    ]);
    if (!run.ok) {
      await rm(partial, { force: true });
      throw new ThumbnailError(
        500,
        `Cannot scale the thumbnail of component '${source.componentId}' to ${width} pixels: ${lastLine(run.stderr)}`,
      );
    }
    await rename(partial, path);
    return path;
  }

  /** Removes the cache folder. */
  async close(): Promise<void> {
    if (this.#dir) await rm(await this.#dir, { recursive: true, force: true });
  }
}

function png(path: string): boolean {
  return path.endsWith(".png");
}
