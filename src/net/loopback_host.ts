const LOOPBACK_NAMES = new Set(["localhost", "127.0.0.1", "[::1]", "::1"]);

/**
 * Whether a `Host` header names this machine's loopback interface (`localhost`, `127.0.0.1` or any
 * 127.x address, `[::1]`), with any port. Anything else may be a DNS-rebinding page. Shared by the
 * local HTTP services (the bridge, the web view).
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { isLoopbackHost } from "./loopback_host.ts";
 *
 * ok(isLoopbackHost("127.0.0.1:8071") && isLoopbackHost("[::1]:8071") && isLoopbackHost("localhost"));
 * ok(!isLoopbackHost("evil.example:8071") && !isLoopbackHost(undefined));
 * ```
 */
export function isLoopbackHost(host: string | undefined): boolean {
  if (!host) return false;
  const name = host.toLowerCase().replace(/:\d+$/, "");
  return LOOPBACK_NAMES.has(name) || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name);
}
