/**
 * How the event services (leecher, processor, transmitter) reach the tracker at start: a tracker
 * that is down or too slow is waited for with backoff, each attempt logged with its reason, until
 * it answers or the service is asked to stop; a refused API user or key, a server that is not an
 * ftrack server, or a bad configuration ends the service at once (waiting cannot fix those).
 *
 * @module
 */
import type { Logger } from "../src/cli/service_log.ts";
import { TrackerConnectionError } from "../src/tracker/tracker_connection_error.ts";

/** Options of {@linkcode connectWithRetry}. */
export interface ConnectWithRetryOptions<T> {
  /** One attempt: resolves to the connection or throws why not. */
  connect(): Promise<T>;
  /** Where the attempts are logged (a warning each, with the attempt number, the reason and the next wait). */
  log: Logger;
  /** Aborted when the service stops: the wait ends and `connectWithRetry` resolves to `undefined`. */
  signal?: AbortSignal;
  /** First wait after a failed attempt; doubles up to `retryDelayMaxMs`. @default {1000} */
  retryDelayMs?: number;
  /** @default {30000} */
  retryDelayMaxMs?: number;
  /** Whether an error is worth another attempt. @default {isTrackerDown} */
  retryable?: (error: unknown) => boolean;
}

/**
 * Whether an error says the tracker is down for now (nothing answers, or no answer in time):
 * another attempt may succeed. Refused credentials and non-ftrack servers are not.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { TrackerConnectionError } from "../src/tracker/tracker_connection_error.ts";
 * import { isTrackerDown } from "./connect_with_retry.ts";
 *
 * ok(isTrackerDown(new TrackerConnectionError("http://127.0.0.1:9", "unreachable", "nothing listens")));
 * ok(!isTrackerDown(new TrackerConnectionError("http://127.0.0.1:9", "credentials", "key refused")));
 * ```
 */
export function isTrackerDown(error: unknown): boolean {
  return error instanceof TrackerConnectionError && (error.problem === "unreachable" || error.problem === "timeout");
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
  });
}

/**
 * Calls `connect` until it succeeds, waiting with backoff between attempts that failed with a
 * retryable error (the tracker is down); any other error is thrown at once. Resolves to
 * `undefined` when `signal` aborts first.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { createLogger } from "../src/cli/service_log.ts";
 * import { TrackerConnectionError } from "../src/tracker/tracker_connection_error.ts";
 * import { connectWithRetry } from "./connect_with_retry.ts";
 *
 * let attempts = 0;
 * const connection = await connectWithRetry({
 *   connect: async () => {
 *     if (++attempts < 3) throw new TrackerConnectionError("http://127.0.0.1:9", "unreachable", "down");
 *     return "connected";
 *   },
 *   log: createLogger({ name: "example", level: "error" }),
 *   retryDelayMs: 1,
 * });
 * ok(connection === "connected" && attempts === 3);
 * ```
 */
export async function connectWithRetry<T>(options: ConnectWithRetryOptions<T>): Promise<T | undefined> {
  const { connect, log, signal, retryDelayMs = 1_000, retryDelayMaxMs = 30_000, retryable = isTrackerDown } = options;
  let delay = retryDelayMs;
  for (let attempt = 1; !signal?.aborted; attempt++) {
    try {
      return await connect();
    } catch (error) {
      if (!retryable(error)) throw error;
      log.warn(`cannot reach the tracker (attempt ${attempt}); trying again in ${formatDelay(delay)}`, {
        error: (error as Error).message,
        attempt,
      });
      await sleep(delay, signal);
      delay = Math.min(delay * 2, retryDelayMaxMs);
    }
  }
  return undefined;
}

function formatDelay(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${Math.round(ms / 100) / 10} s`;
}
