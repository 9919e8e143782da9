/**
 * `deno run --allow-read --allow-write scripts/build_blender_addon.ts [--out ferry_blender.zip]`: builds the Blender
 * add-on zip that Preferences › Add-ons › Install takes, with ferry's Python client vendored inside it.
 *
 * @module
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { z } from "zod";
import { parseFlags, UsageError } from "../src/cli/args.ts";
import { addonLayout, zipBlenderAddon } from "../src/hosts/blender_addon.ts";

export { addonLayout };

/** The usage text of the command. */
export const USAGE = `Usage: deno run --allow-read --allow-write scripts/build_blender_addon.ts [--out <file.zip>]

Builds ferry's Blender add-on (hosts/blender/ferry_blender) into one zip with ferry's Python client
(hosts/python/ferry_host) vendored as ferry_blender/ferry_host, so the zip is self-contained.
Install it in Blender through Edit › Preferences › Add-ons › Install…, then enable "ferry".

Options:
  --out <file.zip>   where to write the zip (default: dist/ferry_blender.zip)
  -h, --help         show this help`;

/** The checkout's root. */
const ROOT = new URL("../", import.meta.url).pathname;

/** Options of {@linkcode buildBlenderAddon}. */
export interface BuildBlenderAddonOptions {
  /** Where to write the zip. @default {"dist/ferry_blender.zip"} in the checkout */
  out?: string;
  /** The ferry checkout to build from. @default {the checkout of this script} */
  root?: string;
}

/**
 * Builds the add-on zip; returns its path and the paths inside it.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { mkdtemp, rm } from "node:fs/promises";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 * import { buildBlenderAddon } from "./build_blender_addon.ts";
 *
 * const folder = await mkdtemp(join(tmpdir(), "ferry-addon-"));
 * const built = await buildBlenderAddon({ out: join(folder, "ferry_blender.zip") });
 * ok(built.entries.includes("ferry_blender/__init__.py"));
 * ok(built.entries.includes("ferry_blender/ferry_host/client.py"));
 * await rm(folder, { recursive: true });
 * ```
 */
export async function buildBlenderAddon(options: BuildBlenderAddonOptions = {}): Promise<{
  path: string;
  entries: string[];
}> {
  const { root = ROOT } = options;
  const out = resolve(options.out ?? join(root, "dist", "ferry_blender.zip"));
  const { bytes, layout } = await zipBlenderAddon(root);
  await mkdir(join(out, ".."), { recursive: true });
  await writeFile(out, bytes);
  return { path: out, entries: layout.map((entry) => entry.to) };
}

/** Runs the command; returns the exit code. */
export async function main(args: string[]): Promise<number> {
  try {
    const { flags, positionals } = parseFlags(args, {
      out: { type: "string" },
      help: { type: "boolean", short: "h" },
    }, z.object({ out: z.string().min(1).optional(), help: z.boolean().default(false) }));
    if (flags.help) {
      console.log(USAGE);
      return 0;
    }
    if (positionals.length > 0) throw new UsageError(`Unexpected argument '${positionals[0]}'`);
    const built = await buildBlenderAddon({ out: flags.out });
    console.log(`${built.path} (${built.entries.length} files)`);
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`build_blender_addon: ${error.message}\n\n${USAGE}`);
      return 2;
    }
    throw error;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
