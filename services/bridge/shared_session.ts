import type { Session } from "@ftrack/api";

/**
 * A view of a tracker session for publishes that share it (the bridge runs many, several at
 * once): everything goes to the session, except that its event hub ignores `disconnect()`. The
 * official client keeps one event-hub socket per server and user for the whole process, so one
 * publish disconnecting it after announcing its version would leave every later publish (and
 * every other session of this process) without a hub. The owner disconnects the real hub when it
 * is done with the session.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import type { Session } from "@ftrack/api";
 * import { sharedSession } from "./shared_session.ts";
 *
 * let disconnected = false;
 * const session = { apiUser: "ferry", eventHub: { disconnect: () => (disconnected = true), isConnected: () => true } };
 * const shared = sharedSession(session as unknown as Session);
 * shared.eventHub.disconnect();
 * ok(!disconnected && shared.apiUser === "ferry" && shared.eventHub.isConnected());
 * ```
 */
export function sharedSession(session: Session): Session {
  const hub = session.eventHub;
  const hubView = new Proxy(hub, {
    get(target, property) {
      if (property === "disconnect") return () => {};
      const value = Reflect.get(target, property, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return new Proxy(session, {
    get(target, property) {
      if (property === "eventHub") return hubView;
      const value = Reflect.get(target, property, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}
