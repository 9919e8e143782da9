import { deepEqual, throws } from "node:assert/strict";
import { npmDependencies } from "./npm_dependencies.ts";

const IMPORTS = {
  "zod": "npm:zod@4.6.7",
  "hono": "npm:hono@4.13.19",
  "hono/": "npm:/hono@4.13.19/",
  "@ftrack/api": "npm:@ftrack/api@1.11.2",
  "local": "./src/local.ts",
};

Deno.test("npmDependencies() maps imported packages to caret ranges of the import map's versions, sorted", () => {
  deepEqual(npmDependencies(["zod", "node:os", "hono/jsx", "@ftrack/api", "zod/mini", "fs"], IMPORTS), {
    "@ftrack/api": "^1.11.2",
    "hono": "^4.13.19",
    "zod": "^4.6.7",
  });
});

Deno.test("npmDependencies() gives none for built-ins only", () => {
  deepEqual(npmDependencies(["node:worker_threads", "node:crypto", "path"], IMPORTS), {});
});

Deno.test("npmDependencies() keeps a version that is already a range or a tag", () => {
  deepEqual(npmDependencies(["a"], { a: "npm:a@^2.1.0" }), { a: "^2.1.0" });
  deepEqual(npmDependencies(["b"], { b: "npm:b@next" }), { b: "next" });
});

Deno.test("npmDependencies() names a package the import map lacks or maps elsewhere", () => {
  throws(() => npmDependencies(["left-pad"], IMPORTS), /imports 'left-pad', which deno.json's imports do not map/);
  throws(() => npmDependencies(["local"], IMPORTS), /'local' maps to '\.\/src\/local\.ts' in deno\.json/);
  throws(() => npmDependencies(["a"], { a: "npm:b@1.0.0" }), /'a' maps to 'npm:b@1\.0\.0'/);
});
