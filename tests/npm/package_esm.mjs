// Runs the behaviours against the installed package through `import`, and checks that `import` and `require`
// load the two builds of the same API, each with its hash worker beside it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import behaviours from "./_behaviours.cjs";

// A variable, not a literal: `deno check .` in the repository must not try to resolve a package that exists only
// in the temporary project these tests are copied into.
const PACKAGE = "@ferry/common";
const ferry = await import(PACKAGE);

behaviours.behaviours(ferry, "import");

test("import resolves to the package's ES module build, with the hash worker beside it", () => {
  const entry = fileURLToPath(import.meta.resolve(PACKAGE));
  assert.match(entry, /node_modules[\\/]@ferry[\\/]common[\\/]esm[\\/]mod\.js$/);
  assert.ok(existsSync(fileURLToPath(new URL("./_hash_worker.js", import.meta.resolve(PACKAGE)))));
});

test("import and require give the same exports", () => {
  const required = createRequire(import.meta.url)(PACKAGE);
  assert.deepEqual(Object.keys(ferry).sort(), Object.keys(required).sort());
  assert.ok(Object.keys(ferry).length >= 20);
});
