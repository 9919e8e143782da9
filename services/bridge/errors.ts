import type { z } from "@hono/zod-openapi";
import type { IssueSchema } from "./schemas.ts";

/** One bad field of a request. */
export type Issue = z.infer<typeof IssueSchema>;

/**
 * An error the bridge answers with: the HTTP status, a snake_case code and a one-line message
 * naming the problem (and, for `invalid_request`, one issue per bad field). `app.onError` turns it
 * into the `{ error: { code, message, issues? } }` body.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { BridgeError } from "./errors.ts";
 *
 * const error = new BridgeError(404, "job_not_found", "No job 'x' on this bridge");
 * ok(error.status === 404 && error.code === "job_not_found");
 * ```
 */
export class BridgeError extends Error {
  readonly status: 400 | 401 | 403 | 404 | 409 | 413 | 415 | 500 | 503;
  readonly code: string;
  readonly issues: Issue[] | undefined;

  constructor(
    status: BridgeError["status"],
    code: string,
    message: string,
    options: { issues?: Issue[]; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = "BridgeError";
    this.status = status;
    this.code = code;
    this.issues = options.issues;
  }
}

/**
 * The value at a path of an input, or null when there is none (for issues).
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { valueAt } from "./errors.ts";
 *
 * ok(valueAt({ instances: [{ files: [] }] }, ["instances", 0, "files"]) instanceof Array);
 * ok(valueAt({}, ["context", "path"]) === null);
 * ```
 */
export function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let value: unknown = input;
  for (const key of path) {
    if (value === null || typeof value !== "object") return null;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value === undefined ? null : value;
}

/**
 * A 400 `invalid_request` from zod issues: one issue per bad field with its dotted path and the
 * value that was sent.
 *
 * @example
 * ```ts
 * import { deepStrictEqual } from "node:assert/strict";
 * import { invalidRequest } from "./errors.ts";
 *
 * const error = invalidRequest("request body", { comment: 3 }, [{ path: ["comment"], message: "expected string" }]);
 * deepStrictEqual(error.issues, [{ path: "comment", message: "expected string", value: 3 }]);
 * ```
 */
export function invalidRequest(
  where: string,
  input: unknown,
  issues: ReadonlyArray<{ path: readonly PropertyKey[]; message: string }>,
): BridgeError {
  const shaped = issues.map((issue) => ({
    path: issue.path.map(String).join("."),
    message: issue.message,
    value: valueAt(input, issue.path),
  }));
  const first = shaped[0];
  const summary = first
    ? `'${first.path || where}' ${first.message}${shaped.length > 1 ? ` (and ${shaped.length - 1} more)` : ""}`
    : "invalid";
  return new BridgeError(400, "invalid_request", `Invalid ${where}: ${summary}`, { issues: shaped });
}
