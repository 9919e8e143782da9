import { deepEqual } from "node:assert/strict";
import { bundleOptions } from "./bundle_options.ts";

const ENTRIES = { mod: "mod.ts", _hash_worker: "src/fingerprint/_hash_worker.ts" };

Deno.test("bundleOptions() bundles each entry for Node 20 as ES modules, keeping packages as imports", () => {
  deepEqual(bundleOptions({ root: "/repo", entryPoints: ENTRIES, outdir: "/out/esm", format: "esm" }), {
    absWorkingDir: "/repo",
    entryPoints: ENTRIES,
    outdir: "/out/esm",
    outExtension: { ".js": ".js" },
    bundle: true,
    packages: "external",
    platform: "node",
    target: "node20",
    format: "esm",
    charset: "utf8",
    metafile: true,
    write: true,
    logLevel: "silent",
  });
});

Deno.test("bundleOptions() gives CommonJS an import.meta.url made from __filename", () => {
  deepEqual(
    bundleOptions({ root: "/repo", entryPoints: ENTRIES, outdir: "/out/script", format: "cjs", target: "node22" }),
    {
      absWorkingDir: "/repo",
      entryPoints: ENTRIES,
      outdir: "/out/script",
      outExtension: { ".js": ".js" },
      bundle: true,
      packages: "external",
      platform: "node",
      target: "node22",
      format: "cjs",
      charset: "utf8",
      metafile: true,
      write: true,
      logLevel: "silent",
      define: { "import.meta.url": "__ferry_import_meta_url" },
      banner: { js: `const __ferry_import_meta_url = require("node:url").pathToFileURL(__filename).href;` },
    },
  );
});
