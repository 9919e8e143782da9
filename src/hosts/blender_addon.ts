/**
 * The Blender add-on zip, built from a folder holding ferry's `hosts/` (the checkout, or what `deno compile`
 * embedded): the add-on `hosts/blender/ferry_blender` with ferry's Python client `hosts/python/ferry_host`
 * vendored inside it as `ferry_blender/ferry_host`, so that the zip is self-contained. Runtime-neutral.
 *
 * @module
 */
import { readdir, readFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { zipSync } from "fflate";

/** One file of the add-on zip: where it comes from (`addon` or `client` folder, relative path) and where it goes. */
export interface AddonEntry {
  /** The source folder: the add-on's or the client's. */
  from: "addon" | "client";
  /** The path inside that folder, with `/`. */
  path: string;
  /** The path inside the zip. */
  to: string;
}

/**
 * Where each source file goes in the zip: the add-on's files under `ferry_blender/`, the client's under
 * `ferry_blender/ferry_host/`. Only `.py` files; caches and tests are left out; sorted, for a stable zip.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { addonLayout } from "./blender_addon.ts";
 *
 * const layout = addonLayout(["__init__.py", "__pycache__/x.pyc"], ["client.py"]);
 * ok(JSON.stringify(layout) === JSON.stringify([
 *   { from: "addon", path: "__init__.py", to: "ferry_blender/__init__.py" },
 *   { from: "client", path: "client.py", to: "ferry_blender/ferry_host/client.py" },
 * ]));
 * ```
 */
export function addonLayout(addonFiles: readonly string[], clientFiles: readonly string[]): AddonEntry[] {
  const keep = (path: string) => path.endsWith(".py") && !path.split("/").some((part) => part === "__pycache__");
  const addon = addonFiles.filter(keep).map((path) => ({ from: "addon" as const, path, to: `ferry_blender/${path}` }));
  const clash = addon.find((entry) => entry.path.startsWith("ferry_host/"));
  if (clash) throw new Error(`Cannot vendor the client: the add-on already has '${clash.path}'`);
  const client = clientFiles.filter(keep).map((path) => ({
    from: "client" as const,
    path,
    to: `ferry_blender/ferry_host/${path}`,
  }));
  return [...addon, ...client].sort((a, b) => a.to < b.to ? -1 : a.to > b.to ? 1 : 0);
}

async function filesUnder(folder: string): Promise<string[]> {
  const entries = await readdir(folder, { recursive: true, withFileTypes: true });
  return entries.filter((entry) => entry.isFile()).map((entry) =>
    relative(folder, join(entry.parentPath, entry.name)).replaceAll("\\", "/")
  );
}

/** The add-on's source folders under a root holding `hosts/`. */
export function addonFolders(root: string): { addon: string; client: string } {
  return {
    addon: join(root, "hosts", "blender", "ferry_blender"),
    client: join(root, "hosts", "python", "ferry_host"),
  };
}

/**
 * Zips the add-on from the folder holding `hosts/`; returns the zip's bytes and its layout. The version is not
 * stamped here (a release stamps `bl_info` afterwards). Fails with an error naming the folder when
 * `hosts/blender/ferry_blender` or `hosts/python/ferry_host` is missing.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { fileURLToPath } from "node:url";
 * import { unzipSync } from "fflate";
 * import { zipBlenderAddon } from "./blender_addon.ts";
 *
 * const zipped = await zipBlenderAddon(fileURLToPath(new URL("../../", import.meta.url)));
 * ok(Object.keys(unzipSync(zipped.bytes)).includes("ferry_blender/__init__.py"));
 * ok(zipped.layout.some((entry) => entry.to === "ferry_blender/ferry_host/client.py"));
 * ```
 */
export async function zipBlenderAddon(root: string): Promise<{ bytes: Uint8Array; layout: AddonEntry[] }> {
  const folders = addonFolders(root);
  const list = async (folder: string) => {
    try {
      return await filesUnder(folder);
    } catch (error) {
      if ((error as { code?: string }).code === "ENOENT") {
        throw new Error(`Cannot build the Blender add-on: no folder '${folder}'`, { cause: error });
      }
      throw error;
    }
  };
  const layout = addonLayout(await list(folders.addon), await list(folders.client));
  const files: Record<string, [Uint8Array, { mtime: Date }]> = {};
  const mtime = new Date("2026-01-01T00:00:00Z");
  for (const entry of layout) {
    const source = join(entry.from === "addon" ? folders.addon : folders.client, entry.path);
    files[entry.to] = [new Uint8Array(await readFile(source)), { mtime }];
  }
  return { bytes: zipSync(files, { level: 6 }), layout };
}
