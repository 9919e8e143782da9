/**
 * The text of a file's `@module` JSDoc comment, without the comment's stars and the `@module` tag; `""` when the
 * file has none.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { moduleDoc } from "./module_doc.ts";
 *
 * ok(moduleDoc("/**\n * Sequences.\n *\n * @module\n *\/\nexport {};") === "Sequences.");
 * ```
 */
export function moduleDoc(source: string): string {
  for (const match of source.matchAll(/\/\*\*([\s\S]*?)\*\//g)) {
    const lines = match[1]!.split("\n").map((line) => line.replace(/^\s*\* ?/, "").trimEnd());
    if (!lines.some((line) => /^@module\b/.test(line.trim()))) continue;
    return lines.filter((line) => !/^@module\b/.test(line.trim())).join("\n").trim();
  }
  return "";
}
