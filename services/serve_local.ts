/**
 * A service's own small HTTP endpoint (`/health`, `/metrics`) on 127.0.0.1.
 *
 * @module
 */
import { EXIT } from "../src/cli/exit_codes.ts";

/**
 * Serves `fetch` on 127.0.0.1 at `port` (0 picks a free one). A port that cannot be listened on
 * is an `Error` naming the address, with `exitCode` 3 (a configuration or environment problem).
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { serveLocal } from "./serve_local.ts";
 *
 * const server = serveLocal(() => new Response("ok"), 0);
 * ok((await (await fetch(`http://127.0.0.1:${server.addr.port}/`)).text()) === "ok");
 * await server.shutdown();
 * ```
 */
export function serveLocal(
  fetch: (request: Request) => Response | Promise<Response>,
  port: number,
): Deno.HttpServer<Deno.NetAddr> {
  try {
    return Deno.serve({ port, hostname: "127.0.0.1", onListen: () => {} }, fetch);
  } catch (error) {
    throw Object.assign(new Error(`Cannot listen on 127.0.0.1:${port}: ${(error as Error).message}`), {
      exitCode: EXIT.ENVIRONMENT,
    });
  }
}
