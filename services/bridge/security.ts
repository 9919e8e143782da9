import { timingSafeEqual } from "node:crypto";
import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { isLoopbackHost } from "../../src/net/loopback_host.ts";
import { BridgeError } from "./errors.ts";

/** The largest request body the bridge reads. */
export const MAX_BODY_BYTES = 1024 * 1024;

// Shared with the web view; kept exported here for the bridge's callers.
export { isLoopbackHost };

/** The `Host` header must name a loopback address (403 `forbidden_host`). */
export function requireLoopbackHost(): MiddlewareHandler {
  return async (c, next) => {
    const host = c.req.header("host") ?? new URL(c.req.url).host;
    if (!isLoopbackHost(host)) {
      throw new BridgeError(
        403,
        "forbidden_host",
        `Refused Host '${host}': the bridge answers only to loopback names (127.0.0.1, localhost, [::1])`,
      );
    }
    await next();
  };
}

/** A request carrying a browser `Origin` is refused unless the origin is configured (403 `forbidden_origin`). */
export function requireAllowedOrigin(allowed: readonly string[]): MiddlewareHandler {
  const origins = new Set(allowed.map((origin) => origin.replace(/\/+$/, "").toLowerCase()));
  return async (c, next) => {
    const origin = c.req.header("origin");
    if (origin !== undefined && !origins.has(origin.toLowerCase())) {
      throw new BridgeError(
        403,
        "forbidden_origin",
        `Refused Origin '${origin}': browser pages may call the bridge only from origins given with --allow-origin`,
      );
    }
    if (origin === undefined) return await next();
    c.header("Access-Control-Allow-Origin", origin);
    c.header("Vary", "Origin");
    if (c.req.method === "OPTIONS") {
      // The browser's preflight of an allowed origin: it carries no token.
      c.header("Access-Control-Allow-Methods", "GET, POST, OPTIONS");
      c.header("Access-Control-Allow-Headers", "Authorization, Content-Type, Last-Event-ID");
      c.header("Access-Control-Max-Age", "600");
      return c.body(null, 204);
    }
    await next();
  };
}

/** Every route but the ones listed needs `Authorization: Bearer <token>` (401 `unauthorized`). */
export function requireToken(token: string, options: { except: readonly string[] }): MiddlewareHandler {
  const expected = new TextEncoder().encode(token);
  return async (c, next) => {
    if (options.except.includes(c.req.path)) return await next();
    const header = c.req.header("authorization");
    if (!header) {
      throw new BridgeError(
        401,
        "unauthorized",
        "Missing 'Authorization: Bearer <token>': the token is in bridge.json in FERRY_HOME",
      );
    }
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    const given = new TextEncoder().encode(match?.[1] ?? "");
    if (!match || given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw new BridgeError(
        401,
        "unauthorized",
        "Wrong bearer token: read the current one from bridge.json in FERRY_HOME",
      );
    }
    await next();
  };
}

/**
 * Request bodies must be JSON (415 `unsupported_media_type`) and at most `maxBytes` (413
 * `payload_too_large`); requests without a body pass.
 */
export function requireJsonBody(maxBytes = MAX_BODY_BYTES): MiddlewareHandler {
  const limit = bodyLimit({
    maxSize: maxBytes,
    onError: () => {
      throw new BridgeError(413, "payload_too_large", `The request body is larger than ${maxBytes} bytes`);
    },
  });
  return async (c, next) => {
    const length = c.req.header("content-length");
    const hasBody = c.req.raw.body !== null && (length === undefined || Number(length) > 0);
    if (!hasBody) return await next();
    const type = c.req.header("content-type");
    if (!type || !/^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i.test(type)) {
      throw new BridgeError(
        415,
        "unsupported_media_type",
        `The bridge takes JSON bodies only (Content-Type: application/json), not '${type ?? "(none)"}'`,
      );
    }
    return await limit(c, next);
  };
}
