/** The digest algorithms ferry fingerprints with. SHA-1 is ftrack's and ferry's default. */
export const HASH_ALGORITHMS = ["sha1", "sha256", "md5"] as const;

/** One of {@linkcode HASH_ALGORITHMS}. */
export type HashAlgorithm = typeof HASH_ALGORITHMS[number];

/**
 * Checks an algorithm name coming from outside (a flag, a settings file); `TypeError` naming it
 * and the choices otherwise.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { checkAlgorithm } from "./algorithm.ts";
 *
 * ok(checkAlgorithm("sha256") === "sha256");
 * ```
 */
export function checkAlgorithm(name: string): HashAlgorithm {
  if ((HASH_ALGORITHMS as readonly string[]).includes(name)) return name as HashAlgorithm;
  throw new TypeError(`Cannot fingerprint with '${name}': choose one of ${HASH_ALGORITHMS.join(", ")}`);
}
