import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { basename } from "node:path";

/** The SHA-256 of a file, in hex. */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Uint8Array);
  return hash.digest("hex");
}

/**
 * The text of a `SHA256SUMS` file for the files (by their base names, sorted), in the format
 * `sha256sum --check` reads: `<hex>  <name>` per line.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { join } from "node:path";
 * import { sha256Sums } from "./sha256sums.ts";
 *
 * const folder = await Deno.makeTempDir();
 * await Deno.writeTextFile(join(folder, "a.txt"), "");
 * const text = await sha256Sums([join(folder, "a.txt")]);
 * ok(text === "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  a.txt\n");
 * await Deno.remove(folder, { recursive: true });
 * ```
 */
export async function sha256Sums(paths: readonly string[]): Promise<string> {
  const lines = await Promise.all(paths.map(async (path) => `${await sha256File(path)}  ${basename(path)}`));
  return lines.sort((a, b) => a.slice(66) < b.slice(66) ? -1 : 1).join("\n") + "\n";
}
