import type { HashAlgorithm } from "./algorithm.ts";
import type { FingerprintProblem } from "./fingerprint_error.ts";

/** Main thread → hash worker. */
export interface HashRequest {
  id: number;
  path: string;
  algorithm: HashAlgorithm;
  chunkSize: number;
}

/** Hash worker → main thread: progress, a digest, or a failure. */
export type HashResponse =
  | { id: number; kind: "progress"; bytes: number }
  | { id: number; kind: "done"; hex: string; size: number; unreported: number }
  | {
    id: number;
    kind: "failed";
    path: string;
    problem: FingerprintProblem | string;
    message: string;
    unreported: number;
  };
