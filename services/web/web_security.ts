import { timingSafeEqual } from "node:crypto";
import type { MiddlewareHandler } from "hono";
import { getCookie, setCookie } from "hono/cookie";
import { isLoopbackHost } from "../../src/net/loopback_host.ts";
import { WebError } from "./web_error.ts";

/** Options of {@linkcode webSecurity}. */
export interface WebSecurityOptions {
  /** The token the printed URL carries. */
  token: string;
  /** Paths served without the token. @default {["/health"]} */
  except?: readonly string[];
}

/**
 * The cookie holding the token. Browsers share cookies across the ports of one host, so the name
 * carries the port: two web views (two FERRY_HOMEs) do not log each other out.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { cookieName } from "./web_security.ts";
 *
 * ok(cookieName("127.0.0.1:8072") === "ferry_web_8072");
 * ok(cookieName("localhost") === "ferry_web");
 * ```
 */
export function cookieName(host: string): string {
  const port = /:(\d+)$/.exec(host)?.[1];
  return port ? `ferry_web_${port}` : "ferry_web";
}

function sameToken(given: string, expected: Uint8Array): boolean {
  const bytes = new TextEncoder().encode(given);
  return bytes.length === expected.length && timingSafeEqual(bytes, expected);
}

/**
 * The web view's rules, as the bridge's: the `Host` header must be a loopback name (403
 * `forbidden_host`, against DNS rebinding); a request whose `Origin` is not the view's own is
 * refused (403 `forbidden_origin`); every route but `except` needs the token (401
 * `unauthorized`), given once as `?token=…` (which sets an HttpOnly SameSite=Strict cookie and
 * redirects to the same address without it), then by that cookie, or by `Authorization: Bearer`.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { Hono } from "hono";
 * import { webSecurity } from "./web_security.ts";
 *
 * const app = new Hono().use(webSecurity({ token: "secret" })).get("/", (c) => c.text("hi"));
 * const signIn = await app.request("/?token=secret", { headers: { host: "127.0.0.1:8072" } });
 * ok(signIn.status === 303 && signIn.headers.get("set-cookie")!.includes("HttpOnly"));
 * const cookie = signIn.headers.get("set-cookie")!.split(";")[0]!;
 * ok((await app.request("/", { headers: { host: "127.0.0.1:8072", cookie } })).status === 200);
 * ```
 */
export function webSecurity(options: WebSecurityOptions): MiddlewareHandler {
  const { except = ["/health"] } = options;
  const expected = new TextEncoder().encode(options.token);
  return async (c, next) => {
    const host = c.req.header("host") ?? new URL(c.req.url).host;
    if (!isLoopbackHost(host)) {
      throw new WebError(
        403,
        "forbidden_host",
        `Refused Host '${host}': the web view answers only to loopback names (127.0.0.1, localhost, [::1])`,
      );
    }
    const origin = c.req.header("origin");
    if (origin !== undefined && origin.toLowerCase() !== `http://${host}`.toLowerCase()) {
      throw new WebError(
        403,
        "forbidden_origin",
        `Refused Origin '${origin}': only the web view's own pages (http://${host}) may call it`,
      );
    }
    if (except.includes(c.req.path)) return await next();
    const url = new URL(c.req.url);
    const fromQuery = url.searchParams.get("token");
    const name = cookieName(host);
    if (fromQuery !== null) {
      if (!sameToken(fromQuery, expected)) {
        throw new WebError(
          401,
          "unauthorized",
          "Wrong token in the address: open the URL 'deno task web' printed (or read web.json in FERRY_HOME)",
        );
      }
      setCookie(c, name, options.token, { httpOnly: true, sameSite: "Strict", path: "/" });
      url.searchParams.delete("token");
      return c.redirect(`${url.pathname}${url.search}`, 303);
    }
    const bearer = /^Bearer\s+(\S+)\s*$/i.exec(c.req.header("authorization") ?? "")?.[1];
    const given = bearer ?? getCookie(c, name);
    if (given === undefined) {
      throw new WebError(
        401,
        "unauthorized",
        "Not signed in: open the URL 'deno task web' printed, with its ?token=… (or read web.json in FERRY_HOME)",
      );
    }
    if (!sameToken(given, expected)) {
      throw new WebError(
        401,
        "unauthorized",
        "The token is not this web view's (it was restarted?): open the URL 'deno task web' printed",
      );
    }
    await next();
  };
}
