/**
 * An error the web view answers with: the HTTP status, a snake_case code and a one-line message
 * naming the problem. `app.onError` shows it as a page (browsers) or as `{ error: { code, message } }`.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { WebError } from "./web_error.ts";
 *
 * const error = new WebError(404, "version_not_found", "No asset version 'x' on the tracker");
 * ok(error.status === 404 && error.code === "version_not_found");
 * ```
 */
export class WebError extends Error {
  readonly status: 400 | 401 | 403 | 404 | 409 | 416 | 500 | 502 | 503;
  readonly code: string;

  constructor(status: WebError["status"], code: string, message: string, options: { cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = "WebError";
    this.status = status;
    this.code = code;
  }
}
