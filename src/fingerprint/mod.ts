/**
 * Streaming file and sequence fingerprints (SHA-1 by default) at the machine's hashing speed,
 * on worker threads for many files.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { fingerprintFile } from "./mod.ts";
 *
 * const path = await Deno.makeTempFile();
 * ok((await fingerprintFile(path)).hex === "da39a3ee5e6b4b0d3255bfef95601890afd80709");
 * await Deno.remove(path);
 * ```
 *
 * @module
 */
export { checkAlgorithm, HASH_ALGORITHMS, type HashAlgorithm } from "./algorithm.ts";
export { FingerprintError, type FingerprintProblem } from "./fingerprint_error.ts";
export {
  DEFAULT_CHUNK_SIZE,
  type Fingerprint,
  fingerprintFile,
  type FingerprintFileOptions,
} from "./fingerprint_file.ts";
export { fingerprintFiles, type FingerprintFilesOptions, type FingerprintProgress } from "./fingerprint_files.ts";
export {
  fingerprintSequence,
  type FingerprintSequenceOptions,
  type MemberFingerprint,
  type SequenceFingerprint,
} from "./fingerprint_sequence.ts";
export { type HashJobOptions, HashPool } from "./hash_pool.ts";
