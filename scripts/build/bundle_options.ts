import type { BuildOptions } from "esbuild";

/** What {@linkcode bundleOptions} needs. */
export interface BundleOptionsInit {
  /** The repository root: entry points are relative to it. */
  root: string;
  /** Output name (no extension) → source file, relative to `root`. */
  entryPoints: Record<string, string>;
  /** Where the `.js` files go. */
  outdir: string;
  /** `esm` for `import`, `cjs` for `require`. */
  format: "esm" | "cjs";
  /** The oldest Node the output runs on. @default {"node20"} */
  target?: string;
}

/** What CommonJS output reads in place of `import.meta.url` (which does not exist there). */
export const CJS_IMPORT_META_URL = "__ferry_import_meta_url";

/**
 * The esbuild options of one format of the npm build. Each entry point is bundled into one file (esbuild resolves
 * the sources' `.ts` imports itself, so nothing is left to rewrite); npm packages and `node:` built-ins stay
 * imports. CommonJS has no `import.meta.url`: a one-line banner defines it from `__filename` and `define` points
 * every use at it, so `new URL("./_hash_worker.js", import.meta.url)` finds the worker beside the CommonJS file.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { bundleOptions } from "./bundle_options.ts";
 *
 * const options = bundleOptions({ root: "/repo", entryPoints: { mod: "mod.ts" }, outdir: "/out/esm", format: "esm" });
 * ok(options.bundle && options.packages === "external" && options.define === undefined);
 * ```
 */
export function bundleOptions(init: BundleOptionsInit): BuildOptions {
  const { root, entryPoints, outdir, format, target = "node20" } = init;
  return {
    absWorkingDir: root,
    entryPoints: { ...entryPoints },
    outdir,
    outExtension: { ".js": ".js" },
    bundle: true,
    packages: "external",
    platform: "node",
    target,
    format,
    charset: "utf8",
    metafile: true,
    write: true,
    logLevel: "silent",
    ...(format === "cjs"
      ? {
        define: { "import.meta.url": CJS_IMPORT_META_URL },
        banner: { js: `const ${CJS_IMPORT_META_URL} = require("node:url").pathToFileURL(__filename).href;` },
      }
      : {}),
  };
}
