/**
 * The exit codes every ferry command and service uses, so that a farm job or a script can tell
 * what happened from the code alone:
 *
 * | code | meaning |
 * |---|---|
 * | 0 | done (for `publish`: the version is published, even when only the report could not be written) |
 * | 1 | the work failed: validation or integration failed, a file could not be read; nothing was published |
 * | 2 | usage error: a bad flag, argument, pattern or settings file (running it again will not help) |
 * | 3 | configuration or connection problem: environment, `FERRY_HOME`, credentials, the tracker unreachable, not an ftrack server, or too slow to answer (fix the set-up, or retry later) |
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { EXIT, exitCodesHelp } from "./exit_codes.ts";
 *
 * ok(EXIT.USAGE === 2);
 * ok(exitCodesHelp({ [EXIT.OK]: "published" }).includes("0  published"));
 * ```
 *
 * @module
 */

/** The exit codes, by meaning. */
export const EXIT = {
  /** Done: for `publish`, the version is published. */
  OK: 0,
  /** The work failed (validation, integration, unreadable files): nothing was published. */
  FAILED: 1,
  /** Bad flags, arguments, patterns or settings files. */
  USAGE: 2,
  /** Configuration or connection problem: environment, FERRY_HOME, credentials, tracker unreachable or silent. */
  ENVIRONMENT: 3,
} as const;

/** One of {@linkcode EXIT}'s codes. */
export type ExitCode = typeof EXIT[keyof typeof EXIT];

const GENERIC: Record<ExitCode, string> = {
  0: "done",
  1: "failed (nothing was changed)",
  2: "usage error: a bad flag, argument, pattern or settings file",
  3: "configuration or connection problem: environment variables, FERRY_HOME, credentials, the tracker unreachable, not an ftrack server, or not answering within the timeout",
};

/**
 * The exit-code table for a command's `--help`: the shared codes, each with the command's own
 * wording where it gives one.
 */
export function exitCodesHelp(meanings: Partial<Record<ExitCode, string>> = {}): string {
  const codes = Object.values(EXIT) as ExitCode[];
  return [
    "Exit codes:",
    ...codes.map((code) => `  ${code}  ${meanings[code] ?? GENERIC[code]}`),
  ].join("\n");
}

/** Shared behaviour of errors that map to an exit code: `exitCode` on the error. */
export interface WithExitCode {
  readonly exitCode: ExitCode;
}

/**
 * The exit code an error stands for: its own `exitCode` when it carries one (usage, configuration
 * and connection errors do), else {@linkcode EXIT.FAILED}.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { exitCodeOf } from "./exit_codes.ts";
 *
 * ok(exitCodeOf(new Error("x")) === 1);
 * ok(exitCodeOf(Object.assign(new Error("x"), { exitCode: 3 })) === 3);
 * ```
 */
export function exitCodeOf(error: unknown): ExitCode {
  const code = (error as Partial<WithExitCode> | null)?.exitCode;
  return (Object.values(EXIT) as number[]).includes(code as number) ? code as ExitCode : EXIT.FAILED;
}
