/** Why a file could not be fingerprinted. */
export type FingerprintProblem = "missing" | "unreadable" | "not-a-file" | "changed" | "aborted" | "failed";

/**
 * A file could not be fingerprinted. The message names the path and the problem; `path` and
 * `problem` let callers react (a missing frame is a validation error, a changed file a retry).
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { FingerprintError } from "./fingerprint_error.ts";
 *
 * const error = new FingerprintError("/renders/a.0001.exr", "missing", "it does not exist");
 * ok(error.message === "Cannot fingerprint '/renders/a.0001.exr': it does not exist");
 * ```
 */
export class FingerprintError extends Error {
  /** The file. */
  readonly path: string;
  /** What went wrong. */
  readonly problem: FingerprintProblem;

  /** Creates the error; `reason` completes "Cannot fingerprint '<path>': …". */
  constructor(path: string, problem: FingerprintProblem, reason: string, options?: ErrorOptions) {
    super(`Cannot fingerprint '${path}': ${reason}`, options);
    this.name = "FingerprintError";
    this.path = path;
    this.problem = problem;
  }

  /** Wraps a file-system error (ENOENT, EACCES, EISDIR, …) into the fitting problem. */
  static fromSystemError(path: string, error: unknown): FingerprintError {
    if (error instanceof FingerprintError) return error;
    const code = (error as { code?: string } | null)?.code;
    switch (code) {
      case "ENOENT":
      case "ENOTDIR":
        return new FingerprintError(path, "missing", "it does not exist", { cause: error });
      case "EACCES":
      case "EPERM":
        return new FingerprintError(path, "unreadable", "permission denied", { cause: error });
      case "EISDIR":
        return new FingerprintError(path, "not-a-file", "it is a directory", { cause: error });
      default:
        if ((error as Error | null)?.name === "AbortError") {
          return new FingerprintError(path, "aborted", "the operation was aborted", { cause: error });
        }
        return new FingerprintError(path, "failed", (error as Error | null)?.message ?? String(error), {
          cause: error,
        });
    }
  }
}
