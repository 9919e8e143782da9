/**
 * ferry's common module: what pipeline tools share, runtime-neutral (Deno and Node ≥ 20).
 *
 * - Image sequences the way clique finds them: {@linkcode assemble}, {@linkcode Collection}, {@linkcode parse}.
 * - Fingerprints: {@linkcode fingerprintFile}, {@linkcode fingerprintFiles}, {@linkcode fingerprintSequence}.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { assemble } from "./mod.ts";
 *
 * const { collections, remainder } = assemble(["sh010.1001.exr", "sh010.1002.exr", "notes.txt"]);
 * ok(collections[0]!.format() === "sh010.%d.exr [1001-1002]");
 * ok(remainder.join() === "notes.txt");
 * ```
 *
 * @module
 */
export * from "./src/sequence/mod.ts";
export * from "./src/fingerprint/mod.ts";
export { mapLimit } from "./src/async/map_limit.ts";
export * from "./src/events/mod.ts";
