/**
 * The origins allowed to call the tracker from a browser, normalised (`scheme://host[:port]`,
 * lower case, default ports dropped). Throws a `TypeError` naming a value that is not an http(s)
 * origin: `null`, `*`, paths and other schemes are refused, since the tracker sends credentials.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { corsOrigins } from "./cors_origins.ts";
 *
 * ok(corsOrigins(["https://Review.Studio.Example:443"]).has("https://review.studio.example"));
 * ```
 */
export function corsOrigins(values: readonly string[]): ReadonlySet<string> {
  const origins = new Set<string>();
  for (const value of values) {
    let origin: string;
    try {
      const url = new URL(value);
      origin = url.origin;
      if (!["http:", "https:"].includes(url.protocol) || origin === "null") throw new TypeError("not http(s)");
      if (url.pathname !== "/" || url.search || url.hash || url.username || url.password) {
        throw new TypeError("has more than scheme, host and port");
      }
    } catch {
      throw new TypeError(
        `Cannot allow the CORS origin '${value}': give an http(s) origin such as 'https://review.example.com' or 'http://localhost:5173' (no path; 'null' and '*' are never allowed)`,
      );
    }
    origins.add(origin);
  }
  return origins;
}

/**
 * The request's `Origin` when it is allowed, else undefined (so the response carries no CORS
 * headers and a browser refuses to hand it to the page).
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { corsOrigin, corsOrigins } from "./cors_origins.ts";
 *
 * const allowed = corsOrigins(["http://localhost:5173"]);
 * ok(corsOrigin("http://localhost:5173", allowed) === "http://localhost:5173");
 * ok(corsOrigin("null", allowed) === undefined);
 * ok(corsOrigin("http://evil.example", allowed) === undefined);
 * ```
 */
export function corsOrigin(header: string | undefined, allowed: ReadonlySet<string>): string | undefined {
  if (header === undefined || header === "null" || allowed.size === 0) return undefined;
  return allowed.has(header) ? header : undefined;
}
