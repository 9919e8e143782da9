import { equal } from "node:assert/strict";
import { jsSpecifier } from "./js_specifier.ts";

Deno.test("jsSpecifier() rewrites relative TypeScript imports to the JavaScript the build emits", () => {
  equal(jsSpecifier("./mod.ts"), "./mod.js");
  equal(jsSpecifier("../sequence/collection.ts"), "../sequence/collection.js");
  equal(jsSpecifier("./worker.mts"), "./worker.mjs");
  equal(jsSpecifier("./legacy.cts"), "./legacy.cjs");
});

Deno.test("jsSpecifier() leaves packages, built-ins, declarations and non-TypeScript files alone", () => {
  equal(jsSpecifier("zod"), "zod");
  equal(jsSpecifier("node:worker_threads"), "node:worker_threads");
  equal(jsSpecifier("@scope/pkg/file.ts"), "@scope/pkg/file.ts");
  equal(jsSpecifier("./types.d.ts"), "./types.d.ts");
  equal(jsSpecifier("./data.json"), "./data.json");
  equal(jsSpecifier("./already.js"), "./already.js");
});
