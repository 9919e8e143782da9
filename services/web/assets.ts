import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";
import type { Asset } from "./app.ts";
import { ASSET_TYPES } from "./prebuilt_assets.ts";

const CLIENT_ENTRY = new URL("./client/app.ts", import.meta.url);
const STYLE = new URL("./style.css", import.meta.url);

/** Options of {@linkcode buildAssets}. */
export interface BuildAssetsOptions {
  /** Minify the script and the stylesheet. @default {true} */
  minify?: boolean;
}

/**
 * The files under `/assets/`: the page script (`client/app.ts` bundled by esbuild for the
 * browser) and the stylesheet. Built once when `deno task web` starts; `deno task compile` builds them once
 * for the `ferry-web` binary (`scripts/build/web_assets.ts`).
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { buildAssets } from "./assets.ts";
 *
 * const assets = await buildAssets();
 * ok(String(assets["app.js"]!.body).includes("EventSource"));
 * ok(assets["style.css"]!.type.startsWith("text/css"));
 * ```
 */
export async function buildAssets(options: BuildAssetsOptions = {}): Promise<Record<string, Asset>> {
  const { minify = true } = options;
  try {
    const css = await readFile(STYLE, "utf8");
    let script: esbuild.BuildResult<{ write: false }>;
    let style: esbuild.TransformResult;
    try {
      [script, style] = await Promise.all([
        esbuild.build({
          entryPoints: [fileURLToPath(CLIENT_ENTRY)],
          bundle: true,
          write: false,
          format: "esm",
          target: ["chrome110", "firefox110", "safari16"],
          minify,
          legalComments: "none",
          logLevel: "silent",
        }),
        esbuild.transform(css, { loader: "css", minify }),
      ]);
    } catch (error) {
      throw new Error(
        `Cannot bundle the web view's page script '${fileURLToPath(CLIENT_ENTRY)}' with esbuild: ${
          (error as Error)?.message ?? error
        } (a single binary passes pre-built assets to startWeb instead)`,
        { cause: error },
      );
    }
    return {
      "app.js": { body: script.outputFiles[0]!.text, type: ASSET_TYPES["app.js"]! },
      "style.css": { body: style.code, type: ASSET_TYPES["style.css"]! },
    };
  } finally {
    await esbuild.stop();
  }
}
