import { copyFileSync, existsSync, linkSync, mkdirSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import type { EmbeddedFiles } from "./embedded_files.ts";

function place(from: string, to: string): void {
  if (existsSync(to)) return; // a nested package placed with its parent (never copy a link onto itself)
  mkdirSync(dirname(to), { recursive: true });
  try {
    linkSync(from, to); // same file system: no copy
  } catch {
    copyFileSync(from, to);
  }
}

function placeFolder(from: string, to: string): number {
  let count = 0;
  for (const entry of readdirSync(from, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const relative = join(entry.parentPath, entry.name).slice(from.length + 1);
    place(join(from, relative), join(to, relative));
    count++;
  }
  return count;
}

/**
 * Lays out in `out` exactly what a binary embeds (its files and npm packages, at their paths in the checkout),
 * so that its entry can run from there with the checkout out of reach: what `deno compile` would run from its
 * virtual file system. Files are hard-linked when `out` is on the same file system, copied otherwise.
 * Returns the number of files placed.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { existsSync } from "node:fs";
 * import { join } from "node:path";
 * import { stageEmbedded } from "./stage_embedded.ts";
 *
 * const out = await Deno.makeTempDir();
 * const placed = stageEmbedded({ files: ["deno.json"], packages: ["node_modules/fflate"], excludes: [] }, {
 *   root: ".",
 *   out,
 * });
 * ok(placed > 1 && existsSync(join(out, "deno.json")) && existsSync(join(out, "node_modules/fflate/package.json")));
 * await Deno.remove(out, { recursive: true });
 * ```
 */
export function stageEmbedded(embedded: EmbeddedFiles, options: { root: string; out: string }): number {
  const { root, out } = options;
  for (const file of embedded.files) place(join(root, file), join(out, file));
  let count = embedded.files.length;
  for (const folder of embedded.packages) count += placeFolder(join(root, folder), join(out, folder));
  return count;
}
