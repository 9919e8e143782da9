/**
 * The specifier a built file imports: a relative `.ts`/`.mts`/`.cts` import becomes the `.js`/`.mjs`/`.cjs`
 * the build emits beside it (what TypeScript's `rewriteRelativeImportExtensions` does for JavaScript, applied to
 * declarations too). Package and `node:` specifiers, and declaration files, are left as they are.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { jsSpecifier } from "./js_specifier.ts";
 *
 * ok(jsSpecifier("./src/sequence/mod.ts") === "./src/sequence/mod.js");
 * ok(jsSpecifier("zod") === "zod");
 * ```
 */
export function jsSpecifier(specifier: string): string {
  if (!specifier.startsWith("./") && !specifier.startsWith("../")) return specifier;
  if (/\.d\.[mc]?ts$/.test(specifier)) return specifier;
  return specifier.replace(/\.([mc]?)ts$/, ".$1js");
}
