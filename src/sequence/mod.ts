/**
 * Image-sequence detection that gives clique 1.5's answers: {@linkcode assemble} groups names
 * into {@linkcode Collection}s, {@linkcode parse} reads a formatted collection back.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { assemble } from "./mod.ts";
 *
 * const { collections } = assemble(["a.0001.exr", "a.0002.exr"]);
 * ok(collections[0]!.format() === "a.%04d.exr [1-2]");
 * ```
 *
 * @module
 */
export { assemble, type AssembleOptions, type AssembleResult } from "./assemble.ts";
export { Collection, type CollectionInit, DEFAULT_FORMAT } from "./collection.ts";
export { CollectionError } from "./collection_error.ts";
export { parse } from "./parse.ts";
export { type AssemblePattern, DIGITS_PATTERN, PATTERNS } from "./patterns.ts";
