import { NPM_LAYOUT } from "./npm_layout.ts";

/** Who the npm package of the common module is: its name, licence, Node range and search words. */
export const COMMON_PACKAGE = {
  name: "@ferry/common",
  /** The repository's `LICENSE` must be this licence. */
  license: "MIT",
  node: ">=20",
  keywords: ["vfx", "animation", "pipeline", "image-sequence", "clique", "fingerprint", "ftrack", "events"],
} as const;

/** What {@linkcode npmPackageJson} needs. */
export interface NpmPackageJsonOptions {
  /** The npm name, e.g. `@ferry/common`. */
  name: string;
  /** From `deno.json`. */
  version: string;
  /** One line. */
  description: string;
  /** An SPDX identifier. */
  license: string;
  /** The runtime dependencies (see `npmDependencies`). @default {{}} */
  dependencies?: Record<string, string>;
  /** Search words. @default {[]} */
  keywords?: readonly string[];
  /** The Node versions supported. @default {">=20"} */
  node?: string;
}

/**
 * The `package.json` of the npm build: ES modules for `import`, CommonJS for `require`, each with its own
 * declarations listed first (so TypeScript sees the format it will load), `main`/`module`/`types` for older
 * resolvers, Node ≥ 20, and no side effects on import. Fields are in the order npm and publint show them.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { npmPackageJson } from "./npm_package_json.ts";
 *
 * const pkg = npmPackageJson({ name: "@ferry/common", version: "0.1.0", description: "d", license: "MIT" });
 * ok(pkg.exports["."].require.default === "./script/mod.js");
 * ```
 */
export function npmPackageJson(options: NpmPackageJsonOptions) {
  const { name, version, description, license, dependencies = {}, keywords = [], node = ">=20" } = options;
  const { esmDir, cjsDir, entry } = NPM_LAYOUT;
  const files = (dir: string) => ({ types: `./${dir}/${entry}.d.ts`, default: `./${dir}/${entry}.js` });
  return {
    name,
    version,
    description,
    keywords: [...keywords],
    license,
    type: "module",
    engines: { node },
    sideEffects: false,
    main: `./${cjsDir}/${entry}.js`,
    module: `./${esmDir}/${entry}.js`,
    types: `./${cjsDir}/${entry}.d.ts`,
    exports: {
      ".": { import: files(esmDir), require: files(cjsDir) },
      "./package.json": "./package.json",
    },
    files: [esmDir, cjsDir],
    dependencies: { ...dependencies },
  };
}

/** `script/package.json`: makes Node and TypeScript read the `.js` and `.d.ts` files under `script/` as CommonJS. */
export const CJS_SCOPE_PACKAGE_JSON = { type: "commonjs" } as const;
