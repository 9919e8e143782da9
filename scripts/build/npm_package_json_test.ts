import { deepEqual } from "node:assert/strict";
import { npmPackageJson } from "./npm_package_json.ts";

Deno.test("npmPackageJson() gives the dual ESM/CommonJS shape with per-format declarations", () => {
  deepEqual(
    npmPackageJson({
      name: "@ferry/common",
      version: "0.1.0",
      description: "ferry's common module.",
      license: "MIT",
      dependencies: { zod: "^4.6.7" },
      keywords: ["vfx"],
    }),
    {
      name: "@ferry/common",
      version: "0.1.0",
      description: "ferry's common module.",
      keywords: ["vfx"],
      license: "MIT",
      type: "module",
      engines: { node: ">=20" },
      sideEffects: false,
      main: "./script/mod.js",
      module: "./esm/mod.js",
      types: "./script/mod.d.ts",
      exports: {
        ".": {
          import: { types: "./esm/mod.d.ts", default: "./esm/mod.js" },
          require: { types: "./script/mod.d.ts", default: "./script/mod.js" },
        },
        "./package.json": "./package.json",
      },
      files: ["esm", "script"],
      dependencies: { zod: "^4.6.7" },
    },
  );
});

Deno.test("npmPackageJson() lists the types condition before default in each format", () => {
  const { exports } = npmPackageJson({ name: "a", version: "1.0.0", description: "", license: "MIT" });
  deepEqual(Object.keys(exports["."].import), ["types", "default"]);
  deepEqual(Object.keys(exports["."].require), ["types", "default"]);
});

Deno.test("npmPackageJson() defaults to no dependencies, no keywords and Node >= 20", () => {
  const pkg = npmPackageJson({ name: "a", version: "1.0.0", description: "", license: "MIT" });
  deepEqual([pkg.dependencies, pkg.keywords, pkg.engines], [{}, [], { node: ">=20" }]);
});
