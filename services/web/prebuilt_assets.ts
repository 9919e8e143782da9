import { readFile } from "node:fs/promises";
import type { Asset } from "./app.ts";

/** The files under `/assets/` and their content types: what `buildAssets()` makes and a binary embeds. */
export const ASSET_TYPES: Readonly<Record<string, string>> = {
  "app.js": "text/javascript; charset=utf-8",
  "style.css": "text/css; charset=utf-8",
};

/**
 * The page script and stylesheet built ahead of time (by `deno task compile`, into the folder the `ferry-web`
 * binary embeds), read from `folder`; `undefined` when the folder does not hold them all (a checkout, where
 * the view bundles them at start). A folder holding some but not all of them is an error naming what is missing.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { readPrebuiltAssets } from "./prebuilt_assets.ts";
 *
 * const folder = await Deno.makeTempDir();
 * ok(await readPrebuiltAssets(new URL(`file://${folder}/`)) === undefined);
 * await Deno.writeTextFile(`${folder}/app.js`, "console.log(1);");
 * await Deno.writeTextFile(`${folder}/style.css`, "body{}");
 * const assets = (await readPrebuiltAssets(new URL(`file://${folder}/`)))!;
 * ok(new TextDecoder().decode(assets["app.js"]!.body as Uint8Array) === "console.log(1);");
 * await Deno.remove(folder, { recursive: true });
 * ```
 */
export async function readPrebuiltAssets(folder: URL): Promise<Record<string, Asset> | undefined> {
  const base = folder.href.endsWith("/") ? folder : new URL(`${folder.href}/`);
  const found: Record<string, Asset> = {};
  const missing: string[] = [];
  for (const [name, type] of Object.entries(ASSET_TYPES)) {
    try {
      found[name] = { body: new Uint8Array(await readFile(new URL(name, base))), type };
    } catch (error) {
      if ((error as { code?: string }).code !== "ENOENT" && !(error instanceof Deno.errors.NotFound)) throw error;
      missing.push(name);
    }
  }
  if (missing.length === Object.keys(ASSET_TYPES).length) return undefined;
  if (missing.length > 0) {
    throw new Error(`The web view's prebuilt assets in '${base.href}' lack ${missing.join(", ")}`);
  }
  return found;
}
