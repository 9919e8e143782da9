import { mkdir, mkdtemp, readdir, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { buildAssets } from "../../services/web/assets.ts";
import { WEB_ASSETS } from "./binaries.ts";

/**
 * Builds the web view's page script and stylesheet once with esbuild (as `deno task web` does at start) into
 * {@linkcode WEB_ASSETS} under `root`, replacing what was there: the files the `ferry-web` binary embeds and
 * serves, so that it never runs esbuild. Each file is replaced in one step (written aside, then renamed), so a
 * build running at the same time (tests run in parallel) never reads half a file. Returns the paths written,
 * relative to `root`.
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
  await mkdir(folder, { recursive: true });
  // Written aside next to the folder (not in it: it is embedded whole), then renamed into it.
  const aside = await mkdtemp(join(options.root, `${WEB_ASSETS.replace(/\/$/, "")}-`));
  const written: string[] = [];
  try {
    for (const [name, asset] of Object.entries(assets)) {
      await writeFile(join(aside, name), asset.body);
      await rename(join(aside, name), join(folder, name));
      written.push(`${WEB_ASSETS}${name}`);
    }
  } finally {
    await rm(aside, { recursive: true, force: true });
  }
  // Files of an older build that this one no longer makes.
  for (const name of await readdir(folder)) {
    if (!(name in assets)) await rm(join(folder, name), { recursive: true, force: true });
  }
  return written.sort();
}
