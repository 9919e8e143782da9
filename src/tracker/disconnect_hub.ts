import type { Session } from "@ftrack/api";

/**
 * Disconnects an `@ftrack/api` event hub, first letting a socket that is still opening finish its
 * handshake (at most `waitMs`): closing a websocket mid-handshake makes it emit an error nobody
 * listens to, an uncaught error in the process. A hub that never started connecting is left alone.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import type { Session } from "@ftrack/api";
 * import { disconnectHub } from "./disconnect_hub.ts";
 *
 * let disconnected = false;
 * const hub = { _socketIo: {}, isConnected: () => true, disconnect: () => (disconnected = true) };
 * await disconnectHub(hub as unknown as Session["eventHub"]);
 * ok(disconnected);
 * ```
 */
export async function disconnectHub(hub: Session["eventHub"], options: { waitMs?: number } = {}): Promise<void> {
  const { waitMs = 5_000 } = options;
  if ((hub as unknown as { _socketIo?: unknown })._socketIo == null) return;
  for (let waited = 0; !hub.isConnected() && waited < waitMs; waited += 20) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  hub.disconnect();
}
