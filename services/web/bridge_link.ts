import { runningBridgeOf } from "../bridge/discovery.ts";
import { type Job, JobEnvelopeSchema, JobListSchema } from "../bridge/schemas.ts";
import { WebError } from "./web_error.ts";

export type { Job };

/** Where a bridge listens and the token it wants (from its `bridge.json`). */
export interface BridgeAddress {
  url: string;
  token: string;
}

/** Finds the bridge to show, or undefined when none runs. */
export type FindBridge = () => Promise<BridgeAddress | undefined>;

/**
 * The bridge of a FERRY_HOME, found through its `bridge.json` (a stale one is ignored); looked up
 * again at most every `cacheMs`, so a bridge started after the view shows up.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { bridgeOfHome } from "./bridge_link.ts";
 *
 * ok(await bridgeOfHome("/nonexistent/ferry-home")() === undefined);
 * ```
 */
export function bridgeOfHome(home: string, options: { cacheMs?: number } = {}): FindBridge {
  const { cacheMs = 1000 } = options;
  let cached: { at: number; value: Promise<BridgeAddress | undefined> } | undefined;
  return () => {
    if (!cached || performance.now() - cached.at > cacheMs) {
      cached = { at: performance.now(), value: runningBridgeOf(home) };
    }
    return cached.value;
  };
}

async function call(bridge: BridgeAddress, path: string, init: RequestInit = {}): Promise<Response> {
  try {
    return await fetch(new URL(path, bridge.url), {
      ...init,
      headers: { ...init.headers as Record<string, string>, authorization: `Bearer ${bridge.token}` },
    });
  } catch (error) {
    throw new WebError(502, "bridge_unreachable", `Cannot reach the bridge at ${bridge.url}: ${error}`, {
      cause: error,
    });
  }
}

async function json(response: Response, what: string): Promise<unknown> {
  if (response.status === 404) {
    await response.body?.cancel();
    throw new WebError(404, "job_not_found", `The bridge has no ${what}`);
  }
  if (!response.ok) {
    const text = await response.text();
    throw new WebError(
      502,
      "bridge_error",
      `The bridge answered ${response.status} for ${what}: ${text.slice(0, 300)}`,
    );
  }
  return await response.json();
}

/** The bridge's jobs, newest first (validated against the bridge's schema). */
export async function listJobs(bridge: BridgeAddress): Promise<Job[]> {
  return JobListSchema.parse(await json(await call(bridge, "/v1/jobs"), "job list")).jobs;
}

/** One job; 404 `job_not_found` when the bridge does not know it. */
export async function getJob(bridge: BridgeAddress, id: string): Promise<Job> {
  return JobEnvelopeSchema.parse(await json(await call(bridge, `/v1/jobs/${encodeURIComponent(id)}`), `job '${id}'`))
    .job;
}

/** Asks the bridge to cancel a queued or running job; resolves to the job as it is then. */
export async function cancelJob(bridge: BridgeAddress, id: string): Promise<Job> {
  const response = await call(bridge, `/v1/jobs/${encodeURIComponent(id)}/cancel`, { method: "POST" });
  if (response.status === 409) {
    const text = await response.text();
    throw new WebError(409, "cannot_cancel", `The bridge cannot cancel job '${id}': ${text.slice(0, 300)}`);
  }
  return JobEnvelopeSchema.parse(await json(response, `job '${id}'`)).job;
}

/**
 * A job's event stream (`text/event-stream`), passed through as it comes: the browser's
 * `Last-Event-ID` goes to the bridge, and the bridge's stream closes when the browser goes.
 */
export async function jobEvents(
  bridge: BridgeAddress,
  id: string,
  options: { lastEventId?: string; signal?: AbortSignal } = {},
): Promise<Response> {
  const response = await call(bridge, `/v1/jobs/${encodeURIComponent(id)}/events`, {
    headers: { accept: "text/event-stream", ...(options.lastEventId ? { "last-event-id": options.lastEventId } : {}) },
    signal: options.signal,
  });
  if (!response.ok || !response.body) await json(response, `events of job '${id}'`);
  return new Response(response.body, {
    headers: { "content-type": "text/event-stream", "cache-control": "no-cache", "x-accel-buffering": "no" },
  });
}
