import { equal } from "node:assert/strict";
import { moduleDoc } from "./module_doc.ts";

Deno.test("moduleDoc() returns the @module comment's text with code blocks intact", () => {
  const source = [
    "// a licence header",
    "/** Not this one. */",
    "/**",
    " * Events of the hub.",
    " *",
    " * @example",
    " * ```ts",
    " * const a = 1;",
    " *   indented();",
    " * ```",
    " *",
    " * @module",
    " */",
    'export * from "./event.ts";',
  ].join("\n");
  equal(moduleDoc(source), "Events of the hub.\n\n@example\n```ts\nconst a = 1;\n  indented();\n```");
});

Deno.test("moduleDoc() returns an empty string for a file without a @module comment", () => {
  equal(moduleDoc("/** A function. */\nexport function f() {}"), "");
  equal(moduleDoc(""), "");
});
