/**
 * Where things go in the npm package, the shape dnt emits: `esm/` (ES modules) and `script/` (CommonJS, marked
 * by its own `package.json`), each holding the bundled entry, the hash worker beside it (the pool finds it next to
 * its own module at run time) and the declaration tree.
 */
export const NPM_LAYOUT = {
  /** ES modules. */
  esmDir: "esm",
  /** CommonJS, with `script/package.json` saying `"type": "commonjs"`. */
  cjsDir: "script",
  /** The public entry: `mod.ts` becomes `mod.js` + `mod.d.ts`. */
  entry: "mod",
  /** The hash worker's file name (without `.js`), as `src/fingerprint/hash_pool.ts` looks for it. */
  worker: "_hash_worker",
} as const;
