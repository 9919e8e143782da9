import { z } from "zod";

/**
 * An event on ftrack's event hub, as both official clients put it on the wire. Only these seven
 * keys: the Python client builds `Event(**payload)` and drops an event carrying any other key.
 */
export const EventSchema = z.object({
  /** What happened, dotted: `ftrack.update`, `ferry.publish.finished`. */
  topic: z.string().min(1),
  /** Unique id (any string; the clients send uuid4 hex or a uuid). */
  id: z.string().min(1),
  /** The payload: any JSON value. */
  data: z.unknown().default({}),
  /** Who sent it: `{ id, user: { username }, … }`. */
  source: z.record(z.string(), z.unknown()).default({}),
  /** A subscription expression matched against subscriber metadata; empty for everyone. */
  target: z.string().default(""),
  /** The id of the event this one replies to. */
  inReplyToEvent: z.string().nullable().default(null),
  /** When it was sent (clients send null; the hub may set it). */
  sent: z.unknown().default(null),
});

/** A hub event, after validation. */
export type HubEvent = z.infer<typeof EventSchema>;

/**
 * Keeps exactly the seven wire keys, in the order the clients use.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { toWireEvent } from "./event.ts";
 *
 * const wire = toWireEvent({ topic: "ferry.publish.finished", id: "1", data: { versionId: "v" } });
 * ok(Object.keys(wire).join() === "topic,id,data,source,target,inReplyToEvent,sent");
 * ```
 */
export function toWireEvent(event: z.input<typeof EventSchema>): HubEvent {
  const parsed = EventSchema.parse(event);
  return {
    topic: parsed.topic,
    id: parsed.id,
    data: parsed.data,
    source: parsed.source,
    target: parsed.target,
    inReplyToEvent: parsed.inReplyToEvent,
    sent: parsed.sent,
  };
}
