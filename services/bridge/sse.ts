import type { Context } from "hono";
import { streamSSE } from "hono/streaming";
import type { JobEvent } from "./schemas.ts";

/** Options of {@linkcode sendEvents}. */
export interface SendEventsOptions {
  /** A comment line is sent this often while nothing happens, so proxies keep the stream. @default {15000} */
  keepAlive?: number;
}

/**
 * Answers with a Server-Sent Events stream of job events: `id: <n>`, `event: <type>`,
 * `data: <JSON>` per event, until the events end or the client goes away.
 */
export function sendEvents(
  c: Context,
  events: (signal: AbortSignal) => AsyncIterable<JobEvent>,
  options: SendEventsOptions = {},
): Response {
  const { keepAlive = 15_000 } = options;
  c.header("Cache-Control", "no-cache");
  c.header("X-Accel-Buffering", "no");
  return streamSSE(c, async (stream) => {
    const controller = new AbortController();
    stream.onAbort(() => controller.abort());
    const timer = setInterval(() => stream.write(": keep-alive\n\n").catch(() => controller.abort()), keepAlive);
    try {
      for await (const event of events(controller.signal)) {
        await stream.writeSSE({ id: String(event.id), event: event.type, data: JSON.stringify(event.data) });
      }
    } finally {
      clearInterval(timer);
    }
  });
}
