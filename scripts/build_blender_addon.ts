/**
 * `deno run --allow-read --allow-write scripts/build_blender_addon.ts [--out ferry_blender.zip]`: builds the Blender
 * add-on zip that Preferences › Add-ons › Install takes, with ferry's Python client vendored inside it.
 *
 * @module
 */
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join, relative, resolve } from "node:path";
import { zipSync } from "fflate";
import { z } from "zod";
import { parseFlags, UsageError } from "../src/cli/args.ts";

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

/**
 * Where each source file goes in the zip: the add-on's files under `ferry_blender/`, the client's under
 * `ferry_blender/ferry_host/`. Only `.py` files; caches and tests are left out; sorted, for a stable zip.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { addonLayout } from "./build_blender_addon.ts";
 *
 * const layout = addonLayout(["__init__.py", "__pycache__/x.pyc"], ["client.py"]);
 * ok(JSON.stringify(layout) === JSON.stringify([
 *   { from: "addon", path: "__init__.py", to: "ferry_blender/__init__.py" },
 *   { from: "client", path: "client.py", to: "ferry_blender/ferry_host/client.py" },
 * ]));
 * ```
 */
export function addonLayout(
  addonFiles: readonly string[],
  clientFiles: readonly string[],
): Array<{ from: "addon" | "client"; path: string; to: string }> {
  const keep = (path: string) => path.endsWith(".py") && !path.split("/").some((part) => part === "__pycache__");
  const addon = addonFiles.filter(keep).map((path) => ({
    from: "addon" as const,
    path,
    to: `ferry_blender/${path}`,
  }));
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
  const addonFolder = join(root, "hosts", "blender", "ferry_blender");
  const clientFolder = join(root, "hosts", "python", "ferry_host");
  const layout = addonLayout(await filesUnder(addonFolder), await filesUnder(clientFolder));
  const files: Record<string, [Uint8Array, { mtime: Date }]> = {};
  const mtime = new Date("2026-01-01T00:00:00Z");
  for (const entry of layout) {
    const source = join(entry.from === "addon" ? addonFolder : clientFolder, entry.path);
    files[entry.to] = [new Uint8Array(await readFile(source)), { mtime }];
  }
  await mkdir(join(out, ".."), { recursive: true });
  await writeFile(out, zipSync(files, { level: 6 }));
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
