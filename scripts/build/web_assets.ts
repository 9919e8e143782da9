import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { buildAssets } from "../../services/web/assets.ts";
import { WEB_ASSETS } from "./binaries.ts";

/**
 * Builds the web view's page script and stylesheet once with esbuild (as `deno task web` does at start) into
 * {@linkcode WEB_ASSETS} under `root`, replacing what was there: the files the `ferry-web` binary embeds and
 * serves, so that it never runs esbuild. Returns the paths written, relative to `root`.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { join } from "node:path";
 * import { writeWebAssets } from "./web_assets.ts";
 *
 * const root = await Deno.makeTempDir();
 * const written = await writeWebAssets({ root });
 * ok(written.includes("dist/web_assets/app.js"));
 * ok((await Deno.readTextFile(join(root, "dist/web_assets/app.js"))).includes("EventSource"));
 * await Deno.remove(root, { recursive: true });
 * ```
 */
export async function writeWebAssets(options: { root: string }): Promise<string[]> {
  const folder = join(options.root, WEB_ASSETS);
  const assets = await buildAssets();
  await rm(folder, { recursive: true, force: true });
  await mkdir(folder, { recursive: true });
  const written: string[] = [];
  for (const [name, asset] of Object.entries(assets)) {
    await writeFile(join(folder, name), asset.body);
    written.push(`${WEB_ASSETS}${name}`);
  }
  return written.sort();
}
